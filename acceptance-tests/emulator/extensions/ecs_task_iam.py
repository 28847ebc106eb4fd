"""ECS starts a task only when its execution role may read every secret the task definition names.

AWS (Amazon ECS Developer Guide, "Amazon ECS task execution IAM role" / "Required IAM permissions
for Amazon ECS secrets", and "Troubleshoot Amazon ECS ResourceInitializationError errors"): before a
task's containers start, ECS fetches each `secrets[].valueFrom` with the task's execution role:
`secretsmanager:GetSecretValue` on a Secrets Manager secret, `ssm:GetParameters` on an SSM
parameter. When the role may not, the task stops with stoppedReason
`ResourceInitializationError: unable to pull secrets or registry auth: ...`, naming the role, the
action and the secret; every task of the deployment fails the same way, so the deployment circuit
breaker stops (or rolls back) the deployment.

Modelled: when a service deployment starts (ecs_deployments.start), the execution role of the task
definition it deploys is looked up in moto's IAM. When it exists, its inline and attached policies
are evaluated with moto's own IAM policy evaluation (access_control.IAMPolicy: an explicit Deny
wins, otherwise an Allow is needed) for each secret; the first one not allowed fails the
deployment with AWS's message. A role moto has no record of (the placeholder ARNs most tests pass,
which no test creates) is not judged: nothing would be known about its permissions.
"""

from __future__ import annotations

from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends

ACTION_OF_SERVICE = {"secretsmanager": "secretsmanager:GetSecretValue", "ssm": "ssm:GetParameters"}


def _policies(role: Any, backend: Any) -> list[IAMPolicy]:
    out = [IAMPolicy(doc) for doc in role.policies.values()]
    for arn in role.managed_policies:
        policy = backend.managed_policies.get(arn) or role.managed_policies[arn]
        out.append(IAMPolicy(policy))
    return out


def _secret_resource(value_from: str) -> str:
    """The secret itself: a Secrets Manager valueFrom may add `:json-key:stage:version`."""
    parts = value_from.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 and parts[2] == "secretsmanager" else value_from


def secret_denied(task_definition: Any, account_id: str, partition: str = "aws") -> str | None:
    """AWS's stoppedReason when the execution role of `task_definition` may not read one of its
    secrets; None when it may (or the role is unknown to the emulator)."""
    role_arn = getattr(task_definition, "execution_role_arn", None)
    if not role_arn:
        return None
    backend = iam_backends[account_id][partition]
    try:
        role = backend.get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto raises IAMNotFoundException; unknown: not judged
        return None
    policies = _policies(role, backend)
    for container in task_definition.container_definitions:
        for secret in container.get("secrets") or []:
            value_from = secret.get("valueFrom", "")
            service = value_from.split(":")[2] if value_from.count(":") >= 5 else "ssm"
            action = ACTION_OF_SERVICE.get(service)
            if action is None:
                continue
            resource = _secret_resource(value_from)
            results = [p.is_action_permitted(action, resource) for p in policies]
            if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
                where = "asm" if service == "secretsmanager" else "ssm"
                return (
                    "ResourceInitializationError: unable to pull secrets or registry auth: "
                    f"execution resource retrieval failed: unable to retrieve secret from {where}: "
                    f"AccessDeniedException: User: arn:{partition}:sts::{account_id}:assumed-role/"
                    f"{role.name}/task is not authorized to perform: {action} on resource: "
                    f"{resource} because no identity-based policy allows the {action} action"
                )
    return None


# ------------------------------------------------------------------ IAM propagation
#
# IAM is eventually consistent (IAM User Guide, "Changes that I make are not always immediately
# visible"): a role just created may not yet be usable by ECS, which then refuses a task
# definition naming it with `ClientException: Role is not valid`. Modelled without a clock: the
# first RegisterTaskDefinition that names a role moto's IAM holds and ECS has not seen yet (by the
# role's unique id, so a role deleted and made again is new again) is refused that way; the next
# succeeds. A provider that does not retry that refusal fails here as it can on AWS.

_SEEN_ROLE_IDS: set[str] = set()


def check_roles_visible(account_id: str, role_arns: list[str | None], partition: str = "aws") -> None:
    from moto.ecs.exceptions import EcsClientException

    backend = iam_backends[account_id][partition]
    for arn in role_arns:
        if not arn:
            continue
        try:
            role = backend.get_role_by_arn(arn)
        except Exception:  # noqa: BLE001 - a role IAM does not hold: not judged (placeholders)
            continue
        if role.id not in _SEEN_ROLE_IDS:
            _SEEN_ROLE_IDS.add(role.id)
            raise EcsClientException("Role is not valid")
