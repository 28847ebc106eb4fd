"""Fixtures for the matbakh acceptance tests.

emulator         one emulator (moto + extensions) per session on a free port, wiped with
                 POST /moto-api/reset before every test. Set MATBAKH_EMULATOR_ENDPOINT to use an
                 emulator you started yourself (emulator/start.sh PORT) instead.
provider_binary  MATBAKH_PROVIDER_BIN, else $CARGO_TARGET_DIR (default <repo>/target)/debug/terraform-provider-matbakh.
tf               a terraform working directory wired to the provider binary (dev_overrides)
                 and to the emulator; tf_factory() makes more of them (e.g. for import tests).
fault_proxy      a seeded HTTP fault proxy in front of the emulator (harness/fault_proxy.py).

At the end of a run that made the provider call AWS, the run fails when the deployer policy
(`data "matbakh_deployer_policy"`) lacks an action the provider called in any test
(harness/policy_coverage.py).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from harness import emulator as emu
from harness import policy_coverage
from harness.terraform import Terraform, plugin_dir_for, write_cli_config

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emu.Emulator]:
    external = os.environ.get("MATBAKH_EMULATOR_ENDPOINT")
    if external:
        server = emu.Emulator(external)
        if not server.healthy():
            pytest.fail(f"MATBAKH_EMULATOR_ENDPOINT={external} does not answer /_matbakh/health")
        yield server
        return
    log_dir = Path(os.environ.get("MATBAKH_EMULATOR_LOG_DIR", tmp_path_factory.mktemp("emulator")))
    server = emu.start(log_dir)
    try:
        yield server
    finally:
        try:
            policy_coverage.record(Path(os.environ[policy_coverage.DIR_ENV]),
                                   server.provider_actions())
        except Exception as e:  # noqa: BLE001 - the check at the end says what it lacks
            print(f"could not record the provider's actions: {e}")
        server.stop()


def _controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    # Chosen once by the controller; xdist workers inherit the environment.
    if _controller(config):
        os.environ[policy_coverage.DIR_ENV] = tempfile.mkdtemp(prefix="matbakh-provider-actions-")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The deployer policy must grant every action the provider called in this run."""
    if not _controller(session.config):
        return
    directory = Path(os.environ[policy_coverage.DIR_ENV])
    called = policy_coverage.recorded(directory)
    if not called:
        return
    binary = Path(os.environ.get("MATBAKH_PROVIDER_BIN", Path(os.environ.get(
        "CARGO_TARGET_DIR", REPO / "target")) / "debug" / "terraform-provider-matbakh"))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not binary.is_file():
        # An emulator-only run (`-m emulator`) without the provider built: nothing to check.
        if reporter is not None:
            reporter.write_line(f"deployer policy: not checked, no provider binary at {binary}",
                                yellow=True)
        return
    try:
        policy = policy_coverage.render_deployer_policy(binary, directory, ["matbakh"])
        missing = policy_coverage.uncovered(called, policy)
    except Exception as e:  # noqa: BLE001
        missing, policy = [f"(the policy could not be rendered: {e})"], {}
    line = (f"deployer policy: the provider called {len(called)} actions in this run; "
            + (f"the policy lacks {missing}" if missing else "the policy grants every one"))
    if reporter is not None:
        reporter.write_line(line, red=bool(missing), green=not missing)
    if missing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def emulator(emulator_server: emu.Emulator, request: pytest.FixtureRequest) -> Iterator[emu.Emulator]:
    """The session's emulator, empty: every moto backend, our extension state, faults, the
    request log and the settings are reset before the test.

    ECS deployments finish at once (ecs_deployment=completed) unless the test is marked
    `releases`: then they take their stages' time, as by the emulator's default (timed, on a
    clock run at harness.emulator.RELEASE_SPEED)."""
    emulator_server.reset()
    if request.node.get_closest_marker("releases") is None:
        emulator_server.settings(ecs_deployment="completed")
    yield emulator_server
    if emulator_server.proc is not None and emulator_server.proc.poll() is not None:
        pytest.fail(f"emulator died during the test:\n{emulator_server.log_tail()}")


@pytest.fixture(scope="session")
def provider_binary() -> Path:
    path = Path(os.environ.get("MATBAKH_PROVIDER_BIN",
                               Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug" / "terraform-provider-matbakh"))
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"provider binary not found at {path}: build it (cargo build) or point "
            "MATBAKH_PROVIDER_BIN at it", pytrace=False)
    return path


@pytest.fixture(scope="session")
def cli_config(provider_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("terraform-cli")
    return write_cli_config(base / "terraformrc", plugin_dir_for(provider_binary, base))


@pytest.fixture
def tf_factory(tmp_path: Path, cli_config: Path, emulator: emu.Emulator) -> Callable[..., Terraform]:
    """tf_factory(name="main") -> a new terraform working directory under the test's tmp dir."""
    made: dict[str, Terraform] = {}

    def make(name: str = "main") -> Terraform:
        if name in made:
            return made[name]
        made[name] = Terraform(tmp_path / name, cli_config)
        return made[name]

    return make


@pytest.fixture
def tf(tf_factory: Callable[..., Terraform]) -> Terraform:
    return tf_factory("main")


@pytest.fixture
def fault_proxy(emulator: emu.Emulator, tmp_path: Path) -> Iterator["FaultProxy"]:
    """A fault proxy (harness/fault_proxy.py) on a free port in front of the session's emulator,
    faults off until the test calls `fault_proxy.configure(rate=..., seed=...)`. Give the
    provider `endpoint = fault_proxy.endpoint`; its request log is tmp_path/proxy-requests.jsonl."""
    from harness.fault_proxy import FaultProxy

    proxy = FaultProxy(emulator.endpoint, log_path=tmp_path / "proxy-requests.jsonl").start()
    try:
        yield proxy
    finally:
        proxy.stop()
