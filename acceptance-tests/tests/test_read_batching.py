"""Issue #23 item 2: a refresh reads alarm, log group and scalable target tags with the Resource
Groups Tagging API's GetResources (100 ARNs a call, gathered across resources), describes log
groups 50 names a call and scaling policies 50 names a call across targets, instead of one
ListTagsForResource / DescribeLogGroups / DescribeScalingPolicies per object or target; drift in
each of those objects is still seen, one object at a time."""

from __future__ import annotations

import json

import pytest

from tests.test_tags_authoritative import SERVICE, add_tag, network, objects, stack

pytestmark = pytest.mark.microservice


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def plan_calls(emulator, tf) -> tuple[int, list[dict]]:
    emulator.clear_requests()
    code = tf.plan().returncode
    return code, emulator.requests()


def test_tags_read_in_batches_and_drift_in_each_object_still_seen(emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net, "service_connect", {}, {}, {"team": "identity"})})
    tf.apply()
    found = objects(emulator, "service_connect")
    alarms = {w: v for w, v in found.items() if w.startswith("alarm ")}
    assert alarms

    code, calls = plan_calls(emulator, tf)
    assert code == 0
    ops = [(r["service"], r["operation"]) for r in calls]
    # GetResources by ARN for the alarms' and the log group's tags, fewer calls than objects
    # (reads that meet within the gatherer's window share one), no per-object tag read. (Other
    # GetResources calls of the plan ask for other kinds: the revision's tags, the process's
    # listing of scalable targets.)
    by_arn = [r for r in calls if (r["service"], r["operation"]) == ("tagging", "GetResources")
              and (":alarm:" in str(r.get("body")) or ":log-group:" in str(r.get("body")))]
    assert 1 <= len(by_arn) < len(alarms) + 1, [r.get("body") for r in calls
                                                if r["operation"] == "GetResources"]
    assert ("logs", "ListTagsLogGroup") not in ops, ops
    tagged = [r for r in calls if r["operation"] == "ListTagsForResource"
              and r["service"] == "monitoring" and ":alarm:" in str(r.get("body"))]
    assert not tagged, tagged
    describe = [r for r in calls if r["operation"] == "DescribeLogGroups"]
    assert len(describe) == 1 and "logGroupIdentifiers" in str(describe[0]["body"]), describe

    # A tag added out of band on one object alone is drift, for each kind read in batches.
    for what in [next(iter(alarms)), "log group"]:
        _, service, ident = found[what]
        add_tag(emulator, service, ident, "added-by-hand", "1")
        assert tf.plan().returncode == 2, what
        tf.apply()
        assert tf.plan().returncode == 0, what

    # The log group's retention changed out of band: drift, repaired.
    group = found["log group"][2]
    emulator.client("logs").put_retention_policy(logGroupName=group, retentionInDays=1)
    assert tf.plan().returncode == 2
    tf.apply()
    assert emulator.client("logs").describe_log_groups(
        logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] != 1
    assert tf.plan().returncode == 0
    assert SERVICE in group


def test_scalable_targets_described_in_batches_and_a_changed_range_still_seen(emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net, "service_connect", {}, {}, {"team": "identity"})})
    tf.apply()
    code, calls = plan_calls(emulator, tf)
    assert code == 0
    described = [r for r in calls if r["operation"] == "DescribeScalableTargets"]
    assert described and all("ResourceIds" in str(r["body"]) for r in described), described

    aas = emulator.client("application-autoscaling")
    target = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=target["ResourceId"],
                                 ScalableDimension=target["ScalableDimension"],
                                 MinCapacity=target["MinCapacity"], MaxCapacity=9)
    assert tf.plan().returncode == 2
    tf.apply()
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0][
        "MaxCapacity"] == target["MaxCapacity"]
    assert tf.plan().returncode == 0


def test_scaling_policies_read_by_name_across_targets_and_drift_in_each_still_seen(
        emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net, "service_connect", {}, {}, {"team": "identity"})})
    tf.apply()
    aas = emulator.client("application-autoscaling")
    rid = f"service/matbakh/{SERVICE}"
    policies = {p["PolicyName"]: p for p in aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=rid)["ScalingPolicies"]}
    assert len(policies) == 2, policies
    [target] = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]

    code, calls = plan_calls(emulator, tf)
    assert code == 0
    # The policies by name, not by target (the emulator filters by PolicyNames as AWS does);
    # the target's tags from GetResources, not its own ListTagsForResource.
    described = [json.loads(r["body"]) for r in calls
                 if r["operation"] == "DescribeScalingPolicies"]
    assert described, calls
    for body in described:
        assert set(policies) <= set(body.get("PolicyNames", [])), body
        assert "ResourceId" not in body and "ScalableDimension" not in body, body
    assert not [r for r in calls if r["service"] == "application-autoscaling"
                and r["operation"] == "ListTagsForResource"], calls

    # A policy changed out of band: drift, repaired.
    name, policy = next(iter(policies.items()))
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    aas.put_scaling_policy(
        PolicyName=name, ServiceNamespace="ecs", ResourceId=rid,
        ScalableDimension=policy["ScalableDimension"], PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={**config, "TargetValue": 11.0})
    assert tf.plan().returncode == 2
    tf.apply()
    assert tf.plan().returncode == 0

    # A policy deleted out of band: drift, made again.
    aas.delete_scaling_policy(PolicyName=name, ServiceNamespace="ecs", ResourceId=rid,
                              ScalableDimension=policy["ScalableDimension"])
    assert tf.plan().returncode == 2
    tf.apply()
    again = {p["PolicyName"]: p for p in aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=rid)["ScalingPolicies"]}
    assert again[name]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == \
        config["TargetValue"]
    assert tf.plan().returncode == 0

    # The scalable target's tag changed out of band: drift, repaired.
    arn = target["ScalableTargetARN"]
    aas.tag_resource(ResourceARN=arn, Tags={"team": "by-hand"})
    assert tf.plan().returncode == 2
    tf.apply()
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"]["team"] == "identity"
    assert tf.plan().returncode == 0
