//! The release's rollback alarms per share of traffic (pure expansion).

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::environment::Environment;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::expand::{expand, keys};
use crate::resources::microservice::test_fixtures::platform_on;
use crate::service_mesh::ServiceMesh;
use crate::spec::cloudwatch::MetricAlarmSpec;
use crate::spec::DesiredGraph;

fn settings(deployment: serde_json::Value) -> Settings {
    let config = MicroserviceConfig::from_value(&json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "r/auth:1.4.2",
        "port": 8080,
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "alarms": [{"error_rate_percent": 5, "p95_latency_ms": 200}],
        "deployment": [deployment],
    }))
    .expect("parses");
    Settings::resolve(
        &config,
        Environment::Production,
        ServiceMesh::ServiceConnect,
    )
    .expect("valid")
}

fn graph(deployment: serde_json::Value) -> DesiredGraph {
    expand(
        &settings(deployment),
        &platform_on(Environment::Production, ServiceMesh::ServiceConnect),
    )
}

fn alarm(g: &DesiredGraph, key: &str) -> MetricAlarmSpec {
    match &g.get(key).unwrap().spec {
        Spec::MetricAlarm(a) => a.clone(),
        other => panic!("{other:?}"),
    }
}

fn rollback_alarms(g: &DesiredGraph) -> Vec<String> {
    match &g.get(keys::SERVICE).unwrap().spec {
        Spec::EcsService(s) => s.deployment.alarm_names.clone(),
        other => panic!("{other:?}"),
    }
}

/// The error rate, percent, of a service whose new revision at `share`
/// fails every request and whose old revision fails none.
fn all_failing(share: f64) -> f64 {
    share
}

#[test]
fn a_two_percent_canary_failing_every_request_trips_its_release_alarm() {
    let g = graph(json!({"strategy": "canary", "canary_percent": 2, "rollback_on_alarms": true}));
    let release = alarm(&g, ALARM_RELEASE_ERROR_RATE);
    assert_eq!(release.name, "matbakh-auth-service-release-error-rate");
    assert_eq!(release.threshold, 0.1);
    assert!(all_failing(2.0) > release.threshold);
    // The same expression as the operational alarm: the service's rate.
    let operational = alarm(&g, keys::ALARM_ERROR_RATE);
    assert_eq!(release.metrics, operational.metrics);
    // The microservice's own alarm keeps the user's threshold.
    assert_eq!(operational.threshold, 5.0);
    assert!(
        all_failing(2.0) < operational.threshold,
        "why the release needs its own"
    );
    assert_eq!(
        rollback_alarms(&g),
        vec![
            "matbakh-auth-service-release-error-rate".to_string(),
            "matbakh-auth-service-latency-average".to_string(),
        ]
    );
}

#[test]
fn the_threshold_follows_the_smallest_share_of_each_strategy() {
    for (deployment, share) in [
        (json!({"strategy": "canary", "canary_percent": 0.3}), 0.3),
        (json!({"strategy": "canary"}), 5.0),
        (json!({"strategy": "linear", "step_percent": 10}), 10.0),
        (json!({"strategy": "linear", "step_percent": 25}), 25.0),
    ] {
        let mut d = deployment.clone();
        d["rollback_on_alarms"] = json!(true);
        let release = alarm(&graph(d), ALARM_RELEASE_ERROR_RATE);
        assert_eq!(
            release.threshold,
            scaled_error_rate(5.0, share),
            "{deployment}"
        );
        assert!(all_failing(share) > release.threshold, "{deployment}");
    }
}

#[test]
fn full_shifts_and_no_rollback_keep_the_operational_alarms() {
    for deployment in [
        json!({"strategy": "rolling", "rollback_on_alarms": true}),
        json!({"strategy": "blue_green", "rollback_on_alarms": true}),
    ] {
        let g = graph(deployment.clone());
        assert!(g.get(ALARM_RELEASE_ERROR_RATE).is_none(), "{deployment}");
        assert_eq!(
            rollback_alarms(&g),
            vec![
                "matbakh-auth-service-error-rate".to_string(),
                "matbakh-auth-service-latency-average".to_string(),
            ]
        );
    }
    let g = graph(json!({"strategy": "canary", "canary_percent": 2}));
    assert!(g.get(ALARM_RELEASE_ERROR_RATE).is_none());
    assert!(rollback_alarms(&g).is_empty());
}

#[test]
fn the_latency_alarm_is_named_after_the_statistic_it_reads() {
    let g = graph(json!({}));
    let latency = alarm(&g, keys::ALARM_P95_LATENCY);
    assert_eq!(latency.name, "matbakh-auth-service-latency-average");
    let stat = latency.metrics[0].metric.as_ref().unwrap().stat.clone();
    assert_eq!(stat, "Average");
    assert!(
        latency.description.contains("Average"),
        "{}",
        latency.description
    );
}
