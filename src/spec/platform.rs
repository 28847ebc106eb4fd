//! The shared objects of a `matbakh_platform`.

use super::reference::Ref;
use super::tags::Tags;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClusterSpec {
    pub name: String,
    pub container_insights: bool,
    /// `serviceConnectDefaults`: the namespace component whose ARN the
    /// cluster's Service Connect services join by default. Always the ARN:
    /// a namespace given by name makes ECS create one of that name when it
    /// finds none, which has duplicated namespaces for other tools.
    pub service_connect_namespace: Option<Ref>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MeshSpec {
    pub name: String,
    /// "DROP_ALL" or "ALLOW_ALL".
    pub egress_filter: String,
    pub tags: Tags,
}

/// Tag on a private DNS namespace recording its VPC: Cloud Map does not
/// report a namespace's VPC back, and both import and the lookup by name
/// and VPC need it.
pub const VPC_TAG: &str = "matbakh:vpc-id";

/// Which kind of Cloud Map namespace a platform has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NamespaceKind {
    /// API-only discovery (Service Connect): no VPC, no DNS zone.
    Http,
    /// A Route 53 private hosted zone in one VPC (App Mesh).
    PrivateDns,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NamespaceSpec {
    pub kind: NamespaceKind,
    pub name: String,
    /// The VPC of a private DNS namespace; empty for an HTTP namespace.
    pub vpc_id: String,
    pub description: String,
    pub tags: Tags,
}
