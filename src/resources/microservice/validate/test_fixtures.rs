//! The contract's reference configuration and the helpers the rule tests
//! judge patches of it with.

use super::{validate, validate_on};
use crate::resources::microservice::config::MicroserviceConfig;
use crate::service_mesh::ServiceMesh;
use crate::validation::Problem;
use serde_json::json;

/// The contract's reference configuration, which must be valid.
pub(super) fn reference() -> serde_json::Value {
    json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2",
        "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2,
        "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0fedcba98"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "task_role_arn": "arn:aws:iam::123456789012:role/app/auth",
        "environment_variables": {"LOG_LEVEL": "info"},
        "secrets": {"DB_PASSWORD": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db",
                    "API_KEY": "arn:aws:ssm:eu-central-1:123456789012:parameter/auth/api-key"},
        "backends": ["persona-service", "vc-service"],
        "spot_percent": 80,
        "health_check": [{"path": "/health", "interval": "30s", "timeout": "5s", "unhealthy_threshold": 3, "healthy_threshold": 2}],
        "retry": [{"max_retries": 3, "per_try_timeout": "2s", "http_events": ["server-error", "gateway-error"], "tcp_events": ["connection-error"]}],
        "timeout": [{"per_request": "15s", "idle": "300s"}],
        "circuit_breaker": [{"max_server_errors": 5, "interval": "30s", "base_ejection": "30s", "max_ejection_percent": 50, "max_connections": 1024, "max_pending_requests": 1024}],
        "tls": [{"certificate_authority_arns": ["arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012"]}],
        "envoy": [{"cpu": 256, "memory": 256, "log_level": "info"}],
        "tracing": [{"enabled": true, "sampling_rate": 0.1}],
        "autoscaling": [{"min_count": 1, "max_count": 10, "cpu_target": 70, "memory_target": 80}],
        "alarms": [{"error_rate_percent": 5, "p95_latency_ms": 200, "actions": ["arn:aws:sns:eu-central-1:123456789012:alerts"]}],
        "dashboard": true, "log_retention_days": 30, "wait_for_steady_state": true,
        "timeouts": [{"create": "20m", "update": "20m", "delete": "20m"}]
    })
}

pub(super) fn problems_with(patch: serde_json::Value) -> Vec<Problem> {
    let mut value = reference();
    for (k, v) in patch.as_object().expect("patch is an object") {
        value[k] = v.clone();
    }
    // The reference is an App Mesh configuration (retry, circuit
    // breaker, Envoy): judged on that backend.
    let config = MicroserviceConfig::from_value(&value).expect("config parses");
    let mut problems = validate(&config);
    problems.extend(validate_on(&config, ServiceMesh::AppMesh));
    problems
}

/// The dotted paths of the problems a patch of the reference causes.
pub(super) fn paths(patch: serde_json::Value) -> Vec<String> {
    problems_with(patch).iter().map(Problem::dotted).collect()
}
