//! terraform-provider-matbakh: a whole AWS microservice in one Terraform block.

pub mod aws;
pub mod budget_guard;
pub mod cost;
pub mod engine;
pub mod environment;
pub mod provider;
pub mod resources;
pub mod service_mesh;
pub mod spec;
pub mod tf;
pub mod validation;
