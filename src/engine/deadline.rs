//! The resource's `timeouts` as a deadline every long wait can see, and
//! Terraform's stop request next to it.
//!
//! The deadline travels with the task (a tokio task-local) instead of through
//! every adapter's signature; waits ask [`remaining`] how long they may go on
//! and sleep with [`pause`], which also ends the moment Terraform asks the
//! provider to stop (Ctrl-C): the engine then returns what it recorded so
//! far, so state names every object that exists.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Instant;
    static LOCAL_STOP: StopSignal;
}

/// A stop request for the runs in one scope ([`with_stop_signal`]), next
/// to Terraform's process-wide one: tests stop one run without stopping
/// every other test in the process.
#[derive(Clone, Default)]
pub struct StopSignal(Arc<(AtomicBool, Notify)>);

impl StopSignal {
    pub fn request(&self) {
        self.0 .0.store(true, Ordering::SeqCst);
        self.0 .1.notify_waiters();
    }

    fn is_requested(&self) -> bool {
        self.0 .0.load(Ordering::SeqCst)
    }

    async fn requested(&self) {
        loop {
            let notified = self.0 .1.notified();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }
}

/// Run `fut` so that `signal` stops it as Terraform's stop request would.
pub async fn with_stop_signal<F: Future>(signal: StopSignal, fut: F) -> F::Output {
    LOCAL_STOP.scope(signal, fut).await
}

/// Resolves on Terraform's stop request or the scope's own.
async fn stopped() {
    match LOCAL_STOP.try_with(|s| s.clone()) {
        Ok(local) => tokio::select! {
            _ = crate::tf::stop::stopped() => {}
            _ = local.requested() => {}
        },
        Err(_) => crate::tf::stop::stopped().await,
    }
}

/// Run `fut` with a deadline `timeout` from now.
pub async fn with_deadline<F: Future>(timeout: Duration, fut: F) -> F::Output {
    DEADLINE.scope(Instant::now() + timeout, fut).await
}

/// The operation ran past its `timeouts` setting, or Terraform asked the
/// provider to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineExceeded;

/// What the engine says about a component it did not finish because
/// Terraform asked the provider to stop.
pub const INTERRUPTED: &str =
    "interrupted: Terraform asked the provider to stop (Ctrl-C); every object created so far is recorded in the state";

/// Whether Terraform asked the provider to stop.
pub fn stop_requested() -> bool {
    crate::tf::stop::requested() || LOCAL_STOP.try_with(|s| s.is_requested()).unwrap_or(false)
}

/// Time left before the deadline, or an error once it has passed or
/// Terraform asked the provider to stop. Without a deadline in scope (unit
/// tests), there is no limit.
pub fn remaining() -> Result<Duration, DeadlineExceeded> {
    if stop_requested() {
        return Err(DeadlineExceeded);
    }
    match DEADLINE.try_with(|d| *d) {
        Ok(deadline) => {
            let now = Instant::now();
            if now >= deadline {
                Err(DeadlineExceeded)
            } else {
                Ok(deadline - now)
            }
        }
        Err(_) => Ok(Duration::from_secs(u64::MAX / 4)),
    }
}

/// Sleep `d` (at most until the deadline); Err as soon as the deadline
/// passes or Terraform asks the provider to stop, so no wait outlives
/// either.
pub async fn pause(d: Duration) -> Result<(), DeadlineExceeded> {
    let left = remaining()?;
    tokio::select! {
        _ = tokio::time::sleep(d.min(left)) => {}
        _ = stopped() => {}
    }
    if d > left {
        return Err(DeadlineExceeded);
    }
    remaining().map(|_| ())
}
