//! The sidecars' own settings: Envoy's log level and memory, the tracing
//! collector's sampling rate.

use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

pub const ENVOY_LOG_LEVELS: [&str; 7] = [
    "trace", "debug", "info", "warning", "error", "critical", "off",
];

impl Validator {
    pub(super) fn envoy(&mut self, c: &MicroserviceConfig) {
        let Some(e) = &c.envoy else { return };
        if let Some(level) = &e.log_level {
            if !ENVOY_LOG_LEVELS.contains(&level.as_str()) {
                self.error(
                    "envoy.0.log_level",
                    "Unknown log level",
                    format!("{level:?} is not one of {}", ENVOY_LOG_LEVELS.join(", ")),
                );
            }
        }
        // Envoy needs some headroom to start at all.
        if let Some(m) = e.memory {
            if (1..64).contains(&m) {
                self.error(
                    "envoy.0.memory",
                    "Too little memory for Envoy",
                    "give Envoy at least 64 MiB",
                );
            }
        }
    }

    pub(super) fn tracing(&mut self, c: &MicroserviceConfig) {
        let Some(rate) = c.tracing.as_ref().and_then(|t| t.sampling_rate) else {
            return;
        };
        if !(0.0..=1.0).contains(&rate) {
            self.error(
                "tracing.0.sampling_rate",
                "Invalid sampling rate",
                format!("{rate} is not a fraction between 0 and 1 (0.1 traces one request in ten)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn envoy_and_tracing_rules() {
        assert_eq!(
            paths(json!({"envoy": [{"log_level": "verbose"}]})),
            vec!["envoy.0.log_level"]
        );
        assert_eq!(
            paths(json!({"envoy": [{"memory": 32}]})),
            vec!["envoy.0.memory"]
        );
        assert_eq!(
            paths(json!({"tracing": [{"sampling_rate": 10}]})),
            vec!["tracing.0.sampling_rate"]
        );
        assert_eq!(
            paths(json!({"tracing": [{"sampling_rate": -0.1}]})),
            vec!["tracing.0.sampling_rate"]
        );
    }
}
