//! App Mesh virtual service, provided by a virtual router. Its id is its ARN.

use async_trait::async_trait;
use aws_sdk_appmesh::types as mesh;

use super::common::{
    adoptable, arn_names, client_token, early_tags, put_tags, tag_refs, tags_for, tags_of,
};
use crate::aws::compare::{absent_if_not_found, gone_is_ok};
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::appmesh::VirtualServiceSpec;

impl VirtualServiceSpec {
    fn to_sdk(&self, call: &str) -> Result<mesh::VirtualServiceSpec, AwsError> {
        let provider = mesh::VirtualRouterServiceProvider::builder()
            .virtual_router_name(&self.router)
            .build()
            .map_err(|e| AwsError::build(call, e))?;
        Ok(mesh::VirtualServiceSpec::builder()
            .provider(mesh::VirtualServiceProvider::VirtualRouter(provider))
            .build())
    }

    /// Read back the virtual service of this name in this mesh. Its id is
    /// its ARN; `router` is empty when no virtual router provides it.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<VirtualServiceSpec>>, AwsError> {
        let Some(data) = self.describe(aws, &self.mesh, &self.name).await? else {
            return Ok(None);
        };
        let Some(arn) = arn_of(&data) else {
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
    ) -> Result<Option<mesh::VirtualServiceData>, AwsError> {
        let out = absent_if_not_found(
            aws.appmesh
                .describe_virtual_service()
                .mesh_name(mesh_name)
                .virtual_service_name(name)
                .send()
                .await
                .map_err(|e| AwsError::sdk("appmesh:DescribeVirtualService", e)),
        )?;
        Ok(out.and_then(|o| o.virtual_service).filter(|s| {
            !matches!(
                s.status.as_ref().map(|s| &s.status),
                Some(mesh::VirtualServiceStatusCode::Deleted)
            )
        }))
    }
}

fn arn_of(data: &mesh::VirtualServiceData) -> Option<String> {
    data.metadata.as_ref().map(|m| m.arn.clone())
}

#[async_trait]
impl Adapter for VirtualServiceSpec {
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
        if provider != want {
            diffs.push(format!(
                "virtual service provider is {provider}, want {want}"
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
        const CALL: &str = "appmesh:CreateVirtualService";
        let created = aws
            .appmesh
            .create_virtual_service()
            .mesh_name(&self.mesh)
            .virtual_service_name(&self.name)
            .spec(self.to_sdk(CALL)?)
            .set_tags(Some(tag_refs(&self.tags, CALL)?))
            .client_token(client_token())
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e));
        match created {
            Ok(out) => out
                .virtual_service
                .as_ref()
                .and_then(arn_of)
                .ok_or_else(|| AwsError::new(CALL, "AWS returned no virtual service ARN")),
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
                    "virtual service",
                    &self.name,
                )
                .await?;
                self.update(aws, &arn, resolved).await
            }
            Err(e) => Err(e),
        }
    }

    async fn update(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "appmesh:UpdateVirtualService";
        let out = aws
            .appmesh
            .update_virtual_service()
            .mesh_name(&self.mesh)
            .virtual_service_name(&self.name)
            .spec(self.to_sdk(CALL)?)
            .client_token(client_token())
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .virtual_service
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
                .delete_virtual_service()
                .mesh_name(mesh_name)
                .virtual_service_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("appmesh:DeleteVirtualService", e)),
        )
    }
}
