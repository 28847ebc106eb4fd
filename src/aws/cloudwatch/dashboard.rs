//! CloudWatch dashboard. Its id is its name. Dashboards are global to an
//! account (one namespace of names for every region), so the name carries
//! the region as well as the platform and service. They are taggable:
//! PutDashboard takes `Tags` when it creates a dashboard (botocore 1.44.5,
//! aws-sdk-cloudwatch in Cargo.lock), so a dashboard is never untagged, not
//! even for a moment; an update ignores them, so a rewrite tags it with
//! TagResource on its ARN (which GetDashboard reports). A create that meets
//! a dashboard of its name adopts it only by the ownership token, like every
//! other object.

use async_trait::async_trait;
use futures::FutureExt;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_cloudwatch::operation::get_dashboard::GetDashboardOutput;
use aws_sdk_cloudwatch::types::Tag;

use crate::aws::compare::{absent_if_not_found, json_differences};
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::cloudwatch::DashboardSpec;

impl DashboardSpec {
    /// PutDashboard with the tags (they apply when it creates the
    /// dashboard). Over an existing dashboard (`existing`, its ARN when the
    /// caller knows it) they are ignored: TagResource follows.
    async fn put(&self, aws: &Clients, existing: Option<Option<String>>) -> Result<(), AwsError> {
        let out = aws
            .cloudwatch
            .put_dashboard()
            .dashboard_name(&self.name)
            .dashboard_body(&self.body)
            .set_tags(Some(self.aws_tags()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:PutDashboard", e))?;
        let problems: Vec<String> = out
            .dashboard_validation_messages()
            .iter()
            .filter_map(|m| m.message().map(str::to_string))
            .collect();
        if !problems.is_empty() {
            return Err(AwsError::new(
                "cloudwatch:PutDashboard",
                problems.join("; "),
            ));
        }
        match existing {
            Some(arn) => self.tag(aws, arn).await,
            None => Ok(()),
        }
    }

    fn aws_tags(&self) -> Vec<Tag> {
        self.tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    /// The dashboard's ARN, as GetDashboard reports it; `None` when missing.
    async fn arn(&self, aws: &Clients, name: &str) -> Result<Option<String>, AwsError> {
        let out = get_dashboard(aws, name).await?;
        Ok(out.and_then(|o| o.dashboard_arn().map(str::to_string)))
    }

    async fn tag(&self, aws: &Clients, arn: Option<String>) -> Result<(), AwsError> {
        const CALL: &str = "cloudwatch:TagResource";
        // Known, or written in AWS's form when the account is; else asked.
        let arn = match arn.or_else(|| {
            crate::aws::arn::dashboard(&aws.region, aws.account_id.as_deref(), &self.name)
        }) {
            Some(arn) => arn,
            None => self.arn(aws, &self.name).await?.ok_or_else(|| {
                AwsError::new(CALL, format!("dashboard {} has no ARN", self.name))
            })?,
        };
        super::put_tags(aws, &arn, &self.tags).await
    }
}

/// The dashboard of this name, `None` when there is none.
async fn get_dashboard(aws: &Clients, name: &str) -> Result<Option<GetDashboardOutput>, AwsError> {
    aws.remembered(format!("cloudwatch:GetDashboard {name}"), || async {
        absent_if_not_found(
            aws.cloudwatch
                .get_dashboard()
                .dashboard_name(name)
                .send()
                .await
                .map_err(|e| AwsError::sdk("cloudwatch:GetDashboard", e)),
        )
    })
    .await
}

/// A dashboard as ListDashboards names it.
#[derive(Clone, Debug, PartialEq)]
struct Listed {
    arn: Option<String>,
    /// `LastModified` (exact to what AWS gives: milliseconds, botocore's
    /// `DashboardEntry`) and `Size`: two writes within one millisecond of
    /// each other would also have to be of one size to pass for one.
    last_modified: String,
}

/// Every dashboard of the account (they are global), name to entry, as
/// listed once for every refresh of this provider process: one paged
/// ListDashboards (1,000 a page) answers for all of them instead of a
/// GetDashboard each. Terraform runs a plan's refreshes in a process that
/// writes nothing (see `cloudmap::service_connect_discovery`), so the
/// listing stands for all of them. A listing that fails is not kept.
async fn refresh_listing(aws: &Clients) -> Result<Arc<HashMap<String, Listed>>, AwsError> {
    type Listing = tokio::sync::Mutex<Option<Arc<HashMap<String, Listed>>>>;
    let shared = aws
        .gatherers
        .shared::<Listing>("cloudwatch:ListDashboards (refresh)");
    let mut listing = shared.lock().await;
    if let Some(found) = listing.as_ref() {
        return Ok(found.clone());
    }
    let found = Arc::new(list_dashboards(aws, None).await?);
    *listing = Some(found.clone());
    Ok(found)
}

/// The shared listing, `None` when it cannot be had (a deployer policy
/// written before it granted `cloudwatch:ListDashboards`): the dashboards
/// are then read one by one, as before.
async fn listing_or_none(aws: &Clients) -> Option<Arc<HashMap<String, Listed>>> {
    match refresh_listing(aws).await {
        Ok(listing) => Some(listing),
        Err(e) => {
            tracing::debug!(error = %e, "dashboards not listed; reading each");
            None
        }
    }
}

/// ListDashboards, every page, of the dashboards whose name starts with
/// `prefix`.
async fn list_dashboards(
    aws: &Clients,
    prefix: Option<&str>,
) -> Result<HashMap<String, Listed>, AwsError> {
    let mut found = HashMap::new();
    let mut next: Option<String> = None;
    loop {
        let out = aws
            .cloudwatch
            .list_dashboards()
            .set_dashboard_name_prefix(prefix.map(str::to_string))
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:ListDashboards", e))?;
        for entry in out.dashboard_entries() {
            let (Some(name), Some(modified)) = (entry.dashboard_name(), entry.last_modified())
            else {
                continue;
            };
            found.insert(
                name.to_string(),
                Listed {
                    arn: entry.dashboard_arn().map(str::to_string),
                    last_modified: format!(
                        "{}.{:09}+{}",
                        modified.secs(),
                        modified.subsec_nanos(),
                        entry.size().unwrap_or(-1)
                    ),
                },
            );
        }
        match out.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => return Ok(found),
        }
    }
}

/// The version private state keeps for a dashboard: its `LastModified`
/// and the hash of the body it was found (or written) to hold. AWS changes
/// `LastModified` on every PutDashboard, so the same `LastModified` means
/// the same body.
fn version(last_modified: &str, body: &str) -> String {
    format!("{last_modified} {}", body_hash(body))
}

/// The hash of a dashboard body, as JSON (AWS may reformat the text).
pub fn body_hash(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    crate::aws::compare::stable_hash(&value.to_string())
}

/// The body hash a version names.
pub fn body_of_version(version: &str) -> Option<&str> {
    version.split_once(' ').map(|(_, hash)| hash)
}

/// The tags of a dashboard, for a read: CloudWatch's own
/// ListTagsForResource, never the Resource Groups Tagging API. CloudWatch
/// tags dashboards (its TagResource and ListTagsForResource references:
/// "alarms, dashboards, metric streams and Contributor Insights rules",
/// ARN `arn:aws:cloudwatch::ACCOUNT:dashboard/NAME`, no region), but only
/// through its own tag operations: the tagging API does not cover them
/// (cloud-custodian issue 11029: its TagResources refuses the region-less
/// ARN as "not a valid AmazonResourceName"; its maintainers' fix, PR 11090,
/// reads and writes dashboard tags with CloudWatch's APIs because they are
/// not available through it). A GetResources by ARN would be a wasted
/// place in a batch at best, and would hold this read back behind the
/// process's listing in a refresh.
async fn tags_read(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    super::tags_of(aws, arn).await
}

impl DashboardSpec {
    /// Note the version of the dashboard this apply just wrote: one
    /// ListDashboards by its name gives its `LastModified`, so the next
    /// refresh need not read the body. A failure only costs that refresh a
    /// GetDashboard.
    async fn note_written(&self, aws: &Clients) {
        match list_dashboards(aws, Some(&self.name)).await {
            Ok(found) => {
                if let Some(entry) = found.get(&self.name) {
                    aws.versions
                        .note(&self.name, version(&entry.last_modified, &self.body));
                }
            }
            Err(e) => {
                tracing::debug!(dashboard = self.name.as_str(), error = %e, "version not noted")
            }
        }
    }

    /// In a refresh: the dashboard of this name from the shared listing,
    /// with the body the driver vouched for when its `LastModified` is the
    /// one recorded. `None` when the listing does not decide (read it).
    async fn read_back_listed(
        &self,
        aws: &Clients,
    ) -> Result<Option<Option<Found<DashboardSpec>>>, AwsError> {
        let Some(listing) = listing_or_none(aws).await else {
            return Ok(None);
        };
        // Not listed: asked (a dashboard written a moment ago may not be
        // listed yet).
        let Some(entry) = listing.get(&self.name) else {
            return Ok(None);
        };
        let Some(crate::spec::Spec::Dashboard(vouched)) = aws.versions.vouched_any(&self.name)
        else {
            return Ok(None);
        };
        if aws.versions.recorded(&self.name)
            != Some(version(&entry.last_modified, &vouched.body).as_str())
        {
            return Ok(None);
        }
        let Some(arn) = &entry.arn else {
            return Ok(None);
        };
        let spec = DashboardSpec {
            name: self.name.clone(),
            body: vouched.body,
            tags: tags_read(aws, arn).await?,
        };
        Ok(Some(Some(Found::new(spec, &self.name))))
    }

    /// Read back the dashboard of this name (its id), body as AWS returns it.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<DashboardSpec>>, AwsError> {
        if aws.memo.is_some() {
            if let Some(found) = self.read_back_listed(aws).await? {
                return Ok(found);
            }
        }
        let Some(o) = get_dashboard(aws, &self.name).await? else {
            return Ok(None);
        };
        let tags = match o.dashboard_arn() {
            Some(arn) => super::tags_of(aws, arn).await?,
            None => BTreeMap::new(),
        };
        let spec = DashboardSpec {
            name: o.dashboard_name().unwrap_or(&self.name).to_string(),
            body: o.dashboard_body().unwrap_or_default().to_string(),
            tags,
        };
        Ok(Some(Found::new(spec, &self.name)))
    }
}

impl DashboardSpec {
    /// [`Adapter::observe`] of this dashboard (ids resolved), its tags
    /// asked at the start when its ARN (`known_arn`) is known.
    async fn observe_with(
        &self,
        aws: &Clients,
        id: &str,
        known_arn: Option<&str>,
        early_tags: impl std::future::Future<
            Output = Option<Result<BTreeMap<String, String>, AwsError>>,
        >,
    ) -> Result<Observation, AwsError> {
        let this = self;
        let tags_of_arn = |arn: String| {
            let early = (known_arn == Some(arn.as_str())).then_some(early_tags);
            async move {
                match early {
                    Some(early) => match early.await {
                        Some(found) => found,
                        None => tags_read(aws, &arn).await,
                    },
                    None => tags_read(aws, &arn).await,
                }
            }
        };
        // A refresh takes each dashboard's LastModified from the shared
        // listing: one the listing does not name is gone; one whose
        // LastModified is the recorded one still holds the body it was
        // found in sync with, and only its tags are read.
        let mut listed = None;
        let listing = match aws.memo.is_some() {
            true => listing_or_none(aws).await,
            false => None,
        };
        // One the listing does not name is asked for below: gone, or
        // written a moment ago and not listed yet.
        if let Some(entry) = listing.as_ref().and_then(|l| l.get(id)) {
            let seen = version(&entry.last_modified, &this.body);
            if let (Some(arn), true) = (&entry.arn, aws.versions.recorded(id) == Some(&seen)) {
                let mut diffs = Vec::new();
                if id != this.name {
                    diffs.push(format!("dashboard name is {id}, want {}", this.name));
                }
                diffs.extend(tags::differences(
                    &this.tags,
                    &tags_of_arn(arn.clone()).await?,
                ));
                aws.versions.note(id, seen);
                return Ok(Observation::with_differences(diffs));
            }
            listed = Some(seen);
        }
        let Some(out) = get_dashboard(aws, id).await? else {
            // A missing dashboard's tag read may fail: it does not matter.
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if id != this.name {
            diffs.push(format!("dashboard name is {id}, want {}", this.name));
        }
        // Compare as JSON values: AWS may reformat the text.
        let found: serde_json::Value =
            serde_json::from_str(out.dashboard_body().unwrap_or("{}")).unwrap_or_default();
        let wanted: serde_json::Value = serde_json::from_str(&this.body).unwrap_or_default();
        // Only what we wrote is compared: keys AWS adds are no difference.
        diffs.extend(json_differences("dashboard body", &found, &wanted));
        if let (Some(seen), true) = (listed, diffs.is_empty()) {
            // In sync at (no later than) the listed LastModified.
            aws.versions.note(id, seen);
        }
        if let Some(arn) = out.dashboard_arn() {
            let found = tags_of_arn(arn.to_string()).await?;
            diffs.extend(tags::differences(&this.tags, &found));
        }
        Ok(Observation::with_differences(diffs))
    }
}

#[async_trait]
impl Adapter for DashboardSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let resolved_self = self.with_ids(resolved);
        // With the account known the ARN is known: the tags are asked from
        // the start, beside the listing and the body, not after them (one
        // round instead of two); `early_tags` is driven alongside and
        // awaited where the tags are compared.
        let known_arn = crate::aws::arn::dashboard(&aws.region, aws.account_id.as_deref(), id);
        let early_tags = async {
            match &known_arn {
                Some(arn) => Some(tags_read(aws, arn).await),
                None => None,
            }
        }
        .shared();
        let (observed, _) = futures::join!(
            resolved_self.observe_with(aws, id, known_arn.as_deref(), early_tags.clone()),
            early_tags.clone()
        );
        observed
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let resolved_self = self.with_ids(resolved);
        let this = &resolved_self;
        let mut existing_arn = None;
        if let Some(existing) = get_dashboard(aws, &this.name).await? {
            let arn = existing.dashboard_arn().map(str::to_string);
            let found = match &arn {
                Some(arn) => super::tags_of(aws, arn).await?,
                None => BTreeMap::new(),
            };
            tags::claim(
                "cloudwatch:PutDashboard",
                "CloudWatch dashboard",
                &this.name,
                &this.tags,
                &found,
            )?;
            existing_arn = Some(arn);
        }
        this.put(aws, existing_arn).await?;
        this.note_written(aws).await;
        Ok(this.name.clone())
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if id != self.name {
            // Renamed (say, the region joined the name): the new name is
            // created with the ownership check, then the old one goes.
            let created = self.create(aws, resolved).await?;
            self.delete(aws, id).await?;
            return Ok(created);
        }
        // Our own dashboard: rewrite it and its tags (dashboards made before
        // they carried tags get the owner tag here).
        let this = self.with_ids(resolved);
        this.put(aws, Some(None)).await?;
        this.note_written(aws).await;
        Ok(self.name.clone())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let result = aws
            .cloudwatch
            .delete_dashboards()
            .dashboard_names(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::sdk("cloudwatch:DeleteDashboards", e));
        match result {
            Err(e) if e.is_not_found() || e.code.as_deref() == Some("ResourceNotFound") => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    const BODY: &str = r#"{"widgets":[{"type":"text","properties":{"markdown":"hi"}}]}"#;

    fn spec(name: &str) -> DashboardSpec {
        DashboardSpec {
            name: name.into(),
            body: BODY.into(),
            tags: [("matbakh:owner".to_string(), "o".to_string())]
                .into_iter()
                .collect(),
        }
    }

    /// CloudWatch with dashboards `d-1` .. `d-{n-1}`, each last modified
    /// at second 1000 but `d-1`, rewritten out of band at second 2000 (its
    /// body no longer ours).
    fn cloudwatch(n: usize) -> FakeEndpoint {
        FakeEndpoint::start(move |op, _| match op {
            "ListDashboards" => {
                let entries: Vec<_> = (1..n)
                    .map(|i| {
                        let at = if i == 1 { 2000.0 } else { 1000.0 };
                        json!({"DashboardName": format!("d-{i}"),
                               "DashboardArn": format!("arn:aws:cloudwatch::1:dashboard/d-{i}"),
                               "LastModified": {"$epoch": at}, "Size": 10})
                    })
                    .collect();
                (200, json!({"DashboardEntries": entries}))
            }
            "GetDashboard" => (
                200,
                json!({"DashboardName": "d-1", "DashboardArn": "arn:aws:cloudwatch::1:dashboard/d-1",
                       "DashboardBody": r#"{"widgets":[]}"#}),
            ),
            "ListTagsForResource" => (
                200,
                json!({"Tags": [{"Key": "matbakh:owner", "Value": "o"}]}),
            ),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        })
    }

    #[tokio::test]
    async fn a_refresh_lists_dashboards_once_and_reads_only_the_changed_body() {
        let n = 20;
        let fake = cloudwatch(n);
        let base = fake.clients();
        let resolved = Resolved::default();
        let recorded: crate::aws::versions::VersionMap = (0..n)
            .map(|i| (format!("d-{i}"), version("1000.000000000+10", BODY)))
            .collect();
        let refreshes = (1..n).map(|i| {
            let aws = base.remembering_reads().with_versions(recorded.clone());
            let resolved = &resolved;
            async move {
                let name = format!("d-{i}");
                let observed = spec(&name).observe(&aws, &name, resolved).await.unwrap();
                (observed, aws.versions.to_record([name].iter()))
            }
        });
        let results = futures::future::join_all(refreshes).await;
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        assert_eq!(count("ListDashboards"), 1, "{calls:?}");
        assert_eq!(count("GetDashboard"), 1, "{calls:?}");
        // Rewritten out of band: its body differs.
        assert!(
            matches!(&results[0].0, Observation::Present { differences } if differences.iter().any(|d| d.contains("dashboard body"))),
            "{:?}",
            results[0].0
        );
        for (observed, kept) in &results[1..] {
            assert_eq!(*observed, Observation::in_sync());
            assert_eq!(kept.len(), 1);
        }
        // The rewritten one keeps its old version: the next refresh reads it again.
        assert_eq!(
            results[0].1.get("d-1").map(String::as_str),
            Some(version("1000.000000000+10", BODY).as_str())
        );
    }

    #[tokio::test]
    async fn a_dashboard_the_listing_does_not_name_is_asked_for_and_missing() {
        let fake = FakeEndpoint::start(|op, _| match op {
            "ListDashboards" => (200, json!({"DashboardEntries": []})),
            _ => (
                400,
                json!({"__type": "ResourceNotFound", "message": "Dashboard does not exist"}),
            ),
        });
        let aws = fake
            .clients()
            .remembering_reads()
            .with_versions([("d-0".to_string(), version("1000.000000000+10", BODY))].into());
        let observed = spec("d-0").observe(&aws, "d-0", &Resolved::default()).await;
        assert_eq!(observed.unwrap(), Observation::Missing);
        assert_eq!(fake.calls(), ["ListDashboards", "GetDashboard"]);
    }

    #[tokio::test]
    async fn without_a_record_the_body_is_read_and_its_version_noted() {
        let fake = FakeEndpoint::start(|op, _| match op {
            "ListDashboards" => (
                200,
                json!({"DashboardEntries": [{"DashboardName": "d-2",
                       "DashboardArn": "arn:aws:cloudwatch::1:dashboard/d-2",
                       "LastModified": {"$epoch": 1000.5}}]}),
            ),
            "GetDashboard" => (
                200,
                json!({"DashboardName": "d-2", "DashboardArn": "arn:aws:cloudwatch::1:dashboard/d-2",
                       "DashboardBody": BODY}),
            ),
            "ListTagsForResource" => (
                200,
                json!({"Tags": [{"Key": "matbakh:owner", "Value": "o"}]}),
            ),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let aws = fake.clients().remembering_reads();
        let observed = spec("d-2").observe(&aws, "d-2", &Resolved::default()).await;
        assert_eq!(observed.unwrap(), Observation::in_sync());
        assert!(fake.calls().contains(&"GetDashboard".to_string()));
        assert_eq!(
            aws.versions
                .to_record(["d-2".to_string()].iter())
                .get("d-2"),
            Some(&version("1000.500000000+-1", BODY))
        );
    }

    /// A refresh of dashboards in sync asks CloudWatch for each one's tags
    /// and never the tagging API (which does not cover dashboards), even
    /// where a listing of the owned objects would name them.
    #[tokio::test]
    async fn a_refresh_asks_cloudwatch_for_dashboard_tags_not_get_resources() {
        let n = 10;
        let fake = FakeEndpoint::start(move |op, body| match op {
            "ListDashboards" => {
                let entries: Vec<_> = (1..n)
                    .map(|i| {
                        json!({"DashboardName": format!("d-{i}"),
                               "DashboardArn": format!("arn:aws:cloudwatch::1:dashboard/d-{i}"),
                               "LastModified": {"$epoch": 1000.0}, "Size": 10})
                    })
                    .collect();
                (200, json!({"DashboardEntries": entries}))
            }
            "GetResources" => {
                assert!(body.get("ResourceARNList").is_none(), "{body}");
                let named: Vec<_> = (1..6)
                    .map(|i| {
                        json!({"ResourceARN": format!("arn:aws:cloudwatch::1:dashboard/d-{i}"),
                               "Tags": [{"Key": "matbakh:owner", "Value": "o"}]})
                    })
                    .collect();
                (200, json!({"ResourceTagMappingList": named}))
            }
            "ListTagsForResource" => (
                200,
                json!({"Tags": [{"Key": "matbakh:owner", "Value": "o"}]}),
            ),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let mut base = fake.clients();
        base.account_id = Some("1".into());
        let recorded: crate::aws::versions::VersionMap = (1..n)
            .map(|i| (format!("d-{i}"), version("1000.000000000+10", BODY)))
            .collect();
        let resolved = Resolved::default();
        let observed = futures::future::join_all((1..n).map(|i| {
            let aws = base.remembering_reads().with_versions(recorded.clone());
            let resolved = &resolved;
            async move {
                let name = format!("d-{i}");
                spec(&name).observe(&aws, &name, resolved).await
            }
        }))
        .await;
        for o in &observed {
            assert_eq!(o.as_ref().unwrap(), &Observation::in_sync());
        }
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        assert_eq!(count("ListDashboards"), 1, "{calls:?}");
        assert_eq!(count("GetResources"), 0, "{calls:?}");
        assert_eq!(count("ListTagsForResource"), 9, "{calls:?}");
        assert_eq!(count("GetDashboard"), 0, "{calls:?}");
    }
}
