"""Ctrl-C stops the provider (issue #11 item 2).

Terraform answers the first Ctrl-C (SIGINT) by sending StopProvider and waiting for the calls in
flight. The provider must end its waits (here: an ECS deployment that never reaches a steady
state) within seconds and return the state of what exists, so the first Ctrl-C is enough and the
state names every object created."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from harness.terraform import TERRAFORM

from test_numbers import config, network

pytestmark = pytest.mark.microservice


def test_sigint_during_a_steady_state_wait_returns_within_seconds_with_state(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net)})
    # The platform first, without the wait.
    tf.apply(extra_args=["-target=matbakh_platform.main"])
    emulator.settings(ecs_deployment="in_progress")
    proc = subprocess.Popen([TERRAFORM, "apply", "-auto-approve", "-input=false", "-no-color"],
                            cwd=tf.workdir, env=tf.base_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        ecs = emulator.client("ecs")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            arns = ecs.list_services(cluster="matbakh")["serviceArns"]
            if arns:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the ECS service was never created")
        time.sleep(2)  # well inside the steady-state wait
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        took = time.monotonic() - interrupted
    finally:
        if proc.poll() is None:
            proc.kill()
    assert took < 20, f"terraform took {took:.1f}s after Ctrl-C\n{out}"
    assert proc.returncode != 0, out
    assert "interrupted" in out.lower(), out
    state = json.loads((tf.workdir / "terraform.tfstate").read_text())
    [auth] = [r for r in state["resources"] if r["type"] == "matbakh_microservice"]
    values = auth["instances"][0]["attributes"]
    assert values["service_arn"] == arns[0], values
    assert "service" in (values["components"] or {}), values["components"]
    assert values["components"]["task_definition"].startswith("arn:"), values["components"]
