//! AWS Cloud Map objects of a microservice.

use super::reference::Ref;
use super::tags::Tags;

/// A discovery service in the platform's private DNS namespace: the DNS
/// name the service's tasks answer under, with a custom health check ECS
/// keeps up to date.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DiscoveryServiceSpec {
    pub name: String,
    pub namespace_id: String,
    /// `A` records with this TTL, routing policy MULTIVALUE.
    pub dns_ttl_seconds: i64,
    /// Always 1: AWS no longer lets it be configured.
    pub health_check_failure_threshold: i32,
    pub tags: Tags,
}

/// The Cloud Map service ECS Service Connect creates, in the platform's
/// HTTP namespace, for a service's discovery name. ECS owns it: the
/// provider records it once the ECS service exists, reports it missing when
/// it is gone, never creates a second one, and on delete waits for ECS to
/// remove it (ECS does so when the ECS service is deleted).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ServiceConnectDiscoverySpec {
    /// The discovery name (`NAME`).
    pub name: String,
    /// The namespace's `ns-` id.
    pub namespace_id: String,
    /// The ECS service component whose Service Connect configuration
    /// makes ECS create it.
    pub service: Ref,
}
