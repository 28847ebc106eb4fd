//! Amazon ECS: clusters, task definitions, services.
pub mod cluster;
pub mod deployment_watch;
pub mod service;
pub mod task_definition;
