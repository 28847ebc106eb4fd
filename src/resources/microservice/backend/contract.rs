//! What a backend is: the [`MeshBackend`] trait, what it adds to a slot and
//! to the graph, the metrics it publishes, and how it refuses an argument.

use std::collections::BTreeMap;

use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::platform::PlatformContext;
use crate::resources::microservice::slot::Slot;
use crate::service_mesh::ServiceMesh;
use crate::spec::cloudwatch::MetricQuerySpec;
use crate::spec::ecs::{
    ContainerDependencySpec, ContainerHealthCheckSpec, ContainerSpec, EnvValue, NamedPortSpec,
    ProxyConfigurationSpec, ServiceConnectSpec,
};
use crate::spec::{Component, Ref, Tags};
use crate::validation::Problem;

/// What a backend adds to one slot's task definition and ECS service.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlotNetworking {
    /// The app container's port mapping name and protocol.
    pub app_port_name: Option<NamedPortSpec>,
    /// The app container's health check.
    pub app_health_check: Option<ContainerHealthCheckSpec>,
    /// Containers the app waits for.
    pub app_depends_on: Vec<ContainerDependencySpec>,
    /// Environment the app needs from the backend (none so far).
    pub app_environment: BTreeMap<String, EnvValue>,
    /// Sidecars besides the app and the ADOT collector (Envoy).
    pub sidecars: Vec<ContainerSpec>,
    pub proxy: Option<ProxyConfigurationSpec>,
    /// Environment of the ADOT collector, when tracing is on (App Mesh:
    /// the collector configuration that publishes the alarms' metrics).
    pub collector_environment: BTreeMap<String, EnvValue>,
    /// The collector's command line.
    pub collector_command: Vec<String>,
    /// The Cloud Map service the ECS service registers tasks in.
    pub registry: Option<Ref>,
    /// The ECS service's Service Connect configuration.
    pub service_connect: Option<ServiceConnectSpec>,
    /// Components the task definition waits for (App Mesh: the virtual
    /// node whose ARN Envoy reads).
    pub task_definition_after: Vec<String>,
    /// Components the ECS service waits for.
    pub service_after: Vec<String>,
}

/// The networking components of the stable slot, by where they go in the
/// graph: before the task definition, before the ECS service, after it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkingComponents {
    pub before_task_definition: Vec<Component>,
    pub before_service: Vec<Component>,
    pub after_service: Vec<Component>,
}

/// The metrics the alarms and dashboard read.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceMetrics {
    /// The error-rate alarm's queries; exactly one returns data, a
    /// percentage of failed (5xx) requests.
    pub error_rate: Vec<MetricQuerySpec>,
    /// The latency alarm's one query, milliseconds.
    pub latency: MetricQuerySpec,
    /// Dashboard metric lines (CloudWatch's `[namespace, name, dim, value,
    /// ..., {options}]`) for requests, errors and latency.
    pub requests_line: serde_json::Value,
    pub errors_line: serde_json::Value,
    pub latency_line: serde_json::Value,
    /// The statistic the latency alarm and widget use, for the widget title.
    pub latency_stat: String,
}

/// One backend.
pub trait MeshBackend: Sync {
    fn service_mesh(&self) -> ServiceMesh;

    /// Problems with arguments that have no meaning on this backend, or
    /// values it cannot take, each naming the attribute and the backend.
    fn refused(&self, config: &MicroserviceConfig) -> Vec<Problem>;

    /// The stable slot's networking components.
    fn components(
        &self,
        settings: &Settings,
        platform: &PlatformContext,
        slot: &Slot,
        tags: &Tags,
    ) -> NetworkingComponents;

    /// What the backend adds to a slot's task definition and ECS service.
    fn slot(&self, settings: &Settings, platform: &PlatformContext, slot: &Slot) -> SlotNetworking;

    fn metrics(&self, settings: &Settings, platform: &PlatformContext) -> ServiceMetrics;
}

/// "`path` has no meaning on BACKEND" at `path`.
pub(crate) fn refuse(path: &str, mesh: ServiceMesh, why: &str) -> Problem {
    let attribute = path.split('.').next().unwrap_or(path);
    Problem::at(
        path,
        format!("{attribute} is not available on {}", mesh.name()),
        format!(
            "{path} has no meaning with service_mesh = \"{}\": {why}",
            mesh.name()
        ),
    )
}
