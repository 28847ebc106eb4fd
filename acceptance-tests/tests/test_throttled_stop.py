"""Ctrl-C during a throttled retry's backoff (issue #18, issue #23 item 5).

Throttling is retried for as long as the operation's timeout allows, with backoff that grows to
10 s between attempts. Terraform's stop request must still end that wait within seconds: the
stop token reaches the retry sleep, no further attempt is made, and the state names every
object created so far."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from harness.terraform import TERRAFORM

from test_numbers import config, network

pytestmark = pytest.mark.microservice


def test_sigint_during_throttled_backoff_returns_within_5s_with_state(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net)})
    tf.apply(extra_args=["-target=matbakh_platform.main"])
    # Every alarm write is throttled, as an empty PutMetricAlarm bucket answers.
    emulator.inject_fault("monitoring", "PutMetricAlarm", count=100000, status=400,
                          code="Throttling", message="Rate exceeded")
    proc = subprocess.Popen([TERRAFORM, "apply", "-auto-approve", "-input=false", "-no-color"],
                            cwd=tf.workdir, env=tf.base_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        # Seven throttled attempts of one alarm: its backoff bound is now 10 s (0.2 s doubled
        # per attempt), more than the 5 s allowed below.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            throttled = [r for r in emulator.requests("monitoring", "PutMetricAlarm")
                         if r.get("fault")]
            if len(throttled) >= 3 * 7 and proc.poll() is None:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"alarm writes were not retried: {proc.poll()}")
        ecs = emulator.client("ecs")
        arns = ecs.list_services(cluster="matbakh")["serviceArns"]
        interrupted, interrupted_at = time.monotonic(), time.time()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        took = time.monotonic() - interrupted
    finally:
        if proc.poll() is None:
            proc.kill()
    assert took < 5, f"terraform took {took:.1f}s after Ctrl-C\n{out}"
    assert proc.returncode != 0, out
    assert "interrupted" in out.lower(), out
    # No attempt after the stop: the last throttled write is no later than the interrupt.
    after = [r for r in emulator.requests("monitoring", "PutMetricAlarm")
             if r.get("time", 0) > interrupted_at + 0.5]
    assert not after, after
    state = json.loads((tf.workdir / "terraform.tfstate").read_text())
    [svc] = [r for r in state["resources"] if r["type"] == "matbakh_microservice"]
    values = svc["instances"][0]["attributes"]
    components = values["components"] or {}
    assert components.get("task_definition", "").startswith("arn:"), components
    if arns:
        assert values["service_arn"] == arns[0], values
