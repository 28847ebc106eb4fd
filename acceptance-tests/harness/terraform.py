"""Run the real terraform CLI against the provider binary (dev_overrides) and the emulator."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

TERRAFORM = os.environ.get("MATBAKH_TERRAFORM", shutil.which("terraform") or "/usr/local/bin/terraform")
PROVIDER_SOURCE = "matbakh/matbakh"
PROVIDER_BINARY_NAME = "terraform-provider-matbakh"

# Environment variables never passed through from the caller: they would change what terraform
# or the AWS SDK inside the provider does behind the test's back.
_SCRUB_PREFIXES = ("TF_", "AWS_")
_SCRUB_EXACT = {"CHECKPOINT_DISABLE"}


class TerraformError(AssertionError):
    def __init__(self, args: list[str], result: "Result") -> None:
        self.result = result
        super().__init__(
            f"terraform {' '.join(args)} exited with {result.returncode} in {result.cwd}\n"
            f"----- stdout -----\n{result.stdout}\n----- stderr -----\n{result.stderr}"
        )


class Result(subprocess.CompletedProcess):
    cwd: str = ""

    @property
    def output(self) -> str:
        """stdout and stderr together (terraform prints diagnostics on stderr)."""
        return (self.stdout or "") + (self.stderr or "")


def write_cli_config(path: Path, plugin_dir: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "provider_installation {\n"
        "  dev_overrides {\n"
        f'    "{PROVIDER_SOURCE}" = "{plugin_dir}"\n'
        "  }\n"
        "  direct {}\n"
        "}\n"
    )
    return path


def plugin_dir_for(binary: Path, work: Path) -> Path:
    """dev_overrides wants a directory holding `terraform-provider-matbakh`; link the binary there
    when it has another name (e.g. MATBAKH_PROVIDER_BIN=/somewhere/else/provider)."""
    binary = binary.resolve()
    if binary.name == PROVIDER_BINARY_NAME:
        return binary.parent
    d = work / "plugins"
    d.mkdir(parents=True, exist_ok=True)
    link = d / PROVIDER_BINARY_NAME
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(binary)
    return d


class Terraform:
    """One terraform working directory.

    Every command returns a `Result` (a CompletedProcess with `.output`) and raises
    `TerraformError` with stdout and stderr when the exit code is not an expected one.
    `env` adds variables to every command (e.g. {"TF_LOG": "DEBUG"}); each method also takes
    an `env` for one call.
    """

    def __init__(self, workdir: Path, cli_config: Path, env: Mapping[str, str] | None = None,
                 timeout: float = 900) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cli_config = cli_config
        self.timeout = timeout
        self.env: dict[str, str] = dict(env or {})
        self.history: list[Result] = []

    # ------------------------------------------------------------------ files
    def write(self, files: Mapping[str, str]) -> None:
        for name, content in files.items():
            p = self.workdir / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)

    def copy_dir(self, path: Path | str, vars: Mapping[str, Any] | None = None) -> None:
        """Copy a fixture directory's files in; `vars` go to terraform.tfvars.json."""
        src = Path(path)
        for item in src.iterdir():
            if item.name in (".terraform", "terraform.tfstate", "terraform.tfstate.backup",
                             ".terraform.lock.hcl"):
                continue
            dest = self.workdir / item.name
            if item.is_dir():
                shutil.copytree(item, dest, dirs_exist_ok=True)
            else:
                shutil.copy2(item, dest)
        if vars:
            (self.workdir / "terraform.tfvars.json").write_text(json.dumps(dict(vars), indent=2))

    # ------------------------------------------------------------------ running
    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(_SCRUB_PREFIXES) and k not in _SCRUB_EXACT}
        env.update({
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "eu-central-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            # No ~/.aws files: the provider must work from the environment alone.
            "AWS_CONFIG_FILE": str(self.workdir / ".no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / ".no-aws-credentials"),
        })
        env.update(self.env)
        return env

    def run(self, *args: str, ok: Iterable[int] = (0,), env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Result:
        full_env = self.base_env()
        if env:
            full_env.update(env)
        argv = [TERRAFORM, *args]
        try:
            proc = subprocess.run(argv, cwd=self.workdir, env=full_env, capture_output=True,
                                  text=True, timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(
                f"terraform {' '.join(args)} timed out after {e.timeout}s in {self.workdir}\n"
                f"----- stdout -----\n{e.stdout}\n----- stderr -----\n{e.stderr}") from e
        result = Result(proc.args, proc.returncode, proc.stdout, proc.stderr)
        result.cwd = str(self.workdir)
        self.history.append(result)
        if proc.returncode not in tuple(ok):
            raise TerraformError(list(args), result)
        return result

    def init(self, **kw: Any) -> Result:
        """Not needed with dev_overrides (plan/apply work without it); kept for configs that
        also use modules."""
        return self.run("init", "-input=false", "-no-color", "-backend=false", **kw)

    def validate(self, **kw: Any) -> Result:
        return self.run("validate", "-no-color", **kw)

    def apply(self, extra_args: Iterable[str] = (), check: bool = True, **kw: Any) -> Result:
        ok = (0,) if check else range(0, 256)
        return self.run("apply", "-auto-approve", "-input=false", "-no-color", *extra_args,
                        ok=ok, **kw)

    def apply_interrupted_when(self, ready: Callable[[], bool], within: float = 120,
                               after: float = 0.0, timeout: float = 120) -> tuple[str, float, int]:
        """`terraform apply` in the background, Ctrl-C (SIGINT) once `ready()` holds (asked every
        0.2 s; an exception counts as not yet) and `after` seconds more. Returns terraform's
        output, the seconds from the SIGINT until it exited, and its exit code. Fails when
        `ready()` never holds within `within` seconds (terraform is killed first)."""
        proc = subprocess.Popen(
            [TERRAFORM, "apply", "-auto-approve", "-no-color", "-input=false"],
            cwd=self.workdir, env=self.base_env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        deadline = time.time() + within
        while time.time() < deadline:
            try:
                if ready():
                    break
            except Exception:  # noqa: BLE001 - not there yet
                pass
            time.sleep(0.2)
        else:
            proc.kill()
            out, _ = proc.communicate()
            raise AssertionError(f"what the test waited for never happened in {within:.0f} s:\n{out}")
        time.sleep(after)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=timeout)
        return out, time.time() - sent, proc.returncode

    def plan(self, detailed_exitcode: bool = True, extra_args: Iterable[str] = (),
             check: bool = True, **kw: Any) -> Result:
        """Exit code 0: no changes, 2: changes (with detailed_exitcode), 1: error (raises
        unless check=False)."""
        args = ["plan", "-input=false", "-no-color"]
        if detailed_exitcode:
            args.append("-detailed-exitcode")
        ok = (0, 2) if check else range(0, 256)
        return self.run(*args, *extra_args, ok=ok, **kw)

    def destroy(self, extra_args: Iterable[str] = (), check: bool = True, **kw: Any) -> Result:
        ok = (0,) if check else range(0, 256)
        return self.run("destroy", "-auto-approve", "-input=false", "-no-color", *extra_args,
                        ok=ok, **kw)

    def import_(self, addr: str, id: str, check: bool = True, **kw: Any) -> Result:
        ok = (0,) if check else range(0, 256)
        return self.run("import", "-input=false", "-no-color", addr, id, ok=ok, **kw)

    def state_show(self, addr: str, **kw: Any) -> str:
        return self.run("state", "show", "-no-color", addr, **kw).stdout

    def state_list(self, **kw: Any) -> list[str]:
        out = self.run("state", "list", ok=(0, 1), **kw).stdout
        return [line for line in out.splitlines() if line.strip()]

    def state_json(self, **kw: Any) -> dict:
        return json.loads(self.run("show", "-json", "-no-color", **kw).stdout or "{}")

    def resource(self, addr: str) -> dict:
        """Attribute values of one resource in the state (raises KeyError if absent)."""
        state = self.state_json()
        for res in _all_resources(state.get("values", {}).get("root_module", {})):
            if res.get("address") == addr:
                return res.get("values", {})
        raise KeyError(f"{addr} not in state; have {[r.get('address') for r in _all_resources(state.get('values', {}).get('root_module', {}))]}")

    def output(self, name: str, **kw: Any) -> Any:
        return json.loads(self.run("output", "-json", "-no-color", name, **kw).stdout)


def _all_resources(module: dict) -> list[dict]:
    out = list(module.get("resources", []))
    for child in module.get("child_modules", []):
        out.extend(_all_resources(child))
    return out


def hcl_string(value: str) -> str:
    return json.dumps(value)


def provider_block(endpoint: str, environment: str = "development", region: str = "eu-central-1",
                   default_tags: Mapping[str, str] | None = None, extra: str = "",
                   alias: str | None = None, service_mesh: str | None = None) -> str:
    tags = default_tags if default_tags is not None else {"project": "matbakh"}
    tag_lines = "".join(f"    {json.dumps(k)} = {json.dumps(v)}\n" for k, v in tags.items())
    alias_line = f"  alias       = {json.dumps(alias)}\n" if alias else ""
    mesh_line = f"  service_mesh = {json.dumps(service_mesh)}\n" if service_mesh else ""
    return (
        'provider "matbakh" {\n'
        f"{alias_line}"
        f"  region      = {json.dumps(region)}\n"
        f"  environment = {json.dumps(environment)}\n"
        f"  endpoint    = {json.dumps(endpoint)}\n"
        f"{mesh_line}"
        "  default_tags = {\n"
        f"{tag_lines}"
        "  }\n"
        f"{extra}"
        "}\n"
    )


REQUIRED_PROVIDERS = (
    "terraform {\n"
    "  required_providers {\n"
    f'    matbakh = {{ source = "{PROVIDER_SOURCE}" }}\n'
    "  }\n"
    "}\n"
)
