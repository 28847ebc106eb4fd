"""Issue #18: a platform deleted or recreated behind the provider's back is not served stale from
the provider's platform cache (FoundPlatforms), within one provider process.

Terraform starts one provider process per walk, so the recreation has to happen inside one
apply walk: the platform's own apply tells the process where the platform is (its namespace),
then a `terraform_data` provisioner (what another state's `-replace` of the platform, or a
person, does) deletes the platform's cluster and namespace and makes them again (a new
namespace id), then a microservice that depends on it is planned and created by the same
process. Built on the namespace remembered, its create fails half way (Cloud Map refuses a
service in a namespace that no longer exists); the provider confirms the platform it found
before using it, finds it recreated and builds on the new namespace."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.terraform import REQUIRED_PROVIDERS, TerraformError, provider_block

pytestmark = pytest.mark.platform

PLATFORM = "matbakh"
SERVICE = "auth-service"

# What the provisioner runs: "recreate" deletes the platform's cluster and namespace and makes
# them again with the same names and tags (a new namespace id, the cluster naming it as its
# Service Connect default, as the platform's create does); "delete" only deletes them.
RECREATE = '''
import sys, boto3
endpoint, what = sys.argv[1], sys.argv[2]
kw = dict(region_name="eu-central-1", endpoint_url=endpoint,
          aws_access_key_id="testing", aws_secret_access_key="testing")
ecs, sd = boto3.client("ecs", **kw), boto3.client("servicediscovery", **kw)
cluster = ecs.describe_clusters(clusters=["matbakh"], include=["TAGS"])["clusters"][0]
old = cluster["serviceConnectDefaults"]["namespace"]
ns = [n for n in sd.list_namespaces()["Namespaces"] if n["Arn"] == old][0]
ns_tags = sd.list_tags_for_resource(ResourceARN=old)["Tags"]
ecs.delete_cluster(cluster="matbakh")
sd.delete_namespace(Id=ns["Id"])
if what == "recreate":
    sd.create_http_namespace(Name=ns["Name"], Tags=ns_tags)
    new = [n for n in sd.list_namespaces()["Namespaces"] if n["Name"] == ns["Name"]][0]
    ecs.create_cluster(clusterName="matbakh", tags=cluster.get("tags", []),
                       serviceConnectDefaults={"namespace": new["Arn"]})
'''


def network(emulator) -> dict:
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                               AvailabilityZone="eu-central-1a")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
    return {"subnet": subnet, "sg": sg}


def config(emulator, net: dict, script: Path, *, insights: bool, what: str | None) -> dict:
    """The platform; with `what`, a provisioner that does `what` to it behind the provider's
    back after the platform's apply, and a microservice created after that."""
    text = (
        REQUIRED_PROVIDERS
        + provider_block(endpoint=emulator.endpoint, service_mesh="service_connect")
        + 'resource "matbakh_platform" "main" {\n'
        + f'  name               = "{PLATFORM}"\n'
        + f"  container_insights = {json.dumps(insights)}\n"
        + "}\n"
    )
    if what:
        command = f"{sys.executable} {script} {emulator.endpoint} {what}"
        text += (
            'resource "terraform_data" "behind_the_back" {\n'
            "  depends_on = [matbakh_platform.main]\n"
            '  provisioner "local-exec" {\n'
            f"    command = {json.dumps(command)}\n"
            "  }\n"
            "}\n"
            'resource "matbakh_microservice" "svc" {\n'
            "  depends_on         = [terraform_data.behind_the_back]\n"
            "  platform           = matbakh_platform.main.id\n"
            f'  name               = "{SERVICE}"\n'
            '  image              = "nginx:1.27"\n'
            "  port               = 8080\n"
            "  cpu                = 256\n"
            "  memory             = 512\n"
            f"  subnet_ids         = [{json.dumps(net['subnet'])}]\n"
            f"  security_group_ids = [{json.dumps(net['sg'])}]\n"
            "  tracing {\n    enabled = false\n  }\n"
            "}\n"
        )
    return {"main.tf": text}


def namespace_ids(emulator) -> dict[str, str]:
    return {n["Name"]: n["Id"] for n in emulator.client("servicediscovery").list_namespaces()["Namespaces"]}


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "behind_the_back.py"
    path.write_text(RECREATE)
    return path


def test_a_platform_recreated_in_the_same_process_is_found_again(emulator, tf, script):
    net = network(emulator)
    tf.write(config(emulator, net, script, insights=True, what=None))
    tf.apply()
    (ns_name, first_id), = namespace_ids(emulator).items()
    # One apply walk: the platform's update tells the process its namespace; the platform is
    # then recreated; the microservice is planned and created after that.
    tf.write(config(emulator, net, script, insights=False, what="recreate"))
    tf.apply()
    now = namespace_ids(emulator)
    assert now[ns_name] != first_id, now
    services = emulator.client("servicediscovery").list_services()["Services"]
    mine = [s for s in services if s["Name"].startswith(SERVICE)]
    assert mine, services
    # Every Cloud Map service of the microservice is in the namespace that exists now.
    ns_of = {emulator.client("servicediscovery").get_service(Id=s["Id"])["Service"]["NamespaceId"]
             for s in mine}
    assert ns_of == {now[ns_name]}, (ns_of, now)
    ecs = emulator.client("ecs")
    svc = ecs.describe_services(cluster=PLATFORM, services=[SERVICE])["services"]
    assert [s["status"] for s in svc] == ["ACTIVE"], svc


def test_a_platform_deleted_in_the_same_process_is_a_clear_error(emulator, tf, script):
    net = network(emulator)
    tf.write(config(emulator, net, script, insights=True, what=None))
    tf.apply()
    tf.write(config(emulator, net, script, insights=False, what="delete"))
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    out = failed.value.result.output
    assert "the platform found earlier is gone" in out, out
    assert "create the matbakh_platform first" in out, out
    # Nothing of the microservice was made in a namespace that no longer exists.
    services = emulator.client("servicediscovery").list_services()["Services"]
    assert [s for s in services if s["Name"].startswith(SERVICE)] == [], services
