//! `matbakh_microservice` configuration as Terraform sends it, and the fully
//! defaulted [`Settings`] the expansion works from.
//!
//! Terraform hands the resource over as one object: every argument by its
//! contract name, nested blocks as lists of zero or one object, and `null`
//! for what is unset or not yet known at plan time. [`MicroserviceConfig`]
//! mirrors that shape (nearly everything optional); [`Settings`] is what is
//! left after applying the contract's and the environment's defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::environment::Environment;
use crate::service_mesh::ServiceMesh;
use crate::validation::parse_duration;

/// The resource's arguments. Computed attributes Terraform also sends (id,
/// components, dns_name, ...) are ignored.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MicroserviceConfig {
    pub platform: Option<String>,
    pub name: Option<String>,
    pub image: Option<String>,
    #[serde(deserialize_with = "int")]
    pub port: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub cpu: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub memory: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub desired_count: Option<i64>,
    pub subnet_ids: Option<Vec<Option<String>>>,
    pub security_group_ids: Option<Vec<Option<String>>>,
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    pub secrets_kms_key_arns: Option<Vec<Option<String>>>,
    pub task_policy_json: Option<String>,
    pub task_policy_arns: Option<Vec<Option<String>>>,
    pub environment_variables: Option<BTreeMap<String, Option<String>>>,
    pub secrets: Option<BTreeMap<String, Option<String>>>,
    pub backends: Option<Vec<Option<String>>>,
    #[serde(deserialize_with = "int")]
    pub spot_percent: Option<i64>,
    #[serde(deserialize_with = "block")]
    pub health_check: Option<HealthCheckConfig>,
    #[serde(deserialize_with = "block")]
    pub retry: Option<RetryConfig>,
    #[serde(deserialize_with = "block")]
    pub timeout: Option<TimeoutConfig>,
    #[serde(deserialize_with = "block")]
    pub circuit_breaker: Option<CircuitBreakerConfig>,
    #[serde(deserialize_with = "block")]
    pub tls: Option<TlsConfig>,
    #[serde(deserialize_with = "block")]
    pub envoy: Option<EnvoyConfig>,
    #[serde(deserialize_with = "block")]
    pub tracing: Option<TracingConfig>,
    #[serde(deserialize_with = "block")]
    pub autoscaling: Option<AutoscalingConfig>,
    #[serde(deserialize_with = "block")]
    pub alarms: Option<AlarmsConfig>,
    #[serde(deserialize_with = "block")]
    pub deployment: Option<super::deployment::DeploymentConfig>,
    #[serde(deserialize_with = "block")]
    pub ingress: Option<super::ingress::IngressConfig>,
    pub dashboard: Option<bool>,
    #[serde(deserialize_with = "int")]
    pub log_retention_days: Option<i64>,
    pub wait_for_steady_state: Option<bool>,
    #[serde(deserialize_with = "block")]
    pub timeouts: Option<TimeoutsConfig>,
    pub tags: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct HealthCheckConfig {
    pub path: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    #[serde(deserialize_with = "int")]
    pub unhealthy_threshold: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub healthy_threshold: Option<i64>,
    /// service_connect: the shell command of the container health check.
    pub command: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RetryConfig {
    #[serde(deserialize_with = "int")]
    pub max_retries: Option<i64>,
    pub per_try_timeout: Option<String>,
    pub http_events: Option<Vec<Option<String>>>,
    pub tcp_events: Option<Vec<Option<String>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TimeoutConfig {
    pub per_request: Option<String>,
    pub idle: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CircuitBreakerConfig {
    #[serde(deserialize_with = "int")]
    pub max_server_errors: Option<i64>,
    pub interval: Option<String>,
    pub base_ejection: Option<String>,
    #[serde(deserialize_with = "int")]
    pub max_ejection_percent: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub max_connections: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub max_pending_requests: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TlsConfig {
    pub certificate_authority_arns: Option<Vec<Option<String>>>,
    /// service_connect: the IAM role ECS uses with the CA.
    pub role_arn: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct EnvoyConfig {
    #[serde(deserialize_with = "int")]
    pub cpu: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub memory: Option<i64>,
    pub log_level: Option<String>,
    pub image: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TracingConfig {
    pub enabled: Option<bool>,
    pub sampling_rate: Option<f64>,
    pub image: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AutoscalingConfig {
    #[serde(deserialize_with = "int")]
    pub min_count: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub max_count: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub cpu_target: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub memory_target: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub requests_per_target: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AlarmsConfig {
    pub error_rate_percent: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub actions: Option<Vec<Option<String>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TimeoutsConfig {
    pub create: Option<String>,
    pub update: Option<String>,
    pub delete: Option<String>,
}

impl MicroserviceConfig {
    /// Read the resource object Terraform sent (as JSON).
    pub fn from_value(value: &serde_json::Value) -> Result<MicroserviceConfig, String> {
        crate::tf::decode::typed_or_text(value, "the matbakh_microservice configuration")
    }
}

// Whole numbers (32-bit, as AWS takes them) and nested blocks decode the
// same way in every resource.
pub(crate) use crate::tf::decode::{block, int, whole as whole_number};

/// The known elements of a list (unknown elements are left out).
pub(crate) fn known(list: &Option<Vec<Option<String>>>) -> Vec<String> {
    list.iter().flatten().flatten().cloned().collect()
}

/// The known entries of a map.
pub(crate) fn known_map(
    map: &Option<BTreeMap<String, Option<String>>>,
) -> BTreeMap<String, String> {
    map.iter()
        .flatten()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
        .collect()
}

// ---------------------------------------------------------------------------
// Defaults of the contract (interface.md) and the issue.

pub const DEFAULT_DESIRED_COUNT: i64 = 2;
pub const DEFAULT_HEALTH_CHECK_PATH: &str = "/health";
pub const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_UNHEALTHY_THRESHOLD: i64 = 3;
pub const DEFAULT_HEALTHY_THRESHOLD: i64 = 2;
pub const DEFAULT_MAX_RETRIES: i64 = 3;
pub const DEFAULT_PER_TRY_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_HTTP_RETRY_EVENTS: [&str; 2] = ["server-error", "gateway-error"];
pub const DEFAULT_TCP_RETRY_EVENTS: [&str; 1] = ["connection-error"];
pub const DEFAULT_PER_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
pub const DEFAULT_MAX_SERVER_ERRORS: i64 = 5;
pub const DEFAULT_OUTLIER_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_BASE_EJECTION: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_EJECTION_PERCENT: i64 = 50;
pub const DEFAULT_MAX_CONNECTIONS: i64 = 1024;
pub const DEFAULT_MAX_PENDING_REQUESTS: i64 = 1024;
pub const DEFAULT_ENVOY_CPU: i64 = 256;
pub const DEFAULT_ENVOY_MEMORY: i64 = 256;
pub const DEFAULT_ENVOY_LOG_LEVEL: &str = "info";
/// The Envoy image App Mesh publishes (public ECR works in every region).
pub const DEFAULT_ENVOY_IMAGE: &str = "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.12.1-prod";
/// The AWS Distro for OpenTelemetry collector: the newest release seen when
/// this default was chosen (the build network is closed, so it was not
/// pulled here; the docs say so).
pub const DEFAULT_ADOT_IMAGE: &str = "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0";
/// Envoy's admin interface; also the port its health check asks.
pub const ENVOY_ADMIN_PORT: i64 = 9901;
/// The ADOT collector sidecar's share of the task.
pub const ADOT_CPU: i64 = 128;
pub const ADOT_MEMORY: i64 = 128;
pub const DEFAULT_ERROR_RATE_PERCENT: f64 = 5.0;
pub const DEFAULT_P95_LATENCY_MS: f64 = 200.0;

/// Every argument with its default applied: what the expansion, the cost
/// estimate and the computed attributes work from.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Settings {
    pub platform: String,
    pub name: String,
    pub image: String,
    pub port: i64,
    pub cpu: i64,
    pub memory: i64,
    /// The configured (or default) count; with autoscaling, clamped into
    /// [min_count, max_count] and used only as the initial count.
    pub desired_count: i64,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    /// `None`: the provider makes one (see [`super::roles`]).
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    /// KMS keys of the secrets: the made execution role may decrypt with these.
    pub secrets_kms_key_arns: Vec<String>,
    /// The application's own permissions, in the made task role.
    pub task_policy_json: Option<String>,
    /// Managed policies attached to the made task role.
    pub task_policy_arns: Vec<String>,
    pub environment_variables: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub backends: Vec<String>,
    pub spot_percent: i64,
    pub health_check: HealthCheck,
    pub retry: Retry,
    pub timeout: Timeout,
    pub circuit_breaker: CircuitBreaker,
    pub tls: Option<Tls>,
    pub envoy: Envoy,
    pub tracing: Tracing,
    pub autoscaling: Option<Autoscaling>,
    pub alarms: Alarms,
    pub deployment: super::deployment::Deployment,
    /// The `ingress` block: the service behind the platform's load balancer.
    pub ingress: Option<super::ingress::Ingress>,
    pub dashboard: bool,
    pub log_retention_days: i64,
    pub wait_for_steady_state: bool,
    /// The resource's own `tags` (the expansion merges them over the
    /// provider's `default_tags`).
    pub tags: BTreeMap<String, String>,
    /// The provider's `service_mesh`: decides the sidecars (and so the
    /// task size and cost). The expansion takes the backend from the
    /// platform context, which carries the same value.
    pub service_mesh: ServiceMesh,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HealthCheck {
    pub path: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub unhealthy_threshold: i64,
    pub healthy_threshold: i64,
    /// service_connect: the container health check's shell command; `None`
    /// asks for `curl` of `path` on the port (the tool must be in the image).
    pub command: Option<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Retry {
    pub max_retries: i64,
    pub per_try_timeout: Duration,
    pub http_events: Vec<String>,
    pub tcp_events: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Timeout {
    pub per_request: Duration,
    pub idle: Duration,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CircuitBreaker {
    pub max_server_errors: i64,
    pub interval: Duration,
    pub base_ejection: Duration,
    pub max_ejection_percent: i64,
    pub max_connections: i64,
    pub max_pending_requests: i64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Tls {
    pub certificate_authority_arns: Vec<String>,
    pub role_arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Envoy {
    pub cpu: i64,
    pub memory: i64,
    pub log_level: String,
    pub image: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Tracing {
    /// When on, an ADOT collector sidecar runs in every task.
    pub enabled: bool,
    pub sampling_rate: f64,
    /// The ADOT collector image.
    pub image: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Autoscaling {
    pub min_count: i64,
    pub max_count: i64,
    pub cpu_target: i64,
    pub memory_target: i64,
    /// With ingress: requests per target (per minute, the metric's unit)
    /// that target tracking on `ALBRequestCountPerTarget` holds.
    pub requests_per_target: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Alarms {
    pub error_rate_percent: f64,
    pub p95_latency_ms: f64,
    pub actions: Vec<String>,
}

impl Settings {
    /// Apply the defaults without validating. Durations that do not parse
    /// take their default; call `Settings::resolve` (in `validate/mod.rs`) unless `config` was
    /// validated already.
    pub fn resolve_unchecked(config: &MicroserviceConfig, env: Environment) -> Settings {
        let dur = |text: &Option<String>, default: Duration| {
            text.as_deref()
                .and_then(|t| parse_duration(t).ok())
                .unwrap_or(default)
        };
        let hc = config.health_check.clone().unwrap_or_default();
        let retry = config.retry.clone().unwrap_or_default();
        let timeout = config.timeout.clone().unwrap_or_default();
        let cb = config.circuit_breaker.clone().unwrap_or_default();
        let envoy = config.envoy.clone().unwrap_or_default();
        let tracing = config.tracing.clone().unwrap_or_default();
        let alarms = config.alarms.clone().unwrap_or_default();

        let events = |list: &Option<Vec<Option<String>>>, default: &[&str]| -> Vec<String> {
            let mut events = match list {
                Some(_) => known(list),
                None => default.iter().map(|s| s.to_string()).collect(),
            };
            events.sort();
            events.dedup();
            events
        };

        let autoscaling = config.autoscaling.as_ref().map(|a| {
            let min_count = a.min_count.unwrap_or(1);
            Autoscaling {
                min_count,
                max_count: a.max_count.unwrap_or(min_count.max(1)),
                cpu_target: a.cpu_target.unwrap_or(70),
                memory_target: a.memory_target.unwrap_or(80),
                requests_per_target: a.requests_per_target,
            }
        });
        let mut desired_count = config.desired_count.unwrap_or(DEFAULT_DESIRED_COUNT);
        if let Some(a) = &autoscaling {
            if a.min_count <= a.max_count {
                desired_count = desired_count.clamp(a.min_count, a.max_count);
            }
        }

        let ingress = config.ingress.as_ref().map(|i| {
            super::ingress::Ingress::resolve(
                i,
                config.platform.as_deref().unwrap_or_default(),
                config.name.as_deref().unwrap_or_default(),
                hc.path.as_deref().unwrap_or(DEFAULT_HEALTH_CHECK_PATH),
            )
        });
        Settings {
            platform: config.platform.clone().unwrap_or_default(),
            name: config.name.clone().unwrap_or_default(),
            image: config.image.clone().unwrap_or_default(),
            port: config.port.unwrap_or(8080),
            cpu: config.cpu.unwrap_or(256),
            memory: config.memory.unwrap_or(512),
            desired_count,
            subnet_ids: known(&config.subnet_ids),
            security_group_ids: known(&config.security_group_ids),
            execution_role_arn: config.execution_role_arn.clone(),
            task_role_arn: config.task_role_arn.clone(),
            secrets_kms_key_arns: known(&config.secrets_kms_key_arns),
            task_policy_json: config.task_policy_json.clone(),
            task_policy_arns: known(&config.task_policy_arns),
            environment_variables: known_map(&config.environment_variables),
            secrets: known_map(&config.secrets),
            backends: known(&config.backends),
            spot_percent: config.spot_percent.unwrap_or(env.default_spot_percent()),
            health_check: HealthCheck {
                path: hc
                    .path
                    .unwrap_or_else(|| DEFAULT_HEALTH_CHECK_PATH.to_string()),
                interval: dur(&hc.interval, DEFAULT_HEALTH_CHECK_INTERVAL),
                timeout: dur(&hc.timeout, DEFAULT_HEALTH_CHECK_TIMEOUT),
                unhealthy_threshold: hc
                    .unhealthy_threshold
                    .unwrap_or(DEFAULT_UNHEALTHY_THRESHOLD),
                healthy_threshold: hc.healthy_threshold.unwrap_or(DEFAULT_HEALTHY_THRESHOLD),
                command: hc.command.clone(),
            },
            retry: Retry {
                max_retries: retry.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
                per_try_timeout: dur(&retry.per_try_timeout, DEFAULT_PER_TRY_TIMEOUT),
                http_events: events(&retry.http_events, &DEFAULT_HTTP_RETRY_EVENTS),
                tcp_events: events(&retry.tcp_events, &DEFAULT_TCP_RETRY_EVENTS),
            },
            timeout: Timeout {
                per_request: dur(&timeout.per_request, DEFAULT_PER_REQUEST_TIMEOUT),
                idle: dur(&timeout.idle, DEFAULT_IDLE_TIMEOUT),
            },
            circuit_breaker: CircuitBreaker {
                max_server_errors: cb.max_server_errors.unwrap_or(DEFAULT_MAX_SERVER_ERRORS),
                interval: dur(&cb.interval, DEFAULT_OUTLIER_INTERVAL),
                base_ejection: dur(&cb.base_ejection, DEFAULT_BASE_EJECTION),
                max_ejection_percent: cb
                    .max_ejection_percent
                    .unwrap_or(DEFAULT_MAX_EJECTION_PERCENT),
                max_connections: cb.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
                max_pending_requests: cb
                    .max_pending_requests
                    .unwrap_or(DEFAULT_MAX_PENDING_REQUESTS),
            },
            tls: config.tls.as_ref().map(|t| Tls {
                certificate_authority_arns: known(&t.certificate_authority_arns),
                role_arn: t.role_arn.clone(),
            }),
            envoy: Envoy {
                cpu: envoy.cpu.unwrap_or(DEFAULT_ENVOY_CPU),
                memory: envoy.memory.unwrap_or(DEFAULT_ENVOY_MEMORY),
                log_level: envoy
                    .log_level
                    .unwrap_or_else(|| DEFAULT_ENVOY_LOG_LEVEL.to_string()),
                image: envoy
                    .image
                    .unwrap_or_else(|| DEFAULT_ENVOY_IMAGE.to_string()),
            },
            tracing: Tracing {
                enabled: tracing.enabled.unwrap_or(true),
                sampling_rate: tracing
                    .sampling_rate
                    .unwrap_or(env.default_trace_sampling()),
                image: tracing
                    .image
                    .unwrap_or_else(|| DEFAULT_ADOT_IMAGE.to_string()),
            },
            autoscaling,
            alarms: Alarms {
                error_rate_percent: alarms
                    .error_rate_percent
                    .unwrap_or(DEFAULT_ERROR_RATE_PERCENT),
                p95_latency_ms: alarms.p95_latency_ms.unwrap_or(DEFAULT_P95_LATENCY_MS),
                actions: known(&alarms.actions),
            },
            deployment: super::deployment::Deployment::resolve(config.deployment.as_ref()),
            ingress,
            dashboard: config.dashboard.unwrap_or(true),
            log_retention_days: config
                .log_retention_days
                .unwrap_or(env.default_log_retention_days()),
            wait_for_steady_state: config.wait_for_steady_state.unwrap_or(true),
            tags: known_map(&config.tags),
            service_mesh: ServiceMesh::default(),
        }
    }

    /// What the cost estimate counts: the tasks that always run (the
    /// autoscaling floor when on), their size, spot share and dashboard.
    pub fn workload(&self) -> crate::cost::Workload {
        crate::cost::Workload {
            tasks: match &self.autoscaling {
                Some(a) => a.min_count,
                None => self.desired_count,
            },
            cpu: self.containers_cpu(),
            memory: self.containers_memory(),
            spot_percent: self.spot_percent,
            dashboard: self.dashboard,
        }
    }

    /// These settings on the backend `mesh` (the provider's `service_mesh`).
    pub fn on(mut self, mesh: ServiceMesh) -> Settings {
        self.service_mesh = mesh;
        self
    }

    /// CPU units and MiB of the Envoy sidecar: only App Mesh runs one.
    fn envoy_size(&self) -> (i64, i64) {
        match self.service_mesh {
            ServiceMesh::AppMesh => (self.envoy.cpu, self.envoy.memory),
            ServiceMesh::ServiceConnect => (0, 0),
        }
    }

    /// CPU units of every container of a task together.
    pub fn containers_cpu(&self) -> i64 {
        self.cpu + self.envoy_size().0 + if self.tracing.enabled { ADOT_CPU } else { 0 }
    }

    /// MiB of every container of a task together.
    pub fn containers_memory(&self) -> i64 {
        self.memory + self.envoy_size().1 + if self.tracing.enabled { ADOT_MEMORY } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_terraform_shapes_and_ignores_computed_attributes() {
        let config = MicroserviceConfig::from_value(&json!({
            "id": null, "components": null, "dns_name": null, "drift": null,
            "platform": "matbakh", "name": "auth-service", "image": "img:1",
            "port": 8080.0, "cpu": 512, "memory": null,
            "subnet_ids": ["subnet-1", null],
            "environment_variables": {"A": "1", "B": null},
            "health_check": [{"path": "/ready", "interval": null}],
            "retry": [], "tls": null, "envoy": {"cpu": 512},
        }))
        .unwrap();
        assert_eq!(config.port, Some(8080));
        assert_eq!(config.memory, None);
        assert_eq!(
            config.health_check.as_ref().unwrap().path.as_deref(),
            Some("/ready")
        );
        assert_eq!(config.retry, None);
        assert_eq!(config.envoy.as_ref().unwrap().cpu, Some(512));
        assert_eq!(known(&config.subnet_ids), vec!["subnet-1"]);
        assert_eq!(known_map(&config.environment_variables).len(), 1);
    }

    #[test]
    fn fractional_numbers_are_rejected() {
        assert!(MicroserviceConfig::from_value(&json!({"cpu": 1.5})).is_err());
    }

    #[test]
    fn every_default_of_the_contract() {
        let s =
            Settings::resolve_unchecked(&MicroserviceConfig::default(), Environment::Production);
        assert_eq!(s.desired_count, 2);
        assert_eq!(s.spot_percent, 0);
        assert_eq!(s.log_retention_days, 30);
        assert_eq!(s.health_check.path, "/health");
        assert_eq!(s.health_check.interval, Duration::from_secs(30));
        assert_eq!(s.health_check.timeout, Duration::from_secs(5));
        assert_eq!(
            (
                s.health_check.unhealthy_threshold,
                s.health_check.healthy_threshold
            ),
            (3, 2)
        );
        assert_eq!(s.retry.max_retries, 3);
        assert_eq!(s.retry.per_try_timeout, Duration::from_secs(2));
        assert_eq!(s.retry.http_events, vec!["gateway-error", "server-error"]);
        assert_eq!(s.retry.tcp_events, vec!["connection-error"]);
        assert_eq!(s.timeout.per_request, Duration::from_secs(15));
        assert_eq!(s.timeout.idle, Duration::from_secs(300));
        let cb = &s.circuit_breaker;
        assert_eq!(
            (
                cb.max_server_errors,
                cb.max_ejection_percent,
                cb.max_connections,
                cb.max_pending_requests
            ),
            (5, 50, 1024, 1024)
        );
        assert_eq!(
            (cb.interval, cb.base_ejection),
            (Duration::from_secs(30), Duration::from_secs(30))
        );
        assert_eq!(s.tls, None);
        assert_eq!(s.health_check.command, None);
        assert_eq!(s.envoy.image, DEFAULT_ENVOY_IMAGE);
        assert_eq!(
            s.tracing.image,
            "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0"
        );
        assert_eq!(
            (s.envoy.cpu, s.envoy.memory, s.envoy.log_level.as_str()),
            (256, 256, "info")
        );
        assert!(s.tracing.enabled);
        assert_eq!(s.tracing.sampling_rate, 0.1);
        assert_eq!(s.autoscaling, None);
        assert_eq!(
            (s.alarms.error_rate_percent, s.alarms.p95_latency_ms),
            (5.0, 200.0)
        );
        assert!(s.alarms.actions.is_empty());
        assert!(s.dashboard && s.wait_for_steady_state);
        assert!(
            s.environment_variables.is_empty() && s.secrets.is_empty() && s.backends.is_empty()
        );
    }

    #[test]
    fn environment_defaults() {
        let dev =
            Settings::resolve_unchecked(&MicroserviceConfig::default(), Environment::Development);
        assert_eq!(
            (
                dev.spot_percent,
                dev.log_retention_days,
                dev.tracing.sampling_rate
            ),
            (50, 7, 0.5)
        );
        let stg = Settings::resolve_unchecked(&MicroserviceConfig::default(), Environment::Staging);
        assert_eq!(
            (
                stg.spot_percent,
                stg.log_retention_days,
                stg.tracing.sampling_rate
            ),
            (80, 30, 0.1)
        );
        let explicit = MicroserviceConfig {
            spot_percent: Some(10),
            log_retention_days: Some(90),
            tracing: Some(TracingConfig {
                sampling_rate: Some(0.25),
                ..Default::default()
            }),
            ..Default::default()
        };
        let s = Settings::resolve_unchecked(&explicit, Environment::Development);
        assert_eq!(
            (
                s.spot_percent,
                s.log_retention_days,
                s.tracing.sampling_rate
            ),
            (10, 90, 0.25)
        );
    }

    #[test]
    fn default_desired_count_is_clamped_into_the_autoscaling_range() {
        let config = MicroserviceConfig {
            autoscaling: Some(AutoscalingConfig {
                min_count: Some(3),
                max_count: Some(6),
                ..Default::default()
            }),
            ..Default::default()
        };
        let s = Settings::resolve_unchecked(&config, Environment::Production);
        assert_eq!(s.desired_count, 3);
        let a = s.autoscaling.unwrap();
        assert_eq!((a.cpu_target, a.memory_target), (70, 80));
    }

    #[test]
    fn container_sums_follow_tracing_and_the_backend() {
        let s =
            Settings::resolve_unchecked(&MicroserviceConfig::default(), Environment::Production);
        assert_eq!(s.service_mesh, ServiceMesh::ServiceConnect);
        assert_eq!(
            (s.containers_cpu(), s.containers_memory()),
            (256 + 128, 512 + 128),
            "no Envoy on Service Connect"
        );
        let mut s = s.on(ServiceMesh::AppMesh);
        assert_eq!(
            (s.containers_cpu(), s.containers_memory()),
            (256 + 256 + 128, 512 + 256 + 128)
        );
        s.tracing.enabled = false;
        assert_eq!((s.containers_cpu(), s.containers_memory()), (512, 768));
    }
}
