"""Acceptance tests for issue #22: the platform's `budget` block (an AWS Budgets budget with an
actual and a forecasted alert per threshold), the platform's `estimated_monthly_cost` summed from
its microservices' estimates as AWS holds them, and the plan guard on microservice plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block
from tests.test_microservice import network

pytestmark = pytest.mark.budget

PLATFORM = "matbakh"
REGION = "eu-central-1"
BUDGET = f"matbakh-{PLATFORM}-{REGION}"
ACCOUNT = "123456789012"
EXEC_ROLE = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
TOPIC = "arn:aws:sns:eu-central-1:123456789012:budget-alerts"


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


def budget_block(limit, *, emails=("platform@example.com",), topic=None, thresholds=None,
                 guard=None) -> str:
    lines = [f"    monthly_limit = {json.dumps(limit)}"]
    if emails is not None:
        lines.append(f"    alert_emails = {json.dumps(list(emails))}")
    if topic:
        lines.append(f"    alert_topic_arn = {json.dumps(topic)}")
    if thresholds is not None:
        lines.append(f"    thresholds = {json.dumps(thresholds)}")
    if guard:
        lines.append(f"    plan_guard = {json.dumps(guard)}")
    return "  budget {\n" + "\n".join(lines) + "\n  }\n"


def service(net, name: str, cpu: int = 256, memory: int = 512) -> str:
    return (
        f'resource "matbakh_microservice" "{name}" {{\n'
        "  platform           = matbakh_platform.main.id\n"
        f'  name               = "{name}"\n'
        '  image              = "registry.example/app:1.0.0"\n'
        "  port               = 8080\n"
        f"  cpu                = {cpu}\n"
        f"  memory             = {memory}\n"
        "  desired_count      = 1\n"
        f"  subnet_ids         = {json.dumps(net['subnet_ids'])}\n"
        f"  security_group_ids = {json.dumps(net['security_group_ids'])}\n"
        f'  execution_role_arn = "{EXEC_ROLE}"\n'
        "}\n"
    )


def config(emulator, budget: str = "", services: str = "") -> dict[str, str]:
    return {"main.tf": (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, region=REGION)
        + 'resource "matbakh_platform" "main" {\n'
        + f'  name = "{PLATFORM}"\n'
        + budget
        + "}\n"
        + services
    )}


def budgets(emulator):
    return emulator.client("budgets", strict_shapes=False)


def notifications(emulator) -> dict[tuple[str, float], list[dict]]:
    """(type, threshold) -> subscribers of every notification of the platform's budget."""
    b = budgets(emulator)
    out = {}
    for n in b.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=BUDGET)["Notifications"]:
        subs = b.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName=BUDGET, Notification=n)["Subscribers"]
        out[(n["NotificationType"], n["Threshold"])] = sorted(
            (s["SubscriptionType"], s["Address"]) for s in subs)
    return out


def test_budget_lifecycle(emulator, tf):
    """Create with alerts at 80 and 95 % (actual and forecast), change the limit and the
    thresholds in place, see an out-of-band change as drift, destroy."""
    tf.write(config(emulator, budget_block(200)))
    first = tf.plan()
    assert "activate the cost allocation tag matbakh:platform" in first.stdout + first.stderr
    tf.apply()
    b = budgets(emulator)
    found = b.describe_budget(AccountId=ACCOUNT, BudgetName=BUDGET, ShowFilterExpression=True)["Budget"]
    assert float(found["BudgetLimit"]["Amount"]) == 200 and found["BudgetLimit"]["Unit"] == "USD"
    assert (found["BudgetType"], found["TimeUnit"]) == ("COST", "MONTHLY")
    assert found["FilterExpression"]["Tags"] == {
        "Key": "matbakh:platform", "Values": [PLATFORM], "MatchOptions": ["EQUALS"]}
    email = [("EMAIL", "platform@example.com")]
    assert notifications(emulator) == {
        ("ACTUAL", 80.0): email, ("ACTUAL", 95.0): email,
        ("FORECASTED", 80.0): email, ("FORECASTED", 95.0): email}
    arn = f"arn:aws:budgets::{ACCOUNT}:budget/{BUDGET}"
    tags = {t["Key"]: t["Value"] for t in b.list_tags_for_resource(ResourceARN=arn)["ResourceTags"]}
    assert tags["matbakh:owner"] == PLATFORM and len(tags["matbakh:owner-token"]) == 32
    assert tags["matbakh:plan-guard"] == "warn"
    platform = tf.resource("matbakh_platform.main")
    assert platform["budget_name"] == BUDGET
    assert platform["components"]["budget"] == arn
    assert platform["budget"][0]["thresholds"] == [80, 95]
    assert tf.plan().returncode == 0

    # A new limit and an SNS topic: in place, the same budget.
    tf.write(config(emulator, budget_block(300, topic=TOPIC)))
    plan = tf.plan()
    assert plan.returncode == 2 and "must be replaced" not in plan.stdout, plan.stdout
    assert "cost allocation tag" not in plan.stdout + plan.stderr, "said once, before the budget exists"
    assert "update in-place" in plan.stdout
    tf.apply()
    found = b.describe_budget(AccountId=ACCOUNT, BudgetName=BUDGET)["Budget"]
    assert float(found["BudgetLimit"]["Amount"]) == 300
    both = sorted(email + [("SNS", TOPIC)])
    found_alerts = notifications(emulator)
    assert len(found_alerts) == 4 and all(v == both for v in found_alerts.values()), found_alerts
    assert tf.plan().returncode == 0

    # Thresholds: three of them, six notifications.
    tf.write(config(emulator, budget_block(300, topic=TOPIC, thresholds=[50, 90, 100])))
    tf.apply()
    assert sorted(notifications(emulator)) == sorted(
        (kind, t) for kind in ("ACTUAL", "FORECASTED") for t in (50.0, 90.0, 100.0))
    assert tf.plan().returncode == 0

    # Changed outside Terraform: the plan shows the value AWS has and puts it back.
    new = dict(found)
    new["BudgetLimit"] = {"Amount": "999", "Unit": "USD"}
    for k in ("CalculatedSpend", "LastUpdatedTime"):
        new.pop(k, None)
    b.update_budget(AccountId=ACCOUNT, NewBudget=new)
    drift = tf.plan()
    assert drift.returncode == 2 and "999" in drift.stdout, drift.stdout
    tf.apply()
    found = b.describe_budget(AccountId=ACCOUNT, BudgetName=BUDGET)["Budget"]
    assert float(found["BudgetLimit"]["Amount"]) == 300

    # Removing the block deletes the budget; destroy leaves nothing.
    tf.write(config(emulator, budget_block(300, topic=TOPIC, thresholds=[50, 90, 100])))
    tf.destroy()
    assert b.describe_budgets(AccountId=ACCOUNT).get("Budgets", []) == []


def test_removing_the_budget_block_deletes_the_budget(emulator, tf):
    tf.write(config(emulator, budget_block(50, emails=None, topic=TOPIC)))
    tf.apply()
    assert len(budgets(emulator).describe_budgets(AccountId=ACCOUNT)["Budgets"]) == 1
    tf.write(config(emulator))
    tf.apply()
    assert budgets(emulator).describe_budgets(AccountId=ACCOUNT).get("Budgets", []) == []
    assert tf.resource("matbakh_platform.main")["budget_name"] is None
    assert tf.plan().returncode == 0


@pytest.mark.parametrize("block, attribute", [
    (budget_block(0), "monthly_limit"),
    (budget_block(-5), "monthly_limit"),
    (budget_block(100, emails=["not-an-email"]), "alert_emails"),
    (budget_block(100, emails=None, topic="arn:aws:sqs:eu-central-1:123456789012:q"), "alert_topic_arn"),
    (budget_block(100, emails=None), "alert_emails"),
    (budget_block(100, thresholds=[95, 80]), "thresholds"),
    (budget_block(100, thresholds=[0, 80]), "thresholds"),
    (budget_block(100, thresholds=[80, 1001]), "thresholds"),
    (budget_block(100, guard="strict"), "plan_guard"),
])
def test_bad_input_fails_at_plan_naming_the_attribute(emulator, tf, block, attribute):
    tf.write(config(emulator, block))
    result = tf.plan(check=False)
    assert result.returncode == 1
    assert f"budget.{attribute}" in result.stderr or f"budget[0].{attribute}" in result.stderr, result.stderr


def cost_of(tf, name: str) -> float:
    return float(tf.resource(f"matbakh_microservice.{name}")["estimated_monthly_cost"])


def test_platform_cost_is_the_sum_of_its_services_as_aws_holds_them(emulator, tf, tf_factory, net):
    """Two services, one in another state: the platform's estimated_monthly_cost counts both."""
    tf.write(config(emulator, budget_block(1000), service(net, "small")))
    tf.apply()
    small = cost_of(tf, "small")
    other = tf_factory("other")
    other.write({"main.tf": (
        REQUIRED_PROVIDERS + provider_block(emulator.endpoint, region=REGION)
        + 'data "matbakh_platform" "main" {\n  name = "matbakh"\n}\n'
        + service(net, "big", cpu=1024, memory=2048).replace(
            "matbakh_platform.main.id", "data.matbakh_platform.main.id"))})
    other.apply()
    big = float(other.resource("matbakh_microservice.big")["estimated_monthly_cost"])
    assert big > small > 0
    tf.apply(["-refresh-only"])
    assert tf.resource("matbakh_platform.main")["estimated_monthly_cost"] == pytest.approx(
        round(small + big, 2))
    ecs = emulator.client("ecs", strict_shapes=False)
    described = ecs.describe_services(cluster=PLATFORM, services=["big"], include=["TAGS"])
    tags = {t["key"]: t["value"] for t in described["services"][0]["tags"]}
    assert float(tags["matbakh:estimated-monthly-cost"]) == big
    assert tags["matbakh:platform"] == PLATFORM
    other.destroy()


def guard_setup(emulator, tf, net) -> float:
    """A platform with one service; returns that service's estimate (every service of these
    tests has the same size)."""
    tf.write(config(emulator, budget_block(10000), service(net, "one")))
    tf.apply()
    return cost_of(tf, "one")


def with_services(emulator, net, limit, guard, names) -> dict[str, str]:
    return config(emulator, budget_block(limit, guard=guard),
                  "".join(service(net, n) for n in names))


def test_guard_warns_past_the_first_threshold(emulator, tf, net):
    c = guard_setup(emulator, tf, net)
    # Two services: 2c is 90 % of the limit, past 80, within 95.
    tf.write(with_services(emulator, net, round(2 * c / 0.9, 2), "enforce", ["one", "two"]))
    plan = tf.plan()
    assert plan.returncode == 2
    out = plan.stdout + plan.stderr
    assert "Warning" in out and "past 80% of its" in out, out
    assert f"${2 * c:.2f}" in out


def test_guard_past_the_last_threshold_fails_under_enforce_before_any_change(emulator, tf, net):
    c = guard_setup(emulator, tf, net)
    limit = round(2 * c / 1.2, 2)  # two services: 120 %
    tf.write(with_services(emulator, net, limit, "enforce", ["one", "two"]))
    emulator.clear_requests()
    result = tf.apply(check=False)
    assert result.returncode == 1
    err = result.stderr
    assert "past 95% of its" in err, err
    for part in (f"${2 * c:.2f}", f"${limit:.2f}", "95% threshold", f"one ${c:.2f}", f"two ${c:.2f}"):
        assert part in err.replace("\n", " "), (part, err)
    changes = [r for r in emulator.requests()
               if r["service"] in ("ecs", "logs", "monitoring", "servicediscovery")
               and not r["operation"].startswith(("Describe", "List", "Get"))]
    # Nothing of the new service was created: the plan failed first.
    assert not [r for r in changes if "two" in r.get("body", "")], changes
    assert "matbakh_microservice.two" not in tf.state_list()

    # The same plan under warn is a warning and applies.
    tf.write(with_services(emulator, net, limit, "warn", ["one", "two"]))
    applied = tf.apply()
    assert "past 95% of its" in applied.stdout + applied.stderr
    # A plan that lowers the cost never fails, even under enforce past the last threshold.
    smaller = with_services(emulator, net, limit, "enforce", ["one", "two"])
    smaller["main.tf"] = smaller["main.tf"].replace(
        'resource "matbakh_microservice" "two" {', 'resource "matbakh_microservice" "two" {\n  dashboard = false', 1)
    tf.write(smaller)
    lowered = tf.plan()
    assert lowered.returncode == 2, lowered.stderr
    assert "past 95%" not in lowered.stdout + lowered.stderr


def test_guard_judges_three_services_added_in_one_plan_on_all_three(emulator, tf, net):
    c = guard_setup(emulator, tf, net)
    limit = round(3 * c, 2)
    # One added: 2c is 67 % of the limit: nothing to say.
    tf.write(with_services(emulator, net, limit, "enforce", ["one", "two"]))
    one_more = tf.plan()
    assert one_more.returncode == 2 and "past" not in one_more.stdout + one_more.stderr
    # Three added at once: 4c, 133 %: refused.
    tf.write(with_services(emulator, net, limit, "enforce", ["one", "two", "three", "four"]))
    result = tf.plan(check=False)
    assert result.returncode == 1
    assert f"${4 * c:.2f}" in result.stderr.replace("\n", " "), result.stderr


def test_guard_off_says_nothing(emulator, tf, net):
    c = guard_setup(emulator, tf, net)
    tf.write(with_services(emulator, net, round(c, 2), "off", ["one", "two", "three"]))
    plan = tf.plan()
    assert plan.returncode == 2
    assert "past" not in plan.stdout + plan.stderr


MULTI = Path(__file__).resolve().parents[2] / "examples" / "multi-region"


def test_multi_region_budgets_add_up_to_the_total(emulator, tf):
    """examples/multi-region: one budget per region's platform, named after both, whose limits
    add up to monthly_budget."""
    central = network(emulator, "eu-central-1")
    west = network(emulator, "eu-west-1")
    tf.copy_dir(MULTI, {"endpoint": emulator.endpoint, "eu_central_1": central, "eu_west_1": west,
                        "monthly_budget": 500})
    tf.run("get", "-no-color")
    tf.apply()
    names = tf.output("budget_names")
    assert names == {r: f"matbakh-matbakh-{r}" for r in ("eu-central-1", "eu-west-1")}
    b = budgets(emulator)
    limits = {r: float(b.describe_budget(AccountId=ACCOUNT, BudgetName=n)["Budget"]["BudgetLimit"]["Amount"])
              for r, n in names.items()}
    assert limits == {"eu-central-1": 300.0, "eu-west-1": 200.0}
    assert sum(limits.values()) == 500
    assert tf.plan().returncode == 0
    tf.destroy()
    assert b.describe_budgets(AccountId=ACCOUNT).get("Budgets", []) == []


@pytest.mark.emulator
def test_emulator_holds_budgets_to_the_botocore_model(emulator):
    """The emulator refuses what AWS's front end refuses (botocore's budgets model), answers
    with AWS's codes, and serves what moto lacks: UpdateBudget, subscribers, tags."""
    import botocore.config
    import botocore.exceptions
    raw = emulator._session.client(
        "budgets", endpoint_url=emulator.endpoint,
        config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}))
    budget = {"BudgetName": "x" * 101, "BudgetLimit": {"Amount": "ten", "Unit": "USD"},
              "TimeUnit": "MONTHLY", "BudgetType": "COST"}
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        raw.create_budget(AccountId=ACCOUNT, Budget=budget)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    message = refused.value.response["Error"]["Message"]
    assert "2 validation errors" in message and "budget.budgetName" in message, message
    assert "budget.budgetLimit.amount" in message, message
    b = budgets(emulator)
    budget["BudgetName"] = "ok"
    budget["BudgetLimit"] = {"Amount": "10", "Unit": "USD"}
    alert = {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
             "Threshold": 80.0, "ThresholdType": "PERCENTAGE"}
    b.create_budget(AccountId=ACCOUNT, Budget=budget, ResourceTags=[{"Key": "k", "Value": "v"}],
                    NotificationsWithSubscribers=[{"Notification": alert, "Subscribers": [
                        {"SubscriptionType": "EMAIL", "Address": "a@example.com"}]}])
    b.update_budget(AccountId=ACCOUNT, NewBudget={**budget, "BudgetLimit": {"Amount": "20", "Unit": "USD"}})
    found = b.describe_budget(AccountId=ACCOUNT, BudgetName="ok")["Budget"]
    assert found["BudgetLimit"]["Amount"] == "20"
    subs = b.describe_subscribers_for_notification(AccountId=ACCOUNT, BudgetName="ok", Notification=alert)
    assert subs["Subscribers"] == [{"SubscriptionType": "EMAIL", "Address": "a@example.com"}]
    arn = f"arn:aws:budgets::{ACCOUNT}:budget/ok"
    assert b.list_tags_for_resource(ResourceARN=arn)["ResourceTags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(botocore.exceptions.ClientError) as twice:
        b.create_notification(AccountId=ACCOUNT, BudgetName="ok", Notification=alert,
                              Subscribers=[{"SubscriptionType": "EMAIL", "Address": "a@example.com"}])
    assert twice.value.response["Error"]["Code"] == "DuplicateRecordException"
    b.delete_notification(AccountId=ACCOUNT, BudgetName="ok", Notification={**alert, "NotificationState": "OK"})
    assert b.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="ok")["Notifications"] == []
    b.delete_budget(AccountId=ACCOUNT, BudgetName="ok")
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        b.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="ok")
    assert gone.value.response["Error"]["Code"] == "NotFoundException"
