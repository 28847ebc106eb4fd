//! Amazon CloudWatch: metric alarms and dashboards.
pub mod alarm;
pub mod dashboard;
