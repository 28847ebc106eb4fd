//! ECS service. Its id is the service ARN.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, DeploymentCircuitBreaker,
    DeploymentConfiguration, DeploymentRolloutState, NetworkConfiguration, PropagateTags, Service,
    ServiceField, ServiceRegistry, Tag,
};

use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{remaining, Observation, Resolved};
use crate::spec::ecs::EcsServiceSpec;

const POLL_EVERY: Duration = Duration::from_secs(5);

/// Starts the error of a wait that saw ECS give up on a deployment (the
/// circuit breaker rolled it back): a canary rolls back on it, where any other
/// failure only stops the apply.
pub const DEPLOYMENT_FAILED: &str = "deployment failed";

impl EcsServiceSpec {
    async fn describe(
        &self,
        aws: &Clients,
        name_or_arn: &str,
    ) -> Result<Option<Service>, AwsError> {
        let out = aws
            .ecs
            .describe_services()
            .cluster(&self.cluster)
            .services(name_or_arn)
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:DescribeServices", e));
        let out = match out {
            Ok(out) => out,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(out
            .services()
            .iter()
            .find(|s| s.status() != Some("INACTIVE"))
            .cloned())
    }

    fn task_definition<'a>(&self, resolved: &'a Resolved) -> Result<&'a str, AwsError> {
        resolved
            .get(&self.task_definition.0)
            .map(String::as_str)
            .ok_or_else(|| {
                AwsError::new(
                    "ecs:CreateService",
                    format!("component {} has no id yet", self.task_definition.0),
                )
            })
    }

    /// The Cloud Map service's ARN: ECS wants the ARN, the component
    /// records the `srv-` id.
    async fn registry_arn(
        &self,
        aws: &Clients,
        resolved: &Resolved,
    ) -> Result<Option<String>, AwsError> {
        let Some(key) = &self.registry else {
            return Ok(None);
        };
        let id = resolved.get(&key.0).ok_or_else(|| {
            AwsError::new(
                "ecs:CreateService",
                format!("component {} has no id yet", key.0),
            )
        })?;
        if id.starts_with("arn:") {
            return Ok(Some(id.clone()));
        }
        let out = aws
            .cloudmap
            .get_service()
            .id(id)
            .send()
            .await
            .map_err(|e| AwsError::sdk("servicediscovery:GetService", e))?;
        Ok(out.service().and_then(|s| s.arn()).map(str::to_string))
    }

    fn strategy(&self, call: &str) -> Result<Vec<CapacityProviderStrategyItem>, AwsError> {
        self.capacity_provider_strategy
            .iter()
            .map(|c| {
                CapacityProviderStrategyItem::builder()
                    .capacity_provider(&c.provider)
                    .weight(c.weight)
                    .base(c.base)
                    .build()
                    .map_err(|e| AwsError::build(call, e))
            })
            .collect()
    }

    fn network(&self, call: &str) -> Result<NetworkConfiguration, AwsError> {
        Ok(NetworkConfiguration::builder()
            .awsvpc_configuration(
                AwsVpcConfiguration::builder()
                    .set_subnets(Some(self.subnets.clone()))
                    .set_security_groups(Some(self.security_groups.clone()))
                    .assign_public_ip(AssignPublicIp::Disabled)
                    .build()
                    .map_err(|e| AwsError::build(call, e))?,
            )
            .build())
    }

    fn deployment(&self) -> DeploymentConfiguration {
        DeploymentConfiguration::builder()
            .deployment_circuit_breaker(
                DeploymentCircuitBreaker::builder()
                    .enable(self.circuit_breaker_rollback)
                    .rollback(self.circuit_breaker_rollback)
                    .build(),
            )
            .minimum_healthy_percent(self.minimum_healthy_percent)
            .maximum_percent(self.maximum_percent)
            .build()
    }

    fn ecs_tags(&self) -> Vec<Tag> {
        self.tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    fn strategy_of(service: &Service) -> Vec<(String, i32, i32)> {
        let mut s: Vec<(String, i32, i32)> = service
            .capacity_provider_strategy()
            .iter()
            .map(|c| (c.capacity_provider().to_string(), c.weight(), c.base()))
            .collect();
        s.sort();
        s
    }

    fn wanted_strategy(&self) -> Vec<(String, i32, i32)> {
        let mut s: Vec<(String, i32, i32)> = self
            .capacity_provider_strategy
            .iter()
            .map(|c| (c.provider.clone(), c.weight, c.base))
            .collect();
        s.sort();
        s
    }

    fn differences(
        &self,
        service: &Service,
        task_definition: &str,
        registry: Option<&str>,
    ) -> Vec<String> {
        let mut diffs = Vec::new();
        if service.task_definition() != Some(task_definition) {
            diffs.push(format!(
                "task definition is {}, want {task_definition}",
                service.task_definition().unwrap_or("none")
            ));
        }
        if !self.desired_count_managed_by_autoscaling
            && service.desired_count() != self.desired_count
        {
            diffs.push(format!(
                "desired count is {}, want {}",
                service.desired_count(),
                self.desired_count
            ));
        }
        let (found, want) = (Self::strategy_of(service), self.wanted_strategy());
        if found != want {
            diffs.push(format!(
                "capacity provider strategy is {found:?}, want {want:?}"
            ));
        }
        let vpc = service
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration());
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        let subnets = vpc.map(|v| sorted(v.subnets())).unwrap_or_default();
        if subnets != self.subnets {
            diffs.push(format!("subnets are {subnets:?}, want {:?}", self.subnets));
        }
        let groups = vpc.map(|v| sorted(v.security_groups())).unwrap_or_default();
        if groups != self.security_groups {
            diffs.push(format!(
                "security groups are {groups:?}, want {:?}",
                self.security_groups
            ));
        }
        if let Some(ip) = vpc.and_then(|v| v.assign_public_ip()) {
            if ip != &AssignPublicIp::Disabled {
                diffs.push("a public IP is assigned, want none".to_string());
            }
        }
        let registries: Vec<&str> = service
            .service_registries()
            .iter()
            .filter_map(|r| r.registry_arn())
            .collect();
        let want_registries: Vec<&str> = registry.into_iter().collect();
        let same_registries = registries.len() == want_registries.len()
            && registries
                .iter()
                .zip(&want_registries)
                .all(|(f, w)| f == w || f.ends_with(&format!("/{w}")));
        if !same_registries {
            diffs.push(format!(
                "service registries are {registries:?}, want {want_registries:?}"
            ));
        }
        if let Some(dc) = service.deployment_configuration() {
            if let Some(cb) = dc.deployment_circuit_breaker() {
                if cb.enable() != self.circuit_breaker_rollback
                    || cb.rollback() != self.circuit_breaker_rollback
                {
                    diffs.push(format!(
                        "deployment circuit breaker is enable={} rollback={}, want {}",
                        cb.enable(),
                        cb.rollback(),
                        self.circuit_breaker_rollback
                    ));
                }
            }
            if let Some(min) = dc.minimum_healthy_percent() {
                if min != self.minimum_healthy_percent {
                    diffs.push(format!(
                        "minimum healthy percent is {min}, want {}",
                        self.minimum_healthy_percent
                    ));
                }
            }
            if let Some(max) = dc.maximum_percent() {
                if max != self.maximum_percent {
                    diffs.push(format!(
                        "maximum percent is {max}, want {}",
                        self.maximum_percent
                    ));
                }
            }
        }
        if let Some(p) = service.propagate_tags() {
            if p != &PropagateTags::Service {
                diffs.push(format!("tags propagate from {}, want SERVICE", p.as_str()));
            }
        }
        let found_tags: BTreeMap<String, String> = service
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect();
        diffs.extend(tags::differences(&self.tags, &found_tags));
        diffs
    }

    /// Wait until the deployment `deployment_id` completed, or fail when
    /// ECS rolled it back.
    async fn wait_for(
        &self,
        aws: &Clients,
        id: &str,
        deployment_id: Option<String>,
    ) -> Result<(), AwsError> {
        const CALL: &str = "ecs:DescribeServices";
        loop {
            let service = self.describe(aws, id).await?.ok_or_else(|| {
                AwsError::new(
                    CALL,
                    format!("ECS service {} disappeared while waiting for it", self.name),
                )
            })?;
            let deployments = service.deployments();
            let ours = match &deployment_id {
                Some(d) => deployments.iter().find(|x| x.id() == Some(d.as_str())),
                None => deployments.iter().find(|x| x.status() == Some("PRIMARY")),
            };
            let Some(ours) = ours else {
                return Err(AwsError::new(
                    CALL,
                    format!("{DEPLOYMENT_FAILED}: the deployment of ECS service {} was replaced (rolled back by the deployment circuit breaker?)", self.name),
                ));
            };
            match ours.rollout_state() {
                Some(DeploymentRolloutState::Failed) => {
                    return Err(AwsError::new(
                        CALL,
                        format!(
                            "{DEPLOYMENT_FAILED}: ECS rolled back the deployment of service {}: {}",
                            self.name,
                            ours.rollout_state_reason().unwrap_or("no reason given")
                        ),
                    ))
                }
                Some(DeploymentRolloutState::Completed) if ours.status() == Some("PRIMARY") => {
                    return Ok(())
                }
                // Emulators may not report a rollout state: steady is one
                // deployment with every desired task running.
                None if deployments.len() == 1 && ours.running_count() == ours.desired_count() => {
                    return Ok(())
                }
                _ => {}
            }
            tracing::info!(
                service = %self.name,
                running = ours.running_count(),
                desired = ours.desired_count(),
                pending = ours.pending_count(),
                failed = ours.failed_tasks(),
                "waiting for the ECS deployment to finish"
            );
            let left = remaining().map_err(|_| {
                AwsError::new(
                    CALL,
                    format!(
                        "timed out waiting for ECS service {} to reach a steady state",
                        self.name
                    ),
                )
            })?;
            tokio::time::sleep(POLL_EVERY.min(left)).await;
        }
    }
}

impl EcsServiceSpec {
    /// Read back the service of this name in this cluster (a draining one
    /// counts as gone). Its id is its ARN; `references` holds the task
    /// definition revision it runs and the Cloud Map service ARN it
    /// registers in, under the keys of this spec's `task_definition` and
    /// `registry`. What ECS does not hold (whether autoscaling owns the
    /// desired count, whether to wait for steady state) is taken from `self`.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<EcsServiceSpec>>, AwsError> {
        let Some(service) = self.describe(aws, &self.name).await? else {
            return Ok(None);
        };
        let (Some(arn), Some(status)) = (service.service_arn(), service.status()) else {
            return Ok(None);
        };
        if status == "DRAINING" {
            return Ok(None);
        }
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        let vpc = service
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration());
        let registry_arn = service
            .service_registries()
            .iter()
            .find_map(|r| r.registry_arn())
            .map(str::to_string);
        let deployment = service.deployment_configuration();
        let breaker = deployment.and_then(|d| d.deployment_circuit_breaker());
        let mut spec = self.clone();
        spec.name = service.service_name().unwrap_or(&self.name).to_string();
        spec.desired_count = service.desired_count();
        spec.capacity_provider_strategy = service
            .capacity_provider_strategy()
            .iter()
            .map(|c| crate::spec::ecs::CapacityProviderSpec {
                provider: c.capacity_provider().to_string(),
                weight: c.weight(),
                base: c.base(),
            })
            .collect();
        spec.subnets = vpc.map(|v| sorted(v.subnets())).unwrap_or_default();
        spec.security_groups = vpc.map(|v| sorted(v.security_groups())).unwrap_or_default();
        spec.registry = registry_arn.as_ref().and(self.registry.clone());
        spec.circuit_breaker_rollback = breaker.is_some_and(|b| b.enable() && b.rollback());
        spec.minimum_healthy_percent = deployment
            .and_then(|d| d.minimum_healthy_percent())
            .unwrap_or(100);
        spec.maximum_percent = deployment.and_then(|d| d.maximum_percent()).unwrap_or(200);
        spec.tags = service
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect();
        if spec.tags.is_empty() {
            // Not every ECS (emulators) includes tags in DescribeServices.
            let out = aws
                .ecs
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| AwsError::sdk("ecs:ListTagsForResource", e))?;
            spec.tags = out
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
        }
        let mut found = Found::new(spec, arn);
        if let Some(td) = service.task_definition() {
            found
                .references
                .insert(self.task_definition.0.clone(), td.to_string());
        }
        if let (Some(key), Some(registry)) = (&self.registry, registry_arn) {
            found.references.insert(key.0.clone(), registry);
        }
        Ok(Some(found))
    }
}

#[async_trait]
impl Adapter for EcsServiceSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(service) = self.describe(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        if service.status() == Some("DRAINING") {
            return Ok(Observation::Missing);
        }
        let registry = self
            .registry
            .as_ref()
            .and_then(|r| resolved.get(&r.0))
            .map(String::as_str);
        Ok(Observation::with_differences(self.differences(
            &service,
            self.task_definition(resolved)?,
            registry,
        )))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "ecs:CreateService";
        if let Some(existing) = self.describe(aws, &self.name).await? {
            let found: BTreeMap<String, String> = existing
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
            tags::claim(CALL, "ECS service", &self.name, &self.tags, &found)?;
            if let Some(arn) = existing.service_arn() {
                return self.update(aws, arn, resolved).await;
            }
        }
        let mut request = aws
            .ecs
            .create_service()
            .cluster(&self.cluster)
            .service_name(&self.name)
            .task_definition(self.task_definition(resolved)?)
            .desired_count(self.desired_count)
            .set_capacity_provider_strategy(Some(self.strategy(CALL)?))
            .network_configuration(self.network(CALL)?)
            .deployment_configuration(self.deployment())
            .propagate_tags(PropagateTags::Service)
            .enable_ecs_managed_tags(true)
            .set_tags(Some(self.ecs_tags()))
            .client_token(crate::aws::appmesh::common::client_token());
        if let Some(arn) = self.registry_arn(aws, resolved).await? {
            request =
                request.service_registries(ServiceRegistry::builder().registry_arn(arn).build());
        }
        let out = request.send().await.map_err(|e| AwsError::sdk(CALL, e))?;
        out.service()
            .and_then(|s| s.service_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(CALL, "AWS returned no service ARN"))
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        const CALL: &str = "ecs:UpdateService";
        let Some(service) = self.describe(aws, id).await? else {
            return Err(AwsError::new(
                CALL,
                format!("ECS service {} disappeared", self.name),
            ));
        };
        let strategy_changed = Self::strategy_of(&service) != self.wanted_strategy();
        let mut request = aws
            .ecs
            .update_service()
            .cluster(&self.cluster)
            .service(id)
            .task_definition(self.task_definition(resolved)?)
            .set_capacity_provider_strategy(Some(self.strategy(CALL)?))
            .network_configuration(self.network(CALL)?)
            .deployment_configuration(self.deployment())
            .propagate_tags(PropagateTags::Service)
            // A new capacity provider strategy only applies to new tasks.
            .force_new_deployment(strategy_changed);
        if !self.desired_count_managed_by_autoscaling {
            request = request.desired_count(self.desired_count);
        }
        let registry_id = self
            .registry
            .as_ref()
            .and_then(|r| resolved.get(&r.0))
            .map(String::as_str);
        let registries_differ = self
            .differences(&service, self.task_definition(resolved)?, registry_id)
            .iter()
            .any(|d| d.starts_with("service registries"));
        if registries_differ {
            let arn = self.registry_arn(aws, resolved).await?;
            request = request.set_service_registries(Some(
                arn.into_iter()
                    .map(|a| ServiceRegistry::builder().registry_arn(a).build())
                    .collect(),
            ));
        }
        let out = request.send().await.map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .service()
            .and_then(|s| s.service_arn())
            .unwrap_or(id)
            .to_string();
        aws.ecs
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(self.ecs_tags()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:TagResource", e))?;
        Ok(arn)
    }

    async fn settle(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        if !self.wait_for_steady_state {
            return Ok(());
        }
        let primary = self.describe(aws, id).await?.and_then(|s| {
            s.deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
                .and_then(|d| d.id().map(str::to_string))
        });
        self.wait_for(aws, id, primary).await
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        const CALL: &str = "ecs:DeleteService";
        let Some(service) = self.describe(aws, id).await? else {
            return Ok(());
        };
        if service.status() == Some("ACTIVE") {
            // Scale in first so tasks drain instead of being killed at once.
            let scaled = aws
                .ecs
                .update_service()
                .cluster(&self.cluster)
                .service(id)
                .desired_count(0)
                .send()
                .await
                .map_err(|e| AwsError::sdk("ecs:UpdateService", e));
            if let Err(e) = scaled {
                if !e.is_not_found() {
                    return Err(e);
                }
            }
            match aws
                .ecs
                .delete_service()
                .cluster(&self.cluster)
                .service(id)
                .force(true)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    let e = AwsError::sdk(CALL, e);
                    if !e.is_not_found() {
                        return Err(e);
                    }
                }
            }
        }
        // Wait until ECS no longer reports it: its tasks have left Cloud Map
        // and the task definition may go.
        loop {
            match self.describe(aws, id).await? {
                None => return Ok(()),
                Some(s) => {
                    tracing::info!(service = %self.name, status = s.status().unwrap_or("?"), running = s.running_count(), "waiting for the ECS service to be deleted")
                }
            }
            let left = remaining().map_err(|_| {
                AwsError::new(
                    CALL,
                    format!("timed out waiting for ECS service {} to drain", self.name),
                )
            })?;
            tokio::time::sleep(POLL_EVERY.min(left)).await;
        }
    }
}
