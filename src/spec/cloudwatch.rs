//! Amazon CloudWatch objects of a microservice: alarms and its dashboard.

use std::collections::BTreeMap;

use super::tags::Tags;

/// A metric alarm over one or more metric queries (exactly one of them
/// returns data: the value compared with the threshold).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MetricAlarmSpec {
    pub name: String,
    pub description: String,
    pub metrics: Vec<MetricQuerySpec>,
    /// e.g. `GreaterThanThreshold`.
    pub comparison_operator: String,
    pub threshold: f64,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: i32,
    /// e.g. `notBreaching`.
    pub treat_missing_data: String,
    /// SNS topics and other actions, on ALARM and on OK.
    pub actions: Vec<String>,
    pub tags: Tags,
}

/// One entry of an alarm's `Metrics`: a metric statistic or an expression.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MetricQuerySpec {
    pub id: String,
    pub label: Option<String>,
    pub expression: Option<String>,
    pub metric: Option<MetricStatSpec>,
    pub return_data: bool,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MetricStatSpec {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
    pub period_seconds: i32,
    /// `Sum`, `Average`, `p95`, ...
    pub stat: String,
}

/// A dashboard. Dashboards are global to an account (not regional), so
/// their names carry the region; they are taggable (TagResource on the
/// dashboard's ARN) and carry the owner tag like every other object.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DashboardSpec {
    pub name: String,
    /// The dashboard body, as JSON text.
    pub body: String,
    pub tags: Tags,
}
