//! The microservices' cost estimates as AWS holds them: the
//! `matbakh:estimated-monthly-cost` tag each one writes on its ECS service.
//! Read from AWS (not from a Terraform state) so that a platform's sum and
//! the plan guard count services of every state alike.

use std::collections::BTreeMap;

use super::cluster_leftovers::active_service_tags;
use crate::aws::{AwsError, Clients};
use crate::spec::budgets::ESTIMATE_TAG;

/// USD a month of every ACTIVE service of `cluster` that carries an
/// estimate, by service name; empty when the cluster does not exist.
pub async fn service_estimates(
    aws: &Clients,
    cluster: &str,
) -> Result<BTreeMap<String, f64>, AwsError> {
    let services = match active_service_tags(aws, cluster).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => return Ok(BTreeMap::new()),
        Err(e) => return Err(e),
    };
    Ok(services
        .into_iter()
        .filter_map(|(name, tags)| {
            let usd = tags.get(ESTIMATE_TAG)?.parse::<f64>().ok()?;
            usd.is_finite().then_some((name, usd))
        })
        .collect())
}
