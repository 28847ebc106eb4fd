//! App Mesh virtual service, provided by a virtual router. Its id is its ARN.

use async_trait::async_trait;
use aws_sdk_appmesh::types as mesh;

use super::common::tags_of;
use super::object::{find, mesh_api, MeshObject};
use crate::aws::{AwsError, Clients, Found};
use crate::spec::appmesh::VirtualServiceSpec;

impl VirtualServiceSpec {
    /// Read back the virtual service of this name in this mesh. Its id is
    /// its ARN; `router` is empty when no virtual router provides it.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<VirtualServiceSpec>>, AwsError> {
        let Some((data, arn)) = find(self, aws).await? else {
            return Ok(None);
        };
        let router = match data.spec.as_ref().and_then(|s| s.provider.as_ref()) {
            Some(mesh::VirtualServiceProvider::VirtualRouter(r)) => r.virtual_router_name.clone(),
            _ => String::new(),
        };
        let spec = VirtualServiceSpec {
            mesh: data.mesh_name.clone(),
            name: data.virtual_service_name.clone(),
            router,
            tags: tags_of(&aws.appmesh, &arn).await?,
        };
        Ok(Some(Found::new(spec, arn)))
    }
}

#[async_trait]
impl MeshObject for VirtualServiceSpec {
    type Data = mesh::VirtualServiceData;
    type Sdk = mesh::VirtualServiceSpec;

    fn to_sdk(&self, call: &str) -> Result<mesh::VirtualServiceSpec, AwsError> {
        let provider = mesh::VirtualRouterServiceProvider::builder()
            .virtual_router_name(&self.router)
            .build()
            .map_err(|e| AwsError::build(call, e))?;
        Ok(mesh::VirtualServiceSpec::builder()
            .provider(mesh::VirtualServiceProvider::VirtualRouter(provider))
            .build())
    }

    fn differences(&self, data: &Self::Data) -> Vec<String> {
        let provider = match data.spec.as_ref().and_then(|s| s.provider.as_ref()) {
            Some(mesh::VirtualServiceProvider::VirtualRouter(r)) => {
                format!("virtual router {}", r.virtual_router_name)
            }
            Some(mesh::VirtualServiceProvider::VirtualNode(n)) => {
                format!("virtual node {}", n.virtual_node_name)
            }
            _ => "nothing".to_string(),
        };
        let want = format!("virtual router {}", self.router);
        if provider == want {
            return Vec::new();
        }
        vec![format!(
            "virtual service provider is {provider}, want {want}"
        )]
    }
}

mesh_api!(
    VirtualServiceSpec, mesh::VirtualServiceData, mesh::VirtualServiceStatusCode::Deleted, "virtual service",
    names [mesh => mesh_name, name => virtual_service_name],
    sdk [create_virtual_service, describe_virtual_service, update_virtual_service, delete_virtual_service] => virtual_service,
    calls ["appmesh:CreateVirtualService", "appmesh:DescribeVirtualService", "appmesh:UpdateVirtualService", "appmesh:DeleteVirtualService"]
);
