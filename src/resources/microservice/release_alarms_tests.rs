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
            "matbakh-auth-service-release-latency-maximum".to_string(),
            "matbakh-auth-service-release-no-traffic".to_string(),
        ]
    );
}

/// The Average and the Maximum of a minute in which the old revision
/// answers every request in `old` ms and the new revision, at `share`
/// percent, in `new` ms.
fn mixed(old: f64, new: f64, share: f64) -> (f64, f64) {
    let s = share / 100.0;
    ((1.0 - s) * old + s * new, old.max(new))
}

#[test]
fn a_two_percent_canary_slower_than_the_threshold_moves_its_release_latency_alarm() {
    let g = graph(json!({"strategy": "canary", "canary_percent": 2, "rollback_on_alarms": true}));
    let release = alarm(&g, ALARM_RELEASE_LATENCY);
    let operational = alarm(&g, keys::ALARM_P95_LATENCY);
    assert_eq!(release.name, "matbakh-auth-service-release-latency-maximum");
    assert_eq!(release.threshold, 200.0);
    let stat = |a: &MetricAlarmSpec| a.metrics[0].metric.as_ref().unwrap().stat.clone();
    assert_eq!(stat(&release), "Maximum");
    // The same series as the operational alarm, another statistic.
    let series = |a: &MetricAlarmSpec| {
        let m = a.metrics[0].metric.clone().unwrap();
        (m.namespace, m.metric_name, m.dimensions, m.period_seconds)
    };
    assert_eq!(series(&release), series(&operational));
    // The microservice's own alarm keeps the user's threshold and the Average.
    assert_eq!(
        (operational.threshold, stat(&operational)),
        (200.0, "Average".to_string())
    );
    // Old revision at 20 ms, the new one at 400 ms: the Average stays far
    // below 200, the Maximum is the new revision's.
    let (average, maximum) = mixed(20.0, 400.0, 2.0);
    assert!(
        average < operational.threshold,
        "why the release needs its own"
    );
    assert!(maximum > release.threshold);
    // A new revision as fast as the old one does not move it.
    assert!(mixed(20.0, 25.0, 2.0).1 < release.threshold);
}

#[test]
fn every_share_below_everything_has_the_release_latency_alarm() {
    for deployment in [
        json!({"strategy": "canary", "canary_percent": 0.3}),
        json!({"strategy": "linear", "step_percent": 25}),
    ] {
        let mut d = deployment.clone();
        d["rollback_on_alarms"] = json!(true);
        let release = alarm(&graph(d), ALARM_RELEASE_LATENCY);
        assert_eq!(release.threshold, 200.0, "{deployment}");
        assert!(release.description.contains("Maximum"), "{deployment}");
    }
    for deployment in [
        json!({"strategy": "rolling", "rollback_on_alarms": true}),
        json!({"strategy": "blue_green", "rollback_on_alarms": true}),
        json!({"strategy": "canary", "canary_percent": 2}),
    ] {
        assert!(
            graph(deployment.clone())
                .get(ALARM_RELEASE_LATENCY)
                .is_none(),
            "{deployment}"
        );
    }
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
    for (deployment, silence) in [
        (
            json!({"strategy": "rolling", "rollback_on_alarms": true}),
            false,
        ),
        (
            json!({"strategy": "blue_green", "rollback_on_alarms": true}),
            true,
        ),
    ] {
        let g = graph(deployment.clone());
        assert!(g.get(ALARM_RELEASE_ERROR_RATE).is_none(), "{deployment}");
        let mut names = vec![
            "matbakh-auth-service-error-rate".to_string(),
            "matbakh-auth-service-latency-average".to_string(),
        ];
        if silence {
            names.push("matbakh-auth-service-release-no-traffic".to_string());
        }
        assert_eq!(rollback_alarms(&g), names, "{deployment}");
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

#[test]
fn silence_is_measured_over_the_step() {
    // 5 % for 10 minutes, min_requests 3: the service must serve 60
    // requests in the step for the new revision to be expected to see 3.
    let g = graph(
        json!({"strategy": "canary", "canary_percent": 5, "bake_time": "10m",
                         "rollback_on_alarms": true, "min_requests": 3}),
    );
    let silence = alarm(&g, ALARM_RELEASE_NO_TRAFFIC);
    assert_eq!(silence.name, "matbakh-auth-service-release-no-traffic");
    assert_eq!(silence.threshold, 60.0);
    assert_eq!(silence.comparison_operator, "LessThanThreshold");
    assert_eq!(silence.treat_missing_data, "breaching");
    assert_eq!(
        (silence.evaluation_periods, silence.datapoints_to_alarm),
        (1, 1)
    );
    let [query] = silence.metrics.as_slice() else {
        panic!("{:?}", silence.metrics)
    };
    let stat = query.metric.as_ref().unwrap();
    assert_eq!(
        (stat.metric_name.as_str(), stat.stat.as_str()),
        ("RequestCount", "Sum")
    );
    assert_eq!(stat.period_seconds, 600, "one period is one step");
    assert!(query.return_data);
    // The default is one request: never promote on silence.
    let g = graph(
        json!({"strategy": "linear", "step_percent": 20, "bake_time": "3m",
                         "rollback_on_alarms": true}),
    );
    let silence = alarm(&g, ALARM_RELEASE_NO_TRAFFIC);
    assert_eq!(silence.threshold, 5.0);
    assert_eq!(
        silence.metrics[0].metric.as_ref().unwrap().period_seconds,
        180
    );
}

#[test]
fn min_requests_is_a_whole_number_of_at_least_one() {
    use crate::resources::microservice::deployment::{validate, DeploymentConfig};
    for bad in ["0", "1.5", "-2", "2000000"] {
        let d = DeploymentConfig {
            min_requests: Some(bad.to_string()),
            ..Default::default()
        };
        let problems = validate(&d);
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        assert_eq!(problems[0].dotted(), "deployment.0.min_requests");
    }
    let d = DeploymentConfig {
        min_requests: Some("25".to_string()),
        ..Default::default()
    };
    assert!(validate(&d).is_empty());
}

#[test]
fn a_plan_warns_when_a_step_can_hardly_reach_min_requests() {
    let s = settings(
        json!({"strategy": "canary", "canary_percent": 5, "bake_time": "10m",
                            "rollback_on_alarms": true, "min_requests": 5}),
    );
    // 10 a minute: 100 in the step, 5 for the new revision, under twice 5.
    let (summary, detail) = silence_warning(&s, 10.0).expect("a warning");
    assert_eq!(
        summary,
        "auth-service: a release can hardly reach min_requests"
    );
    assert!(detail.contains("about 5.0 requests"), "{detail}");
    assert!(detail.contains("min_requests = 5"), "{detail}");
    // 20 a minute: 10 for the new revision, enough.
    assert_eq!(silence_warning(&s, 20.0), None);
    // Rolling releases have no such alarm.
    let rolling = settings(json!({"strategy": "rolling", "rollback_on_alarms": true}));
    assert_eq!(silence_warning(&rolling, 0.0), None);
}
