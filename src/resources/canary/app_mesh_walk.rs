//! A canary on App Mesh: deploys the candidate graph through the engine,
//! performs the walk's actions (route weights, alarm checks, waits) and
//! rolls back. Every wait honours the deadline from `timeouts`. (On
//! service_connect ECS walks itself: see `ecs_native`.)

use std::time::Duration;

use tokio::time::Instant;

use super::config::CanarySettings;
use super::expand::{self, EXTERNAL};
use super::report::Report;
use super::status::{expected_weight, Status};
use super::walk::{Action, Ending, Event, Walk};
use crate::aws::appmesh::route::{route_targets, set_route_targets};
use crate::aws::cloudwatch::alarm_state;
use crate::aws::ecs::service::DEPLOYMENT_FAILED;
use crate::aws::{AwsBackend, AwsError, Clients};
use crate::engine::{self, Outcome, Resolved, StepError};
use crate::resources::driver::{drop_external, sort_observations, with_external, Sorted};
use crate::resources::microservice::config::Settings;
use crate::resources::microservice::expand::PlatformContext;

/// How often the alarms are read while a step holds.
pub const ALARM_POLL: Duration = Duration::from_secs(15);

/// Everything one canary operation works with.
pub struct Canary<'a> {
    pub clients: &'a Clients,
    pub stable: &'a Settings,
    pub platform: &'a PlatformContext,
    pub settings: &'a CanarySettings,
    /// Ids of the microservice's components the candidate refers to.
    pub external: Resolved,
    /// The canary's ownership token, written into the tags of every
    /// candidate object (`None` for a state from before ownership tokens).
    pub token: Option<crate::spec::ownership::OwnerToken>,
}

impl Canary<'_> {
    fn graph(&self, scaled_to_zero: bool) -> crate::spec::DesiredGraph {
        let graph = expand::expand(self.stable, self.platform, self.settings, scaled_to_zero);
        match &self.token {
            Some(token) => graph.with_owner_token(token),
            None => graph,
        }
    }

    /// The ids the engine needs: the canary's own plus the external ones.
    fn with_external(&self, recorded: &Resolved) -> Resolved {
        with_external(recorded, &self.external)
    }

    /// Create or update the candidate graph; the ids recorded (only the
    /// canary's own) and the engine's failures.
    async fn reconcile(&self, recorded: &Resolved, scaled_to_zero: bool) -> Outcome {
        let graph = self.graph(scaled_to_zero);
        let backend = AwsBackend {
            clients: self.clients,
        };
        let mut outcome = engine::apply(
            &backend,
            &graph.components,
            &[],
            self.with_external(recorded),
        )
        .await;
        drop_external(&mut outcome.recorded, &EXTERNAL);
        for p in &outcome.progress {
            tracing::info!(canary = %self.settings.service, step = ?p, "candidate");
        }
        outcome
    }

    /// Read the candidate graph back: the canary's own objects that exist,
    /// those changed outside Terraform, and a sentence for each that is
    /// missing or changed.
    pub async fn observe(&self, recorded: &Resolved, status: Status) -> Result<Sorted, String> {
        let graph = self.graph(status == Status::RolledBack);
        let recorded = self.with_external(recorded);
        let observations =
            crate::resources::lifecycle::observe(self.clients, &graph, &recorded).await?;
        Ok(sort_observations(&graph, &recorded, observations).without_external(&EXTERNAL))
    }

    /// The candidate's weight on the route now.
    pub async fn observed_weight(&self) -> Result<i64, String> {
        let route = expand::route(self.stable, self.platform);
        match route_targets(self.clients, &route).await {
            Ok(Some(t)) => Ok(expand::candidate_weight(self.stable, &t)),
            Ok(None) => Ok(0),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Put `weight` percent of traffic on the candidate, the rest on stable.
    pub async fn set_weight(&self, weight: i64) -> Result<(), AwsError> {
        let route = expand::route(self.stable, self.platform);
        tracing::info!(
            canary = %self.settings.service,
            candidate = weight,
            stable = 100 - weight,
            "setting route weights"
        );
        set_route_targets(self.clients, &route, &expand::targets(self.stable, weight)).await
    }

    /// Walk from the start: deploy the candidate, then the steps. `weight`
    /// is the candidate's weight now; `fresh_alarms` resets the alarms once
    /// the candidate is up (a new version is not judged by the old one's).
    pub async fn walk(&self, recorded: Resolved, weight: i64, fresh_alarms: bool) -> Report {
        let started = Instant::now();
        let alarms = expand::alarm_names(&self.graph(false));
        let (mut walk, mut action) = Walk::new(
            self.settings.weights(),
            self.settings.step_interval,
            ALARM_POLL,
            weight,
        );
        let mut report = Report::new(recorded, Status::Progressing, weight);
        let stop = |report: &mut Report, walk: &Walk, why: String| {
            report.weight = walk.weight();
            report.stopped = Some(why);
        };
        loop {
            let event = match &action {
                Action::AwaitCandidate => {
                    tracing::info!(canary = %self.settings.service, image = %self.settings.image, "deploying the candidate");
                    let outcome = self.reconcile(&report.recorded, false).await;
                    report.recorded = outcome.recorded;
                    let (failed, other): (Vec<StepError>, Vec<StepError>) = outcome
                        .errors
                        .into_iter()
                        .partition(|e| e.message.contains(DEPLOYMENT_FAILED));
                    if !other.is_empty() {
                        report.errors = other;
                        report.weight = walk.weight();
                        return report;
                    }
                    match failed.into_iter().next() {
                        Some(e) => Event::CandidateFailed { reason: e.message },
                        None => {
                            if fresh_alarms {
                                if let Err(e) = alarm_state::reset(
                                    self.clients,
                                    &alarms,
                                    "matbakh_canary: a new candidate version starts its walk",
                                )
                                .await
                                {
                                    stop(&mut report, &walk, e.to_string());
                                    return report;
                                }
                            }
                            Event::CandidateReady
                        }
                    }
                }
                Action::CheckAlarms => {
                    match alarm_state::first_firing(self.clients, &alarms).await {
                        Ok(None) => Event::AlarmsQuiet {
                            now: started.elapsed(),
                        },
                        Ok(Some(f)) => Event::AlarmFiring {
                            alarm: f.alarm,
                            reason: f.reason,
                        },
                        Err(e) => {
                            stop(&mut report, &walk, e.to_string());
                            return report;
                        }
                    }
                }
                Action::SetWeight(w) => {
                    if let Err(e) = self.set_weight(*w).await {
                        stop(&mut report, &walk, e.to_string());
                        return report;
                    }
                    tracing::info!(
                        canary = %self.settings.service,
                        step = walk.step().map(|s| s + 1).unwrap_or(0),
                        of = walk.steps(),
                        weight = *w,
                        hold = ?self.settings.step_interval,
                        "canary step"
                    );
                    Event::WeightSet {
                        now: started.elapsed(),
                    }
                }
                Action::Sleep(d) => {
                    match engine::remaining() {
                        Ok(left) if left > *d => {}
                        _ => {
                            let why = format!(
                                "the walk ran out of time (timeouts) at step {} of {}, with {}% of traffic on the candidate; the next apply starts the walk again",
                                walk.step().map(|s| s + 1).unwrap_or(0),
                                walk.steps(),
                                walk.weight()
                            );
                            stop(&mut report, &walk, why);
                            return report;
                        }
                    }
                    if engine::pause(*d).await.is_err() {
                        let why = format!(
                            "{} at step {} of {}, with {}% of traffic on the candidate; the next apply starts the walk again",
                            engine::INTERRUPTED,
                            walk.step().map(|s| s + 1).unwrap_or(0),
                            walk.steps(),
                            walk.weight()
                        );
                        stop(&mut report, &walk, why);
                        return report;
                    }
                    Event::Slept
                }
                Action::RollBack { reason } => {
                    tracing::warn!(canary = %self.settings.service, reason = %reason, "rolling back");
                    let back = self.roll_back(report.recorded.clone()).await;
                    report.recorded = back.recorded;
                    report.errors = back.errors;
                    report.stopped = back.stopped;
                    Event::RolledBack
                }
                Action::Finish(ending) => {
                    report.weight = walk.weight();
                    match ending {
                        Ending::Succeeded => {
                            tracing::info!(canary = %self.settings.service, "canary succeeded");
                            report.status = Status::Succeeded;
                        }
                        Ending::RolledBack { reason } => {
                            report.status = Status::RolledBack;
                            report.rolled_back = Some(reason.clone());
                        }
                    }
                    return report;
                }
            };
            action = walk.on(event);
        }
    }

    /// All traffic to stable, then the candidate scaled to zero.
    pub async fn roll_back(&self, recorded: Resolved) -> Report {
        let mut report = Report::new(recorded, Status::RolledBack, 0);
        if let Err(e) = self.set_weight(0).await {
            report.stopped = Some(e.to_string());
            return report;
        }
        let outcome = self.reconcile(&report.recorded, true).await;
        report.recorded = outcome.recorded;
        report.errors = outcome.errors;
        report
    }

    /// Without a walk: repair the candidate graph and put the weight back
    /// where `status` says it belongs (after a finished walk).
    pub async fn settle_at(&self, recorded: Resolved, status: Status) -> Report {
        let weight = expected_weight(self.settings, status).unwrap_or(0);
        let outcome = self
            .reconcile(&recorded, status == Status::RolledBack)
            .await;
        let mut report = Report::new(outcome.recorded, status, weight);
        report.errors = outcome.errors;
        if report.errors.is_empty() {
            match self.observed_weight().await {
                Ok(w) if w == weight => {}
                Ok(_) => {
                    if let Err(e) = self.set_weight(weight).await {
                        report.stopped = Some(e.to_string());
                    }
                }
                Err(e) => report.stopped = Some(e),
            }
        }
        report
    }

    /// Before the candidate's objects are deleted: all traffic back to
    /// stable. Without the route (the microservice is going too) there is
    /// no traffic to move; anything else stops the destroy.
    pub async fn before_destroy(&self) -> Result<(), StepError> {
        match self.set_weight(0).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(StepError {
                component: "route".into(),
                message: e.to_string(),
            }),
        }
    }
}
