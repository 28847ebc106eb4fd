"""Release safety that holds on AWS (issue 19): deployments ECS would not watch, deployments
ECS's answer does not name, and the Cloud Map service ECS may leave behind. The emulator models
each AWS behaviour (see emulator/README.md): an alarm in ALARM at a deployment's start switches
its alarms off (alarms.status DISABLED), `ecs_deployment_answer`, `ecs_service_connect_cleanup`."""

from __future__ import annotations

import json
import threading
import time

import pytest

from harness.terraform import TerraformError
from tests.test_canary_service_connect import CANARY_ADDR, with_canary
from tests.test_delivery import (AUTH, CANARY, NEW_IMAGE, OLD_IMAGE, PLATFORM, config, current_deployment,  # noqa: F401
                                 first_apply, image_of, net, service)

pytestmark = [pytest.mark.microservice, pytest.mark.releases]


def rollback_alarms(emulator) -> list[str]:
    """The service's rollback alarms, as ECS has them (their names are the alarms' business)."""
    return sorted(service(emulator)["deploymentConfiguration"]["alarms"]["alarmNames"])


def set_alarm(emulator, name: str, state: str) -> None:
    emulator.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue=state, StateReason=f"test: {state}")


def when_the_new_deployment_runs(emulator, before: str, then) -> threading.Thread:
    """Call `then()` once the service's deployment after `before` is IN_PROGRESS."""
    def watch() -> None:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                d = current_deployment(emulator)
                if d["serviceDeploymentArn"] != before and d["status"] == "IN_PROGRESS":
                    then()
                    return
            except Exception:  # noqa: BLE001 - not there yet
                pass
            time.sleep(0.2)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_a_release_started_with_an_alarm_left_in_alarm_is_watched(emulator, tf, net):
    """An alarm left in ALARM (by the last release, a quiet service) would switch every rollback
    alarm off for the next deployment: the provider brings it to OK first, so an alarm firing
    during the deployment rolls it back."""
    first_apply(tf, emulator, net, CANARY)
    left, fires = rollback_alarms(emulator)[:2]
    set_alarm(emulator, left, "ALARM")
    before = service(emulator)["currentServiceDeployment"]
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)
    tf.write(config(emulator, net, NEW_IMAGE, CANARY))

    def fire() -> None:
        time.sleep(1)
        set_alarm(emulator, fires, "ALARM")
        time.sleep(1)
        emulator.clock(advance_seconds=3600)  # unwatched, it would now finish

    t = when_the_new_deployment_runs(emulator, before, fire)
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    t.join()
    out = failed.value.result.output
    d = current_deployment(emulator)
    assert d["alarms"]["status"] == "TRIGGERED", d["alarms"]
    assert d["alarms"]["triggeredAlarmNames"] == [fires]
    assert fires in out and "ROLLBACK_SUCCESSFUL" in out, out
    assert image_of(emulator) == OLD_IMAGE
    resets = [b for b in map(body_of, emulator.requests(operation="SetAlarmState"))
              if b.get("AlarmName") == left and b.get("StateValue") == "OK"]
    assert resets, "the alarm left in ALARM was not brought to OK before the deployment"


def body_of(request: dict) -> dict:
    body = request.get("body")
    return json.loads(body) if isinstance(body, str) else (body or {})


def test_a_release_ecs_does_not_watch_is_stopped_with_a_rollback(emulator, tf, net):
    """The alarm is back in ALARM when the deployment starts (CloudWatch evaluated it again right
    after the reset; here the reset is answered but not done): ECS reports alarms.status
    DISABLED, and the provider stops the deployment with a rollback and fails naming the alarm."""
    first_apply(tf, emulator, net, CANARY)
    left = rollback_alarms(emulator)[0]
    set_alarm(emulator, left, "ALARM")
    emulator.inject_fault("monitoring", "SetAlarmState", count=10, status=200)
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)
    # Unwatched and never stopped (the old behaviour), it would only end at the timeout.
    tf.write(config(emulator, net, NEW_IMAGE, CANARY, timeouts='timeouts {\n    update = "2m"\n  }'))
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    out = " ".join(failed.value.result.output.split())
    assert "ECS would not watch the rollback alarms" in out, out
    assert f"alarm {left} was in ALARM" in out, out
    d = current_deployment(emulator)
    assert d["alarms"]["status"] == "DISABLED"
    assert d["status"] == "ROLLBACK_SUCCESSFUL", d["status"]
    assert len(emulator.requests("ecs", "StopServiceDeployment")) == 1
    assert image_of(emulator) == OLD_IMAGE


@pytest.mark.parametrize("answer", ["previous", "blank"])
def test_the_microservice_follows_a_deployment_the_answer_does_not_name(emulator, tf, net, answer):
    """UpdateService may answer before the new deployment is attached: the apply still waits on
    it (here: an alarm rolls it back, and the apply says so)."""
    first_apply(tf, emulator, net, CANARY)
    error_alarm = rollback_alarms(emulator)[0]
    before = service(emulator)["currentServiceDeployment"]
    emulator.settings(ecs_deployment="timed", ecs_deployment_answer=answer)
    emulator.clock(speed=0)
    tf.write(config(emulator, net, NEW_IMAGE, CANARY))

    def fire() -> None:
        time.sleep(3)
        set_alarm(emulator, error_alarm, "ALARM")

    t = when_the_new_deployment_runs(emulator, before, fire)
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    t.join()
    out = failed.value.result.output
    assert error_alarm in out and "ROLLBACK_SUCCESSFUL" in out, out


@pytest.mark.parametrize("answer", ["previous", "blank"])
def test_a_canary_follows_the_deployment_the_answer_does_not_name(emulator, tf, net, answer):
    first_apply(tf, emulator, net, "")
    emulator.settings(ecs_deployment="timed", ecs_deployment_answer=answer)
    emulator.clock(speed=3600)
    tf.write(with_canary(emulator, net, OLD_IMAGE))
    tf.apply()
    state = tf.resource(CANARY_ADDR)
    d = current_deployment(emulator)
    assert d["status"] == "SUCCESSFUL"
    assert state["components"]["service_deployment"] == d["serviceDeploymentArn"], \
        "the canary followed another deployment than the one it started"
    assert state["status"] == "succeeded" and image_of(emulator) == NEW_IMAGE


@pytest.mark.parametrize("cleanup", ["delete", "leave"])
def test_destroy_deletes_the_cloud_map_service_ecs_left_behind(emulator, tf, net, cleanup):
    """ECS deletes the Cloud Map service it made for Service Connect with the ECS service, or
    (as users report) leaves it: destroy deletes it then, and the namespace after it."""
    first_apply(tf, emulator, net, "", timeouts='timeouts {\n    delete = "2m"\n  }')
    sd = emulator.client("servicediscovery")
    # The discovery name is unique per platform (NAME_PLATFORM).
    [made] = [s for s in sd.list_services()["Services"] if s["Name"].startswith(f"{AUTH}_")]
    assert tf.resource("matbakh_microservice.auth")["components"]["discovery_service"] == made["Id"]
    emulator.settings(ecs_service_connect_cleanup=cleanup)
    emulator.clear_requests()
    tf.destroy()
    assert sd.list_services()["Services"] == []
    assert sd.list_namespaces()["Namespaces"] == []
    deleted = emulator.requests("servicediscovery", "DeleteService")
    if cleanup == "delete":
        assert deleted == [], "ECS removed it; the provider must not"
    else:
        assert [body_of(r)["Id"] for r in deleted] == [made["Id"]]


def test_a_canary_retried_with_its_alarms_left_in_alarm_is_watched(emulator, tf, net):
    """A canary rolled back by its alarm leaves it in ALARM, and a quiet service's no-traffic
    alarm sits there too. The next deployment of the same candidate (here: new steps) starts
    with them set to OK, so ECS watches it and an alarm rolls it back again."""
    first_apply(tf, emulator, net, "")
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)
    error_rate = f"{PLATFORM}-{AUTH}-canary-error-rate"
    before = service(emulator)["currentServiceDeployment"]
    t = when_the_new_deployment_runs(emulator, before, lambda: set_alarm(emulator, error_rate, "ALARM"))
    tf.write(with_canary(emulator, net, OLD_IMAGE))
    with pytest.raises(TerraformError):
        tf.apply()
    t.join()
    assert current_deployment(emulator)["status"] == "ROLLBACK_SUCCESSFUL"
    alarms = current_deployment(emulator)["deploymentConfiguration"]["alarms"]["alarmNames"]
    for name in alarms:
        set_alarm(emulator, name, "ALARM")  # the no-traffic alarm of a quiet service, and the rest

    before = service(emulator)["currentServiceDeployment"]

    def fire() -> None:
        time.sleep(1)
        set_alarm(emulator, error_rate, "ALARM")
        time.sleep(1)
        emulator.clock(advance_seconds=3600)  # unwatched, it would now finish

    t = when_the_new_deployment_runs(emulator, before, fire)
    tf.write(with_canary(emulator, net, OLD_IMAGE, steps="[20, 100]"))
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    t.join()
    d = current_deployment(emulator)
    assert d["serviceDeploymentArn"] != before
    assert d["alarms"]["status"] == "TRIGGERED", d["alarms"]
    assert d["status"] == "ROLLBACK_SUCCESSFUL"
    assert error_rate in failed.value.result.output


@pytest.mark.parametrize("deployment", ["canary", "linear"])
def test_import_finds_the_release_alarms_and_plans_clean(emulator, tf, net, deployment):
    """A microservice whose releases roll back on their own alarms (release-error-rate,
    release-latency-maximum, release-no-traffic): an import records them, so the plan after it
    is clean and a destroy after it leaves none behind."""
    block = CANARY if deployment == "canary" else CANARY.replace(
        'strategy           = "canary"\n    canary_percent     = 0.3',
        'strategy           = "linear"\n    step_percent       = 20')
    first_apply(tf, emulator, net, block)
    names = rollback_alarms(emulator)
    assert any(n.endswith("-release-no-traffic") for n in names), names
    tf.run("state", "rm", "matbakh_microservice.auth")
    tf.import_("matbakh_microservice.auth", f"{PLATFORM}/{AUTH}")
    plan = tf.plan()
    assert plan.returncode == 0, plan.output
    tf.destroy()
    left = emulator.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{PLATFORM}-{AUTH}-")
    assert left["MetricAlarms"] == [], [a["AlarmName"] for a in left["MetricAlarms"]]
