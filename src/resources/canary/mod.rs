//! `matbakh_canary`: a candidate version beside the stable one, walked up
//! step by step and rolled back on its own.

pub mod config;
pub mod driver;
pub mod ecs_native;
pub mod ecs_strategy;
pub mod expand;
pub mod min_requests_warning;
pub mod resource;
pub mod schema;
pub mod silence;
pub mod walk;

pub use resource::CanaryResource;
