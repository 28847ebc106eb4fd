"""Run-time behaviour switches, set through POST /_matbakh/settings and cleared by a reset.

ecs_deployment:
    "completed"   (default) a service reaches steady state at once: runningCount = desiredCount,
                  one PRIMARY deployment with rolloutState COMPLETED.
    "in_progress" new deployments never finish: runningCount 0, rolloutState IN_PROGRESS.
    "failed"      new deployments fail: rolloutState FAILED (as after a circuit-breaker trip).
    "timed"       new deployments follow the emulator clock (POST /_matbakh/clock; see
                  ecs_deployments.py): stages, bake times, alarm rollback, pause hooks.

cloudmap_pending_polls:
    0 (default)   Cloud Map operations are SUCCESS on the first GetOperation.
    N             the first N GetOperation calls for an operation report SUBMITTED/PENDING.
"""

from __future__ import annotations

import copy
from typing import Any

DEFAULTS: dict[str, Any] = {
    "ecs_deployment": "completed",
    "cloudmap_pending_polls": 0,
}
CHOICES = {
    "ecs_deployment": ("completed", "in_progress", "failed", "timed"),
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
        if isinstance(DEFAULTS[k], int) and not isinstance(v, int):
            raise ValueError(f"{k} must be an integer")
    _current.update(values)


def reset() -> None:
    _current.clear()
    _current.update(copy.deepcopy(DEFAULTS))
