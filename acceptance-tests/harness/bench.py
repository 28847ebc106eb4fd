"""The benchmark of issue #12 (`scripts/bench.sh`; not part of CI's pass/fail).

For each scenario (1 microservice, examples/three-services, N generated microservices) it runs
apply, plan (a refresh of everything; must find no changes) and destroy (`-refresh=false`: its
refresh is the plan's) with the real terraform
CLI against the emulator, through the fault proxy (harness/fault_proxy.py) with no faults and a
fixed delay D on every AWS request, once at D = 0 and once at D = `--delay-ms`:

    calls     AWS requests per operation, by AWS operation (from the proxy's request log)
    rounds    sequential request rounds: the longest chain of requests in which each starts
              after the previous one ended (the critical path of overlapping requests), taken
              from the run at the large D, where overlapping requests clearly overlap
    wall      terraform's wall time at D = 0 and at D
    ratio     rounds / the minimum rounds the graph allows (where the issue gives the minimum)
    provider  peak RSS (max over the provider processes of the command) and CPU seconds (sum),
              measured by /usr/bin/time around the provider (a wrapper given to dev_overrides)

and once per binary: its build (debug or release, from its start-up log line: never compare
figures across builds), its size and the start-up time to go-plugin's handshake line.
Terraform runs with its default parallelism (10). Results are printed and written as JSON.

    python -m harness.bench --emulator URL --binary PATH --workdir DIR
                            [--scenarios one,three,10,30,100] [--delay-ms 200]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.chaos import network  # noqa: E402
from harness.emulator import Emulator  # noqa: E402
from harness.fault_proxy import FaultProxy  # noqa: E402
from harness.quotas import QuotaModel, floor_seconds  # noqa: E402
from harness.terraform import (PROVIDER_BINARY_NAME, REQUIRED_PROVIDERS, Terraform,  # noqa: E402
                               provider_block, write_cli_config)

REPO = Path(__file__).resolve().parent.parent.parent
OPERATIONS = ("apply", "plan", "destroy")
TERRAFORM_PARALLELISM = 10  # terraform's default; the benchmark never changes it

# The minimum sequential rounds the graph allows, from issue #12's table (1 microservice with
# its platform; the three-services stack's plan). Other cells have no stated minimum.
MIN_ROUNDS: dict[str, dict[str, int]] = {
    "one": {"apply": 9, "plan": 2, "destroy": 8},
    "three": {"plan": 3},
}
# Issue #12's goals per microservice, printed beside the measurements.
GOALS = {
    "calls_per_microservice": {"apply": 20, "plan": 15, "destroy": 15},
    "rounds_ratio": {"apply": 1.25, "destroy": 1.25},
    "plan_rounds_per_microservice": 3,
    "plan_100_at_200ms_s": 8.0,
    "binary_mb": 25,
    "peak_rss_mib_at_100": 40,
}


# ---------------------------------------------------------------------------- measurements


def sequential_rounds(records: Iterable[dict[str, Any]]) -> int:
    """The longest chain of requests each starting after the previous one ended.

    With a delay D on every request, requests sent together overlap by almost D and requests
    that wait for each other do not overlap at all, so this is the number of round trips on the
    critical path; wall time is about rounds x D."""
    events = []
    recs = [r for r in records if r.get("t_out") is not None]
    for i, r in enumerate(recs):
        events.append((r["t_out"], 0, i))  # an end before a start at the same instant
        events.append((r["t_in"], 1, i))
    events.sort()
    chain = [0] * len(recs)
    best_ended = 0
    for _, kind, i in events:
        if kind == 1:
            chain[i] = best_ended + 1
        else:
            best_ended = max(best_ended, chain[i])
    return max(chain, default=0)


def timeline(records: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """Each request as [start ms, end ms, operation], from the first request's start: where
    the rounds go, for reading in the results' JSON."""
    recs = sorted((r for r in records if r.get("t_out") is not None), key=lambda r: r["t_in"])
    if not recs:
        return []
    t0 = recs[0]["t_in"]
    return [[round((r["t_in"] - t0) * 1000), round((r["t_out"] - t0) * 1000),
             f"{r['service']}:{r['operation']}"] for r in recs]


def critical_chain(records: Iterable[dict[str, Any]]) -> list[str]:
    """The operations along one longest chain of `sequential_rounds`, first to last."""
    recs = sorted((r for r in records if r.get("t_out") is not None), key=lambda r: r["t_in"])
    chain: list[int] = []
    back: list[int | None] = []
    for i, r in enumerate(recs):
        best, via = 0, None
        for j in range(i):
            if recs[j]["t_out"] <= r["t_in"] and chain[j] > best:
                best, via = chain[j], j
        chain.append(best + 1)
        back.append(via)
    if not recs:
        return []
    i: int | None = max(range(len(recs)), key=lambda k: chain[k])
    out = []
    while i is not None:
        out.append(f"{recs[i]['service']}:{recs[i]['operation']}")
        i = back[i]
    return out[::-1]


def calls_by_operation(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(f"{r['service']}:{r['operation']}" for r in records)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def provider_usage(path: Path) -> dict[str, Any]:
    """Peak RSS (max) and CPU seconds (sum) over the provider processes /usr/bin/time saw."""
    peak_kb, cpu, n = 0, 0.0, 0
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 3 or not parts[0].isdigit():
                continue  # e.g. "Command terminated by signal 9"
            peak_kb = max(peak_kb, int(parts[0]))
            cpu += float(parts[1]) + float(parts[2])
            n += 1
    return {"peak_rss_mib": round(peak_kb / 1024, 1), "cpu_s": round(cpu, 2), "processes": n}


def startup_to_handshake(binary: Path, runs: int = 7) -> float:
    """Median milliseconds from exec to go-plugin's handshake line on stdout (no AutoMTLS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    env.update({"PLUGIN_PROTOCOL_VERSIONS": "6",
                "TF_PLUGIN_MAGIC_COOKIE":
                    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"})
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, env=env)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        times.append((time.perf_counter() - t0) * 1000)
        proc.kill()
        proc.wait()
        if b"|6|tcp|" not in line:
            raise RuntimeError(f"{binary} printed no handshake: {line!r}")
    return round(statistics.median(times), 1)


def build_of(binary: Path) -> str:
    """"debug" or "release": the build the provider's start-up log line names (a debug build
    needs about twice the memory, so figures of the two are never compared); "unknown" for a
    binary older than that field."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    env.update({"PLUGIN_PROTOCOL_VERSIONS": "6", "TF_LOG_PROVIDER": "INFO",
                "TF_PLUGIN_MAGIC_COOKIE":
                    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"})
    proc = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # the handshake: the start-up line was logged before it
    proc.kill()
    _, err = proc.communicate()
    for line in err.decode(errors="replace").splitlines():
        try:
            fields = json.loads(line)
        except ValueError:
            continue
        if isinstance(fields, dict) and fields.get("@message") == "terraform-provider-matbakh starting":
            return str(fields.get("build", "unknown"))
    return "unknown"


def wrapper_plugin_dir(binary: Path, work: Path, usage_log: Path) -> Path:
    """A directory for dev_overrides whose terraform-provider-matbakh runs the real binary
    under /usr/bin/time, appending "maxrss_kb user_s sys_s" per provider process."""
    d = work / "plugins"
    d.mkdir(parents=True, exist_ok=True)
    wrapper = d / PROVIDER_BINARY_NAME
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec /usr/bin/time -a -o '{usage_log}' -f '%M %U %S' '{binary.resolve()}' \"$@\"\n")
    wrapper.chmod(0o755)
    return d


# ---------------------------------------------------------------------------- scenarios


AUTOSCALING = ("  autoscaling {\n    min_count     = 1\n    max_count     = 4\n"
               "    cpu_target    = 70\n  }\n")


INGRESS_PLATFORM = ("  ingress {\n    subnet_ids      = var.subnet_ids\n"
                    "    certificate_arn = var.certificate_arn\n  }\n")


def ingress_block(i: int, name: str) -> str:
    """Behind the platform's load balancer by its own path; the rules' priorities are given
    (the default, a hash of the names in 1001-50000, collides now and then among 300)."""
    return (f'  ingress {{\n    paths    = ["/{name}", "/{name}/*"]\n'
            f"    priority = {i + 1}\n  }}\n")


def microservice_block(i: int, name: str, autoscaling: bool = False,
                       ingress: bool = False) -> str:
    return (
        f'resource "matbakh_microservice" "s{i}" {{\n'
        "  platform           = matbakh_platform.main.id\n"
        f'  name               = "{name}"\n'
        f'  image              = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/{name}:1.0.0"\n'
        "  port               = 8080\n"
        "  subnet_ids         = var.subnet_ids\n"
        "  security_group_ids = var.security_group_ids\n"
        '  execution_role_arn = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"\n'
        + (AUTOSCALING if autoscaling else "")
        + (ingress_block(i, name) if ingress else "") + "}\n")


def generated_config(n: int, endpoint: str, mesh: str, autoscaling: bool = False,
                     ingress: bool = False) -> str:
    """A platform and n plain microservices (the defaults: alarms, dashboard, logs), each with
    autoscaling when asked (the quota model's scenarios, as issue #23 measured them); with
    `ingress`, the platform's load balancer and every microservice behind it by path."""
    app_mesh = mesh == "app_mesh"
    return (REQUIRED_PROVIDERS + provider_block(endpoint, service_mesh=mesh)
            + ('variable "vpc_id" { type = string }\n' if app_mesh else "")
            + 'variable "subnet_ids" { type = list(string) }\n'
            + 'variable "security_group_ids" { type = list(string) }\n'
            + ('variable "certificate_arn" { type = string }\n' if ingress else "")
            + 'resource "matbakh_platform" "main" {\n  name   = "bench"\n'
            + ("  vpc_id = var.vpc_id\n" if app_mesh else "")
            + (INGRESS_PLATFORM if ingress else "") + "}\n"
            + "".join(microservice_block(i, f"svc-{i:03d}", autoscaling, ingress)
                      for i in range(n)))


def scenario_size(name: str) -> int:
    """`one`, `three`, `N`, or `Ni`: N microservices behind the platform's ingress."""
    return 1 if name == "one" else 3 if name == "three" else int(name.removesuffix("i"))


def with_ingress(name: str) -> bool:
    return name.endswith("i") and name[:-1].isdigit()


def prepare(tf: Terraform, scenario: str, endpoint: str, net: dict, mesh: str,
            autoscaling: bool = False) -> None:
    for f in tf.workdir.glob("*.tf"):
        f.unlink()
    for f in ("terraform.tfstate", "terraform.tfstate.backup", "terraform.tfvars.json"):
        (tf.workdir / f).unlink(missing_ok=True)
    if mesh != "app_mesh":
        net = {k: v for k, v in net.items() if k != "vpc_id"}  # Service Connect has no VPC
    ingress = with_ingress(scenario)
    if not ingress:
        net = {k: v for k, v in net.items() if k != "certificate_arn"}
    if scenario == "three":
        example = "app-mesh" if mesh == "app_mesh" else "three-services"
        tf.copy_dir(REPO / "examples" / example, {"endpoint": endpoint, **net})
        return
    tf.write({"main.tf": generated_config(scenario_size(scenario), endpoint, mesh, autoscaling,
                                          ingress)})
    (tf.workdir / "terraform.tfvars.json").write_text(json.dumps(net, indent=2))


def run_operation(tf: Terraform, proxy: FaultProxy, usage_log: Path, op: str) -> dict[str, Any]:
    proxy.clear()
    usage_log.unlink(missing_ok=True)
    t0 = time.monotonic()
    if op == "apply":
        tf.apply()
    elif op == "plan":
        result = tf.plan()
        if result.returncode != 0:
            raise AssertionError(f"plan after apply found changes:\n{result.output}")
    else:
        # The destroy's own work: its refresh is the same as the plan's, measured above.
        tf.destroy(extra_args=["-refresh=false"])
    wall = time.monotonic() - t0
    records = list(proxy.records)
    return {"wall_s": round(wall, 2), "calls": len(records),
            "by_operation": calls_by_operation(records),
            "rounds": sequential_rounds(records),
            "critical_chain": critical_chain(records) if len(records) <= 400 else [],
            "timeline": timeline(records) if len(records) <= 400 else [],
            **provider_usage(usage_log)}


def fresh_run(emulator: Emulator, binary: Path, sdir: Path) -> tuple[dict, Path, Terraform]:
    """A reset emulator with a network, an empty run directory and terraform whose provider
    runs under /usr/bin/time: (network, usage log, terraform)."""
    emulator.reset()
    # Deployments finish at once: releases are not what this measures (the emulator's default
    # makes them take their stages' time).
    emulator.settings(ecs_deployment="completed")
    net = network(emulator)
    # An ingress scenario's load balancer: the network's two subnets (two AZs) and a certificate.
    net["certificate_arn"] = emulator._session.client(
        "acm", region_name="eu-central-1", endpoint_url=emulator.endpoint).request_certificate(
        DomainName="api.example.com")["CertificateArn"]
    shutil.rmtree(sdir, ignore_errors=True)
    sdir.mkdir(parents=True)
    usage_log = sdir / "provider-usage.txt"
    cli_config = write_cli_config(sdir / "terraformrc", wrapper_plugin_dir(binary, sdir, usage_log))
    return net, usage_log, Terraform(sdir / "tf", cli_config, timeout=3600)


def run_scenario(emulator: Emulator, binary: Path, work: Path, scenario: str,
                 delay_ms: float, mesh: str) -> dict[str, Any]:
    sdir = work / f"scenario-{scenario}"
    net, usage_log, tf = fresh_run(emulator, binary, sdir)
    out: dict[str, Any] = {"scenario": scenario, "microservices": scenario_size(scenario),
                           "delay_ms": delay_ms, "service_mesh": mesh}
    with FaultProxy(emulator.endpoint, log_path=sdir / "requests.jsonl") as proxy:
        prepare(tf, scenario, proxy.endpoint, net, mesh)
        for d in (0.0, delay_ms):
            proxy.configure(delay_ms=d)
            key = "d0" if d == 0 else "dD"
            for op in OPERATIONS:
                print(f"bench: {scenario} D={d:g}ms {op} ...", file=sys.stderr, flush=True)
                out.setdefault(op, {})[key] = run_operation(tf, proxy, usage_log, op)
    return out


def run_quota_operation(tf: Terraform, proxy: FaultProxy, usage_log: Path, op: str,
                        n: int) -> dict[str, Any]:
    """One operation under the quota model: failures are measured, not raised."""
    proxy.clear()
    usage_log.unlink(missing_ok=True)
    t0 = time.monotonic()
    if op == "apply":
        result = tf.apply(check=False)
    elif op == "plan":
        result = tf.plan(check=False)
    else:
        result = tf.destroy(check=False, extra_args=["-refresh=false"])
    wall = time.monotonic() - t0
    records = list(proxy.records)
    clean = [r for r in records if r["fault"] is None]
    throttled = [r for r in records if r["fault"] == "quota"]
    floor = floor_seconds(calls_by_operation(clean))
    errors = [line.strip() for line in result.output.splitlines()
              if line.strip().startswith("Error:") or "failed:" in line][:200]
    return {"wall_s": round(wall, 2), "exit": result.returncode,
            "changes": op == "plan" and result.returncode == 2,
            "errors": len([e for e in errors if e.startswith("Error:")]),
            "first_errors": errors[:3],
            "calls": len(records), "per_microservice": round(len(records) / n, 1),
            "throttled": len(throttled),
            "throttled_by_operation": calls_by_operation(throttled),
            "by_operation": calls_by_operation(records),
            "floor_s": max(floor.values(), default=0.0), "floor_by_bucket": floor,
            "rounds": sequential_rounds(records) if len(records) <= 20000 else None,
            **provider_usage(usage_log)}


def run_quota_scenario(emulator: Emulator, binary: Path, work: Path, scenario: str,
                       delays: list[float], mesh: str) -> dict[str, Any]:
    """Apply, plan and destroy of `scenario` behind the quota model (harness/quotas.py), once
    per delay, each from a reset emulator."""
    n = scenario_size(scenario)
    out: dict[str, Any] = {"scenario": scenario, "microservices": n, "service_mesh": mesh,
                           "runs": []}
    for d in delays:
        sdir = work / f"quota-{scenario}-{d:g}ms"
        net, usage_log, tf = fresh_run(emulator, binary, sdir)
        run: dict[str, Any] = {"delay_ms": d}
        with FaultProxy(emulator.endpoint, log_path=sdir / "requests.jsonl", delay_ms=d,
                        quotas=QuotaModel()) as proxy:
            prepare(tf, scenario, proxy.endpoint, net, mesh, autoscaling=True)
            for op in OPERATIONS:
                print(f"bench: quotas {scenario} D={d:g}ms {op} ...", file=sys.stderr,
                      flush=True)
                run[op] = run_quota_operation(tf, proxy, usage_log, op, n)
        out["runs"].append(run)
    return out


def quota_report(results: dict[str, Any]) -> str:
    lines = [f"machine: {results['machine']}",
             f"binary {results['binary']} ({results['build']} build): {results['binary_mb']} MB",
             "quota model: AWS's published API rate quotas (acceptance-tests/harness/quotas.py); "
             f"terraform parallelism {TERRAFORM_PARALLELISM} (default); every microservice with "
             "autoscaling; scenario Ni: N microservices behind the platform's ingress (ALB)", ""]
    header = (f"{'N':>4} {'D':>6} {'op':<8} {'result':<12} {'calls':>6} {'/svc':>6} "
              f"{'throttled':>9} {'wall':>8} {'quota floor':>11} {'wall/floor':>10} "
              f"{'peak RSS':>9}")
    lines += [header, "-" * len(header)]
    for sc in results["scenarios"]:
        for run in sc["runs"]:
            for op in OPERATIONS:
                r = run[op]
                result = ("changes" if r["changes"] else "ok") if r["exit"] in (0, 2) else \
                    f"FAIL ({r['errors']})"
                ratio = f"{r['wall_s'] / r['floor_s']:.2f}" if r["floor_s"] else "-"
                lines.append(
                    f"{sc['scenario']:>4} {run['delay_ms']:>4g}ms {op:<8} {result:<12} "
                    f"{r['calls']:>6} {r['per_microservice']:>6.1f} {r['throttled']:>9} "
                    f"{r['wall_s']:>7.1f}s {r['floor_s']:>10.1f}s {ratio:>10} "
                    f"{r['peak_rss_mib']:>6.1f}MiB")
    lines.append("")
    for sc in results["scenarios"]:
        for run in sc["runs"]:
            for op in OPERATIONS:
                r = run[op]
                n = sc["microservices"]
                ops = ", ".join(f"{k} {v / n:.2f}" for k, v in r["by_operation"].items())
                lines.append(f"N={sc['scenario']} D={run['delay_ms']:g}ms {op}, calls per microservice: {ops}")
                if r["throttled"]:
                    lines.append("  throttled: " + ", ".join(
                        f"{k} {v}" for k, v in r["throttled_by_operation"].items()))
                if r["floor_by_bucket"]:
                    lines.append("  quota floor by bucket: " + ", ".join(
                        f"{k} {v}s" for k, v in list(r["floor_by_bucket"].items())[:4]))
                for e in r["first_errors"]:
                    lines.append(f"  {e[:200]}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- report


def ratio(scenario: str, op: str, rounds: int) -> str:
    minimum = MIN_ROUNDS.get(scenario, {}).get(op)
    return f"{rounds / minimum:.2f} (min {minimum})" if minimum else "-"


def report(results: dict[str, Any]) -> str:
    lines = [f"machine: {results['machine']}",
             f"binary {results['binary']} ({results['build']} build): {results['binary_mb']} MB, "
             f"start-up to handshake {results['startup_ms']} ms (median)",
             f"service_mesh = {results.get('service_mesh', '(before it existed: App Mesh)')}; "
             f"D = {results['delay_ms']:g} ms on every AWS request; terraform parallelism "
             f"{TERRAFORM_PARALLELISM} (default)", ""]
    header = (f"{'scenario':<8} {'op':<8} {'calls':>6} {'/svc':>6} {'rounds':>6} "
              f"{'ratio to min':>14} {'wall D=0':>9} {'wall D':>8} {'rounds x D':>10} "
              f"{'peak RSS':>9} {'CPU s':>6}")
    lines += [header, "-" * len(header)]
    for sc in results["scenarios"]:
        n = sc["microservices"]
        for op in OPERATIONS:
            d0, dd = sc[op]["d0"], sc[op]["dD"]
            lines.append(
                f"{sc['scenario']:<8} {op:<8} {dd['calls']:>6} {dd['calls'] / n:>6.1f} "
                f"{dd['rounds']:>6} {ratio(sc['scenario'], op, dd['rounds']):>14} "
                f"{d0['wall_s']:>8.2f}s {dd['wall_s']:>7.2f}s "
                f"{dd['rounds'] * sc['delay_ms'] / 1000:>9.2f}s "
                f"{max(d0['peak_rss_mib'], dd['peak_rss_mib']):>6.1f}MiB {dd['cpu_s']:>6.2f}")
    lines.append("")
    for sc in results["scenarios"]:
        for op in OPERATIONS:
            dd = sc[op]["dD"]
            ops = ", ".join(f"{k} {v}" for k, v in dd["by_operation"].items())
            lines.append(f"{sc['scenario']} {op} ({dd['calls']} calls): {ops}")
            if sc[op]["d0"]["by_operation"] != dd["by_operation"]:
                lines.append(f"  (at D=0: {sc[op]['d0']['calls']} calls)")
            if sc["scenario"] == "one" and dd.get("critical_chain"):
                lines.append(f"  critical path: {' -> '.join(dd['critical_chain'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--emulator", required=True)
    p.add_argument("--binary", required=True, type=Path)
    p.add_argument("--workdir", required=True, type=Path)
    p.add_argument("--scenarios", default="one,three,10,30,100")
    p.add_argument("--delay-ms", type=float, default=200.0)
    p.add_argument("--mesh", choices=("service_connect", "app_mesh"), default="service_connect",
                   help="the provider's service_mesh (three: examples/three-services or "
                        "examples/app-mesh)")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--quotas", action="store_true",
                   help="behind AWS's published API rate quotas (harness/quotas.py), at each of "
                        "--quota-delays; every microservice with autoscaling")
    p.add_argument("--quota-delays", default="50,200",
                   help="milliseconds on every AWS request in the quota runs (comma-separated)")
    args = p.parse_args(argv)
    emulator = Emulator(args.emulator)
    results: dict[str, Any] = {
        "binary": str(args.binary), "delay_ms": args.delay_ms, "service_mesh": args.mesh,
        "binary_mb": round(args.binary.stat().st_size / 1e6, 1), "build": build_of(args.binary),
        "startup_ms": startup_to_handshake(args.binary),
        "machine": machine(), "scenarios": []}
    for scenario in [s for s in args.scenarios.split(",") if s]:
        if args.quotas:
            delays = [float(d) for d in args.quota_delays.split(",") if d]
            results["quotas"] = True
            results["scenarios"].append(run_quota_scenario(
                emulator, args.binary, args.workdir, scenario, delays, args.mesh))
        else:
            results["scenarios"].append(run_scenario(
                emulator, args.binary, args.workdir, scenario, args.delay_ms, args.mesh))
    text = quota_report(results) if args.quotas else report(results)
    print(text)
    out = args.json or args.workdir / "results.json"
    out.write_text(json.dumps(results, indent=2))
    (out.with_suffix(".txt")).write_text(text + "\n")
    print(f"\n(results in {out})", file=sys.stderr)
    return 0


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores, {cpu}, {mem}, load {os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    sys.exit(main())
