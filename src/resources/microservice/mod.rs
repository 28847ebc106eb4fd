//! `matbakh_microservice`: one block, the whole graph of one service.

pub mod backend;
pub mod config;
pub mod deployment;
pub mod expand;
pub mod ingress;
pub mod names;
pub mod platform_context;
pub mod read_back;
pub mod recover;
pub mod resource;
pub mod schema;
pub mod task_size;
#[cfg(test)]
pub mod test_fixtures;
pub mod validate;

pub use read_back::{read_existing, read_leftovers, Existing, Leftovers};
pub use resource::MicroserviceResource;
