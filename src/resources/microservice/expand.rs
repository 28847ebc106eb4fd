//! The expansion of a `matbakh_microservice` into its graph of AWS objects.
//! Pure: no I/O; the same settings and platform always give the same graph.
//!
//! The graph and its order (dependencies first):
//!
//! ```text
//! log_group ─────────────────────────────┐
//! discovery_service ─► virtual_node ─────┴─► task_definition ─┐
//!                         │                                    │
//! virtual_router ─► route ◄┘                                   │
//!        └──────────► virtual_service ◄─ route                 │
//!                          └─────────────► service ◄───────────┘ (and discovery_service)
//!                                            └─► scaling_target ─► scaling_policy_cpu / _memory
//! alarm_error_rate, alarm_p95_latency, alarm_cpu, dashboard: independent
//! ```
//!
//! Envoy needs its virtual node's ARN, so the task definition comes after
//! the node; the ECS service comes after the virtual service, so the mesh
//! configuration exists before the first task starts.

use std::collections::BTreeMap;
use std::time::Duration;

use super::config::{Settings, ADOT_CPU, ADOT_MEMORY, ENVOY_ADMIN_PORT};
use super::names;
use super::task_size::{smallest_fargate_size, TaskSize, MAX_TASK_CPU, MAX_TASK_MEMORY};
use super::validate::ENVOY_UID;
use crate::environment::Environment;
use crate::spec::appmesh::*;
use crate::spec::autoscaling::{ScalableTargetSpec, ScalingPolicySpec};
use crate::spec::cloudmap::DiscoveryServiceSpec;
use crate::spec::cloudwatch::{DashboardSpec, MetricAlarmSpec, MetricQuerySpec, MetricStatSpec};
use crate::spec::ecs::*;
use crate::spec::logs::LogGroupSpec;
use crate::spec::{Component, DesiredGraph, Ref, Spec, Tags, OWNER_TAG};

/// What the expansion needs to know about the platform the service joins.
/// Filled from the platform's state/AWS at apply time.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformContext {
    /// The platform's resource id (the `platform` argument).
    pub platform_id: String,
    pub cluster_name: String,
    pub mesh_name: String,
    /// The private DNS namespace's name, e.g. `svc.local`.
    pub namespace_name: String,
    /// Its Cloud Map id, `ns-...`.
    pub namespace_id: String,
    pub environment: Environment,
    pub region: String,
    /// The provider's `default_tags`.
    pub tags: Tags,
}

/// Component keys: the keys of state's `components` map.
pub mod keys {
    pub const LOG_GROUP: &str = "log_group";
    pub const TASK_DEFINITION: &str = "task_definition";
    pub const DISCOVERY_SERVICE: &str = "discovery_service";
    pub const VIRTUAL_NODE: &str = "virtual_node";
    pub const VIRTUAL_ROUTER: &str = "virtual_router";
    pub const ROUTE: &str = "route";
    pub const VIRTUAL_SERVICE: &str = "virtual_service";
    pub const SERVICE: &str = "service";
    pub const SCALING_TARGET: &str = "scaling_target";
    pub const SCALING_POLICY_CPU: &str = "scaling_policy_cpu";
    pub const SCALING_POLICY_MEMORY: &str = "scaling_policy_memory";
    pub const ALARM_ERROR_RATE: &str = "alarm_error_rate";
    pub const ALARM_P95_LATENCY: &str = "alarm_p95_latency";
    pub const ALARM_CPU: &str = "alarm_cpu";
    pub const DASHBOARD: &str = "dashboard";
}

/// The Envoy image App Mesh publishes (public ECR works in every region).
pub const ENVOY_IMAGE: &str = "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.12.1-prod";
/// The AWS Distro for OpenTelemetry collector.
pub const ADOT_IMAGE: &str = "public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1";
pub const APP_CONTAINER: &str = "app";
pub const ENVOY_CONTAINER: &str = "envoy";
pub const ADOT_CONTAINER: &str = "aws-otel-collector";
/// The uid the application runs as: not root, and not Envoy's 1337 (whose
/// traffic the proxy lets through unrouted).
pub const APP_USER: &str = "1000";
pub const PROXY_INGRESS_PORT: i64 = 15000;
pub const PROXY_EGRESS_PORT: i64 = 15001;
/// The task metadata endpoint and the instance metadata service: reached
/// directly, not through Envoy.
pub const EGRESS_IGNORED_IPS: &str = "169.254.170.2,169.254.169.254";
pub const METRICS_NAMESPACE: &str = "matbakh/microservices";
/// CPU utilisation (percent of the task's CPU) the CPU alarm fires above.
pub const CPU_HIGH_PERCENT: f64 = 80.0;
/// Alarms look at one-minute periods and fire when 2 of the last 3 breach.
pub const ALARM_PERIOD_SECONDS: i32 = 60;
pub const ALARM_EVALUATION_PERIODS: i32 = 3;
pub const ALARM_DATAPOINTS: i32 = 2;
/// Target tracking: scale out fast, scale in slowly.
pub const SCALE_OUT_COOLDOWN_SECONDS: i32 = 60;
pub const SCALE_IN_COOLDOWN_SECONDS: i32 = 300;
pub const DNS_TTL_SECONDS: i64 = 10;

/// One deployable copy of the service: the stable one or a canary's
/// candidate. The task definition, ECS service and virtual node exist once
/// per slot, under the slot's name and component keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    /// `NAME` or `NAME-canary`.
    pub name: String,
    pub image: String,
    pub task_definition_key: String,
    pub virtual_node_key: String,
    pub service_key: String,
}

impl Slot {
    pub fn stable(settings: &Settings) -> Slot {
        Slot {
            name: names::stable_slot(&settings.name),
            image: settings.image.clone(),
            task_definition_key: keys::TASK_DEFINITION.into(),
            virtual_node_key: keys::VIRTUAL_NODE.into(),
            service_key: keys::SERVICE.into(),
        }
    }

    /// A canary's candidate running `image`; its keys start with `candidate_`.
    pub fn canary(settings: &Settings, image: &str) -> Slot {
        Slot {
            name: names::canary_slot(&settings.name),
            image: image.to_string(),
            task_definition_key: format!("candidate_{}", keys::TASK_DEFINITION),
            virtual_node_key: format!("candidate_{}", keys::VIRTUAL_NODE),
            service_key: format!("candidate_{}", keys::SERVICE),
        }
    }
}

/// The whole graph of one microservice.
pub fn expand(settings: &Settings, platform: &PlatformContext) -> DesiredGraph {
    use keys::*;
    let tags = owner_tags(settings, platform);
    let slot = Slot::stable(settings);
    let mut graph = DesiredGraph::default();

    graph.push(Component::new(
        LOG_GROUP,
        Spec::LogGroup(log_group(settings, platform, &tags)),
    ));
    graph.push(Component::new(
        DISCOVERY_SERVICE,
        Spec::DiscoveryService(discovery_service(settings, platform, &tags)),
    ));
    graph.push(
        Component::new(
            VIRTUAL_NODE,
            Spec::VirtualNode(virtual_node(settings, platform, &slot, &tags)),
        )
        .after(&[DISCOVERY_SERVICE]),
    );
    graph.push(
        Component::new(
            TASK_DEFINITION,
            Spec::TaskDefinition(task_definition(settings, platform, &slot, &tags)),
        )
        .after(&[LOG_GROUP, VIRTUAL_NODE]),
    );
    graph.push(Component::new(
        VIRTUAL_ROUTER,
        Spec::VirtualRouter(virtual_router(settings, platform, &tags)),
    ));
    let targets = vec![WeightedTargetSpec {
        virtual_node: names::virtual_node_name(&slot.name),
        weight: 100,
    }];
    graph.push(
        Component::new(
            ROUTE,
            Spec::Route(route(settings, platform, targets, &tags)),
        )
        .after(&[VIRTUAL_ROUTER, VIRTUAL_NODE]),
    );
    graph.push(
        Component::new(
            VIRTUAL_SERVICE,
            Spec::VirtualService(virtual_service(settings, platform, &tags)),
        )
        .after(&[VIRTUAL_ROUTER, ROUTE]),
    );
    graph.push(
        Component::new(
            SERVICE,
            Spec::EcsService(ecs_service(settings, platform, &slot, &tags)),
        )
        .after(&[TASK_DEFINITION, DISCOVERY_SERVICE, VIRTUAL_SERVICE]),
    );
    if let Some(a) = &settings.autoscaling {
        let resource_id = names::scaling_resource_id(&platform.cluster_name, &slot.name);
        graph.push(
            Component::new(
                SCALING_TARGET,
                Spec::ScalableTarget(ScalableTargetSpec {
                    resource_id: resource_id.clone(),
                    min_capacity: to_i32(a.min_count),
                    max_capacity: to_i32(a.max_count),
                }),
            )
            .after(&[SERVICE]),
        );
        for (key, metric, short, target) in [
            (
                SCALING_POLICY_CPU,
                "ECSServiceAverageCPUUtilization",
                "cpu",
                a.cpu_target,
            ),
            (
                SCALING_POLICY_MEMORY,
                "ECSServiceAverageMemoryUtilization",
                "memory",
                a.memory_target,
            ),
        ] {
            graph.push(
                Component::new(
                    key,
                    Spec::ScalingPolicy(ScalingPolicySpec {
                        resource_id: resource_id.clone(),
                        name: names::scaling_policy_name(&slot.name, short),
                        metric: metric.to_string(),
                        target_value: target as f64,
                        scale_in_cooldown_seconds: SCALE_IN_COOLDOWN_SECONDS,
                        scale_out_cooldown_seconds: SCALE_OUT_COOLDOWN_SECONDS,
                    }),
                )
                .after(&[SCALING_TARGET]),
            );
        }
    }
    let [error_rate, p95, cpu] = alarms(settings, platform, &tags);
    graph.push(Component::new(
        ALARM_ERROR_RATE,
        Spec::MetricAlarm(error_rate),
    ));
    graph.push(Component::new(ALARM_P95_LATENCY, Spec::MetricAlarm(p95)));
    graph.push(Component::new(ALARM_CPU, Spec::MetricAlarm(cpu)));
    if settings.dashboard {
        graph.push(Component::new(
            DASHBOARD,
            Spec::Dashboard(dashboard(settings, platform)),
        ));
    }
    graph
}

/// `dns_name`.
pub fn dns_name(settings: &Settings, platform: &PlatformContext) -> String {
    names::dns_name(&settings.name, &platform.namespace_name)
}

/// `virtual_node_name` (of the stable slot).
pub fn virtual_node_name(settings: &Settings) -> String {
    names::virtual_node_name(&settings.name)
}

/// `virtual_service_name`.
pub fn virtual_service_name(settings: &Settings, platform: &PlatformContext) -> String {
    names::virtual_service_name(&settings.name, &platform.namespace_name)
}

/// `tags_all` (the provider's default tags with the service's `tags` over
/// them) plus the owner tag (`PLATFORM/NAME`).
pub fn owner_tags(settings: &Settings, platform: &PlatformContext) -> Tags {
    let mut tags = crate::resources::tags::tags_all(&platform.tags, &settings.tags);
    tags.insert(
        OWNER_TAG.to_string(),
        names::resource_id(&platform.platform_id, &settings.name),
    );
    tags
}

/// The task size: the cheapest Fargate size holding every container.
/// Validation rejects configurations no size holds; should one get here,
/// the largest size is asked for and AWS says what is wrong.
pub fn task_size(settings: &Settings) -> TaskSize {
    smallest_fargate_size(settings.containers_cpu(), settings.containers_memory()).unwrap_or(
        TaskSize {
            cpu: MAX_TASK_CPU,
            memory: MAX_TASK_MEMORY,
        },
    )
}

pub fn log_group(settings: &Settings, platform: &PlatformContext, tags: &Tags) -> LogGroupSpec {
    LogGroupSpec {
        name: names::log_group_name(&platform.platform_id, &settings.name),
        retention_days: to_i32(settings.log_retention_days),
        tags: tags.clone(),
    }
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

/// The task definition of one slot.
pub fn task_definition(
    settings: &Settings,
    platform: &PlatformContext,
    slot: &Slot,
    tags: &Tags,
) -> TaskDefinitionSpec {
    let size = task_size(settings);
    let log = || AwsLogsSpec {
        group: names::log_group_name(&platform.platform_id, &settings.name),
        region: platform.region.clone(),
        stream_prefix: slot.name.clone(),
    };
    let text = |s: &str| EnvValue::Text(s.to_string());
    let sampling = format_rate(settings.tracing.sampling_rate);

    // The application. Tracing hints first, so the user's own values win.
    let mut app_env = BTreeMap::new();
    if settings.tracing.enabled {
        app_env.insert("OTEL_SERVICE_NAME".to_string(), text(&settings.name));
        app_env.insert(
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
            text("http://localhost:4317"),
        );
        app_env.insert(
            "OTEL_TRACES_SAMPLER".to_string(),
            text("parentbased_traceidratio"),
        );
        app_env.insert("OTEL_TRACES_SAMPLER_ARG".to_string(), text(&sampling));
    }
    for (k, v) in &settings.environment_variables {
        app_env.insert(k.clone(), text(v));
    }
    let app = ContainerSpec {
        name: APP_CONTAINER.to_string(),
        image: slot.image.clone(),
        cpu: to_i32(settings.cpu),
        memory: to_i32(settings.memory),
        essential: true,
        ports: vec![to_i32(settings.port)],
        environment: app_env,
        secrets: settings.secrets.clone(),
        user: Some(APP_USER.to_string()),
        read_only_root_filesystem: true,
        command: vec![],
        log: log(),
        health_check: None,
        depends_on: vec![ContainerDependencySpec {
            container: ENVOY_CONTAINER.to_string(),
            condition: "HEALTHY".to_string(),
        }],
    };

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
        envoy_env.insert("XRAY_SAMPLING_RATE".to_string(), text(&sampling));
    }
    let envoy = ContainerSpec {
        name: ENVOY_CONTAINER.to_string(),
        image: ENVOY_IMAGE.to_string(),
        cpu: to_i32(settings.envoy.cpu),
        memory: to_i32(settings.envoy.memory),
        essential: true,
        ports: vec![],
        environment: envoy_env,
        secrets: BTreeMap::new(),
        user: Some(ENVOY_UID.to_string()),
        read_only_root_filesystem: false,
        command: vec![],
        log: log(),
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

    let mut containers = vec![app, envoy];
    if settings.tracing.enabled {
        let mut adot_env = BTreeMap::new();
        // The rate the traces reaching the collector were sampled at, for
        // whoever reads the collector's configuration and logs.
        adot_env.insert("MATBAKH_TRACE_SAMPLING_RATE".to_string(), text(&sampling));
        containers.push(ContainerSpec {
            name: ADOT_CONTAINER.to_string(),
            image: ADOT_IMAGE.to_string(),
            cpu: to_i32(ADOT_CPU),
            memory: to_i32(ADOT_MEMORY),
            // Losing traces must not take the service down.
            essential: false,
            ports: vec![],
            environment: adot_env,
            secrets: BTreeMap::new(),
            user: None,
            read_only_root_filesystem: false,
            command: vec!["--config=/etc/ecs/ecs-default-config.yaml".to_string()],
            log: log(),
            health_check: None,
            depends_on: vec![],
        });
    }

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

    TaskDefinitionSpec {
        family: names::task_family(&platform.platform_id, &slot.name),
        cpu: to_i32(size.cpu),
        memory: to_i32(size.memory),
        execution_role_arn: settings.execution_role_arn.clone(),
        task_role_arn: settings.task_role_arn.clone(),
        containers,
        proxy: Some(ProxyConfigurationSpec {
            container_name: ENVOY_CONTAINER.to_string(),
            properties,
        }),
        tags: tags.clone(),
    }
}

/// FARGATE and FARGATE_SPOT weighted by `spot_percent`; a provider with
/// weight zero is left out (AWS needs at least one positive weight).
pub fn capacity_provider_strategy(spot_percent: i64) -> Vec<CapacityProviderSpec> {
    let spot = spot_percent.clamp(0, 100) as i32;
    [("FARGATE", 100 - spot), ("FARGATE_SPOT", spot)]
        .into_iter()
        .filter(|(_, weight)| *weight > 0)
        .map(|(provider, weight)| CapacityProviderSpec {
            provider: provider.to_string(),
            weight,
            base: 0,
        })
        .collect()
}

/// The ECS service of one slot.
pub fn ecs_service(
    settings: &Settings,
    platform: &PlatformContext,
    slot: &Slot,
    tags: &Tags,
) -> EcsServiceSpec {
    EcsServiceSpec {
        cluster: platform.cluster_name.clone(),
        name: names::ecs_service_name(&slot.name),
        task_definition: Ref::to(&slot.task_definition_key),
        desired_count: to_i32(settings.desired_count),
        desired_count_managed_by_autoscaling: settings.autoscaling.is_some(),
        capacity_provider_strategy: capacity_provider_strategy(settings.spot_percent),
        subnets: sorted(&settings.subnet_ids),
        security_groups: sorted(&settings.security_group_ids),
        registry: Some(Ref::to(keys::DISCOVERY_SERVICE)),
        circuit_breaker_rollback: true,
        minimum_healthy_percent: 100,
        maximum_percent: 200,
        wait_for_steady_state: settings.wait_for_steady_state,
        tags: tags.clone(),
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

/// The dimensions every matbakh metric of this service carries.
pub fn metric_dimensions(
    settings: &Settings,
    platform: &PlatformContext,
) -> BTreeMap<String, String> {
    [
        ("ServiceName", settings.name.clone()),
        ("Environment", platform.environment.name().to_string()),
        ("Region", platform.region.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn stat(
    namespace: &str,
    metric: &str,
    dimensions: &BTreeMap<String, String>,
    stat: &str,
) -> MetricStatSpec {
    MetricStatSpec {
        namespace: namespace.to_string(),
        metric_name: metric.to_string(),
        dimensions: dimensions.clone(),
        period_seconds: ALARM_PERIOD_SECONDS,
        stat: stat.to_string(),
    }
}

/// Error rate (metric math), p95 latency and CPU high, in that order.
pub fn alarms(
    settings: &Settings,
    platform: &PlatformContext,
    tags: &Tags,
) -> [MetricAlarmSpec; 3] {
    let dims = metric_dimensions(settings, platform);
    let name = &settings.name;
    let alarm = |what: &str, description: String, metrics: Vec<MetricQuerySpec>, threshold: f64| {
        MetricAlarmSpec {
            name: names::alarm_name(&platform.platform_id, name, what),
            description,
            metrics,
            comparison_operator: "GreaterThanThreshold".to_string(),
            threshold,
            evaluation_periods: ALARM_EVALUATION_PERIODS,
            datapoints_to_alarm: ALARM_DATAPOINTS,
            treat_missing_data: "notBreaching".to_string(),
            // A set in the schema: sorted, so requests are deterministic.
            actions: sorted(&settings.alarms.actions),
            tags: tags.clone(),
        }
    };
    let query = |id: &str, metric: MetricStatSpec, return_data: bool| MetricQuerySpec {
        id: id.to_string(),
        label: None,
        expression: None,
        metric: Some(metric),
        return_data,
    };
    let error_rate = alarm(
        "error-rate",
        format!(
            "{name}: more than {}% of requests fail (5xx)",
            settings.alarms.error_rate_percent
        ),
        vec![
            query(
                "errors",
                stat(METRICS_NAMESPACE, "ErrorCount", &dims, "Sum"),
                false,
            ),
            query(
                "requests",
                stat(METRICS_NAMESPACE, "RequestCount", &dims, "Sum"),
                false,
            ),
            MetricQuerySpec {
                id: "error_rate".to_string(),
                label: Some("Error rate (%)".to_string()),
                expression: Some("IF(requests > 0, 100 * errors / requests, 0)".to_string()),
                metric: None,
                return_data: true,
            },
        ],
        settings.alarms.error_rate_percent,
    );
    let p95 = alarm(
        "p95-latency",
        format!(
            "{name}: p95 latency above {} ms",
            settings.alarms.p95_latency_ms
        ),
        vec![query(
            "latency",
            stat(METRICS_NAMESPACE, "Latency", &dims, "p95"),
            true,
        )],
        settings.alarms.p95_latency_ms,
    );
    let ecs_dims: BTreeMap<String, String> = [
        ("ClusterName".to_string(), platform.cluster_name.clone()),
        ("ServiceName".to_string(), names::ecs_service_name(name)),
    ]
    .into_iter()
    .collect();
    let cpu = alarm(
        "cpu-high",
        format!("{name}: average CPU above {CPU_HIGH_PERCENT}% of the task size"),
        vec![query(
            "cpu",
            stat("AWS/ECS", "CPUUtilization", &ecs_dims, "Average"),
            true,
        )],
        CPU_HIGH_PERCENT,
    );
    [error_rate, p95, cpu]
}

/// Requests, errors, p95 latency, CPU and memory.
pub fn dashboard(settings: &Settings, platform: &PlatformContext) -> DashboardSpec {
    let dims = metric_dimensions(settings, platform);
    let custom = |metric: &str, stat: &str| {
        let mut line = vec![
            serde_json::json!(METRICS_NAMESPACE),
            serde_json::json!(metric),
        ];
        for (k, v) in &dims {
            line.push(serde_json::json!(k));
            line.push(serde_json::json!(v));
        }
        line.push(serde_json::json!({ "stat": stat }));
        serde_json::Value::Array(line)
    };
    let ecs = |metric: &str| {
        serde_json::json!([
            "AWS/ECS", metric,
            "ClusterName", platform.cluster_name,
            "ServiceName", names::ecs_service_name(&settings.name),
            { "stat": "Average" }
        ])
    };
    let widget = |x: i32, y: i32, title: &str, metrics: Vec<serde_json::Value>| {
        serde_json::json!({
            "type": "metric",
            "x": x, "y": y, "width": 12, "height": 6,
            "properties": {
                "title": title,
                "region": platform.region,
                "view": "timeSeries",
                "period": 60,
                "metrics": metrics,
            }
        })
    };
    let body = serde_json::json!({
        "widgets": [
            widget(0, 0, "Requests", vec![custom("RequestCount", "Sum")]),
            widget(12, 0, "Errors (5xx)", vec![custom("ErrorCount", "Sum")]),
            widget(0, 6, "Latency p95 (ms)", vec![custom("Latency", "p95")]),
            widget(12, 6, "CPU and memory (%)", vec![ecs("CPUUtilization"), ecs("MemoryUtilization")]),
        ]
    });
    DashboardSpec {
        name: names::dashboard_name(&platform.platform_id, &settings.name),
        body: body.to_string(),
    }
}

fn http_timeout(settings: &Settings) -> HttpTimeoutSpec {
    HttpTimeoutSpec {
        per_request_ms: millis(settings.timeout.per_request),
        idle_ms: millis(settings.timeout.idle),
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Settings are validated to fit AWS's 32-bit fields; saturate otherwise.
fn to_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut list = list.to_vec();
    list.sort();
    list.dedup();
    list
}

/// A sampling rate as the sidecars read it: "0.1", "1", "0.05".
fn format_rate(rate: f64) -> String {
    rate.to_string()
}

#[cfg(test)]
#[path = "expand_tests.rs"]
mod tests;
