//! Recovering a microservice's arguments from the AWS objects it consists
//! of: the inverse of the expansion. Pure (the reading is in
//! [`super::read_back`]); used by `terraform import` and by a canary that
//! builds its candidate with the stable service's settings.
//!
//! [`recover`] gives every argument explicitly, so the result does not
//! depend on the provider's environment; [`without_defaults`] leaves out
//! what the contract's defaults give anyway, which is what an imported state
//! must hold for a configuration that omits its defaults to plan no changes.
//!
//! Where two objects carry the same setting, one is the source: the port,
//! image and sizes come from the task definition, health check, timeouts,
//! circuit breaker, TLS and backends from the virtual node (timeouts from
//! the route when the node is missing), the retry policy from the route.

use crate::spec::iam::RoleSpec;
use std::collections::BTreeMap;

use tf_provider::schema::{AttributeConstraint, NestedBlock};

use super::backend::service_connect::default_health_check_command;
use super::config::{MicroserviceConfig, Settings, TracingConfig};
use super::expand::{
    self, keys, PlatformContext, Slot, ADOT_CONTAINER, APP_CONTAINER, ENVOY_CONTAINER,
};
use super::names;
use crate::environment::Environment;
use crate::service_mesh::ServiceMesh;
use crate::spec::appmesh::{RouteSpec, VirtualNodeSpec, VirtualRouterSpec, VirtualServiceSpec};
use crate::spec::autoscaling::{ScalableTargetSpec, ScalingPolicySpec};
use crate::spec::cloudmap::{DiscoveryServiceSpec, ServiceConnectDiscoverySpec};
use crate::spec::cloudwatch::{DashboardSpec, MetricAlarmSpec};
use crate::spec::ecs::{
    CapacityProviderSpec, ContainerSpec, EcsServiceSpec, EnvValue, TaskDefinitionSpec,
};
use crate::spec::logs::LogGroupSpec;
use crate::spec::{DesiredGraph, Spec, Tags};
use crate::tf::value::Value;

/// Environment variables the expansion writes, read back for the settings
/// they carry (see `expand::task_definition`).
const ENVOY_LOG_LEVEL_VAR: &str = "ENVOY_LOG_LEVEL";
const SAMPLING_RATE_VARS: [(&str, &str); 3] = [
    (ENVOY_CONTAINER, "XRAY_SAMPLING_RATE"),
    (ADOT_CONTAINER, "MATBAKH_TRACE_SAMPLING_RATE"),
    (APP_CONTAINER, "OTEL_TRACES_SAMPLER_ARG"),
];

/// What exists in AWS of each component of a microservice (its stable
/// slot), as read back: `None` where nothing was found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedGraph {
    pub log_group: Option<LogGroupSpec>,
    pub task_definition: Option<TaskDefinitionSpec>,
    pub discovery_service: Option<DiscoveryServiceSpec>,
    /// Service Connect: the Cloud Map service ECS created.
    pub service_connect_discovery: Option<ServiceConnectDiscoverySpec>,
    pub virtual_node: Option<VirtualNodeSpec>,
    pub virtual_router: Option<VirtualRouterSpec>,
    pub route: Option<RouteSpec>,
    pub virtual_service: Option<VirtualServiceSpec>,
    pub service: Option<EcsServiceSpec>,
    pub scaling_target: Option<ScalableTargetSpec>,
    pub scaling_policy_cpu: Option<ScalingPolicySpec>,
    pub scaling_policy_memory: Option<ScalingPolicySpec>,
    pub scaling_policy_requests: Option<ScalingPolicySpec>,
    pub alarm_error_rate: Option<MetricAlarmSpec>,
    pub alarm_p95_latency: Option<MetricAlarmSpec>,
    pub alarm_cpu: Option<MetricAlarmSpec>,
    pub dashboard: Option<DashboardSpec>,
    pub execution_role: Option<RoleSpec>,
    pub task_role: Option<RoleSpec>,
    pub tls_role: Option<RoleSpec>,
    /// `ingress`: the blue target group and the production rule.
    pub ingress_target_group: Option<crate::spec::elbv2::TargetGroupSpec>,
    pub ingress_rule: Option<crate::spec::elbv2::ListenerRuleSpec>,
}

impl ObservedGraph {
    /// Store `spec` as component `key`. False, and nothing stored, for a key
    /// that is no component of the stable slot or a spec of another kind.
    pub fn insert(&mut self, key: &str, spec: Spec) -> bool {
        use keys::*;
        match (key, spec) {
            (LOG_GROUP, Spec::LogGroup(s)) => self.log_group = Some(s),
            (TASK_DEFINITION, Spec::TaskDefinition(s)) => self.task_definition = Some(s),
            (DISCOVERY_SERVICE, Spec::DiscoveryService(s)) => self.discovery_service = Some(s),
            (DISCOVERY_SERVICE, Spec::ServiceConnectDiscovery(s)) => {
                self.service_connect_discovery = Some(s)
            }
            (VIRTUAL_NODE, Spec::VirtualNode(s)) => self.virtual_node = Some(s),
            (VIRTUAL_ROUTER, Spec::VirtualRouter(s)) => self.virtual_router = Some(s),
            (ROUTE, Spec::Route(s)) => self.route = Some(s),
            (VIRTUAL_SERVICE, Spec::VirtualService(s)) => self.virtual_service = Some(s),
            (SERVICE, Spec::EcsService(s)) => self.service = Some(s),
            (SCALING_TARGET, Spec::ScalableTarget(s)) => self.scaling_target = Some(s),
            (SCALING_POLICY_CPU, Spec::ScalingPolicy(s)) => self.scaling_policy_cpu = Some(s),
            (SCALING_POLICY_MEMORY, Spec::ScalingPolicy(s)) => self.scaling_policy_memory = Some(s),
            (SCALING_POLICY_REQUESTS, Spec::ScalingPolicy(s)) => {
                self.scaling_policy_requests = Some(s)
            }
            (ALARM_ERROR_RATE, Spec::MetricAlarm(s)) => self.alarm_error_rate = Some(s),
            (ALARM_P95_LATENCY, Spec::MetricAlarm(s)) => self.alarm_p95_latency = Some(s),
            (ALARM_CPU, Spec::MetricAlarm(s)) => self.alarm_cpu = Some(s),
            (DASHBOARD, Spec::Dashboard(s)) => self.dashboard = Some(s),
            (super::roles::EXECUTION_ROLE, Spec::Role(s)) => self.execution_role = Some(s),
            (super::roles::TASK_ROLE, Spec::Role(s)) => self.task_role = Some(s),
            (super::roles::TLS_ROLE, Spec::Role(s)) => self.tls_role = Some(s),
            (super::ingress_components::keys::TARGET_GROUP_BLUE, Spec::TargetGroup(s)) => {
                self.ingress_target_group = Some(s)
            }
            (super::ingress_components::keys::RULE, Spec::ListenerRule(s)) => {
                self.ingress_rule = Some(s)
            }
            _ => return false,
        }
        true
    }

    /// The graph as if read back from AWS exactly as `graph` describes it.
    pub fn from_graph(graph: &DesiredGraph) -> ObservedGraph {
        let mut observed = ObservedGraph::default();
        for c in &graph.components {
            observed.insert(&c.key, c.spec.clone());
        }
        observed
    }
}

/// The arguments of microservice `name` on `platform` that expand into the
/// `observed` graph, as a Terraform object shaped like the resource's state
/// (every argument by name, blocks as lists of one object, `timeouts`,
/// `tls` and `autoscaling` as empty lists when absent).
///
/// Every argument is written out, so resolving the result gives the same
/// settings in any environment. What AWS does not hold gets its default:
/// `wait_for_steady_state` is true; `tracing.sampling_rate` is null (the
/// environment's) when tracing is off; `log_retention_days` is null when
/// the log group is missing or never expires; the arguments of a missing
/// object (say the virtual node's health check) are null, so they take
/// their defaults. The task definition and the ECS service must exist.
pub fn recover(
    platform: &PlatformContext,
    name: &str,
    observed: &ObservedGraph,
) -> Result<Value, String> {
    let missing = |what: &str| {
        format!("cannot recover the arguments of microservice {name}: its {what} was not found")
    };
    let td = observed
        .task_definition
        .as_ref()
        .ok_or_else(|| missing("task definition"))?;
    let service = observed
        .service
        .as_ref()
        .ok_or_else(|| missing("ECS service"))?;
    let container = |n: &str| td.containers.iter().find(|c| c.name == n);
    let app = container(APP_CONTAINER).ok_or_else(|| {
        format!(
            "task definition {} has no container named {APP_CONTAINER:?}: it was not made by matbakh_microservice",
            td.family
        )
    })?;
    let envoy = container(ENVOY_CONTAINER);
    let node = observed.virtual_node.as_ref();
    let route = observed.route.as_ref();

    let port = app
        .ports
        .first()
        .copied()
        .or(node.map(|n| n.port))
        .or(observed.virtual_router.as_ref().map(|r| r.port))
        .ok_or_else(|| {
            format!(
                "task definition {} names no port of container {APP_CONTAINER:?}",
                td.family
            )
        })?;
    let tracing_enabled = container(ADOT_CONTAINER).is_some();
    let sampling_rate = if tracing_enabled {
        SAMPLING_RATE_VARS.iter().find_map(|(c, var)| {
            text(container(c)?.environment.get(*var)?)?
                .parse::<f64>()
                .ok()
        })
    } else {
        None
    };
    let environment_variables = user_environment(
        platform,
        name,
        app,
        tracing_enabled.then_some(sampling_rate),
    );

    let mut args = Value::Null;
    args.set("platform", platform.platform_id.as_str().into());
    args.set("name", name.into());
    args.set("image", app.image.as_str().into());
    args.set("port", i64::from(port).into());
    args.set("cpu", i64::from(app.cpu).into());
    args.set("memory", i64::from(app.memory).into());
    args.set("desired_count", i64::from(service.desired_count).into());
    args.set("subnet_ids", strings(&service.subnets));
    args.set(
        "security_group_ids",
        optional_strings(&service.security_groups),
    );
    // A role the provider made is an omitted argument.
    let made = |arn: &str, role_name: String| arn == super::roles::role_arn(platform, &role_name);
    let given = |arn: Option<&str>, role_name: String| {
        arn.filter(|arn| !made(arn, role_name)).map(str::to_string)
    };
    args.set(
        "execution_role_arn",
        given(
            Some(&td.execution_role_arn),
            super::roles::execution_role_name(&platform.platform_id, &platform.region, name),
        )
        .into(),
    );
    args.set(
        "task_role_arn",
        given(
            td.task_role_arn.as_deref(),
            super::roles::task_role_name(&platform.platform_id, &platform.region, name),
        )
        .into(),
    );
    // These live only in the made roles' policies: read back from there
    // (a given role holds none of them), so the same configuration plans
    // no change after an import.
    let from_roles = super::roles::role_arguments(
        observed.execution_role.as_ref(),
        observed.task_role.as_ref(),
    );
    args.set(
        "secrets_kms_key_arns",
        optional_strings(&from_roles.secrets_kms_key_arns),
    );
    args.set("task_policy_json", from_roles.task_policy_json.into());
    args.set(
        "task_policy_arns",
        optional_strings(&from_roles.task_policy_arns),
    );
    args.set(
        "environment_variables",
        optional_map(&environment_variables),
    );
    args.set("secrets", optional_map(&app.secrets));
    args.set(
        "backends",
        optional_strings(&backends(platform, node.map(|n| n.backends.as_slice()))),
    );
    args.set(
        "spot_percent",
        spot_percent(&service.capacity_provider_strategy).into(),
    );
    args.set(
        "tags",
        optional_map(&crate::resources::tags::recover_tags(
            &service.tags,
            &platform.tags,
        )),
    );

    if platform.service_mesh == ServiceMesh::ServiceConnect {
        let made_tls_role = super::roles::role_arn(
            platform,
            &super::roles::tls_role_name(&platform.platform_id, &platform.region, name),
        );
        recover_service_connect(&mut args, app, service, port, &made_tls_role);
    } else {
        let hc = node.map(|n| &n.health_check);
        args.set(
            "health_check",
            block([
                ("path", hc.map(|h| h.path.as_str()).into()),
                ("interval", hc.map(|h| duration(h.interval_ms)).into()),
                ("timeout", hc.map(|h| duration(h.timeout_ms)).into()),
                (
                    "unhealthy_threshold",
                    hc.map(|h| i64::from(h.unhealthy_threshold)).into(),
                ),
                (
                    "healthy_threshold",
                    hc.map(|h| i64::from(h.healthy_threshold)).into(),
                ),
            ]),
        );
        let retry = route.map(|r| &r.retry);
        args.set(
            "retry",
            block([
                ("max_retries", retry.map(|r| r.max_retries).into()),
                (
                    "per_try_timeout",
                    retry.map(|r| duration(r.per_try_timeout_ms)).into(),
                ),
                // An empty list is no retry on such events; null would be the default.
                ("http_events", retry.map(|r| strings(&r.http_events)).into()),
                ("tcp_events", retry.map(|r| strings(&r.tcp_events)).into()),
            ]),
        );
        let timeout = node.map(|n| &n.timeout).or(route.map(|r| &r.timeout));
        args.set(
            "timeout",
            block([
                (
                    "per_request",
                    timeout.map(|t| duration(t.per_request_ms)).into(),
                ),
                ("idle", timeout.map(|t| duration(t.idle_ms)).into()),
            ]),
        );
        let od = node.map(|n| &n.outlier_detection);
        let pool = node.map(|n| &n.connection_pool);
        args.set(
            "circuit_breaker",
            block([
                ("max_server_errors", od.map(|o| o.max_server_errors).into()),
                ("interval", od.map(|o| duration(o.interval_ms)).into()),
                (
                    "base_ejection",
                    od.map(|o| duration(o.base_ejection_ms)).into(),
                ),
                (
                    "max_ejection_percent",
                    od.map(|o| i64::from(o.max_ejection_percent)).into(),
                ),
                (
                    "max_connections",
                    pool.map(|p| i64::from(p.max_connections)).into(),
                ),
                (
                    "max_pending_requests",
                    pool.map(|p| i64::from(p.max_pending_requests)).into(),
                ),
            ]),
        );
        args.set(
            "tls",
            match node.and_then(|n| n.tls.as_ref()) {
                Some(tls) => block([(
                    "certificate_authority_arns",
                    strings(&tls.certificate_authority_arns),
                )]),
                None => Value::List(vec![]),
            },
        );
        args.set(
            "envoy",
            block([
                ("cpu", envoy.map(|e| i64::from(e.cpu)).into()),
                ("memory", envoy.map(|e| i64::from(e.memory)).into()),
                (
                    "log_level",
                    envoy
                        .and_then(|e| text(e.environment.get(ENVOY_LOG_LEVEL_VAR)?))
                        .into(),
                ),
                ("image", envoy.map(|e| e.image.as_str()).into()),
            ]),
        );
    }
    args.set(
        "tracing",
        block([
            ("enabled", tracing_enabled.into()),
            ("sampling_rate", sampling_rate.into()),
            (
                "image",
                container(ADOT_CONTAINER).map(|c| c.image.as_str()).into(),
            ),
        ]),
    );
    args.set(
        "autoscaling",
        match &observed.scaling_target {
            Some(target) => {
                let target_of = |p: &Option<ScalingPolicySpec>| -> Value {
                    p.as_ref().map(|p| p.target_value.round() as i64).into()
                };
                block([
                    ("min_count", i64::from(target.min_capacity).into()),
                    ("max_count", i64::from(target.max_capacity).into()),
                    ("cpu_target", target_of(&observed.scaling_policy_cpu)),
                    ("memory_target", target_of(&observed.scaling_policy_memory)),
                    (
                        "requests_per_target",
                        target_of(&observed.scaling_policy_requests),
                    ),
                ])
            }
            None => Value::List(vec![]),
        },
    );
    let actions = [
        &observed.alarm_error_rate,
        &observed.alarm_p95_latency,
        &observed.alarm_cpu,
    ]
    .into_iter()
    .find_map(|a| a.as_ref())
    .map(|a| a.actions.clone())
    .unwrap_or_default();
    args.set(
        "alarms",
        block([
            (
                "error_rate_percent",
                observed
                    .alarm_error_rate
                    .as_ref()
                    .map(|a| a.threshold)
                    .into(),
            ),
            (
                "p95_latency_ms",
                observed
                    .alarm_p95_latency
                    .as_ref()
                    .map(|a| a.threshold)
                    .into(),
            ),
            ("actions", optional_strings(&actions)),
        ]),
    );
    args.set("deployment", deployment_arguments(&service.deployment));
    let health_check_path = args
        .block("health_check")
        .get("path")
        .as_str()
        .unwrap_or(super::config::DEFAULT_HEALTH_CHECK_PATH)
        .to_string();
    // What an import records; a read keeps the configured block
    // (`NOT_IN_AWS` in resource.rs): drift of its objects shows as theirs.
    args.set(
        "ingress",
        super::ingress_components::recovered_arguments(
            platform,
            name,
            service.load_balancer.is_some(),
            observed.ingress_rule.as_ref(),
            observed.ingress_target_group.as_ref(),
            &health_check_path,
        ),
    );
    args.set("dashboard", observed.dashboard.is_some().into());
    args.set(
        "log_retention_days",
        observed
            .log_group
            .as_ref()
            .filter(|g| g.retention_days > 0)
            .map(|g| i64::from(g.retention_days))
            .into(),
    );
    args.set("wait_for_steady_state", true.into());
    args.set("timeouts", Value::List(vec![]));
    Ok(args)
}

/// The Service Connect backend's arguments: the health check from the app
/// container's, timeouts and TLS from the ECS service's Service Connect
/// configuration (read from its deployments); no retry, circuit breaker or
/// Envoy, which this backend refuses.
fn recover_service_connect(
    args: &mut Value,
    app: &ContainerSpec,
    service: &EcsServiceSpec,
    port: i32,
    made_tls_role: &str,
) {
    let hc = app.health_check.as_ref();
    // The shell command: the default one gives back its path; any other is
    // the user's `command`.
    let shell = hc.and_then(|h| match h.command.as_slice() {
        [kind, command] if kind == "CMD-SHELL" => Some(command.as_str()),
        _ => None,
    });
    let default_path = shell.and_then(|c| {
        let prefix = default_health_check_command(i64::from(port), "\u{0}");
        let (head, tail) = prefix.split_once('\u{0}')?;
        c.strip_prefix(head)?.strip_suffix(tail).map(str::to_string)
    });
    let command = match (&default_path, shell) {
        (None, Some(c)) => Some(c.to_string()),
        _ => None,
    };
    args.set(
        "health_check",
        block([
            ("path", default_path.into()),
            (
                "interval",
                hc.map(|h| format!("{}s", h.interval_seconds)).into(),
            ),
            (
                "timeout",
                hc.map(|h| format!("{}s", h.timeout_seconds)).into(),
            ),
            (
                "unhealthy_threshold",
                hc.map(|h| i64::from(h.retries)).into(),
            ),
            ("healthy_threshold", Value::Null),
            ("command", command.into()),
        ]),
    );
    let sc = service.service_connect.as_ref();
    args.set(
        "timeout",
        block([
            (
                "per_request",
                sc.map(|s| format!("{}s", s.per_request_timeout_seconds))
                    .into(),
            ),
            (
                "idle",
                sc.map(|s| format!("{}s", s.idle_timeout_seconds)).into(),
            ),
        ]),
    );
    args.set(
        "tls",
        match sc.and_then(|s| s.tls.as_ref()) {
            Some(tls) => block([
                (
                    "certificate_authority_arns",
                    strings(std::slice::from_ref(&tls.certificate_authority_arn)),
                ),
                // The made role is an omitted argument.
                (
                    "role_arn",
                    Some(tls.role_arn.as_str())
                        .filter(|arn| *arn != made_tls_role)
                        .into(),
                ),
            ]),
            None => Value::List(vec![]),
        },
    );
    for refused in ["retry", "circuit_breaker", "envoy"] {
        args.set(refused, Value::List(vec![]));
    }
}

/// `arguments` with what the contract's defaults (in `env`) give anyway left
/// out: optional arguments that resolve to their default are null, blocks
/// that hold only defaults are absent. Arguments whose default the plan
/// fills in (`cpu`, `spot_percent`, ...) stay, since Terraform keeps them
/// when the configuration omits them. The result resolves to the same
/// settings as `arguments`, and a configuration that leaves its defaults out
/// plans no changes against it.
pub fn without_defaults(arguments: &Value, env: Environment, mesh: ServiceMesh) -> Value {
    let resolve = |v: &Value| {
        MicroserviceConfig::from_value(&v.to_json())
            .ok()
            .map(|c| Settings::resolve_unchecked(&c, env).on(mesh))
    };
    let wanted = resolve(arguments);
    let mut out = arguments.clone();
    let mut keep_if_same = |edit: &dyn Fn(&mut Value)| {
        let mut trial = out.clone();
        edit(&mut trial);
        if resolve(&trial) == wanted {
            out = trial;
        }
    };
    let schema = super::schema::schema().block;
    for (name, attribute) in &schema.attributes {
        if attribute.constraint == AttributeConstraint::Optional {
            keep_if_same(&|v| v.set(name, Value::Null));
        }
    }
    for (name, nested) in &schema.blocks {
        let NestedBlock::Optional(inner) = nested else {
            continue;
        };
        for (attribute_name, attribute) in &inner.attributes {
            if attribute.constraint == AttributeConstraint::Optional {
                keep_if_same(&|v| set_in_block(v, name, attribute_name, Value::Null));
            }
        }
        keep_if_same(&|v| v.set(name, Value::List(vec![])));
    }
    out
}

/// The application's own environment variables: its environment less what
/// tracing adds (`sampling_rate` is `Some` when tracing is on). A variable
/// the user set to exactly what tracing would have set is indistinguishable
/// and left out; the expansion is the same either way.
fn user_environment(
    platform: &PlatformContext,
    name: &str,
    app: &ContainerSpec,
    sampling_rate: Option<Option<f64>>,
) -> BTreeMap<String, String> {
    let hints = match sampling_rate {
        Some(rate) => tracing_hints(platform, name, rate),
        None => BTreeMap::new(),
    };
    app.environment
        .iter()
        .filter(|(k, v)| hints.get(*k) != Some(*v))
        .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
        .collect()
}

/// The variables tracing gives the application container: the environment
/// of an expansion with tracing on and no variables of its own.
fn tracing_hints(
    platform: &PlatformContext,
    name: &str,
    sampling_rate: Option<f64>,
) -> BTreeMap<String, EnvValue> {
    let config = MicroserviceConfig {
        platform: Some(platform.platform_id.clone()),
        name: Some(name.to_string()),
        tracing: Some(TracingConfig {
            enabled: Some(true),
            sampling_rate,
            ..Default::default()
        }),
        ..Default::default()
    };
    let settings =
        Settings::resolve_unchecked(&config, platform.environment).on(platform.service_mesh);
    expand::task_definition(&settings, platform, &Slot::stable(&settings), &Tags::new())
        .containers
        .into_iter()
        .find(|c| c.name == APP_CONTAINER)
        .map(|c| c.environment)
        .unwrap_or_default()
}

/// Backend service names from virtual service names (`NAME.NAMESPACE`).
fn backends(platform: &PlatformContext, virtual_services: Option<&[String]>) -> Vec<String> {
    let mut out: Vec<String> = virtual_services
        .unwrap_or_default()
        .iter()
        .map(|vs| {
            let suffix = names::virtual_service_name("", &platform.namespace_name);
            vs.strip_suffix(&suffix).unwrap_or(vs).to_string()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The FARGATE_SPOT share of a capacity provider strategy, percent.
fn spot_percent(strategy: &[CapacityProviderSpec]) -> i64 {
    let total: i64 = strategy.iter().map(|c| i64::from(c.weight)).sum();
    let spot: i64 = strategy
        .iter()
        .filter(|c| c.provider == "FARGATE_SPOT")
        .map(|c| i64::from(c.weight))
        .sum();
    if total <= 0 {
        0
    } else {
        (spot * 100 + total / 2) / total
    }
}

/// A duration as the configuration writes it: whole seconds in `s`,
/// anything else in `ms`.
fn duration(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn text(value: &EnvValue) -> Option<String> {
    match value {
        EnvValue::Text(t) => Some(t.clone()),
        EnvValue::Component { .. } => None,
    }
}

fn strings(list: &[String]) -> Value {
    Value::List(list.iter().map(Value::str).collect())
}

/// Null for an empty list: what the state holds for an omitted argument.
fn optional_strings(list: &[String]) -> Value {
    if list.is_empty() {
        Value::Null
    } else {
        strings(list)
    }
}

fn optional_map(map: &BTreeMap<String, String>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), Value::str(v)))
                .collect(),
        )
    }
}

/// A nested block as state holds it: a list of one object.
/// The `deployment` block of what the ECS service deploys with.
fn deployment_arguments(d: &crate::spec::deployment_strategy::DeploymentSpec) -> Value {
    use crate::spec::deployment_strategy::DeploymentStrategy as S;
    let percent = |tenths: u32| -> Value {
        if tenths.is_multiple_of(10) {
            i64::from(tenths / 10).into()
        } else {
            (f64::from(tenths) / 10.0).into()
        }
    };
    let minutes = |m: u32| Value::from(format!("{m}m"));
    let (strategy, canary, step, bake) = match d.strategy {
        S::Rolling => ("rolling", Value::Null, Value::Null, Value::Null),
        S::Canary {
            percent_tenths,
            canary_bake_minutes,
            ..
        } => (
            "canary",
            percent(percent_tenths),
            Value::Null,
            minutes(canary_bake_minutes),
        ),
        S::Linear {
            step_percent_tenths,
            step_bake_minutes,
            ..
        } => (
            "linear",
            Value::Null,
            percent(step_percent_tenths),
            minutes(step_bake_minutes),
        ),
        S::BlueGreen { bake_minutes } => (
            "blue_green",
            Value::Null,
            Value::Null,
            minutes(bake_minutes),
        ),
    };
    block([
        ("strategy", strategy.into()),
        ("canary_percent", canary),
        ("step_percent", step),
        ("bake_time", bake),
        ("rollback_on_alarms", d.rollback_on_alarms.into()),
        // Not held by ECS (a read keeps the configured value; see
        // `resource::recover`).
        ("min_requests", Value::Null),
    ])
}

fn block<const N: usize>(attributes: [(&str, Value); N]) -> Value {
    Value::List(vec![Value::Map(
        attributes
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )])
}

fn set_in_block(state: &mut Value, block: &str, attribute: &str, value: Value) {
    if let Value::Map(m) = state {
        if let Some(Value::List(items)) = m.get_mut(block) {
            if let Some(object) = items.first_mut() {
                object.set(attribute, value);
            }
        }
    }
}

#[cfg(test)]
#[path = "recover_tests.rs"]
mod tests;
