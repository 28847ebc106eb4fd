"""Acceptance tests for matbakh_canary, driven through examples/canary with second-scale step
intervals: a healthy walk, a rollback triggered with CloudWatch SetAlarmState during the walk,
plans clean after both, the promotion flow in one apply, and destroy leaving nothing."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from tests.test_microservice import assert_nothing_left, network

pytestmark = pytest.mark.canary

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "canary"

PLATFORM = "matbakh"
SERVICE = "auth-service"
CANDIDATE = "auth-service-canary"
STABLE_IMAGE = "registry.example/auth:1.4.2"
CANDIDATE_IMAGE = "registry.example/auth:1.5.0"
CANARY = "matbakh_canary.auth[0]"
MICROSERVICE = "matbakh_microservice.auth"
ERROR_ALARM = f"{PLATFORM}-{CANDIDATE}-error-rate"
P95_ALARM = f"{PLATFORM}-{CANDIDATE}-latency-average"
CANDIDATE_KEYS = {"candidate_service", "candidate_task_definition", "candidate_virtual_node",
                  "alarm_error_rate", "alarm_p95_latency", "alarm_no_traffic"}


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def configure(tf, emulator, net, **values) -> None:
    tf.copy_dir(EXAMPLE, {"endpoint": emulator.endpoint, **net, "steps": [10, 50, 100],
                          "step_interval": "2s", **values})


def route_targets(emulator) -> dict[str, int]:
    route = emulator.client("appmesh").describe_route(
        meshName=PLATFORM, virtualRouterName=f"{SERVICE}-router", routeName=f"{SERVICE}-route")["route"]
    targets = route["spec"]["httpRoute"]["action"]["weightedTargets"]
    return {t["virtualNode"]: t["weight"] for t in targets}


def service(emulator, name):
    out = emulator.client("ecs").describe_services(cluster=PLATFORM, services=[name])
    live = [s for s in out["services"] if s["status"] == "ACTIVE"]
    return live[0] if live else None


def image_of(emulator, svc) -> str:
    td = emulator.client("ecs").describe_task_definition(
        taskDefinition=svc["taskDefinition"])["taskDefinition"]
    return next(c["image"] for c in td["containerDefinitions"] if c["name"] == "app")


def route_weight_history(emulator) -> list[dict[str, int]]:
    """The weighted targets of every UpdateRoute the provider sent, in order."""
    out = []
    for r in emulator.requests("appmesh", "UpdateRoute"):
        body = json.loads(r["body"] or "{}")
        targets = body["spec"]["httpRoute"]["action"]["weightedTargets"]
        out.append({t["virtualNode"]: t["weight"] for t in targets})
    return out


def assert_no_resource_changes(tf) -> None:
    """`terraform plan` proposes no change to any resource (outputs may differ)."""
    res = tf.plan()
    if res.returncode == 0:
        return
    assert "without changing any real infrastructure" in res.output, res.output
    for verb in ("will be created", "will be updated", "will be destroyed", "must be replaced"):
        assert verb not in res.output, res.output


def ecs_name(body: dict) -> str:
    """The service name an ECS request is about (it may name it by ARN)."""
    return str(body.get("service", "")).rsplit("/", 1)[-1]


def index_of(log: list[dict], operation: str, match) -> int:
    """Position in the request log of the first `operation` whose JSON body matches."""
    for i, r in enumerate(log):
        if r["operation"] == operation and match(json.loads(r["body"] or "{}")):
            return i
    raise AssertionError(f"no {operation} request matched")


def candidate_left(emulator) -> list[str]:
    left = []
    if service(emulator, CANDIDATE):
        left.append("ECS service")
    families = emulator.client("ecs").list_task_definitions(
        familyPrefix=f"{PLATFORM}-{CANDIDATE}", status="ACTIVE")["taskDefinitionArns"]
    if families:
        left.append("task definitions")
    appmesh = emulator.client("appmesh")
    meshes = [m["meshName"] for m in appmesh.list_meshes()["meshes"]]
    nodes = [n["virtualNodeName"] for n in
             appmesh.list_virtual_nodes(meshName=PLATFORM)["virtualNodes"]] if PLATFORM in meshes else []
    if CANDIDATE in nodes:
        left.append("virtual node")
    alarms = [a["AlarmName"] for a in emulator.client("cloudwatch").describe_alarms()["MetricAlarms"]]
    left += [a for a in alarms if CANDIDATE in a]
    return left


class AlarmWhenWeighted(threading.Thread):
    """Sets the candidate's error-rate alarm to ALARM as soon as the route gives the candidate
    a share of traffic strictly between 0 and 100: a walk is under way (a finished walk
    leaves 100, a new one starts from the first step)."""

    def __init__(self, emulator) -> None:
        super().__init__(daemon=True)
        self.emulator = emulator
        self.fired_at_weight: int | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        cw = self.emulator.client("cloudwatch")
        while not self.stop.is_set():
            try:
                weight = route_targets(self.emulator).get(CANDIDATE, 0)
            except Exception:  # noqa: BLE001 - the route may not exist yet
                weight = 0
            if 0 < weight < 100:
                cw.set_alarm_state(AlarmName=ERROR_ALARM, StateValue="ALARM",
                                   StateReason="Threshold Crossed: 3 of 3 datapoints were greater than 5.0")
                self.fired_at_weight = weight
                return
            time.sleep(0.1)


# ---------------------------------------------------------------------------- tests


def test_healthy_walk_reaches_100_and_plans_clean(emulator, tf, net):
    configure(tf, emulator, net)
    tf.apply()

    canary = tf.resource(CANARY)
    assert canary["status"] == "succeeded"
    assert canary["current_weight"] == 100
    assert canary["id"] == f"{PLATFORM}/{CANDIDATE}"
    assert set(canary["components"]) == CANDIDATE_KEYS
    assert route_targets(emulator) == {SERVICE: 0, CANDIDATE: 100}
    # The walk went through every step, in order.
    assert route_weight_history(emulator)[-3:] == [
        {SERVICE: 90, CANDIDATE: 10}, {SERVICE: 50, CANDIDATE: 50}, {SERVICE: 0, CANDIDATE: 100}]

    # The candidate: the stable service's settings with the candidate's image.
    stable, cand = service(emulator, SERVICE), service(emulator, CANDIDATE)
    assert image_of(emulator, stable) == STABLE_IMAGE
    assert image_of(emulator, cand) == CANDIDATE_IMAGE
    assert cand["desiredCount"] == stable["desiredCount"] == 2
    assert cand["serviceRegistries"][0]["registryArn"] == stable["serviceRegistries"][0]["registryArn"]
    node = emulator.client("appmesh").describe_virtual_node(
        meshName=PLATFORM, virtualNodeName=CANDIDATE)["virtualNode"]
    discovery = node["spec"]["serviceDiscovery"]["awsCloudMap"]
    assert discovery["serviceName"] == SERVICE
    assert {"key": "ECS_SERVICE_NAME", "value": CANDIDATE} in discovery["attributes"]
    alarms = {a["AlarmName"]: a for a in emulator.client("cloudwatch").describe_alarms(
        AlarmNames=[ERROR_ALARM, P95_ALARM])["MetricAlarms"]}
    assert set(alarms) == {ERROR_ALARM, P95_ALARM}
    assert alarms[P95_ALARM]["Threshold"] == 200
    dims = {d["Name"]: d["Value"] for d in alarms[P95_ALARM]["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"]}
    assert dims == {"ServiceName": CANDIDATE, "Platform": PLATFORM, "Environment": "production",
                    "Region": "eu-central-1"}

    # Neither resource wants to change the other's route weights.
    assert tf.plan().returncode == 0

    tf.destroy()
    assert_nothing_left(emulator)
    assert candidate_left(emulator) == []


def test_blue_green_switches_once(emulator, tf, net):
    configure(tf, emulator, net, strategy="blue_green")
    tf.apply()
    assert tf.resource(CANARY)["status"] == "succeeded"
    candidate_weights = [h.get(CANDIDATE, 0) for h in route_weight_history(emulator)]
    assert candidate_weights == [100]
    assert tf.plan().returncode == 0


def test_alarm_during_walk_rolls_back_and_keeps_state(emulator, tf, net):
    configure(tf, emulator, net, step_interval="3s")
    tf.apply()
    assert tf.resource(CANARY)["status"] == "succeeded"

    # A new candidate version starts a new walk; its alarm fires during the walk.
    configure(tf, emulator, net, step_interval="3s", candidate_image="registry.example/auth:1.6.0")
    trigger = AlarmWhenWeighted(emulator)
    trigger.start()
    res = tf.apply(check=False)
    trigger.stop.set()
    trigger.join(5)
    assert trigger.fired_at_weight in (10, 50), "the alarm should fire during the walk"
    assert res.returncode != 0
    out = res.output
    assert "rolled back" in out
    assert ERROR_ALARM in out
    assert "Threshold Crossed" in out

    canary = tf.resource(CANARY)
    assert canary["status"] == "rolled_back"
    assert canary["current_weight"] == 0
    assert set(canary["components"]) == CANDIDATE_KEYS
    assert canary["image"] == "registry.example/auth:1.6.0"
    # All traffic on stable, the candidate scaled to zero but still recorded.
    assert route_targets(emulator) == {SERVICE: 100}
    assert service(emulator, CANDIDATE)["desiredCount"] == 0
    assert service(emulator, SERVICE)["desiredCount"] == 2

    # Not tainted, no fight: the plan is clean for both resources. (Terraform does not save
    # root outputs after a failed apply, so the example's `canary` output may still change.)
    assert_no_resource_changes(tf)

    tf.destroy()
    assert_nothing_left(emulator)
    assert candidate_left(emulator) == []


def test_failed_candidate_deployment_rolls_back(emulator, tf, net):
    configure(tf, emulator, net)
    tf.apply(extra_args=["-target", MICROSERVICE])
    emulator.settings(ecs_deployment="failed")
    res = tf.apply(check=False)
    emulator.settings(ecs_deployment="completed")
    assert res.returncode != 0
    assert "rolled back" in res.output
    assert "deployment failed" in res.output
    canary = tf.resource(CANARY)
    assert canary["status"] == "rolled_back"
    assert set(canary["components"]) == CANDIDATE_KEYS
    assert route_targets(emulator) == {SERVICE: 100}
    tf.destroy()
    assert candidate_left(emulator) == []


def test_promotion_in_one_apply(emulator, tf, net):
    configure(tf, emulator, net)
    tf.apply()
    assert route_targets(emulator) == {SERVICE: 0, CANDIDATE: 100}
    emulator.clear_requests()

    configure(tf, emulator, net, stable_image=CANDIDATE_IMAGE, candidate_image=None)
    tf.apply()

    assert image_of(emulator, service(emulator, SERVICE)) == CANDIDATE_IMAGE
    assert route_targets(emulator) == {SERVICE: 100}
    assert candidate_left(emulator) == []
    assert tf.state_list() == ["matbakh_microservice.auth", "matbakh_platform.main"]

    # A healthy target took the traffic at every moment: the route went back to the (fully
    # scaled) stable service before the candidate service was deleted, and the stable
    # service was rolled onto the new image only after that.
    assert route_weight_history(emulator)[0] == {SERVICE: 100}
    log = emulator.requests()
    back_to_stable = index_of(log, "UpdateRoute", lambda b: True)
    candidate_deleted = index_of(log, "DeleteService", lambda b: ecs_name(b) == CANDIDATE)
    stable_rolled = index_of(log, "UpdateService",
                             lambda b: ecs_name(b) == SERVICE and "taskDefinition" in b)
    assert back_to_stable < candidate_deleted < stable_rolled
    assert tf.plan().returncode == 0

    tf.destroy()
    assert_nothing_left(emulator)


def test_destroy_mid_walk_returns_traffic_to_stable(emulator, tf, net):
    """Destroy at any time: a canary stopped by its timeout mid-walk (status progressing) is
    destroyed with all traffic returned to stable first."""
    configure(tf, emulator, net, step_interval="1h")
    # Stop the walk with a short timeout: write a timeouts block through an override file.
    tf.write({"override.tf": 'resource "matbakh_canary" "auth" {\n  timeouts {\n    create = "20s"\n  }\n}\n'})
    res = tf.apply(check=False)
    assert res.returncode != 0
    assert "ran out of time" in res.output
    canary = tf.resource(CANARY)
    assert canary["status"] == "progressing"
    assert canary["current_weight"] == 10
    assert route_targets(emulator) == {SERVICE: 90, CANDIDATE: 10}
    assert set(canary["components"]) == CANDIDATE_KEYS

    tf.destroy()
    assert candidate_left(emulator) == []
    assert_nothing_left(emulator)


def test_validation_errors_name_the_attribute(emulator, tf, net):
    configure(tf, emulator, net, steps=[50, 25])
    res = tf.plan(check=False)
    assert res.returncode == 1
    assert "Steps not increasing" in res.output
    assert "steps must increase strictly: 25 follows 50" in res.output
    assert "steps         = var.steps" in res.output  # Terraform points at the attribute
    configure(tf, emulator, net, step_interval="5")
    res = tf.plan(check=False)
    assert res.returncode == 1
    assert "step_interval" in res.output
    # Nothing was created.
    assert emulator.requests("ecs") == []


def test_import_is_not_supported_and_says_why(emulator, tf, net):
    """The shared driver's import path: a canary has nothing to import, and says so by name
    before asking AWS anything."""
    configure(tf, emulator, net, candidate_image="registry.example/auth:2")
    res = tf.import_(CANARY, "matbakh/auth-service-canary", check=False)
    assert res.returncode == 1, res.output
    assert "Import is not supported for matbakh_canary" in res.output, res.output
    assert "create a new matbakh_canary instead" in " ".join(res.output.split()), res.output
    assert emulator.requests("ecs") == []


def test_microservice_update_keeps_the_canary_weights(emulator, tf, net):
    """No fighting: changing the microservice's retry policy during a canary updates the route
    but keeps the candidate's weights, and neither resource plans a change afterwards."""
    configure(tf, emulator, net)
    tf.apply()
    assert route_targets(emulator) == {SERVICE: 0, CANDIDATE: 100}
    tf.write({"override.tf": 'resource "matbakh_microservice" "auth" {\n'
                             '  retry {\n    max_retries = 5\n  }\n}\n'})
    tf.apply()
    route = emulator.client("appmesh").describe_route(
        meshName=PLATFORM, virtualRouterName=f"{SERVICE}-router",
        routeName=f"{SERVICE}-route")["route"]
    assert route["spec"]["httpRoute"]["retryPolicy"]["maxRetries"] == 5
    assert route_targets(emulator) == {SERVICE: 0, CANDIDATE: 100}
    assert tf.plan().returncode == 0
    tf.destroy()
    assert_nothing_left(emulator)


def test_weight_moved_by_hand_is_drift_and_repaired_without_a_new_walk(emulator, tf, net):
    configure(tf, emulator, net)
    tf.apply()
    appmesh = emulator.client("appmesh")
    route = appmesh.describe_route(meshName=PLATFORM, virtualRouterName=f"{SERVICE}-router",
                                   routeName=f"{SERVICE}-route")["route"]
    spec = route["spec"]
    spec["httpRoute"]["action"]["weightedTargets"] = [
        {"virtualNode": SERVICE, "weight": 70}, {"virtualNode": CANDIDATE, "weight": 30}]
    appmesh.update_route(meshName=PLATFORM, virtualRouterName=f"{SERVICE}-router",
                         routeName=f"{SERVICE}-route", spec=spec)

    res = tf.plan()
    assert res.returncode == 2
    assert "route_weight changed outside Terraform" in res.output
    assert "the candidate has 30% of the traffic, want 100%" in res.output
    emulator.clear_requests()
    tf.apply()
    assert route_targets(emulator) == {SERVICE: 0, CANDIDATE: 100}
    # Repaired in one move, not walked again.
    assert route_weight_history(emulator) == [{SERVICE: 0, CANDIDATE: 100}]
    canary = tf.resource(CANARY)
    assert (canary["status"], canary["current_weight"]) == ("succeeded", 100)
    assert tf.plan().returncode == 0
    tf.destroy()
    assert_nothing_left(emulator)
