//! App Mesh virtual router. Its id is its ARN.

use async_trait::async_trait;
use aws_sdk_appmesh::types as mesh;

use super::common::tags_of;
use super::object::{find, mesh_api, MeshObject};
use crate::aws::{AwsError, Clients, Found};
use crate::spec::appmesh::VirtualRouterSpec;

impl VirtualRouterSpec {
    /// Read back the router of this name in this mesh. Its id is its ARN.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<VirtualRouterSpec>>, AwsError> {
        let Some((data, arn)) = find(self, aws).await? else {
            return Ok(None);
        };
        let spec = VirtualRouterSpec {
            mesh: data.mesh_name.clone(),
            name: data.virtual_router_name.clone(),
            port: ports(&data).first().map(|(port, _)| *port).unwrap_or(0),
            tags: tags_of(&aws.appmesh, &arn).await?,
        };
        Ok(Some(Found::new(spec, arn)))
    }
}

/// The router's listeners: port and protocol.
fn ports(data: &mesh::VirtualRouterData) -> Vec<(i32, String)> {
    data.spec
        .as_ref()
        .map(|s| s.listeners())
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l.port_mapping.as_ref())
        .map(|p| (p.port, p.protocol.as_str().to_string()))
        .collect()
}

#[async_trait]
impl MeshObject for VirtualRouterSpec {
    type Data = mesh::VirtualRouterData;
    type Sdk = mesh::VirtualRouterSpec;

    fn to_sdk(&self, call: &str) -> Result<mesh::VirtualRouterSpec, AwsError> {
        let port = mesh::PortMapping::builder()
            .port(self.port)
            .protocol(mesh::PortProtocol::Http)
            .build()
            .map_err(|e| AwsError::build(call, e))?;
        Ok(mesh::VirtualRouterSpec::builder()
            .listeners(
                mesh::VirtualRouterListener::builder()
                    .port_mapping(port)
                    .build(),
            )
            .build())
    }

    fn differences(&self, data: &Self::Data) -> Vec<String> {
        let ports = ports(data);
        let want = vec![(self.port, "http".to_string())];
        if ports == want {
            return Vec::new();
        }
        vec![format!(
            "virtual router listeners are {ports:?}, want {want:?}"
        )]
    }
}

mesh_api!(
    VirtualRouterSpec, mesh::VirtualRouterData, mesh::VirtualRouterStatusCode::Deleted, "virtual router",
    names [mesh => mesh_name, name => virtual_router_name],
    sdk [create_virtual_router, describe_virtual_router, update_virtual_router, delete_virtual_router] => virtual_router,
    calls ["appmesh:CreateVirtualRouter", "appmesh:DescribeVirtualRouter", "appmesh:UpdateVirtualRouter", "appmesh:DeleteVirtualRouter"]
);
