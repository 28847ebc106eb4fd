//! `matbakh_canary` configuration as Terraform sends it, its defaults, and
//! the plan-time checks that name the attribute they are about.

use crate::resources::microservice::deployment::{min_requests, DEFAULT_MIN_REQUESTS};
use std::time::Duration;

use serde::Deserialize;

use crate::resources::microservice::config::{block, whole_number as whole};
use crate::resources::microservice::validate::check_service_name;
use crate::resources::platform::schema::check_name as check_platform_name;
use crate::validation::{parse_duration, Problem};

pub const DEFAULT_STEPS: [i64; 4] = [5, 25, 50, 100];
pub const DEFAULT_STEP_INTERVAL: &str = "5m";
pub const DEFAULT_ERROR_RATE_PERCENT: f64 = 5.0;
pub const DEFAULT_P95_LATENCY_MS: f64 = 200.0;
/// CloudWatch alarms look at one-minute periods; a walk may go faster (the
/// acceptance tests do), but not slower than a day per step.
pub const MAX_STEP_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// At most this many steps: every step holds for `step_interval`.
pub const MAX_STEPS: usize = 20;

/// The resource's arguments; computed attributes are ignored.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CanaryConfig {
    pub microservice: Option<String>,
    pub image: Option<String>,
    pub strategy: Option<String>,
    pub steps: Option<Vec<Option<serde_json::Number>>>,
    pub step_interval: Option<String>,
    pub min_requests: Option<serde_json::Number>,
    #[serde(deserialize_with = "block")]
    pub rollback_on: Option<RollbackOnConfig>,
    pub tags: Option<std::collections::BTreeMap<String, Option<String>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RollbackOnConfig {
    pub error_rate_percent: Option<f64>,
    pub p95_latency_ms: Option<f64>,
}

impl CanaryConfig {
    pub fn from_value(value: &serde_json::Value) -> Result<CanaryConfig, String> {
        crate::tf::decode::typed_or_text(value, "the matbakh_canary configuration")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Walk the candidate's weight through `steps`.
    Canary,
    /// One switch from 0 to 100 once the candidate is healthy.
    BlueGreen,
}

/// The configuration with every default applied.
#[derive(Clone, Debug, PartialEq)]
pub struct CanarySettings {
    /// The microservice's id, `PLATFORM/NAME`.
    pub platform: String,
    pub service: String,
    pub image: String,
    pub strategy: Strategy,
    pub steps: Vec<i64>,
    pub step_interval: Duration,
    /// Requests the candidate must serve in its first step.
    pub min_requests: u32,
    pub error_rate_percent: f64,
    pub p95_latency_ms: f64,
    /// The canary's own `tags` (merged over the provider's `default_tags`).
    pub tags: crate::spec::Tags,
}

impl CanarySettings {
    /// Defaults applied; call after [`validate`] found nothing.
    pub fn resolve(c: &CanaryConfig) -> Result<CanarySettings, String> {
        let (platform, service) = split_microservice_id(c.microservice.as_deref().unwrap_or(""))?;
        let strategy = match c.strategy.as_deref().unwrap_or("canary") {
            "canary" => Strategy::Canary,
            "blue_green" => Strategy::BlueGreen,
            other => return Err(format!("unknown strategy {other:?}")),
        };
        let steps = match &c.steps {
            None => DEFAULT_STEPS.to_vec(),
            Some(list) => list
                .iter()
                .map(|n| {
                    n.as_ref()
                        .and_then(whole)
                        .ok_or("a step is not a whole number")
                })
                .collect::<Result<_, _>>()?,
        };
        let step_interval =
            parse_duration(c.step_interval.as_deref().unwrap_or(DEFAULT_STEP_INTERVAL))?;
        let r = c.rollback_on.clone().unwrap_or_default();
        Ok(CanarySettings {
            platform,
            service,
            image: c.image.clone().unwrap_or_default(),
            strategy,
            steps,
            step_interval,
            min_requests: c
                .min_requests
                .as_ref()
                .and_then(|n| min_requests(&n.to_string()).ok())
                .unwrap_or(DEFAULT_MIN_REQUESTS),
            error_rate_percent: r.error_rate_percent.unwrap_or(DEFAULT_ERROR_RATE_PERCENT),
            p95_latency_ms: r.p95_latency_ms.unwrap_or(DEFAULT_P95_LATENCY_MS),
            tags: crate::resources::microservice::config::known_map(&c.tags),
        })
    }

    /// The candidate weights the walk goes through: `steps`, or the single
    /// switch to 100 of blue/green.
    pub fn weights(&self) -> Vec<i64> {
        match self.strategy {
            Strategy::Canary => self.steps.clone(),
            Strategy::BlueGreen => vec![100],
        }
    }

    /// The microservice's id.
    pub fn microservice_id(&self) -> String {
        crate::resources::microservice::names::resource_id(&self.platform, &self.service)
    }
}

/// `PLATFORM/NAME` into its parts, each checked.
pub fn split_microservice_id(id: &str) -> Result<(String, String), String> {
    let Some((platform, name)) = id.split_once('/') else {
        return Err(format!(
            "{id:?} is not a microservice id: expected PLATFORM/NAME, e.g. matbakh_microservice.auth.id"
        ));
    };
    check_platform_name(platform).map_err(|why| format!("platform part of {id:?}: {why}"))?;
    check_service_name(name).map_err(|why| format!("name part of {id:?}: {why}"))?;
    Ok((platform.to_string(), name.to_string()))
}

/// Every problem in the configuration. Unknown values (null here) are not
/// judged.
pub fn validate(c: &CanaryConfig) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut error = |path: &str, summary: &str, detail: String| {
        problems.push(Problem::at(path, summary, detail));
    };
    if let Some(id) = &c.microservice {
        if let Err(why) = split_microservice_id(id) {
            error("microservice", "Invalid microservice id", why);
        }
    }
    if let Some(image) = &c.image {
        if image.is_empty() || image.chars().any(char::is_whitespace) || image.len() > 255 {
            error(
                "image",
                "Invalid image",
                format!("{image:?} is not a container image reference (non-empty, no whitespace, at most 255 characters)"),
            );
        }
    }
    if let Some(s) = &c.strategy {
        if s != "canary" && s != "blue_green" {
            error(
                "strategy",
                "Invalid strategy",
                format!("{s:?} is not a strategy: use \"canary\" (walk through steps) or \"blue_green\" (one switch)"),
            );
        }
    }
    if let Some(steps) = &c.steps {
        if steps.is_empty() {
            error(
                "steps",
                "No steps",
                "steps needs at least one traffic percentage, e.g. [5, 25, 50, 100]".into(),
            );
        }
        if steps.len() > MAX_STEPS {
            error(
                "steps",
                "Too many steps",
                format!("{} steps; at most {MAX_STEPS}", steps.len()),
            );
        }
        let mut previous: Option<i64> = None;
        for (i, step) in steps.iter().enumerate() {
            let Some(n) = step else { continue };
            let path = format!("steps.{i}");
            match whole(n) {
                None => error(
                    &path,
                    "Invalid step",
                    format!("{n} is not a whole percentage"),
                ),
                Some(v) if !(1..=100).contains(&v) => error(
                    &path,
                    "Invalid step",
                    format!("{v} is not a traffic percentage from 1 to 100"),
                ),
                Some(v) => {
                    if let Some(p) = previous {
                        if v <= p {
                            error(
                                &path,
                                "Steps not increasing",
                                format!("steps must increase strictly: {v} follows {p}"),
                            );
                        }
                    }
                    previous = Some(v);
                }
            }
        }
    }
    if let Some(text) = &c.step_interval {
        match parse_duration(text) {
            Err(why) => error("step_interval", "Invalid duration", why),
            Ok(d) if d < Duration::from_secs(1) => error(
                "step_interval",
                "Step interval too short",
                format!("{text:?}: a step holds at least one second"),
            ),
            Ok(d) if d > MAX_STEP_INTERVAL => error(
                "step_interval",
                "Step interval too long",
                format!("{text:?}: at most 24h per step"),
            ),
            Ok(_) => {}
        }
    }
    if let Some(n) = &c.min_requests {
        if let Err(why) = min_requests(&n.to_string()) {
            error("min_requests", "Invalid min_requests", why);
        }
    }
    if let Some(r) = &c.rollback_on {
        if let Some(p) = r.error_rate_percent {
            if !(p > 0.0 && p <= 100.0) {
                error(
                    "rollback_on.0.error_rate_percent",
                    "Invalid error rate",
                    format!("{p} is not a percentage above 0 and at most 100"),
                );
            }
        }
        if let Some(ms) = r.p95_latency_ms {
            if !(ms > 0.0 && ms <= 600_000.0) {
                error(
                    "rollback_on.0.p95_latency_ms",
                    "Invalid latency",
                    format!("{ms} is not a latency in milliseconds above 0 and at most 600000 (10 minutes)"),
                );
            }
        }
    }
    problems.extend(crate::resources::tags::check_tags(
        "tags",
        &crate::resources::microservice::config::known_map(&c.tags),
    ));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: serde_json::Value) -> CanaryConfig {
        CanaryConfig::from_value(&v).unwrap()
    }

    fn paths(v: serde_json::Value) -> Vec<String> {
        validate(&config(v)).iter().map(|p| p.dotted()).collect()
    }

    #[test]
    fn defaults_of_the_contract() {
        let s = CanarySettings::resolve(&config(json!({
            "microservice": "matbakh/auth-service", "image": "auth:1.5.0"
        })))
        .unwrap();
        assert_eq!(s.platform, "matbakh");
        assert_eq!(s.service, "auth-service");
        assert_eq!(s.strategy, Strategy::Canary);
        assert_eq!(s.steps, vec![5, 25, 50, 100]);
        assert_eq!(s.step_interval, Duration::from_secs(300));
        assert_eq!(s.error_rate_percent, 5.0);
        assert_eq!(s.p95_latency_ms, 200.0);
        assert_eq!(s.weights(), vec![5, 25, 50, 100]);
        assert_eq!(s.microservice_id(), "matbakh/auth-service");
    }

    #[test]
    fn blue_green_is_one_switch() {
        let s = CanarySettings::resolve(&config(json!({
            "microservice": "p/a", "image": "x", "strategy": "blue_green",
            "steps": [10.0, 20.0], "rollback_on": [{"error_rate_percent": 2.0}]
        })))
        .unwrap();
        assert_eq!(s.weights(), vec![100]);
        assert_eq!(s.steps, vec![10, 20]);
        assert_eq!(s.error_rate_percent, 2.0);
        assert_eq!(s.p95_latency_ms, 200.0);
    }

    #[test]
    fn a_valid_configuration_has_no_problems() {
        assert!(paths(json!({
            "microservice": "matbakh/auth-service", "image": "auth:1.5.0",
            "strategy": "canary", "steps": [1, 50, 100], "step_interval": "90s",
            "rollback_on": [{"error_rate_percent": 5.0, "p95_latency_ms": 200.0}]
        }))
        .is_empty());
        // Unknown values are not judged.
        assert!(paths(json!({"microservice": null, "steps": [null, 5]})).is_empty());
    }

    #[test]
    fn steps_must_increase_strictly_within_1_to_100() {
        assert_eq!(paths(json!({"steps": [5, 5]})), vec!["steps.1"]);
        assert_eq!(paths(json!({"steps": [50, 25]})), vec!["steps.1"]);
        assert_eq!(paths(json!({"steps": [0, 10]})), vec!["steps.0"]);
        assert_eq!(paths(json!({"steps": [10, 101]})), vec!["steps.1"]);
        assert_eq!(paths(json!({"steps": [2.5]})), vec!["steps.0"]);
        assert_eq!(paths(json!({"steps": []})), vec!["steps"]);
        let many: Vec<i64> = (1..=21).collect();
        assert_eq!(paths(json!({ "steps": many })), vec!["steps"]);
    }

    #[test]
    fn step_interval_is_a_duration() {
        assert_eq!(paths(json!({"step_interval": "5"})), vec!["step_interval"]);
        assert_eq!(
            paths(json!({"step_interval": "five minutes"})),
            vec!["step_interval"]
        );
        assert_eq!(
            paths(json!({"step_interval": "100ms"})),
            vec!["step_interval"]
        );
        assert_eq!(
            paths(json!({"step_interval": "25h"})),
            vec!["step_interval"]
        );
        assert!(paths(json!({"step_interval": "1s"})).is_empty());
    }

    #[test]
    fn thresholds_in_range() {
        assert_eq!(
            paths(json!({"rollback_on": [{"error_rate_percent": 0.0}]})),
            vec!["rollback_on.0.error_rate_percent"]
        );
        assert_eq!(
            paths(json!({"rollback_on": [{"error_rate_percent": 101.0}]})),
            vec!["rollback_on.0.error_rate_percent"]
        );
        assert_eq!(
            paths(json!({"rollback_on": [{"p95_latency_ms": -1.0}]})),
            vec!["rollback_on.0.p95_latency_ms"]
        );
    }

    #[test]
    fn microservice_id_is_well_formed() {
        for bad in [
            "auth-service",
            "matbakh/",
            "/auth",
            "matbakh/Auth",
            "a b/c",
            "p/a/b",
        ] {
            assert_eq!(
                paths(json!({ "microservice": bad })),
                vec!["microservice"],
                "{bad}"
            );
        }
    }

    #[test]
    fn strategy_and_image() {
        assert_eq!(paths(json!({"strategy": "linear"})), vec!["strategy"]);
        assert_eq!(paths(json!({"image": "a b"})), vec!["image"]);
        assert_eq!(paths(json!({"image": ""})), vec!["image"]);
    }
}
