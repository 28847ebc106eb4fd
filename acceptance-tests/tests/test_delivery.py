"""Progressive delivery on Service Connect: the microservice's `deployment` block as ECS-native
CANARY / LINEAR / BLUE_GREEN deployments with alarm rollback, and the apply waiting on the ECS
service deployment it started (issue 10). The emulator models service deployments with a
controllable clock (`ecs_deployment=timed`, `clock(speed=...)`) and alarm rollback."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from harness.terraform import REQUIRED_PROVIDERS, TerraformError, provider_block
from tests.test_microservice import network

pytestmark = pytest.mark.microservice

PLATFORM = "matbakh"
AUTH = "auth-service"
ADDR = "matbakh_microservice.auth"
# A canary's rollback alarm for errors is the release's own, scaled to its share (issue 19 item 3).
ERROR_ALARM = f"{PLATFORM}-{AUTH}-release-error-rate"
OLD_IMAGE = "registry.example/auth:1.4.2"
NEW_IMAGE = "registry.example/auth:1.5.0"


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def config(emulator, net, image: str, deployment: str = "", mesh: str = "service_connect",
           timeouts: str = "") -> dict[str, str]:
    vpc = 'vpc_id = "%s"' % net["vpc_id"] if mesh == "app_mesh" else ""
    main = (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, environment="production",
                         extra=f'  service_mesh = "{mesh}"\n')
        + f"""
resource "matbakh_platform" "main" {{
  name   = "{PLATFORM}"
  {vpc}
}}

resource "matbakh_microservice" "auth" {{
  platform           = matbakh_platform.main.id
  name               = "{AUTH}"
  image              = "{image}"
  port               = 8080
  desired_count      = 2
  subnet_ids         = {json.dumps(net['subnet_ids'])}
  security_group_ids = {json.dumps(net['security_group_ids'])}
  execution_role_arn = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
  dashboard          = false  # the emulator cannot tag dashboards yet
  {deployment}
  {timeouts}
}}
"""
    )
    return {"main.tf": main}


def ecs(emulator):
    return emulator.client("ecs")


def service(emulator) -> dict:
    out = ecs(emulator).describe_services(cluster=PLATFORM, services=[AUTH])
    return [s for s in out["services"] if s["status"] == "ACTIVE"][0]


def image_of(emulator) -> str:
    td = ecs(emulator).describe_task_definition(taskDefinition=service(emulator)["taskDefinition"])
    return [c for c in td["taskDefinition"]["containerDefinitions"] if c["name"] == "app"][0]["image"]


def current_deployment(emulator) -> dict:
    arn = service(emulator)["currentServiceDeployment"]
    return ecs(emulator).describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]


def stops(emulator) -> list[dict]:
    return emulator.requests("ecs", "StopServiceDeployment")


def assert_plan_clean(tf) -> None:
    result = tf.plan()
    assert result.returncode == 0, result.output


def first_apply(tf, emulator, net, deployment: str, **kw) -> None:
    """The service's first deployment (nothing to shift from: it only scales up)."""
    emulator.settings(ecs_deployment="completed")
    tf.write(config(emulator, net, OLD_IMAGE, deployment, **kw))
    tf.apply()


CANARY = """deployment {
    strategy           = "canary"
    canary_percent     = 0.3
    bake_time          = "5m"
    rollback_on_alarms = true
  }"""


def test_canary_deployment_succeeds_and_plans_clean(emulator, tf, net):
    first_apply(tf, emulator, net, CANARY)
    dc = service(emulator)["deploymentConfiguration"]
    assert dc["strategy"] == "CANARY"
    assert dc["canaryConfiguration"] == {"canaryPercent": 0.3, "canaryBakeTimeInMinutes": 5}
    assert dc["bakeTimeInMinutes"] == 5
    assert dc["alarms"]["enable"] and dc["alarms"]["rollback"]
    assert sorted(dc["alarms"]["alarmNames"]) == [
        ERROR_ALARM, f"{PLATFORM}-{AUTH}-release-latency-maximum", f"{PLATFORM}-{AUTH}-release-no-traffic"]
    # AWS gives the circuit breaker to rolling deployments only (the emulator refuses it here).
    assert dc["deploymentCircuitBreaker"] == {"enable": False, "rollback": False}
    assert_plan_clean(tf)

    # A new image: the canary bakes 5 virtual minutes twice; the clock runs an hour a second.
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.write(config(emulator, net, NEW_IMAGE, CANARY))
    result = tf.apply()
    assert image_of(emulator) == NEW_IMAGE
    d = current_deployment(emulator)
    assert d["status"] == "SUCCESSFUL"
    assert stops(emulator) == []
    # The wait followed the service deployment, not deployments[].rolloutState.
    assert emulator.requests("ecs", "DescribeServiceDeployments"), "the apply never looked at the deployment"
    assert_plan_clean(tf)
    del result


def fire_when_in_progress(emulator, within: float = 60) -> threading.Thread:
    """A thread that sets the error-rate alarm to ALARM once a service deployment is in
    progress (the clock stopped, it sits in its first stage until then)."""
    def fire() -> None:
        deadline = time.time() + within
        cw = emulator.client("cloudwatch")
        while time.time() < deadline:
            try:
                if current_deployment(emulator)["status"] == "IN_PROGRESS":
                    cw.set_alarm_state(AlarmName=ERROR_ALARM, StateValue="ALARM",
                                       StateReason="Threshold Crossed: 3 of 3 datapoints were greater than 5.0")
                    return
            except Exception:  # noqa: BLE001 - the deployment may not exist yet
                pass
            time.sleep(0.2)

    firing = threading.Thread(target=fire, daemon=True)
    firing.start()
    return firing


def test_alarm_during_the_bake_rolls_back_and_fails_naming_the_alarm(emulator, tf, net):
    first_apply(tf, emulator, net, CANARY)
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)  # sits in its first stage until the alarm fires
    tf.write(config(emulator, net, NEW_IMAGE, CANARY))
    firing = fire_when_in_progress(emulator)
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    firing.join()
    out = failed.value.result.output
    assert ERROR_ALARM in out, out
    assert "ROLLBACK_SUCCESSFUL" in out, out
    d = current_deployment(emulator)
    assert d["status"] == "ROLLBACK_SUCCESSFUL"
    assert d["alarms"]["triggeredAlarmNames"] == [ERROR_ALARM]
    # The service runs the old revision, and the state still records the microservice.
    assert image_of(emulator) == OLD_IMAGE
    assert ADDR in tf.state_list()
    assert stops(emulator) == [], "ECS rolled back by itself; the provider stopped nothing"
    # A plan never hides that AWS differs from the configuration (issue 19 item 11, reversing
    # issue 10's clean plan): it shows the image that runs -> the configured one, and warns that
    # the configured one was rolled back, when and by which alarm.
    result = tf.plan()
    assert result.returncode == 2, result.output
    words = " ".join(result.output.split())
    assert f'~ image = "{OLD_IMAGE}" -> "{NEW_IMAGE}"' in words, result.output
    assert f"image {NEW_IMAGE} was rolled back at " in words, result.output
    assert f"because alarm {ERROR_ALARM} went into ALARM" in words, result.output
    # Refreshed, the state records what runs.
    tf.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
    assert tf.resource(ADDR)["image"] == OLD_IMAGE
    # Applying it is a deliberate retry of the release, which now goes through.
    cw = emulator.client("cloudwatch")
    cw.set_alarm_state(AlarmName=ERROR_ALARM, StateValue="OK", StateReason="fixed")
    emulator.clock(speed=3600)
    tf.apply()
    assert image_of(emulator) == NEW_IMAGE
    assert current_deployment(emulator)["status"] == "SUCCESSFUL"
    assert len(emulator.requests("ecs", "UpdateService")) == 2, "the retry deployed once"
    assert_plan_clean(tf)


@pytest.mark.parametrize("block,strategy", [
    ('deployment {\n    strategy = "linear"\n    step_percent = 25\n    bake_time = "1m"\n  }', "LINEAR"),
    ('deployment {\n    strategy = "blue_green"\n    bake_time = "2m"\n  }', "BLUE_GREEN"),
])
def test_linear_and_blue_green_deploy(emulator, tf, net, block, strategy):
    first_apply(tf, emulator, net, block)
    assert service(emulator)["deploymentConfiguration"]["strategy"] == strategy
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.write(config(emulator, net, NEW_IMAGE, block))
    tf.apply()
    assert image_of(emulator) == NEW_IMAGE
    assert current_deployment(emulator)["status"] == "SUCCESSFUL"
    if strategy == "LINEAR":
        assert service(emulator)["deploymentConfiguration"]["linearConfiguration"]["stepPercent"] == 25.0
    assert_plan_clean(tf)


def test_strategies_need_service_connect_and_exact_percentages(emulator, tf, net):
    tf.write(config(emulator, net, OLD_IMAGE, 'deployment {\n    strategy = "canary"\n  }',
                    mesh="app_mesh"))
    with pytest.raises(TerraformError) as failed:
        tf.plan()
    out = failed.value.result.output
    assert "Deployment strategy needs service_connect" in out, out
    assert 'strategy = "canary"' in out, "the error points at the attribute\n" + out
    assert "app_mesh" in out, out

    tf.write(config(emulator, net, OLD_IMAGE,
                    'deployment {\n    strategy = "canary"\n    canary_percent = 0.05\n  }'))
    with pytest.raises(TerraformError) as failed:
        tf.plan()
    assert "multiple of 0.1" in failed.value.result.output, failed.value.result.output


def test_a_timeout_mid_deployment_rolls_back_and_says_so(emulator, tf, net):
    first_apply(tf, emulator, net, CANARY, timeouts='timeouts {\n    update = "15s"\n  }')
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)
    tf.write(config(emulator, net, NEW_IMAGE, CANARY, timeouts='timeouts {\n    update = "15s"\n  }'))
    started = time.time()
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    took = time.time() - started
    out = failed.value.result.output
    assert "timed out" in out, out
    assert "rollback" in out, out
    assert len(stops(emulator)) == 1
    assert current_deployment(emulator)["status"] == "ROLLBACK_SUCCESSFUL"
    assert image_of(emulator) == OLD_IMAGE
    assert took < 60, f"the apply took {took:.0f} s"


def test_ctrl_c_mid_deployment_rolls_back_within_seconds(emulator, tf, net):
    first_apply(tf, emulator, net, CANARY)
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)
    tf.write(config(emulator, net, NEW_IMAGE, CANARY))
    out, took, _ = tf.apply_interrupted_when(
        lambda: current_deployment(emulator)["status"] == "IN_PROGRESS"
        and service(emulator)["taskDefinition"].endswith(":2"),
        after=2)
    assert took < 20, f"returned {took:.0f} s after Ctrl-C\n{out}"
    assert len(stops(emulator)) == 1, out
    assert current_deployment(emulator)["status"] == "ROLLBACK_SUCCESSFUL"
    assert image_of(emulator) == OLD_IMAGE


def test_a_healthy_deployment_is_never_rolled_back(emulator, tf, net):
    """The watcher acts only on a real interruption of a deployment still in progress: a
    deployment that succeeds, followed by plans, a no-op apply and a settings-only change,
    is never stopped (terraform-provider-aws #49031, #49077)."""
    first_apply(tf, emulator, net, CANARY)
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.write(config(emulator, net, NEW_IMAGE, CANARY))
    tf.apply()
    tf.apply()
    tf.write(config(emulator, net, NEW_IMAGE, CANARY.replace('"5m"', '"6m"')))
    tf.apply()
    assert_plan_clean(tf)
    assert stops(emulator) == []
    assert current_deployment(emulator)["status"] == "SUCCESSFUL"
    assert image_of(emulator) == NEW_IMAGE


def test_rolling_by_default_waits_on_the_service_deployment(emulator, tf, net):
    first_apply(tf, emulator, net, "")
    assert service(emulator)["deploymentConfiguration"]["strategy"] == "ROLLING"
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.write(config(emulator, net, NEW_IMAGE))
    tf.apply()
    assert image_of(emulator) == NEW_IMAGE
    assert current_deployment(emulator)["status"] == "SUCCESSFUL"
    assert emulator.requests("ecs", "DescribeServiceDeployments")
    assert_plan_clean(tf)


# ---------------------------------------------------------------------------- silence

CANARY_ON_APP_MESH = """
resource "matbakh_canary" "auth" {
  microservice  = matbakh_microservice.auth.id
  image         = "%s"
  steps         = [10, 50, 100]
  step_interval = "2s"
}
"""


def test_app_mesh_canary_with_no_traffic_does_not_promote(emulator, tf, net):
    """The candidate's no-traffic alarm (missing data breaching) is one of the alarms the walk
    checks: once CloudWatch calls the candidate silent, the walk rolls back naming it. The
    emulator evaluates no metrics, so the test sets the state CloudWatch would."""
    files = config(emulator, net, OLD_IMAGE, mesh="app_mesh")
    files["main.tf"] += CANARY_ON_APP_MESH % NEW_IMAGE
    tf.write(files)
    silence = f"{PLATFORM}-{AUTH}-canary-no-traffic"

    def go_silent() -> None:
        cw = emulator.client("cloudwatch")
        deadline = time.time() + 120
        while time.time() < deadline:
            if cw.describe_alarms(AlarmNames=[silence])["MetricAlarms"] and \
                    emulator.requests("appmesh", "UpdateRoute"):
                cw.set_alarm_state(AlarmName=silence, StateValue="ALARM",
                                   StateReason="Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].")
                return
            time.sleep(0.1)

    alarm = emulator.client("cloudwatch")
    quiet = threading.Thread(target=go_silent, daemon=True)
    quiet.start()
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    quiet.join()
    out = failed.value.result.output
    assert silence in out, out
    canary = tf.resource("matbakh_canary.auth")
    assert canary["status"] == "rolled_back"
    assert canary["current_weight"] == 0
    a = alarm.describe_alarms(AlarmNames=[silence])["MetricAlarms"][0]
    assert a["TreatMissingData"] == "breaching"
    assert a["ComparisonOperator"] == "LessThanThreshold"


def test_a_step_list_ecs_cannot_express_fails_at_plan(emulator, tf, net):
    files = config(emulator, net, OLD_IMAGE)
    files["main.tf"] += """
resource "matbakh_canary" "auth" {
  microservice  = matbakh_microservice.auth.id
  image         = "%s"
  steps         = [5, 25, 50, 100]
  step_interval = "5m"
}
""" % NEW_IMAGE
    tf.write(files)
    with pytest.raises(TerraformError) as failed:
        tf.plan()
    out = failed.value.result.output
    assert "Steps ECS cannot express" in out, out
    assert "steps = [5, 25, 50, 100]" in out, out
    for expressible in ("[p, 100]", "LINEAR", "blue_green"):
        assert expressible in out, out


def test_example_canary_on_service_connect(emulator, tf, net):
    """examples/canary/service-connect: release a new image as an ECS canary deployment."""
    example = Path(__file__).resolve().parents[2] / "examples" / "canary" / "service-connect"
    values = {"endpoint": emulator.endpoint, "subnet_ids": net["subnet_ids"],
              "security_group_ids": net["security_group_ids"], "dashboard": False,
              "canary_percent": 0.5, "bake_time": "2m"}
    emulator.settings(ecs_deployment="completed")
    tf.copy_dir(example, values)
    tf.apply()
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.copy_dir(example, {**values, "image": NEW_IMAGE})
    tf.apply()
    assert image_of(emulator) == NEW_IMAGE
    d = current_deployment(emulator)
    assert d["status"] == "SUCCESSFUL"
    assert d["deploymentConfiguration"]["strategy"] == "CANARY"
    assert_plan_clean(tf)
