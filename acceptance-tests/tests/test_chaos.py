"""The chaos suite (issue #11): examples/three-services through the fault proxy
(harness/fault_proxy.py) at 20 % mixed faults on fixed seeds, and a malformed AWS answer.

After every run: 0 orphans (nothing left in the emulator after destroy, by kind), 0 duplicates
(by name per kind, no task-definition revision that no service runs and no state records),
0 panics (provider log at TF_LOG_PROVIDER=DEBUG and terraform's output), one apply attempt.
The emulator is always inspected directly, never through the proxy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import chaos

pytestmark = pytest.mark.chaos

REPO = Path(__file__).resolve().parents[2]
THREE = REPO / "examples" / "three-services"     # on Service Connect, the default backend
APP_MESH = REPO / "examples" / "app-mesh"         # the same three services on App Mesh
SEEDS = (1, 2)
RATE = 0.20
# What examples/three-services creates, by kind (the platform and three microservices on
# Service Connect; no App Mesh object).
EXPECTED_COUNTS = chaos.expected_counts("service_connect")


def logged(tf, tmp_path: Path, name: str = "provider.log") -> Path:
    """Run this terraform directory's commands with the provider's DEBUG log in `name`."""
    log = tmp_path / name
    tf.env.update({"TF_LOG_PROVIDER": "DEBUG", "TF_LOG_PATH": str(log)})
    return log


def assert_no_panic(log: Path, tf) -> None:
    found = chaos.panics(log.read_text(errors="replace") if log.exists() else "",
                         *(r.output for r in tf.history))
    assert found == [], f"the provider panicked or crashed:\n" + "\n".join(found[:20])


def test_the_panic_check_finds_panics_not_letters_of_request_ids():
    """The check every chaos run ends with: a panic caught at the gRPC boundary, a Rust panic
    message and a crashed plugin count; an AWS request id that happens to spell it does not
    (one, `xHopAniCt5...`, failed a CI run)."""
    assert chaos.panics("aws_operation=DeleteScalingPolicy aws_request_id=xHopAniCt5dgSqlAfOxPnG",
                        "aws_request_id=PANICKY7Qz") == []
    found = chaos.panics('[ERROR] provider: operation panicked: operation=ApplyResourceChange',
                         "thread 'tokio-runtime-worker' panicked at src/engine/reconcile.rs:1:2",
                         "Stack trace from the terraform-provider-matbakh plugin:\n\npanic: boom",
                         "Error: The plugin crashed!", "Error: Plugin did not respond")
    assert len(found) == 5, found


def assert_clean_stack(emulator, tf) -> None:
    inv = chaos.inventory(emulator)
    dups = chaos.duplicates(emulator, inv, [chaos.state_text(tf.workdir)])
    assert dups == {}, f"duplicates: {dups}"
    wrong = chaos.count_mismatches(inv, EXPECTED_COUNTS)
    assert wrong == {}, f"expected {EXPECTED_COUNTS}, these kinds differ: {wrong}"


@pytest.mark.parametrize("seed", SEEDS)
def test_apply_plan_destroy_under_faults(emulator, tf, fault_proxy, tmp_path, seed):
    """20 % of AWS requests throttled, failed (500/503), reset before or after reaching AWS or
    delayed: one apply converges, a plan with faults still on shows no change, destroy leaves
    nothing, and nothing was duplicated or panicked."""
    net = chaos.network(emulator)
    log = logged(tf, tmp_path)
    tf.copy_dir(THREE, {"endpoint": fault_proxy.endpoint, **net})
    fault_proxy.configure(rate=RATE, seed=seed)

    tf.apply()  # one attempt: raises with terraform's output if it failed
    assert_clean_stack(emulator, tf)
    plan = tf.plan()
    assert plan.returncode == 0, f"plan under faults is not empty:\n{plan.stdout}"
    tf.destroy()

    faults = fault_proxy.faults()
    assert sum(faults.values()) >= 10, f"too few faults injected to mean anything: {faults}"
    assert {"throttle", "reset_after"} <= set(faults), faults
    left = chaos.orphans(chaos.inventory(emulator))
    assert left == {}, f"destroy left objects behind: {left}"
    assert_no_panic(log, tf)


def test_lost_register_answer_makes_no_extra_revision(emulator, tf, fault_proxy, tmp_path):
    """The answer to the first RegisterTaskDefinition is lost (connection reset after the
    emulator registered it): the apply converges and no unreferenced revision is left."""
    log = logged(tf, tmp_path)
    tf.copy_dir(THREE, {"endpoint": fault_proxy.endpoint, **chaos.network(emulator)})
    fault_proxy.configure(script={"RegisterTaskDefinition": ["reset_after"]})
    tf.apply()
    assert fault_proxy.calls(fault="reset_after"), "the answer was never lost"
    assert_no_panic(log, tf)
    assert_clean_stack(emulator, tf)


def malformed_run(emulator, tf, fault_proxy, tmp_path, operation: str, example: Path = THREE):
    """Apply `example` with every answer to `operation` garbled: it must fail naming the
    operation, with no panic and no crashed plugin. Returns the failed apply's result."""
    net = chaos.network(emulator)
    log = logged(tf, tmp_path)
    tf.copy_dir(example, {"endpoint": fault_proxy.endpoint, **net})
    fault_proxy.configure(malformed={operation: 1000})
    res = tf.apply(check=False)
    assert res.returncode == 1, res.output
    assert operation in res.output, f"the error does not name {operation}:\n{res.output}"
    assert fault_proxy.calls(fault="malformed"), "the proxy never garbled an answer"
    assert_no_panic(log, tf)
    assert "matbakh_platform.main" in tf.state_list()
    fault_proxy.configure(malformed={})
    return log


def assert_state_names_everything(emulator, tf) -> None:
    """Every object that exists is recorded in the state's `components` (by ARN, id or name)."""
    missing = chaos.unrecorded(emulator, [chaos.state_text(tf.workdir)])
    assert missing == [], f"objects exist that the state does not record: {missing}"


def test_malformed_answer_fails_one_operation(emulator, tf, fault_proxy, tmp_path):
    """Garbled 200 answers to DescribeTaskDefinition (the task definition's lookup before it
    registers one): the apply fails with an error naming the operation, the provider survives
    (no panic, no crashed plugin), state records what was created, destroy removes it all."""
    log = malformed_run(emulator, tf, fault_proxy, tmp_path, "DescribeTaskDefinition")
    assert_state_names_everything(emulator, tf)
    tf.destroy()
    assert chaos.orphans(chaos.inventory(emulator)) == {}
    assert_no_panic(log, tf)


def test_malformed_create_answer_is_recorded(emulator, tf, fault_proxy, tmp_path):
    """Garbled 200 answers to CreateRoute (examples/app-mesh: routes are App Mesh objects): the
    route exists in App Mesh but the provider could not read the answer. The apply fails naming
    CreateRoute without a panic; state must still name the route, and destroy must remove
    everything."""
    log = malformed_run(emulator, tf, fault_proxy, tmp_path, "CreateRoute", example=APP_MESH)
    assert_no_panic(log, tf)
    assert_state_names_everything(emulator, tf)
    tf.destroy()
    assert chaos.orphans(chaos.inventory(emulator)) == {}
