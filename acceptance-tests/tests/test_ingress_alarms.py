"""Alarms that see each revision (issue 21 item 3): a microservice behind the platform's load
balancer alarms on `AWS/ApplicationELB` per target group, the worse of the two, a group with fewer
than `min_requests` requests a minute not counting; its dashboard shows both groups. Driven by the
real terraform CLI against the emulator, whose traffic call splits the requests between the two
groups by the production rule's weights and whose CloudWatch evaluates the alarms; every request
checked against botocore's models."""

from __future__ import annotations

import json

import pytest

from harness.alb_network import alb_network
from harness.terraform import REQUIRED_PROVIDERS, provider_block

pytestmark = pytest.mark.platform

PLATFORM = "matbakh"
REGION = "eu-central-1"
SVC = "matbakh_microservice.auth"
ERROR_RATE = "matbakh-auth-service-error-rate"
LATENCY = "matbakh-auth-service-latency-p95"
BLUE, GREEN = "matbakh-auth-service-b", "matbakh-auth-service-g"


@pytest.fixture
def network(emulator) -> dict:
    return alb_network(emulator, REGION)


def config(emulator, network: dict) -> dict[str, str]:
    return {"main.tf": (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint)
        + f'variable "subnets" {{\n  default = {json.dumps(network["subnets"])}\n}}\n'
        + 'resource "matbakh_platform" "main" {\n'
        + f"  name = {json.dumps(PLATFORM)}\n"
        + "  ingress {\n"
        + "    subnet_ids      = var.subnets\n"
        + f"    certificate_arn = {json.dumps(network['cert'])}\n"
        + "  }\n}\n"
        + 'resource "matbakh_microservice" "auth" {\n'
        + "  platform      = matbakh_platform.main.id\n"
        + '  name          = "auth-service"\n'
        + '  image         = "public.ecr.aws/nginx/nginx:1.27"\n'
        + "  port          = 8080\n"
        + "  desired_count = 1\n"
        + "  subnet_ids    = var.subnets\n"
        + "  dashboard     = true\n"
        + "  alarms {\n    error_rate_percent = 5\n    p95_latency_ms = 200\n  }\n"
        + "  deployment {\n    min_requests = 5\n    rollback_on_alarms = true\n  }\n"
        + '  ingress {\n    paths = ["/auth/*"]\n  }\n'
        + "}\n"
    )}


def elbv2(emulator):
    return emulator.client("elbv2")


def dimension(arn: str) -> str:
    """The ALB metric dimension of an ARN: its resource part (`targetgroup/NAME/ID`), a load
    balancer's without `loadbalancer/`."""
    return arn.split(":", 5)[5].removeprefix("loadbalancer/")


def groups(emulator) -> dict[str, str]:
    return {t["TargetGroupName"]: t["TargetGroupArn"]
            for t in elbv2(emulator).describe_target_groups()["TargetGroups"]}


def production_rule(emulator) -> dict:
    [lb] = elbv2(emulator).describe_load_balancers()["LoadBalancers"]
    [https] = [l for l in elbv2(emulator).describe_listeners(
        LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"] if l["Port"] == 443]
    [rule] = [r for r in elbv2(emulator).describe_rules(ListenerArn=https["ListenerArn"])["Rules"]
              if not r["IsDefault"]]
    return rule


def set_weights(emulator, blue: int, green: int) -> None:
    """What ECS does during a release: move the production rule's weights."""
    g = groups(emulator)
    elbv2(emulator).modify_rule(RuleArn=production_rule(emulator)["RuleArn"], Actions=[{
        "Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": g[BLUE], "Weight": blue},
            {"TargetGroupArn": g[GREEN], "Weight": green}]}}])


def assert_every_request_valid(emulator) -> None:
    bad = [(r["service"], r["operation"], r["invalid"]) for r in emulator.requests() if r.get("invalid")]
    assert bad == [], bad


def test_alarms_and_dashboard_read_both_target_groups_and_a_plan_is_clean(emulator, tf, network):
    tf.write(config(emulator, network))
    tf.apply()
    [lb] = elbv2(emulator).describe_load_balancers()["LoadBalancers"]
    load_balancer = dimension(lb["LoadBalancerArn"])
    assert load_balancer.startswith("app/matbakh/")
    g = groups(emulator)
    tg = {"blue": dimension(g[BLUE]), "green": dimension(g[GREEN])}
    assert all(v.startswith("targetgroup/matbakh-auth-service-") for v in tg.values()), tg
    alarms = {a["AlarmName"]: a for a in emulator.client("cloudwatch").describe_alarms(
        AlarmNamePrefix="matbakh-auth-service-")["MetricAlarms"]}
    assert "matbakh-auth-service-latency-average" not in alarms, sorted(alarms)
    for name, metrics, stat in [
        (ERROR_RATE, {"requests": "RequestCount", "errors": "HTTPCode_Target_5XX_Count"}, "Sum"),
        (LATENCY, {"response_time": "TargetResponseTime"}, "p95"),
    ]:
        queries = {q["Id"]: q for q in alarms[name]["Metrics"]}
        for prefix, metric in metrics.items():
            for color in ("blue", "green"):
                stat_of = queries[f"{prefix}_{color}"]["MetricStat"]
                assert stat_of["Metric"]["Namespace"] == "AWS/ApplicationELB"
                assert stat_of["Metric"]["MetricName"] == metric
                assert stat_of["Stat"] == stat or prefix == "requests"
                assert {d["Name"]: d["Value"] for d in stat_of["Metric"]["Dimensions"]} == {
                    "LoadBalancer": load_balancer, "TargetGroup": tg[color]}
        [watched] = [q for q in alarms[name]["Metrics"] if q.get("ReturnData", True)]
        assert watched["Expression"].startswith("MAX([")
        assert alarms[name]["TreatMissingData"] == "notBreaching"
    assert alarms[LATENCY]["Threshold"] == 200
    # The deployments ECS runs watch them (rolling here: no release-no-traffic).
    [svc] = emulator.client("ecs").describe_services(cluster=PLATFORM,
                                                     services=["auth-service"])["services"]
    watched = svc["deploymentConfiguration"]["alarms"]
    assert sorted(watched["alarmNames"]) == [ERROR_RATE, LATENCY], watched
    assert watched["rollback"] and watched["enable"], watched
    dashboards = emulator.client("cloudwatch").list_dashboards()["DashboardEntries"]
    [name] = [d["DashboardName"] for d in dashboards if "auth-service" in d["DashboardName"]]
    body = json.loads(emulator.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    lines = [line for w in body["widgets"] for line in w["properties"]["metrics"]
             if line[0] == "AWS/ApplicationELB"]
    shown = {(line[1], line[5], line[6]["stat"]) for line in lines}
    assert shown == {(m, tg[c], s) for m, s in [("RequestCount", "Sum"),
                                                 ("HTTPCode_Target_5XX_Count", "Sum"),
                                                 ("TargetResponseTime", "p95")]
                     for c in ("blue", "green")}, shown
    assert all(line[3] == load_balancer for line in lines)
    plan = tf.plan()
    assert plan.returncode == 0, plan.output
    assert_every_request_valid(emulator)
    tf.destroy()
    assert emulator.client("cloudwatch").describe_alarms(
        AlarmNamePrefix="matbakh-auth-service-")["MetricAlarms"] == []


@pytest.mark.parametrize("failing, healthy", [(BLUE, GREEN), (GREEN, BLUE)])
def test_one_failing_target_group_alarms_at_one_percent_and_low_traffic_does_not(
        emulator, tf, network, failing, healthy):
    """The production rule gives the failing group 1 % and the healthy one 99 %. At 300 requests
    a minute the failing group serves 3 a minute, below min_requests = 5: it does not count, and
    the healthy group alone is watched (OK). At 1000 a minute it serves 10, all 5xx and slow, and
    the error-rate and latency alarms go to ALARM although the service as a whole fails 1 %."""
    tf.write(config(emulator, network))
    tf.apply()
    set_weights(emulator, **{"blue": 1, "green": 99} if failing == BLUE else {"blue": 99, "green": 1})
    how = {failing: {"errors_percent": 100, "latency_ms": 900}}
    sent = emulator.service_connect_traffic(cluster=PLATFORM, service="auth-service", requests=300,
                                            errors=0, latency_ms=20, minutes=3, target_groups=how)
    assert sent["target_groups"][failing]["requests"] == pytest.approx(3), sent
    assert sent["target_groups"][healthy]["requests"] == pytest.approx(297), sent
    seen = emulator.evaluate_alarms(alarm_names=[ERROR_RATE, LATENCY])
    assert seen[ERROR_RATE]["state"] == "OK", seen
    assert seen[ERROR_RATE]["points"] == [0, 0, 0], seen
    assert seen[LATENCY]["state"] == "OK", seen
    assert seen[LATENCY]["points"] == [pytest.approx(20)] * 3, seen
    sent = emulator.service_connect_traffic(cluster=PLATFORM, service="auth-service", requests=1000,
                                            errors=0, latency_ms=20, minutes=3, target_groups=how)
    seen = emulator.evaluate_alarms(alarm_names=[ERROR_RATE, LATENCY])
    assert seen[ERROR_RATE]["state"] == "ALARM", seen
    assert seen[ERROR_RATE]["points"][-1] == pytest.approx(100), seen
    assert seen[LATENCY]["state"] == "ALARM", seen
    assert seen[LATENCY]["points"][-1] == pytest.approx(900), seen
    assert_every_request_valid(emulator)


def test_the_traffic_call_refuses_target_groups_a_rule_does_not_forward_to(emulator, tf, network):
    tf.write(config(emulator, network))
    tf.apply()
    with pytest.raises(Exception) as e:  # noqa: PT011 - the harness raises on a 400
        emulator.service_connect_traffic(cluster=PLATFORM, service="auth-service", requests=10,
                                         target_groups={"matbakh-other-b": {"errors_percent": 100}})
    assert "not forwarded to" in str(e.value), e.value
