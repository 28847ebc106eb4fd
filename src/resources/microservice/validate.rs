//! Plan-time validation of `matbakh_microservice`, mirroring AWS's own
//! constraints so a bad value fails at plan, naming its attribute, instead
//! of half way through an apply.
//!
//! Values unknown at plan time arrive as null and are not judged; Terraform
//! itself insists on required arguments.

use std::collections::BTreeSet;
use std::time::Duration;

use super::config::{
    known, MicroserviceConfig, Settings, ADOT_CPU, ADOT_MEMORY, DEFAULT_ENVOY_CPU,
    DEFAULT_ENVOY_MEMORY, DEFAULT_HEALTH_CHECK_INTERVAL, DEFAULT_HEALTH_CHECK_TIMEOUT,
};
pub use super::containers::ENVOY_UID;
use super::names::MAX_NAME_LEN;
use crate::environment::Environment;
use crate::fargate::{smallest_fargate_size, NoFargateSize};
use crate::service_mesh::ServiceMesh;
use crate::validation::{parse_duration, PathStep, Problem};

/// Ports Envoy itself listens on inside the task (ingress, egress, admin).
pub const ENVOY_RESERVED_PORTS: [i64; 3] = [15000, 15001, 9901];

pub const HTTP_RETRY_EVENTS: [&str; 4] = [
    "server-error",
    "gateway-error",
    "client-error",
    "stream-error",
];
pub const TCP_RETRY_EVENTS: [&str; 1] = ["connection-error"];
pub const ENVOY_LOG_LEVELS: [&str; 7] = [
    "trace", "debug", "info", "warning", "error", "critical", "off",
];
/// CloudWatch Logs' accepted retention periods, days.
pub const LOG_RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
/// App Mesh's `maxRetries` has no documented maximum; more than 10 retries
/// per request multiplies load on a failing backend, so it is refused.
pub const MAX_RETRIES: i64 = 10;
/// Cloud Map's quota of instances per service: the most tasks a service
/// may scale to.
pub const MAX_TASKS: i64 = 1000;

/// Every problem of `config` that does not depend on the backend; empty
/// when it is valid. What Terraform's ValidateResourceConfig checks (it
/// does not see the provider's configuration).
pub fn validate(config: &MicroserviceConfig) -> Vec<Problem> {
    let mut v = Validator::default();
    v.name(config);
    v.image(config);
    v.port(config);
    v.sizes_positive(config);
    v.counts(config);
    v.network(config);
    v.roles(config);
    v.problems.extend(super::validate_roles::validate(config));
    v.problems
        .extend(super::ingress::validate_config(config.ingress.as_ref()));
    v.environment_variables(config);
    v.secrets(config);
    v.backends(config);
    v.health_check(config);
    v.retry(config);
    v.timeout(config);
    v.circuit_breaker(config);
    v.tls(config);
    v.envoy(config);
    v.tracing(config);
    v.autoscaling(config);
    v.alarms(config);
    v.log_retention(config);
    v.timeouts(config);
    // The tags alone; with the provider's default_tags at plan
    // (crate::resources::tags::plan_tags).
    v.problems.extend(crate::resources::tags::check_tags(
        "tags",
        &super::config::known_map(&config.tags),
    ));
    if let Some(d) = &config.deployment {
        v.problems.extend(super::deployment::validate(d));
    }
    v.problems
}

/// The problems of `config` on the backend `mesh` (the provider's
/// `service_mesh`, known at plan): arguments the backend refuses, each
/// named with the backend, and whether a Fargate size holds the app with
/// the backend's sidecars. Checked at plan.
pub fn validate_on(config: &MicroserviceConfig, mesh: ServiceMesh) -> Vec<Problem> {
    let mut v = Validator {
        problems: super::backend::of(mesh).refused(config),
    };
    v.task_size(config, mesh);
    if let Some(d) = &config.deployment {
        v.problems
            .extend(super::deployment::check_backend(d, mesh.name()));
    }
    v.problems
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn error(&mut self, path: &str, summary: &str, detail: impl Into<String>) {
        self.problems.push(Problem::at(path, summary, detail));
    }

    /// A problem about one entry of a map attribute (path step `Key`).
    fn error_at_key(&mut self, attr: &str, key: &str, summary: &str, detail: impl Into<String>) {
        let mut problem = Problem::at(attr, summary, detail);
        problem.path.push(PathStep::Key(key.to_string()));
        self.problems.push(problem);
    }

    fn name(&mut self, c: &MicroserviceConfig) {
        if let Some(name) = &c.name {
            if let Err(why) = check_service_name(name) {
                self.error("name", "Invalid microservice name", why);
            }
        }
    }

    fn image(&mut self, c: &MicroserviceConfig) {
        if let Some(image) = &c.image {
            if image.is_empty() {
                self.error("image", "Empty image", "image must name a container image, e.g. \"123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2\"");
            } else if image.chars().any(char::is_whitespace) {
                self.error(
                    "image",
                    "Invalid image",
                    format!("image {image:?} contains whitespace"),
                );
            } else if image.len() > 255 {
                self.error(
                    "image",
                    "Invalid image",
                    "an image reference has at most 255 characters",
                );
            }
        }
    }

    fn port(&mut self, c: &MicroserviceConfig) {
        if let Some(port) = c.port {
            if !(1..=65535).contains(&port) {
                self.error(
                    "port",
                    "Invalid port",
                    format!("port {port} is not between 1 and 65535"),
                );
            } else if ENVOY_RESERVED_PORTS.contains(&port) {
                self.error(
                    "port",
                    "Port reserved by Envoy",
                    format!("port {port} is used by the Envoy sidecar (15000 ingress, 15001 egress, 9901 admin); choose another"),
                );
            }
        }
    }

    /// The containers' CPU and memory are positive.
    fn sizes_positive(&mut self, c: &MicroserviceConfig) {
        let envoy = c.envoy.clone().unwrap_or_default();
        for (path, value) in [
            ("cpu", c.cpu),
            ("memory", c.memory),
            ("envoy.0.cpu", envoy.cpu),
            ("envoy.0.memory", envoy.memory),
        ] {
            if let Some(v) = value {
                if v <= 0 {
                    self.error(path, "Invalid size", format!("{v} is not positive"));
                }
            }
        }
    }

    /// Whether some Fargate size holds the whole task: the app, the
    /// collector when tracing is on and, on App Mesh, Envoy.
    fn task_size(&mut self, c: &MicroserviceConfig, mesh: ServiceMesh) {
        let envoy = c.envoy.clone().unwrap_or_default();
        let (Some(cpu), Some(memory)) = (c.cpu, c.memory) else {
            return;
        };
        if cpu <= 0 || memory <= 0 {
            return;
        }
        let tracing_on = c.tracing.as_ref().and_then(|t| t.enabled).unwrap_or(true);
        let (adot_cpu, adot_memory) = if tracing_on {
            (ADOT_CPU, ADOT_MEMORY)
        } else {
            (0, 0)
        };
        let with_envoy = mesh == ServiceMesh::AppMesh;
        let (envoy_cpu, envoy_memory) = if with_envoy {
            (
                envoy.cpu.unwrap_or(DEFAULT_ENVOY_CPU).max(0),
                envoy.memory.unwrap_or(DEFAULT_ENVOY_MEMORY).max(0),
            )
        } else {
            (0, 0)
        };
        let total_cpu = cpu + envoy_cpu + adot_cpu;
        let total_memory = memory + envoy_memory + adot_memory;
        let sidecars = match (with_envoy, tracing_on) {
            (true, true) => "with the Envoy and ADOT sidecars",
            (true, false) => "with the Envoy sidecar",
            (false, true) => "with the ADOT sidecar",
            (false, false) => "for the app alone",
        };
        match smallest_fargate_size(total_cpu, total_memory) {
            Ok(_) => {}
            Err(e @ NoFargateSize::Cpu { .. }) => self.error(
                "cpu",
                "No Fargate task size fits",
                format!("{sidecars}, {e}"),
            ),
            Err(e @ NoFargateSize::Memory { .. }) => self.error(
                "memory",
                "No Fargate task size fits",
                format!("{sidecars}, {e}"),
            ),
        }
    }

    fn counts(&mut self, c: &MicroserviceConfig) {
        if let Some(n) = c.desired_count {
            if n < 0 {
                self.error(
                    "desired_count",
                    "Invalid desired_count",
                    format!("{n} is negative"),
                );
            }
        }
        if let Some(p) = c.spot_percent {
            if !(0..=100).contains(&p) {
                self.error(
                    "spot_percent",
                    "Invalid spot_percent",
                    format!("{p} is not a percentage (0-100)"),
                );
            }
        }
    }

    fn network(&mut self, c: &MicroserviceConfig) {
        if let Some(list) = &c.subnet_ids {
            if list.is_empty() {
                self.error(
                    "subnet_ids",
                    "No subnets",
                    "the service's tasks need at least one subnet",
                );
            }
            if list.len() > 16 {
                self.error(
                    "subnet_ids",
                    "Too many subnets",
                    "an ECS service takes at most 16 subnets",
                );
            }
            for (i, id) in list.iter().enumerate() {
                if let Some(id) = id {
                    if !is_aws_id(id, "subnet-") {
                        self.error(
                            &format!("subnet_ids.{i}"),
                            "Invalid subnet id",
                            format!("{id:?} is not a subnet id (subnet- followed by hex digits)"),
                        );
                    }
                }
            }
        }
        if let Some(list) = &c.security_group_ids {
            if list.len() > 5 {
                self.error(
                    "security_group_ids",
                    "Too many security groups",
                    "an ECS service takes at most 5 security groups",
                );
            }
            for (i, id) in list.iter().enumerate() {
                if let Some(id) = id {
                    if !is_aws_id(id, "sg-") {
                        self.error(
                            &format!("security_group_ids.{i}"),
                            "Invalid security group id",
                            format!(
                                "{id:?} is not a security group id (sg- followed by hex digits)"
                            ),
                        );
                    }
                }
            }
        }
    }

    fn roles(&mut self, c: &MicroserviceConfig) {
        for (path, value) in [
            ("execution_role_arn", &c.execution_role_arn),
            ("task_role_arn", &c.task_role_arn),
        ] {
            if let Some(arn) = value {
                if !is_iam_role_arn(arn) {
                    self.error(
                        path,
                        "Invalid IAM role ARN",
                        format!(
                            "{arn:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
                        ),
                    );
                }
            }
        }
    }

    fn environment_variables(&mut self, c: &MicroserviceConfig) {
        let Some(vars) = &c.environment_variables else {
            return;
        };
        let secrets: BTreeSet<&String> = c.secrets.iter().flatten().map(|(k, _)| k).collect();
        for name in vars.keys() {
            let attr = "environment_variables";
            if let Err(why) = check_env_name(name) {
                self.error_at_key(attr, name, "Invalid environment variable name", why);
            } else if secrets.contains(name) {
                self.error_at_key(
                    attr,
                    name,
                    "Variable set twice",
                    format!("{name} is in both environment_variables and secrets"),
                );
            }
        }
    }

    fn secrets(&mut self, c: &MicroserviceConfig) {
        let Some(secrets) = &c.secrets else { return };
        for (name, value) in secrets {
            if let Err(why) = check_env_name(name) {
                self.error_at_key("secrets", name, "Invalid secret variable name", why);
            }
            if let Some(value) = value {
                if !is_secret_arn(value) {
                    // Never echo the value: it may be the secret itself.
                    self.error_at_key(
                        "secrets",
                        name,
                        "Not a secret ARN",
                        format!("secrets takes ARNs, never values: the value of {name} is not the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)"),
                    );
                }
            }
        }
    }

    fn backends(&mut self, c: &MicroserviceConfig) {
        let Some(list) = &c.backends else { return };
        let mut seen = BTreeSet::new();
        for (i, backend) in list.iter().enumerate() {
            let Some(backend) = backend else { continue };
            let path = format!("backends.{i}");
            if let Err(why) = check_service_name(backend) {
                self.error(&path, "Invalid backend", why);
            } else if Some(backend) == c.name.as_ref() {
                self.error(
                    &path,
                    "Invalid backend",
                    "a service does not list itself as a backend; it reaches itself directly",
                );
            } else if !seen.insert(backend) {
                self.error(
                    &path,
                    "Duplicate backend",
                    format!("{backend:?} is listed twice"),
                );
            }
        }
        if list.len() > 50 {
            self.error(
                "backends",
                "Too many backends",
                "App Mesh allows at most 50 backends per virtual node",
            );
        }
    }

    fn duration(
        &mut self,
        path: &str,
        text: &Option<String>,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        let text = text.as_ref()?;
        match parse_duration(text) {
            Err(why) => {
                self.error(path, "Invalid duration", why);
                None
            }
            Ok(d) if d < min || d > max => {
                self.error(
                    path,
                    "Duration out of range",
                    format!("{text} is not between {} and {}", show(min), show(max)),
                );
                None
            }
            Ok(d) => Some(d),
        }
    }

    fn int_range(&mut self, path: &str, value: Option<i64>, min: i64, max: i64) {
        if let Some(v) = value {
            if v < min || v > max {
                self.error(
                    path,
                    "Value out of range",
                    format!("{v} is not between {min} and {max}"),
                );
            }
        }
    }

    fn health_check(&mut self, c: &MicroserviceConfig) {
        let Some(hc) = &c.health_check else { return };
        if let Some(path) = &hc.path {
            if !path.starts_with('/') || path.chars().any(char::is_whitespace) {
                self.error(
                    "health_check.0.path",
                    "Invalid health check path",
                    format!("{path:?} must start with / and contain no whitespace"),
                );
            }
        }
        // App Mesh: interval 5-300 s, timeout 2-60 s.
        let interval = self.duration(
            "health_check.0.interval",
            &hc.interval,
            Duration::from_secs(5),
            Duration::from_secs(300),
        );
        let timeout = self.duration(
            "health_check.0.timeout",
            &hc.timeout,
            Duration::from_secs(2),
            Duration::from_secs(60),
        );
        let interval_known = hc.interval.is_none() || interval.is_some();
        let timeout_known = hc.timeout.is_none() || timeout.is_some();
        if interval_known && timeout_known && (hc.interval.is_some() || hc.timeout.is_some()) {
            let interval = interval.unwrap_or(DEFAULT_HEALTH_CHECK_INTERVAL);
            let timeout = timeout.unwrap_or(DEFAULT_HEALTH_CHECK_TIMEOUT);
            if timeout >= interval {
                self.error(
                    "health_check.0.timeout",
                    "Timeout not below interval",
                    format!(
                        "the timeout ({}) must be shorter than the interval ({})",
                        show(timeout),
                        show(interval)
                    ),
                );
            }
        }
        self.int_range(
            "health_check.0.unhealthy_threshold",
            hc.unhealthy_threshold,
            2,
            10,
        );
        self.int_range(
            "health_check.0.healthy_threshold",
            hc.healthy_threshold,
            2,
            10,
        );
    }

    fn retry(&mut self, c: &MicroserviceConfig) {
        let Some(r) = &c.retry else { return };
        self.int_range("retry.0.max_retries", r.max_retries, 0, MAX_RETRIES);
        self.duration(
            "retry.0.per_try_timeout",
            &r.per_try_timeout,
            Duration::from_millis(1),
            Duration::from_secs(3600),
        );
        for (field, list, allowed) in [
            ("http_events", &r.http_events, &HTTP_RETRY_EVENTS[..]),
            ("tcp_events", &r.tcp_events, &TCP_RETRY_EVENTS[..]),
        ] {
            for (i, event) in list.iter().flatten().enumerate() {
                if let Some(event) = event {
                    if !allowed.contains(&event.as_str()) {
                        self.error(
                            &format!("retry.0.{field}.{i}"),
                            "Unknown retry event",
                            format!("{event:?} is not one of {}", allowed.join(", ")),
                        );
                    }
                }
            }
        }
        let empty = |l: &Option<Vec<Option<String>>>| matches!(l, Some(v) if v.is_empty());
        if empty(&r.http_events) && empty(&r.tcp_events) {
            self.error(
                "retry.0.http_events",
                "No retry events",
                "App Mesh needs at least one http or tcp retry event",
            );
        }
    }

    fn timeout(&mut self, c: &MicroserviceConfig) {
        let Some(t) = &c.timeout else { return };
        // Zero disables the timeout in App Mesh; negative is not writable.
        self.duration(
            "timeout.0.per_request",
            &t.per_request,
            Duration::ZERO,
            Duration::from_secs(86400),
        );
        self.duration(
            "timeout.0.idle",
            &t.idle,
            Duration::ZERO,
            Duration::from_secs(86400),
        );
    }

    fn circuit_breaker(&mut self, c: &MicroserviceConfig) {
        let Some(cb) = &c.circuit_breaker else { return };
        self.int_range(
            "circuit_breaker.0.max_server_errors",
            cb.max_server_errors,
            1,
            i64::from(i32::MAX),
        );
        self.duration(
            "circuit_breaker.0.interval",
            &cb.interval,
            Duration::from_millis(1),
            Duration::from_secs(86400),
        );
        self.duration(
            "circuit_breaker.0.base_ejection",
            &cb.base_ejection,
            Duration::from_millis(1),
            Duration::from_secs(86400),
        );
        self.int_range(
            "circuit_breaker.0.max_ejection_percent",
            cb.max_ejection_percent,
            0,
            100,
        );
        self.int_range(
            "circuit_breaker.0.max_connections",
            cb.max_connections,
            1,
            i64::from(i32::MAX),
        );
        self.int_range(
            "circuit_breaker.0.max_pending_requests",
            cb.max_pending_requests,
            1,
            i64::from(i32::MAX),
        );
    }

    fn tls(&mut self, c: &MicroserviceConfig) {
        let Some(tls) = &c.tls else { return };
        if let Some(list) = &tls.certificate_authority_arns {
            if list.is_empty() {
                self.error(
                    "tls.0.certificate_authority_arns",
                    "No certificate authorities",
                    "tls needs at least one ACM Private CA ARN",
                );
            }
            if list.len() > 3 {
                self.error(
                    "tls.0.certificate_authority_arns",
                    "Too many certificate authorities",
                    "App Mesh trusts at most 3 ACM Private CAs",
                );
            }
            for (i, arn) in list.iter().enumerate() {
                if let Some(arn) = arn {
                    if !is_acm_pca_arn(arn) {
                        self.error(&format!("tls.0.certificate_authority_arns.{i}"), "Invalid certificate authority ARN", format!("{arn:?} is not an ACM Private CA ARN (arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID)"));
                    }
                }
            }
        }
    }

    fn envoy(&mut self, c: &MicroserviceConfig) {
        let Some(e) = &c.envoy else { return };
        if let Some(level) = &e.log_level {
            if !ENVOY_LOG_LEVELS.contains(&level.as_str()) {
                self.error(
                    "envoy.0.log_level",
                    "Unknown log level",
                    format!("{level:?} is not one of {}", ENVOY_LOG_LEVELS.join(", ")),
                );
            }
        }
        // Envoy needs some headroom to start at all.
        if let Some(m) = e.memory {
            if (1..64).contains(&m) {
                self.error(
                    "envoy.0.memory",
                    "Too little memory for Envoy",
                    "give Envoy at least 64 MiB",
                );
            }
        }
    }

    fn tracing(&mut self, c: &MicroserviceConfig) {
        let Some(rate) = c.tracing.as_ref().and_then(|t| t.sampling_rate) else {
            return;
        };
        if !(0.0..=1.0).contains(&rate) {
            self.error(
                "tracing.0.sampling_rate",
                "Invalid sampling rate",
                format!("{rate} is not a fraction between 0 and 1 (0.1 traces one request in ten)"),
            );
        }
    }

    fn autoscaling(&mut self, c: &MicroserviceConfig) {
        let Some(a) = &c.autoscaling else { return };
        self.int_range("autoscaling.0.min_count", a.min_count, 1, MAX_TASKS);
        // Cloud Map holds at most 1,000 instances per service, and every
        // task of the service is one (on either backend).
        if let Some(max) = a.max_count {
            if max > MAX_TASKS {
                self.error(
                    "autoscaling.0.max_count",
                    "More tasks than Cloud Map holds",
                    format!("max_count ({max}) is above {MAX_TASKS}: every task registers in Cloud Map, which holds at most {MAX_TASKS} instances per service"),
                );
            }
        }
        self.int_range("autoscaling.0.max_count", a.max_count, 1, i64::MAX);
        if let (Some(min), Some(max)) = (a.min_count, a.max_count) {
            if min > max {
                self.error(
                    "autoscaling.0.max_count",
                    "max_count below min_count",
                    format!("max_count ({max}) is smaller than min_count ({min})"),
                );
            }
        }
        self.int_range("autoscaling.0.cpu_target", a.cpu_target, 1, 100);
        self.int_range("autoscaling.0.memory_target", a.memory_target, 1, 100);
        // An explicit desired_count outside the range would be overridden by
        // autoscaling at once: say so instead of silently changing it. The
        // default count is clamped into the range instead (see Settings).
        if let Some(n) = c.desired_count {
            let min = a.min_count.unwrap_or(1);
            let max = a.max_count.unwrap_or(i64::MAX);
            if n >= 0 && (n < min || n > max) {
                self.error(
                    "desired_count",
                    "desired_count outside the autoscaling range",
                    format!("with autoscaling, desired_count ({n}) is only the initial count and must lie between min_count ({min}) and max_count; remove it or move it into the range"),
                );
            }
        }
    }

    fn alarms(&mut self, c: &MicroserviceConfig) {
        let Some(a) = &c.alarms else { return };
        if let Some(p) = a.error_rate_percent {
            if !(0.0..=100.0).contains(&p) {
                self.error(
                    "alarms.0.error_rate_percent",
                    "Invalid error rate",
                    format!("{p} is not a percentage (0-100)"),
                );
            }
        }
        if let Some(ms) = a.p95_latency_ms {
            if ms <= 0.0 {
                self.error(
                    "alarms.0.p95_latency_ms",
                    "Invalid latency",
                    format!("{ms} is not a positive number of milliseconds"),
                );
            }
        }
        let actions = known(&a.actions);
        if actions.len() > 5 {
            self.error(
                "alarms.0.actions",
                "Too many alarm actions",
                "a CloudWatch alarm takes at most 5 actions",
            );
        }
        for (i, arn) in a.actions.iter().flatten().enumerate() {
            if let Some(arn) = arn {
                if !is_arn(arn) {
                    self.error(&format!("alarms.0.actions.{i}"), "Invalid alarm action", format!("{arn:?} is not an ARN (e.g. an SNS topic: arn:aws:sns:REGION:ACCOUNT:NAME)"));
                }
            }
        }
    }

    fn log_retention(&mut self, c: &MicroserviceConfig) {
        if let Some(days) = c.log_retention_days {
            if !LOG_RETENTION_DAYS.contains(&days) {
                let accepted: Vec<String> = LOG_RETENTION_DAYS.iter().map(i64::to_string).collect();
                self.error(
                    "log_retention_days",
                    "Unsupported retention",
                    format!(
                        "CloudWatch Logs keeps logs for one of {} days, not {days}",
                        accepted.join(", ")
                    ),
                );
            }
        }
    }

    fn timeouts(&mut self, c: &MicroserviceConfig) {
        let Some(t) = &c.timeouts else { return };
        for (field, value) in [
            ("create", &t.create),
            ("update", &t.update),
            ("delete", &t.delete),
        ] {
            self.duration(
                &format!("timeouts.0.{field}"),
                value,
                Duration::from_secs(1),
                Duration::from_secs(24 * 3600),
            );
        }
    }
}

fn show(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs())
    }
}

/// A microservice (or backend) name: a DNS label, since it becomes the
/// Cloud Map service name, at most [`MAX_NAME_LEN`] long.
pub fn check_service_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("{name:?} has {} characters; at most {MAX_NAME_LEN} (it becomes a DNS label, also with a -canary suffix)", name.len()));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!("{name:?} may contain only lowercase letters, digits and hyphens (it becomes a DNS name)"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!(
            "{name:?} must start and end with a letter or digit"
        ));
    }
    Ok(())
}

fn check_env_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "{name:?} is not a variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    // These prefixes belong to the ECS agent and the App Mesh/ADOT sidecars.
    for reserved in ["AWS_", "ECS_", "APPMESH_"] {
        if name.starts_with(reserved) {
            return Err(format!(
                "{name:?}: names starting with {reserved} are reserved for ECS and the sidecars"
            ));
        }
    }
    Ok(())
}

fn is_aws_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        (8..=17).contains(&hex.len())
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` with a known partition.
fn arn_parts(arn: &str) -> Option<[&str; 5]> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    let partition_ok = partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|p| {
            !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        });
    if !partition_ok || service.is_empty() || resource.is_empty() {
        return None;
    }
    Some([partition, service, region, account, resource])
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

fn is_arn(arn: &str) -> bool {
    arn_parts(arn).is_some()
}

fn is_iam_role_arn(arn: &str) -> bool {
    matches!(arn_parts(arn), Some([_, "iam", "", account, resource])
        if is_account(account) && resource.strip_prefix("role/").is_some_and(|r| !r.is_empty() && !r.ends_with('/')))
}

fn is_secret_arn(arn: &str) -> bool {
    match arn_parts(arn) {
        Some([_, "secretsmanager", region, account, resource]) => {
            !region.is_empty()
                && is_account(account)
                && resource
                    .strip_prefix("secret:")
                    .is_some_and(|r| !r.is_empty())
        }
        Some([_, "ssm", region, account, resource]) => {
            !region.is_empty()
                && is_account(account)
                && resource
                    .strip_prefix("parameter/")
                    .is_some_and(|r| !r.is_empty())
        }
        _ => false,
    }
}

fn is_acm_pca_arn(arn: &str) -> bool {
    matches!(arn_parts(arn), Some([_, "acm-pca", region, account, resource])
        if !region.is_empty() && is_account(account) && resource.starts_with("certificate-authority/") && resource.len() > 22)
}

impl Settings {
    /// Validate `config` and apply every default. Values still unknown at
    /// plan time (null) take their default, or stay empty for required
    /// arguments (Terraform itself insists on those), so this also serves a
    /// plan-time cost estimate. Any validation problem is returned instead.
    pub fn resolve(
        config: &MicroserviceConfig,
        env: Environment,
        mesh: ServiceMesh,
    ) -> Result<Settings, Vec<Problem>> {
        let mut problems = validate(config);
        problems.extend(validate_on(config, mesh));
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Settings::resolve_unchecked(config, env).on(mesh))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::microservice::config::*;
    use serde_json::json;

    /// The contract's reference configuration, which must be valid.
    pub(crate) fn reference() -> serde_json::Value {
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

    fn problems_with(patch: serde_json::Value) -> Vec<Problem> {
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
    fn paths(patch: serde_json::Value) -> Vec<String> {
        problems_with(patch).iter().map(Problem::dotted).collect()
    }

    #[test]
    fn the_reference_is_valid() {
        assert_eq!(paths(json!({})), Vec::<String>::new());
    }

    #[test]
    fn an_empty_configuration_is_not_judged() {
        assert!(validate(&MicroserviceConfig::default()).is_empty());
    }

    #[test]
    fn name_rules() {
        for bad in [
            "",
            "Auth",
            "auth_service",
            "-auth",
            "auth-",
            "auth.service",
            &"a".repeat(57),
        ] {
            assert_eq!(paths(json!({"name": bad})), vec!["name"], "{bad:?}");
        }
        assert!(paths(json!({"name": "a".repeat(56)})).is_empty());
        assert!(paths(json!({"name": "9lives"})).is_empty());
    }

    #[test]
    fn image_rules() {
        assert_eq!(paths(json!({"image": ""})), vec!["image"]);
        assert_eq!(paths(json!({"image": "nginx latest"})), vec!["image"]);
    }

    #[test]
    fn port_rules() {
        for bad in [0, 65536, 15000, 15001, 9901] {
            assert_eq!(paths(json!({"port": bad})), vec!["port"], "{bad}");
        }
    }

    #[test]
    fn sizes_must_be_positive_and_fit_fargate() {
        assert_eq!(paths(json!({"cpu": 0})), vec!["cpu"]);
        assert_eq!(paths(json!({"memory": -1})), vec!["memory"]);
        assert_eq!(paths(json!({"cpu": 16384})), vec!["cpu"]);
        assert_eq!(paths(json!({"memory": 122880})), vec!["memory"]);
        // Without ADOT, the app may take 128 more.
        assert_eq!(paths(json!({"cpu": 16100})), vec!["cpu"]);
        assert!(paths(json!({"cpu": 16100, "tracing": [{"enabled": false}]})).is_empty());
        let detail = &problems_with(json!({"cpu": 16384}))[0].detail;
        assert!(detail.contains("Envoy and ADOT"), "{detail}");
        assert_eq!(paths(json!({"envoy": [{"cpu": 0}]})), vec!["envoy.0.cpu"]);
    }

    #[test]
    fn counts() {
        assert_eq!(
            paths(json!({"desired_count": -1, "autoscaling": null})),
            vec!["desired_count"]
        );
        assert_eq!(paths(json!({"spot_percent": 101})), vec!["spot_percent"]);
        assert_eq!(paths(json!({"spot_percent": -1})), vec!["spot_percent"]);
    }

    #[test]
    fn network_ids() {
        assert_eq!(paths(json!({"subnet_ids": []})), vec!["subnet_ids"]);
        assert_eq!(
            paths(json!({"subnet_ids": ["subnet-0123abcd", "subnet-xyz"]})),
            vec!["subnet_ids.1"]
        );
        assert!(paths(json!({"subnet_ids": [null]})).is_empty());
        assert_eq!(
            paths(json!({"security_group_ids": ["sg-12345678", "subnet-12345678"]})),
            vec!["security_group_ids.1"]
        );
    }

    #[test]
    fn role_arns() {
        assert_eq!(
            paths(json!({"execution_role_arn": "exec"})),
            vec!["execution_role_arn"]
        );
        assert_eq!(
            paths(json!({"task_role_arn": "arn:aws:iam::123:role/x"})),
            vec!["task_role_arn"]
        );
        assert_eq!(
            paths(json!({"task_role_arn": "arn:aws:iam::123456789012:user/x"})),
            vec!["task_role_arn"]
        );
        assert!(paths(json!({"task_role_arn": "arn:aws-cn:iam::123456789012:role/x"})).is_empty());
    }

    #[test]
    fn environment_variable_names() {
        assert_eq!(
            paths(json!({"environment_variables": {"1X": "a"}})),
            vec![r#"environment_variables.["1X"]"#]
        );
        assert_eq!(
            paths(json!({"environment_variables": {"A-B": "a"}})),
            vec![r#"environment_variables.["A-B"]"#]
        );
        assert_eq!(
            paths(json!({"environment_variables": {"AWS_REGION": "a"}})),
            vec![r#"environment_variables.["AWS_REGION"]"#]
        );
        assert_eq!(
            paths(json!({"environment_variables": {"DB_PASSWORD": "a"}})),
            vec![r#"environment_variables.["DB_PASSWORD"]"#]
        );
    }

    #[test]
    fn secrets_take_arns_and_never_echo_values() {
        let problems = problems_with(json!({"secrets": {"DB_PASSWORD": "hunter2-s3cret"}}));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].dotted(), r#"secrets.["DB_PASSWORD"]"#);
        assert!(problems[0]
            .detail
            .contains("secrets takes ARNs, never values"));
        assert!(!format!("{problems:?}").contains("hunter2"));
        assert_eq!(
            paths(json!({"secrets": {"X": "arn:aws:s3:::bucket/key"}})),
            vec![r#"secrets.["X"]"#]
        );
        assert_eq!(
            paths(json!({"secrets": {"X": "arn:aws:ssm:eu-west-1:123456789012:document/x"}})),
            vec![r#"secrets.["X"]"#]
        );
    }

    #[test]
    fn backend_rules() {
        assert_eq!(
            paths(json!({"backends": ["auth-service"]})),
            vec!["backends.0"]
        );
        assert_eq!(
            paths(json!({"backends": ["a", "b", "a"]})),
            vec!["backends.2"]
        );
        assert_eq!(paths(json!({"backends": ["Persona"]})), vec!["backends.0"]);
    }

    #[test]
    fn health_check_rules() {
        let hc = |v: serde_json::Value| paths(json!({"health_check": [v]}));
        assert_eq!(
            hc(json!({"interval": "4s"})),
            vec!["health_check.0.interval"]
        );
        assert_eq!(
            hc(json!({"interval": "301s"})),
            vec!["health_check.0.interval"]
        );
        assert_eq!(
            hc(json!({"interval": "30"})),
            vec!["health_check.0.interval"]
        );
        assert_eq!(hc(json!({"timeout": "1s"})), vec!["health_check.0.timeout"]);
        assert_eq!(
            hc(json!({"timeout": "61s"})),
            vec!["health_check.0.timeout"]
        );
        assert_eq!(
            hc(json!({"interval": "10s", "timeout": "10s"})),
            vec!["health_check.0.timeout"]
        );
        assert_eq!(
            hc(json!({"interval": "5s"})),
            vec!["health_check.0.timeout"]
        );
        assert_eq!(
            hc(json!({"unhealthy_threshold": 1})),
            vec!["health_check.0.unhealthy_threshold"]
        );
        assert_eq!(
            hc(json!({"healthy_threshold": 11})),
            vec!["health_check.0.healthy_threshold"]
        );
        assert_eq!(hc(json!({"path": "health"})), vec!["health_check.0.path"]);
        assert!(hc(json!({})).is_empty());
    }

    #[test]
    fn retry_rules() {
        let r = |v: serde_json::Value| paths(json!({"retry": [v]}));
        assert_eq!(r(json!({"max_retries": 11})), vec!["retry.0.max_retries"]);
        assert_eq!(r(json!({"max_retries": -1})), vec!["retry.0.max_retries"]);
        assert_eq!(
            r(json!({"per_try_timeout": "0s"})),
            vec!["retry.0.per_try_timeout"]
        );
        assert_eq!(
            r(json!({"http_events": ["server-error", "5xx"]})),
            vec!["retry.0.http_events.1"]
        );
        assert_eq!(
            r(json!({"tcp_events": ["reset"]})),
            vec!["retry.0.tcp_events.0"]
        );
        assert_eq!(
            r(json!({"http_events": [], "tcp_events": []})),
            vec!["retry.0.http_events"]
        );
        assert!(r(json!({"http_events": ["client-error", "stream-error"]})).is_empty());
    }

    #[test]
    fn timeout_rules() {
        assert_eq!(
            paths(json!({"timeout": [{"per_request": "15"}]})),
            vec!["timeout.0.per_request"]
        );
        assert_eq!(
            paths(json!({"timeout": [{"idle": "2d"}]})),
            vec!["timeout.0.idle"]
        );
    }

    #[test]
    fn circuit_breaker_rules() {
        let cb = |v: serde_json::Value| paths(json!({"circuit_breaker": [v]}));
        assert_eq!(
            cb(json!({"max_server_errors": 0})),
            vec!["circuit_breaker.0.max_server_errors"]
        );
        assert_eq!(
            cb(json!({"interval": "0s"})),
            vec!["circuit_breaker.0.interval"]
        );
        assert_eq!(
            cb(json!({"base_ejection": "x"})),
            vec!["circuit_breaker.0.base_ejection"]
        );
        assert_eq!(
            cb(json!({"max_ejection_percent": 101})),
            vec!["circuit_breaker.0.max_ejection_percent"]
        );
        assert_eq!(
            cb(json!({"max_connections": 0})),
            vec!["circuit_breaker.0.max_connections"]
        );
        assert_eq!(
            cb(json!({"max_pending_requests": 0})),
            vec!["circuit_breaker.0.max_pending_requests"]
        );
    }

    #[test]
    fn tls_rules() {
        assert_eq!(
            paths(json!({"tls": [{"certificate_authority_arns": []}]})),
            vec!["tls.0.certificate_authority_arns"]
        );
        assert_eq!(
            paths(
                json!({"tls": [{"certificate_authority_arns": ["arn:aws:acm:eu-central-1:123456789012:certificate/abc"]}]})
            ),
            vec!["tls.0.certificate_authority_arns.0"]
        );
    }

    #[test]
    fn envoy_and_tracing_rules() {
        assert_eq!(
            paths(json!({"envoy": [{"log_level": "verbose"}]})),
            vec!["envoy.0.log_level"]
        );
        assert_eq!(
            paths(json!({"envoy": [{"memory": 32}]})),
            vec!["envoy.0.memory"]
        );
        assert_eq!(
            paths(json!({"tracing": [{"sampling_rate": 10}]})),
            vec!["tracing.0.sampling_rate"]
        );
        assert_eq!(
            paths(json!({"tracing": [{"sampling_rate": -0.1}]})),
            vec!["tracing.0.sampling_rate"]
        );
    }

    #[test]
    fn autoscaling_rules() {
        let a = |v: serde_json::Value| paths(json!({"autoscaling": [v], "desired_count": null}));
        assert_eq!(
            a(json!({"min_count": 0, "max_count": 2})),
            vec!["autoscaling.0.min_count"]
        );
        assert_eq!(
            a(json!({"min_count": 3, "max_count": 2})),
            vec!["autoscaling.0.max_count"]
        );
        assert_eq!(
            a(json!({"min_count": 1, "max_count": 2, "cpu_target": 0})),
            vec!["autoscaling.0.cpu_target"]
        );
        assert_eq!(
            a(json!({"min_count": 1, "max_count": 2, "memory_target": 101})),
            vec!["autoscaling.0.memory_target"]
        );
        assert_eq!(
            paths(json!({"autoscaling": [{"min_count": 3, "max_count": 5}], "desired_count": 2})),
            vec!["desired_count"]
        );
    }

    #[test]
    fn alarm_rules() {
        let a = |v: serde_json::Value| paths(json!({"alarms": [v]}));
        assert_eq!(
            a(json!({"error_rate_percent": 101})),
            vec!["alarms.0.error_rate_percent"]
        );
        assert_eq!(
            a(json!({"p95_latency_ms": 0})),
            vec!["alarms.0.p95_latency_ms"]
        );
        assert_eq!(
            a(json!({"actions": ["alerts"]})),
            vec!["alarms.0.actions.0"]
        );
    }

    #[test]
    fn log_retention_rules() {
        assert_eq!(
            paths(json!({"log_retention_days": 2})),
            vec!["log_retention_days"]
        );
        assert!(paths(json!({"log_retention_days": 3653})).is_empty());
    }

    #[test]
    fn timeouts_rules() {
        assert_eq!(
            paths(json!({"timeouts": [{"create": "soon"}]})),
            vec!["timeouts.0.create"]
        );
    }
}
