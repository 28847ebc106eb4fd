//! The plan warning that a canary's first step can hardly reach
//! `min_requests`: on service_connect its no-traffic alarm counts the
//! service's requests over the first step (see [`super::ecs_native`]), and
//! the plan warns, with the same rule as the microservice's `deployment`
//! (`release_alarms::step_silence_warning`), when the service's last hour
//! of traffic would give the candidate fewer than twice that.

use super::config::CanarySettings;
use crate::resources::context::Configured;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::platform_context::find_platform;
use crate::resources::microservice::release_alarms;
use crate::service_mesh::ServiceMesh;

/// The warning at `per_minute` requests a minute, if the first step can
/// hardly give the candidate `min_requests`.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
