//! Tests of the expansion. Snapshot files live in `testdata/`; regenerate
//! them with `MATBAKH_UPDATE_SNAPSHOTS=1 cargo test --lib microservice`.

use std::path::PathBuf;

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::environment::Environment;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::service_mesh::ServiceMesh;
use crate::spec::appmesh::{RouteSpec, VirtualNodeSpec, WeightedTargetSpec};

use crate::resources::microservice::test_fixtures::platform;

/// The contract's example, minus the optional blocks that change the shape.
fn reference_json() -> serde_json::Value {
    json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2",
        "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2,
        "subnet_ids": ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "task_role_arn": "arn:aws:iam::123456789012:role/auth",
        "environment_variables": {"LOG_LEVEL": "info"},
        "secrets": {"DB_PASSWORD": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db"},
        "backends": ["vc-service", "persona-service"],
    })
}

fn settings_with(patch: serde_json::Value, env: Environment) -> Settings {
    let mut value = reference_json();
    for (k, v) in patch.as_object().expect("object") {
        value[k] = v.clone();
    }
    let config = MicroserviceConfig::from_value(&value).expect("parses");
    Settings::resolve(&config, env, ServiceMesh::AppMesh).expect("valid")
}

fn graph_with(patch: serde_json::Value) -> DesiredGraph {
    expand(
        &settings_with(patch, Environment::Production),
        &platform(Environment::Production),
    )
}

fn spec_of<'a>(graph: &'a DesiredGraph, key: &str) -> &'a Spec {
    &graph
        .get(key)
        .unwrap_or_else(|| panic!("no component {key}"))
        .spec
}

fn task_def(graph: &DesiredGraph) -> &TaskDefinitionSpec {
    match spec_of(graph, keys::TASK_DEFINITION) {
        Spec::TaskDefinition(t) => t,
        other => panic!("{other:?}"),
    }
}

fn ecs(graph: &DesiredGraph) -> &EcsServiceSpec {
    match spec_of(graph, keys::SERVICE) {
        Spec::EcsService(s) => s,
        other => panic!("{other:?}"),
    }
}

fn node(graph: &DesiredGraph) -> &VirtualNodeSpec {
    match spec_of(graph, keys::VIRTUAL_NODE) {
        Spec::VirtualNode(s) => s,
        other => panic!("{other:?}"),
    }
}

fn route_of(graph: &DesiredGraph) -> &RouteSpec {
    match spec_of(graph, keys::ROUTE) {
        Spec::Route(s) => s,
        other => panic!("{other:?}"),
    }
}

fn alarm(graph: &DesiredGraph, key: &str) -> MetricAlarmSpec {
    match spec_of(graph, key) {
        Spec::MetricAlarm(s) => s.clone(),
        other => panic!("{other:?}"),
    }
}

/// Compare with `testdata/NAME.json`, or write it when regenerating.
fn snapshot(name: &str, value: &serde_json::Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/resources/microservice/testdata")
        .join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).expect("serialises") + "\n";
    if std::env::var_os("MATBAKH_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).expect("snapshot written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing {}; run with MATBAKH_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        expected, text,
        "snapshot {name} differs; run with MATBAKH_UPDATE_SNAPSHOTS=1 if intended"
    );
}

#[test]
fn keys_and_dependencies() {
    let graph = graph_with(json!({}));
    let deps: Vec<(String, Vec<String>)> = graph
        .components
        .iter()
        .map(|c| (c.key.clone(), c.depends_on.clone()))
        .collect();
    let expected: Vec<(String, Vec<String>)> = [
        ("log_group", vec![]),
        ("discovery_service", vec![]),
        ("virtual_node", vec!["discovery_service"]),
        ("task_definition", vec!["virtual_node"]),
        ("virtual_router", vec![]),
        ("route", vec!["virtual_router", "virtual_node"]),
        ("virtual_service", vec!["virtual_router", "route"]),
        (
            "service",
            vec![
                "task_definition",
                "log_group",
                "discovery_service",
                "virtual_service",
            ],
        ),
        ("alarm_error_rate", vec![]),
        ("alarm_p95_latency", vec![]),
        ("alarm_cpu", vec![]),
        ("dashboard", vec![]),
    ]
    .into_iter()
    .map(|(k, d)| (k.to_string(), d.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(deps, expected);
    assert!(crate::engine::creation_order(&graph.components).is_ok());
}

#[test]
fn autoscaling_adds_target_and_policies() {
    let graph = graph_with(json!({
        "desired_count": null,
        "autoscaling": [{"min_count": 2, "max_count": 6, "cpu_target": 60}]
    }));
    assert_eq!(
        graph.get("scaling_target").unwrap().depends_on,
        vec!["service"]
    );
    match spec_of(&graph, "scaling_target") {
        Spec::ScalableTarget(t) => {
            assert_eq!(t.resource_id, "service/matbakh/auth-service");
            assert_eq!((t.min_capacity, t.max_capacity), (2, 6));
        }
        other => panic!("{other:?}"),
    }
    for (key, metric, target) in [
        (
            "scaling_policy_cpu",
            "ECSServiceAverageCPUUtilization",
            60.0,
        ),
        (
            "scaling_policy_memory",
            "ECSServiceAverageMemoryUtilization",
            80.0,
        ),
    ] {
        assert_eq!(graph.get(key).unwrap().depends_on, vec!["scaling_target"]);
        match spec_of(&graph, key) {
            Spec::ScalingPolicy(p) => {
                assert_eq!((p.metric.as_str(), p.target_value), (metric, target));
                assert_eq!(p.resource_id, "service/matbakh/auth-service");
            }
            other => panic!("{other:?}"),
        }
    }
    let service = ecs(&graph);
    assert!(service.desired_count_managed_by_autoscaling);
    assert_eq!(service.desired_count, 2);
}

#[test]
fn no_autoscaling_no_scaling_components() {
    let graph = graph_with(json!({}));
    assert!(graph.get("scaling_target").is_none());
    assert!(graph.get("scaling_policy_cpu").is_none());
    assert!(!ecs(&graph).desired_count_managed_by_autoscaling);
}

#[test]
fn dashboard_false_leaves_it_out() {
    assert!(graph_with(json!({"dashboard": false}))
        .get("dashboard")
        .is_none());
    let graph = graph_with(json!({}));
    match spec_of(&graph, "dashboard") {
        Spec::Dashboard(d) => {
            assert_eq!(d.name, "matbakh-auth-service-eu-central-1");
            let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
            let titles: Vec<&str> = body["widgets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["properties"]["title"].as_str().unwrap())
                .collect();
            assert_eq!(
                titles,
                [
                    "Requests",
                    "Errors (5xx)",
                    "Latency average (ms)",
                    "CPU and memory (%)"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn names_and_owner_tags() {
    let graph = graph_with(json!({}));
    let owner = Some(&"matbakh/auth-service".to_string());
    match spec_of(&graph, "log_group") {
        Spec::LogGroup(l) => {
            assert_eq!(l.name, "/matbakh/matbakh/auth-service");
            assert_eq!(l.retention_days, 30);
            assert_eq!(l.tags.get(OWNER_TAG), owner);
            assert_eq!(l.tags.get("project").map(String::as_str), Some("matbakh"));
        }
        other => panic!("{other:?}"),
    }
    match spec_of(&graph, "discovery_service") {
        Spec::DiscoveryService(d) => {
            assert_eq!(
                (d.name.as_str(), d.namespace_id.as_str()),
                ("auth-service", "ns-abcdef0123456789")
            );
            assert_eq!(
                (d.dns_ttl_seconds, d.health_check_failure_threshold),
                (10, 1)
            );
            assert_eq!(d.tags.get(OWNER_TAG), owner);
        }
        other => panic!("{other:?}"),
    }
    match spec_of(&graph, "virtual_router") {
        Spec::VirtualRouter(r) => {
            assert_eq!((r.name.as_str(), r.port), ("auth-service-router", 8080))
        }
        other => panic!("{other:?}"),
    }
    match spec_of(&graph, "virtual_service") {
        Spec::VirtualService(v) => {
            assert_eq!(v.name, "auth-service.svc.local");
            assert_eq!(v.router, "auth-service-router");
            assert_eq!(v.tags.get(OWNER_TAG), owner);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(task_def(&graph).family, "matbakh-auth-service");
    assert_eq!(ecs(&graph).name, "auth-service");
    assert_eq!(node(&graph).name, "auth-service");
    assert_eq!(route_of(&graph).name, "auth-service-route");
    assert_eq!(
        alarm(&graph, "alarm_error_rate").name,
        "matbakh-auth-service-error-rate"
    );
    assert_eq!(
        alarm(&graph, "alarm_p95_latency").name,
        "matbakh-auth-service-p95-latency"
    );
    assert_eq!(
        alarm(&graph, "alarm_cpu").name,
        "matbakh-auth-service-cpu-high"
    );
    let s = settings_with(json!({}), Environment::Production);
    let p = platform(Environment::Production);
    assert_eq!(dns_name(&s, &p), "auth-service.svc.local");
    assert_eq!(virtual_service_name(&s, &p), "auth-service.svc.local");
    assert_eq!(virtual_node_name(&s), "auth-service");
}

#[test]
fn task_definition_containers() {
    let graph = graph_with(json!({}));
    let td = task_def(&graph);
    assert_eq!((td.cpu, td.memory), (1024, 2048));
    let names: Vec<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["app", "envoy", "aws-otel-collector"]);
    let app = &td.containers[0];
    assert_eq!(
        app.image,
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"
    );
    assert_eq!(
        (app.cpu, app.memory, app.ports.clone()),
        (512, 1024, vec![8080])
    );
    assert!(app.read_only_root_filesystem && app.essential);
    assert_eq!(app.user.as_deref(), Some("1000"));
    assert_eq!(app.depends_on[0].container, "envoy");
    assert_eq!(app.depends_on[0].condition, "HEALTHY");
    assert_eq!(
        app.environment.get("LOG_LEVEL"),
        Some(&EnvValue::Text("info".into()))
    );
    assert_eq!(
        app.secrets.get("DB_PASSWORD").map(String::as_str),
        Some("arn:aws:secretsmanager:eu-central-1:123456789012:secret:db")
    );
    assert_eq!(app.log.group, "/matbakh/matbakh/auth-service");
    assert_eq!(app.log.stream_prefix, "auth-service");
    let envoy = &td.containers[1];
    assert_eq!((envoy.cpu, envoy.memory), (256, 256));
    assert_eq!(envoy.user.as_deref(), Some("1337"));
    assert!(envoy.health_check.is_some());
    assert_eq!(
        envoy.environment.get("APPMESH_RESOURCE_ARN"),
        Some(&EnvValue::Component {
            of: Ref::to("virtual_node")
        })
    );
    assert_eq!(
        envoy.environment.get("ENVOY_LOG_LEVEL"),
        Some(&EnvValue::Text("info".into()))
    );
    let adot = &td.containers[2];
    assert_eq!((adot.cpu, adot.memory, adot.essential), (128, 128, false));
    let proxy = td.proxy.as_ref().unwrap();
    assert_eq!(proxy.container_name, "envoy");
    let props: Vec<(&str, &str)> = proxy
        .properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        props,
        [
            ("AppPorts", "8080"),
            ("EgressIgnoredIPs", "169.254.170.2,169.254.169.254"),
            ("IgnoredUID", "1337"),
            ("ProxyEgressPort", "15001"),
            ("ProxyIngressPort", "15000"),
        ]
    );
}

#[test]
fn tracing_off_removes_adot_and_shrinks_the_task() {
    let graph = graph_with(json!({"tracing": [{"enabled": false}], "memory": 256}));
    let td = task_def(&graph);
    assert_eq!(td.containers.len(), 2);
    // 512 + 256 CPU, 256 + 256 MiB: 1024 MiB needs 512 CPU... 768 CPU needs 1 vCPU.
    assert_eq!((td.cpu, td.memory), (1024, 2048));
    assert!(!td.containers[1]
        .environment
        .contains_key("ENABLE_ENVOY_XRAY_TRACING"));
    assert!(!td.containers[0]
        .environment
        .contains_key("OTEL_TRACES_SAMPLER_ARG"));
    let small = graph_with(json!({"tracing": [{"enabled": false}], "cpu": 256, "memory": 768}));
    assert_eq!((task_def(&small).cpu, task_def(&small).memory), (512, 1024));
    let small_traced = graph_with(json!({"cpu": 256, "memory": 768}));
    assert_eq!(
        (task_def(&small_traced).cpu, task_def(&small_traced).memory),
        (1024, 2048)
    );
}

#[test]
fn tracing_sampling_rate_follows_the_environment() {
    let dev = settings_with(json!({}), Environment::Development);
    let graph = expand(&dev, &platform(Environment::Development));
    let td = task_def(&graph);
    assert_eq!(
        td.containers[1].environment.get("XRAY_SAMPLING_RATE"),
        Some(&EnvValue::Text("0.5".into()))
    );
    assert_eq!(
        td.containers[0].environment.get("OTEL_TRACES_SAMPLER_ARG"),
        Some(&EnvValue::Text("0.5".into()))
    );
}

#[test]
fn environment_defaults_reach_the_graph() {
    for (env, spot, retention) in [
        (Environment::Development, 50, 7),
        (Environment::Staging, 80, 30),
        (Environment::Production, 0, 30),
    ] {
        let s = settings_with(
            json!({"spot_percent": null, "log_retention_days": null}),
            env,
        );
        let graph = expand(&s, &platform(env));
        let strategy: Vec<(String, i32)> = ecs(&graph)
            .capacity_provider_strategy
            .iter()
            .map(|c| (c.provider.clone(), c.weight))
            .collect();
        let mut expected = vec![];
        if spot < 100 {
            expected.push(("FARGATE".to_string(), 100 - spot));
        }
        if spot > 0 {
            expected.push(("FARGATE_SPOT".to_string(), spot));
        }
        assert_eq!(strategy, expected, "{env:?}");
        match spec_of(&graph, "log_group") {
            Spec::LogGroup(l) => assert_eq!(l.retention_days, retention),
            other => panic!("{other:?}"),
        }
        let dims = &alarm(&graph, "alarm_p95_latency").metrics[0]
            .metric
            .clone()
            .unwrap()
            .dimensions;
        assert_eq!(
            dims.get("Environment").map(String::as_str),
            Some(env.name())
        );
    }
}

#[test]
fn ecs_service_settings() {
    let graph = graph_with(json!({"spot_percent": 100, "wait_for_steady_state": false}));
    let s = ecs(&graph);
    assert_eq!(s.cluster, "matbakh");
    assert_eq!(s.task_definition, Ref::to("task_definition"));
    assert_eq!(s.registry, Some(Ref::to("discovery_service")));
    assert_eq!(s.capacity_provider_strategy.len(), 1);
    assert_eq!(s.capacity_provider_strategy[0].provider, "FARGATE_SPOT");
    assert_eq!(
        s.subnets,
        ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
    );
    assert!(s.circuit_breaker_rollback);
    assert_eq!((s.minimum_healthy_percent, s.maximum_percent), (100, 200));
    assert!(!s.wait_for_steady_state);
    assert_eq!(s.desired_count, 2);
}

#[test]
fn virtual_node_defaults_backends_and_tls() {
    let graph = graph_with(json!({}));
    let n = node(&graph);
    assert_eq!(
        n.backends,
        ["persona-service.svc.local", "vc-service.svc.local"]
    );
    assert_eq!(n.tls, None);
    assert_eq!(n.health_check.path, "/health");
    assert_eq!(
        (n.health_check.interval_ms, n.health_check.timeout_ms),
        (30_000, 5_000)
    );
    assert_eq!(
        (
            n.health_check.unhealthy_threshold,
            n.health_check.healthy_threshold
        ),
        (3, 2)
    );
    let o = &n.outlier_detection;
    assert_eq!(
        (
            o.max_server_errors,
            o.interval_ms,
            o.base_ejection_ms,
            o.max_ejection_percent
        ),
        (5, 30_000, 30_000, 50)
    );
    assert_eq!(
        (
            n.connection_pool.max_connections,
            n.connection_pool.max_pending_requests
        ),
        (1024, 1024)
    );
    assert_eq!(
        (n.timeout.per_request_ms, n.timeout.idle_ms),
        (15_000, 300_000)
    );
    assert_eq!(n.discovery.service_name, "auth-service");
    assert_eq!(n.discovery.namespace_name, "svc.local");
    assert_eq!(
        n.discovery
            .attributes
            .get("ECS_SERVICE_NAME")
            .map(String::as_str),
        Some("auth-service")
    );
    assert_eq!(n.access_log_path, "/dev/stdout");

    let ca = "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012";
    let tls = graph_with(json!({"tls": [{"certificate_authority_arns": [ca]}], "backends": []}));
    assert_eq!(
        node(&tls).tls.as_ref().unwrap().certificate_authority_arns,
        [ca]
    );
    assert!(node(&tls).backends.is_empty());
}

#[test]
fn route_defaults_and_custom_retry() {
    let graph = graph_with(json!({}));
    let r = route_of(&graph);
    assert_eq!(r.router, "auth-service-router");
    assert_eq!(r.prefix, "/");
    assert_eq!(
        r.targets,
        [WeightedTargetSpec {
            virtual_node: "auth-service".into(),
            weight: 100
        }]
    );
    assert_eq!(r.retry.max_retries, 3);
    assert_eq!(r.retry.per_try_timeout_ms, 2000);
    assert_eq!(r.retry.http_events, ["gateway-error", "server-error"]);
    assert_eq!(r.retry.tcp_events, ["connection-error"]);
    let custom = graph_with(
        json!({"retry": [{"max_retries": 5, "per_try_timeout": "500ms", "tcp_events": []}],
                                   "timeout": [{"per_request": "1m"}]}),
    );
    let r = route_of(&custom);
    assert_eq!((r.retry.max_retries, r.retry.per_try_timeout_ms), (5, 500));
    assert!(r.retry.tcp_events.is_empty());
    assert_eq!(
        (r.timeout.per_request_ms, r.timeout.idle_ms),
        (60_000, 300_000)
    );
}

#[test]
fn alarms_carry_thresholds_metrics_and_actions() {
    let topic = "arn:aws:sns:eu-central-1:123456789012:alerts";
    let graph = graph_with(json!({"alarms": [{"error_rate_percent": 2, "actions": [topic]}]}));
    let error_rate = alarm(&graph, "alarm_error_rate");
    assert_eq!(error_rate.threshold, 2.0);
    assert_eq!(error_rate.actions, [topic]);
    let ids: Vec<&str> = error_rate.metrics.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["errors", "requests", "error_rate"]);
    assert!(error_rate.metrics[2].return_data);
    let p95 = alarm(&graph, "alarm_p95_latency");
    assert_eq!(p95.threshold, 200.0);
    let stat = p95.metrics[0].metric.clone().unwrap();
    assert_eq!(
        (
            stat.namespace.as_str(),
            stat.metric_name.as_str(),
            stat.stat.as_str()
        ),
        ("matbakh/microservices", "Latency", "Average")
    );
    assert_eq!(
        stat.dimensions.get("Region").map(String::as_str),
        Some("eu-central-1")
    );
    assert_eq!(
        stat.dimensions.get("ServiceName").map(String::as_str),
        Some("auth-service")
    );
    let cpu = alarm(&graph, "alarm_cpu");
    let stat = cpu.metrics[0].metric.clone().unwrap();
    assert_eq!(
        (stat.namespace.as_str(), stat.metric_name.as_str()),
        ("AWS/ECS", "CPUUtilization")
    );
    assert_eq!(
        stat.dimensions.get("ClusterName").map(String::as_str),
        Some("matbakh")
    );
}

#[test]
fn canary_slot_reuses_the_builders() {
    let s = settings_with(json!({}), Environment::Production);
    let p = platform(Environment::Production);
    let tags = owner_tags(&s, &p);
    let slot = Slot::canary(&s, "img:2");
    let td = task_definition(&s, &p, &slot, &tags);
    assert_eq!(td.family, "matbakh-auth-service-canary");
    assert_eq!(td.containers[0].image, "img:2");
    assert_eq!(
        td.containers[1].environment.get("APPMESH_RESOURCE_ARN"),
        Some(&EnvValue::Component {
            of: Ref::to("candidate_virtual_node")
        })
    );
    let n = virtual_node(&s, &p, &slot, &tags);
    assert_eq!(n.name, "auth-service-canary");
    assert_eq!(n.discovery.service_name, "auth-service");
    assert_eq!(
        n.discovery
            .attributes
            .get("ECS_SERVICE_NAME")
            .map(String::as_str),
        Some("auth-service-canary")
    );
    let svc = ecs_service(&s, &p, &slot, &tags);
    assert_eq!(svc.name, "auth-service-canary");
    assert_eq!(svc.task_definition, Ref::to("candidate_task_definition"));
    assert_eq!(svc.registry, Some(Ref::to("discovery_service")));
}

#[test]
fn snapshot_of_the_reference_graph() {
    let graph = graph_with(json!({
        "autoscaling": [{"min_count": 1, "max_count": 10, "cpu_target": 70, "memory_target": 80}],
        "alarms": [{"actions": ["arn:aws:sns:eu-central-1:123456789012:alerts"]}],
    }));
    snapshot(
        "task_definition",
        &serde_json::to_value(task_def(&graph)).unwrap(),
    );
    snapshot("graph", &serde_json::to_value(&graph).unwrap());
}

/// The set-typed arguments (`subnet_ids`, `security_group_ids`, `backends`,
/// `tls.certificate_authority_arns`, `alarms.actions`): however Terraform
/// orders them, and with duplicates, the expansion sends the same requests.
#[test]
fn set_arguments_expand_the_same_in_any_order() {
    let ca = |n: u8| {
        format!("arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/1234567{n}-1234-1234-1234-123456789012")
    };
    let topic = |n: u8| format!("arn:aws:sns:eu-central-1:123456789012:alerts-{n}");
    let one = graph_with(json!({
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        "security_group_ids": ["sg-0123456789abcdef0", "sg-0fedcba9876543210"],
        "backends": ["persona-service", "vc-service"],
        "tls": [{"certificate_authority_arns": [ca(1), ca(2)]}],
        "alarms": [{"actions": [topic(1), topic(2)]}],
    }));
    let other = graph_with(json!({
        "subnet_ids": ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"],
        "security_group_ids": ["sg-0fedcba9876543210", "sg-0123456789abcdef0"],
        "backends": ["vc-service", "persona-service"],
        "tls": [{"certificate_authority_arns": [ca(2), ca(1)]}],
        "alarms": [{"actions": [topic(2), topic(1)]}],
    }));
    assert_eq!(one, other);
    let Spec::MetricAlarm(alarm) = spec_of(&other, keys::ALARM_ERROR_RATE) else {
        panic!()
    };
    assert_eq!(alarm.actions, vec![topic(1), topic(2)]);
    let Spec::EcsService(service) = spec_of(&other, keys::SERVICE) else {
        panic!()
    };
    assert_eq!(
        service.subnets,
        vec!["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
    );
}

/// Every object that takes tags carries `tags_all` (the service's `tags`
/// over the provider's default tags) and the owner tag.
#[test]
fn every_tagged_object_carries_tags_all_and_the_owner() {
    let graph = graph_with(json!({"tags": {"team": "identity", "project": "auth"}}));
    let mut tagged = 0;
    for c in &graph.components {
        let tags = match &c.spec {
            Spec::LogGroup(s) => &s.tags,
            Spec::TaskDefinition(s) => &s.tags,
            Spec::EcsService(s) => &s.tags,
            Spec::DiscoveryService(s) => &s.tags,
            Spec::VirtualNode(s) => &s.tags,
            Spec::VirtualRouter(s) => &s.tags,
            Spec::Route(s) => &s.tags,
            Spec::VirtualService(s) => &s.tags,
            Spec::MetricAlarm(s) => &s.tags,
            _ => continue,
        };
        tagged += 1;
        let want: Tags = [
            ("matbakh:owner", "matbakh/auth-service"),
            ("project", "auth"),
            ("team", "identity"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(tags, &want, "{}", c.key);
    }
    assert_eq!(tagged, 11);
}
