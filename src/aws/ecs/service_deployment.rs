//! ECS service deployments: find the one an update started, follow it with
//! [`Watch`], and stop it with a rollback when the wait is interrupted.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_ecs::types::{Service, StopServiceDeploymentStopType};

use super::deployment_watch::{
    record_of, DeploymentRecord, Interruption, Outcome, Rollback, Step, Watch,
};
use crate::aws::{AwsError, Clients};
use crate::engine::{pause, remaining, stop_requested};

const POLL_EVERY: Duration = Duration::from_secs(5);
/// How long a rollback this provider requested is followed before the wait
/// returns: Terraform expects a stopped provider back within seconds, and
/// ECS goes on rolling back without us (the next apply or plan reads how it
/// ended).
const ROLLBACK_GRACE: Duration = Duration::from_secs(3);

/// The service deployment ECS is running (or ran last) for `service`.
pub fn current_deployment(service: &Service) -> Option<String> {
    service
        .current_service_deployment()
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

/// How long an update that should have started a deployment looks for it
/// when ECS's answer did not name it.
const FIND_STARTED_FOR: Duration = Duration::from_secs(20);
const FIND_STARTED_EVERY: Duration = Duration::from_secs(2);

/// Of `listed` (deployment ARN, creation time in epoch seconds), the newest,
/// unless it is `before`: the deployment an update started.
pub fn newest_other(listed: &[(String, f64)], before: Option<&str>) -> Option<String> {
    let newest = listed
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(arn, _)| arn.as_str())?;
    (Some(newest) != before).then(|| newest.to_string())
}

/// The deployment a CreateService/UpdateService started. ECS may answer
/// before the new deployment is attached to the service (no
/// `currentServiceDeployment`, or still the previous one, `before`): then,
/// when the call was `expected` to start one and the service had a
/// deployment before (ECS reports them), the newest of
/// `ListServiceDeployments` that is not `before`, asked again for a little
/// while. `None`: it started none.
pub async fn find_started(
    aws: &Clients,
    cluster: &str,
    service: &str,
    before: Option<&str>,
    answered: Option<&str>,
    expected: bool,
) -> Result<Option<String>, AwsError> {
    const CALL: &str = "ecs:ListServiceDeployments";
    if let Some(a) = answered.filter(|a| Some(*a) != before) {
        return Ok(Some(a.to_string()));
    }
    // Nothing before: an ECS (an emulator) without service deployments,
    // where the wait falls back to `deployments[]`.
    if !expected || before.is_none() {
        return Ok(None);
    }
    let give_up = tokio::time::Instant::now() + FIND_STARTED_FOR;
    loop {
        let out = aws
            .ecs
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        let listed: Vec<(String, f64)> = out
            .service_deployments()
            .iter()
            .filter_map(|d| {
                Some((
                    d.service_deployment_arn()?.to_string(),
                    d.created_at().map_or(0.0, |t| t.as_secs_f64()),
                ))
            })
            .collect();
        if let Some(started) = newest_other(&listed, before) {
            tracing::info!(service = %service, deployment = %started, "ECS's answer did not name the deployment it started; found it in its list");
            return Ok(Some(started));
        }
        if tokio::time::Instant::now() >= give_up || stop_requested() {
            return Ok(None);
        }
        let _ = pause(FIND_STARTED_EVERY).await;
    }
}

/// The deployment an update started, by service ARN: the `Adapter` splits
/// update and settle, and settle must wait on *that* deployment only (never
/// fail on an older one ECS rolled back in an earlier apply).
static STARTED: Mutex<BTreeMap<String, Option<String>>> = Mutex::new(BTreeMap::new());

/// Record what an update of `service_arn` started: `Some(deployment)` when
/// ECS's current deployment changed, `None` when it did not.
pub fn note_update(service_arn: &str, before: Option<&str>, after: Option<&str>) {
    let started = match (before, after) {
        (_, None) => None,
        (b, Some(a)) if b == Some(a) => None,
        (_, Some(a)) => Some(a.to_string()),
    };
    if let Ok(mut m) = STARTED.lock() {
        m.insert(service_arn.to_string(), started);
    }
}

/// What the last update of `service_arn` started, once: `None` when no
/// update was noted (a create), `Some(None)` when the update started nothing.
pub fn take_noted(service_arn: &str) -> Option<Option<String>> {
    STARTED.lock().ok().and_then(|mut m| m.remove(service_arn))
}

/// The interruption pending now, if any: Terraform's stop request, or the
/// resource's timeout. Asked only at a read of the deployment, so nothing but
/// a real interruption of a deployment still in progress stops it.
fn interruption() -> Option<Interruption> {
    if stop_requested() {
        return Some(Interruption::StopRequested);
    }
    remaining().err().map(|_| Interruption::TimedOut)
}

/// The record of deployment `arn`; `None` when ECS does not know it.
pub async fn describe(aws: &Clients, arn: &str) -> Result<Option<DeploymentRecord>, AwsError> {
    const CALL: &str = "ecs:DescribeServiceDeployments";
    let out = aws
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk(CALL, e))?;
    Ok(out
        .service_deployments()
        .iter()
        .find(|d| d.service_deployment_arn() == Some(arn))
        .map(record_of))
}

/// A revision of the microservice's own that ECS rolled back because the
/// deployment's alarms fired: what was rejected, when, and by which alarms.
#[derive(Clone, Debug, PartialEq)]
pub struct RolledBack {
    /// The rejected revision's task definition.
    pub task_definition: String,
    /// Its container images, by container name.
    pub images: BTreeMap<String, String>,
    /// When ECS finished the rollback (ISO 8601), if it says.
    pub finished_at: Option<String>,
    pub alarms: Vec<String>,
}

/// How `service`'s current deployment ended, if ECS rolled it back on its
/// alarms. Read back only to *say* so (a plan warning): the state records
/// the revision that runs, so the next plan shows the rejected image as a
/// change and applying it retries the release (issue #19 item 11).
pub async fn rolled_back_on_alarms(
    aws: &Clients,
    service: &Service,
) -> Result<Option<RolledBack>, AwsError> {
    let Some(arn) = current_deployment(service) else {
        return Ok(None);
    };
    let out = aws
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(&arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk("ecs:DescribeServiceDeployments", e))?;
    let Some(d) = out.service_deployments().first() else {
        return Ok(None);
    };
    let record = record_of(d);
    if record.status != "ROLLBACK_SUCCESSFUL" || record.triggered_alarms.is_empty() {
        return Ok(None);
    }
    let Some(revision) = d.target_service_revision().and_then(|r| r.arn()) else {
        return Ok(None);
    };
    let out = aws
        .ecs
        .describe_service_revisions()
        .service_revision_arns(revision)
        .send()
        .await
        .map_err(|e| AwsError::sdk("ecs:DescribeServiceRevisions", e))?;
    let Some(rev) = out.service_revisions().first() else {
        return Ok(None);
    };
    let Some(rejected) = rev.task_definition().map(str::to_string) else {
        return Ok(None);
    };
    // A canary's candidate that ECS rolled back was the canary's to deploy,
    // never the revision the microservice's configuration asked for.
    if super::task_definition::canary_of_revision(aws, &rejected)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let images = rev
        .container_images()
        .iter()
        .filter_map(|c| Some((c.container_name()?.to_string(), c.image()?.to_string())))
        .collect();
    let finished_at = d
        .finished_at()
        .or(d.updated_at())
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
    Ok(Some(RolledBack {
        task_definition: rejected,
        images,
        finished_at,
        alarms: record.triggered_alarms,
    }))
}

/// [`rolled_back_on_alarms`] of the ECS service `name` in `cluster`; `None`
/// also when the service does not exist (yet).
pub async fn last_rollback(
    aws: &Clients,
    cluster: &str,
    name: &str,
) -> Result<Option<RolledBack>, AwsError> {
    let out = aws
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await;
    let out = match out.map_err(|e| AwsError::sdk("ecs:DescribeServices", e)) {
        Ok(out) => out,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    match out.services().iter().find(|s| s.status() == Some("ACTIVE")) {
        Some(service) => rolled_back_on_alarms(aws, service).await,
        None => Ok(None),
    }
}

/// Which of `alarms` is in ALARM now, in words for an error; never fails
/// (the error it belongs to says enough without it).
async fn in_alarm(aws: &Clients, alarms: &[String]) -> String {
    match crate::aws::cloudwatch::alarm_state::first_firing(aws, alarms).await {
        Ok(Some(f)) => format!("alarm {} was in ALARM ({})", f.alarm, f.reason),
        Ok(None) => format!(
            "one of its alarms ({}) was in ALARM when it started",
            alarms.join(", ")
        ),
        Err(e) => format!("the alarms could not be read: {e}"),
    }
}

/// Ask ECS to stop `arn` and roll back to the previous revision.
pub async fn stop_with_rollback(aws: &Clients, arn: &str) -> Result<(), AwsError> {
    aws.ecs
        .stop_service_deployment()
        .service_deployment_arn(arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::sdk("ecs:StopServiceDeployment", e))
}

/// Follow deployment `arn` of `service` until it ends. Progress goes to the
/// log; a failed deployment is an error starting with `failed_prefix`
/// that names ECS's reason and the alarms that fired; a timeout or stop
/// request mid-deployment rolls it back and returns within seconds.
/// `on_record` sees every record read (a canary's weight).
pub async fn wait_for_deployment(
    aws: &Clients,
    service: &str,
    arn: &str,
    failed_prefix: &str,
    mut on_record: impl FnMut(&DeploymentRecord),
) -> Result<(), AwsError> {
    let mut watch = Watch::new(service, POLL_EVERY, ROLLBACK_GRACE);
    let started = tokio::time::Instant::now();
    let mut last_status = String::new();
    // Which alarm was in ALARM when ECS declined to watch the deployment.
    let mut unwatched_because: Option<String> = None;
    loop {
        let Some(record) = describe(aws, arn).await? else {
            return Err(AwsError::new(
                "ecs:DescribeServiceDeployments",
                format!("ECS no longer knows the deployment {arn} of service {service}"),
            ));
        };
        on_record(&record);
        last_status.clone_from(&record.status);
        let mut step = watch.on_record(&record, started.elapsed(), interruption());
        if let Step::StopWithRollback { arn, why } = &step {
            if *why == Interruption::AlarmsNotWatched {
                unwatched_because = Some(in_alarm(aws, &record.alarm_names).await);
            }
            tracing::warn!(service = %service, deployment = %arn, "{why}: stopping the ECS deployment with a rollback");
            step = match stop_with_rollback(aws, arn).await {
                // Follow the rollback briefly; the next read says how it goes.
                Ok(()) => Step::Wait {
                    after: Duration::from_millis(500),
                    progress: None,
                },
                // Refused (it may have ended between the read and the stop):
                // nothing rolls back, so there is nothing to follow.
                Err(e) => watch.on_stop_refused(&last_status, e.to_string()),
            };
        }
        match step {
            Step::Wait { after, progress } => {
                if let Some(line) = progress {
                    tracing::info!(service = %service, deployment = %arn, "{line}");
                }
                if interruption().is_some() {
                    // Following a rollback: plain short sleeps.
                    tokio::time::sleep(after).await;
                } else {
                    // Wakes at once on a stop request or the deadline; the
                    // next read then decides.
                    let _ = pause(after).await;
                }
            }
            // Sent above, and turned into a wait or an end.
            Step::StopWithRollback { .. } => {}
            Step::Done(outcome) => {
                let because = match &outcome {
                    Outcome::Interrupted {
                        why: Interruption::AlarmsNotWatched,
                        ..
                    } => unwatched_because.take(),
                    _ => None,
                };
                return match outcome.error_text(service, failed_prefix) {
                    None => Ok(()),
                    Some(text) => Err(AwsError::new(
                        match outcome {
                            Outcome::Interrupted {
                                rollback: Rollback::Requested | Rollback::NotAccepted(_),
                                ..
                            } => "ecs:StopServiceDeployment",
                            _ => "ecs:DescribeServiceDeployments",
                        },
                        match because {
                            Some(b) => format!("{text}; {b}"),
                            None => text,
                        },
                    )),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_started_deployment_is_the_newest_that_is_not_the_one_before() {
        let listed = vec![
            ("d1".to_string(), 10.0),
            ("d3".into(), 30.0),
            ("d2".into(), 20.0),
        ];
        assert_eq!(newest_other(&listed, Some("d1")), Some("d3".into()));
        assert_eq!(newest_other(&listed, None), Some("d3".into()));
        // Still the one before at the top: nothing new (yet).
        assert_eq!(newest_other(&listed, Some("d3")), None);
        assert_eq!(newest_other(&[], Some("d1")), None);
    }

    #[test]
    fn an_update_is_noted_once_per_service() {
        note_update("arn:svc/a", Some("d1"), Some("d2"));
        note_update("arn:svc/b", Some("d1"), Some("d1"));
        note_update("arn:svc/c", None, None);
        assert_eq!(take_noted("arn:svc/a"), Some(Some("d2".into())));
        assert_eq!(take_noted("arn:svc/a"), None);
        assert_eq!(take_noted("arn:svc/b"), Some(None));
        assert_eq!(take_noted("arn:svc/c"), Some(None));
        assert_eq!(take_noted("arn:svc/never"), None);
    }
}
