"""AWS Budgets additions to moto 5.2.5, after the AWS Budgets API Reference and botocore's model
(budgets 2016-10-20), for what the provider's budget needs.

moto serves CreateBudget (notifications with subscribers), DescribeBudget(s), DeleteBudget,
Create/DeleteNotification and DescribeNotificationsForBudget. Added or fixed here:
* UpdateBudget: missing; replaces the budget's definition (limit, filters, period) and keeps its
  notifications, as the API reference says; NotFoundException for a budget that does not exist.
* DescribeSubscribersForNotification: missing; the subscribers stored with the notification.
* ResourceTags on CreateBudget were dropped; TagResource, UntagResource and ListTagsForResource
  (by the budget's ARN, arn:aws:budgets::ACCOUNT:budget/NAME) were missing.
* DescribeBudget returned FilterExpression always; AWS returns it only with
  ShowFilterExpression = true.
* A notification is identified by its type, comparison operator, threshold and threshold type
  (moto compared whole dicts, so one read back with NotificationState never matched): Delete of an
  unknown one and DescribeSubscribersForNotification of one answer NotFoundException, a second
  CreateNotification of the same one DuplicateRecordException.
* DescribeNotificationsForBudget of a missing budget crashed (KeyError): NotFoundException.
"""

from __future__ import annotations

import json
from typing import Any

from moto.budgets.exceptions import DuplicateRecordException, NotFoundException
from moto.budgets.models import Notification
from moto.budgets.responses import BudgetsResponse
from moto.core.utils import unix_time


def _tags(backend: Any) -> dict[str, dict[str, str]]:
    st = backend.__dict__.get("_matbakh_tags")
    if st is None:
        st = {}
        backend.__dict__["_matbakh_tags"] = st
    return st


def _budget(self: BudgetsResponse, account_id: str, name: str, what: str) -> Any:
    budget = self.backend.budgets[account_id].get(name)
    if budget is None:
        raise NotFoundException(f"Unable to {what}: {name} - the budget doesn't exist.")
    return budget


def _key(details: dict[str, Any]) -> tuple[Any, ...]:
    return (details.get("NotificationType"), details.get("ComparisonOperator"),
            float(details.get("Threshold", 0)), details.get("ThresholdType", "PERCENTAGE"))


def _find(budget: Any, details: dict[str, Any]) -> Notification | None:
    return next((n for n in budget.notifications if _key(n.details) == _key(details)), None)


def _arn_parts(arn: str) -> tuple[str, str]:
    prefix = "arn:aws:budgets::"
    if not arn.startswith(prefix) or ":budget/" not in arn:
        raise NotFoundException(f"Unable to find resource {arn}")
    account, name = arn[len(prefix):].split(":budget/", 1)
    return account, name


_orig_create_budget = BudgetsResponse.create_budget
_orig_describe_budget = BudgetsResponse.describe_budget
_orig_delete_budget = BudgetsResponse.delete_budget


def create_budget(self: BudgetsResponse) -> str:
    out = _orig_create_budget(self)
    account_id = self._get_param("AccountId")
    name = self._get_param("Budget")["BudgetName"]
    tags = {t["Key"]: t["Value"] for t in self._get_param("ResourceTags", []) or []}
    _tags(self.backend)[f"arn:aws:budgets::{account_id}:budget/{name}"] = tags
    return out


def describe_budget(self: BudgetsResponse) -> str:
    out = json.loads(_orig_describe_budget(self))
    if not self._get_param("ShowFilterExpression"):
        out["Budget"].pop("FilterExpression", None)
    return json.dumps(out)


def delete_budget(self: BudgetsResponse) -> str:
    out = _orig_delete_budget(self)
    account_id = self._get_param("AccountId")
    name = self._get_param("BudgetName")
    _tags(self.backend).pop(f"arn:aws:budgets::{account_id}:budget/{name}", None)
    return out


def update_budget(self: BudgetsResponse) -> str:
    account_id = self._get_param("AccountId")
    new = self._get_param("NewBudget")
    budget = _budget(self, account_id, new["BudgetName"], "update budget")
    kept = {k: v for k, v in budget.budget.items() if k in ("TimePeriod",)}
    budget.budget = {**kept, **new, "LastUpdatedTime": unix_time()}
    return json.dumps({})


def create_notification(self: BudgetsResponse) -> str:
    account_id = self._get_param("AccountId")
    name = self._get_param("BudgetName")
    budget = _budget(self, account_id, name, "create notification")
    details = self._get_param("Notification")
    if _find(budget, details) is not None:
        raise DuplicateRecordException(record_type="notification", record_name=name)
    budget.add_notification(details=details, subscribers=self._get_param("Subscribers"))
    return json.dumps({})


def delete_notification(self: BudgetsResponse) -> str:
    account_id = self._get_param("AccountId")
    name = self._get_param("BudgetName")
    budget = _budget(self, account_id, name, "delete notification")
    found = _find(budget, self._get_param("Notification"))
    if found is None:
        raise NotFoundException(f"Unable to delete notification: {name} - the notification doesn't exist.")
    budget.notifications.remove(found)
    return json.dumps({})


def describe_notifications_for_budget(self: BudgetsResponse) -> str:
    account_id = self._get_param("AccountId")
    name = self._get_param("BudgetName")
    budget = _budget(self, account_id, name, "get notifications")
    return json.dumps({"Notifications": [n.details for n in budget.notifications]})


def describe_subscribers_for_notification(self: BudgetsResponse) -> str:
    account_id = self._get_param("AccountId")
    name = self._get_param("BudgetName")
    budget = _budget(self, account_id, name, "get subscribers")
    found = _find(budget, self._get_param("Notification"))
    if found is None:
        raise NotFoundException(f"Unable to get subscribers: {name} - the notification doesn't exist.")
    return json.dumps({"Subscribers": found.subscribers})


def tag_resource(self: BudgetsResponse) -> str:
    arn = self._get_param("ResourceARN")
    account_id, name = _arn_parts(arn)
    _budget(self, account_id, name, "tag resource")
    tags = _tags(self.backend).setdefault(arn, {})
    tags.update({t["Key"]: t["Value"] for t in self._get_param("ResourceTags", [])})
    return json.dumps({})


def untag_resource(self: BudgetsResponse) -> str:
    arn = self._get_param("ResourceARN")
    account_id, name = _arn_parts(arn)
    _budget(self, account_id, name, "untag resource")
    tags = _tags(self.backend).setdefault(arn, {})
    for key in self._get_param("ResourceTagKeys", []):
        tags.pop(key, None)
    return json.dumps({})


def list_tags_for_resource(self: BudgetsResponse) -> str:
    arn = self._get_param("ResourceARN")
    account_id, name = _arn_parts(arn)
    _budget(self, account_id, name, "list tags")
    tags = _tags(self.backend).get(arn, {})
    return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]})


def install() -> None:
    BudgetsResponse.create_budget = create_budget  # type: ignore[method-assign]
    BudgetsResponse.describe_budget = describe_budget  # type: ignore[method-assign]
    BudgetsResponse.delete_budget = delete_budget  # type: ignore[method-assign]
    BudgetsResponse.create_notification = create_notification  # type: ignore[method-assign]
    BudgetsResponse.delete_notification = delete_notification  # type: ignore[method-assign]
    BudgetsResponse.describe_notifications_for_budget = describe_notifications_for_budget  # type: ignore[method-assign]
    BudgetsResponse.update_budget = update_budget  # type: ignore[attr-defined]
    BudgetsResponse.describe_subscribers_for_notification = describe_subscribers_for_notification  # type: ignore[attr-defined]
    BudgetsResponse.tag_resource = tag_resource  # type: ignore[attr-defined]
    BudgetsResponse.untag_resource = untag_resource  # type: ignore[attr-defined]
    BudgetsResponse.list_tags_for_resource = list_tags_for_resource  # type: ignore[attr-defined]
