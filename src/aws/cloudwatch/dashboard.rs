//! The service's CloudWatch dashboard. Dashboards take no tags; the name
//! (the service's) is what ties it to the service. The recorded id is the
//! dashboard's ARN.

use async_trait::async_trait;

use crate::aws::{Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::cloudwatch::DashboardSpec;

impl DashboardSpec {
    /// The body AWS holds, or None when there is no such dashboard.
    async fn get(&self, aws: &Clients) -> Result<Option<(String, String)>, AwsError> {
        match aws.cloudwatch.get_dashboard().dashboard_name(&self.name).send().await {
            Ok(out) => Ok(Some((
                out.dashboard_arn().unwrap_or_default().to_string(),
                out.dashboard_body().unwrap_or_default().to_string(),
            ))),
            Err(e) => {
                let err = AwsError::sdk("cloudwatch:GetDashboard", e);
                if err.is_not_found() || err.code.as_deref() == Some("DashboardNotFoundError") {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn put(&self, aws: &Clients) -> Result<String, AwsError> {
        aws.cloudwatch
            .put_dashboard()
            .dashboard_name(&self.name)
            .dashboard_body(&self.body)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:PutDashboard", e))?;
        let (arn, _) = self
            .get(aws)
            .await?
            .ok_or_else(|| AwsError::new("cloudwatch:GetDashboard", format!("dashboard {} not found after PutDashboard", self.name)))?;
        Ok(arn)
    }
}

/// Bodies are compared as JSON values: AWS may re-serialise the text.
fn same_body(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[async_trait]
impl Adapter for DashboardSpec {
    async fn observe(&self, aws: &Clients, _id: &str, _: &Resolved) -> Result<Observation, AwsError> {
        Ok(match self.get(aws).await? {
            None => Observation::Missing,
            Some((_, body)) if same_body(&body, &self.body) => Observation::in_sync(),
            Some(_) => Observation::with_differences(vec!["dashboard body changed".into()]),
        })
    }

    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        self.put(aws).await
    }

    async fn update(&self, aws: &Clients, _id: &str, _: &Resolved) -> Result<String, AwsError> {
        self.put(aws).await
    }

    async fn delete(&self, aws: &Clients, _id: &str) -> Result<(), AwsError> {
        match aws.cloudwatch.delete_dashboards().dashboard_names(&self.name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = AwsError::sdk("cloudwatch:DeleteDashboards", e);
                if err.is_not_found() || err.code.as_deref() == Some("DashboardNotFoundError") {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same_body;

    #[test]
    fn bodies_compare_as_json() {
        assert!(same_body(r#"{"a": 1, "b": [1,2]}"#, r#"{"b":[1,2],"a":1}"#));
        assert!(!same_body(r#"{"a": 1}"#, r#"{"a": 2}"#));
    }
}
