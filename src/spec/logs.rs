//! CloudWatch Logs objects.

use super::tags::Tags;

/// A log group every container of a microservice writes to.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LogGroupSpec {
    pub name: String,
    /// One of CloudWatch Logs' accepted retention periods, days.
    pub retention_days: i32,
    pub tags: Tags,
}
