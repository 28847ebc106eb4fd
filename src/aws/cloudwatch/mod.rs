//! Amazon CloudWatch: metric alarms and dashboards.
pub mod alarm;
pub mod alarm_state;
pub mod dashboard;
