"""The emulator's deployment clock: virtual time that ECS service deployments advance on.

Virtual time runs at `speed` virtual seconds per real second (1.0 = real time, 0 = stopped)
and jumps forward on POST /_matbakh/clock {"advance_seconds": N}. Only deployments created in
ecs_deployment=timed mode (the default) follow it (bake times, canary/linear steps, pause-hook
timeouts); the other modes finish, stay or fail at once.

The speed a reset returns to is DEFAULT_SPEED: 60 (a minute of deployment per second, so a
10-minute canary bake takes 10 s) unless the launcher's --speed / MATBAKH_EMULATOR_SPEED says
otherwise (the acceptance tests start it at 3600).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any, Callable


DEFAULT_SPEED = float(os.environ.get("MATBAKH_EMULATOR_SPEED", "60"))


class Clock:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._base = time.time()
        self._anchor = time.time()
        self.speed = DEFAULT_SPEED

    def now(self) -> float:
        return self._base + (time.time() - self._anchor) * self.speed

    def set_speed(self, speed: float) -> None:
        self._base = self.now()
        self._anchor = time.time()
        self.speed = speed

    def advance(self, seconds: float) -> None:
        self._base += seconds

    def state(self) -> dict[str, Any]:
        return {"now": self.now(), "speed": self.speed}


CLOCK = Clock()


def as_datetime(t: float) -> datetime:
    """Virtual epoch seconds as the naive UTC datetime moto's serializer expects."""
    return datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None)


# What runs on the clock (ecs_deployments.py) registers here, so the clock
# imports nothing above it and the modules depend on each other one way.
_ADVANCE_LISTENERS: list[Callable[[], None]] = []


def on_advance(listener: Callable[[], None]) -> None:
    """Call `listener` after every move of the clock through the control API."""
    _ADVANCE_LISTENERS.append(listener)


def control(payload: dict[str, Any]) -> dict[str, Any]:
    """POST /_matbakh/clock: {"advance_seconds": N} and/or {"speed": S}; answers the state."""
    unknown = set(payload) - {"advance_seconds", "speed"}
    if unknown:
        raise ValueError(f"unknown clock fields {sorted(unknown)}; known: advance_seconds, speed")
    if "speed" in payload:
        speed = payload["speed"]
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or speed < 0:
            raise ValueError("speed must be a number >= 0")
        CLOCK.set_speed(float(speed))
    if "advance_seconds" in payload:
        n = payload["advance_seconds"]
        if isinstance(n, bool) or not isinstance(n, (int, float)) or n < 0:
            raise ValueError("advance_seconds must be a number >= 0")
        CLOCK.advance(float(n))
    for listener in _ADVANCE_LISTENERS:
        listener()
    return CLOCK.state()
