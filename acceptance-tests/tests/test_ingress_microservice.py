"""Ingress, the microservice side (issue 21): a service behind the platform's load balancer (two
target groups, the production and the test rule, its own security group, the ECS service's load
balancer with advancedConfiguration and the platform's traffic role), driven by the real terraform
CLI against the emulator; every request checked against botocore's models."""

from __future__ import annotations

import json
import re

import pytest

from harness.alb_network import alb_network
from harness.terraform import REQUIRED_PROVIDERS, provider_block

pytestmark = pytest.mark.platform

PLATFORM = "matbakh"
REGION = "eu-central-1"
SVC = "matbakh_microservice.auth"


@pytest.fixture
def network(emulator) -> dict:
    return alb_network(emulator, REGION)


def service(name: str, ingress: str | None, extra: str = "") -> str:
    block = f"  ingress {{\n{ingress}  }}\n" if ingress is not None else ""
    return (
        f'resource "matbakh_microservice" "{name.split("-")[0]}" {{\n'
        f"  platform   = matbakh_platform.main.id\n"
        f"  name       = {json.dumps(name)}\n"
        f'  image      = "public.ecr.aws/nginx/nginx:1.27"\n'
        f"  port       = 8080\n"
        f"  desired_count = 1\n"
        f"  subnet_ids = var.subnets\n"
        + block + extra + "}\n"
    )


def config(emulator, network: dict, services: str, platform_ingress: bool = True) -> dict[str, str]:
    ingress = (
        "  ingress {\n"
        "    subnet_ids      = var.subnets\n"
        f"    certificate_arn = {json.dumps(network['cert'])}\n"
        "  }\n"
    ) if platform_ingress else ""
    return {"main.tf": (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint)
        + f'variable "subnets" {{\n  default = {json.dumps(network["subnets"])}\n}}\n'
        + 'resource "matbakh_platform" "main" {\n'
        + f"  name = {json.dumps(PLATFORM)}\n"
        + ingress
        + "}\n"
        + services
    )}


def elbv2(emulator):
    return emulator.client("elbv2")


def target_groups(emulator) -> dict[str, dict]:
    return {t["TargetGroupName"]: t for t in elbv2(emulator).describe_target_groups()["TargetGroups"]}


def rules(emulator, listener_arn: str) -> list[dict]:
    return [r for r in elbv2(emulator).describe_rules(ListenerArn=listener_arn)["Rules"]
            if not r["IsDefault"]]


def listener(emulator, port: int) -> dict:
    [lb] = elbv2(emulator).describe_load_balancers()["LoadBalancers"]
    ls = elbv2(emulator).describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    return next(l for l in ls if l["Port"] == port)


def ecs_service(emulator, name: str = "auth-service") -> dict:
    [s] = emulator.client("ecs").describe_services(cluster=PLATFORM, services=[name])["services"]
    return s


def assert_every_request_valid(emulator) -> None:
    bad = [(r["service"], r["operation"], r["invalid"]) for r in emulator.requests() if r.get("invalid")]
    assert bad == [], bad


PATHS = '    paths = ["/auth", "/auth/*"]\n    priority = 10\n'


def test_lifecycle_create_plan_clean_remove_and_add_on_a_running_service_destroy(emulator, tf, network):
    tf.write(config(emulator, network, service("auth-service", PATHS)))
    tf.apply()
    state = tf.resource(SVC)
    [lb] = elbv2(emulator).describe_load_balancers()["LoadBalancers"]
    assert state["url"] == f"https://{lb['DNSName']}/auth"
    groups = target_groups(emulator)
    assert set(groups) == {"matbakh-auth-service-b", "matbakh-auth-service-g"}
    for g in groups.values():
        assert (g["Protocol"], g["Port"], g["TargetType"]) == ("HTTP", 8080, "ip")
        assert g["HealthCheckPath"] == "/health"
    assert state["target_group_arns"] == [groups["matbakh-auth-service-b"]["TargetGroupArn"],
                                         groups["matbakh-auth-service-g"]["TargetGroupArn"]]
    [rule] = rules(emulator, listener(emulator, 443)["ListenerArn"])
    assert rule["Priority"] == "10"
    forward = {t["TargetGroupArn"]: t["Weight"] for t in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}
    assert forward == {groups["matbakh-auth-service-b"]["TargetGroupArn"]: 100,
                       groups["matbakh-auth-service-g"]["TargetGroupArn"]: 0}
    [test_rule] = rules(emulator, listener(emulator, 8443)["ListenerArn"])
    svc = ecs_service(emulator)
    [attached] = svc["loadBalancers"]
    assert attached["targetGroupArn"] == groups["matbakh-auth-service-b"]["TargetGroupArn"]
    assert (attached["containerName"], attached["containerPort"]) == ("app", 8080)
    advanced = attached["advancedConfiguration"]
    assert advanced["alternateTargetGroupArn"] == groups["matbakh-auth-service-g"]["TargetGroupArn"]
    assert advanced["productionListenerRule"] == rule["RuleArn"]
    assert advanced["testListenerRule"] == test_rule["RuleArn"]
    assert advanced["roleArn"].endswith(":role/matbakh-eu-central-1-alb-traffic")
    assert svc["healthCheckGracePeriodSeconds"] == 60
    # Its own group admits the load balancer's group on the port, nothing else.
    own = state["components"]["ingress_security_group"]
    assert own in svc["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    [g] = emulator.client("ec2").describe_security_groups(GroupIds=[own])["SecurityGroups"]
    alb_group = tf.resource("matbakh_platform.main")["ingress_security_group_id"]
    assert [(p["FromPort"], [u["GroupId"] for u in p["UserIdGroupPairs"]], p.get("IpRanges"))
            for p in g["IpPermissions"]] == [(8080, [alb_group], [])]
    service_arn = svc["serviceArn"]

    emulator.clear_requests()
    plan = tf.plan()
    assert plan.returncode == 0, plan.output

    # Removed from the running service: updated in place, its objects go.
    tf.write(config(emulator, network, service("auth-service", None)))
    plan = tf.plan()
    assert plan.returncode == 2 and "must be replaced" not in plan.output, plan.output
    tf.apply()
    svc = ecs_service(emulator)
    assert svc["serviceArn"] == service_arn and svc["loadBalancers"] == []
    assert target_groups(emulator) == {}, (sorted(tf.resource(SVC)["components"]), [
        (r["operation"], r.get("status")) for r in emulator.requests("elasticloadbalancing")
        if not r["operation"].startswith("Describe")])
    assert rules(emulator, listener(emulator, 443)["ListenerArn"]) == []
    assert tf.resource(SVC)["url"] is None and tf.resource(SVC)["target_group_arns"] is None
    assert tf.plan().returncode == 0

    # Added again to the running service: in place.
    tf.write(config(emulator, network, service("auth-service", PATHS)))
    plan = tf.plan()
    assert plan.returncode == 2 and "must be replaced" not in plan.output, plan.output
    tf.apply()
    svc = ecs_service(emulator)
    assert svc["serviceArn"] == service_arn and len(svc["loadBalancers"]) == 1
    assert tf.plan().returncode == 0

    tf.destroy()
    assert target_groups(emulator) == {}
    assert elbv2(emulator).describe_load_balancers()["LoadBalancers"] == []
    assert [g for g in emulator.client("ec2").describe_security_groups()["SecurityGroups"]
            if g["GroupName"] != "default"] == []
    assert_every_request_valid(emulator)


def test_two_services_with_one_priority_is_a_plan_error_naming_both(emulator, tf, network):
    tf.write(config(emulator, network, service("auth-service", PATHS)))
    tf.apply()
    tf.write(config(emulator, network, service("auth-service", PATHS)
                    + service("persona-service", '    paths = ["/persona/*"]\n    priority = 10\n')))
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.output
    assert "auth-service" in plan.output and "persona-service" in plan.output, plan.output
    assert "priority" in plan.output, plan.output
    tf.write(config(emulator, network, service("auth-service", PATHS)
                    + service("persona-service", '    paths = ["/auth/*", "/auth"]\n')))
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.output
    assert "same paths and hosts" in plan.output, plan.output


def test_two_new_services_colliding_in_one_apply_are_a_plan_error_naming_both(emulator, tf, network):
    """Neither is on the load balancer yet: the provider judges the rules planned in this plan."""
    tf.write(config(emulator, network, ""))
    tf.apply()
    for persona, what in [('    paths = ["/persona/*"]\n    priority = 10\n', "priority"),
                          ('    paths = ["/auth/*", "/auth"]\n', "same paths and hosts")]:
        tf.write(config(emulator, network, service("auth-service", PATHS)
                        + service("persona-service", persona)))
        emulator.clear_requests()
        plan = tf.plan(check=False)
        assert plan.returncode == 1, plan.output
        assert "auth-service and persona-service" in plan.output \
            or "persona-service and auth-service" in plan.output, plan.output
        assert what in plan.output, plan.output
        res = tf.apply(check=False)
        assert res.returncode == 1 and what in res.output, res.output
        assert target_groups(emulator) == {}
    # Apart, both go on.
    tf.write(config(emulator, network, service("auth-service", PATHS)
                    + service("persona-service", '    paths = ["/persona/*"]\n')))
    tf.apply()
    assert len(rules(emulator, listener(emulator, 443)["ListenerArn"])) == 2
    assert tf.plan().returncode == 0


def test_ingress_without_the_platforms_is_an_error_naming_it(emulator, tf, network):
    tf.write(config(emulator, network, service("auth-service", PATHS), platform_ingress=False))
    res = tf.apply(check=False)
    assert res.returncode != 0
    assert "has no load balancer" in res.output, res.output


@pytest.mark.parametrize("block, attribute", [
    ('    paths = ["auth"]\n', "ingress.0.paths"),
    ('    paths = ["/a"]\n    priority = 50001\n', "ingress.0.priority"),
    ('    paths = ["/a"]\n    hosts = ["localhost"]\n', "ingress.0.hosts"),
    ('    paths = ["/a", "/b", "/c", "/d", "/e", "/f"]\n', "ingress.0.paths"),
    ('    paths = ["/a"]\n    deregistration_delay = "4000s"\n', "ingress.0.deregistration_delay"),
])
def test_bad_input_is_a_plan_error_naming_the_attribute(emulator, tf, network, block, attribute):
    tf.write(config(emulator, network, service("auth-service", block)))
    emulator.clear_requests()
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.output
    assert attribute.split(".")[-1] in plan.output, plan.output
    assert emulator.requests("elasticloadbalancing") == []


def test_the_example_puts_two_services_behind_one_load_balancer(emulator, tf, network):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "ingress"
    tf.copy_dir(example, {"endpoint": emulator.endpoint, "public_subnet_ids": network["subnets"],
                          "private_subnet_ids": network["subnets"],
                          "certificate_arn": network["cert"]})
    tf.apply()
    urls = tf.output("urls")
    [lb] = elbv2(emulator).describe_load_balancers()["LoadBalancers"]
    assert urls == {"auth": f"https://{lb['DNSName']}/auth",
                    "persona": f"https://{lb['DNSName']}/persona"}
    assert len(rules(emulator, listener(emulator, 443)["ListenerArn"])) == 2
    # auth-service scales on requests per target too.
    assert "scaling_policy_requests" in tf.resource(SVC)["components"]
    assert tf.plan().returncode == 0
    tf.destroy()
    assert target_groups(emulator) == {}
    assert_every_request_valid(emulator)


def test_targets_follow_the_tasks(emulator, tf, network):
    tf.write(config(emulator, network, service("auth-service", PATHS)))
    tf.apply()
    blue, green = tf.resource(SVC)["target_group_arns"]
    health = lambda arn: elbv2(emulator).describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    assert [(t["Target"]["Port"]) for t in health(blue)] == [8080]
    assert health(green) == []
    tf.write(config(emulator, network, service("auth-service", PATHS).replace(
        "desired_count = 1", "desired_count = 3")))
    tf.apply()
    assert len(health(blue)) == 3
    tf.write(config(emulator, network, service("auth-service", None).replace(
        "desired_count = 1", "desired_count = 3")))
    tf.apply()
    assert target_groups(emulator) == {}


def test_emulator_refuses_a_load_balancer_ecs_refuses(emulator, tf, network):
    """ECS's validation of loadBalancers, each case against the objects a real apply made."""
    tf.write(config(emulator, network, service("auth-service", PATHS)))
    tf.apply()
    svc = ecs_service(emulator)
    [good] = svc["loadBalancers"]
    ecs = emulator.client("ecs")

    def refused(lb: dict, match: str) -> None:
        with pytest.raises(Exception, match=match):
            ecs.update_service(cluster=PLATFORM, service="auth-service", loadBalancers=[lb])

    advanced = good["advancedConfiguration"]
    refused({**good, "advancedConfiguration": {**advanced, "roleArn":
             "arn:aws:iam::123456789012:role/nobody"}}, "Unable to assume role")
    no_role = {k: v for k, v in advanced.items() if k != "roleArn"}
    with pytest.raises(Exception):  # the model itself requires roleArn
        ecs.update_service(cluster=PLATFORM, service="auth-service",
                           loadBalancers=[{**good, "advancedConfiguration": no_role}])
    refused({**good, "containerPort": 9999}, "did not have a container port 9999")
    lonely = elbv2(emulator).create_target_group(
        Name="lonely", Protocol="HTTP", Port=8080, VpcId=network["vpc"], TargetType="ip")[
        "TargetGroups"][0]["TargetGroupArn"]
    refused({**good, "targetGroupArn": lonely}, "does not have an associated load balancer")
    instance = elbv2(emulator).create_target_group(
        Name="instance", Protocol="HTTP", Port=8080, VpcId=network["vpc"])[
        "TargetGroups"][0]["TargetGroupArn"]
    refused({**good, "targetGroupArn": instance}, "incompatible with the awsvpc network mode")
    assert ecs_service(emulator)["loadBalancers"] == [good]


def test_removing_the_platforms_ingress_in_use_is_a_plan_error_naming_the_services(emulator, tf, network):
    tf.write(config(emulator, network, service("auth-service", PATHS)))
    tf.apply()
    tf.write(config(emulator, network, service("auth-service", PATHS), platform_ingress=False))
    emulator.clear_requests()
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.output
    assert "microservices still use the load balancer" in plan.output, plan.output
    assert "auth-service" in plan.output, plan.output
    # Once the service left the load balancer, the platform's ingress goes.
    tf.write(config(emulator, network, service("auth-service", None)))
    tf.apply()
    tf.write(config(emulator, network, service("auth-service", None), platform_ingress=False))
    tf.apply()
    assert elbv2(emulator).describe_load_balancers()["LoadBalancers"] == []
    assert tf.plan().returncode == 0


@pytest.mark.parametrize("block", [
    '    paths = ["/auth", "/auth/*"]\n',
    '    paths = ["/v1/*"]\n    hosts = ["api.example.com"]\n    priority = 7\n'
    '    health_check_path = "/ready"\n    deregistration_delay = "5s"\n',
])
def test_import_of_a_service_with_ingress_plans_clean(emulator, tf, network, block):
    tf.write(config(emulator, network, service("auth-service", block)))
    tf.apply()
    tf.run("state", "rm", SVC)
    tf.import_(SVC, f"{PLATFORM}/auth-service")
    plan = tf.plan()
    assert plan.returncode == 0, plan.output


def test_security_task_ports_open_to_the_load_balancer_only_and_groups_it_did_not_make_untouched(
        emulator, tf, network):
    """Issue 21, item 7. A task's port is reachable from the load balancer's group (the group the
    provider makes for the service admits that and nothing else) and from what the user's own
    groups admit (the namespace's services); the load balancer's group admits 80 and 443 from
    `allowed_cidrs` and `test_port` from `test_cidrs` only; and no EC2 write of a whole lifecycle
    names a group the provider did not make."""
    ec2 = emulator.client("ec2")
    team = ec2.create_security_group(GroupName="team-services", Description="the team's services",
                                     VpcId=network["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=team, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "UserIdGroupPairs": [{"GroupId": team}]}])
    describe = lambda gid: ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    team_before = describe(team)
    files = config(emulator, network,
                   service("auth-service", PATHS, f'  security_group_ids = ["{team}"]\n')
                   + service("persona-service", '    paths = ["/persona/*"]\n',
                             f'  security_group_ids = ["{team}"]\n'))
    files["main.tf"] = files["main.tf"].replace(
        "    certificate_arn",
        '    allowed_cidrs = ["203.0.113.0/24"]\n    test_cidrs = ["10.0.0.0/8"]\n    certificate_arn')
    emulator.clear_requests()
    tf.write(files)
    tf.apply()

    alb_group = tf.resource("matbakh_platform.main")["ingress_security_group_id"]
    ours = {alb_group}
    # The load balancer's group: 80 and 443 from allowed_cidrs, 8443 from test_cidrs, no group.
    g = describe(alb_group)
    assert sorted((p["FromPort"], p["ToPort"], r["CidrIp"]) for p in g["IpPermissions"]
                  for r in p.get("IpRanges", [])) == [
        (80, 80, "203.0.113.0/24"), (443, 443, "203.0.113.0/24"), (8443, 8443, "10.0.0.0/8")]
    assert all(p["UserIdGroupPairs"] == [] for p in g["IpPermissions"]), g
    for addr, name in [("matbakh_microservice.auth", "auth-service"),
                       ("matbakh_microservice.persona", "persona-service")]:
        own = tf.resource(addr)["components"]["ingress_security_group"]
        ours.add(own)
        svc = ecs_service(emulator, name)
        # The task's groups: the user's and its own, nothing else.
        assert sorted(svc["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]) == \
            sorted([team, own])
        # Its own group admits the load balancer's group on the port and nothing else.
        g = describe(own)
        assert [(p["IpProtocol"], p["FromPort"], p["ToPort"],
                 [u["GroupId"] for u in p["UserIdGroupPairs"]], p.get("IpRanges", []),
                 p.get("Ipv6Ranges", []), p.get("PrefixListIds", []))
                for p in g["IpPermissions"]] == [("tcp", 8080, 8080, [alb_group], [], [], [])]
    assert describe(team) == team_before
    assert tf.plan().returncode == 0

    # Narrowing who may reach the load balancer edits only its group.
    tf.write({"main.tf": files["main.tf"].replace('test_cidrs = ["10.0.0.0/8"]', "test_cidrs = []")})
    tf.apply()
    assert not any(p["FromPort"] == 8443 for p in describe(alb_group)["IpPermissions"])
    tf.destroy()
    assert describe(team) == team_before

    writes = [r for r in emulator.requests("ec2")
              if r["operation"] in ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                                    "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress",
                                    "ModifySecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsIngress",
                                    "CreateTags", "DeleteTags", "DeleteSecurityGroup")]
    assert writes, "the lifecycle writes its own groups"
    for w in writes:
        named = set(re.findall(r"sg-[0-9a-f]+", w["body"]))
        assert named <= ours, (w["operation"], named - ours)
    assert_every_request_valid(emulator)


def test_a_user_group_opening_the_port_to_addresses_is_a_plan_warning_and_stays_untouched(
        emulator, tf, network):
    ec2 = emulator.client("ec2")
    wide = ec2.create_security_group(GroupName="wide-open", Description="someone else's",
                                     VpcId=network["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=wide, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8999,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    before = ec2.describe_security_groups(GroupIds=[wide])["SecurityGroups"][0]
    tf.write(config(emulator, network, ""))
    tf.apply()
    tf.write(config(emulator, network,
                    service("auth-service", PATHS, f'  security_group_ids = ["{wide}"]\n')))
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    assert "port 8080 open beyond the load balancer" in plan.output, plan.output
    assert f"{wide} from 0.0.0.0/0" in plan.output.replace("\n", " "), plan.output
    tf.apply()
    assert ec2.describe_security_groups(GroupIds=[wide])["SecurityGroups"][0] == before
