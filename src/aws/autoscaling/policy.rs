//! Target-tracking scaling policies (CPU, memory). The recorded id is the
//! policy's ARN; policies are found and deleted by name.

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalingPolicy,
    ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};

use crate::aws::{Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::autoscaling::ScalingPolicySpec;

impl ScalingPolicySpec {
    async fn describe(&self, aws: &Clients) -> Result<Option<ScalingPolicy>, AwsError> {
        let out = aws
            .autoscaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_names(&self.name)
            .send()
            .await
            .map_err(|e| AwsError::sdk("application-autoscaling:DescribeScalingPolicies", e))?;
        Ok(out.scaling_policies().iter().find(|p| p.policy_name() == self.name).cloned())
    }

    async fn put(&self, aws: &Clients) -> Result<String, AwsError> {
        let call = "application-autoscaling:PutScalingPolicy";
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from(self.metric.as_str()))
            .build()
            .map_err(|e| AwsError::build(call, e))?;
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(self.target_value)
            .predefined_metric_specification(metric)
            .scale_in_cooldown(self.scale_in_cooldown_seconds)
            .scale_out_cooldown(self.scale_out_cooldown_seconds)
            .build()
            .map_err(|e| AwsError::build(call, e))?;
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
            .map_err(|e| AwsError::sdk(call, e))?;
        Ok(out.policy_arn().to_string())
    }
}

#[async_trait]
impl Adapter for ScalingPolicySpec {
    async fn observe(&self, aws: &Clients, _id: &str, _: &Resolved) -> Result<Observation, AwsError> {
        let Some(p) = self.describe(aws).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        match p.target_tracking_scaling_policy_configuration() {
            None => diffs.push("not a target-tracking policy".to_string()),
            Some(c) => {
                if c.target_value() != self.target_value {
                    diffs.push(format!("target is {}, want {}", c.target_value(), self.target_value));
                }
                let metric = c
                    .predefined_metric_specification()
                    .map(|m| m.predefined_metric_type().as_str())
                    .unwrap_or_default();
                if metric != self.metric {
                    diffs.push(format!("metric is {metric}, want {}", self.metric));
                }
                if c.scale_in_cooldown() != Some(self.scale_in_cooldown_seconds)
                    || c.scale_out_cooldown() != Some(self.scale_out_cooldown_seconds)
                {
                    diffs.push(format!(
                        "cooldowns are {:?}/{:?}, want {}/{}",
                        c.scale_in_cooldown(),
                        c.scale_out_cooldown(),
                        self.scale_in_cooldown_seconds,
                        self.scale_out_cooldown_seconds
                    ));
                }
            }
        }
        Ok(Observation::with_differences(diffs))
    }

    /// PutScalingPolicy is an upsert on (resource, name); the resource is
    /// the service this resource owns, so an existing policy is adopted.
    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        self.put(aws).await
    }

    async fn update(&self, aws: &Clients, _id: &str, _: &Resolved) -> Result<String, AwsError> {
        self.put(aws).await
    }

    async fn delete(&self, aws: &Clients, _id: &str) -> Result<(), AwsError> {
        match aws
            .autoscaling
            .delete_scaling_policy()
            .policy_name(&self.name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = AwsError::sdk("application-autoscaling:DeleteScalingPolicy", e);
                if err.is_not_found() {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}
