//! Application Auto Scaling: a target-tracking policy. Its id is the
//! policy ARN; deletes go by name and resource id, from the spec.

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalingPolicy,
    ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};

use crate::aws::compare::gone_is_ok;
use crate::aws::{Adapter, AwsError, Clients, Found};
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
        Ok(out
            .scaling_policies()
            .iter()
            .find(|p| p.policy_name == self.name)
            .cloned())
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
        Ok(self.describe(aws).await?.map(|p| {
            let config = p.target_tracking_scaling_policy_configuration();
            let spec = ScalingPolicySpec {
                resource_id: p.resource_id.clone(),
                name: p.policy_name.clone(),
                metric: config
                    .and_then(|c| c.predefined_metric_specification())
                    .map(|m| m.predefined_metric_type().as_str().to_string())
                    .unwrap_or_default(),
                target_value: config.map(|c| c.target_value()).unwrap_or(0.0),
                scale_in_cooldown_seconds: config.and_then(|c| c.scale_in_cooldown()).unwrap_or(0),
                scale_out_cooldown_seconds: config
                    .and_then(|c| c.scale_out_cooldown())
                    .unwrap_or(0),
            };
            Found::new(spec, p.policy_arn)
        }))
    }
}

#[async_trait]
impl Adapter for ScalingPolicySpec {
    async fn observe(&self, aws: &Clients, _: &str, _: &Resolved) -> Result<Observation, AwsError> {
        let Some(policy) = self.describe(aws).await? else {
            return Ok(Observation::Missing);
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
        Ok(Observation::with_differences(diffs))
    }

    /// PutScalingPolicy creates or replaces by name: adopting is the same call.
    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "application-autoscaling:PutScalingPolicy";
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from(self.metric.as_str()))
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
