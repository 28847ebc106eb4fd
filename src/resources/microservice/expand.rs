//! The expansion of a `matbakh_microservice` into its graph of AWS objects.
//! Pure: no I/O; the same settings and platform always give the same graph.
//!
//! What is shared by every backend is built here: the log group, the task
//! definition's app and ADOT containers, the ECS service, autoscaling,
//! alarms and dashboard. The networking (components, sidecars, the ECS
//! service's discovery settings and the metrics the alarms read) comes from
//! the platform's backend ([`super::backend`]).
//!
//! Service Connect:
//!
//! ```text
//! task_definition ─► service ─► discovery_service (ECS creates it; recorded)
//! log_group ───────────┘  └─► scaling_target ─► scaling_policy_cpu / _memory
//! alarm_error_rate, alarm_p95_latency, alarm_cpu, dashboard: independent
//! ```
//!
//! App Mesh:
//!
//! ```text
//! discovery_service ─► virtual_node ─────► task_definition ─┐
//!                         │                                  │
//! virtual_router ─► route ◄┘                                 │
//!        └──────────► virtual_service ◄─ route               │
//!                          └─────────────► service ◄─────────┘ (and discovery_service, log_group)
//!                                            └─► scaling_target ─► scaling_policy_cpu / _memory
//! ```
//!
//! On App Mesh, Envoy needs its virtual node's ARN, so the task definition
//! comes after the node; the ECS service comes after the virtual service,
//! so the mesh configuration exists before the first task starts.
//!
//! The log group comes before the ECS service, whose tasks write to it, not
//! before the task definition: registering a revision does not need the
//! group, so the two are created (and, after the service, deleted) at the
//! same time.

use std::collections::BTreeMap;

use super::backend::{self, MeshBackend};
use super::config::{Settings, ADOT_CPU, ADOT_MEMORY};
use super::names;
use super::platform::PlatformIngress;
use super::roles;
use crate::fargate::{smallest_fargate_size, TaskSize, MAX_TASK_CPU, MAX_TASK_MEMORY};
use crate::spec::autoscaling::{
    load_balancer_part, RequestCountLabel, ScalableTargetSpec, ScalingPolicySpec,
};
use crate::spec::budgets::{ESTIMATE_TAG, PLATFORM_TAG};
use crate::spec::cloudwatch::{DashboardSpec, MetricAlarmSpec, MetricQuerySpec, MetricStatSpec};
use crate::spec::deployment_strategy::DeploymentSpec;
use crate::spec::ecs::*;
use crate::spec::logs::LogGroupSpec;
use crate::spec::{Component, DesiredGraph, Ref, Spec, Tags, OWNER_TAG};

/// The App Mesh objects, which a canary's candidate also builds.
pub use super::backend::app_mesh::{
    discovery_service, metric_dimensions, route, virtual_node, virtual_router, virtual_service,
    METRICS_NAMESPACE,
};
// What the graph is built from, re-exported where callers have
// always found it.
pub use super::alarm_timing::{ALARM_DATAPOINTS, ALARM_EVALUATION_PERIODS, ALARM_PERIOD_SECONDS};
pub use super::containers::{ADOT_CONTAINER, APP_CONTAINER, APP_USER, ENVOY_CONTAINER};
pub use super::keys;
pub use super::platform::PlatformContext;
pub use super::slot::Slot;

/// CPU utilisation (percent of the task's CPU) the CPU alarm fires above.
pub const CPU_HIGH_PERCENT: f64 = 80.0;
/// Target tracking: scale out fast, scale in slowly.
pub const SCALE_OUT_COOLDOWN_SECONDS: i32 = 60;
pub const SCALE_IN_COOLDOWN_SECONDS: i32 = 300;

/// The backend of the platform the service joins.
pub fn backend_of(platform: &PlatformContext) -> &'static dyn MeshBackend {
    backend::of(platform.service_mesh)
}

/// The whole graph of one microservice.
pub fn expand(settings: &Settings, platform: &PlatformContext) -> DesiredGraph {
    use keys::*;
    let tags = owner_tags(settings, platform);
    let slot = Slot::stable(settings);
    let backend = backend_of(platform);
    let networking = backend.components(settings, platform, &slot, &tags);
    let slot_networking = backend.slot(settings, platform, &slot);
    let mut graph = DesiredGraph::default();

    graph.push(Component::new(
        LOG_GROUP,
        Spec::LogGroup(log_group(settings, platform, &tags)),
    ));
    for c in networking.before_task_definition {
        graph.push(c);
    }
    let task_definition = task_definition(settings, platform, &slot, &tags);
    let mut task_definition_after = slot_networking.task_definition_after.clone();
    // The roles come before the task definition that names them, and so
    // before the service whose tasks assume them; deleted after both.
    let images = task_definition.containers.iter().map(|c| c.image.as_str());
    let made_roles = [
        (
            roles::EXECUTION_ROLE,
            roles::execution_role(settings, platform, images, &tags),
        ),
        (
            roles::TASK_ROLE,
            roles::task_role(settings, platform, &tags),
        ),
        // Named by the ECS service (after the task definition).
        (roles::TLS_ROLE, roles::tls_role(settings, platform, &tags)),
    ];
    for (key, role) in made_roles {
        if let Some(role) = role {
            graph.push(Component::new(key, Spec::Role(role)));
            task_definition_after.push(key.to_string());
        }
    }
    graph.push(Component {
        key: TASK_DEFINITION.to_string(),
        depends_on: task_definition_after,
        spec: Spec::TaskDefinition(task_definition),
    });
    for c in networking.before_service {
        graph.push(c);
    }
    let mut service_after = vec![TASK_DEFINITION.to_string(), LOG_GROUP.to_string()];
    service_after.extend(slot_networking.service_after.iter().cloned());
    let mut service = ecs_service(settings, platform, &slot, &tags);
    if let Some(ingress) = &settings.ingress {
        use super::ingress_components as ic;
        // Without the platform's objects (a prior configuration expanded to
        // delete what it had, whose platform lookup asked for no ingress)
        // the components are still named and keyed: enough to delete them.
        let alb = platform.ingress.clone().unwrap_or_default();
        for c in ic::components(settings, platform, ingress, &alb, &tags) {
            graph.push(c);
        }
        service.load_balancer = Some(Box::new(ic::ecs_load_balancer(settings, platform)));
        service_after.extend(ic::keys::ALL.iter().map(|k| k.to_string()));
    }
    // The estimate lives on an object the microservice owns, so its
    // platform (and other states' plans) can add it up from AWS.
    let estimate = crate::cost::estimated_monthly_cost(&settings.workload(), &platform.region);
    service
        .tags
        .insert(ESTIMATE_TAG.to_string(), format!("{estimate:.2}"));
    graph.push(Component {
        key: SERVICE.to_string(),
        depends_on: service_after,
        spec: Spec::EcsService(service),
    });
    for c in networking.after_service {
        graph.push(c);
    }
    if let Some(a) = &settings.autoscaling {
        let resource_id = names::scaling_resource_id(&platform.cluster_name, &slot.name);
        graph.push(
            Component::new(
                SCALING_TARGET,
                Spec::ScalableTarget(ScalableTargetSpec {
                    resource_id: resource_id.clone(),
                    min_capacity: to_i32(a.min_count),
                    max_capacity: to_i32(a.max_count),
                    tags: tags.clone(),
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
                        resource_label: None,
                        target_value: target as f64,
                        scale_in_cooldown_seconds: SCALE_IN_COOLDOWN_SECONDS,
                        scale_out_cooldown_seconds: SCALE_OUT_COOLDOWN_SECONDS,
                    }),
                )
                .after(&[SCALING_TARGET]),
            );
        }
        // Validation allows it only with `ingress`, whose components the
        // label names.
        if let Some(requests) = a.requests_per_target {
            use super::ingress_components::keys as ik;
            let alb = platform.ingress.clone().unwrap_or_default();
            graph.push(
                Component::new(
                    SCALING_POLICY_REQUESTS,
                    Spec::ScalingPolicy(ScalingPolicySpec {
                        resource_id: resource_id.clone(),
                        name: names::scaling_policy_name(&slot.name, "requests"),
                        metric: "ALBRequestCountPerTarget".to_string(),
                        resource_label: Some(RequestCountLabel {
                            load_balancer: load_balancer_part(&alb.listener_arn),
                            target_groups: [
                                Ref::to(ik::TARGET_GROUP_BLUE),
                                Ref::to(ik::TARGET_GROUP_GREEN),
                            ],
                            production_rule: Ref::to(ik::RULE),
                            service: Ref::to(SERVICE),
                        }),
                        target_value: requests as f64,
                        scale_in_cooldown_seconds: SCALE_IN_COOLDOWN_SECONDS,
                        scale_out_cooldown_seconds: SCALE_OUT_COOLDOWN_SECONDS,
                    }),
                )
                .after(&[SCALING_TARGET]),
            );
        }
    }
    let [error_rate, p95, cpu] = alarms(settings, platform, &tags);
    // Behind the load balancer the error-rate and latency alarms read its
    // metrics per target group, so they come after the groups they name.
    let alb = alb_of(settings, platform);
    let [error_rate, p95] = match &alb {
        Some(alb) => super::ingress_alarms::alarms(
            settings,
            alb,
            error_rate,
            p95,
            names::alarm_name(
                &platform.platform_id,
                &settings.name,
                super::ingress_alarms::LATENCY_WHAT,
            ),
        ),
        None => [error_rate, p95],
    };
    let target_groups = [
        super::ingress_components::keys::TARGET_GROUP_BLUE,
        super::ingress_components::keys::TARGET_GROUP_GREEN,
    ];
    let after_groups = |c: Component| {
        if alb.is_some() {
            c.after(&target_groups)
        } else {
            c
        }
    };
    let release_alarms = super::release_alarms::components(
        settings,
        &platform.platform_id,
        &error_rate,
        &p95,
        requests_query(settings, platform),
        &tags,
    );
    graph.push(after_groups(Component::new(
        ALARM_ERROR_RATE,
        Spec::MetricAlarm(error_rate),
    )));
    graph.push(after_groups(Component::new(
        ALARM_P95_LATENCY,
        Spec::MetricAlarm(p95),
    )));
    graph.push(Component::new(ALARM_CPU, Spec::MetricAlarm(cpu)));
    for release in release_alarms {
        graph.push(release);
    }
    if settings.dashboard {
        graph.push(after_groups(Component::new(
            DASHBOARD,
            Spec::Dashboard(dashboard(settings, platform, &tags)),
        )));
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
/// them) plus the owner tag (`PLATFORM/NAME`) and the platform's cost
/// allocation tag.
pub fn owner_tags(settings: &Settings, platform: &PlatformContext) -> Tags {
    let mut tags = crate::resources::tags::tags_all(&platform.tags, &settings.tags);
    tags.insert(
        OWNER_TAG.to_string(),
        names::resource_id(&platform.platform_id, &settings.name),
    );
    // The cost allocation tag the platform's budget filters on.
    tags.insert(PLATFORM_TAG.to_string(), platform.platform_id.clone());
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

/// The task definition of one slot: the app, the backend's sidecars and,
/// when tracing is on, the ADOT collector.
pub fn task_definition(
    settings: &Settings,
    platform: &PlatformContext,
    slot: &Slot,
    tags: &Tags,
) -> TaskDefinitionSpec {
    let size = task_size(settings);
    let networking = backend_of(platform).slot(settings, platform, slot);
    let log = || AwsLogsSpec {
        group: names::log_group_name(&platform.platform_id, &settings.name),
        region: platform.region.clone(),
        stream_prefix: slot.name.clone(),
    };
    let text = |s: &str| EnvValue::Text(s.to_string());
    let sampling = format_rate(settings.tracing.sampling_rate);

    // The application. Tracing hints first, so the user's own values win.
    let mut app_env = networking.app_environment.clone();
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
        port_name: networking.app_port_name.clone(),
        environment: app_env,
        secrets: settings.secrets.clone(),
        user: Some(APP_USER.to_string()),
        read_only_root_filesystem: true,
        command: vec![],
        log: log(),
        health_check: networking.app_health_check.clone(),
        depends_on: networking.app_depends_on.clone(),
    };

    let mut containers = vec![app];
    containers.extend(networking.sidecars.iter().cloned());
    if settings.tracing.enabled {
        let mut adot_env = networking.collector_environment.clone();
        // The rate the traces reaching the collector were sampled at, for
        // whoever reads the collector's configuration and logs.
        adot_env.insert("MATBAKH_TRACE_SAMPLING_RATE".to_string(), text(&sampling));
        containers.push(ContainerSpec {
            name: ADOT_CONTAINER.to_string(),
            image: settings.tracing.image.clone(),
            cpu: to_i32(ADOT_CPU),
            memory: to_i32(ADOT_MEMORY),
            // Losing traces must not take the service down.
            essential: false,
            ports: vec![],
            port_name: None,
            environment: adot_env,
            secrets: BTreeMap::new(),
            user: None,
            read_only_root_filesystem: false,
            command: networking.collector_command.clone(),
            log: log(),
            health_check: None,
            depends_on: vec![],
        });
    }

    TaskDefinitionSpec {
        family: names::task_family(&platform.platform_id, &slot.name),
        cpu: to_i32(size.cpu),
        memory: to_i32(size.memory),
        execution_role_arn: super::roles::execution_role_arn(settings, platform),
        task_role_arn: super::roles::task_role_arn(settings, platform),
        containers,
        proxy: networking.proxy,
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
    let networking = backend_of(platform).slot(settings, platform, slot);
    EcsServiceSpec {
        cluster: platform.cluster_name.clone(),
        name: names::ecs_service_name(&slot.name),
        task_definition: Ref::to(&slot.task_definition_key),
        desired_count: to_i32(settings.desired_count),
        desired_count_managed_by_autoscaling: settings.autoscaling.is_some(),
        capacity_provider_strategy: capacity_provider_strategy(settings.spot_percent),
        subnets: sorted(&settings.subnet_ids),
        security_groups: sorted(&settings.security_group_ids),
        registry: networking.registry,
        service_connect: networking.service_connect,
        circuit_breaker_rollback: true,
        minimum_healthy_percent: 100,
        maximum_percent: 200,
        deployment: deployment(settings, platform, slot),
        wait_for_steady_state: settings.wait_for_steady_state,
        load_balancer: None,
        tags: tags.clone(),
    }
}

/// How the slot's ECS service deploys: the stable slot with the
/// `deployment` block's strategy and, with `rollback_on_alarms`, its
/// error-rate and latency alarms (the ones that say a revision misbehaves;
/// high CPU may be load); a canary's candidate slot (App Mesh) rolls.
pub fn deployment(settings: &Settings, platform: &PlatformContext, slot: &Slot) -> DeploymentSpec {
    if slot.name != names::stable_slot(&settings.name) {
        return DeploymentSpec::default();
    }
    let d = &settings.deployment;
    DeploymentSpec {
        strategy: d.strategy,
        alarm_names: super::release_alarms::rollback_alarm_names(
            settings,
            &platform.platform_id,
            &operational_latency_what(settings, platform),
        ),
        rollback_on_alarms: d.rollback_on_alarms,
    }
}

/// The service's own request count as the backend's error rate reads it
/// (query id `requests`, one-minute Sum): what silence is judged on.
pub fn requests_query(settings: &Settings, platform: &PlatformContext) -> MetricQuerySpec {
    backend_of(platform)
        .metrics(settings, platform)
        .error_rate
        .into_iter()
        .find(|q| q.id == "requests")
        .expect("every backend's error rate reads a `requests` query")
}

/// The platform's load balancer when the service is behind it. Decided by
/// the settings alone, as the ingress components are: the graph of a
/// service's previous settings (with `ingress`) on a platform looked up
/// without it must still show the alarms it had (an empty load balancer
/// then, which only says they change).
pub fn alb_of(settings: &Settings, platform: &PlatformContext) -> Option<PlatformIngress> {
    settings
        .ingress
        .as_ref()
        .map(|_| platform.ingress.clone().unwrap_or_default())
}

/// The last part of the microservice's own latency alarm's name: a real
/// p95 behind the load balancer, else the backend's statistic.
pub fn operational_latency_what(settings: &Settings, platform: &PlatformContext) -> String {
    match alb_of(settings, platform) {
        Some(_) => super::ingress_alarms::LATENCY_WHAT.to_string(),
        None => latency_alarm_what(platform),
    }
}

/// The last part of the latency alarm's name: the statistic it reads
/// (`latency-average`), so that nobody takes the Average for a p95.
pub fn latency_alarm_what(platform: &PlatformContext) -> String {
    let stat = backend_of(platform).latency_stat();
    format!("latency-{}", stat.to_lowercase())
}

/// Error rate (metric math), p95 latency and CPU high, in that order. The
/// request metrics are the backend's.
pub fn alarms(
    settings: &Settings,
    platform: &PlatformContext,
    tags: &Tags,
) -> [MetricAlarmSpec; 3] {
    let metrics = backend_of(platform).metrics(settings, platform);
    let name = &settings.name;
    // Missing data is not breaching, deliberately: the request metrics have
    // no data point in a minute without requests, which is no failure; a
    // service without running tasks is caught by ECS's deployment circuit
    // breaker and shows as missing CPU data, not as an alarm.
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
    let error_rate = alarm(
        "error-rate",
        format!(
            "{name}: more than {}% of requests fail (5xx)",
            settings.alarms.error_rate_percent
        ),
        metrics.error_rate,
        settings.alarms.error_rate_percent,
    );
    let p95 = alarm(
        &latency_alarm_what(platform),
        format!(
            "{name}: latency ({} of each minute, p95_latency_ms) above {} ms",
            metrics.latency_stat, settings.alarms.p95_latency_ms
        ),
        vec![metrics.latency],
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
        vec![MetricQuerySpec {
            id: "cpu".to_string(),
            label: None,
            expression: None,
            metric: Some(MetricStatSpec {
                namespace: "AWS/ECS".to_string(),
                metric_name: "CPUUtilization".to_string(),
                dimensions: ecs_dims,
                period_seconds: ALARM_PERIOD_SECONDS,
                stat: "Average".to_string(),
            }),
            return_data: true,
        }],
        CPU_HIGH_PERCENT,
    );
    [error_rate, p95, cpu]
}

/// Requests, errors, latency, CPU and memory. Named with the region:
/// dashboards are global to the account.
pub fn dashboard(settings: &Settings, platform: &PlatformContext, tags: &Tags) -> DashboardSpec {
    let metrics = backend_of(platform).metrics(settings, platform);
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
    let latency_title = format!("Latency {} (ms)", metrics.latency_stat.to_lowercase());
    let mut widgets = vec![
        widget(0, 0, "Requests", vec![metrics.requests_line]),
        widget(12, 0, "Errors (5xx)", vec![metrics.errors_line]),
        widget(0, 6, &latency_title, vec![metrics.latency_line]),
        widget(
            12,
            6,
            "CPU and memory (%)",
            vec![ecs("CPUUtilization"), ecs("MemoryUtilization")],
        ),
    ];
    if let Some(alb) = alb_of(settings, platform) {
        widgets.extend(super::ingress_alarms::dashboard_widgets(
            &alb,
            &platform.region,
            12,
        ));
    }
    let body = serde_json::json!({ "widgets": widgets });
    DashboardSpec {
        name: names::dashboard_name(&platform.platform_id, &settings.name, &platform.region),
        body: body.to_string(),
        tags: tags.clone(),
    }
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
