//! Amazon ECS: clusters, task definitions, services.
pub mod active_revisions;
pub mod cluster;
pub mod cluster_leftovers;
pub mod deployment_configuration;
pub mod deployment_watch;
pub mod estimates;
pub mod running_revisions;
pub mod service;
#[cfg(test)]
mod service_calls;
pub mod service_deployment;
pub mod service_load_balancer;
pub mod services_gathered;
pub mod task_definition;

use std::collections::BTreeMap;

use crate::aws::{tags, AwsError, Clients};
use crate::spec::Tags;

/// ECS's tag list as a map.
pub fn tag_map(tags: &[aws_sdk_ecs::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

/// The tags of an ECS cluster, service or task definition revision.
pub async fn tags_of(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = aws
        .ecs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk("ecs:ListTagsForResource", e))?;
    Ok(tag_map(out.tags()))
}

/// Give an ECS object exactly `wanted` (besides AWS's and the provider's
/// own keys): TagResource, then UntagResource of whatever else it carries
/// (`found`: its tags as just described, else they are listed; TagResource
/// only adds wanted keys, so what else it carries is the same before).
pub async fn put_tags(
    aws: &Clients,
    arn: &str,
    wanted: &Tags,
    found: Option<BTreeMap<String, String>>,
) -> Result<(), AwsError> {
    aws.ecs
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(
            wanted
                .iter()
                .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| AwsError::sdk("ecs:TagResource", e))?;
    let found = async {
        match found {
            Some(found) => Ok(found),
            None => tags_of(aws, arn).await,
        }
    };
    tags::remove_unwanted(wanted, found, |keys| async move {
        crate::aws::tags::untag_resource!(aws.ecs, arn, keys, "ecs:UntagResource")
    })
    .await
}
