//! `matbakh_microservice`: one block, the whole graph of one service.

pub mod alarm_timing;
pub mod backend;
pub mod budget_check;
pub mod config;
pub mod containers;
pub mod deployment;
pub mod expand;
pub mod ingress;
pub mod ingress_alarms;
pub mod ingress_components;
pub mod keys;
pub mod names;
pub mod planned_rules;
pub mod platform;
pub mod platform_context;
pub mod platform_ingress;
pub mod read_back;
pub mod recover;
pub mod release_alarms;
pub mod resource;
pub mod roles;
pub mod rollback_warning;
pub mod schema;
pub mod slot;
#[cfg(test)]
pub mod test_fixtures;
pub mod validate;
pub mod validate_roles;

/// Fargate sizes, where they were found before they moved below the cost
/// model.
pub use crate::fargate as task_size;
pub use read_back::{read_existing, read_leftovers, Existing, Leftovers};
pub use resource::MicroserviceResource;
