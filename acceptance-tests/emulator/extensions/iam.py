"""IAM GetAccountAuthorizationDetails as AWS answers it, for moto 5.2.5.

AWS (IAM API Reference, GetAccountAuthorizationDetails; botocore iam 2010-05-08):

* the answer is paged: `MaxItems` (1-1000, default 100) items at most, counted over every list
  the answer carries; `IsTruncated` true and an opaque `Marker` when more follow, which the next
  call passes back. moto ignores both and answers everything at once with `IsTruncated` false,
  so a client that did not page would pass against moto and miss roles on AWS -> paged here;
* `Filter` keeps only the entity types named (`User | Role | Group | LocalManagedPolicy |
  AWSManagedPolicy`); an answer with `Filter=Role` carries roles only. moto does this; a value
  outside the enum is a ValidationError (moto accepted it) -> checked here;
* policy documents are URL-encoded (RFC 3986), the roles' inline policies (`RolePolicyList`) and
  their trust policies (`AssumeRolePolicyDocument`) alike. moto encodes the inline ones but sends
  the trust policy plainly -> encoded here, as its GetRole already does.

What moto gets right and is kept: each role's path, tags, `RolePolicyList`,
`AttachedManagedPolicies`, `InstanceProfileList` and `RoleLastUsed`.
"""

from __future__ import annotations

import base64
from typing import Any

from moto.core.responses import ActionResult
from moto.core.serialize import url_encode
from moto.iam.exceptions import ValidationError
from moto.iam.responses import IamResponse

DEFAULT_ITEMS = 100
MAX_ITEMS = 1000
ENTITY_TYPES = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")
# The answer's lists, in the order the pages walk them.
LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


def _marker(offset: int) -> str:
    return base64.b64encode(f"matbakh-gaad:{offset}".encode()).decode()


def _offset(marker: str | None) -> int:
    if not marker:
        return 0
    try:
        text = base64.b64decode(marker.encode(), validate=True).decode()
        prefix, _, number = text.partition(":")
        if prefix == "matbakh-gaad" and number.isdigit():
            return int(number)
    except ValueError:
        pass
    raise ValidationError("Invalid Marker.")


def get_account_authorization_details(self: IamResponse) -> ActionResult:
    wanted = self._get_param("Filter", []) or []
    bad = [f for f in wanted if f not in ENTITY_TYPES]
    if bad:
        raise ValidationError(
            f"1 validation error detected: Value '{bad}' at 'filter' failed to satisfy constraint: "
            f"Member must satisfy constraint: [Member must satisfy enum value set: "
            f"[{', '.join(ENTITY_TYPES)}]]")
    max_items = self._get_param("MaxItems")
    max_items = DEFAULT_ITEMS if max_items in (None, "") else int(max_items)
    if not 1 <= max_items <= MAX_ITEMS:
        raise ValidationError(
            f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy "
            f"constraint: Member must have value between 1 and {MAX_ITEMS}")
    start = _offset(self._get_param("Marker"))
    details = self.backend.get_account_authorization_details(wanted)
    everything: list[tuple[str, Any]] = [
        *(("UserDetailList", u) for u in details["users"]),
        *(("GroupDetailList", g) for g in details["groups"]),
        *(("RoleDetailList", r) for r in details["roles"]),
        *(("Policies", p) for p in details["managed_policies"]),
    ]
    page = everything[start:start + max_items]
    result: dict[str, Any] = {name: [item for kind, item in page if kind == name] for name in LISTS}
    truncated = start + max_items < len(everything)
    result["IsTruncated"] = truncated
    if truncated:
        result["Marker"] = _marker(start + max_items)
    return ActionResult(result)


def install() -> None:
    IamResponse.get_account_authorization_details = get_account_authorization_details  # type: ignore[method-assign]
    IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER = {
        **IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER,
        "GetAccountAuthorizationDetailsResponse.RoleDetailList.RoleDetail.AssumeRolePolicyDocument":
            url_encode,
    }
