//! The Resource Groups Tagging API: the tags of up to 100 objects, of
//! several services, in one GetResources call.
//!
//! Reading a microservice's alarms and log group tag by tag costs one
//! ListTagsForResource per object, against CloudWatch's 10 and Logs' 5
//! per second. Concurrent tag reads are gathered ([`super::gatherer`]) and
//! asked by ARN (`ResourceARNList`, at most 100, one page: AWS takes no
//! pagination parameter with it). GetResources names only the resources
//! that are or were tagged, of the types it supports, and says nothing of
//! an ARN it does not know; so an ARN it leaves out is asked the object's
//! own service (the caller's per-object read): the answer is never "no
//! tags" by omission. Writes check tags with the per-object read (see
//! `put_tags`), which reflects a TagResource at once.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use super::{AwsError, Clients};

/// GetResources takes at most 100 ARNs (`ResourceARNListForGet`,
/// botocore resourcegroupstaggingapi 2017-01-26).
pub const GET_RESOURCES_MAX_ARNS: usize = 100;

type Tags = BTreeMap<String, String>;

/// The tags of the object `arn`: from GetResources, gathered with the
/// other ARNs asked for at the same moment, or from `per_object` when
/// GetResources does not name it.
pub async fn tags_of<F, Fut>(aws: &Clients, arn: &str, per_object: F) -> Result<Tags, AwsError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Tags, AwsError>>,
{
    match gathered(aws, arn).await? {
        Some(tags) => Ok(tags),
        None => per_object().await,
    }
}

/// [`tags_of`] in a process that only reads (a refresh's clients carry its
/// read memo), where the GetResources that answers `arn` also carries
/// `likely`, ARNs other refreshes of the process are about to ask about
/// (e.g. the revisions the described services run), up to 100 in all
/// ([`super::gatherer::Gatherer::ask_ahead`]): their answers wait for
/// their askers, who then send nothing; an ARN the call did not name is
/// still asked `per_object` by its asker. Elsewhere just [`tags_of`]: an
/// apply must see its own writes.
pub async fn tags_of_filled<F, Fut>(
    aws: &Clients,
    arn: &str,
    likely: Vec<String>,
    per_object: F,
) -> Result<Tags, AwsError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Tags, AwsError>>,
{
    if aws.memo.is_none() {
        return tags_of(aws, arn, per_object).await;
    }
    let client = aws.tagging.clone();
    let found = gatherer(aws)
        .ask_ahead(
            arn.to_string(),
            likely,
            GET_RESOURCES_MAX_ARNS,
            move |arns| async move { get_resources(&client, arns).await },
        )
        .await?;
    match found {
        Some(tags) => Ok(tags),
        None => per_object().await,
    }
}

fn gatherer(aws: &Clients) -> std::sync::Arc<super::gatherer::Gatherer<Tags>> {
    aws.gatherers
        .of::<Tags>("tag:GetResources", GET_RESOURCES_MAX_ARNS)
}

async fn gathered(aws: &Clients, arn: &str) -> Result<Option<Tags>, AwsError> {
    let client = aws.tagging.clone();
    gatherer(aws)
        .ask(arn.to_string(), move |arns| async move {
            get_resources(&client, arns).await
        })
        .await
}

/// One GetResources for `arns` (at most [`GET_RESOURCES_MAX_ARNS`]): the
/// tags of each resource it names.
async fn get_resources(
    client: &aws_sdk_resourcegroupstagging::Client,
    arns: Vec<String>,
) -> Result<HashMap<String, Tags>, AwsError> {
    let out = client
        .get_resources()
        .set_resource_arn_list(Some(arns))
        .send()
        .await
        .map_err(|e| AwsError::sdk("tag:GetResources", e))?;
    Ok(out
        .resource_tag_mapping_list()
        .iter()
        .filter_map(|m| {
            let tags = m
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            Some((m.resource_arn()?.to_string(), tags))
        })
        .collect())
}

/// GetResources answers at most 100 resources a page (`ResourcesPerPage`,
/// botocore resourcegroupstaggingapi 2017-01-26).
const RESOURCES_PER_PAGE: i32 = 100;

/// The tags of every resource of one type that carries the provider's
/// owner key, by ARN: one listing per provider process.
type Listing = tokio::sync::OnceCell<std::sync::Arc<HashMap<String, Tags>>>;

/// In a refresh, the tags of the object `arn` of `resource_type` (e.g.
/// `application-autoscaling:scalable-target`): from one listing of every
/// resource of that type carrying the provider's owner key, shared by the
/// whole provider process (`listing_kind` names it among the process's
/// shared reads). Terraform runs a plan's refreshes in a process that
/// writes nothing (see `cloudmap::service_connect_discovery`), so one
/// GetResources per 100 such resources answers every microservice, where
/// asks gathered within a moment meet only the few refreshes Terraform
/// runs at once. An object the listing does not name (no owner key, or
/// never tagged) is asked `per_object`. Outside a refresh: [`tags_of`].
pub async fn listed_tags_of<F, Fut>(
    aws: &Clients,
    listing_kind: &'static str,
    resource_type: &'static str,
    arn: &str,
    per_object: F,
) -> Result<Tags, AwsError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Tags, AwsError>>,
{
    listed_tags_among(aws, listing_kind, &[resource_type], arn, per_object).await
}

/// [`listed_tags_of`] for a listing of several resource types at once
/// (`service[:type]`, e.g. `cloudwatch` for every CloudWatch type):
/// objects of kinds one refresh reads together share its pages.
pub async fn listed_tags_among<F, Fut>(
    aws: &Clients,
    listing_kind: &'static str,
    resource_types: &[&str],
    arn: &str,
    per_object: F,
) -> Result<Tags, AwsError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Tags, AwsError>>,
{
    let Some(listing) = refresh_listing(aws, listing_kind, resource_types).await? else {
        return tags_of(aws, arn, per_object).await;
    };
    match listing.get(arn) {
        Some(tags) => Ok(tags.clone()),
        None => per_object().await,
    }
}

/// In a refresh (a process that only reads), every resource of
/// `resource_types` in the region that carries the provider's owner key,
/// ARN to tags: listed once for the whole process under `listing_kind`
/// (a listing that fails is not kept). `None` outside a refresh, where
/// every read asks AWS.
pub async fn refresh_listing(
    aws: &Clients,
    listing_kind: &'static str,
    resource_types: &[&str],
) -> Result<Option<std::sync::Arc<HashMap<String, Tags>>>, AwsError> {
    if aws.memo.is_none() {
        return Ok(None);
    }
    let listing = aws
        .gatherers
        .shared::<Listing>(listing_kind)
        .get_or_try_init(|| async {
            list_owned(&aws.tagging, resource_types)
                .await
                .map(std::sync::Arc::new)
        })
        .await?
        .clone();
    Ok(Some(listing))
}

/// The listing a refresh takes the tags of the CloudWatch and Logs objects
/// from: alarms and log groups (the `cloudwatch` filter is every CloudWatch
/// type the tagging API covers; dashboards are not among them and are
/// asked of CloudWatch, see `cloudwatch::dashboard`). Every alarm and log
/// group the provider makes carries its owner key.
pub const MONITORING_LISTING: &str = "tag:GetResources cloudwatch logs:log-group";
pub const MONITORING_TYPES: &[&str] = &["cloudwatch", "logs:log-group"];

/// The tags of a CloudWatch or Logs object for a read: in a refresh from
/// [`MONITORING_LISTING`], else gathered by ARN ([`tags_of`]); `per_object`
/// when neither names it.
pub async fn monitoring_tags_of<F, Fut>(
    aws: &Clients,
    arn: &str,
    per_object: F,
) -> Result<Tags, AwsError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Tags, AwsError>>,
{
    listed_tags_among(aws, MONITORING_LISTING, MONITORING_TYPES, arn, per_object).await
}

/// Every resource of `resource_types` in the region that carries the
/// provider's owner key, with its tags: GetResources by types and tag key,
/// paged (AWS ends with an empty `PaginationToken`).
async fn list_owned(
    client: &aws_sdk_resourcegroupstagging::Client,
    resource_types: &[&str],
) -> Result<HashMap<String, Tags>, AwsError> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    let mut found = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .get_resources()
            .set_resource_type_filters(Some(resource_types.iter().map(|t| t.to_string()).collect()))
            .tag_filters(TagFilter::builder().key(crate::spec::OWNER_TAG).build())
            .resources_per_page(RESOURCES_PER_PAGE)
            .set_pagination_token(token)
            .send()
            .await
            .map_err(|e| AwsError::sdk("tag:GetResources", e))?;
        for m in out.resource_tag_mapping_list() {
            if let Some(arn) = m.resource_arn() {
                let tags = m
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                found.insert(arn.to_string(), tags);
            }
        }
        token = out
            .pagination_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn concurrent_tag_reads_share_one_get_resources_and_fall_back_per_object() {
        let fake = FakeEndpoint::start(|op, body| match op {
            "GetResources" => {
                let arns = body["ResourceARNList"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let found: Vec<_> = arns
                    .iter()
                    .filter_map(|a| a.as_str())
                    .filter(|a| !a.contains("untracked"))
                    .map(|a| json!({"ResourceARN": a, "Tags": [{"Key": "k", "Value": a}]}))
                    .collect();
                (200, json!({"ResourceTagMappingList": found}))
            }
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let aws = fake.clients();
        let per_object_calls = std::sync::atomic::AtomicUsize::new(0);
        let arns: Vec<String> = (0..150)
            .map(|i| format!("arn:aws:cloudwatch:eu-central-1:1:alarm:a{i}"))
            .chain(["arn:aws:cloudwatch::1:dashboard/untracked".to_string()])
            .collect();
        let answers = futures::future::join_all(arns.iter().map(|arn| {
            tags_of(&aws, arn, || async {
                per_object_calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(tags(&[("own", "read")]))
            })
        }))
        .await;
        // 151 ARNs: two GetResources (100 + 51), one per-object read for
        // the ARN it did not name.
        assert_eq!(
            fake.calls(),
            vec!["GetResources".to_string(), "GetResources".to_string()]
        );
        assert_eq!(per_object_calls.into_inner(), 1);
        assert_eq!(answers[0].as_ref().unwrap(), &tags(&[("k", &arns[0])]));
        assert_eq!(answers[150].as_ref().unwrap(), &tags(&[("own", "read")]));
    }

    #[tokio::test]
    async fn a_get_resources_error_reaches_the_reader() {
        let fake = FakeEndpoint::start(|_, _| {
            (
                400,
                json!({"__type": "ThrottledException", "message": "slow down"}),
            )
        });
        let aws = fake.clients();
        let e = tags_of(&aws, "arn:aws:logs:eu-central-1:1:log-group:g", || async {
            Ok(Tags::new())
        })
        .await
        .unwrap_err();
        assert!(e.to_string().contains("tag:GetResources"), "{e}");
    }
}
