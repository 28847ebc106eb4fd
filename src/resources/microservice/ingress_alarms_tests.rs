use super::*;
use crate::environment::Environment;
use crate::resources::microservice::expand::{self, keys};
use crate::resources::microservice::platform::PlatformContext;
use crate::service_mesh::ServiceMesh;
use crate::spec::{DesiredGraph, Spec};

const LISTENER: &str =
    "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/app/matbakh/50dc6c495c0c9188/f2f7dc8efc522ab2";

fn alb() -> PlatformIngress {
    PlatformIngress {
        listener_arn: LISTENER.into(),
        test_listener_arn: LISTENER.replace("f2f7", "aaaa"),
        security_group_id: "sg-0alb".into(),
        dns_name: "matbakh-1.eu-central-1.elb.amazonaws.com".into(),
        https: true,
    }
}

fn settings(deployment: serde_json::Value) -> Settings {
    let config = crate::resources::microservice::config::MicroserviceConfig::from_value(
        &serde_json::json!({
            "platform": "matbakh", "name": "auth-service", "image": "x", "port": 8080,
            "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
            "security_group_ids": ["sg-0user"],
            "alarms": [{"error_rate_percent": 5, "p95_latency_ms": 200}],
            "dashboard": true,
            "deployment": [deployment],
            "ingress": [{"paths": ["/auth/*"]}],
        }),
    )
    .unwrap();
    Settings::resolve_unchecked(&config, Environment::Production).on(ServiceMesh::ServiceConnect)
}

fn platform(with_alb: bool) -> PlatformContext {
    let mut p = crate::resources::microservice::test_fixtures::platform_on(
        Environment::Production,
        ServiceMesh::ServiceConnect,
    );
    p.ingress = with_alb.then(alb);
    p
}

fn alarm<'a>(g: &'a DesiredGraph, key: &str) -> &'a MetricAlarmSpec {
    match &g.components.iter().find(|c| c.key == key).unwrap().spec {
        Spec::MetricAlarm(a) => a,
        other => panic!("{key}: {other:?}"),
    }
}

fn depends_on(g: &DesiredGraph, key: &str) -> Vec<String> {
    g.components
        .iter()
        .find(|c| c.key == key)
        .unwrap()
        .depends_on
        .clone()
}

/// The graph of a service's previous settings, with `ingress`, on a
/// platform looked up without it (the plan of removing the block): its
/// alarms are the ingress ones, so the plan sees them change (renamed).
#[test]
fn previous_settings_with_ingress_keep_their_alarm_names_without_the_lookup() {
    let s = settings(serde_json::json!({"strategy": "rolling"}));
    let g = expand::expand(&s, &platform(false));
    assert_eq!(
        alarm(&g, keys::ALARM_P95_LATENCY).name,
        "matbakh-auth-service-latency-p95"
    );
}

#[test]
fn the_load_balancer_dimension_is_app_name_id_of_its_listener() {
    assert_eq!(
        load_balancer_dimension(LISTENER),
        "app/matbakh/50dc6c495c0c9188"
    );
}

#[test]
fn error_rate_is_the_worse_target_group_with_a_request_floor() {
    let s = settings(serde_json::json!({"strategy": "rolling", "min_requests": 20}));
    let g = expand::expand(&s, &platform(true));
    let a = alarm(&g, keys::ALARM_ERROR_RATE);
    assert_eq!(a.name, "matbakh-auth-service-error-rate");
    assert_eq!(a.threshold, 5.0);
    assert_eq!(a.treat_missing_data, "notBreaching");
    let by_id: BTreeMap<&str, &MetricQuerySpec> =
        a.metrics.iter().map(|q| (q.id.as_str(), q)).collect();
    let blue = by_id["requests_blue"].metric.as_ref().unwrap();
    assert_eq!(blue.namespace, "AWS/ApplicationELB");
    assert_eq!(
        (
            blue.metric_name.as_str(),
            blue.stat.as_str(),
            blue.period_seconds
        ),
        ("RequestCount", "Sum", 60)
    );
    assert_eq!(
        blue.dimensions,
        [
            (
                "LoadBalancer".to_string(),
                "app/matbakh/50dc6c495c0c9188".to_string()
            ),
            (
                "TargetGroup".to_string(),
                alb_dimension_of(keys_of_groups()[0])
            ),
        ]
        .into_iter()
        .collect()
    );
    let green = by_id["errors_green"].metric.as_ref().unwrap();
    assert_eq!(green.metric_name, "HTTPCode_Target_5XX_Count");
    assert_eq!(
        green.dimensions["TargetGroup"],
        alb_dimension_of(keys_of_groups()[1])
    );
    assert_eq!(
        by_id["error_rate_blue"].expression.as_deref(),
        Some("IF(FILL(requests_blue, 0) >= 20, 100 * FILL(errors_blue, 0) / requests_blue)")
    );
    let watched: Vec<&MetricQuerySpec> = a.metrics.iter().filter(|q| q.return_data).collect();
    assert_eq!(watched.len(), 1);
    assert_eq!(
        watched[0].expression.as_deref(),
        Some("MAX([error_rate_blue, error_rate_green])")
    );
    // The groups exist before the alarms and the dashboard that name them.
    for key in [
        keys::ALARM_ERROR_RATE,
        keys::ALARM_P95_LATENCY,
        keys::DASHBOARD,
    ] {
        let after = depends_on(&g, key);
        for group in keys_of_groups() {
            assert!(after.contains(&group.to_string()), "{key}: {after:?}");
        }
    }
}

fn keys_of_groups() -> [&'static str; 2] {
    [TARGET_GROUP_BLUE, TARGET_GROUP_GREEN]
}

#[test]
fn latency_is_a_real_p95_in_milliseconds_of_the_worse_group() {
    let s = settings(serde_json::json!({"strategy": "rolling"}));
    let g = expand::expand(&s, &platform(true));
    let a = alarm(&g, keys::ALARM_P95_LATENCY);
    assert_eq!(a.name, "matbakh-auth-service-latency-p95");
    assert_eq!(a.threshold, 200.0);
    let by_id: BTreeMap<&str, &MetricQuerySpec> =
        a.metrics.iter().map(|q| (q.id.as_str(), q)).collect();
    let m = by_id["response_time_green"].metric.as_ref().unwrap();
    assert_eq!(
        (m.metric_name.as_str(), m.stat.as_str()),
        ("TargetResponseTime", "p95")
    );
    // The default floor: min_requests' default.
    assert_eq!(
        by_id["p95_ms_green"].expression.as_deref(),
        Some("IF(FILL(requests_green, 0) >= 1, 1000 * response_time_green)")
    );
    assert_eq!(
        by_id["latency"].expression.as_deref(),
        Some("MAX([p95_ms_blue, p95_ms_green])")
    );
    assert!(by_id["latency"].return_data);
}

#[test]
fn a_release_rolls_back_on_the_per_group_alarms_not_on_scaled_ones() {
    let s = settings(serde_json::json!({
        "strategy": "canary", "canary_percent": 1, "rollback_on_alarms": true
    }));
    let p = platform(true);
    let g = expand::expand(&s, &p);
    let service = g
        .components
        .iter()
        .find_map(|c| match &c.spec {
            Spec::EcsService(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        service.deployment.alarm_names,
        [
            "matbakh-auth-service-error-rate",
            "matbakh-auth-service-latency-p95",
            "matbakh-auth-service-release-no-traffic",
        ]
    );
    let keys: Vec<&str> = g.components.iter().map(|c| c.key.as_str()).collect();
    assert!(
        !keys.contains(&crate::resources::microservice::release_alarms::ALARM_RELEASE_ERROR_RATE)
    );
    assert!(!keys.contains(&crate::resources::microservice::release_alarms::ALARM_RELEASE_LATENCY));
}

#[test]
fn the_dashboard_shows_requests_5xx_and_p95_of_each_target_group() {
    let s = settings(serde_json::json!({"strategy": "rolling"}));
    let g = expand::expand(&s, &platform(true));
    let Spec::Dashboard(d) = &g
        .components
        .iter()
        .find(|c| c.key == keys::DASHBOARD)
        .unwrap()
        .spec
    else {
        panic!()
    };
    let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
    let widgets = body["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 7);
    let lines: Vec<&serde_json::Value> = widgets[4..]
        .iter()
        .flat_map(|w| w["properties"]["metrics"].as_array().unwrap())
        .collect();
    let shown: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l[1].as_str().unwrap().to_string(),
                l[5].as_str().unwrap().to_string(),
                l[6]["stat"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let blue = alb_dimension_of(TARGET_GROUP_BLUE);
    let green = alb_dimension_of(TARGET_GROUP_GREEN);
    assert_eq!(
        shown,
        [
            ("RequestCount".into(), blue.clone(), "Sum".into()),
            ("RequestCount".into(), green.clone(), "Sum".into()),
            (
                "HTTPCode_Target_5XX_Count".into(),
                blue.clone(),
                "Sum".into()
            ),
            (
                "HTTPCode_Target_5XX_Count".into(),
                green.clone(),
                "Sum".into()
            ),
            ("TargetResponseTime".into(), blue, "p95".into()),
            ("TargetResponseTime".into(), green, "p95".into()),
        ]
    );
    assert!(lines
        .iter()
        .all(|l| l[0] == "AWS/ApplicationELB" && l[3] == "app/matbakh/50dc6c495c0c9188"));
}

#[test]
fn without_ingress_the_service_connect_alarms_stay() {
    let mut s = settings(serde_json::json!({"strategy": "rolling"}));
    s.ingress = None;
    let g = expand::expand(&s, &platform(true));
    assert_eq!(
        alarm(&g, keys::ALARM_P95_LATENCY).name,
        "matbakh-auth-service-latency-average"
    );
    let a = alarm(&g, keys::ALARM_ERROR_RATE);
    assert!(a
        .metrics
        .iter()
        .filter_map(|q| q.metric.as_ref())
        .all(|m| m.namespace == "AWS/ECS"));
    assert!(depends_on(&g, keys::ALARM_ERROR_RATE).is_empty());
}
