//! A release's rollback alarms, built from the share of traffic the
//! release gives the new revision (issue #19 item 3).
//!
//! On Service Connect there is no metric per revision: the old and the new
//! revision share one ECS service and one discovery name, so the alarms see
//! the service's error rate. A new revision at share `s` (percent) that
//! fails every request raises it to about `s` %: with the user's 5 % and a
//! 2 % canary it could never trip. The release's error-rate alarm therefore
//! fires above `error_rate_percent × s / 100`, the service's rate when the
//! new revision fails at `error_rate_percent` and the old one not at all:
//! a new revision failing every request trips it at any share it is given.
//! What it cannot tell: whose the errors are. Errors of the old revision
//! count too, so a service that already fails more than that during a
//! release is rolled back (the docs say so). The latency alarm reads the
//! service's Average, which a slower revision moves by only `s` × its extra
//! latency; a threshold scaled without knowing the old revision's latency
//! would fire on every release, so the release uses the operational latency
//! alarm. With ingress each revision is watched apart (per target group).
//!
//! The microservice's own operational alarms keep the user's thresholds; a
//! release whose smallest share is 100 % (rolling, blue/green) rolls back on
//! them as before.

use super::config::Settings;
use super::expand::{alarms, latency_alarm_what, PlatformContext};
use super::names;
use crate::spec::deployment_strategy::DeploymentStrategy;
use crate::spec::{Component, Spec, Tags};

/// Component key of the release's error-rate alarm.
pub const ALARM_RELEASE_ERROR_RATE: &str = "alarm_release_error_rate";
/// Its name's last part: `PLATFORM-NAME-release-error-rate`.
pub const RELEASE_ERROR_RATE: &str = "release-error-rate";

/// The smallest share of production traffic, percent, a deployment of
/// `strategy` gives the new revision: its first step.
pub fn smallest_share_percent(strategy: &DeploymentStrategy) -> f64 {
    match strategy {
        DeploymentStrategy::Canary { percent_tenths, .. } => f64::from(*percent_tenths) / 10.0,
        DeploymentStrategy::Linear {
            step_percent_tenths,
            ..
        } => f64::from(*step_percent_tenths) / 10.0,
        DeploymentStrategy::Rolling | DeploymentStrategy::BlueGreen { .. } => 100.0,
    }
}

/// The service's error rate, percent, when a new revision at `share`
/// percent fails at `error_rate_percent` and the old one never.
pub fn scaled_error_rate(error_rate_percent: f64, share_percent: f64) -> f64 {
    error_rate_percent * share_percent.clamp(0.0, 100.0) / 100.0
}

/// Whether the release needs an error-rate alarm of its own.
fn scaled(settings: &Settings) -> Option<f64> {
    let d = &settings.deployment;
    let share = smallest_share_percent(&d.strategy);
    (d.rollback_on_alarms && share < 100.0).then_some(share)
}

/// The release's own alarms (none when it rolls back on the operational
/// ones).
pub fn components(settings: &Settings, platform: &PlatformContext, tags: &Tags) -> Vec<Component> {
    let Some(share) = scaled(settings) else {
        return Vec::new();
    };
    let [mut alarm, _, _] = alarms(settings, platform, tags);
    let threshold = scaled_error_rate(settings.alarms.error_rate_percent, share);
    alarm.name = names::alarm_name(&platform.platform_id, &settings.name, RELEASE_ERROR_RATE);
    alarm.threshold = threshold;
    alarm.description = format!(
        "{}: a release rolls back above {threshold}% failed (5xx) requests of the whole service: \
         what the service shows when the new revision, at its first {share}% of the traffic, fails \
         more than {}% of its requests (Service Connect has no metric per revision)",
        settings.name, settings.alarms.error_rate_percent
    );
    vec![Component::new(
        ALARM_RELEASE_ERROR_RATE,
        Spec::MetricAlarm(alarm),
    )]
}

/// The alarms the ECS deployment rolls back on.
pub fn rollback_alarm_names(settings: &Settings, platform: &PlatformContext) -> Vec<String> {
    if !settings.deployment.rollback_on_alarms {
        return Vec::new();
    }
    let errors = if scaled(settings).is_some() {
        RELEASE_ERROR_RATE
    } else {
        "error-rate"
    };
    [errors.to_string(), latency_alarm_what(platform)]
        .iter()
        .map(|what| names::alarm_name(&platform.platform_id, &settings.name, what))
        .collect()
}

#[cfg(test)]
#[path = "release_alarms_tests.rs"]
mod tests;
