"""Issue #23 item 2: a refresh reads alarm, log group and scalable target tags with
the Resource Groups Tagging API's GetResources (a listing by type and owner key per provider
process, 100 a page), lists the platform's log groups by prefix and describes the owned alarms
100 names a call once per process, and describes scaling policies 50 names a call across targets,
instead of one ListTagsForResource / DescribeLogGroups / DescribeAlarms / DescribeScalingPolicies
per object or target; drift in each of those objects is still seen, one object at a time."""

from __future__ import annotations

import json

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block
from tests.test_tags_authoritative import (EXEC_ROLE, PLATFORM, SERVICE, add_tag, network, objects,
                                           read_tags, stack)

pytestmark = pytest.mark.microservice


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def plan_calls(emulator, tf) -> tuple[int, list[dict]]:
    emulator.clear_requests()
    code = tf.plan().returncode
    return code, emulator.requests()


def test_tags_read_in_batches_and_drift_in_each_object_still_seen(emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net, "service_connect", {}, {}, {"team": "identity"})})
    tf.apply()
    found = objects(emulator, "service_connect")
    alarms = {w: v for w, v in found.items() if w.startswith("alarm ")}
    assert alarms

    code, calls = plan_calls(emulator, tf)
    assert code == 0
    ops = [(r["service"], r["operation"]) for r in calls]
    # A plan's process only reads: the alarms' and the log group's tags come from one
    # GetResources listing of the owned CloudWatch and Logs objects (by type and owner key), not
    # by ARN; no per-object tag read of an alarm or the log group. The dashboard's come from
    # CloudWatch's ListTagsForResource, never the tagging API, which does not cover dashboards
    # (see src/aws/cloudwatch/dashboard.rs). (Other GetResources
    # calls of the plan ask for other kinds: the revision's tags, the process's listing of
    # scalable targets.)
    tagging = [r for r in calls if (r["service"], r["operation"]) == ("tagging", "GetResources")]
    listing = [r for r in tagging if "logs:log-group" in str(r.get("body"))]
    assert len(listing) == 1, [r.get("body") for r in tagging]
    asked = json.loads(listing[0]["body"])
    assert asked["ResourceTypeFilters"] == ["cloudwatch", "logs:log-group"], asked
    assert asked["TagFilters"] == [{"Key": "matbakh:owner"}], asked
    by_arn = [r for r in tagging if ":alarm:" in str(r.get("body"))
              or ":log-group:" in str(r.get("body"))]
    assert not by_arn, by_arn
    assert ("logs", "ListTagsLogGroup") not in ops, ops
    assert not [r for r in tagging if ":dashboard/" in str(r.get("body"))], tagging
    dashboard_tags = [r for r in calls if r["operation"] == "ListTagsForResource"
                      and r["service"] == "monitoring" and ":dashboard/" in str(r.get("body"))]
    assert len(dashboard_tags) == 1, dashboard_tags
    tagged = [r for r in calls if r["operation"] == "ListTagsForResource"
              and r["service"] == "monitoring" and ":alarm:" in str(r.get("body"))]
    assert not tagged, tagged
    # The platform's log groups listed by prefix; the owned alarms described by the names the
    # listing gave, once.
    describe = [r for r in calls if r["operation"] == "DescribeLogGroups"]
    assert len(describe) == 1 and "logGroupNamePrefix" in str(describe[0]["body"]), describe
    assert ops.count(("monitoring", "DescribeAlarms")) == 1, ops

    # A tag added out of band on one object alone is drift, for each kind read in batches.
    for what in [next(iter(alarms)), "log group", "dashboard"]:
        _, service, ident = found[what]
        add_tag(emulator, service, ident, "added-by-hand", "1")
        assert tf.plan().returncode == 2, what
        tf.apply()
        assert tf.plan().returncode == 0, what

    # The owner tag removed out of band: the listing no longer names the object, which is then
    # read on its own and the missing tag seen.
    alarm_arn = next(iter(alarms.values()))[2]
    emulator.client("cloudwatch").untag_resource(ResourceARN=alarm_arn, TagKeys=["matbakh:owner"])
    group = found["log group"][2]
    emulator.client("logs").untag_log_group(logGroupName=group, tags=["matbakh:owner"])
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    tf.apply()
    assert "matbakh:owner" in read_tags(emulator, "cloudwatch", alarm_arn)
    assert "matbakh:owner" in read_tags(emulator, "logs", group)
    assert tf.plan().returncode == 0

    # An alarm's threshold changed out of band: drift, repaired.
    cw = emulator.client("cloudwatch")
    name = alarm_arn.split(":alarm:")[1]
    [alarm] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    put = {k: alarm[k] for k in ("AlarmName", "ComparisonOperator", "EvaluationPeriods",
                                 "Threshold", "AlarmActions", "OKActions", "TreatMissingData",
                                 "DatapointsToAlarm", "Metrics", "AlarmDescription")
           if k in alarm}
    put["Threshold"] = alarm["Threshold"] + 1000
    cw.put_metric_alarm(**put)
    assert tf.plan().returncode == 2
    tf.apply()
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["Threshold"] == \
        alarm["Threshold"]
    assert tf.plan().returncode == 0

    # The log group's retention changed out of band: drift, repaired.
    emulator.client("logs").put_retention_policy(logGroupName=group, retentionInDays=1)
    assert tf.plan().returncode == 2
    tf.apply()
    assert emulator.client("logs").describe_log_groups(
        logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] != 1
    assert tf.plan().returncode == 0
    assert SERVICE in group

    # An alarm and the log group deleted out of band: seen as gone, made again.
    cw.delete_alarms(AlarmNames=[name])
    emulator.client("logs").delete_log_group(logGroupName=group)
    assert tf.plan().returncode == 2
    tf.apply()
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert emulator.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert tf.plan().returncode == 0


def test_scalable_targets_described_in_batches_and_a_changed_range_still_seen(emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net, "service_connect", {}, {}, {"team": "identity"})})
    tf.apply()
    code, calls = plan_calls(emulator, tf)
    assert code == 0
    described = [r for r in calls if r["operation"] == "DescribeScalableTargets"]
    assert described and all("ResourceIds" in str(r["body"]) for r in described), described

    aas = emulator.client("application-autoscaling")
    target = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=target["ResourceId"],
                                 ScalableDimension=target["ScalableDimension"],
                                 MinCapacity=target["MinCapacity"], MaxCapacity=9)
    assert tf.plan().returncode == 2
    tf.apply()
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0][
        "MaxCapacity"] == target["MaxCapacity"]
    assert tf.plan().returncode == 0


def test_scaling_policies_read_by_name_across_targets_and_drift_in_each_still_seen(
        emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net, "service_connect", {}, {}, {"team": "identity"})})
    tf.apply()
    aas = emulator.client("application-autoscaling")
    rid = f"service/matbakh/{SERVICE}"
    policies = {p["PolicyName"]: p for p in aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=rid)["ScalingPolicies"]}
    assert len(policies) == 2, policies
    [target] = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]

    code, calls = plan_calls(emulator, tf)
    assert code == 0
    # The policies by name, not by target (the emulator filters by PolicyNames as AWS does);
    # the target's tags from GetResources, not its own ListTagsForResource.
    described = [json.loads(r["body"]) for r in calls
                 if r["operation"] == "DescribeScalingPolicies"]
    assert described, calls
    for body in described:
        assert set(policies) <= set(body.get("PolicyNames", [])), body
        assert "ResourceId" not in body and "ScalableDimension" not in body, body
    assert not [r for r in calls if r["service"] == "application-autoscaling"
                and r["operation"] == "ListTagsForResource"], calls

    # A policy changed out of band: drift, repaired.
    name, policy = next(iter(policies.items()))
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    aas.put_scaling_policy(
        PolicyName=name, ServiceNamespace="ecs", ResourceId=rid,
        ScalableDimension=policy["ScalableDimension"], PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={**config, "TargetValue": 11.0})
    assert tf.plan().returncode == 2
    tf.apply()
    assert tf.plan().returncode == 0

    # A policy deleted out of band: drift, made again.
    aas.delete_scaling_policy(PolicyName=name, ServiceNamespace="ecs", ResourceId=rid,
                              ScalableDimension=policy["ScalableDimension"])
    assert tf.plan().returncode == 2
    tf.apply()
    again = {p["PolicyName"]: p for p in aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=rid)["ScalingPolicies"]}
    assert again[name]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == \
        config["TargetValue"]
    assert tf.plan().returncode == 0

    # The scalable target's tag changed out of band: drift, repaired.
    arn = target["ScalableTargetARN"]
    aas.tag_resource(ResourceARN=arn, Tags={"team": "by-hand"})
    assert tf.plan().returncode == 2
    tf.apply()
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"]["team"] == "identity"
    assert tf.plan().returncode == 0


# Six microservices, each drifted one way below; m0 without autoscaling (its desired count is
# then the provider's to compare).
MANY = [f"m{i}" for i in range(6)]


def revision_tag_reads(requests: list[dict]) -> list[list[str]]:
    """The ARNs of each GetResources by ARN that asked for task definition revisions."""
    asked = [json.loads(r.get("body") or "{}").get("ResourceARNList", []) for r in requests
             if (r["service"], r["operation"]) == ("tagging", "GetResources")]
    return [arns for arns in asked if any(":task-definition/" in a for a in arns)]


def many(emulator, net) -> str:
    blocks = [REQUIRED_PROVIDERS + provider_block(emulator.endpoint)
              + f'resource "matbakh_platform" "main" {{\n  name = "{PLATFORM}"\n}}\n']
    for name in MANY:
        scaling = ("  desired_count      = 1\n" if name == "m0"
                   else "  autoscaling {\n    min_count = 1\n    max_count = 3\n  }\n")
        blocks.append(
            f'resource "matbakh_microservice" "{name}" {{\n'
            "  platform           = matbakh_platform.main.id\n"
            f'  name               = "{name}"\n'
            '  image              = "registry.example/app:1.0.0"\n'
            "  port               = 8080\n"
            f"  subnet_ids         = {json.dumps(net['subnet_ids'])}\n"
            f"  security_group_ids = {json.dumps(net['security_group_ids'])}\n"
            f'  execution_role_arn = "{EXEC_ROLE}"\n'
            '  tags = {"team" = "identity"}\n'
            + scaling + "}\n")
    return "".join(blocks)


def test_a_plan_fills_its_describes_ahead_and_drift_in_each_kind_is_still_seen(emulator, tf, net):
    """A plan's refreshes one at a time (-parallelism=1: Terraform's staggered refreshes, which
    never meet in the gatherer's window): after the second, the cluster's services are listed
    once and each DescribeServices, DescribeScalableTargets and DescribeScalingPolicies carries
    the services, targets and policies of refreshes still to come, which then send none. What a
    refresh takes from such an answer is still compared: each microservice drifted one way is
    planned."""
    tf.write({"main.tf": many(emulator, net)})
    tf.apply()
    emulator.clear_requests()
    assert tf.plan(extra_args=["-parallelism=1"]).returncode == 0
    seen: dict[str, int] = {}
    for r in emulator.requests():
        op = f"{r['service']}:{r['operation']}"
        seen[op] = seen.get(op, 0) + 1
    assert seen.get("ecs:ListServices") == 1, seen
    # One each for the first two refreshes (one microservice alone cannot know that others
    # follow), then one filled ahead for the rest: 3, not 6.
    for op in ("ecs:DescribeServices", "application-autoscaling:DescribeScalableTargets",
               "application-autoscaling:DescribeScalingPolicies"):
        assert 1 <= seen.get(op, 0) <= 3, (op, seen)
    # The revisions' tags by ARN: a GetResources also carries the region's ACTIVE revisions
    # (listed once, beside the first refresh's status check) and the revisions the described
    # services run, so the refreshes still to come send none: at most 2, not 6.
    by_arn = revision_tag_reads(emulator.requests())
    assert 1 <= len(by_arn) <= 2, by_arn
    assert sum(len(arns) for arns in by_arn) >= len(MANY), by_arn

    ecs = emulator.client("ecs")
    # A revision's tag changed out of band is seen, whether its tags were asked for by its own
    # refresh or came ahead with another's: every microservice is planned (its revision's tag
    # is its only drift), then the tags are put back.
    revisions = [s["taskDefinition"] for s in ecs.describe_services(
        cluster=PLATFORM, services=MANY)["services"]]
    for arn in revisions:
        add_tag(emulator, "ecs", arn, "added-by-hand", "1")
    emulator.clear_requests()
    out = tf.plan(extra_args=["-parallelism=1"])
    assert out.returncode == 2
    for name in MANY:
        assert f"matbakh_microservice.{name} will be" in out.stdout, (name, out.stdout[-3000:])
    assert 1 <= len(revision_tag_reads(emulator.requests())) <= 2
    for arn in revisions:
        ecs.untag_resource(resourceArn=arn, tagKeys=["added-by-hand"])
    assert tf.plan(extra_args=["-parallelism=1"]).returncode == 0

    aas = emulator.client("application-autoscaling")
    ecs.update_service(cluster=PLATFORM, service="m0", desiredCount=3)
    ecs.delete_service(cluster=PLATFORM, service="m1", force=True)
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=f"service/{PLATFORM}/m2",
                                 ScalableDimension="ecs:service:DesiredCount", MinCapacity=1,
                                 MaxCapacity=9)
    policies = {p["ResourceId"].rsplit("/", 1)[-1]: p for p in aas.describe_scaling_policies(
        ServiceNamespace="ecs", PolicyNames=["m3-cpu-target-tracking", "m4-cpu-target-tracking"])[
        "ScalingPolicies"]}
    assert set(policies) == {"m3", "m4"}, policies
    config = policies["m3"]["TargetTrackingScalingPolicyConfiguration"]
    aas.put_scaling_policy(
        PolicyName="m3-cpu-target-tracking", ServiceNamespace="ecs",
        ResourceId=f"service/{PLATFORM}/m3", ScalableDimension="ecs:service:DesiredCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={**config, "TargetValue": 11.0})
    aas.delete_scaling_policy(PolicyName="m4-cpu-target-tracking", ServiceNamespace="ecs",
                              ResourceId=f"service/{PLATFORM}/m4",
                              ScalableDimension="ecs:service:DesiredCount")
    [m5] = ecs.describe_services(cluster=PLATFORM, services=["m5"])["services"]
    ecs.tag_resource(resourceArn=m5["serviceArn"], tags=[{"key": "team", "value": "by-hand"}])

    out = tf.plan(extra_args=["-parallelism=1"])
    assert out.returncode == 2
    for name in MANY:
        assert f"matbakh_microservice.{name} will be" in out.stdout or \
            f"matbakh_microservice.{name} must be" in out.stdout, (name, out.stdout[-3000:])
