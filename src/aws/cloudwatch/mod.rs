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
