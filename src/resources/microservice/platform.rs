//! The platform a microservice joins, as its expansion sees it.

use crate::environment::Environment;
use crate::service_mesh::ServiceMesh;
use crate::spec::Tags;

/// What the expansion needs to know about the platform the service joins.
/// Filled from the platform's state/AWS at apply time.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformContext {
    /// The platform's resource id (the `platform` argument).
    pub platform_id: String,
    /// The backend: the provider's `service_mesh`.
    pub service_mesh: ServiceMesh,
    pub cluster_name: String,
    /// App Mesh: the mesh's name (the platform's).
    pub mesh_name: String,
    /// The Cloud Map namespace's name, e.g. `svc.local`.
    pub namespace_name: String,
    /// Its Cloud Map id, `ns-...`.
    pub namespace_id: String,
    /// Its ARN: Service Connect refers to the namespace by ARN only.
    pub namespace_arn: String,
    pub environment: Environment,
    pub region: String,
    /// The provider's `default_tags`.
    pub tags: Tags,
    /// The platform's load balancer, looked up only for a service with an
    /// `ingress` block (`None` otherwise, and on a platform without one).
    pub ingress: Option<PlatformIngress>,
}

/// The platform's `ingress` objects a microservice's rules and security
/// group refer to (issue 21): another resource's, so by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlatformIngress {
    /// The listener production traffic reaches (HTTPS 443, or HTTP 80 on
    /// an internal load balancer without a certificate).
    pub listener_arn: String,
    /// The listener on `test_port`.
    pub test_listener_arn: String,
    /// The load balancer's security group: what the service's group admits.
    pub security_group_id: String,
    pub dns_name: String,
    /// Whether the production listener is HTTPS.
    pub https: bool,
}
