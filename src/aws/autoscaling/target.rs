//! Application Auto Scaling: the ECS service's desired count as a scalable
//! target. Its id is the resource id (`service/CLUSTER/NAME`).

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ScalableTarget, ServiceNamespace};

use crate::aws::compare::gone_is_ok;
use crate::aws::{Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::autoscaling::ScalableTargetSpec;

impl ScalableTargetSpec {
    async fn describe(
        &self,
        aws: &Clients,
        resource_id: &str,
    ) -> Result<Option<ScalableTarget>, AwsError> {
        let key = format!("application-autoscaling:DescribeScalableTargets {resource_id}");
        aws.remembered(key, || async {
            let out = aws
                .autoscaling
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_ids(resource_id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .send()
                .await
                .map_err(|e| AwsError::sdk("application-autoscaling:DescribeScalableTargets", e))?;
            Ok(out
                .scalable_targets()
                .iter()
                .find(|t| t.resource_id == resource_id)
                .cloned())
        })
        .await
    }
}

impl ScalableTargetSpec {
    /// Read back the scalable target of this resource id (its id).
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<ScalableTargetSpec>>, AwsError> {
        Ok(self.describe(aws, &self.resource_id).await?.map(|t| {
            let spec = ScalableTargetSpec {
                resource_id: t.resource_id.clone(),
                min_capacity: t.min_capacity,
                max_capacity: t.max_capacity,
            };
            Found::new(spec, t.resource_id)
        }))
    }
}

#[async_trait]
impl Adapter for ScalableTargetSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(target) = self.describe(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if id != self.resource_id {
            diffs.push(format!(
                "scalable target is {id}, want {}",
                self.resource_id
            ));
        }
        if (target.min_capacity, target.max_capacity) != (self.min_capacity, self.max_capacity) {
            diffs.push(format!(
                "task count range is {}-{}, want {}-{}",
                target.min_capacity, target.max_capacity, self.min_capacity, self.max_capacity
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    /// RegisterScalableTarget creates or updates: adopting is the same call.
    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
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

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if id != self.resource_id {
            self.delete(aws, id).await?;
        }
        self.create(aws, resolved).await
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.autoscaling
                .deregister_scalable_target()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("application-autoscaling:DeregisterScalableTarget", e)),
        )
    }
}
