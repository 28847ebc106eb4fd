//! The provider's resources: schema, plan and CRUD glue around expansions.
pub mod canary;
pub mod context;
pub mod data_sources;
pub mod driver;
pub mod lifecycle;
pub mod microservice;
pub mod ownership;
pub mod platform;
pub mod tags;
