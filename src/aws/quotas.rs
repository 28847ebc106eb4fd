//! AWS's published API rate quotas: which token buckets a request draws
//! from, with their burst and refill per second.
//!
//! AWS throttles each account's requests per region with token buckets: a
//! bucket holds at most `burst` tokens, refills `per_second`, and each
//! request takes one; an empty bucket answers with the service's throttling
//! error. The pacer ([`super::pacer`]) keeps the provider inside these
//! instead of finding them by being throttled.
//!
//! Sources:
//! - ECS: API reference, "Request throttling for the Amazon ECS API" (burst / refill).
//! - CloudWatch: "CloudWatch service quotas" (requests per second).
//! - CloudWatch Logs: "CloudWatch Logs quotas" (requests per second).
//! - Elastic Load Balancing: user guide, "API throttling" (every Describe
//!   40 / 10, and an account-wide 40 / 10 bucket every request also draws from).
//!
//! Where a page gives only a rate per second, the burst is taken as one
//! second's worth. Cloud Map, Application Auto Scaling, App Mesh and IAM
//! publish no figures: their requests are not paced (throttling answers are
//! still retried by the retry policy).

use std::borrow::Cow;

/// One bucket: a name unique per account and region, its capacity and
/// refill rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    pub bucket: Cow<'static, str>,
    pub burst: f64,
    pub per_second: f64,
}

const fn q(bucket: &'static str, burst: f64, per_second: f64) -> Quota {
    Quota {
        bucket: Cow::Borrowed(bucket),
        burst,
        per_second,
    }
}

/// (the SDK's service name, operation) → its bucket.
const PUBLISHED: &[(&str, &str, Quota)] = &[
    (
        "ECS",
        "DescribeServices",
        q("ecs/DescribeServices", 100.0, 20.0),
    ),
    ("ECS", "ListServices", q("ecs/ListServices", 100.0, 20.0)),
    (
        "ECS",
        "DescribeTaskDefinition",
        q("ecs/DescribeTaskDefinition", 50.0, 20.0),
    ),
    (
        "ECS",
        "RegisterTaskDefinition",
        q("ecs/RegisterTaskDefinition", 20.0, 1.0),
    ),
    (
        "ECS",
        "DeregisterTaskDefinition",
        q("ecs/DeregisterTaskDefinition", 20.0, 1.0),
    ),
    (
        "ECS",
        "ListTagsForResource",
        q("ecs/ListTagsForResource", 50.0, 20.0),
    ),
    (
        "CloudWatch",
        "DescribeAlarms",
        q("cloudwatch/DescribeAlarms", 9.0, 9.0),
    ),
    (
        "CloudWatch",
        "GetDashboard",
        q("cloudwatch/GetDashboard", 10.0, 10.0),
    ),
    (
        "CloudWatch",
        "ListTagsForResource",
        q("cloudwatch/ListTagsForResource", 10.0, 10.0),
    ),
    (
        "CloudWatch",
        "PutMetricAlarm",
        q("cloudwatch/PutMetricAlarm", 3.0, 3.0),
    ),
    (
        "CloudWatch Logs",
        "ListTagsForResource",
        q("logs/ListTagsForResource", 5.0, 5.0),
    ),
    // The older name of the same read, counted alike.
    (
        "CloudWatch Logs",
        "ListTagsLogGroup",
        q("logs/ListTagsLogGroup", 5.0, 5.0),
    ),
    (
        "CloudWatch Logs",
        "PutRetentionPolicy",
        q("logs/PutRetentionPolicy", 5.0, 5.0),
    ),
    (
        "CloudWatch Logs",
        "DescribeLogGroups",
        q("logs/DescribeLogGroups", 10.0, 10.0),
    ),
];

/// The SDK's service name of Elastic Load Balancing v2, as its operations'
/// `Metadata` give it (with spaces, unlike ECS's or CloudWatchLogs'): under
/// another spelling no ELB call was paced, and a plan of 100 services
/// behind the load balancer met thousands of throttling answers.
pub const ELB: &str = "Elastic Load Balancing v2";
const ELB_ACCOUNT: Quota = q("elasticloadbalancing/*", 40.0, 10.0);
const ELB_DESCRIBE: (f64, f64) = (40.0, 10.0);

/// The buckets a request of `operation` of `service` (the names the SDK
/// gives them) takes a token from; empty when AWS publishes none.
pub fn buckets(service: &str, operation: &str) -> Vec<Quota> {
    let mut out: Vec<Quota> = PUBLISHED
        .iter()
        .filter(|(s, o, _)| *s == service && *o == operation)
        .map(|(_, _, quota)| quota.clone())
        .collect();
    if service == ELB {
        if operation.starts_with("Describe") {
            out.push(Quota {
                bucket: Cow::Owned(format!("elasticloadbalancing/{operation}")),
                burst: ELB_DESCRIBE.0,
                per_second: ELB_DESCRIBE.1,
            });
        }
        out.push(ELB_ACCOUNT);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_buckets_and_the_unpublished_left_open() {
        assert_eq!(
            buckets("ECS", "RegisterTaskDefinition"),
            vec![q("ecs/RegisterTaskDefinition", 20.0, 1.0)]
        );
        assert_eq!(buckets("CloudWatch", "PutMetricAlarm")[0].per_second, 3.0);
        assert!(buckets("ServiceDiscovery", "GetService").is_empty());
        assert!(buckets("ApplicationAutoScaling", "DescribeScalableTargets").is_empty());
        assert!(buckets("ECS", "CreateService").is_empty());
        let elb: Vec<_> = buckets(ELB, "DescribeTargetGroups")
            .iter()
            .map(|b| b.bucket.to_string())
            .collect();
        assert_eq!(
            elb,
            [
                "elasticloadbalancing/DescribeTargetGroups",
                "elasticloadbalancing/*"
            ]
        );
        assert_eq!(buckets(ELB, "CreateRule"), vec![ELB_ACCOUNT]);
    }

    /// The service and operation names the SDK stores in each request's
    /// `Metadata` (what the pacer looks quotas up by), captured from real
    /// client calls: every throttled service's calls find their buckets.
    #[tokio::test]
    async fn the_sdk_names_of_every_throttled_service_find_their_buckets() {
        use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
        use aws_smithy_runtime_api::client::interceptors::Intercept;
        use aws_smithy_runtime_api::client::orchestrator::Metadata;
        use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
        use aws_smithy_types::config_bag::ConfigBag;
        use std::sync::{Arc, Mutex};

        #[derive(Debug, Clone, Default)]
        struct Seen(Arc<Mutex<Vec<(String, String)>>>);
        impl Intercept for Seen {
            fn name(&self) -> &'static str {
                "seen"
            }
            fn read_before_transmit(
                &self,
                _: &BeforeTransmitInterceptorContextRef<'_>,
                _: &RuntimeComponents,
                cfg: &mut ConfigBag,
            ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
                if let Some(m) = cfg.load::<Metadata>() {
                    self.0
                        .lock()
                        .unwrap()
                        .push((m.service().to_string(), m.name().to_string()));
                }
                Ok(())
            }
        }
        let fake = crate::aws::fake_endpoint::FakeEndpoint::start(|_, _| {
            (400, serde_json::json!({"__type": "Nope", "message": "x"}))
        });
        let aws = fake.clients();
        let seen = Seen::default();
        let ecs = aws_sdk_ecs::Client::from_conf(
            aws.ecs
                .config()
                .to_builder()
                .interceptor(seen.clone())
                .build(),
        );
        let cw = aws_sdk_cloudwatch::Client::from_conf(
            aws.cloudwatch
                .config()
                .to_builder()
                .interceptor(seen.clone())
                .build(),
        );
        let logs = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws.logs
                .config()
                .to_builder()
                .interceptor(seen.clone())
                .build(),
        );
        let elb = aws_sdk_elasticloadbalancingv2::Client::from_conf(
            aws.elbv2
                .config()
                .to_builder()
                .interceptor(seen.clone())
                .build(),
        );
        let _ = ecs.register_task_definition().family("f").send().await;
        let _ = cw.describe_alarms().send().await;
        let _ = logs.describe_log_groups().send().await;
        let _ = elb.describe_tags().resource_arns("a").send().await;
        let seen = seen.0.lock().unwrap().clone();
        assert_eq!(seen.len(), 4, "{seen:?}");
        for (service, operation) in &seen {
            assert!(
                !buckets(service, operation).is_empty(),
                "{service} {operation}: no bucket"
            );
        }
    }
}
