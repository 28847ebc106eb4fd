//! Waiting on one ECS service deployment the way ECS means it: its status in
//! `DescribeServiceDeployments`, not the `deployments[].rolloutState` of the
//! service (blind to CANARY, LINEAR, BLUE_GREEN and to alarm rollback).
//!
//! [`Watch`] is a pure state machine over the records ECS returns and a
//! clock the caller passes in (tests use a fake one, nothing sleeps here):
//!
//! ```text
//! record ─► SUCCESSFUL ─────────────────────────────► Done(Succeeded)
//!        ─► STOPPED / ROLLBACK_SUCCESSFUL / FAILED ──► Done(Failed: reason, alarms)
//!        ─► PENDING / IN_PROGRESS, alarms DISABLED though it has some:
//!              handled as an interruption (AlarmsNotWatched), below
//!        ─► PENDING / IN_PROGRESS, not interrupted ──► Wait (progress line)
//!        ─► PENDING / IN_PROGRESS, interrupted:
//!              the service's first deployment ──────► Done(Interrupted: nothing to roll back to)
//!              else ────────────────────────────────► StopWithRollback
//!                 stop refused ─────────────────────► Done(Interrupted: not accepted)
//!                 ROLLBACK_* / STOPPED or grace over ► Done(Interrupted: requested)
//! ```
//!
//! The watcher rolls back only on a real interruption (Terraform's stop
//! request, or the resource's timeout) *and* only while the record it has
//! just read says the deployment is still going: a deployment ECS already
//! called SUCCESSFUL is never stopped, whatever arrives after it
//! (terraform-provider-aws #49031, #49077 rolled back healthy ones).

use std::fmt;
use std::time::Duration;

/// One `ServiceDeployment` as ECS describes it, reduced to what the wait
/// needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeploymentRecord {
    pub arn: String,
    /// `ServiceDeploymentStatus` as ECS writes it (`IN_PROGRESS`, ...).
    pub status: String,
    pub status_reason: Option<String>,
    /// `lifecycleStage` (`SCALE_UP`, `BAKE_TIME`, ...).
    pub stage: Option<String>,
    /// The target revision's requested share of production traffic, percent.
    pub production_weight: Option<f64>,
    pub running: i32,
    pub requested: i32,
    pub pending: i32,
    /// `alarms.triggeredAlarmNames`.
    pub triggered_alarms: Vec<String>,
    /// `alarms.alarmNames`: the deployment's rollback alarms.
    pub alarm_names: Vec<String>,
    /// `alarms.status` (`MONITORING`, `DISABLED`, ...).
    pub alarms_status: Option<String>,
    /// No `sourceServiceRevisions`: the deployment that created the
    /// service. ECS refuses to roll it back (there is no previous revision).
    pub first: bool,
}

impl DeploymentRecord {
    /// A deployment with rollback alarms that ECS does not watch: "If an
    /// alarm is in the ALARM state at the beginning of a deployment, Amazon
    /// ECS will not monitor alarms for the duration of that deployment" (ECS
    /// developer guide), and `alarms.status` says `DISABLED`.
    pub fn unwatched(&self) -> bool {
        !self.alarm_names.is_empty() && self.alarms_status.as_deref() == Some("DISABLED")
    }
}

/// Why the wait gave up on a deployment still in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// Terraform's stop request (Ctrl-C).
    StopRequested,
    /// The resource's `timeouts` ran out.
    TimedOut,
    /// ECS would not watch the deployment's alarms: a release nobody
    /// watches is not let through.
    AlarmsNotWatched,
}

impl fmt::Display for Interruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Interruption::StopRequested => "Terraform asked the provider to stop",
            Interruption::TimedOut => "the operation timed out",
            Interruption::AlarmsNotWatched => {
                "ECS would not watch the rollback alarms of the deployment (an alarm in ALARM when a deployment starts switches them all off for that deployment)"
            }
        })
    }
}

/// How a deployment ended for this wait.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded,
    /// ECS stopped or rolled the deployment back by itself (alarm, circuit
    /// breaker, or someone else's StopServiceDeployment).
    Failed {
        status: String,
        reason: Option<String>,
        alarms: Vec<String>,
    },
    /// The wait was interrupted; `status` is the last status seen.
    Interrupted {
        why: Interruption,
        rollback: Rollback,
        status: String,
    },
}

/// What became of the rollback an interrupted wait asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Rollback {
    /// ECS accepted StopServiceDeployment (ROLLBACK); the wait followed it
    /// until it ended or the grace ran out.
    Requested,
    /// ECS was rolling back or stopping already: nothing to ask.
    AlreadyUnwinding,
    /// The service's first deployment: there is no previous revision, so
    /// it goes on (the service is recorded and a later apply continues).
    NothingToRollBackTo,
    /// ECS refused StopServiceDeployment (the deployment may have ended
    /// between the read and the stop): what it said.
    NotAccepted(String),
}

/// What the caller does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Log `progress` (when there is one), wait `after`, describe again.
    Wait {
        after: Duration,
        progress: Option<String>,
    },
    /// Call `StopServiceDeployment` with stopType ROLLBACK on `arn`, then
    /// describe again (after a short wait).
    StopWithRollback {
        arn: String,
        why: Interruption,
    },
    Done(Outcome),
}

const SUCCESSFUL: &str = "SUCCESSFUL";
/// How often a rollback this wait asked for is read while it is followed.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);
/// Statuses after which ECS does nothing more with the deployment.
const FAILED_END: [&str; 3] = ["STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"];
/// ECS is already on its way back (alarm, circuit breaker, a stop).
const UNWINDING: [&str; 4] = [
    "STOP_REQUESTED",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
    "STOPPED",
];

/// A wait on one deployment.
#[derive(Clone, Debug)]
pub struct Watch {
    service: String,
    poll: Duration,
    /// How long to follow a rollback this wait requested before returning:
    /// Terraform expects the provider back within seconds of a stop.
    grace: Duration,
    last_progress: Option<String>,
    stop_sent: Option<(Duration, Interruption)>,
}

impl Watch {
    pub fn new(service: &str, poll: Duration, grace: Duration) -> Watch {
        Watch {
            service: service.to_string(),
            poll: poll.max(Duration::from_millis(1)),
            grace,
            last_progress: None,
            stop_sent: None,
        }
    }

    /// The next step after reading `record` at `now`. `interrupted` is the
    /// interruption pending at the moment of the read, if any.
    pub fn on_record(
        &mut self,
        record: &DeploymentRecord,
        now: Duration,
        interrupted: Option<Interruption>,
    ) -> Step {
        let status = record.status.as_str();
        if status == SUCCESSFUL {
            return Step::Done(Outcome::Succeeded);
        }
        if let Some((sent_at, why)) = self.stop_sent {
            let ended = FAILED_END.contains(&status);
            if ended || now.saturating_sub(sent_at) >= self.grace {
                return Step::Done(Outcome::Interrupted {
                    why,
                    rollback: Rollback::Requested,
                    status: record.status.clone(),
                });
            }
            return Step::Wait {
                after: self.poll.min(FOLLOW_EVERY),
                progress: self.progress(record),
            };
        }
        if FAILED_END.contains(&status) {
            return Step::Done(Outcome::Failed {
                status: record.status.clone(),
                reason: record.status_reason.clone(),
                alarms: record.triggered_alarms.clone(),
            });
        }
        let interrupted = if record.unwatched() {
            Some(Interruption::AlarmsNotWatched)
        } else {
            interrupted
        };
        if let Some(why) = interrupted {
            if UNWINDING.contains(&status) {
                // ECS is rolling back already: nothing to stop.
                return Step::Done(Outcome::Interrupted {
                    why,
                    rollback: Rollback::AlreadyUnwinding,
                    status: record.status.clone(),
                });
            }
            if record.first {
                // ECS refuses to roll back a service's first deployment, and
                // following it would hold Terraform for nothing.
                return Step::Done(Outcome::Interrupted {
                    why,
                    rollback: Rollback::NothingToRollBackTo,
                    status: record.status.clone(),
                });
            }
            self.stop_sent = Some((now, why));
            return Step::StopWithRollback {
                arn: record.arn.clone(),
                why,
            };
        }
        Step::Wait {
            after: self.poll,
            progress: self.progress(record),
        }
    }

    /// ECS refused the StopServiceDeployment of the last
    /// [`Step::StopWithRollback`] with `error`: nothing rolls back, so
    /// there is nothing to follow; the wait ends at once.
    pub fn on_stop_refused(&mut self, status: &str, error: String) -> Step {
        let why = self
            .stop_sent
            .take()
            .map_or(Interruption::StopRequested, |(_, why)| why);
        Step::Done(Outcome::Interrupted {
            why,
            rollback: Rollback::NotAccepted(error),
            status: status.to_string(),
        })
    }

    /// The progress line for `record`, when it differs from the last one.
    fn progress(&mut self, record: &DeploymentRecord) -> Option<String> {
        let line = progress_line(&self.service, record);
        if self.last_progress.as_deref() == Some(line.as_str()) {
            return None;
        }
        self.last_progress = Some(line.clone());
        Some(line)
    }
}

/// "deployment of auth-service IN_PROGRESS, stage BAKE_TIME, new revision
/// at 5 % of production traffic, 2/2 tasks running, 0 pending".
pub fn progress_line(service: &str, r: &DeploymentRecord) -> String {
    let mut line = format!("deployment of {service} {}", r.status);
    if let Some(stage) = &r.stage {
        line += &format!(", stage {stage}");
    }
    if let Some(w) = r.production_weight {
        line += &format!(", new revision at {} % of production traffic", percent(w));
    }
    line += &format!(
        ", {}/{} tasks running, {} pending",
        r.running, r.requested, r.pending
    );
    line
}

fn percent(w: f64) -> String {
    let tenths = (w * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{}", tenths as i64)
    } else {
        format!("{tenths:.1}")
    }
}

impl Outcome {
    /// The error an apply fails with, or `None` on success. `failed_prefix`
    /// starts the message of a deployment ECS gave up on.
    pub fn error_text(&self, service: &str, failed_prefix: &str) -> Option<String> {
        match self {
            Outcome::Succeeded => None,
            Outcome::Failed {
                status,
                reason,
                alarms,
            } => {
                let mut text = format!("{failed_prefix}: the ECS deployment of service {service} ended {status}");
                if !alarms.is_empty() {
                    text += &format!(
                        "; alarm{} in ALARM: {}",
                        if alarms.len() == 1 { "" } else { "s" },
                        alarms.join(", ")
                    );
                }
                text += &format!(
                    "; ECS says: {}",
                    reason.as_deref().unwrap_or("no reason given")
                );
                Some(text)
            }
            Outcome::Interrupted {
                why,
                rollback: Rollback::Requested,
                status,
            } => Some(format!(
                "{why} during the ECS deployment of service {service}: the provider asked ECS to stop it with a rollback (status now {status}); the service returns to its previous revision"
            )),
            Outcome::Interrupted {
                why,
                rollback: Rollback::AlreadyUnwinding,
                status,
            } => Some(format!(
                "{why} during the ECS deployment of service {service}, which ECS was already rolling back (status {status})"
            )),
            Outcome::Interrupted {
                why,
                rollback: Rollback::NothingToRollBackTo,
                status,
            } => Some(format!(
                "{why} during the first ECS deployment of service {service} (status {status}): there is no previous revision to roll back to, so ECS goes on starting its tasks; the service is recorded in the state"
            )),
            Outcome::Interrupted {
                why,
                rollback: Rollback::NotAccepted(error),
                status,
            } => Some(format!(
                "{why} during the ECS deployment of service {service} (status {status}); the provider asked ECS to roll it back, which it refused: {error}"
            )),
        }
    }
}

/// The record of an SDK `ServiceDeployment`.
pub fn record_of(d: &aws_sdk_ecs::types::ServiceDeployment) -> DeploymentRecord {
    let target = d.target_service_revision();
    DeploymentRecord {
        arn: d.service_deployment_arn().unwrap_or_default().to_string(),
        status: d
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "PENDING".to_string()),
        status_reason: d.status_reason().map(str::to_string),
        stage: d.lifecycle_stage().map(|s| s.as_str().to_string()),
        production_weight: target.and_then(|t| t.requested_production_traffic_weight()),
        running: target.map_or(0, |t| t.running_task_count()),
        requested: target.map_or(0, |t| t.requested_task_count()),
        pending: target.map_or(0, |t| t.pending_task_count()),
        triggered_alarms: d
            .alarms()
            .map(|a| a.triggered_alarm_names().to_vec())
            .unwrap_or_default(),
        alarm_names: d
            .alarms()
            .map(|a| a.alarm_names().to_vec())
            .unwrap_or_default(),
        alarms_status: d
            .alarms()
            .and_then(|a| a.status())
            .map(|s| s.as_str().to_string()),
        first: d.source_service_revisions().is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn record(status: &str) -> DeploymentRecord {
        DeploymentRecord {
            arn:
                "arn:aws:ecs:eu-central-1:123456789012:service-deployment/matbakh/auth-service/abc"
                    .into(),
            status: status.into(),
            stage: Some("SCALE_UP".into()),
            running: 1,
            requested: 2,
            pending: 1,
            ..Default::default()
        }
    }

    /// A fake ECS: the deployment's records over time, read on every poll;
    /// an interruption arriving at a given time; a rollback ECS completes
    /// some seconds after it is asked. Returns the outcome, the stops sent
    /// and the time the wait returned.
    struct Fake {
        timeline: Vec<(Duration, DeploymentRecord)>,
        interrupt_at: Option<(Duration, Interruption)>,
        rollback_takes: Duration,
    }

    impl Fake {
        fn run(&self, watch: &mut Watch) -> (Outcome, Vec<Duration>, Duration, Vec<String>) {
            let mut now = Duration::ZERO;
            let mut stops = Vec::new();
            let mut lines = Vec::new();
            for _ in 0..100_000 {
                let mut r = self
                    .timeline
                    .iter()
                    .rev()
                    .find(|(t, _)| *t <= now)
                    .map(|(_, r)| r.clone())
                    .unwrap();
                if let Some(&stopped) = stops.first() {
                    // Our stop takes over unless ECS had finished already.
                    if r.status != "SUCCESSFUL" {
                        r.status = if now >= stopped + self.rollback_takes {
                            "ROLLBACK_SUCCESSFUL".into()
                        } else {
                            "ROLLBACK_IN_PROGRESS".into()
                        };
                    }
                }
                let interrupted = self
                    .interrupt_at
                    .filter(|(t, _)| now >= *t)
                    .map(|(_, why)| why);
                match watch.on_record(&r, now, interrupted) {
                    Step::Wait { after, progress } => {
                        lines.extend(progress);
                        now += after;
                    }
                    Step::StopWithRollback { arn, .. } => {
                        assert_eq!(arn, r.arn);
                        stops.push(now);
                        now += S;
                    }
                    Step::Done(outcome) => return (outcome, stops, now, lines),
                }
            }
            panic!("the wait never ended");
        }
    }

    fn watch() -> Watch {
        Watch::new("auth-service", 5 * S, 10 * S)
    }

    #[test]
    fn successful_ends_the_wait() {
        let fake = Fake {
            timeline: vec![
                (Duration::ZERO, record("PENDING")),
                (10 * S, record("IN_PROGRESS")),
                (60 * S, record("SUCCESSFUL")),
            ],
            interrupt_at: None,
            rollback_takes: S,
        };
        let (outcome, stops, at, lines) = fake.run(&mut watch());
        assert_eq!(outcome, Outcome::Succeeded);
        assert!(stops.is_empty());
        assert_eq!(at, 60 * S);
        // One line per change, not per poll.
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].contains("IN_PROGRESS"), "{lines:?}");
    }

    #[test]
    fn an_alarm_rollback_fails_with_the_alarm_and_the_reason() {
        let mut rolled_back = record("ROLLBACK_SUCCESSFUL");
        rolled_back.status_reason =
            Some("Service deployment rolled back because of alarm triggers".into());
        rolled_back.triggered_alarms = vec!["matbakh-auth-service-error-rate".into()];
        let fake = Fake {
            timeline: vec![
                (Duration::ZERO, record("IN_PROGRESS")),
                (30 * S, record("ROLLBACK_IN_PROGRESS")),
                (45 * S, rolled_back),
            ],
            interrupt_at: None,
            rollback_takes: S,
        };
        let (outcome, stops, at, _) = fake.run(&mut watch());
        assert!(stops.is_empty());
        assert_eq!(at, 45 * S);
        let text = outcome
            .error_text("auth-service", "deployment failed")
            .unwrap();
        assert!(text.starts_with("deployment failed: "), "{text}");
        assert!(text.contains("ROLLBACK_SUCCESSFUL"), "{text}");
        assert!(
            text.contains("alarm in ALARM: matbakh-auth-service-error-rate"),
            "{text}"
        );
        assert!(text.contains("because of alarm triggers"), "{text}");
    }

    #[test]
    fn stopped_and_rollback_failed_fail_too() {
        for status in ["STOPPED", "ROLLBACK_FAILED"] {
            let fake = Fake {
                timeline: vec![(Duration::ZERO, record(status))],
                interrupt_at: None,
                rollback_takes: S,
            };
            let (outcome, _, _, _) = fake.run(&mut watch());
            match &outcome {
                Outcome::Failed {
                    status: s,
                    reason,
                    alarms,
                } => {
                    assert_eq!(s, status);
                    assert!(reason.is_none() && alarms.is_empty());
                }
                other => panic!("{status}: {other:?}"),
            }
            let text = outcome
                .error_text("auth-service", "deployment failed")
                .unwrap();
            assert!(text.contains("no reason given"), "{text}");
        }
    }

    #[test]
    fn an_interruption_mid_deployment_rolls_back_and_returns_within_seconds() {
        for why in [Interruption::StopRequested, Interruption::TimedOut] {
            let fake = Fake {
                timeline: vec![
                    (Duration::ZERO, record("IN_PROGRESS")),
                    (600 * S, record("SUCCESSFUL")),
                ],
                interrupt_at: Some((42 * S, why)),
                rollback_takes: 3 * S,
            };
            let (outcome, stops, at, _) = fake.run(&mut watch());
            assert_eq!(
                stops,
                vec![45 * S],
                "stopped at the first read after the interruption"
            );
            assert_eq!(
                outcome,
                Outcome::Interrupted {
                    why,
                    rollback: Rollback::Requested,
                    status: "ROLLBACK_SUCCESSFUL".into()
                }
            );
            assert!(at <= 45 * S + 4 * S, "returned at {at:?}");
            let text = outcome
                .error_text("auth-service", "deployment failed")
                .unwrap();
            assert!(text.contains("rollback"), "{text}");
        }
        let timed_out = Outcome::Interrupted {
            why: Interruption::TimedOut,
            rollback: Rollback::Requested,
            status: "ROLLBACK_IN_PROGRESS".into(),
        };
        assert!(timed_out
            .error_text("a", "x")
            .unwrap()
            .starts_with("the operation timed out"));
    }

    #[test]
    fn a_slow_rollback_does_not_hold_terraform_past_the_grace() {
        let fake = Fake {
            timeline: vec![(Duration::ZERO, record("IN_PROGRESS"))],
            interrupt_at: Some((Duration::ZERO, Interruption::StopRequested)),
            rollback_takes: 3600 * S,
        };
        let (outcome, stops, at, _) = fake.run(&mut watch());
        assert_eq!(stops, vec![Duration::ZERO]);
        assert_eq!(
            outcome,
            Outcome::Interrupted {
                why: Interruption::StopRequested,
                rollback: Rollback::Requested,
                status: "ROLLBACK_IN_PROGRESS".into()
            }
        );
        assert!(at <= 11 * S, "returned at {at:?}");
    }

    #[test]
    fn a_healthy_deployment_is_never_rolled_back() {
        // The interruption arrives exactly when, and after, ECS reports
        // success: the wait ends successfully and sends no stop.
        for interrupt_at in [60 * S, 61 * S, 3600 * S] {
            let fake = Fake {
                timeline: vec![
                    (Duration::ZERO, record("IN_PROGRESS")),
                    (60 * S, record("SUCCESSFUL")),
                ],
                interrupt_at: Some((interrupt_at, Interruption::StopRequested)),
                rollback_takes: S,
            };
            let (outcome, stops, _, _) = fake.run(&mut watch());
            assert_eq!(outcome, Outcome::Succeeded, "interrupt at {interrupt_at:?}");
            assert!(stops.is_empty(), "interrupt at {interrupt_at:?}");
        }
        // And a deployment that was already successful when the wait began.
        let mut w = watch();
        assert_eq!(
            w.on_record(
                &record("SUCCESSFUL"),
                Duration::ZERO,
                Some(Interruption::TimedOut)
            ),
            Step::Done(Outcome::Succeeded)
        );
    }

    #[test]
    fn an_interruption_while_ecs_rolls_back_sends_no_second_stop() {
        let fake = Fake {
            timeline: vec![(Duration::ZERO, record("ROLLBACK_IN_PROGRESS"))],
            interrupt_at: Some((5 * S, Interruption::StopRequested)),
            rollback_takes: S,
        };
        let (outcome, stops, at, _) = fake.run(&mut watch());
        assert!(stops.is_empty());
        assert_eq!(at, 5 * S);
        assert_eq!(
            outcome,
            Outcome::Interrupted {
                why: Interruption::StopRequested,
                rollback: Rollback::AlreadyUnwinding,
                status: "ROLLBACK_IN_PROGRESS".into()
            }
        );
    }

    #[test]
    fn an_interrupted_first_deployment_is_left_running_and_the_wait_returns_at_once() {
        // A service being created: ECS has nothing to roll back to (it
        // refuses StopServiceDeployment ROLLBACK), so none is asked for and
        // nothing is followed.
        let mut first = record("IN_PROGRESS");
        first.first = true;
        let fake = Fake {
            timeline: vec![(Duration::ZERO, first)],
            interrupt_at: Some((7 * S, Interruption::StopRequested)),
            rollback_takes: S,
        };
        let (outcome, stops, at, _) = fake.run(&mut watch());
        assert!(stops.is_empty(), "{stops:?}");
        assert_eq!(at, 10 * S, "the first read after the interruption ends it");
        assert_eq!(
            outcome,
            Outcome::Interrupted {
                why: Interruption::StopRequested,
                rollback: Rollback::NothingToRollBackTo,
                status: "IN_PROGRESS".into()
            }
        );
        let text = outcome.error_text("auth-service", "x").unwrap();
        assert!(text.contains("no previous revision"), "{text}");
        assert!(text.contains("recorded"), "{text}");
    }

    #[test]
    fn a_deployment_ecs_does_not_watch_is_stopped_with_a_rollback_at_once() {
        let mut unwatched = record("IN_PROGRESS");
        unwatched.alarm_names = vec!["matbakh-auth-service-error-rate".into()];
        unwatched.alarms_status = Some("DISABLED".into());
        assert!(unwatched.unwatched());
        let fake = Fake {
            timeline: vec![(Duration::ZERO, unwatched.clone())],
            interrupt_at: None,
            rollback_takes: S,
        };
        let (outcome, stops, _, _) = fake.run(&mut watch());
        assert_eq!(stops, vec![Duration::ZERO], "stopped at the first read");
        assert_eq!(
            outcome,
            Outcome::Interrupted {
                why: Interruption::AlarmsNotWatched,
                rollback: Rollback::Requested,
                status: "ROLLBACK_SUCCESSFUL".into()
            }
        );
        let text = outcome.error_text("auth-service", "x").unwrap();
        assert!(text.contains("ECS would not watch"), "{text}");
        assert!(text.contains("rollback"), "{text}");
        // Watched, or without alarms: nothing to stop.
        for (names, status) in [(vec!["a".to_string()], "MONITORING"), (vec![], "DISABLED")] {
            let mut r = record("IN_PROGRESS");
            r.alarm_names = names;
            r.alarms_status = Some(status.into());
            assert!(!r.unwatched());
            assert!(matches!(watch().on_record(&r, S, None), Step::Wait { .. }));
        }
        // Finished already: never stopped.
        unwatched.status = "SUCCESSFUL".into();
        assert_eq!(
            watch().on_record(&unwatched, S, None),
            Step::Done(Outcome::Succeeded)
        );
    }

    #[test]
    fn a_refused_stop_ends_the_wait_at_once_with_what_ecs_said() {
        let mut w = watch();
        let step = w.on_record(&record("IN_PROGRESS"), 3 * S, Some(Interruption::TimedOut));
        assert!(matches!(step, Step::StopWithRollback { .. }), "{step:?}");
        let refused = "ConflictException: the deployment is SUCCESSFUL".to_string();
        let step = w.on_stop_refused("IN_PROGRESS", refused.clone());
        let Step::Done(outcome) = step else {
            panic!("{step:?}")
        };
        assert_eq!(
            outcome,
            Outcome::Interrupted {
                why: Interruption::TimedOut,
                rollback: Rollback::NotAccepted(refused),
                status: "IN_PROGRESS".into()
            }
        );
        let text = outcome.error_text("auth-service", "x").unwrap();
        assert!(text.starts_with("the operation timed out"), "{text}");
        assert!(text.contains("refused: ConflictException"), "{text}");
    }

    #[test]
    fn progress_names_stage_weight_and_counts() {
        let mut r = record("IN_PROGRESS");
        r.stage = Some("BAKE_TIME".into());
        r.production_weight = Some(5.0);
        assert_eq!(
            progress_line("auth-service", &r),
            "deployment of auth-service IN_PROGRESS, stage BAKE_TIME, new revision at 5 % of production traffic, 1/2 tasks running, 1 pending"
        );
        r.production_weight = Some(0.5);
        assert!(progress_line("a", &r).contains("at 0.5 %"));
    }
}
