//! Tests of the backends: the Service Connect graph component by component,
//! every argument a backend refuses, and the ADOT collector configuration
//! held against the App Mesh alarms.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::app_mesh::{collector_config, COLLECTOR_CONFIG_VARIABLE};
use crate::environment::Environment;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::expand::{expand, keys, ADOT_CONTAINER, APP_CONTAINER};
use crate::resources::microservice::test_fixtures::platform_on;
use crate::resources::microservice::validate::{validate, validate_on};
use crate::service_mesh::ServiceMesh;
use crate::spec::cloudwatch::MetricAlarmSpec;
use crate::spec::ecs::{EcsServiceSpec, EnvValue, TaskDefinitionSpec};
use crate::spec::{DesiredGraph, Ref, Spec};

fn reference(patch: serde_json::Value) -> serde_json::Value {
    let mut value = json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2",
        "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2,
        "subnet_ids": ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "task_role_arn": "arn:aws:iam::123456789012:role/auth",
    });
    for (k, v) in patch.as_object().expect("object") {
        value[k] = v.clone();
    }
    value
}

fn config(patch: serde_json::Value) -> MicroserviceConfig {
    MicroserviceConfig::from_value(&reference(patch)).expect("parses")
}

fn settings_on(patch: serde_json::Value, mesh: ServiceMesh) -> Settings {
    Settings::resolve(&config(patch), Environment::Production, mesh).expect("valid")
}

fn sc_graph(patch: serde_json::Value) -> DesiredGraph {
    expand(
        &settings_on(patch, ServiceMesh::ServiceConnect),
        &platform_on(Environment::Production, ServiceMesh::ServiceConnect),
    )
}

fn task_def(g: &DesiredGraph) -> &TaskDefinitionSpec {
    match &g.get(keys::TASK_DEFINITION).unwrap().spec {
        Spec::TaskDefinition(t) => t,
        other => panic!("{other:?}"),
    }
}

fn service(g: &DesiredGraph) -> &EcsServiceSpec {
    match &g.get(keys::SERVICE).unwrap().spec {
        Spec::EcsService(s) => s,
        other => panic!("{other:?}"),
    }
}

fn alarm(g: &DesiredGraph, key: &str) -> MetricAlarmSpec {
    match &g.get(key).unwrap().spec {
        Spec::MetricAlarm(a) => a.clone(),
        other => panic!("{other:?}"),
    }
}

/// The dotted paths of the problems of a patched reference on `mesh`.
fn refused_on(patch: serde_json::Value, mesh: ServiceMesh) -> Vec<String> {
    let c = config(patch);
    assert!(validate(&c).is_empty(), "{:?}", validate(&c));
    validate_on(&c, mesh).iter().map(|p| p.dotted()).collect()
}

#[test]
fn service_connect_graph_keys_and_dependencies() {
    let g = sc_graph(json!({"autoscaling": [{"min_count": 1, "max_count": 4}]}));
    let deps: Vec<(&str, Vec<&str>)> = g
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
        deps,
        vec![
            ("log_group", vec![]),
            ("task_definition", vec![]),
            ("service", vec!["task_definition", "log_group"]),
            ("discovery_service", vec!["service"]),
            ("scaling_target", vec!["service"]),
            ("scaling_policy_cpu", vec!["scaling_target"]),
            ("scaling_policy_memory", vec!["scaling_target"]),
            ("alarm_error_rate", vec![]),
            ("alarm_p95_latency", vec![]),
            ("alarm_cpu", vec![]),
            ("dashboard", vec![]),
        ],
        "no App Mesh objects, no Cloud Map service of our own"
    );
    assert!(!g
        .components
        .iter()
        .any(|c| matches!(c.spec, Spec::VirtualNode(_) | Spec::DiscoveryService(_))));
}

#[test]
fn service_connect_task_definition_has_a_named_http_port_and_no_proxy() {
    let g = sc_graph(
        json!({"health_check": [{"path": "/ready", "interval": "10s", "timeout": "3s", "unhealthy_threshold": 4}]}),
    );
    let td = task_def(&g);
    assert_eq!(td.proxy, None, "no proxy configuration");
    let names: Vec<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, [APP_CONTAINER, ADOT_CONTAINER], "no Envoy");
    let app = &td.containers[0];
    assert_eq!(app.ports, [8080]);
    let port = app.port_name.as_ref().expect("named port");
    assert_eq!(
        (port.name.as_str(), port.app_protocol.as_str()),
        ("http", "http")
    );
    assert!(app.depends_on.is_empty(), "nothing to wait for");
    let hc = app.health_check.as_ref().expect("container health check");
    assert_eq!(
        hc.command,
        [
            "CMD-SHELL",
            "curl -fsS -o /dev/null http://localhost:8080/ready || exit 1"
        ]
    );
    assert_eq!(
        (hc.interval_seconds, hc.timeout_seconds, hc.retries),
        (10, 3, 4)
    );
    // The task is sized for the app and the collector only: 512 + 128 CPU.
    assert_eq!((td.cpu, td.memory), (1024, 2048));
    let adot = &td.containers[1];
    assert_eq!(
        adot.image,
        "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0"
    );
    assert!(!adot.environment.contains_key(COLLECTOR_CONFIG_VARIABLE));
}

#[test]
fn the_health_check_command_and_images_are_overridable() {
    let g = sc_graph(json!({
        "health_check": [{"command": "wget -q -O /dev/null http://localhost:8080/health || exit 1"}],
        "tracing": [{"image": "registry.example/otel:1"}],
    }));
    let td = task_def(&g);
    assert_eq!(
        td.containers[0].health_check.as_ref().unwrap().command[1],
        "wget -q -O /dev/null http://localhost:8080/health || exit 1"
    );
    assert_eq!(td.containers[1].image, "registry.example/otel:1");
    let am = expand(
        &settings_on(
            json!({"envoy": [{"image": "registry.example/envoy:2"}]}),
            ServiceMesh::AppMesh,
        ),
        &platform_on(Environment::Production, ServiceMesh::AppMesh),
    );
    let envoy = task_def(&am)
        .containers
        .iter()
        .find(|c| c.name == "envoy")
        .unwrap();
    assert_eq!(envoy.image, "registry.example/envoy:2");
}

#[test]
fn service_connect_ecs_service() {
    let ca = "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555";
    let role = "arn:aws:iam::123456789012:role/service-connect-tls";
    let g = sc_graph(json!({
        "timeout": [{"per_request": "20s", "idle": "120s"}],
        "tls": [{"certificate_authority_arns": [ca], "role_arn": role}],
    }));
    let s = service(&g);
    assert_eq!(s.registry, None, "no serviceRegistries");
    assert!(s.circuit_breaker_rollback);
    let sc = s.service_connect.as_ref().expect("Service Connect");
    let p = platform_on(Environment::Production, ServiceMesh::ServiceConnect);
    assert_eq!(sc.namespace_arn, p.namespace_arn, "the namespace by ARN");
    assert!(sc.namespace_arn.starts_with("arn:aws:servicediscovery:"));
    assert_eq!(sc.port_name, "http");
    // Unique per platform: Service Connect sums `TargetDiscoveryName` alone
    // over every namespace of the account and region.
    assert_eq!(sc.discovery_name, "auth-service_matbakh");
    assert_eq!(
        (sc.dns_name.as_str(), sc.port),
        ("auth-service.svc.local", 8080)
    );
    assert_eq!(
        (sc.per_request_timeout_seconds, sc.idle_timeout_seconds),
        (20, 120)
    );
    let tls = sc.tls.as_ref().unwrap();
    assert_eq!(
        (
            tls.certificate_authority_arn.as_str(),
            tls.role_arn.as_str()
        ),
        (ca, role)
    );
    assert_eq!(sc.log.group, "/matbakh/matbakh/auth-service");
    assert_eq!(sc.log.stream_prefix, "service-connect");
    match &g.get(keys::DISCOVERY_SERVICE).unwrap().spec {
        Spec::ServiceConnectDiscovery(d) => {
            assert_eq!(d.name, "auth-service_matbakh");
            assert_eq!(d.namespace_id, p.namespace_id);
            assert_eq!(d.service, Ref::to(keys::SERVICE));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn service_connect_alarms_read_the_metrics_ecs_publishes() {
    let g = sc_graph(json!({}));
    let rate = alarm(&g, keys::ALARM_ERROR_RATE);
    let stat = |i: usize| rate.metrics[i].metric.clone().unwrap();
    assert_eq!(stat(0).namespace, "AWS/ECS");
    assert_eq!(stat(0).metric_name, "HTTPCode_Target_5XX_Count");
    assert_eq!(
        stat(0).dimensions,
        [(
            "TargetDiscoveryName".to_string(),
            "auth-service_matbakh".to_string()
        )]
        .into()
    );
    assert_eq!(stat(1).metric_name, "RequestCount");
    assert_eq!(
        stat(1).dimensions,
        [
            ("ClusterName".to_string(), "matbakh".to_string()),
            (
                "DiscoveryName".to_string(),
                "auth-service_matbakh".to_string()
            ),
            ("ServiceName".to_string(), "auth-service".to_string()),
        ]
        .into()
    );
    assert_eq!(
        (stat(0).stat.as_str(), stat(1).stat.as_str()),
        ("Sum", "Sum")
    );
    let expr = rate.metrics[2].expression.as_deref().unwrap();
    assert!(
        expr.contains("100 * FILL(errors, 0) / FILL(requests, 0)"),
        "{expr}"
    );
    assert_eq!(rate.treat_missing_data, "notBreaching");
    let latency = alarm(&g, keys::ALARM_P95_LATENCY).metrics[0]
        .metric
        .clone()
        .unwrap();
    assert_eq!(
        (
            latency.namespace.as_str(),
            latency.metric_name.as_str(),
            latency.stat.as_str()
        ),
        ("AWS/ECS", "TargetResponseTime", "Average")
    );
    let Spec::Dashboard(d) = &g.get(keys::DASHBOARD).unwrap().spec else {
        panic!()
    };
    assert_eq!(d.name, "matbakh-auth-service-eu-central-1");
    assert!(d.body.contains("TargetResponseTime") && !d.body.contains("matbakh/microservices"));
    assert_eq!(
        d.tags.get("matbakh:owner").map(String::as_str),
        Some("matbakh/auth-service")
    );
}

#[test]
fn every_argument_service_connect_refuses_is_named_with_the_backend() {
    let sc = ServiceMesh::ServiceConnect;
    for (patch, path) in [
        (json!({"retry": [{"max_retries": 2}]}), "retry"),
        (json!({"circuit_breaker": [{}]}), "circuit_breaker"),
        (json!({"envoy": [{"cpu": 256}]}), "envoy"),
        (json!({"backends": ["persona-service"]}), "backends"),
        (
            json!({"health_check": [{"path": "/ready", "command": "true"}]}),
            "health_check.0.path",
        ),
        (
            json!({"health_check": [{"healthy_threshold": 3}]}),
            "health_check.0.healthy_threshold",
        ),
        (
            json!({"health_check": [{"interval": "5500ms"}]}),
            "health_check.0.interval",
        ),
        (
            json!({"timeout": [{"per_request": "2500ms"}]}),
            "timeout.0.per_request",
        ),
        (json!({"timeout": [{"idle": "90500ms"}]}), "timeout.0.idle"),
    ] {
        assert_eq!(refused_on(patch.clone(), sc), [path], "{patch}");
    }
    let ca =
        |n: u32| format!("arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/{n}");
    let role = "arn:aws:iam::123456789012:role/tls";
    assert_eq!(
        refused_on(
            json!({"tls": [{"certificate_authority_arns": [ca(1), ca(2)], "role_arn": role}]}),
            sc
        ),
        ["tls.0.certificate_authority_arns"]
    );
    // Without role_arn the microservice makes the role (roles::tls_role).
    assert!(refused_on(
        json!({"tls": [{"certificate_authority_arns": [ca(1)]}]}),
        sc
    )
    .is_empty());
    let problems = validate_on(&config(json!({"envoy": [{}]})), sc);
    assert!(
        problems[0]
            .detail
            .contains("service_mesh = \"service_connect\""),
        "{}",
        problems[0].detail
    );
    assert!(refused_on(
        json!({"tls": [{"certificate_authority_arns": [ca(1)], "role_arn": role}]}),
        sc
    )
    .is_empty());
}

#[test]
fn every_argument_app_mesh_refuses_is_named_with_the_backend() {
    let am = ServiceMesh::AppMesh;
    let ca = "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/1";
    assert_eq!(
        refused_on(
            json!({"tls": [{"certificate_authority_arns": [ca], "role_arn": "arn:aws:iam::123456789012:role/tls"}]}),
            am
        ),
        ["tls.0.role_arn"]
    );
    assert_eq!(
        refused_on(json!({"health_check": [{"command": "true"}]}), am),
        ["health_check.0.command"]
    );
    assert!(refused_on(
        json!({"retry": [{}], "circuit_breaker": [{}], "envoy": [{}]}),
        am
    )
    .is_empty());
}

#[test]
fn the_task_size_counts_envoy_only_on_app_mesh() {
    // 16384 CPU holds app 16100 + ADOT 128 without Envoy (256), not with it.
    let big = json!({"cpu": 16100, "memory": 32768});
    assert!(refused_on(big.clone(), ServiceMesh::ServiceConnect).is_empty());
    assert_eq!(refused_on(big, ServiceMesh::AppMesh), ["cpu"]);
}

#[test]
fn autoscaling_beyond_what_cloud_map_holds_is_refused() {
    let c = config(json!({"autoscaling": [{"min_count": 1, "max_count": 1001}]}));
    let paths: Vec<String> = validate(&c).iter().map(|p| p.dotted()).collect();
    assert_eq!(paths, ["autoscaling.0.max_count"]);
    assert!(validate(&config(json!({"autoscaling": [{"max_count": 1000}]}))).is_empty());
}

#[test]
fn the_collector_publishes_exactly_what_the_app_mesh_alarms_read() {
    let p = platform_on(Environment::Production, ServiceMesh::AppMesh);
    let settings = settings_on(json!({}), ServiceMesh::AppMesh);
    let g = expand(&settings, &p);
    // The configuration the task definition passes, parsed back (JSON is
    // YAML, which the collector reads).
    let adot = task_def(&g)
        .containers
        .iter()
        .find(|c| c.name == ADOT_CONTAINER)
        .unwrap();
    let EnvValue::Text(text) = &adot.environment[COLLECTOR_CONFIG_VARIABLE] else {
        panic!("not text")
    };
    let config: serde_json::Value = serde_json::from_str(text).expect("the configuration parses");
    assert_eq!(config, collector_config(&settings, &p));
    assert!(adot.command.is_empty(), "no --config file overrides it");

    let emf = &config["exporters"]["awsemf"];
    let declaration = &emf["metric_declarations"][0];
    let selectors: Vec<String> = declaration["metric_name_selectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap()
                .trim_start_matches('^')
                .trim_end_matches('$')
                .to_string()
        })
        .collect();
    let dimension_set: Vec<&str> = declaration["dimensions"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let attributes: std::collections::BTreeMap<String, String> = config["processors"]
        ["resource/matbakh"]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key"].as_str().unwrap().to_string(),
                a["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let renamed: Vec<&str> = config["processors"]["metricstransform/matbakh"]["transforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["new_name"].as_str().unwrap())
        .collect();
    let pipeline = &config["service"]["pipelines"]["metrics"];
    assert_eq!(pipeline["exporters"], json!(["awsemf"]));
    for p in pipeline["processors"].as_array().unwrap() {
        assert!(
            config["processors"].get(p.as_str().unwrap()).is_some(),
            "{p} is defined"
        );
    }
    assert_eq!(
        config["receivers"]["prometheus"]["config"]["scrape_configs"][0]["static_configs"][0]
            ["targets"],
        json!(["localhost:9901"]),
        "Envoy's admin port"
    );

    // Every metric every alarm reads is published, in its namespace, with
    // exactly its dimensions and their values.
    let mut read = 0;
    for key in [keys::ALARM_ERROR_RATE, keys::ALARM_P95_LATENCY] {
        for query in alarm(&g, key).metrics {
            let Some(m) = query.metric else { continue };
            read += 1;
            assert_eq!(emf["namespace"], json!(m.namespace), "{key}");
            assert!(
                selectors.contains(&m.metric_name),
                "{key}: {} is exported",
                m.metric_name
            );
            assert!(
                renamed.contains(&m.metric_name.as_str()),
                "{key}: {} is produced",
                m.metric_name
            );
            let keys_read: Vec<&str> = m.dimensions.keys().map(String::as_str).collect();
            assert_eq!(keys_read, dimension_set, "{key}: dimension set");
            assert_eq!(m.dimensions, attributes, "{key}: dimension values");
        }
    }
    assert_eq!(read, 3, "errors, requests and latency");
}
