//! The provider's `service_mesh`: how the services of a platform find and
//! call each other (the contract's "Backends"). Chosen per provider
//! configuration, so it is known at plan time.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMesh {
    /// ECS Service Connect in a Cloud Map HTTP namespace: what works on AWS.
    #[default]
    ServiceConnect,
    /// App Mesh with Envoy sidecars and a private DNS namespace. AWS
    /// discontinued App Mesh on 2026-09-30; kept for that design.
    AppMesh,
}

impl ServiceMesh {
    pub const NAMES: [&'static str; 2] = ["service_connect", "app_mesh"];

    pub fn parse(name: &str) -> Option<ServiceMesh> {
        match name {
            "service_connect" => Some(ServiceMesh::ServiceConnect),
            "app_mesh" => Some(ServiceMesh::AppMesh),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ServiceMesh::ServiceConnect => "service_connect",
            ServiceMesh::AppMesh => "app_mesh",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_service_connect_is_the_default() {
        for name in ServiceMesh::NAMES {
            assert_eq!(ServiceMesh::parse(name).unwrap().name(), name);
        }
        assert_eq!(ServiceMesh::parse("appmesh"), None);
        assert_eq!(ServiceMesh::default(), ServiceMesh::ServiceConnect);
    }
}
