//! Round trips: settings → expansion → graph as read back → recovered
//! arguments → the same settings and the same graph.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::resources::microservice::schema::{COMPUTED, DEFAULTED};
use crate::service_mesh::ServiceMesh;

const ENVIRONMENTS: [Environment; 3] = [
    Environment::Development,
    Environment::Staging,
    Environment::Production,
];

use crate::resources::microservice::test_fixtures::platform;

/// Only the required arguments.
fn minimal() -> serde_json::Value {
    json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2",
        "port": 8080,
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
    })
}

fn with(patch: serde_json::Value) -> serde_json::Value {
    let mut value = minimal();
    for (k, v) in patch.as_object().expect("object") {
        value[k] = v.clone();
    }
    value
}

/// Every argument set, none to its default.
fn everything() -> serde_json::Value {
    with(json!({
        "cpu": 512, "memory": 1024, "desired_count": 3,
        "security_group_ids": ["sg-0123456789abcdef0", "sg-0fedcba9876543210"],
        "task_role_arn": "arn:aws:iam::123456789012:role/auth",
        "environment_variables": {"LOG_LEVEL": "debug", "FEATURE_X": "on"},
        "secrets": {"DB_PASSWORD": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db"},
        "backends": ["persona-service", "vc-service"],
        "spot_percent": 25,
        "health_check": [{"path": "/ready", "interval": "10s", "timeout": "3s",
                          "unhealthy_threshold": 4, "healthy_threshold": 5}],
        "retry": [{"max_retries": 5, "per_try_timeout": "1500ms",
                   "http_events": ["client-error", "server-error"], "tcp_events": []}],
        "timeout": [{"per_request": "20s", "idle": "120s"}],
        "circuit_breaker": [{"max_server_errors": 7, "interval": "20s", "base_ejection": "45s",
                             "max_ejection_percent": 30, "max_connections": 512,
                             "max_pending_requests": 256}],
        "tls": [{"certificate_authority_arns": [
            "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/a"]}],
        "envoy": [{"cpu": 512, "memory": 512, "log_level": "debug"}],
        "tracing": [{"sampling_rate": 0.25}],
        "autoscaling": [{"min_count": 2, "max_count": 8, "cpu_target": 60, "memory_target": 75}],
        "alarms": [{"error_rate_percent": 2.5, "p95_latency_ms": 350,
                    "actions": ["arn:aws:sns:eu-central-1:123456789012:alerts"]}],
        "dashboard": false,
        "log_retention_days": 90,
        "wait_for_steady_state": true,
    }))
}

/// The configurations the round trip is checked with, and the environment
/// of the provider that applied each.
fn cases() -> Vec<(&'static str, serde_json::Value, Environment)> {
    vec![
        ("minimal", minimal(), Environment::Production),
        ("everything", everything(), Environment::Staging),
        (
            "tracing off",
            with(json!({"tracing": [{"enabled": false}]})),
            Environment::Production,
        ),
        (
            "autoscaling, defaults inside",
            with(json!({"autoscaling": [{"max_count": 4}], "desired_count": 3})),
            Environment::Production,
        ),
        (
            "tls",
            with(json!({"tls": [{"certificate_authority_arns": [
                "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/a",
                "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/b"]}]})),
            Environment::Production,
        ),
        (
            "dashboard off",
            with(json!({"dashboard": false})),
            Environment::Production,
        ),
        ("development", minimal(), Environment::Development),
        (
            "development, tracing off, no retries on HTTP events",
            with(json!({"tracing": [{"enabled": false}],
                        "retry": [{"http_events": []}]})),
            Environment::Development,
        ),
        (
            "user value for a tracing variable",
            with(
                json!({"environment_variables": {"OTEL_SERVICE_NAME": "auth",
                                                  "OTEL_TRACES_SAMPLER_ARG": "0.5"}}),
            ),
            Environment::Staging,
        ),
    ]
}

fn resolve(arguments: &serde_json::Value, env: Environment) -> Settings {
    let config = MicroserviceConfig::from_value(arguments).expect("parses");
    Settings::resolve(&config, env, ServiceMesh::AppMesh).expect("valid")
}

fn recovered(settings: &Settings, platform: &PlatformContext) -> Value {
    let observed = ObservedGraph::from_graph(&expand::expand(settings, platform));
    recover(platform, &settings.name, &observed).expect("recovers")
}

#[test]
fn round_trip_gives_the_same_settings_and_graph() {
    for (case, config, env) in cases() {
        let platform = platform(env);
        let original = resolve(&config, env);
        let graph = expand::expand(&original, &platform);
        let arguments = recovered(&original, &platform);
        let back = resolve(&arguments.to_json(), env);
        assert_eq!(back, original, "{case}");
        assert_eq!(expand::expand(&back, &platform), graph, "{case}");
    }
}

#[test]
fn recovered_arguments_do_not_depend_on_the_environment() {
    for (case, config, env) in cases() {
        let platform = platform(env);
        let original = resolve(&config, env);
        let graph = expand::expand(&original, &platform);
        let arguments = recovered(&original, &platform).to_json();
        for other in ENVIRONMENTS {
            let back = resolve(&arguments, other);
            assert_eq!(
                expand::expand(&back, &platform),
                graph,
                "{case} resolved in {other:?}"
            );
            if original.tracing.enabled {
                assert_eq!(back, original, "{case} resolved in {other:?}");
            }
        }
    }
}

#[test]
fn every_argument_is_written_out() {
    let platform = platform(Environment::Production);
    let arguments = recovered(&resolve(&minimal(), Environment::Production), &platform);
    let schema = crate::resources::microservice::schema::schema().block;
    for name in schema.attributes.keys().chain(schema.blocks.keys()) {
        if COMPUTED.contains(&name.as_str()) {
            continue;
        }
        let Value::Map(m) = &arguments else {
            panic!("{arguments:?}")
        };
        assert!(m.contains_key(name), "{name} missing");
    }
    for name in DEFAULTED {
        assert!(!arguments.get(name).is_null(), "{name} is null");
    }
    assert_eq!(arguments.get("spot_percent"), &Value::from(0i64));
    assert_eq!(arguments.get("log_retention_days"), &Value::from(30i64));
    assert_eq!(
        arguments.block("tracing").get("sampling_rate"),
        &Value::from(0.1)
    );
    assert_eq!(
        arguments.block("health_check").get("interval"),
        &"30s".into()
    );
    assert_eq!(arguments.get("autoscaling"), &Value::List(vec![]));
    assert_eq!(arguments.get("tls"), &Value::List(vec![]));
    assert_eq!(arguments.get("timeouts"), &Value::List(vec![]));
}

/// The arguments of a state Terraform writes for `config`: blocks as lists,
/// nulls and empty blocks dropped so that omitted and null compare equal.
fn normalized(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null() && v != &&json!([]))
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(normalized).collect())
        }
        other => other.clone(),
    }
}

/// What `terraform import` records, for a configuration that leaves its
/// defaults out, is what applying that configuration records: a plan after
/// import shows no changes.
#[test]
fn without_defaults_matches_a_configuration_that_omits_defaults() {
    for (case, config, env) in cases() {
        let platform = platform(env);
        let original = resolve(&config, env);
        let imported =
            without_defaults(&recovered(&original, &platform), env, ServiceMesh::AppMesh).to_json();
        assert_eq!(resolve(&imported, env), original, "{case}");
        let mut expected = normalized(&config);
        let mut found = normalized(&imported);
        for key in DEFAULTED.iter().chain(COMPUTED.iter()) {
            // Optional and computed: Terraform keeps what import found when
            // the configuration omits them.
            expected.as_object_mut().unwrap().remove(*key);
            found.as_object_mut().unwrap().remove(*key);
        }
        if case == "everything" {
            // the configuration writes every default-free value; lists the
            // expansion sorts come back sorted
            assert_eq!(found["backends"], json!(["persona-service", "vc-service"]));
        }
        assert_eq!(found, expected, "{case}");
    }
}

#[test]
fn defaulted_arguments_stay_in_the_import_form() {
    let env = Environment::Development;
    let platform = platform(env);
    let imported = without_defaults(
        &recovered(&resolve(&minimal(), env), &platform),
        env,
        ServiceMesh::AppMesh,
    );
    for name in DEFAULTED {
        assert!(!imported.get(name).is_null(), "{name}");
    }
    assert_eq!(imported.get("spot_percent"), &Value::from(50i64));
    assert_eq!(imported.get("health_check"), &Value::List(vec![]));
    assert_eq!(imported.get("tracing"), &Value::List(vec![]));
    assert!(imported.get("security_group_ids").is_null());
}

#[test]
fn an_autoscaling_block_of_defaults_stays() {
    let env = Environment::Production;
    let config = with(json!({"autoscaling": [{}]}));
    let original = resolve(&config, env);
    let imported = without_defaults(
        &recovered(&original, &platform(env)),
        env,
        ServiceMesh::AppMesh,
    );
    assert_eq!(
        imported.get("autoscaling"),
        &Value::List(vec![Value::Map(
            [
                "min_count",
                "max_count",
                "cpu_target",
                "memory_target",
                "requests_per_target"
            ]
            .into_iter()
            .map(|k| (k.to_string(), Value::Null))
            .collect()
        )])
    );
    assert_eq!(resolve(&imported.to_json(), env), original);
}

#[test]
fn unsorted_lists_come_back_sorted_with_the_same_graph() {
    let env = Environment::Production;
    let platform = platform(env);
    let config = with(json!({
        "subnet_ids": ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"],
        "backends": ["vc-service", "persona-service"],
        "tls": [{"certificate_authority_arns": [
            "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/b",
            "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/a"]}],
    }));
    let original = resolve(&config, env);
    let arguments = recovered(&original, &platform);
    assert_eq!(
        arguments.get("subnet_ids"),
        &Value::List(vec![
            "subnet-0aaaaaaaaaaaaaaaa".into(),
            "subnet-0bbbbbbbbbbbbbbbb".into()
        ])
    );
    let back = resolve(&arguments.to_json(), env);
    assert_eq!(
        expand::expand(&back, &platform),
        expand::expand(&original, &platform)
    );
}

#[test]
fn a_variable_equal_to_what_tracing_sets_is_not_told_apart() {
    let env = Environment::Production;
    let platform = platform(env);
    let config = with(
        json!({"environment_variables": {"OTEL_SERVICE_NAME": "auth-service",
                                                       "LOG_LEVEL": "info"}}),
    );
    let original = resolve(&config, env);
    let back = resolve(&recovered(&original, &platform).to_json(), env);
    assert_eq!(
        back.environment_variables.keys().collect::<Vec<_>>(),
        ["LOG_LEVEL"]
    );
    assert_eq!(
        expand::expand(&back, &platform),
        expand::expand(&original, &platform)
    );
}

#[test]
fn missing_components_take_defaults() {
    let env = Environment::Production;
    let platform = platform(env);
    let original = resolve(&everything(), env);
    let mut observed = ObservedGraph::from_graph(&expand::expand(&original, &platform));
    observed.virtual_node = None;
    observed.route = None;
    observed.log_group = None;
    observed.alarm_error_rate = None;
    let arguments = recover(&platform, "auth-service", &observed).unwrap();
    let back = resolve(&arguments.to_json(), env);
    let defaults = resolve(&minimal(), env);
    assert_eq!(back.health_check, defaults.health_check);
    assert_eq!(back.retry, defaults.retry);
    assert_eq!(back.timeout, defaults.timeout);
    assert_eq!(back.tls, None);
    assert!(back.backends.is_empty());
    assert_eq!(back.log_retention_days, 30);
    assert_eq!(back.alarms.error_rate_percent, 5.0);
    // the rest still comes from what exists
    assert_eq!(back.alarms.p95_latency_ms, 350.0);
    assert_eq!(back.alarms.actions, original.alarms.actions);
    assert_eq!(back.image, original.image);
    assert_eq!(back.autoscaling, original.autoscaling);
}

#[test]
fn task_definition_and_service_are_required() {
    let env = Environment::Production;
    let platform = platform(env);
    let graph = expand::expand(&resolve(&minimal(), env), &platform);
    let mut observed = ObservedGraph::from_graph(&graph);
    observed.service = None;
    let e = recover(&platform, "auth-service", &observed).unwrap_err();
    assert!(e.contains("ECS service"), "{e}");
    let mut observed = ObservedGraph::from_graph(&graph);
    observed.task_definition = None;
    let e = recover(&platform, "auth-service", &observed).unwrap_err();
    assert!(e.contains("task definition"), "{e}");
    let mut observed = ObservedGraph::from_graph(&graph);
    if let Some(td) = observed.task_definition.as_mut() {
        td.containers.retain(|c| c.name != APP_CONTAINER);
    }
    let e = recover(&platform, "auth-service", &observed).unwrap_err();
    assert!(e.contains("no container named \"app\""), "{e}");
}

#[test]
fn envoy_resource_arn_as_text_is_no_user_variable() {
    // Read back from AWS, Envoy's APPMESH_RESOURCE_ARN is text; it is the
    // Envoy container's, not the application's, so nothing changes.
    let env = Environment::Production;
    let platform = platform(env);
    let original = resolve(&minimal(), env);
    let mut observed = ObservedGraph::from_graph(&expand::expand(&original, &platform));
    for c in &mut observed.task_definition.as_mut().unwrap().containers {
        for v in c.environment.values_mut() {
            if let EnvValue::Component { .. } = v {
                *v = EnvValue::Text("arn:aws:appmesh:eu-central-1:1:mesh/m/virtualNode/n".into());
            }
        }
    }
    let arguments = recover(&platform, "auth-service", &observed).unwrap();
    assert_eq!(resolve(&arguments.to_json(), env), original);
}

#[test]
fn insert_rejects_unknown_keys_and_kinds() {
    let env = Environment::Production;
    let graph = expand::expand(&resolve(&minimal(), env), &platform(env));
    let log_group = graph.get(keys::LOG_GROUP).unwrap().spec.clone();
    let mut observed = ObservedGraph::default();
    assert!(!observed.insert("candidate_service", log_group.clone()));
    assert!(!observed.insert(keys::SERVICE, log_group.clone()));
    assert!(observed.insert(keys::LOG_GROUP, log_group));
    assert!(observed.log_group.is_some());
}

#[test]
fn helpers() {
    assert_eq!(duration(30_000), "30s");
    assert_eq!(duration(1500), "1500ms");
    assert_eq!(duration(0), "0s");
    let strategy = |fargate: i32, spot: i32| {
        [("FARGATE", fargate), ("FARGATE_SPOT", spot)]
            .into_iter()
            .filter(|(_, w)| *w > 0)
            .map(|(p, w)| CapacityProviderSpec {
                provider: p.to_string(),
                weight: w,
                base: 0,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(spot_percent(&strategy(100, 0)), 0);
    assert_eq!(spot_percent(&strategy(0, 100)), 100);
    assert_eq!(spot_percent(&strategy(20, 80)), 80);
    assert_eq!(spot_percent(&strategy(1, 1)), 50);
    assert_eq!(spot_percent(&[]), 0);
    let p = platform(Environment::Production);
    assert_eq!(
        backends(
            &p,
            Some(&["vc-service.svc.local".to_string(), "other".to_string()])
        ),
        vec!["other", "vc-service"]
    );
}

/// Service Connect: the health check (default command or the user's), the
/// timeouts and the TLS settings come back from the task definition and the
/// ECS service's Service Connect configuration; the graph is the same, and
/// what import records plans no changes against a configuration that
/// leaves its defaults out.
#[test]
fn service_connect_round_trip() {
    use crate::resources::microservice::test_fixtures::platform_on;
    let sc = ServiceMesh::ServiceConnect;
    let base = json!({
        "platform": "matbakh", "name": "auth-service", "image": "registry.example/auth:1",
        "port": 8080, "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
    });
    let patch = |p: serde_json::Value| {
        let mut v = base.clone();
        for (k, x) in p.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let cases = [
        ("minimal", base.clone()),
        (
            "everything",
            patch(json!({
                "health_check": [{"path": "/ready", "interval": "10s", "timeout": "3s", "unhealthy_threshold": 4}],
                "timeout": [{"per_request": "20s", "idle": "120s"}],
                "tls": [{"certificate_authority_arns": ["arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/x"],
                         "role_arn": "arn:aws:iam::123456789012:role/tls"}],
                "tracing": [{"image": "registry.example/otel:1", "sampling_rate": 0.25}],
            })),
        ),
        (
            "command",
            patch(
                json!({"health_check": [{"command": "wget -q -O /dev/null http://localhost:8080/health || exit 1"}]}),
            ),
        ),
    ];
    for (case, config) in cases {
        let env = Environment::Production;
        let platform = platform_on(env, sc);
        let c = MicroserviceConfig::from_value(&config).expect("parses");
        let original = Settings::resolve(&c, env, sc).expect("valid");
        let observed = ObservedGraph::from_graph(&expand::expand(&original, &platform));
        let args = recover(&platform, &original.name, &observed).expect("recovers");
        let back = Settings::resolve(
            &MicroserviceConfig::from_value(&args.to_json()).unwrap(),
            env,
            sc,
        )
        .unwrap_or_else(|p| panic!("{case}: recovered arguments are refused: {p:?}"));
        assert_eq!(back, original, "{case}");
        assert_eq!(
            expand::expand(&back, &platform),
            expand::expand(&original, &platform),
            "{case}"
        );
        let imported = without_defaults(&args, env, sc).to_json();
        let mut expected = normalized(&config);
        let mut found = normalized(&imported);
        for key in DEFAULTED.iter().chain(COMPUTED.iter()) {
            expected.as_object_mut().unwrap().remove(*key);
            found.as_object_mut().unwrap().remove(*key);
        }
        assert_eq!(found, expected, "{case}");
    }
}
