//! CloudWatch dashboard. Its id is its name. Dashboards take no tags, so
//! ownership cannot be checked: the name carries the platform and service,
//! and PutDashboard simply writes the body we want.

use async_trait::async_trait;

use crate::aws::compare::{absent_if_not_found, json_differences};
use crate::aws::{Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::cloudwatch::DashboardSpec;

impl DashboardSpec {
    async fn put(&self, aws: &Clients) -> Result<(), AwsError> {
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
        Ok(())
    }
}

impl DashboardSpec {
    /// Read back the dashboard of this name (its id), body as AWS returns it.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<DashboardSpec>>, AwsError> {
        let out = absent_if_not_found(
            aws.cloudwatch
                .get_dashboard()
                .dashboard_name(&self.name)
                .send()
                .await
                .map_err(|e| AwsError::sdk("cloudwatch:GetDashboard", e)),
        )?;
        Ok(out.map(|o| {
            let spec = DashboardSpec {
                name: o.dashboard_name().unwrap_or(&self.name).to_string(),
                body: o.dashboard_body().unwrap_or_default().to_string(),
            };
            Found::new(spec, &self.name)
        }))
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
        let out = absent_if_not_found(
            aws.cloudwatch
                .get_dashboard()
                .dashboard_name(id)
                .send()
                .await
                .map_err(|e| AwsError::sdk("cloudwatch:GetDashboard", e)),
        )?;
        let Some(out) = out else {
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
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        self.put(aws).await?;
        Ok(self.name.clone())
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if id != self.name {
            self.delete(aws, id).await?;
        }
        self.create(aws, resolved).await
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
