//! Amazon ECS objects of a microservice: the task definition and the service.
//!
//! Both are written for a *slot*: the stable service or, later, a canary's
//! candidate (`NAME-canary`), so the same structs describe either.

use std::collections::BTreeMap;

use super::reference::Ref;
use super::tags::Tags;

/// A Fargate task definition (network mode awsvpc). Immutable on AWS: a
/// change registers a new revision.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TaskDefinitionSpec {
    pub family: String,
    /// Task CPU units, a valid Fargate size.
    pub cpu: i32,
    /// Task memory, MiB, valid for `cpu`.
    pub memory: i32,
    pub execution_role_arn: String,
    pub task_role_arn: Option<String>,
    pub containers: Vec<ContainerSpec>,
    /// The App Mesh proxy configuration (Envoy intercepts the app's traffic).
    pub proxy: Option<ProxyConfigurationSpec>,
    pub tags: Tags,
}

/// A value of a container's environment: literal text, or the id another
/// component of the graph got (Envoy's `APPMESH_RESOURCE_ARN`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum EnvValue {
    Text(String),
    Component { of: Ref },
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub cpu: i32,
    /// Hard memory limit, MiB.
    pub memory: i32,
    pub essential: bool,
    /// Container ports (TCP) the task exposes.
    pub ports: Vec<i32>,
    /// The name and application protocol of the first port's mapping, which
    /// Service Connect refers to (`portName`) and reads (`appProtocol`).
    /// Left out of the serialised spec when absent, so the spec hash of
    /// task definitions registered before it existed stays the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_name: Option<NamedPortSpec>,
    pub environment: BTreeMap<String, EnvValue>,
    /// Variable name to Secrets Manager / SSM parameter ARN (`valueFrom`).
    pub secrets: BTreeMap<String, String>,
    /// `uid` or `uid:gid`; `None` leaves the image's user.
    pub user: Option<String>,
    pub read_only_root_filesystem: bool,
    pub command: Vec<String>,
    pub log: AwsLogsSpec,
    pub health_check: Option<ContainerHealthCheckSpec>,
    /// Containers this one waits for, with the condition (`HEALTHY`, `START`).
    pub depends_on: Vec<ContainerDependencySpec>,
}

/// A port mapping's `name` and `appProtocol` (`http`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NamedPortSpec {
    pub name: String,
    pub app_protocol: String,
}

/// The awslogs log driver's options.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AwsLogsSpec {
    pub group: String,
    pub region: String,
    pub stream_prefix: String,
}

/// A Docker health check run by the ECS agent.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ContainerHealthCheckSpec {
    pub command: Vec<String>,
    pub interval_seconds: i32,
    pub timeout_seconds: i32,
    pub retries: i32,
    pub start_period_seconds: i32,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ContainerDependencySpec {
    pub container: String,
    pub condition: String,
}

/// `proxyConfiguration` of type APPMESH.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ProxyConfigurationSpec {
    pub container_name: String,
    /// IgnoredUID, ProxyIngressPort, ProxyEgressPort, AppPorts,
    /// EgressIgnoredIPs, as ECS names them.
    pub properties: BTreeMap<String, String>,
}

/// An ECS service on Fargate capacity providers.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EcsServiceSpec {
    pub cluster: String,
    pub name: String,
    /// The task definition revision to run (its ARN).
    pub task_definition: Ref,
    pub desired_count: i32,
    /// True when Application Auto Scaling owns the desired count: it is then
    /// only the initial count and never compared or updated afterwards.
    pub desired_count_managed_by_autoscaling: bool,
    /// FARGATE / FARGATE_SPOT with weights; zero weights are left out.
    pub capacity_provider_strategy: Vec<CapacityProviderSpec>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// The Cloud Map service tasks register in (its `srv-` id): App Mesh.
    pub registry: Option<Ref>,
    /// ECS Service Connect: the service's endpoint in the namespace.
    pub service_connect: Option<ServiceConnectSpec>,
    /// The deployment circuit breaker with rollback, sent with rolling
    /// deployments only (AWS gives it to no other strategy).
    pub circuit_breaker_rollback: bool,
    pub minimum_healthy_percent: i32,
    pub maximum_percent: i32,
    /// Strategy (ROLLING, CANARY, LINEAR, BLUE_GREEN) and rollback alarms.
    pub deployment: crate::spec::deployment_strategy::DeploymentSpec,
    /// Wait, after create and update, for the deployment to finish.
    pub wait_for_steady_state: bool,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CapacityProviderSpec {
    pub provider: String,
    pub weight: i32,
    pub base: i32,
}

/// `serviceConnectConfiguration` of an ECS service: one endpoint, in the
/// platform's namespace (by ARN), named after the service.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ServiceConnectSpec {
    /// The Cloud Map namespace's ARN.
    pub namespace_arn: String,
    /// The task definition port mapping's name.
    pub port_name: String,
    /// The Cloud Map service ECS creates (`NAME`).
    pub discovery_name: String,
    /// The one client alias: `NAME.NAMESPACE` on `port`.
    pub dns_name: String,
    pub port: i32,
    /// Whole seconds, as ECS takes them.
    pub per_request_timeout_seconds: i32,
    pub idle_timeout_seconds: i32,
    pub tls: Option<ServiceConnectTlsSpec>,
    /// The Service Connect proxy's logs (awslogs).
    pub log: AwsLogsSpec,
}

/// Service Connect TLS: one AWS Private CA and the role ECS uses with it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ServiceConnectTlsSpec {
    pub certificate_authority_arn: String,
    pub role_arn: String,
}
