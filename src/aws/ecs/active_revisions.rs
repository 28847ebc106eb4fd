//! Which task definition revisions are ACTIVE, as one listing a refresh
//! process shares.
//!
//! A revision's body never changes, but its status does: one deregistered
//! outside Terraform reads as gone (DescribeTaskDefinition filters on
//! ACTIVE), and the plan registers it again. A refresh that takes the
//! revision's body from its recorded version still has to see that. One
//! `ListTaskDefinitions` (status ACTIVE, 100 ARNs a page) of the region
//! answers it for every microservice of the process: Terraform runs a
//! plan's refreshes in a process that writes nothing (see
//! `cloudmap::service_connect_discovery`), so a listing taken once stands
//! for all of them. A listing that fails is not kept.

use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_ecs::types::TaskDefinitionStatus;

use crate::aws::{AwsError, Clients};

type Listing = tokio::sync::Mutex<Option<Arc<HashSet<String>>>>;

/// Whether revision `arn` is ACTIVE, from the process's shared listing.
pub async fn is_active(aws: &Clients, arn: &str) -> Result<bool, AwsError> {
    Ok(listing(aws).await?.contains(arn))
}

/// The ACTIVE revisions, sorted, from the process's shared listing (taken
/// now if no refresh took it yet): revisions a refresh's tag read carries
/// ahead (`task_definition.rs`). Empty outside a process that only reads,
/// and when the listing fails (the status check reports that).
pub async fn listed(aws: &Clients) -> Vec<String> {
    if aws.memo.is_none() {
        return Vec::new();
    }
    let Ok(listing) = listing(aws).await else {
        return Vec::new();
    };
    let mut arns: Vec<String> = listing.iter().cloned().collect();
    arns.sort();
    arns
}

async fn listing(aws: &Clients) -> Result<Arc<HashSet<String>>, AwsError> {
    let shared = aws
        .gatherers
        .shared::<Listing>("ecs:ListTaskDefinitions ACTIVE (refresh)");
    let mut listing = shared.lock().await;
    if let Some(found) = listing.as_ref() {
        return Ok(found.clone());
    }
    let found = Arc::new(list_active(aws).await?);
    *listing = Some(found.clone());
    Ok(found)
}

async fn list_active(aws: &Clients) -> Result<HashSet<String>, AwsError> {
    let mut pages = aws
        .ecs
        .list_task_definitions()
        .status(TaskDefinitionStatus::Active)
        .max_results(100)
        .into_paginator()
        .send();
    let mut found = HashSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("ecs:ListTaskDefinitions", e))?;
        found.extend(page.task_definition_arns().iter().cloned());
    }
    Ok(found)
}
