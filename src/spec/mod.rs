//! Desired AWS objects: plain data describing *what* should exist.
//!
//! An expansion (`resources::*::expand`) turns a resource's configuration into
//! a [`DesiredGraph`] of these, without any I/O. The adapters in `crate::aws`
//! know *how* to create, observe, update and delete each kind.

pub mod appmesh;
pub mod autoscaling;
pub mod budgets;
pub mod cloudmap;
pub mod cloudwatch;
pub mod deployment_strategy;
pub mod ec2;
pub mod ecs;
pub mod elbv2;
pub mod iam;
pub mod identity;
pub mod logs;
pub mod ownership;
pub mod platform;
mod reference;
mod tags;

pub use reference::Ref;
pub use tags::{Tags, AWS_TAG_PREFIX, CANARY_TAG, OWNER_TAG, PROVIDER_TAG_PREFIX};

/// One AWS object a resource is made of.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Spec {
    Cluster(platform::ClusterSpec),
    Mesh(platform::MeshSpec),
    Namespace(platform::NamespaceSpec),
    LogGroup(logs::LogGroupSpec),
    TaskDefinition(ecs::TaskDefinitionSpec),
    EcsService(ecs::EcsServiceSpec),
    DiscoveryService(cloudmap::DiscoveryServiceSpec),
    ServiceConnectDiscovery(cloudmap::ServiceConnectDiscoverySpec),
    VirtualNode(appmesh::VirtualNodeSpec),
    VirtualRouter(appmesh::VirtualRouterSpec),
    Route(appmesh::RouteSpec),
    VirtualService(appmesh::VirtualServiceSpec),
    ScalableTarget(autoscaling::ScalableTargetSpec),
    ScalingPolicy(autoscaling::ScalingPolicySpec),
    MetricAlarm(cloudwatch::MetricAlarmSpec),
    Dashboard(cloudwatch::DashboardSpec),
    LoadBalancer(elbv2::LoadBalancerSpec),
    Listener(elbv2::ListenerSpec),
    TargetGroup(elbv2::TargetGroupSpec),
    ListenerRule(elbv2::ListenerRuleSpec),
    SecurityGroup(ec2::SecurityGroupSpec),
    Role(iam::RoleSpec),
    Budget(budgets::BudgetSpec),
}

/// A node of the graph: a stable key (what `components` in state is keyed
/// by), the keys it depends on, and the object itself.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Component {
    pub key: String,
    pub depends_on: Vec<String>,
    pub spec: Spec,
}

impl Component {
    pub fn new(key: impl Into<String>, spec: Spec) -> Self {
        Component {
            key: key.into(),
            depends_on: Vec::new(),
            spec,
        }
    }

    pub fn after(mut self, keys: &[&str]) -> Self {
        self.depends_on.extend(keys.iter().map(|k| k.to_string()));
        self
    }
}

/// Everything one resource should consist of.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct DesiredGraph {
    pub components: Vec<Component>,
}

impl DesiredGraph {
    pub fn get(&self, key: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.key == key)
    }

    pub fn push(&mut self, component: Component) {
        self.components.push(component);
    }
}
