//! Elastic Load Balancing v2: the platform's Application Load Balancer and
//! its listeners. One file per kind, as terraform-provider-aws's
//! `internal/service/elbv2`; the tag calls all kinds share are here.

pub mod listener;
pub mod load_balancer;
pub mod lookup;
pub mod refresh_shared;
pub mod rule;
pub mod target_group;

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::Tag;

use crate::aws::{AwsError, Clients};
use crate::spec::Tags;

/// DescribeTags takes at most 20 ARNs (`ResourceArns`, ELBv2 API reference).
const DESCRIBE_TAGS_MAX: usize = 20;

type Found = Result<BTreeMap<String, String>, AwsError>;

/// The tags of one ELB object (load balancer, listener, rule, target
/// group), asked in one DescribeTags with the objects other resources ask
/// for at the same moment (20 a call: every microservice behind the load
/// balancer has four, against Elastic Load Balancing's account-wide 10 per
/// second). AWS refuses the whole call when one of its objects is gone
/// (`TargetGroupNotFound`, `RuleNotFound`, ...): then each is asked alone,
/// so every asker gets its own answer.
pub async fn tags_of(aws: &Clients, arn: &str) -> Found {
    if aws.memo.is_some() {
        if let Some(tags) = read_ahead(aws, arn) {
            return Ok(tags);
        }
    }
    aws.remembered(format!("elbv2:DescribeTags {arn}"), || async {
        let gatherer = aws
            .gatherers
            .of::<Found>("elasticloadbalancing:DescribeTags", DESCRIBE_TAGS_MAX);
        let client = aws.elbv2.clone();
        let answer = gatherer
            .ask(arn.to_string(), move |arns| async move {
                Ok(describe_tags_each(&client, arns).await)
            })
            .await?;
        match answer {
            Some(found) => found,
            None => describe_tags(&aws.elbv2, vec![arn.to_string()])
                .await?
                .remove(arn)
                .ok_or_else(|| {
                    AwsError::new(
                        "elasticloadbalancing:DescribeTags",
                        format!("{arn}: no tags answered"),
                    )
                }),
        }
    })
    .await
}

/// Tags read ahead for the refreshes of this process, by ARN.
type ReadAhead = std::sync::Mutex<std::collections::HashMap<String, BTreeMap<String, String>>>;

const READ_AHEAD: &str = "elbv2: tags read ahead for this process's refreshes";

/// The tags of `arn` if a refresh of this process read them ahead.
pub fn read_ahead(aws: &Clients, arn: &str) -> Option<BTreeMap<String, String>> {
    aws.gatherers
        .shared::<ReadAhead>(READ_AHEAD)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(arn)
        .cloned()
}

/// Read the tags of `arns` (those not read yet) ahead for every refresh of
/// this process, 20 a call: the refreshes of N microservices each ask for
/// their rules' and target groups' tags at their own moments, so the
/// gatherer's batches stay small; the listener's rules name them all at
/// once. Only a refresh's process reads ahead (it writes nothing, see
/// [`refresh_shared`]); what fails is left to be asked on its own.
pub async fn read_tags_ahead(aws: &Clients, arns: Vec<String>) {
    let ahead = aws.gatherers.shared::<ReadAhead>(READ_AHEAD);
    let wanted: Vec<String> = {
        let known = ahead.lock().unwrap_or_else(|e| e.into_inner());
        arns.into_iter()
            .filter(|a| !known.contains_key(a))
            .collect()
    };
    let batches = wanted
        .chunks(DESCRIBE_TAGS_MAX)
        .map(|batch| describe_tags_each(&aws.elbv2, batch.to_vec()));
    let answers = futures::future::join_all(batches).await;
    let mut known = ahead.lock().unwrap_or_else(|e| e.into_inner());
    for (arn, found) in answers.into_iter().flatten() {
        if let Ok(tags) = found {
            known.insert(arn, tags);
        }
    }
}

/// The tags of each of `arns`: one DescribeTags, or (when AWS refuses it
/// because one of them is gone) one per ARN.
async fn describe_tags_each(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arns: Vec<String>,
) -> std::collections::HashMap<String, Found> {
    match describe_tags(client, arns.clone()).await {
        Ok(found) => found
            .into_iter()
            .map(|(arn, tags)| (arn, Ok(tags)))
            .collect(),
        Err(e) if e.is_not_found() && arns.len() > 1 => {
            let alone = arns.iter().map(|arn| async move {
                let found = describe_tags(client, vec![arn.clone()])
                    .await
                    .and_then(|mut found| {
                        found.remove(arn).ok_or_else(|| {
                            AwsError::new(
                                "elasticloadbalancing:DescribeTags",
                                format!("{arn}: no tags answered"),
                            )
                        })
                    });
                (arn.clone(), found)
            });
            futures::future::join_all(alone).await.into_iter().collect()
        }
        Err(e) => arns.into_iter().map(|arn| (arn, Err(e.clone()))).collect(),
    }
}

async fn describe_tags(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arns: Vec<String>,
) -> Result<std::collections::HashMap<String, BTreeMap<String, String>>, AwsError> {
    let out = client
        .describe_tags()
        .set_resource_arns(Some(arns))
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeTags", e))?;
    Ok(out
        .tag_descriptions()
        .iter()
        .filter_map(|d| {
            let tags = d
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect();
            Some((d.resource_arn()?.to_string(), tags))
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    /// ELB's DescribeTags as AWS answers it: the tags of every ARN asked,
    /// or `TargetGroupNotFound` for the whole call when one is gone.
    fn elb() -> FakeEndpoint {
        FakeEndpoint::start(|op, request| {
            assert_eq!(op, "DescribeTags");
            let fields = request.as_object().expect("a form");
            let arns: Vec<&str> = fields
                .iter()
                .filter(|(k, _)| k.starts_with("ResourceArns.member."))
                .filter_map(|(_, v)| v.as_str())
                .collect();
            assert!(arns.len() <= DESCRIBE_TAGS_MAX, "{}", arns.len());
            if arns.iter().any(|a| a.contains("gone")) {
                return (
                    400,
                    Value::String(
                        "<ErrorResponse><Error><Type>Sender</Type><Code>TargetGroupNotFound</Code>\
                         <Message>One or more target groups not found</Message></Error></ErrorResponse>"
                            .into(),
                    ),
                );
            }
            let described: String = arns
                .iter()
                .map(|a| {
                    format!(
                        "<member><ResourceArn>{a}</ResourceArn><Tags><member><Key>k</Key><Value>{a}</Value></member></Tags></member>"
                    )
                })
                .collect();
            (
                200,
                Value::String(format!(
                    "<DescribeTagsResponse><DescribeTagsResult><TagDescriptions>{described}</TagDescriptions></DescribeTagsResult></DescribeTagsResponse>"
                )),
            )
        })
    }

    fn arn(i: usize) -> String {
        format!("arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/tg-{i}/abc")
    }

    #[tokio::test]
    async fn concurrent_tag_reads_share_describe_tags_twenty_at_a_time() {
        let fake = elb();
        let aws = fake.clients();
        let arns: Vec<String> = (0..25).map(arn).collect();
        let found = futures::future::join_all(arns.iter().map(|a| tags_of(&aws, a))).await;
        for (a, tags) in arns.iter().zip(found) {
            assert_eq!(tags.unwrap().get("k"), Some(a));
        }
        assert_eq!(fake.calls().len(), 2, "{:?}", fake.calls());
    }

    #[tokio::test]
    async fn one_object_gone_fails_only_its_own_read() {
        let fake = elb();
        let aws = fake.clients();
        let gone = "arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/gone/abc".to_string();
        let arns: Vec<String> = (0..3).map(arn).chain([gone]).collect();
        let found = futures::future::join_all(arns.iter().map(|a| tags_of(&aws, a))).await;
        assert!(found[..3].iter().all(|f| f.is_ok()), "{found:?}");
        let e = found[3].as_ref().unwrap_err();
        assert!(e.is_not_found(), "{e}");
        // The batch, then each of its four alone.
        assert_eq!(fake.calls().len(), 5, "{:?}", fake.calls());
    }
}
