//! The containers of a microservice's task and the users they run as.

pub const APP_CONTAINER: &str = "app";
pub const ENVOY_CONTAINER: &str = "envoy";
pub const ADOT_CONTAINER: &str = "aws-otel-collector";
/// The uid the application runs as: not root, and not Envoy's 1337 (whose
/// traffic the proxy lets through unrouted).
pub const APP_USER: &str = "1000";
/// The uid Envoy runs as, which the proxy's iptables rules exempt.
pub const ENVOY_UID: i64 = 1337;
