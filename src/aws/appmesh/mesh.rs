//! The platform's App Mesh mesh and its egress filter.

use async_trait::async_trait;
use aws_sdk_appmesh::types::{
    EgressFilter, EgressFilterType, MeshData, MeshSpec as SdkMeshSpec, MeshStatusCode,
};

use super::common::{early_tags, put_tags, tag_refs, tags_for, tags_of};
use crate::aws::{tags, Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::platform::MeshSpec;
use crate::spec::Tags;

impl MeshSpec {
    fn sdk_spec(&self) -> Result<SdkMeshSpec, AwsError> {
        let filter = EgressFilter::builder()
            .r#type(EgressFilterType::from(self.egress_filter.as_str()))
            .build()
            .map_err(|e| AwsError::build("appmesh:CreateMesh", e))?;
        Ok(SdkMeshSpec::builder().egress_filter(filter).build())
    }

    async fn describe(&self, aws: &Clients) -> Result<Option<MeshData>, AwsError> {
        match aws
            .appmesh
            .describe_mesh()
            .mesh_name(&self.name)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .mesh
                .filter(|m| m.status().and_then(|s| s.status()) != Some(&MeshStatusCode::Deleted))),
            Err(e) => {
                let err = AwsError::sdk("appmesh:DescribeMesh", e);
                if err.is_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }
}

#[async_trait]
impl Adapter for MeshSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let (mesh, early) = futures::join!(self.describe(aws), early_tags(&aws.appmesh, id));
        let Some(mesh) = mesh? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        let filter = mesh
            .spec()
            .and_then(|s| s.egress_filter())
            .map(|f| f.r#type().as_str().to_string())
            .unwrap_or_else(|| "DROP_ALL".to_string());
        if filter != self.egress_filter {
            diffs.push(format!(
                "egress filter is {filter}, want {}",
                self.egress_filter
            ));
        }
        diffs.extend(tags::differences(
            &self.tags,
            &tags_for(&aws.appmesh, id, early).await?,
        ));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        if let Some(existing) = self.describe(aws).await? {
            let arn = existing
                .metadata()
                .map(|m| m.arn().to_string())
                .unwrap_or_default();
            tags::claim(
                "appmesh:CreateMesh",
                "App Mesh mesh",
                &self.name,
                &self.tags,
                &tags_of(&aws.appmesh, &arn).await?,
            )?;
            return Ok(arn);
        }
        let out = aws
            .appmesh
            .create_mesh()
            .mesh_name(&self.name)
            .spec(self.sdk_spec()?)
            .set_tags(Some(tag_refs(&self.tags, "appmesh:CreateMesh")?))
            .client_token(tags::request_token(&self.tags, "mesh"))
            .send()
            .await
            .map_err(|e| AwsError::sdk("appmesh:CreateMesh", e))?;
        out.mesh
            .and_then(|m| m.metadata)
            .map(|m| m.arn)
            .ok_or_else(|| AwsError::new("appmesh:CreateMesh", "AWS returned no mesh ARN"))
    }

    async fn update(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<String, AwsError> {
        aws.appmesh
            .update_mesh()
            .mesh_name(&self.name)
            .spec(self.sdk_spec()?)
            .send()
            .await
            .map_err(|e| AwsError::sdk("appmesh:UpdateMesh", e))?;
        put_tags(&aws.appmesh, id, &self.tags).await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, _id: &str) -> Result<(), AwsError> {
        match aws.appmesh.delete_mesh().mesh_name(&self.name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = AwsError::sdk("appmesh:DeleteMesh", e);
                if err.is_not_found() {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}

/// What `terraform import` learns about a mesh: its ARN and egress filter.
pub async fn find_mesh(aws: &Clients, name: &str) -> Result<Option<(String, String)>, AwsError> {
    let probe = MeshSpec {
        name: name.to_string(),
        egress_filter: String::new(),
        tags: Tags::new(),
    };
    Ok(probe.describe(aws).await?.map(|m| {
        let arn = m
            .metadata()
            .map(|md| md.arn().to_string())
            .unwrap_or_default();
        let filter = m
            .spec()
            .and_then(|s| s.egress_filter())
            .map(|f| f.r#type().as_str().to_string())
            .unwrap_or_else(|| "DROP_ALL".to_string());
        (arn, filter)
    }))
}
