"""Ownership (issue #11): two configurations with two state files that declare the same
platform name, or the same microservice name on one platform (staging and production in one
account, say). The second apply must fail with "already exists" and the import command, and
must touch nothing of the first: the first's objects unchanged in AWS and in the first's own
plan, and destroying the second leaves the first intact and nothing of its own.
"""

from __future__ import annotations

import json

import pytest

from harness import chaos
from harness.terraform import REQUIRED_PROVIDERS, provider_block

pytestmark = pytest.mark.chaos

PLATFORM = "matbakh"
SERVICE = "auth-service"
IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"


MESHES = ["service_connect", "app_mesh"]


def platform_block(net: dict, mesh: str) -> str:
    vpc = f'\n  vpc_id = "{net["vpc_id"]}"' if mesh == "app_mesh" else ""
    return f"""
resource "matbakh_platform" "main" {{
  name   = "{PLATFORM}"{vpc}
}}
"""


def microservice_block(net: dict, platform: str, image: str = IMAGE, desired: int = 1) -> str:
    return f"""
resource "matbakh_microservice" "auth" {{
  platform           = {platform}
  name               = "{SERVICE}"
  image              = "{image}"
  port               = 8080
  desired_count      = {desired}
  subnet_ids         = {json.dumps(net["subnet_ids"])}
  security_group_ids = {json.dumps(net["security_group_ids"])}
  execution_role_arn = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
}}
"""


def owned(emulator, tf) -> dict:
    """The objects `tf`'s state records, as AWS holds them: (kind, name) of each, and the ECS
    service's status, task definition, desired count and tags."""
    recorded = chaos.recorded_ids(chaos.state_text(tf.workdir))
    objects = sorted((kind, name) for kind, name, ids in chaos.objects(emulator) if ids & recorded)
    svc = emulator.client("ecs").describe_services(
        cluster=PLATFORM, services=[SERVICE], include=["TAGS"])["services"]
    return {"objects": objects,
            "service": [(s["status"], s["taskDefinition"], s["desiredCount"],
                         sorted((t["key"], t["value"]) for t in s.get("tags", [])))
                        for s in svc]}


def collapsed(text: str) -> str:
    return " ".join(text.split())


def second_apply_is_refused(emulator, first, second, address: str, import_id: str) -> None:
    """The second apply fails with "already exists" and the import command for `import_id`,
    naming the resource at `address`; the first's objects are unchanged (in AWS, and as the
    first's own plan sees them); destroying the second leaves exactly what existed before it.

    Terraform does not tell a provider a resource's address, so the provider's command reads
    `terraform import <resource address> ID`, and Terraform names the address in the same
    diagnostic ("with ADDRESS,")."""
    before = owned(emulator, first)
    assert len(before["objects"]) >= 10, before
    everything_before = chaos.inventory(emulator)

    res = second.apply(check=False)
    out = collapsed(res.output)
    assert res.returncode != 0, f"the second configuration took over the first's objects:\n{res.output}"
    assert "already exists" in out, res.output
    import_cmd = f"terraform import <resource address> {import_id}"
    assert import_cmd in out, f"no `{import_cmd}` in:\n{res.output}"
    assert f"with {address}," in out, f"the error does not name {address}:\n{res.output}"
    assert owned(emulator, first) == before, "the refused apply changed the first's objects"
    assert first.plan().returncode == 0, "the first configuration sees drift after the second's apply"

    second.destroy()
    assert owned(emulator, first) == before, "destroying the second changed the first's objects"
    assert chaos.inventory(emulator) == everything_before, "the second left objects behind"
    assert first.plan().returncode == 0


@pytest.mark.parametrize("mesh", MESHES)
def test_same_platform_name_in_two_states(emulator, tf_factory, mesh):
    net = chaos.network(emulator)
    head = REQUIRED_PROVIDERS + provider_block(emulator.endpoint, service_mesh=mesh)
    first = tf_factory("first")
    first.write({"main.tf": head + platform_block(net, mesh)
                 + microservice_block(net, "matbakh_platform.main.id")})
    first.apply()
    second = tf_factory("second")
    second.write({"main.tf": head + platform_block(net, mesh)})
    second_apply_is_refused(emulator, first, second, "matbakh_platform.main", PLATFORM)


@pytest.mark.parametrize("mesh", MESHES)
def test_same_microservice_name_in_two_states(emulator, tf_factory, mesh):
    net = chaos.network(emulator)
    head = REQUIRED_PROVIDERS + provider_block(emulator.endpoint, service_mesh=mesh)
    first = tf_factory("first")
    first.write({"main.tf": head + platform_block(net, mesh)
                 + microservice_block(net, "matbakh_platform.main.id")})
    first.apply()
    second = tf_factory("second")
    # Another team's state on the same platform, by name; a different image and count, so an
    # adoption would show as an update of the first's service.
    second.write({"main.tf": head + microservice_block(
        net, json.dumps(PLATFORM), image=IMAGE.replace("1.4.2", "9.9.9"), desired=3)})
    second_apply_is_refused(emulator, first, second, "matbakh_microservice.auth",
                            f"{PLATFORM}/{SERVICE}")


def test_a_dashboard_is_written_with_its_tags_and_an_untagged_one_refused(emulator, tf):
    """PutDashboard carries the tags (CloudWatch applies them when it creates the dashboard): no
    window where the dashboard is untagged, so an untagged dashboard of the name is never ours,
    whatever its body; it is refused like every object without our ownership token."""
    net = chaos.network(emulator)
    head = REQUIRED_PROVIDERS + provider_block(emulator.endpoint, service_mesh="service_connect")
    tf.write({"main.tf": head + platform_block(net, "service_connect")
              + microservice_block(net, "matbakh_platform.main.id")})
    tf.apply()
    cloudwatch = emulator.client("cloudwatch")
    [name] = [d["DashboardName"] for d in cloudwatch.list_dashboards()["DashboardEntries"]]
    [put] = [r for r in emulator.requests(operation="PutDashboard")]
    body = put["body"] if isinstance(put["body"], dict) else json.loads(put["body"])
    tags = {t["Key"]: t["Value"] for t in body.get("Tags") or []}
    assert tags.get("matbakh:owner") == f"{PLATFORM}/{SERVICE}", body
    assert "matbakh:owner-token" in tags, body
    assert not emulator.requests(operation="TagResource"), "tagged in a second call"
    written = cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
    tf.destroy()

    # Untagged, even with exactly our body: refused, and left as it was.
    for dashboard_body in ('{"widgets": []}', written):
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody=dashboard_body)
        refused = tf.apply(check=False)
        out = collapsed(refused.output)
        assert refused.returncode != 0
        assert f"CloudWatch dashboard {name} already exists" in out, refused.output
        assert cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"] == dashboard_body
        arn = cloudwatch.get_dashboard(DashboardName=name)["DashboardArn"]
        assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == []
        assert "matbakh_microservice.auth" not in tf.state_list()
        cloudwatch.delete_dashboards(DashboardNames=[name])
    tf.destroy()
