//! What the unit tests of expansions share: the platform they expand onto.

use super::expand::PlatformContext;
use crate::environment::Environment;
use crate::service_mesh::ServiceMesh;

/// The platform `matbakh` in eu-central-1 with `project = matbakh` default
/// tags, on App Mesh (what most expansion tests were written against).
pub fn platform(environment: Environment) -> PlatformContext {
    platform_on(environment, ServiceMesh::AppMesh)
}

/// The same platform on backend `mesh`.
pub fn platform_on(environment: Environment, mesh: ServiceMesh) -> PlatformContext {
    PlatformContext {
        platform_id: "matbakh".into(),
        service_mesh: mesh,
        namespace_arn:
            "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-abcdef0123456789"
                .into(),
        cluster_name: "matbakh".into(),
        mesh_name: "matbakh".into(),
        namespace_name: "svc.local".into(),
        namespace_id: "ns-abcdef0123456789".into(),
        environment,
        region: "eu-central-1".into(),
        tags: [("project".to_string(), "matbakh".to_string())]
            .into_iter()
            .collect(),
    }
}
