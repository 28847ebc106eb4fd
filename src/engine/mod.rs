//! The generic reconciliation engine.
//!
//! It knows components only by key and dependencies; a [`Backend`] does the
//! work for each one. It creates and updates in dependency order, runs
//! independent components concurrently (bounded), deletes in reverse order,
//! and always hands back what it recorded, also when a step failed, so the
//! caller can save it in Terraform state and nothing is lost.

mod backend;
mod deadline;
mod order;
mod reconcile;
#[cfg(test)]
mod stop_tests;
#[cfg(test)]
mod tests;

pub use backend::{Backend, Observation, Resolved, FOLLOWS_AWS, MAX_CONCURRENCY, READ_CONCURRENCY};
pub use deadline::{
    pause, remaining, stop_requested, with_deadline, with_stop_signal, DeadlineExceeded,
    StopSignal, INTERRUPTED,
};
pub use order::{creation_order, Direction, OrderError};
pub use reconcile::{
    apply, apply_reporting, destroy, destroy_reporting, observe_all, Outcome, Progress, Reporter,
    StepError,
};
