//! An App Mesh route's data read back as a [`RouteSpec`]: what `route.rs`
//! observes with and imports from.

use aws_sdk_appmesh::types as mesh;

use super::common::millis;
use crate::spec::appmesh::{HttpTimeoutSpec, RetryPolicySpec, RouteSpec, WeightedTargetSpec};

/// Overwrite what a route's data says: names, match, targets, retry policy
/// and timeouts (event lists sorted, as specs keep them).
pub(super) fn fill_from(spec: &mut RouteSpec, data: &mesh::RouteData) {
    let http = data.spec.as_ref().and_then(|s| s.http_route.as_ref());
    let retry = http.and_then(|h| h.retry_policy.as_ref());
    let timeout = http.and_then(|h| h.timeout.as_ref());
    let mut http_events: Vec<String> = retry
        .map(|r| r.http_retry_events().to_vec())
        .unwrap_or_default();
    http_events.sort();
    let mut tcp_events: Vec<String> = retry
        .map(|r| {
            r.tcp_retry_events()
                .iter()
                .map(|e| e.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    tcp_events.sort();
    spec.mesh = data.mesh_name.clone();
    spec.router = data.virtual_router_name.clone();
    spec.name = data.route_name.clone();
    spec.prefix = http
        .and_then(|h| h.r#match.as_ref())
        .and_then(|m| m.prefix.clone())
        .unwrap_or_default();
    spec.targets = http
        .and_then(|h| h.action.as_ref())
        .map(|a| {
            a.weighted_targets
                .iter()
                .map(|t| WeightedTargetSpec {
                    virtual_node: t.virtual_node.clone(),
                    weight: t.weight,
                })
                .collect()
        })
        .unwrap_or_default();
    spec.retry = RetryPolicySpec {
        max_retries: retry.map(|r| r.max_retries).unwrap_or(0),
        per_try_timeout_ms: millis(retry.and_then(|r| r.per_retry_timeout.as_ref())),
        http_events,
        tcp_events,
    };
    spec.timeout = HttpTimeoutSpec {
        per_request_ms: millis(timeout.and_then(|t| t.per_request.as_ref())),
        idle_ms: millis(timeout.and_then(|t| t.idle.as_ref())),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::appmesh::common::duration;
    use crate::environment::Environment;
    use crate::resources::microservice::config::{MicroserviceConfig, Settings};
    use crate::resources::microservice::expand::{self, PlatformContext};

    #[test]
    fn fill_from_reads_every_field() {
        let route = mesh::HttpRoute::builder()
            .r#match(mesh::HttpRouteMatch::builder().prefix("/").build())
            .action(
                mesh::HttpRouteAction::builder()
                    .weighted_targets(
                        mesh::WeightedTarget::builder()
                            .virtual_node("auth-service")
                            .weight(100)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .retry_policy(
                mesh::HttpRetryPolicy::builder()
                    .max_retries(5)
                    .per_retry_timeout(duration(1500))
                    .http_retry_events("server-error")
                    .http_retry_events("client-error")
                    .tcp_retry_events(mesh::TcpRetryPolicyEvent::ConnectionError)
                    .build()
                    .unwrap(),
            )
            .timeout(
                mesh::HttpTimeout::builder()
                    .per_request(duration(20_000))
                    .idle(duration(120_000))
                    .build(),
            )
            .build();
        let data = mesh::RouteData::builder()
            .mesh_name("matbakh")
            .virtual_router_name("auth-service-router")
            .route_name("auth-service-route")
            .spec(mesh::RouteSpec::builder().http_route(route).build())
            .build()
            .unwrap();
        // Any route spec will do: every field AWS holds is overwritten.
        let settings =
            Settings::resolve_unchecked(&MicroserviceConfig::default(), Environment::Production);
        let platform = PlatformContext {
            platform_id: "p".into(),
            service_mesh: crate::service_mesh::ServiceMesh::AppMesh,
            namespace_arn: String::new(),
            cluster_name: "p".into(),
            mesh_name: "p".into(),
            namespace_name: "svc.local".into(),
            namespace_id: "ns-1".into(),
            environment: Environment::Production,
            region: "eu-central-1".into(),
            tags: Default::default(),
            ingress: None,
        };
        let mut spec = expand::route(&settings, &platform, vec![], &Default::default());
        fill_from(&mut spec, &data);
        assert_eq!(
            (spec.mesh.as_str(), spec.router.as_str(), spec.name.as_str()),
            ("matbakh", "auth-service-router", "auth-service-route")
        );
        assert_eq!(spec.prefix, "/");
        assert_eq!(
            spec.targets,
            vec![WeightedTargetSpec {
                virtual_node: "auth-service".into(),
                weight: 100
            }]
        );
        assert_eq!(
            spec.retry,
            RetryPolicySpec {
                max_retries: 5,
                per_try_timeout_ms: 1500,
                http_events: vec!["client-error".into(), "server-error".into()],
                tcp_events: vec!["connection-error".into()],
            }
        );
        assert_eq!(
            spec.timeout,
            HttpTimeoutSpec {
                per_request_ms: 20_000,
                idle_ms: 120_000
            }
        );
    }
}
