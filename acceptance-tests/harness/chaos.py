"""What the chaos suite counts: everything that exists in the emulator, by kind, and the
orphans, duplicates and panics a run left behind. Used by tests/test_chaos.py, the
interruption and ownership tests, and scripts/chaos.sh (`python -m harness.chaos`).

Inventory: {kind: [name, ...]} read straight from the emulator (never through the fault
proxy), one entry per live object, so a name listed twice is a duplicate. Names are qualified
by their parent (mesh/router/route, namespace/service, cluster/service) so that the same name
in two parents is not a duplicate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.emulator import REGION, Emulator  # noqa: E402

KINDS = ("ecs_cluster", "ecs_service", "task_definition", "mesh", "virtual_node",
         "virtual_router", "route", "virtual_service", "cloudmap_namespace", "cloudmap_service",
         "alarm", "dashboard", "log_group", "scaling_target", "scaling_policy")

TASK_DEF_ARN = re.compile(r"arn:aws:ecs:[^:\"]+:\d+:task-definition/[A-Za-z0-9_-]+:\d+")


# What the three-services stack creates, by kind, on each backend: examples/three-services
# (Service Connect, the default) and examples/app-mesh (the same three services on App Mesh).
# Every kind is listed, so a kind of the other backend must be absent (0), not just ignored.
# Service Connect: the cluster, its HTTP namespace, and per service a task definition, an ECS
# service, the Cloud Map service ECS creates for it, a log group, three alarms (cpu-high,
# error-rate, latency-average) and a dashboard; auth-service's scaling target and its two
# target-tracking policies. App Mesh adds the mesh and per service a virtual node, router,
# route and virtual service, its namespace being the private DNS one.
_SHARED_COUNTS = {"ecs_cluster": 1, "ecs_service": 3, "task_definition": 3,
                  "cloudmap_namespace": 1, "cloudmap_service": 3, "dashboard": 3,
                  "log_group": 3, "scaling_target": 1}
_APP_MESH_KINDS = ("mesh", "virtual_node", "virtual_router", "route", "virtual_service")
THREE_SERVICES_COUNTS = {
    "service_connect": {**_SHARED_COUNTS, **{k: 0 for k in _APP_MESH_KINDS},
                        "alarm": 9, "scaling_policy": 2},
    "app_mesh": {**_SHARED_COUNTS, "mesh": 1, "virtual_node": 3, "virtual_router": 3,
                 "route": 3, "virtual_service": 3},
}


def expected_counts(service_mesh: str = "service_connect") -> dict[str, int]:
    """What the three-services stack on `service_mesh` leaves in the emulator, by kind."""
    return dict(THREE_SERVICES_COUNTS[service_mesh])


def count_mismatches(inv: dict[str, list[str]], expected: dict[str, int]) -> dict[str, list[str]]:
    """Kinds whose number of live objects differs from `expected` (with what exists)."""
    return {k: inv[k] for k, n in expected.items() if len(inv[k]) != n}


def objects(emulator: Emulator, region: str = REGION) -> list[tuple[str, str, set[str]]]:
    """Every live object in the emulator: (kind, qualified name, identifiers: ARN, id, name)."""
    def c(name: str) -> Any:
        return emulator._session.client(name, region_name=region, endpoint_url=emulator.endpoint)

    out: list[tuple[str, str, set[str]]] = []

    def add(kind: str, name: str, *ids: Any) -> None:
        out.append((kind, name, {str(i) for i in ids if i}))

    ecs = c("ecs")
    # The Cloud Map services ECS Service Connect made for a service (by their ARN): ECS owns
    # them (deletes them with the ECS service), so the state records them through that
    # service's ARN as well as by their own id.
    made_by_ecs: dict[str, str] = {}
    for arn in ecs.list_clusters()["clusterArns"]:
        cluster = ecs.describe_clusters(clusters=[arn])["clusters"][0]
        if cluster.get("status") != "ACTIVE":
            continue
        name = cluster["clusterName"]
        add("ecs_cluster", name, arn)
        svc_arns = [a for page in ecs.get_paginator("list_services").paginate(cluster=arn)
                    for a in page["serviceArns"]]
        for i in range(0, len(svc_arns), 10):
            for svc in ecs.describe_services(cluster=arn, services=svc_arns[i:i + 10])["services"]:
                if svc["status"] == "ACTIVE":
                    add("ecs_service", f"{name}/{svc['serviceName']}", svc["serviceArn"])
                for dep in svc.get("deployments", []):
                    for r in dep.get("serviceConnectResources", []):
                        made_by_ecs[r["discoveryArn"]] = svc["serviceArn"]
    for arn in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]:
        add("task_definition", arn.rsplit("/", 1)[-1], arn)

    am = c("appmesh")
    for m in am.list_meshes()["meshes"]:
        mesh = m["meshName"]
        add("mesh", mesh, m.get("arn"))
        for n in am.list_virtual_nodes(meshName=mesh)["virtualNodes"]:
            add("virtual_node", f"{mesh}/{n['virtualNodeName']}", n.get("arn"))
        for r in am.list_virtual_routers(meshName=mesh)["virtualRouters"]:
            router = r["virtualRouterName"]
            add("virtual_router", f"{mesh}/{router}", r.get("arn"))
            for x in am.list_routes(meshName=mesh, virtualRouterName=router)["routes"]:
                add("route", f"{mesh}/{router}/{x['routeName']}", x.get("arn"))
        for v in am.list_virtual_services(meshName=mesh)["virtualServices"]:
            add("virtual_service", f"{mesh}/{v['virtualServiceName']}", v.get("arn"))

    sd = c("servicediscovery")
    ns_names = {}
    for ns in sd.list_namespaces()["Namespaces"]:
        ns_names[ns["Id"]] = ns["Name"]
        add("cloudmap_namespace", ns["Name"], ns["Id"], ns.get("Arn"))
    for s in sd.list_services()["Services"]:
        ns_id = sd.get_service(Id=s["Id"])["Service"].get("NamespaceId", "")
        add("cloudmap_service", f"{ns_names.get(ns_id, ns_id)}/{s['Name']}", s["Id"], s.get("Arn"),
            made_by_ecs.get(s.get("Arn", "")))

    cw = c("cloudwatch")
    for a in cw.describe_alarms()["MetricAlarms"]:
        # Alarms Application Auto Scaling makes for a target-tracking policy belong to that
        # policy (AWS deletes them with it; the policy is counted). Not counted, also because
        # moto 5.2.5 leaks the old ones when PutScalingPolicy updates an existing policy
        # (AWS replaces them).
        if a["AlarmName"].startswith("TargetTracking-"):
            continue
        add("alarm", a["AlarmName"], a["AlarmName"], a.get("AlarmArn"))
    for d in cw.list_dashboards()["DashboardEntries"]:
        add("dashboard", d["DashboardName"], d["DashboardName"], d.get("DashboardArn"))
    for g in c("logs").describe_log_groups()["logGroups"]:
        add("log_group", g["logGroupName"], g["logGroupName"], g.get("arn"),
            str(g.get("arn", "")).removesuffix(":*"))
    aas = c("application-autoscaling")
    for t in (t for page in aas.get_paginator("describe_scalable_targets").paginate(
            ServiceNamespace="ecs") for t in page["ScalableTargets"]):
        add("scaling_target", t["ResourceId"], t["ResourceId"], t.get("ScalableTargetARN"))
    # Ten policies a page, as on AWS.
    pages = aas.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="ecs")
    for p in (p for page in pages for p in page["ScalingPolicies"]):
        add("scaling_policy", f"{p['ResourceId']}/{p['PolicyName']}", p["PolicyName"],
            p.get("PolicyARN"))
    return out


def inventory(emulator: Emulator, region: str = REGION) -> dict[str, list[str]]:
    """Every live object in the emulator, by kind: {kind: [qualified name, ...]}."""
    inv: dict[str, list[str]] = {k: [] for k in KINDS}
    for kind, name, _ in objects(emulator, region):
        inv[kind].append(name)
    return {k: sorted(v) for k, v in inv.items()}


def recorded_ids(state: Any) -> set[str]:
    """Every string value of every resource's `components` (and `id`) in a state file."""
    if isinstance(state, str):
        state = json.loads(state) if state.strip() else {}
    out: set[str] = set()
    for res in state.get("resources", []):
        for inst in res.get("instances", []):
            attrs = inst.get("attributes") or {}
            out.add(str(attrs.get("id", "")))
            for v in (attrs.get("components") or {}).values():
                if isinstance(v, str):
                    out.add(v)
    return out


def unrecorded(emulator: Emulator, states: Iterable[Any], region: str = REGION) -> list[str]:
    """Objects that exist but no state's `components` names (by ARN, id or name; a Cloud Map
    service ECS Service Connect made, also by the ARN of the ECS service that owns it)."""
    known: set[str] = set()
    for st in states:
        known |= recorded_ids(st)
    return [f"{kind} {name}" for kind, name, ids in objects(emulator, region)
            if not (ids & known)]


def network(emulator: Emulator, region: str = REGION) -> dict:
    """A VPC, two subnets and a security group in the emulator's EC2: the variables
    examples/three-services needs besides `endpoint`."""
    ec2 = emulator._session.client("ec2", region_name=region, endpoint_url=emulator.endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="matbakh-services", Description="services",
                                   VpcId=vpc)["GroupId"]
    return {"vpc_id": vpc, "subnet_ids": subnets, "security_group_ids": [sg]}


def count(inv: dict[str, list[str]]) -> int:
    return sum(len(v) for v in inv.values())


def orphans(inv: dict[str, list[str]]) -> dict[str, list[str]]:
    """After a destroy: whatever still exists, by kind (empty dict: nothing left)."""
    return {k: v for k, v in inv.items() if v}


def referenced_task_definitions(emulator: Emulator, region: str = REGION) -> set[str]:
    """family:revision of the task definition every ACTIVE ECS service runs."""
    ecs = emulator._session.client("ecs", region_name=region, endpoint_url=emulator.endpoint)
    out = set()
    for arn in ecs.list_clusters()["clusterArns"]:
        svc_arns = [a for page in ecs.get_paginator("list_services").paginate(cluster=arn)
                    for a in page["serviceArns"]]
        for i in range(0, len(svc_arns), 10):
            for svc in ecs.describe_services(cluster=arn, services=svc_arns[i:i + 10])["services"]:
                if svc["status"] == "ACTIVE":
                    out.add(svc["taskDefinition"].rsplit("/", 1)[-1])
    return out


def recorded_task_definitions(state: Any) -> set[str]:
    """family:revision of every task-definition ARN anywhere in a state (file text or JSON)."""
    text = state if isinstance(state, str) else json.dumps(state)
    return {m.rsplit("/", 1)[-1] for m in TASK_DEF_ARN.findall(text)}


def duplicates(emulator: Emulator, inv: dict[str, list[str]], states: Iterable[Any] = (),
               region: str = REGION) -> dict[str, list[str]]:
    """Names that exist more than once per kind, and task-definition revisions that no service
    runs and no state records (a second registration after a lost answer)."""
    dups = {k: sorted(n for n, c in Counter(v).items() if c > 1)
            for k, v in inv.items() if k != "task_definition"}
    dups = {k: v for k, v in dups.items() if v}
    known = referenced_task_definitions(emulator, region)
    for st in states:
        known |= recorded_task_definitions(st)
    stray = sorted(td for td in inv["task_definition"] if td not in known)
    if stray:
        dups["task_definition (unreferenced)"] = stray
    return dups


# "panic" as a word ("panicked at", "panic:", Go's "panic: ..."), not inside a token: AWS request
# ids are random letters, and one reading "xHopAniCt5..." failed a CI run.
_PANIC = re.compile(r"(?i)\bpanic(?:ked\b|\b)|plugin crashed|plugin did not respond")


def panics(*texts: str) -> list[str]:
    """Lines of provider logs / terraform output that show a panic or a crashed plugin."""
    out = []
    for text in texts:
        for line in (text or "").splitlines():
            if _PANIC.search(line):
                out.append(line.strip()[:300])
    return out


def state_text(workdir: Path) -> str:
    p = Path(workdir) / "terraform.tfstate"
    return p.read_text() if p.exists() else ""


# ---------------------------------------------------------------------------- scripts/chaos.sh


def _cycle(args: argparse.Namespace) -> int:
    """One apply / plan / destroy run of examples/three-services through the fault proxy;
    prints one line: rate seed attempts orphans duplicates panics wall-time."""
    from harness.fault_proxy import FaultProxy
    from harness.terraform import Terraform

    repo = Path(__file__).resolve().parents[2]
    emulator = Emulator(args.emulator)
    emulator.reset()
    # Deployments finish at once: releases are not what this measures (the emulator's default
    # makes them take their stages' time).
    emulator.settings(ecs_deployment="completed")
    net = network(emulator)
    work = Path(args.workdir) / f"rate{args.rate}-seed{args.seed}"
    if work.exists():
        shutil.rmtree(work)
    log = work / "provider.log"
    tf = Terraform(work / "tf", Path(args.cli_config),
                   env={"TF_LOG_PROVIDER": "DEBUG", "TF_LOG_PATH": str(log)})
    started = time.monotonic()
    with FaultProxy(emulator.endpoint, rate=args.rate, seed=args.seed,
                    log_path=work / "proxy-requests.jsonl") as proxy:
        tf.copy_dir(repo / "examples" / "three-services",
                    {"endpoint": proxy.endpoint, **net})
        attempts, converged = 0, False
        while attempts < 3 and not converged:
            attempts += 1
            converged = tf.apply(check=False).returncode == 0
        plan_rc = tf.plan(check=False).returncode if converged else -1
        inv_applied = inventory(emulator)
        dups = duplicates(emulator, inv_applied, [state_text(tf.workdir)])
        destroy_rc = tf.destroy(check=False).returncode
        if destroy_rc != 0:
            destroy_rc = tf.destroy(check=False).returncode
        faults = proxy.faults()
    wall = time.monotonic() - started
    left = orphans(inventory(emulator))
    crash = panics(log.read_text(errors="replace") if log.exists() else "",
                   *(r.output for r in tf.history))
    print(f"{args.rate:>5} {args.seed:>5} {attempts if converged else 'FAIL':>8} "
          f"{sum(len(v) for v in left.values()):>7} "
          f"{sum(len(v) for v in dups.values()):>10} {len(crash):>6} {wall:>8.1f}s"
          f"  plan={plan_rc} destroy={destroy_rc} faults={sum(faults.values())}"
          + (f" orphans={left}" if left else "") + (f" duplicates={dups}" if dups else ""),
          flush=True)
    ok = attempts == 1 and converged and plan_rc == 0 and destroy_rc == 0
    return 0 if ok and not left and not dups and not crash else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.chaos")
    sub = p.add_subparsers(dest="cmd", required=True)
    inv = sub.add_parser("inventory", help="print what exists in the emulator, by kind (JSON)")
    inv.add_argument("--emulator", required=True)
    cyc = sub.add_parser("cycle", help="one apply/plan/destroy run through the fault proxy")
    cyc.add_argument("--emulator", required=True)
    cyc.add_argument("--cli-config", required=True)
    cyc.add_argument("--workdir", required=True)
    cyc.add_argument("--rate", type=float, required=True)
    cyc.add_argument("--seed", type=int, required=True)
    sub.add_parser("header", help="the column header of `cycle` lines")
    args = p.parse_args(argv)
    if args.cmd == "inventory":
        print(json.dumps(inventory(Emulator(args.emulator)), indent=2))
        return 0
    if args.cmd == "header":
        print(f"{'rate':>5} {'seed':>5} {'attempts':>8} {'orphans':>7} {'duplicates':>10} "
              f"{'panics':>6} {'wall':>9}")
        return 0
    return _cycle(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
