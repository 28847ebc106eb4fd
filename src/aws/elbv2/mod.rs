//! Elastic Load Balancing v2: the platform's Application Load Balancer and
//! its listeners. One file per kind, as terraform-provider-aws's
//! `internal/service/elbv2`; the tag calls all kinds share are here.

pub mod listener;
pub mod load_balancer;
pub mod lookup;
pub mod rule;
pub mod target_group;

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::Tag;

use crate::aws::{AwsError, Clients};
use crate::spec::Tags;

/// The tags of one ELB object (load balancer, listener, rule, target group).
pub async fn tags_of(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    aws.remembered(format!("elbv2:DescribeTags {arn}"), || async {
        let out = aws
            .elbv2
            .describe_tags()
            .resource_arns(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeTags", e))?;
        Ok(out
            .tag_descriptions()
            .iter()
            .flat_map(|d| d.tags())
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
            .collect())
    })
    .await
}

/// Tags in the SDK's shape, for a create call.
pub fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Add (or overwrite) `tags` on the object: ours only, others' are kept.
pub async fn put_tags(aws: &Clients, arn: &str, tags: &Tags) -> Result<(), AwsError> {
    aws.elbv2
        .add_tags()
        .resource_arns(arn)
        .set_tags(Some(sdk_tags(tags)))
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:AddTags", e))?;
    Ok(())
}
