"""Application Auto Scaling: what PutScalingPolicy refuses of a target tracking policy on the
predefined metric ALBRequestCountPerTarget, which moto 5.2.5 accepts with any ResourceLabel or none.

Sources: botocore's application-autoscaling service model (PredefinedMetricSpecification:
ResourceLabel, 1-1023 characters) and the Application Auto Scaling API reference,
"PredefinedMetricSpecification": "You can't specify a resource label unless the metric type is
ALBRequestCountPerTarget and there is a target group attached to the Spot Fleet or ECS service.
You create the resource label by appending the final portion of the load balancer ARN and the final
portion of the target group ARN into a single value, separated by a forward slash (/). The format
of the resource label is: app/my-alb/778d41231b141a0f/targetgroup/my-alb-target-group/943f017f100becff".

Refused, as ValidationException:
- ALBRequestCountPerTarget without a ResourceLabel;
- a ResourceLabel with another metric type;
- a ResourceLabel not of the form app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID, longer than 1023;
- a load balancer or target group the label names that does not exist, a target group no listener
  or rule of that load balancer forwards to, or (ECS) one the service does not name in its
  loadBalancers (targetGroupArn or advancedConfiguration.alternateTargetGroupArn).

PutScalingPolicy of a policy name that exists updates that policy ("Creates or updates a scaling
policy"): its PolicyARN stays (moto makes a new one, with a new id, on every call) -> the old ARN
is kept.

DescribeScalingPolicies: moto ignores PolicyNames (answers every policy of the namespace), matches
ResourceId as a substring, takes any MaxResults (default 100) and ScalableDimension without
ResourceId. AWS (botocore's model and the API reference, DescribeScalingPolicies): PolicyNames, at
most 50, filters by name, across targets when no ResourceId is given; ScalableDimension "If you
specify a scalable dimension, you must also specify a resource ID"; MaxResults "can be between 1
and 10. The default value is 10", with a NextToken while more remain -> fixed here.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

from .paging import page_of

ALB_METRIC = "ALBRequestCountPerTarget"
LABEL_MAX = 1023
LABEL = re.compile(r"^app/([^/]+)/([^/]+)/targetgroup/([^/]+)/([^/]+)$")


def _refuse(message: str) -> NoReturn:
    raise AWSValidationException(message)


def _ecs_service_groups(account: str, region: str, resource_id: str) -> set[str] | None:
    """The target groups the ECS service `service/CLUSTER/NAME` names; None: no such service."""
    from moto.ecs.models import ecs_backends

    parts = resource_id.split("/")
    if len(parts) != 3 or parts[0] != "service":
        return None
    ecs = ecs_backends[account][region]
    for service in ecs.services.values():
        if (service.name, service.cluster_name) == (parts[2], parts[1]) and \
                service.status != "INACTIVE":
            groups = set()
            for lb in service.load_balancers or []:
                groups.add(lb.get("targetGroupArn"))
                advanced = lb.get("advancedConfiguration") or {}
                groups.add(advanced.get("alternateTargetGroupArn"))
            groups.discard(None)
            return groups
    return None


def check_label(account: str, region: str, namespace: str, resource_id: str,
                metric: dict[str, Any]) -> None:
    from moto.elbv2.models import elbv2_backends

    kind = metric.get("PredefinedMetricType")
    label = metric.get("ResourceLabel")
    if kind != ALB_METRIC:
        if label is not None:
            _refuse(f"ResourceLabel can only be specified with {ALB_METRIC}")
        return
    if not label:
        _refuse(f"ResourceLabel must be specified with the {ALB_METRIC} metric type")
    if len(label) > LABEL_MAX:
        _refuse(f"1 validation error detected: Value at 'targetTrackingScalingPolicyConfiguration"
                f".predefinedMetricSpecification.resourceLabel' failed to satisfy constraint: "
                f"Member must have length less than or equal to {LABEL_MAX}")
    match = LABEL.match(label)
    if match is None:
        _refuse(f"Invalid ResourceLabel {label!r}: expected "
                "app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/"
                "<target-group-id>")
    lb_part = f"loadbalancer/app/{match.group(1)}/{match.group(2)}"
    tg_part = f"targetgroup/{match.group(3)}/{match.group(4)}"
    elb = elbv2_backends[account][region]
    lb = next((b for arn, b in elb.load_balancers.items() if arn.endswith(":" + lb_part)), None)
    if lb is None:
        _refuse(f"Invalid ResourceLabel {label!r}: load balancer {lb_part} not found")
    tg = next((g for arn, g in elb.target_groups.items() if arn.endswith(":" + tg_part)), None)
    if tg is None:
        _refuse(f"Invalid ResourceLabel {label!r}: target group {tg_part} not found")
    if lb.arn not in tg.load_balancer_arns:
        _refuse(f"Invalid ResourceLabel {label!r}: target group {tg_part} is not attached to "
                f"load balancer {lb_part}")
    if namespace == "ecs":
        groups = _ecs_service_groups(account, region, resource_id)
        if groups is None or tg.arn not in groups:
            _refuse(f"Invalid ResourceLabel {label!r}: target group {tg_part} is not attached to "
                    f"{resource_id}")


_orig_put_scaling_policy = ApplicationAutoScalingResponse.put_scaling_policy


def put_scaling_policy(self: ApplicationAutoScalingResponse) -> str:
    backend = self.applicationautoscaling_backend
    config = self._get_param("TargetTrackingScalingPolicyConfiguration") or {}
    metric = config.get("PredefinedMetricSpecification")
    if metric is not None:
        check_label(backend.account_id, backend.region_name, self._get_param("ServiceNamespace"),
                    self._get_param("ResourceId"), metric)
    key = (self._get_param("ServiceNamespace"), self._get_param("ResourceId"),
           self._get_param("ScalableDimension"), self._get_param("PolicyName"))
    old = next((p for p in backend.policies.values()
                if (p.service_namespace, p.resource_id, p.scalable_dimension, p.policy_name) == key),
               None)
    out = _orig_put_scaling_policy(self)
    if old is None:
        return out
    for p in backend.policies.values():
        if (p.service_namespace, p.resource_id, p.scalable_dimension, p.policy_name) == key:
            p.policy_arn = old.policy_arn
    answer = json.loads(out)
    answer["PolicyARN"] = old.policy_arn
    return json.dumps(answer)


POLICY_NAMES_MAX = 50
PAGE_MAX = 10


def describe_scaling_policies(self: ApplicationAutoScalingResponse) -> str:
    from moto.applicationautoscaling.responses import _build_policy

    names = self._get_param("PolicyNames")
    resource_id = self._get_param("ResourceId")
    dimension = self._get_param("ScalableDimension")
    page = self._get_param("MaxResults")
    if names is not None and len(names) > POLICY_NAMES_MAX:
        _refuse("1 validation error detected: Value at 'policyNames' failed to satisfy "
                f"constraint: Member must have length less than or equal to {POLICY_NAMES_MAX}")
    if dimension and not resource_id:
        _refuse("If you specify a scalable dimension, you must also specify a resource ID")
    if page is not None and not 1 <= int(page) <= PAGE_MAX:
        _refuse(f"1 validation error detected: Value '{page}' at 'maxResults' failed to satisfy "
                f"constraint: Member must have value between 1 and {PAGE_MAX}")
    page = int(page) if page is not None else PAGE_MAX
    backend = self.applicationautoscaling_backend
    found = [p for p in backend.policies.values()
             if p.service_namespace == self._get_param("ServiceNamespace")
             and (not names or p.policy_name in names)
             and (not resource_id or p.resource_id == resource_id)
             and (not dimension or p.scalable_dimension == dimension)]
    listed, next_token = page_of(found, self._get_param("NextToken"), page, _refuse)
    answer: dict[str, Any] = {"ScalingPolicies": [_build_policy(p) for p in listed]}
    if next_token is not None:
        answer["NextToken"] = next_token
    return json.dumps(answer)


def install() -> None:
    ApplicationAutoScalingResponse.put_scaling_policy = put_scaling_policy  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.describe_scaling_policies = describe_scaling_policies  # type: ignore[method-assign]
