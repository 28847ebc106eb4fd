"""Does the deployer policy grant every AWS action the provider called in this run?

The emulator counts the IAM action of every request the provider signs (the AWS SDK for Rust),
for its whole life (GET /_matbakh/provider-actions). At the end of its session each pytest process
(each xdist worker has an emulator of its own) writes that set to a directory the controller
chose; at the end of the run the controller reads them all, renders `data
"matbakh_deployer_policy"` with the provider binary under test and fails the run naming every
called action the policy does not grant (conftest.py). So the check is over whatever the suite
called, not one lifecycle's calls: a new adapter call that only one test file makes and the
policy lacks fails the suite."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.terraform import REQUIRED_PROVIDERS, Terraform, plugin_dir_for, write_cli_config

DIR_ENV = "MATBAKH_PROVIDER_ACTIONS_DIR"


def record(directory: Path, actions: dict[str, int]) -> None:
    """This process's emulator's provider actions, one file per process."""
    if actions:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"actions-{os.getpid()}.json").write_text(json.dumps(actions))


def recorded(directory: Path) -> dict[str, int]:
    """Every process's provider actions, summed."""
    total: dict[str, int] = {}
    for f in sorted(directory.glob("actions-*.json")):
        for action, n in json.loads(f.read_text()).items():
            total[action] = total.get(action, 0) + int(n)
    return total


def granted(policy: dict) -> set[str]:
    """The actions some Allow statement of `policy` names (the deployer policy names every
    action; it has no wildcard action)."""
    out: set[str] = set()
    for st in policy.get("Statement", []):
        if st.get("Effect") != "Allow":
            continue
        actions = st.get("Action", [])
        out.update(actions if isinstance(actions, list) else [actions])
    return out


def uncovered(called: set[str] | dict[str, int], policy: dict) -> list[str]:
    return sorted(set(called) - granted(policy))


def render_deployer_policy(binary: Path, work: Path, platforms: list[str]) -> dict:
    """`data "matbakh_deployer_policy"` as the provider binary renders it (no AWS call: the
    credentials check is skipped, the account is then `*`)."""
    cli = write_cli_config(work / "terraformrc", plugin_dir_for(binary, work))
    tf = Terraform(work / "policy", cli, timeout=300)
    tf.write({"main.tf": REQUIRED_PROVIDERS
              + 'provider "matbakh" {\n  region = "eu-central-1"\n'
              + '  endpoint = "http://127.0.0.1:9"\n  skip_credentials_validation = true\n}\n'
              + f'data "matbakh_deployer_policy" "ci" {{\n  platforms = {json.dumps(platforms)}\n}}\n'
              + 'output "json" {\n  value = data.matbakh_deployer_policy.ci.json\n}\n'})
    tf.apply()
    return json.loads(tf.output("json"))
