//! What still lives in a platform's cluster when the platform is destroyed.
//!
//! A microservice whose create was cut short by a kill of Terraform (SIGKILL,
//! an out-of-memory kill, a lost CI runner) is in no state: Terraform never
//! got the answer. `terraform destroy` then never asks the provider to
//! delete it, only the platform, and ECS refuses to delete a cluster that
//! still has services (`ClusterContainsServicesException`, which deletes
//! nothing). No provider can make Terraform destroy what its state does not
//! name, so when ECS refuses, the platform's delete turns the bare refusal
//! into one error that names every leftover and the exact command that
//! brings it back under Terraform (`terraform import`, after which destroy
//! deletes it: import adopts the token its objects carry). The services are
//! listed only then: a destroy with nothing left over costs no extra call.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::ServiceField;

use crate::aws::{AwsError, Clients};
use crate::spec::OWNER_TAG;

/// One ECS service left in a cluster: its name and its `matbakh:owner` tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    pub service: String,
    pub owner: Option<String>,
}

/// The ACTIVE services of `cluster` (a draining one is on its way out).
pub async fn active_services(aws: &Clients, cluster: &str) -> Result<Vec<Leftover>, AwsError> {
    Ok(active_service_tags(aws, cluster)
        .await?
        .into_iter()
        .map(|(service, mut tags)| Leftover {
            service,
            owner: tags.remove(OWNER_TAG),
        })
        .collect())
}

/// The ACTIVE services of `cluster` with their tags, by name.
pub async fn active_service_tags(
    aws: &Clients,
    cluster: &str,
) -> Result<Vec<(String, BTreeMap<String, String>)>, AwsError> {
    let mut arns = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = aws
            .ecs
            .list_services()
            .cluster(cluster)
            .max_results(100)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:ListServices", e))?;
        arns.extend(out.service_arns().iter().cloned());
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    let mut found = Vec::new();
    // ECS describes at most 10 services per call.
    for chunk in arns.chunks(10) {
        let out = aws
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:DescribeServices", e))?;
        for s in out.services() {
            if s.status() != Some("ACTIVE") {
                continue;
            }
            let Some(name) = s.service_name() else {
                continue;
            };
            let tags = s
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
            found.push((name.to_string(), tags));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// The error a platform's delete fails with while `leftovers` remain in
/// `cluster`; `None` when there are none.
pub fn refusal(cluster: &str, leftovers: &[Leftover]) -> Option<String> {
    if leftovers.is_empty() {
        return None;
    }
    let mut text = format!(
        "cluster {cluster} still has {} ECS service{}, so the cluster was not deleted. \
         A microservice whose create was cut short by a killed terraform is in no state, so \
         `terraform destroy` cannot delete it; bring each back under Terraform, then destroy \
         again:",
        leftovers.len(),
        if leftovers.len() == 1 { "" } else { "s" },
    );
    for l in leftovers {
        match l.owner.as_deref() {
            // A microservice's owner tag is its import id, PLATFORM/NAME.
            Some(owner) if owner.contains('/') => {
                text += &format!(
                    "\n  - ECS service {}, of matbakh_microservice {owner}: \
                 terraform import matbakh_microservice.<ADDRESS> {owner}",
                    l.service
                )
            }
            Some(owner) => {
                text += &format!(
                    "\n  - ECS service {} (owner tag {owner:?}): not a microservice's; delete it \
                 with whatever created it",
                    l.service
                )
            }
            None => {
                text += &format!(
                    "\n  - ECS service {} (no matbakh owner tag): not created by this provider; \
                 delete it with whatever created it",
                    l.service
                )
            }
        }
    }
    text += "\n<ADDRESS> is the name of the microservice's resource block in your configuration \
             (`matbakh_microservice.auth` for `resource \"matbakh_microservice\" \"auth\"`); \
             import adopts every object of it that exists, then `terraform destroy` deletes them \
             and the platform.";
    Some(text)
}

/// ECS's code for refusing to delete a cluster that still has services.
pub const CLUSTER_CONTAINS_SERVICES: &str = "ClusterContainsServicesException";

/// The error for ECS's `refused` DeleteCluster of `cluster`: the leftover
/// services named with what to do about each, or ECS's own words when none
/// is ACTIVE any more (draining ones are on their way out) or they cannot
/// be listed. On Service Connect the namespace is deleted after the
/// cluster, so it stays too.
pub async fn explain_refusal(aws: &Clients, cluster: &str, refused: AwsError) -> AwsError {
    match active_services(aws, cluster).await {
        Ok(leftovers) => match refusal(cluster, &leftovers) {
            Some(text) => AwsError::new("ecs:DeleteCluster", text),
            None => refused,
        },
        Err(e) => {
            tracing::warn!(cluster, error = %e, "cannot list the services that keep the cluster");
            refused
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(service: &str, owner: Option<&str>) -> Leftover {
        Leftover {
            service: service.into(),
            owner: owner.map(str::to_string),
        }
    }

    #[test]
    fn an_empty_cluster_is_no_refusal() {
        assert_eq!(refusal("matbakh", &[]), None);
    }

    #[test]
    fn each_leftover_microservice_is_named_with_its_import_command() {
        let text = refusal(
            "matbakh",
            &[
                left("auth-service", Some("matbakh/auth-service")),
                left("vc-service", Some("matbakh/vc-service")),
            ],
        )
        .unwrap();
        assert!(text.contains("still has 2 ECS services"), "{text}");
        assert!(text.contains("the cluster was not deleted"), "{text}");
        for name in ["auth-service", "vc-service"] {
            assert!(
                text.contains(&format!(
                    "terraform import matbakh_microservice.<ADDRESS> matbakh/{name}"
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn a_service_of_someone_else_is_named_without_an_import_command() {
        let text = refusal(
            "matbakh",
            &[left("legacy", None), left("batch", Some("platform-team"))],
        )
        .unwrap();
        assert!(text.contains("still has 2 ECS services"), "{text}");
        assert!(
            text.contains("ECS service legacy (no matbakh owner tag)"),
            "{text}"
        );
        assert!(
            text.contains("ECS service batch (owner tag \"platform-team\")"),
            "{text}"
        );
        assert!(
            !text.contains("import matbakh_microservice.<ADDRESS> "),
            "{text}"
        );
    }
}
