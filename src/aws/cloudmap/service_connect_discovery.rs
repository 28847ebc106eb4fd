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
pub async fn find_service(
    aws: &Clients,
    namespace_id: &str,
    name: &str,
) -> Result<Option<String>, AwsError> {
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
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk(CALL, e))?;
        if let Some(id) = page
            .services()
            .iter()
            .find(|s| s.name() == Some(name))
            .and_then(|s| s.id())
        {
            return Ok(Some(id.to_string()));
        }
    }
    Ok(None)
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
        Ok(if service_exists(aws, id).await? {
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
