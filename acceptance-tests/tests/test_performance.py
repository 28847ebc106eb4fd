"""Issue #12: what a refresh costs in AWS calls, counted in the emulator's request log (the
benchmark, scripts/bench.sh, measures rounds and wall time; these tests keep the call counts
from regressing in CI)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.microservice

REPO = Path(__file__).resolve().parents[2]
THREE = REPO / "examples" / "three-services"
SERVICES = 3


def network(emulator) -> dict:
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"eu-central-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="bench", Description="bench", VpcId=vpc)["GroupId"]
    return {"vpc_id": vpc, "subnet_ids": subnets, "security_group_ids": [sg]}


def calls(emulator) -> Counter:
    return Counter(f"{r['service']}:{r['operation']}" for r in emulator.requests())


def test_a_refresh_reads_each_object_once(emulator, tf):
    tf.copy_dir(THREE, {"endpoint": emulator.endpoint, **network(emulator)})
    emulator.clear_requests()
    tf.apply()
    applied = calls(emulator)
    # The platform created in this apply tells its microservices where it is: they look
    # nothing up. (The namespace is created straight away: Cloud Map's refusal of a taken name,
    # not a list beforehand, is what makes the create look at the namespace of that name.)
    assert applied["servicediscovery:ListNamespaces"] == 0, applied
    assert applied["servicediscovery:ListTagsForResource"] == 0, applied
    cloudwatch = emulator.client("cloudwatch")
    # Application Auto Scaling's own target-tracking alarms are not the provider's to read.
    alarms = [a for a in cloudwatch.describe_alarms()["MetricAlarms"]
              if a["AlarmName"].startswith("matbakh-")]
    assert len(alarms) > SERVICES, "every microservice has several alarms"
    dashboards = cloudwatch.list_dashboards()["DashboardEntries"]
    assert len(dashboards) == SERVICES
    policies = emulator.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs")["ScalingPolicies"]
    assert {p["ResourceId"] for p in policies} == {"service/matbakh/auth-service"}
    assert len(policies) == 2, "auth-service scales on CPU and memory"
    emulator.clear_requests()
    assert tf.plan().returncode == 0
    seen = calls(emulator)
    # A microservice's refresh recovers its arguments from AWS and observes its recorded
    # components at the same time; both ask for the same objects, and each request is sent
    # once. All of a microservice's alarms come with one DescribeAlarms.
    # Alarm, log group and scalable target tags come with GetResources (issue #23), dashboards'
    # with their own ListTagsForResource (the emulator's GetResources does not name dashboards).
    # Nothing that cannot have changed is read (issue #23 item 3): the revisions the apply
    # registered are not described (their status: one ListTaskDefinitions of the ACTIVE ones),
    # and no dashboard body is read (one ListDashboards: each LastModified is the recorded one).
    once_each = {
        "ecs:DescribeTaskDefinition": 0,
        "ecs:ListTaskDefinitions": 1,
        "logs:ListTagsLogGroup": 0,
        "monitoring:GetDashboard": 0,
        "monitoring:ListDashboards": 1,
        "monitoring:ListTagsForResource": len(dashboards),
        "application-autoscaling:ListTagsForResource": 0,
    }
    assert {op: seen[op] for op in once_each} == once_each, seen
    # A plan's process lists once for every microservice: the platform's log groups by prefix
    # (one DescribeLogGroups), the owned alarms' and log groups' tags (one GetResources page) and
    # the owned alarms (one DescribeAlarms of the names that listing gave).
    assert seen["logs:DescribeLogGroups"] == 1, seen
    assert seen["monitoring:DescribeAlarms"] == 1, seen
    # Scalable targets of microservices read at the same moment share one
    # DescribeScalableTargets (the gatherer).
    assert 1 <= seen["application-autoscaling:DescribeScalableTargets"] <= SERVICES, seen
    # Scaling policies by name across targets (recovery looks for them on every service, and
    # only auth-service has any): one DescribeScalingPolicies for the microservices read at
    # the same moment, not one per microservice.
    assert 1 <= seen["application-autoscaling:DescribeScalingPolicies"] < SERVICES, seen
    # The CloudWatch and Logs listing, the scalable targets' listing, and the revisions' tags
    # by ARN (gathered): at most one per microservice besides the two listings.
    assert 2 <= seen["tagging:GetResources"] <= 2 + SERVICES, seen
    # Services of microservices read at the same moment share one DescribeServices (the client
    # layer's gatherer): at most one per microservice.
    assert 1 <= seen["ecs:DescribeServices"] <= SERVICES, seen
    # The cluster's services are listed at most once per plan (started by the second refresh
    # that reads them, to fill the describes of the refreshes still to come).
    assert seen["ecs:ListServices"] <= 1, seen
    # Every role read and by-name role lookup of the plan comes from one listing of the
    # account's roles (a page holds 1000), not six IAM calls per microservice.
    iam = {op: n for op, n in seen.items() if op.startswith("iam:")}
    assert iam == {"iam:GetAccountAuthorizationDetails": 1}, iam


# Reads whose tags go by the recorded id (a name, or an ARN) ask for them at the same time as
# the describe: (tags operation, describe operation).
TAGS_WITH_DESCRIBE = {
    "appmesh:ListTagsForResource": ("appmesh:DescribeMesh", "appmesh:DescribeVirtualNode",
                                    "appmesh:DescribeVirtualRouter", "appmesh:DescribeRoute",
                                    "appmesh:DescribeVirtualService"),
}


def test_a_refresh_reads_tags_together_with_the_describe(emulator, tf, fault_proxy):
    tf.copy_dir(THREE, {"endpoint": fault_proxy.endpoint, **network(emulator)})
    tf.apply()
    # A delay on every request makes requests sent together overlap by most of it, and
    # requests sent one after the other not at all.
    fault_proxy.configure(delay_ms=250)
    fault_proxy.clear()
    assert tf.plan().returncode == 0
    records = list(fault_proxy.records)
    checked = 0
    for r in records:
        op = f"{r['service']}:{r['operation']}"
        if op not in TAGS_WITH_DESCRIBE:
            continue
        describes = [d for d in records
                     if f"{d['service']}:{d['operation']}" in TAGS_WITH_DESCRIBE[op]]
        # In flight together with a describe of its kind, not sent after one answered.
        assert any(d["t_in"] < r["t_out"] and r["t_in"] < d["t_out"] for d in describes), (op, r)
        checked += 1
    # Log groups' tags (the process's GetResources listing) go with their describe (the
    # platform's listing by prefix).
    describes = [d for d in records if f"{d['service']}:{d['operation']}" == "logs:DescribeLogGroups"]
    tag_reads = [r for r in records if f"{r['service']}:{r['operation']}" == "tagging:GetResources"]
    assert describes and tag_reads, records
    assert all(any(d["t_in"] < r["t_out"] and r["t_in"] < d["t_out"] for r in tag_reads)
               for d in describes), (describes, tag_reads)


def test_a_destroy_with_nothing_left_over_lists_no_services(emulator, tf):
    tf.copy_dir(THREE, {"endpoint": emulator.endpoint, **network(emulator)})
    tf.apply()
    # Namespaces of others in the region: the lookup must not read their tags.
    cloudmap = emulator.client("servicediscovery")
    for i in range(5):
        cloudmap.create_http_namespace(Name=f"other-{i}", Tags=[{"Key": "team", "Value": "x"}])
    emulator.clear_requests()
    # Without a refresh, no platform read tells the microservices where their platform is:
    # each destroy process looks it up once, by the cluster (whose Service Connect default
    # names the namespace) and the namespace list, reading no namespace's tags.
    tf.destroy(extra_args=["-refresh=false"])
    seen = calls(emulator)
    assert seen["servicediscovery:ListTagsForResource"] == 0, seen
    # The platform's DeleteCluster goes straight out; the cluster's services are listed only
    # when ECS refuses it (test_interruption.py covers that path).
    assert seen["ecs:DeleteCluster"] == 1, seen
    assert seen["ecs:ListServices"] == 0, seen
