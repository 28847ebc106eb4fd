//! terraform-provider-matbakh: a whole AWS microservice in one Terraform block.

// The resources' futures nest deeply (driver, engine, adapters, SDK); the
// layout of a few of them takes the compiler (under clippy) past the default
// query depth of 128.
#![recursion_limit = "256"]

pub mod aws;
pub mod budget_guard;
pub mod cost;
pub mod engine;
pub mod environment;
pub mod fargate;
pub mod provider;
pub mod resources;
pub mod service_mesh;
pub mod spec;
pub mod stable_hash;
pub mod tf;
pub mod validation;
