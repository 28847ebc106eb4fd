"""ECS service deployments and service revisions (deployment controller ECS), as the API has them.

moto 5.2.5 has none of it. Every CreateService/UpdateService that starts a deployment creates a
service revision (what runs: task definition, network, capacity, Service Connect) and a service
deployment (how it gets there: strategy, stage, traffic weight, alarms, rollback). The service
carries `currentServiceDeployment` and `currentServiceRevisions`.

How a deployment progresses depends on settings.ecs_deployment when it starts:
  completed    SUCCESSFUL at once (tests that do not care about releases).
  in_progress  stays IN_PROGRESS (first stage) until stopped, rolled back by an alarm or superseded.
  failed       the circuit breaker trips at once: ROLLBACK_SUCCESSFUL when the circuit breaker
               has rollback and there is a revision to go back to, else STOPPED. The old
               deployments[] view (rolloutState FAILED) is kept as before.
  timed        (the default) follows the emulator clock (ecs_clock.py): the strategy's stages run in order,
               bake times and canary/linear step waits take virtual time, PAUSE lifecycle hooks
               wait for ContinueServiceDeployment (or their timeout).

Strategies (DeploymentConfiguration.strategy), stages (ServiceDeployment.lifecycleStage) and the
production traffic weight of the target revision (ServiceRevisionSummary.
requestedProductionTrafficWeight):
  ROLLING     no stages; with alarms enabled it monitors them for a window (the longest
              alarm Period x EvaluationPeriods) before SUCCESSFUL.
  BLUE_GREEN  PRE_SCALE_UP .. PRODUCTION_TRAFFIC_SHIFT (0 -> 100) .. BAKE_TIME (bakeTimeInMinutes)
              .. CLEAN_UP.
  CANARY      PRODUCTION_TRAFFIC_SHIFT to canaryPercent for canaryBakeTimeInMinutes, then 100,
              BAKE_TIME, CLEAN_UP.
  LINEAR      PRODUCTION_TRAFFIC_SHIFT in steps of stepPercent, stepBakeTimeInMinutes between
              steps (not after 100), BAKE_TIME, CLEAN_UP.

A service whose load balancer has advancedConfiguration: a BLUE_GREEN, CANARY or LINEAR
deployment puts the new revision's tasks in the alternate target group, points the test listener
rule and then the production rule's weights at it stage by stage, back on a rollback, and swaps
the two groups when it succeeds (ecs_alb_deployments.py).

Alarm rollback: an alarm in ALARM when a deployment starts switches its alarms off for the
whole deployment (alarms.status DISABLED; ECS developer guide). Otherwise, while a deployment is
not finished, an alarm of
deploymentConfiguration.alarms (enable: true) in state ALARM stops it: with rollback: true it
rolls back (ROLLBACK_SUCCESSFUL, `rollback.reason`, `alarms.triggeredAlarmNames`, the service
goes back to the source revision's task definition and Service Connect configuration), without
rollback it is STOPPED. Alarm states are read from moto's CloudWatch (SetAlarmState); a state
change is seen at once (CloudWatch's SetAlarmState is hooked).
"""

from __future__ import annotations

import copy
import math
from datetime import datetime, timezone
import secrets
import string
from typing import Any, Callable

from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.core.responses import ActionResult
from moto.ecs.exceptions import ECSException, InvalidParameterException
from moto.ecs.models import ecs_backends

from . import ecs_alb_deployments as alb
from . import settings
from .ecs_clock import CLOCK, as_datetime, on_advance
from .ecs_task_iam import secret_denied

TERMINAL = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
TRAFFIC_SHIFTING = ("BLUE_GREEN", "LINEAR", "CANARY")
DEFAULT_CANARY = {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10}  # CanaryConfiguration docs
DEFAULT_LINEAR = {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6}  # LinearConfiguration docs
DEFAULT_ALARM_WINDOW_SECONDS = 300
DEFAULT_HOOK_TIMEOUT_MINUTES = 1440  # DeploymentLifecycleHookTimeoutConfiguration docs


class ServiceDeploymentNotFoundException(ECSException):
    def __init__(self, arn: str) -> None:
        super().__init__("ServiceDeploymentNotFoundException",
                         f"The service deployment {arn} does not exist.")


class ConflictException(ECSException):
    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


# ----------------------------------------------------------------------------- state


def _state(backend: Any) -> dict[str, Any]:
    st = backend.__dict__.get("_matbakh_service_deployments")
    if st is None:
        st = {"deployments": {}, "revisions": {}}
        backend.__dict__["_matbakh_service_deployments"] = st
    return st


def _random_id(n: int = 22) -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _deployment_id() -> str:
    """Shaped like the developer guide's example `NCWGC2ZR-taawPAYrIaU5`."""
    head = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))
    return f"{head}-{_random_id(12).replace('-', 'x')}"


def _arn_prefix(service: Any, kind: str) -> str:
    return (f"arn:aws:ecs:{service.region_name}:{service._account_id}:{kind}/"
            f"{service.cluster_name}/{service.name}")


def _backend_of(service: Any) -> Any:
    return ecs_backends[service._account_id][service.region_name]


def _secret_denied(service: Any) -> str | None:
    try:
        td = _backend_of(service).describe_task_definition(service.task_definition)
    except Exception:  # noqa: BLE001 - no task definition: nothing to judge
        return None
    return secret_denied(td, service._account_id)


def _service_of(dep: dict[str, Any]) -> Any:
    backend = ecs_backends[dep["_account"]][dep["_region"]]
    return backend.services[dep["_service_key"]]


# ----------------------------------------------------------------------------- validation


def _multiple_of_tenth(x: float) -> bool:
    return abs(round(x * 10) - x * 10) < 1e-6


def validate_configuration(config: dict[str, Any] | None, controller: str | None,
                           traffic_capable: bool) -> None:
    """deploymentConfiguration as ECS checks it. `traffic_capable`: load balancer or Service Connect."""
    if not config:
        return
    strategy = config.get("strategy")
    if strategy is not None and strategy not in ("ROLLING",) + TRAFFIC_SHIFTING:
        raise InvalidParameterException(
            f"Invalid deployment strategy '{strategy}'. Valid values: ROLLING, BLUE_GREEN, LINEAR, CANARY.")
    if strategy in TRAFFIC_SHIFTING and (controller or "ECS") != "ECS":
        raise InvalidParameterException(
            f"The {strategy} deployment strategy is only supported with the ECS deployment controller.")
    if strategy in TRAFFIC_SHIFTING and not traffic_capable:
        raise InvalidParameterException(
            f"The {strategy} deployment strategy requires a load balancer or a Service Connect "
            "configuration for the service.")
    breaker = config.get("deploymentCircuitBreaker") or {}
    if strategy in TRAFFIC_SHIFTING and breaker.get("enable"):
        # DeploymentCircuitBreaker (ECS API reference): "The deployment circuit breaker can only
        # be used for services using the rolling update (ECS) deployment type."
        raise InvalidParameterException(
            f"The deployment circuit breaker is only supported with the ROLLING deployment "
            f"strategy, not {strategy}.")
    bake = config.get("bakeTimeInMinutes")
    if strategy == "BLUE_GREEN" and bake is None:
        raise InvalidParameterException(
            "bakeTimeInMinutes must be provided when the deployment strategy is BLUE_GREEN.")
    if bake is not None and not 0 <= bake <= 1440:
        raise InvalidParameterException("bakeTimeInMinutes must be between 0 and 1440.")
    canary = config.get("canaryConfiguration")
    if canary is not None:
        if strategy != "CANARY":
            raise InvalidParameterException(
                "canaryConfiguration can only be specified with the CANARY deployment strategy.")
        p = canary.get("canaryPercent")
        if p is not None and (not 0.1 <= p <= 100.0 or not _multiple_of_tenth(p)):
            raise InvalidParameterException(
                f"canaryPercent {p} is not valid: multiples of 0.1 from 0.1 to 100.0.")
        b = canary.get("canaryBakeTimeInMinutes")
        if b is not None and not 0 <= b <= 1440:
            raise InvalidParameterException("canaryBakeTimeInMinutes must be between 0 and 1440.")
    linear = config.get("linearConfiguration")
    if linear is not None:
        if strategy != "LINEAR":
            raise InvalidParameterException(
                "linearConfiguration can only be specified with the LINEAR deployment strategy.")
        p = linear.get("stepPercent")
        if p is not None and (not 3.0 <= p <= 100.0 or not _multiple_of_tenth(p)):
            raise InvalidParameterException(
                f"stepPercent {p} is not valid: multiples of 0.1 from 3.0 to 100.0.")
        b = linear.get("stepBakeTimeInMinutes")
        if b is not None and not 0 <= b <= 1440:
            raise InvalidParameterException("stepBakeTimeInMinutes must be between 0 and 1440.")
    alarms = config.get("alarms")
    if alarms is not None and alarms.get("enable") and not alarms.get("alarmNames"):
        raise InvalidParameterException(
            "alarmNames must contain at least one alarm when alarms are enabled.")
    for hook in config.get("lifecycleHooks") or []:
        if hook.get("targetType", "AWS_LAMBDA") == "AWS_LAMBDA" and not hook.get("hookTargetArn"):
            raise InvalidParameterException("hookTargetArn is required for an AWS_LAMBDA lifecycle hook.")
        if not hook.get("lifecycleStages"):
            raise InvalidParameterException("lifecycleStages must not be empty for a lifecycle hook.")


# ----------------------------------------------------------------------------- revisions


def _revision(service: Any, sc_public: dict[str, Any] | None, now: float) -> dict[str, Any]:
    backend = _backend_of(service)
    rev_id = str(secrets.randbelow(9 * 10**18) + 10**18)
    images = []
    if service.task_definition:
        td = backend.describe_task_definition(service.task_definition)
        images = [{"containerName": c.get("name"), "image": c.get("image")}
                  for c in td.container_definitions]
    rev: dict[str, Any] = {
        "serviceRevisionArn": f"{_arn_prefix(service, 'service-revision')}/{rev_id}",
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "taskDefinition": service.task_definition,
        "platformVersion": getattr(service, "platform_version", None),
        "platformFamily": "Linux",
        "loadBalancers": copy.deepcopy(service.load_balancers or []),
        "serviceRegistries": copy.deepcopy(service.service_registries or []),
        "networkConfiguration": copy.deepcopy(service.network_configuration) or None,
        "containerImages": images,
        "guardDutyEnabled": False,
        "createdAt": as_datetime(now),
        "_sc_internal": copy.deepcopy(getattr(service, "_matbakh_sc", None)),
    }
    if sc_public is not None:
        rev["serviceConnectConfiguration"] = sc_public
    strategy = getattr(service, "capacity_provider_strategy", None)
    if strategy:
        rev["capacityProviderStrategy"] = copy.deepcopy(strategy)
    else:
        rev["launchType"] = service.launch_type
    _state(backend)["revisions"][rev["serviceRevisionArn"]] = rev
    return rev


# ----------------------------------------------------------------------------- phases


def _phases(config: dict[str, Any], alarm_window: float) -> list[tuple[str | None, float, float]]:
    """(lifecycleStage, virtual seconds, target production weight once entered)."""
    strategy = config.get("strategy") or "ROLLING"
    bake = float(config.get("bakeTimeInMinutes") or 0) * 60
    if strategy == "ROLLING":
        return [(None, alarm_window, 100.0)] if alarm_window else []
    head = [("PRE_SCALE_UP", 0.0, 0.0), ("SCALE_UP", 0.0, 0.0), ("POST_SCALE_UP", 0.0, 0.0),
            ("TEST_TRAFFIC_SHIFT", 0.0, 0.0), ("POST_TEST_TRAFFIC_SHIFT", 0.0, 0.0)]
    if strategy == "CANARY":
        c = dict(DEFAULT_CANARY, **(config.get("canaryConfiguration") or {}))
        shift = [("PRODUCTION_TRAFFIC_SHIFT", float(c["canaryBakeTimeInMinutes"]) * 60,
                  float(c["canaryPercent"]))]
        if c["canaryPercent"] < 100:
            shift.append(("PRODUCTION_TRAFFIC_SHIFT", 0.0, 100.0))
    elif strategy == "LINEAR":
        c = dict(DEFAULT_LINEAR, **(config.get("linearConfiguration") or {}))
        step = float(c["stepPercent"])
        shift = []
        n = 1
        while True:
            w = min(100.0, round(step * n, 1))
            shift.append(("PRODUCTION_TRAFFIC_SHIFT",
                          float(c["stepBakeTimeInMinutes"]) * 60 if w < 100 else 0.0, w))
            if w >= 100:
                break
            n += 1
    else:  # BLUE_GREEN
        shift = [("PRODUCTION_TRAFFIC_SHIFT", 0.0, 100.0)]
    return head + shift + [("POST_PRODUCTION_TRAFFIC_SHIFT", 0.0, 100.0),
                           ("BAKE_TIME", bake, 100.0), ("CLEAN_UP", 0.0, 100.0)]


def _alarm_status_at_start(service: Any, names: list[str]) -> str:
    """ECS developer guide, "How CloudWatch alarms detect Amazon ECS deployment failures"
    (deployment-alarm-failure.html): "If an alarm is in the ALARM state at the beginning of a deployment, Amazon ECS will
    not monitor alarms for the duration of that deployment." The deployment's alarms.status is
    then DISABLED and no alarm of it is evaluated (_check_alarms)."""
    if not names:
        return "DISABLED"
    cw = cloudwatch_backends[service._account_id][service.region_name]
    if any(n in cw.alarms and cw.alarms[n].state_value == "ALARM" for n in names):
        return "DISABLED"
    return "MONITORING"


def _alarm_config(config: dict[str, Any]) -> tuple[list[str], bool]:
    alarms = config.get("alarms") or {}
    if not alarms.get("enable"):
        return [], False
    return list(alarms.get("alarmNames") or []), bool(alarms.get("rollback"))


def _alarm_window(service: Any, names: list[str]) -> float:
    cw = cloudwatch_backends[service._account_id][service.region_name]
    window = 0.0
    for name in names:
        alarm = cw.alarms.get(name)
        if alarm is None:
            continue
        periods = [alarm.period or 0] + [
            (q.get("MetricStat") or {}).get("Period") or 0 for q in (alarm.metric_data_queries or [])
            if isinstance(q, dict)]
        window = max(window, float(max(periods) or 60) * float(alarm.evaluation_periods or 1))
    return window or (DEFAULT_ALARM_WINDOW_SECONDS if names else 0.0)


# ----------------------------------------------------------------------------- start


def start(service: Any, sc_public: dict[str, Any] | None) -> dict[str, Any]:
    """A new service deployment for what `service` now describes (called after _settle)."""
    backend = _backend_of(service)
    st = _state(backend)
    now = CLOCK.now()
    mode = settings.get("ecs_deployment")  # callers advanced every deployment to `now` first
    # Tasks whose execution role may not read a secret never start (ecs_task_iam.py).
    denied = _secret_denied(service)
    # Nor does a release on a load balancer whose traffic role may not move it.
    config_strategy = (getattr(service, "deployment_configuration", None) or {}).get("strategy")
    alb_plan = alb.plan(service) if config_strategy in TRAFFIC_SHIFTING else None
    alb_denied = alb.denied(service, alb_plan) if alb_plan is not None else None
    if denied or alb_denied:
        mode = "failed"

    previous = st["deployments"].get(getattr(service, "current_service_deployment", None) or "")
    source_rev = None
    if previous is not None:
        # What the service runs now: after a rollback the source, otherwise the target.
        rolled_back = previous["status"] in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
        source_rev = previous["_source_rev"] if rolled_back else previous["_target_rev"]
        if previous["status"] not in TERMINAL:
            _finish(previous, now, "STOPPED",
                    "Service deployment stopped because a new service deployment started.")
            _publish(previous)
    target = _revision(service, sc_public, now)
    config = copy.deepcopy(getattr(service, "deployment_configuration", None) or {})
    alarm_names, alarm_rollback = _alarm_config(config)
    window = _alarm_window(service, alarm_names) if alarm_names else 0.0
    desired = int(service.desired_count or 0)
    cb = config.get("deploymentCircuitBreaker") or {}
    dep: dict[str, Any] = {
        "serviceDeploymentArn": f"{_arn_prefix(service, 'service-deployment')}/{_deployment_id()}",
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "createdAt": as_datetime(now),
        "_created_t": now,
        "startedAt": as_datetime(now),
        "updatedAt": as_datetime(now),
        "status": "IN_PROGRESS",
        "deploymentConfiguration": config,
        "deploymentCircuitBreaker": {
            "status": "MONITORING" if cb.get("enable") else "DISABLED",
            "failureCount": 0,
            "threshold": max(3, min(200, math.ceil(desired * 0.5))),
        },
        "alarms": {"status": _alarm_status_at_start(service, alarm_names), "alarmNames": alarm_names,
                   "triggeredAlarmNames": []},
        "lifecycleHookDetails": [],
        "_account": service._account_id,
        "_region": service.region_name,
        "_service_key": f"{service.cluster_name}:{service.name}",
        "_mode": mode,
        "_strategy": (config.get("strategy") or "ROLLING") if source_rev else "ROLLING",
        # The target groups and rules it moves (ecs_alb_deployments.py), for a strategy that
        # shifts traffic on a service whose load balancer has advancedConfiguration.
        "_alb": alb_plan if source_rev else None,
        "_alarm_rollback": alarm_rollback,
        "_target_rev": target["serviceRevisionArn"],
        "_source_rev": source_rev,
        # A service's first deployment has nothing to shift traffic from: it only scales up.
        "_phases": _phases(config if source_rev or config.get("strategy") in (None, "ROLLING")
                           else dict(config, strategy="ROLLING"), window),
        "_phase": 0,
        "_elapsed": 0.0,
        "_entered": False,
        "_weight": 0.0,
        "_last_t": now,
        "_paused": None,
        "_hooks_fired": set(),
    }
    st["deployments"][dep["serviceDeploymentArn"]] = dep
    service.current_service_deployment = dep["serviceDeploymentArn"]

    if mode == "completed":
        _run_through(dep, now)
        _finish(dep, now, "SUCCESSFUL", None)
    elif alb_denied and not denied:
        # No task failed: ECS could not touch the load balancer, whose rules stay on the old
        # revision; the service goes back to it (the next apply shows the image it restored).
        if source_rev:
            _roll_back(dep, now, alb_denied)
        else:
            _finish(dep, now, "STOPPED", alb_denied, legacy_failed=True)
    elif mode == "failed":
        failed = max(desired, 1)
        dep["deploymentCircuitBreaker"].update({"status": "TRIGGERED", "failureCount": failed})
        reason = "ECS deployment circuit breaker: tasks failed to start."
        if denied:
            reason = f"{reason} {denied}"
        if cb.get("rollback") and source_rev:
            _roll_back(dep, now, reason, restore_service=False)
        else:
            _finish(dep, now, "STOPPED", reason)
    else:
        _advance(dep, now)
    _publish(dep)
    return dep


# ----------------------------------------------------------------------------- progress


def advance_all() -> None:
    now = CLOCK.now()
    for account in list(ecs_backends.keys()):
        for region in list(ecs_backends[account].keys()):
            backend = ecs_backends[account][region]
            st = backend.__dict__.get("_matbakh_service_deployments")
            if not st:
                continue
            for dep in list(st["deployments"].values()):
                if dep["status"] not in TERMINAL:
                    _advance(dep, now)
                    _publish(dep)


def advance_service(service: Any, now: float | None = None) -> None:
    st = _backend_of(service).__dict__.get("_matbakh_service_deployments")
    if not st:
        return
    dep = st["deployments"].get(getattr(service, "current_service_deployment", None) or "")
    if dep is not None and dep["status"] not in TERMINAL:
        _advance(dep, CLOCK.now() if now is None else now)
        _publish(dep)


def is_running(service: Any) -> bool:
    """Whether the service's current service deployment is still under way."""
    st = _backend_of(service).__dict__.get("_matbakh_service_deployments")
    dep = st["deployments"].get(getattr(service, "current_service_deployment", None) or "") if st else None
    return dep is not None and dep["status"] not in TERMINAL


def service_deleted(service: Any) -> None:
    """DeleteService stops the deployment under way."""
    st = _backend_of(service).__dict__.get("_matbakh_service_deployments")
    dep = st["deployments"].get(getattr(service, "current_service_deployment", None) or "") if st else None
    if dep is not None and dep["status"] not in TERMINAL:
        _finish(dep, CLOCK.now(), "STOPPED", "Service deployment stopped because the service was deleted.")
        _publish(dep)


def _alarms_in_alarm(dep: dict[str, Any]) -> list[str]:
    names = dep["alarms"]["alarmNames"]
    if not names:
        return []
    cw = cloudwatch_backends[dep["_account"]][dep["_region"]]
    return [n for n in names if n in cw.alarms and cw.alarms[n].state_value == "ALARM"]


def _check_alarms(dep: dict[str, Any], now: float) -> bool:
    if dep["alarms"]["status"] != "MONITORING":
        return False  # DISABLED at the start: ECS watches none of them for this deployment
    triggered = _alarms_in_alarm(dep)
    if not triggered:
        return False
    dep["alarms"].update({"status": "TRIGGERED", "triggeredAlarmNames": triggered})
    reason = (f"Service deployment rolled back because the CloudWatch alarm(s) "
              f"{', '.join(triggered)} went into ALARM state.")
    if dep["_alarm_rollback"] and dep["_source_rev"]:
        _roll_back(dep, now, reason)
    else:
        _finish(dep, now, "STOPPED",
                f"Service deployment stopped because the CloudWatch alarm(s) {', '.join(triggered)} "
                "went into ALARM state.", legacy_failed=True)
    return True


def _run_through(dep: dict[str, Any], now: float) -> None:
    """Mark every stage passed (completed mode): last stage, full weight."""
    if dep["_phases"]:
        dep["lifecycleStage"] = dep["_phases"][-1][0]
        if dep["lifecycleStage"] is None:
            dep.pop("lifecycleStage")
    dep["_weight"] = 100.0
    dep["_phase"] = len(dep["_phases"])


def _advance(dep: dict[str, Any], now: float) -> None:
    if dep["status"] in TERMINAL:
        return
    if _check_alarms(dep, now):
        return
    if dep["_mode"] != "timed":
        # in_progress: pinned in the first stage; only alarms and stop requests move it.
        if dep["_phases"] and not dep["_entered"]:
            dep["lifecycleStage"] = dep["_phases"][0][0] or None
            if dep["lifecycleStage"] is None:
                dep.pop("lifecycleStage")
            dep["_entered"] = True
        dep["_last_t"] = now
        return
    dt = max(0.0, now - dep["_last_t"])
    t = dep["_last_t"]
    dep["_last_t"] = now
    phases = dep["_phases"]
    while dep["status"] not in TERMINAL:
        paused = dep["_paused"]
        if paused is not None:
            if t + dt < paused["_expires"]:
                return
            dt = t + dt - paused["_expires"]
            t = paused["_expires"]
            paused["status"] = "TIMED_OUT"
            dep["_paused"] = None
            if paused["timeoutAction"] == "ROLLBACK":
                _roll_back(dep, t, f"Lifecycle hook {paused['hookId']} timed out.")
                return
        if dep["_phase"] >= len(phases):
            _finish(dep, t + dt, "SUCCESSFUL", None)
            return
        stage, duration, weight = phases[dep["_phase"]]
        if not dep["_entered"]:
            dep["_entered"] = True
            if stage:
                dep["lifecycleStage"] = stage
            dep["_weight"] = weight
            _show_alb(dep)
            if _fire_hooks(dep, stage, t):
                continue
        remaining = duration - dep["_elapsed"]
        if dt >= remaining:
            dt -= remaining
            t += remaining
            dep["_phase"] += 1
            dep["_elapsed"] = 0.0
            dep["_entered"] = False
        else:
            dep["_elapsed"] += dt
            return


def _fire_hooks(dep: dict[str, Any], stage: str | None, t: float) -> bool:
    """Run the lifecycle hooks for `stage`; True when a PAUSE hook now waits."""
    if stage is None:
        return False
    hook_stages = {stage}
    if stage == "PRODUCTION_TRAFFIC_SHIFT":
        hook_stages.add("PRE_PRODUCTION_TRAFFIC_SHIFT")
    for i, hook in enumerate(dep["deploymentConfiguration"].get("lifecycleHooks") or []):
        for s in hook.get("lifecycleStages") or []:
            key = (i, s, dep["_phase"])
            if s not in hook_stages or key in dep["_hooks_fired"]:
                continue
            dep["_hooks_fired"].add(key)
            timeout = hook.get("timeoutConfiguration") or {}
            detail = {
                "hookId": _random_id(16),
                "targetType": hook.get("targetType", "AWS_LAMBDA"),
                "status": "SUCCEEDED",
                "timeoutAction": timeout.get("action", "ROLLBACK"),
            }
            if hook.get("hookTargetArn"):
                detail["targetArn"] = hook["hookTargetArn"]
            dep["lifecycleHookDetails"].append(detail)
            if detail["targetType"] == "PAUSE":
                expires = t + float(timeout.get("timeoutInMinutes", DEFAULT_HOOK_TIMEOUT_MINUTES)) * 60
                detail.update({"status": "AWAITING_ACTION", "expiresAt": as_datetime(expires),
                               "_expires": expires})
                dep["_paused"] = detail
                return True
            # AWS_LAMBDA: no Lambda runs here; the hook succeeds.
    return False


# ----------------------------------------------------------------------------- outcomes


def _finish(dep: dict[str, Any], now: float, status: str, reason: str | None,
            legacy_failed: bool = False) -> None:
    """End `dep`. `legacy_failed`: also mark the service's PRIMARY deployments[] entry FAILED."""
    dep["status"] = status
    if reason:
        dep["statusReason"] = reason
    dep["finishedAt"] = as_datetime(now)
    dep["updatedAt"] = as_datetime(now)
    if status == "STOPPED":
        dep["stoppedAt"] = as_datetime(now)
    if dep["alarms"]["status"] == "MONITORING":
        dep["alarms"]["status"] = "MONITORING_COMPLETE"
    if dep["deploymentCircuitBreaker"]["status"] == "MONITORING":
        dep["deploymentCircuitBreaker"]["status"] = "MONITORING_COMPLETE"
    service = _service_of(dep)
    if legacy_failed and service.current_service_deployment == dep["serviceDeploymentArn"] \
            and service.deployments:
        service.deployments[0].update({"rolloutState": "FAILED", "rolloutStateReason": reason})
    if status == "SUCCESSFUL":
        dep["_weight"] = 100.0
        if dep["_mode"] == "timed" and service.status == "ACTIVE" \
                and service.current_service_deployment == dep["serviceDeploymentArn"]:
            _SETTLE[0](service, new_deployment=False)


def _roll_back(dep: dict[str, Any], now: float, reason: str, restore_service: bool = True) -> None:
    dep["rollback"] = {"reason": reason, "startedAt": as_datetime(now),
                       "serviceRevisionArn": dep["_source_rev"]}
    dep["statusReason"] = reason
    dep["_weight"] = 0.0
    dep["status"] = "ROLLBACK_SUCCESSFUL"
    dep["finishedAt"] = as_datetime(now)
    dep["updatedAt"] = as_datetime(now)
    if dep["alarms"]["status"] == "MONITORING":
        dep["alarms"]["status"] = "MONITORING_COMPLETE"
    if dep["deploymentCircuitBreaker"]["status"] == "MONITORING":
        dep["deploymentCircuitBreaker"]["status"] = "MONITORING_COMPLETE"
    if not restore_service:
        return
    service = _service_of(dep)
    if service.current_service_deployment != dep["serviceDeploymentArn"] or service.status != "ACTIVE":
        return
    source = _state(_backend_of(service))["revisions"][dep["_source_rev"]]
    service.task_definition = source["taskDefinition"]
    service._matbakh_sc = copy.deepcopy(source.get("_sc_internal"))
    _SETTLE[0](service, new_deployment=True,
                             event=f"(service {service.name}) rolled back to "
                                   f"{source['taskDefinition']}: {reason}")


# The ECS extension's settle_completed (deployments[] once a deployment ended),
# given by that extension when it loads: it imports this module, not the
# other way round.
_SETTLE: list[Callable[..., None]] = []


def settle_with(settle: Callable[..., None]) -> None:
    _SETTLE[:] = [settle]


def stop(arn: str, stop_type: str) -> dict[str, Any]:
    dep = find(arn)
    now = CLOCK.now()
    _advance(dep, now)
    if dep["status"] in TERMINAL:
        raise ConflictException(
            f"The service deployment {arn} is {dep['status']} and cannot be stopped.")
    if stop_type == "ABORT":
        dep["status"] = "STOP_REQUESTED"
        _finish(dep, now, "STOPPED", "Service deployment stopped by StopServiceDeployment (ABORT).",
                legacy_failed=True)
    else:
        if not dep["_source_rev"]:
            raise ConflictException(
                f"The service deployment {arn} has no previous service revision to roll back to.")
        dep["status"] = "ROLLBACK_REQUESTED"
        _roll_back(dep, now, "Service deployment rolled back by StopServiceDeployment (ROLLBACK).")
    _publish(dep)
    return dep


def continue_hook(arn: str, hook_id: str, action: str) -> dict[str, Any]:
    dep = find(arn)
    now = CLOCK.now()
    _advance(dep, now)
    paused = dep["_paused"]
    if dep["status"] in TERMINAL or paused is None or paused["hookId"] != hook_id:
        raise InvalidParameterException(
            f"The lifecycle hook {hook_id} of service deployment {arn} is not awaiting action.")
    dep["_paused"] = None
    dep["_last_t"] = now
    if action == "ROLLBACK":
        paused["status"] = "FAILED"
        if not dep["_source_rev"]:
            _finish(dep, now, "STOPPED", f"Lifecycle hook {hook_id} asked for a rollback.",
                    legacy_failed=True)
        else:
            _roll_back(dep, now, f"Lifecycle hook {hook_id} asked for a rollback.")
    else:
        paused["status"] = "SUCCEEDED"
        _advance(dep, now)
    _publish(dep)
    return dep


# ----------------------------------------------------------------------------- views


def find(arn: str) -> dict[str, Any]:
    for account in list(ecs_backends.keys()):
        for region in list(ecs_backends[account].keys()):
            st = ecs_backends[account][region].__dict__.get("_matbakh_service_deployments")
            if st and arn in st["deployments"]:
                return st["deployments"][arn]
    raise ServiceDeploymentNotFoundException(arn)


def find_revision(arn: str) -> dict[str, Any] | None:
    for account in list(ecs_backends.keys()):
        for region in list(ecs_backends[account].keys()):
            st = ecs_backends[account][region].__dict__.get("_matbakh_service_deployments")
            if st and arn in st["revisions"]:
                return st["revisions"][arn]
    return None


def _counts(dep: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Task counts and traffic weight of the target and source revisions, from the stage."""
    service = _service_of(dep)
    desired = int(service.desired_count or 0)
    status = dep["status"]
    strategy = dep["_strategy"]
    weight = dep["_weight"]
    pinned = dep["_mode"] == "in_progress" and status not in TERMINAL
    if status == "SUCCESSFUL":
        target_running, source_running = desired, 0
    elif status in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"):
        target_running, source_running = 0, desired
    elif status == "STOPPED":
        target_running = 0 if dep["_mode"] == "failed" else desired
        source_running = desired
    elif pinned:
        target_running, source_running = 0, desired
    elif strategy == "ROLLING":
        target_running, source_running = desired, 0
    else:
        stage = dep.get("lifecycleStage")
        scaled = stage not in ("PRE_SCALE_UP", "SCALE_UP")
        target_running = desired if scaled else 0
        source_running = 0 if stage == "CLEAN_UP" else desired
    target = {"arn": dep["_target_rev"], "requestedTaskCount": desired,
              "runningTaskCount": target_running, "pendingTaskCount": desired - target_running}
    source = None
    if dep["_source_rev"]:
        source = {"arn": dep["_source_rev"], "requestedTaskCount": 0 if status == "SUCCESSFUL" else desired,
                  "runningTaskCount": source_running,
                  "pendingTaskCount": 0}
    if strategy in TRAFFIC_SHIFTING:
        target["requestedProductionTrafficWeight"] = float(weight)
        if source is not None:
            source["requestedProductionTrafficWeight"] = round(100.0 - float(weight), 1)
    return target, source


def _show_alb(dep: dict[str, Any]) -> None:
    """The load balancer as this deployment has moved it by its current stage (at each stage it
    enters, so that a test reads every step, also of the stages that take no time)."""
    if dep.get("_alb") is None:
        return
    service = _service_of(dep)
    if service.current_service_deployment != dep["serviceDeploymentArn"]:
        return
    target, source = _counts(dep)
    alb.show(service, dep, target["runningTaskCount"], source["runningTaskCount"] if source else 0)


def _publish(dep: dict[str, Any]) -> None:
    """Refresh the shape members derived from the internal state (counts, weights, service)."""
    target, source = _counts(dep)
    dep["targetServiceRevision"] = target
    dep["sourceServiceRevisions"] = [source] if source is not None else []
    dep["updatedAt"] = as_datetime(max(dep["_last_t"], CLOCK.now()) if dep["status"] not in TERMINAL
                                   else dep["_last_t"])
    if dep["status"] in TERMINAL:
        dep["updatedAt"] = dep.get("finishedAt", dep["updatedAt"])
    service = _service_of(dep)
    if service.current_service_deployment != dep["serviceDeploymentArn"]:
        return
    revisions = []
    for summary in ([target] if dep["status"] not in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED") else []) + \
            ([source] if source is not None and source["runningTaskCount"] else []):
        revisions.append({k: summary[k] for k in
                          ("arn", "requestedTaskCount", "runningTaskCount", "pendingTaskCount")})
    service.current_service_revisions = revisions
    _show_alb(dep)
    if dep["status"] not in TERMINAL and dep["_mode"] == "timed":
        _legacy_in_progress(service, target, source)


def _legacy_in_progress(service: Any, target: dict[str, Any], source: dict[str, Any] | None) -> None:
    """deployments[] while a timed deployment runs: PRIMARY (new) IN_PROGRESS, ACTIVE (old)."""
    deps = service.deployments or []
    if not deps:
        return
    deps[0]["runningCount"] = target["runningTaskCount"]
    deps[0]["pendingCount"] = target["pendingTaskCount"]
    for old in deps[1:]:
        old["runningCount"] = source["runningTaskCount"] if source else 0
    service.running_count = target["runningTaskCount"] + (source["runningTaskCount"] if source else 0)
    service.pending_count = target["pendingTaskCount"]


def brief(dep: dict[str, Any]) -> dict[str, Any]:
    out = {k: dep.get(k) for k in ("serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt",
                                   "createdAt", "finishedAt", "status", "statusReason")}
    out["targetServiceRevisionArn"] = dep["_target_rev"]
    return {k: v for k, v in out.items() if v is not None}


def list_for(service: Any, statuses: list[str] | None, created: dict[str, Any] | None) -> list[dict[str, Any]]:
    advance_service(service)
    st = _state(_backend_of(service))
    out = []
    for dep in st["deployments"].values():
        if dep["serviceArn"] != service.arn:
            continue
        if statuses and dep["status"] not in statuses:
            continue
        if created:
            after, before = _epoch(created.get("after")), _epoch(created.get("before"))
            if after is not None and dep["_created_t"] < after:
                continue
            if before is not None and dep["_created_t"] > before:
                continue
        out.append(dep)
    out.sort(key=lambda d: d["createdAt"], reverse=True)
    return out


def _epoch(value: Any) -> float | None:
    """A request timestamp (epoch number, ISO string or datetime) as epoch seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


# ----------------------------------------------------------------------------- API


def _service_param(self: Any) -> Any:
    """`service` (name or ARN) and `cluster` (default: from a long service ARN, else "default")."""
    service_ref = self._get_param("service")
    cluster = self._get_param("cluster")
    if not cluster:
        parts = service_ref.split(":")[-1].split("/") if service_ref.startswith("arn:") else []
        cluster = parts[1] if len(parts) == 3 else "default"
    return self.ecs_backend._get_service(cluster, service_ref.split("/")[-1])


def list_service_deployments(self: Any) -> ActionResult:
    service = _service_param(self)
    deps = list_for(service, self._get_param("status"), self._get_param("createdAt"))
    max_results = int(self._get_param("maxResults") or 20)
    if not 1 <= max_results <= 100:
        raise InvalidParameterException("maxResults must be between 1 and 100.")
    start_at = int(self._get_param("nextToken") or 0)
    page = deps[start_at:start_at + max_results]
    out: dict[str, Any] = {"serviceDeployments": [brief(d) for d in page]}
    if start_at + max_results < len(deps):
        out["nextToken"] = str(start_at + max_results)
    return ActionResult(out)


def describe_service_deployments(self: Any) -> ActionResult:
    advance_all()
    found, failures = [], []
    for arn in self._get_param("serviceDeploymentArns") or []:
        try:
            found.append(find(arn))
        except ServiceDeploymentNotFoundException:
            failures.append({"arn": arn, "reason": "MISSING"})
    return ActionResult({"serviceDeployments": found, "failures": failures})


def describe_service_revisions(self: Any) -> ActionResult:
    found, failures = [], []
    for arn in self._get_param("serviceRevisionArns") or []:
        rev = find_revision(arn)
        if rev is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(rev)
    return ActionResult({"serviceRevisions": found, "failures": failures})


def stop_service_deployment(self: Any) -> ActionResult:
    arn = self._get_param("serviceDeploymentArn")
    stop_type = self._get_param("stopType") or "ROLLBACK"
    if stop_type not in ("ROLLBACK", "ABORT"):
        raise InvalidParameterException("stopType must be ROLLBACK or ABORT.")
    stop(arn, stop_type)
    return ActionResult({"serviceDeploymentArn": arn})


def continue_service_deployment(self: Any) -> ActionResult:
    arn = self._get_param("serviceDeploymentArn")
    action = self._get_param("action") or "CONTINUE"
    continue_hook(arn, self._get_param("hookId"), action)
    return ActionResult({"serviceDeploymentArn": arn})


# ----------------------------------------------------------------------------- CloudWatch hook

_orig_set_alarm_state = CloudWatchBackend.set_alarm_state


def _set_alarm_state(self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str,
                     state_value: str) -> None:
    advance_all()  # progress up to now happened under the old alarm state
    _orig_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
    advance_all()  # the new state takes effect now


def install() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    CloudWatchBackend.set_alarm_state = _set_alarm_state  # type: ignore[method-assign]
    R.list_service_deployments = list_service_deployments  # type: ignore[attr-defined]
    R.describe_service_deployments = describe_service_deployments  # type: ignore[attr-defined]
    R.describe_service_revisions = describe_service_revisions  # type: ignore[attr-defined]
    R.stop_service_deployment = stop_service_deployment  # type: ignore[attr-defined]
    R.continue_service_deployment = continue_service_deployment  # type: ignore[attr-defined]


on_advance(advance_all)
