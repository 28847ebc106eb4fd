//! The one retry policy: throttling is retried for as long as the
//! operation's timeout allows, every other retryable error `max_retries`
//! times, and no wait outlives Terraform's stop request.
//!
//! The SDK's standard retry strategy does the backoff (exponential, full
//! jitter, see `clients::retry_config`); this interceptor tells it, after
//! each attempt, how many attempts the call may have:
//! - a throttling answer says nothing is wrong with the request, only that
//!   the bucket is empty: one more attempt while the deadline allows (the
//!   AWS provider for Terraform retries up to 25 times; without a deadline
//!   in scope, that is the limit here too), and it empties the local copy
//!   of the bucket ([`super::pacer`]) so the retry queues behind the refill;
//!   throttling answers take nothing from the SDK's retry quota (that quota
//!   exists to stop an outage from multiplying traffic, and the pacer
//!   already keeps a throttled bucket's traffic at its refill rate);
//! - after Terraform's stop request, no further attempt.
//!
//! Before each attempt it tags the request with the buckets it draws from,
//! for the pacer in the HTTP connector, and refuses a retry once Terraform
//! asked the provider to stop (the backoff's sleep,
//! [`super::stop_sleep::StopAwareSleep`], ends at the stop request).

use std::sync::Arc;
use std::time::Duration;

use super::pacer::{PaceWith, Pacers};
use super::quotas;
use aws_config::retry::RetryConfig;
use aws_smithy_runtime::client::retries::TokenBucket;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryReason,
};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::ErrorKind;

/// The attempts a call had before the policy first stored its own.
#[derive(Debug, Clone, Copy)]
struct ConfiguredAttempts(u32);

impl aws_smithy_types::config_bag::Storable for ConfiguredAttempts {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// Throttled attempts of one call when no deadline is in scope.
pub const THROTTLED_ATTEMPTS_WITHOUT_DEADLINE: u32 = 25;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pacers: Arc<Pacers>,
    /// The configured retry settings (`max_retries` + 1 attempts).
    base: RetryConfig,
}

impl RetryPolicy {
    pub fn new(pacers: Arc<Pacers>, base: RetryConfig) -> RetryPolicy {
        RetryPolicy { pacers, base }
    }
}

fn quotas_of(cfg: &ConfigBag) -> Vec<quotas::Quota> {
    cfg.load::<Metadata>()
        .map(|m| quotas::buckets(m.service(), m.name()))
        .unwrap_or_default()
}

/// What the SDK's classifiers make of the attempt (as its retry strategy
/// runs them: the last classifier with an opinion wins, a refusal ends).
fn classify(rc: &RuntimeComponents, ctx: &InterceptorContext) -> RetryAction {
    let mut result = RetryAction::NoActionIndicated;
    for classifier in rc.retry_classifiers() {
        let verdict = classifier.classify_retry_v2(ctx, &result);
        if verdict == RetryAction::NoActionIndicated {
            continue;
        }
        result = verdict;
        if result == RetryAction::RetryForbidden {
            break;
        }
    }
    result
}

/// Whether the deadline leaves room for another throttled attempt.
fn deadline_allows(attempts: u32) -> bool {
    match crate::engine::remaining() {
        Err(_) => false,
        // No deadline in scope: bounded by count.
        Ok(left) if left > Duration::from_secs(86_400 * 365) => {
            attempts < THROTTLED_ATTEMPTS_WITHOUT_DEADLINE
        }
        Ok(left) => !left.is_zero(),
    }
}

impl Intercept for RetryPolicy {
    fn name(&self) -> &'static str {
        "matbakh::RetryPolicy"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // A retry whose backoff Terraform's stop request cut short is not
        // sent: the call ends with the stop, not with one more request.
        let attempt = cfg
            .load::<RequestAttempts>()
            .map(|a| a.attempts())
            .unwrap_or(1);
        if attempt > 1 && crate::engine::stop_requested() {
            return Err(crate::engine::INTERRUPTED.into());
        }
        let quotas = quotas_of(cfg);
        if !quotas.is_empty() {
            context.request_mut().add_extension(PaceWith {
                pacers: self.pacers.clone(),
                quotas,
            });
        }
        Ok(())
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let ctx = context.inner();
        if !ctx.is_failed() {
            return Ok(());
        }
        let attempts = cfg
            .load::<RequestAttempts>()
            .map(|a| a.attempts())
            .unwrap_or(1);
        let throttled = matches!(
            classify(rc, ctx),
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: ErrorKind::ThrottlingError,
                ..
            })
        );
        // The attempts this call was configured with, before this policy
        // stored its own: an operation that turned the SDK's retries off
        // (RegisterTaskDefinition, whose blind retry after a lost answer
        // registers a second revision) keeps them off for every error but
        // throttling, which says the request was not carried out.
        let configured = match cfg.load::<ConfiguredAttempts>() {
            Some(c) => c.0,
            None => {
                let n = cfg
                    .load::<RetryConfig>()
                    .map(|r| r.max_attempts())
                    .unwrap_or_else(|| self.base.max_attempts());
                cfg.interceptor_state().store_put(ConfiguredAttempts(n));
                n
            }
        };
        let max_attempts = if crate::engine::stop_requested() {
            attempts
        } else if throttled {
            self.pacers.throttled(&quotas_of(cfg));
            cfg.interceptor_state().store_put(TokenBucket::unlimited());
            if deadline_allows(attempts) {
                attempts + 1
            } else {
                attempts
            }
        } else {
            configured
        };
        cfg.interceptor_state()
            .store_put(self.base.clone().with_max_attempts(max_attempts));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;
    use crate::aws::stop_sleep::StopAwareSleep;
    use crate::engine::{with_deadline, with_stop_signal, StopSignal};

    fn throttle_first(n: usize) -> FakeEndpoint {
        let seen = AtomicUsize::new(0);
        FakeEndpoint::start(move |_, _| {
            if seen.fetch_add(1, Ordering::SeqCst) < n {
                (
                    400,
                    serde_json::json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
                )
            } else {
                (200, serde_json::json!({"services": [], "failures": []}))
            }
        })
    }

    /// An ECS client on the fake endpoint with this module's policy and
    /// `max_retries` = 2, backoff shortened so the test is quick.
    fn ecs(fake: &FakeEndpoint) -> aws_sdk_ecs::Client {
        let base = super::super::clients::retry_config(2)
            .with_initial_backoff(Duration::from_millis(5))
            .with_max_backoff(Duration::from_millis(20));
        fake.ecs_client_with(|b| {
            b.retry_config(base.clone())
                .interceptor(RetryPolicy::new(Arc::new(Pacers::default()), base.clone()))
                .sleep_impl(StopAwareSleep)
        })
    }

    async fn describe(client: &aws_sdk_ecs::Client) -> Result<(), String> {
        client
            .describe_services()
            .cluster("c")
            .services("s")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    }

    #[tokio::test]
    async fn throttling_is_retried_past_max_retries_while_the_deadline_allows() {
        let fake = throttle_first(8);
        let client = ecs(&fake);
        with_deadline(Duration::from_secs(60), describe(&client))
            .await
            .unwrap();
        assert_eq!(fake.calls().len(), 9);
    }

    #[tokio::test]
    async fn an_operation_with_retries_off_keeps_them_off_but_for_throttling() {
        // RegisterTaskDefinition turns the SDK's retry off for itself: a
        // blind retry after a lost answer registers a second revision.
        let seen = AtomicUsize::new(0);
        let fake = FakeEndpoint::start(move |_, _| match seen.fetch_add(1, Ordering::SeqCst) {
            0 => (
                400,
                serde_json::json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
            ),
            _ => (
                500,
                serde_json::json!({"__type": "ServerException", "message": "boom"}),
            ),
        });
        let client = ecs(&fake);
        let once = client
            .describe_services()
            .cluster("c")
            .services("s")
            .customize()
            .config_override(
                aws_sdk_ecs::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send();
        assert!(with_deadline(Duration::from_secs(60), once).await.is_err());
        // The throttled attempt is retried; the server error is not.
        assert_eq!(fake.calls().len(), 2);
    }

    #[tokio::test]
    async fn other_errors_keep_max_retries() {
        let fake = FakeEndpoint::start(|_, _| {
            (
                500,
                serde_json::json!({"__type": "ServerException", "message": "boom"}),
            )
        });
        let client = ecs(&fake);
        assert!(with_deadline(Duration::from_secs(60), describe(&client))
            .await
            .is_err());
        assert_eq!(fake.calls().len(), 3);
    }

    #[tokio::test]
    async fn without_a_deadline_throttling_stops_after_25_attempts() {
        let fake = throttle_first(1000);
        let client = ecs(&fake);
        assert!(describe(&client).await.is_err());
        assert_eq!(
            fake.calls().len(),
            THROTTLED_ATTEMPTS_WITHOUT_DEADLINE as usize
        );
    }

    #[tokio::test]
    async fn a_stop_request_ends_the_backoff_at_once() {
        let fake = throttle_first(usize::MAX);
        // A long backoff: the real one's ceiling.
        let base = super::super::clients::retry_config(2)
            .with_initial_backoff(Duration::from_secs(10))
            .with_max_backoff(Duration::from_secs(10));
        let client = fake.ecs_client_with(|b| {
            b.retry_config(base.clone())
                .interceptor(RetryPolicy::new(Arc::new(Pacers::default()), base.clone()))
                .sleep_impl(StopAwareSleep)
        });
        let stop = StopSignal::default();
        let trigger = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            trigger.request();
        });
        let started = std::time::Instant::now();
        let result = with_stop_signal(
            stop,
            with_deadline(Duration::from_secs(3600), describe(&client)),
        )
        .await;
        let err = result.unwrap_err();
        assert!(err.contains("interrupted"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
