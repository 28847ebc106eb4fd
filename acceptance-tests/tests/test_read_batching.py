"""Issue #23 item 2: a refresh reads alarm and log group tags with the Resource Groups Tagging
API's GetResources (100 ARNs a call, gathered across resources) and describes log groups 50
names a call, instead of one ListTagsForResource / DescribeLogGroups per object; drift in each
of those objects is still seen, one object at a time."""

from __future__ import annotations

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
    # GetResources for the alarms' and the log group's tags, fewer calls than objects (reads
    # that meet within the gatherer's window share one), no per-object tag read.
    assert 1 <= ops.count(("tagging", "GetResources")) < len(alarms) + 1, ops
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
