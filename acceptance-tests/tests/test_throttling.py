"""Throttling is retried at the speed AWS allows (issue #11 item 5).

Every tenth request to ECS and to Cloud Map (what the default Service Connect backend calls)
fails with ThrottlingException. The provider's retry
policy (standard mode, exponential backoff with full jitter) retries the throttled call alone;
adaptive mode used to rate-limit the whole client after one throttle (a median 12 s wait per
call), so the same apply and destroy took minutes. The wall time is printed for the docs."""

from __future__ import annotations

import time

import pytest

from test_numbers import config, network

pytestmark = pytest.mark.microservice

EVERY = 10  # one throttle per ten requests: 10 %


def throttle_every_tenth(emulator, service: str, code: str = "ThrottlingException") -> None:
    for i in range(30):
        emulator.inject_fault(service, "*", count=1, status=400, code=code,
                              message="Rate exceeded", after=EVERY * i + EVERY - 1)


def test_ten_percent_throttling_costs_seconds_not_minutes(emulator, tf):
    net = network(emulator)
    # On App Mesh: the throttled App Mesh calls are part of the premise.
    tf.write({"main.tf": config(emulator, net, service_mesh="app_mesh")})
    throttle_every_tenth(emulator, "ecs")
    throttle_every_tenth(emulator, "servicediscovery")
    started = time.monotonic()
    tf.apply()
    tf.destroy()
    took = time.monotonic() - started
    throttled = [r for r in emulator.requests() if r.get("fault")]
    print(f"\napply+destroy with 10% throttling on ECS and Cloud Map: {took:.1f}s, "
          f"{len(throttled)} throttled requests")
    assert throttled, "no request was throttled"
    assert took < 60, f"{took:.1f}s"
