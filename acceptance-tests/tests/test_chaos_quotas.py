"""The chaos suite under AWS's API rate quotas (issue #23 item 6).

The fault proxy enforces AWS's published per-account buckets (harness/quotas.py): a request that
finds its bucket empty gets the service's throttling error, as AWS answers. Apply, plan and
destroy of examples/three-services and of 30 microservices with autoscaling must meet them with
0 errors: the provider paces its requests per bucket and retries throttling for as long as the
operation's timeout allows. Nothing is left after destroy, nothing duplicated, no panic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import chaos
from harness.bench import generated_config
from harness.quotas import QuotaModel

from test_chaos import THREE, assert_clean_stack, assert_no_panic, logged

pytestmark = pytest.mark.chaos


def cycle(emulator, tf, fault_proxy, log: Path, check_stack: bool = False) -> QuotaModel:
    """Apply, a plan that finds nothing to change, destroy: each once, under the quotas."""
    quotas = QuotaModel()
    fault_proxy.configure(quotas=quotas)
    tf.apply()  # one attempt: raises with terraform's output if it failed
    if check_stack:
        assert_clean_stack(emulator, tf)
    plan = tf.plan()
    assert plan.returncode == 0, f"plan under the quotas is not empty:\n{plan.stdout}"
    tf.destroy()
    left = chaos.orphans(chaos.inventory(emulator))
    assert left == {}, f"destroy left objects behind: {left}"
    assert_no_panic(log, tf)
    print(f"\nthrottling answers by bucket: {quotas.throttled}; "
          f"requests {len(fault_proxy.records)}")
    return quotas


def test_three_services_under_the_quotas(emulator, tf, fault_proxy, tmp_path):
    log = logged(tf, tmp_path)
    tf.copy_dir(THREE, {"endpoint": fault_proxy.endpoint, **chaos.network(emulator)})
    cycle(emulator, tf, fault_proxy, log, check_stack=True)


def test_thirty_microservices_under_the_quotas(emulator, tf, fault_proxy, tmp_path):
    """30 microservices with autoscaling: 90 alarm writes against PutMetricAlarm's 3 per second
    and 30 registrations against RegisterTaskDefinition's 20 / 1 (an apply that failed with
    throttling errors before the pacer and the retry policy)."""
    log = logged(tf, tmp_path)
    net = {k: v for k, v in chaos.network(emulator).items() if k != "vpc_id"}
    tf.write({"main.tf": generated_config(30, fault_proxy.endpoint, "service_connect",
                                          autoscaling=True)})
    (tf.workdir / "terraform.tfvars.json").write_text(json.dumps(net))
    cycle(emulator, tf, fault_proxy, log)
    # The quotas were met, not avoided: more alarm writes went through than the bucket holds.
    writes = fault_proxy.calls(fault=None)[("monitoring", "PutMetricAlarm")]
    assert writes > 3 * 10, writes
