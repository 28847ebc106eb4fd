//! App Mesh virtual node. Its id is its ARN.

use async_trait::async_trait;
use aws_sdk_appmesh::types as mesh;

use super::common::{duration, millis, tags_of};
use super::object::{find, mesh_api, MeshObject};
use crate::aws::compare::json_differences;
use crate::aws::{AwsError, Clients, Found};
use crate::spec::appmesh::*;

impl VirtualNodeSpec {
    /// What AWS reports, in the spec's own terms (tags left as wanted; they
    /// are compared separately).
    fn as_reported(&self, data: &mesh::VirtualNodeData) -> VirtualNodeSpec {
        reported(data, self.tags.clone())
    }

    /// Read back the node of this name in this mesh. Its id is its ARN.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<VirtualNodeSpec>>, AwsError> {
        let Some((data, arn)) = find(self, aws).await? else {
            return Ok(None);
        };
        let tags = tags_of(&aws.appmesh, &arn).await?;
        Ok(Some(Found::new(reported(&data, tags), arn)))
    }
}

/// A virtual node as AWS reports it, in the spec's terms, with `tags`.
fn reported(data: &mesh::VirtualNodeData, tags: crate::spec::Tags) -> VirtualNodeSpec {
    let spec = data
        .spec
        .clone()
        .unwrap_or_else(|| mesh::VirtualNodeSpec::builder().build());
    let listener = spec
        .listeners()
        .first()
        .cloned()
        .unwrap_or_else(|| mesh::Listener::builder().build());
    let hc = listener.health_check.clone();
    let od = listener.outlier_detection.clone();
    let (max_connections, max_pending_requests) = match &listener.connection_pool {
        Some(mesh::VirtualNodeConnectionPool::Http(p)) => {
            (p.max_connections, p.max_pending_requests.unwrap_or(0))
        }
        _ => (0, 0),
    };
    let (per_request_ms, idle_ms) = match &listener.timeout {
        Some(mesh::ListenerTimeout::Http(t)) => {
            (millis(t.per_request.as_ref()), millis(t.idle.as_ref()))
        }
        _ => (0, 0),
    };
    let tls = spec
        .backend_defaults
        .as_ref()
        .and_then(|d| d.client_policy.as_ref())
        .and_then(|p| p.tls.as_ref())
        .map(|t| {
            let mut arns = match t.validation.as_ref().and_then(|v| v.trust.as_ref()) {
                Some(mesh::TlsValidationContextTrust::Acm(acm)) => {
                    acm.certificate_authority_arns.clone()
                }
                _ => vec![],
            };
            arns.sort();
            TlsSpec {
                certificate_authority_arns: arns,
            }
        });
    let mut backends: Vec<String> = spec
        .backends()
        .iter()
        .filter_map(|b| match b {
            mesh::Backend::VirtualService(v) => Some(v.virtual_service_name.clone()),
            _ => None,
        })
        .collect();
    backends.sort();
    let discovery = match &spec.service_discovery {
        Some(mesh::ServiceDiscovery::AwsCloudMap(c)) => CloudMapDiscoverySpec {
            namespace_name: c.namespace_name.clone(),
            service_name: c.service_name.clone(),
            attributes: c
                .attributes()
                .iter()
                .map(|a| (a.key.clone(), a.value.clone()))
                .collect(),
        },
        _ => CloudMapDiscoverySpec {
            namespace_name: String::new(),
            service_name: String::new(),
            attributes: Default::default(),
        },
    };
    let access_log_path = match spec.logging.as_ref().and_then(|l| l.access_log.as_ref()) {
        Some(mesh::AccessLog::File(f)) => f.path.clone(),
        _ => String::new(),
    };
    VirtualNodeSpec {
        mesh: data.mesh_name.clone(),
        name: data.virtual_node_name.clone(),
        port: listener.port_mapping.as_ref().map(|p| p.port).unwrap_or(0),
        health_check: MeshHealthCheckSpec {
            path: hc.as_ref().and_then(|h| h.path.clone()).unwrap_or_default(),
            interval_ms: hc.as_ref().map(|h| h.interval_millis).unwrap_or(0),
            timeout_ms: hc.as_ref().map(|h| h.timeout_millis).unwrap_or(0),
            unhealthy_threshold: hc.as_ref().map(|h| h.unhealthy_threshold).unwrap_or(0),
            healthy_threshold: hc.as_ref().map(|h| h.healthy_threshold).unwrap_or(0),
        },
        outlier_detection: OutlierDetectionSpec {
            max_server_errors: od.as_ref().map(|o| o.max_server_errors).unwrap_or(0),
            interval_ms: millis(od.as_ref().and_then(|o| o.interval.as_ref())),
            base_ejection_ms: millis(od.as_ref().and_then(|o| o.base_ejection_duration.as_ref())),
            max_ejection_percent: od.as_ref().map(|o| o.max_ejection_percent).unwrap_or(0),
        },
        connection_pool: HttpConnectionPoolSpec {
            max_connections,
            max_pending_requests,
        },
        timeout: HttpTimeoutSpec {
            per_request_ms,
            idle_ms,
        },
        tls,
        backends,
        discovery,
        access_log_path,
        tags,
    }
}

#[async_trait]
impl MeshObject for VirtualNodeSpec {
    type Data = mesh::VirtualNodeData;
    type Sdk = mesh::VirtualNodeSpec;

    fn to_sdk(&self, call: &str) -> Result<mesh::VirtualNodeSpec, AwsError> {
        let b = |e| AwsError::build(call, e);
        let hc = &self.health_check;
        let listener = mesh::Listener::builder()
            .port_mapping(
                mesh::PortMapping::builder()
                    .port(self.port)
                    .protocol(mesh::PortProtocol::Http)
                    .build()
                    .map_err(b)?,
            )
            .health_check(
                mesh::HealthCheckPolicy::builder()
                    .protocol(mesh::PortProtocol::Http)
                    .port(self.port)
                    .path(&hc.path)
                    .interval_millis(hc.interval_ms)
                    .timeout_millis(hc.timeout_ms)
                    .healthy_threshold(hc.healthy_threshold)
                    .unhealthy_threshold(hc.unhealthy_threshold)
                    .build()
                    .map_err(b)?,
            )
            .outlier_detection(
                mesh::OutlierDetection::builder()
                    .max_server_errors(self.outlier_detection.max_server_errors)
                    .interval(duration(self.outlier_detection.interval_ms))
                    .base_ejection_duration(duration(self.outlier_detection.base_ejection_ms))
                    .max_ejection_percent(self.outlier_detection.max_ejection_percent)
                    .build()
                    .map_err(b)?,
            )
            .connection_pool(mesh::VirtualNodeConnectionPool::Http(
                mesh::VirtualNodeHttpConnectionPool::builder()
                    .max_connections(self.connection_pool.max_connections)
                    .max_pending_requests(self.connection_pool.max_pending_requests)
                    .build()
                    .map_err(b)?,
            ))
            .timeout(mesh::ListenerTimeout::Http(
                mesh::HttpTimeout::builder()
                    .per_request(duration(self.timeout.per_request_ms))
                    .idle(duration(self.timeout.idle_ms))
                    .build(),
            ))
            .build();
        let mut discovery = mesh::AwsCloudMapServiceDiscovery::builder()
            .namespace_name(&self.discovery.namespace_name)
            .service_name(&self.discovery.service_name);
        for (k, v) in &self.discovery.attributes {
            discovery = discovery.attributes(
                mesh::AwsCloudMapInstanceAttribute::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(b)?,
            );
        }
        let mut spec = mesh::VirtualNodeSpec::builder()
            .listeners(listener)
            .service_discovery(mesh::ServiceDiscovery::AwsCloudMap(
                discovery.build().map_err(b)?,
            ))
            .logging(
                mesh::Logging::builder()
                    .access_log(mesh::AccessLog::File(
                        mesh::FileAccessLog::builder()
                            .path(&self.access_log_path)
                            .build()
                            .map_err(b)?,
                    ))
                    .build(),
            );
        for backend in &self.backends {
            spec = spec.backends(mesh::Backend::VirtualService(
                mesh::VirtualServiceBackend::builder()
                    .virtual_service_name(backend)
                    .build()
                    .map_err(b)?,
            ));
        }
        if let Some(tls) = &self.tls {
            // Client-side TLS to every backend, servers validated against
            // the given private CAs.
            let trust = mesh::TlsValidationContextAcmTrust::builder()
                .set_certificate_authority_arns(Some(tls.certificate_authority_arns.clone()))
                .build()
                .map_err(b)?;
            spec = spec.backend_defaults(
                mesh::BackendDefaults::builder()
                    .client_policy(
                        mesh::ClientPolicy::builder()
                            .tls(
                                mesh::ClientPolicyTls::builder()
                                    .enforce(true)
                                    .validation(
                                        mesh::TlsValidationContext::builder()
                                            .trust(mesh::TlsValidationContextTrust::Acm(trust))
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            );
        }
        Ok(spec.build())
    }

    fn differences(&self, data: &Self::Data) -> Vec<String> {
        let found = serde_json::to_value(self.as_reported(data)).unwrap_or_default();
        let wanted = serde_json::to_value(self).unwrap_or_default();
        json_differences("virtual node", &found, &wanted)
    }
}

mesh_api!(
    VirtualNodeSpec, mesh::VirtualNodeData, mesh::VirtualNodeStatusCode::Deleted, "virtual node",
    names [mesh => mesh_name, name => virtual_node_name],
    sdk [create_virtual_node, describe_virtual_node, update_virtual_node, delete_virtual_node] => virtual_node,
    calls ["appmesh:CreateVirtualNode", "appmesh:DescribeVirtualNode", "appmesh:UpdateVirtualNode", "appmesh:DeleteVirtualNode"]
);
