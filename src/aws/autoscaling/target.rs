//! The ECS service's desired count as an Application Auto Scaling target.
//! The recorded id is the resource id, `service/CLUSTER/NAME`.

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ScalableTarget, ServiceNamespace};

use crate::aws::{Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::autoscaling::ScalableTargetSpec;

impl ScalableTargetSpec {
    async fn describe(&self, aws: &Clients) -> Result<Option<ScalableTarget>, AwsError> {
        let out = aws
            .autoscaling
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_ids(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
            .map_err(|e| AwsError::sdk("application-autoscaling:DescribeScalableTargets", e))?;
        Ok(out.scalable_targets().first().cloned())
    }

    async fn register(&self, aws: &Clients) -> Result<String, AwsError> {
        aws.autoscaling
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(self.min_capacity)
            .max_capacity(self.max_capacity)
            .send()
            .await
            .map_err(|e| AwsError::sdk("application-autoscaling:RegisterScalableTarget", e))?;
        Ok(self.resource_id.clone())
    }
}

#[async_trait]
impl Adapter for ScalableTargetSpec {
    async fn observe(&self, aws: &Clients, _id: &str, _: &Resolved) -> Result<Observation, AwsError> {
        let Some(t) = self.describe(aws).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if (t.min_capacity(), t.max_capacity()) != (self.min_capacity, self.max_capacity) {
            diffs.push(format!(
                "capacity is {}-{}, want {}-{}",
                t.min_capacity(),
                t.max_capacity(),
                self.min_capacity,
                self.max_capacity
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    /// Registering is an upsert, and the resource id names the ECS service
    /// this resource owns, so an existing target is simply adopted.
    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        self.register(aws).await
    }

    async fn update(&self, aws: &Clients, _id: &str, _: &Resolved) -> Result<String, AwsError> {
        self.register(aws).await
    }

    async fn delete(&self, aws: &Clients, _id: &str) -> Result<(), AwsError> {
        match aws
            .autoscaling
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = AwsError::sdk("application-autoscaling:DeregisterScalableTarget", e);
                if err.is_not_found() {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}
