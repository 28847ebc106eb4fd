//! Finding the platform a microservice joins, in AWS.
//!
//! The `platform` argument is the platform's id (its name): the ECS cluster
//! and (App Mesh) the mesh carry that name; the namespace is the one whose
//! `matbakh:owner` tag names the platform. The backend is the provider's
//! `service_mesh`.

use crate::aws::appmesh::mesh::find_mesh;
use crate::aws::cloudmap::namespace::{find_owned_namespace, namespace_id_from_arn};
use crate::aws::ecs::cluster::find_cluster;
use crate::provider::Configured;
use crate::service_mesh::ServiceMesh;

use super::expand::PlatformContext;

pub async fn find_platform(
    configured: &Configured,
    platform_id: &str,
) -> Result<PlatformContext, String> {
    let aws = &configured.clients;
    let missing = |what: &str| {
        format!(
            "platform {platform_id:?} has no {what} in {}: create the matbakh_platform first (or check `platform` and the provider's region)",
            aws.region
        )
    };
    if find_cluster(aws, platform_id)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err(missing("ECS cluster"));
    }
    let mesh = configured.service_mesh;
    if mesh == ServiceMesh::AppMesh
        && find_mesh(aws, platform_id)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
    {
        return Err(missing("App Mesh mesh"));
    }
    let (ns_arn, ns_name, _) = find_owned_namespace(aws, platform_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| missing("Cloud Map namespace"))?;
    Ok(PlatformContext {
        platform_id: platform_id.to_string(),
        service_mesh: mesh,
        cluster_name: platform_id.to_string(),
        mesh_name: platform_id.to_string(),
        namespace_name: ns_name,
        namespace_id: namespace_id_from_arn(&ns_arn).to_string(),
        namespace_arn: ns_arn,
        environment: configured.environment,
        region: aws.region.clone(),
        tags: configured.default_tags.clone(),
    })
}
