"""Issue #18 item 4: tags are authoritative. A key removed from `tags` or the provider's
`default_tags` leaves every AWS object of the resource by the next apply, a key added outside
Terraform shows as drift and goes too, and the scalable target carries the tags like the rest.
As in terraform-provider-aws, an object's tags are exactly `tags_all` plus the provider's own
`matbakh:` keys (and AWS's `aws:` ones)."""

from __future__ import annotations

import json

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block
from tests.test_microservice import network

pytestmark = pytest.mark.microservice

PLATFORM = "matbakh"
SERVICE = "auth-service"
EXEC_ROLE = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
BACKENDS = ("service_connect", "app_mesh")


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def stack(emulator, net, service_mesh, default_tags, platform_tags, service_tags) -> str:
    """A platform and one autoscaled microservice with alarms and a dashboard."""
    app_mesh = service_mesh == "app_mesh"
    return (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, default_tags=default_tags,
                         service_mesh="app_mesh" if app_mesh else None)
        + 'resource "matbakh_platform" "main" {\n'
        f'  name = "{PLATFORM}"\n'
        + (f'  vpc_id = {json.dumps(net["vpc_id"])}\n' if app_mesh else "")
        + f"  tags = {json.dumps(platform_tags)}\n"
        "}\n"
        'resource "matbakh_microservice" "auth" {\n'
        "  platform           = matbakh_platform.main.id\n"
        f'  name               = "{SERVICE}"\n'
        '  image              = "registry.example/auth:1.4.2"\n'
        "  port               = 8080\n"
        f"  subnet_ids         = {json.dumps(net['subnet_ids'])}\n"
        f"  security_group_ids = {json.dumps(net['security_group_ids'])}\n"
        f'  execution_role_arn = "{EXEC_ROLE}"\n'
        + ('  backends           = ["persona-service"]\n' if app_mesh else "")
        + f"  tags = {json.dumps(service_tags)}\n"
        "  autoscaling {\n    min_count = 1\n    max_count = 3\n  }\n"
        "}\n"
    )


# Each object: (kind, service, id) -> how its tags are read and added out of band.
def read_tags(emulator, service: str, ident: str) -> dict[str, str]:
    c = emulator.client(service)
    if service == "ecs":
        return {t["key"]: t["value"] for t in c.list_tags_for_resource(resourceArn=ident)["tags"]}
    if service == "logs":
        return c.list_tags_log_group(logGroupName=ident)["tags"]
    if service in ("cloudwatch", "servicediscovery"):
        return {t["Key"]: t["Value"] for t in c.list_tags_for_resource(ResourceARN=ident)["Tags"]}
    if service == "appmesh":
        return {t["key"]: t["value"] for t in c.list_tags_for_resource(resourceArn=ident)["tags"]}
    if service == "application-autoscaling":
        return c.list_tags_for_resource(ResourceARN=ident)["Tags"]
    raise AssertionError(service)


def add_tag(emulator, service: str, ident: str, key: str, value: str) -> None:
    c = emulator.client(service)
    if service == "ecs":
        c.tag_resource(resourceArn=ident, tags=[{"key": key, "value": value}])
    elif service == "logs":
        c.tag_log_group(logGroupName=ident, tags={key: value})
    elif service in ("cloudwatch", "servicediscovery"):
        c.tag_resource(ResourceARN=ident, Tags=[{"Key": key, "Value": value}])
    elif service == "appmesh":
        c.tag_resource(resourceArn=ident, tags=[{"key": key, "value": value}])
    elif service == "application-autoscaling":
        c.tag_resource(ResourceARN=ident, Tags={key: value})
    else:
        raise AssertionError(service)


def objects(emulator, service_mesh: str) -> dict[str, tuple[str, str, str]]:
    """Every tagged object of the stack: name -> (owner resource, service, id)."""
    ecs = emulator.client("ecs")
    out: dict[str, tuple[str, str, str]] = {}
    cluster = ecs.describe_clusters(clusters=[PLATFORM])["clusters"][0]
    out["cluster"] = ("platform", "ecs", cluster["clusterArn"])
    service = ecs.describe_services(cluster=PLATFORM, services=[SERVICE])["services"][0]
    out["ecs service"] = ("microservice", "ecs", service["serviceArn"])
    out["task definition"] = ("microservice", "ecs", service["taskDefinition"])
    groups = [g["logGroupName"] for g in emulator.client("logs").describe_log_groups()["logGroups"]
              if SERVICE in g["logGroupName"]]
    assert len(groups) == 1, groups
    out["log group"] = ("microservice", "logs", groups[0])
    cw = emulator.client("cloudwatch")
    for alarm in cw.describe_alarms()["MetricAlarms"]:
        # Target tracking's own alarms are Application Auto Scaling's, not the provider's.
        if SERVICE in alarm["AlarmName"] and not alarm["AlarmName"].startswith("TargetTracking-"):
            out[f"alarm {alarm['AlarmName']}"] = ("microservice", "cloudwatch", alarm["AlarmArn"])
    dashboards = [d for d in cw.list_dashboards()["DashboardEntries"]
                  if SERVICE in d["DashboardName"]]
    assert len(dashboards) == 1, dashboards
    out["dashboard"] = ("microservice", "cloudwatch", dashboards[0]["DashboardArn"])
    targets = emulator.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"]
    assert len(targets) == 1, targets
    out["scalable target"] = ("microservice", "application-autoscaling",
                              targets[0]["ScalableTargetARN"])
    sd = emulator.client("servicediscovery")
    namespaces = [n for n in sd.list_namespaces()["Namespaces"] if n["Name"].startswith(PLATFORM)
                  or n["Name"].endswith(".local")]
    assert len(namespaces) == 1, namespaces
    out["namespace"] = ("platform", "servicediscovery", namespaces[0]["Arn"])
    if service_mesh == "app_mesh":
        for s in sd.list_services()["Services"]:
            if s["Name"] == SERVICE:
                out["cloud map service"] = ("microservice", "servicediscovery", s["Arn"])
        am = emulator.client("appmesh")
        out["mesh"] = ("platform", "appmesh", am.describe_mesh(meshName=PLATFORM)["mesh"]["metadata"]["arn"])
        for kind, lister, key in [("virtual node", "list_virtual_nodes", "virtualNodes"),
                                  ("virtual router", "list_virtual_routers", "virtualRouters"),
                                  ("virtual service", "list_virtual_services", "virtualServices")]:
            for ref in getattr(am, lister)(meshName=PLATFORM)[key]:
                name = ref.get("virtualNodeName") or ref.get("virtualRouterName") or ref.get("virtualServiceName")
                if SERVICE in name:
                    out[f"{kind} {name}"] = ("microservice", "appmesh", ref["arn"])
                    if kind == "virtual router":
                        for route in am.list_routes(meshName=PLATFORM, virtualRouterName=name)["routes"]:
                            out[f"route {route['routeName']}"] = ("microservice", "appmesh", route["arn"])
        kinds = {k.split(" ")[0] + " " + k.split(" ")[1] for k in out if k.startswith(("virtual", "route"))}
        assert {"virtual node", "virtual router", "virtual service"} <= kinds, sorted(out)
        assert any(k.startswith("route ") for k in out), sorted(out)
    return out


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    """What is neither the provider's own nor AWS's."""
    return {k: v for k, v in tags.items()
            if not k.startswith("matbakh:") and not k.lower().startswith("aws:")}


@pytest.mark.parametrize("service_mesh", BACKENDS)
def test_removed_and_out_of_band_tags_leave_every_object(emulator, tf, net, service_mesh):
    defaults = {"project": "matbakh", "retired-default": "x"}
    platform_tags = {"tier": "base", "retired-platform": "y"}
    service_tags = {"team": "identity", "retired-service": "z"}
    tf.write({"main.tf": stack(emulator, net, service_mesh, defaults, platform_tags, service_tags)})
    tf.apply()
    wanted = {"platform": tf.resource("matbakh_platform.main")["tags_all"],
              "microservice": tf.resource("matbakh_microservice.auth")["tags_all"]}
    assert wanted["microservice"] == {"project": "matbakh", "retired-default": "x",
                                      "team": "identity", "retired-service": "z"}
    found = objects(emulator, service_mesh)
    for what, (owner, service, ident) in found.items():
        tags = read_tags(emulator, service, ident)
        assert user_tags(tags) == wanted[owner], (what, tags)
        assert "matbakh:owner" in tags, (what, tags)

    # A key added outside Terraform on every object: drift, which the next apply removes.
    for what, (_, service, ident) in found.items():
        add_tag(emulator, service, ident, "added-by-hand", "1")
    assert tf.plan().returncode == 2
    tf.apply()
    for what, (owner, service, ident) in objects(emulator, service_mesh).items():
        tags = read_tags(emulator, service, ident)
        assert user_tags(tags) == wanted[owner], (what, tags)
    assert tf.plan().returncode == 0

    # Keys taken out of default_tags and of each resource's tags leave every object.
    tf.write({"main.tf": stack(emulator, net, service_mesh, {"project": "matbakh"},
                               {"tier": "base"}, {"team": "identity"})})
    tf.apply()
    wanted = {"platform": {"project": "matbakh", "tier": "base"},
              "microservice": {"project": "matbakh", "team": "identity"}}
    assert tf.resource("matbakh_microservice.auth")["tags_all"] == wanted["microservice"]
    assert tf.resource("matbakh_platform.main")["tags_all"] == wanted["platform"]
    after = objects(emulator, service_mesh)
    assert sorted(after) == sorted(found)
    for what, (owner, service, ident) in after.items():
        tags = read_tags(emulator, service, ident)
        assert user_tags(tags) == wanted[owner], (what, tags)
        assert "matbakh:owner" in tags, (what, tags)
    assert tf.plan().returncode == 0
