//! `matbakh_canary` on service_connect: an ECS-native deployment of the
//! candidate image on the microservice's own ECS service (two ECS services
//! cannot share one Service Connect endpoint, so there is no second slot).
//!
//! What the canary creates and records (`components`):
//!
//! | key                         | AWS object                                            |
//! |-----------------------------|-------------------------------------------------------|
//! | `alarm_error_rate`, `alarm_p95_latency`, `alarm_no_traffic` | `NAME-canary-*` alarms, the deployment's rollback alarms |
//! | `candidate_task_definition` | a revision of the microservice's own family with the candidate image, tagged `matbakh:canary` |
//! | `service_deployment`        | the ECS service deployment that rolls it out           |
//!
//! The revision is exactly what the microservice would register for the
//! candidate image (same family, same spec hash, the microservice's owner
//! tags) plus the `matbakh:canary` tag. That is what makes promotion free:
//! once the deployment succeeded and the canary is removed, the tag comes
//! off and the running revision *is* the microservice's revision for that
//! image, so the microservice's update finds it by its spec hash and
//! deploys nothing. Removing a canary whose deployment did not succeed
//! leaves (or puts) the microservice's own revision running and
//! deregisters the candidate's.
//!
//! ECS moves the traffic ([`super::ecs_strategy`] maps `steps` onto
//! CANARY, LINEAR or BLUE_GREEN) and rolls back on its own when one of the
//! deployment's alarms fires; this module starts the deployment, follows it
//! ([`service_deployment::wait_for_deployment`]: a stop request or timeout
//! stops it with a rollback), and puts the service's own deployment
//! settings back once it ended.

use aws_sdk_ecs::types::{DeploymentConfiguration, Service, ServiceField};

use super::config::{CanarySettings, Strategy};
use super::ecs_strategy::ecs_strategy;
use super::expand::{canary_id, keys as canary_keys, EXTERNAL};
use super::report::Report;
use super::status::Status;
use crate::aws::cloudwatch::alarm_state;
use crate::aws::ecs::deployment_configuration::deployment_of;
use crate::aws::ecs::deployment_watch::DeploymentRecord;
use crate::aws::ecs::service_deployment::{self, current_deployment};
use crate::aws::ecs::task_definition::{canary_of_revision, deregister};
use crate::aws::{Adapter, AwsBackend, AwsError, Clients};
use crate::engine::{self, Resolved, StepError};
use crate::resources::driver::{drop_external, sort_observations, with_external, Sorted};
use crate::resources::microservice::config::{Alarms, Settings};
use crate::resources::microservice::expand::{self as stable, keys, PlatformContext, Slot};
use crate::resources::microservice::{ingress_alarms, names, release_alarms};
use crate::spec::cloudwatch::MetricAlarmSpec;
use crate::spec::deployment_strategy::DeploymentSpec;
use crate::spec::ecs::{EcsServiceSpec, TaskDefinitionSpec};
use crate::spec::ownership::OwnerToken;
use crate::spec::{Component, DesiredGraph, Spec, Tags, CANARY_TAG, OWNER_TAG};

/// Component keys of the canary on service_connect.
pub mod native_keys {
    pub use super::canary_keys::{
        ALARM_ERROR_RATE, ALARM_NO_TRAFFIC, ALARM_P95_LATENCY, CANDIDATE_TASK_DEFINITION,
    };
    pub const SERVICE_DEPLOYMENT: &str = "service_deployment";
}

/// Starts the error of a deployment ECS rolled back.
pub const ROLLED_BACK: &str = "canary rolled back";

/// The canary's alarms on service_connect: the rollback thresholds on the
/// *service's* Service Connect metrics (the candidate shares the stable
/// revision's discovery name; Service Connect publishes no metric per
/// revision), named `NAME-canary-*`, plus the no-traffic alarm, whose
/// threshold is scaled to the share of traffic the candidate first gets,
/// so that it fires when the *candidate* can be expected to have served
/// fewer than `min_requests` requests in its first step.
pub fn alarm_graph(
    stable: &Settings,
    platform: &PlatformContext,
    canary: &CanarySettings,
) -> DesiredGraph {
    use canary_keys::*;
    let tags = canary_tags(platform, canary);
    let mut settings = stable.clone();
    settings.alarms = Alarms {
        error_rate_percent: canary.error_rate_percent,
        p95_latency_ms: canary.p95_latency_ms,
        actions: stable.alarms.actions.clone(),
    };
    let slot = names::canary_slot(&stable.name);
    let renamed = |mut alarm: crate::spec::cloudwatch::MetricAlarmSpec, what: &str| {
        alarm.name = names::alarm_name(&platform.platform_id, &slot, what);
        alarm.description = format!("{slot}: {}", alarm.description);
        alarm
    };
    let [error_rate, p95, _cpu] = stable::alarms(&settings, platform, &tags);
    let mut silence = super::silence::no_traffic_alarm(&settings, platform, &tags);
    let share = first_share_percent(canary);
    // One metric for both revisions: the candidate's errors are diluted to
    // its share, so the threshold is too (see microservice::release_alarms).
    let mut error_rate = error_rate;
    error_rate.threshold = release_alarms::scaled_error_rate(canary.error_rate_percent, share);
    // Never promote on silence, measured over the first step (issue #19
    // item 4): one period as long as the step, on the service's requests.
    let step_minutes = canary.step_interval.as_secs().div_ceil(60).clamp(1, 1440);
    silence.threshold = release_alarms::silence_threshold(canary.min_requests, share);
    (silence.evaluation_periods, silence.datapoints_to_alarm) = (1, 1);
    for query in &mut silence.metrics {
        if let Some(m) = query.metric.as_mut() {
            m.period_seconds = i32::try_from(step_minutes * 60).unwrap_or(86_400);
        }
    }
    silence.description = format!(
        "the service served fewer than {} requests in the first step ({step_minutes} minutes), so its candidate ({share}% of the traffic) served fewer than min_requests = {}: a canary never promotes on silence",
        silence.threshold, canary.min_requests
    );
    let mut graph = DesiredGraph::default();
    // Behind the load balancer each target group is watched apart: the
    // candidate's errors and latency are its own at any share, so the
    // canary's thresholds hold as they are (see microservice::ingress_alarms).
    if let Some(alb) = stable::alb_of(stable, platform) {
        settings.deployment.min_requests = Some(canary.min_requests);
        error_rate.threshold = canary.error_rate_percent;
        let [error_rate, p95] = ingress_alarms::alarms(
            &settings,
            &alb,
            error_rate,
            p95,
            names::alarm_name(&platform.platform_id, &slot, ingress_alarms::LATENCY_WHAT),
        );
        graph.push(Component::new(
            ALARM_ERROR_RATE,
            Spec::MetricAlarm(renamed(error_rate, "error-rate")),
        ));
        let latency = MetricAlarmSpec {
            description: format!("{slot}: {}", p95.description),
            ..p95
        };
        graph.push(Component::new(
            ALARM_P95_LATENCY,
            Spec::MetricAlarm(latency),
        ));
        graph.push(Component::new(
            ALARM_NO_TRAFFIC,
            Spec::MetricAlarm(renamed(silence, "no-traffic")),
        ));
        return graph;
    }
    graph.push(Component::new(
        ALARM_ERROR_RATE,
        Spec::MetricAlarm(renamed(error_rate, "error-rate")),
    ));
    // A slower candidate moves the service's Average by only its share of
    // its extra latency; below everything the canary reads the Maximum
    // (see microservice::release_alarms).
    let latency = if share < 100.0 {
        let what = format!(
            "latency-{}",
            release_alarms::RELEASE_LATENCY_STAT.to_lowercase()
        );
        let name = names::alarm_name(&platform.platform_id, &slot, &what);
        release_alarms::release_latency_alarm(&p95, name, &slot, canary.p95_latency_ms, share)
    } else {
        renamed(p95, &stable::latency_alarm_what(platform))
    };
    graph.push(Component::new(
        ALARM_P95_LATENCY,
        Spec::MetricAlarm(latency),
    ));
    graph.push(Component::new(
        ALARM_NO_TRAFFIC,
        Spec::MetricAlarm(renamed(silence, "no-traffic")),
    ));
    graph
}

/// The canary's own tags: its `tags` over the platform's default tags, and
/// its owner tag `PLATFORM/NAME-canary`.
fn canary_tags(platform: &PlatformContext, canary: &CanarySettings) -> Tags {
    let mut tags: Tags = crate::resources::tags::tags_all(&platform.tags, &canary.tags);
    tags.insert(OWNER_TAG.to_string(), canary_id(canary));
    tags
}

/// The share of traffic, percent, the candidate gets at the first step.
pub fn first_share_percent(canary: &CanarySettings) -> f64 {
    match canary.strategy {
        Strategy::BlueGreen => 100.0,
        Strategy::Canary => canary
            .steps
            .first()
            .map(|p| (*p).clamp(1, 100) as f64)
            .unwrap_or(100.0),
    }
}

/// The candidate's revision: the microservice's own task definition for
/// the candidate image, with the microservice's owner tags (and token),
/// and `matbakh:canary` naming this canary.
pub fn candidate_task_definition(
    stable: &Settings,
    platform: &PlatformContext,
    canary: &CanarySettings,
    microservice_token: Option<&OwnerToken>,
) -> TaskDefinitionSpec {
    let mut settings = stable.clone();
    settings.image = canary.image.clone();
    let mut graph = stable::expand(&settings, platform);
    if let Some(token) = microservice_token {
        graph = graph.with_owner_token(token);
    }
    let mut td = match graph.get(keys::TASK_DEFINITION).map(|c| &c.spec) {
        Some(Spec::TaskDefinition(td)) => td.clone(),
        _ => stable::task_definition(
            &settings,
            platform,
            &Slot::stable(&settings),
            &stable::owner_tags(&settings, platform),
        ),
    };
    td.tags.insert(CANARY_TAG.to_string(), canary_id(canary));
    td
}

/// The deployment settings the candidate rolls out with: the
/// microservice's service settings (circuit breaker, healthy percents) with
/// the canary's strategy and its alarms, which roll back.
pub fn deployment_spec(
    canary: &CanarySettings,
    alarms: &DesiredGraph,
) -> Result<DeploymentSpec, String> {
    let strategy = ecs_strategy(canary.strategy, Some(&canary.steps), canary.step_interval)
        .map_err(|p| p.detail)?;
    Ok(DeploymentSpec {
        strategy,
        alarm_names: super::expand::alarm_names(alarms),
        rollback_on_alarms: true,
    })
}

/// Where a canary stands after ECS wrote `record`.
pub fn status_of(record: &DeploymentRecord) -> (Status, i64) {
    match record.status.as_str() {
        "SUCCESSFUL" => (Status::Succeeded, 100),
        "STOPPED"
        | "ROLLBACK_SUCCESSFUL"
        | "ROLLBACK_FAILED"
        | "ROLLBACK_IN_PROGRESS"
        | "ROLLBACK_REQUESTED"
        | "STOP_REQUESTED" => (Status::RolledBack, 0),
        _ => (
            Status::Progressing,
            record
                .production_weight
                .map(|w| w.round() as i64)
                .unwrap_or(0),
        ),
    }
}

/// Whether `spec`'s alarms are a canary's (`NAME-canary-*`): deployment
/// settings a canary left on the service, not the microservice's own.
fn is_canary_deployment(
    spec: &DeploymentSpec,
    stable: &Settings,
    platform: &PlatformContext,
) -> bool {
    let prefix = names::alarm_name(&platform.platform_id, &names::canary_slot(&stable.name), "");
    spec.alarm_names.iter().any(|a| a.starts_with(&prefix))
}

/// One operation of a canary on service_connect.
pub struct NativeCanary<'a> {
    pub clients: &'a Clients,
    pub stable: &'a Settings,
    pub platform: &'a PlatformContext,
    pub settings: &'a CanarySettings,
    /// The microservice's ECS service (its ARN) and ownership token.
    pub service_arn: String,
    pub microservice_token: Option<OwnerToken>,
    /// The canary's own ownership token (its alarms carry it).
    pub token: Option<OwnerToken>,
    /// Ids of the microservice's components the canary's alarms name (its
    /// target groups behind the load balancer): not the canary's own.
    pub external: Resolved,
}

impl NativeCanary<'_> {
    fn alarms(&self) -> DesiredGraph {
        let graph = alarm_graph(self.stable, self.platform, self.settings);
        match &self.token {
            Some(token) => graph.with_owner_token(token),
            None => graph,
        }
    }

    fn service_spec(&self) -> EcsServiceSpec {
        stable::ecs_service(
            self.stable,
            self.platform,
            &Slot::stable(self.stable),
            &stable::owner_tags(self.stable, self.platform),
        )
    }

    fn service_name(&self) -> String {
        names::ecs_service_name(&names::stable_slot(&self.stable.name))
    }

    async fn describe_service(&self) -> Result<Service, AwsError> {
        const CALL: &str = "ecs:DescribeServices";
        let out = self
            .clients
            .ecs
            .describe_services()
            .cluster(&self.platform.cluster_name)
            .services(&self.service_arn)
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        out.services()
            .iter()
            .find(|s| s.status() == Some("ACTIVE"))
            .cloned()
            .ok_or_else(|| {
                AwsError::new(
                    CALL,
                    format!("the ECS service {} is not active", self.service_name()),
                )
            })
    }

    /// `UpdateService` with only `deployment` (and, when given, the task
    /// definition): the service's deployment id after it.
    /// UpdateService; with a `task_definition`, the deployment it started
    /// (never trusting the answer alone: ECS may answer before the new
    /// deployment is attached, blank or still naming `before`).
    async fn update_service(
        &self,
        task_definition: Option<&str>,
        deployment: DeploymentConfiguration,
        before: Option<&str>,
    ) -> Result<Option<String>, AwsError> {
        const CALL: &str = "ecs:UpdateService";
        tracing::info!(
            canary = %canary_id(self.settings),
            task_definition = task_definition.unwrap_or("(unchanged)"),
            "updating the ECS service"
        );
        let out = self
            .clients
            .ecs
            .update_service()
            .cluster(&self.platform.cluster_name)
            .service(&self.service_arn)
            .set_task_definition(task_definition.map(str::to_string))
            .deployment_configuration(deployment)
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        service_deployment::find_started(
            self.clients,
            &self.platform.cluster_name,
            &self.service_arn,
            before,
            out.service().and_then(current_deployment).as_deref(),
            task_definition.is_some(),
        )
        .await
    }

    /// The microservice's own deployment settings, for putting back:
    /// `before` (read before the canary's update) unless that is a
    /// canary's, else what the microservice's settings expand into.
    fn own_deployment(&self, before: Option<DeploymentSpec>) -> DeploymentConfiguration {
        let mut spec = self.service_spec();
        match before {
            Some(b) if !is_canary_deployment(&b, self.stable, self.platform) => spec.deployment = b,
            _ if is_canary_deployment(&spec.deployment, self.stable, self.platform) => {
                spec.deployment = DeploymentSpec::default()
            }
            _ => {}
        }
        spec.deployment()
    }

    /// Deploy the candidate and follow its deployment to the end.
    /// `recorded` holds what state recorded (a retried or new image).
    pub async fn deploy(&self, recorded: Resolved, new_image: bool) -> Report {
        use native_keys::*;
        let mut report = Report::new(recorded, Status::Progressing, 0);
        let alarms = self.alarms();

        // The alarms first: they are the deployment's rollback alarms.
        let backend = AwsBackend {
            clients: self.clients,
        };
        let outcome = engine::apply(
            &backend,
            &alarms.components,
            &[],
            with_external(&report.recorded, &self.external),
        )
        .await;
        report.recorded = outcome.recorded;
        drop_external(&mut report.recorded, &EXTERNAL);
        if !outcome.errors.is_empty() {
            report.errors = outcome.errors;
            return report;
        }
        let strategy = match deployment_spec(self.settings, &alarms) {
            Ok(s) => s,
            Err(e) => {
                report.stopped = Some(e);
                return report;
            }
        };

        let service = match self.describe_service().await {
            Ok(s) => s,
            Err(e) => return report.failed("service", e),
        };
        let running = service.task_definition().unwrap_or_default().to_string();
        let before = deployment_of(service.deployment_configuration());

        // The candidate's revision.
        let td = candidate_task_definition(
            self.stable,
            self.platform,
            self.settings,
            self.microservice_token.as_ref(),
        );
        let previous = report.recorded.get(CANDIDATE_TASK_DEFINITION).cloned();
        let candidate = match td.create(self.clients, &Resolved::new()).await {
            Ok(arn) => arn,
            Err(e) => return report.failed(CANDIDATE_TASK_DEFINITION, e),
        };
        match canary_of_revision(self.clients, &candidate).await {
            Ok(Some(c)) if c == canary_id(self.settings) => {
                report
                    .recorded
                    .insert(CANDIDATE_TASK_DEFINITION.to_string(), candidate.clone());
            }
            Ok(_) => {
                // The microservice's own revision for this image: it runs
                // the candidate image already, there is nothing to deploy.
                tracing::info!(canary = %canary_id(self.settings), revision = %candidate, "the service already runs this image");
                report.status = Status::Succeeded;
                report.weight = 100;
                return report;
            }
            Err(e) => return report.failed(CANDIDATE_TASK_DEFINITION, e),
        }

        // The deployment: resumed when it is the one recorded and still
        // the service's, else started.
        let recorded_deployment = report.recorded.get(SERVICE_DEPLOYMENT).cloned();
        let current = current_deployment(&service);
        let deployment = if running == candidate
            && current.is_some()
            && current == recorded_deployment
        {
            current
        } else {
            // Before every deployment, not only a new image's: ECS
            // watches none of its alarms when one is in ALARM at its
            // start (a retry after a rollback, a quiet service's
            // no-traffic alarm).
            let why = if new_image {
                "matbakh_canary: a new candidate version starts its deployment"
            } else {
                "matbakh_canary: the candidate's deployment starts again (ECS would not watch alarms in ALARM)"
            };
            if let Err(e) =
                alarm_state::reset(self.clients, &super::expand::alarm_names(&alarms), why).await
            {
                return report.failed("alarms", e);
            }
            let mut spec = self.service_spec();
            spec.deployment = strategy;
            match self
                .update_service(Some(&candidate), spec.deployment(), current.as_deref())
                .await
            {
                Ok(d) => d,
                Err(e) => return report.failed("service", e),
            }
        };
        let Some(deployment) = deployment else {
            return report.failed(
                SERVICE_DEPLOYMENT,
                AwsError::new("ecs:UpdateService", "ECS started no service deployment"),
            );
        };
        report
            .recorded
            .insert(SERVICE_DEPLOYMENT.to_string(), deployment.clone());

        let mut last: Option<DeploymentRecord> = None;
        let waited = service_deployment::wait_for_deployment(
            self.clients,
            &self.service_name(),
            &deployment,
            ROLLED_BACK,
            |r| last = Some(r.clone()),
        )
        .await;
        let (status, weight) = last
            .as_ref()
            .map(status_of)
            .unwrap_or((Status::Progressing, 0));
        report.status = status;
        report.weight = weight;
        match waited {
            Ok(()) => {
                report.status = Status::Succeeded;
                report.weight = 100;
                // A replaced candidate's revision goes once the new one runs
                // (until then it is what a rollback returns to).
                if let Some(old) = previous.filter(|p| *p != candidate) {
                    if let Err(e) = self.deregister_candidate(&old).await {
                        tracing::warn!(revision = %old, "deregistering the previous candidate: {e}");
                    }
                }
            }
            Err(e) if status == Status::RolledBack => report.rolled_back = Some(e.message),
            Err(e) => report.stopped = Some(e.to_string()),
        }
        if report.status != Status::Progressing {
            // The deployment ended: the service's own settings come back
            // (this starts no deployment).
            if let Err(e) = self
                .update_service(None, self.own_deployment(Some(before)), None)
                .await
            {
                report.stopped.get_or_insert(e.to_string());
            }
        }
        report
    }

    /// Without a new deployment (thresholds or tags changed): the alarms
    /// brought in line, the deployment where it stands.
    pub async fn settle(&self, recorded: Resolved, status: Status) -> Report {
        let weight = match status {
            Status::Succeeded => 100,
            _ => 0,
        };
        let backend = AwsBackend {
            clients: self.clients,
        };
        let alarms = self.alarms();
        let outcome = engine::apply(&backend, &alarms.components, &[], recorded).await;
        let mut report = Report::new(outcome.recorded, status, weight);
        report.errors = outcome.errors;
        report
    }

    /// Deregister `arn` when it is this canary's candidate revision and the
    /// service does not run it.
    async fn deregister_candidate(&self, arn: &str) -> Result<(), AwsError> {
        if canary_of_revision(self.clients, arn).await?.as_deref()
            == Some(&canary_id(self.settings))
        {
            deregister(self.clients, arn).await?;
        }
        Ok(())
    }

    /// What exists of the canary, and where its deployment stands.
    pub async fn observe(
        &self,
        recorded: &Resolved,
    ) -> Result<(Sorted, Option<(Status, i64)>), String> {
        use native_keys::*;
        let alarms = self.alarms();
        let observations = crate::resources::lifecycle::observe(
            self.clients,
            &alarms,
            &with_external(recorded, &self.external),
        )
        .await?;
        let mut sorted = sort_observations(&alarms, recorded, observations);
        if let Some(td) = recorded.get(CANDIDATE_TASK_DEFINITION) {
            let mine = canary_of_revision(self.clients, td)
                .await
                .map_err(|e| e.to_string())?;
            if mine.as_deref() == Some(&canary_id(self.settings)) {
                sorted
                    .existing
                    .insert(CANDIDATE_TASK_DEFINITION.to_string(), td.clone());
            }
        }
        let mut status = None;
        if let Some(arn) = recorded.get(SERVICE_DEPLOYMENT) {
            if let Some(record) = service_deployment::describe(self.clients, arn)
                .await
                .map_err(|e| e.to_string())?
            {
                sorted
                    .existing
                    .insert(SERVICE_DEPLOYMENT.to_string(), arn.clone());
                status = Some(status_of(&record));
            }
        }
        Ok((sorted, status))
    }

    /// Before the canary's alarms go (the driver deletes them): a
    /// deployment still under way is stopped with a rollback (and followed
    /// to its end), a succeeded candidate's revision is handed to the
    /// microservice, any other deregistered; the service's own deployment
    /// settings come back. Returns what is left to delete.
    pub async fn before_destroy(&self, recorded: Resolved) -> Result<Resolved, StepError> {
        use native_keys::*;
        // The destroy stops at a failed step with everything still recorded
        // (the driver keeps `recorded`); the first argument is unused.
        let fail = |_: &Resolved, component: &str, e: AwsError| {
            Err(StepError {
                component: component.to_string(),
                message: e.to_string(),
            })
        };
        let mut recorded = recorded;
        let mut service = match self.describe_service().await {
            Ok(s) => Some(s),
            Err(e) if e.is_not_found() || e.message.contains("not active") => None,
            Err(e) => return fail(&recorded, "service", e),
        };
        let deployment = recorded
            .get(SERVICE_DEPLOYMENT)
            .filter(|_| service.is_some())
            .cloned();
        if let Some(arn) = deployment {
            let record = match service_deployment::describe(self.clients, &arn).await {
                Ok(r) => r,
                Err(e) => return fail(&recorded, SERVICE_DEPLOYMENT, e),
            };
            if let Some(record) = record.filter(|r| status_of(r).0 == Status::Progressing) {
                tracing::warn!(deployment = %record.arn, "the canary's deployment is under way: stopping it with a rollback");
                if let Err(e) = service_deployment::stop_with_rollback(self.clients, &arn).await {
                    return fail(&recorded, SERVICE_DEPLOYMENT, e);
                }
                if let Err(e) = service_deployment::wait_for_deployment(
                    self.clients,
                    &self.service_name(),
                    &arn,
                    ROLLED_BACK,
                    |_| {},
                )
                .await
                {
                    // Rolled back is what a destroy asked for.
                    if !e.message.starts_with(ROLLED_BACK) {
                        return fail(&recorded, SERVICE_DEPLOYMENT, e);
                    }
                }
                // Read the service again: the rollback changed what runs.
                service = match self.describe_service().await {
                    Ok(s) => Some(s),
                    Err(e) => return fail(&recorded, "service", e),
                };
            }
        }
        // A revision of this canary's that runs (the one it recorded, or an
        // earlier candidate a rollback returned to) goes to the
        // microservice; the recorded one, when it does not run, goes.
        let running = service
            .as_ref()
            .and_then(|s| s.task_definition())
            .map(str::to_string);
        if let Some(running) = &running {
            match canary_of_revision(self.clients, running).await {
                Ok(Some(c)) if c == canary_id(self.settings) => {
                    if let Err(e) = self.hand_over(running).await {
                        return fail(&recorded, CANDIDATE_TASK_DEFINITION, e);
                    }
                }
                Ok(_) => {}
                Err(e) => return fail(&recorded, CANDIDATE_TASK_DEFINITION, e),
            }
        }
        if let Some(td) = recorded.get(CANDIDATE_TASK_DEFINITION).cloned() {
            if running.as_deref() != Some(td.as_str()) {
                if let Err(e) = self.deregister_candidate(&td).await {
                    return fail(&recorded, CANDIDATE_TASK_DEFINITION, e);
                }
            }
            recorded.remove(CANDIDATE_TASK_DEFINITION);
        }
        if let Some(service) = &service {
            let found = deployment_of(service.deployment_configuration());
            if is_canary_deployment(&found, self.stable, self.platform) {
                if let Err(e) = self
                    .update_service(None, self.own_deployment(None), None)
                    .await
                {
                    return fail(&recorded, "service", e);
                }
            }
        }
        recorded.remove(SERVICE_DEPLOYMENT);
        Ok(recorded)
    }

    /// The running candidate revision becomes the microservice's: the
    /// `matbakh:canary` tag comes off, so the microservice finds it as its
    /// own revision for that image (promotion deploys nothing).
    async fn hand_over(&self, arn: &str) -> Result<(), AwsError> {
        tracing::info!(revision = %arn, "the candidate runs: handing its revision to the microservice");
        self.clients
            .ecs
            .untag_resource()
            .resource_arn(arn)
            .tag_keys(CANARY_TAG)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::sdk("ecs:UntagResource", e))
    }
}

impl Report {
    fn failed(mut self, component: &str, e: AwsError) -> Report {
        self.errors.push(StepError {
            component: component.to_string(),
            message: e.to_string(),
        });
        self
    }
}

#[cfg(test)]
#[path = "ecs_native_tests.rs"]
mod tests;
