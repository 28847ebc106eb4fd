//! The alarm queries and dashboard lines both backends build their
//! [`super::ServiceMetrics`] from.

use std::collections::BTreeMap;

use crate::resources::microservice::alarm_timing::ALARM_PERIOD_SECONDS;
use crate::spec::cloudwatch::MetricQuerySpec;

/// One metric statistic as an alarm query.
pub(crate) fn metric_query(
    id: &str,
    namespace: &str,
    metric: &str,
    dimensions: &BTreeMap<String, String>,
    stat: &str,
    return_data: bool,
) -> MetricQuerySpec {
    MetricQuerySpec {
        id: id.to_string(),
        label: None,
        expression: None,
        metric: Some(crate::spec::cloudwatch::MetricStatSpec {
            namespace: namespace.to_string(),
            metric_name: metric.to_string(),
            dimensions: dimensions.clone(),
            period_seconds: ALARM_PERIOD_SECONDS,
            stat: stat.to_string(),
        }),
        return_data,
    }
}

/// The error-rate expression over queries `errors` and `requests`: no
/// requests is no error (not missing data), and a period with requests but
/// no error data point counts zero errors.
pub(crate) fn error_rate_expression() -> MetricQuerySpec {
    MetricQuerySpec {
        id: "error_rate".to_string(),
        label: Some("Error rate (%)".to_string()),
        expression: Some(
            "IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)".to_string(),
        ),
        metric: None,
        return_data: true,
    }
}

/// A dashboard metric line: `[namespace, name, dim, value, ..., {stat}]`.
pub(crate) fn dashboard_line(
    namespace: &str,
    metric: &str,
    dimensions: &BTreeMap<String, String>,
    stat: &str,
) -> serde_json::Value {
    let mut line = vec![serde_json::json!(namespace), serde_json::json!(metric)];
    for (k, v) in dimensions {
        line.push(serde_json::json!(k));
        line.push(serde_json::json!(v));
    }
    line.push(serde_json::json!({ "stat": stat }));
    serde_json::Value::Array(line)
}
