//! The one shape every App Mesh object inside a mesh shares (virtual node,
//! virtual router, route, virtual service), so that each adapter keeps only
//! what is its own: its SDK calls, how its spec goes to AWS and how what AWS
//! reports compares with it.
//!
//! The shape: an object is addressed by names in its mesh (mesh and name;
//! a route also by its router) and identified by its ARN, which holds the
//! same names. It is created with its tags and a fresh client token; a
//! ConflictException means one of that name exists, adopted when it carries
//! our owner tag (an interrupted apply made it) and then updated. An update
//! writes the whole spec, then the tags. App Mesh reports a deleted object
//! for a while with status DELETED: that is gone. Deleting what is gone is
//! success.

use async_trait::async_trait;

use super::common::{adoptable, arn_names, early_tags, put_tags, tags_for};
use crate::aws::compare::{absent_if_not_found, gone_is_ok};
use crate::aws::{tags, Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::Tags;

/// What is a kind's own: how its spec goes to AWS and how what AWS reports
/// compares with it.
#[async_trait]
pub trait MeshObject: Send + Sync {
    /// What AWS reports of one object (`VirtualNodeData`, ...).
    type Data: Send + Sync;
    /// The SDK's spec of the kind (`aws_sdk_appmesh::types::VirtualNodeSpec`).
    type Sdk: Send;

    fn to_sdk(&self, call: &str) -> Result<Self::Sdk, AwsError>;

    /// The spec an update writes onto the object of `names`: by default the
    /// spec's own (a route keeps a canary's weights).
    async fn update_spec(
        &self,
        aws: &Clients,
        names: &[String],
        call: &str,
    ) -> Result<Self::Sdk, AwsError> {
        let _ = (aws, names);
        self.to_sdk(call)
    }

    /// How what AWS reports differs from the spec, tags aside.
    fn differences(&self, data: &Self::Data) -> Vec<String>;
}

/// The calls and accessors of a kind, alike but for the SDK's names:
/// written by [`mesh_api!`].
#[async_trait]
pub trait MeshApi: MeshObject {
    /// How messages name the kind: "virtual node".
    const KIND: &'static str;
    /// `appmesh:CreateVirtualNode`, ...
    const CREATE: &'static str;

    /// The names that address the object, from its spec: mesh and name, or
    /// mesh, router and name.
    fn own_names(&self) -> Vec<String>;
    fn tags(&self) -> &Tags;
    /// The object's ARN, its id.
    fn arn(data: &Self::Data) -> Option<String>;
    /// Whether AWS reports it as deleted.
    fn deleted(data: &Self::Data) -> bool;

    /// Describe the object of `names`; errors as AWS gave them.
    async fn describe_call(aws: &Clients, names: &[String])
        -> Result<Option<Self::Data>, AwsError>;
    /// Create it from the spec, with its tags and a fresh client token.
    async fn create_call(&self, aws: &Clients) -> Result<Option<Self::Data>, AwsError>;
    /// Write the spec onto the existing object; `names` are its id's.
    async fn update_call(
        &self,
        aws: &Clients,
        names: &[String],
    ) -> Result<Option<Self::Data>, AwsError>;
    async fn delete_call(aws: &Clients, names: &[String]) -> Result<(), AwsError>;
}

/// [`MeshApi`] for one kind: its spec and data types, its status code
/// DELETED, how messages name it, the spec fields that name it with the
/// SDK setters they go to (in ARN order), the SDK's operations and the
/// output field that holds the object, and the calls' names (literal, so
/// the deployer policy's test finds them).
macro_rules! mesh_api {
    (
        $spec:ty, $data:ty, $deleted:path, $kind:literal,
        names [$($field:ident => $setter:ident),+],
        sdk [$create:ident, $describe:ident, $update:ident, $delete:ident] => $output:ident,
        calls [$c_create:literal, $c_describe:literal, $c_update:literal, $c_delete:literal]
    ) => {
        #[async_trait::async_trait]
        impl crate::aws::appmesh::object::MeshApi for $spec {
            const KIND: &'static str = $kind;
            const CREATE: &'static str = $c_create;

            fn own_names(&self) -> Vec<String> {
                vec![$(self.$field.clone()),+]
            }

            fn tags(&self) -> &crate::spec::Tags {
                &self.tags
            }

            fn arn(data: &$data) -> Option<String> {
                data.metadata.as_ref().map(|m| m.arn.clone())
            }

            fn deleted(data: &$data) -> bool {
                matches!(data.status.as_ref().map(|s| &s.status), Some($deleted))
            }

            async fn describe_call(
                aws: &crate::aws::Clients,
                names: &[String],
            ) -> Result<Option<$data>, crate::aws::AwsError> {
                let mut names = names.iter().map(String::as_str);
                let request = aws.appmesh.$describe()$(.$setter(names.next().unwrap_or_default()))+;
                let out = request.send().await;
                Ok(out.map_err(|e| crate::aws::AwsError::sdk($c_describe, e))?.$output)
            }

            async fn create_call(
                &self,
                aws: &crate::aws::Clients,
            ) -> Result<Option<$data>, crate::aws::AwsError> {
                use crate::aws::appmesh::common::{client_token, tag_refs};
                use crate::aws::appmesh::object::MeshObject;
                let spec = self.to_sdk($c_create)?;
                let tags = tag_refs(&self.tags, $c_create)?;
                let request = aws.appmesh.$create()$(.$setter(&self.$field))+;
                let request = request.spec(spec).set_tags(Some(tags));
                let out = request.client_token(client_token()).send().await;
                Ok(out.map_err(|e| crate::aws::AwsError::sdk($c_create, e))?.$output)
            }

            async fn update_call(
                &self,
                aws: &crate::aws::Clients,
                names: &[String],
            ) -> Result<Option<$data>, crate::aws::AwsError> {
                use crate::aws::appmesh::common::client_token;
                use crate::aws::appmesh::object::MeshObject;
                let spec = self.update_spec(aws, names, $c_update).await?;
                let request = aws.appmesh.$update()$(.$setter(&self.$field))+.spec(spec);
                let out = request.client_token(client_token()).send().await;
                Ok(out.map_err(|e| crate::aws::AwsError::sdk($c_update, e))?.$output)
            }

            async fn delete_call(
                aws: &crate::aws::Clients,
                names: &[String],
            ) -> Result<(), crate::aws::AwsError> {
                let mut names = names.iter().map(String::as_str);
                let request = aws.appmesh.$delete()$(.$setter(names.next().unwrap_or_default()))+;
                let out = request.send().await;
                out.map(|_| ()).map_err(|e| crate::aws::AwsError::sdk($c_delete, e))
            }
        }
    };
}
pub(crate) use mesh_api;

/// The names in `id` when it is an ARN of this kind, else the spec's own.
pub fn names_of<T: MeshApi>(spec: &T, id: &str) -> Vec<String> {
    let own = spec.own_names();
    match arn_names(id) {
        Some(names) if names.len() == own.len() => names,
        _ => own,
    }
}

/// The object of `names`; `None` when it does not exist or is deleted.
pub async fn describe<T: MeshApi>(
    aws: &Clients,
    names: &[String],
) -> Result<Option<T::Data>, AwsError> {
    Ok(absent_if_not_found(T::describe_call(aws, names).await)?
        .flatten()
        .filter(|data| !T::deleted(data)))
}

/// The object `spec` names, with its ARN, for a read-back; `None` when it
/// does not exist.
pub async fn find<T: MeshApi>(
    spec: &T,
    aws: &Clients,
) -> Result<Option<(T::Data, String)>, AwsError> {
    let data = describe::<T>(aws, &spec.own_names()).await?;
    Ok(data.and_then(|data| T::arn(&data).map(|arn| (data, arn))))
}

#[async_trait]
impl<T: MeshApi> Adapter for T {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let names = names_of(self, id);
        let (data, early) =
            futures::join!(describe::<T>(aws, &names), early_tags(&aws.appmesh, id));
        let Some(data) = data? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = self.differences(&data);
        if let Some(arn) = T::arn(&data) {
            diffs.extend(tags::differences(
                self.tags(),
                &tags_for(&aws.appmesh, &arn, early).await?,
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let call = T::CREATE;
        match self.create_call(aws).await {
            Ok(out) => out
                .as_ref()
                .and_then(T::arn)
                .ok_or_else(|| AwsError::new(call, format!("AWS returned no {} ARN", T::KIND))),
            Err(e) if e.code.as_deref() == Some("ConflictException") => {
                let names = self.own_names();
                let existing = describe::<T>(aws, &names).await?.as_ref().and_then(T::arn);
                let name = names.last().cloned().unwrap_or_default();
                let arn =
                    adoptable(&aws.appmesh, e, existing, self.tags(), call, T::KIND, &name).await?;
                self.update(aws, &arn, resolved).await
            }
            Err(e) => Err(e),
        }
    }

    async fn update(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<String, AwsError> {
        let out = self.update_call(aws, &names_of(self, id)).await?;
        let arn = out
            .as_ref()
            .and_then(T::arn)
            .unwrap_or_else(|| id.to_string());
        put_tags(&aws.appmesh, &arn, self.tags()).await?;
        Ok(arn)
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(T::delete_call(aws, &names_of(self, id)).await)
    }
}
