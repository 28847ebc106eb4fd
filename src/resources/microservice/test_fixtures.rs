//! What the unit tests of expansions share: the platform they expand onto.

use super::expand::PlatformContext;
use crate::environment::Environment;
use crate::service_mesh::ServiceMesh;

/// The platform `matbakh` in eu-central-1 with `project = matbakh` default
/// tags, on App Mesh (what most expansion tests were written against).
pub fn platform(environment: Environment) -> PlatformContext {
    platform_on(environment, ServiceMesh::AppMesh)
}

/// The same platform on backend `mesh`.
pub fn platform_on(environment: Environment, mesh: ServiceMesh) -> PlatformContext {
    PlatformContext {
        platform_id: "matbakh".into(),
        service_mesh: mesh,
        namespace_arn:
            "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-abcdef0123456789"
                .into(),
        cluster_name: "matbakh".into(),
        mesh_name: "matbakh".into(),
        namespace_name: "svc.local".into(),
        namespace_id: "ns-abcdef0123456789".into(),
        environment,
        region: "eu-central-1".into(),
        tags: [("project".to_string(), "matbakh".to_string())]
            .into_iter()
            .collect(),
        ingress: None,
    }
}

/// A microservice on [`platform`] with every optional component (alarms,
/// autoscaling, dashboard), in production.
pub fn settings_and_platform() -> (super::config::Settings, PlatformContext) {
    let config = super::config::MicroserviceConfig::from_value(&serde_json::json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2",
        "port": 8080,
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "autoscaling": [{"min_count": 1, "max_count": 4}],
        "alarms": [{"error_rate_percent": 5, "p95_latency_ms": 200}],
        "dashboard": true,
    }))
    .expect("parses");
    let platform = platform(Environment::Production);
    let settings =
        super::config::Settings::resolve(&config, Environment::Production, platform.service_mesh)
            .expect("valid");
    (settings, platform)
}

/// The platform's load balancer as a microservice with `ingress` sees it:
/// the production (443) and test (8443) listeners of `app/matbakh/1`.
pub fn platform_ingress() -> super::platform::PlatformIngress {
    super::platform::PlatformIngress {
        listener_arn:
            "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/app/matbakh/1/443"
                .into(),
        test_listener_arn:
            "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/app/matbakh/1/8443"
                .into(),
        security_group_id: "sg-0alb".into(),
        dns_name: "matbakh-1.eu-central-1.elb.amazonaws.com".into(),
        https: true,
    }
}
