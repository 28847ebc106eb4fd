//! AWS App Mesh: meshes, virtual nodes, routers, routes, virtual services.
pub mod common;
pub mod mesh;
pub mod object;
pub mod route;
pub mod route_read_back;
pub mod virtual_node;
pub mod virtual_router;
pub mod virtual_service;
