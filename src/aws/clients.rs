//! The AWS SDK clients, built once per provider configuration.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

use super::call_log::CallLog;
use super::credentials::{self, AssumeRole};
use super::error::AwsError;
use super::pacer::{PacedHttpClient, Pacers};
use super::read_memo::ReadMemo;
use super::retry_policy::RetryPolicy;
use super::stop_sleep::StopAwareSleep;

/// Where each service's API is reached. `None` means AWS's own endpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoints {
    pub ecs: Option<String>,
    pub appmesh: Option<String>,
    pub servicediscovery: Option<String>,
    pub cloudwatch: Option<String>,
    pub logs: Option<String>,
    pub applicationautoscaling: Option<String>,
    /// IAM: the roles the provider makes.
    pub iam: Option<String>,
    pub budgets: Option<String>,
    /// STS: the credentials check and `assume_role`.
    pub sts: Option<String>,
}

/// What the provider block says about reaching AWS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectionSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// One endpoint for every API (emulators); per-service entries win.
    pub endpoint: Option<String>,
    pub endpoints: Endpoints,
    pub max_retries: u32,
    /// Skip the STS GetCallerIdentity check at configure.
    pub skip_credentials_validation: bool,
    /// When not empty, the only accounts the credentials may belong to.
    pub allowed_account_ids: Vec<String>,
    pub assume_role: Option<AssumeRole>,
}

#[derive(Clone, Debug)]
pub struct Clients {
    pub region: String,
    /// The account the credentials belong to (None when the check was
    /// skipped).
    pub account_id: Option<String>,
    pub ecs: aws_sdk_ecs::Client,
    pub appmesh: aws_sdk_appmesh::Client,
    pub cloudmap: aws_sdk_servicediscovery::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    /// Ingress: the platform's load balancer, listeners, rules, target groups.
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// Ingress: the security groups the provider makes.
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    /// AWS Budgets: one API per account (global endpoint), the platforms' budgets.
    pub budgets: aws_sdk_budgets::Client,
    /// The Resource Groups Tagging API: many objects' tags in one read
    /// ([`super::tagging`]).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// One refresh's memory of its reads (see [`super::read_memo`]);
    /// `None` (remember nothing) everywhere else.
    pub memo: Option<std::sync::Arc<ReadMemo>>,
    /// An apply's reads ahead: what a create reads before it writes, sent
    /// when the apply starts and taken by the create
    /// ([`ReadMemo::taken`], [`crate::engine::Backend::look_ahead`]).
    pub ahead: std::sync::Arc<ReadMemo>,
    /// Concurrent reads of one kind, gathered into batched calls
    /// ([`super::gatherer`]).
    pub gatherers: std::sync::Arc<super::gatherer::Gatherers>,
    /// The versions private state recorded for objects whose body need not
    /// be read again, and those this operation saw ([`super::versions`]).
    pub versions: std::sync::Arc<super::versions::Versions>,
}

impl Clients {
    /// These clients, with a fresh memory of reads for one refresh (see
    /// [`ReadMemo`]).
    pub fn remembering_reads(&self) -> Clients {
        let mut clients = self.clone();
        clients.memo = Some(std::sync::Arc::new(ReadMemo::default()));
        clients
    }

    /// These clients, with the versions `recorded` in private state (see
    /// [`super::versions`]).
    pub fn with_versions(&self, recorded: super::versions::VersionMap) -> Clients {
        let mut clients = self.clone();
        clients.versions = std::sync::Arc::new(super::versions::Versions::new(recorded));
        clients
    }

    /// The answer to the read `key`: `fetch`'s, or the one an earlier (or
    /// in-flight) identical read of this refresh got. Without a memo, just
    /// `fetch`.
    pub async fn remembered<T, F, Fut>(&self, key: String, fetch: F) -> Result<T, AwsError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        match &self.memo {
            Some(memo) => memo.remembered(key, fetch).await,
            None => fetch().await,
        }
    }

    /// Resolve credentials and region the standard AWS way and build one
    /// client per service, all with [`retry_config`], so call sites never
    /// retry by hand.
    pub async fn connect(settings: &ConnectionSettings) -> Result<Clients, String> {
        let retry = retry_config(settings.max_retries);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            // A request waiting for its quota (`pacer.rs`) sends no bytes:
            // that is not a stalled upload. Our bodies are small and in
            // memory; stalled downloads are still watched.
            .stalled_stream_protection(
                StalledStreamProtectionConfig::enabled()
                    .upload_enabled(false)
                    .build(),
            )
            .timeout_config(
                // The attempt timeout is the pacer's (`pacer::ATTEMPT_TIMEOUT`):
                // it starts once the request's quota allows it to go.
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .build(),
            );
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        let mut shared = loader.load().await;
        let region = shared.region().map(|r| r.to_string()).ok_or_else(|| {
            "no AWS region: set `region` in the provider block or AWS_REGION".to_string()
        })?;

        let endpoint_for = |specific: &Option<String>| -> Option<String> {
            specific.clone().or_else(|| settings.endpoint.clone())
        };
        let sts_endpoint = endpoint_for(&settings.endpoints.sts);
        if let Some(role) = &settings.assume_role {
            shared = credentials::assume(shared, role, sts_endpoint.as_deref()).await;
        }
        let account_id = if settings.skip_credentials_validation {
            None
        } else {
            Some(
                credentials::check(
                    &shared,
                    settings.profile.as_deref(),
                    sts_endpoint.as_deref(),
                    &settings.allowed_account_ids,
                )
                .await?
                .account,
            )
        };
        // One pacer per quota bucket of this account and region, one retry
        // policy, on every client (`pacer.rs`, `retry_policy.rs`).
        let scope = quota_scope(account_id.as_deref(), &region);
        let paced = Paced {
            http: shared
                .http_client()
                .map(PacedHttpClient::new)
                .or_else(PacedHttpClient::sdk_default),
            policy: RetryPolicy::new(
                Pacers::for_scope(&scope),
                retry_config(settings.max_retries),
            ),
        };
        let e = &settings.endpoints;
        Ok(Clients {
            region,
            account_id,
            ecs: aws_sdk_ecs::Client::from_conf(
                with_endpoint(
                    aws_sdk_ecs::config::Builder::from(&shared),
                    endpoint_for(&e.ecs),
                    &paced,
                )
                .build(),
            ),
            appmesh: aws_sdk_appmesh::Client::from_conf(
                with_endpoint(
                    aws_sdk_appmesh::config::Builder::from(&shared),
                    endpoint_for(&e.appmesh),
                    &paced,
                )
                .build(),
            ),
            cloudmap: aws_sdk_servicediscovery::Client::from_conf(
                with_endpoint(
                    aws_sdk_servicediscovery::config::Builder::from(&shared),
                    endpoint_for(&e.servicediscovery),
                    &paced,
                )
                .build(),
            ),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                with_endpoint(
                    aws_sdk_cloudwatch::config::Builder::from(&shared),
                    endpoint_for(&e.cloudwatch),
                    &paced,
                )
                .build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                with_endpoint(
                    aws_sdk_cloudwatchlogs::config::Builder::from(&shared),
                    endpoint_for(&e.logs),
                    &paced,
                )
                .build(),
            ),
            autoscaling: aws_sdk_applicationautoscaling::Client::from_conf(
                with_endpoint(
                    aws_sdk_applicationautoscaling::config::Builder::from(&shared),
                    endpoint_for(&e.applicationautoscaling),
                    &paced,
                )
                .build(),
            ),
            // Reached through `endpoint` (no per-service override yet).
            elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                with_endpoint(
                    aws_sdk_elasticloadbalancingv2::config::Builder::from(&shared),
                    settings.endpoint.clone(),
                    &paced,
                )
                .build(),
            ),
            ec2: aws_sdk_ec2::Client::from_conf(
                with_endpoint(
                    aws_sdk_ec2::config::Builder::from(&shared),
                    settings.endpoint.clone(),
                    &paced,
                )
                .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                with_endpoint(
                    aws_sdk_iam::config::Builder::from(&shared),
                    endpoint_for(&e.iam),
                    &paced,
                )
                .build(),
            ),
            budgets: aws_sdk_budgets::Client::from_conf(
                with_endpoint(
                    aws_sdk_budgets::config::Builder::from(&shared),
                    endpoint_for(&e.budgets),
                    &paced,
                )
                .build(),
            ),
            // Reached through `endpoint` (no per-service override yet).
            tagging: aws_sdk_resourcegroupstagging::Client::from_conf(
                with_endpoint(
                    aws_sdk_resourcegroupstagging::config::Builder::from(&shared),
                    settings.endpoint.clone(),
                    &paced,
                )
                .build(),
            ),
            memo: None,
            ahead: Default::default(),
            gatherers: Default::default(),
            versions: Default::default(),
        })
    }
}

/// What AWS's per-account, per-region quotas and batches are scoped by.
fn quota_scope(account_id: Option<&str>, region: &str) -> String {
    format!("{}/{region}", account_id.unwrap_or("-"))
}

/// The first retry waits up to this long (full jitter: a random time
/// between zero and the bound, which doubles with each attempt).
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// No single wait between attempts is longer than this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The retry policy every client shares: AWS's standard mode, `max_retries`
/// retries after the first attempt, exponential backoff with full jitter
/// (`rand(0, min(MAX_BACKOFF, INITIAL_BACKOFF * 2^attempt))`), bounded by the
/// SDK's retry quota (a token bucket that stops retrying when most calls
/// fail, so an outage fails fast instead of multiplying traffic).
///
/// Not adaptive mode: after a single throttle it rate-limits the *whole
/// client* (every operation, every resource), measured at a median wait of
/// 12 s per call (issue #11). A throttle concerns one API's rate; backing
/// off the call that was throttled recovers at the speed AWS allows.
pub fn retry_config(max_retries: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max_retries.saturating_add(1))
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

/// Every service config builder has `endpoint_url`; this keeps the six
/// call sites above from repeating the `if let`.
trait EndpointUrl: Sized {
    fn set_url(self, url: String) -> Self;
    /// Log every attempt ([`CallLog`]).
    fn with_call_log(self) -> Self;
    /// The retry policy, its stop-aware sleep and the paced HTTP client.
    fn with_policy(self, paced: &Paced) -> Self;
}

/// What every client shares for pacing and retries.
struct Paced {
    /// The HTTP client, paced (None: a build without one; unpaced).
    http: Option<PacedHttpClient>,
    policy: RetryPolicy,
}

macro_rules! endpoint_url_for {
    ($($builder:ty),*) => {
        $(impl EndpointUrl for $builder {
            fn set_url(self, url: String) -> Self {
                self.endpoint_url(url)
            }
            fn with_call_log(self) -> Self {
                self.interceptor(CallLog)
            }
            fn with_policy(self, paced: &Paced) -> Self {
                let builder = self
                    .interceptor(paced.policy.clone())
                    .sleep_impl(StopAwareSleep);
                match &paced.http {
                    Some(http) => builder.http_client(http.clone()),
                    None => builder,
                }
            }
        })*
    };
}

endpoint_url_for!(
    aws_sdk_ecs::config::Builder,
    aws_sdk_appmesh::config::Builder,
    aws_sdk_servicediscovery::config::Builder,
    aws_sdk_cloudwatch::config::Builder,
    aws_sdk_cloudwatchlogs::config::Builder,
    aws_sdk_applicationautoscaling::config::Builder,
    aws_sdk_iam::config::Builder,
    aws_sdk_budgets::config::Builder,
    aws_sdk_resourcegroupstagging::config::Builder,
    aws_sdk_elasticloadbalancingv2::config::Builder,
    aws_sdk_ec2::config::Builder
);

fn with_endpoint<B: EndpointUrl>(builder: B, url: Option<String>, paced: &Paced) -> B {
    let builder = builder.with_call_log().with_policy(paced);
    match url {
        Some(url) => builder.set_url(url),
        None => builder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::retry::RetryMode;

    #[test]
    fn standard_mode_with_bounded_backoff_and_the_configured_attempts() {
        let r = retry_config(10);
        assert_eq!(r.mode(), RetryMode::Standard);
        assert_eq!(r.max_attempts(), 11);
        assert_eq!(r.initial_backoff(), INITIAL_BACKOFF);
        assert_eq!(r.max_backoff(), MAX_BACKOFF);
        assert_eq!(retry_config(0).max_attempts(), 1);
        assert_eq!(retry_config(u32::MAX).max_attempts(), u32::MAX);
    }
}
