//! `matbakh_canary`: a candidate version beside the stable one, walked up
//! step by step and rolled back on its own.

pub mod app_mesh_walk;
pub mod config;
pub mod ecs_native;
pub mod ecs_strategy;
pub mod expand;
pub mod min_requests_warning;
pub mod release;
pub mod report;
pub mod resource;
pub mod schema;
pub mod silence;
pub mod stable;
pub mod status;
pub mod walk;
pub mod where_it_stands;

pub use resource::CanaryResource;
