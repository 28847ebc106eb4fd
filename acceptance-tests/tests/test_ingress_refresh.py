"""Issue #23, ingress: a plan of several microservices behind the platform's load balancer looks
the load balancer, its listeners and the listeners' rules up once for the whole process, not
once per microservice, and describes the target groups in batches (DescribeTargetGroups by
TargetGroupArns / Names, gathered); drift in each ELB object a microservice owns is still seen:
a rule's conditions and priority, a target group's health check and attributes, a target group
or a rule deleted out of band."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.test_ingress_microservice import config, elbv2, listener, network, rules, service, target_groups

pytestmark = pytest.mark.platform

__all__ = ["network"]

SERVICES = ["alpha-service", "bravo-service", "charlie-service"]


def services() -> str:
    return "".join(service(name, f'    paths = ["/{name}/*"]\n    priority = {10 * (i + 1)}\n')
                   for i, name in enumerate(SERVICES))


def elb_calls(emulator) -> Counter:
    return Counter(r["operation"] for r in emulator.requests("elasticloadbalancing"))


def rule_of(emulator, name: str, port: int = 443) -> dict:
    return next(r for r in rules(emulator, listener(emulator, port)["ListenerArn"])
                if any(f"/{name}/" in v for c in r["Conditions"] for v in c.get("Values", [])
                       + c.get("PathPatternConfig", {}).get("Values", [])))


def test_a_plan_looks_the_ingress_up_once_and_drift_in_each_elb_object_is_still_seen(
        emulator, tf, network):
    tf.write(config(emulator, network, services()))
    tf.apply()
    emulator.clear_requests()
    assert tf.plan().returncode == 0
    seen = elb_calls(emulator)
    # The platform's own refresh reads its load balancer by ARN; the microservices share one
    # lookup by name (refresh and plan), one listing per listener and their batched groups.
    assert seen["DescribeLoadBalancers"] == 2, seen
    assert seen["DescribeRules"] == 2, seen
    assert seen["DescribeTargetGroups"] <= 2 * 2, seen  # by name and by ARN, gathered
    # No batch form: one per group (its recovery and observation share it).
    assert seen["DescribeTargetGroupAttributes"] == 2 * len(SERVICES), seen
    for name in SERVICES:
        assert any(name in str(r.get("body")) for r in emulator.requests("elasticloadbalancing")
                   if r["operation"] == "DescribeTargetGroups"), name

    client = elbv2(emulator)
    # A rule's paths changed out of band.
    rule = rule_of(emulator, "bravo-service")
    client.modify_rule(RuleArn=rule["RuleArn"], Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/elsewhere"]}}])
    plan = tf.plan()
    assert plan.returncode == 2 and "bravo" in plan.output, plan.output
    tf.apply()
    assert rule_of(emulator, "bravo-service")["RuleArn"] == rule["RuleArn"]
    assert tf.plan().returncode == 0

    # A rule's priority changed out of band.
    client.set_rule_priorities(RulePriorities=[{"RuleArn": rule["RuleArn"], "Priority": 77}])
    assert tf.plan().returncode == 2
    tf.apply()
    assert rule_of(emulator, "bravo-service")["Priority"] == "20"
    assert tf.plan().returncode == 0

    # A target group's attribute and health check changed out of band.
    groups = target_groups(emulator)
    blue = groups["matbakh-charlie-service-b"]["TargetGroupArn"]
    client.modify_target_group_attributes(TargetGroupArn=blue, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "123"}])
    plan = tf.plan()
    assert plan.returncode == 2 and "charlie" in plan.output, plan.output
    tf.apply()
    assert {a["Key"]: a["Value"] for a in client.describe_target_group_attributes(
        TargetGroupArn=blue)["Attributes"]}["deregistration_delay.timeout_seconds"] == "30"
    assert tf.plan().returncode == 0
    green = groups["matbakh-alpha-service-g"]["TargetGroupArn"]
    client.modify_target_group(TargetGroupArn=green, HealthCheckPath="/elsewhere")
    assert tf.plan().returncode == 2
    tf.apply()
    assert tf.plan().returncode == 0

    # A target group nothing forwards to deleted out of band: the batch that asks for it with
    # the others is refused, each is asked alone, and only it is missing.
    client.delete_rule(RuleArn=rule_of(emulator, "alpha-service", 8443)["RuleArn"])
    client.delete_rule(RuleArn=rule_of(emulator, "alpha-service")["RuleArn"])
    client.delete_target_group(TargetGroupArn=green)
    emulator.clear_requests()
    plan = tf.plan()
    assert plan.returncode == 2 and "# matbakh_microservice.alpha " in plan.output, plan.output
    refused = [r for r in emulator.requests("elasticloadbalancing")
               if r["operation"] == "DescribeTargetGroups" and r.get("status") == 400]
    assert refused, "a batch naming the deleted group is refused as AWS refuses it"
    for other in ("bravo", "charlie"):
        assert f"# matbakh_microservice.{other} " not in plan.output, plan.output
    tf.apply()
    assert "matbakh-alpha-service-g" in target_groups(emulator)
    assert tf.plan().returncode == 0


def ec2_calls(emulator) -> Counter:
    return Counter(r["operation"] for r in emulator.requests("ec2"))


def own_group(emulator, tf, name: str) -> str:
    return tf.resource(f"matbakh_microservice.{name}")["components"]["ingress_security_group"]


def test_a_plan_lists_the_security_groups_once_and_drift_in_each_is_still_seen(emulator, tf, network):
    """Issue #23, EC2: a plan's refreshes take each microservice's own security group from one
    listing of the groups the provider owns (DescribeSecurityGroups by `tag-key`), the plan steps
    read the user's shared group once, the subnet's VPC is asked once, and the latency alarm
    behind the load balancer comes with the owned alarms' listing; drift in a group (a rule
    added, its owner tag removed, the group deleted) is still planned and repaired."""
    ec2 = emulator.client("ec2")
    team = ec2.create_security_group(GroupName="team-services", Description="the team's services",
                                     VpcId=network["vpc"])["GroupId"]
    shared = "".join(service(name, f'    paths = ["/{name}/*"]\n    priority = {10 * (i + 1)}\n',
                             f'  security_group_ids = ["{team}"]\n')
                     for i, name in enumerate(SERVICES))
    tf.write(config(emulator, network, shared))
    tf.apply()
    emulator.clear_requests()
    assert tf.plan().returncode == 0
    seen = ec2_calls(emulator)
    listings = [r for r in emulator.requests("ec2") if r["operation"] == "DescribeSecurityGroups"
                and "tag-key" in str(r.get("body"))]
    # The owned groups' listing (the platform's refresh and the microservices' share it), the
    # team's group once for all three plan steps; nothing per microservice.
    assert len(listings) == 1, seen
    assert seen["DescribeSecurityGroups"] == 2, seen
    assert seen["DescribeSubnets"] <= 1, seen
    alarms = Counter(r["operation"] for r in emulator.requests("monitoring"))
    assert alarms["DescribeAlarms"] == 1, alarms  # the owned alarms, by name, 100 a call

    # A rule added to a microservice's own group out of band.
    bravo = own_group(emulator, tf, "bravo")
    ec2.authorize_security_group_ingress(GroupId=bravo, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 9090, "ToPort": 9090, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    plan = tf.plan()
    assert plan.returncode == 2 and "# matbakh_microservice.bravo " in plan.output, plan.output
    tf.apply()
    [group] = ec2.describe_security_groups(GroupIds=[bravo])["SecurityGroups"]
    assert not any(p.get("FromPort") == 9090 for p in group["IpPermissions"]), group
    assert tf.plan().returncode == 0

    # Its owner tag removed: the listing leaves it out, it is asked for alone and the tag is drift.
    charlie = own_group(emulator, tf, "charlie")
    ec2.delete_tags(Resources=[charlie], Tags=[{"Key": "matbakh:owner"}])
    plan = tf.plan()
    assert plan.returncode == 2 and "# matbakh_microservice.charlie " in plan.output, plan.output
    tf.apply()
    [group] = ec2.describe_security_groups(GroupIds=[charlie])["SecurityGroups"]
    assert "matbakh:owner" in {t["Key"] for t in group.get("Tags", [])}, group
    assert tf.plan().returncode == 0

    # The group deleted out of band: missing, made again.
    alpha = own_group(emulator, tf, "alpha")
    ec2.delete_security_group(GroupId=alpha)
    plan = tf.plan()
    assert plan.returncode == 2 and "# matbakh_microservice.alpha " in plan.output, plan.output
    for other in ("bravo", "charlie"):
        assert f"# matbakh_microservice.{other} " not in plan.output, plan.output
    tf.apply()
    assert own_group(emulator, tf, "alpha") != alpha
    assert tf.plan().returncode == 0
