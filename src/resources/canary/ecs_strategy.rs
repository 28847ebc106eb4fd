//! A canary on `service_connect` is an ECS-native deployment: its `steps`,
//! `strategy` and `step_interval` mapped onto one of ECS's strategies.
//!
//! | canary                                   | ECS                                         |
//! |------------------------------------------|---------------------------------------------|
//! | `strategy = "blue_green"`                | BLUE_GREEN, bake = `step_interval`          |
//! | `steps = [p, 100]`, p in 1..=99          | CANARY p %, canary bake = bake = `step_interval` |
//! | `steps = [s, 2s, ..., 100]` (last may be capped at 100), s >= 3 | LINEAR s %, step bake = bake = `step_interval` |
//! | `steps` unset                            | CANARY 5 % (ECS's own default share)        |
//! | any other list                           | plan error naming the lists ECS can express |
//!
//! `[p, 100]` is read as CANARY even when it is also an equal-step list
//! (`[50, 100]`): the two roll out the same way. The walk on App Mesh holds
//! the last step too; ECS's `bakeTimeInMinutes` (both revisions kept after the
//! full shift, for an instant rollback) plays that part.

use std::time::Duration;

use crate::spec::deployment_strategy::{DeploymentStrategy, MAX_BAKE_MINUTES};
use crate::validation::Problem;

use super::config::Strategy;

/// ECS's CANARY default share, used when `steps` is not set.
pub const DEFAULT_CANARY_PERCENT: i64 = 5;

/// The lists ECS can express, for error messages and docs.
pub const EXPRESSIBLE: &str = "on service_connect a canary is an ECS deployment, which can walk `[p, 100]` (CANARY: p % first, p from 1 to 99), equal steps `[s, 2s, 3s, ..., 100]` (LINEAR: s from 3 to 100, the last step may be capped at 100, e.g. `[30, 60, 90, 100]`), or `strategy = \"blue_green\"` (BLUE_GREEN: all at once)";

/// `step_interval` as ECS's bake time: whole minutes, 0 to 1440.
pub fn bake_minutes(step_interval: Duration) -> Result<u32, Problem> {
    let secs = step_interval.as_secs();
    if step_interval.subsec_nanos() != 0 || !secs.is_multiple_of(60) {
        return Err(Problem::at(
            "step_interval",
            "Step interval not in whole minutes",
            format!(
                "{}: on service_connect the step interval is the ECS deployment's bake time, which ECS counts in whole minutes (e.g. \"1m\", \"10m\")",
                humantime(step_interval)
            ),
        ));
    }
    let minutes = secs / 60;
    if minutes > u64::from(MAX_BAKE_MINUTES) {
        return Err(Problem::at(
            "step_interval",
            "Step interval too long",
            format!("{minutes} minutes: ECS bakes at most {MAX_BAKE_MINUTES} minutes (24h)"),
        ));
    }
    Ok(minutes as u32)
}

/// The ECS strategy a canary rolls out with. `steps` is what the user
/// configured (`None` when unset); `step_interval` becomes the bake time.
pub fn ecs_strategy(
    strategy: Strategy,
    steps: Option<&[i64]>,
    step_interval: Duration,
) -> Result<DeploymentStrategy, Problem> {
    let bake = bake_minutes(step_interval)?;
    if strategy == Strategy::BlueGreen {
        return Ok(DeploymentStrategy::BlueGreen { bake_minutes: bake });
    }
    let canary = |p: i64| DeploymentStrategy::Canary {
        percent_tenths: (p * 10) as u32,
        canary_bake_minutes: bake,
        bake_minutes: bake,
    };
    let steps = match steps {
        None => return Ok(canary(DEFAULT_CANARY_PERCENT)),
        Some(steps) => steps,
    };
    if let [p, 100] = *steps {
        if (1..100).contains(&p) {
            return Ok(canary(p));
        }
    }
    if let Some(s) = equal_step(steps) {
        if s >= 3 {
            return Ok(DeploymentStrategy::Linear {
                step_percent_tenths: (s * 10) as u32,
                step_bake_minutes: bake,
                bake_minutes: bake,
            });
        }
    }
    Err(Problem::at(
        "steps",
        "Steps ECS cannot express",
        format!("{}: {EXPRESSIBLE}", list_text(steps)),
    ))
}

/// The plan-time problems of a canary on service_connect: its `steps`,
/// `strategy` and `step_interval` must map onto an ECS strategy. Values not
/// known yet (or invalid for other reasons, which `config::validate`
/// reports) are not judged here.
pub fn plan_problems(c: &super::config::CanaryConfig) -> Vec<Problem> {
    let strategy = match c.strategy.as_deref() {
        None | Some("canary") => Strategy::Canary,
        Some("blue_green") => Strategy::BlueGreen,
        Some(_) => return Vec::new(),
    };
    let steps: Option<Vec<i64>> = match &c.steps {
        None => None,
        Some(list) => {
            let known: Option<Vec<i64>> = list
                .iter()
                .map(|n| {
                    n.as_ref()
                        .and_then(crate::resources::microservice::config::whole_number)
                })
                .collect();
            match known {
                Some(steps) => Some(steps),
                None => return Vec::new(),
            }
        }
    };
    let interval = match c.step_interval.as_deref() {
        None => Duration::from_secs(300),
        Some(text) => match crate::validation::parse_duration(text) {
            Ok(d) => d,
            Err(_) => return Vec::new(),
        },
    };
    match ecs_strategy(strategy, steps.as_deref(), interval) {
        Ok(_) => Vec::new(),
        Err(problem) => vec![problem],
    }
}

/// `s` when `steps` is `[s, 2s, ..., 100]`, the last step capped at 100.
fn equal_step(steps: &[i64]) -> Option<i64> {
    let s = *steps.first()?;
    if s <= 0 || steps.last() != Some(&100) {
        return None;
    }
    let expected: Vec<i64> = (1..)
        .map(|i| (i * s).min(100))
        .take_while({
            let mut reached = false;
            move |w| !std::mem::replace(&mut reached, *w >= 100)
        })
        .collect();
    (expected == steps).then_some(s)
}

fn list_text(steps: &[i64]) -> String {
    let items: Vec<String> = steps.iter().map(i64::to_string).collect();
    format!("steps = [{}]", items.join(", "))
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() != 0 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn map(steps: &[i64]) -> Result<DeploymentStrategy, Problem> {
        ecs_strategy(Strategy::Canary, Some(steps), 5 * MIN)
    }

    #[test]
    fn two_steps_ending_at_100_are_canary() {
        assert_eq!(
            map(&[5, 100]).unwrap(),
            DeploymentStrategy::Canary {
                percent_tenths: 50,
                canary_bake_minutes: 5,
                bake_minutes: 5
            }
        );
        assert_eq!(
            map(&[50, 100]).unwrap().ecs_name(),
            "CANARY",
            "[p, 100] wins over the equal-step reading"
        );
        assert_eq!(map(&[99, 100]).unwrap().ecs_name(), "CANARY");
        assert_eq!(map(&[1, 100]).unwrap().ecs_name(), "CANARY");
    }

    #[test]
    fn equal_steps_are_linear() {
        let tens: Vec<i64> = (1..=10).map(|i| i * 10).collect();
        assert_eq!(
            map(&tens).unwrap(),
            DeploymentStrategy::Linear {
                step_percent_tenths: 100,
                step_bake_minutes: 5,
                bake_minutes: 5
            }
        );
        assert_eq!(
            map(&[25, 50, 75, 100]).unwrap(),
            DeploymentStrategy::Linear {
                step_percent_tenths: 250,
                step_bake_minutes: 5,
                bake_minutes: 5
            }
        );
        // ECS caps the last step at 100.
        assert_eq!(map(&[30, 60, 90, 100]).unwrap().ecs_name(), "LINEAR");
        assert_eq!(map(&[40, 80, 100]).unwrap().ecs_name(), "LINEAR");
        assert_eq!(map(&[100]).unwrap().ecs_name(), "LINEAR");
        // Its traffic steps are the list.
        assert_eq!(
            map(&[30, 60, 90, 100]).unwrap().traffic_steps_tenths(),
            vec![300, 600, 900, 1000]
        );
    }

    #[test]
    fn other_lists_are_a_plan_error_that_names_what_ecs_can_do() {
        for steps in [
            &[5, 25, 50, 100][..],
            &[10, 20, 30],
            &[1, 2, 3, 100],
            &[20, 40, 60, 80, 90, 100],
            &[30, 60, 90],
            &[50],
        ] {
            let problem = map(steps).unwrap_err();
            assert_eq!(problem.dotted(), "steps", "{steps:?}");
            assert!(problem.detail.contains("[p, 100]"), "{}", problem.detail);
            assert!(problem.detail.contains("LINEAR"), "{}", problem.detail);
            assert!(problem.detail.contains("blue_green"), "{}", problem.detail);
        }
        // LINEAR steps are at least 3 %.
        let ones: Vec<i64> = (1..=100).collect();
        assert_eq!(map(&ones).unwrap_err().dotted(), "steps");
        let twos: Vec<i64> = (1..=50).map(|i| i * 2).collect();
        assert_eq!(map(&twos).unwrap_err().dotted(), "steps");
        let fours: Vec<i64> = (1..=25).map(|i| i * 4).collect();
        assert_eq!(map(&fours).unwrap().ecs_name(), "LINEAR");
    }

    #[test]
    fn plan_problems_judge_only_known_values() {
        use crate::resources::canary::config::CanaryConfig;
        let config = |v: serde_json::Value| CanaryConfig::from_value(&v).unwrap();
        let paths = |v| {
            plan_problems(&config(v))
                .iter()
                .map(Problem::dotted)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            paths(serde_json::json!({"steps": [5, 25, 50, 100]})),
            vec!["steps"]
        );
        assert_eq!(
            paths(serde_json::json!({"steps": [5, 100], "step_interval": "90s"})),
            vec!["step_interval"]
        );
        assert!(paths(serde_json::json!({"steps": [5, 100], "step_interval": "2m"})).is_empty());
        assert!(paths(serde_json::json!({})).is_empty());
        assert!(paths(serde_json::json!({"steps": [null, 100]})).is_empty());
        assert!(paths(serde_json::json!({"strategy": "blue_green", "steps": [1, 2]})).is_empty());
    }

    #[test]
    fn blue_green_ignores_steps() {
        assert_eq!(
            ecs_strategy(Strategy::BlueGreen, Some(&[5, 25, 50, 100]), 10 * MIN).unwrap(),
            DeploymentStrategy::BlueGreen { bake_minutes: 10 }
        );
    }

    #[test]
    fn unset_steps_are_ecs_default_canary() {
        assert_eq!(
            ecs_strategy(Strategy::Canary, None, Duration::ZERO).unwrap(),
            DeploymentStrategy::Canary {
                percent_tenths: 50,
                canary_bake_minutes: 0,
                bake_minutes: 0
            }
        );
    }

    #[test]
    fn step_interval_is_whole_minutes_up_to_a_day() {
        assert_eq!(bake_minutes(Duration::ZERO).unwrap(), 0);
        assert_eq!(bake_minutes(1440 * MIN).unwrap(), 1440);
        for bad in [
            Duration::from_secs(90),
            Duration::from_secs(30),
            Duration::from_millis(60_500),
            1441 * MIN,
        ] {
            let p = bake_minutes(bad).unwrap_err();
            assert_eq!(p.dotted(), "step_interval", "{bad:?}");
        }
        assert_eq!(
            ecs_strategy(Strategy::BlueGreen, None, Duration::from_secs(90))
                .unwrap_err()
                .dotted(),
            "step_interval"
        );
    }
}
