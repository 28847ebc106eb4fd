//! AWS Cloud Map objects of a microservice.

use super::Tags;

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
