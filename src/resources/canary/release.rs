//! The canary's release step, which replaces the engine's run on the
//! shared driver: on service_connect an ECS deployment of the candidate
//! followed to its end, on App Mesh the walk of the route's weights. Both
//! end in a [`Report`], which becomes what the driver records and reports.

use super::config::CanarySettings;
use super::report::Report;
use super::stable::Stable;
use super::status::Status;
use crate::engine::{Outcome, Resolved};
use crate::resources::context::Configured;
use crate::resources::driver::{ReleaseRun, Released};
use crate::tf::value::Value;

const RESOURCE: &str = "matbakh_canary";

/// Where a state says the walk stands (`None`: not known, as in a plan).
pub fn status_of(state: &Value) -> Option<Status> {
    state.get("status").as_str().and_then(Status::parse)
}

/// Run the release of `settings` beside `stable`.
pub async fn release(
    configured: &Configured,
    settings: &CanarySettings,
    stable: &Stable,
    run: ReleaseRun<'_>,
) -> Released {
    let token = Some(run.token.clone());
    let action = if run.prior.is_some() {
        "updating"
    } else {
        "creating"
    };
    let report = match run.prior {
        None if stable.is_native() => {
            let native = stable.native(configured, settings, token);
            native.deploy(Resolved::new(), true).await
        }
        None => {
            let walk = stable.app_mesh(configured, settings, token);
            walk.walk(Resolved::new(), 0, true).await
        }
        Some(prior) => {
            update(
                configured,
                settings,
                stable,
                run.recorded,
                prior,
                run.planned,
                token,
            )
            .await
        }
    };
    released(settings, action, report)
}

/// An update: a new walk (or deployment) where the image or the walk
/// changed or the last one did not finish, else the objects repaired and
/// the traffic put back where the status says it belongs.
async fn update(
    configured: &Configured,
    settings: &CanarySettings,
    stable: &Stable,
    recorded: Resolved,
    prior: &Value,
    planned: &Value,
    token: Option<crate::spec::ownership::OwnerToken>,
) -> Report {
    let prior_status = status_of(prior).unwrap_or(Status::Progressing);
    let new_image = planned.get("image") != prior.get("image");
    if stable.is_native() {
        let native = stable.native(configured, settings, token);
        let redeploy = new_image
            || prior_status == Status::Progressing
            || planned.get("steps") != prior.get("steps")
            || planned.get("strategy") != prior.get("strategy")
            || planned.get("step_interval") != prior.get("step_interval");
        return if redeploy {
            native.deploy(recorded, new_image).await
        } else {
            native.settle(recorded, prior_status).await
        };
    }
    let walk = stable.app_mesh(configured, settings, token);
    if !(new_image || prior_status == Status::Progressing) {
        return walk.settle_at(recorded, prior_status).await;
    }
    let mut weight = walk.observed_weight().await.unwrap_or(0);
    if new_image && weight > 0 {
        // The old candidate leaves the route before the new version is
        // deployed onto it: nothing unproven gets traffic.
        if let Err(e) = walk.set_weight(0).await {
            let mut r = Report::stopped_at(recorded, prior_status, weight, e.to_string());
            r.status = Status::Progressing;
            return r;
        }
        weight = 0;
    }
    walk.walk(recorded, weight, new_image).await
}

/// A report as the driver takes it: the candidate's failed steps per
/// component; a rollback naming the alarm (or the failed deployment) and a
/// stop saying where the walk stands as errors of their own.
pub fn released(settings: &CanarySettings, action: &str, report: Report) -> Released {
    let mut errors = Vec::new();
    if let Some(reason) = &report.rolled_back {
        errors.push((
            format!("{RESOURCE} {}: rolled back", settings.service),
            format!(
                "The candidate {} was rolled back: {reason}.\n\nAll traffic is on the stable service again and the candidate is scaled to zero; \
                 its objects stay recorded in the state (status = \"rolled_back\"). Apply a new image to try again, or remove the canary.",
                settings.image
            ),
        ));
    }
    if let Some(why) = &report.stopped {
        errors.push((
            format!("{action} {RESOURCE} {}: the walk stopped", settings.service),
            format!(
                "{why}\n\nThe candidate has {}% of the traffic (status = \"{}\"); the next apply starts the walk again.",
                report.weight,
                report.status.name()
            ),
        ));
    }
    Released {
        computed: vec![
            ("status", report.status.name().into()),
            ("current_weight", report.weight.into()),
        ],
        outcome: Outcome {
            recorded: report.recorded,
            errors: report.errors,
            progress: vec![],
        },
        errors,
    }
}
