//! The provider's resources: schema, plan and CRUD glue around expansions.
pub mod canary;
pub mod lifecycle;
pub mod microservice;
pub mod ownership;
pub mod platform;
