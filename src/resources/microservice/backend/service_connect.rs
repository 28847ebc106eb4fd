//! The `service_connect` backend: ECS Service Connect in the platform's
//! Cloud Map HTTP namespace. ECS runs the proxy (nothing of it is in the
//! task definition), creates the Cloud Map service behind the discovery
//! name and publishes the request metrics in `AWS/ECS`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::contract::{refuse, MeshBackend, NetworkingComponents, ServiceMetrics, SlotNetworking};
use super::metrics::{dashboard_line, error_rate_expression, metric_query};
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::keys;
use crate::resources::microservice::names;
use crate::resources::microservice::platform::PlatformContext;
use crate::resources::microservice::slot::Slot;
use crate::service_mesh::ServiceMesh;
use crate::spec::cloudmap::ServiceConnectDiscoverySpec;
use crate::spec::ecs::{
    AwsLogsSpec, ContainerHealthCheckSpec, NamedPortSpec, ServiceConnectSpec, ServiceConnectTlsSpec,
};
use crate::spec::{Component, Ref, Spec, Tags};
use crate::validation::{parse_duration, Problem};

pub struct ServiceConnect;

/// The name of the app's port mapping, which `portName` refers to.
pub const PORT_NAME: &str = "http";
/// What Service Connect's proxy speaks to the app (and measures).
pub const APP_PROTOCOL: &str = "http";
/// Log stream prefix of the Service Connect proxy in the service's group.
pub const PROXY_LOG_STREAM_PREFIX: &str = "service-connect";
/// ECS limits a client alias's DNS name to this many characters.
pub const MAX_CLIENT_ALIAS_LEN: usize = 127;
/// Where Service Connect publishes its metrics.
pub const METRICS_NAMESPACE: &str = "AWS/ECS";
/// The latency statistic. ECS documents Average, Minimum and Maximum as the
/// useful statistics of `TargetResponseTime`, not percentiles: the alarm
/// named p95 reads the Average, the closest statistic CloudWatch serves for
/// it (see docs/resources/microservice.md, "Metrics").
pub const LATENCY_STAT: &str = "Average";

/// The default container health check: `curl` of the health check path on
/// the app's port. The tool must exist in the image; `health_check.command`
/// replaces it (e.g. with `wget -q -O /dev/null ...`).
pub fn default_health_check_command(port: i64, path: &str) -> String {
    format!("curl -fsS -o /dev/null http://localhost:{port}{path} || exit 1")
}

/// The client alias other services call: `NAME.NAMESPACE`, or why it
/// cannot be (ECS takes at most 127 characters).
pub fn client_alias(name: &str, namespace: &str) -> Result<String, String> {
    let alias = names::dns_name(name, namespace);
    if alias.len() > MAX_CLIENT_ALIAS_LEN {
        return Err(format!(
            "the Service Connect client alias {alias:?} is {} characters long; ECS takes at most {MAX_CLIENT_ALIAS_LEN}: shorten name (or the platform's namespace)",
            alias.len()
        ));
    }
    Ok(alias)
}

fn whole_seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

impl ServiceConnect {
    /// A duration argument Service Connect (or the ECS container health
    /// check) takes in whole seconds.
    fn check_whole_seconds(problems: &mut Vec<Problem>, path: &str, text: &Option<String>) {
        let Some(text) = text else { return };
        if let Ok(d) = parse_duration(text) {
            if d.subsec_nanos() != 0 {
                problems.push(Problem::at(
                    path,
                    "Not whole seconds",
                    format!(
                        "{path} is {text:?}; with service_mesh = \"service_connect\" ECS takes it in whole seconds (e.g. \"{}s\")",
                        d.as_secs().max(1)
                    ),
                ));
            }
        }
    }
}

impl MeshBackend for ServiceConnect {
    fn service_mesh(&self) -> ServiceMesh {
        ServiceMesh::ServiceConnect
    }

    fn refused(&self, c: &MicroserviceConfig) -> Vec<Problem> {
        let mesh = self.service_mesh();
        let mut problems = Vec::new();
        if c.retry.is_some() {
            problems.push(refuse(
                "retry",
                mesh,
                "Service Connect retries failed requests itself and takes no retry policy; remove the block",
            ));
        }
        if c.circuit_breaker.is_some() {
            problems.push(refuse(
                "circuit_breaker",
                mesh,
                "Service Connect does its own outlier detection and takes no connection pool settings; remove the block",
            ));
        }
        if c.envoy.is_some() {
            problems.push(refuse(
                "envoy",
                mesh,
                "ECS runs the Service Connect proxy itself; there is no Envoy sidecar to size or configure; remove the block",
            ));
        }
        if c.backends.is_some() {
            problems.push(refuse(
                "backends",
                mesh,
                "every service of the namespace may call every other through Service Connect; there is no list of allowed backends to write (restrict callers with security groups); remove it",
            ));
        }
        if let Some(hc) = &c.health_check {
            if hc.command.is_some() && hc.path.is_some() {
                problems.push(Problem::at(
                    "health_check.0.path",
                    "path is unused with command",
                    "health_check.path only builds the default command (curl of the path); with health_check.command set, put the path into the command and remove path",
                ));
            }
            if hc.healthy_threshold.is_some() {
                problems.push(refuse(
                    "health_check.0.healthy_threshold",
                    mesh,
                    "the check is an ECS container health check, which counts failures (unhealthy_threshold) only",
                ));
            }
            Self::check_whole_seconds(&mut problems, "health_check.0.interval", &hc.interval);
            Self::check_whole_seconds(&mut problems, "health_check.0.timeout", &hc.timeout);
        }
        if let Some(t) = &c.timeout {
            Self::check_whole_seconds(&mut problems, "timeout.0.per_request", &t.per_request);
            Self::check_whole_seconds(&mut problems, "timeout.0.idle", &t.idle);
        }
        if let Some(tls) = &c.tls {
            if let Some(cas) = &tls.certificate_authority_arns {
                if cas.len() > 1 {
                    problems.push(Problem::at(
                        "tls.0.certificate_authority_arns",
                        "More than one certificate authority on service_connect",
                        format!("Service Connect TLS uses exactly one AWS Private CA (issuerCertificateAuthority); {} are given", cas.len()),
                    ));
                }
            }
            if tls.role_arn.is_none() {
                problems.push(Problem::at(
                    "tls.0.role_arn",
                    "Missing role_arn",
                    "with service_mesh = \"service_connect\", tls needs role_arn: the IAM role ECS uses to issue certificates from the Private CA",
                ));
            }
        }
        problems
    }

    fn components(
        &self,
        settings: &Settings,
        platform: &PlatformContext,
        _slot: &Slot,
        _tags: &Tags,
    ) -> NetworkingComponents {
        NetworkingComponents {
            after_service: vec![Component::new(
                keys::DISCOVERY_SERVICE,
                Spec::ServiceConnectDiscovery(ServiceConnectDiscoverySpec {
                    name: names::service_connect_discovery_name(
                        &platform.platform_id,
                        &settings.name,
                    ),
                    namespace_id: platform.namespace_id.clone(),
                    service: Ref::to(keys::SERVICE),
                }),
            )
            .after(&[keys::SERVICE])],
            ..Default::default()
        }
    }

    fn slot(&self, settings: &Settings, platform: &PlatformContext, slot: &Slot) -> SlotNetworking {
        let hc = &settings.health_check;
        let command = hc
            .command
            .clone()
            .unwrap_or_else(|| default_health_check_command(settings.port, &hc.path));
        let dns_name = names::dns_name(&settings.name, &platform.namespace_name);
        SlotNetworking {
            app_port_name: Some(NamedPortSpec {
                name: PORT_NAME.to_string(),
                app_protocol: APP_PROTOCOL.to_string(),
            }),
            app_health_check: Some(ContainerHealthCheckSpec {
                command: vec!["CMD-SHELL".to_string(), command],
                interval_seconds: whole_seconds(hc.interval),
                timeout_seconds: whole_seconds(hc.timeout),
                retries: i32::try_from(hc.unhealthy_threshold).unwrap_or(10),
                start_period_seconds: 0,
            }),
            collector_command: vec!["--config=/etc/ecs/ecs-default-config.yaml".to_string()],
            service_connect: Some(ServiceConnectSpec {
                namespace_arn: platform.namespace_arn.clone(),
                port_name: PORT_NAME.to_string(),
                discovery_name: names::service_connect_discovery_name(
                    &platform.platform_id,
                    &slot.name,
                ),
                dns_name,
                port: i32::try_from(settings.port).unwrap_or_default(),
                per_request_timeout_seconds: whole_seconds(settings.timeout.per_request),
                idle_timeout_seconds: whole_seconds(settings.timeout.idle),
                tls: settings.tls.as_ref().map(|t| ServiceConnectTlsSpec {
                    certificate_authority_arn: t
                        .certificate_authority_arns
                        .first()
                        .cloned()
                        .unwrap_or_default(),
                    role_arn: t.role_arn.clone().unwrap_or_default(),
                }),
                log: AwsLogsSpec {
                    group: names::log_group_name(&platform.platform_id, &settings.name),
                    region: platform.region.clone(),
                    stream_prefix: PROXY_LOG_STREAM_PREFIX.to_string(),
                },
            }),
            ..Default::default()
        }
    }

    fn latency_stat(&self) -> &'static str {
        LATENCY_STAT
    }

    /// `RequestCount` is published by the service's own (server-side)
    /// proxy, by `DiscoveryName` with the cluster and service; the target
    /// metrics by the calling proxies, under the *caller's* ServiceName, so
    /// they are read by `TargetDiscoveryName` alone: summed over every
    /// caller, and over every cluster of the account and region whose
    /// namespace has a service of this discovery name, which is why the
    /// discovery name is unique per platform
    /// ([`names::service_connect_discovery_name`]).
    fn metrics(&self, settings: &Settings, platform: &PlatformContext) -> ServiceMetrics {
        let discovery_name =
            names::service_connect_discovery_name(&platform.platform_id, &settings.name);
        let own: BTreeMap<String, String> = [
            ("ClusterName", platform.cluster_name.clone()),
            ("ServiceName", names::ecs_service_name(&settings.name)),
            ("DiscoveryName", discovery_name.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let target: BTreeMap<String, String> =
            [("TargetDiscoveryName".to_string(), discovery_name)].into();
        let ns = METRICS_NAMESPACE;
        ServiceMetrics {
            error_rate: vec![
                metric_query(
                    "errors",
                    ns,
                    "HTTPCode_Target_5XX_Count",
                    &target,
                    "Sum",
                    false,
                ),
                metric_query("requests", ns, "RequestCount", &own, "Sum", false),
                error_rate_expression(),
            ],
            latency: metric_query(
                "latency",
                ns,
                "TargetResponseTime",
                &target,
                LATENCY_STAT,
                true,
            ),
            requests_line: dashboard_line(ns, "RequestCount", &own, "Sum"),
            errors_line: dashboard_line(ns, "HTTPCode_Target_5XX_Count", &target, "Sum"),
            latency_line: dashboard_line(ns, "TargetResponseTime", &target, LATENCY_STAT),
            latency_stat: LATENCY_STAT.to_string(),
        }
    }
}
