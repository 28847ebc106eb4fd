//! AWS App Mesh objects of a microservice. Durations are in milliseconds.

use std::collections::BTreeMap;

use super::tags::Tags;

/// A virtual node: the mesh's view of one slot's tasks.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VirtualNodeSpec {
    pub mesh: String,
    pub name: String,
    /// The listener's port (the app's port); protocol is HTTP.
    pub port: i32,
    pub health_check: MeshHealthCheckSpec,
    pub outlier_detection: OutlierDetectionSpec,
    pub connection_pool: HttpConnectionPoolSpec,
    pub timeout: HttpTimeoutSpec,
    /// Client-side TLS towards every backend, validated with these CAs.
    pub tls: Option<TlsSpec>,
    /// Virtual service names this node may call (`NAME.NAMESPACE`).
    pub backends: Vec<String>,
    pub discovery: CloudMapDiscoverySpec,
    /// Envoy access log path (`/dev/stdout`).
    pub access_log_path: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MeshHealthCheckSpec {
    pub path: String,
    pub interval_ms: i64,
    pub timeout_ms: i64,
    pub unhealthy_threshold: i32,
    pub healthy_threshold: i32,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OutlierDetectionSpec {
    pub max_server_errors: i64,
    pub interval_ms: i64,
    pub base_ejection_ms: i64,
    pub max_ejection_percent: i32,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HttpConnectionPoolSpec {
    pub max_connections: i32,
    pub max_pending_requests: i32,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HttpTimeoutSpec {
    pub per_request_ms: i64,
    pub idle_ms: i64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TlsSpec {
    /// ACM Private CA ARNs trusted to sign the backends' certificates.
    pub certificate_authority_arns: Vec<String>,
}

/// Cloud Map discovery, filtered to the instances with these attributes
/// (ECS registers `ECS_SERVICE_NAME` for every task of a service).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CloudMapDiscoverySpec {
    pub namespace_name: String,
    pub service_name: String,
    pub attributes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VirtualRouterSpec {
    pub mesh: String,
    pub name: String,
    /// The router's listener port (HTTP).
    pub port: i32,
    pub tags: Tags,
}

/// An HTTP route matching every path, spreading traffic over virtual nodes.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RouteSpec {
    pub mesh: String,
    pub router: String,
    pub name: String,
    pub prefix: String,
    /// Node name and weight: the stable node at 100.
    pub targets: Vec<WeightedTargetSpec>,
    /// The node a `matbakh_canary` may add beside the stable one. While the
    /// route has a target on it, the canary owns the weights: observing
    /// ignores them and updates keep them, so the two resources never fight.
    pub shared_with: Option<String>,
    pub retry: RetryPolicySpec,
    pub timeout: HttpTimeoutSpec,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WeightedTargetSpec {
    pub virtual_node: String,
    pub weight: i32,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RetryPolicySpec {
    pub max_retries: i64,
    pub per_try_timeout_ms: i64,
    /// Sorted: server-error, gateway-error, client-error, stream-error.
    pub http_events: Vec<String>,
    /// Sorted: connection-error.
    pub tcp_events: Vec<String>,
}

/// A virtual service provided by a virtual router.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VirtualServiceSpec {
    pub mesh: String,
    pub name: String,
    pub router: String,
    pub tags: Tags,
}
