//! AWS Cloud Map: namespaces (HTTP and private DNS), the discovery services
//! App Mesh needs, and the ones ECS Service Connect creates itself.
pub mod namespace;
pub mod service;
pub mod service_connect_discovery;

use std::collections::BTreeMap;

use crate::aws::{AwsError, Clients};

/// The tags of a Cloud Map namespace or service, by its ARN (remembered
/// for the rest of a refresh, see [`crate::aws::read_memo`]).
pub async fn tags_of(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    aws.remembered(
        format!("servicediscovery:ListTagsForResource {arn}"),
        || async {
            let out = aws
                .cloudmap
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| AwsError::sdk("servicediscovery:ListTagsForResource", e))?;
            Ok(out
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect())
        },
    )
    .await
}

/// Give a Cloud Map namespace or service exactly `wanted` (besides AWS's
/// and the provider's own keys): TagResource, then UntagResource of
/// whatever else it carries.
pub async fn put_tags(
    aws: &Clients,
    arn: &str,
    wanted: &crate::spec::Tags,
) -> Result<(), AwsError> {
    aws.cloudmap
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(cloudmap_tags(wanted)?))
        .send()
        .await
        .map_err(|e| AwsError::sdk("servicediscovery:TagResource", e))?;
    crate::aws::tags::remove_unwanted(wanted, tags_of(aws, arn), |keys| async move {
        crate::aws::tags::untag_resource!(aws.cloudmap, arn, keys, "servicediscovery:UntagResource")
    })
    .await
}

/// Tags in Cloud Map's request shape.
pub(crate) fn cloudmap_tags(
    t: &crate::spec::Tags,
) -> Result<Vec<aws_sdk_servicediscovery::types::Tag>, AwsError> {
    t.iter()
        .map(|(k, v)| {
            aws_sdk_servicediscovery::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::build("servicediscovery:Tag", e))
        })
        .collect()
}
