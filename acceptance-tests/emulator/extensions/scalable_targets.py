"""Application Auto Scaling DescribeScalableTargets: its limits and its pages.

moto 5.2.5 takes any number of ResourceIds and any MaxResults, and its NextToken is the index of
the page's last target (`len(page) - 1`), so a third page repeats the second forever. AWS
(botocore's application-autoscaling model, DescribeScalableTargetsRequest): ResourceIds is a list
of at most 50 (`ResourceIdsMaxLen1600`, max 50); MaxResults "can be between 1 and 50. The default
value is 50", with a NextToken while more remain -> refused beyond those (ValidationException)
and paged by offset here.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

from .paging import page_of

RESOURCE_IDS_MAX = 50
PAGE_MAX = 50


def describe_scalable_targets(self: ApplicationAutoScalingResponse) -> str:
    from moto.applicationautoscaling.responses import _build_target

    self._validate_params()
    ids = self._get_param("ResourceIds")
    page = self._get_param("MaxResults")
    if ids is not None and len(ids) > RESOURCE_IDS_MAX:
        raise AWSValidationException(
            "1 validation error detected: Value at 'resourceIds' failed to satisfy constraint: "
            f"Member must have length less than or equal to {RESOURCE_IDS_MAX}")
    if page is not None and not 1 <= int(page) <= PAGE_MAX:
        raise AWSValidationException(
            f"1 validation error detected: Value '{page}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value between 1 and {PAGE_MAX}")
    page = int(page) if page is not None else PAGE_MAX
    found = self.applicationautoscaling_backend.describe_scalable_targets(
        self._get_param("ServiceNamespace"), ids, self._get_param("ScalableDimension"))
    listed, next_token = page_of(found, self._get_param("NextToken"), page, _refuse)
    answer: dict[str, Any] = {"ScalableTargets": [_build_target(t) for t in listed]}
    if next_token is not None:
        answer["NextToken"] = next_token
    return json.dumps(answer)


def _refuse(message: str) -> NoReturn:
    raise AWSValidationException(message)


def install() -> None:
    ApplicationAutoScalingResponse.describe_scalable_targets = (  # type: ignore[method-assign]
        describe_scalable_targets)
