"""What an ECS service deployment does to the Application Load Balancer of a service whose
`loadBalancers` entry has `advancedConfiguration` (ECS-native BLUE_GREEN, CANARY and LINEAR).

Sources: Amazon ECS Developer Guide, "Amazon ECS blue/green service deployments workflow" (the
new revision's tasks start beside the old ones; "the Application Load Balancer directs test
requests to the green environment while production traffic remains on blue"; production traffic
shifts by the strategy; a rollback returns it to blue), "Application Load Balancer resources for
blue/green, linear, and canary deployments" (a primary target group for the blue revision, an
alternate one for the green; "Amazon ECS automatically registers tasks with the appropriate
target group based on the deployment stage"), "Amazon ECS canary deployments" and "linear
deployments" (the production listener rule's weights move to canaryPercent then 100, or by
stepPercent); the ECS API reference, AdvancedConfiguration. After a successful deployment the
green group serves production and ECS names it the service's `targetGroupArn`, the former
primary its `alternateTargetGroupArn`, so the next deployment goes the other way (live reports in
terraform-provider-aws #45678 and go-to-k/cdk-real-drift #1730: the rule's forward action ends
weighted over both groups, the new one at 100).

With P the service's primary group and A its alternate when the deployment started, per stage of
the deployment (ecs_deployments.py):
  SCALE_UP and later       the new revision's running tasks are `ip` targets of A, the old
                           revision's of P (each group: its revision's tasks, no others);
  TEST_TRAFFIC_SHIFT on    the test listener rule forwards 100 to A, 0 to P;
  PRODUCTION_TRAFFIC_SHIFT the production rule forwards w to A and 100 - w to P, w the new
                           revision's requestedProductionTrafficWeight;
  CLEAN_UP                 the old revision's targets are deregistered;
  SUCCESSFUL               loadBalancers swapped (A primary, P alternate), both rules at A 100;
  ROLLBACK_SUCCESSFUL, STOPPED
                           both rules back at P 100, the new revision's targets deregistered.
ECS moves all of it with the role `advancedConfiguration.roleArn` names (developer guide, "Amazon
ECS infrastructure IAM role for load balancers": the managed policy
AmazonECSInfrastructureRolePolicyForLoadBalancers grants the Describe* reads, ModifyListener,
ModifyRule, RegisterTargets and DeregisterTargets). A deployment whose role may not modify both
rules or register and deregister targets in both groups (moto's IAM policy evaluation, as
ecs_task_iam.py) is rolled back when it starts, naming the role, the action and the resource.
Every change ECS makes to a rule's weights is also a service event (DescribeServices `events`,
this emulator's wording), so a test reads the steps a release went through after it ended.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from moto.core.utils import utcnow
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends

from .ecs_load_balancers import _elbv2, fill

TEST_SHIFTED = ("TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT",
                "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP")
SCALED = TEST_SHIFTED + ("POST_SCALE_UP",)


def plan(service: Any) -> dict[str, Any] | None:
    """The load balancer objects a traffic-shifting deployment of `service` moves, as the
    service names them when it starts; None without advancedConfiguration."""
    lbs = service.load_balancers or []
    if not lbs:
        return None
    advanced = lbs[0].get("advancedConfiguration") or {}
    if not advanced.get("alternateTargetGroupArn") or not advanced.get("productionListenerRule"):
        return None
    return {"role": advanced.get("roleArn"),
            "primary": lbs[0].get("targetGroupArn"),
            "alternate": advanced["alternateTargetGroupArn"],
            "production_rule": advanced["productionListenerRule"],
            "test_rule": advanced.get("testListenerRule"),
            "port": lbs[0].get("containerPort"),
            "swapped": False}


def denied(service: Any, alb: dict[str, Any], partition: str = "aws") -> str | None:
    """Why ECS cannot move this load balancer's traffic with its role; None when it can (or
    IAM holds no such role: UpdateService refused that already)."""
    backend = iam_backends[service._account_id][partition]
    try:
        role = backend.get_role_by_arn(alb["role"])
    except Exception:  # noqa: BLE001 - moto raises IAMNotFoundException
        return None
    policies = [IAMPolicy(doc) for doc in role.policies.values()]
    for arn in role.managed_policies:
        policies.append(IAMPolicy(backend.managed_policies.get(arn) or role.managed_policies[arn]))
    wanted = [("elasticloadbalancing:DescribeRules", "*"),
              ("elasticloadbalancing:DescribeTargetGroups", "*"),
              ("elasticloadbalancing:DescribeTargetHealth", "*")]
    wanted += [("elasticloadbalancing:ModifyRule", r)
               for r in (alb["production_rule"], alb["test_rule"]) if r]
    wanted += [(a, g) for g in (alb["primary"], alb["alternate"])
               for a in ("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets")]
    for action, resource in wanted:
        results = [p.is_action_permitted(action, resource) for p in policies]
        if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
            return (f"ECS was unable to move the load balancer's traffic: User: arn:{partition}:sts::"
                    f"{service._account_id}:assumed-role/{role.name}/ECSLoadBalancerManagement is "
                    f"not authorized to perform: {action} on resource: {resource} because no "
                    f"identity-based policy allows the {action} action")
    return None


def _rule(elb: Any, arn: str | None) -> Any:
    if not arn:
        return None
    for lb in elb.load_balancers.values():
        for listener in lb.listeners.values():
            if arn in listener.rules:
                return listener.rules[arn]
    return None


def _weights(rule: Any) -> dict[str, int]:
    out = {}
    for action in rule.actions:
        forward = (getattr(action, "data", None) or {}).get("ForwardConfig") or {}
        for t in forward.get("TargetGroups") or []:
            out[t["TargetGroupArn"]] = int(t.get("Weight", 1))
    return out


def _set_weights(service: Any, elb: Any, arn: str | None, which: str,
                 wanted: dict[str, int], stage: str) -> None:
    """Point the rule's forward action at `wanted` (group ARN -> weight); a service event when
    that changed anything."""
    rule = _rule(elb, arn)
    if rule is None or _weights(rule) == wanted:
        return
    for action in rule.actions:
        data = getattr(action, "data", None) or {}
        if data.get("Type") != "forward":
            continue
        forward = data.setdefault("ForwardConfig", {})
        forward["TargetGroups"] = [{"TargetGroupArn": g, "Weight": w} for g, w in wanted.items()]
        forward.setdefault("TargetGroupStickinessConfig", {"Enabled": False})
        data.pop("TargetGroupArn", None)
        action.__dict__.update(data)
        action.__dict__.pop("TargetGroupArn", None)
    shares = ", ".join(f"{w}% to {g.split(':')[-1]}" for g, w in wanted.items())
    service.events = [{"id": str(uuid.uuid4()), "createdAt": utcnow(),
                       "message": f"(service {service.name}) moved the {which} listener rule "
                                  f"{arn} ({stage}): {shares}."}] + \
        list(getattr(service, "events", []) or [])[:50]


def show(service: Any, dep: dict[str, Any], target_running: int, source_running: int) -> None:
    """Make the load balancer what deployment `dep` has done to it by now (idempotent)."""
    alb = dep.get("_alb")
    if alb is None or getattr(service, "status", "ACTIVE") != "ACTIVE":
        return
    elb = _elbv2(service._account_id, service.region_name)
    p, a = alb["primary"], alb["alternate"]
    status, stage = dep["status"], dep.get("lifecycleStage") or ""
    rolled_back = status in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED")
    if status == "SUCCESSFUL":
        new_share, test_to_new = 100, True
    elif rolled_back:
        new_share, test_to_new = 0, False
        target_running = 0
    else:
        new_share = int(round(float(dep.get("_weight") or 0)))
        test_to_new = stage in TEST_SHIFTED
        if stage not in SCALED:
            target_running = 0
    fill(elb, p, dep["_source_rev"] or service.arn, source_running, alb["port"])
    fill(elb, a, dep["_target_rev"], target_running, alb["port"])
    label = status if status != "IN_PROGRESS" else stage
    _set_weights(service, elb, alb["test_rule"], "test",
                 {p: 0, a: 100} if test_to_new else {p: 100, a: 0}, label)
    _set_weights(service, elb, alb["production_rule"], "production",
                 {p: 100 - new_share, a: new_share}, label)
    if status == "SUCCESSFUL" and not alb["swapped"]:
        alb["swapped"] = True
        lbs = copy.deepcopy(service.load_balancers or [])
        if lbs and lbs[0].get("targetGroupArn") == p:
            lbs[0]["targetGroupArn"] = a
            lbs[0]["advancedConfiguration"]["alternateTargetGroupArn"] = p
            service.load_balancers = lbs
