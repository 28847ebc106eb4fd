"""CloudWatch dashboards: global to the account, and taggable (moto 5.2.5 gets both wrong).

AWS: "All dashboards in your account are global, not region-specific." A dashboard put through
eu-central-1 is read, overwritten and deleted through us-east-1; its ARN carries no region
(`arn:aws:cloudwatch::ACCOUNT:dashboard/NAME`). moto keeps dashboards per regional backend, so two
regions each had their own dashboard of the same name. Here every regional CloudWatch backend
shares the dashboards (and their tags) of one home backend per account.

Dashboards are taggable: PutDashboard's `Tags` apply when it creates the dashboard (on an update
they are ignored, as the API reference says); TagResource / UntagResource / ListTagsForResource
accept the dashboard ARN. moto only tagged alarms (TagResource on anything else:
ResourceNotFoundException) and dropped PutDashboard's tags. Deleting a dashboard deletes its tags.
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.exceptions import ResourceNotFoundException
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.cloudwatch.utils import make_arn_for_dashboard

# Any region will do as the home of the account's dashboards; this is where AWS keeps them too.
HOME_REGION = "us-east-1"


def _home(backend: CloudWatchBackend) -> CloudWatchBackend:
    if backend.region_name == HOME_REGION:
        return backend
    return cloudwatch_backends[backend.account_id][HOME_REGION]


def _get_dashboards(self: CloudWatchBackend) -> dict[str, Any]:
    home = _home(self)
    return home.__dict__.setdefault("_matbakh_dashboards", {})


def _set_dashboards(self: CloudWatchBackend, value: dict[str, Any]) -> None:
    # moto's __init__ assigns an empty dict; only the home backend's store is ever used.
    if self.region_name == HOME_REGION:
        self.__dict__["_matbakh_dashboards"] = value


def _dashboard_arn(backend: CloudWatchBackend, name: str) -> str:
    return make_arn_for_dashboard(backend.account_id, backend.region_name, name)


def _dashboard_for_arn(backend: CloudWatchBackend, arn: str) -> Any | None:
    for d in backend.dashboards.values():
        if d.arn == arn:
            return d
    return None


def _is_dashboard_arn(arn: str) -> bool:
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "cloudwatch" and parts[5].startswith("dashboard/")


_orig_delete_dashboards = CloudWatchBackend.delete_dashboards
_orig_tag_resource = CloudWatchBackend.tag_resource
_orig_untag_resource = CloudWatchBackend.untag_resource
_orig_list_tags = CloudWatchBackend.list_tags_for_resource
_orig_put_dashboard_response = CloudWatchResponse.put_dashboard


def delete_dashboards(self: CloudWatchBackend, dashboards: list[str]) -> str | None:
    arns = [d.arn for name, d in self.dashboards.items() if name in set(dashboards)]
    error = _orig_delete_dashboards(self, dashboards)
    if error is None:
        tagger = _home(self).tagger
        for arn in arns:
            tagger.delete_all_tags_for_resource(arn)
    return error


def tag_resource(self: CloudWatchBackend, arn: str, tags: dict[str, str]) -> None:
    if not _is_dashboard_arn(arn):
        return _orig_tag_resource(self, arn, tags)
    if _dashboard_for_arn(self, arn) is None:
        raise ResourceNotFoundException
    tagger = _home(self).tagger
    tagger.tag_resource(arn, tagger.convert_dict_to_tags_input(tags))
    return None


def untag_resource(self: CloudWatchBackend, arn: str, tag_keys: list[str]) -> None:
    if not _is_dashboard_arn(arn):
        return _orig_untag_resource(self, arn, tag_keys)
    if _dashboard_for_arn(self, arn) is None:
        raise ResourceNotFoundException
    _home(self).tagger.untag_resource_using_names(arn, tag_keys)
    return None


def list_tags_for_resource(self: CloudWatchBackend, arn: str) -> dict[str, str]:
    if not _is_dashboard_arn(arn):
        return _orig_list_tags(self, arn)
    if _dashboard_for_arn(self, arn) is None:
        raise ResourceNotFoundException
    return _home(self).tagger.get_tag_dict_for_resource(arn)


def put_dashboard(self: CloudWatchResponse) -> Any:
    backend = self.cloudwatch_backend
    name = self._get_param("DashboardName")
    is_new = name not in backend.dashboards
    out = _orig_put_dashboard_response(self)
    tags = self._get_param("Tags") or []
    if is_new and tags and name in backend.dashboards:
        tagger = _home(backend).tagger
        tagger.tag_resource(_dashboard_arn(backend, name),
                            [{"Key": t["Key"], "Value": t.get("Value", "")} for t in tags])
    return out


def install() -> None:
    CloudWatchBackend.dashboards = property(_get_dashboards, _set_dashboards)  # type: ignore[assignment]
    CloudWatchBackend.delete_dashboards = delete_dashboards  # type: ignore[method-assign]
    CloudWatchBackend.tag_resource = tag_resource  # type: ignore[method-assign]
    CloudWatchBackend.untag_resource = untag_resource  # type: ignore[method-assign]
    CloudWatchBackend.list_tags_for_resource = list_tags_for_resource  # type: ignore[method-assign]
    CloudWatchResponse.put_dashboard = put_dashboard  # type: ignore[method-assign]
