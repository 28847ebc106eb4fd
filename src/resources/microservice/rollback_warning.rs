//! The plan warning after ECS rolled a release back on its alarms.
//!
//! The state records the revision that runs (read back), so a plan after a
//! rollback shows `image = "1.27" -> "1.28"`: applying it retries the
//! release. The warning says why the service is not on 1.28: when ECS
//! rolled it back and which alarm fired, so the retry is a decision, not a
//! surprise.

use super::config::Settings;
use super::expand::{PlatformContext, APP_CONTAINER};
use super::names;
use crate::aws::ecs::service_deployment::{last_rollback, RolledBack};
use crate::aws::Clients;

/// Whether a plan of `settings` looks for a rollback: only deployments with
/// rollback alarms are rolled back on them.
pub fn applies(settings: &Settings) -> bool {
    settings.deployment.rollback_on_alarms
}

/// The warning, when the configured image is the one ECS rolled back.
pub async fn warning(
    clients: &Clients,
    platform: &PlatformContext,
    settings: &Settings,
) -> Option<(String, String)> {
    if !applies(settings) {
        return None;
    }
    let service = names::ecs_service_name(&names::stable_slot(&settings.name));
    // Only a warning is at stake: the apply reports AWS trouble.
    let rolled_back = last_rollback(clients, &platform.cluster_name, &service)
        .await
        .ok()??;
    text(&settings.name, &settings.image, &rolled_back)
}

/// The summary and detail, when `image` is the rejected revision's.
pub fn text(name: &str, image: &str, rb: &RolledBack) -> Option<(String, String)> {
    if rb.images.get(APP_CONTAINER).map(String::as_str) != Some(image) {
        return None;
    }
    let when = rb
        .finished_at
        .as_deref()
        .map(|t| format!(" at {t}"))
        .unwrap_or_default();
    let alarms = rb.alarms.join(", ");
    Some((
        format!("{name}: image {image} was rolled back{when}"),
        format!(
            "ECS rolled the release of {image} back{when} because alarm {alarms} went into ALARM; \
             the service runs the previous revision, which is what the state shows. Applying this \
             plan deploys {image} again: fix what made {alarms} fire first, or set image to the \
             revision that runs."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rolled_back(image: &str) -> RolledBack {
        RolledBack {
            task_definition: "arn:td/matbakh-auth:2".into(),
            images: [(APP_CONTAINER.to_string(), image.to_string())].into(),
            finished_at: Some("2026-12-06T09:00:00Z".into()),
            alarms: vec!["matbakh-auth-error-rate".into()],
        }
    }

    #[test]
    fn the_warning_names_the_image_the_time_and_the_alarm() {
        let (summary, detail) = text("auth", "r/auth:1.28", &rolled_back("r/auth:1.28")).unwrap();
        assert_eq!(
            summary,
            "auth: image r/auth:1.28 was rolled back at 2026-12-06T09:00:00Z"
        );
        assert!(detail.contains("alarm matbakh-auth-error-rate"), "{detail}");
        assert!(detail.contains("deploys r/auth:1.28 again"), "{detail}");
    }

    #[test]
    fn another_image_than_the_rejected_one_is_not_warned_about() {
        assert_eq!(
            text("auth", "r/auth:1.29", &rolled_back("r/auth:1.28")),
            None
        );
    }
}
