"""ECS's side of a service behind an Application Load Balancer: what CreateService and
UpdateService refuse in `loadBalancers`, and the targets ECS registers as tasks run.

Sources: Amazon ECS API reference, LoadBalancer ("targetGroupArn", "containerName",
"containerPort": the container and port must be in the task definition) and AdvancedConfiguration
("alternateTargetGroupArn", "productionListenerRule", "testListenerRule", "roleArn": the role ECS
assumes to move traffic, trusted by ecs.amazonaws.com); Amazon ECS Developer Guide, "Use load
balancing to distribute Amazon ECS service traffic" (a target group of an awsvpc task must have
target type ip; it must be associated with a load balancer through a listener or rule) and
"Amazon ECS infrastructure IAM role for load balancers"; the messages as ECS answers them
(terraform-provider-aws's internal/service/ecs tests and issues quote them).

Refused, as InvalidParameterException:
- a target group that does not exist, or of target type `instance` for an awsvpc task;
- a target group no listener or rule of a load balancer forwards to;
- a containerName/containerPort the task definition has no port mapping for;
- advancedConfiguration without alternateTargetGroupArn, productionListenerRule or roleArn, an
  alternate group or a rule that does not exist, or a roleArn IAM has no role of that is trusted by
  ecs.amazonaws.com ("Unable to assume role ...").

Targets: after every create and update, the service's primary target group holds one `ip` target
per running task (10.x addresses derived from the service and the task's index) on the container
port, and no other group it names holds any; a deleted service or one whose load balancer was
taken off deregisters its targets (ECS registers and deregisters tasks as they start and stop).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from moto.ecs.exceptions import InvalidParameterException
from moto.elbv2.models import elbv2_backends
from moto.iam.models import iam_backends


def _elbv2(account: str, region: str) -> Any:
    return elbv2_backends[account][region]


def _trusts_ecs(role: Any) -> bool:
    try:
        doc = json.loads(role.assume_role_policy_document)
    except Exception:  # noqa: BLE001
        return False
    for st in doc.get("Statement", []):
        service = (st.get("Principal") or {}).get("Service")
        services = service if isinstance(service, list) else [service]
        if st.get("Effect") == "Allow" and "ecs.amazonaws.com" in services:
            return True
    return False


def _rule_exists(elb: Any, arn: str) -> bool:
    return any(arn in listener.rules for lb in elb.load_balancers.values()
               for listener in lb.listeners.values())


def validate(account: str, region: str, task_definition: Any, load_balancers: list[dict] | None,
             partition: str = "aws") -> None:
    """Raise what ECS answers to `load_balancers` for a service of `task_definition`."""
    elb = _elbv2(account, region)
    awsvpc = getattr(task_definition, "network_mode", None) == "awsvpc"
    for lb in load_balancers or []:
        groups = [lb.get("targetGroupArn")]
        advanced = lb.get("advancedConfiguration")
        if advanced is not None:
            for key in ("alternateTargetGroupArn", "productionListenerRule", "roleArn"):
                if not advanced.get(key):
                    raise InvalidParameterException(
                        f"advancedConfiguration.{key} must be specified for a load balancer with "
                        "advancedConfiguration.")
            groups.append(advanced["alternateTargetGroupArn"])
            for rule in (advanced["productionListenerRule"], advanced.get("testListenerRule")):
                if rule and not _rule_exists(elb, rule):
                    raise InvalidParameterException(f"Listener rule {rule} does not exist.")
            role_arn = advanced["roleArn"]
            try:
                role = iam_backends[account][partition].get_role_by_arn(role_arn)
            except Exception:  # noqa: BLE001 - moto raises IAMNotFoundException
                role = None
            if role is None or not _trusts_ecs(role):
                raise InvalidParameterException(
                    "Unable to assume role and validate the listeners configured on your load "
                    f"balancer. Please verify that the ECS service role being passed ({role_arn}) "
                    "has the proper permissions.")
        for arn in groups:
            group = elb.target_groups.get(arn)
            if group is None:
                raise InvalidParameterException(f"Target group {arn} does not exist.")
            if awsvpc and group.target_type != "ip":
                raise InvalidParameterException(
                    f"The provided target group {arn} has target type {group.target_type}, which "
                    "is incompatible with the awsvpc network mode specified in the task definition.")
            if not group.load_balancer_arns:
                raise InvalidParameterException(
                    f"The target group with targetGroupArn {arn} does not have an associated load "
                    "balancer.")
        name, port = lb.get("containerName"), lb.get("containerPort")
        containers = {c.get("name"): c for c in task_definition.container_definitions}
        container = containers.get(name)
        ports = [m.get("containerPort") for m in (container or {}).get("portMappings") or []]
        if container is None or port not in ports:
            raise InvalidParameterException(
                f"The container {name} did not have a container port {port} defined.")


def _ips(seed: str, count: int) -> list[str]:
    digest = hashlib.sha256(seed.encode()).digest()
    return [f"10.{digest[0]}.{(digest[1] + i // 250) % 256}.{i % 250 + 1}" for i in range(count)]


def fill(elb: Any, group_arn: str | None, seed: str, count: int, port: Any) -> None:
    """`count` ip targets in the group: the ones it has first (their tasks keep running), then
    new addresses derived from `seed` (the service or the revision the tasks run)."""
    group = elb.target_groups.get(group_arn)
    if group is None:
        return
    kept = list(group.targets)[:count]
    for ip in list(group.targets):
        if ip not in kept:
            del group.targets[ip]
    for ip in _ips(seed, count * 2):
        if len(group.targets) >= count:
            break
        group.targets.setdefault(ip, {"Id": ip, "Port": port})


def sync_targets(account: str, region: str, service: Any, before: list[dict] | None = None) -> None:
    """One target per running task in the primary group; none in any other group the service
    names now or named `before`. (During a blue/green, canary or linear deployment
    ecs_alb_deployments.py puts each revision's tasks in its group after this.)"""
    elb = _elbv2(account, region)
    lbs = service.load_balancers or [] if getattr(service, "status", "ACTIVE") == "ACTIVE" else []
    primary = lbs[0].get("targetGroupArn") if lbs else None
    named = set()
    for lb in list(lbs) + list(before or []):
        named.add(lb.get("targetGroupArn"))
        named.add((lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"))
    named.discard(None)
    for arn in named:
        count = int(getattr(service, "running_count", 0) or 0) if arn == primary else 0
        fill(elb, arn, service.arn, count, lbs[0].get("containerPort") if lbs else None)
