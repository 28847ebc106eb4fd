"""Interrupted applies (issue #11): Ctrl-C (SIGINT) at several points of an apply of
examples/three-services, and SIGKILL of terraform and the provider mid-apply (then apply, or destroy).

Requests go through the fault proxy with a fixed delay and no faults, so an apply takes long
enough to be interrupted at a chosen point; the emulator is inspected directly.

After SIGINT: terraform exits within a few seconds, the state names everything that exists,
and a re-apply converges with nothing duplicated. After SIGKILL: the documented recovery
(re-apply, or the import command the provider prints) leaves nothing duplicated or orphaned;
a destroy after a kill fails loudly, naming each leftover and its import command, and following
that leaves nothing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

from harness import chaos
from harness.terraform import TERRAFORM

pytestmark = pytest.mark.chaos

REPO = Path(__file__).resolve().parents[2]
THREE = REPO / "examples" / "three-services"  # on Service Connect, the default backend
DELAY_MS = 200          # per AWS request: an apply of the stack takes ~10 s
SIGINT_EXIT_S = 10      # "exits within a few seconds" after the first Ctrl-C
IMPORT_CMD = re.compile(r"terraform import <resource address> ([^\s`'\".,]+)")
WITH_ADDRESS = re.compile(r"with ([\w.\[\]\"-]+),")
LEFTOVER_IMPORT = re.compile(r"terraform import matbakh_microservice\.<ADDRESS> ([\w.-]+/[\w.-]+)")
LABEL_AND_NAME = re.compile(
    r'resource "matbakh_microservice" "([\w-]+)" \{[^}]*?\bname\s*=\s*"([^"]+)"', re.S)


# ---------------------------------------------------------------------------- helpers


class Background:
    """`terraform apply` (or destroy) running in the background, its output in a file."""

    def __init__(self, tf, *args: str) -> None:
        self.tf = tf
        self.out_path = tf.workdir / f"background-{int(time.time() * 1000)}.out"
        self._out = open(self.out_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [TERRAFORM, *args, "-auto-approve", "-input=false", "-no-color"],
            cwd=tf.workdir, env=tf.base_env(), stdout=self._out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)

    @property
    def output(self) -> str:
        self._out.flush()
        return self.out_path.read_text(errors="replace")

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def provider_pids(self) -> list[int]:
        """Processes terraform started (the provider plugin), found through /proc."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                pids.append(int(entry))
        return pids

    def kill_all(self) -> list[int]:
        """SIGKILL terraform and the provider at once, as a crash or an OOM kill would;
        returns the provider pids killed."""
        pids = self.provider_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._out.close()
        return pids

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill_all()
        if not self._out.closed:
            self._out.close()


def wait_until(what: str, cond: Callable[[], bool], bg: Background, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if bg.proc.poll() is not None:
            pytest.fail(f"terraform ended (exit {bg.proc.returncode}) before {what}:\n{bg.output}")
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}:\n{bg.output}")


def created(emulator, operation: str, at_least: int = 1) -> Callable[[], bool]:
    """Whether the emulator has answered `operation` successfully `at_least` times: one cheap
    look at its request log, so the interruption lands close to that point."""
    return lambda: sum(1 for r in emulator.requests(operation=operation)
                       if r.get("status", 500) < 300) >= at_least


@pytest.fixture
def stack(emulator, tf, fault_proxy, tmp_path):
    """examples/three-services through the proxy (fixed delay, no faults), provider DEBUG log."""
    fault_proxy.configure(delay_ms=DELAY_MS)
    tf.copy_dir(THREE, {"endpoint": fault_proxy.endpoint, **chaos.network(emulator)})
    tf.env.update({"TF_LOG_PROVIDER": "DEBUG", "TF_LOG_PATH": str(tmp_path / "provider.log")})
    started: list[Background] = []

    def start(*args: str) -> Background:
        bg = Background(tf, *args)
        started.append(bg)
        return bg

    yield start
    for bg in started:
        bg.stop()


def interrupt(bg: Background) -> float:
    """The first Ctrl-C; returns how long terraform took to exit (inf if it did not within
    SIGINT_EXIT_S, then it is killed so the test can report)."""
    t0 = time.monotonic()
    bg.proc.send_signal(signal.SIGINT)
    if bg.wait(SIGINT_EXIT_S) is None:
        return float("inf")
    return time.monotonic() - t0


def import_commands(output: str) -> dict[str, str]:
    """The import commands the provider printed, by resource address: each error diagnostic
    that says `terraform import <resource address> ID` (Terraform does not tell a provider the
    address) names the resource in Terraform's own "with ADDRESS," line."""
    commands = {}
    for diagnostic in " ".join(output.split()).split("Error: ")[1:]:
        ids, addresses = IMPORT_CMD.findall(diagnostic), WITH_ADDRESS.findall(diagnostic)
        if ids and addresses:
            commands[addresses[0]] = ids[0]
    return commands


def recover(tf) -> None:
    """The documented recovery after an interrupted apply: apply again; where the provider
    refuses an existing object with "already exists" and an import command, run exactly that
    command (with the address Terraform names), then apply again."""
    res = tf.apply(check=False)
    rounds = 0
    while res.returncode != 0 and rounds < 2:
        commands = import_commands(res.output)
        assert commands, f"apply after the interruption failed without an import command:\n{res.output}"
        for addr, id_ in commands.items():
            tf.import_(addr, id_)
        res = tf.apply(check=False)
        rounds += 1
    assert res.returncode == 0, res.output


def assert_converged(emulator, tf) -> None:
    inv = chaos.inventory(emulator)
    wrong = chaos.count_mismatches(inv, chaos.expected_counts("service_connect"))
    assert wrong == {}, f"not one of each object of examples/three-services: {wrong}"
    dups = chaos.duplicates(emulator, inv, [chaos.state_text(tf.workdir)])
    assert dups == {}, f"duplicates: {dups}"
    assert chaos.unrecorded(emulator, [chaos.state_text(tf.workdir)]) == []
    assert tf.plan().returncode == 0


def assert_destroyed(emulator, tf) -> None:
    tf.destroy()
    left = chaos.orphans(chaos.inventory(emulator))
    assert left == {}, f"destroy left objects behind: {left}"


def assert_no_panic(tf, tmp_path: Path, *extra: str) -> None:
    log = tmp_path / "provider.log"
    found = chaos.panics(log.read_text(errors="replace") if log.exists() else "",
                         *(r.output for r in tf.history), *extra)
    assert found == [], "\n".join(found[:20])


# ---------------------------------------------------------------------------- SIGINT


@pytest.mark.parametrize("operation, at_least", [
    ("CreateLogGroup", 1),      # early in the graph: the first microservice object
    ("CreateService", 2),       # mid-graph: ECS services made, scaling and alarms next
])
def test_sigint_mid_apply(emulator, tf, stack, tmp_path, operation, at_least):
    """Ctrl-C at a point of the apply: terraform stops within seconds, the state names every
    object that exists, a re-apply converges with nothing duplicated."""
    bg = stack("apply")
    wait_until(f"{at_least} x {operation}", created(emulator, operation, at_least), bg)
    took = interrupt(bg)
    out = bg.output
    assert took < SIGINT_EXIT_S, f"terraform still running {SIGINT_EXIT_S}s after Ctrl-C:\n{out}"
    assert bg.proc.returncode != 0, out
    missing = chaos.unrecorded(emulator, [chaos.state_text(tf.workdir)])
    assert missing == [], f"objects exist that the state does not record: {missing}"
    recover(tf)
    assert_converged(emulator, tf)
    assert_no_panic(tf, tmp_path, out)
    assert_destroyed(emulator, tf)


def test_sigint_during_steady_state_wait(emulator, tf, stack, tmp_path):
    """Ctrl-C while the provider waits for ECS deployments that never finish
    (ecs_deployment=in_progress): terraform exits within seconds, the state names everything
    that exists, and once deployments complete a re-apply converges with nothing duplicated."""
    emulator.settings(ecs_deployment="in_progress")
    bg = stack("apply")
    wait_until("the three ECS services", created(emulator, "CreateService", 3), bg)
    time.sleep(1)  # well inside the steady-state wait
    took = interrupt(bg)
    out = bg.output
    assert took < SIGINT_EXIT_S, f"terraform still running {SIGINT_EXIT_S}s after Ctrl-C:\n{out}"
    missing = chaos.unrecorded(emulator, [chaos.state_text(tf.workdir)])
    assert missing == [], f"objects exist that the state does not record: {missing}"
    emulator.settings(ecs_deployment="completed")
    recover(tf)
    assert_converged(emulator, tf)
    assert_no_panic(tf, tmp_path, out)
    assert_destroyed(emulator, tf)


# ---------------------------------------------------------------------------- SIGKILL


@pytest.mark.parametrize("operation, at_least, deployment", [
    ("CreateLogGroup", 1, "completed"),     # early in the graph
    ("CreateService", 3, "in_progress"),    # during the ECS steady-state wait
])
def test_sigkill_mid_apply_then_recover(emulator, tf, stack, tmp_path, operation, at_least,
                                        deployment):
    """SIGKILL of terraform and the provider mid-apply; the documented recovery (re-apply, or
    the import command the provider prints) ends with one of each object and no orphan."""
    emulator.settings(ecs_deployment=deployment)
    bg = stack("apply")
    wait_until(f"{at_least} x {operation}", created(emulator, operation, at_least), bg)
    if deployment == "in_progress":
        time.sleep(1)  # inside the steady-state wait
    assert bg.kill_all(), "no provider process was running to kill"
    assert chaos.count(chaos.inventory(emulator)) > 0
    emulator.settings(ecs_deployment="completed")
    recover(tf)
    assert_converged(emulator, tf)
    assert_no_panic(tf, tmp_path)
    assert_destroyed(emulator, tf)


def microservice_addresses(config_dir: Path) -> dict[str, str]:
    """`matbakh_microservice.X` by the microservice's `name`, from the configuration: what a
    user fills in for <ADDRESS> in the command the provider prints."""
    found = {}
    for tf_file in config_dir.glob("*.tf"):
        for label, name in LABEL_AND_NAME.findall(tf_file.read_text()):
            found[name] = f"matbakh_microservice.{label}"
    return found


def test_destroy_after_kill_names_the_leftovers_and_their_import_commands(emulator, tf, stack,
                                                                          tmp_path):
    """SIGKILL of terraform and the provider while the ECS services wait for steady state, then
    `terraform destroy` instead of apply. Terraform never got the answer, so the microservices
    are in no state and destroy reaches only the platform: its delete fails, before deleting the
    cluster, with one error naming each leftover microservice and
    `terraform import matbakh_microservice.<ADDRESS> PLATFORM/NAME` (docs/index.md, Safety).
    Following that (import each, destroy again) leaves nothing."""
    emulator.settings(ecs_deployment="in_progress")
    bg = stack("apply")
    wait_until("the three ECS services", created(emulator, "CreateService", 3), bg)
    time.sleep(1)  # inside the steady-state wait
    assert bg.kill_all(), "no provider process was running to kill"
    emulator.settings(ecs_deployment="completed")

    res = tf.destroy(check=False)
    out = " ".join(res.output.split())
    assert res.returncode != 0, f"destroy after a kill succeeded, leaving:\n{res.output}"
    assert out.count("Error: ") == 1, f"not one error:\n{res.output}"
    assert "still has 3 ECS services, so the cluster was not deleted" in out, res.output
    leftovers = sorted(LEFTOVER_IMPORT.findall(out))
    assert leftovers == ["matbakh/auth-service", "matbakh/persona-service",
                         "matbakh/vc-service"], res.output
    assert chaos.count(chaos.inventory(emulator)) > 0, "the failed destroy deleted everything?"

    addresses = microservice_addresses(tf.workdir)
    for id_ in leftovers:
        tf.import_(addresses[id_.split("/", 1)[1]], id_)
    tf.destroy()
    left = chaos.orphans(chaos.inventory(emulator))
    assert left == {}, f"destroy after the imports left objects behind: {left}"
    assert_no_panic(tf, tmp_path)
