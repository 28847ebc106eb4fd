"""The Resource Groups Tagging API answers for Application Auto Scaling scalable targets.

moto 5.2.5's GetResources knows no Application Auto Scaling resource (its backend is no tagging
participant, and the targets' tags live in this emulator's own store, misc.py). AWS covers them:
the resource type `application-autoscaling:scalable-target` (ARN
arn:aws:application-autoscaling:REGION:ACCOUNT:scalable-target/ID) is among the "services and
resource types" of the AWS Organizations user guide's tag policy page (reporting, which the
Resource Groups Tagging API serves), and GetResources "returns all the tagged or previously tagged
resources" (botocore resourcegroupstaggingapi 2017-01-26) -> a target that carries tags, or carried
some that were all removed, is answered here with its tags; one never tagged is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.core.resource_tagging import TaggedResource, make_tag_matcher, match_resource_type
from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend

RESOURCE_TYPE = "application-autoscaling:scalable-target"

_orig_generator = ResourceGroupsTaggingAPIBackend._get_resources_generator


def _scalable_targets(account: str, region: str) -> Iterator[TaggedResource]:
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    from .misc import _aas_tags

    if account not in applicationautoscaling_backends or \
            region not in applicationautoscaling_backends[account]:
        return
    backend = applicationautoscaling_backends[account][region]
    tags = _aas_tags(backend)
    for by_id in backend.targets.values():
        for target in by_id.values():
            if target.arn in tags:  # tagged now or once
                yield TaggedResource(arn=target.arn, tags=dict(tags[target.arn]),
                                     resource_type=RESOURCE_TYPE)


def _get_resources_generator(self: ResourceGroupsTaggingAPIBackend,
                             tag_filters: list[dict[str, Any]] | None = None,
                             resource_type_filters: list[str] | None = None,
                             resource_arn_list: list[str] | None = None) -> Iterator[TaggedResource]:
    yield from _orig_generator(self, tag_filters, resource_type_filters, resource_arn_list)
    matches = make_tag_matcher(tag_filters)
    for r in _scalable_targets(self.account_id, self.region_name):
        if match_resource_type(r.resource_type, resource_type_filters) and matches(r.tags) and \
                (not resource_arn_list or r.arn in resource_arn_list):
            yield r


def install() -> None:
    ResourceGroupsTaggingAPIBackend._get_resources_generator = _get_resources_generator  # type: ignore[method-assign]
