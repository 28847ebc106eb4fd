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

/// Where a value known only once another component of the graph exists
/// stands in an alarm's dimension or a dashboard's body: the Application
/// Load Balancer metric dimension of the ARN recorded for component `key`
/// (`targetgroup/NAME/ID` for a target group: the ALB publishes per target
/// group under an id AWS gives the group when it is made). The adapters put
/// the recorded ARN in before they write or compare (see [`with_ids`]).
pub fn alb_dimension_of(key: &str) -> String {
    format!("{ALB_DIMENSION_OPEN}{key}}}")
}

const ALB_DIMENSION_OPEN: &str = "${alb_dimension:";

/// `text` with every [`alb_dimension_of`] replaced by the resource part of
/// the ARN recorded for its component (`arn:...:targetgroup/NAME/ID` gives
/// `targetgroup/NAME/ID`); one whose component has no id yet stays as it is
/// (the comparison then shows it, and AWS refuses nothing: a dimension is
/// free text).
pub fn with_ids(text: &str, ids: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(ALB_DIMENSION_OPEN) {
        let after = &rest[start + ALB_DIMENSION_OPEN.len()..];
        let Some(end) = after.find('}') else {
            break;
        };
        let key = &after[..end];
        out.push_str(&rest[..start]);
        match ids.get(key) {
            Some(arn) => out.push_str(arn.splitn(6, ':').nth(5).unwrap_or(arn)),
            None => out.push_str(&rest[start..start + ALB_DIMENSION_OPEN.len() + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

impl MetricAlarmSpec {
    /// This alarm with the recorded ids of the components its dimensions
    /// name put in ([`with_ids`]).
    pub fn with_ids(&self, ids: &BTreeMap<String, String>) -> MetricAlarmSpec {
        let mut alarm = self.clone();
        for query in &mut alarm.metrics {
            if let Some(m) = query.metric.as_mut() {
                for value in m.dimensions.values_mut() {
                    *value = with_ids(value, ids);
                }
            }
        }
        alarm
    }
}

impl DashboardSpec {
    /// This dashboard with the recorded ids its body names put in.
    pub fn with_ids(&self, ids: &BTreeMap<String, String>) -> DashboardSpec {
        DashboardSpec {
            body: with_ids(&self.body, ids),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_group_dimension_is_the_resource_part_of_its_recorded_arn() {
        let ids: BTreeMap<String, String> = [(
            "tg".to_string(),
            "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/m-a-b/0123abcd"
                .to_string(),
        )]
        .into_iter()
        .collect();
        let text = format!(
            "[\"{}\", \"{}\"]",
            alb_dimension_of("tg"),
            alb_dimension_of("x")
        );
        assert_eq!(
            with_ids(&text, &ids),
            "[\"targetgroup/m-a-b/0123abcd\", \"${alb_dimension:x}\"]"
        );
        assert_eq!(with_ids("plain", &ids), "plain");
    }
}
