//! Application Auto Scaling: scalable targets and target-tracking policies.
pub mod policy;
pub mod target;
