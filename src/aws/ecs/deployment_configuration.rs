//! A [`DeploymentSpec`] to and from ECS's `deploymentConfiguration`: the
//! strategy with its percent and bake times, and the alarms that roll a
//! deployment back.

use aws_sdk_ecs::types::{
    CanaryConfiguration, DeploymentAlarms, DeploymentConfiguration, DeploymentStrategy as Ecs,
    LinearConfiguration,
};

use crate::spec::deployment_strategy::{
    percent_to_tenths, tenths_to_percent, DeploymentSpec, DeploymentStrategy,
};

fn minutes(m: u32) -> i32 {
    i32::try_from(m).unwrap_or(i32::MAX)
}

/// Add the strategy and the alarms of `spec` to a configuration builder.
pub fn with_deployment(
    builder: aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder,
    spec: &DeploymentSpec,
) -> aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder {
    let mut b = builder.strategy(Ecs::from(spec.strategy.ecs_name()));
    match spec.strategy {
        DeploymentStrategy::Rolling => {}
        DeploymentStrategy::Canary {
            percent_tenths,
            canary_bake_minutes,
            bake_minutes,
        } => {
            b = b
                .canary_configuration(
                    CanaryConfiguration::builder()
                        .canary_percent(tenths_to_percent(percent_tenths))
                        .canary_bake_time_in_minutes(minutes(canary_bake_minutes))
                        .build(),
                )
                .bake_time_in_minutes(minutes(bake_minutes));
        }
        DeploymentStrategy::Linear {
            step_percent_tenths,
            step_bake_minutes,
            bake_minutes,
        } => {
            b = b
                .linear_configuration(
                    LinearConfiguration::builder()
                        .step_percent(tenths_to_percent(step_percent_tenths))
                        .step_bake_time_in_minutes(minutes(step_bake_minutes))
                        .build(),
                )
                .bake_time_in_minutes(minutes(bake_minutes));
        }
        DeploymentStrategy::BlueGreen { bake_minutes } => {
            b = b.bake_time_in_minutes(minutes(bake_minutes));
        }
    }
    // ECS refuses `enable` without alarm names; no names, no alarms block
    // (sending one with enable=false clears what a previous apply set).
    let enable = spec.rollback_on_alarms && !spec.alarm_names.is_empty();
    if let Ok(alarms) = DeploymentAlarms::builder()
        .set_alarm_names(Some(if enable {
            spec.alarm_names.clone()
        } else {
            Vec::new()
        }))
        .enable(enable)
        .rollback(enable)
        .build()
    {
        b = b.alarms(alarms);
    }
    b
}

/// The deployment settings a service has. An ECS that reports no strategy
/// (an older API, an emulator) is ROLLING, as ECS defaults it.
pub fn deployment_of(dc: Option<&DeploymentConfiguration>) -> DeploymentSpec {
    let Some(dc) = dc else {
        return DeploymentSpec::default();
    };
    let bake = dc
        .bake_time_in_minutes()
        .and_then(|m| u32::try_from(m).ok())
        .unwrap_or(0);
    let tenths = |p: Option<f64>, default: u32| p.and_then(percent_to_tenths).unwrap_or(default);
    let strategy = match dc.strategy() {
        Some(Ecs::Canary) => {
            let c = dc.canary_configuration();
            DeploymentStrategy::Canary {
                percent_tenths: tenths(c.and_then(|c| c.canary_percent()), 50),
                canary_bake_minutes: c
                    .and_then(|c| c.canary_bake_time_in_minutes())
                    .and_then(|m| u32::try_from(m).ok())
                    .unwrap_or(10),
                bake_minutes: bake,
            }
        }
        Some(Ecs::Linear) => {
            let l = dc.linear_configuration();
            DeploymentStrategy::Linear {
                step_percent_tenths: tenths(l.and_then(|l| l.step_percent()), 100),
                step_bake_minutes: l
                    .and_then(|l| l.step_bake_time_in_minutes())
                    .and_then(|m| u32::try_from(m).ok())
                    .unwrap_or(6),
                bake_minutes: bake,
            }
        }
        Some(Ecs::BlueGreen) => DeploymentStrategy::BlueGreen { bake_minutes: bake },
        _ => DeploymentStrategy::Rolling,
    };
    let alarms = dc.alarms();
    let rollback_on_alarms = alarms.is_some_and(|a| a.enable() && a.rollback());
    let mut alarm_names: Vec<String> = if rollback_on_alarms {
        alarms.map(|a| a.alarm_names().to_vec()).unwrap_or_default()
    } else {
        Vec::new()
    };
    alarm_names.sort();
    DeploymentSpec {
        strategy,
        alarm_names,
        rollback_on_alarms,
    }
}

/// What differs between the deployment settings wanted and found, in words.
pub fn deployment_differences(want: &DeploymentSpec, found: &DeploymentSpec) -> Vec<String> {
    let mut diffs = Vec::new();
    if want.strategy != found.strategy {
        diffs.push(format!(
            "deployment strategy is {}, want {}",
            found.strategy, want.strategy
        ));
    }
    let effective = |s: &DeploymentSpec| {
        let mut names = if s.rollback_on_alarms {
            s.alarm_names.clone()
        } else {
            Vec::new()
        };
        names.sort();
        names
    };
    let (w, f) = (effective(want), effective(found));
    if w != f {
        diffs.push(format!(
            "deployment alarms with rollback are {f:?}, want {w:?}"
        ));
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(spec: &DeploymentSpec) -> DeploymentSpec {
        let dc = with_deployment(DeploymentConfiguration::builder(), spec).build();
        deployment_of(Some(&dc))
    }

    #[test]
    fn every_strategy_round_trips_exactly() {
        for strategy in [
            DeploymentStrategy::Rolling,
            DeploymentStrategy::Canary {
                percent_tenths: 3,
                canary_bake_minutes: 7,
                bake_minutes: 7,
            },
            DeploymentStrategy::Linear {
                step_percent_tenths: 125,
                step_bake_minutes: 2,
                bake_minutes: 3,
            },
            DeploymentStrategy::BlueGreen { bake_minutes: 0 },
        ] {
            let spec = DeploymentSpec {
                strategy,
                alarm_names: vec!["a-error-rate".into(), "a-p95-latency".into()],
                rollback_on_alarms: true,
            };
            assert_eq!(round_trip(&spec), spec, "{strategy}");
            assert!(deployment_differences(&spec, &round_trip(&spec)).is_empty());
        }
    }

    #[test]
    fn the_request_carries_what_ecs_expects() {
        let spec = DeploymentSpec {
            strategy: DeploymentStrategy::Canary {
                percent_tenths: 5,
                canary_bake_minutes: 10,
                bake_minutes: 10,
            },
            alarm_names: vec!["x-error-rate".into()],
            rollback_on_alarms: true,
        };
        let dc = with_deployment(DeploymentConfiguration::builder(), &spec).build();
        assert_eq!(dc.strategy(), Some(&Ecs::Canary));
        let c = dc.canary_configuration().unwrap();
        assert_eq!(c.canary_percent(), Some(0.5));
        assert_eq!(c.canary_bake_time_in_minutes(), Some(10));
        assert_eq!(dc.bake_time_in_minutes(), Some(10));
        let a = dc.alarms().unwrap();
        assert!(a.enable() && a.rollback());
        assert_eq!(a.alarm_names(), ["x-error-rate"]);
    }

    #[test]
    fn alarms_off_clears_them_and_counts_as_none() {
        let off = DeploymentSpec {
            strategy: DeploymentStrategy::Rolling,
            alarm_names: vec!["x".into()],
            rollback_on_alarms: false,
        };
        let dc = with_deployment(DeploymentConfiguration::builder(), &off).build();
        let a = dc.alarms().unwrap();
        assert!(!a.enable() && a.alarm_names().is_empty());
        assert!(deployment_differences(&off, &DeploymentSpec::default()).is_empty());
        // No strategy reported: ROLLING.
        assert_eq!(deployment_of(None), DeploymentSpec::default());
        let on = DeploymentSpec {
            rollback_on_alarms: true,
            ..off
        };
        let diffs = deployment_differences(&on, &DeploymentSpec::default());
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert!(diffs[0].contains("alarms"), "{diffs:?}");
    }

    #[test]
    fn a_changed_percent_is_a_difference() {
        let a = DeploymentSpec {
            strategy: DeploymentStrategy::Canary {
                percent_tenths: 5,
                canary_bake_minutes: 1,
                bake_minutes: 1,
            },
            ..Default::default()
        };
        let b = DeploymentSpec {
            strategy: DeploymentStrategy::Canary {
                percent_tenths: 6,
                canary_bake_minutes: 1,
                bake_minutes: 1,
            },
            ..Default::default()
        };
        let diffs = deployment_differences(&a, &b);
        assert_eq!(
            diffs,
            vec!["deployment strategy is CANARY 0.6 % for 1 min, then 100 % (bake 1 min), want CANARY 0.5 % for 1 min, then 100 % (bake 1 min)"]
        );
    }
}
