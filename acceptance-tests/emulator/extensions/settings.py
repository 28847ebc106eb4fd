"""Run-time behaviour switches, set through POST /_matbakh/settings and cleared by a reset.

ecs_deployment:
    "timed"       (default) new deployments follow the emulator clock (POST /_matbakh/clock, by
                  default 60 virtual seconds per real second; see ecs_clock.py and
                  ecs_deployments.py): stages, bake times, alarm rollback, pause hooks, as on AWS.
    "completed"   a service reaches steady state at once: runningCount = desiredCount, one
                  PRIMARY deployment with rolloutState COMPLETED (for tests that do not care
                  about releases).
    "in_progress" new deployments never finish: runningCount 0, rolloutState IN_PROGRESS.
    "failed"      new deployments fail: rolloutState FAILED (as after a circuit-breaker trip).

ecs_deployment_answer:
    "current"     (default) CreateService/UpdateService answer with currentServiceDeployment naming
                  the deployment the call started.
    "previous"    they answer with the deployment before it (none after a create), "blank" with
                  none: ECS may answer before the new deployment is attached to the service.

ecs_service_connect_cleanup:
    "delete"      (default) DeleteService deletes the Cloud Map services ECS made for Service Connect.
    "leave"       they stay behind (without instances): AWS does not document that ECS deletes
                  them, and users report ResourceInUse when deleting the namespace afterwards.

cloudmap_pending_polls:
    0 (default)   Cloud Map operations are SUCCESS on the first GetOperation.
    N             the first N GetOperation calls for an operation report SUBMITTED/PENDING.

validate_requests:
    true (default) every AWS request is checked against botocore's input shape first; a violation
                   is answered with the service's validation error (validation.py), moto never
                   sees it.
    false          requests go to moto unchecked (violations are still logged in the request log).

authorize_requests:
    false (default) every request is allowed (moto's own IAM enforcement is off).
    true            the caller's IAM policies must allow each request, as on AWS; keys no IAM
                    user owns act as the account's root (authorization.py).
"""

from __future__ import annotations

import copy
from typing import Any

DEFAULTS: dict[str, Any] = {
    "ecs_deployment": "timed",
    "ecs_deployment_answer": "current",
    "ecs_service_connect_cleanup": "delete",
    "cloudmap_pending_polls": 0,
    "validate_requests": True,
    "authorize_requests": False,
}
CHOICES = {
    "ecs_deployment": ("completed", "in_progress", "failed", "timed"),
    "ecs_deployment_answer": ("current", "previous", "blank"),
    "ecs_service_connect_cleanup": ("delete", "leave"),
}

_current: dict[str, Any] = copy.deepcopy(DEFAULTS)


def current() -> dict[str, Any]:
    return dict(_current)


def get(name: str) -> Any:
    return _current[name]


def update(values: dict[str, Any]) -> None:
    for k, v in values.items():
        if k not in DEFAULTS:
            raise ValueError(f"unknown setting {k}; known: {sorted(DEFAULTS)}")
        if k in CHOICES and v not in CHOICES[k]:
            raise ValueError(f"{k} must be one of {CHOICES[k]}")
        if isinstance(DEFAULTS[k], bool):
            if not isinstance(v, bool):
                raise ValueError(f"{k} must be true or false")
        elif isinstance(DEFAULTS[k], int) and not isinstance(v, int):
            raise ValueError(f"{k} must be an integer")
    _current.update(values)


def reset() -> None:
    _current.clear()
    _current.update(copy.deepcopy(DEFAULTS))
