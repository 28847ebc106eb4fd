"""Scaling on requests (issue 21, item 6): `autoscaling { requests_per_target = N }` on a
microservice with ingress is target tracking on ALBRequestCountPerTarget for the target group that
serves production traffic, and follows that group when a release moves it. The emulator first
refuses what Application Auto Scaling refuses of such a policy (extensions/scaling_policies.py)."""

from __future__ import annotations

import pytest

from harness.alb_network import alb_network
from tests.test_ingress_microservice import (PATHS, PLATFORM, REGION, SVC, assert_every_request_valid,
                                             config, ecs_service, elbv2, listener, rules, service)

pytestmark = pytest.mark.platform

SCALING = "  autoscaling {\n    min_count = 1\n    max_count = 4\n    requests_per_target = 100\n  }\n"


@pytest.fixture
def network(emulator) -> dict:
    return alb_network(emulator, REGION)


def aas(emulator):
    return emulator.client("application-autoscaling")


def requests_policy(emulator) -> dict | None:
    policies = aas(emulator).describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=f"service/{PLATFORM}/auth-service")["ScalingPolicies"]
    found = [p for p in policies if p["PolicyName"] == "auth-service-requests-target-tracking"]
    return found[0] if found else None


def label(emulator) -> str:
    policy = requests_policy(emulator)
    assert policy is not None
    metric = policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
    assert metric["PredefinedMetricType"] == "ALBRequestCountPerTarget"
    return metric["ResourceLabel"]


def expected_label(emulator, group_arn: str) -> str:
    [lb] = elbv2(emulator).describe_load_balancers()["LoadBalancers"]
    return (lb["LoadBalancerArn"].split(":loadbalancer/")[1] + "/"
            + "targetgroup/" + group_arn.split(":targetgroup/")[1])


def release_moves_production_to(emulator, group: str, other: str) -> None:
    """What ECS leaves behind after a release on the load balancer: the production rule at 100 %
    on the new revision's target group and the service's groups swapped."""
    [rule] = rules(emulator, listener(emulator, 443)["ListenerArn"])
    elbv2(emulator).modify_rule(RuleArn=rule["RuleArn"], Actions=[{
        "Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": group, "Weight": 100}, {"TargetGroupArn": other, "Weight": 0}]}}])
    [lb] = ecs_service(emulator)["loadBalancers"]
    swapped = {**lb, "targetGroupArn": group,
               "advancedConfiguration": {**lb["advancedConfiguration"],
                                         "alternateTargetGroupArn": other}}
    emulator.client("ecs").update_service(cluster=PLATFORM, service="auth-service",
                                          loadBalancers=[swapped])


def test_requests_per_target_tracks_the_production_group_and_follows_a_release(emulator, tf, network):
    tf.write(config(emulator, network, service("auth-service", PATHS, SCALING)))
    tf.apply()
    blue, green = tf.resource(SVC)["target_group_arns"]
    policy = requests_policy(emulator)
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 100
    assert label(emulator) == expected_label(emulator, blue)
    assert "scaling_policy_requests" in tf.resource(SVC)["components"]
    assert tf.plan().returncode == 0

    # A release made green the live group: the provider re-points the policy, and the plan does
    # not call that a change made outside Terraform.
    release_moves_production_to(emulator, green, blue)
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    assert "changed outside Terraform" not in plan.output, plan.output
    tf.apply()
    assert label(emulator) == expected_label(emulator, green)
    assert tf.plan().returncode == 0

    # And back again with the next release.
    release_moves_production_to(emulator, blue, green)
    tf.apply()
    assert label(emulator) == expected_label(emulator, blue)
    assert tf.plan().returncode == 0

    # Removed from the block: the policy goes, the others stay.
    tf.write(config(emulator, network, service("auth-service", PATHS, SCALING.replace(
        "    requests_per_target = 100\n", ""))))
    tf.apply()
    assert requests_policy(emulator) is None
    assert tf.plan().returncode == 0
    tf.destroy()
    assert_every_request_valid(emulator)


def test_import_of_a_service_scaling_on_requests_plans_clean(emulator, tf, network):
    # Defaults left out, as an imported configuration writes them.
    scaling = SCALING.replace("min_count = 1", "min_count = 2")
    tf.write(config(emulator, network, service("auth-service", PATHS, scaling).replace(
        "  desired_count = 1\n", "")))
    tf.apply()
    tf.run("state", "rm", SVC)
    tf.import_(SVC, f"{PLATFORM}/auth-service")
    plan = tf.plan()
    assert plan.returncode == 0, plan.output


@pytest.mark.parametrize("ingress, scaling, why", [
    (None, SCALING, "without ingress"),
    (PATHS, SCALING.replace("= 100", "= 0"), "out of range"),
])
def test_bad_requests_per_target_is_a_plan_error_naming_it(emulator, tf, network, ingress, scaling, why):
    tf.write(config(emulator, network, service("auth-service", ingress, scaling)))
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.output
    assert "requests_per_target" in plan.output, plan.output
    assert why in plan.output, plan.output


def test_emulator_refuses_labels_application_auto_scaling_refuses(emulator, tf, network):
    """PutScalingPolicy on ALBRequestCountPerTarget, each case against the objects a real apply
    made: AWS wants a label, of the documented form, naming a target group of that load balancer
    that the ECS service uses."""
    tf.write(config(emulator, network, service("auth-service", PATHS, SCALING)))
    tf.apply()
    blue, _ = tf.resource(SVC)["target_group_arns"]
    good = expected_label(emulator, blue)

    def put(metric: dict):
        return aas(emulator).put_scaling_policy(
            PolicyName="probe", ServiceNamespace="ecs",
            ResourceId=f"service/{PLATFORM}/auth-service",
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={"TargetValue": 10.0,
                                                      "PredefinedMetricSpecification": metric})

    def refused(metric: dict, match: str) -> None:
        with pytest.raises(Exception, match=match) as e:
            put(metric)
        assert "ValidationException" in str(e.value)

    alb = {"PredefinedMetricType": "ALBRequestCountPerTarget"}
    refused(alb, "ResourceLabel must be specified")
    refused({**alb, "ResourceLabel": blue}, "Invalid ResourceLabel")
    refused({"PredefinedMetricType": "ECSServiceAverageCPUUtilization", "ResourceLabel": good},
            "ResourceLabel can only be specified")
    lonely = elbv2(emulator).create_target_group(
        Name="lonely", Protocol="HTTP", Port=8080, VpcId=network["vpc"], TargetType="ip")[
        "TargetGroups"][0]["TargetGroupArn"]
    refused({**alb, "ResourceLabel": expected_label(emulator, lonely)}, "is not attached to load balancer")
    missing = "app/nowhere/" + good.removeprefix("app/matbakh/")
    refused({**alb, "ResourceLabel": missing}, "not found")
    put({**alb, "ResourceLabel": good})
