"""EC2 DescribeSecurityGroups pages its answer, as AWS does.

moto 5.2.5 answers every matching group at once and ignores MaxResults and NextToken. AWS
(botocore ec2 2016-11-15, DescribeSecurityGroupsRequest): MaxResults 5-1000 ("If this parameter is
not specified, then all items are returned"), NextToken to go on -> fixed here, so that a listing
that reads one page only fails. Groups come in the order of their ids.
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.responses.security_groups import SecurityGroups

from .paging import page_of

MIN_RESULTS, MAX_RESULTS = 5, 1000

_orig_describe_security_groups = SecurityGroups.describe_security_groups


def _refuse(message: str):  # type: ignore[no-untyped-def]
    raise EC2ClientError("InvalidParameterValue", message)


def describe_security_groups(self: SecurityGroups) -> ActionResult:
    size = self._get_param("MaxResults")
    answer = _orig_describe_security_groups(self)
    if size in (None, ""):
        return answer
    size = int(size)
    if not MIN_RESULTS <= size <= MAX_RESULTS:
        _refuse(f"Value ( {size} ) for parameter maxResults is invalid. "
                f"Expecting a value between {MIN_RESULTS} and {MAX_RESULTS}.")
    result = dict(answer.result)  # type: ignore[call-overload]
    groups = sorted(result.get("SecurityGroups", []), key=lambda g: g.id)
    page, token = page_of(groups, self._get_param("NextToken"), size, _refuse)
    result["SecurityGroups"] = list(page)
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def install() -> None:
    SecurityGroups.describe_security_groups = describe_security_groups  # type: ignore[method-assign]
