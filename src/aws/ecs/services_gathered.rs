//! ECS services read by many resources at the same moment, described ten
//! at a time (DescribeServices' limit) with their tags (`include=TAGS`)
//! through the client layer's gatherer ([`crate::aws::gatherer`]).
//!
//! In a process that only reads, the calls also carry services nobody
//! asked for yet, from the cluster's listing ([`listed_services`]): see
//! [`gathered_service`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_sdk_ecs::types::{Service, ServiceField};

use crate::aws::{AwsError, Clients};

/// DescribeServices takes at most 10 services of one cluster.
const DESCRIBE_SERVICES_MAX: usize = 10;

fn key(cluster: &str, service: &str) -> String {
    format!("{cluster}\n{service}")
}

/// The service `name_or_arn` names in `cluster` (a name or an ARN): its
/// name when the ARN is of a service in that cluster, else the ARN itself.
pub fn service_name_in<'a>(cluster: &str, name_or_arn: &'a str) -> &'a str {
    let Some((_, path)) = name_or_arn.split_once(":service/") else {
        return name_or_arn;
    };
    let cluster_name = cluster.rsplit('/').next().unwrap_or(cluster);
    match path.split_once('/') {
        Some((in_cluster, name)) if in_cluster == cluster_name => name,
        _ => name_or_arn,
    }
}

/// The service `name_or_arn` of `cluster` that is not INACTIVE, described
/// together with the services other resources ask for at the same moment.
/// A missing cluster or service is `None`.
///
/// In a refresh (a process that only reads), each call is filled up to ten
/// with the cluster's listed services not described yet, and their answers
/// wait for their own refreshes, which then send nothing: Terraform's ten
/// staggered refreshes meet only one or two at a time in the gatherer's
/// window (0.66 DescribeServices per microservice at 100 under the quota
/// model), while a full call answers ten. A service the listing does not
/// name (created since, or past its pages) is asked as before, and one
/// listed but gone by the time it is described reads as gone: an answer
/// ahead is what AWS said a moment ago, as any read of the plan is.
pub async fn gathered_service(
    aws: &Clients,
    cluster: &str,
    name_or_arn: &str,
) -> Result<Option<Service>, AwsError> {
    let gatherer = aws
        .gatherers
        .of::<Service>("ecs:DescribeServices", DESCRIBE_SERVICES_MAX);
    // By name or by ARN, it is the same service: one key, which the
    // listing's names (and so the answers fetched ahead) match.
    let key = key(cluster, service_name_in(cluster, name_or_arn));
    let described = aws.clone();
    let fetch = move |keys| describe_keys(described, keys);
    if aws.memo.is_none() {
        return gatherer.ask(key, fetch).await;
    }
    let candidates = listed_services(aws, cluster)
        .iter()
        .map(|name| self::key(cluster, name))
        .collect();
    gatherer
        .ask_ahead(key, candidates, DESCRIBE_SERVICES_MAX, fetch)
        .await
}

/// The names of the services of `cluster`, as far as this process has
/// listed them (empty until then): the keys a refresh's batches are filled
/// with. The listing is started by the second refresh that asks about the
/// cluster, in the background, so that a refresh of one microservice
/// (which cannot know whether others follow) sends no call and waits no
/// round for it, and a refresh of many pays one `ListServices` per 100
/// services. It stops after [`LISTING_PAGES`] pages: a cluster of many more
/// services than the state holds would cost pages for services nobody
/// asks about (a page costs a call; a service filled into a batch costs
/// none). A listing that fails is not kept, and is not tried again.
pub fn listed_services(aws: &Clients, cluster: &str) -> Arc<Vec<String>> {
    #[derive(Default)]
    struct Listing {
        /// The refreshes (their memos) that asked about the cluster.
        askers: HashSet<usize>,
        started: bool,
        names: Arc<Vec<String>>,
    }
    type Listings = Mutex<HashMap<String, Arc<Mutex<Listing>>>>;
    let Some(memo) = &aws.memo else {
        return Arc::default();
    };
    let listing = aws
        .gatherers
        .shared::<Listings>("ecs:ListServices (refresh)")
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(cluster.to_string())
        .or_default()
        .clone();
    let mut l = listing.lock().unwrap_or_else(|e| e.into_inner());
    l.askers.insert(Arc::as_ptr(memo) as usize);
    if l.askers.len() >= 2 && !l.started {
        l.started = true;
        let (aws, cluster, listing) = (aws.clone(), cluster.to_string(), listing.clone());
        tokio::spawn(async move {
            match list_service_names(&aws, &cluster).await {
                Ok(names) => {
                    listing.lock().unwrap_or_else(|e| e.into_inner()).names = Arc::new(names)
                }
                Err(e) => {
                    tracing::debug!(%cluster, error = %e, "no listing of the cluster's services")
                }
            }
        });
    }
    l.names.clone()
}

/// Until this process's listing of `cluster` holds `n` services (tests:
/// the listing goes on in the background).
#[cfg(test)]
pub async fn wait_for_listing(aws: &Clients, cluster: &str, n: usize) {
    let probe = aws.remembering_reads();
    for _ in 0..1000 {
        if listed_services(&probe, cluster).len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the listing of {cluster} never held {n} services");
}

/// At most this many pages of `ListServices` (100 services a page).
const LISTING_PAGES: usize = 5;

/// The names of the cluster's services (ListServices answers ARNs:
/// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`).
async fn list_service_names(aws: &Clients, cluster: &str) -> Result<Vec<String>, AwsError> {
    let mut pages = aws
        .ecs
        .list_services()
        .cluster(cluster)
        .max_results(100)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    for _ in 0..LISTING_PAGES {
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| AwsError::sdk("ecs:ListServices", e))?;
        names.extend(
            page.service_arns()
                .iter()
                .filter_map(|arn| arn.rsplit('/').next())
                .map(str::to_string),
        );
    }
    Ok(names)
}

/// DescribeServices of `keys` ([`key`]s, any clusters), with their tags.
async fn describe_keys(
    aws: Clients,
    keys: Vec<String>,
) -> Result<HashMap<String, Service>, AwsError> {
    // One batch may hold services of several clusters.
    let mut by_cluster: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for k in keys {
        let (cluster, service) = k.split_once('\n').unwrap_or_default();
        by_cluster
            .entry(cluster.to_string())
            .or_default()
            .push(service.to_string());
    }
    let mut found = HashMap::new();
    for (cluster, services) in by_cluster {
        let out = aws
            .ecs
            .describe_services()
            .cluster(&cluster)
            .set_services(Some(services))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:DescribeServices", e));
        let out = match out {
            Ok(out) => out,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        // The revisions they run: what a refresh's tag reads of revisions
        // are filled with.
        super::running_revisions::note(&aws, out.services());
        for s in out.services() {
            if s.status() == Some("INACTIVE") {
                continue;
            }
            for id in [s.service_name(), s.service_arn()].into_iter().flatten() {
                found.insert(key(&cluster, id), s.clone());
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    /// Services of 25 resources read at the same moment: DescribeServices
    /// ten at a time (not 25 calls), each resource getting its own service.
    #[tokio::test]
    async fn concurrent_service_reads_share_describe_services() {
        let fake = FakeEndpoint::start(|_, request| {
            let services: Vec<_> = request["services"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|s| s.as_str() != Some("gone"))
                .map(|s| {
                    let name = s.as_str().unwrap_or_default().to_string();
                    serde_json::json!({
                        "serviceName": name,
                        "serviceArn": format!("arn:aws:ecs:eu-central-1:1:service/c/{name}"),
                        "status": "ACTIVE",
                    })
                })
                .collect();
            (
                200,
                serde_json::json!({"services": services, "failures": []}),
            )
        });
        let aws = fake.clients();
        let names: Vec<String> = (0..24)
            .map(|i| format!("svc-{i}"))
            .chain(["gone".to_string()])
            .collect();
        let answers =
            futures::future::join_all(names.iter().map(|n| gathered_service(&aws, "c", n))).await;
        for (name, answer) in names.iter().zip(&answers) {
            let got = answer.as_ref().unwrap().as_ref().map(|s| s.service_name());
            if name == "gone" {
                assert_eq!(got, None);
            } else {
                assert_eq!(got, Some(Some(name.as_str())));
            }
        }
        let calls = fake.calls();
        assert!(calls.iter().all(|c| c == "DescribeServices"), "{calls:?}");
        assert_eq!(calls.len(), 3, "{calls:?}");
    }

    /// DescribeServices and ListServices as AWS answers them, for a cluster
    /// of `listed` services (10 names a describe, 100 ARNs a page).
    fn cluster_of(listed: Vec<String>) -> FakeEndpoint {
        FakeEndpoint::start(move |op, request| match op {
            "ListServices" => {
                assert_eq!(request["maxResults"], 100, "{request}");
                let arns: Vec<_> = listed
                    .iter()
                    .map(|n| format!("arn:aws:ecs:eu-central-1:1:service/c/{n}"))
                    .collect();
                (200, serde_json::json!({"serviceArns": arns}))
            }
            "DescribeServices" => {
                let asked = request["services"].as_array().cloned().unwrap_or_default();
                assert!(asked.len() <= 10, "{request}");
                let services: Vec<_> = asked
                    .iter()
                    .filter_map(|s| s.as_str())
                    .filter(|s| !s.starts_with("deleted"))
                    .map(|name| {
                        serde_json::json!({
                            "serviceName": name,
                            "serviceArn": format!("arn:aws:ecs:eu-central-1:1:service/c/{name}"),
                            "status": "ACTIVE",
                        })
                    })
                    .collect();
                (
                    200,
                    serde_json::json!({"services": services, "failures": []}),
                )
            }
            _ => (
                400,
                serde_json::json!({"__type": "Unexpected", "message": op}),
            ),
        })
    }

    /// A plan's refreshes of 30 services, one after another (Terraform's
    /// staggered refreshes, which never meet in the gatherer's window):
    /// after the first two, the cluster is listed once and each
    /// DescribeServices is filled to ten with listed services, whose
    /// refreshes then send nothing. A service deleted since the listing
    /// still reads as gone, and one the listing does not name is asked.
    #[tokio::test]
    async fn a_plan_fills_each_describe_with_the_clusters_listed_services() {
        let listed: Vec<String> = (0..30)
            .map(|i| format!("svc-{i}"))
            .chain(["deleted-since".to_string()])
            .collect();
        let fake = cluster_of(listed.clone());
        let configured = fake.clients();
        let refresh = |name: &str| {
            let aws = configured.remembering_reads();
            let name = name.to_string();
            async move { gathered_service(&aws, "c", &name).await.unwrap() }
        };
        assert!(refresh("svc-0").await.is_some());
        assert!(refresh("svc-1").await.is_some());
        // The listing the second refresh started, in the background.
        crate::aws::ecs::services_gathered::wait_for_listing(&configured, "c", 31).await;
        for (i, name) in listed.iter().enumerate().take(30).skip(2) {
            // A refresh's observation asks by the recorded ARN.
            let asked = match i % 2 {
                0 => format!("arn:aws:ecs:eu-central-1:1:service/c/{name}"),
                _ => name.clone(),
            };
            let got = refresh(&asked)
                .await
                .map(|s| s.service_name().map(str::to_string));
            assert_eq!(got, Some(Some(name.clone())));
        }
        assert!(refresh("deleted-since").await.is_none());
        assert!(refresh("created-since").await.is_some());
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        assert_eq!(count("ListServices"), 1, "{calls:?}");
        // svc-0, svc-1 alone; svc-2 with 3-11, 12 with 13-21, 22 with
        // 23-29 and deleted-since; created-since alone: 6, not 32.
        assert_eq!(count("DescribeServices"), 6, "{calls:?}");
    }

    /// One refresh alone (a plan of one microservice) lists nothing: it
    /// cannot know whether others follow, and must not wait for a listing.
    /// An apply never fills ahead: it must see its own writes.
    #[tokio::test]
    async fn one_refresh_or_an_apply_lists_nothing() {
        let fake = cluster_of(vec!["a".into(), "b".into()]);
        let configured = fake.clients();
        let aws = configured.remembering_reads();
        assert!(gathered_service(&aws, "c", "a").await.unwrap().is_some());
        assert!(gathered_service(&aws, "c", "b").await.unwrap().is_some());
        for name in ["a", "b", "a"] {
            assert!(gathered_service(&configured, "c", name)
                .await
                .unwrap()
                .is_some());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(fake.calls(), vec!["DescribeServices"; 5]);
    }
}
