"""CloudWatch DescribeAlarms pages its answer, as AWS does.

moto 5.2.5 answers every matching alarm at once and ignores MaxRecords and NextToken. AWS
(botocore monitoring 2010-08-01, DescribeAlarmsInput): MaxRecords 1-100 (default 50), NextToken
to go on, AlarmNames at most 100, and AlarmNamePrefix not together with AlarmNames; alarms come
in alphabetical order of name -> fixed here, so that a listing that reads one page only fails.
"""

from __future__ import annotations

from moto.cloudwatch.exceptions import InvalidParameterCombination, InvalidParameterValue
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

MAX_RECORDS = 100
DEFAULT_RECORDS = 50
MAX_NAMES = 100

_orig_describe_alarms = CloudWatchResponse.describe_alarms


def describe_alarms(self: CloudWatchResponse) -> ActionResult:
    names = self._get_param("AlarmNames", []) or []
    if len(names) > MAX_NAMES:
        raise InvalidParameterValue(
            f"The collection AlarmNames must not have a size greater than {MAX_NAMES}.")
    if names and self._get_param("AlarmNamePrefix"):
        raise InvalidParameterCombination(
            "AlarmNamePrefix and AlarmNames cannot be specified together.")
    size = self._get_param("MaxRecords")
    size = DEFAULT_RECORDS if size in (None, "") else int(size)
    if not 1 <= size <= MAX_RECORDS:
        raise InvalidParameterValue(
            f"The value {size} for parameter MaxRecords is not in the range 1-{MAX_RECORDS}.")
    answer = _orig_describe_alarms(self)
    result = dict(answer.result)  # type: ignore[call-overload]
    metric = sorted(result.get("MetricAlarms", []), key=lambda a: a.name)
    composite = sorted(result.get("CompositeAlarms", []), key=lambda a: a.name)
    everything = [("m", a) for a in metric] + [("c", a) for a in composite]
    start = int(self._get_param("NextToken") or 0)
    page = everything[start:start + size]
    result["MetricAlarms"] = [a for kind, a in page if kind == "m"]
    result["CompositeAlarms"] = [a for kind, a in page if kind == "c"]
    if start + size < len(everything):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


def install() -> None:
    CloudWatchResponse.describe_alarms = describe_alarms  # type: ignore[method-assign]
