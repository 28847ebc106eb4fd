//! The platform's `budget` block: an AWS Budgets cost budget on what
//! carries the platform's tag, and the settings the microservices' plan
//! guard judges against. Schema, plan-time checks, settings and the pure
//! expansion into its component.

use crate::budget_guard::{Budget, Mode};
use crate::spec::budgets::{BudgetSpec, PLAN_GUARD_TAG, PLATFORM_TAG};
use crate::spec::Tags;
use crate::tf::schema::{block, string_set, BlockBuilder, Type};
use crate::tf::value::Value;
use crate::validation::Problem;

/// The component key of the budget in `components`.
pub const KEY: &str = "budget";
pub const DEFAULT_THRESHOLDS: [f64; 2] = [80.0, 95.0];
pub const PLAN_GUARDS: [&str; 3] = ["warn", "enforce", "off"];
pub const DEFAULT_PLAN_GUARD: &str = "warn";
/// CreateBudget takes at most 10 notifications; each threshold is two
/// (actual and forecasted).
pub const MAX_THRESHOLDS: usize = 5;
/// A notification has at most 11 subscribers: AWS allows 10 email
/// addresses and one SNS topic.
pub const MAX_EMAILS: usize = 10;

pub fn schema() -> BlockBuilder {
    block("An AWS Budgets cost budget for this platform in this region, with alerts, and the guard that judges microservice plans against it.")
        .required("monthly_limit", Type::Number, "USD a month for the costs of what carries this platform's cost allocation tag (`matbakh:platform`). Positive.")
        .optional("alert_emails", string_set(), "Email addresses the alerts go to (a set, at most 10). `alert_emails` and/or `alert_topic_arn` is required.")
        .optional("alert_topic_arn", Type::String, "SNS topic the alerts go to (`arn:aws:sns:…`).")
        .defaulted("thresholds", Type::List(Box::new(Type::Number)), "Percent of `monthly_limit`, ascending, 1-1000, at most 5: one alert on actual and one on forecasted cost each. Default `[80, 95]`. The plan guard warns past the first and (with `enforce`) fails past the last.")
        .defaulted("plan_guard", Type::String, "What a microservice plan that takes the platform's estimated monthly cost past a threshold gets: `warn` (default: warnings), `enforce` (an error past the last threshold) or `off`.")
}

/// The block's settings with defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetSettings {
    /// USD, as written (exact decimal text).
    pub monthly_limit: String,
    pub alert_emails: Vec<String>,
    pub alert_topic_arn: Option<String>,
    pub thresholds: Vec<f64>,
    pub plan_guard: String,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn numbers(v: &Value) -> Option<Vec<f64>> {
    match v {
        Value::List(items) => Some(items.iter().filter_map(Value::as_f64).collect()),
        _ => None,
    }
}

/// The `budget` block of a platform's state or plan; `None` without one.
pub fn settings(platform: &Value) -> Option<BudgetSettings> {
    let b = platform.block("budget");
    if b.is_null() || b.is_unknown() {
        return None;
    }
    let mut emails = strings(b.get("alert_emails"));
    emails.sort();
    Some(BudgetSettings {
        monthly_limit: b
            .get("monthly_limit")
            .as_number()
            .map(|n| n.text().to_string())
            .unwrap_or_else(|| "0".into()),
        alert_emails: emails,
        alert_topic_arn: b.get("alert_topic_arn").as_str().map(str::to_string),
        thresholds: numbers(b.get("thresholds")).unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec()),
        plan_guard: b
            .get("plan_guard")
            .as_str()
            .unwrap_or(DEFAULT_PLAN_GUARD)
            .to_string(),
    })
}

/// Fill the block's defaults in a plan.
pub fn plan_defaults(planned: &mut Value) {
    let Value::List(items) = planned.get("budget") else {
        return;
    };
    let mut items = items.clone();
    for b in items.iter_mut() {
        if b.get("thresholds").is_null() {
            let defaults = DEFAULT_THRESHOLDS.iter().map(|&t| t.into()).collect();
            b.set("thresholds", Value::List(defaults));
        }
        if b.get("plan_guard").is_null() {
            b.set("plan_guard", DEFAULT_PLAN_GUARD.into());
        }
    }
    planned.set("budget", Value::List(items));
}

/// What the first plan of a budget says: AWS Budgets filters on a
/// user-defined cost allocation tag only once it is activated, which the
/// provider does not do (Cost Explorer's UpdateCostAllocationTagsStatus
/// works only from the management account and only on a tag AWS billing
/// has already seen, up to a day after the first tagged resource).
pub fn activation_warning() -> (String, String) {
    (
        format!("budget: activate the cost allocation tag {PLATFORM_TAG}"),
        format!(
            "The budget counts the costs of what carries the tag {PLATFORM_TAG}. AWS only filters on a user-defined tag once it is activated as a cost allocation tag: in the Billing console (Cost allocation tags, from the management account) or with `aws ce update-cost-allocation-tags-status --cost-allocation-tags-status TagKey={PLATFORM_TAG},Status=Active`. AWS lists the tag there up to 24 hours after the first tagged resource exists; until it is active, the budget sees no costs. This provider does not activate it."
        ),
    )
}

/// The block as AWS holds it (the budget found), shaped like the state's.
pub fn arguments(found: &crate::aws::budgets::BudgetFound) -> Value {
    let mut b = Value::Null;
    b.set("monthly_limit", found.limit.into());
    b.set(
        "alert_emails",
        if found.emails.is_empty() {
            Value::Null
        } else {
            Value::List(
                found
                    .emails
                    .iter()
                    .map(|e| Value::str(e.as_str()))
                    .collect(),
            )
        },
    );
    b.set("alert_topic_arn", found.topic_arn.clone().into());
    b.set(
        "thresholds",
        Value::List(found.thresholds.iter().map(|&t| t.into()).collect()),
    );
    b.set(
        "plan_guard",
        found
            .plan_guard
            .as_deref()
            .unwrap_or(DEFAULT_PLAN_GUARD)
            .into(),
    );
    b
}

/// The block as the plan guard judges by.
pub fn guard_budget(b: &BudgetSettings) -> Budget {
    Budget {
        limit: b.monthly_limit.parse().unwrap_or(0.0),
        thresholds: b.thresholds.clone(),
        mode: Mode::parse(&b.plan_guard),
    }
}

/// `matbakh-PLATFORM-REGION`: Budgets names are account-wide, so the name
/// carries the region (one platform of a name per region).
pub fn budget_name(platform: &str, region: &str) -> String {
    format!("matbakh-{platform}-{region}")
}

/// The budget component of platform `platform` in `region`; `tags` carry
/// the owner like every other object of the platform.
pub fn spec(b: &BudgetSettings, platform: &str, region: &str, tags: &Tags) -> BudgetSpec {
    let mut tags = tags.clone();
    tags.insert(PLAN_GUARD_TAG.to_string(), b.plan_guard.clone());
    BudgetSpec {
        name: budget_name(platform, region),
        limit: b.monthly_limit.clone(),
        tag_key: PLATFORM_TAG.to_string(),
        tag_value: platform.to_string(),
        thresholds: b.thresholds.clone(),
        emails: b.alert_emails.clone(),
        topic_arn: b.alert_topic_arn.clone(),
        tags,
    }
}

/// An address AWS Budgets would take as an email subscriber: one `@`
/// between a non-empty local part and a dotted domain, no spaces.
fn is_email(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !a.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `arn:aws:sns:REGION:ACCOUNT:NAME` (any partition).
fn is_sns_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && !parts[5].is_empty()
        && !parts[5].contains(':')
}

/// Plan-time problems of the `budget` block; values unknown at plan are
/// not judged.
pub fn validate(config: &Value) -> Vec<Problem> {
    let b = config.block("budget");
    if b.is_null() {
        return Vec::new();
    }
    let at = |attr: &str| format!("budget.0.{attr}");
    let mut problems = Vec::new();
    if let Some(limit) = b.get("monthly_limit").as_f64() {
        if !(limit > 0.0 && limit.is_finite()) {
            problems.push(Problem::at(
                &at("monthly_limit"),
                "Invalid budget monthly_limit",
                format!("budget.monthly_limit must be a positive number of USD, not {limit}."),
            ));
        }
    }
    if let Some(thresholds) = numbers(b.get("thresholds")) {
        let list = b.get("thresholds");
        let complete = !list.contains_unknown();
        if complete && thresholds.is_empty() {
            problems.push(Problem::at(
                &at("thresholds"),
                "Invalid budget thresholds",
                "budget.thresholds needs at least one percentage (default [80, 95]).",
            ));
        }
        if thresholds.len() > MAX_THRESHOLDS {
            problems.push(Problem::at(&at("thresholds"), "Too many budget thresholds", format!("budget.thresholds has {}; at most {MAX_THRESHOLDS} fit, as each is two of the 10 notifications AWS Budgets allows a budget.", thresholds.len())));
        }
        if let Some(bad) = thresholds.iter().find(|t| !(1.0..=1000.0).contains(*t)) {
            problems.push(Problem::at(
                &at("thresholds"),
                "Invalid budget threshold",
                format!("budget.thresholds: {bad} is outside 1-1000 (percent of monthly_limit)."),
            ));
        }
        if complete && thresholds.windows(2).any(|w| w[0] >= w[1]) {
            let shown: Vec<String> = thresholds.iter().map(|t| t.to_string()).collect();
            problems.push(Problem::at(
                &at("thresholds"),
                "Budget thresholds not ascending",
                format!(
                    "budget.thresholds must be strictly ascending, e.g. [80, 95]; got [{}].",
                    shown.join(", ")
                ),
            ));
        }
    }
    if let Some(guard) = b.get("plan_guard").as_str() {
        if !PLAN_GUARDS.contains(&guard) {
            problems.push(Problem::at(
                &at("plan_guard"),
                "Invalid budget plan_guard",
                format!("budget.plan_guard must be warn, enforce or off, not {guard:?}."),
            ));
        }
    }
    let emails = strings(b.get("alert_emails"));
    for email in &emails {
        if !is_email(email) {
            problems.push(Problem::at(
                &at("alert_emails"),
                "Invalid budget alert email",
                format!("budget.alert_emails: {email:?} is not an email address."),
            ));
        }
    }
    if emails.len() > MAX_EMAILS {
        problems.push(Problem::at(&at("alert_emails"), "Too many budget alert emails", format!("budget.alert_emails has {}; AWS Budgets sends an alert to at most {MAX_EMAILS} addresses (and one SNS topic).", emails.len())));
    }
    if let Some(topic) = b.get("alert_topic_arn").as_str() {
        if !is_sns_topic_arn(topic) {
            problems.push(Problem::at(
                &at("alert_topic_arn"),
                "Invalid budget alert_topic_arn",
                format!("budget.alert_topic_arn: {topic:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."),
            ));
        }
    }
    let no_emails = matches!(b.get("alert_emails"), Value::Null)
        || (emails.is_empty() && !b.get("alert_emails").contains_unknown());
    if no_emails && b.get("alert_topic_arn").is_null() {
        problems.push(Problem::at(
            &at("alert_emails"),
            "Budget alerts go nowhere",
            "budget.alert_emails and/or budget.alert_topic_arn is required: AWS Budgets sends each alert to at least one subscriber.",
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(pairs: Vec<(&str, Value)>) -> Value {
        let mut b = Value::Null;
        for (k, v) in pairs {
            b.set(k, v);
        }
        let mut c = Value::Null;
        c.set("budget", Value::List(vec![b]));
        c
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::str(*s)).collect())
    }

    fn nums(items: &[f64]) -> Value {
        Value::List(items.iter().map(|&n| n.into()).collect())
    }

    fn problems_at(c: &Value) -> Vec<String> {
        validate(c).iter().map(|p| p.dotted()).collect()
    }

    #[test]
    fn a_good_block_has_no_problems_and_takes_defaults() {
        let c = budget(vec![
            ("monthly_limit", 200.into()),
            ("alert_emails", list(&["ops@example.com"])),
        ]);
        assert!(validate(&c).is_empty(), "{:?}", validate(&c));
        let mut planned = c.clone();
        plan_defaults(&mut planned);
        let s = settings(&planned).unwrap();
        assert_eq!(s.thresholds, [80.0, 95.0]);
        assert_eq!(s.plan_guard, "warn");
        assert_eq!(s.monthly_limit, "200");
    }

    #[test]
    fn bad_input_names_the_attribute() {
        let c = budget(vec![
            ("monthly_limit", 0.into()),
            ("alert_emails", list(&["not-an-email"])),
            (
                "alert_topic_arn",
                "arn:aws:sqs:eu-central-1:123456789012:q".into(),
            ),
            ("thresholds", nums(&[95.0, 80.0, 2000.0])),
            ("plan_guard", "strict".into()),
        ]);
        let at = problems_at(&c);
        for attr in [
            "monthly_limit",
            "alert_emails",
            "alert_topic_arn",
            "thresholds",
            "plan_guard",
        ] {
            assert!(at.contains(&format!("budget.0.{attr}")), "{attr}: {at:?}");
        }
        let nowhere = budget(vec![("monthly_limit", 10.into())]);
        assert_eq!(problems_at(&nowhere), ["budget.0.alert_emails"]);
        let topic_only = budget(vec![
            ("monthly_limit", 10.into()),
            (
                "alert_topic_arn",
                "arn:aws:sns:eu-central-1:123456789012:alerts".into(),
            ),
        ]);
        assert!(validate(&topic_only).is_empty());
        let six = budget(vec![
            ("monthly_limit", 10.into()),
            ("alert_emails", list(&["a@b.co"])),
            ("thresholds", nums(&[10.0, 20.0, 30.0, 40.0, 50.0, 60.0])),
        ]);
        assert_eq!(problems_at(&six), ["budget.0.thresholds"]);
    }

    #[test]
    fn the_spec_filters_on_the_platform_tag_and_records_the_guard() {
        let s = BudgetSettings {
            monthly_limit: "150.5".into(),
            alert_emails: vec!["a@b.co".into()],
            alert_topic_arn: None,
            thresholds: vec![50.0, 100.0],
            plan_guard: "enforce".into(),
        };
        let spec = spec(&s, "main", "eu-central-1", &Tags::new());
        assert_eq!(spec.name, "matbakh-main-eu-central-1");
        assert_eq!(
            (spec.tag_key.as_str(), spec.tag_value.as_str()),
            (PLATFORM_TAG, "main")
        );
        assert_eq!(spec.limit, "150.5");
        assert_eq!(
            spec.tags.get(PLAN_GUARD_TAG).map(String::as_str),
            Some("enforce")
        );
    }
}
