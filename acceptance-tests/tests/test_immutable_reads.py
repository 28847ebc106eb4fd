"""Issue #23 item 3: nothing read that cannot have changed. A task definition revision's body
never changes, so a refresh of the revision the provider registered (or last read in sync)
does not describe it: its tags come with GetResources and its status from one listing of the
ACTIVE revisions. A dashboard's body changes only with its LastModified, so a refresh lists the
dashboards once and reads no body whose LastModified is the recorded one. Drift in each is
still seen, one change at a time."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.test_microservice import AUTH, AUTH_ADDR, import_config
from tests.test_tags_authoritative import SERVICE, PLATFORM, add_tag, network, objects, stack

pytestmark = pytest.mark.microservice


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def plan_ops(emulator, tf) -> tuple[int, Counter]:
    emulator.clear_requests()
    code = tf.plan().returncode
    return code, Counter(f"{r['service']}:{r['operation']}" for r in emulator.requests())


def running_revision(emulator) -> str:
    return emulator.client("ecs").describe_services(
        cluster=PLATFORM, services=[SERVICE])["services"][0]["taskDefinition"]


def dashboard(emulator) -> dict:
    entries = [d for d in emulator.client("cloudwatch").list_dashboards()["DashboardEntries"]
               if SERVICE in d["DashboardName"]]
    assert len(entries) == 1, entries
    return entries[0]


def test_a_clean_plan_reads_no_revision_or_dashboard_body_and_drift_in_each_is_seen(
        emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net, "service_connect", {}, {}, {"team": "identity"})})
    tf.apply()

    code, ops = plan_ops(emulator, tf)
    assert code == 0
    assert ops["ecs:DescribeTaskDefinition"] == 0, ops
    assert ops["ecs:ListTaskDefinitions"] == 1, ops
    assert ops["monitoring:GetDashboard"] == 0, ops
    assert ops["monitoring:ListDashboards"] == 1, ops

    ecs = emulator.client("ecs")
    cw = emulator.client("cloudwatch")

    def seen_and_repaired(what: str) -> None:
        assert tf.plan().returncode == 2, what
        tf.apply()
        code, ops = plan_ops(emulator, tf)
        assert code == 0, what
        # Repaired, and recorded again: the plan after the repair reads no body.
        assert ops["ecs:DescribeTaskDefinition"] == 0, (what, ops)
        assert ops["monitoring:GetDashboard"] == 0, (what, ops)

    # The revision's tags changed out of band.
    add_tag(emulator, "ecs", running_revision(emulator), "added-by-hand", "1")
    seen_and_repaired("task definition tag")

    # The service pointed at another revision out of band.
    current = ecs.describe_task_definition(taskDefinition=running_revision(emulator),
                                           include=["TAGS"])
    td = current["taskDefinition"]
    containers = td["containerDefinitions"]
    containers[0]["image"] = "registry.example/auth:9.9.9"
    other = ecs.register_task_definition(
        family=td["family"], containerDefinitions=containers, cpu=td["cpu"],
        memory=td["memory"], networkMode=td["networkMode"],
        requiresCompatibilities=td["requiresCompatibilities"],
        executionRoleArn=td["executionRoleArn"], tags=current["tags"],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=PLATFORM, service=SERVICE, taskDefinition=other)
    seen_and_repaired("service on another revision")
    assert running_revision(emulator) != other

    # The revision the service runs deregistered out of band: it reads as gone, and the apply
    # registers it again.
    deregistered = running_revision(emulator)
    ecs.deregister_task_definition(taskDefinition=deregistered)
    seen_and_repaired("revision deregistered")
    assert running_revision(emulator) != deregistered

    # The dashboard's body changed out of band, within the second of the last write: AWS
    # changes LastModified on every PutDashboard.
    name = dashboard(emulator)["DashboardName"]
    body = json.loads(cw.get_dashboard(DashboardName=name)["DashboardBody"])
    before = dashboard(emulator)["LastModified"]
    cw.put_dashboard(DashboardName=name, DashboardBody=json.dumps({"widgets": body["widgets"][:1]}))
    assert dashboard(emulator)["LastModified"] != before
    seen_and_repaired("dashboard body")
    assert json.loads(cw.get_dashboard(DashboardName=name)["DashboardBody"]) == body

    # Its tags changed out of band.
    add_tag(emulator, "cloudwatch", dashboard(emulator)["DashboardArn"], "added-by-hand", "1")
    seen_and_repaired("dashboard tag")

    # It was deleted out of band.
    cw.delete_dashboards(DashboardNames=[name])
    seen_and_repaired("dashboard deleted")
    assert dashboard(emulator)["DashboardName"] == name


def test_an_imported_microservice_reads_its_bodies_once_then_not(emulator, tf_factory, net):
    """State without recorded versions (an import, or a state of an earlier provider version)
    reads the revision and the dashboard as before, and records them."""
    first = tf_factory("first")
    first.write(import_config(emulator, net, backend="service_connect"))
    first.apply()
    second = tf_factory("second")
    second.write(import_config(emulator, net, backend="service_connect"))
    second.import_("matbakh_platform.main", PLATFORM)
    emulator.clear_requests()
    second.import_(AUTH_ADDR, f"{PLATFORM}/{AUTH}")
    ops = Counter(f"{r['service']}:{r['operation']}" for r in emulator.requests())
    assert ops["ecs:DescribeTaskDefinition"] >= 1, ops
    assert ops["monitoring:GetDashboard"] >= 1, ops
    code, ops = plan_ops(emulator, second)
    assert code == 0
    assert ops["ecs:DescribeTaskDefinition"] == 0, ops
    assert ops["monitoring:GetDashboard"] == 0, ops
