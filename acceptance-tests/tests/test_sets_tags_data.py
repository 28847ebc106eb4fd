"""Acceptance tests for issue #8 items 4, 5 and 8: unordered arguments are sets, every
resource has `tags` and `tags_all` with AWS's tag limits checked at plan, and the
`matbakh_platform` / `matbakh_microservice` data sources read what another state made."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block
from tests.test_microservice import network

REPO = Path(__file__).resolve().parents[2]
CANARY_EXAMPLE = REPO / "examples" / "canary"

PLATFORM = "matbakh"
SERVICE = "auth-service"
EXEC_ROLE = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
TOPICS = ["arn:aws:sns:eu-central-1:123456789012:alerts-a",
          "arn:aws:sns:eu-central-1:123456789012:alerts-b"]


@pytest.fixture
def net(emulator) -> dict:
    """The shared network plus a second security group (two, to reorder)."""
    n = network(emulator)
    ec2 = emulator.client("ec2")
    second = ec2.create_security_group(GroupName="matbakh-extra", Description="extra",
                                       VpcId=n["vpc_id"])["GroupId"]
    n["security_group_ids"] = n["security_group_ids"] + [second]
    return n


def hcl(value) -> str:
    """A Python value as an HCL expression (JSON is valid HCL for these)."""
    return json.dumps(value)


BACKENDS = ("service_connect", "app_mesh")


def stack(emulator, net, *, default_tags=None, platform_tags=None, service_tags=None,
          subnet_ids=None, security_group_ids=None, actions=None, extra="",
          service_mesh="service_connect") -> str:
    """A platform and one microservice, with the given tags and set orders, on the given
    backend. App Mesh takes the platform's VPC (its private DNS namespace) and the service's
    `backends`; Service Connect takes neither (an error there)."""
    app_mesh = service_mesh == "app_mesh"
    vpc_line = f'  vpc_id = {hcl(net["vpc_id"])}\n' if app_mesh else ""
    backends_line = ('  backends           = ["persona-service", "vc-service"]\n'
                     if app_mesh else "")
    service_tags_line = f"  tags = {hcl(service_tags)}\n" if service_tags is not None else ""
    platform_tags_line = f"  tags = {hcl(platform_tags)}\n" if platform_tags is not None else ""
    return (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, default_tags=default_tags,
                         service_mesh=None if not app_mesh else "app_mesh")
        + 'resource "matbakh_platform" "main" {\n'
        f'  name   = "{PLATFORM}"\n'
        f"{vpc_line}"
        f"{platform_tags_line}"
        "}\n"
        'resource "matbakh_microservice" "auth" {\n'
        "  platform           = matbakh_platform.main.id\n"
        f'  name               = "{SERVICE}"\n'
        '  image              = "registry.example/auth:1.4.2"\n'
        "  port               = 8080\n"
        "  desired_count      = 1\n"
        f"  subnet_ids         = {hcl(subnet_ids or net['subnet_ids'])}\n"
        f"  security_group_ids = {hcl(security_group_ids or net['security_group_ids'])}\n"
        f'  execution_role_arn = "{EXEC_ROLE}"\n'
        f"{backends_line}"
        f"{service_tags_line}"
        f"  alarms {{\n    actions = {hcl(actions or TOPICS)}\n  }}\n"
        "}\n"
        + extra
    )


# ---------------------------------------------------------------------------- sets (#8 item 4)


def test_reordering_set_arguments_plans_nothing(emulator, tf, net):
    """subnet_ids, security_group_ids, backends and alarms.actions in another order (and with
    a duplicate) are the same sets: no change, for the microservice and for a canary that
    builds its candidate from the microservice's settings."""
    tf.copy_dir(CANARY_EXAMPLE, {"endpoint": emulator.endpoint, **net,
                                 "strategy": "blue_green", "step_interval": "1s"})
    tf.apply()
    assert tf.plan().returncode == 0
    reordered = {**net, "subnet_ids": list(reversed(net["subnet_ids"])) + [net["subnet_ids"][0]],
                 "security_group_ids": list(reversed(net["security_group_ids"]))}
    tf.copy_dir(CANARY_EXAMPLE, {"endpoint": emulator.endpoint, **reordered,
                                 "strategy": "blue_green", "step_interval": "1s"})
    res = tf.plan()
    assert res.returncode == 0, res.output


@pytest.mark.parametrize("service_mesh", BACKENDS)
def test_reordered_backends_and_alarm_actions_plan_nothing(emulator, tf, net, service_mesh):
    """Sets in another order plan nothing: subnets, security groups and alarm actions on both
    backends, and `backends` (an App Mesh argument) on app_mesh."""
    tf.write({"main.tf": stack(emulator, net, service_mesh=service_mesh)})
    tf.apply()
    ecs = emulator.client("ecs")
    service = ecs.describe_services(cluster=PLATFORM, services=[SERVICE])["services"][0]
    subnets = service["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    assert subnets == sorted(net["subnet_ids"])
    tf.write({"main.tf": stack(emulator, net, subnet_ids=list(reversed(net["subnet_ids"])),
                               security_group_ids=list(reversed(net["security_group_ids"])),
                               actions=list(reversed(TOPICS)), service_mesh=service_mesh)
              .replace('["persona-service", "vc-service"]', '["vc-service", "persona-service"]')})
    res = tf.plan()
    assert res.returncode == 0, res.output
    # In state, a set: no order to remember.
    assert sorted(tf.resource("matbakh_microservice.auth")["subnet_ids"]) == sorted(net["subnet_ids"])


# ---------------------------------------------------------------------------- tags (#8 item 5)


def many(prefix: str, n: int) -> dict:
    return {f"{prefix}{i}": "x" for i in range(n)}


@pytest.mark.parametrize("case", ["too_many_together", "long_value", "long_key", "aws_prefix"])
def test_tag_limits_fail_at_plan_naming_the_attribute(emulator, tf, net, case):
    defaults, tags = {"project": "matbakh"}, {"team": "identity"}
    if case == "too_many_together":
        defaults, tags = many("d", 30), many("t", 21)
    elif case == "long_value":
        tags = {"team": "v" * 257}
    elif case == "long_key":
        tags = {"k" * 129: "v"}
    elif case == "aws_prefix":
        tags = {"AWS:team": "identity"}
    tf.write({"main.tf": stack(emulator, net, default_tags=defaults, service_tags=tags)})
    res = tf.plan(check=False)
    assert res.returncode == 1, res.output
    assert "tags" in res.stderr, res.stderr
    # The diagnostic points at the microservice's `tags` argument.
    assert 'in resource "matbakh_microservice" "auth"' in res.stderr, res.stderr
    assert re.search(r"\d+:\s+tags\s+=", res.stderr), res.stderr
    assert emulator.client("ecs").list_clusters()["clusterArns"] == []


def test_bad_default_tags_fail_naming_default_tags(emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net, default_tags={"aws:project": "matbakh"})})
    res = tf.plan(check=False)
    assert res.returncode == 1, res.output
    assert "default_tags" in res.stderr, res.stderr
    assert "aws:" in res.stderr, res.stderr


def arn_tags(emulator, service_mesh: str = "service_connect") -> dict[str, dict[str, str]]:
    """Tags of every object of the microservice and platform, by a short name (the virtual
    node on app_mesh; on service_connect the Cloud Map service is the one ECS made)."""
    ecs, logs = emulator.client("ecs"), emulator.client("logs")
    cw, appmesh = emulator.client("cloudwatch"), emulator.client("appmesh")
    sd = emulator.client("servicediscovery")
    ecs_made: list[str] = []
    service = ecs.describe_services(cluster=PLATFORM, services=[SERVICE],
                                    include=["TAGS"])["services"][0]
    out = {"ecs service": {t["key"]: t["value"] for t in service.get("tags", [])}}
    td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"], include=["TAGS"])
    out["task definition"] = {t["key"]: t["value"] for t in td.get("tags", [])}
    cluster = ecs.describe_clusters(clusters=[PLATFORM], include=["TAGS"])["clusters"][0]
    out["cluster"] = {t["key"]: t["value"] for t in cluster.get("tags", [])}
    group = logs.describe_log_groups(logGroupNamePrefix=f"/matbakh/{PLATFORM}/{SERVICE}")["logGroups"]
    if not group:
        group = [g for g in logs.describe_log_groups()["logGroups"] if SERVICE in g["logGroupName"]]
    out["log group"] = logs.list_tags_log_group(logGroupName=group[0]["logGroupName"])["tags"]
    for alarm in cw.describe_alarms()["MetricAlarms"]:
        if SERVICE in alarm["AlarmName"]:
            tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
            out[f"alarm {alarm['AlarmName']}"] = {t["Key"]: t["Value"] for t in tags}
    if service_mesh == "app_mesh":
        node = appmesh.describe_virtual_node(meshName=PLATFORM,
                                             virtualNodeName=SERVICE)["virtualNode"]
        tags = appmesh.list_tags_for_resource(resourceArn=node["metadata"]["arn"])["tags"]
        out["virtual node"] = {t["key"]: t["value"] for t in tags}
    # Service Connect's discovery name (ECS names the Cloud Map service after it) is unique
    # per platform: SERVICE_PLATFORM.
    cloud_map_name = SERVICE if service_mesh == "app_mesh" else f"{SERVICE}_{PLATFORM}"
    for s in sd.list_services()["Services"]:
        if s["Name"] == cloud_map_name:
            tags = {t["Key"]: t["Value"]
                    for t in sd.list_tags_for_resource(ResourceARN=s["Arn"])["Tags"]}
            if service_mesh == "app_mesh":
                out["cloud map service"] = tags
            else:
                # ECS made it and owns its tags (as on AWS): not the provider's to tag.
                assert tags == {"AmazonECSManaged": "true"}, tags
                ecs_made.append(s["Name"])
    if service_mesh == "service_connect":
        assert ecs_made == [cloud_map_name], ecs_made
    return out


@pytest.mark.parametrize("service_mesh", BACKENDS)
def test_tags_land_on_every_object_and_change_in_place(emulator, tf, net, service_mesh):
    defaults = {"project": "matbakh", "team": "platform"}
    tf.write({"main.tf": stack(emulator, net, default_tags=defaults, service_mesh=service_mesh,
                               platform_tags={"tier": "base"},
                               service_tags={"team": "identity", "cost": "auth"})})
    tf.apply()
    state = tf.resource("matbakh_microservice.auth")
    assert state["tags_all"] == {"project": "matbakh", "team": "identity", "cost": "auth"}
    assert tf.resource("matbakh_platform.main")["tags_all"] == {
        "project": "matbakh", "team": "platform", "tier": "base"}
    found = arn_tags(emulator, service_mesh)
    assert len([k for k in found if k.startswith("alarm ")]) == 3, found
    # The provider's own Cloud Map service and virtual node on App Mesh; on Service Connect
    # arn_tags checked that the one ECS made exists and carries ECS's tag only.
    app_mesh = service_mesh == "app_mesh"
    assert ("cloud map service" in found) == app_mesh and ("virtual node" in found) == app_mesh, found
    for what, tags in found.items():
        if what == "cluster":
            assert tags.get("tier") == "base" and tags.get("team") == "platform", (what, tags)
            continue
        for k, v in state["tags_all"].items():
            assert tags.get(k) == v, (what, tags)
        assert tags.get("matbakh:owner") == f"{PLATFORM}/{SERVICE}", (what, tags)
    assert tf.plan().returncode == 0

    td_before = state["task_definition_arn"]
    service_arn = state["service_arn"]
    tf.write({"main.tf": stack(emulator, net, default_tags=defaults, service_mesh=service_mesh,
                               platform_tags={"tier": "base"},
                               service_tags={"team": "identity", "cost": "auth-2"})})
    plan = tf.plan()
    assert plan.returncode == 2
    assert "must be replaced" not in plan.output and "1 to change" in plan.output, plan.output
    emulator.clear_requests()
    tf.apply()
    after = tf.resource("matbakh_microservice.auth")
    assert after["tags_all"]["cost"] == "auth-2"
    # In place: the same ECS service, the same task definition revision, no new revision.
    assert after["service_arn"] == service_arn
    assert after["task_definition_arn"] == td_before
    assert emulator.requests("ecs", "RegisterTaskDefinition") == []
    for what, tags in arn_tags(emulator, service_mesh).items():
        if what != "cluster":
            assert tags.get("cost") == "auth-2", (what, tags)
    assert tf.plan().returncode == 0


# ---------------------------------------------------------------------------- data sources (#8 item 8)

PLATFORM_OUTPUTS = ["id", "cluster_arn", "namespace_id", "namespace_arn", "service_mesh", "mesh_name"]
SERVICE_OUTPUTS = ["id", "dns_name", "service_arn", "task_definition_arn", "image", "port",
                   "components"]


def readers(emulator, platform=PLATFORM, service=SERVICE, service_mesh=None) -> str:
    """A service team's configuration reading the platform and the service; its provider on
    the platform's backend (`service_mesh`, None: the default)."""
    # try(): a null output (mesh_name on service_connect) is not stored; "" stands for null.
    outputs = "".join(f'output "platform_{a}" {{ value = try(coalesce(data.matbakh_platform.x.{a}), "") }}\n'
                      for a in PLATFORM_OUTPUTS)
    outputs += "".join(f'output "service_{a}" {{ value = data.matbakh_microservice.x.{a} }}\n'
                       for a in SERVICE_OUTPUTS)
    return (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, service_mesh=service_mesh)
        + f'data "matbakh_platform" "x" {{\n  name = "{platform}"\n}}\n'
        + 'data "matbakh_microservice" "x" {\n'
        f'  platform = "{platform}"\n'
        f'  name     = "{service}"\n'
        "}\n"
        + outputs
    )


@pytest.mark.parametrize("service_mesh", BACKENDS)
def test_data_sources_read_what_another_state_made(emulator, tf_factory, net, service_mesh):
    owner = tf_factory("platform-team")
    owner.write({"main.tf": stack(emulator, net, service_mesh=service_mesh)})
    owner.apply()
    made_platform = owner.resource("matbakh_platform.main")
    made_service = owner.resource("matbakh_microservice.auth")

    reader = tf_factory("service-team")
    reader.write({"main.tf": readers(emulator, service_mesh=service_mesh)})
    reader.apply()
    assert made_platform["service_mesh"] == service_mesh
    for a in PLATFORM_OUTPUTS:
        got = reader.output(f"platform_{a}")
        want = made_platform[a]
        if a == "mesh_name" and service_mesh == "service_connect":
            assert want is None and got == "", (a, got, want)  # no mesh on Service Connect
            continue
        assert got == want and got, (a, got, want)
    for a in SERVICE_OUTPUTS:
        got = reader.output(f"service_{a}")
        assert got == made_service[a] and got, (a, got, made_service[a])
    # Reading changes nothing, and the first state still plans clean.
    assert reader.plan().returncode == 0
    assert owner.plan().returncode == 0


@pytest.mark.parametrize("platform,service,words", [
    ("nowhere", SERVICE, ['"nowhere"', "eu-central-1"]),
    (PLATFORM, "ghost-service", ['"ghost-service"', f'"{PLATFORM}"']),
])
def test_data_source_not_found_names_what_was_looked_for(emulator, tf_factory, net, platform,
                                                         service, words):
    owner = tf_factory("platform-team")
    owner.write({"main.tf": stack(emulator, net)})
    owner.apply()
    reader = tf_factory("service-team")
    reader.write({"main.tf": readers(emulator, platform=platform, service=service)})
    res = reader.plan(check=False)
    assert res.returncode == 1, res.output
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def test_split_states_example(emulator, tf_factory, net):
    """examples/split-states: a platform team's state and a service team's state that reads
    the platform and the auth-service with data sources and runs its own service beside."""
    example = REPO / "examples" / "split-states"
    values = {"endpoint": emulator.endpoint, "subnet_ids": net["subnet_ids"],
              "security_group_ids": net["security_group_ids"]}
    team = tf_factory("platform-team")
    team.copy_dir(example / "platform", values)
    team.apply()
    service = tf_factory("service-team")
    service.copy_dir(example / "service", values)
    service.apply()
    assert service.output("auth_service_arn") == team.resource("matbakh_microservice.auth")["service_arn"]
    assert service.output("cluster_arn") == team.resource("matbakh_platform.main")["cluster_arn"]
    persona = service.resource("matbakh_microservice.persona")
    assert persona["environment_variables"]["AUTH_URL"] == "http://auth-service.svc.local:8080"
    assert service.plan().returncode == 0
    assert team.plan().returncode == 0
    service.destroy()
    # The platform team's objects are untouched by the other state's destroy.
    assert emulator.client("ecs").describe_services(
        cluster=PLATFORM, services=[SERVICE])["services"][0]["status"] == "ACTIVE"


def test_canary_candidate_objects_carry_its_tags(emulator, tf, net):
    """matbakh_canary's tags (over default_tags) land on the candidate's objects, and its
    tags_all is planned; the microservice's own objects keep theirs."""
    tf.copy_dir(CANARY_EXAMPLE, {"endpoint": emulator.endpoint, **net,
                                 "strategy": "blue_green", "step_interval": "1s"})
    # An override file adds the arguments the example leaves out.
    tf.write({"tags_override.tf": (
        'provider "matbakh" {\n  default_tags = { project = "matbakh", team = "platform" }\n}\n'
        'resource "matbakh_canary" "auth" {\n  tags = { team = "release", change = "CHG-42" }\n}\n'
        'resource "matbakh_microservice" "auth" {\n  tags = { team = "identity" }\n}\n')})
    tf.apply()
    canary = tf.resource("matbakh_canary.auth[0]")
    assert canary["tags_all"] == {"project": "matbakh", "team": "release", "change": "CHG-42"}
    ecs = emulator.client("ecs")
    candidate = ecs.describe_services(cluster=PLATFORM, services=[f"{SERVICE}-canary"],
                                      include=["TAGS"])["services"][0]
    tags = {t["key"]: t["value"] for t in candidate["tags"]}
    assert tags["team"] == "release" and tags["change"] == "CHG-42", tags
    assert tags["matbakh:owner"] == f"{PLATFORM}/{SERVICE}-canary", tags
    td = ecs.describe_task_definition(taskDefinition=candidate["taskDefinition"], include=["TAGS"])
    assert {t["key"]: t["value"] for t in td["tags"]}["change"] == "CHG-42"
    cw = emulator.client("cloudwatch")
    alarm = cw.describe_alarms(AlarmNames=[f"{PLATFORM}-{SERVICE}-canary-error-rate"])["MetricAlarms"][0]
    alarm_tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]}
    assert alarm_tags["change"] == "CHG-42", alarm_tags
    stable = ecs.describe_services(cluster=PLATFORM, services=[SERVICE], include=["TAGS"])["services"][0]
    assert {t["key"]: t["value"] for t in stable["tags"]}["team"] == "identity"
    assert tf.plan().returncode == 0


def test_import_recovers_tags_and_plans_clean(emulator, tf_factory, net):
    """Import recovers a microservice's own tags (what its objects carry beyond default_tags
    and the provider's tags) and computes tags_all: the imported state equals the applied."""
    config = {"main.tf": stack(emulator, net, default_tags={"project": "matbakh", "team": "x"},
                               service_tags={"team": "identity", "cost": "auth"})}
    first = tf_factory("first")
    first.write(config)
    first.apply()
    original = first.resource("matbakh_microservice.auth")
    second = tf_factory("second")
    second.write(config)
    second.import_("matbakh_platform.main", PLATFORM)
    second.import_("matbakh_microservice.auth", f"{PLATFORM}/{SERVICE}")
    imported = second.resource("matbakh_microservice.auth")
    assert imported["tags"] == {"team": "identity", "cost": "auth"}
    assert imported["tags_all"] == original["tags_all"]
    res = second.plan()
    assert res.returncode == 0, res.output


@pytest.mark.parametrize("service_mesh", BACKENDS)
def test_default_tags_change_retags_every_resource_in_place(emulator, tf, net, service_mesh):
    tf.write({"main.tf": stack(emulator, net, default_tags={"project": "matbakh"},
                               service_mesh=service_mesh)})
    tf.apply()
    before = tf.resource("matbakh_microservice.auth")
    tf.write({"main.tf": stack(emulator, net, default_tags={"project": "matbakh-2"},
                               service_mesh=service_mesh)})
    plan = tf.plan()
    assert plan.returncode == 2
    assert "2 to change" in plan.output and "must be replaced" not in plan.output, plan.output
    tf.apply()
    after = tf.resource("matbakh_microservice.auth")
    assert after["tags_all"] == {"project": "matbakh-2"}
    assert tf.resource("matbakh_platform.main")["tags_all"] == {"project": "matbakh-2"}
    assert after["task_definition_arn"] == before["task_definition_arn"]
    for what, tags in arn_tags(emulator, service_mesh).items():
        assert tags.get("project") == "matbakh-2", (what, tags)
    assert tf.plan().returncode == 0
