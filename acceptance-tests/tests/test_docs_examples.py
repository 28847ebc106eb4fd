"""The "All arguments" examples of docs/resources/microservice.md work as written (issue #8).

The examples are read from the markdown file itself, so the docs and this test cannot drift apart:
each is wrapped with a provider block for its backend, a platform and the variables it uses, and
must validate, apply, plan no changes, keep `sampling_rate = 0.1` exactly, and destroy to
nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block

pytestmark = pytest.mark.microservice

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "resources" / "microservice.md"
PLATFORM = "matbakh"
ADDR = "matbakh_microservice.auth"
SC, AM = "service_connect", "app_mesh"
HEADINGS = {SC: "All arguments (service_connect, the default)", AM: "All arguments (app_mesh)"}


def doc_example(heading: str) -> str:
    """The ```terraform block under the markdown heading `### {heading}` (before the next
    heading)."""
    text = DOC.read_text()
    m = re.search(r"^### " + re.escape(heading) + r"\n(.*?)(?=^#{1,3} )", text, re.M | re.S)
    assert m, f"no section '### {heading}' in {DOC}"
    blocks = re.findall(r"^```terraform\n(.*?)^```$", m.group(1), re.M | re.S)
    assert len(blocks) == 1, f"section '{heading}' should hold one terraform block, has {len(blocks)}"
    return blocks[0]


def test_examples_are_read_from_the_docs():
    """The extraction finds both examples, each a microservice on its own backend (this guards
    the test itself: a renamed heading fails here, not silently elsewhere)."""
    sc, am = doc_example(HEADINGS[SC]), doc_example(HEADINGS[AM])
    for block in (sc, am):
        assert block.startswith('resource "matbakh_microservice" "auth" {'), block
        assert re.search(r"^\s*sampling_rate\s*=\s*0\.1\s*$", block, re.M), block
    tls_role, health_command = r"^\s*role_arn\s*=", r"^\s*command\s*="
    assert re.search(tls_role, sc, re.M), "service_connect's example shows tls.role_arn (optional there)"
    assert re.search(r'^\s*strategy\s*=\s*"canary"', sc, re.M), sc
    for only_app_mesh in ("backends", "retry", "circuit_breaker", "envoy", "healthy_threshold"):
        argument = r"^\s*" + only_app_mesh + r"\s*[={]"
        assert not re.search(argument, sc, re.M), only_app_mesh
        assert re.search(argument, am, re.M), only_app_mesh
    assert not re.search(tls_role, am, re.M), "tls.role_arn is an error on app_mesh"
    assert not re.search(health_command, am, re.M), "health_check.command: ditto"


def network(emulator) -> dict:
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"eu-central-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="matbakh-services", Description="services",
                                   VpcId=vpc)["GroupId"]
    return {"vpc_id": vpc, "subnet_ids": subnets, "sg_id": sg}


def variable_values(emulator, net) -> dict:
    """Values for every variable the examples use, made in the emulator where it has the
    service (a real Private CA and SNS topic)."""
    ca = emulator.client("acm-pca").create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "RSA_2048", "SigningAlgorithm": "SHA256WITHRSA",
            "Subject": {"CommonName": "svc.local"}},
        CertificateAuthorityType="ROOT")["CertificateAuthorityArn"]
    topic = emulator.client("sns").create_topic(Name="matbakh-alerts")["TopicArn"]
    return {
        "private_subnet_ids": net["subnet_ids"],
        "service_sg_id": net["sg_id"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution",
        "task_role_arn": "arn:aws:iam::123456789012:role/auth-service",
        "service_connect_tls_role_arn": "arn:aws:iam::123456789012:role/service-connect-tls",
        "private_ca_arn": ca,
        "alerts_topic_arn": topic,
    }


def wrapped(emulator, net, backend: str, example: str) -> dict[str, str]:
    """main.tf: provider, platform, the variables the example uses and the example itself;
    terraform.tfvars.json with their values."""
    values = variable_values(emulator, net)
    used = sorted(set(re.findall(r"\bvar\.(\w+)", example)))
    missing = [v for v in used if v not in values]
    assert not missing, f"the docs example uses variables this test has no value for: {missing}"
    variables = "".join(f'variable "{v}" {{}}\n' for v in used)
    vpc = f'  vpc_id = "{net["vpc_id"]}"\n' if backend == AM else ""
    main = (REQUIRED_PROVIDERS
            + provider_block(emulator.endpoint, environment="staging", service_mesh=backend)
            + f'\nresource "matbakh_platform" "main" {{\n  name = "{PLATFORM}"\n{vpc}}}\n\n'
            + variables + "\n" + example)
    return {"main.tf": main,
            "terraform.tfvars.json": json.dumps({v: values[v] for v in used}, indent=2)}


def assert_nothing_left(emulator) -> None:
    ecs = emulator.client("ecs")
    clusters = ecs.describe_clusters(clusters=[PLATFORM])["clusters"]
    assert [c for c in clusters if c["status"] == "ACTIVE"] == [], "ECS cluster left"
    assert ecs.list_task_definitions(familyPrefix=f"{PLATFORM}-auth-service",
                                     status="ACTIVE")["taskDefinitionArns"] == [], "task definitions left"
    sd = emulator.client("servicediscovery")
    assert sd.list_services()["Services"] == [], "Cloud Map services left"
    assert sd.list_namespaces()["Namespaces"] == [], "namespace left"
    assert emulator.client("appmesh").list_meshes()["meshes"] == [], "mesh left"
    cw = emulator.client("cloudwatch")
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]
            if a["AlarmName"].startswith(f"{PLATFORM}-")] == [], "alarms left"
    assert cw.list_dashboards()["DashboardEntries"] == [], "dashboards left"
    assert emulator.client("logs").describe_log_groups(
        logGroupNamePrefix="/matbakh/")["logGroups"] == [], "log groups left"
    assert emulator.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"] == [], "scaling targets left"


@pytest.mark.parametrize("backend", [SC, AM])
def test_all_arguments_example_validates_applies_and_plans_clean(emulator, tf, backend):
    net = network(emulator)
    tf.write(wrapped(emulator, net, backend, doc_example(HEADINGS[backend])))
    tf.validate()
    tf.apply()

    plan = tf.plan()
    assert plan.returncode == 0, plan.output

    # exactly 0.1 in the state, not the float64 0.1000000000000000055...
    raw = (tf.workdir / "terraform.tfstate").read_text()
    rates = re.findall(r'"sampling_rate":\s*([0-9.eE+-]+)', raw)
    assert rates == ["0.1"], rates

    service = [s for s in emulator.client("ecs").describe_services(
        cluster=PLATFORM, services=["auth-service"])["services"] if s["status"] == "ACTIVE"]
    assert len(service) == 1, service
    strategy = service[0].get("deploymentConfiguration", {}).get("strategy", "ROLLING")
    assert strategy == ("CANARY" if backend == SC else "ROLLING"), service[0]
    if backend == AM:
        nodes = emulator.client("appmesh").list_virtual_nodes(meshName=PLATFORM)["virtualNodes"]
        assert [n["virtualNodeName"] for n in nodes] == ["auth-service"], nodes

    tf.destroy()
    assert tf.state_list() == []
    assert_nothing_left(emulator)
