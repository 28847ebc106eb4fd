//! The Cloud Map service ECS Service Connect creates for a discovery name.
//! Its id is the service id (`srv-...`).
//!
//! ECS creates it while creating an ECS service with a Service Connect
//! configuration, and removes it when that ECS service is deleted. The
//! provider only finds and records it: it never creates one (a second
//! service of the name would make ECS fail), never updates it (Cloud Map
//! refuses UpdateService in HTTP namespaces, and ECS owns its settings),
//! and leaves its removal to ECS at first; the ECS service's delete waits
//! for it to go (see `aws::ecs::service`). AWS does not document that ECS
//! deletes it with the ECS service, and users report the namespace's
//! deletion failing with `ResourceInUse` afterwards: once the ECS service
//! is gone and ECS had its grace, [`delete_left_behind`] deletes it.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_servicediscovery::types::{FilterCondition, ServiceFilter, ServiceFilterName};

use crate::aws::compare::absent_if_not_found;
use crate::aws::{Adapter, AwsError, Clients, Found};
use crate::engine::{remaining, Observation, Resolved};
use crate::spec::cloudmap::ServiceConnectDiscoverySpec;

/// How long after the ECS service's create the Cloud Map service may take
/// to appear.
const APPEAR_WITHIN: Duration = Duration::from_secs(120);
const POLL_EVERY: Duration = Duration::from_secs(2);

/// The `srv-` id of the service named `name` in namespace `namespace_id`.
/// In a refresh, from the namespace's listing the whole process shares
/// ([`refresh_listing`]); otherwise (an apply waiting for ECS to make it)
/// asked now.
pub async fn find_service(
    aws: &Clients,
    namespace_id: &str,
    name: &str,
) -> Result<Option<String>, AwsError> {
    if aws.memo.is_some() {
        return Ok(refresh_listing(aws, namespace_id).await?.get(name).cloned());
    }
    Ok(list_services(aws, namespace_id, Some(name))
        .await?
        .remove(name))
}

/// The services of namespace `namespace_id`, name to id, as listed once for
/// every refresh of this provider process. Terraform runs a plan's (or an
/// import's) refreshes in a process of their own that writes nothing, so
/// the listing stands for all of them: a plan of N microservices lists the
/// namespace once (a page per 100 services) instead of a ListServices and a
/// GetService per microservice. An apply never uses it. A listing that
/// fails is not kept.
async fn refresh_listing(
    aws: &Clients,
    namespace_id: &str,
) -> Result<std::collections::HashMap<String, String>, AwsError> {
    type Listing = tokio::sync::Mutex<Option<std::collections::HashMap<String, String>>>;
    type Listings = std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Listing>>>;
    let listings = aws
        .gatherers
        .shared::<Listings>("servicediscovery:ListServices (refresh)");
    let listing = listings
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(namespace_id.to_string())
        .or_default()
        .clone();
    let mut listing = listing.lock().await;
    if let Some(found) = listing.as_ref() {
        return Ok(found.clone());
    }
    let found = list_services(aws, namespace_id, None).await?;
    *listing = Some(found.clone());
    Ok(found)
}

/// The services of namespace `namespace_id`, name to id; with `stop_at`,
/// no further page once that name is found.
async fn list_services(
    aws: &Clients,
    namespace_id: &str,
    stop_at: Option<&str>,
) -> Result<std::collections::HashMap<String, String>, AwsError> {
    const CALL: &str = "servicediscovery:ListServices";
    let filter = ServiceFilter::builder()
        .name(ServiceFilterName::NamespaceId)
        .values(namespace_id)
        .condition(FilterCondition::Eq)
        .build()
        .map_err(|e| AwsError::build(CALL, e))?;
    let mut pages = aws
        .cloudmap
        .list_services()
        .filters(filter)
        .into_paginator()
        .send();
    let mut found = std::collections::HashMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk(CALL, e))?;
        for service in page.services() {
            if let (Some(name), Some(id)) = (service.name(), service.id()) {
                found.insert(name.to_string(), id.to_string());
            }
        }
        if stop_at.is_some_and(|name| found.contains_key(name)) {
            break;
        }
    }
    Ok(found)
}

/// The tag ECS puts on the Cloud Map services it creates for Service Connect.
const ECS_MANAGED_TAG: (&str, &str) = ("AmazonECSManaged", "true");

/// Delete the Cloud Map service `id` that ECS made for Service Connect and
/// left behind after its ECS service was deleted. Only one tagged as ECS's
/// (`AmazonECSManaged=true`): a service someone else made is never touched.
/// `Ok(true)` when it is gone, `Ok(false)` when it is not ECS's or still in
/// use (instances still deregistering: ask again later).
pub async fn delete_left_behind(aws: &Clients, id: &str, arn: &str) -> Result<bool, AwsError> {
    let tags = absent_if_not_found(
        aws.cloudmap
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("servicediscovery:ListTagsForResource", e)),
    )?;
    let Some(tags) = tags else {
        return Ok(true);
    };
    let ecs_made = tags
        .tags()
        .iter()
        .any(|t| t.key() == ECS_MANAGED_TAG.0 && t.value() == ECS_MANAGED_TAG.1);
    if !ecs_made {
        return Ok(false);
    }
    tracing::info!(
        service = id,
        "deleting the Cloud Map service ECS left behind for Service Connect"
    );
    match aws
        .cloudmap
        .delete_service()
        .id(id)
        .send()
        .await
        .map_err(|e| AwsError::sdk("servicediscovery:DeleteService", e))
    {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(true),
        Err(e) if e.code.as_deref() == Some("ResourceInUse") => Ok(false),
        Err(e) => Err(e),
    }
}

/// The service `id`, `None` when it is gone.
async fn get_service(
    aws: &Clients,
    id: &str,
) -> Result<Option<aws_sdk_servicediscovery::types::Service>, AwsError> {
    let out = absent_if_not_found(
        aws.cloudmap
            .get_service()
            .id(id)
            .send()
            .await
            .map_err(|e| AwsError::sdk("servicediscovery:GetService", e)),
    )?;
    Ok(out.and_then(|o| o.service))
}

/// The ARN of the service `id`, `None` when it is gone.
pub async fn service_arn(aws: &Clients, id: &str) -> Result<Option<String>, AwsError> {
    Ok(get_service(aws, id)
        .await?
        .and_then(|s| s.arn().map(str::to_string)))
}

/// Whether the service `id` still exists.
pub async fn service_exists(aws: &Clients, id: &str) -> Result<bool, AwsError> {
    Ok(get_service(aws, id).await?.is_some())
}

impl ServiceConnectDiscoverySpec {
    /// Read back the service ECS created for this discovery name.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<ServiceConnectDiscoverySpec>>, AwsError> {
        Ok(find_service(aws, &self.namespace_id, &self.name)
            .await?
            .map(|id| Found::new(self.clone(), id)))
    }
}

#[async_trait]
impl Adapter for ServiceConnectDiscoverySpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        // A refresh sees it by its id in the namespace's shared listing
        // (under whatever name: a state recorded under another naming
        // still finds its service).
        let exists = if aws.memo.is_some() {
            refresh_listing(aws, &self.namespace_id)
                .await?
                .values()
                .any(|found| found == id)
        } else {
            service_exists(aws, id).await?
        };
        Ok(if exists {
            Observation::in_sync()
        } else {
            Observation::Missing
        })
    }

    /// Wait for ECS to have created it, and record it.
    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(id) = find_service(aws, &self.namespace_id, &self.name).await? {
                return Ok(id);
            }
            let left = remaining().unwrap_or_default();
            if started.elapsed() >= APPEAR_WITHIN || left < POLL_EVERY {
                return Err(AwsError::new(
                    "servicediscovery:ListServices",
                    format!(
                        "ECS created no Cloud Map service {:?} in namespace {} for the ECS service's Service Connect configuration",
                        self.name, self.namespace_id
                    ),
                ));
            }
            let _ = crate::engine::pause(POLL_EVERY).await;
        }
    }

    /// ECS owns its settings: there is nothing to change. A service ECS
    /// re-created gets recorded under its new id.
    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if service_exists(aws, id).await? {
            return Ok(id.to_string());
        }
        self.create(aws, resolved).await
    }

    /// ECS removes it with the ECS service, which is deleted after this
    /// component (it depends on the service) and waits for it to go.
    async fn delete(&self, _: &Clients, id: &str) -> Result<(), AwsError> {
        tracing::debug!(service = id, "left to ECS: removed with the ECS service");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;
    use crate::spec::Ref;

    fn spec(name: &str) -> ServiceConnectDiscoverySpec {
        ServiceConnectDiscoverySpec {
            name: name.into(),
            namespace_id: "ns-1".into(),
            service: Ref::to("service"),
        }
    }

    /// A namespace with services `svc-0` .. `svc-{n-1}` (ids `srv-0` ...).
    fn namespace(n: usize) -> FakeEndpoint {
        FakeEndpoint::start(move |op, request| match op {
            "ListServices" => {
                assert_eq!(request["Filters"][0]["Values"][0], "ns-1");
                let services: Vec<_> = (0..n)
                    .map(|i| json!({"Id": format!("srv-{i}"), "Name": format!("svc-{i}")}))
                    .collect();
                (200, json!({"Services": services}))
            }
            "GetService" => (
                200,
                json!({"Service": {"Id": request["Id"], "Arn": "arn:x", "Name": "svc-0"}}),
            ),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        })
    }

    #[tokio::test]
    async fn the_refreshes_of_a_process_share_one_listing_of_the_namespace() {
        let fake = namespace(30);
        let base = fake.clients();
        let resolved = Resolved::default();
        // 30 microservices refreshed, each with its own refresh memory:
        // recovery by name and observation by id.
        let refreshes = (0..30).map(|i| {
            let aws = base.remembering_reads();
            let resolved = &resolved;
            async move {
                let s = spec(&format!("svc-{i}"));
                let found = s.read_back(&aws).await.unwrap().expect("found");
                assert_eq!(found.id, format!("srv-{i}"));
                s.observe(&aws, &found.id, resolved).await.unwrap()
            }
        });
        let observed = futures::future::join_all(refreshes).await;
        assert!(observed.iter().all(|o| *o == Observation::in_sync()));
        // Deleted out of band: its id is not in the listing.
        let aws = base.remembering_reads();
        assert_eq!(
            spec("svc-0")
                .observe(&aws, "srv-gone", &resolved)
                .await
                .unwrap(),
            Observation::Missing
        );
        assert_eq!(fake.calls(), ["ListServices"]);
        // An apply asks AWS now.
        spec("svc-0")
            .observe(&base, "srv-0", &resolved)
            .await
            .unwrap();
        assert_eq!(fake.calls(), ["ListServices", "GetService"]);
    }
}
