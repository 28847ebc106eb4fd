//! What the App Mesh adapters share: tags, durations, ARNs.

use std::collections::BTreeMap;

use aws_sdk_appmesh::types::{Duration, DurationUnit, TagRef};

use crate::aws::AwsError;
use crate::spec::Tags;

pub fn tag_refs(tags: &Tags, call: &str) -> Result<Vec<TagRef>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            TagRef::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::build(call, e))
        })
        .collect()
}

pub async fn tags_of(
    client: &aws_sdk_appmesh::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let mut found = BTreeMap::new();
    let mut pages = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("appmesh:ListTagsForResource", e))?;
        for t in page.tags() {
            found.insert(t.key.clone(), t.value.clone());
        }
    }
    Ok(found)
}

/// Tags read ahead, by the recorded id when it is an ARN (App Mesh ids
/// are), at the same time as the describe: then they cost no round of
/// their own. Whether the read failed only matters if the object exists.
pub type EarlyTags = Option<(String, Result<BTreeMap<String, String>, AwsError>)>;

pub async fn early_tags(client: &aws_sdk_appmesh::Client, id: &str) -> EarlyTags {
    if !id.starts_with("arn:") {
        return None;
    }
    Some((id.to_string(), tags_of(client, id).await))
}

/// The tags of `arn`: those read ahead when they are of this ARN, else
/// read now.
pub async fn tags_for(
    client: &aws_sdk_appmesh::Client,
    arn: &str,
    early: EarlyTags,
) -> Result<BTreeMap<String, String>, AwsError> {
    match early {
        Some((read, result)) if read == arn => result,
        _ => tags_of(client, arn).await,
    }
}

/// Give an App Mesh object exactly `tags` (besides AWS's and the
/// provider's own keys): TagResource, then UntagResource of whatever else
/// it carries.
pub async fn put_tags(
    client: &aws_sdk_appmesh::Client,
    arn: &str,
    tags: &Tags,
) -> Result<(), AwsError> {
    client
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tag_refs(tags, "appmesh:TagResource")?))
        .send()
        .await
        .map_err(|e| AwsError::sdk("appmesh:TagResource", e))?;
    crate::aws::tags::remove_unwanted(tags, tags_of(client, arn), |keys| async move {
        crate::aws::tags::untag_resource!(client, arn, keys, "appmesh:UntagResource")
    })
    .await
}

/// After App Mesh refused a create with ConflictException: the ARN of the
/// existing object when it carries our owner tag (an interrupted earlier
/// apply made it, so it is adopted), an ownership error when it belongs to
/// someone else, and the refusal itself when the object is gone again.
pub async fn adoptable(
    client: &aws_sdk_appmesh::Client,
    conflict: AwsError,
    existing_arn: Option<String>,
    tags: &Tags,
    call: &str,
    what: &str,
    name: &str,
) -> Result<String, AwsError> {
    let Some(arn) = existing_arn else {
        return Err(conflict);
    };
    crate::aws::tags::claim(call, what, name, tags, &tags_of(client, &arn).await?)?;
    Ok(arn)
}

/// A duration in milliseconds as App Mesh takes it: whole seconds in `s`
/// (what the console shows), anything else in `ms`.
pub fn duration(ms: i64) -> Duration {
    let (value, unit) = if ms % 1000 == 0 {
        (ms / 1000, DurationUnit::S)
    } else {
        (ms, DurationUnit::Ms)
    };
    Duration::builder().value(value).unit(unit).build()
}

/// Milliseconds of an App Mesh duration, whatever unit AWS reports it in.
pub fn millis(d: Option<&Duration>) -> i64 {
    let Some(d) = d else { return 0 };
    let value = d.value().unwrap_or(0);
    match d.unit() {
        Some(DurationUnit::S) => value * 1000,
        _ => value,
    }
}

/// The names in an App Mesh ARN's resource part
/// (`mesh/MESH/virtualRouter/R/route/NAME` gives MESH, R, NAME), or `None`
/// when `id` is not an App Mesh ARN.
pub fn arn_names(id: &str) -> Option<Vec<String>> {
    let resource = id.splitn(6, ':').nth(5)?;
    if !id.starts_with("arn:") || !resource.starts_with("mesh/") {
        return None;
    }
    Some(
        resource
            .split('/')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect(),
    )
}

/// A fresh client token per call. The SDK sends the same token on each of
/// its own retries of that call, which is what makes a retried create safe;
/// a token reused for a *later* call could make App Mesh answer with an
/// object deleted in between, and an interrupted apply is covered by
/// adoption instead.
pub fn client_token() -> String {
    // At most 36 characters (App Mesh and ECS).
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for ms in [0, 500, 2000, 30_000, 1500] {
            assert_eq!(millis(Some(&duration(ms))), ms);
        }
        assert_eq!(duration(2000).value(), Some(2));
    }

    #[test]
    fn names_from_arns() {
        let arn = "arn:aws:appmesh:eu-central-1:123456789012:mesh/m/virtualRouter/r/route/x";
        assert_eq!(arn_names(arn).unwrap(), ["m", "r", "x"]);
        assert_eq!(arn_names("auth"), None);
    }
}
