"""CloudWatch Logs and Application Auto Scaling fixes for moto 5.2.5.

Logs: PutRetentionPolicy accepts any number of days (AWS: a fixed list) -> validated here.
DescribeLogGroups ignores logGroupIdentifiers (AWS: at most 50 names, only with
includeLinkedAccounts beside them, answers those groups) and answers every group -> fixed.
Application Auto Scaling: ListTagsForResource / TagResource / UntagResource are not implemented
and RegisterScalableTarget's Tags are dropped -> implemented here (Tags tag a target the call
creates; on an existing one they are ignored, as botocore's model says); DeregisterScalableTarget leaves
the target's scaling policies behind (AWS deletes them with it) -> fixed.
"""

from __future__ import annotations

import json
from typing import Any

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError
from moto.logs.exceptions import InvalidParameterException
from moto.logs.responses import LogsResponse

RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653}

_orig_put_retention_policy = LogsResponse.put_retention_policy


def put_retention_policy(self: LogsResponse) -> str:
    days = self._get_param("retentionInDays")
    if days not in RETENTION_DAYS:
        raise InvalidParameterException(
            msg=f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: {sorted(RETENTION_DAYS)}")
    return _orig_put_retention_policy(self)


_orig_describe_log_groups = LogsResponse.describe_log_groups
LOG_GROUP_IDENTIFIERS_MAX = 50


def describe_log_groups(self: LogsResponse) -> str:
    identifiers = self._get_param("logGroupIdentifiers")
    if identifiers is None:
        return _orig_describe_log_groups(self)
    if not 1 <= len(identifiers) <= LOG_GROUP_IDENTIFIERS_MAX:
        raise InvalidParameterException(
            msg="1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy "
                f"constraint: Member must have length between 1 and {LOG_GROUP_IDENTIFIERS_MAX}")
    if self._get_param("logGroupNamePrefix") or self._get_param("logGroupNamePattern"):
        raise InvalidParameterException(
            msg="logGroupIdentifiers cannot be specified with logGroupNamePrefix or "
                "logGroupNamePattern")
    groups = self.logs_backend.groups
    # Names (this account) or ARNs without the trailing ':*'.
    names = {i.split(":log-group:", 1)[-1] for i in identifiers}
    found = sorted((g for n, g in groups.items() if n in names), key=lambda g: g.name)
    return json.dumps({"logGroups": [g.to_describe_dict() for g in found]})


# ----------------------------------------------------------------------------- Application Auto Scaling


class AASResourceNotFound(JsonRESTError):
    def __init__(self, arn: str) -> None:
        super().__init__("ResourceNotFoundException", f"No scalable target found for {arn}.")


def _aas_tags(backend: Any) -> dict[str, dict[str, str]]:
    st = backend.__dict__.get("_matbakh_tags")
    if st is None:
        st = {}
        backend.__dict__["_matbakh_tags"] = st
    return st


def _target_arns(backend: Any) -> set[str]:
    return {t.arn for dim in backend.targets.values() for t in dim.values()}


_orig_register = ApplicationAutoScalingResponse.register_scalable_target
_orig_deregister = ApplicationAutoScalingResponse.deregister_scalable_target


def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
    # botocore's model (RegisterScalableTarget.Tags): "Use this parameter to tag the scalable
    # target when it is created. To tag an existing scalable target, use the TagResource
    # operation." -> Tags on a register that updates an existing target are ignored.
    backend = self.applicationautoscaling_backend
    existed = self._get_param("ResourceId") in backend.targets.get(
        self._get_param("ScalableDimension"), {})
    out = _orig_register(self)
    tags = self._get_param("Tags")
    if tags and not existed:
        arn = json.loads(out)["ScalableTargetARN"]
        _aas_tags(self.applicationautoscaling_backend).setdefault(arn, {}).update(tags)
    return out


def deregister_scalable_target(self: ApplicationAutoScalingResponse) -> str:
    backend = self.applicationautoscaling_backend
    ns, rid, dim = (self._get_param("ServiceNamespace"), self._get_param("ResourceId"),
                    self._get_param("ScalableDimension"))
    target = backend.targets.get(dim, {}).get(rid)
    out = _orig_deregister(self)
    for key, policy in list(backend.policies.items()):
        if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (ns, rid, dim):
            try:
                policy.delete_alarms(backend.account_id, backend.region_name)
            except Exception:  # noqa: BLE001
                pass
            del backend.policies[key]
    if target is not None:
        _aas_tags(backend).pop(target.arn, None)
    return out


def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
    backend = self.applicationautoscaling_backend
    arn = self._get_param("ResourceARN")
    if arn not in _target_arns(backend):
        raise AASResourceNotFound(arn)
    return json.dumps({"Tags": _aas_tags(backend).get(arn, {})})


def tag_resource(self: ApplicationAutoScalingResponse) -> str:
    backend = self.applicationautoscaling_backend
    arn = self._get_param("ResourceARN")
    if arn not in _target_arns(backend):
        raise AASResourceNotFound(arn)
    tags = self._get_param("Tags") or {}
    if not isinstance(tags, dict):
        raise AWSValidationException("Tags must be a map")
    _aas_tags(backend).setdefault(arn, {}).update(tags)
    return "{}"


def untag_resource(self: ApplicationAutoScalingResponse) -> str:
    backend = self.applicationautoscaling_backend
    arn = self._get_param("ResourceARN")
    if arn not in _target_arns(backend):
        raise AASResourceNotFound(arn)
    current = _aas_tags(backend).setdefault(arn, {})
    for k in self._get_param("TagKeys") or []:
        current.pop(k, None)
    return "{}"


def install() -> None:
    LogsResponse.put_retention_policy = put_retention_policy  # type: ignore[method-assign]
    LogsResponse.describe_log_groups = describe_log_groups  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.deregister_scalable_target = deregister_scalable_target  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.tag_resource = tag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.untag_resource = untag_resource  # type: ignore[attr-defined]
