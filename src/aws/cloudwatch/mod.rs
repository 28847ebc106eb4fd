//! Amazon CloudWatch: metric alarms and dashboards.
pub mod alarm;
pub mod alarm_state;
pub mod dashboard;
pub mod traffic;

use std::collections::BTreeMap;

use crate::aws::{AwsError, Clients};

/// The tags of a CloudWatch object (an alarm or a dashboard), by its ARN.
pub async fn tags_of(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    aws.remembered(format!("cloudwatch:ListTagsForResource {arn}"), || async {
        let out = aws
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:ListTagsForResource", e))?;
        Ok(out
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect())
    })
    .await
}

/// The tags of an alarm, for a read (a dashboard's: `dashboard.rs`, which
/// the tagging API does not cover): in a refresh from the
/// process's one listing of the owned CloudWatch and Logs objects, else
/// gathered with other objects' tags into one GetResources
/// ([`crate::aws::tagging::monitoring_tags_of`]); ListTagsForResource when
/// neither names it. Writes use [`tags_of`].
pub async fn tags_read(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    crate::aws::tagging::monitoring_tags_of(aws, arn, || tags_of(aws, arn)).await
}

/// Give an alarm or a dashboard exactly `wanted` (besides AWS's and the
/// provider's own keys): TagResource, then UntagResource of whatever else
/// it carries.
pub async fn put_tags(
    aws: &Clients,
    arn: &str,
    wanted: &crate::spec::Tags,
) -> Result<(), AwsError> {
    use aws_sdk_cloudwatch::types::Tag;
    aws.cloudwatch
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(
            wanted
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| AwsError::sdk("cloudwatch:TagResource", e))?;
    crate::aws::tags::remove_unwanted(wanted, tags_of(aws, arn), |keys| async move {
        crate::aws::tags::untag_resource!(aws.cloudwatch, arn, keys, "cloudwatch:UntagResource")
    })
    .await
}
