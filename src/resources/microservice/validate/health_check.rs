//! The health check: a path, App Mesh's interval and timeout ranges with
//! the timeout below the interval, and the thresholds.

use std::time::Duration;

use super::validator::{show, Validator};
use crate::resources::microservice::config::{
    MicroserviceConfig, DEFAULT_HEALTH_CHECK_INTERVAL, DEFAULT_HEALTH_CHECK_TIMEOUT,
};

impl Validator {
    pub(super) fn health_check(&mut self, c: &MicroserviceConfig) {
        let Some(hc) = &c.health_check else { return };
        if let Some(path) = &hc.path {
            if !path.starts_with('/') || path.chars().any(char::is_whitespace) {
                self.error(
                    "health_check.0.path",
                    "Invalid health check path",
                    format!("{path:?} must start with / and contain no whitespace"),
                );
            }
        }
        // App Mesh: interval 5-300 s, timeout 2-60 s.
        let interval = self.duration(
            "health_check.0.interval",
            &hc.interval,
            Duration::from_secs(5),
            Duration::from_secs(300),
        );
        let timeout = self.duration(
            "health_check.0.timeout",
            &hc.timeout,
            Duration::from_secs(2),
            Duration::from_secs(60),
        );
        let interval_known = hc.interval.is_none() || interval.is_some();
        let timeout_known = hc.timeout.is_none() || timeout.is_some();
        if interval_known && timeout_known && (hc.interval.is_some() || hc.timeout.is_some()) {
            let interval = interval.unwrap_or(DEFAULT_HEALTH_CHECK_INTERVAL);
            let timeout = timeout.unwrap_or(DEFAULT_HEALTH_CHECK_TIMEOUT);
            if timeout >= interval {
                self.error(
                    "health_check.0.timeout",
                    "Timeout not below interval",
                    format!(
                        "the timeout ({}) must be shorter than the interval ({})",
                        show(timeout),
                        show(interval)
                    ),
                );
            }
        }
        self.int_range(
            "health_check.0.unhealthy_threshold",
            hc.unhealthy_threshold,
            2,
            10,
        );
        self.int_range(
            "health_check.0.healthy_threshold",
            hc.healthy_threshold,
            2,
            10,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn health_check_rules() {
        let hc = |v: serde_json::Value| paths(json!({"health_check": [v]}));
        assert_eq!(
            hc(json!({"interval": "4s"})),
            vec!["health_check.0.interval"]
        );
        assert_eq!(
            hc(json!({"interval": "301s"})),
            vec!["health_check.0.interval"]
        );
        assert_eq!(
            hc(json!({"interval": "30"})),
            vec!["health_check.0.interval"]
        );
        assert_eq!(hc(json!({"timeout": "1s"})), vec!["health_check.0.timeout"]);
        assert_eq!(
            hc(json!({"timeout": "61s"})),
            vec!["health_check.0.timeout"]
        );
        assert_eq!(
            hc(json!({"interval": "10s", "timeout": "10s"})),
            vec!["health_check.0.timeout"]
        );
        assert_eq!(
            hc(json!({"interval": "5s"})),
            vec!["health_check.0.timeout"]
        );
        assert_eq!(
            hc(json!({"unhealthy_threshold": 1})),
            vec!["health_check.0.unhealthy_threshold"]
        );
        assert_eq!(
            hc(json!({"healthy_threshold": 11})),
            vec!["health_check.0.healthy_threshold"]
        );
        assert_eq!(hc(json!({"path": "health"})), vec!["health_check.0.path"]);
        assert!(hc(json!({})).is_empty());
    }
}
