//! Sleeps that end at Terraform's stop request: the SDK's retry backoff
//! and the pacer's wait for a token, so Ctrl-C ends a throttled call within
//! a tenth of a second instead of after its backoff.

use std::time::Duration;

use aws_smithy_async::rt::sleep::{AsyncSleep, Sleep};
use tokio::time::Instant;

/// How often a wait looks at Terraform's stop request.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Sleep until `when`, or until Terraform asks the provider to stop:
/// false when stopped.
pub async fn sleep_until(when: Instant) -> bool {
    loop {
        if crate::engine::stop_requested() {
            return false;
        }
        let now = Instant::now();
        if now >= when {
            return true;
        }
        tokio::time::sleep((when - now).min(STOP_POLL)).await;
    }
}

/// The SDK's sleep (its retry backoff, its timeouts) ending early on
/// Terraform's stop request: a throttled call in its backoff returns
/// within a tenth of a second of Ctrl-C instead of after up to
/// `MAX_BACKOFF`.
#[derive(Debug, Clone, Default)]
pub struct StopAwareSleep;

impl AsyncSleep for StopAwareSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        let until = Instant::now() + duration;
        // The SDK sleeps for its timeouts too, not only for its backoff. A
        // sleep that starts after the stop request belongs to a call made
        // on purpose after Ctrl-C (the rollback of a deployment, the reads
        // that save the state): it must run its whole time, or that call's
        // connect timeout would fire at once and the rollback never go out.
        if crate::engine::stop_requested() {
            return Sleep::new(tokio::time::sleep_until(until));
        }
        Sleep::new(async move {
            sleep_until(until).await;
        })
    }
}
