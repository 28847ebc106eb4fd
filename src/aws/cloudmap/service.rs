//! AWS Cloud Map: the discovery service of a microservice. Its id is the
//! service id (`srv-...`).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_servicediscovery::types::{
    DnsConfig, DnsConfigChange, DnsRecord, FilterCondition, HealthCheckCustomConfig, RecordType,
    RoutingPolicy, Service, ServiceChange, ServiceFilter, ServiceFilterName, Tag,
};

use crate::aws::compare::absent_if_not_found;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{remaining, Observation, Resolved};
use crate::spec::cloudmap::DiscoveryServiceSpec;

/// How long a delete keeps retrying while ECS deregisters the last tasks.
const DELETE_RETRY_FOR: Duration = Duration::from_secs(180);
const DELETE_RETRY_EVERY: Duration = Duration::from_secs(5);

impl DiscoveryServiceSpec {
    fn dns_record(&self, call: &str) -> Result<DnsRecord, AwsError> {
        DnsRecord::builder()
            .r#type(RecordType::A)
            .ttl(self.dns_ttl_seconds)
            .build()
            .map_err(|e| AwsError::build(call, e))
    }

    async fn get(&self, aws: &Clients, id: &str) -> Result<Option<Service>, AwsError> {
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

    fn sdk_tags(&self, call: &str) -> Result<Vec<Tag>, AwsError> {
        self.tags
            .iter()
            .map(|(k, v)| {
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| AwsError::build(call, e))
            })
            .collect()
    }

    /// The service of our name in our namespace, if any.
    async fn find_by_name(&self, aws: &Clients) -> Result<Option<(String, String)>, AwsError> {
        let filter = ServiceFilter::builder()
            .name(ServiceFilterName::NamespaceId)
            .values(&self.namespace_id)
            .condition(FilterCondition::Eq)
            .build()
            .map_err(|e| AwsError::build("servicediscovery:ListServices", e))?;
        let mut pages = aws
            .cloudmap
            .list_services()
            .filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::sdk("servicediscovery:ListServices", e))?;
            for s in page.services() {
                if s.name() == Some(self.name.as_str()) {
                    if let (Some(id), Some(arn)) = (s.id(), s.arn()) {
                        return Ok(Some((id.to_string(), arn.to_string())));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Read back the service of this name in this spec's namespace. Its id
    /// is the service id (`srv-...`).
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<DiscoveryServiceSpec>>, AwsError> {
        let Some((id, arn)) = self.find_by_name(aws).await? else {
            return Ok(None);
        };
        let Some(service) = self.get(aws, &id).await? else {
            return Ok(None);
        };
        let ttl = service
            .dns_config()
            .map(|d| d.dns_records())
            .unwrap_or_default()
            .iter()
            .find(|r| r.r#type() == &RecordType::A)
            .map(|r| r.ttl())
            .unwrap_or(0);
        let spec = DiscoveryServiceSpec {
            name: service.name().unwrap_or(&self.name).to_string(),
            namespace_id: service
                .namespace_id()
                .unwrap_or(&self.namespace_id)
                .to_string(),
            dns_ttl_seconds: ttl,
            // AWS always uses 1 now; 0 says there is no custom health check.
            health_check_failure_threshold: i32::from(
                service.health_check_custom_config().is_some(),
            ),
            tags: super::tags_of(aws, &arn).await?,
        };
        Ok(Some(Found::new(spec, id)))
    }

    fn differences(&self, service: &Service) -> Vec<String> {
        let mut diffs = Vec::new();
        if service.name() != Some(self.name.as_str()) {
            diffs.push(format!(
                "name is {:?}, want {}",
                service.name().unwrap_or(""),
                self.name
            ));
        }
        if service.namespace_id() != Some(self.namespace_id.as_str()) {
            diffs.push(format!(
                "namespace is {:?}, want {}",
                service.namespace_id().unwrap_or(""),
                self.namespace_id
            ));
        }
        // The routing policy and the custom health check cannot change in
        // place (Cloud Map's UpdateService takes neither): a difference
        // there is not reported, as no apply could repair it.
        match service.dns_config() {
            None => diffs.push("DNS configuration missing".to_string()),
            Some(dns) => {
                let records: Vec<(String, i64)> = dns
                    .dns_records()
                    .iter()
                    .map(|r| (r.r#type().as_str().to_string(), r.ttl()))
                    .collect();
                let want = vec![("A".to_string(), self.dns_ttl_seconds)];
                if records != want {
                    diffs.push(format!("DNS records are {records:?}, want {want:?}"));
                }
            }
        }
        diffs
    }
}

#[async_trait]
impl Adapter for DiscoveryServiceSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(service) = self.get(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = self.differences(&service);
        if let Some(arn) = service.arn() {
            diffs.extend(tags::differences(
                &self.tags,
                &super::tags_of(aws, arn).await?,
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "servicediscovery:CreateService";
        let dns = DnsConfig::builder()
            .routing_policy(RoutingPolicy::Multivalue)
            .dns_records(self.dns_record(CALL)?)
            .build()
            .map_err(|e| AwsError::build(CALL, e))?;
        let created = aws
            .cloudmap
            .create_service()
            .name(&self.name)
            .namespace_id(&self.namespace_id)
            .creator_request_id(tags::request_token(
                &self.tags,
                &format!("cloudmap-service/{}/{}", self.namespace_id, self.name),
            ))
            .dns_config(dns)
            // The failure threshold is no longer configurable: AWS always
            // uses 1, which is what the spec asks for.
            .health_check_custom_config(HealthCheckCustomConfig::builder().build())
            .set_tags(Some(self.sdk_tags(CALL)?))
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e));
        match created {
            Ok(out) => out
                .service()
                .and_then(|s| s.id())
                .map(str::to_string)
                .ok_or_else(|| AwsError::new(CALL, "AWS returned no service id")),
            Err(e) if e.code.as_deref() == Some("ServiceAlreadyExists") => {
                let Some((id, arn)) = self.find_by_name(aws).await? else {
                    return Err(e);
                };
                tags::claim(
                    CALL,
                    "Cloud Map service",
                    &self.name,
                    &self.tags,
                    &super::tags_of(aws, &arn).await?,
                )?;
                Ok(id)
            }
            Err(e) => Err(e),
        }
    }

    async fn update(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "servicediscovery:UpdateService";
        let Some(service) = self.get(aws, id).await? else {
            return Err(AwsError::new(
                CALL,
                format!("Cloud Map service {id} disappeared"),
            ));
        };
        let dns_differs = self
            .differences(&service)
            .iter()
            .any(|d| d.starts_with("DNS records"));
        if dns_differs {
            let change = DnsConfigChange::builder()
                .dns_records(self.dns_record(CALL)?)
                .build()
                .map_err(|e| AwsError::build(CALL, e))?;
            aws.cloudmap
                .update_service()
                .id(id)
                .service(ServiceChange::builder().dns_config(change).build())
                .send()
                .await
                .map_err(|e| AwsError::sdk(CALL, e))?;
        }
        if let Some(arn) = service.arn() {
            super::put_tags(aws, arn, &self.tags).await?;
        }
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let started = tokio::time::Instant::now();
        loop {
            let result = aws
                .cloudmap
                .delete_service()
                .id(id)
                .send()
                .await
                .map_err(|e| AwsError::sdk("servicediscovery:DeleteService", e));
            match result {
                Ok(_) => return Ok(()),
                Err(e) if e.is_not_found() => return Ok(()),
                // ECS deregisters a stopped service's instances asynchronously.
                Err(e) if e.code.as_deref() == Some("ResourceInUse") => {
                    let left = remaining().map_err(|_| e.clone())?;
                    if started.elapsed() >= DELETE_RETRY_FOR || left < DELETE_RETRY_EVERY {
                        return Err(e);
                    }
                    tracing::info!(
                        service = id,
                        "Cloud Map service still has instances; retrying the delete"
                    );
                    let _ = crate::engine::pause(DELETE_RETRY_EVERY).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
