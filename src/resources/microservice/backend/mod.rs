//! The backends: how the services of a platform find and call each other
//! (the contract's "Backends"). One module per kind; the one
//! [`super::expand::expand`] asks [`of`] for the platform's backend and
//! nothing else knows which one it is.
//!
//! A backend turns the resolved settings into the graph's networking
//! components and its contributions to the task definition and ECS service,
//! says which arguments it refuses, and says which metrics the alarms and
//! the dashboard read (each backend publishes different ones).

pub mod app_mesh;
mod contract;
mod metrics;
pub mod service_connect;
#[cfg(test)]
mod tests;

pub use contract::{MeshBackend, NetworkingComponents, ServiceMetrics, SlotNetworking};

use crate::service_mesh::ServiceMesh;

/// The backend of `mesh`.
pub fn of(mesh: ServiceMesh) -> &'static dyn MeshBackend {
    match mesh {
        ServiceMesh::ServiceConnect => &service_connect::ServiceConnect,
        ServiceMesh::AppMesh => &app_mesh::AppMesh,
    }
}
