"""Resource Groups Tagging API fixes for moto 5.2.5.

GetResources with ResourceARNList: moto pages the answer (its default TagsPerPage of 100 tags
cuts a list of 100 tagged ARNs into several pages) and accepts the filters and pagination
parameters beside it. AWS (botocore resourcegroupstaggingapi 2017-01-26, ResourceARNList):
at most 100 ARNs; TagFilters, ResourceTypeFilters, ResourcesPerPage, TagsPerPage and
PaginationToken may not be given with it (InvalidParameterException); an ARN it does not know
is left out of the answer, and the answer is one page -> fixed here.
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

MAX_ARNS = 100
_NOT_WITH_ARN_LIST = ("TagFilters", "ResourceTypeFilters", "ResourcesPerPage", "TagsPerPage",
                      "PaginationToken")

_orig_get_resources = ResourceGroupsTaggingAPIResponse.get_resources


def get_resources(self: ResourceGroupsTaggingAPIResponse) -> ActionResult:
    arns = self._get_param("ResourceARNList", [])
    if not arns:
        return _orig_get_resources(self)
    beside = [p for p in _NOT_WITH_ARN_LIST if self._get_param(p) not in (None, [], "")]
    if beside:
        raise ResourceGroupsTaggingAPIError(
            "InvalidParameterException",
            f"ResourceARNList cannot be specified together with {', '.join(beside)}")
    if len(arns) > MAX_ARNS:
        raise ResourceGroupsTaggingAPIError(
            "InvalidParameterException",
            f"1 validation error detected: Value at 'resourceARNList' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_ARNS}")
    wanted = set(arns)
    found = [r for r in self.backend._get_resources_generator() if r.arn in wanted]
    return ActionResult({
        "ResourceTagMappingList": [
            {"ResourceARN": r.arn, "Tags": [{"Key": k, "Value": v} for k, v in r.tags.items()]}
            for r in found
        ],
    })


def install() -> None:
    ResourceGroupsTaggingAPIResponse.get_resources = get_resources  # type: ignore[method-assign]
