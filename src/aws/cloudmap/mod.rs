//! AWS Cloud Map: private DNS namespaces and discovery services.
pub mod namespace;
pub mod service;
