"""Ingress (issue 21): the platform's Application Load Balancer, its security group and its
listeners, driven by the real terraform CLI against the emulator (moto's ELBv2 and EC2 plus
extensions/elbv2.py, every request checked against botocore's models)."""

from __future__ import annotations

import json

import pytest

from harness.alb_network import alb_network
from harness.terraform import REQUIRED_PROVIDERS, provider_block

pytestmark = pytest.mark.platform

NAME = "matbakh"
ADDR = "matbakh_platform.main"
REGION = "eu-central-1"


@pytest.fixture
def network(emulator) -> dict:
    """A VPC with two subnets in two Availability Zones, and an ACM certificate."""
    return alb_network(emulator, REGION)


def config(emulator, ingress: str | None, mesh: str = "service_connect") -> dict[str, str]:
    block = f"  ingress {{\n{ingress}  }}\n" if ingress is not None else ""
    return {"main.tf": (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, service_mesh=mesh)
        + 'resource "matbakh_platform" "main" {\n'
        + f"  name = {json.dumps(NAME)}\n"
        + (f'  vpc_id = "vpc-0123456789abcdef0"\n' if mesh == "app_mesh" else "")
        + block
        + "}\n"
    )}


def ingress(network: dict, extra: str = "", cert: bool = True) -> str:
    lines = f"    subnet_ids = {json.dumps(network['subnets'])}\n"
    if cert:
        lines += f"    certificate_arn = {json.dumps(network['cert'])}\n"
    return lines + extra


def balancers(emulator) -> list[dict]:
    return emulator.client("elbv2").describe_load_balancers()["LoadBalancers"]


def listeners(emulator, arn: str) -> dict[int, dict]:
    out = emulator.client("elbv2").describe_listeners(LoadBalancerArn=arn)["Listeners"]
    return {l["Port"]: l for l in out}


def group(emulator, group_id: str) -> dict:
    return emulator.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def own_groups(emulator) -> list[dict]:
    return [g for g in emulator.client("ec2").describe_security_groups()["SecurityGroups"]
            if g["GroupName"] != "default"]


def opened(g: dict) -> set[tuple[int, str]]:
    return {(p["FromPort"], r["CidrIp"]) for p in g["IpPermissions"] for r in p.get("IpRanges", [])}


def assert_every_request_valid(emulator) -> None:
    bad = [(r["service"], r["operation"], r["invalid"]) for r in emulator.requests() if r.get("invalid")]
    assert bad == [], bad


def test_add_change_and_remove_ingress_in_place(emulator, tf, network):
    tf.write(config(emulator, None))
    tf.apply()
    cluster_arn = tf.resource(ADDR)["cluster_arn"]
    assert tf.resource(ADDR)["ingress_arn"] is None

    # Added to a running platform: in place.
    tf.write(config(emulator, ingress(network, '    test_cidrs = ["10.9.0.0/16"]\n')))
    plan = tf.plan()
    assert plan.returncode == 2 and "must be replaced" not in plan.output, plan.output
    tf.apply()
    state = tf.resource(ADDR)
    assert state["cluster_arn"] == cluster_arn
    [lb] = balancers(emulator)
    assert lb["LoadBalancerName"] == NAME and lb["Scheme"] == "internet-facing"
    assert sorted(z["SubnetId"] for z in lb["AvailabilityZones"]) == sorted(network["subnets"])
    assert state["ingress_arn"] == lb["LoadBalancerArn"]
    assert state["ingress_dns_name"] == lb["DNSName"]
    assert state["ingress_zone_id"] == lb["CanonicalHostedZoneId"]
    assert lb["SecurityGroups"] == [state["ingress_security_group_id"]]
    sg = group(emulator, state["ingress_security_group_id"])
    assert sg["VpcId"] == network["vpc"]
    assert opened(sg) == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0"), (8443, "10.9.0.0/16")}
    sg_tags = {t["Key"]: t["Value"] for t in sg["Tags"]}
    assert sg_tags["matbakh:owner"] == NAME and "matbakh:owner-token" in sg_tags
    lb_tags = {t["Key"]: t["Value"] for t in emulator.client("elbv2").describe_tags(
        ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]}
    assert lb_tags["matbakh:owner"] == NAME and lb_tags["matbakh:owner-token"] == sg_tags["matbakh:owner-token"]
    ls = listeners(emulator, lb["LoadBalancerArn"])
    assert set(ls) == {80, 443, 8443}
    assert ls[443]["Protocol"] == "HTTPS"
    assert ls[443]["Certificates"][0]["CertificateArn"] == network["cert"]
    assert ls[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert ls[443]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    redirect = ls[80]["DefaultActions"][0]["RedirectConfig"]
    assert (redirect["Protocol"], redirect["Port"], redirect["StatusCode"]) == ("HTTPS", "443", "HTTP_301")
    assert ls[8443]["Protocol"] == "HTTPS"
    comps = state["components"]
    assert {"ingress_load_balancer", "ingress_security_group", "ingress_listener",
            "ingress_redirect_listener", "ingress_test_listener"} <= set(comps)

    # Plan after apply: no changes, no mutating call.
    emulator.clear_requests()
    plan = tf.plan()
    assert plan.returncode == 0, plan.output
    mutating = [r["operation"] for r in emulator.requests()
                if r["operation"].startswith(("Create", "Modify", "Delete", "Set", "Add", "Authorize", "Revoke"))]
    assert mutating == [], mutating

    # Changed in place: who may come in, the idle timeout; the ALB stays.
    tf.write(config(emulator, ingress(network, '    allowed_cidrs = ["192.0.2.0/24"]\n'
                                               '    idle_timeout = "120s"\n')))
    tf.apply()
    assert [b["LoadBalancerArn"] for b in balancers(emulator)] == [lb["LoadBalancerArn"]]
    assert opened(group(emulator, state["ingress_security_group_id"])) == {
        (80, "192.0.2.0/24"), (443, "192.0.2.0/24")}
    attrs = emulator.client("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]
    assert {a["Key"]: a["Value"] for a in attrs}["idle_timeout.timeout_seconds"] == "120"
    assert tf.plan().returncode == 0

    # Drift: a rule added out of band is shown and removed again.
    emulator.client("ec2").authorize_security_group_ingress(
        GroupId=state["ingress_security_group_id"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    plan = tf.plan()
    assert "ingress_security_group changed outside Terraform" in plan.output, plan.output
    tf.apply()
    assert (22, "0.0.0.0/0") not in opened(group(emulator, state["ingress_security_group_id"]))

    # Removed: the ALB, its listeners and its group go; the platform stays.
    tf.write(config(emulator, None))
    plan = tf.plan()
    assert plan.returncode == 2 and "must be replaced" not in plan.output, plan.output
    tf.apply()
    assert balancers(emulator) == []
    assert own_groups(emulator) == []
    state = tf.resource(ADDR)
    assert state["cluster_arn"] == cluster_arn
    assert state["ingress_arn"] is None and state["ingress_dns_name"] is None
    assert tf.plan().returncode == 0
    assert_every_request_valid(emulator)


def test_create_with_ingress_and_destroy_to_nothing(emulator, tf, network):
    tf.write(config(emulator, ingress(network)))
    tf.apply()
    assert len(balancers(emulator)) == 1 and len(own_groups(emulator)) == 1
    assert tf.plan().returncode == 0
    tf.destroy()
    assert balancers(emulator) == []
    assert own_groups(emulator) == []
    live = emulator.client("ecs").describe_clusters(clusters=[NAME])["clusters"]
    assert [c for c in live if c["status"] == "ACTIVE"] == []
    assert_every_request_valid(emulator)


def test_internal_without_a_certificate_listens_on_http(emulator, tf, network):
    tf.write(config(emulator, ingress(network, "    internal = true\n", cert=False)))
    tf.apply()
    [lb] = balancers(emulator)
    assert lb["Scheme"] == "internal"
    ls = listeners(emulator, lb["LoadBalancerArn"])
    assert {p: l["Protocol"] for p, l in ls.items()} == {80: "HTTP", 8443: "HTTP"}
    assert tf.plan().returncode == 0
    assert_every_request_valid(emulator)


@pytest.mark.parametrize("extra, cert, attribute", [
    ("", False, "certificate_arn"),
    ('    test_port = 443\n', True, "test_port"),
    ('    allowed_cidrs = ["10.0.0.0/40"]\n', True, "allowed_cidrs"),
    ('    idle_timeout = "5000s"\n', True, "idle_timeout"),
])
def test_bad_input_is_a_plan_error_naming_the_attribute(emulator, tf, network, extra, cert, attribute):
    tf.write(config(emulator, ingress(network, extra, cert=cert)))
    emulator.clear_requests()
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.output
    assert attribute in plan.output, plan.output
    assert emulator.requests("elasticloadbalancing") == []
    assert emulator.requests("ec2") == []


def test_one_subnet_and_a_certificate_that_is_not_acm(emulator, tf, network):
    one = {"subnets": network["subnets"][:1], "cert": "arn:aws:iam::123456789012:server-certificate/x"}
    tf.write(config(emulator, ingress(one)))
    plan = tf.plan(check=False)
    assert plan.returncode == 1
    assert "subnet_ids" in plan.output and "certificate_arn" in plan.output, plan.output


def test_ingress_on_app_mesh_is_a_plan_error(emulator, tf, network):
    tf.write(config(emulator, ingress(network), mesh="app_mesh"))
    plan = tf.plan(check=False)
    assert plan.returncode == 1
    assert "ingress is not available on app_mesh" in plan.output, plan.output


def test_emulator_refuses_what_aws_refuses(emulator, network):
    elbv2, ec2 = emulator.client("elbv2"), emulator.client("ec2")
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName="x", Description="x", VpcId=other_vpc)["GroupId"]
    with pytest.raises(Exception, match="two different Availability Zones"):
        elbv2.create_load_balancer(Name="one-az", Subnets=network["subnets"][:1])
    with pytest.raises(Exception, match="InvalidSecurityGroup"):
        elbv2.create_load_balancer(Name="foreign", Subnets=network["subnets"], SecurityGroups=[foreign])
    arn = elbv2.create_load_balancer(Name="ok", Subnets=network["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    action = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    with pytest.raises(Exception, match="certificate must be specified"):
        elbv2.create_listener(LoadBalancerArn=arn, Protocol="HTTPS", Port=443, DefaultActions=action)
    missing = "arn:aws:acm:eu-central-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    with pytest.raises(Exception, match="CertificateNotFound"):
        elbv2.create_listener(LoadBalancerArn=arn, Protocol="HTTPS", Port=443, DefaultActions=action,
                              Certificates=[{"CertificateArn": missing}])
    # Shapes: a tag key longer than the model's 128 characters never reaches moto.
    emulator.clear_requests()
    raw = emulator.client("elbv2", strict_shapes=False)
    with pytest.raises(Exception, match="ValidationError"):
        raw.create_load_balancer(Name="long-tag", Subnets=network["subnets"],
                                 Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert emulator.requests("elasticloadbalancing", "CreateLoadBalancer")[0]["invalid"]


def test_a_security_group_it_did_not_make_is_never_edited(emulator, tf, network):
    ec2 = emulator.client("ec2")
    theirs = ec2.create_security_group(GroupName=f"{NAME}-ingress", Description="someone else's",
                                       VpcId=network["vpc"])["GroupId"]
    tf.write(config(emulator, ingress(network)))
    emulator.clear_requests()
    res = tf.apply(check=False)
    assert res.returncode != 0, res.output
    assert "already exists" in res.output, res.output
    assert opened(group(emulator, theirs)) == set()
    edits = [r for r in emulator.requests("ec2")
             if r["operation"] in ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                                   "CreateTags", "DeleteSecurityGroup")]
    assert edits == [], edits
    assert balancers(emulator) == []


def test_changing_internal_makes_a_new_load_balancer_of_the_same_name(emulator, tf, network):
    tf.write(config(emulator, ingress(network)))
    tf.apply()
    [before] = balancers(emulator)
    tf.write(config(emulator, ingress(network, "    internal = true\n")))
    plan = tf.plan()
    assert plan.returncode == 2 and "must be replaced" not in plan.output, plan.output
    tf.apply()
    [after] = balancers(emulator)
    assert after["LoadBalancerName"] == NAME and after["Scheme"] == "internal"
    assert after["LoadBalancerArn"] != before["LoadBalancerArn"]
    assert set(listeners(emulator, after["LoadBalancerArn"])) == {80, 443, 8443}
    state = tf.resource(ADDR)
    assert state["ingress_arn"] == after["LoadBalancerArn"]
    assert state["ingress_dns_name"] == after["DNSName"]
    assert tf.plan().returncode == 0
    assert_every_request_valid(emulator)


def test_import_of_a_platform_with_ingress_plans_clean(emulator, tf, network):
    """Import recovers the ingress block and its objects, the role ECS moves ALB traffic with
    (PLATFORM-REGION-alb-traffic) included: the plan after import shows no changes."""
    tf.write(config(emulator, ingress(network, '    test_cidrs = ["10.0.0.0/8"]\n')))
    tf.apply()
    components = tf.resource(ADDR)["components"]
    assert components["alb_traffic_role"].endswith(f":role/{NAME}-{REGION}-alb-traffic")
    tf.run("state", "rm", ADDR)
    tf.import_(ADDR, NAME)
    assert tf.resource(ADDR)["components"] == components
    plan = tf.plan()
    assert plan.returncode == 0, plan.output
