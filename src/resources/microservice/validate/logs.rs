//! The log group's retention, one of the periods CloudWatch Logs accepts.

use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

/// CloudWatch Logs' accepted retention periods, days.
pub const LOG_RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

impl Validator {
    pub(super) fn log_retention(&mut self, c: &MicroserviceConfig) {
        if let Some(days) = c.log_retention_days {
            if !LOG_RETENTION_DAYS.contains(&days) {
                let accepted: Vec<String> = LOG_RETENTION_DAYS.iter().map(i64::to_string).collect();
                self.error(
                    "log_retention_days",
                    "Unsupported retention",
                    format!(
                        "CloudWatch Logs keeps logs for one of {} days, not {days}",
                        accepted.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn log_retention_rules() {
        assert_eq!(
            paths(json!({"log_retention_days": 2})),
            vec!["log_retention_days"]
        );
        assert!(paths(json!({"log_retention_days": 3653})).is_empty());
    }
}
