//! Finding a platform's objects in AWS by the platform's name: what import
//! and the `matbakh_platform` data source both start from.

use crate::aws::appmesh::mesh::find_mesh;
use crate::aws::cloudmap::namespace::{find_owned_namespace, namespace_id_from_arn};
use crate::aws::ecs::cluster::find_cluster;
use crate::aws::{AwsError, Clients};
use crate::service_mesh::ServiceMesh;
use crate::spec::platform::VPC_TAG;
use crate::spec::Tags;

/// The objects of platform `name` that exist.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundPlatform {
    pub name: String,
    /// The ECS cluster named after the platform: its ARN and whether
    /// Container Insights is on.
    pub cluster: Option<(String, bool)>,
    /// The App Mesh mesh named after the platform: its ARN and egress filter.
    pub mesh: Option<(String, String)>,
    /// The Cloud Map namespace whose owner tag names the platform: its ARN,
    /// name and tags.
    pub namespace: Option<(String, String, Tags)>,
}

impl FoundPlatform {
    /// Nothing of the platform exists.
    pub fn is_empty(&self) -> bool {
        self.cluster.is_none() && self.mesh.is_none() && self.namespace.is_none()
    }

    pub fn cluster_arn(&self) -> Option<&str> {
        self.cluster.as_ref().map(|(arn, _)| arn.as_str())
    }

    pub fn namespace_arn(&self) -> Option<&str> {
        self.namespace.as_ref().map(|(arn, _, _)| arn.as_str())
    }

    pub fn namespace_id(&self) -> Option<&str> {
        self.namespace_arn().map(namespace_id_from_arn)
    }

    pub fn mesh_name(&self) -> Option<&str> {
        self.mesh.as_ref().map(|_| self.name.as_str())
    }
}

/// How the platform's services find and call each other, derived from what
/// exists: a mesh of the platform's name, or a namespace tied to a VPC (a
/// private DNS namespace), means App Mesh; a namespace without one (an HTTP
/// namespace) means Service Connect. `None` when nothing tells. The one
/// place a new backend adds its own sign.
pub fn service_mesh(found: &FoundPlatform) -> Option<&'static str> {
    if found.mesh.is_some() {
        return Some(ServiceMesh::AppMesh.name());
    }
    match &found.namespace {
        Some((_, _, tags)) if tags.contains_key(VPC_TAG) => Some(ServiceMesh::AppMesh.name()),
        Some(_) => Some(ServiceMesh::ServiceConnect.name()),
        None => None,
    }
}

/// Look up the cluster, the namespace and (on App Mesh) the mesh of
/// platform `name`. On Service Connect no App Mesh API is called: AWS
/// discontinued it, and its API may refuse every call.
pub async fn lookup(
    aws: &Clients,
    name: &str,
    backend: ServiceMesh,
) -> Result<FoundPlatform, AwsError> {
    let mesh = async {
        match backend {
            ServiceMesh::AppMesh => find_mesh(aws, name).await,
            ServiceMesh::ServiceConnect => Ok(None),
        }
    };
    let (cluster, mesh, namespace) = futures::try_join!(
        find_cluster(aws, name),
        mesh,
        find_owned_namespace(aws, name),
    )?;
    Ok(FoundPlatform {
        name: name.to_string(),
        cluster,
        mesh,
        namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found() -> FoundPlatform {
        FoundPlatform {
            name: "matbakh".into(),
            cluster: Some((
                "arn:aws:ecs:eu-central-1:123456789012:cluster/matbakh".into(),
                true,
            )),
            mesh: Some((
                "arn:aws:appmesh:eu-central-1:123456789012:mesh/matbakh".into(),
                "DROP_ALL".into(),
            )),
            namespace: Some((
                "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-abc".into(),
                "svc.local".into(),
                Tags::new(),
            )),
        }
    }

    #[test]
    fn a_mesh_of_the_platform_name_means_app_mesh() {
        assert_eq!(service_mesh(&found()), Some("app_mesh"));
        let no_mesh = FoundPlatform {
            mesh: None,
            ..found()
        };
        assert_eq!(service_mesh(&no_mesh), Some("service_connect"));
        let private_dns = FoundPlatform {
            mesh: None,
            namespace: Some((
                "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-abc".into(),
                "svc.local".into(),
                Tags::from([(VPC_TAG.to_string(), "vpc-1".to_string())]),
            )),
            ..found()
        };
        assert_eq!(service_mesh(&private_dns), Some("app_mesh"));
        let nothing = FoundPlatform {
            mesh: None,
            namespace: None,
            ..found()
        };
        assert_eq!(service_mesh(&nothing), None);
    }

    #[test]
    fn ids_from_what_was_found() {
        let f = found();
        assert_eq!(f.namespace_id(), Some("ns-abc"));
        assert_eq!(f.mesh_name(), Some("matbakh"));
        assert!(!f.is_empty());
        assert!(FoundPlatform::default().is_empty());
    }
}
