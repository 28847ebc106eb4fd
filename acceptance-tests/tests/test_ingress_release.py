"""Releases on the platform's load balancer (issue 21, items 4 and 5): the microservice's canary,
linear and blue/green `deployment` on a service with `ingress` are ECS-native deployments that
put the new revision's tasks in the other target group, point the test listener rule at it first,
then move the production rule's weights step by step on the emulator's clock, back to the old
revision on a rollback, and swap the two groups when they succeed. The microservice reads what
ECS moved and never reverts it: a plan after a release is clean (after a rolled-back one it shows
only the image the rollback restored). The emulator's side is ecs_alb_deployments.py."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from harness.alb_network import alb_network
from harness.terraform import TerraformError
from tests.test_ingress_microservice import (assert_every_request_valid, config, ecs_service, elbv2,
                                             listener, rules, service)

pytestmark = pytest.mark.platform

SVC = "matbakh_microservice.auth"
OLD_IMAGE = "public.ecr.aws/nginx/nginx:1.27"
NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
NEWER_IMAGE = "public.ecr.aws/nginx/nginx:1.29"
PATHS = '    paths = ["/auth", "/auth/*"]\n    priority = 10\n'


@pytest.fixture
def network(emulator) -> dict:
    return alb_network(emulator)


def deployment(strategy: str, extra: str = "") -> str:
    return (f'  deployment {{\n    strategy = "{strategy}"\n    rollback_on_alarms = true\n'
            f"{extra}  }}\n")


CANARY = deployment("canary", '    canary_percent = 5\n    bake_time = "5m"\n')
LINEAR = deployment("linear", '    step_percent = 25\n    bake_time = "1m"\n')
BLUE_GREEN = deployment("blue_green", '    bake_time = "2m"\n')


def write(tf, emulator, network, block: str, image: str = OLD_IMAGE) -> None:
    tf.write(config(emulator, network, service("auth-service", PATHS, block).replace(
        OLD_IMAGE, image)))


def first_apply(tf, emulator, network, block: str) -> None:
    """The service's first deployment (nothing to shift from: it only scales up)."""
    emulator.settings(ecs_deployment="completed")
    write(tf, emulator, network, block)
    tf.apply()
    emulator.settings(ecs_deployment="timed")


def groups(tf) -> tuple[str, str]:
    blue, green = tf.resource(SVC)["target_group_arns"]
    return blue, green


def weights(emulator, port: int = 443) -> dict[str, int]:
    [rule] = rules(emulator, listener(emulator, port)["ListenerArn"])
    return {t["TargetGroupArn"]: t["Weight"]
            for t in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}


def targets(emulator, group: str) -> list[str]:
    return [t["Target"]["Id"] for t in
            elbv2(emulator).describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]]


def moves(emulator, since: int = 0) -> list[tuple[str, str, dict[str, int]]]:
    """The rule moves ECS made, oldest first: (rule: production | test, stage, {group name:
    weight}), from the service's events (the emulator's wording, ecs_alb_deployments.py)."""
    out = []
    for e in reversed(ecs_service(emulator)["events"]):
        m = re.match(r"\(service [^)]+\) moved the (\w+) listener rule \S+ \((\w+)\): (.*)\.$",
                     e["message"])
        if m:
            shares = dict((g.split("/")[1], int(w)) for w, g in
                          re.findall(r"(\d+)% to (\S+?)(?:,|$)", m.group(3)))
            out.append((m.group(1), m.group(2), shares))
    return out[since:]


def production_steps(emulator, new_group: str, since: int = 0) -> list[int]:
    name = new_group.split("/")[1]
    return [w[name] for rule, _, w in moves(emulator, since) if rule == "production"]


def image_of(emulator) -> str:
    td = emulator.client("ecs").describe_task_definition(
        taskDefinition=ecs_service(emulator)["taskDefinition"])["taskDefinition"]
    return next(c["image"] for c in td["containerDefinitions"] if c["name"] == "app")


def assert_serves_from(emulator, live: str, idle: str) -> None:
    """`live` takes all production and test traffic and holds the tasks; ECS names it the
    service's target group, `idle` the alternate."""
    assert weights(emulator) == {live: 100, idle: 0}
    assert weights(emulator, 8443) == {live: 100, idle: 0}
    [lb] = ecs_service(emulator)["loadBalancers"]
    assert (lb["targetGroupArn"], lb["advancedConfiguration"]["alternateTargetGroupArn"]) == (live, idle)
    assert len(targets(emulator, live)) == 1 and targets(emulator, idle) == []


def assert_plan_clean(tf) -> None:
    plan = tf.plan()
    assert plan.returncode == 0, plan.output


def test_a_canary_release_moves_the_production_rule_and_swaps_the_groups(emulator, tf, network):
    first_apply(tf, emulator, network, CANARY)
    blue, green = groups(tf)
    assert_serves_from(emulator, blue, green)
    before = len(moves(emulator))
    emulator.clock(speed=3600)
    write(tf, emulator, network, CANARY, NEW_IMAGE)
    tf.apply()
    assert image_of(emulator) == NEW_IMAGE
    # 5 % of production on the new revision for the canary's bake, then all of it.
    assert production_steps(emulator, green, before) == [5, 100]
    # Test traffic reached the new revision before production did.
    first = moves(emulator, before)[0]
    assert first[:2] == ("test", "TEST_TRAFFIC_SHIFT") and first[2][green.split("/")[1]] == 100
    assert_serves_from(emulator, green, blue)
    # ECS's weights and its swap of the groups are read, never reverted.
    assert_plan_clean(tf)
    emulator.clear_requests()
    tf.apply()
    assert emulator.requests("elasticloadbalancing", "ModifyRule") == []
    assert emulator.requests("ecs", "UpdateService") == []
    assert_every_request_valid(emulator)


def test_linear_releases_step_the_weights_and_go_back_and_forth(emulator, tf, network):
    first_apply(tf, emulator, network, LINEAR)
    blue, green = groups(tf)
    emulator.clock(speed=3600)
    before = len(moves(emulator))
    write(tf, emulator, network, LINEAR, NEW_IMAGE)
    tf.apply()
    assert production_steps(emulator, green, before) == [25, 50, 75, 100]
    assert_serves_from(emulator, green, blue)
    assert_plan_clean(tf)
    # The next release runs in the group the last one left idle.
    before = len(moves(emulator))
    write(tf, emulator, network, LINEAR, OLD_IMAGE)
    tf.apply()
    assert production_steps(emulator, blue, before) == [25, 50, 75, 100]
    assert_serves_from(emulator, blue, green)
    assert image_of(emulator) == OLD_IMAGE
    assert_plan_clean(tf)


def test_blue_green_sends_test_traffic_to_the_new_revision_before_production(emulator, tf, network):
    first_apply(tf, emulator, network, BLUE_GREEN)
    blue, green = groups(tf)
    emulator.clock(speed=3600)
    before = len(moves(emulator))
    write(tf, emulator, network, BLUE_GREEN, NEW_IMAGE)
    tf.apply()
    g, b = green.split("/")[1], blue.split("/")[1]
    assert moves(emulator, before)[:2] == [
        ("test", "TEST_TRAFFIC_SHIFT", {b: 0, g: 100}),
        ("production", "PRODUCTION_TRAFFIC_SHIFT", {b: 0, g: 100}),
    ]
    assert_serves_from(emulator, green, blue)
    assert_plan_clean(tf)


def rollback_alarm(emulator) -> str:
    names = ecs_service(emulator)["deploymentConfiguration"]["alarms"]["alarmNames"]
    return next(n for n in names if "error" in n)


def test_an_alarm_rolls_the_canary_back_and_the_old_revision_keeps_all_traffic(emulator, tf, network):
    first_apply(tf, emulator, network, CANARY)
    blue, green = groups(tf)
    alarm = rollback_alarm(emulator)
    emulator.clock(speed=0)  # the canary holds its 5 % until the alarm fires
    write(tf, emulator, network, CANARY, NEW_IMAGE)
    firing, seen = fire_at_share(emulator, green, 5, lambda: alarm)
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    firing.join()
    out = failed.value.result.output
    assert alarm in out, out
    # During the canary both revisions ran, each in its own group, 95 / 5.
    assert seen == [{blue: 95, green: 5}, {blue: 1, green: 1}], seen
    # Rolled back: the old revision keeps 100 % and the group it ran in.
    assert_serves_from(emulator, blue, green)
    assert image_of(emulator) == OLD_IMAGE
    # The plan shows the image the rollback restored, nothing of the rule's weights.
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    changed = [" ".join(l.split()) for l in plan.output.splitlines() if l.strip().startswith("~ ")]
    assert f'~ image = "{OLD_IMAGE}" -> "{NEW_IMAGE}"' in changed, plan.output
    # Beside it only what a new image makes: the next task definition revision.
    names = {l.split()[1].strip('"') for l in changed[1:]} - {"resource"}
    assert names == {"image", "components", "task_definition", "task_definition_arn"}, plan.output


def test_a_stopped_release_puts_production_back_on_the_old_revision(emulator, tf, network):
    """StopServiceDeployment (what the provider sends on Ctrl-C or a timeout) rolls the rule
    back as an alarm does."""
    first_apply(tf, emulator, network, CANARY)
    blue, green = groups(tf)
    emulator.clock(speed=0)
    ecs = emulator.client("ecs")
    ecs.update_service(cluster="matbakh", service="auth-service", forceNewDeployment=True)
    assert weights(emulator) == {blue: 95, green: 5}
    assert weights(emulator, 8443) == {blue: 0, green: 100}
    ecs.stop_service_deployment(
        serviceDeploymentArn=ecs_service(emulator)["currentServiceDeployment"], stopType="ROLLBACK")
    assert_serves_from(emulator, blue, green)


def test_import_after_a_release_that_swapped_the_groups_plans_clean(emulator, tf, network):
    # With rollback_on_alarms: the import also finds the release's own alarm (no traffic).
    block = ('  deployment {\n    strategy = "blue_green"\n    bake_time = "2m"\n'
             '    rollback_on_alarms = true\n  }\n')
    first_apply(tf, emulator, network, block)
    blue, green = groups(tf)
    emulator.clock(speed=3600)
    write(tf, emulator, network, block, NEW_IMAGE)
    tf.apply()
    assert_serves_from(emulator, green, blue)
    tf.run("state", "rm", SVC)
    tf.import_(SVC, "matbakh/auth-service")
    assert tf.resource(SVC)["target_group_arns"] == [blue, green]
    assert_plan_clean(tf)


CANARY_RESOURCE = """
resource "matbakh_canary" "auth" {
  microservice  = matbakh_microservice.auth.id
  image         = "%s"
  steps         = %s
  step_interval = "1m"
}
"""


@pytest.mark.parametrize("steps, moved", [("[5, 100]", [5, 100]), ("[50, 100]", [50, 100]),
                                          ("[25, 50, 75, 100]", [25, 50, 75, 100])])
def test_a_matbakh_canary_walks_the_production_rule_and_promotes_without_a_deployment(
        emulator, tf, network, steps, moved):
    first_apply(tf, emulator, network, "")
    blue, green = groups(tf)
    emulator.clock(speed=3600)
    before = len(moves(emulator))
    files = config(emulator, network, service("auth-service", PATHS))
    files["main.tf"] += CANARY_RESOURCE % (NEW_IMAGE, steps)
    tf.write(files)
    tf.apply()
    assert tf.resource("matbakh_canary.auth")["status"] == "succeeded"
    assert production_steps(emulator, green, before) == moved
    assert_serves_from(emulator, green, blue)
    assert_plan_clean(tf)
    # Promotion: the microservice takes the candidate's image, the canary goes; nothing deploys
    # and nothing moves the traffic back.
    deployment_before = ecs_service(emulator)["currentServiceDeployment"]
    write(tf, emulator, network, "", NEW_IMAGE)
    tf.apply()
    assert ecs_service(emulator)["currentServiceDeployment"] == deployment_before
    assert_serves_from(emulator, green, blue)
    assert_plan_clean(tf)


def fire_at_share(emulator, group: str, share: int, alarm_of) -> tuple[threading.Thread, list]:
    """A thread that, once the production rule gives `group` `share` %, records the weights
    and each group's targets, then sets the alarm `alarm_of()` names to ALARM."""
    seen: list[dict[str, int]] = []

    def fire() -> None:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                w = weights(emulator)
                if w.get(group) == share:
                    seen.append(w)
                    seen.append({t: len(targets(emulator, t)) for t in w})
                    emulator.client("cloudwatch").set_alarm_state(
                        AlarmName=alarm_of(), StateValue="ALARM",
                        StateReason="Threshold Crossed: the candidate fails every request")
                    return
            except Exception:  # noqa: BLE001 - the rule may be mid-change
                pass
            time.sleep(0.2)

    firing = threading.Thread(target=fire, daemon=True)
    firing.start()
    return firing, seen


def test_an_alarm_rolls_a_matbakh_canary_back_and_nothing_fights_over_the_rule(emulator, tf, network):
    first_apply(tf, emulator, network, "")
    blue, green = groups(tf)
    emulator.clock(speed=3600)
    files = config(emulator, network, service("auth-service", PATHS))
    tf.write(dict(files, **{"main.tf": files["main.tf"] + CANARY_RESOURCE % (NEW_IMAGE, "[5, 100]")}))
    tf.apply()
    assert_serves_from(emulator, green, blue)
    # A newer candidate (an update of the canary, not a failed create Terraform would taint)
    # runs in the group the first one left idle and holds 5 % until the alarm fires.
    emulator.clock(speed=0)
    tf.write(dict(files, **{"main.tf": files["main.tf"] + CANARY_RESOURCE % (NEWER_IMAGE, "[5, 100]")}))

    def canary_alarm() -> str:
        d = ecs_service(emulator)["deploymentConfiguration"]
        return next(n for n in d["alarms"]["alarmNames"] if "error" in n)

    firing, seen = fire_at_share(emulator, blue, 5, canary_alarm)
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    firing.join()
    out = failed.value.result.output
    assert "rolled back" in out and "canary-error-rate" in out, out
    assert seen == [{blue: 5, green: 95}, {blue: 1, green: 1}], seen
    assert_serves_from(emulator, green, blue)
    assert image_of(emulator) == NEW_IMAGE
    assert tf.resource("matbakh_canary.auth")["status"] == "rolled_back"
    # Rolled back stays rolled back: neither resource puts the rule anywhere.
    assert_plan_clean(tf)


def test_a_release_whose_traffic_role_may_not_move_the_rules_stops_naming_it(emulator, tf, network):
    """ECS moves the traffic with the platform's role: one that may not modify the rules stops
    the deployment at its start (the emulator evaluates the role's policy; the provider's own
    role passes in every other test here)."""
    first_apply(tf, emulator, network, CANARY)
    blue, green = groups(tf)
    iam = emulator.client("iam")
    role = ecs_service(emulator)["loadBalancers"][0]["advancedConfiguration"]["roleArn"].split("/")[-1]
    [policy] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "MoveTraffic"]
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))
    emulator.clock(speed=3600)
    write(tf, emulator, network, CANARY, NEW_IMAGE)
    with pytest.raises(TerraformError) as failed:
        tf.apply(extra_args=["-refresh=false"])  # else the platform repairs its role first
    out = " ".join(failed.value.result.output.split())
    assert "elasticloadbalancing:ModifyRule" in out and role in out, out
    assert_serves_from(emulator, blue, green)
    # Refreshed, the platform puts its role's policy back and the release goes through.
    tf.apply()
    assert image_of(emulator) == NEW_IMAGE
    assert_serves_from(emulator, green, blue)


def test_a_candidate_failing_every_request_at_one_percent_is_rolled_back_by_its_group(
        emulator, tf, network):
    """The whole flow, no alarm state set by hand: a canary at 1 %, 1000 requests a minute
    through the production rule, the new revision's group failing every one of its 10. The
    alarm reads each target group apart, fires, and ECS rolls the release back."""
    block = deployment("canary", '    canary_percent = 1\n    bake_time = "5m"\n'
                                 '    min_requests = 5\n')
    first_apply(tf, emulator, network, block)
    blue, green = groups(tf)
    emulator.clock(speed=0)
    write(tf, emulator, network, block, NEW_IMAGE)
    names = ecs_service(emulator)["deploymentConfiguration"]["alarms"]["alarmNames"]
    [error_rate] = [n for n in names if "error" in n]
    sent: list[dict] = []

    def fail_the_candidate() -> None:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if weights(emulator).get(green) == 1:
                    sent.append(emulator.service_connect_traffic(
                        cluster="matbakh", service="auth-service", requests=1000, errors=0,
                        latency_ms=20, minutes=3,
                        target_groups={green.split("/")[1]: {"errors_percent": 100}}))
                    sent.append(emulator.evaluate_alarms(alarm_names=[error_rate]))
                    return
            except Exception:  # noqa: BLE001 - not started yet
                pass
            time.sleep(0.2)

    firing = threading.Thread(target=fail_the_candidate, daemon=True)
    firing.start()
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    firing.join()
    out = failed.value.result.output
    assert error_rate in out, (out, sent)
    assert sent[0]["target_groups"][green.split("/")[1]]["requests"] == pytest.approx(10), sent
    assert sent[1][error_rate]["state"] == "ALARM", sent
    assert_serves_from(emulator, blue, green)
    assert image_of(emulator) == OLD_IMAGE


def test_scaling_on_requests_follows_the_live_group_within_the_release_apply(emulator, tf, network):
    """`requests_per_target` tracks the production group: the apply that runs a release re-points
    the policy once ECS swapped the groups, so the plan after it is clean."""
    scaling = "  autoscaling {\n    min_count = 1\n    max_count = 4\n    requests_per_target = 100\n  }\n"
    first_apply(tf, emulator, network, CANARY + scaling)
    blue, green = groups(tf)
    assert requests_label(emulator).endswith(blue.split(":")[-1])
    emulator.clock(speed=3600)
    write(tf, emulator, network, CANARY + scaling, NEW_IMAGE)
    tf.apply()
    assert_serves_from(emulator, green, blue)
    assert requests_label(emulator).endswith(green.split(":")[-1])
    assert_plan_clean(tf)


def requests_label(emulator) -> str:
    [policy] = [p for p in emulator.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId="service/matbakh/auth-service")["ScalingPolicies"]
        if p["PolicyName"].endswith("-requests-target-tracking")]
    spec = policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
    return spec["ResourceLabel"]


def test_a_matbakh_canary_candidate_failing_at_one_percent_is_rolled_back_by_its_group(
        emulator, tf, network):
    """matbakh_canary on the load balancer: its rollback alarms read each target group apart
    (AWS/ApplicationELB, the worse of the two), with the canary's thresholds unscaled; a candidate
    failing every one of its 10 requests a minute at 1 % is rolled back, nothing set by hand."""
    first_apply(tf, emulator, network, "")
    blue, green = groups(tf)
    emulator.clock(speed=0)
    files = config(emulator, network, service("auth-service", PATHS))
    files["main.tf"] += (CANARY_RESOURCE % (NEW_IMAGE, "[1, 100]")).replace(
        '  step_interval = "1m"\n', '  step_interval = "5m"\n  min_requests  = 5\n')
    tf.write(files)
    sent: list[dict] = []
    watched: list[list[str]] = []

    def fail_the_candidate() -> None:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if weights(emulator).get(green) == 1:
                    names = ecs_service(emulator)["deploymentConfiguration"]["alarms"]["alarmNames"]
                    watched.append(names)
                    [error_rate] = [n for n in names if "error" in n]
                    sent.append(emulator.service_connect_traffic(
                        cluster="matbakh", service="auth-service", requests=1000, errors=0,
                        latency_ms=20, minutes=3,
                        target_groups={green.split("/")[1]: {"errors_percent": 100}}))
                    sent.append(emulator.evaluate_alarms(alarm_names=[error_rate]))
                    # Time goes on: a canary its alarm did not stop promotes.
                    emulator.clock(speed=3600)
                    return
            except Exception:  # noqa: BLE001 - not started yet
                pass
            time.sleep(0.2)

    firing = threading.Thread(target=fail_the_candidate, daemon=True)
    firing.start()
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    firing.join()
    out = " ".join(failed.value.result.output.split())
    [names] = watched
    [error_rate] = [n for n in names if "error" in n]
    assert error_rate == "matbakh-auth-service-canary-error-rate", names
    assert "matbakh-auth-service-canary-latency-p95" in names, names
    [alarm] = emulator.client("cloudwatch").describe_alarms(AlarmNames=[error_rate])["MetricAlarms"]
    read = {(q["MetricStat"]["Metric"]["MetricName"],
             {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]}["TargetGroup"])
            for q in alarm["Metrics"] if "MetricStat" in q}
    groups_read = {g for _, g in read}
    assert {m for m, _ in read} == {"HTTPCode_Target_5XX_Count", "RequestCount"}, read
    assert groups_read == {"targetgroup/" + g.split(":targetgroup/")[1] for g in (blue, green)}, read
    assert error_rate in out, (out, sent)
    assert sent[1][error_rate]["state"] == "ALARM", sent
    assert_serves_from(emulator, blue, green)
    assert image_of(emulator) == OLD_IMAGE
