//! How many requests a service served lately: read at plan, for the
//! warning that a release's share and bake time can hardly reach
//! `min_requests` (the provider's alarms decide at apply; this only warns).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use aws_smithy_types::DateTime;

use crate::aws::{AwsError, Clients};

/// The Sum of `metric` with exactly `dimensions` over the last `window`,
/// per minute; `None` without any data point (CloudWatch keeps no zero).
pub async fn per_minute(
    aws: &Clients,
    namespace: &str,
    metric: &str,
    dimensions: &BTreeMap<String, String>,
    window: Duration,
) -> Result<Option<f64>, AwsError> {
    const CALL: &str = "cloudwatch:GetMetricStatistics";
    let end = SystemTime::now();
    let start = end - window;
    let period = i32::try_from(window.as_secs()).unwrap_or(86_400).max(60);
    let out = aws
        .cloudwatch
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(metric)
        .set_dimensions(Some(
            dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                .collect(),
        ))
        .start_time(DateTime::from(start))
        .end_time(DateTime::from(end))
        .period(period)
        .statistics(Statistic::Sum)
        .send()
        .await
        .map_err(|e| AwsError::sdk(CALL, e))?;
    let points = out.datapoints();
    if points.is_empty() {
        return Ok(None);
    }
    let sum: f64 = points.iter().filter_map(|p| p.sum()).sum();
    Ok(Some(sum / (window.as_secs_f64() / 60.0)))
}
