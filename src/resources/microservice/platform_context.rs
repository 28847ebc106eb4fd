//! Finding the platform a microservice joins, in AWS.
//!
//! The `platform` argument is the platform's id (its name): the ECS cluster
//! and (App Mesh) the mesh carry that name; the namespace is the one whose
//! `matbakh:owner` tag names the platform. The backend is the provider's
//! `service_mesh`.
//!
//! Every microservice of a configuration joins the same platform, and each
//! Terraform operation on each of them needs it: the platform is looked up
//! once per provider process ([`FoundPlatforms`], in the configured
//! provider), its three lookups at the same time.

use crate::aws::appmesh::mesh::find_mesh;
use crate::aws::cloudmap::namespace::{
    find_owned_namespace, namespace_id_from_arn, namespace_names,
};
use crate::aws::ecs::cluster::{find_cluster, find_owned_cluster_namespace};
use crate::resources::context::Configured;
pub use crate::resources::context::FoundPlatforms;
use crate::service_mesh::ServiceMesh;

use super::platform::PlatformContext;

pub async fn find_platform(
    configured: &Configured,
    platform_id: &str,
) -> Result<PlatformContext, String> {
    let mut platform = configured
        .platforms
        .get_or_find(platform_id, || look_up(configured, platform_id))
        .await?;
    // What AWS holds is shared by the whole process; the default tags are
    // this operation's (a read compares with the ones state was applied
    // with, see `Configured::with_default_tags`).
    platform.tags = configured.default_tags.clone();
    Ok(platform)
}

/// Ask AWS: the cluster, the mesh (App Mesh only) and the namespace at once.
async fn look_up(configured: &Configured, platform_id: &str) -> Result<PlatformContext, String> {
    if configured.service_mesh == ServiceMesh::ServiceConnect {
        if let Some(found) = look_up_by_cluster(configured, platform_id).await? {
            return Ok(found);
        }
    }
    look_up_by_tags(configured, platform_id).await
}

/// Service Connect: the platform's cluster (its owner tag names the
/// platform) names the platform's namespace as its Service Connect default,
/// so the cluster and the region's namespace list, read at once, are the
/// whole lookup: one round, two calls, no tags read however many namespaces
/// the region has. `None` when the cluster is not the platform's or names
/// no namespace that exists (the lookup by tags then says what is missing).
async fn look_up_by_cluster(
    configured: &Configured,
    platform_id: &str,
) -> Result<Option<PlatformContext>, String> {
    let aws = &configured.clients;
    let (cluster, names) = futures::join!(
        find_owned_cluster_namespace(aws, platform_id, platform_id),
        namespace_names(aws),
    );
    let Some(ns_arn) = cluster.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let names = names.map_err(|e| e.to_string())?;
    Ok(names
        .get(&ns_arn)
        .map(|ns_name| context_of(configured, platform_id, &ns_arn, ns_name)))
}

/// The namespace whose owner tag names the platform (App Mesh, whose
/// cluster names no namespace; or a cluster that lost its default).
async fn look_up_by_tags(
    configured: &Configured,
    platform_id: &str,
) -> Result<PlatformContext, String> {
    let aws = &configured.clients;
    let missing = |what: &str| {
        format!(
            "platform {platform_id:?} has no {what} in {}: create the matbakh_platform first (or check `platform` and the provider's region)",
            aws.region
        )
    };
    let mesh = configured.service_mesh;
    let find_mesh_if_needed = async {
        if mesh == ServiceMesh::AppMesh {
            find_mesh(aws, platform_id).await.map(|m| m.is_some())
        } else {
            Ok(true)
        }
    };
    let (cluster, mesh_found, namespace) = futures::join!(
        find_cluster(aws, platform_id),
        find_mesh_if_needed,
        find_owned_namespace(aws, platform_id),
    );
    if cluster.map_err(|e| e.to_string())?.is_none() {
        return Err(missing("ECS cluster"));
    }
    if !mesh_found.map_err(|e| e.to_string())? {
        return Err(missing("App Mesh mesh"));
    }
    let (ns_arn, ns_name, _) = namespace
        .map_err(|e| e.to_string())?
        .ok_or_else(|| missing("Cloud Map namespace"))?;
    Ok(context_of(configured, platform_id, &ns_arn, &ns_name))
}

/// The platform `platform_id` whose cluster (and, on App Mesh, mesh) exist
/// and whose namespace is `ns_arn`, named `ns_name`.
pub fn context_of(
    configured: &Configured,
    platform_id: &str,
    ns_arn: &str,
    ns_name: &str,
) -> PlatformContext {
    PlatformContext {
        platform_id: platform_id.to_string(),
        service_mesh: configured.service_mesh,
        cluster_name: platform_id.to_string(),
        mesh_name: platform_id.to_string(),
        namespace_name: ns_name.to_string(),
        namespace_id: namespace_id_from_arn(ns_arn).to_string(),
        namespace_arn: ns_arn.to_string(),
        environment: configured.environment,
        region: configured.clients.region.clone(),
        tags: configured.default_tags.clone(),
        ingress: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::environment::Environment;
    use crate::resources::microservice::test_fixtures::platform;

    /// A lookup that counts how often AWS would be asked, taking `delay`.
    async fn counted(
        calls: &AtomicUsize,
        delay: Duration,
        answer: Result<PlatformContext, String>,
    ) -> Result<PlatformContext, String> {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        answer
    }

    #[tokio::test]
    async fn a_platform_is_looked_up_once_per_process() {
        let found = FoundPlatforms::default();
        let calls = AtomicUsize::new(0);
        let want = platform(Environment::Development);
        for _ in 0..3 {
            let got = found
                .get_or_find("matbakh", || {
                    counted(&calls, Duration::ZERO, Ok(want.clone()))
                })
                .await;
            assert_eq!(got, Ok(want.clone()));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another platform is its own lookup.
        found
            .get_or_find("other", || {
                counted(&calls, Duration::ZERO, Ok(want.clone()))
            })
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Forgotten (the platform changed in this process): asked again.
        found.forget("matbakh");
        found
            .get_or_find("matbakh", || {
                counted(&calls, Duration::ZERO, Ok(want.clone()))
            })
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_platform_remembered_from_its_own_read_is_not_looked_up() {
        let found = FoundPlatforms::default();
        let calls = AtomicUsize::new(0);
        let want = platform(Environment::Development);
        found.remember("matbakh", want.clone());
        let got = found
            .get_or_find("matbakh", || {
                counted(&calls, Duration::ZERO, Ok(want.clone()))
            })
            .await;
        assert_eq!(got, Ok(want));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    const MY_NAMESPACE: &str =
        "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-mine";

    /// A region with platform `matbakh` (service_connect) among `others`
    /// namespaces of other owners, on a fake AWS endpoint. With
    /// `cluster_names_it`, the platform's cluster (tagged for it) has its
    /// namespace as Service Connect default, as the platform creates it.
    fn region_with_platform(
        others: usize,
        cluster_names_it: bool,
    ) -> crate::aws::fake_endpoint::FakeEndpoint {
        use serde_json::json;
        crate::aws::fake_endpoint::FakeEndpoint::start(move |op, request| match op {
            "DescribeClusters" => {
                let mut cluster = json!({"clusterArn": "arn:aws:ecs:eu-central-1:123456789012:cluster/matbakh",
                                         "clusterName": "matbakh", "status": "ACTIVE"});
                if cluster_names_it {
                    cluster["serviceConnectDefaults"] = json!({"namespace": MY_NAMESPACE});
                    cluster["tags"] = json!([{"key": crate::spec::OWNER_TAG, "value": "matbakh"}]);
                }
                (200, json!({"clusters": [cluster], "failures": []}))
            }
            "ListNamespaces" => {
                let arn = |i: usize| {
                    format!("arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-{i}")
                };
                let mut namespaces: Vec<_> = (0..others)
                    .map(|i| json!({"Id": format!("ns-{i}"), "Arn": arn(i), "Name": format!("other{i}.local")}))
                    .collect();
                namespaces
                    .push(json!({"Id": "ns-mine", "Arn": MY_NAMESPACE, "Name": "matbakh.local"}));
                (200, json!({"Namespaces": namespaces}))
            }
            "ListTagsForResource" => {
                let arn = request["ResourceARN"].as_str().unwrap_or_default();
                let owner = if arn.ends_with("ns-mine") {
                    "matbakh"
                } else {
                    "someone-else"
                };
                (
                    200,
                    json!({"Tags": [{"Key": crate::spec::OWNER_TAG, "Value": owner}]}),
                )
            }
            _ => (
                400,
                json!({"__type": "ClientException", "message": "not expected"}),
            ),
        })
    }

    /// A service_connect provider configured against `fake`.
    fn service_connect(fake: &crate::aws::fake_endpoint::FakeEndpoint) -> Configured {
        Configured {
            clients: fake.clients(),
            environment: Environment::Development,
            default_tags: Default::default(),
            service_mesh: ServiceMesh::ServiceConnect,
            platforms: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_cluster_that_names_no_namespace_falls_back_to_the_owner_tags() {
        let fake = region_with_platform(3, false);
        let configured = service_connect(&fake);
        let found = find_platform(&configured, "matbakh").await.expect("found");
        assert_eq!(found.namespace_id, "ns-mine");
        let calls = fake.calls();
        assert_eq!(
            calls.iter().filter(|c| *c == "ListTagsForResource").count(),
            4,
            "{calls:?}"
        );
    }

    #[tokio::test]
    async fn a_service_connect_platform_is_found_by_its_cluster_in_one_round_once() {
        let fake = region_with_platform(10, true);
        let configured = service_connect(&fake);
        let first = find_platform(&configured, "matbakh").await.expect("found");
        assert_eq!(first.namespace_id, "ns-mine");
        assert_eq!(first.namespace_name, "matbakh.local");
        let calls = fake.calls();
        // App Mesh is REST-JSON (no X-Amz-Target): it would count as "".
        assert!(calls.iter().all(|c| !c.is_empty()), "{calls:?}");
        // The cluster and the namespace list, at once; no namespace's tags.
        let mut sorted = calls.clone();
        sorted.sort();
        assert_eq!(sorted, ["DescribeClusters", "ListNamespaces"]);
        // Every later microservice of the process: no call.
        for _ in 0..5 {
            let again = find_platform(&configured, "matbakh").await.expect("found");
            assert_eq!(again, first);
        }
        assert_eq!(fake.calls().len(), calls.len());
        // A read with other default tags (those state was applied with)
        // shares what AWS holds, not the tags.
        let other_tags = configured.with_default_tags(
            [("team".to_string(), "payments".to_string())]
                .into_iter()
                .collect(),
        );
        let tagged = find_platform(&other_tags, "matbakh").await.expect("found");
        assert_eq!(
            tagged.tags.get("team").map(String::as_str),
            Some("payments")
        );
        assert_eq!(tagged.namespace_id, first.namespace_id);
        assert_eq!(fake.calls().len(), calls.len());
    }

    #[tokio::test]
    async fn concurrent_lookups_of_one_platform_ask_aws_once() {
        let found = FoundPlatforms::default();
        let calls = AtomicUsize::new(0);
        let want = platform(Environment::Development);
        let lookups = (0..10).map(|_| {
            found.get_or_find("matbakh", || {
                counted(&calls, Duration::from_millis(20), Ok(want.clone()))
            })
        });
        let results = futures::future::join_all(lookups).await;
        assert!(results.iter().all(|r| r.as_ref() == Ok(&want)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_platform_not_found_is_looked_up_again() {
        let found = FoundPlatforms::default();
        let calls = AtomicUsize::new(0);
        let missing = Err("platform \"matbakh\" has no ECS cluster".to_string());
        for _ in 0..2 {
            let got = found
                .get_or_find("matbakh", || {
                    counted(&calls, Duration::ZERO, missing.clone())
                })
                .await;
            assert_eq!(got, missing);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let want = platform(Environment::Development);
        let got = found
            .get_or_find("matbakh", || {
                counted(&calls, Duration::ZERO, Ok(want.clone()))
            })
            .await;
        assert_eq!(got, Ok(want));
    }
}
