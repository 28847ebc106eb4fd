//! The walk of a canary as a pure state machine: no clock, no AWS.
//!
//! The App Mesh walk (`app_mesh_walk.rs`) performs each [`Action`] and feeds back what
//! happened as an [`Event`] carrying the time it happened; the machine answers
//! with the next action. Unit tests drive it with a fake clock.
//!
//! ```text
//! AwaitCandidate ─ready─► CheckAlarms ─quiet─► SetWeight(w0) ─► Sleep … CheckAlarms
//!       │                      │                     (hold step_interval, checking
//!       failed                 firing                 the alarms every poll)
//!       ▼                      ▼                      ─quiet, held─► SetWeight(w1) … last
//!   RollBack ─────────────► Finish(RolledBack)                      ─► Finish(Succeeded)
//! ```
//!
//! Alarms are checked before the first step, during every hold and at its
//! end; one in ALARM, or a candidate whose ECS deployment failed, rolls back.

use std::time::Duration;

/// How a walk ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    Succeeded,
    RolledBack { reason: String },
}

/// What the walk's runner does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Deploy the candidate and wait until it is healthy (steady state).
    AwaitCandidate,
    /// Read the candidate's alarms.
    CheckAlarms,
    /// Give the candidate this share of traffic (stable gets the rest).
    SetWeight(i64),
    /// Wait, then check the alarms again.
    Sleep(Duration),
    /// All traffic back to stable, candidate scaled to zero.
    RollBack {
        reason: String,
    },
    Finish(Ending),
}

/// What happened, and when (time since the walk began).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    CandidateReady,
    CandidateFailed { reason: String },
    AlarmsQuiet { now: Duration },
    AlarmFiring { alarm: String, reason: String },
    WeightSet { now: Duration },
    Slept,
    RolledBack,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Deploying,
    /// Checking the alarms before the first step.
    PreCheck,
    /// Setting the weight of step `i`.
    Setting(usize),
    /// Holding step `i` until `until`.
    Holding {
        step: usize,
        until: Duration,
    },
    RollingBack {
        reason: String,
    },
    Done,
}

/// A walk in progress: where it is, and the weight the candidate has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    weights: Vec<i64>,
    interval: Duration,
    poll: Duration,
    phase: Phase,
    weight: i64,
}

impl Walk {
    /// A walk through `weights` holding each for `interval`, checking the
    /// alarms at least every `poll`. `weight` is the candidate's weight now
    /// (not zero when an interrupted walk starts again).
    pub fn new(
        weights: Vec<i64>,
        interval: Duration,
        poll: Duration,
        weight: i64,
    ) -> (Walk, Action) {
        let walk = Walk {
            weights,
            interval,
            poll: poll.max(Duration::from_millis(1)),
            phase: Phase::Deploying,
            weight,
        };
        (walk, Action::AwaitCandidate)
    }

    /// The candidate's share of traffic, percent.
    pub fn weight(&self) -> i64 {
        self.weight
    }

    /// The step being held or set (0-based), if the walk got that far.
    pub fn step(&self) -> Option<usize> {
        match self.phase {
            Phase::Setting(i) | Phase::Holding { step: i, .. } => Some(i),
            _ => None,
        }
    }

    pub fn steps(&self) -> usize {
        self.weights.len()
    }

    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The next action after `event`. An event that does not fit the phase
    /// (a bug in the runner) ends the walk in a rollback rather than a panic.
    pub fn on(&mut self, event: Event) -> Action {
        use Event::*;
        match (self.phase.clone(), event) {
            (Phase::Deploying, CandidateReady) => {
                self.phase = Phase::PreCheck;
                Action::CheckAlarms
            }
            (Phase::Deploying, CandidateFailed { reason }) => {
                self.roll_back(format!("the candidate's ECS deployment failed: {reason}"))
            }
            (Phase::PreCheck | Phase::Holding { .. }, AlarmFiring { alarm, reason }) => {
                self.roll_back(format!("alarm {alarm} is in ALARM: {reason}"))
            }
            (Phase::PreCheck, AlarmsQuiet { .. }) => self.set(0),
            (Phase::Setting(i), WeightSet { now }) => {
                self.weight = self.weights[i];
                self.phase = Phase::Holding {
                    step: i,
                    until: now + self.interval,
                };
                Action::Sleep(self.poll.min(self.interval))
            }
            (Phase::Holding { .. }, Slept) => Action::CheckAlarms,
            (Phase::Holding { step, until }, AlarmsQuiet { now }) => {
                if now < until {
                    Action::Sleep(self.poll.min(until - now))
                } else if step + 1 < self.weights.len() {
                    self.set(step + 1)
                } else {
                    self.phase = Phase::Done;
                    Action::Finish(Ending::Succeeded)
                }
            }
            (Phase::RollingBack { reason }, RolledBack) => {
                self.weight = 0;
                self.phase = Phase::Done;
                Action::Finish(Ending::RolledBack { reason })
            }
            (phase, event) => self.roll_back(format!(
                "internal error: event {event:?} does not fit walk phase {phase:?}"
            )),
        }
    }

    fn set(&mut self, step: usize) -> Action {
        match self.weights.get(step) {
            Some(&w) => {
                self.phase = Phase::Setting(step);
                Action::SetWeight(w)
            }
            None => {
                self.phase = Phase::Done;
                Action::Finish(Ending::Succeeded)
            }
        }
    }

    fn roll_back(&mut self, reason: String) -> Action {
        self.phase = Phase::RollingBack {
            reason: reason.clone(),
        };
        Action::RollBack { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    /// A fake world: a clock that moves only when the walk sleeps, and
    /// alarms that fire from a given time on.
    struct Fake {
        now: Duration,
        candidate_fails: bool,
        fire_at: Option<Duration>,
        weights_set: Vec<(Duration, i64)>,
        checks: Vec<Duration>,
    }

    impl Fake {
        fn new() -> Fake {
            Fake {
                now: Duration::ZERO,
                candidate_fails: false,
                fire_at: None,
                weights_set: vec![],
                checks: vec![],
            }
        }

        /// Run the walk to its end; returns the ending and the final weight.
        fn run(&mut self, weights: &[i64], interval: Duration, poll: Duration) -> (Ending, i64) {
            let (mut walk, mut action) = Walk::new(weights.to_vec(), interval, poll, 0);
            for _ in 0..10_000 {
                let event = match action {
                    Action::AwaitCandidate if self.candidate_fails => Event::CandidateFailed {
                        reason: "tasks failed to start".into(),
                    },
                    Action::AwaitCandidate => Event::CandidateReady,
                    Action::CheckAlarms => {
                        self.checks.push(self.now);
                        match self.fire_at {
                            Some(t) if self.now >= t => Event::AlarmFiring {
                                alarm: "matbakh-auth-service-canary-error-rate".into(),
                                reason: "Threshold Crossed".into(),
                            },
                            _ => Event::AlarmsQuiet { now: self.now },
                        }
                    }
                    Action::SetWeight(w) => {
                        self.weights_set.push((self.now, w));
                        Event::WeightSet { now: self.now }
                    }
                    Action::Sleep(d) => {
                        assert!(d > Duration::ZERO, "sleeps are never empty");
                        self.now += d;
                        Event::Slept
                    }
                    Action::RollBack { .. } => Event::RolledBack,
                    Action::Finish(ending) => {
                        assert!(walk.is_done());
                        return (ending, walk.weight());
                    }
                };
                action = walk.on(event);
            }
            panic!("the walk did not end");
        }
    }

    #[test]
    fn a_healthy_walk_goes_through_every_step_and_holds_each() {
        let mut world = Fake::new();
        let (ending, weight) = world.run(&[5, 25, 50, 100], 300 * S, 30 * S);
        assert_eq!(ending, Ending::Succeeded);
        assert_eq!(weight, 100);
        assert_eq!(
            world.weights_set,
            vec![
                (Duration::ZERO, 5),
                (300 * S, 25),
                (600 * S, 50),
                (900 * S, 100)
            ]
        );
        // The last step is held too before the walk succeeds.
        assert_eq!(world.now, 1200 * S);
        // Checked before the first step and every poll of every hold.
        assert_eq!(world.checks.first(), Some(&Duration::ZERO));
        assert_eq!(world.checks.len(), 1 + 4 * 10);
    }

    #[test]
    fn a_poll_longer_than_the_interval_does_not_stretch_the_hold() {
        let mut world = Fake::new();
        let (ending, _) = world.run(&[50, 100], 2 * S, 30 * S);
        assert_eq!(ending, Ending::Succeeded);
        assert_eq!(world.weights_set, vec![(Duration::ZERO, 50), (2 * S, 100)]);
        assert_eq!(world.now, 4 * S);
    }

    #[test]
    fn an_alarm_during_a_hold_rolls_back_at_once() {
        let mut world = Fake::new();
        world.fire_at = Some(320 * S);
        let (ending, weight) = world.run(&[5, 25, 50, 100], 300 * S, 30 * S);
        match ending {
            Ending::RolledBack { reason } => {
                assert!(
                    reason.contains("matbakh-auth-service-canary-error-rate"),
                    "{reason}"
                );
                assert!(reason.contains("Threshold Crossed"), "{reason}");
            }
            other => panic!("expected a rollback, got {other:?}"),
        }
        assert_eq!(weight, 0);
        // Step 25 was reached; 50 never was; caught at the first check after 320 s.
        assert_eq!(world.weights_set, vec![(Duration::ZERO, 5), (300 * S, 25)]);
        assert_eq!(world.now, 330 * S);
    }

    #[test]
    fn an_alarm_before_the_first_step_sends_no_traffic() {
        let mut world = Fake::new();
        world.fire_at = Some(Duration::ZERO);
        let (ending, weight) = world.run(&[5, 100], 60 * S, 10 * S);
        assert!(matches!(ending, Ending::RolledBack { .. }));
        assert_eq!(weight, 0);
        assert!(world.weights_set.is_empty());
    }

    #[test]
    fn an_alarm_at_the_end_of_the_last_hold_still_rolls_back() {
        let mut world = Fake::new();
        world.fire_at = Some(120 * S);
        let (ending, _) = world.run(&[50, 100], 60 * S, 60 * S);
        assert!(matches!(ending, Ending::RolledBack { .. }));
        assert_eq!(world.weights_set, vec![(Duration::ZERO, 50), (60 * S, 100)]);
    }

    #[test]
    fn a_failed_candidate_deployment_rolls_back_without_traffic() {
        let mut world = Fake::new();
        world.candidate_fails = true;
        let (ending, weight) = world.run(&[5, 100], 60 * S, 10 * S);
        match ending {
            Ending::RolledBack { reason } => {
                assert!(reason.contains("ECS deployment failed"), "{reason}")
            }
            other => panic!("expected a rollback, got {other:?}"),
        }
        assert_eq!(weight, 0);
        assert!(world.weights_set.is_empty());
        assert!(world.checks.is_empty());
    }

    #[test]
    fn blue_green_is_one_switch_held_once() {
        let mut world = Fake::new();
        let (ending, weight) = world.run(&[100], 60 * S, 15 * S);
        assert_eq!(ending, Ending::Succeeded);
        assert_eq!(weight, 100);
        assert_eq!(world.weights_set, vec![(Duration::ZERO, 100)]);
    }

    #[test]
    fn an_event_out_of_place_rolls_back_instead_of_panicking() {
        let (mut walk, _) = Walk::new(vec![5, 100], S, S, 0);
        assert!(matches!(walk.on(Event::Slept), Action::RollBack { .. }));
        assert_eq!(
            walk.on(Event::RolledBack),
            Action::Finish(Ending::RolledBack {
                reason: "internal error: event Slept does not fit walk phase Deploying".into()
            })
        );
    }

    #[test]
    fn weight_and_step_follow_the_walk() {
        let (mut walk, _) = Walk::new(vec![10, 100], 5 * S, 5 * S, 30);
        assert_eq!(walk.weight(), 30);
        assert_eq!(walk.step(), None);
        walk.on(Event::CandidateReady);
        assert_eq!(
            walk.on(Event::AlarmsQuiet { now: S }),
            Action::SetWeight(10)
        );
        assert_eq!(walk.step(), Some(0));
        walk.on(Event::WeightSet { now: S });
        assert_eq!(walk.weight(), 10);
        assert_eq!(walk.steps(), 2);
    }
}
