//! CloudWatch Logs: the log group of a microservice. Its id is its name.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::operation::describe_log_groups::builders::DescribeLogGroupsFluentBuilder;
use aws_sdk_cloudwatchlogs::types::LogGroup;

use crate::aws::compare::gone_is_ok;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::logs::LogGroupSpec;

impl LogGroupSpec {
    /// The log group of this name, described together with the other
    /// groups asked for at the same moment ([`crate::aws::gatherer`]): one
    /// DescribeLogGroups per 50 names.
    async fn find(&self, aws: &Clients, name: &str) -> Result<Option<LogGroup>, AwsError> {
        if let Some(listing) = refresh_listing(aws, name).await? {
            if let Some(group) = listing.get(name) {
                return Ok(Some(group.clone()));
            }
        }
        aws.remembered(format!("logs:DescribeLogGroups {name}"), || async {
            let gatherer = aws
                .gatherers
                .of::<LogGroup>("logs:DescribeLogGroups", DESCRIBE_LOG_GROUPS_MAX_NAMES);
            let client = aws.logs.clone();
            gatherer
                .ask(name.to_string(), move |names| describe_named(client, names))
                .await
        })
        .await
    }

    /// The group's tags, for a read, when the account is known: in a
    /// refresh from the process's listing of the owned CloudWatch and Logs
    /// objects, else gathered into one GetResources by its ARN
    /// ([`crate::aws::tagging::monitoring_tags_of`]); ListTagsLogGroup when
    /// neither names it or the account is not known. Writes use
    /// [`Self::tags_of`].
    async fn tags_read(
        &self,
        aws: &Clients,
        name: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        match crate::aws::arn::log_group(&aws.region, aws.account_id.as_deref(), name) {
            Some(arn) => {
                crate::aws::tagging::monitoring_tags_of(aws, &arn, || self.tags_of(aws, name)).await
            }
            None => self.tags_of(aws, name).await,
        }
    }

    // ListTagsLogGroup is deprecated in favour of ListTagsForResource, but it
    // takes the name (no ARN juggling) and every emulator implements it.
    #[allow(deprecated)]
    async fn tags_of(
        &self,
        aws: &Clients,
        name: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        aws.remembered(format!("logs:ListTagsLogGroup {name}"), || async {
            let out = aws
                .logs
                .list_tags_log_group()
                .log_group_name(name)
                .send()
                .await
                .map_err(|e| AwsError::sdk("logs:ListTagsLogGroup", e))?;
            Ok(out
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default())
        })
        .await
    }

    /// Read back the log group of this name; a group that never expires
    /// reports `retention_days` 0.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<LogGroupSpec>>, AwsError> {
        // The tags go by name: read them at the same time as the group.
        let (group, tags) =
            futures::join!(self.find(aws, &self.name), self.tags_read(aws, &self.name));
        let Some(group) = group? else {
            return Ok(None);
        };
        let spec = LogGroupSpec {
            name: self.name.clone(),
            retention_days: group.retention_in_days().unwrap_or(0),
            tags: tags?,
        };
        Ok(Some(Found::new(spec, &self.name)))
    }

    async fn put_retention(&self, aws: &Clients, name: &str) -> Result<(), AwsError> {
        aws.logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(self.retention_days)
            .send()
            .await
            .map_err(|e| AwsError::sdk("logs:PutRetentionPolicy", e))?;
        Ok(())
    }
}

/// DescribeLogGroups takes at most 50 `logGroupIdentifiers` (names in the
/// caller's account; botocore logs 2014-03-28).
const DESCRIBE_LOG_GROUPS_MAX_NAMES: usize = 50;

/// In a refresh (a process that only reads, see
/// [`crate::aws::tagging::refresh_listing`]), every log group in the
/// "folder" of `name` (the name up to its last `/`: `/matbakh/PLATFORM/`
/// for a microservice's, one platform's groups), by name: one paged
/// DescribeLogGroups by `logGroupNamePrefix` (50 a page) for the whole
/// process, where asks gathered within a moment meet only the few
/// refreshes Terraform runs at once. `None` outside a refresh and for a
/// name in no folder; a listing that fails is not kept.
async fn refresh_listing(
    aws: &Clients,
    name: &str,
) -> Result<Option<Arc<HashMap<String, LogGroup>>>, AwsError> {
    type Listing = tokio::sync::OnceCell<Arc<HashMap<String, LogGroup>>>;
    type Listings = std::sync::Mutex<HashMap<String, Arc<Listing>>>;
    let folder = match name.rfind('/') {
        Some(end) if end > 0 && aws.memo.is_some() => &name[..=end],
        _ => return Ok(None),
    };
    let listing = aws
        .gatherers
        .shared::<Listings>("logs:DescribeLogGroups (refresh)")
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(folder.to_string())
        .or_default()
        .clone();
    let found = listing
        .get_or_try_init(|| async {
            describe_prefixed(aws.logs.clone(), folder)
                .await
                .map(Arc::new)
        })
        .await?
        .clone();
    Ok(Some(found))
}

/// DescribeLogGroups returns at most 50 groups a page (`limit`, botocore
/// logs 2014-03-28).
const DESCRIBE_LOG_GROUPS_PAGE: i32 = 50;

/// Every log group whose name starts with `prefix`, by name.
async fn describe_prefixed(
    client: aws_sdk_cloudwatchlogs::Client,
    prefix: &str,
) -> Result<HashMap<String, LogGroup>, AwsError> {
    describe_pages(&client, |request| {
        request
            .log_group_name_prefix(prefix)
            .limit(DESCRIBE_LOG_GROUPS_PAGE)
    })
    .await
}

/// The log groups of these names (at most 50) that exist, by name.
async fn describe_named(
    client: aws_sdk_cloudwatchlogs::Client,
    names: Vec<String>,
) -> Result<HashMap<String, LogGroup>, AwsError> {
    describe_pages(&client, |request| {
        request.set_log_group_identifiers(Some(names.clone()))
    })
    .await
}

/// Every page of the DescribeLogGroups that `narrow` shapes, by name.
async fn describe_pages(
    client: &aws_sdk_cloudwatchlogs::Client,
    narrow: impl Fn(DescribeLogGroupsFluentBuilder) -> DescribeLogGroupsFluentBuilder,
) -> Result<HashMap<String, LogGroup>, AwsError> {
    let mut found = HashMap::new();
    let mut next_token = None;
    loop {
        let out = narrow(client.describe_log_groups())
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| AwsError::sdk("logs:DescribeLogGroups", e))?;
        for group in out.log_groups() {
            if let Some(name) = group.log_group_name() {
                found.insert(name.to_string(), group.clone());
            }
        }
        next_token = out.next_token().map(str::to_string);
        if next_token.is_none() {
            return Ok(found);
        }
    }
}

#[async_trait]
impl Adapter for LogGroupSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        // The tags go by name: read them at the same time as the group.
        let (group, tags) = futures::join!(self.find(aws, id), self.tags_read(aws, id));
        let Some(group) = group? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if id != self.name {
            diffs.push(format!("log group name is {id}, want {}", self.name));
        }
        match group.retention_in_days() {
            Some(days) if days == self.retention_days => {}
            Some(days) => diffs.push(format!(
                "retention is {days} days, want {}",
                self.retention_days
            )),
            None => diffs.push(format!(
                "retention is unlimited, want {} days",
                self.retention_days
            )),
        }
        diffs.extend(tags::differences(&self.tags, &tags?));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let created = aws
            .logs
            .create_log_group()
            .log_group_name(&self.name)
            .set_tags(Some(self.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("logs:CreateLogGroup", e));
        match created {
            Ok(_) => {}
            Err(e) if e.code.as_deref() == Some("ResourceAlreadyExistsException") => {
                let found = self.tags_of(aws, &self.name).await?;
                tags::claim(
                    "logs:CreateLogGroup",
                    "log group",
                    &self.name,
                    &self.tags,
                    &found,
                )?;
                return self.update(aws, &self.name, resolved).await;
            }
            Err(e) => return Err(e),
        }
        self.put_retention(aws, &self.name).await?;
        Ok(self.name.clone())
    }

    #[allow(deprecated)]
    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if id != self.name {
            // A new name is a new log group; the old one is left to expire.
            return self.create(aws, resolved).await;
        }
        self.put_retention(aws, id).await?;
        aws.logs
            .tag_log_group()
            .log_group_name(id)
            .set_tags(Some(self.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("logs:TagLogGroup", e))?;
        // Tags are authoritative: what else the group carries goes.
        tags::remove_unwanted(&self.tags, self.tags_of(aws, id), |keys| async move {
            aws.logs
                .untag_log_group()
                .log_group_name(id)
                .set_tags(Some(keys))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("logs:UntagLogGroup", e))
        })
        .await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.logs
                .delete_log_group()
                .log_group_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("logs:DeleteLogGroup", e)),
        )
    }
}

#[cfg(test)]
mod gathered_tests {
    use serde_json::json;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    fn spec(name: &str) -> LogGroupSpec {
        LogGroupSpec {
            name: name.to_string(),
            retention_days: 7,
            tags: [("matbakh:owner".to_string(), name.to_string())].into(),
        }
    }

    #[tokio::test]
    async fn concurrent_log_group_reads_share_describe_log_groups_and_get_resources() {
        let fake = FakeEndpoint::start(|op, body| match op {
            "DescribeLogGroups" => {
                let names = body["logGroupIdentifiers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert!(body.get("logGroupNamePrefix").is_none());
                let groups: Vec<_> = names
                    .iter()
                    .filter_map(|n| n.as_str())
                    .filter(|n| !n.ends_with("gone"))
                    .map(|n| json!({"logGroupName": n, "retentionInDays": 7}))
                    .collect();
                (200, json!({"logGroups": groups}))
            }
            "GetResources" => {
                let found: Vec<_> = body["ResourceARNList"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|a| a.as_str())
                    .filter(|a| !a.ends_with("gone"))
                    .map(|a| {
                        let name = a.split(":log-group:").nth(1).unwrap_or_default();
                        json!({"ResourceARN": a,
                               "Tags": [{"Key": "matbakh:owner", "Value": name}]})
                    })
                    .collect();
                (200, json!({"ResourceTagMappingList": found}))
            }
            "ListTagsLogGroup" => (200, json!({"tags": {}})),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let mut aws = fake.clients();
        aws.account_id = Some("123456789012".into());
        let specs: Vec<LogGroupSpec> = (0..60)
            .map(|i| spec(&format!("/matbakh/p/s{i}")))
            .chain([spec("/matbakh/p/gone")])
            .collect();
        let resolved = Resolved::default();
        let observed =
            futures::future::join_all(specs.iter().map(|s| s.observe(&aws, &s.name, &resolved)))
                .await;
        assert!(
            matches!(&observed[0], Ok(Observation::Present { differences }) if differences.is_empty()),
            "{:?}",
            observed[0]
        );
        assert!(matches!(observed[60], Ok(Observation::Missing)));
        let mut calls = fake.calls();
        calls.sort();
        // 61 groups: DescribeLogGroups per 50 names, one GetResources for
        // every tag, one ListTagsLogGroup for the group it did not name.
        assert_eq!(
            calls,
            vec![
                "DescribeLogGroups",
                "DescribeLogGroups",
                "GetResources",
                "ListTagsLogGroup"
            ]
        );
    }

    /// A refresh of 60 microservices' log groups, each resource with its
    /// own memo: the platform's groups listed once by prefix (two pages of
    /// 50), their tags from one listing of the owned objects; the group
    /// the tag listing does not name has its tags asked of Logs, the one
    /// the prefix listing does not name (deleted) is asked for alone and
    /// seen as gone.
    #[tokio::test]
    async fn a_refresh_lists_the_platforms_log_groups_once_for_the_whole_process() {
        let n = 60;
        let fake = FakeEndpoint::start(move |op, body| match op {
            "DescribeLogGroups" if body.get("logGroupIdentifiers").is_some() => {
                (200, json!({"logGroups": []}))
            }
            "DescribeLogGroups" => {
                assert_eq!(body["logGroupNamePrefix"], json!("/matbakh/p/"));
                assert_eq!(body["limit"], json!(50));
                let all: Vec<String> = (0..n)
                    .map(|i| format!("/matbakh/p/s{i}"))
                    .chain(["/matbakh/p/untagged".to_string()])
                    .collect();
                let start: usize = body["nextToken"].as_str().map_or(0, |t| t.parse().unwrap());
                let end = (start + 50).min(all.len());
                let groups: Vec<_> = all[start..end]
                    .iter()
                    .map(|n| json!({"logGroupName": n, "retentionInDays": 7}))
                    .collect();
                match end < all.len() {
                    true => (
                        200,
                        json!({"logGroups": groups, "nextToken": end.to_string()}),
                    ),
                    false => (200, json!({"logGroups": groups})),
                }
            }
            "GetResources" => {
                assert!(body.get("ResourceARNList").is_none(), "{body}");
                let found: Vec<_> = (0..n)
                    .map(|i| {
                        let name = format!("/matbakh/p/s{i}");
                        json!({"ResourceARN": format!("arn:aws:logs:eu-central-1:1:log-group:{name}"),
                               "Tags": [{"Key": "matbakh:owner", "Value": name}]})
                    })
                    .collect();
                (
                    200,
                    json!({"ResourceTagMappingList": found, "PaginationToken": ""}),
                )
            }
            "ListTagsLogGroup" => (
                200,
                json!({"tags": {"matbakh:owner": "/matbakh/p/untagged"}}),
            ),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let mut configured = fake.clients();
        configured.account_id = Some("1".into());
        let specs: Vec<LogGroupSpec> = (0..n)
            .map(|i| spec(&format!("/matbakh/p/s{i}")))
            .chain([spec("/matbakh/p/untagged"), spec("/matbakh/p/gone")])
            .collect();
        let resolved = Resolved::default();
        let observed = futures::future::join_all(specs.iter().map(|s| {
            let aws = configured.remembering_reads();
            let resolved = &resolved;
            async move { s.observe(&aws, &s.name, resolved).await }
        }))
        .await;
        for o in &observed[..=n] {
            assert_eq!(o.as_ref().unwrap(), &Observation::in_sync());
        }
        assert_eq!(observed[n + 1].as_ref().unwrap(), &Observation::Missing);
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        // Two pages by prefix and the gone one by name.
        assert_eq!(count("DescribeLogGroups"), 3, "{calls:?}");
        assert_eq!(count("GetResources"), 1, "{calls:?}");
        // The untagged one's tags, and the gone one's (asked beside its
        // describe; the answer is not used).
        assert_eq!(count("ListTagsLogGroup"), 2, "{calls:?}");
    }
}
