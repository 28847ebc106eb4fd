//! What the unit tests of expansions share: the platform they expand onto.

use super::expand::PlatformContext;
use crate::environment::Environment;

/// The platform `matbakh` in eu-central-1 with `project = matbakh` default tags.
pub fn platform(environment: Environment) -> PlatformContext {
    PlatformContext {
        platform_id: "matbakh".into(),
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
