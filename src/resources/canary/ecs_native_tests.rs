//! Tests of the canary on service_connect that need no AWS: its alarms,
//! its revision, the deployment it asks ECS for, and how a deployment
//! record reads as `status` and `current_weight`.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::environment::Environment;
use crate::resources::canary::config::CanaryConfig;
use crate::resources::microservice::config::MicroserviceConfig;
use crate::resources::microservice::test_fixtures::platform_on;
use crate::service_mesh::ServiceMesh;
use crate::spec::deployment_strategy::DeploymentStrategy;
use crate::spec::ownership::OwnerToken;

fn platform() -> PlatformContext {
    platform_on(Environment::Production, ServiceMesh::ServiceConnect)
}

fn stable() -> Settings {
    let config = MicroserviceConfig::from_value(&json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "registry.example/auth:1.4.2",
        "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 3,
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "alarms": [{"actions": ["arn:aws:sns:eu-central-1:123456789012:alerts"]}],
    }))
    .unwrap();
    Settings::resolve(
        &config,
        Environment::Production,
        ServiceMesh::ServiceConnect,
    )
    .unwrap()
}

fn canary(patch: serde_json::Value) -> CanarySettings {
    let mut value = json!({
        "microservice": "matbakh/auth-service",
        "image": "registry.example/auth:1.5.0",
        "steps": [10, 100],
        "step_interval": "5m",
        "rollback_on": [{"error_rate_percent": 2.0, "p95_latency_ms": 150.0}],
    });
    for (k, v) in patch.as_object().unwrap() {
        value[k] = v.clone();
    }
    CanarySettings::resolve(&CanaryConfig::from_value(&value).unwrap()).unwrap()
}

fn alarm<'a>(g: &'a DesiredGraph, key: &str) -> &'a crate::spec::cloudwatch::MetricAlarmSpec {
    match &g.get(key).unwrap_or_else(|| panic!("no {key}")).spec {
        Spec::MetricAlarm(a) => a,
        other => panic!("{key} is {other:?}"),
    }
}

#[test]
fn the_alarms_read_the_services_metrics_under_canary_names() {
    let g = alarm_graph(&stable(), &platform(), &canary(json!({})));
    let keys: Vec<&str> = g.components.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        vec!["alarm_error_rate", "alarm_p95_latency", "alarm_no_traffic"]
    );
    let errors = alarm(&g, "alarm_error_rate");
    assert_eq!(errors.name, "matbakh-auth-service-canary-error-rate");
    // 2 % of the candidate's requests at its first 10 % of the traffic.
    assert_eq!(errors.threshold, 0.2);
    // Service Connect publishes per discovery name: the service's.
    let text = serde_json::to_string(&errors.metrics).unwrap();
    assert!(
        text.contains("\"DiscoveryName\":\"auth-service_matbakh\""),
        "{text}"
    );
    assert!(!text.contains("auth-service-canary"), "{text}");
    assert_eq!(alarm(&g, "alarm_p95_latency").threshold, 150.0);
    assert_eq!(
        errors.tags.get(OWNER_TAG).map(String::as_str),
        Some("matbakh/auth-service-canary")
    );
}

#[test]
fn below_everything_the_latency_alarm_reads_the_maximum_a_slow_candidate_moves() {
    let stat = |a: &crate::spec::cloudwatch::MetricAlarmSpec| {
        a.metrics[0].metric.as_ref().unwrap().stat.clone()
    };
    let g = alarm_graph(&stable(), &platform(), &canary(json!({"steps": [2, 100]})));
    let latency = alarm(&g, "alarm_p95_latency");
    assert_eq!(latency.name, "matbakh-auth-service-canary-latency-maximum");
    assert_eq!(
        (stat(latency).as_str(), latency.threshold),
        ("Maximum", 150.0)
    );
    // Old revision at 20 ms, the candidate at 2 % and 400 ms: the service's
    // Average (27.6 ms) stays under 150, its Maximum does not.
    assert!(0.98 * 20.0 + 0.02 * 400.0 < latency.threshold);
    assert!(f64::max(20.0, 400.0) > latency.threshold);
    // Blue/green gives the candidate everything: nothing is diluted.
    let g = alarm_graph(
        &stable(),
        &platform(),
        &canary(json!({"strategy": "blue_green"})),
    );
    let latency = alarm(&g, "alarm_p95_latency");
    assert_eq!(latency.name, "matbakh-auth-service-canary-latency-average");
    assert_eq!(stat(latency), "Average");
}

#[test]
fn the_no_traffic_threshold_scales_with_the_candidates_first_share() {
    let at = |patch| {
        alarm(
            &alarm_graph(&stable(), &platform(), &canary(patch)),
            "alarm_no_traffic",
        )
        .clone()
    };
    let ten = at(json!({}));
    assert_eq!(ten.name, "matbakh-auth-service-canary-no-traffic");
    assert_eq!(ten.comparison_operator, "LessThanThreshold");
    assert_eq!(ten.treat_missing_data, "breaching");
    // 10 % of the traffic: the service must serve 10 a minute for the
    // candidate to be expected to serve one.
    assert_eq!(ten.threshold, 10.0);
    assert_eq!(at(json!({"steps": [25, 50, 75, 100]})).threshold, 4.0);
    assert_eq!(at(json!({"strategy": "blue_green"})).threshold, 1.0);
}

#[test]
fn the_candidate_revision_is_the_microservices_own_for_that_image() {
    let token = OwnerToken::generate();
    let td = candidate_task_definition(&stable(), &platform(), &canary(json!({})), Some(&token));
    let mut promoted = stable();
    promoted.image = "registry.example/auth:1.5.0".into();
    let own = match &stable::expand(&promoted, &platform())
        .with_owner_token(&token)
        .get(keys::TASK_DEFINITION)
        .unwrap()
        .spec
    {
        Spec::TaskDefinition(td) => td.clone(),
        other => panic!("{other:?}"),
    };
    // Same family and spec hash: the microservice's update after a
    // promotion finds this revision and deploys nothing.
    assert_eq!(td.family, own.family);
    assert_eq!(
        td.spec_hash(&Resolved::new()).unwrap(),
        own.spec_hash(&Resolved::new()).unwrap()
    );
    assert_eq!(
        td.tags.get(CANARY_TAG).map(String::as_str),
        Some("matbakh/auth-service-canary")
    );
    let mut without = td.tags.clone();
    without.remove(CANARY_TAG);
    assert_eq!(without, own.tags);
}

#[test]
fn the_deployment_is_the_strategy_ecs_can_walk_with_the_canary_alarms() {
    let c = canary(json!({}));
    let alarms = alarm_graph(&stable(), &platform(), &c);
    let spec = deployment_spec(&c, &alarms).unwrap();
    assert_eq!(
        spec.strategy,
        DeploymentStrategy::Canary {
            percent_tenths: 100,
            canary_bake_minutes: 5,
            bake_minutes: 5
        }
    );
    assert!(spec.rollback_on_alarms);
    assert_eq!(
        spec.alarm_names,
        vec![
            "matbakh-auth-service-canary-error-rate",
            "matbakh-auth-service-canary-latency-maximum",
            "matbakh-auth-service-canary-no-traffic"
        ]
    );
    assert!(is_canary_deployment(&spec, &stable(), &platform()));
    let linear =
        deployment_spec(&canary(json!({"steps": [20, 40, 60, 80, 100]})), &alarms).unwrap();
    assert!(matches!(
        linear.strategy,
        DeploymentStrategy::Linear {
            step_percent_tenths: 200,
            ..
        }
    ));
    let err = deployment_spec(&canary(json!({"steps": [5, 25, 50, 100]})), &alarms).unwrap_err();
    assert!(err.contains("[5, 25, 50, 100]"), "{err}");
    // The microservice's own alarms are not a canary's.
    let own = crate::spec::deployment_strategy::DeploymentSpec {
        strategy: DeploymentStrategy::Rolling,
        alarm_names: vec!["matbakh-auth-service-error-rate".into()],
        rollback_on_alarms: true,
    };
    assert!(!is_canary_deployment(&own, &stable(), &platform()));
}

#[test]
fn a_deployment_record_reads_as_status_and_weight() {
    let record = |status: &str, weight: Option<f64>| DeploymentRecord {
        arn: "arn:aws:ecs:eu-central-1:123456789012:service-deployment/matbakh/auth-service/x"
            .into(),
        status: status.into(),
        status_reason: None,
        stage: None,
        production_weight: weight,
        running: 0,
        requested: 0,
        pending: 0,
        triggered_alarms: vec![],
        first: false,
        ..Default::default()
    };
    assert_eq!(
        status_of(&record("IN_PROGRESS", Some(10.0))),
        (Status::Progressing, 10)
    );
    assert_eq!(
        status_of(&record("PENDING", None)),
        (Status::Progressing, 0)
    );
    assert_eq!(
        status_of(&record("SUCCESSFUL", Some(100.0))),
        (Status::Succeeded, 100)
    );
    for ended in [
        "ROLLBACK_SUCCESSFUL",
        "ROLLBACK_IN_PROGRESS",
        "STOPPED",
        "ROLLBACK_FAILED",
    ] {
        assert_eq!(
            status_of(&record(ended, Some(10.0))),
            (Status::RolledBack, 0)
        );
    }
}

#[test]
fn silence_is_judged_over_the_first_step_with_min_requests() {
    // 10 % for 5 minutes and 3 requests: the service must serve 30 in the step.
    let g = alarm_graph(&stable(), &platform(), &canary(json!({"min_requests": 3})));
    let silence = alarm(&g, "alarm_no_traffic");
    assert_eq!(silence.threshold, 30.0);
    assert_eq!(
        (silence.evaluation_periods, silence.datapoints_to_alarm),
        (1, 1)
    );
    assert_eq!(
        silence.metrics[0].metric.as_ref().unwrap().period_seconds,
        300
    );
    assert_eq!(silence.treat_missing_data, "breaching");
    // By default one request in the step: a quiet service at 3 requests a
    // minute (15 in the step, 1.5 for the candidate) releases.
    let g = alarm_graph(&stable(), &platform(), &canary(json!({})));
    assert_eq!(alarm(&g, "alarm_no_traffic").threshold, 10.0);
}

#[test]
fn behind_the_load_balancer_each_target_group_is_watched_apart_at_the_canarys_thresholds() {
    use crate::resources::microservice::ingress_components::keys::{
        TARGET_GROUP_BLUE, TARGET_GROUP_GREEN,
    };
    use crate::resources::microservice::platform::PlatformIngress;
    use crate::spec::cloudwatch::alb_dimension_of;
    let listener = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/app/matbakh/50dc6c495c0c9188/f2f7dc8efc522ab2";
    let config = MicroserviceConfig::from_value(&json!({
        "platform": "matbakh", "name": "auth-service", "image": "x", "port": 8080,
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
        "ingress": [{"paths": ["/auth/*"]}],
    }))
    .unwrap();
    let on_alb = Settings::resolve_unchecked(&config, Environment::Production)
        .on(ServiceMesh::ServiceConnect);
    let mut p = platform();
    p.ingress = Some(PlatformIngress {
        listener_arn: listener.into(),
        ..Default::default()
    });
    let g = alarm_graph(
        &on_alb,
        &p,
        &canary(json!({"steps": [1, 100], "min_requests": 5})),
    );
    let errors = alarm(&g, canary_keys::ALARM_ERROR_RATE);
    assert_eq!(errors.name, "matbakh-auth-service-canary-error-rate");
    // Not scaled to the 1 % share: the candidate's group is read apart.
    assert_eq!(errors.threshold, 2.0);
    let groups: std::collections::BTreeSet<String> = errors
        .metrics
        .iter()
        .filter_map(|q| q.metric.as_ref())
        .map(|m| {
            assert_eq!(m.namespace, "AWS/ApplicationELB");
            assert_eq!(m.dimensions["LoadBalancer"], "app/matbakh/50dc6c495c0c9188");
            m.dimensions["TargetGroup"].clone()
        })
        .collect();
    assert_eq!(
        groups,
        [TARGET_GROUP_BLUE, TARGET_GROUP_GREEN]
            .map(alb_dimension_of)
            .into_iter()
            .collect()
    );
    // A group with fewer than the canary's min_requests in a minute does not count.
    assert!(errors
        .metrics
        .iter()
        .filter_map(|q| q.expression.as_deref())
        .any(|e| e.contains(">= 5")));
    let latency = alarm(&g, canary_keys::ALARM_P95_LATENCY);
    assert_eq!(latency.name, "matbakh-auth-service-canary-latency-p95");
    assert_eq!(latency.threshold, 150.0);
    // Their ids are the microservice's, handed in beside the canary's own.
    assert!(crate::resources::canary::expand::EXTERNAL.contains(&TARGET_GROUP_BLUE));
    assert!(crate::resources::canary::expand::EXTERNAL.contains(&TARGET_GROUP_GREEN));
}
