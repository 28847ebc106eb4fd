//! The `app_mesh` backend: App Mesh with an Envoy sidecar in every task and
//! a Cloud Map private DNS namespace. AWS discontinued App Mesh on
//! 2026-09-30; this is the design the provider was first built for.
//!
//! Its request metrics are published by the ADOT collector sidecar, which
//! scrapes Envoy's Prometheus statistics and writes them as CloudWatch
//! embedded metrics with the configuration [`collector_config`] builds.

use std::collections::BTreeMap;
use std::time::Duration;

use super::contract::{refuse, MeshBackend, NetworkingComponents, ServiceMetrics, SlotNetworking};
use super::metrics::{dashboard_line, error_rate_expression, metric_query};
use crate::resources::microservice::config::{MicroserviceConfig, Settings, ENVOY_ADMIN_PORT};
use crate::resources::microservice::containers::{ENVOY_CONTAINER, ENVOY_UID};
use crate::resources::microservice::keys;
use crate::resources::microservice::names;
use crate::resources::microservice::platform::PlatformContext;
use crate::resources::microservice::slot::Slot;
use crate::service_mesh::ServiceMesh;
use crate::spec::appmesh::*;
use crate::spec::cloudmap::DiscoveryServiceSpec;
use crate::spec::ecs::{
    AwsLogsSpec, ContainerDependencySpec, ContainerHealthCheckSpec, ContainerSpec, EnvValue,
    ProxyConfigurationSpec,
};
use crate::spec::{Component, Ref, Spec, Tags};
use crate::validation::Problem;

pub struct AppMesh;

pub const PROXY_INGRESS_PORT: i64 = 15000;
pub const PROXY_EGRESS_PORT: i64 = 15001;
/// The task metadata endpoint and the instance metadata service: reached
/// directly, not through Envoy.
pub const EGRESS_IGNORED_IPS: &str = "169.254.170.2,169.254.169.254";
pub const DNS_TTL_SECONDS: i64 = 10;
/// Where the ADOT collector publishes the metrics the alarms read.
pub const METRICS_NAMESPACE: &str = "matbakh/microservices";
/// The metrics it publishes, from Envoy's inbound (`ingress`) HTTP
/// statistics: requests, 5xx answers, and request time in milliseconds.
pub const REQUEST_COUNT: &str = "RequestCount";
pub const ERROR_COUNT: &str = "ErrorCount";
pub const LATENCY: &str = "Latency";
/// Envoy's Prometheus statistics (and their labels) each metric comes from.
const ENVOY_REQUESTS: &str = "envoy_http_downstream_rq_total";
const ENVOY_RESPONSES_BY_CLASS: &str = "envoy_http_downstream_rq_xx";
const ENVOY_REQUEST_TIME: &str = "envoy_http_downstream_rq_time";
const ENVOY_PREFIX_LABEL: &str = "envoy_http_conn_manager_prefix";
const ENVOY_INGRESS_PREFIX: &str = "ingress";
/// The collector's configuration, by environment variable (ADOT reads it
/// instead of a configuration file).
pub const COLLECTOR_CONFIG_VARIABLE: &str = "AOT_CONFIG_CONTENT";
/// The EMF exporter turns Envoy's request-time histogram into a statistic
/// set (sum, count, min, max), for which CloudWatch serves no percentiles:
/// the alarm named p95 reads the Average, the closest statistic served.
pub const LATENCY_STAT: &str = "Average";

fn to_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut list = list.to_vec();
    list.sort();
    list.dedup();
    list
}

impl MeshBackend for AppMesh {
    fn service_mesh(&self) -> ServiceMesh {
        ServiceMesh::AppMesh
    }

    fn refused(&self, c: &MicroserviceConfig) -> Vec<Problem> {
        let mesh = self.service_mesh();
        let mut problems = Vec::new();
        if c.tls.as_ref().is_some_and(|t| t.role_arn.is_some()) {
            problems.push(refuse(
                "tls.0.role_arn",
                mesh,
                "App Mesh validates backends' certificates with the CAs alone; the role is what ECS Service Connect uses to issue certificates",
            ));
        }
        if c.health_check.as_ref().is_some_and(|h| h.command.is_some()) {
            problems.push(refuse(
                "health_check.0.command",
                mesh,
                "the App Mesh listener checks path over HTTP itself; no command runs in the container",
            ));
        }
        problems
    }

    fn components(
        &self,
        settings: &Settings,
        platform: &PlatformContext,
        slot: &Slot,
        tags: &Tags,
    ) -> NetworkingComponents {
        use keys::*;
        let targets = vec![WeightedTargetSpec {
            virtual_node: names::virtual_node_name(&slot.name),
            weight: 100,
        }];
        NetworkingComponents {
            before_task_definition: vec![
                Component::new(
                    DISCOVERY_SERVICE,
                    Spec::DiscoveryService(discovery_service(settings, platform, tags)),
                ),
                Component::new(
                    VIRTUAL_NODE,
                    Spec::VirtualNode(virtual_node(settings, platform, slot, tags)),
                )
                .after(&[DISCOVERY_SERVICE]),
            ],
            before_service: vec![
                Component::new(
                    VIRTUAL_ROUTER,
                    Spec::VirtualRouter(virtual_router(settings, platform, tags)),
                ),
                Component::new(ROUTE, Spec::Route(route(settings, platform, targets, tags)))
                    .after(&[VIRTUAL_ROUTER, VIRTUAL_NODE]),
                Component::new(
                    VIRTUAL_SERVICE,
                    Spec::VirtualService(virtual_service(settings, platform, tags)),
                )
                .after(&[VIRTUAL_ROUTER, ROUTE]),
            ],
            after_service: vec![],
        }
    }

    fn slot(&self, settings: &Settings, platform: &PlatformContext, slot: &Slot) -> SlotNetworking {
        let text = |s: &str| EnvValue::Text(s.to_string());
        let mut envoy_env = BTreeMap::new();
        envoy_env.insert(
            "APPMESH_RESOURCE_ARN".to_string(),
            EnvValue::Component {
                of: Ref::to(&slot.virtual_node_key),
            },
        );
        envoy_env.insert(
            "ENVOY_LOG_LEVEL".to_string(),
            text(&settings.envoy.log_level),
        );
        envoy_env.insert(
            "ENVOY_ADMIN_ACCESS_PORT".to_string(),
            text(&ENVOY_ADMIN_PORT.to_string()),
        );
        if settings.tracing.enabled {
            // Envoy sends X-Ray segments to the collector on 127.0.0.1:2000.
            envoy_env.insert("ENABLE_ENVOY_XRAY_TRACING".to_string(), text("1"));
            envoy_env.insert(
                "XRAY_SAMPLING_RATE".to_string(),
                text(&settings.tracing.sampling_rate.to_string()),
            );
        }
        let envoy = ContainerSpec {
            name: ENVOY_CONTAINER.to_string(),
            image: settings.envoy.image.clone(),
            cpu: to_i32(settings.envoy.cpu),
            memory: to_i32(settings.envoy.memory),
            essential: true,
            ports: vec![],
            port_name: None,
            environment: envoy_env,
            secrets: BTreeMap::new(),
            user: Some(ENVOY_UID.to_string()),
            read_only_root_filesystem: false,
            command: vec![],
            log: AwsLogsSpec {
                group: names::log_group_name(&platform.platform_id, &settings.name),
                region: platform.region.clone(),
                stream_prefix: slot.name.clone(),
            },
            health_check: Some(ContainerHealthCheckSpec {
                command: vec![
                    "CMD-SHELL".to_string(),
                    format!("curl -s http://localhost:{ENVOY_ADMIN_PORT}/server_info | grep state | grep -q LIVE"),
                ],
                interval_seconds: 5,
                timeout_seconds: 2,
                retries: 3,
                start_period_seconds: 10,
            }),
            depends_on: vec![],
        };
        let properties = [
            ("IgnoredUID", ENVOY_UID.to_string()),
            ("ProxyIngressPort", PROXY_INGRESS_PORT.to_string()),
            ("ProxyEgressPort", PROXY_EGRESS_PORT.to_string()),
            ("AppPorts", settings.port.to_string()),
            ("EgressIgnoredIPs", EGRESS_IGNORED_IPS.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let collector_environment = [(
            COLLECTOR_CONFIG_VARIABLE.to_string(),
            EnvValue::Text(collector_config(settings, platform).to_string()),
        )]
        .into();
        SlotNetworking {
            app_depends_on: vec![ContainerDependencySpec {
                container: ENVOY_CONTAINER.to_string(),
                condition: "HEALTHY".to_string(),
            }],
            sidecars: vec![envoy],
            proxy: Some(ProxyConfigurationSpec {
                container_name: ENVOY_CONTAINER.to_string(),
                properties,
            }),
            collector_environment,
            registry: Some(Ref::to(keys::DISCOVERY_SERVICE)),
            task_definition_after: vec![slot.virtual_node_key.clone()],
            service_after: vec![
                keys::DISCOVERY_SERVICE.to_string(),
                keys::VIRTUAL_SERVICE.to_string(),
            ],
            ..Default::default()
        }
    }

    fn latency_stat(&self) -> &'static str {
        LATENCY_STAT
    }

    fn metrics(&self, settings: &Settings, platform: &PlatformContext) -> ServiceMetrics {
        let dims = metric_dimensions(settings, platform);
        let ns = METRICS_NAMESPACE;
        ServiceMetrics {
            error_rate: vec![
                metric_query("errors", ns, ERROR_COUNT, &dims, "Sum", false),
                metric_query("requests", ns, REQUEST_COUNT, &dims, "Sum", false),
                error_rate_expression(),
            ],
            latency: metric_query("latency", ns, LATENCY, &dims, LATENCY_STAT, true),
            requests_line: dashboard_line(ns, REQUEST_COUNT, &dims, "Sum"),
            errors_line: dashboard_line(ns, ERROR_COUNT, &dims, "Sum"),
            latency_line: dashboard_line(ns, LATENCY, &dims, LATENCY_STAT),
            latency_stat: LATENCY_STAT.to_string(),
        }
    }
}

/// The dimensions every metric of this service carries.
pub fn metric_dimensions(
    settings: &Settings,
    platform: &PlatformContext,
) -> BTreeMap<String, String> {
    [
        ("ServiceName", settings.name.clone()),
        // Two platforms of one environment in one region may both have a
        // service of this name: the platform keeps their series apart.
        ("Platform", platform.platform_id.clone()),
        ("Environment", platform.environment.name().to_string()),
        ("Region", platform.region.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The ADOT collector's configuration (JSON, which is YAML too): traces
/// from the app (OTLP) and from Envoy (X-Ray UDP) to X-Ray; and Envoy's
/// Prometheus statistics (admin port 9901), renamed and filtered to the
/// three metrics the alarms read, with exactly their dimensions, into
/// namespace `matbakh/microservices` by the EMF exporter (the log events
/// go to the service's log group; the task role needs logs:PutLogEvents).
pub fn collector_config(settings: &Settings, platform: &PlatformContext) -> serde_json::Value {
    use serde_json::json;
    let dims = metric_dimensions(settings, platform);
    let ingress = |extra: &[(&str, &str)]| {
        let mut labels = serde_json::Map::new();
        labels.insert(ENVOY_PREFIX_LABEL.to_string(), json!(ENVOY_INGRESS_PREFIX));
        for (k, v) in extra {
            labels.insert(k.to_string(), json!(v));
        }
        serde_json::Value::Object(labels)
    };
    let rename = |from: &str, to: &str, labels: serde_json::Value| {
        json!({
            "include": from,
            "match_type": "strict",
            "action": "insert",
            "new_name": to,
            "experimental_match_labels": labels,
        })
    };
    let attributes: Vec<serde_json::Value> = dims
        .iter()
        .map(|(k, v)| json!({ "key": k, "value": v, "action": "upsert" }))
        .collect();
    let dimension_set: Vec<&String> = dims.keys().collect();
    json!({
        "extensions": { "health_check": {} },
        "receivers": {
            "otlp": { "protocols": {
                "grpc": { "endpoint": "0.0.0.0:4317" },
                "http": { "endpoint": "0.0.0.0:4318" },
            } },
            "awsxray": { "endpoint": "0.0.0.0:2000", "transport": "udp" },
            "prometheus": { "config": { "scrape_configs": [{
                "job_name": "envoy",
                "scrape_interval": "15s",
                "metrics_path": "/stats/prometheus",
                "static_configs": [{ "targets": [format!("localhost:{ENVOY_ADMIN_PORT}")] }],
            }] } },
        },
        "processors": {
            "metricstransform/matbakh": { "transforms": [
                rename(ENVOY_REQUESTS, REQUEST_COUNT, ingress(&[])),
                rename(ENVOY_RESPONSES_BY_CLASS, ERROR_COUNT, ingress(&[("envoy_response_code_class", "5")])),
                rename(ENVOY_REQUEST_TIME, LATENCY, ingress(&[])),
            ] },
            "filter/matbakh": { "metrics": { "include": {
                "match_type": "strict",
                "metric_names": [REQUEST_COUNT, ERROR_COUNT, LATENCY],
            } } },
            "resource/matbakh": { "attributes": attributes },
            "batch/metrics": { "timeout": "60s" },
            "batch/traces": { "timeout": "1s", "send_batch_size": 50 },
        },
        "exporters": {
            "awsemf": {
                "namespace": METRICS_NAMESPACE,
                "region": platform.region,
                "log_group_name": names::log_group_name(&platform.platform_id, &settings.name),
                "log_stream_name": "emf/{TaskId}",
                "dimension_rollup_option": "NoDimensionRollup",
                "resource_to_telemetry_conversion": { "enabled": true },
                "metric_declarations": [{
                    "dimensions": [dimension_set],
                    "metric_name_selectors": [
                        format!("^{REQUEST_COUNT}$"),
                        format!("^{ERROR_COUNT}$"),
                        format!("^{LATENCY}$"),
                    ],
                }],
            },
            "awsxray": { "region": platform.region },
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": ["metricstransform/matbakh", "filter/matbakh", "resource/matbakh", "batch/metrics"],
                    "exporters": ["awsemf"],
                },
                "traces": {
                    "receivers": ["otlp", "awsxray"],
                    "processors": ["batch/traces"],
                    "exporters": ["awsxray"],
                },
            },
        },
    })
}

pub fn discovery_service(
    settings: &Settings,
    platform: &PlatformContext,
    tags: &Tags,
) -> DiscoveryServiceSpec {
    DiscoveryServiceSpec {
        name: names::discovery_service_name(&settings.name),
        namespace_id: platform.namespace_id.clone(),
        dns_ttl_seconds: DNS_TTL_SECONDS,
        health_check_failure_threshold: 1,
        tags: tags.clone(),
    }
}

fn http_timeout(settings: &Settings) -> HttpTimeoutSpec {
    HttpTimeoutSpec {
        per_request_ms: millis(settings.timeout.per_request),
        idle_ms: millis(settings.timeout.idle),
    }
}

/// The virtual node of one slot: discovers only that slot's tasks.
pub fn virtual_node(
    settings: &Settings,
    platform: &PlatformContext,
    slot: &Slot,
    tags: &Tags,
) -> VirtualNodeSpec {
    let hc = &settings.health_check;
    let cb = &settings.circuit_breaker;
    let mut backends: Vec<String> = settings
        .backends
        .iter()
        .map(|b| names::virtual_service_name(b, &platform.namespace_name))
        .collect();
    backends.sort();
    backends.dedup();
    VirtualNodeSpec {
        mesh: platform.mesh_name.clone(),
        name: names::virtual_node_name(&slot.name),
        port: to_i32(settings.port),
        health_check: MeshHealthCheckSpec {
            path: hc.path.clone(),
            interval_ms: millis(hc.interval),
            timeout_ms: millis(hc.timeout),
            unhealthy_threshold: to_i32(hc.unhealthy_threshold),
            healthy_threshold: to_i32(hc.healthy_threshold),
        },
        outlier_detection: OutlierDetectionSpec {
            max_server_errors: cb.max_server_errors,
            interval_ms: millis(cb.interval),
            base_ejection_ms: millis(cb.base_ejection),
            max_ejection_percent: to_i32(cb.max_ejection_percent),
        },
        connection_pool: HttpConnectionPoolSpec {
            max_connections: to_i32(cb.max_connections),
            max_pending_requests: to_i32(cb.max_pending_requests),
        },
        timeout: http_timeout(settings),
        tls: settings.tls.as_ref().map(|t| TlsSpec {
            certificate_authority_arns: sorted(&t.certificate_authority_arns),
        }),
        backends,
        discovery: CloudMapDiscoverySpec {
            namespace_name: platform.namespace_name.clone(),
            service_name: names::discovery_service_name(&settings.name),
            attributes: [(
                "ECS_SERVICE_NAME".to_string(),
                names::ecs_service_name(&slot.name),
            )]
            .into_iter()
            .collect(),
        },
        access_log_path: "/dev/stdout".to_string(),
        tags: tags.clone(),
    }
}

pub fn virtual_router(
    settings: &Settings,
    platform: &PlatformContext,
    tags: &Tags,
) -> VirtualRouterSpec {
    VirtualRouterSpec {
        mesh: platform.mesh_name.clone(),
        name: names::virtual_router_name(&settings.name),
        port: to_i32(settings.port),
        tags: tags.clone(),
    }
}

/// The HTTP route over `targets` (the stable node). A canary's candidate
/// node may be added beside it; its weights are then the canary's.
pub fn route(
    settings: &Settings,
    platform: &PlatformContext,
    targets: Vec<WeightedTargetSpec>,
    tags: &Tags,
) -> RouteSpec {
    let r = &settings.retry;
    RouteSpec {
        mesh: platform.mesh_name.clone(),
        router: names::virtual_router_name(&settings.name),
        name: names::route_name(&settings.name),
        prefix: "/".to_string(),
        targets,
        shared_with: Some(names::virtual_node_name(&names::canary_slot(
            &settings.name,
        ))),
        retry: RetryPolicySpec {
            max_retries: r.max_retries,
            per_try_timeout_ms: millis(r.per_try_timeout),
            http_events: sorted(&r.http_events),
            tcp_events: sorted(&r.tcp_events),
        },
        timeout: http_timeout(settings),
        tags: tags.clone(),
    }
}

pub fn virtual_service(
    settings: &Settings,
    platform: &PlatformContext,
    tags: &Tags,
) -> VirtualServiceSpec {
    VirtualServiceSpec {
        mesh: platform.mesh_name.clone(),
        name: names::virtual_service_name(&settings.name, &platform.namespace_name),
        router: names::virtual_router_name(&settings.name),
        tags: tags.clone(),
    }
}
