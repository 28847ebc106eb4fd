//! One pacer per AWS quota bucket: the provider spends AWS's tokens at the
//! rate AWS refills them instead of finding the limit by being throttled.
//!
//! Each bucket of [`super::quotas`] gets a local copy per account and
//! region (shared by every client and resource of the process). A request
//! reserves a token before it goes on the wire and waits until its turn:
//! reservations queue first come, first served, so a burst of 100 alarm
//! writes against a 3-per-second quota goes out at 3 per second instead of
//! 97 of them burning retries. A throttling answer means someone else (or
//! an earlier process) spent the bucket: the local copy is emptied, so
//! retries queue behind the refill instead of deepening the drought.
//!
//! The pacing sits in the HTTP connector ([`PacedHttpClient`]): the only
//! place below the SDK's retry loop where an attempt can wait. The retry
//! policy (`retry_policy.rs`) tags each request with its buckets. The
//! wait ends at once when Terraform asks the provider to stop; the attempt
//! timeout starts after it, so queueing never counts as a hung connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::time::Instant;

use super::quotas::Quota;

/// Our copy runs a little below AWS's figures: requests reserved at the
/// same instant reach AWS a few milliseconds apart in any order.
const MARGIN: f64 = 0.95;

/// An attempt on the wire longer than this is abandoned and retried (the
/// SDK's attempt timeout, moved here so that it starts after the pacing).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// A token bucket whose tokens may be reserved ahead: a negative count is
/// the queue of requests waiting for the refill.
#[derive(Debug)]
pub struct Bucket {
    burst: f64,
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    pub fn new(quota: &Quota, now: Instant) -> Bucket {
        let burst = (quota.burst * MARGIN).floor().max(1.0);
        Bucket {
            burst,
            per_second: quota.per_second * MARGIN,
            state: Mutex::new((burst, now)),
        }
    }

    fn refilled(&self, now: Instant) -> std::sync::MutexGuard<'_, (f64, Instant)> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_duration_since(state.1).as_secs_f64();
        state.0 = (state.0 + elapsed * self.per_second).min(self.burst);
        state.1 = now.max(state.1);
        state
    }

    /// Take the next token: when it may be spent.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut state = self.refilled(now);
        state.0 -= 1.0;
        if state.0 >= 0.0 {
            now
        } else {
            now + Duration::from_secs_f64(-state.0 / self.per_second)
        }
    }

    /// AWS said the bucket is empty: whatever our copy holds is not there.
    pub fn drained(&self, now: Instant) {
        let mut state = self.refilled(now);
        state.0 = state.0.min(0.0);
    }
}

/// The buckets of one account and region.
#[derive(Debug, Default)]
pub struct Pacers {
    buckets: Mutex<HashMap<String, Arc<Bucket>>>,
}

impl Pacers {
    /// The process's pacers for `scope` (account and region): one set per
    /// scope, whoever asks.
    pub fn for_scope(scope: &str) -> Arc<Pacers> {
        static ALL: OnceLock<Mutex<HashMap<String, Arc<Pacers>>>> = OnceLock::new();
        let mut all = ALL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.entry(scope.to_string()).or_default().clone()
    }

    fn bucket(&self, quota: &Quota, now: Instant) -> Arc<Bucket> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets
            .entry(quota.bucket.to_string())
            .or_insert_with(|| Arc::new(Bucket::new(quota, now)))
            .clone()
    }

    /// Reserve a token in each of `quotas`: when the request may go.
    pub fn reserve(&self, quotas: &[Quota]) -> Instant {
        let now = Instant::now();
        quotas
            .iter()
            .map(|q| self.bucket(q, now).reserve(now))
            .max()
            .unwrap_or(now)
    }

    /// A throttling answer for a request of `quotas`.
    pub fn throttled(&self, quotas: &[Quota]) {
        let now = Instant::now();
        for q in quotas {
            self.bucket(q, now).drained(now);
        }
    }
}

/// What a request carries to the connector: whose buckets it draws from.
#[derive(Debug, Clone)]
pub struct PaceWith {
    pub pacers: Arc<Pacers>,
    pub quotas: Vec<Quota>,
}

/// The SDK's HTTP client with each attempt paced by its buckets.
#[derive(Debug, Clone)]
pub struct PacedHttpClient {
    inner: SharedHttpClient,
}

impl PacedHttpClient {
    pub fn new(inner: SharedHttpClient) -> PacedHttpClient {
        PacedHttpClient { inner }
    }

    /// The SDK's default HTTPS client (the one a client gets when none is
    /// given), paced. `None` when this build has none.
    pub fn sdk_default() -> Option<PacedHttpClient> {
        use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
        use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
        let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(
            aws_config::BehaviorVersion::latest(),
        )?;
        let components = plugin.runtime_components(&RuntimeComponentsBuilder::new("pacer"));
        components.http_client().map(PacedHttpClient::new)
    }
}

impl HttpClient for PacedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let pace = request.extension::<PaceWith>().cloned();
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            if let Some(pace) = pace {
                let ready = pace.pacers.reserve(&pace.quotas);
                if ready > Instant::now() {
                    tracing::debug!(
                        wait_ms = (ready - Instant::now()).as_millis() as u64,
                        "paced to AWS's request quota"
                    );
                    if !super::stop_sleep::sleep_until(ready).await {
                        return Err(ConnectorError::user(crate::engine::INTERRUPTED.into()));
                    }
                }
            }
            match tokio::time::timeout(ATTEMPT_TIMEOUT, inner.call(request)).await {
                Ok(answer) => answer,
                Err(_) => Err(ConnectorError::timeout(
                    format!("no answer within {}s", ATTEMPT_TIMEOUT.as_secs()).into(),
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(burst: f64, per_second: f64) -> Quota {
        Quota {
            bucket: "test:Op".into(),
            burst,
            per_second,
        }
    }

    #[test]
    fn a_burst_then_the_refill_rate_first_come_first_served() {
        let t0 = Instant::now();
        // RegisterTaskDefinition's 20 / 1: 19 at once (the margin), then
        // one per 1/0.95 s, in the order asked.
        let b = Bucket::new(&quota(20.0, 1.0), t0);
        for _ in 0..19 {
            assert_eq!(b.reserve(t0), t0);
        }
        let waits: Vec<f64> = (0..3).map(|_| (b.reserve(t0) - t0).as_secs_f64()).collect();
        for (i, w) in waits.iter().enumerate() {
            assert!((w - (i + 1) as f64 / 0.95).abs() < 1e-6, "{waits:?}");
        }
        // Time refills what was reserved ahead first.
        let later = t0 + Duration::from_secs(10);
        assert!(b.reserve(later) - later < Duration::from_secs(1));
    }

    #[test]
    fn a_throttling_answer_empties_the_local_copy() {
        let t0 = Instant::now();
        let b = Bucket::new(&quota(10.0, 10.0), t0);
        assert_eq!(b.reserve(t0), t0);
        b.drained(t0);
        let next = b.reserve(t0) - t0;
        assert!(next > Duration::from_millis(100), "{next:?}");
    }

    #[test]
    fn the_sdk_default_client_is_the_one_paced() {
        assert!(PacedHttpClient::sdk_default().is_some());
    }

    #[test]
    fn one_set_of_buckets_per_account_and_region() {
        let a = Pacers::for_scope("123/eu-central-1");
        let b = Pacers::for_scope("123/eu-central-1");
        let c = Pacers::for_scope("123/us-east-1");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        // The ELB account-wide bucket is shared by its operations.
        let elb = super::super::quotas::buckets(super::super::quotas::ELB, "CreateRule");
        let t0 = Instant::now();
        for _ in 0..38 {
            assert!(a.reserve(&elb) <= Instant::now());
        }
        let describe =
            super::super::quotas::buckets(super::super::quotas::ELB, "DescribeTargetGroups");
        assert!(a.reserve(&describe) > t0 + Duration::from_millis(50));
    }
}
