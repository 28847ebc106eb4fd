"""Resource Groups Tagging API fixes for moto 5.2.5.

GetResources with ResourceARNList: moto pages the answer (its default TagsPerPage of 100 tags
cuts a list of 100 tagged ARNs into several pages) and accepts the filters and pagination
parameters beside it. AWS (botocore resourcegroupstaggingapi 2017-01-26, ResourceARNList):
at most 100 ARNs; TagFilters, ResourceTypeFilters, ResourcesPerPage, TagsPerPage and
PaginationToken may not be given with it (InvalidParameterException); an ARN it does not know
is left out of the answer, and the answer is one page -> fixed here.

GetResources by filters: moto cuts pages at 100 tags when TagsPerPage is not given; AWS
recommends ResourcesPerPage (1-100) instead of TagsPerPage, which only limits a page when given
-> without it, a page holds up to ResourcesPerPage resources whatever their tags. TagFilters take
at most 50 keys (botocore's TagFilterList). moto files log groups under the resource type
`logs:loggroup`; AWS's type is the string in the ARN, `logs:log-group` (botocore's
ResourceTypeFilters: "the same as that embedded in a resource's ARN") -> fixed here.
"""

from __future__ import annotations

from collections.abc import Iterator

from moto.core.resource_tagging import TaggedResource
from moto.core.responses import ActionResult
from moto.logs.models import LogsBackend
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

MAX_ARNS = 100
MAX_TAG_FILTERS = 50
# The most tags a page takes (botocore's TagsPerPage: 100-500); without TagsPerPage the page is
# bounded by ResourcesPerPage alone.
UNBOUNDED_TAGS = 10**9
_NOT_WITH_ARN_LIST = ("TagFilters", "ResourceTypeFilters", "ResourcesPerPage", "TagsPerPage",
                      "PaginationToken")

_orig_get_resources = ResourceGroupsTaggingAPIResponse.get_resources


def get_resources(self: ResourceGroupsTaggingAPIResponse) -> ActionResult:
    arns = self._get_param("ResourceARNList", [])
    if not arns:
        if len(self._get_param("TagFilters", []) or []) > MAX_TAG_FILTERS:
            raise ResourceGroupsTaggingAPIError(
                "InvalidParameterException",
                f"TagFilters may hold at most {MAX_TAG_FILTERS} keys")
        if self._get_param("TagsPerPage") in (None, ""):
            return _without_tag_bound(self)
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


def _without_tag_bound(self: ResourceGroupsTaggingAPIResponse) -> ActionResult:
    """moto's GetResources with no bound on tags a page (TagsPerPage was not given)."""
    per_page = self._get_int_param("ResourcesPerPage", 50)
    if per_page not in range(1, 101):
        raise ResourceGroupsTaggingAPIError("InvalidParameterException",
                                            "ResourcesPerPage must be between 1 and 100")
    token, found = self.backend.get_resources(
        pagination_token=self._get_param("PaginationToken"),
        tag_filters=self._get_param("TagFilters", []),
        resources_per_page=per_page,
        tags_per_page=UNBOUNDED_TAGS,
        resource_type_filters=self._get_param("ResourceTypeFilters", []),
    )
    return ActionResult({
        "ResourceTagMappingList": [
            {"ResourceARN": r.arn, "Tags": [{"Key": k, "Value": v} for k, v in r.tags.items()]}
            for r in found
        ],
        "PaginationToken": token,
    })


_orig_logs_tagged = LogsBackend.iter_tagged_resources


def _logs_tagged(self: LogsBackend) -> Iterator[TaggedResource]:
    for r in _orig_logs_tagged(self):
        if r.resource_type == "logs:loggroup":
            r.resource_type = "logs:log-group"
        yield r


def install() -> None:
    ResourceGroupsTaggingAPIResponse.get_resources = get_resources  # type: ignore[method-assign]
    LogsBackend.iter_tagged_resources = _logs_tagged  # type: ignore[method-assign]
