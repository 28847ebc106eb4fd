"""matbakh_canary on service_connect: an ECS-native deployment of the candidate image on the
microservice's own ECS service (issue 10 item 4). ECS walks the traffic (CANARY / LINEAR /
BLUE_GREEN) and rolls back on the canary's alarms; the emulator's clock drives the stages."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from harness.terraform import TerraformError
from tests.test_delivery import (AUTH, NEW_IMAGE, OLD_IMAGE, PLATFORM, assert_plan_clean, config, net,
                                 current_deployment, ecs, first_apply, image_of, service, stops)  # noqa: F401 (net is a fixture)

pytestmark = pytest.mark.microservice

CANARY_ADDR = "matbakh_canary.auth"
NEWER_IMAGE = "registry.example/auth:1.6.0"
CANARY_ALARMS = [f"{PLATFORM}-{AUTH}-canary-{what}" for what in ("error-rate", "latency-maximum", "no-traffic")]


def with_canary(emulator, net, stable_image: str, steps: str = "[10, 100]", extra: str = "") -> dict:
    files = config(emulator, net, stable_image)
    files["main.tf"] += f"""
resource "matbakh_canary" "auth" {{
  microservice  = matbakh_microservice.auth.id
  image         = "{NEW_IMAGE}"
  steps         = {steps}
  step_interval = "1m"
  rollback_on {{
    error_rate_percent = 2
    p95_latency_ms     = 150
  }}
  {extra}
}}
"""
    return files


def canary_state(tf) -> dict:
    return tf.resource(CANARY_ADDR)


def tags_of(emulator, arn: str) -> dict:
    out = ecs(emulator).describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return {t["key"]: t["value"] for t in out.get("tags", [])}


def alarm_names(emulator) -> list[str]:
    cw = emulator.client("cloudwatch")
    return sorted(a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"])


def test_a_canary_deploys_on_the_service_and_promotion_redeploys_nothing(emulator, tf, net):
    first_apply(tf, emulator, net, "")
    stable_td = service(emulator)["taskDefinition"]
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.write(with_canary(emulator, net, OLD_IMAGE))
    applied = tf.apply()
    # step_interval = "1m" is allowed (the emulator's alarms are set by hand) and the plan says why.
    assert "shorter than the alarms' evaluation window" in applied.output, applied.output

    state = canary_state(tf)
    assert state["status"] == "succeeded" and state["current_weight"] == 100, state
    d = current_deployment(emulator)
    assert d["status"] == "SUCCESSFUL"
    assert d["deploymentConfiguration"]["strategy"] == "CANARY"
    assert d["deploymentConfiguration"]["canaryConfiguration"]["canaryPercent"] == 10
    assert sorted(d["deploymentConfiguration"]["alarms"]["alarmNames"]) == sorted(CANARY_ALARMS)
    assert d["deploymentConfiguration"]["alarms"]["rollback"] is True
    assert stops(emulator) == [], "a healthy canary deployment was stopped"
    # The candidate is a revision of the service's own family, marked as the canary's.
    running = service(emulator)["taskDefinition"]
    assert running != stable_td and image_of(emulator) == NEW_IMAGE
    assert running.split("/")[-1].split(":")[0] == stable_td.split("/")[-1].split(":")[0]
    assert tags_of(emulator, running)["matbakh:canary"] == f"{PLATFORM}/{AUTH}-canary"
    assert state["components"]["candidate_task_definition"] == running
    assert state["components"]["service_deployment"] == d["serviceDeploymentArn"]
    # The deployment ended: the service's own settings are back.
    dc = service(emulator)["deploymentConfiguration"]
    assert dc.get("strategy", "ROLLING") == "ROLLING", dc
    assert not set(CANARY_ALARMS) & set(dc.get("alarms", {}).get("alarmNames", [])), dc
    assert set(CANARY_ALARMS) <= set(alarm_names(emulator))
    # Neither resource fights the other, not even when the microservice changes meanwhile.
    assert_plan_clean(tf)
    files = with_canary(emulator, net, OLD_IMAGE)
    files["main.tf"] = files["main.tf"].replace("desired_count      = 2", "desired_count      = 3")
    tf.write(files)
    tf.apply()
    assert service(emulator)["desiredCount"] == 3
    assert service(emulator)["taskDefinition"] == running, "the microservice reverted the canary"
    assert_plan_clean(tf)

    # Promotion: the microservice takes the candidate's image, the canary goes.
    deployment_before = service(emulator)["currentServiceDeployment"]
    files = config(emulator, net, NEW_IMAGE)
    files["main.tf"] = files["main.tf"].replace("desired_count      = 2", "desired_count      = 3")
    tf.write(files)
    tf.apply()
    svc = service(emulator)
    assert svc["taskDefinition"] == running, "promotion deployed another revision"
    assert svc["currentServiceDeployment"] == deployment_before, "promotion started a deployment"
    assert "matbakh:canary" not in tags_of(emulator, running)
    assert tf.resource("matbakh_microservice.auth")["task_definition_arn"] == running
    assert not set(CANARY_ALARMS) & set(alarm_names(emulator))
    assert CANARY_ADDR not in tf.state_list()
    assert_plan_clean(tf)


@pytest.mark.parametrize("alarm", ["error-rate", "no-traffic"])
def test_an_alarm_rolls_a_new_candidate_back_and_nothing_fights(emulator, tf, net, alarm):
    """ECS rolls back on the canary's alarms; silence (no traffic) counts as a failure."""
    first_apply(tf, emulator, net, "")
    stable_td = service(emulator)["taskDefinition"]
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.write(with_canary(emulator, net, OLD_IMAGE))
    tf.apply()
    first_candidate = service(emulator)["taskDefinition"]
    assert first_candidate != stable_td

    # A newer candidate; the deployment sits in its first stage until the alarm fires.
    emulator.clock(speed=0)
    name = f"{PLATFORM}-{AUTH}-canary-{alarm}"

    def fire() -> None:
        deadline = time.time() + 90
        cw = emulator.client("cloudwatch")
        while time.time() < deadline:
            try:
                d = current_deployment(emulator)
                if d["status"] == "IN_PROGRESS" and service(emulator)["taskDefinition"] != first_candidate:
                    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed")
                    return
            except Exception:  # noqa: BLE001 - not started yet
                pass
            time.sleep(0.2)

    firing = threading.Thread(target=fire, daemon=True)
    firing.start()
    tf.write(with_canary(emulator, net, OLD_IMAGE).copy() | {
        "main.tf": with_canary(emulator, net, OLD_IMAGE)["main.tf"].replace(NEW_IMAGE, NEWER_IMAGE)})
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    firing.join()
    out = failed.value.result.output
    assert "rolled back" in out and name in out, out
    d = current_deployment(emulator)
    assert d["status"] == "ROLLBACK_SUCCESSFUL"
    assert d["alarms"]["triggeredAlarmNames"] == [name]
    assert service(emulator)["taskDefinition"] == first_candidate
    state = canary_state(tf)
    assert state["status"] == "rolled_back" and state["current_weight"] == 0, state
    assert stops(emulator) == [], "ECS rolled back by itself; the provider stopped nothing"
    dc = service(emulator)["deploymentConfiguration"]
    assert dc.get("strategy", "ROLLING") == "ROLLING", dc
    # Rolled back stays rolled back; the microservice does not fight it (not tainted: an update).
    assert_plan_clean(tf)

    # Removing the canary: its rejected revision and its alarms go. The revision the service
    # runs (the earlier candidate) becomes the microservice's, whose next plan shows its own
    # image as the change to make; that apply deploys it.
    rejected = state["components"]["candidate_task_definition"]
    tf.write(config(emulator, net, OLD_IMAGE))
    tf.apply()
    status = ecs(emulator).describe_task_definition(taskDefinition=rejected)["taskDefinition"]["status"]
    assert status == "INACTIVE"
    assert "matbakh:canary" not in tags_of(emulator, first_candidate)
    assert not set(CANARY_ALARMS) & set(alarm_names(emulator))
    plan = tf.plan()
    assert plan.returncode == 2 and NEW_IMAGE in plan.output and OLD_IMAGE in plan.output, plan.output
    emulator.clock(speed=3600)
    tf.apply()
    assert image_of(emulator) == OLD_IMAGE
    assert_plan_clean(tf)


def test_ctrl_c_mid_canary_rolls_the_deployment_back(emulator, tf, net):
    first_apply(tf, emulator, net, "")
    stable_td = service(emulator)["taskDefinition"]
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)
    tf.write(with_canary(emulator, net, OLD_IMAGE))
    out, took, returncode = tf.apply_interrupted_when(
        lambda: current_deployment(emulator)["status"] == "IN_PROGRESS"
        and service(emulator)["taskDefinition"] != stable_td,
        within=90, timeout=60)
    assert returncode != 0, out
    assert len(stops(emulator)) == 1, "the provider did not stop the deployment"
    assert current_deployment(emulator)["status"] == "ROLLBACK_SUCCESSFUL"
    assert service(emulator)["taskDefinition"] == stable_td
    assert took < 20, f"returned {took:.0f} s after Ctrl-C\n{out}"
    assert CANARY_ADDR in tf.state_list(), out
    assert canary_state(tf)["status"] == "rolled_back"


@pytest.mark.parametrize("steps,strategy,config_key", [
    ("[25, 50, 75, 100]", "LINEAR", "linearConfiguration"),
    (None, "BLUE_GREEN", None),
])
def test_linear_and_blue_green_canaries(emulator, tf, net, steps, strategy, config_key):
    first_apply(tf, emulator, net, "")
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    files = with_canary(emulator, net, OLD_IMAGE, steps=steps or "[10, 100]",
                        extra='strategy = "blue_green"' if steps is None else "")
    tf.write(files)
    tf.apply()
    d = current_deployment(emulator)
    assert d["status"] == "SUCCESSFUL"
    assert d["deploymentConfiguration"]["strategy"] == strategy
    if config_key:
        assert d["deploymentConfiguration"][config_key]["stepPercent"] == 25
    assert d["deploymentConfiguration"]["bakeTimeInMinutes"] == 1
    assert canary_state(tf)["status"] == "succeeded"
    assert image_of(emulator) == NEW_IMAGE
    assert_plan_clean(tf)
    tf.destroy()
    assert not set(CANARY_ALARMS) & set(alarm_names(emulator))


def test_example_canary_resource_on_service_connect(emulator, tf, net):
    """examples/canary/service-connect with `candidate_image`: release and promote a matbakh_canary."""
    example = Path(__file__).resolve().parents[2] / "examples" / "canary" / "service-connect"
    values = {"endpoint": emulator.endpoint, "subnet_ids": net["subnet_ids"],
              "security_group_ids": net["security_group_ids"], "candidate_step_interval": "1m"}
    emulator.settings(ecs_deployment="completed")
    tf.copy_dir(example, values)
    tf.apply()
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.copy_dir(example, {**values, "candidate_image": NEW_IMAGE})
    tf.apply()
    assert tf.output("canary") == {"status": "succeeded", "current_weight": 100}
    assert image_of(emulator) == NEW_IMAGE
    running = service(emulator)["taskDefinition"]
    deployment = service(emulator)["currentServiceDeployment"]
    assert_plan_clean(tf)
    tf.copy_dir(example, {**values, "image": NEW_IMAGE})
    tf.apply()
    assert service(emulator)["taskDefinition"] == running
    assert service(emulator)["currentServiceDeployment"] == deployment
    assert_plan_clean(tf)
    tf.destroy()
