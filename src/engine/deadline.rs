//! The resource's `timeouts` as a deadline every long wait can see.
//!
//! The deadline travels with the task (a tokio task-local) instead of through
//! every adapter's signature; waits ask [`remaining`] how long they may go on.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Run `fut` with a deadline `timeout` from now.
pub async fn with_deadline<F: Future>(timeout: Duration, fut: F) -> F::Output {
    DEADLINE.scope(Instant::now() + timeout, fut).await
}

/// The operation ran past its `timeouts` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineExceeded;

/// Time left before the deadline, or an error once it has passed. Without a
/// deadline in scope (unit tests), there is no limit.
pub fn remaining() -> Result<Duration, DeadlineExceeded> {
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
