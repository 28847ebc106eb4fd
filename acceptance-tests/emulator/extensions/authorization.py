"""Request authorization as AWS does it, for the provider's services (setting `authorize_requests`).

moto can enforce IAM policies in server mode (INITIAL_NO_AUTH_ACTION_COUNT), but only for the
whole process from its start, and it judges every request of these services against the resource
`*`: a policy scoped to resource ARNs (the deployer policy) matches nothing, so moto would refuse
everything a least-privilege principal may do. So the middleware asks this module instead, per
request, while the setting is on:

* the caller is the IAM user owning the request's access key (moto's IAM backend); a key no IAM
  user owns is the account's root (the tests' own "testing" keys) and may do everything;
* the action is the IAM action that authorizes the call (`monitoring` signs as `cloudwatch:`,
  AWS Budgets' API calls are authorized by `budgets:ViewBudget` / `budgets:ModifyBudget`);
* the resources are the ARNs the Service Authorization Reference names for the call where this
  module models them (ECS, IAM, CloudWatch Logs, CloudWatch alarms and dashboards, App Mesh,
  AWS Budgets, Cloud Map, Application Auto Scaling, EC2 security groups, Elastic Load
  Balancing); for the other calls it knows no resource and
  judges the action alone (the gap is on the permissive side: such a statement's resource scope
  is not checked here);
* a create that tags what it makes is also authorized as the tagging action on the new object
  (Cloud Map and Application Auto Scaling `TagResource`, EC2 `CreateTags` with `ec2:CreateAction`,
  ELB `AddTags` with `elasticloadbalancing:CreateAction`), as AWS does;
* an explicit Deny wins; otherwise some Allow statement must match the action, the resource and
  its Condition. Conditions are evaluated as IAM does for the keys this module knows
  (`aws:ResourceTag/K` of the resource, `aws:RequestTag/K` and `aws:TagKeys` of the request,
  `application-autoscaling:service-namespace` / `scalable-dimension`,
  `servicediscovery:NamespaceArn`); a key the request context lacks fails a condition
  (the `Not` operators and `...IfExists` excepted, as in IAM). Operators: String(Not)Equals,
  String(Not)Like, their IgnoreCase / IfExists forms, ArnEquals/ArnLike, Bool, Null; any other
  operator fails its statement (the strict side). `iam:PassedToService` is in no API call's
  context: the deployer policy's PassRole statement authorizes no call here.

A refusal is answered as the service answers it: `AccessDeniedException` (JSON services),
`AccessDenied` (query services), `UnauthorizedOperation` (EC2), HTTP 403, with AWS's message
"User: ARN is not authorized to perform: ACTION on resource: RESOURCE because no identity-based
policy allows the ACTION action".
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote

ACCOUNT_DEFAULT = "123456789012"

# Signing names whose IAM action prefix differs (the Service Authorization
# Reference: CloudWatch is `cloudwatch:`, the Resource Groups Tagging API `tag:`).
SIGNING_TO_IAM = {"monitoring": "cloudwatch", "tagging": "tag"}

BUDGET_ACTIONS = {
    "DescribeBudget": "ViewBudget",
    "DescribeNotificationsForBudget": "ViewBudget",
    "DescribeSubscribersForNotification": "ViewBudget",
    "CreateBudget": "ModifyBudget",
    "UpdateBudget": "ModifyBudget",
    "DeleteBudget": "ModifyBudget",
    "CreateNotification": "ModifyBudget",
    "DeleteNotification": "ModifyBudget",
}

ACCESS_DENIED_CODE = {
    "ecs": "AccessDeniedException",
    "logs": "AccessDeniedException",
    "servicediscovery": "AccessDeniedException",
    "application-autoscaling": "AccessDeniedException",
    "budgets": "AccessDeniedException",
    "tagging": "AccessDeniedException",
    "appmesh": "AccessDeniedException",
    "monitoring": "AccessDenied",
    "elasticloadbalancing": "AccessDenied",
    "iam": "AccessDenied",
    "sts": "AccessDenied",
    "ec2": "UnauthorizedOperation",
}


def iam_action(service: str, operation: str) -> str:
    prefix = SIGNING_TO_IAM.get(service, service)
    if prefix == "budgets":
        operation = BUDGET_ACTIONS.get(operation, operation)
    return f"{prefix}:{operation}"


# ----------------------------------------------------------------------------- resources


def _params(call: Any) -> dict[str, Any]:
    if call.protocol == "query":
        form = parse_qs(call.body.decode("utf-8", "replace"))
        return {k: v[0] for k, v in form.items()}
    try:
        data = json.loads(call.text_body() or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _ecs(call: Any, p: dict[str, Any], region: str, account: str) -> list[str]:
    def cluster_name(value: Any) -> str:
        value = str(value or "default")
        return value.split("/")[-1] if value.startswith("arn:") else value

    def service_arn(cluster: str, service: str) -> str:
        if service.startswith("arn:"):
            return service
        return f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service}"

    def task_definition_arn(value: str) -> str:
        if value.startswith("arn:"):
            return value
        return f"arn:aws:ecs:{region}:{account}:task-definition/{value}"

    op = call.operation
    cluster = cluster_name(p.get("cluster"))
    if "resourceArn" in p:
        return [str(p["resourceArn"])]
    if op in ("CreateService",):
        return [service_arn(cluster, str(p.get("serviceName", "")))]
    if op in ("UpdateService", "DeleteService", "ListServiceDeployments"):
        return [service_arn(cluster, str(p.get("service", "")))]
    if op == "DescribeServices":
        return [service_arn(cluster, str(s)) for s in p.get("services") or []]
    if op in ("DeleteCluster", "PutClusterCapacityProviders", "UpdateCluster",
              "UpdateClusterSettings"):
        return [f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"]
    if op == "DescribeClusters":
        return [f"arn:aws:ecs:{region}:{account}:cluster/{cluster_name(c)}"
                for c in p.get("clusters") or ["default"]]
    if op == "DeregisterTaskDefinition" and p.get("taskDefinition"):
        return [task_definition_arn(str(p["taskDefinition"]))]
    return []


# IAM actions the Service Authorization Reference gives no resource type: only a statement whose
# Resource is `*` allows them (one scoped to role ARNs does not), as on AWS.
IAM_WITHOUT_RESOURCE = {"GetAccountAuthorizationDetails"}


def _iam(p: dict[str, Any], account: str) -> list[str]:
    if p.get("RoleName"):
        return [f"arn:aws:iam::{account}:role/{p['RoleName']}"]
    if p.get("Action") in IAM_WITHOUT_RESOURCE:
        return ["*"]
    return []


def _logs(p: dict[str, Any], region: str, account: str) -> list[str]:
    name = p.get("logGroupName")
    return [f"arn:aws:logs:{region}:{account}:log-group:{name}"] if name else []


def _cloudwatch(call: Any, p: dict[str, Any], region: str, account: str) -> list[str]:
    if p.get("ResourceARN"):
        return [str(p["ResourceARN"])]

    def names(single: str, plural: str) -> list[str]:
        """A name parameter and a list one, as JSON/CBOR (a list) or query (`X.member.N`)."""
        found = [str(p[single])] if p.get(single) else []
        if isinstance(p.get(plural), list):
            found += [str(v) for v in p[plural]]
        found += [str(v) for k, v in sorted(p.items()) if re.fullmatch(rf"{plural}\.member\.\d+", k)]
        return found

    # DescribeAlarms filters by name; its only resource is `*`.
    alarms = [] if call.operation == "DescribeAlarms" else names("AlarmName", "AlarmNames")
    dashboards = names("DashboardName", "DashboardNames")
    return ([f"arn:aws:cloudwatch:{region}:{account}:alarm:{a}" for a in alarms]
            + [f"arn:aws:cloudwatch::{account}:dashboard/{d}" for d in dashboards])


def _appmesh(call: Any, region: str, account: str) -> list[str]:
    m = re.match(r"^/v20190125/tags$", call.path)
    if m:
        q = parse_qs(call.query)
        return [unquote(q["resourceArn"][0])] if q.get("resourceArn") else []
    parts = [unquote(x) for x in call.path.split("/") if x]
    # /v20190125/meshes/MESH[/virtualRouter/ROUTER/routes/ROUTE | /KIND/NAME]
    if len(parts) < 3 or parts[1] != "meshes":
        return []
    mesh = parts[2]
    base = f"arn:aws:appmesh:{region}:{account}:mesh/{mesh}"
    rest = parts[3:]
    kinds = {"virtualNodes": "virtualNode", "virtualServices": "virtualService",
             "virtualRouters": "virtualRouter"}
    if not rest:
        return [base]
    if len(rest) >= 2 and rest[0] == "virtualRouter" and len(rest) >= 4 and rest[2] == "routes":
        return [f"{base}/virtualRouter/{rest[1]}/route/{rest[3]}"]
    if rest[0] in kinds and len(rest) >= 2:
        return [f"{base}/{kinds[rest[0]]}/{rest[1]}"]
    if rest[0] in kinds:
        name = _params(call).get(f"{kinds[rest[0]]}Name")
        return [f"{base}/{kinds[rest[0]]}/{name}"] if name else [base]
    if len(rest) >= 3 and rest[0] == "virtualRouter" and rest[2] == "routes":
        name = _params(call).get("routeName")
        return [f"{base}/virtualRouter/{rest[1]}/route/{name}"] if name else [base]
    return [base]


def _cloudmap_backend(region: str, account: str) -> Any:
    from moto.servicediscovery.models import servicediscovery_backends

    return servicediscovery_backends[account][region]


def _aas_backend(region: str, account: str) -> Any:
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    return applicationautoscaling_backends[account][region]


def _cloudmap(call: Any, p: dict[str, Any], region: str, account: str) -> list[str]:
    """Cloud Map (Service Authorization Reference, "AWS Cloud Map"): namespace and service by
    ARN (`namespace/ns-…`, `service/srv-…`); the namespace creates, the List calls and the tag
    calls have no resource type. A service being created has no id yet: `service/*`."""
    base = f"arn:aws:servicediscovery:{region}:{account}"

    def arn(kind: str, value: Any) -> str:
        value = str(value or "")
        return value if value.startswith("arn:") else f"{base}:{kind}/{value}"

    op = call.operation
    if op in ("GetNamespace", "DeleteNamespace"):
        return [arn("namespace", p.get("Id"))]
    if op in ("GetService", "DeleteService", "UpdateService"):
        return [arn("service", p.get("Id"))]
    if op == "CreateService":
        return [arn("namespace", p.get("NamespaceId")), f"{base}:service/*"]
    if op == "GetOperation":
        backend = _cloudmap_backend(region, account)
        operation = backend.operations.get(p.get("OperationId"))
        targets = getattr(operation, "targets", None) or {}
        found = [arn("namespace", targets["NAMESPACE"])] if targets.get("NAMESPACE") else []
        found += [arn("service", targets["SERVICE"])] if targets.get("SERVICE") else []
        return found
    return []


# Application Auto Scaling calls that act on one scalable target, named by namespace, resource id
# and dimension (the reference's resource type `scalable-target/ID`, an id AWS draws).
AAS_BY_TARGET = {"RegisterScalableTarget", "DeregisterScalableTarget", "PutScalingPolicy",
                 "DeleteScalingPolicy"}


def _autoscaling(call: Any, p: dict[str, Any], region: str, account: str) -> list[str]:
    if p.get("ResourceARN"):
        return [str(p["ResourceARN"])]
    if call.operation in AAS_BY_TARGET:
        backend = _aas_backend(region, account)
        target = backend.targets.get(p.get("ScalableDimension"), {}).get(p.get("ResourceId"))
        if target is not None:
            return [target.arn]
        # Not registered (yet): no ARN to read tags from.
        return [f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/*"]
    return []


def _members(p: dict[str, Any], prefix: str, suffix: str = "") -> list[str]:
    """A query-protocol list (`Prefix.member.N[.Suffix]` or EC2's `Prefix.N[.Suffix]`), in order."""
    rx = re.compile(rf"{re.escape(prefix)}\.(?:member\.)?(\d+){re.escape(suffix)}")
    found = [(int(m.group(1)), str(v)) for k, v in p.items() if (m := rx.fullmatch(k))]
    return [v for _, v in sorted(found)]


def _ec2(call: Any, p: dict[str, Any], region: str, account: str) -> list[str]:
    """EC2 security groups (the reference's `security-group/ID`) and the VPC a group is made in;
    a group being created has no id yet: `security-group/*`."""
    base = f"arn:aws:ec2:{region}:{account}"
    op = call.operation
    if op == "CreateSecurityGroup":
        vpc = [f"{base}:vpc/{p['VpcId']}"] if p.get("VpcId") else []
        return [f"{base}:security-group/*"] + vpc
    if op in ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
              "DeleteSecurityGroup") and p.get("GroupId"):
        return [f"{base}:security-group/{p['GroupId']}"]
    if op in ("CreateTags", "DeleteTags"):
        return [f"{base}:security-group/{r}" for r in _members(p, "ResourceId")
                if r.startswith("sg-")]
    return []


# Elastic Load Balancing v2 (the reference's `loadbalancer/app/NAME/ID`, `listener/app/…`,
# `listener-rule/app/…`, `targetgroup/NAME/ID`): the ARN parameter each call names. An object
# being created has no id yet: its name and `*`.
ELB_ARN_PARAMS = {
    "CreateListener": ["LoadBalancerArn"],
    "CreateRule": ["ListenerArn"],
    "DeleteListener": ["ListenerArn"],
    "ModifyListener": ["ListenerArn"],
    "DeleteRule": ["RuleArn"],
    "ModifyRule": ["RuleArn"],
    "DeleteLoadBalancer": ["LoadBalancerArn"],
    "ModifyLoadBalancerAttributes": ["LoadBalancerArn"],
    "SetSecurityGroups": ["LoadBalancerArn"],
    "SetSubnets": ["LoadBalancerArn"],
    "DeleteTargetGroup": ["TargetGroupArn"],
    "ModifyTargetGroup": ["TargetGroupArn"],
    "ModifyTargetGroupAttributes": ["TargetGroupArn"],
}


def _elbv2(call: Any, p: dict[str, Any], region: str, account: str) -> list[str]:
    base = f"arn:aws:elasticloadbalancing:{region}:{account}"
    op = call.operation
    if op == "CreateLoadBalancer" and p.get("Name"):
        return [f"{base}:loadbalancer/app/{p['Name']}/*"]
    if op == "CreateTargetGroup" and p.get("Name"):
        return [f"{base}:targetgroup/{p['Name']}/*"]
    if op in ("AddTags", "RemoveTags"):
        return _members(p, "ResourceArns")
    if op == "SetRulePriorities":
        return _members(p, "RulePriorities", ".RuleArn")
    return [str(p[k]) for k in ELB_ARN_PARAMS.get(op, []) if p.get(k)]


def resources(call: Any, region: str, account: str) -> list[str]:
    """The ARNs the call acts on, where modelled; [] when not."""
    try:
        if call.service == "appmesh":
            return _appmesh(call, region, account)
        p = _params(call)
        if call.service == "ecs":
            return _ecs(call, p, region, account)
        if call.service == "iam":
            return _iam(p, account)
        if call.service == "logs":
            return _logs(p, region, account)
        if call.service == "monitoring":
            return _cloudwatch(call, p, region, account)
        if call.service == "servicediscovery":
            return _cloudmap(call, p, region, account)
        if call.service == "ec2":
            return _ec2(call, p, region, account)
        if call.service == "elasticloadbalancing":
            return _elbv2(call, p, region, account)
        if call.service == "application-autoscaling":
            return _autoscaling(call, p, region, account)
        if call.service == "budgets" and p.get("BudgetName"):
            return [f"arn:aws:budgets::{account}:budget/{p['BudgetName']}"]
        if call.service == "budgets" and p.get("ResourceARN"):
            return [str(p["ResourceARN"])]
    except Exception:  # noqa: BLE001 - a gap in the model must not take the request down
        return []
    return []


# ----------------------------------------------------------------------------- evaluation


def _match(pattern: str, value: str) -> bool:
    rx = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(rx, value, re.IGNORECASE if ":" not in value else 0) is not None


def _as_list(v: Any) -> list[str]:
    return v if isinstance(v, list) else [v]


def _statement_applies(st: dict[str, Any], action: str, resource: str | None,
                      context: dict[str, list[str]] | None = None) -> bool:
    if "Action" in st:
        if not any(_match(a, action) or a.lower() == action.lower() for a in _as_list(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(_match(a, action) for a in _as_list(st["NotAction"])):
            return False
    if resource is not None:  # None: not modelled, the action alone is judged
        if "Resource" in st:
            if not any(_match(r, resource) for r in _as_list(st["Resource"])):
                return False
        elif "NotResource" in st:
            if any(_match(r, resource) for r in _as_list(st["NotResource"])):
                return False
        else:
            return False
    return _condition_holds(st.get("Condition") or {}, context or {})


def allowed(documents: list[dict[str, Any]], action: str, resource: str | None,
            context: dict[str, list[str]] | None = None) -> bool:
    statements = [st for doc in documents for st in _as_list(doc.get("Statement", []))]
    if any(st.get("Effect") == "Deny" and _statement_applies(st, action, resource, context)
           for st in statements):
        return False
    return any(st.get("Effect") == "Allow" and _statement_applies(st, action, resource, context)
               for st in statements)


# ----------------------------------------------------------------------------- conditions


def _glob(pattern: str, value: str) -> bool:
    """IAM's `*` / `?` wildcards, case-sensitive (StringLike, ArnLike)."""
    rx = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(rx, value, re.DOTALL) is not None


# matcher(value in the request context, value in the policy)
_MATCHERS = {
    "StringEquals": lambda v, w: v == w,
    "StringEqualsIgnoreCase": lambda v, w: v.lower() == w.lower(),
    "StringLike": lambda v, w: _glob(w, v),
    "ArnEquals": lambda v, w: _glob(w, v),
    "ArnLike": lambda v, w: _glob(w, v),
    "Bool": lambda v, w: v.lower() == w.lower(),
}


def _holds(operator: str, wanted: list[str], values: list[str] | None) -> bool:
    """One key of one condition operator, as IAM evaluates it
    (IAM User Guide, "IAM JSON policy elements: Condition operators")."""
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    if operator == "Null":
        return (values is None) == (str(wanted[0]).lower() == "true")
    negated = "Not" in operator
    matcher = _MATCHERS.get(operator.replace("Not", "", 1))
    if matcher is None:
        return False  # an operator not modelled here: the strict side
    if values is None:
        # A key absent from the request context matches nothing; the negated operators, the
        # IfExists forms and ForAllValues (vacuously) hold.
        return negated or if_exists or qualifier == "ForAllValues"
    hits = [any(matcher(v, str(w)) for w in wanted) for v in values]
    ok = all(hits) if qualifier == "ForAllValues" else any(hits)
    return not ok if negated else ok


def _condition_holds(condition: dict[str, Any], context: dict[str, list[str]]) -> bool:
    for operator, block in condition.items():
        if not isinstance(block, dict):
            return False
        for key, wanted in block.items():
            if not _holds(operator, [str(w) for w in _as_list(wanted)], context.get(key.lower())):
                return False
    return True


def _request_context(call: Any, p: dict[str, Any], region: str, account: str) -> dict[str, list[str]]:
    """The request's condition keys this module knows, lower-cased (IAM compares condition key
    names case-insensitively): the tags the request sets (Cloud Map's `Tags` list of Key/Value,
    Application Auto Scaling's `Tags` map) and the service-specific keys of the call."""
    ctx: dict[str, list[str]] = {}
    tags = p.get("Tags")
    pairs: list[tuple[str, str]] = []
    if isinstance(tags, list):
        pairs = [(str(t.get("Key")), str(t.get("Value"))) for t in tags if isinstance(t, dict)]
    elif isinstance(tags, dict):
        pairs = [(str(k), str(v)) for k, v in tags.items()]
    if call.service == "elasticloadbalancing":
        keys, values = _members(p, "Tags", ".Key"), _members(p, "Tags", ".Value")
        pairs += list(zip(keys, values + [""] * (len(keys) - len(values))))
    if call.service == "ec2":
        # TagSpecification.N.Tag.M.Key/Value (a create) or Tag.M.Key/Value (CreateTags).
        for prefix in ("TagSpecification.1.Tag", "Tag"):
            keys, values = _members(p, prefix, ".Key"), _members(p, prefix, ".Value")
            pairs += list(zip(keys, values + [""] * (len(keys) - len(values))))
    for k, v in pairs:
        ctx[f"aws:requesttag/{k}".lower()] = [v]
    if pairs:
        ctx["aws:tagkeys"] = [k for k, _ in pairs]
    if call.service == "application-autoscaling":
        for param, key in (("ServiceNamespace", "service-namespace"),
                           ("ScalableDimension", "scalable-dimension")):
            if p.get(param):
                ctx[f"application-autoscaling:{key}"] = [str(p[param])]
    if call.service == "servicediscovery" and call.operation == "CreateService" and p.get("NamespaceId"):
        ns = str(p["NamespaceId"])
        ctx["servicediscovery:namespacearn"] = [
            ns if ns.startswith("arn:") else f"arn:aws:servicediscovery:{region}:{account}:namespace/{ns}"]
    return ctx


def resource_tags(arn: str, region: str, account: str) -> dict[str, str] | None:
    """The tags of the object `arn` names, for `aws:ResourceTag/K`: Cloud Map namespaces and
    services, Application Auto Scaling scalable targets, EC2 security groups; None when it does not exist (no tag to
    read: a condition on one fails) or its service is not modelled here."""
    if ":servicediscovery:" in arn:
        backend = _cloudmap_backend(region, account)
        known = ({ns.arn for ns in backend.namespaces.values()}
                 | {svc.arn for svc in backend.services.values()})
        if arn not in known:
            return None
        return {t["Key"]: t["Value"] for t in backend.tagger.list_tags_for_resource(arn)["Tags"]}
    if ":ec2:" in arn and ":security-group/" in arn:
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[account][region]
        group_id = arn.rsplit("/", 1)[-1]
        if backend.get_security_group_from_id(group_id) is None:
            return None
        return dict(backend.tags.get(group_id, {}))
    if ":application-autoscaling:" in arn:
        from .misc import _aas_tags, _target_arns

        backend = _aas_backend(region, account)
        if arn not in _target_arns(backend):
            return None
        return dict(_aas_tags(backend).get(arn, {}))
    return None


def _resource_context(arn: str | None, region: str, account: str) -> dict[str, list[str]]:
    tags = resource_tags(arn, region, account) if arn else None
    return {f"aws:resourcetag/{k}".lower(): [v] for k, v in (tags or {}).items()}


def _caller(access_key: str, region: str) -> tuple[str, list[dict[str, Any]]] | None:
    """(user ARN, policy documents) of the IAM user owning the key; None for the root."""
    from moto.iam.access_control import CreateAccessKeyFailure, IAMPolicy, IAMUserAccessKey
    from moto.utilities.utils import get_partition

    try:
        key = IAMUserAccessKey(account_id=ACCOUNT_DEFAULT, partition=get_partition(region),
                               access_key_id=access_key, headers={})
    except CreateAccessKeyFailure:
        return None
    return key.arn, [IAMPolicy(p)._policy_json for p in key.collect_policies()]


# Creates that tag what they make are also authorized as the service's tagging action on the new
# object (the reference's "dependent actions"; EC2 and ELB add a `…:CreateAction` key naming the
# create): (service, operation) -> (tagging action, CreateAction key or None).
TAG_ON_CREATE = {
    ("servicediscovery", "CreateHttpNamespace"): ("servicediscovery:TagResource", None),
    ("servicediscovery", "CreatePrivateDnsNamespace"): ("servicediscovery:TagResource", None),
    ("servicediscovery", "CreateService"): ("servicediscovery:TagResource", None),
    ("application-autoscaling", "RegisterScalableTarget"):
        ("application-autoscaling:TagResource", None),
    ("ec2", "CreateSecurityGroup"): ("ec2:CreateTags", "ec2:createaction"),
    ("elasticloadbalancing", "CreateLoadBalancer"):
        ("elasticloadbalancing:AddTags", "elasticloadbalancing:createaction"),
    ("elasticloadbalancing", "CreateTargetGroup"):
        ("elasticloadbalancing:AddTags", "elasticloadbalancing:createaction"),
}


def _tagging_on_create(call: Any, request: dict[str, list[str]],
                       targets: list[str | None]) -> tuple[str, dict[str, list[str]], list[str | None]] | None:
    """(tagging action, its context, the new objects) when `call` is a create that sets tags."""
    dependent = TAG_ON_CREATE.get((call.service, call.operation))
    if dependent is None or "aws:tagkeys" not in request:
        return None
    action, create_key = dependent
    context = dict(request)
    if create_key:
        context[create_key] = [call.operation]
    # The tags go on the new object only: a security group's, not its VPC's; Cloud Map's tagging
    # has no resource type (judged on `*`).
    if call.service == "servicediscovery":
        made: list[str | None] = [None]
    else:
        made = [t for t in targets if t and (call.service != "ec2" or ":security-group/" in t)]
    return action, context, made or [None]


def refusal(call: Any, access_key: str | None, region: str) -> tuple[str, str] | None:
    """(error code, message) when the caller may not make `call`; None when it may."""
    if not access_key or not call.operation or call.service in ("", "sts"):
        # sts:GetCallerIdentity is always allowed on AWS; the provider calls no other STS action
        # against the emulator.
        return None
    caller = _caller(access_key, region)
    if caller is None:
        return None
    user, documents = caller
    action = iam_action(call.service, call.operation)
    targets: list[str | None] = list(resources(call, region, ACCOUNT_DEFAULT)) or [None]
    try:
        request = _request_context(call, _params(call), region, ACCOUNT_DEFAULT)
    except Exception:  # noqa: BLE001 - a gap in the model: no keys (conditions on them fail)
        request = {}
    checks: list[tuple[str, dict[str, list[str]], list[str | None]]] = [(action, request, targets)]
    dependent = _tagging_on_create(call, request, targets)
    if dependent is not None:
        checks.append(dependent)
    for checked, base, on_targets in checks:
        for target in on_targets:
            context = {**base, **_resource_context(target, region, ACCOUNT_DEFAULT)}
            if not allowed(documents, checked, target, context):
                on = target or "*"
                code = ACCESS_DENIED_CODE.get(call.service, "AccessDeniedException")
                message = (f"User: {user} is not authorized to perform: {checked} on resource: "
                           f"{on} because no identity-based policy allows the {checked} action")
                if call.service == "ec2":
                    message = f"You are not authorized to perform this operation. {message}"
                return code, message
    return None
