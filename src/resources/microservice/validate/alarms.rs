//! The CloudWatch alarms' thresholds and actions.

use super::aws_ids::is_arn;
use super::validator::Validator;
use crate::resources::microservice::config::{known, MicroserviceConfig};

impl Validator {
    pub(super) fn alarms(&mut self, c: &MicroserviceConfig) {
        let Some(a) = &c.alarms else { return };
        if let Some(p) = a.error_rate_percent {
            if !(0.0..=100.0).contains(&p) {
                self.error(
                    "alarms.0.error_rate_percent",
                    "Invalid error rate",
                    format!("{p} is not a percentage (0-100)"),
                );
            }
        }
        if let Some(ms) = a.p95_latency_ms {
            if ms <= 0.0 {
                self.error(
                    "alarms.0.p95_latency_ms",
                    "Invalid latency",
                    format!("{ms} is not a positive number of milliseconds"),
                );
            }
        }
        let actions = known(&a.actions);
        if actions.len() > 5 {
            self.error(
                "alarms.0.actions",
                "Too many alarm actions",
                "a CloudWatch alarm takes at most 5 actions",
            );
        }
        for (i, arn) in a.actions.iter().flatten().enumerate() {
            if let Some(arn) = arn {
                if !is_arn(arn) {
                    self.error(&format!("alarms.0.actions.{i}"), "Invalid alarm action", format!("{arn:?} is not an ARN (e.g. an SNS topic: arn:aws:sns:REGION:ACCOUNT:NAME)"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn alarm_rules() {
        let a = |v: serde_json::Value| paths(json!({"alarms": [v]}));
        assert_eq!(
            a(json!({"error_rate_percent": 101})),
            vec!["alarms.0.error_rate_percent"]
        );
        assert_eq!(
            a(json!({"p95_latency_ms": 0})),
            vec!["alarms.0.p95_latency_ms"]
        );
        assert_eq!(
            a(json!({"actions": ["alerts"]})),
            vec!["alarms.0.actions.0"]
        );
    }
}
