//! ECS service deployments: find the one an update started, follow it with
//! [`Watch`], and stop it with a rollback when the wait is interrupted.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_ecs::types::{Service, StopServiceDeploymentStopType};

use super::deployment_watch::{record_of, DeploymentRecord, Interruption, Outcome, Step, Watch};
use crate::aws::{AwsError, Clients};
use crate::engine::{pause, remaining, stop_requested};

const POLL_EVERY: Duration = Duration::from_secs(5);
/// How long a rollback this provider requested is followed before the wait
/// returns: Terraform expects a stopped provider back within seconds.
const ROLLBACK_GRACE: Duration = Duration::from_secs(10);

/// The service deployment ECS is running (or ran last) for `service`.
pub fn current_deployment(service: &Service) -> Option<String> {
    service
        .current_service_deployment()
        .filter(|a| !a.is_empty())
        .map(str::to_string)
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

/// The task definition of the revision ECS rolled `service`'s current
/// deployment back from because its alarms fired, if that is how the
/// deployment ended.
pub async fn rejected_on_alarms(
    aws: &Clients,
    service: &Service,
) -> Result<Option<String>, AwsError> {
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
    let Some(rejected) = out
        .service_revisions()
        .first()
        .and_then(|r| r.task_definition())
        .map(str::to_string)
    else {
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
    Ok(Some(rejected))
}

/// The task definition `service` ran before its current deployment: the
/// revision of the deployment's source (where a rollback returns to).
/// `None` when ECS has no current deployment or no source for it.
pub async fn source_task_definition(
    aws: &Clients,
    service: &Service,
) -> Result<Option<String>, AwsError> {
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
    let Some(source) = out
        .service_deployments()
        .first()
        .and_then(|d| d.source_service_revisions().first())
        .and_then(|r| r.arn())
    else {
        return Ok(None);
    };
    let out = aws
        .ecs
        .describe_service_revisions()
        .service_revision_arns(source)
        .send()
        .await
        .map_err(|e| AwsError::sdk("ecs:DescribeServiceRevisions", e))?;
    Ok(out
        .service_revisions()
        .first()
        .and_then(|r| r.task_definition())
        .map(str::to_string))
}

/// [`source_task_definition`] of service `service` (name or ARN) in
/// `cluster`.
pub async fn source_task_definition_of(
    aws: &Clients,
    cluster: &str,
    service: &str,
) -> Result<Option<String>, AwsError> {
    let out = aws
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| AwsError::sdk("ecs:DescribeServices", e))?;
    match out.services().first() {
        Some(s) => source_task_definition(aws, s).await,
        None => Ok(None),
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
    loop {
        let Some(record) = describe(aws, arn).await? else {
            return Err(AwsError::new(
                "ecs:DescribeServiceDeployments",
                format!("ECS no longer knows the deployment {arn} of service {service}"),
            ));
        };
        on_record(&record);
        match watch.on_record(&record, started.elapsed(), interruption()) {
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
            Step::StopWithRollback { arn, why } => {
                tracing::warn!(service = %service, deployment = %arn, "{why}: stopping the ECS deployment with a rollback");
                if let Err(e) = stop_with_rollback(aws, &arn).await {
                    // It may have ended between the read and the stop; the
                    // next read says how.
                    tracing::warn!(service = %service, "StopServiceDeployment: {e}");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Step::Done(outcome) => {
                return match outcome.error_text(service, failed_prefix) {
                    None => Ok(()),
                    Some(text) => Err(AwsError::new(
                        match outcome {
                            Outcome::Failed { .. } => "ecs:DescribeServiceDeployments",
                            _ => "ecs:StopServiceDeployment",
                        },
                        text,
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
