//! The task definition revisions this process's ECS services run, as the
//! refreshes' DescribeServices answers named them: the ARNs a refresh's
//! tag read of a revision fills its GetResources with.
//!
//! A refresh takes a recorded revision's body from its record and reads
//! only its tags (`task_definition.rs`), by ARN through GetResources. Asks
//! gathered within the gatherer's window meet only the few refreshes
//! Terraform runs at that moment (about 0.8 GetResources per microservice
//! at 100 under the quota model); GetResources takes 100 ARNs. The
//! services' answers, which a plan's process fetches ahead ten at a time
//! (`services_gathered.rs`), name the revisions the next refreshes will
//! ask about: a GetResources that goes anyway carries them, and their
//! refreshes then send nothing. Only in a process that only reads (a
//! refresh's clients carry its read memo): an apply must see its own
//! writes, and its services' answers are not noted.

use std::collections::HashSet;
use std::sync::Mutex;

use aws_sdk_ecs::types::Service;

use crate::aws::Clients;

#[derive(Default)]
struct Named {
    /// In the order the answers named them: earlier services' refreshes
    /// come first.
    arns: Vec<String>,
    seen: HashSet<String>,
}

const KIND: &str = "revisions the described ECS services run (refresh)";

/// Note the revisions `services` run (each one's task definition and its
/// deployments', e.g. a canary's; not an INACTIVE service's), in a process
/// that only reads.
pub fn note(aws: &Clients, services: &[Service]) {
    if aws.memo.is_none() {
        return;
    }
    let named = aws.gatherers.shared::<Mutex<Named>>(KIND);
    let mut named = named.lock().unwrap_or_else(|e| e.into_inner());
    for s in services.iter().filter(|s| s.status() != Some("INACTIVE")) {
        let running = s.task_definition().into_iter();
        let deployed = s.deployments().iter().filter_map(|d| d.task_definition());
        for arn in running.chain(deployed) {
            if named.seen.insert(arn.to_string()) {
                named.arns.push(arn.to_string());
            }
        }
    }
}

/// The revisions this process's service answers named so far (empty
/// outside a process that only reads).
pub fn named(aws: &Clients) -> Vec<String> {
    if aws.memo.is_none() {
        return Vec::new();
    }
    aws.gatherers
        .shared::<Mutex<Named>>(KIND)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .arns
        .clone()
}
