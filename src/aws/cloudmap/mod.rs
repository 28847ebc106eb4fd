//! AWS Cloud Map: namespaces (HTTP and private DNS), the discovery services
//! App Mesh needs, and the ones ECS Service Connect creates itself.
pub mod namespace;
pub mod service;
pub mod service_connect_discovery;
