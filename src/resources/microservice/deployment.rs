//! The microservice's `deployment` block: how a change of image or settings
//! rolls out, as one of ECS's deployment strategies.
//!
//! | argument            | ECS `deploymentConfiguration`                                   |
//! |---------------------|-----------------------------------------------------------------|
//! | `strategy`          | `strategy`: ROLLING, CANARY, LINEAR, BLUE_GREEN                 |
//! | `canary_percent`    | `canaryConfiguration.canaryPercent` (0.1-100, steps of 0.1)     |
//! | `step_percent`      | `linearConfiguration.stepPercent` (3-100, steps of 0.1)         |
//! | `bake_time`         | `canaryBakeTimeInMinutes` / `stepBakeTimeInMinutes` and `bakeTimeInMinutes` (whole minutes, 0-1440) |
//! | `rollback_on_alarms`| `alarms { alarmNames = the microservice's alarms, enable, rollback }` |
//!
//! Percentages are read from the decimal text Terraform sent, never through
//! a float, so `0.3` is exactly three tenths and `0.05` is refused.

use std::time::Duration;

use serde::Deserialize;

use crate::spec::deployment_strategy::{
    tenths_text, DeploymentStrategy, CANARY_PERCENT_TENTHS, MAX_BAKE_MINUTES, STEP_PERCENT_TENTHS,
};
use crate::validation::{parse_duration, Problem};

pub const DEFAULT_STRATEGY: &str = "rolling";
/// ECS's own defaults for CANARY and LINEAR.
pub const DEFAULT_CANARY_PERCENT_TENTHS: u32 = 50;
pub const DEFAULT_STEP_PERCENT_TENTHS: u32 = 100;
pub const DEFAULT_BAKE_TIME: &str = "10m";
/// Requests the new revision must serve in a step before it counts as
/// tried: "never promote on silence", measured over the step.
pub const DEFAULT_MIN_REQUESTS: u32 = 1;
pub const MAX_MIN_REQUESTS: u32 = 1_000_000;
pub const STRATEGIES: [&str; 4] = ["rolling", "canary", "linear", "blue_green"];

/// The `deployment` block as Terraform sends it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DeploymentConfig {
    pub strategy: Option<String>,
    #[serde(deserialize_with = "decimal")]
    pub canary_percent: Option<String>,
    #[serde(deserialize_with = "decimal")]
    pub step_percent: Option<String>,
    pub bake_time: Option<String>,
    pub rollback_on_alarms: Option<bool>,
    #[serde(deserialize_with = "decimal")]
    pub min_requests: Option<String>,
}

/// The block with its defaults applied.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Deployment {
    pub strategy: DeploymentStrategy,
    /// The microservice's own alarms roll a deployment back.
    pub rollback_on_alarms: bool,
    /// `min_requests` as configured (`None`: the default).
    pub min_requests: Option<u32>,
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            strategy: DeploymentStrategy::Rolling,
            rollback_on_alarms: false,
            min_requests: None,
        }
    }
}

/// `min_requests` as a whole number of requests, or why not.
pub fn min_requests(text: &str) -> Result<u32, String> {
    match decimal_tenths(text) {
        Some(t) if t % 10 == 0 && (1..=MAX_MIN_REQUESTS).contains(&(t / 10)) => Ok(t / 10),
        _ => Err(format!(
            "{text} is not a number of requests: a whole number from 1 to {MAX_MIN_REQUESTS} (a step must see at least one request: never promote on silence)"
        )),
    }
}

/// A number as its decimal text. Terraform sends a number that a double
/// cannot hold exactly (`0.3`, `0.05`) as its decimal string, others as
/// numbers: both arrive here as text, so no float decides the value.
fn decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(serde_json::Number),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => None,
        Some(Either::Number(n)) => Some(n.to_string()),
        Some(Either::Text(t)) => Some(t),
    })
}

/// A decimal percentage in tenths, exactly: `"5"`, `"0.1"`, `"12.30"`.
/// `None` when it is not a multiple of 0.1 (or not a plain non-negative
/// decimal at all).
pub fn decimal_tenths(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.contains(['e', 'E']) {
        // An exponent form (1e1, 5E-1) from a float: decide on the double.
        let f: f64 = text.parse().ok()?;
        let t = f * 10.0;
        let r = t.round();
        return ((t - r).abs() < 1e-9 && (0.0..=1e6).contains(&r)).then_some(r as u32);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 1 || whole.len() > 6 {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let tenth: u32 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    Some(whole * 10 + tenth)
}

/// `bake_time` in whole minutes, 0 to 1440.
fn bake_minutes(text: &str) -> Result<u32, String> {
    let d = parse_duration(text)?;
    if d.subsec_nanos() != 0 || !d.as_secs().is_multiple_of(60) {
        return Err(format!(
            "{text:?}: ECS bakes in whole minutes, e.g. \"10m\""
        ));
    }
    let minutes = d.as_secs() / 60;
    if minutes > u64::from(MAX_BAKE_MINUTES) {
        return Err(format!(
            "{text:?}: at most {MAX_BAKE_MINUTES} minutes (24h)"
        ));
    }
    Ok(minutes as u32)
}

/// Every problem in the block. Unknown values (null) are not judged.
pub fn validate(d: &DeploymentConfig) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(s) = &d.strategy {
        if !STRATEGIES.contains(&s.as_str()) {
            problems.push(Problem::at(
                "deployment.0.strategy",
                "Invalid deployment strategy",
                format!("{s:?} is not a strategy: use rolling, canary, linear or blue_green"),
            ));
        }
    }
    let mut percent = |name: &str, value: &Option<String>, range: std::ops::RangeInclusive<u32>| {
        let Some(n) = value else { return };
        let ok = decimal_tenths(n).is_some_and(|t| range.contains(&t));
        if !ok {
            problems.push(Problem::at(
                &format!("deployment.0.{name}"),
                "Invalid percentage",
                format!(
                    "{n} is not a percentage ECS accepts for {name}: a multiple of 0.1 from {} to {}",
                    tenths_text(*range.start()),
                    tenths_text(*range.end())
                ),
            ));
        }
    };
    percent("canary_percent", &d.canary_percent, CANARY_PERCENT_TENTHS);
    percent("step_percent", &d.step_percent, STEP_PERCENT_TENTHS);
    if let Some(text) = &d.min_requests {
        if let Err(why) = min_requests(text) {
            problems.push(Problem::at(
                "deployment.0.min_requests",
                "Invalid min_requests",
                why,
            ));
        }
    }
    if let Some(text) = &d.bake_time {
        if let Err(why) = bake_minutes(text) {
            problems.push(Problem::at(
                "deployment.0.bake_time",
                "Invalid bake time",
                why,
            ));
        }
    }
    problems
}

/// On App Mesh ECS cannot shift traffic between revisions (the mesh's
/// routes do that), so only `rolling` is allowed there.
pub fn check_backend(d: &DeploymentConfig, backend: &str) -> Vec<Problem> {
    match d.strategy.as_deref() {
        Some(s) if s != "rolling" && backend != "service_connect" => vec![Problem::at(
            "deployment.0.strategy",
            "Deployment strategy needs service_connect",
            format!(
                "strategy = {s:?} is an ECS deployment strategy that shifts traffic with Service Connect; the platform's backend is {backend}, where only \"rolling\" is possible (use a matbakh_canary for a walk of route weights)"
            ),
        )],
        _ => Vec::new(),
    }
}

impl Deployment {
    /// The block with its defaults; call after [`validate`] found nothing
    /// (values that do not parse take their defaults).
    pub fn resolve(d: Option<&DeploymentConfig>) -> Deployment {
        let Some(d) = d else {
            return Deployment::default();
        };
        let bake = d
            .bake_time
            .as_deref()
            .and_then(|t| bake_minutes(t).ok())
            .unwrap_or(10);
        let tenths = |n: &Option<String>, default: u32| {
            n.as_deref().and_then(decimal_tenths).unwrap_or(default)
        };
        let strategy = match d.strategy.as_deref().unwrap_or(DEFAULT_STRATEGY) {
            "canary" => DeploymentStrategy::Canary {
                percent_tenths: tenths(&d.canary_percent, DEFAULT_CANARY_PERCENT_TENTHS),
                canary_bake_minutes: bake,
                bake_minutes: bake,
            },
            "linear" => DeploymentStrategy::Linear {
                step_percent_tenths: tenths(&d.step_percent, DEFAULT_STEP_PERCENT_TENTHS),
                step_bake_minutes: bake,
                bake_minutes: bake,
            },
            "blue_green" => DeploymentStrategy::BlueGreen { bake_minutes: bake },
            _ => DeploymentStrategy::Rolling,
        };
        Deployment {
            strategy,
            rollback_on_alarms: d.rollback_on_alarms.unwrap_or(false),
            min_requests: d.min_requests.as_deref().and_then(|t| min_requests(t).ok()),
        }
    }

    /// The requests the new revision must serve in a step.
    pub fn min_requests(&self) -> u32 {
        self.min_requests.unwrap_or(DEFAULT_MIN_REQUESTS)
    }

    /// How long one step holds: the bake of the first share.
    pub fn step_minutes(&self) -> u32 {
        match self.strategy {
            DeploymentStrategy::Rolling => 0,
            DeploymentStrategy::Canary {
                canary_bake_minutes,
                ..
            } => canary_bake_minutes,
            DeploymentStrategy::Linear {
                step_bake_minutes, ..
            } => step_bake_minutes,
            DeploymentStrategy::BlueGreen { bake_minutes } => bake_minutes,
        }
    }

    /// The longest a deployment bakes in all (every step and the final
    /// bake): a floor for the `timeouts` of an update.
    pub fn bake_total(&self) -> Duration {
        let minutes = match self.strategy {
            DeploymentStrategy::Rolling => 0,
            DeploymentStrategy::Canary {
                canary_bake_minutes,
                bake_minutes,
                ..
            } => canary_bake_minutes + bake_minutes,
            DeploymentStrategy::Linear {
                step_bake_minutes,
                bake_minutes,
                ..
            } => {
                let steps = self.strategy.traffic_steps_tenths().len() as u32;
                step_bake_minutes * steps.saturating_sub(1) + bake_minutes
            }
            DeploymentStrategy::BlueGreen { bake_minutes } => bake_minutes,
        };
        Duration::from_secs(u64::from(minutes) * 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: serde_json::Value) -> DeploymentConfig {
        DeploymentConfig::deserialize(v).unwrap()
    }

    fn paths(v: serde_json::Value) -> Vec<String> {
        validate(&config(v)).iter().map(Problem::dotted).collect()
    }

    #[test]
    fn terraform_sends_inexact_decimals_as_text() {
        let d = config(json!({"canary_percent": "0.3", "step_percent": 12.5}));
        assert_eq!(d.canary_percent.as_deref(), Some("0.3"));
        assert_eq!(d.step_percent.as_deref(), Some("12.5"));
        assert_eq!(
            Deployment::resolve(Some(&DeploymentConfig {
                strategy: Some("canary".into()),
                ..d
            }))
            .strategy,
            DeploymentStrategy::Canary {
                percent_tenths: 3,
                canary_bake_minutes: 10,
                bake_minutes: 10
            }
        );
        assert_eq!(
            paths(json!({"canary_percent": "0.05"})),
            vec!["deployment.0.canary_percent"]
        );
        assert_eq!(
            paths(json!({"canary_percent": "a lot"})),
            vec!["deployment.0.canary_percent"]
        );
    }

    #[test]
    fn decimals_are_read_exactly() {
        assert_eq!(decimal_tenths("5"), Some(50));
        assert_eq!(decimal_tenths("0.1"), Some(1));
        assert_eq!(decimal_tenths("0.3"), Some(3));
        assert_eq!(decimal_tenths("12.30"), Some(123));
        assert_eq!(decimal_tenths("100.0"), Some(1000));
        assert_eq!(decimal_tenths("1e1"), Some(100));
        assert_eq!(decimal_tenths("0.05"), None);
        assert_eq!(decimal_tenths("0.15"), None);
        assert_eq!(decimal_tenths("-1"), None);
    }

    #[test]
    fn defaults_are_rolling_without_alarms() {
        assert_eq!(Deployment::resolve(None), Deployment::default());
        let d = Deployment::resolve(Some(&config(json!({}))));
        assert_eq!(d.strategy, DeploymentStrategy::Rolling);
        assert!(!d.rollback_on_alarms);
        assert_eq!(d.bake_total(), Duration::ZERO);
    }

    #[test]
    fn canary_linear_and_blue_green_resolve_with_their_parameters() {
        let c = Deployment::resolve(Some(&config(json!({
            "strategy": "canary", "canary_percent": 0.5, "bake_time": "3m",
            "rollback_on_alarms": true
        }))));
        assert_eq!(
            c.strategy,
            DeploymentStrategy::Canary {
                percent_tenths: 5,
                canary_bake_minutes: 3,
                bake_minutes: 3
            }
        );
        assert!(c.rollback_on_alarms);
        assert_eq!(c.bake_total(), Duration::from_secs(360));
        let default_canary = Deployment::resolve(Some(&config(json!({"strategy": "canary"}))));
        assert_eq!(
            default_canary.strategy,
            DeploymentStrategy::Canary {
                percent_tenths: 50,
                canary_bake_minutes: 10,
                bake_minutes: 10
            }
        );
        let l = Deployment::resolve(Some(&config(json!({
            "strategy": "linear", "step_percent": 25, "bake_time": "1m"
        }))));
        assert_eq!(
            l.strategy,
            DeploymentStrategy::Linear {
                step_percent_tenths: 250,
                step_bake_minutes: 1,
                bake_minutes: 1
            }
        );
        // 25, 50, 75 then 100: three bakes between steps and the final one.
        assert_eq!(l.bake_total(), Duration::from_secs(4 * 60));
        let b = Deployment::resolve(Some(&config(json!({
            "strategy": "blue_green", "bake_time": "0m"
        }))));
        assert_eq!(
            b.strategy,
            DeploymentStrategy::BlueGreen { bake_minutes: 0 }
        );
    }

    #[test]
    fn a_valid_block_has_no_problems() {
        assert!(paths(json!({
            "strategy": "canary", "canary_percent": 0.1, "step_percent": 3,
            "bake_time": "1440m", "rollback_on_alarms": true
        }))
        .is_empty());
        assert!(
            paths(json!({"canary_percent": 100, "step_percent": 100.0, "bake_time": "0m"}))
                .is_empty()
        );
        assert!(paths(json!({"strategy": null, "canary_percent": null})).is_empty());
    }

    #[test]
    fn every_bad_value_names_its_attribute() {
        assert_eq!(
            paths(json!({"strategy": "recreate"})),
            vec!["deployment.0.strategy"]
        );
        for bad in [json!(0), json!(0.05), json!(100.1), json!(0.15), json!(-5)] {
            assert_eq!(
                paths(json!({ "canary_percent": bad })),
                vec!["deployment.0.canary_percent"],
                "{bad}"
            );
        }
        for bad in [json!(2.9), json!(101), json!(10.05)] {
            assert_eq!(
                paths(json!({ "step_percent": bad })),
                vec!["deployment.0.step_percent"],
                "{bad}"
            );
        }
        for bad in ["90s", "1441m", "25h", "ten minutes", "10"] {
            assert_eq!(
                paths(json!({ "bake_time": bad })),
                vec!["deployment.0.bake_time"],
                "{bad}"
            );
        }
        let detail = &validate(&config(json!({"canary_percent": 0.05})))[0].detail;
        assert!(
            detail.contains("multiple of 0.1 from 0.1 to 100"),
            "{detail}"
        );
    }

    #[test]
    fn app_mesh_allows_only_rolling() {
        for s in ["canary", "linear", "blue_green"] {
            let problems = check_backend(&config(json!({ "strategy": s })), "app_mesh");
            assert_eq!(problems.len(), 1, "{s}");
            assert_eq!(problems[0].dotted(), "deployment.0.strategy");
            assert!(
                problems[0].detail.contains("app_mesh"),
                "{}",
                problems[0].detail
            );
            assert!(check_backend(&config(json!({ "strategy": s })), "service_connect").is_empty());
        }
        assert!(check_backend(&config(json!({"strategy": "rolling"})), "app_mesh").is_empty());
        assert!(check_backend(&config(json!({})), "app_mesh").is_empty());
    }
}

#[cfg(test)]
mod expansion_tests {
    use serde_json::json;

    use crate::environment::Environment;
    use crate::resources::microservice::config::{MicroserviceConfig, Settings};
    use crate::resources::microservice::expand::{expand, keys};
    use crate::resources::microservice::test_fixtures::platform_on;
    use crate::resources::microservice::validate::validate_on;
    use crate::service_mesh::ServiceMesh;
    use crate::spec::deployment_strategy::{DeploymentSpec, DeploymentStrategy};
    use crate::spec::Spec;

    fn config(deployment: serde_json::Value) -> MicroserviceConfig {
        MicroserviceConfig::from_value(&json!({
            "platform": "matbakh", "name": "auth-service", "image": "auth:1",
            "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"], "security_group_ids": ["sg-0123456789abcdef0"],
            "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
            "deployment": [deployment],
        }))
        .unwrap()
    }

    fn service_deployment(c: &MicroserviceConfig) -> DeploymentSpec {
        let settings =
            Settings::resolve(c, Environment::Production, ServiceMesh::ServiceConnect).unwrap();
        let graph = expand(
            &settings,
            &platform_on(Environment::Production, ServiceMesh::ServiceConnect),
        );
        match &graph.get(keys::SERVICE).unwrap().spec {
            Spec::EcsService(s) => s.deployment.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_service_deploys_with_the_strategy_and_the_alarms_of_the_block() {
        let d = service_deployment(&config(json!({
            "strategy": "canary", "canary_percent": 0.5, "bake_time": "2m",
            "rollback_on_alarms": true
        })));
        assert_eq!(
            d,
            DeploymentSpec {
                strategy: DeploymentStrategy::Canary {
                    percent_tenths: 5,
                    canary_bake_minutes: 2,
                    bake_minutes: 2
                },
                alarm_names: vec![
                    // A 0.5 % canary: the release's own error-rate and
                    // latency alarms.
                    "matbakh-auth-service-release-error-rate".into(),
                    "matbakh-auth-service-release-latency-maximum".into(),
                    "matbakh-auth-service-release-no-traffic".into()
                ],
                rollback_on_alarms: true,
            }
        );
        let plain = service_deployment(&config(json!({"strategy": "linear"})));
        assert!(plain.alarm_names.is_empty() && !plain.rollback_on_alarms);
        assert_eq!(plain.strategy.ecs_name(), "LINEAR");
    }

    /// With `ingress` a canary, linear or blue/green release is ECS's on the
    /// service's load balancer: the service names both target groups and
    /// both rules with the platform's traffic role, and the rules start at
    /// blue 100 / green 0, the only weights the provider ever writes (ECS
    /// moves them from then on).
    #[test]
    fn with_ingress_every_strategy_releases_on_the_load_balancer() {
        use crate::resources::microservice::ingress_components::keys as ik;
        use crate::spec::Ref;
        let mut platform = platform_on(Environment::Production, ServiceMesh::ServiceConnect);
        platform.ingress = Some(crate::resources::microservice::test_fixtures::platform_ingress());
        for (block, ecs_name) in [
            (
                json!({"strategy": "canary", "canary_percent": 5, "rollback_on_alarms": true}),
                "CANARY",
            ),
            (json!({"strategy": "linear", "step_percent": 25}), "LINEAR"),
            (
                json!({"strategy": "blue_green", "bake_time": "2m"}),
                "BLUE_GREEN",
            ),
        ] {
            let mut c = config(block);
            c.ingress = Some(serde_json::from_value(json!({"paths": ["/auth/*"]})).unwrap());
            let settings =
                Settings::resolve(&c, Environment::Production, ServiceMesh::ServiceConnect)
                    .unwrap();
            let graph = expand(&settings, &platform);
            let Spec::EcsService(service) = &graph.get(keys::SERVICE).unwrap().spec else {
                panic!()
            };
            assert_eq!(service.deployment.strategy.ecs_name(), ecs_name);
            let lb = service.load_balancer.as_deref().expect("a load balancer");
            assert_eq!(
                (&lb.target_group, &lb.alternate_target_group),
                (
                    &Ref::to(ik::TARGET_GROUP_BLUE),
                    &Ref::to(ik::TARGET_GROUP_GREEN)
                )
            );
            assert_eq!(
                (&lb.production_rule, &lb.test_rule),
                (&Ref::to(ik::RULE), &Ref::to(ik::TEST_RULE))
            );
            assert!(lb
                .role_arn
                .ends_with(":role/matbakh-eu-central-1-alb-traffic"));
            for key in [ik::RULE, ik::TEST_RULE] {
                let Spec::ListenerRule(rule) = &graph.get(key).unwrap().spec else {
                    panic!()
                };
                assert_eq!(
                    rule.forward,
                    [
                        (Ref::to(ik::TARGET_GROUP_BLUE), 100),
                        (Ref::to(ik::TARGET_GROUP_GREEN), 0)
                    ],
                    "{key}"
                );
            }
            // The service waits for both groups and both rules.
            let after = &graph.get(keys::SERVICE).unwrap().depends_on;
            for key in ik::ALL {
                assert!(after.iter().any(|d| d == key), "{ecs_name}: {key}");
            }
        }
    }

    #[test]
    fn on_app_mesh_only_rolling_plans() {
        let problems = validate_on(
            &config(json!({"strategy": "blue_green"})),
            ServiceMesh::AppMesh,
        );
        assert_eq!(
            problems.iter().map(|p| p.dotted()).collect::<Vec<_>>(),
            vec!["deployment.0.strategy"]
        );
        assert!(validate_on(
            &config(json!({"strategy": "blue_green"})),
            ServiceMesh::ServiceConnect
        )
        .is_empty());
        assert!(validate_on(
            &config(json!({"strategy": "rolling", "rollback_on_alarms": true})),
            ServiceMesh::AppMesh
        )
        .is_empty());
    }
}
