"""Issue #8: the provider behaves like a first-class Terraform provider.

Plans say what changes in AWS (ids an update keeps stay known), drift is shown as values
(`plan -refresh-only`, `ignore_changes`), a deleted object is one short warning and is
recreated, and a failed create can be finished in place after `terraform untaint`."""

from __future__ import annotations

import json

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block
from tests.test_microservice import ecs_service, network, task_definition

PLATFORM = "matbakh"
NAME = "auth-service"
ADDR = "matbakh_microservice.auth"
IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"
CI_IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:ci-build-77"


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def config(emulator, net, *, mesh: str = "service_connect", image: str = IMAGE,
           max_retries: int = 3, error_rate: int = 5, ignore: str = "", extra: str = "",
           desired: str = "desired_count      = 2") -> dict[str, str]:
    """`mesh` is the provider's service_mesh. A platform's vpc_id and a microservice's retry
    block exist only with App Mesh; Service Connect (the default) has neither."""
    app_mesh = mesh == "app_mesh"
    vpc = f'\n  vpc_id = "{net["vpc_id"]}"' if app_mesh else ""
    retry = f"\n  retry {{\n    max_retries = {max_retries}\n  }}" if app_mesh else ""
    subnets = ", ".join(json.dumps(s) for s in net["subnet_ids"])
    sgs = ", ".join(json.dumps(s) for s in net["security_group_ids"])
    lifecycle = f"\n  lifecycle {{\n    ignore_changes = [{ignore}]\n  }}\n" if ignore else ""
    return {"main.tf": f"""
{REQUIRED_PROVIDERS}
{provider_block(emulator.endpoint, service_mesh=mesh if app_mesh else None)}

resource "matbakh_platform" "main" {{
  name   = "{PLATFORM}"{vpc}
}}

resource "matbakh_microservice" "auth" {{
  platform           = matbakh_platform.main.id
  name               = "{NAME}"
  image              = "{image}"
  port               = 8080
  {desired}
  subnet_ids         = [{subnets}]
  security_group_ids = [{sgs}]
  execution_role_arn = "arn:aws:iam::123456789012:role/exec"{retry}
  alarms {{
    error_rate_percent = {error_rate}
  }}{lifecycle}{extra}
}}

resource "terraform_data" "downstream" {{
  triggers_replace = [matbakh_microservice.auth.service_arn]
}}
"""}


def planned_change(tf, addr: str) -> dict:
    tf.run("plan", "-input=false", "-no-color", "-out=tfplan")
    plan = json.loads(tf.run("show", "-json", "-no-color", "tfplan").stdout)
    [change] = [c for c in plan["resource_changes"] if c["address"] == addr]
    return change


def test_a_retry_change_keeps_service_arn_known_and_downstream_in_place(emulator, tf, net):
    # retry exists only with App Mesh.
    tf.write(config(emulator, net, mesh="app_mesh"))
    tf.apply()
    before = tf.resource(ADDR)
    tf.write(config(emulator, net, mesh="app_mesh", max_retries=5))

    change = planned_change(tf, ADDR)
    assert change["change"]["actions"] == ["update"], change
    unknown = change["change"]["after_unknown"]
    assert not unknown.get("service_arn"), unknown
    assert not unknown.get("task_definition_arn"), unknown
    assert not any((unknown.get("components") or {}).values()), unknown
    assert change["change"]["after"]["service_arn"] == before["service_arn"]
    downstream = planned_change(tf, "terraform_data.downstream")
    assert downstream["change"]["actions"] == ["no-op"], downstream

    out = tf.apply()
    assert "0 added, 1 changed, 0 destroyed" in out.stdout, out.stdout
    assert tf.resource(ADDR)["service_arn"] == before["service_arn"]
    assert tf.plan().returncode == 0


def test_an_image_change_plans_only_the_task_definition_unknown(emulator, tf, net):
    tf.write(config(emulator, net))
    tf.apply()
    before = tf.resource(ADDR)
    tf.write(config(emulator, net, image=CI_IMAGE))

    change = planned_change(tf, ADDR)
    unknown = change["change"]["after_unknown"]
    assert [k for k, v in (unknown.get("components") or {}).items() if v] == ["task_definition"]
    assert unknown.get("task_definition_arn") is True, unknown
    assert not unknown.get("service_arn"), unknown
    assert planned_change(tf, "terraform_data.downstream")["change"]["actions"] == ["no-op"]

    tf.apply()
    after = tf.resource(ADDR)
    assert after["service_arn"] == before["service_arn"]
    assert after["task_definition_arn"] != before["task_definition_arn"]
    assert tf.plan().returncode == 0


def test_desired_count_changed_by_hand_is_a_value(emulator, tf, net):
    tf.write(config(emulator, net))
    tf.apply()
    emulator.client("ecs").update_service(cluster=PLATFORM, service=NAME, desiredCount=6)

    refresh = tf.plan(extra_args=["-refresh-only"])
    assert "desired_count = 2 -> 6" in " ".join(refresh.output.split()), refresh.output

    # ignore_changes keeps the provider from reverting it, through an apply of another change.
    tf.write(config(emulator, net, ignore="desired_count", error_rate=6))
    tf.apply()
    assert ecs_service(emulator)["desiredCount"] == 6
    assert tf.resource(ADDR)["desired_count"] == 6
    assert tf.plan().returncode == 0

    # Without it, apply repairs.
    tf.write(config(emulator, net, error_rate=6))
    tf.apply()
    assert ecs_service(emulator)["desiredCount"] == 2
    assert tf.plan().returncode == 0


def roll_out_of_band(emulator, image: str) -> str:
    """What a CI system does: register a revision with another image, roll the service to it."""
    ecs = emulator.client("ecs")
    td = task_definition(emulator, ecs_service(emulator)["taskDefinition"])
    for c in td["containerDefinitions"]:
        if c["name"] == "app":
            c["image"] = image
    keep = ["family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
            "requiresCompatibilities", "cpu", "memory", "proxyConfiguration"]
    tags = ecs.list_tags_for_resource(resourceArn=td["taskDefinitionArn"]).get("tags", [])
    new = ecs.register_task_definition(**{k: td[k] for k in keep if td.get(k)},
                                       **({"tags": tags} if tags else {}))
    arn = new["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=PLATFORM, service=NAME, taskDefinition=arn)
    return arn


def test_ignore_changes_image_survives_a_revision_rolled_out_of_band(emulator, tf, net):
    tf.write(config(emulator, net, ignore="image"))
    tf.apply()
    rolled = roll_out_of_band(emulator, CI_IMAGE)

    refresh = tf.plan(extra_args=["-refresh-only"])
    assert CI_IMAGE in refresh.output, refresh.output
    assert tf.plan().returncode == 0, "ignore_changes = [image] must leave the rollout alone"
    tf.apply()
    assert ecs_service(emulator)["taskDefinition"] == rolled
    state = tf.resource(ADDR)
    assert (state["image"], state["task_definition_arn"]) == (CI_IMAGE, rolled)

    # Without ignore_changes, apply rolls the configured image back out.
    tf.write(config(emulator, net))
    tf.apply()
    td = task_definition(emulator, ecs_service(emulator)["taskDefinition"])
    assert {c["name"]: c["image"] for c in td["containerDefinitions"]}["app"] == IMAGE
    assert tf.plan().returncode == 0


@pytest.mark.parametrize("what", ["route", "alarm"])
def test_a_deleted_object_is_one_short_warning_and_is_recreated(emulator, tf, net, what):
    # A route exists only with App Mesh; the alarm on the default backend.
    mesh = "app_mesh" if what == "route" else "service_connect"
    tf.write(config(emulator, net, mesh=mesh))
    tf.apply()
    if what == "route":
        emulator.client("appmesh").delete_route(meshName=PLATFORM, virtualRouterName=f"{NAME}-router",
                                                routeName=f"{NAME}-route")
        component = "route"
    else:
        emulator.client("cloudwatch").delete_alarms(AlarmNames=[f"{PLATFORM}-{NAME}-cpu-high"])
        component = "alarm_cpu"
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    text = " ".join(plan.output.split())
    assert f"Warning: {component} changed outside Terraform" in text, plan.output
    assert "it was deleted outside Terraform; the next apply repairs it." in text, plan.output
    assert text.count("changed outside Terraform") == 1, plan.output
    assert "{\"" not in plan.output, "no raw JSON in a plan"
    tf.apply()
    assert tf.plan().returncode == 0


# The last component each backend creates: App Mesh's route, Service Connect's ECS service
# (its Cloud Map discovery service comes with it).
# (service, operation, match, the component that fails, one it depends on: created before)
UNTAINT_CASES = {
    "app_mesh": ("appmesh", "CreateRoute", f"{NAME}-route", "route", "virtual_router"),
    "service_connect": ("ecs", "CreateService", NAME, "service", "task_definition"),
}


@pytest.mark.parametrize("mesh", list(UNTAINT_CASES))
def test_untaint_after_a_failed_create_continues_in_place(emulator, tf, net, mesh):
    service, operation, match, failed, before = UNTAINT_CASES[mesh]
    tf.write(config(emulator, net, mesh=mesh))
    emulator.inject_fault(service, operation, count=1, match=match,
                          message="injected fault for the test")
    res = tf.apply(check=False)
    assert res.returncode != 0
    text = " ".join(res.output.split())
    assert "terraform untaint" in text, res.output
    emulator.clear_faults()
    created = dict(tf.resource(ADDR)["components"])
    assert before in created and failed not in created, created

    tf.run("untaint", ADDR)
    plan = tf.plan()
    assert "must be replaced" not in plan.output, plan.output
    out = tf.apply()
    assert "1 changed, 0 destroyed" in out.stdout, out.stdout
    after = tf.resource(ADDR)["components"]
    for key, arn in created.items():
        assert after[key] == arn, (key, arn, after[key])
    assert failed in after
    assert tf.plan().returncode == 0


def test_a_backend_no_microservice_answers_to_is_a_warning_at_plan(emulator, tf, net):
    # backends exists only with App Mesh.
    tf.write(config(emulator, net, mesh="app_mesh"))
    tf.apply()
    tf.write(config(emulator, net, mesh="app_mesh", extra='\n  backends = ["nobody-service"]\n'))
    plan = tf.plan()
    text = " ".join(plan.output.split())
    assert 'Warning: backends: no microservice "nobody-service" on platform "matbakh"' in text, \
        plan.output
    assert text.count("Warning: backends:") == 1, plan.output


@pytest.mark.parametrize("mesh,components", [
    ("app_mesh", ("task_definition", "service", "route")),
    ("service_connect", ("task_definition", "service", "discovery_service")),
], ids=["app_mesh", "service_connect"])
def test_each_component_is_logged_with_the_resource_type_and_id(emulator, tf, net, mesh,
                                                                components):
    tf.write(config(emulator, net, mesh=mesh))
    out = tf.apply(env={"TF_LOG_PROVIDER": "INFO"})
    lines = [line for line in out.stderr.splitlines() if "component=" in line and "created" in line]
    for component in components:
        [line] = [l for l in lines if f"component={component} " in l + " "
                  and "tf_resource_type=matbakh_microservice" in l]
        assert "tf_resource_id=matbakh/auth-service" in line, line


def test_generate_config_out_with_autoscaling_writes_a_count_the_provider_accepts(
        emulator, tf_factory, net):
    first = tf_factory("first")
    first.write(config(emulator, net, desired="",
                       extra="\n  autoscaling {\n    min_count = 3\n    max_count = 10\n  }\n"))
    first.apply()
    # The scaler (or a hand) moved the count outside a range changed since.
    emulator.client("ecs").update_service(cluster=PLATFORM, service=NAME, desiredCount=12)

    second = tf_factory("second")
    second.write({"main.tf": f"""
{REQUIRED_PROVIDERS}
{provider_block(emulator.endpoint)}

import {{
  to = {ADDR}
  id = "{PLATFORM}/{NAME}"
}}
"""})
    second.run("plan", "-input=false", "-no-color", "-generate-config-out=generated.tf",
               ok=(0, 2))
    generated = (second.workdir / "generated.tf").read_text()
    assert "desired_count" in generated and "= 12" not in generated, generated
    plan = second.plan(check=False)
    assert plan.returncode in (0, 2), plan.output
    assert "Error" not in plan.output, plan.output


def test_a_platform_update_keeps_its_arns_known_in_the_plan(emulator, tf, net):
    def platform(insights: str) -> dict[str, str]:
        return {"main.tf": f"""
{REQUIRED_PROVIDERS}
{provider_block(emulator.endpoint)}

resource "matbakh_platform" "main" {{
  name               = "{PLATFORM}"
  container_insights = {insights}
}}
"""}
    tf.write(platform("true"))
    tf.apply()
    before = tf.resource("matbakh_platform.main")
    tf.write(platform("false"))
    change = planned_change(tf, "matbakh_platform.main")
    assert change["change"]["actions"] == ["update"], change
    unknown = change["change"]["after_unknown"]
    for key in ("cluster_arn", "namespace_id", "namespace_arn"):
        assert not unknown.get(key), (key, unknown)
        assert change["change"]["after"][key] == before[key]
    assert not any((unknown.get("components") or {}).values()), unknown
    tf.apply()
    assert tf.plan().returncode == 0


def test_a_required_value_unknown_at_plan_and_null_at_apply_creates_nothing(emulator, tf, net):
    files = config(emulator, net)
    text = files["main.tf"].replace(
        f'name               = "{NAME}"',
        # Unknown at plan (the cluster ARN comes with the platform), null at apply.
        f'name               = matbakh_platform.main.cluster_arn == "" ? "{NAME}" : null')
    assert text != files["main.tf"]
    tf.write({"main.tf": text})
    res = tf.apply(check=False)
    assert res.returncode != 0, res.output
    out = " ".join(res.output.split())
    assert "name" in out and "nothing was created" in out, res.output
    ecs = emulator.client("ecs")
    assert ecs.list_task_definitions()["taskDefinitionArns"] == []
    assert emulator.client("logs").describe_log_groups()["logGroups"] == []
    assert "matbakh_microservice.auth" not in tf.state_list()
