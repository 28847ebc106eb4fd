"""CloudWatch metrics the way AWS publishes and alarms read them (moto evaluates no alarm).

Two pieces, both driven by the control API:

* POST /_matbakh/service_connect/traffic publishes what ECS Service Connect's proxies publish
  in `AWS/ECS` for calls from one caller to one ECS service, minute by minute. Source: the ECS
  developer guide, "Amazon ECS Service Connect metrics": the *server-side* proxy publishes
  `RequestCount` by `DiscoveryName` and by `DiscoveryName, ServiceName, ClusterName` (the target
  service's own); the *client-side* (calling) proxy publishes `HTTPCode_Target_5XX_Count` and
  `TargetResponseTime` by `TargetDiscoveryName` alone and by `TargetDiscoveryName, ServiceName,
  ClusterName`, where ServiceName and ClusterName name the **caller**. A metric with
  `TargetDiscoveryName` alone is one series per account and region: every caller in every
  cluster and namespace that calls a service of that discovery name adds to it. The discovery
  name is the target ECS service's own (`serviceConnectConfiguration.services[].discoveryName`),
  looked up here, so a test never writes it. For a service behind the platform's ALB the same
  requests are published in `AWS/ApplicationELB` per target group, split by the production
  listener rule's weights as moto's elbv2 backend holds them now (`_alb_traffic`).

* POST /_matbakh/alarms/evaluate evaluates metric alarms against the stored data, as CloudWatch
  does each period, and sets their state through SetAlarmState's path (so an ECS deployment
  whose alarm goes to ALARM rolls back, ecs_deployments.py). Source: the CloudWatch user guide,
  "Evaluating an alarm" and "Configuring how CloudWatch alarms treat missing data": the last
  `EvaluationPeriods` periods are looked at; `DatapointsToAlarm` breaching ones make ALARM;
  missing periods follow `TreatMissingData` (`notBreaching` good, `breaching` bad, `ignore`
  keeps the state, `missing` (default) INSUFFICIENT_DATA when every period is missing). Metric
  math: the alarm's `ReturnData` expression over its `MetricStat` queries, each a statistic of
  one period (`Sum`, `Average`, `Minimum`, `Maximum`, `SampleCount`, percentiles `pNN`); a query
  without data in a period is missing there. Expressions: numbers, ids, + - * /, comparisons,
  AND/OR, and the functions IF, FILL, MIN, MAX (also over an array `[a, b]`), ABS ("Metric math
  syntax and functions"). Periods end at the
  evaluation's time (now, or `at`), newest last.
"""

from __future__ import annotations

import ast
import operator
from datetime import datetime, timedelta, timezone
from typing import Any

NAMESPACE = "AWS/ECS"
DEFAULT_ACCOUNT = "123456789012"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _cloudwatch(account: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]


def _discovery_name(account: str, region: str, cluster: str, service: str) -> str:
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[account][region]
    for s in backend.services.values():
        if s.cluster_name == cluster and s.name == service and s.status == "ACTIVE":
            config = getattr(s, "_matbakh_sc", None) or {}
            resolved = config.get("_resolved") or []
            if config.get("enabled") and resolved:
                return resolved[0]["discoveryName"]
            raise ValueError(f"ECS service {service} in cluster {cluster} has no Service Connect service")
    raise ValueError(f"no ACTIVE ECS service {service} in cluster {cluster} ({region})")


def publish_service_connect(payload: dict[str, Any]) -> dict[str, Any]:
    """{"region", "cluster", "service": the called ECS service; "caller_cluster",
    "caller_service": who calls (any names; default "client" in the target's cluster);
    "requests", "errors" (5xx), "latency_ms": per minute; "minutes": how many minutes up to now
    (default 3); "account"; "candidate_share" (percent of the requests a new revision serves
    during a release) with "candidate_latency_ms" (its answers' latency; `latency_ms` is then the
    old revision's); "target_groups" (a service behind the ALB: {target group name:
    {"errors_percent", "latency_ms"}}, how that group answers)}. Answers the series written.

    A service behind the platform's ALB gets the same requests through its production listener
    rule too: the ALB's metrics per target group, split by the rule's weights (`_alb_traffic`).

    Both revisions answer behind one discovery name, so a caller's proxy publishes one statistic
    set a minute for both: SampleCount and Sum over every request, Minimum and Maximum of them
    all. The Average is diluted by the share; the Maximum is the slower revision's."""
    known = {"region", "cluster", "service", "caller_cluster", "caller_service", "requests",
             "errors", "latency_ms", "minutes", "account", "candidate_share",
             "candidate_latency_ms", "target_groups"}
    unknown = set(payload) - known
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}; known: {sorted(known)}")
    account = payload.get("account", DEFAULT_ACCOUNT)
    region = payload["region"]
    cluster, service = payload["cluster"], payload["service"]
    caller_cluster = payload.get("caller_cluster", cluster)
    caller_service = payload.get("caller_service", "client")
    requests = float(payload.get("requests", 0))
    errors = float(payload.get("errors", 0))
    latency = payload.get("latency_ms")
    minutes = int(payload.get("minutes", 3))
    if errors > requests:
        raise ValueError("errors cannot exceed requests")
    share = float(payload.get("candidate_share", 0)) / 100.0
    candidate_latency = payload.get("candidate_latency_ms")
    if not 0.0 <= share <= 1.0 or (share > 0) != (candidate_latency is not None):
        raise ValueError("candidate_share (0-100) and candidate_latency_ms go together")
    if share > 0 and latency is None:
        raise ValueError("candidate_latency_ms needs latency_ms (the old revision's)")
    discovery = _discovery_name(account, region, cluster, service)
    server = [[("DiscoveryName", discovery)],
              [("DiscoveryName", discovery), ("ServiceName", service), ("ClusterName", cluster)]]
    client = [[("TargetDiscoveryName", discovery)],
              [("TargetDiscoveryName", discovery), ("ServiceName", caller_service),
               ("ClusterName", caller_cluster)]]
    # Minute k's data points fall in the k-th newest one-minute period an evaluation right
    # after this looks at (periods end at the evaluation's time).
    now = _utcnow() - timedelta(seconds=5)
    data: list[dict[str, Any]] = []

    def stat(name: str, dims: list[tuple[str, str]], value: float, count: float, ts: datetime,
             unit: str, low: float | None = None, high: float | None = None,
             total: float | None = None) -> None:
        data.append({"MetricName": name, "Timestamp": ts, "Unit": unit,
                     "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                     "StatisticValues": {"SampleCount": count,
                                         "Sum": value * count if total is None else total,
                                         "Minimum": value if low is None else low,
                                         "Maximum": value if high is None else high}})

    def latency_stat(dims: list[tuple[str, str]], ts: datetime) -> None:
        old = float(latency)
        if share == 0:
            stat("TargetResponseTime", dims, old, requests, ts, "Milliseconds")
            return
        new = float(candidate_latency)
        served = requests * share
        stat("TargetResponseTime", dims, old, requests, ts, "Milliseconds",
             low=min(old, new) if share < 1 else new,
             high=max(old, new) if share < 1 else new, total=(requests - served) * old + served * new)

    for k in range(minutes):
        ts = now - timedelta(minutes=k)
        if requests <= 0:
            continue
        for dims in server:
            stat("RequestCount", dims, 1.0, requests, ts, "Count")
        for dims in client:
            # Service Connect publishes the count metrics only for minutes that had some.
            if errors > 0:
                stat("HTTPCode_Target_5XX_Count", dims, 1.0, errors, ts, "Count")
            if latency is not None:
                latency_stat(dims, ts)
    _put(account, region, data)
    answer: dict[str, Any] = {"discovery_name": discovery, "datapoints": len(data)}
    alb = _alb_traffic(account, region, cluster, service, requests, errors, latency, minutes,
                       payload.get("target_groups") or {})
    if alb is not None:
        answer["target_groups"] = alb
    return answer


def _alb_dimension(arn: str) -> str:
    """The ALB metric dimension of a load balancer's or target group's ARN: `app/NAME/ID`,
    `targetgroup/NAME/ID` (the ARN's resource part, the load balancer's without `loadbalancer/`)."""
    resource = arn.split(":", 5)[-1]
    return resource.removeprefix("loadbalancer/")


def _production_weights(account: str, region: str, service: Any) -> tuple[str, list[tuple[Any, int]]] | None:
    """The load balancer's ARN and [(target group, weight)] of the production listener rule of
    an ECS service behind an ALB (its `loadBalancers[].advancedConfiguration`), as moto's elbv2
    backend holds them now (ECS moves the weights during a release)."""
    from moto.elbv2.models import elbv2_backends

    elb = elbv2_backends[account][region]
    for lb in service.load_balancers or []:
        rule_arn = (lb.get("advancedConfiguration") or {}).get("productionListenerRule")
        if not rule_arn:
            continue
        for balancer in elb.load_balancers.values():
            for listener in balancer.listeners.values():
                rule = listener.rules.get(rule_arn)
                if rule is None:
                    continue
                weights: list[tuple[Any, int]] = []
                for action in rule.actions:
                    data = getattr(action, "data", {}) or {}
                    if data.get("Type") != "forward":
                        continue
                    targets = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
                    if not targets and data.get("TargetGroupArn"):
                        targets = [{"TargetGroupArn": data["TargetGroupArn"], "Weight": 1}]
                    for t in targets:
                        group = elb.target_groups.get(t["TargetGroupArn"])
                        if group is not None:
                            weights.append((group, int(t.get("Weight", 1))))
                return balancer.arn, weights
    return None


def _alb_traffic(account: str, region: str, cluster: str, service_name: str, requests: float,
                 errors: float, latency: Any, minutes: int,
                 behaviour: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """What the ALB publishes in `AWS/ApplicationELB` when the service's production rule gets
    `requests` a minute: each target group its share by the rule's forward weights (a group at
    weight 0 gets none). Source: the ELB user guide, "CloudWatch metrics for your Application
    Load Balancer": `RequestCount`, `HTTPCode_Target_5XX_Count` and `TargetResponseTime`
    (seconds) by `LoadBalancer` and by `LoadBalancer, TargetGroup`; the ALB reports only while
    requests flow, and a count only in a minute it is not zero. A group answers as the whole
    (`errors` of `requests`, `latency_ms`) unless `behaviour` (`target_groups`: {group name:
    {"errors_percent", "latency_ms"}}) says otherwise. TargetResponseTime is published as the
    raw values (every answer of a group in a minute takes its latency), so percentiles serve.
    None for a service without a load balancer."""
    from moto.ecs.models import ecs_backends

    ecs = ecs_backends[account][region]
    service = next((s for s in ecs.services.values() if s.cluster_name == cluster
                    and s.name == service_name and s.status == "ACTIVE"), None)
    found = _production_weights(account, region, service) if service is not None else None
    if found is None:
        if behaviour:
            raise ValueError(f"target_groups: ECS service {service_name} has no load balancer")
        return None
    lb_arn, weights = found
    names = {g.name for g, _ in weights}
    unknown = set(behaviour) - names
    if unknown:
        raise ValueError(f"target_groups: {sorted(unknown)} are not forwarded to by the "
                         f"production rule (its groups: {sorted(names)})")
    total_weight = sum(w for _, w in weights)
    lb = _alb_dimension(lb_arn)
    now = _utcnow() - timedelta(seconds=5)
    data: list[dict[str, Any]] = []
    answer: dict[str, Any] = {}
    for group, weight in weights:
        served = requests * weight / total_weight if total_weight else 0.0
        how = behaviour.get(group.name, {})
        unknown_fields = set(how) - {"errors_percent", "latency_ms"}
        if unknown_fields:
            raise ValueError(f"target_groups.{group.name}: unknown fields {sorted(unknown_fields)}")
        failed = (served * float(how["errors_percent"]) / 100.0 if "errors_percent" in how
                  else (served * errors / requests if requests else 0.0))
        seconds = how.get("latency_ms", latency)
        answer[group.name] = {"requests": served, "errors": failed, "weight": weight}
        if served <= 0:
            continue
        for k in range(minutes):
            ts = now - timedelta(minutes=k)
            for dims in ([("LoadBalancer", lb)], [("LoadBalancer", lb), ("TargetGroup", _alb_dimension(group.arn))]):
                point = {"Timestamp": ts, "Dimensions": [{"Name": a, "Value": b} for a, b in dims]}
                data.append({**point, "MetricName": "RequestCount", "Unit": "Count",
                             "StatisticValues": {"SampleCount": served, "Sum": served,
                                                 "Minimum": 1.0, "Maximum": 1.0}})
                if failed > 0:
                    data.append({**point, "MetricName": "HTTPCode_Target_5XX_Count", "Unit": "Count",
                                 "StatisticValues": {"SampleCount": failed, "Sum": failed,
                                                     "Minimum": 1.0, "Maximum": 1.0}})
                if seconds is not None:
                    value = float(seconds) / 1000.0
                    data.append({**point, "MetricName": "TargetResponseTime", "Unit": "Seconds",
                                 "StatisticValues": {"SampleCount": served, "Sum": value * served,
                                                     "Minimum": value, "Maximum": value}})
    _put(account, region, data, namespace="AWS/ApplicationELB")
    return answer


def _put(account: str, region: str, data: list[dict[str, Any]], namespace: str = NAMESPACE) -> None:
    from moto.cloudwatch.models import MetricAggregatedDatum

    backend = _cloudwatch(account, region)
    for d in data:
        s = d["StatisticValues"]
        backend.metric_data.append(MetricAggregatedDatum(
            namespace=namespace, name=d["MetricName"], min_stat=s["Minimum"], max_stat=s["Maximum"],
            sample_count=s["SampleCount"], sum_stat=s["Sum"], dimensions=d["Dimensions"],
            timestamp=d["Timestamp"], unit=d["Unit"]))


# ----------------------------------------------------------------------------- evaluation

def _dims_of(datum: Any) -> dict[str, str]:
    return {d.name: d.value for d in datum.dimensions}


def _percentile(samples: list[tuple[float, float]], p: float) -> float | None:
    """The p-th percentile of (value, count) samples: the smallest value at or below which p %
    of the samples lie."""
    total = sum(c for _, c in samples)
    if total <= 0:
        return None
    seen = 0.0
    for value, count in sorted(samples):
        seen += count
        if seen >= total * p / 100.0:
            return value
    return max(v for v, _ in samples)


def _statistic(backend: Any, namespace: str, name: str, dims: dict[str, str], stat: str,
               start: datetime, end: datetime) -> float | None:
    """One statistic of the series with exactly `dims` (CloudWatch matches the whole dimension
    set, never a subset) over [start, end); None without data.

    Percentiles (`p95`, `p99.9`): CloudWatch needs the raw values. Of data published as a
    statistic set it serves a percentile only when SampleCount is 1 or Minimum equals Maximum
    (PutMetricData, "StatisticValues"; user guide "Percentiles"): then every sample is that
    value. A period with any other statistic set has no percentile (missing)."""
    count = total = 0.0
    lo: float | None = None
    hi: float | None = None
    samples: list[tuple[float, float]] = []
    exact = True
    for d in backend.metric_data:
        if d.namespace != namespace or d.name != name or _dims_of(d) != dims:
            continue
        if not (start <= d.timestamp < end):
            continue
        if hasattr(d, "sum"):
            n, s, mn, mx = float(d.sample_count), float(d.sum), float(d.min), float(d.max)
        else:
            n, s, mn, mx = 1.0, float(d.value), float(d.value), float(d.value)
        count += n
        total += s
        lo = mn if lo is None else min(lo, mn)
        hi = mx if hi is None else max(hi, mx)
        if n == 1 or mn == mx:
            samples.append((mn, n))
        else:
            exact = False
    if count == 0:
        return None
    if stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit():
        return _percentile(samples, float(stat[1:])) if exact else None
    return {"Sum": total, "SampleCount": count, "Average": total / count, "Minimum": lo,
            "Maximum": hi}.get(stat)


_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
_CMP = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Eq: operator.eq, ast.NotEq: operator.ne}


def _math(expression: str, values: dict[str, float | None]) -> float | None:
    """A metric math expression for one period; None is a missing data point."""
    text = expression.replace(" AND ", " and ").replace(" OR ", " or ")
    tree = ast.parse(text, mode="eval")

    def ev(n: ast.AST) -> float | None:
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return float(n.value)
        if isinstance(n, ast.Name):
            if n.id not in values:
                raise ValueError(f"unknown id {n.id} in {expression!r}")
            return values[n.id]
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            v = ev(n.operand)
            return None if v is None else -v
        if isinstance(n, ast.BinOp):
            a, b = ev(n.left), ev(n.right)
            if a is None or b is None:
                return None
            if isinstance(n.op, ast.Div):
                return None if b == 0 else a / b
            return _BIN[type(n.op)](a, b)
        if isinstance(n, ast.Compare) and len(n.ops) == 1:
            a, b = ev(n.left), ev(n.comparators[0])
            if a is None or b is None:
                return None
            return 1.0 if _CMP[type(n.ops[0])](a, b) else 0.0
        if isinstance(n, ast.BoolOp):
            vs = [ev(v) for v in n.values]
            if any(v is None for v in vs):
                return None
            ok = all(vs) if isinstance(n.op, ast.And) else any(vs)
            return 1.0 if ok else 0.0
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
            f = n.func.id.upper()
            if f in ("MIN", "MAX") and len(n.args) == 1 and isinstance(n.args[0], ast.List):
                # MAX([m1, m2]): per timestamp, the largest value of the series that have one
                # there; no data point where none has ("Metric math syntax and functions").
                present = [v for v in (ev(a) for a in n.args[0].elts) if v is not None]
                if not present:
                    return None
                return (min if f == "MIN" else max)(present)
            if f == "FILL":
                v = ev(n.args[0])
                return ev(n.args[1]) if v is None else v
            if f == "IF":
                c = ev(n.args[0])
                if c is None:
                    return None
                return ev(n.args[1]) if c else (ev(n.args[2]) if len(n.args) > 2 else None)
            args = [ev(a) for a in n.args]
            if any(a is None for a in args):
                return None
            if f in ("MIN", "MAX"):
                return (min if f == "MIN" else max)(args)  # type: ignore[type-var]
            if f == "ABS":
                return abs(args[0])  # type: ignore[arg-type]
        raise ValueError(f"metric math the emulator does not model: {ast.dump(n)} in {expression!r}")

    return ev(tree)


def _period_values(backend: Any, alarm: Any, start: datetime, end: datetime) -> float | None:
    """The value the alarm watches in [start, end)."""
    if alarm.metric_data_queries:
        values: dict[str, float | None] = {}
        watched = None
        exprs = []
        for q in alarm.metric_data_queries:
            if q.metric_stat is not None:
                m = q.metric_stat.metric
                dims = {d.name: d.value for d in m.dimensions}
                values[q.id] = _statistic(backend, m.namespace, m.metric_name, dims,
                                          q.metric_stat.stat, start, end)
            else:
                exprs.append(q)
            if str(q.return_data).lower() == "true":
                watched = q
        for q in exprs:  # expressions may use earlier expressions
            values[q.id] = _math(q.expression, values)
        if watched is None:
            return None
        return values.get(watched.id)
    dims = {d.name: d.value for d in alarm.dimensions}
    return _statistic(backend, alarm.namespace, alarm.metric_name, dims, alarm.statistic or "Average",
                      start, end)


def _breaches(value: float, op: str, threshold: float) -> bool:
    return {"GreaterThanThreshold": value > threshold,
            "GreaterThanOrEqualToThreshold": value >= threshold,
            "LessThanThreshold": value < threshold,
            "LessThanOrEqualToThreshold": value <= threshold}[op]


def _period_seconds(alarm: Any) -> int:
    for q in alarm.metric_data_queries or []:
        if q.metric_stat is not None and q.metric_stat.period:
            return int(q.metric_stat.period)
    return int(alarm.period or 60)


def evaluate_alarm(backend: Any, alarm: Any, at: datetime) -> tuple[str, str, list[float | None]]:
    period = _period_seconds(alarm)
    n = int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or n)
    end = at
    points: list[float | None] = []
    for k in reversed(range(n)):
        e = end - timedelta(seconds=period * k)
        points.append(_period_values(backend, alarm, e - timedelta(seconds=period), e))
    threshold = float(alarm.threshold)
    missing = alarm.treat_missing_data or "missing"
    bad = sum(1 for p in points if p is not None and _breaches(p, alarm.comparison_operator, threshold))
    if missing == "breaching":
        bad += sum(1 for p in points if p is None)
    shown = ", ".join("missing" if p is None else f"{p:g}" for p in points)
    if bad >= needed:
        return "ALARM", f"Threshold Crossed: {bad} of the last {n} datapoints [{shown}] breached {threshold:g}", points
    if all(p is None for p in points):
        if missing == "missing":
            return "INSUFFICIENT_DATA", f"no datapoints were received for {n} periods", points
        if missing == "ignore":
            return alarm.state_value, "missing data ignored", points
    return "OK", f"Threshold Crossed: {bad} of the last {n} datapoints [{shown}] breached {threshold:g}", points


def evaluate(payload: dict[str, Any]) -> dict[str, Any]:
    """{"region", "alarm_names": [...] (default: every alarm of the region with a metric or
    Metrics; target-tracking alarms are left alone), "account"}. Sets each alarm's state and
    answers {name: {"state", "points"}}."""
    known = {"region", "alarm_names", "account"}
    unknown = set(payload) - known
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}; known: {sorted(known)}")
    account = payload.get("account", DEFAULT_ACCOUNT)
    backend = _cloudwatch(account, payload["region"])
    names = payload.get("alarm_names")
    at = _utcnow()
    out: dict[str, Any] = {}
    for name, alarm in list(backend.alarms.items()):
        if names is not None and name not in names:
            continue
        if names is None and name.startswith("TargetTracking-"):
            continue
        if not alarm.metric_data_queries and not alarm.metric_name:
            continue
        state, reason, points = evaluate_alarm(backend, alarm, at)
        if state != alarm.state_value:
            backend.set_alarm_state(name, reason, "{}", state)
        out[name] = {"state": state, "points": points}
    missing = sorted(set(names or []) - set(out))
    if missing:
        raise ValueError(f"no such alarms: {missing}")
    return out


# ----------------------------------------------------------------------------- GetMetricStatistics

def _exact_statistics(original: Any) -> Any:
    """GetMetricStatistics reads the series with exactly the dimensions asked for (CloudWatch user
    guide, "Dimensions": "you must specify the same dimensions that were used when the metrics
    were created"); moto also summed every series whose dimensions include them (a caller-scoped
    `TargetDiscoveryName, ServiceName, ClusterName` series counted again under
    `TargetDiscoveryName` alone)."""

    def get_metric_statistics(self: Any, namespace: str, metric_name: str, start_time: Any,
                              end_time: Any, period: int, stats: list[str],
                              dimensions: list[dict[str, str]], unit: str | None = None) -> Any:
        wanted = {d["Name"]: d["Value"] for d in dimensions or []}
        every = type(self).get_all_metrics

        def exact() -> list[Any]:
            return [m for m in every(self)
                    if m.namespace != namespace or m.name != metric_name or _dims_of(m) == wanted]

        self.get_all_metrics = exact
        try:
            return original(self, namespace, metric_name, start_time, end_time, period, stats,
                            dimensions, unit)
        finally:
            del self.get_all_metrics

    return get_metric_statistics


def install() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    CloudWatchBackend.get_metric_statistics = _exact_statistics(  # type: ignore[method-assign]
        CloudWatchBackend.get_metric_statistics)
