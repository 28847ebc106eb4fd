//! Amazon ECS: clusters, task definitions, services.
pub mod cluster;
pub mod cluster_leftovers;
pub mod deployment_configuration;
pub mod deployment_watch;
pub mod service;
#[cfg(test)]
mod service_calls;
pub mod service_deployment;
pub mod services_gathered;
pub mod task_definition;
