//! How calls to the service are retried, timed out and cut off: retry,
//! timeout and circuit_breaker, within App Mesh's ranges.

use std::time::Duration;

use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

pub const HTTP_RETRY_EVENTS: [&str; 4] = [
    "server-error",
    "gateway-error",
    "client-error",
    "stream-error",
];
pub const TCP_RETRY_EVENTS: [&str; 1] = ["connection-error"];
/// App Mesh's `maxRetries` has no documented maximum; more than 10 retries
/// per request multiplies load on a failing backend, so it is refused.
pub const MAX_RETRIES: i64 = 10;

impl Validator {
    pub(super) fn retry(&mut self, c: &MicroserviceConfig) {
        let Some(r) = &c.retry else { return };
        self.int_range("retry.0.max_retries", r.max_retries, 0, MAX_RETRIES);
        self.duration(
            "retry.0.per_try_timeout",
            &r.per_try_timeout,
            Duration::from_millis(1),
            Duration::from_secs(3600),
        );
        for (field, list, allowed) in [
            ("http_events", &r.http_events, &HTTP_RETRY_EVENTS[..]),
            ("tcp_events", &r.tcp_events, &TCP_RETRY_EVENTS[..]),
        ] {
            for (i, event) in list.iter().flatten().enumerate() {
                if let Some(event) = event {
                    if !allowed.contains(&event.as_str()) {
                        self.error(
                            &format!("retry.0.{field}.{i}"),
                            "Unknown retry event",
                            format!("{event:?} is not one of {}", allowed.join(", ")),
                        );
                    }
                }
            }
        }
        let empty = |l: &Option<Vec<Option<String>>>| matches!(l, Some(v) if v.is_empty());
        if empty(&r.http_events) && empty(&r.tcp_events) {
            self.error(
                "retry.0.http_events",
                "No retry events",
                "App Mesh needs at least one http or tcp retry event",
            );
        }
    }

    pub(super) fn timeout(&mut self, c: &MicroserviceConfig) {
        let Some(t) = &c.timeout else { return };
        // Zero disables the timeout in App Mesh; negative is not writable.
        self.duration(
            "timeout.0.per_request",
            &t.per_request,
            Duration::ZERO,
            Duration::from_secs(86400),
        );
        self.duration(
            "timeout.0.idle",
            &t.idle,
            Duration::ZERO,
            Duration::from_secs(86400),
        );
    }

    pub(super) fn circuit_breaker(&mut self, c: &MicroserviceConfig) {
        let Some(cb) = &c.circuit_breaker else { return };
        self.int_range(
            "circuit_breaker.0.max_server_errors",
            cb.max_server_errors,
            1,
            i64::from(i32::MAX),
        );
        self.duration(
            "circuit_breaker.0.interval",
            &cb.interval,
            Duration::from_millis(1),
            Duration::from_secs(86400),
        );
        self.duration(
            "circuit_breaker.0.base_ejection",
            &cb.base_ejection,
            Duration::from_millis(1),
            Duration::from_secs(86400),
        );
        self.int_range(
            "circuit_breaker.0.max_ejection_percent",
            cb.max_ejection_percent,
            0,
            100,
        );
        self.int_range(
            "circuit_breaker.0.max_connections",
            cb.max_connections,
            1,
            i64::from(i32::MAX),
        );
        self.int_range(
            "circuit_breaker.0.max_pending_requests",
            cb.max_pending_requests,
            1,
            i64::from(i32::MAX),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn retry_rules() {
        let r = |v: serde_json::Value| paths(json!({"retry": [v]}));
        assert_eq!(r(json!({"max_retries": 11})), vec!["retry.0.max_retries"]);
        assert_eq!(r(json!({"max_retries": -1})), vec!["retry.0.max_retries"]);
        assert_eq!(
            r(json!({"per_try_timeout": "0s"})),
            vec!["retry.0.per_try_timeout"]
        );
        assert_eq!(
            r(json!({"http_events": ["server-error", "5xx"]})),
            vec!["retry.0.http_events.1"]
        );
        assert_eq!(
            r(json!({"tcp_events": ["reset"]})),
            vec!["retry.0.tcp_events.0"]
        );
        assert_eq!(
            r(json!({"http_events": [], "tcp_events": []})),
            vec!["retry.0.http_events"]
        );
        assert!(r(json!({"http_events": ["client-error", "stream-error"]})).is_empty());
    }

    #[test]
    fn timeout_rules() {
        assert_eq!(
            paths(json!({"timeout": [{"per_request": "15"}]})),
            vec!["timeout.0.per_request"]
        );
        assert_eq!(
            paths(json!({"timeout": [{"idle": "2d"}]})),
            vec!["timeout.0.idle"]
        );
    }

    #[test]
    fn circuit_breaker_rules() {
        let cb = |v: serde_json::Value| paths(json!({"circuit_breaker": [v]}));
        assert_eq!(
            cb(json!({"max_server_errors": 0})),
            vec!["circuit_breaker.0.max_server_errors"]
        );
        assert_eq!(
            cb(json!({"interval": "0s"})),
            vec!["circuit_breaker.0.interval"]
        );
        assert_eq!(
            cb(json!({"base_ejection": "x"})),
            vec!["circuit_breaker.0.base_ejection"]
        );
        assert_eq!(
            cb(json!({"max_ejection_percent": 101})),
            vec!["circuit_breaker.0.max_ejection_percent"]
        );
        assert_eq!(
            cb(json!({"max_connections": 0})),
            vec!["circuit_breaker.0.max_connections"]
        );
        assert_eq!(
            cb(json!({"max_pending_requests": 0})),
            vec!["circuit_breaker.0.max_pending_requests"]
        );
    }
}
