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

use std::collections::BTreeMap;

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

impl DashboardSpec {
    /// Read back the dashboard of this name (its id), body as AWS returns it.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<DashboardSpec>>, AwsError> {
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

#[async_trait]
impl Adapter for DashboardSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let resolved_self = self.with_ids(resolved);
        let this = &resolved_self;
        // With the account known the ARN is known: the tags are asked at
        // the same time as the dashboard, one round instead of two.
        let known_arn = crate::aws::arn::dashboard(&aws.region, aws.account_id.as_deref(), id);
        let (out, early_tags) = futures::join!(get_dashboard(aws, id), async {
            match &known_arn {
                Some(arn) => Some(super::tags_of(aws, arn).await),
                None => None,
            }
        });
        let Some(out) = out? else {
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
        if let Some(arn) = out.dashboard_arn() {
            let found = match early_tags {
                Some(found) if known_arn.as_deref() == Some(arn) => found?,
                _ => super::tags_of(aws, arn).await?,
            };
            diffs.extend(tags::differences(&this.tags, &found));
        }
        Ok(Observation::with_differences(diffs))
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
        self.with_ids(resolved).put(aws, Some(None)).await?;
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
