//! Application Auto Scaling objects of a microservice (ECS desired count).

/// The ECS service as a scalable target. Its resource id
/// (`service/CLUSTER/NAME`) names the ECS service, which this resource owns,
/// so no owner tag is needed to adopt it (targets registered before they
/// carried tags are still this resource's); it carries the resource's tags
/// all the same, like every other object.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScalableTargetSpec {
    /// `service/CLUSTER/NAME`.
    pub resource_id: String,
    pub min_capacity: i32,
    pub max_capacity: i32,
    pub tags: super::tags::Tags,
}

/// A target-tracking policy on a predefined ECS metric.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScalingPolicySpec {
    pub resource_id: String,
    pub name: String,
    /// `ECSServiceAverageCPUUtilization` or `ECSServiceAverageMemoryUtilization`.
    pub metric: String,
    pub target_value: f64,
    pub scale_in_cooldown_seconds: i32,
    pub scale_out_cooldown_seconds: i32,
}
