//! A canary never promotes on silence.
//!
//! Error-rate and latency alarms cannot fire on a candidate nobody calls:
//! with no requests there are no errors and no slow answers, so a walk that
//! only waits for them to stay quiet promotes a version nobody tried. The
//! candidate therefore gets a third alarm, `NAME-canary-no-traffic`, on the
//! backend's request count: in ALARM when the candidate served fewer than
//! [`MIN_REQUESTS_PER_MINUTE`] requests in each of the last
//! [`SILENT_MINUTES`] minutes, *missing data breaching* (a minute without a
//! data point is a minute without requests). It is one of the alarms the App
//! Mesh walk checks before every step, and one of the ECS deployment's
//! rollback alarms on service_connect, so silence rolls back like an error.
//!
//! The window is [`SILENCE_WINDOW`]: a `step_interval` shorter than it lets
//! a step pass before CloudWatch could judge it. It is allowed (try-outs and
//! tests walk in seconds, with alarm states set by hand) and documented:
//! in production keep `step_interval` at least that long.

use std::time::Duration;

use crate::resources::microservice::config::Settings;
use crate::resources::microservice::expand::PlatformContext;
use crate::resources::microservice::names;
use crate::spec::cloudwatch::MetricAlarmSpec;
use crate::spec::Tags;

/// Fewer requests than this in a minute is a silent minute.
pub const MIN_REQUESTS_PER_MINUTE: f64 = 1.0;
/// Silent minutes in a row that make the alarm fire.
pub const SILENT_MINUTES: i32 = 3;
/// How long CloudWatch needs to call a candidate silent.
pub const SILENCE_WINDOW: Duration = Duration::from_secs(60 * SILENT_MINUTES as u64);

/// The warning a plan gives for a `step_interval` shorter than
/// [`SILENCE_WINDOW`]: allowed, and why, and what to use in production.
pub fn short_interval_warning(step_interval: Duration) -> Option<(String, String)> {
    (step_interval < SILENCE_WINDOW).then(|| {
        (
            "step_interval shorter than the alarms' evaluation window".to_string(),
            format!(
                "step_interval = {:?} is shorter than the {} minutes CloudWatch needs to judge a step (the no-traffic alarm fires after {SILENT_MINUTES} silent one-minute periods), so a step may pass before its alarms could fire. It is allowed for try-outs and tests, where alarm states are set by hand; in production use at least \"{}m\".",
                step_interval,
                SILENCE_WINDOW.as_secs() / 60,
                SILENCE_WINDOW.as_secs() / 60,
            ),
        )
    })
}

/// The no-traffic alarm of the slot whose alarm settings are `candidate`
/// (its name is the slot's, `NAME-canary`).
pub fn no_traffic_alarm(
    candidate: &Settings,
    platform: &PlatformContext,
    tags: &Tags,
) -> MetricAlarmSpec {
    let mut requests = crate::resources::microservice::expand::requests_query(candidate, platform);
    requests.return_data = true;
    MetricAlarmSpec {
        name: names::alarm_name(&platform.platform_id, &candidate.name, "no-traffic"),
        description: format!(
            "{}: served no requests for {SILENT_MINUTES} minutes: a canary never promotes on silence",
            candidate.name
        ),
        metrics: vec![requests],
        comparison_operator: "LessThanThreshold".to_string(),
        threshold: MIN_REQUESTS_PER_MINUTE,
        evaluation_periods: SILENT_MINUTES,
        datapoints_to_alarm: SILENT_MINUTES,
        treat_missing_data: "breaching".to_string(),
        actions: candidate.alarms.actions.clone(),
        tags: tags.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::resources::microservice::config::MicroserviceConfig;
    use crate::resources::microservice::test_fixtures::platform_on;
    use crate::service_mesh::ServiceMesh;

    #[test]
    fn a_step_shorter_than_the_window_is_warned_about_at_plan() {
        let (summary, detail) = short_interval_warning(Duration::from_secs(30)).unwrap();
        assert!(summary.contains("step_interval"), "{summary}");
        assert!(detail.contains("at least \"3m\""), "{detail}");
        assert_eq!(short_interval_warning(SILENCE_WINDOW), None);
        assert_eq!(short_interval_warning(Duration::from_secs(300)), None);
    }

    #[test]
    fn silence_is_breaching_on_both_backends() {
        for mesh in [ServiceMesh::AppMesh, ServiceMesh::ServiceConnect] {
            let mut settings = Settings::resolve_unchecked(
                &MicroserviceConfig::default(),
                Environment::Production,
            );
            settings.name = "auth-service-canary".into();
            let platform = platform_on(Environment::Production, mesh);
            let alarm = no_traffic_alarm(&settings, &platform, &Tags::new());
            assert_eq!(alarm.name, "matbakh-auth-service-canary-no-traffic");
            assert_eq!(alarm.treat_missing_data, "breaching");
            assert_eq!(alarm.comparison_operator, "LessThanThreshold");
            assert_eq!(
                (alarm.evaluation_periods, alarm.datapoints_to_alarm),
                (3, 3)
            );
            assert_eq!(alarm.metrics.len(), 1);
            let m = alarm.metrics[0].metric.as_ref().unwrap();
            assert_eq!(m.metric_name, "RequestCount", "{mesh:?}");
            assert_eq!(m.stat, "Sum");
            assert!(alarm.metrics[0].return_data);
        }
    }
}
