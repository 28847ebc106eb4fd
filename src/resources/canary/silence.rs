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

use super::config::CanarySettings;
use crate::resources::context::Configured;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::expand::PlatformContext;
use crate::resources::microservice::platform_context::find_platform;
use crate::resources::microservice::{names, release_alarms};
use crate::service_mesh::ServiceMesh;
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

/// On service_connect the canary's no-traffic alarm counts the service's
/// requests over its first step (`min_requests`); the plan warns, as the
/// microservice's `deployment` does, when the service's last hour of
/// traffic (`per_minute`) would give the candidate fewer than twice that.
pub fn min_requests_warning(canary: &CanarySettings, per_minute: f64) -> Option<(String, String)> {
    let step_minutes = canary.step_interval.as_secs().div_ceil(60).clamp(1, 1440);
    release_alarms::step_silence_warning(
        &release_alarms::StepTraffic {
            service: &canary.service,
            share_percent: super::ecs_native::first_share_percent(canary),
            step_minutes: u32::try_from(step_minutes).unwrap_or(1440),
            min_requests: canary.min_requests,
            per_minute,
        },
        "Raise step_interval or the first step, or lower min_requests.",
    )
}

/// [`min_requests_warning`] for a planned canary on service_connect, from
/// the service's requests of the last hour; nothing when they cannot be
/// read (a microservice not created yet, or silent: its alarm says so at
/// apply), or on app_mesh, whose candidate is judged per minute.
pub async fn plan_min_requests_warning(
    configured: &Configured,
    canary: &CanarySettings,
) -> Option<(String, String)> {
    if configured.service_mesh != ServiceMesh::ServiceConnect {
        return None;
    }
    let platform = find_platform(configured, &canary.platform).await.ok()?;
    let mut service =
        Settings::resolve_unchecked(&MicroserviceConfig::default(), configured.environment);
    service.name = canary.service.clone();
    let requests = crate::resources::microservice::expand::requests_query(&service, &platform);
    let per_minute =
        release_alarms::recent_requests_per_minute(&configured.clients, requests).await?;
    min_requests_warning(canary, per_minute)
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

    fn canary(steps: &str, interval: &str, min: u32) -> CanarySettings {
        let config =
            crate::resources::canary::config::CanaryConfig::from_value(&serde_json::json!({
                "microservice": "matbakh/auth-service", "image": "r/auth:1.5.0",
                "steps": serde_json::from_str::<serde_json::Value>(steps).unwrap(),
                "step_interval": interval, "min_requests": min,
            }))
            .unwrap();
        CanarySettings::resolve(&config).unwrap()
    }

    #[test]
    fn a_plan_warns_when_the_first_step_can_hardly_reach_min_requests() {
        // 4 a minute, 5 minutes at 10 %: 2 for the candidate, under twice 3.
        let c = canary("[10, 100]", "5m", 3);
        let (summary, detail) = min_requests_warning(&c, 4.0).expect("a warning");
        assert_eq!(
            summary,
            "auth-service: a release can hardly reach min_requests"
        );
        assert!(detail.contains("about 2.0 requests"), "{detail}");
        assert!(detail.contains("min_requests = 3"), "{detail}");
        assert!(detail.contains("step_interval"), "{detail}");
        // 12 a minute: 6, enough.
        assert_eq!(min_requests_warning(&c, 12.0), None);
        // A longer step reaches it at 4 a minute: 15 minutes give 6.
        assert_eq!(
            min_requests_warning(&canary("[10, 100]", "15m", 3), 4.0),
            None
        );
        // Blue/green gives the candidate everything at once: 5 in 5 minutes
        // at 1 a minute, 10 at 2.
        let mut bg = canary("[100]", "5m", 3);
        bg.strategy = crate::resources::canary::config::Strategy::BlueGreen;
        let (_, detail) = min_requests_warning(&bg, 1.0).expect("a warning");
        assert!(detail.contains("at 100%"), "{detail}");
        assert_eq!(min_requests_warning(&bg, 2.0), None);
    }

    #[test]
    fn the_canary_and_the_microservice_warn_through_one_function() {
        // The same step, share and min_requests give the same words.
        let c = canary("[5, 100]", "10m", 5);
        let (summary, detail) = min_requests_warning(&c, 10.0).unwrap();
        let (shared_summary, shared_detail) = release_alarms::step_silence_warning(
            &release_alarms::StepTraffic {
                service: "auth-service",
                share_percent: 5.0,
                step_minutes: 10,
                min_requests: 5,
                per_minute: 10.0,
            },
            "Raise step_interval or the first step, or lower min_requests.",
        )
        .unwrap();
        assert_eq!((summary, detail), (shared_summary, shared_detail));
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
