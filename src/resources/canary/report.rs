//! What one canary operation (deploy, walk, settle, roll back) leaves
//! behind, on either backend.

use super::status::Status;
use crate::engine::{Resolved, StepError};

/// The result of an operation: what state must record, and why it failed.
#[derive(Debug)]
pub struct Report {
    pub recorded: Resolved,
    pub status: Status,
    pub weight: i64,
    /// Steps of the engine that failed (the candidate's objects).
    pub errors: Vec<StepError>,
    /// Why the walk rolled back.
    pub rolled_back: Option<String>,
    /// Why the walk stopped before its end (timeout, AWS error).
    pub stopped: Option<String>,
}

impl Report {
    /// A report of an operation that stopped before the walk began.
    pub fn stopped_at(recorded: Resolved, status: Status, weight: i64, why: String) -> Report {
        let mut r = Report::new(recorded, status, weight);
        r.stopped = Some(why);
        r
    }

    pub fn new(recorded: Resolved, status: Status, weight: i64) -> Report {
        Report {
            recorded,
            status,
            weight,
            errors: vec![],
            rolled_back: None,
            stopped: None,
        }
    }
}
