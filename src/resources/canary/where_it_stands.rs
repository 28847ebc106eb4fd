//! What a read of a canary finds beyond its components: where its walk or
//! deployment stands (`status`, `current_weight`) and a route weight moved
//! out of band (drift no component shows: the next apply puts it back).

use super::config::CanarySettings;
use super::ecs_native::native_keys::{CANDIDATE_TASK_DEFINITION, SERVICE_DEPLOYMENT};
use super::release::status_of;
use super::stable::Stable;
use super::status::{expected_weight, Status};
use crate::engine::Resolved;
use crate::resources::context::Configured;
use crate::resources::driver::Beyond;
use crate::tf::value::Value;

/// What a read of the canary of `settings` in `state` finds beyond its
/// graph's components.
pub async fn read(
    configured: &Configured,
    settings: &CanarySettings,
    stable: &Stable,
    recorded: &Resolved,
    state: &Value,
) -> Result<Beyond, String> {
    let status = status_of(state).unwrap_or(Status::Progressing);
    if stable.is_native() {
        return native(configured, settings, stable, recorded, state, status).await;
    }
    let walk = stable.app_mesh(configured, settings, None);
    let weight = walk
        .observed_weight()
        .await
        .map_err(|e| format!("reading the route of {}: {e}", settings.service))?;
    let mut beyond = Beyond {
        computed: vec![("current_weight", weight.into())],
        ..Beyond::default()
    };
    if let Some(want) = expected_weight(settings, status) {
        if want != weight {
            beyond.drift.insert(
                "route_weight".to_string(),
                format!(
                    "the candidate has {weight}% of the traffic, want {want}% (status {})",
                    status.name()
                ),
            );
        }
    }
    Ok(beyond)
}

/// On service_connect: the candidate revision while it is still this
/// canary's, the deployment while ECS knows it, and where it stands.
async fn native(
    configured: &Configured,
    settings: &CanarySettings,
    stable: &Stable,
    recorded: &Resolved,
    state: &Value,
    status: Status,
) -> Result<Beyond, String> {
    let native = stable.native(configured, settings, None);
    // The alarms it reads again are the driver's (the refresh's clients
    // send each read once); what counts here is the rest.
    let (sorted, deployment) = native.observe(recorded).await?;
    let gone = [CANDIDATE_TASK_DEFINITION, SERVICE_DEPLOYMENT]
        .into_iter()
        .filter(|k| recorded.contains_key(*k) && !sorted.existing.contains_key(*k))
        .map(str::to_string)
        .collect();
    let (status, weight) = deployment.unwrap_or((
        status,
        state
            .get("current_weight")
            .as_f64()
            .map(|w| w as i64)
            .unwrap_or(0),
    ));
    Ok(Beyond {
        computed: vec![
            ("status", status.name().into()),
            ("current_weight", weight.into()),
        ],
        drift: Default::default(),
        gone,
    })
}
