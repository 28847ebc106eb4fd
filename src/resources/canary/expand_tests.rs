//! Tests of the candidate's expansion: config in, AWS requests out.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::environment::Environment;
use crate::resources::canary::config::{CanaryConfig, CanarySettings};
use crate::resources::microservice::config::MicroserviceConfig;
use crate::resources::microservice::test_fixtures;
use crate::spec::ecs::EnvValue;
use crate::spec::Ref;

fn platform() -> PlatformContext {
    test_fixtures::platform(Environment::Production)
}

fn stable_settings(patch: serde_json::Value) -> Settings {
    let mut value = json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "registry.example/auth:1.4.2",
        "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 3,
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "environment_variables": {"LOG_LEVEL": "info"},
        "backends": ["persona-service"],
        "alarms": [{"actions": ["arn:aws:sns:eu-central-1:123456789012:alerts"]}],
    });
    for (k, v) in patch.as_object().unwrap() {
        value[k] = v.clone();
    }
    Settings::resolve(
        &MicroserviceConfig::from_value(&value).unwrap(),
        Environment::Production,
        crate::service_mesh::ServiceMesh::AppMesh,
    )
    .unwrap()
}

fn canary() -> CanarySettings {
    CanarySettings::resolve(
        &CanaryConfig::from_value(&json!({
            "microservice": "matbakh/auth-service",
            "image": "registry.example/auth:1.5.0",
            "rollback_on": [{"error_rate_percent": 2.0, "p95_latency_ms": 150.0}],
        }))
        .unwrap(),
    )
    .unwrap()
}

fn graph(scaled_to_zero: bool) -> DesiredGraph {
    expand(
        &stable_settings(json!({})),
        &platform(),
        &canary(),
        scaled_to_zero,
    )
}

fn spec<'a>(g: &'a DesiredGraph, key: &str) -> &'a Spec {
    &g.get(key)
        .unwrap_or_else(|| panic!("no component {key}"))
        .spec
}

#[test]
fn the_candidate_slot_and_two_alarms_in_dependency_order() {
    let g = graph(false);
    let keys: Vec<(&str, Vec<&str>)> = g
        .components
        .iter()
        .map(|c| {
            (
                c.key.as_str(),
                c.depends_on.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("candidate_virtual_node", vec![]),
            ("candidate_task_definition", vec!["candidate_virtual_node"]),
            ("candidate_service", vec!["candidate_task_definition"]),
            ("alarm_error_rate", vec![]),
            ("alarm_p95_latency", vec![]),
            ("alarm_no_traffic", vec![]),
        ]
    );
}

#[test]
fn the_task_definition_is_the_stable_one_with_the_candidate_image() {
    let stable = stable_settings(json!({}));
    let g = graph(false);
    let Spec::TaskDefinition(td) = spec(&g, keys::CANDIDATE_TASK_DEFINITION) else {
        panic!()
    };
    let stable_td = crate::resources::microservice::expand::task_definition(
        &stable,
        &platform(),
        &Slot::stable(&stable),
        &td.tags,
    );
    assert_eq!(td.family, "matbakh-auth-service-canary");
    assert_eq!((td.cpu, td.memory), (stable_td.cpu, stable_td.memory));
    let app = &td.containers[0];
    assert_eq!(app.image, "registry.example/auth:1.5.0");
    assert_eq!(app.log.stream_prefix, "auth-service-canary");
    assert_eq!(app.log.group, stable_td.containers[0].log.group);
    assert_eq!(app.environment, stable_td.containers[0].environment);
    // Envoy speaks for the candidate's node.
    let envoy = td.containers.iter().find(|c| c.name == "envoy").unwrap();
    assert_eq!(
        envoy.environment.get("APPMESH_RESOURCE_ARN"),
        Some(&EnvValue::Component {
            of: Ref::to("candidate_virtual_node")
        })
    );
    assert_eq!(
        td.tags.get(OWNER_TAG).map(String::as_str),
        Some("matbakh/auth-service-canary")
    );
}

#[test]
fn the_service_joins_the_stable_cloud_map_service_with_its_own_count() {
    let g = graph(false);
    let Spec::EcsService(svc) = spec(&g, keys::CANDIDATE_SERVICE) else {
        panic!()
    };
    assert_eq!(svc.name, "auth-service-canary");
    assert_eq!(svc.registry, Some(Ref::to(EXTERNAL[0])));
    assert_eq!(
        svc.task_definition,
        Ref::to(keys::CANDIDATE_TASK_DEFINITION)
    );
    assert_eq!(svc.desired_count, 3);
    assert!(svc.wait_for_steady_state);
    assert!(svc.circuit_breaker_rollback);
    assert!(!svc.desired_count_managed_by_autoscaling);
}

#[test]
fn autoscaling_stays_with_the_stable_service() {
    let stable = stable_settings(json!({"autoscaling": [{"min_count": 2, "max_count": 8}]}));
    let g = expand(&stable, &platform(), &canary(), false);
    let Spec::EcsService(svc) = spec(&g, keys::CANDIDATE_SERVICE) else {
        panic!()
    };
    assert!(!svc.desired_count_managed_by_autoscaling);
    assert!(g
        .components
        .iter()
        .all(|c| !matches!(c.spec, Spec::ScalableTarget(_))));
}

#[test]
fn rolled_back_the_candidate_runs_no_tasks() {
    let g = graph(true);
    let Spec::EcsService(svc) = spec(&g, keys::CANDIDATE_SERVICE) else {
        panic!()
    };
    assert_eq!(svc.desired_count, 0);
    assert!(!svc.wait_for_steady_state);
}

#[test]
fn the_virtual_node_selects_only_candidate_instances_of_the_same_cloud_map_service() {
    let g = graph(false);
    let Spec::VirtualNode(node) = spec(&g, keys::CANDIDATE_VIRTUAL_NODE) else {
        panic!()
    };
    assert_eq!(node.name, "auth-service-canary");
    assert_eq!(node.discovery.service_name, "auth-service");
    assert_eq!(node.discovery.namespace_name, "svc.local");
    assert_eq!(
        node.discovery
            .attributes
            .get("ECS_SERVICE_NAME")
            .map(String::as_str),
        Some("auth-service-canary")
    );
    assert_eq!(node.backends, vec!["persona-service.svc.local"]);
}

#[test]
fn alarms_watch_the_candidate_metrics_with_the_canary_thresholds() {
    let g = graph(false);
    let Spec::MetricAlarm(err) = spec(&g, keys::ALARM_ERROR_RATE) else {
        panic!()
    };
    let Spec::MetricAlarm(p95) = spec(&g, keys::ALARM_P95_LATENCY) else {
        panic!()
    };
    assert_eq!(err.name, "matbakh-auth-service-canary-error-rate");
    assert_eq!(p95.name, "matbakh-auth-service-canary-latency-average");
    assert_eq!(err.threshold, 2.0);
    assert_eq!(p95.threshold, 150.0);
    assert_eq!(
        err.actions,
        vec!["arn:aws:sns:eu-central-1:123456789012:alerts"]
    );
    for alarm in [err, p95] {
        for q in alarm.metrics.iter().filter_map(|q| q.metric.as_ref()) {
            assert_eq!(q.namespace, "matbakh/microservices");
            assert_eq!(
                q.dimensions.get("ServiceName").map(String::as_str),
                Some("auth-service-canary")
            );
            assert_eq!(
                q.dimensions.get("Environment").map(String::as_str),
                Some("production")
            );
            assert_eq!(
                q.dimensions.get("Region").map(String::as_str),
                Some("eu-central-1")
            );
        }
    }
    assert_eq!(
        alarm_names(&g),
        vec![
            "matbakh-auth-service-canary-error-rate",
            "matbakh-auth-service-canary-latency-average",
            "matbakh-auth-service-canary-no-traffic"
        ]
    );
}

#[test]
fn route_targets_by_candidate_weight() {
    let stable = stable_settings(json!({}));
    let t = |w| {
        targets(&stable, w)
            .into_iter()
            .map(|t| (t.virtual_node, t.weight))
            .collect::<Vec<_>>()
    };
    assert_eq!(t(0), vec![("auth-service".to_string(), 100)]);
    assert_eq!(
        t(5),
        vec![
            ("auth-service".to_string(), 95),
            ("auth-service-canary".to_string(), 5)
        ]
    );
    assert_eq!(
        t(100),
        vec![
            ("auth-service".to_string(), 0),
            ("auth-service-canary".to_string(), 100)
        ]
    );
    assert_eq!(candidate_weight(&stable, &targets(&stable, 25)), 25);
    assert_eq!(candidate_weight(&stable, &targets(&stable, 0)), 0);
}

#[test]
fn the_route_is_the_microservice_route_shared_with_the_candidate() {
    let stable = stable_settings(json!({}));
    let r = route(&stable, &platform());
    let own = crate::resources::microservice::expand::expand(&stable, &platform());
    let Some(Spec::Route(theirs)) = own.get("route").map(|c| &c.spec) else {
        panic!()
    };
    assert_eq!(&r, theirs);
    assert_eq!(r.shared_with.as_deref(), Some("auth-service-canary"));
}

#[test]
fn candidate_objects_carry_the_canary_tags_over_the_default_tags() {
    let canary = CanarySettings::resolve(
        &CanaryConfig::from_value(&json!({
            "microservice": "matbakh/auth-service",
            "image": "registry.example/auth:1.5.0",
            "tags": {"project": "release", "change": "CHG-42"},
        }))
        .unwrap(),
    )
    .unwrap();
    let g = expand(&stable_settings(json!({})), &platform(), &canary, false);
    for c in &g.components {
        let tags = match &c.spec {
            Spec::TaskDefinition(s) => &s.tags,
            Spec::EcsService(s) => &s.tags,
            Spec::VirtualNode(s) => &s.tags,
            Spec::MetricAlarm(s) => &s.tags,
            other => panic!("{other:?}"),
        };
        assert_eq!(tags.get("project").map(String::as_str), Some("release"));
        assert_eq!(tags.get("change").map(String::as_str), Some("CHG-42"));
        assert_eq!(
            tags.get(OWNER_TAG).map(String::as_str),
            Some("matbakh/auth-service-canary")
        );
    }
}
