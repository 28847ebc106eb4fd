//! `matbakh_platform` expanded into its AWS objects. Pure.
//!
//! Service Connect: a Cloud Map HTTP namespace, and the ECS cluster whose
//! `serviceConnectDefaults` names it by ARN (so the cluster comes after it,
//! and is deleted before it). App Mesh: the cluster, the mesh and a private
//! DNS namespace in the VPC, independent of each other.

use super::budget::{self, BudgetSettings};
use super::ingress::{self, IngressSettings};
use super::roles;
use crate::service_mesh::ServiceMesh;
use crate::spec::platform::{ClusterSpec, MeshSpec, NamespaceKind, NamespaceSpec};
use crate::spec::{Component, DesiredGraph, Ref, Spec, Tags, OWNER_TAG};

/// A platform's settings with defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformSettings {
    /// The provider's `service_mesh`.
    pub service_mesh: ServiceMesh,
    pub name: String,
    pub vpc_id: String,
    pub namespace: String,
    pub container_insights: bool,
    pub mesh_egress: String,
    /// Provider default_tags merged with the resource's own tags.
    pub tags: Tags,
    /// The provider's region: the budget's name carries it.
    pub region: String,
    pub budget: Option<BudgetSettings>,
    /// The `ingress` block (service_connect only), `None` without one.
    pub ingress: Option<IngressSettings>,
    /// The account of the provider's credentials: the ALB traffic role's
    /// trust and policy name it (`None` when the provider skipped the
    /// credentials check: no role is made then).
    pub account: Option<String>,
    /// The load balancer state records (`ingress_load_balancer`): with
    /// `ingress` gone from the configuration, what a plan checks is unused.
    pub recorded_load_balancer: Option<String>,
}

pub use crate::spec::platform::VPC_TAG;

pub fn expand(p: &PlatformSettings) -> DesiredGraph {
    let mut tags = p.tags.clone();
    tags.insert(OWNER_TAG.to_string(), p.name.clone());
    let mut graph = DesiredGraph::default();
    let description = format!("matbakh platform {}", p.name);
    if let Some(b) = &p.budget {
        graph.push(Component::new(
            budget::KEY,
            Spec::Budget(budget::spec(b, &p.name, &p.region, &tags)),
        ));
    }
    match p.service_mesh {
        ServiceMesh::ServiceConnect => {
            graph.push(
                Component::new(
                    "cluster",
                    Spec::Cluster(ClusterSpec {
                        name: p.name.clone(),
                        container_insights: p.container_insights,
                        service_connect_namespace: Some(Ref::to("namespace")),
                        tags: tags.clone(),
                    }),
                )
                .after(&["namespace"]),
            );
            if let Some(i) = &p.ingress {
                for c in ingress::components(&p.name, i, &tags) {
                    graph.push(c);
                }
                if let Some(account) = &p.account {
                    graph.push(Component::new(
                        roles::ALB_TRAFFIC_ROLE,
                        Spec::Role(roles::alb_traffic_role(
                            &p.name,
                            &p.region,
                            account,
                            roles::partition(&p.region),
                            &tags,
                        )),
                    ));
                }
            }
            graph.push(Component::new(
                "namespace",
                Spec::Namespace(NamespaceSpec {
                    kind: NamespaceKind::Http,
                    name: p.namespace.clone(),
                    vpc_id: String::new(),
                    description,
                    tags,
                }),
            ));
        }
        ServiceMesh::AppMesh => {
            let mut ns_tags = tags.clone();
            ns_tags.insert(VPC_TAG.to_string(), p.vpc_id.clone());
            graph.push(Component::new(
                "cluster",
                Spec::Cluster(ClusterSpec {
                    name: p.name.clone(),
                    container_insights: p.container_insights,
                    service_connect_namespace: None,
                    tags: tags.clone(),
                }),
            ));
            graph.push(Component::new(
                "mesh",
                Spec::Mesh(MeshSpec {
                    name: p.name.clone(),
                    egress_filter: p.mesh_egress.clone(),
                    tags: tags.clone(),
                }),
            ));
            graph.push(Component::new(
                "namespace",
                Spec::Namespace(NamespaceSpec {
                    kind: NamespaceKind::PrivateDns,
                    name: p.namespace.clone(),
                    vpc_id: p.vpc_id.clone(),
                    description,
                    tags: ns_tags,
                }),
            ));
        }
    }
    graph
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PlatformSettings {
        PlatformSettings {
            service_mesh: ServiceMesh::AppMesh,
            name: "matbakh".into(),
            vpc_id: "vpc-1234abcd".into(),
            namespace: "svc.local".into(),
            container_insights: true,
            mesh_egress: "DROP_ALL".into(),
            tags: Tags::from([("project".to_string(), "matbakh".to_string())]),
            region: "eu-central-1".into(),
            budget: None,
            ingress: None,
            account: Some("123456789012".into()),
            recorded_load_balancer: None,
        }
    }

    #[test]
    fn ingress_brings_the_role_ecs_moves_its_traffic_with() {
        let ingress = IngressSettings {
            subnet_ids: vec!["subnet-0a".into(), "subnet-0b".into()],
            certificate_arn: None,
            internal: true,
            allowed_cidrs: vec!["10.0.0.0/8".into()],
            ssl_policy: ingress::DEFAULT_SSL_POLICY.into(),
            idle_timeout_seconds: 60,
            test_port: 8443,
            test_cidrs: vec![],
        };
        let with = PlatformSettings {
            service_mesh: ServiceMesh::ServiceConnect,
            ingress: Some(ingress),
            ..settings()
        };
        let g = expand(&with);
        let Spec::Role(role) = &g.get(roles::ALB_TRAFFIC_ROLE).unwrap().spec else {
            panic!()
        };
        assert_eq!(role.name, "matbakh-eu-central-1-alb-traffic");
        assert_eq!(
            role.tags.get(OWNER_TAG).map(String::as_str),
            Some("matbakh")
        );
        // Without ingress, no role.
        let g = expand(&PlatformSettings {
            service_mesh: ServiceMesh::ServiceConnect,
            ..settings()
        });
        assert!(g.get(roles::ALB_TRAFFIC_ROLE).is_none());
    }

    #[test]
    fn service_connect_is_a_cluster_defaulting_to_an_http_namespace_by_arn() {
        let g = expand(&PlatformSettings {
            service_mesh: ServiceMesh::ServiceConnect,
            vpc_id: String::new(),
            ..settings()
        });
        let keys: Vec<&str> = g.components.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["cluster", "namespace"], "no mesh");
        let cluster = g.get("cluster").unwrap();
        assert_eq!(cluster.depends_on, ["namespace"]);
        let Spec::Cluster(c) = &cluster.spec else {
            panic!()
        };
        assert_eq!(c.service_connect_namespace, Some(Ref::to("namespace")));
        assert!(c.container_insights);
        let Spec::Namespace(n) = &g.get("namespace").unwrap().spec else {
            panic!()
        };
        assert_eq!(n.kind, NamespaceKind::Http);
        assert_eq!((n.name.as_str(), n.vpc_id.as_str()), ("svc.local", ""));
        assert!(!n.tags.contains_key(VPC_TAG));
        assert_eq!(n.tags.get(OWNER_TAG).map(String::as_str), Some("matbakh"));
    }

    #[test]
    fn three_independent_objects_named_after_the_platform() {
        let g = expand(&settings());
        let keys: Vec<&str> = g.components.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["cluster", "mesh", "namespace"]);
        assert!(g.components.iter().all(|c| c.depends_on.is_empty()));
        let Spec::Cluster(c) = &g.get("cluster").unwrap().spec else {
            panic!()
        };
        assert_eq!(c.name, "matbakh");
        assert!(c.container_insights);
        let Spec::Mesh(m) = &g.get("mesh").unwrap().spec else {
            panic!()
        };
        assert_eq!(
            (m.name.as_str(), m.egress_filter.as_str()),
            ("matbakh", "DROP_ALL")
        );
        let Spec::Namespace(n) = &g.get("namespace").unwrap().spec else {
            panic!()
        };
        assert_eq!(
            (n.name.as_str(), n.vpc_id.as_str()),
            ("svc.local", "vpc-1234abcd")
        );
        assert_eq!(n.kind, NamespaceKind::PrivateDns);
        assert_eq!(c.service_connect_namespace, None);
        assert_eq!(
            n.tags.get(VPC_TAG).map(String::as_str),
            Some("vpc-1234abcd")
        );
    }

    #[test]
    fn every_object_carries_default_tags_and_owner() {
        for c in expand(&settings()).components {
            let tags = match &c.spec {
                Spec::Cluster(s) => &s.tags,
                Spec::Mesh(s) => &s.tags,
                Spec::Namespace(s) => &s.tags,
                _ => unreachable!(),
            };
            assert_eq!(
                tags.get("project").map(String::as_str),
                Some("matbakh"),
                "{}",
                c.key
            );
            assert_eq!(
                tags.get(OWNER_TAG).map(String::as_str),
                Some("matbakh"),
                "{}",
                c.key
            );
        }
    }
}
