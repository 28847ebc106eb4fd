//! CloudWatch dashboard. Its id is its name. Dashboards are global to an
//! account (one namespace of names for every region), so the name carries
//! the region as well as the platform and service. They are taggable:
//! TagResource on the dashboard's ARN (which GetDashboard reports), so a
//! dashboard carries the owner tag, and a create that meets a dashboard of
//! its name adopts it only when that tag names the same owner.

use async_trait::async_trait;

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::operation::get_dashboard::GetDashboardOutput;

use crate::aws::compare::{absent_if_not_found, json_differences};
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::cloudwatch::DashboardSpec;

impl DashboardSpec {
    /// PutDashboard, then TagResource (CloudWatch takes no tags with the
    /// body) on `arn` when the caller knows it.
    async fn put(&self, aws: &Clients, arn: Option<String>) -> Result<(), AwsError> {
        let out = aws
            .cloudwatch
            .put_dashboard()
            .dashboard_name(&self.name)
            .dashboard_body(&self.body)
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
        self.tag(aws, arn).await
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

impl DashboardSpec {
    /// CloudWatch cannot tag a dashboard in the PutDashboard that writes
    /// it, so a create killed between the two (Terraform never got the
    /// answer, nothing is in state) leaves a dashboard with no tags at all.
    /// One with no tags whose body is exactly the one this resource writes
    /// (its own metrics, by its names) is taken for that leftover: adopting
    /// it changes nothing in it but its tags. Any tag, or any other body,
    /// and it is someone else's.
    fn left_between_put_and_tag(
        &self,
        existing: &GetDashboardOutput,
        tags: &BTreeMap<String, String>,
    ) -> bool {
        let as_json = |body: &str| serde_json::from_str::<serde_json::Value>(body).ok();
        tags.is_empty()
            && as_json(existing.dashboard_body().unwrap_or_default()).is_some()
            && as_json(existing.dashboard_body().unwrap_or_default()) == as_json(&self.body)
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
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(out) = get_dashboard(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if id != self.name {
            diffs.push(format!("dashboard name is {id}, want {}", self.name));
        }
        // Compare as JSON values: AWS may reformat the text.
        let found: serde_json::Value =
            serde_json::from_str(out.dashboard_body().unwrap_or("{}")).unwrap_or_default();
        let wanted: serde_json::Value = serde_json::from_str(&self.body).unwrap_or_default();
        // Only what we wrote is compared: keys AWS adds are no difference.
        diffs.extend(json_differences("dashboard body", &found, &wanted));
        if let Some(arn) = out.dashboard_arn() {
            diffs.extend(tags::differences(
                &self.tags,
                &super::tags_of(aws, arn).await?,
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        let mut arn = None;
        if let Some(existing) = get_dashboard(aws, &self.name).await? {
            arn = existing.dashboard_arn().map(str::to_string);
            let found = match &arn {
                Some(arn) => super::tags_of(aws, arn).await?,
                None => BTreeMap::new(),
            };
            if self.left_between_put_and_tag(&existing, &found) {
                tracing::info!(
                    dashboard = %self.name,
                    "adopting an untagged dashboard whose body is exactly this resource's: \
                     what a create stopped between PutDashboard and TagResource leaves"
                );
            } else {
                tags::claim(
                    "cloudwatch:PutDashboard",
                    "CloudWatch dashboard",
                    &self.name,
                    &self.tags,
                    &found,
                )?;
            }
        }
        self.put(aws, arn).await?;
        Ok(self.name.clone())
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
        self.put(aws, None).await?;
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
mod leftover_tests {
    use super::*;

    fn spec() -> DashboardSpec {
        DashboardSpec {
            name: "matbakh-auth-service-eu-central-1".into(),
            body: r#"{"widgets":[{"type":"metric","x":0}]}"#.into(),
            tags: [(
                "matbakh:owner".to_string(),
                "matbakh/auth-service".to_string(),
            )]
            .into_iter()
            .collect(),
        }
    }

    fn existing(body: &str) -> GetDashboardOutput {
        GetDashboardOutput::builder().dashboard_body(body).build()
    }

    #[test]
    fn an_untagged_dashboard_with_exactly_our_body_is_a_killed_create_of_ours() {
        // AWS may reformat the text: the JSON is compared.
        let same = existing(r#"{ "widgets": [ { "x": 0, "type": "metric" } ] }"#);
        assert!(spec().left_between_put_and_tag(&same, &BTreeMap::new()));
    }

    #[test]
    fn any_tag_or_any_other_body_is_someone_elses() {
        let same = existing(r#"{"widgets":[{"type":"metric","x":0}]}"#);
        let tagged: BTreeMap<String, String> = [("team".to_string(), "x".to_string())]
            .into_iter()
            .collect();
        assert!(!spec().left_between_put_and_tag(&same, &tagged));
        let other = existing(r#"{"widgets":[{"type":"metric","x":6}]}"#);
        assert!(!spec().left_between_put_and_tag(&other, &BTreeMap::new()));
        assert!(!spec().left_between_put_and_tag(&existing("not json"), &BTreeMap::new()));
    }
}
