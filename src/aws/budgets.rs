//! AWS Budgets: the cost budget of a platform. Its id is its ARN,
//! `arn:aws:budgets::ACCOUNT:budget/NAME` (Budgets calls take the account
//! and the name; the ARN carries both and is what its tags go by).
//!
//! Budgets is one API per account (a global endpoint), so the name carries
//! the platform's region. AWS Budgets has no idempotency token: a create
//! that meets a budget of its name adopts it only with this resource's
//! ownership token in its tags (ResourceTags, 2024 API).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_budgets::types::{
    Budget, BudgetType, ComparisonOperator, Expression, MatchOption, Notification,
    NotificationType, NotificationWithSubscribers, ResourceTag, Spend, Subscriber,
    SubscriptionType, TagValues, ThresholdType, TimeUnit,
};

use crate::aws::compare::gone_is_ok;
use crate::aws::{tags, Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::budgets::BudgetSpec;

const CURRENCY: &str = "USD";

/// The budget `name`'s ARN in `account`.
pub fn budget_arn(account: &str, name: &str) -> String {
    format!("arn:aws:budgets::{account}:budget/{name}")
}

/// (account, name) of a budget ARN.
fn parse_arn(arn: &str) -> Result<(&str, &str), AwsError> {
    let rest = arn.strip_prefix("arn:aws:budgets::").unwrap_or("");
    rest.split_once(":budget/")
        .filter(|(account, name)| !account.is_empty() && !name.is_empty())
        .ok_or_else(|| AwsError::new("budgets", format!("{arn:?} is not a budget ARN")))
}

fn account(aws: &Clients) -> Result<&str, AwsError> {
    aws.account_id.as_deref().ok_or_else(|| {
        AwsError::new(
            "budgets:CreateBudget",
            "AWS Budgets calls name the account, which is unknown with skip_credentials_validation = true: \
             remove it (the provider learns the account when it checks the credentials)",
        )
    })
}

/// One notification of a budget: ACTUAL or FORECASTED at a percentage.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
struct Alert {
    forecast: bool,
    threshold: f64,
}

impl Alert {
    fn wanted(spec: &BudgetSpec) -> Vec<Alert> {
        [false, true]
            .into_iter()
            .flat_map(|forecast| {
                spec.thresholds.iter().map(move |&threshold| Alert {
                    forecast,
                    threshold,
                })
            })
            .collect()
    }

    fn of(n: &Notification) -> Alert {
        Alert {
            forecast: n.notification_type() == &NotificationType::Forecasted,
            threshold: n.threshold(),
        }
    }

    fn describe(&self) -> String {
        let kind = if self.forecast {
            "forecasted"
        } else {
            "actual"
        };
        format!("{kind} cost alert at {}%", self.threshold)
    }

    fn sdk(&self, call: &str) -> Result<Notification, AwsError> {
        Notification::builder()
            .notification_type(if self.forecast {
                NotificationType::Forecasted
            } else {
                NotificationType::Actual
            })
            .comparison_operator(ComparisonOperator::GreaterThan)
            .threshold(self.threshold)
            .threshold_type(ThresholdType::Percentage)
            .build()
            .map_err(|e| AwsError::build(call, e))
    }
}

impl BudgetSpec {
    fn subscribers(&self, call: &str) -> Result<Vec<Subscriber>, AwsError> {
        let email = self
            .emails
            .iter()
            .map(|a| (SubscriptionType::Email, a.as_str()));
        let sns = self
            .topic_arn
            .iter()
            .map(|a| (SubscriptionType::Sns, a.as_str()));
        email
            .chain(sns)
            .map(|(kind, address)| {
                Subscriber::builder()
                    .subscription_type(kind)
                    .address(address)
                    .build()
                    .map_err(|e| AwsError::build(call, e))
            })
            .collect()
    }

    /// Subscribers as comparable text, `EMAIL a@b`, `SNS arn:…`, sorted.
    fn wanted_subscribers(&self) -> BTreeSet<String> {
        let email = self.emails.iter().map(|a| format!("EMAIL {a}"));
        let sns = self.topic_arn.iter().map(|a| format!("SNS {a}"));
        email.chain(sns).collect()
    }

    fn budget(&self, call: &str) -> Result<Budget, AwsError> {
        let limit = Spend::builder()
            .amount(&self.limit)
            .unit(CURRENCY)
            .build()
            .map_err(|e| AwsError::build(call, e))?;
        Budget::builder()
            .budget_name(&self.name)
            .budget_limit(limit)
            .budget_type(BudgetType::Cost)
            .time_unit(TimeUnit::Monthly)
            .filter_expression(self.filter())
            .build()
            .map_err(|e| AwsError::build(call, e))
    }

    /// Costs of what carries the tag (`FilterExpression`, which replaced
    /// the deprecated `CostFilters` `TagKeyValue` in the API).
    fn filter(&self) -> Expression {
        Expression::builder()
            .tags(
                TagValues::builder()
                    .key(&self.tag_key)
                    .values(&self.tag_value)
                    .match_options(MatchOption::Equals)
                    .build(),
            )
            .build()
    }

    fn resource_tags(&self, call: &str) -> Result<Vec<ResourceTag>, AwsError> {
        self.tags
            .iter()
            .map(|(k, v)| {
                ResourceTag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| AwsError::build(call, e))
            })
            .collect()
    }

    async fn tags_of(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let out = aws
            .budgets
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("budgets:ListTagsForResource", e))?;
        Ok(out
            .resource_tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }

    async fn describe(aws: &Clients, arn: &str) -> Result<Option<Budget>, AwsError> {
        let (account, name) = parse_arn(arn)?;
        match aws
            .budgets
            .describe_budget()
            .account_id(account)
            .budget_name(name)
            .show_filter_expression(true)
            .send()
            .await
            .map_err(|e| AwsError::sdk("budgets:DescribeBudget", e))
        {
            Ok(out) => Ok(out.budget().cloned()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The budget's notifications with their subscribers (as
    /// [`Self::wanted_subscribers`] writes them).
    async fn alerts(
        aws: &Clients,
        arn: &str,
    ) -> Result<Vec<(Notification, BTreeSet<String>)>, AwsError> {
        let (account, name) = parse_arn(arn)?;
        let out = aws
            .budgets
            .describe_notifications_for_budget()
            .account_id(account)
            .budget_name(name)
            .send()
            .await
            .map_err(|e| AwsError::sdk("budgets:DescribeNotificationsForBudget", e))?;
        let reads = out.notifications().iter().map(|n| async move {
            let subscribers = aws
                .budgets
                .describe_subscribers_for_notification()
                .account_id(account)
                .budget_name(name)
                .notification(n.clone())
                .send()
                .await
                .map_err(|e| AwsError::sdk("budgets:DescribeSubscribersForNotification", e))?;
            let found = subscribers
                .subscribers()
                .iter()
                .map(|s| format!("{} {}", s.subscription_type().as_str(), s.address()))
                .collect();
            Ok::<_, AwsError>((n.clone(), found))
        });
        futures::future::try_join_all(reads).await
    }

    /// Bring the notifications in line: a notification whose subscribers
    /// differ is replaced (Budgets' UpdateSubscriber changes one address at
    /// a time; a replacement says the same in two calls).
    async fn put_alerts(&self, aws: &Clients, arn: &str) -> Result<(), AwsError> {
        let (account, name) = parse_arn(arn)?;
        let wanted = Alert::wanted(self);
        let subscribers = self.wanted_subscribers();
        let mut present = Vec::new();
        for (notification, found) in Self::alerts(aws, arn).await? {
            let alert = Alert::of(&notification);
            if wanted.contains(&alert) && found == subscribers {
                present.push(alert);
                continue;
            }
            gone_is_ok(
                aws.budgets
                    .delete_notification()
                    .account_id(account)
                    .budget_name(name)
                    .notification(notification)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsError::sdk("budgets:DeleteNotification", e)),
            )?;
        }
        for alert in wanted.iter().filter(|a| !present.contains(a)) {
            let call = "budgets:CreateNotification";
            aws.budgets
                .create_notification()
                .account_id(account)
                .budget_name(name)
                .notification(alert.sdk(call)?)
                .set_subscribers(Some(self.subscribers(call)?))
                .send()
                .await
                .map_err(|e| AwsError::sdk(call, e))?;
        }
        Ok(())
    }
}

/// What a microservice's plan guard needs of its platform's budget.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetFound {
    pub limit: f64,
    /// Percent, ascending: the ACTUAL notifications' thresholds.
    pub thresholds: Vec<f64>,
    /// The `matbakh:plan-guard` tag; `None` when the budget has none.
    pub plan_guard: Option<String>,
    /// The subscribers of its first notification: email addresses, sorted.
    pub emails: Vec<String>,
    pub topic_arn: Option<String>,
    /// The budget's ARN.
    pub arn: String,
}

/// The budget `name` of this account, `None` when there is none.
pub async fn find_budget(aws: &Clients, name: &str) -> Result<Option<BudgetFound>, AwsError> {
    let Some(account) = aws.account_id.as_deref() else {
        return Ok(None);
    };
    let arn = budget_arn(account, name);
    let Some(budget) = BudgetSpec::describe(aws, &arn).await? else {
        return Ok(None);
    };
    let (alerts, tags) = futures::join!(
        BudgetSpec::alerts(aws, &arn),
        BudgetSpec::tags_of(aws, &arn)
    );
    let alerts = alerts?;
    let subscribers = alerts.first().map(|(_, s)| s.clone()).unwrap_or_default();
    let address = |kind: &str| -> Vec<String> {
        subscribers
            .iter()
            .filter_map(|s| s.strip_prefix(kind))
            .map(str::to_string)
            .collect()
    };
    let mut thresholds: Vec<f64> = alerts
        .iter()
        .map(|(n, _)| Alert::of(n))
        .filter(|a| !a.forecast)
        .map(|a| a.threshold)
        .collect();
    thresholds.sort_by(f64::total_cmp);
    Ok(Some(BudgetFound {
        limit: budget
            .budget_limit()
            .and_then(|s| s.amount().parse().ok())
            .unwrap_or(0.0),
        thresholds,
        plan_guard: tags?.get(crate::spec::budgets::PLAN_GUARD_TAG).cloned(),
        emails: address("EMAIL "),
        topic_arn: address("SNS ").into_iter().next(),
        arn,
    }))
}

#[async_trait]
impl Adapter for BudgetSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(budget) = Self::describe(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        let limit = budget.budget_limit().map(|s| s.amount()).unwrap_or("");
        let same_limit = match (limit.parse::<f64>(), self.limit.parse::<f64>()) {
            (Ok(found), Ok(wanted)) => found == wanted,
            _ => limit == self.limit,
        };
        if !same_limit {
            diffs.push(format!("limit is {limit} USD, want {}", self.limit));
        }
        let filter = budget.filter_expression().and_then(|f| f.tags());
        let filter = filter.map(|t| (t.key().unwrap_or(""), t.values()));
        if filter != Some((self.tag_key.as_str(), &[self.tag_value.clone()][..])) {
            diffs.push(format!(
                "cost filter is {filter:?}, want the tag {}={}",
                self.tag_key, self.tag_value
            ));
        }
        if budget.time_unit() != &TimeUnit::Monthly {
            diffs.push(format!(
                "period is {}, want MONTHLY",
                budget.time_unit().as_str()
            ));
        }
        let (alerts, found_tags) = futures::join!(Self::alerts(aws, id), Self::tags_of(aws, id));
        let alerts = alerts?;
        let wanted = Alert::wanted(self);
        let subscribers = self.wanted_subscribers();
        for alert in &wanted {
            match alerts.iter().find(|(n, _)| &Alert::of(n) == alert) {
                None => diffs.push(format!("{} missing", alert.describe())),
                Some((_, found)) if found != &subscribers => diffs.push(format!(
                    "{} goes to {}, want {}",
                    alert.describe(),
                    found.iter().cloned().collect::<Vec<_>>().join(", "),
                    subscribers.iter().cloned().collect::<Vec<_>>().join(", ")
                )),
                Some(_) => {}
            }
        }
        for (n, _) in &alerts {
            if !wanted.contains(&Alert::of(n)) {
                diffs.push(format!("{} is not asked for", Alert::of(n).describe()));
            }
        }
        diffs.extend(tags::differences(&self.tags, &found_tags?));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let call = "budgets:CreateBudget";
        let account = account(aws)?;
        let arn = budget_arn(account, &self.name);
        let alerts = Alert::wanted(self)
            .iter()
            .map(|a| {
                NotificationWithSubscribers::builder()
                    .notification(a.sdk(call)?)
                    .set_subscribers(Some(self.subscribers(call)?))
                    .build()
                    .map_err(|e| AwsError::build(call, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let created = aws
            .budgets
            .create_budget()
            .account_id(account)
            .budget(self.budget(call)?)
            .set_notifications_with_subscribers(Some(alerts))
            .set_resource_tags(Some(self.resource_tags(call)?))
            .send()
            .await
            .map_err(|e| AwsError::sdk(call, e));
        match created {
            Ok(_) => Ok(arn),
            Err(e) if e.code.as_deref() == Some("DuplicateRecordException") => {
                let found = Self::tags_of(aws, &arn).await?;
                tags::claim(call, "budget", &self.name, &self.tags, &found)?;
                self.update(aws, &arn, resolved).await
            }
            Err(e) => Err(e),
        }
    }

    async fn update(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<String, AwsError> {
        let (account, name) = parse_arn(id)?;
        if name != self.name {
            return Err(AwsError::new(
                "budgets:UpdateBudget",
                format!("budget {name} cannot be renamed to {}", self.name),
            ));
        }
        let call = "budgets:UpdateBudget";
        aws.budgets
            .update_budget()
            .account_id(account)
            .new_budget(self.budget(call)?)
            .send()
            .await
            .map_err(|e| AwsError::sdk(call, e))?;
        self.put_alerts(aws, id).await?;
        let call = "budgets:TagResource";
        aws.budgets
            .tag_resource()
            .resource_arn(id)
            .set_resource_tags(Some(self.resource_tags(call)?))
            .send()
            .await
            .map_err(|e| AwsError::sdk(call, e))?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let (account, name) = parse_arn(id)?;
        gone_is_ok(
            aws.budgets
                .delete_budget()
                .account_id(account)
                .budget_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("budgets:DeleteBudget", e)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arn_carries_account_and_name() {
        let arn = budget_arn("123456789012", "matbakh-main-eu-central-1");
        assert_eq!(
            arn,
            "arn:aws:budgets::123456789012:budget/matbakh-main-eu-central-1"
        );
        assert_eq!(
            parse_arn(&arn).unwrap(),
            ("123456789012", "matbakh-main-eu-central-1")
        );
        assert!(parse_arn("arn:aws:ecs:eu-central-1:1:cluster/x").is_err());
    }
}
