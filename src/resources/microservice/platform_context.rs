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
//! provider), its three lookups at the same time. Each later use confirms
//! it in one cheap round ([`confirm`]: the cluster and the namespace found,
//! by name and id, no list): a platform deleted or recreated since, by
//! another state or by hand, is looked up again instead of served stale.

use crate::aws::appmesh::mesh::find_mesh;
use crate::aws::cloudmap::namespace::{
    find_owned_namespace, namespace_exists, namespace_id_from_arn, namespace_names,
};
use crate::aws::ecs::cluster::{find_cluster, find_owned_cluster_namespace};
pub use crate::resources::context::FoundPlatforms;
use crate::resources::context::{Configured, Confirmation};
use crate::service_mesh::ServiceMesh;

use super::platform::PlatformContext;

pub async fn find_platform(
    configured: &Configured,
    platform_id: &str,
) -> Result<PlatformContext, String> {
    let platforms = &configured.platforms;
    let mut platform = if configured.confirm_platforms {
        platforms
            .get_confirmed(
                platform_id,
                || look_up(configured, platform_id),
                |found| confirm(configured, found),
            )
            .await?
    } else {
        platforms
            .get_or_find(platform_id, || look_up(configured, platform_id))
            .await?
    };
    // What AWS holds is shared by the whole process; the default tags are
    // this operation's (a read compares with the ones state was applied
    // with, see `Configured::with_default_tags`).
    platform.tags = configured.default_tags.clone();
    Ok(platform)
}

/// Whether the platform `found` earlier in this process is still the one in
/// AWS: its cluster exists (on Service Connect: still owned by the platform
/// and naming `found`'s namespace as its default) and its namespace exists
/// by id. Both at once; a recreated platform's namespace has a new id.
async fn confirm(configured: &Configured, found: PlatformContext) -> Result<Confirmation, String> {
    let aws = &configured.clients;
    let id = found.platform_id.as_str();
    let cluster = async {
        match found.service_mesh {
            ServiceMesh::ServiceConnect => {
                find_owned_cluster_namespace(aws, id, id)
                    .await
                    .map(|default| match default {
                        Some(arn) if arn == found.namespace_arn => None,
                        Some(arn) => Some(format!(
                            "recreated: its cluster now names namespace {arn}, not {}",
                            found.namespace_arn
                        )),
                        None => Some(format!(
                            "gone: its ECS cluster {id:?} no longer exists (or names no namespace)"
                        )),
                    })
            }
            ServiceMesh::AppMesh => find_cluster(aws, &found.cluster_name).await.map(|c| {
                c.is_none()
                    .then(|| format!("gone: its ECS cluster {id:?} no longer exists"))
            }),
        }
    };
    let (cluster, namespace) = futures::join!(cluster, namespace_exists(aws, &found.namespace_arn));
    if let Some(why) = cluster.map_err(|e| e.to_string())? {
        return Ok(Confirmation::Stale(why));
    }
    if !namespace.map_err(|e| e.to_string())? {
        return Ok(Confirmation::Stale(format!(
            "gone: its Cloud Map namespace {} no longer exists",
            found.namespace_id
        )));
    }
    Ok(Confirmation::Same)
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
        region_with_recreatable_platform(others, cluster_names_it, Default::default())
    }

    /// The platform as it stands in the fake region: 0 as first created, 1
    /// recreated (a new namespace, `ns-new`, the cluster's default), 2
    /// deleted.
    type Generation = std::sync::Arc<AtomicUsize>;

    const NEW_NAMESPACE: &str =
        "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-new";

    fn region_with_recreatable_platform(
        others: usize,
        cluster_names_it: bool,
        generation: Generation,
    ) -> crate::aws::fake_endpoint::FakeEndpoint {
        use serde_json::json;
        crate::aws::fake_endpoint::FakeEndpoint::start(move |op, request| {
            let now = generation.load(Ordering::SeqCst);
            let (mine_id, mine) = if now == 0 {
                ("ns-mine", MY_NAMESPACE)
            } else {
                ("ns-new", NEW_NAMESPACE)
            };
            let not_found = |kind: &str| (400, json!({"__type": kind, "message": "not found"}));
            match op {
                "DescribeClusters" if now == 2 => (
                    200,
                    json!({"clusters": [], "failures": [{"arn": "arn:aws:ecs:eu-central-1:123456789012:cluster/matbakh", "reason": "MISSING"}]}),
                ),
                "DescribeClusters" => {
                    let mut cluster = json!({"clusterArn": "arn:aws:ecs:eu-central-1:123456789012:cluster/matbakh",
                                         "clusterName": "matbakh", "status": "ACTIVE"});
                    if cluster_names_it {
                        cluster["serviceConnectDefaults"] = json!({"namespace": mine});
                        cluster["tags"] =
                            json!([{"key": crate::spec::OWNER_TAG, "value": "matbakh"}]);
                    }
                    (200, json!({"clusters": [cluster], "failures": []}))
                }
                "GetNamespace" => {
                    let asked = request["Id"].as_str().unwrap_or_default();
                    if now == 2 || asked != mine_id {
                        not_found("NamespaceNotFound")
                    } else {
                        (
                            200,
                            json!({"Namespace": {"Id": mine_id, "Arn": mine, "Name": "matbakh.local"}}),
                        )
                    }
                }
                "ListNamespaces" => {
                    let arn = |i: usize| {
                        format!(
                            "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-{i}"
                        )
                    };
                    let mut namespaces: Vec<_> = (0..others)
                    .map(|i| json!({"Id": format!("ns-{i}"), "Arn": arn(i), "Name": format!("other{i}.local")}))
                    .collect();
                    if now != 2 {
                        namespaces
                            .push(json!({"Id": mine_id, "Arn": mine, "Name": "matbakh.local"}));
                    }
                    (200, json!({"Namespaces": namespaces}))
                }
                "ListTagsForResource" => {
                    let arn = request["ResourceARN"].as_str().unwrap_or_default();
                    let owner = if arn.ends_with(mine_id) {
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
            }
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
            confirm_platforms: true,
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
        // Every later microservice of the process: no lookup, only the
        // confirmation (the cluster and the namespace by id, at once).
        for _ in 0..5 {
            let again = find_platform(&configured, "matbakh").await.expect("found");
            assert_eq!(again, first);
        }
        let later = &fake.calls()[calls.len()..];
        assert!(
            later
                .iter()
                .all(|c| c == "DescribeClusters" || c == "GetNamespace"),
            "{later:?}"
        );
        assert_eq!(later.len(), 10, "{later:?}");
        let calls = fake.calls();
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
        // Confirmed, not looked up.
        assert_eq!(fake.calls().len(), calls.len() + 2);
    }

    #[tokio::test]
    async fn a_plan_of_many_microservices_costs_one_lookup_per_platform_and_no_confirmation() {
        let fake = region_with_platform(2, true);
        let configured = service_connect(&fake).planning();
        // A refresh and a plan of each of 100 microservices, some at once.
        for _ in 0..10 {
            let uses = (0..20).map(|_| find_platform(&configured, "matbakh"));
            let found = futures::future::join_all(uses).await;
            assert!(found
                .iter()
                .all(|f| f.as_ref().unwrap().namespace_id == "ns-mine"));
        }
        let mut calls = fake.calls();
        calls.sort();
        assert_eq!(calls, ["DescribeClusters", "ListNamespaces"]);
        // The refresh's own configuration (remembering reads) likewise; an
        // apply of the same process confirms what it builds on.
        let refresh = service_connect(&fake).remembering_reads();
        assert!(!refresh.confirm_platforms);
        let apply = Configured {
            platforms: configured.platforms.clone(),
            ..service_connect(&fake)
        };
        find_platform(&apply, "matbakh").await.expect("found");
        let later = &fake.calls()[2..];
        let mut later = later.to_vec();
        later.sort();
        assert_eq!(later, ["DescribeClusters", "GetNamespace"]);
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

    #[tokio::test]
    async fn a_platform_recreated_behind_the_process_is_found_again() {
        let generation = Generation::default();
        let fake = region_with_recreatable_platform(2, true, generation.clone());
        let configured = service_connect(&fake);
        let first = find_platform(&configured, "matbakh").await.expect("found");
        assert_eq!(first.namespace_id, "ns-mine");
        // Another state destroys and recreates the platform: a new namespace.
        generation.store(1, Ordering::SeqCst);
        let again = find_platform(&configured, "matbakh").await.expect("found");
        assert_eq!(again.namespace_id, "ns-new");
        assert_eq!(again.namespace_arn, NEW_NAMESPACE);
        // Looked up once more, then confirmed like the first.
        let third = find_platform(&configured, "matbakh").await.expect("found");
        assert_eq!(third, again);
    }

    #[tokio::test]
    async fn a_platform_deleted_behind_the_process_is_an_error_saying_so() {
        let generation = Generation::default();
        let fake = region_with_recreatable_platform(2, true, generation.clone());
        let configured = service_connect(&fake);
        find_platform(&configured, "matbakh").await.expect("found");
        generation.store(2, Ordering::SeqCst);
        let err = find_platform(&configured, "matbakh")
            .await
            .expect_err("gone");
        assert!(err.contains("found earlier is gone"), "{err}");
        assert!(err.contains("create the matbakh_platform first"), "{err}");
        // Created again later: found.
        generation.store(1, Ordering::SeqCst);
        let back = find_platform(&configured, "matbakh").await.expect("found");
        assert_eq!(back.namespace_id, "ns-new");
    }

    #[tokio::test]
    async fn a_stale_platform_is_forgotten_and_looked_up_once() {
        let found = FoundPlatforms::default();
        let calls = AtomicUsize::new(0);
        let old = platform(Environment::Development);
        let new = PlatformContext {
            namespace_id: "ns-new".into(),
            ..old.clone()
        };
        found
            .get_or_find("matbakh", || {
                counted(&calls, Duration::ZERO, Ok(old.clone()))
            })
            .await
            .unwrap();
        let got = found
            .get_confirmed(
                "matbakh",
                || counted(&calls, Duration::ZERO, Ok(new.clone())),
                |_| async { Ok(Confirmation::Stale("recreated".into())) },
            )
            .await;
        assert_eq!(got, Ok(new.clone()));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // A lookup that fails after a stale confirmation says both.
        let got = found
            .get_confirmed(
                "matbakh",
                || counted(&calls, Duration::ZERO, Err("no ECS cluster".into())),
                |_| async { Ok(Confirmation::Stale("gone".into())) },
            )
            .await;
        assert_eq!(
            got,
            Err("the platform found earlier is gone; looked up again: no ECS cluster".into())
        );
        // Nothing stale is kept: the next one looks up.
        let got = found
            .get_confirmed(
                "matbakh",
                || counted(&calls, Duration::ZERO, Ok(new.clone())),
                |_| async { panic!("nothing to confirm") },
            )
            .await;
        assert_eq!(got, Ok(new));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn concurrent_lookups_share_one_confirmation() {
        let found = FoundPlatforms::default();
        let want = platform(Environment::Development);
        found.remember("matbakh", want.clone());
        let confirmations = AtomicUsize::new(0);
        let lookups = (0..10).map(|_| {
            found.get_confirmed(
                "matbakh",
                || async { panic!("no lookup while the platform is confirmed") },
                |_| async {
                    confirmations.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok(Confirmation::Same)
                },
            )
        });
        let results = futures::future::join_all(lookups).await;
        assert!(results.iter().all(|r| r.as_ref() == Ok(&want)));
        assert_eq!(confirmations.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_confirmation_aws_does_not_answer_serves_what_was_found() {
        let found = FoundPlatforms::default();
        let want = platform(Environment::Development);
        found.remember("matbakh", want.clone());
        let got = found
            .get_confirmed(
                "matbakh",
                || async { panic!("no lookup when AWS does not answer") },
                |_| async { Err("ThrottlingException".to_string()) },
            )
            .await;
        assert_eq!(got, Ok(want));
    }
}
