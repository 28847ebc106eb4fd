//! AWS Budgets objects: the cost budget of a platform.

use super::tags::Tags;

/// Cost allocation tag every object of a platform's microservices carries
/// (the platform's own cluster and namespace cost nothing), valued with
/// the platform's name: what the budget filters its
/// costs on (`FilterExpression.Tags`). Its own key (not
/// `matbakh:owner`, whose value differs per microservice) so that one
/// filter value covers the whole platform.
pub const PLATFORM_TAG: &str = "matbakh:platform";

/// Tag on a microservice's ECS service: its `estimated_monthly_cost` (USD,
/// two decimals). The platform sums these to its own estimate and the plan
/// guard counts them, so the figure holds across Terraform states.
pub const ESTIMATE_TAG: &str = "matbakh:estimated-monthly-cost";

/// Tag on the budget recording its platform's `plan_guard`, which AWS
/// Budgets has no field for: a microservice in another state reads it.
pub const PLAN_GUARD_TAG: &str = "matbakh:plan-guard";

/// A monthly COST budget with, per threshold, one notification on ACTUAL
/// and one on FORECASTED cost (percentage of the limit, GREATER_THAN).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BudgetSpec {
    /// Account-wide: carries the platform's name and the region.
    pub name: String,
    /// USD, as the decimal text AWS stores (`"200"`, `"150.5"`).
    pub limit: String,
    /// The costs counted: those of resources whose cost allocation tag
    /// `tag_key` is `tag_value` (Budgets' `FilterExpression.Tags`).
    pub tag_key: String,
    pub tag_value: String,
    /// Percent of the limit, ascending.
    pub thresholds: Vec<f64>,
    /// EMAIL subscribers, sorted.
    pub emails: Vec<String>,
    /// SNS subscriber.
    pub topic_arn: Option<String>,
    pub tags: Tags,
}
