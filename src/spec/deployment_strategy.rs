//! How an ECS service rolls a new revision out: the strategies of the `ECS`
//! deployment controller, in the units ECS takes them.
//!
//! Percentages are kept in tenths of a percent (ECS accepts multiples of 0.1
//! only), so `canary_percent = 0.3` stays exactly 3 tenths from configuration
//! to request and back: no float ever decides equality.

use std::fmt;

/// Longest bake time ECS accepts, minutes (24 hours).
pub const MAX_BAKE_MINUTES: u32 = 1440;
/// CANARY's `canaryPercent`: multiples of 0.1 from 0.1 to 100.0.
pub const CANARY_PERCENT_TENTHS: std::ops::RangeInclusive<u32> = 1..=1000;
/// LINEAR's `stepPercent`: multiples of 0.1 from 3.0 to 100.0.
pub const STEP_PERCENT_TENTHS: std::ops::RangeInclusive<u32> = 30..=1000;

/// One of ECS's deployment strategies with its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "strategy", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStrategy {
    /// Replace tasks in batches (minimum healthy / maximum percent).
    Rolling,
    /// `percent_tenths` of production traffic to the new revision, bake
    /// `canary_bake_minutes`, then the rest; both revisions run on for
    /// `bake_minutes` after the shift.
    Canary {
        percent_tenths: u32,
        canary_bake_minutes: u32,
        bake_minutes: u32,
    },
    /// `step_percent_tenths` more production traffic each step, baking
    /// `step_bake_minutes` between steps; both revisions run on for
    /// `bake_minutes` after the last step.
    Linear {
        step_percent_tenths: u32,
        step_bake_minutes: u32,
        bake_minutes: u32,
    },
    /// The new revision beside the old one, all traffic at once, both kept
    /// for `bake_minutes` (ECS requires it for BLUE_GREEN).
    BlueGreen { bake_minutes: u32 },
}

impl DeploymentStrategy {
    /// The name ECS gives the strategy (`DeploymentStrategy` in its API).
    pub fn ecs_name(&self) -> &'static str {
        match self {
            DeploymentStrategy::Rolling => "ROLLING",
            DeploymentStrategy::Canary { .. } => "CANARY",
            DeploymentStrategy::Linear { .. } => "LINEAR",
            DeploymentStrategy::BlueGreen { .. } => "BLUE_GREEN",
        }
    }

    /// True for the strategies that shift traffic between two revisions:
    /// ECS needs Service Connect or a load balancer for them.
    pub fn shifts_traffic(&self) -> bool {
        !matches!(self, DeploymentStrategy::Rolling)
    }

    /// `bakeTimeInMinutes` of the request, for the strategies that have one.
    pub fn bake_minutes(&self) -> Option<u32> {
        match *self {
            DeploymentStrategy::Rolling => None,
            DeploymentStrategy::Canary { bake_minutes, .. }
            | DeploymentStrategy::Linear { bake_minutes, .. }
            | DeploymentStrategy::BlueGreen { bake_minutes } => Some(bake_minutes),
        }
    }

    /// The production traffic weights (percent, in tenths) the new revision
    /// goes through, in order: what a canary's `current_weight` walks.
    pub fn traffic_steps_tenths(&self) -> Vec<u32> {
        match *self {
            DeploymentStrategy::Rolling | DeploymentStrategy::BlueGreen { .. } => vec![1000],
            DeploymentStrategy::Canary { percent_tenths, .. } if percent_tenths >= 1000 => {
                vec![1000]
            }
            DeploymentStrategy::Canary { percent_tenths, .. } => vec![percent_tenths, 1000],
            DeploymentStrategy::Linear {
                step_percent_tenths,
                ..
            } => {
                let step = step_percent_tenths.max(1);
                let mut steps: Vec<u32> =
                    (1..).map(|i| i * step).take_while(|w| *w < 1000).collect();
                steps.push(1000);
                steps
            }
        }
    }
}

/// A percentage in tenths, written the way a user writes it: `5`, `0.5`, `12.3`.
pub fn tenths_text(tenths: u32) -> String {
    if tenths.is_multiple_of(10) {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// A percentage in tenths as the double ECS takes. `k / 10` is the double
/// nearest to the decimal `k/10`, which is what ECS parses from JSON anyway.
pub fn tenths_to_percent(tenths: u32) -> f64 {
    f64::from(tenths) / 10.0
}

/// A percentage ECS reported, back in tenths when it is a multiple of 0.1.
pub fn percent_to_tenths(percent: f64) -> Option<u32> {
    let t = percent * 10.0;
    let r = t.round();
    ((t - r).abs() < 1e-6 && (0.0..=1000.0).contains(&r)).then_some(r as u32)
}

impl fmt::Display for DeploymentStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DeploymentStrategy::Rolling => write!(f, "ROLLING"),
            DeploymentStrategy::Canary {
                percent_tenths,
                canary_bake_minutes,
                bake_minutes,
            } => write!(
                f,
                "CANARY {} % for {canary_bake_minutes} min, then 100 % (bake {bake_minutes} min)",
                tenths_text(percent_tenths)
            ),
            DeploymentStrategy::Linear {
                step_percent_tenths,
                step_bake_minutes,
                bake_minutes,
            } => write!(
                f,
                "LINEAR +{} % every {step_bake_minutes} min (bake {bake_minutes} min)",
                tenths_text(step_percent_tenths)
            ),
            DeploymentStrategy::BlueGreen { bake_minutes } => {
                write!(f, "BLUE_GREEN (bake {bake_minutes} min)")
            }
        }
    }
}

/// How a service deploys: its strategy and the alarms that stop a deployment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeploymentSpec {
    pub strategy: DeploymentStrategy,
    /// CloudWatch alarm names ECS watches during a deployment; with
    /// `rollback`, one in ALARM rolls the deployment back.
    pub alarm_names: Vec<String>,
    pub rollback_on_alarms: bool,
}

impl Default for DeploymentSpec {
    fn default() -> Self {
        DeploymentSpec {
            strategy: DeploymentStrategy::Rolling,
            alarm_names: Vec::new(),
            rollback_on_alarms: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_steps_follow_the_strategy() {
        let canary = DeploymentStrategy::Canary {
            percent_tenths: 5,
            canary_bake_minutes: 5,
            bake_minutes: 5,
        };
        assert_eq!(canary.traffic_steps_tenths(), vec![5, 1000]);
        let linear = DeploymentStrategy::Linear {
            step_percent_tenths: 250,
            step_bake_minutes: 1,
            bake_minutes: 1,
        };
        assert_eq!(linear.traffic_steps_tenths(), vec![250, 500, 750, 1000]);
        let uneven = DeploymentStrategy::Linear {
            step_percent_tenths: 30,
            step_bake_minutes: 1,
            bake_minutes: 1,
        };
        let steps = uneven.traffic_steps_tenths();
        assert_eq!(steps.len(), 34);
        assert_eq!(&steps[32..], &[990, 1000]);
        assert_eq!(
            DeploymentStrategy::BlueGreen { bake_minutes: 0 }.traffic_steps_tenths(),
            vec![1000]
        );
    }

    #[test]
    fn percentages_stay_exact() {
        assert_eq!(tenths_text(5), "0.5");
        assert_eq!(tenths_text(50), "5");
        assert_eq!(tenths_text(123), "12.3");
        for t in 0..=1000 {
            assert_eq!(percent_to_tenths(tenths_to_percent(t)), Some(t));
        }
        assert_eq!(percent_to_tenths(0.05), None);
        assert_eq!(percent_to_tenths(100.1), None);
    }

    #[test]
    fn names_and_text() {
        let s = DeploymentStrategy::Canary {
            percent_tenths: 5,
            canary_bake_minutes: 10,
            bake_minutes: 10,
        };
        assert_eq!(s.ecs_name(), "CANARY");
        assert!(s.shifts_traffic());
        assert!(!DeploymentStrategy::Rolling.shifts_traffic());
        assert_eq!(
            s.to_string(),
            "CANARY 0.5 % for 10 min, then 100 % (bake 10 min)"
        );
        assert_eq!(DeploymentStrategy::Rolling.bake_minutes(), None);
    }
}
