"""Release safety that holds on a real AWS account (issue 19 items 1, 3, 9): the alarms of a
microservice read only its own platform's traffic, a release's rollback alarms are built from
the share of traffic the candidate gets, and alarm names say which statistic they read.

The emulator publishes the Service Connect metrics the way AWS does (a metric by
`TargetDiscoveryName` alone sums every caller of that discovery name in the account and
region) and evaluates the alarms on them (emulator/extensions/metrics.py)."""

from __future__ import annotations

import json

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block
from tests.test_microservice import network

pytestmark = pytest.mark.microservice

AUTH = "auth-service"


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def microservice(resource: str, platform: str, net: dict, image: str = "registry.example/auth:1.4.2",
                 extra: str = "") -> str:
    return f"""
resource "matbakh_microservice" "{resource}" {{
  platform           = matbakh_platform.{platform}.id
  name               = "{AUTH}"
  image              = "{image}"
  port               = 8080
  desired_count      = 2
  subnet_ids         = {json.dumps(net['subnet_ids'])}
  security_group_ids = {json.dumps(net['security_group_ids'])}
  execution_role_arn = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
  dashboard          = false
  {extra}
}}
"""


def two_platforms(emulator, net) -> dict[str, str]:
    """Staging and production in one account and region, each with an `auth-service`."""
    main = (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, environment="production")
        # A Cloud Map HTTP namespace name is unique per region: one each.
        + 'resource "matbakh_platform" "staging" {\n  name = "staging"\n  namespace = "staging.local"\n}\n'
        + 'resource "matbakh_platform" "production" {\n  name = "production"\n  namespace = "prod.local"\n}\n'
        + microservice("staging", "staging", net)
        + microservice("production", "production", net)
    )
    return {"main.tf": main}


def alarms_of(emulator, platform: str) -> dict[str, dict]:
    cw = emulator.client("cloudwatch")
    found = cw.describe_alarms(AlarmNamePrefix=f"{platform}-{AUTH}-")["MetricAlarms"]
    return {a["AlarmName"]: a for a in found}


def series_read(alarm: dict) -> set[tuple]:
    """The metric series (namespace, name, dimension set) an alarm reads."""
    if "Metrics" in alarm:
        stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    else:
        stats = [alarm]
    return {(m["Namespace"], m["MetricName"],
             tuple(sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", []))))
            for m in stats}


def test_two_platforms_with_the_same_service_names_read_no_common_metric(emulator, tf, net):
    tf.write(two_platforms(emulator, net))
    tf.apply()
    staging, production = alarms_of(emulator, "staging"), alarms_of(emulator, "production")
    assert staging and production

    # Staging's auth-service fails every request; production's serves every one.
    emulator.service_connect_traffic(cluster="staging", service=AUTH, caller_service="web",
                                     requests=100, errors=100, latency_ms=20)
    emulator.service_connect_traffic(cluster="production", service=AUTH, caller_service="web",
                                     requests=100, errors=0, latency_ms=20)
    states = emulator.evaluate_alarms()
    [staging_errors] = [n for n in staging if n.endswith("-error-rate")]
    [production_errors] = [n for n in production if n.endswith("-error-rate")]
    assert states[staging_errors]["state"] == "ALARM", states
    assert states[production_errors]["state"] == "OK", states
    assert states[production_errors]["points"] == [0.0, 0.0, 0.0], states
    read_by_staging = set().union(*(series_read(a) for a in staging.values()))
    read_by_production = set().union(*(series_read(a) for a in production.values()))
    assert read_by_staging.isdisjoint(read_by_production), read_by_staging & read_by_production


def test_two_app_mesh_platforms_with_the_same_service_names_read_no_common_metric(emulator, tf, net):
    """App Mesh: the ADOT collector publishes with the dimensions the provider gives it; the
    platform is one of them, so two platforms of one environment and region stay apart."""
    main = (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, environment="production", service_mesh="app_mesh")
        + f'resource "matbakh_platform" "staging" {{\n  name = "staging"\n  namespace = "staging.local"\n'
          f'  vpc_id = "{net["vpc_id"]}"\n}}\n'
        + f'resource "matbakh_platform" "production" {{\n  name = "production"\n  namespace = "prod.local"\n'
          f'  vpc_id = "{net["vpc_id"]}"\n}}\n'
        + microservice("staging", "staging", net)
        + microservice("production", "production", net)
    )
    tf.write({"main.tf": main})
    tf.apply()
    staging, production = alarms_of(emulator, "staging"), alarms_of(emulator, "production")
    assert staging and production
    read_by_staging = set().union(*(series_read(a) for a in staging.values()))
    read_by_production = set().union(*(series_read(a) for a in production.values()))
    assert read_by_staging.isdisjoint(read_by_production), read_by_staging & read_by_production


OLD_IMAGE = "registry.example/auth:1.4.2"
NEW_IMAGE = "registry.example/auth:1.5.0"
CANARY_2 = """deployment {
    strategy           = "canary"
    canary_percent     = 2
    bake_time          = "5m"
    rollback_on_alarms = true
  }"""


def one_platform(emulator, net, image: str) -> dict[str, str]:
    main = (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, environment="production")
        + 'resource "matbakh_platform" "main" {\n  name = "matbakh"\n}\n'
        + microservice("auth", "main", net, image=image, extra=CANARY_2)
    )
    return {"main.tf": main}


def test_a_candidate_failing_every_request_at_two_percent_is_rolled_back(emulator, tf, net):
    """Service Connect has one metric for both revisions: a 2 % candidate failing every request
    makes the service fail 2 % of its requests, under the user's 5 %. The release's own
    error-rate alarm is scaled to the share (5 % of 2 %) and rolls it back; the microservice's
    operational alarm keeps the user's 5 %."""
    import threading
    import time

    from harness.terraform import TerraformError

    emulator.settings(ecs_deployment="completed")
    tf.write(one_platform(emulator, net, OLD_IMAGE))
    tf.apply()
    ecs = emulator.client("ecs")

    def deployment() -> dict:
        [svc] = [s for s in ecs.describe_services(cluster="matbakh", services=[AUTH])["services"]
                 if s["status"] == "ACTIVE"]
        return ecs.describe_service_deployments(
            serviceDeploymentArns=[svc["currentServiceDeployment"]])["serviceDeployments"][0]

    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)  # the candidate holds its 2 % until the alarms have spoken
    tf.write(one_platform(emulator, net, NEW_IMAGE))
    seen: dict = {}

    def traffic() -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                d = deployment()
                if d["status"] == "IN_PROGRESS" and d["sourceServiceRevisions"]:
                    break
            except Exception:  # noqa: BLE001 - not started yet
                pass
            time.sleep(0.2)
        # 100 requests a minute; the candidate's 2 fail, the old revision's 98 succeed.
        emulator.service_connect_traffic(cluster="matbakh", service=AUTH, requests=100, errors=2,
                                         latency_ms=20)
        seen.update(emulator.evaluate_alarms())
        # Without a rollback the release bakes on and completes.
        emulator.clock(speed=3600)

    t = threading.Thread(target=traffic, daemon=True)
    t.start()
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    t.join()
    release, operational = "matbakh-auth-service-release-error-rate", "matbakh-auth-service-error-rate"
    out = failed.value.result.output
    assert release in out, out
    assert seen[release]["state"] == "ALARM", seen
    assert seen[operational]["state"] == "OK", seen
    d = deployment()
    assert d["status"] == "ROLLBACK_SUCCESSFUL" and d["alarms"]["triggeredAlarmNames"] == [release]
    cw = emulator.client("cloudwatch")
    thresholds = {a["AlarmName"]: a["Threshold"]
                  for a in cw.describe_alarms(AlarmNamePrefix="matbakh-auth-service-")["MetricAlarms"]}
    assert thresholds[release] == pytest.approx(0.1)
    assert thresholds[operational] == 5


def release_with_traffic(emulator, tf, net, deployment: str, requests_per_minute: float,
                         minutes: int, canary: str = "", **candidate) -> tuple[dict, object]:
    """Release NEW_IMAGE with `deployment`; once ECS holds the new revision in its first step,
    the service serves `requests_per_minute` for `minutes` and the alarms are evaluated; then
    the clock runs. Returns the evaluation and the apply's error (None when it succeeded).
    With `canary` (a matbakh_canary resource), that is the release instead; `candidate`
    (candidate_share=, candidate_latency_ms=) says how the new revision answers."""
    import threading
    import time

    from harness.terraform import TerraformError

    def config(image: str, with_canary: bool = False) -> dict[str, str]:
        return {"main.tf": REQUIRED_PROVIDERS + provider_block(emulator.endpoint, environment="production")
                + 'resource "matbakh_platform" "main" {\n  name = "matbakh"\n}\n'
                + microservice("auth", "main", net, image=image, extra=deployment)
                + (canary if with_canary else "")}

    emulator.settings(ecs_deployment="completed")
    tf.write(config(OLD_IMAGE))
    tf.apply()
    ecs = emulator.client("ecs")
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=0)
    tf.write(config(OLD_IMAGE, True) if canary else config(NEW_IMAGE))
    seen: dict = {}

    def traffic() -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                [svc] = [s for s in ecs.describe_services(cluster="matbakh", services=[AUTH])["services"]
                         if s["status"] == "ACTIVE"]
                [d] = ecs.describe_service_deployments(
                    serviceDeploymentArns=[svc["currentServiceDeployment"]])["serviceDeployments"]
                if d["status"] == "IN_PROGRESS" and d["sourceServiceRevisions"]:
                    break
            except Exception:  # noqa: BLE001 - not started yet
                pass
            time.sleep(0.2)
        if requests_per_minute:
            emulator.service_connect_traffic(cluster="matbakh", service=AUTH, minutes=minutes,
                                             requests=requests_per_minute, latency_ms=20, **candidate)
        seen.update(emulator.evaluate_alarms())
        emulator.clock(speed=3600)

    t = threading.Thread(target=traffic, daemon=True)
    t.start()
    try:
        tf.apply()
        error = None
    except TerraformError as e:
        error = e
    t.join()
    return seen, error


@pytest.mark.parametrize("candidate_ms", [400, 25])
def test_a_candidate_slower_than_the_threshold_at_two_percent_is_rolled_back(emulator, tf, net,
                                                                              candidate_ms):
    """The old revision answers in 20 ms, the candidate at 2 % in 400 ms (p95_latency_ms 200):
    the service's Average is 27.6 ms, far under 200, so the operational latency alarm cannot see
    it. The release's latency alarm reads the Maximum, which the candidate moves at any share,
    and rolls it back; a candidate as fast as the old revision (25 ms) is released."""
    seen, error = release_with_traffic(emulator, tf, net, CANARY_2, requests_per_minute=100,
                                       minutes=5, candidate_share=2,
                                       candidate_latency_ms=candidate_ms)
    release, operational = ("matbakh-auth-service-release-latency-maximum",
                            "matbakh-auth-service-latency-average")
    assert seen[operational]["state"] == "OK", seen
    assert seen[operational]["points"][-1] == pytest.approx(0.98 * 20 + 0.02 * candidate_ms), seen
    cw = emulator.client("cloudwatch")
    thresholds = {a["AlarmName"]: a["Threshold"]
                  for a in cw.describe_alarms(AlarmNamePrefix="matbakh-auth-service-")["MetricAlarms"]}
    assert thresholds[release] == 200 and thresholds[operational] == 200, thresholds
    if candidate_ms == 25:
        assert seen[release]["state"] == "OK", seen
        assert error is None, error.result.output if error else ""
        return
    assert seen[release]["state"] == "ALARM", seen
    assert error is not None, "a candidate slower than p95_latency_ms was promoted"
    out = error.result.output
    assert release in out and "ROLLBACK_SUCCESSFUL" in out, out


SILENCE = "matbakh-auth-service-release-no-traffic"
CANARY_5 = """deployment {
    strategy           = "canary"
    canary_percent     = 5
    bake_time          = "5m"
    rollback_on_alarms = true
    min_requests       = %d
  }"""


def test_a_release_nobody_calls_in_its_step_rolls_back(emulator, tf, net):
    """Never promote on silence, over the step: at 5 % for 5 minutes, 2 requests a minute give
    the new revision half a request; it must serve min_requests = 1."""
    seen, error = release_with_traffic(emulator, tf, net, CANARY_5 % 1, requests_per_minute=2, minutes=5)
    assert seen[SILENCE]["state"] == "ALARM", seen
    assert seen[SILENCE]["points"] == [10.0], seen
    assert error is not None, "a silent release was promoted"
    assert SILENCE in error.result.output, error.result.output


def test_a_quiet_service_releases(emulator, tf, net):
    """5 requests a minute for a 5-minute step at 5 %: 1.25 for the new revision, enough for
    min_requests = 1 (a per-minute rule would have needed 20 a minute)."""
    seen, error = release_with_traffic(emulator, tf, net, CANARY_5 % 1, requests_per_minute=5, minutes=5)
    assert seen[SILENCE]["state"] == "OK", seen
    assert error is None, error.result.output if error else ""
    cw = emulator.client("cloudwatch")
    [a] = cw.describe_alarms(AlarmNames=[SILENCE])["MetricAlarms"]
    assert a["Threshold"] == 20 and a["EvaluationPeriods"] == 1
    assert a["Metrics"][0]["MetricStat"]["Period"] == 300


def canary_resource(extra: str = "") -> str:
    """A matbakh_canary of NEW_IMAGE: 10 % for a 5-minute first step, then everything."""
    return f"""
resource "matbakh_canary" "auth" {{
  microservice  = matbakh_microservice.auth.id
  image         = "{NEW_IMAGE}"
  steps         = [10, 100]
  step_interval = "5m"
  {extra}
}}
"""


def test_a_quiet_service_releases_a_matbakh_canary(emulator, tf, net):
    """matbakh_canary on Service Connect: 3 requests a minute for a 5-minute first step at 10 %
    give the candidate 1.5, enough for min_requests = 1 (default). The former rule (one request a
    minute for the candidate, three minutes running) rolled every release of it back."""
    seen, error = release_with_traffic(emulator, tf, net, "", requests_per_minute=3, minutes=5,
                                       canary=canary_resource())
    silence = "matbakh-auth-service-canary-no-traffic"
    assert seen[silence]["state"] == "OK", seen
    assert error is None, error.result.output if error else ""
    assert tf.resource("matbakh_canary.auth")["status"] == "succeeded"


def test_a_plan_warns_when_the_share_and_bake_time_can_hardly_reach_min_requests(emulator, tf, net):
    def config(minimum: int) -> dict[str, str]:
        return {"main.tf": REQUIRED_PROVIDERS + provider_block(emulator.endpoint, environment="production")
                + 'resource "matbakh_platform" "main" {\n  name = "matbakh"\n}\n'
                + microservice("auth", "main", net, extra=CANARY_5 % minimum)}

    tf.write(config(1))
    tf.apply()
    # The last hour: 4 requests a minute. A 5-minute step at 5 % gives the new revision 1.
    emulator.service_connect_traffic(cluster="matbakh", service=AUTH, minutes=60, requests=4,
                                     latency_ms=20)
    words = " ".join(tf.plan().output.split())
    assert "a release can hardly reach min_requests" in words, words
    assert "about 4.0 requests a minute" in words and "about 1.0 requests" in words, words
    tf.write(config(1))
    # 40 a minute: 10 for the new revision, plenty.
    emulator.service_connect_traffic(cluster="matbakh", service=AUTH, minutes=60, requests=36,
                                     latency_ms=20)
    words = " ".join(tf.plan().output.split())
    assert "can hardly reach min_requests" not in words, words


def test_a_canary_plan_warns_when_its_first_step_can_hardly_reach_min_requests(emulator, tf, net):
    """matbakh_canary takes min_requests and warns at plan like the microservice's deployment
    (one shared rule): 4 requests a minute for a 5-minute first step at 10 % give the candidate
    2, under twice min_requests = 3."""
    def config(with_canary: bool) -> dict[str, str]:
        canary = canary_resource("min_requests  = 3")
        return {"main.tf": REQUIRED_PROVIDERS + provider_block(emulator.endpoint, environment="production")
                + 'resource "matbakh_platform" "main" {\n  name = "matbakh"\n}\n'
                + microservice("auth", "main", net) + (canary if with_canary else "")}

    emulator.settings(ecs_deployment="completed")
    tf.write(config(False))
    tf.apply()
    tf.write(config(True))
    words = " ".join(tf.plan().output.split())
    assert "can hardly reach min_requests" not in words, "no traffic read yet: " + words
    emulator.service_connect_traffic(cluster="matbakh", service=AUTH, minutes=60, requests=4,
                                     latency_ms=20)
    words = " ".join(tf.plan().output.split())
    assert "auth-service: a release can hardly reach min_requests" in words, words
    assert "about 4.0 requests a minute" in words and "about 2.0 requests" in words, words
    assert "min_requests = 3" in words and "step_interval" in words, words
    # 40 a minute: 20 for the candidate, plenty.
    emulator.service_connect_traffic(cluster="matbakh", service=AUTH, minutes=60, requests=36,
                                     latency_ms=20)
    words = " ".join(tf.plan().output.split())
    assert "can hardly reach min_requests" not in words, words
