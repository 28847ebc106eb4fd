//! App Mesh virtual router. Its id is its ARN.

use async_trait::async_trait;
use aws_sdk_appmesh::types as mesh;

use super::common::{
    adoptable, arn_names, client_token, early_tags, put_tags, tag_refs, tags_for, tags_of,
};
use crate::aws::compare::{absent_if_not_found, gone_is_ok};
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::appmesh::VirtualRouterSpec;

impl VirtualRouterSpec {
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

    /// Read back the router of this name in this mesh. Its id is its ARN.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<VirtualRouterSpec>>, AwsError> {
        let Some(data) = self.describe(aws, &self.mesh, &self.name).await? else {
            return Ok(None);
        };
        let Some(arn) = arn_of(&data) else {
            return Ok(None);
        };
        let port = data
            .spec
            .as_ref()
            .and_then(|s| s.listeners().first())
            .and_then(|l| l.port_mapping.as_ref())
            .map(|p| p.port)
            .unwrap_or(0);
        let spec = VirtualRouterSpec {
            mesh: data.mesh_name.clone(),
            name: data.virtual_router_name.clone(),
            port,
            tags: tags_of(&aws.appmesh, &arn).await?,
        };
        Ok(Some(Found::new(spec, arn)))
    }

    fn names(&self, id: &str) -> (String, String) {
        match arn_names(id) {
            Some(n) if n.len() == 2 => (n[0].clone(), n[1].clone()),
            _ => (self.mesh.clone(), self.name.clone()),
        }
    }

    async fn describe(
        &self,
        aws: &Clients,
        mesh_name: &str,
        name: &str,
    ) -> Result<Option<mesh::VirtualRouterData>, AwsError> {
        let out = absent_if_not_found(
            aws.appmesh
                .describe_virtual_router()
                .mesh_name(mesh_name)
                .virtual_router_name(name)
                .send()
                .await
                .map_err(|e| AwsError::sdk("appmesh:DescribeVirtualRouter", e)),
        )?;
        Ok(out.and_then(|o| o.virtual_router).filter(|r| {
            !matches!(
                r.status.as_ref().map(|s| &s.status),
                Some(mesh::VirtualRouterStatusCode::Deleted)
            )
        }))
    }
}

fn arn_of(data: &mesh::VirtualRouterData) -> Option<String> {
    data.metadata.as_ref().map(|m| m.arn.clone())
}

#[async_trait]
impl Adapter for VirtualRouterSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let (mesh_name, name) = self.names(id);
        let (data, early) = futures::join!(
            self.describe(aws, &mesh_name, &name),
            early_tags(&aws.appmesh, id)
        );
        let Some(data) = data? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        let ports: Vec<(i32, String)> = data
            .spec
            .as_ref()
            .map(|s| s.listeners())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| l.port_mapping.as_ref())
            .map(|p| (p.port, p.protocol.as_str().to_string()))
            .collect();
        let want = vec![(self.port, "http".to_string())];
        if ports != want {
            diffs.push(format!(
                "virtual router listeners are {ports:?}, want {want:?}"
            ));
        }
        if let Some(arn) = arn_of(&data) {
            diffs.extend(tags::differences(
                &self.tags,
                &tags_for(&aws.appmesh, &arn, early).await?,
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "appmesh:CreateVirtualRouter";
        let created = aws
            .appmesh
            .create_virtual_router()
            .mesh_name(&self.mesh)
            .virtual_router_name(&self.name)
            .spec(self.to_sdk(CALL)?)
            .set_tags(Some(tag_refs(&self.tags, CALL)?))
            .client_token(client_token())
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e));
        match created {
            Ok(out) => out
                .virtual_router
                .as_ref()
                .and_then(arn_of)
                .ok_or_else(|| AwsError::new(CALL, "AWS returned no virtual router ARN")),
            Err(e) if e.code.as_deref() == Some("ConflictException") => {
                let existing = self
                    .describe(aws, &self.mesh, &self.name)
                    .await?
                    .as_ref()
                    .and_then(arn_of);
                let arn = adoptable(
                    &aws.appmesh,
                    e,
                    existing,
                    &self.tags,
                    CALL,
                    "virtual router",
                    &self.name,
                )
                .await?;
                self.update(aws, &arn, resolved).await
            }
            Err(e) => Err(e),
        }
    }

    async fn update(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "appmesh:UpdateVirtualRouter";
        let out = aws
            .appmesh
            .update_virtual_router()
            .mesh_name(&self.mesh)
            .virtual_router_name(&self.name)
            .spec(self.to_sdk(CALL)?)
            .client_token(client_token())
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .virtual_router
            .as_ref()
            .and_then(arn_of)
            .unwrap_or_else(|| id.to_string());
        put_tags(&aws.appmesh, &arn, &self.tags).await?;
        Ok(arn)
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let (mesh_name, name) = self.names(id);
        gone_is_ok(
            aws.appmesh
                .delete_virtual_router()
                .mesh_name(mesh_name)
                .virtual_router_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("appmesh:DeleteVirtualRouter", e)),
        )
    }
}
