//! ECS services read by many resources at the same moment, described ten
//! at a time (DescribeServices' limit) with their tags (`include=TAGS`)
//! through the client layer's gatherer ([`crate::aws::gatherer`]).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ecs::types::{Service, ServiceField};

use crate::aws::{AwsError, Clients};

/// DescribeServices takes at most 10 services of one cluster.
const DESCRIBE_SERVICES_MAX: usize = 10;

fn key(cluster: &str, service: &str) -> String {
    format!("{cluster}\n{service}")
}

/// The service `name_or_arn` of `cluster` that is not INACTIVE, described
/// together with the services other resources ask for at the same moment.
/// A missing cluster or service is `None`.
pub async fn gathered_service(
    aws: &Clients,
    cluster: &str,
    name_or_arn: &str,
) -> Result<Option<Service>, AwsError> {
    let gatherer = aws
        .gatherers
        .of::<Service>("ecs:DescribeServices", DESCRIBE_SERVICES_MAX);
    let aws = aws.clone();
    gatherer
        .ask(key(cluster, name_or_arn), move |keys| async move {
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
        })
        .await
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
}
