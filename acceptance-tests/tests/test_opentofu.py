"""Issue #18 item 4: OpenTofu for real. OpenTofu 1.6.2 (scripts/install_opentofu.sh) installs
the provider from the `registry.opentofu.org` filesystem mirror that scripts/package.sh makes
(the release's code path, with the binary these tests run), then applies examples/quickstart
against the emulator, plans nothing more and destroys it: a change that breaks OpenTofu users
fails here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import chaos
from tests.test_microservice import network

pytestmark = pytest.mark.microservice

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
SOURCE = "registry.opentofu.org/matbakh/matbakh"


def last_line(args: list[str]) -> str:
    out = subprocess.run(args, cwd=REPO, check=True, capture_output=True, text=True, timeout=900)
    return out.stdout.strip().splitlines()[-1]


def test_opentofu_installs_from_its_mirror_applies_plans_clean_and_destroys(
        emulator, tmp_path, provider_binary):
    tofu = last_line(["bash", "scripts/install_opentofu.sh"])
    mirror = last_line(["bash", "scripts/package.sh", str(provider_binary.parent)])
    assert Path(mirror, SOURCE).is_dir(), mirror
    rc = tmp_path / "tofurc"
    rc.write_text(
        "provider_installation {\n"
        f"  filesystem_mirror {{\n    path    = {json.dumps(mirror)}\n"
        f"    include = [{json.dumps(SOURCE)}]\n  }}\n"
        f"  direct {{ exclude = [{json.dumps(SOURCE)}] }}\n"
        "}\n")
    work = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(TF_CLI_CONFIG_FILE=str(rc), TF_IN_AUTOMATION="1", TF_INPUT="0",
               CHECKPOINT_DISABLE="1", AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing")

    def run(*args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        res = subprocess.run([tofu, *args, "-no-color"], cwd=work, env=env, capture_output=True,
                             text=True, timeout=900)
        assert res.returncode in ok, f"tofu {' '.join(args)}: {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res

    version = run("version")
    assert "OpenTofu v1.6.2" in version.stdout, version.stdout
    run("init")
    installed = work / ".terraform" / "providers" / SOURCE
    assert installed.is_dir(), list((work / ".terraform").rglob("*"))
    assert SOURCE in (work / ".terraform.lock.hcl").read_text()

    net = network(emulator)
    variables = ["-var", f"endpoint={emulator.endpoint}",
                 "-var", f"subnet_ids={json.dumps(net['subnet_ids'])}",
                 "-var", f"security_group_ids={json.dumps(net['security_group_ids'])}"]
    run("apply", "-auto-approve", *variables)
    ecs = emulator.client("ecs")
    [service] = ecs.describe_services(cluster="matbakh", services=["hello-service"])["services"]
    assert service["status"] == "ACTIVE", service
    state = json.loads((work / "terraform.tfstate").read_text())
    assert {r["type"] for r in state["resources"] if r["mode"] == "managed"} == {
        "matbakh_platform", "matbakh_microservice"}
    assert all(r["provider"].startswith(f'provider["{SOURCE}"]') for r in state["resources"])

    # Nothing to change: exit code 0 with -detailed-exitcode.
    run("plan", "-detailed-exitcode", *variables)

    run("destroy", "-auto-approve", *variables)
    left = chaos.orphans(chaos.inventory(emulator))
    assert left == {}, left
