//! Application Auto Scaling: a target-tracking policy. Its id is the
//! policy ARN; deletes go by name and resource id, from the spec.
//!
//! An `ALBRequestCountPerTarget` policy's resource label names the target
//! group that serves production traffic, which ECS changes in a release:
//! whenever the adapter writes or compares the label it reads which group
//! is live (the production rule's weights, the ECS service's load
//! balancer) and decides with [`live_target_group`], so the label follows
//! the release and is never pulled back.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalingPolicy,
    ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};

use crate::aws::compare::gone_is_ok;
use crate::aws::{Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved, FOLLOWS_AWS};
use crate::spec::autoscaling::{
    live_target_group, resource_label, RequestCountLabel, ScalingPolicySpec,
};

/// The resource labels `label` stands for now: the live target group's
/// and the other group's. `None` while a target group or the rule is not
/// recorded (an apply creates them before the policy, which depends on
/// them).
async fn live_label(
    aws: &Clients,
    spec: &ScalingPolicySpec,
    label: &RequestCountLabel,
    resolved: &Resolved,
) -> Result<Option<(String, String)>, AwsError> {
    let id = |r: &crate::spec::Ref| resolved.get(&r.0).map(String::as_str);
    let [blue, green] = &label.target_groups;
    let (Some(blue), Some(green), Some(rule)) = (id(blue), id(green), id(&label.production_rule))
    else {
        return Ok(None);
    };
    let groups = [blue, green];
    let weights = crate::aws::elbv2::rule::weights(aws, rule).await?;
    // `service/CLUSTER/NAME`.
    let cluster = spec.resource_id.split('/').nth(1).unwrap_or_default();
    let service = match resolved.get(&label.service.0) {
        Some(arn) => {
            crate::aws::ecs::services_gathered::gathered_service(aws, cluster, arn).await?
        }
        None => None,
    };
    let named = service
        .as_ref()
        .and_then(|s| s.load_balancers().first())
        .and_then(|l| l.target_group_arn());
    let live = live_target_group(groups, &weights, named);
    let other = if live == blue { green } else { blue };
    Ok(Some((
        resource_label(&label.load_balancer, live),
        resource_label(&label.load_balancer, other),
    )))
}

/// What a policy's resource label should be now.
enum WantedLabel {
    /// The metric takes none.
    None,
    /// This one (the live group's); the other group's label is the one a
    /// release left behind.
    Is { live: String, other: String },
    /// Not known: what it names is not recorded yet.
    Unknown,
}

impl ScalingPolicySpec {
    /// The resource label to write and compare.
    async fn wanted_label(
        &self,
        aws: &Clients,
        resolved: &Resolved,
    ) -> Result<WantedLabel, AwsError> {
        Ok(match &self.resource_label {
            Some(label) => match live_label(aws, self, label, resolved).await? {
                Some((live, other)) => WantedLabel::Is { live, other },
                None => WantedLabel::Unknown,
            },
            None => WantedLabel::None,
        })
    }
}

impl ScalingPolicySpec {
    /// This policy, from the read of every policy on its target (shared
    /// with the other policies of the target read at the same time).
    async fn describe(&self, aws: &Clients) -> Result<Option<ScalingPolicy>, AwsError> {
        Ok(describe_target(aws, &self.resource_id)
            .await?
            .into_iter()
            .find(|p| p.policy_name == self.name))
    }
}

impl ScalingPolicySpec {
    /// Read back the policy of this name on this resource. Its id is the
    /// policy ARN. A policy that is not target tracking reads with an empty
    /// metric and target 0.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<ScalingPolicySpec>>, AwsError> {
        Ok(self.describe(aws).await?.map(found))
    }

    /// Read back many policies: one DescribeScalingPolicies per scalable
    /// target for all of its policies, the targets at once. One answer per
    /// spec, in order.
    pub async fn read_back_many(
        aws: &Clients,
        specs: &[&ScalingPolicySpec],
    ) -> Result<Vec<Option<Found<ScalingPolicySpec>>>, AwsError> {
        let targets: BTreeSet<&str> = specs.iter().map(|s| s.resource_id.as_str()).collect();
        let described = futures::future::try_join_all(
            targets
                .into_iter()
                .map(|resource_id| describe_target(aws, resource_id)),
        )
        .await?;
        let mut all: BTreeMap<(String, String), ScalingPolicy> = described
            .into_iter()
            .flatten()
            .map(|p| ((p.resource_id.clone(), p.policy_name.clone()), p))
            .collect();
        Ok(specs
            .iter()
            .map(|spec| {
                all.remove(&(spec.resource_id.clone(), spec.name.clone()))
                    .map(found)
            })
            .collect())
    }
}

/// A policy as AWS reports it, in the spec's terms; its id is its ARN. A
/// policy that is not target tracking reads with an empty metric and
/// target 0.
fn found(p: ScalingPolicy) -> Found<ScalingPolicySpec> {
    {
        {
            let config = p.target_tracking_scaling_policy_configuration();
            let spec = ScalingPolicySpec {
                resource_id: p.resource_id.clone(),
                name: p.policy_name.clone(),
                metric: config
                    .and_then(|c| c.predefined_metric_specification())
                    .map(|m| m.predefined_metric_type().as_str().to_string())
                    .unwrap_or_default(),
                // Which group it names is ECS's to move: not an argument.
                resource_label: None,
                target_value: config.map(|c| c.target_value()).unwrap_or(0.0),
                scale_in_cooldown_seconds: config.and_then(|c| c.scale_in_cooldown()).unwrap_or(0),
                scale_out_cooldown_seconds: config
                    .and_then(|c| c.scale_out_cooldown())
                    .unwrap_or(0),
            };
            Found::new(spec, p.policy_arn)
        }
    }
}

impl ScalingPolicySpec {
    /// How the policy AWS described (`None`: it does not exist) differs
    /// from this spec, whose resource label is `label` now.
    fn observed(&self, policy: Option<&ScalingPolicy>, label: &WantedLabel) -> Observation {
        let Some(policy) = policy else {
            return Observation::Missing;
        };
        let mut diffs = Vec::new();
        match policy.target_tracking_scaling_policy_configuration() {
            None => diffs.push("not a target-tracking policy".to_string()),
            Some(c) => {
                let metric = c
                    .predefined_metric_specification()
                    .map(|m| m.predefined_metric_type().as_str().to_string())
                    .unwrap_or_default();
                if metric != self.metric {
                    diffs.push(format!("metric is {metric:?}, want {}", self.metric));
                }
                let found = c
                    .predefined_metric_specification()
                    .and_then(|m| m.resource_label());
                let (label, left_behind) = match label {
                    WantedLabel::None => (None, None),
                    WantedLabel::Is { live, other } => (Some(live.as_str()), Some(other.as_str())),
                    // Nothing to compare with until its objects exist.
                    WantedLabel::Unknown => (found, None),
                };
                if found != label {
                    // A release made the other target group the live one:
                    // follow it. Any other label is someone's change.
                    let follows = if found.is_some() && found == left_behind {
                        FOLLOWS_AWS
                    } else {
                        ""
                    };
                    diffs.push(
                        format!("{follows} resource label is {found:?}, want {label:?}")
                            .trim_start()
                            .to_string(),
                    );
                }
                if c.target_value() != self.target_value {
                    diffs.push(format!(
                        "target is {}, want {}",
                        c.target_value(),
                        self.target_value
                    ));
                }
                if c.scale_in_cooldown().unwrap_or(0) != self.scale_in_cooldown_seconds {
                    diffs.push(format!(
                        "scale-in cooldown is {:?}, want {}",
                        c.scale_in_cooldown(),
                        self.scale_in_cooldown_seconds
                    ));
                }
                if c.scale_out_cooldown().unwrap_or(0) != self.scale_out_cooldown_seconds {
                    diffs.push(format!(
                        "scale-out cooldown is {:?}, want {}",
                        c.scale_out_cooldown(),
                        self.scale_out_cooldown_seconds
                    ));
                }
            }
        }
        Observation::with_differences(diffs)
    }

    /// Read back many policies (`(spec, recorded id)`): one
    /// DescribeScalingPolicies per scalable target for all of its policies
    /// instead of one per policy, the targets all at once.
    pub async fn observe_many(
        aws: &Clients,
        items: &[(&ScalingPolicySpec, &str)],
        resolved: &Resolved,
    ) -> Vec<Result<Observation, AwsError>> {
        let targets: BTreeSet<&str> = items.iter().map(|(s, _)| s.resource_id.as_str()).collect();
        let described = futures::future::join_all(
            targets
                .into_iter()
                .map(|resource_id| describe_target(aws, resource_id)),
        )
        .await;
        let mut found: BTreeMap<(String, String), ScalingPolicy> = BTreeMap::new();
        for result in described {
            match result {
                Ok(policies) => found.extend(
                    policies
                        .into_iter()
                        .map(|p| ((p.resource_id.clone(), p.policy_name.clone()), p)),
                ),
                Err(e) => return items.iter().map(|_| Err(e.clone())).collect(),
            }
        }
        let labels = futures::future::join_all(
            items
                .iter()
                .map(|(spec, _)| spec.wanted_label(aws, resolved)),
        )
        .await;
        items
            .iter()
            .zip(labels)
            .map(|((spec, _), label)| {
                Ok(spec.observed(
                    found.get(&(spec.resource_id.clone(), spec.name.clone())),
                    &label?,
                ))
            })
            .collect()
    }
}

/// DescribeScalingPolicies returns at most 50 policies a page.
const DESCRIBE_POLICIES_MAX: i32 = 50;

/// Every policy on one ECS service's scalable target (the caller picks
/// its names out). Asked without `PolicyNames` and remembered by target:
/// a refresh's recovery looks for every policy a microservice could have
/// and its observation for the recorded ones, and both are one request.
async fn describe_target(aws: &Clients, resource_id: &str) -> Result<Vec<ScalingPolicy>, AwsError> {
    let key = format!("application-autoscaling:DescribeScalingPolicies {resource_id}");
    aws.remembered(key, || describe_target_now(aws, resource_id))
        .await
}

async fn describe_target_now(
    aws: &Clients,
    resource_id: &str,
) -> Result<Vec<ScalingPolicy>, AwsError> {
    let mut found = Vec::new();
    let mut next_token = None;
    loop {
        let out = aws
            .autoscaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .max_results(DESCRIBE_POLICIES_MAX)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| AwsError::sdk("application-autoscaling:DescribeScalingPolicies", e))?;
        found.extend(out.scaling_policies().iter().cloned());
        next_token = out.next_token().map(str::to_string);
        if next_token.is_none() {
            break;
        }
    }
    Ok(found)
}

#[async_trait]
impl Adapter for ScalingPolicySpec {
    async fn observe(
        &self,
        aws: &Clients,
        _: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let label = self.wanted_label(aws, resolved).await?;
        Ok(self.observed(self.describe(aws).await?.as_ref(), &label))
    }

    /// PutScalingPolicy creates or replaces by name: adopting is the same
    /// call; it re-points a request-count policy at the live target group.
    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "application-autoscaling:PutScalingPolicy";
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from(self.metric.as_str()))
            .set_resource_label(match self.wanted_label(aws, resolved).await? {
                WantedLabel::None => None,
                WantedLabel::Is { live, .. } => Some(live),
                WantedLabel::Unknown => {
                    return Err(AwsError::new(
                        CALL,
                        "the resource label names the service's target groups and production rule, which are not recorded yet",
                    ))
                }
            })
            .build()
            .map_err(|e| AwsError::build(CALL, e))?;
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(self.target_value)
            .predefined_metric_specification(metric)
            .scale_in_cooldown(self.scale_in_cooldown_seconds)
            .scale_out_cooldown(self.scale_out_cooldown_seconds)
            .build()
            .map_err(|e| AwsError::build(CALL, e))?;
        let out = aws
            .autoscaling
            .put_scaling_policy()
            .policy_name(&self.name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config)
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        Ok(out.policy_arn().to_string())
    }

    async fn update(
        &self,
        aws: &Clients,
        _: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        self.create(aws, resolved).await
    }

    async fn delete(&self, aws: &Clients, _: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.autoscaling
                .delete_scaling_policy()
                .policy_name(&self.name)
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(&self.resource_id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("application-autoscaling:DeleteScalingPolicy", e)),
        )
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;
    use crate::spec::Ref;

    const LIVE: &str = "app/matbakh/1/targetgroup/matbakh-a-g/22";
    const OTHER: &str = "app/matbakh/1/targetgroup/matbakh-a-b/11";

    fn spec() -> ScalingPolicySpec {
        ScalingPolicySpec {
            resource_id: "service/matbakh/a".into(),
            name: "a-requests-target-tracking".into(),
            metric: "ALBRequestCountPerTarget".into(),
            resource_label: Some(RequestCountLabel {
                load_balancer: "app/matbakh/1".into(),
                target_groups: [Ref::to("b"), Ref::to("g")],
                production_rule: Ref::to("rule"),
                service: Ref::to("service"),
            }),
            target_value: 100.0,
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
        }
    }

    fn policy(label: &str) -> ScalingPolicy {
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::AlbRequestCountPerTarget)
            .resource_label(label)
            .build()
            .unwrap();
        ScalingPolicy::builder()
            .policy_arn("arn")
            .policy_name("a-requests-target-tracking")
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/matbakh/a")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .target_tracking_scaling_policy_configuration(
                TargetTrackingScalingPolicyConfiguration::builder()
                    .target_value(100.0)
                    .predefined_metric_specification(metric)
                    .scale_in_cooldown(300)
                    .scale_out_cooldown(60)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn wanted() -> WantedLabel {
        WantedLabel::Is {
            live: LIVE.into(),
            other: OTHER.into(),
        }
    }

    fn differences(o: Observation) -> Vec<String> {
        match o {
            Observation::Present { differences } => differences,
            Observation::Missing => panic!("missing"),
        }
    }

    #[test]
    fn the_label_a_release_left_behind_is_followed_not_drift() {
        assert!(differences(spec().observed(Some(&policy(LIVE)), &wanted())).is_empty());
        let d = differences(spec().observed(Some(&policy(OTHER)), &wanted()));
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with(FOLLOWS_AWS), "{d:?}");
        // Any other label is someone's change: plain drift.
        let d = differences(
            spec().observed(Some(&policy("app/matbakh/1/targetgroup/x/33")), &wanted()),
        );
        assert!(!d[0].starts_with(FOLLOWS_AWS), "{d:?}");
        // Unknown until its objects exist: not compared.
        assert!(
            differences(spec().observed(Some(&policy(OTHER)), &WantedLabel::Unknown)).is_empty()
        );
    }
}
