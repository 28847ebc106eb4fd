//! The error-rate and latency alarms of a microservice behind the
//! platform's load balancer, and the dashboard's load balancer widgets
//! (issue 21 item 3). Pure: settings and the platform's ingress in, specs out.
//!
//! The ALB publishes in `AWS/ApplicationELB` per target group (dimensions
//! `LoadBalancer` = `app/NAME/ID`, `TargetGroup` = `targetgroup/NAME/ID`):
//! `RequestCount`, `HTTPCode_Target_5XX_Count` and `TargetResponseTime`
//! (seconds, percentiles served). A release runs the new revision in the
//! other target group, so each revision is seen apart and nothing is
//! diluted by its share.
//!
//! "The worse of the two" is **one alarm per kind over metric math**,
//! `MAX([blue, green])` of the per-group values, not two alarms per kind:
//! the alarm names stay the ones ECS watches and users route actions from
//! (`PLATFORM-NAME-error-rate`, `PLATFORM-NAME-latency-p95`), a release
//! rolls back on exactly these two, and the dashboard and docs speak of one
//! error rate. CloudWatch allows ten queries per alarm; each uses seven
//! (four metrics, three expressions).
//!
//! Noise: a target group that served fewer than `deployment.min_requests`
//! requests in a minute has **no data point** that minute (`IF` without a
//! false branch), and missing data is not breaching: one failed request of
//! two is no 50 % failure, and a group that served nothing is no healthy
//! one either (it just does not count). With both groups below the floor
//! the alarm sees missing data and stays OK.

use std::collections::BTreeMap;

use super::alarm_timing::ALARM_PERIOD_SECONDS;
use super::config::Settings;
use super::ingress_components::keys::{TARGET_GROUP_BLUE, TARGET_GROUP_GREEN};
use super::platform::PlatformIngress;
use crate::spec::cloudwatch::{alb_dimension_of, MetricAlarmSpec, MetricQuerySpec, MetricStatSpec};

/// The namespace the Application Load Balancer publishes in.
pub const NAMESPACE: &str = "AWS/ApplicationELB";
/// The latency alarm's name part: it reads a real p95.
pub const LATENCY_WHAT: &str = "latency-p95";
/// The statistic of `TargetResponseTime` the latency alarm reads.
pub const LATENCY_STAT: &str = "p95";

/// The two target groups, by the suffix of their query ids and their
/// component keys.
const GROUPS: [(&str, &str); 2] = [("blue", TARGET_GROUP_BLUE), ("green", TARGET_GROUP_GREEN)];

/// The `LoadBalancer` dimension (`app/NAME/ID`) from the ARN of one of its
/// listeners (`arn:...:listener/app/NAME/ID/LISTENER`): known at plan, as
/// the platform's listener is.
pub fn load_balancer_dimension(listener_arn: &str) -> String {
    let resource = listener_arn.splitn(6, ':').nth(5).unwrap_or(listener_arn);
    let path = resource.strip_prefix("listener/").unwrap_or(resource);
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.truncate(3);
    parts.join("/")
}

/// The dimensions of target group `key` of the service: the load
/// balancer's, and the group's own, put in once the group exists.
fn dimensions(alb: &PlatformIngress, key: &str) -> BTreeMap<String, String> {
    [
        (
            "LoadBalancer".to_string(),
            load_balancer_dimension(&alb.listener_arn),
        ),
        ("TargetGroup".to_string(), alb_dimension_of(key)),
    ]
    .into_iter()
    .collect()
}

fn metric(id: String, alb: &PlatformIngress, key: &str, name: &str, stat: &str) -> MetricQuerySpec {
    MetricQuerySpec {
        id,
        label: None,
        expression: None,
        metric: Some(MetricStatSpec {
            namespace: NAMESPACE.to_string(),
            metric_name: name.to_string(),
            dimensions: dimensions(alb, key),
            period_seconds: ALARM_PERIOD_SECONDS,
            stat: stat.to_string(),
        }),
        return_data: false,
    }
}

fn expression(id: &str, label: Option<String>, text: String, return_data: bool) -> MetricQuerySpec {
    MetricQuerySpec {
        id: id.to_string(),
        label,
        expression: Some(text),
        metric: None,
        return_data,
    }
}

/// The error-rate alarm's queries: per group its requests and 5xx (Sum),
/// its rate when it served at least `min` requests, and the worse rate.
pub fn error_rate_queries(alb: &PlatformIngress, min: u32) -> Vec<MetricQuerySpec> {
    let mut queries = Vec::new();
    let mut rates = Vec::new();
    for (group, key) in GROUPS {
        let (requests, errors, rate) = (
            format!("requests_{group}"),
            format!("errors_{group}"),
            format!("error_rate_{group}"),
        );
        queries.push(metric(requests.clone(), alb, key, "RequestCount", "Sum"));
        queries.push(metric(
            errors.clone(),
            alb,
            key,
            "HTTPCode_Target_5XX_Count",
            "Sum",
        ));
        // No 5xx data point in a minute with requests is no failure.
        rates.push(expression(
            &rate,
            None,
            format!("IF(FILL({requests}, 0) >= {min}, 100 * FILL({errors}, 0) / {requests})"),
            false,
        ));
    }
    let ids: Vec<String> = rates.iter().map(|q| q.id.clone()).collect();
    queries.extend(rates);
    queries.push(expression(
        "error_rate",
        Some("Error rate (%), the worse target group".to_string()),
        format!("MAX([{}])", ids.join(", ")),
        true,
    ));
    queries
}

/// The latency alarm's queries: per group its requests and the p95 of
/// `TargetResponseTime` (seconds), in milliseconds when it served at least
/// `min` requests, and the worse of the two.
pub fn latency_queries(alb: &PlatformIngress, min: u32) -> Vec<MetricQuerySpec> {
    let mut queries = Vec::new();
    let mut groups = Vec::new();
    for (group, key) in GROUPS {
        let (requests, seconds, ms) = (
            format!("requests_{group}"),
            format!("response_time_{group}"),
            format!("p95_ms_{group}"),
        );
        queries.push(metric(requests.clone(), alb, key, "RequestCount", "Sum"));
        queries.push(metric(
            seconds.clone(),
            alb,
            key,
            "TargetResponseTime",
            LATENCY_STAT,
        ));
        groups.push(expression(
            &ms,
            None,
            format!("IF(FILL({requests}, 0) >= {min}, 1000 * {seconds})"),
            false,
        ));
    }
    let ids: Vec<String> = groups.iter().map(|q| q.id.clone()).collect();
    queries.extend(groups);
    queries.push(expression(
        "latency",
        Some("p95 latency (ms), the worse target group".to_string()),
        format!("MAX([{}])", ids.join(", ")),
        true,
    ));
    queries
}

/// The operational error-rate and latency alarms turned to the load
/// balancer's metrics: same thresholds (the latency one in milliseconds,
/// as `p95_latency_ms` says), names and actions; the latency alarm's name
/// ends in `latency-p95`.
pub fn alarms(
    settings: &Settings,
    alb: &PlatformIngress,
    error_rate: MetricAlarmSpec,
    latency: MetricAlarmSpec,
    latency_name: String,
) -> [MetricAlarmSpec; 2] {
    let min = settings.deployment.min_requests();
    let name = &settings.name;
    let error_rate = MetricAlarmSpec {
        description: format!(
            "{name}: more than {}% of the requests of one target group fail (5xx, at the load \
             balancer, the worse of the two groups; a group with fewer than {min} requests in a \
             minute does not count)",
            settings.alarms.error_rate_percent
        ),
        metrics: error_rate_queries(alb, min),
        ..error_rate
    };
    let latency = MetricAlarmSpec {
        name: latency_name,
        description: format!(
            "{name}: p95 of TargetResponseTime of one target group above {} ms (at the load \
             balancer, the worse of the two groups; a group with fewer than {min} requests in a \
             minute does not count)",
            settings.alarms.p95_latency_ms
        ),
        metrics: latency_queries(alb, min),
        ..latency
    };
    [error_rate, latency]
}

/// The dashboard's load balancer widgets, from `y` down: requests, 5xx and
/// p95 (seconds, as the ALB publishes it) of each target group.
pub fn dashboard_widgets(alb: &PlatformIngress, region: &str, y: i32) -> Vec<serde_json::Value> {
    let lb = load_balancer_dimension(&alb.listener_arn);
    let lines = |metric: &str, stat: &str| -> Vec<serde_json::Value> {
        GROUPS
            .iter()
            .map(|(group, key)| {
                serde_json::json!([
                    NAMESPACE, metric,
                    "LoadBalancer", lb,
                    "TargetGroup", alb_dimension_of(key),
                    { "stat": stat, "label": format!("{metric} {group}") }
                ])
            })
            .collect()
    };
    let widget = |x: i32, y: i32, title: &str, metrics: Vec<serde_json::Value>| {
        serde_json::json!({
            "type": "metric",
            "x": x, "y": y, "width": 8, "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "view": "timeSeries",
                "period": 60,
                "metrics": metrics,
            }
        })
    };
    vec![
        widget(
            0,
            y,
            "Load balancer requests per target group",
            lines("RequestCount", "Sum"),
        ),
        widget(
            8,
            y,
            "Load balancer 5xx per target group",
            lines("HTTPCode_Target_5XX_Count", "Sum"),
        ),
        widget(
            16,
            y,
            "Load balancer p95 response time (s) per target group",
            lines("TargetResponseTime", LATENCY_STAT),
        ),
    ]
}

#[cfg(test)]
#[path = "ingress_alarms_tests.rs"]
mod tests;
