//! The shared objects of a `matbakh_platform`.

use super::Tags;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClusterSpec {
    pub name: String,
    pub container_insights: bool,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MeshSpec {
    pub name: String,
    /// "DROP_ALL" or "ALLOW_ALL".
    pub egress_filter: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NamespaceSpec {
    pub name: String,
    pub vpc_id: String,
    pub description: String,
    pub tags: Tags,
}
