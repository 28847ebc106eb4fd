//! ECS service. Its id is the service ARN.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, DeploymentCircuitBreaker,
    DeploymentConfiguration, DeploymentRolloutState, LogConfiguration, LogDriver,
    NetworkConfiguration, PropagateTags, Service, ServiceConnectClientAlias,
    ServiceConnectConfiguration, ServiceConnectService, ServiceConnectTlsCertificateAuthority,
    ServiceConnectTlsConfiguration, ServiceRegistry, Tag, TimeoutConfiguration,
};

use super::deployment_configuration::{deployment_differences, deployment_of, with_deployment};
use super::service_deployment::{self, current_deployment};
use super::service_load_balancer;
use super::services_gathered::service_name_in;
use crate::aws::cloudmap::namespace::namespace_id_from_arn;
use crate::aws::cloudmap::service_connect_discovery::{
    delete_left_behind, find_service, service_arn,
};
use crate::aws::cloudwatch::alarm_state;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{remaining, Observation, Resolved};
use crate::spec::deployment_strategy::DeploymentStrategy;
use crate::spec::ecs::{AwsLogsSpec, EcsServiceSpec, ServiceConnectSpec, ServiceConnectTlsSpec};

const POLL_EVERY: Duration = Duration::from_secs(5);
/// How long ECS has to remove the Cloud Map service it made for Service
/// Connect once the ECS service is gone, before the provider deletes it.
const LEFT_BEHIND_AFTER: Duration = Duration::from_secs(10);

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
        // By name or by ARN, it is the same service to a refresh's memo.
        let key = format!(
            "ecs:DescribeServices {} {}",
            self.cluster,
            service_name_in(&self.cluster, name_or_arn)
        );
        aws.remembered(key, || {
            super::services_gathered::gathered_service(aws, &self.cluster, name_or_arn)
        })
        .await
    }

    /// The canary deploying on `service`, when it runs a revision other
    /// than `wanted` that a `matbakh_canary` registered (see
    /// [`crate::spec::CANARY_TAG`]): its task definition and deployment
    /// settings are then the canary's, not drift.
    async fn canary_running(
        aws: &Clients,
        service: &Service,
        wanted: &str,
    ) -> Result<Option<String>, AwsError> {
        match service.task_definition() {
            Some(running) if running != wanted => {
                super::task_definition::canary_of_revision(aws, running).await
            }
            _ => Ok(None),
        }
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

    /// CreateService with every setting; the new service's ARN.
    async fn send_create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "ecs:CreateService";
        let mut request = aws
            .ecs
            .create_service()
            .cluster(&self.cluster)
            .service_name(&self.name)
            .task_definition(self.task_definition(resolved)?)
            .desired_count(self.desired_count)
            .set_capacity_provider_strategy(Some(self.strategy(CALL)?))
            .network_configuration(self.network(CALL, resolved)?)
            .deployment_configuration(self.deployment())
            .set_load_balancers(Some(service_load_balancer::wanted(self, resolved)?))
            .set_health_check_grace_period_seconds(
                self.load_balancer
                    .as_ref()
                    .map(|l| l.health_check_grace_period_seconds),
            )
            .propagate_tags(PropagateTags::Service)
            .enable_ecs_managed_tags(true)
            .set_tags(Some(self.ecs_tags()))
            .set_service_connect_configuration(self.service_connect_configuration(CALL)?)
            .client_token(crate::aws::appmesh::common::client_token());
        if let Some(arn) = self.registry_arn(aws, resolved).await? {
            request =
                request.service_registries(ServiceRegistry::builder().registry_arn(arn).build());
        }
        let out = request.send().await.map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .service()
            .and_then(|s| s.service_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(CALL, "AWS returned no service ARN"))?;
        // The answer names the first deployment: settle waits on it without
        // describing the service first.
        if let Some(first) = out.service().and_then(current_deployment) {
            service_deployment::note_update(&arn, None, Some(&first));
        }
        Ok(arn)
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

    fn network(&self, call: &str, resolved: &Resolved) -> Result<NetworkConfiguration, AwsError> {
        Ok(NetworkConfiguration::builder()
            .awsvpc_configuration(
                AwsVpcConfiguration::builder()
                    .set_subnets(Some(self.subnets.clone()))
                    .set_security_groups(Some(service_load_balancer::wanted_groups(
                        self, resolved,
                    )?))
                    .assign_public_ip(AssignPublicIp::Disabled)
                    .build()
                    .map_err(|e| AwsError::build(call, e))?,
            )
            .build())
    }

    /// Whether the circuit breaker goes with the deployment: AWS gives it
    /// to rolling deployments only (DeploymentCircuitBreaker, ECS API
    /// reference); CANARY, LINEAR and BLUE_GREEN are watched by their alarms.
    fn circuit_breaker(&self) -> bool {
        self.circuit_breaker_rollback && self.deployment.strategy == DeploymentStrategy::Rolling
    }

    /// `deploymentConfiguration` as ECS takes it.
    pub fn deployment(&self) -> DeploymentConfiguration {
        let breaker = self.circuit_breaker();
        with_deployment(DeploymentConfiguration::builder(), &self.deployment)
            .deployment_circuit_breaker(
                DeploymentCircuitBreaker::builder()
                    .enable(breaker)
                    .rollback(breaker)
                    .build(),
            )
            .minimum_healthy_percent(self.minimum_healthy_percent)
            .maximum_percent(self.maximum_percent)
            .build()
    }

    /// `serviceConnectConfiguration` as ECS takes it.
    fn service_connect_configuration(
        &self,
        call: &str,
    ) -> Result<Option<ServiceConnectConfiguration>, AwsError> {
        let Some(sc) = &self.service_connect else {
            return Ok(None);
        };
        let alias = ServiceConnectClientAlias::builder()
            .port(sc.port)
            .dns_name(&sc.dns_name)
            .build()
            .map_err(|e| AwsError::build(call, e))?;
        let mut service = ServiceConnectService::builder()
            .port_name(&sc.port_name)
            .discovery_name(&sc.discovery_name)
            .client_aliases(alias)
            .timeout(
                TimeoutConfiguration::builder()
                    .per_request_timeout_seconds(sc.per_request_timeout_seconds)
                    .idle_timeout_seconds(sc.idle_timeout_seconds)
                    .build(),
            );
        if let Some(tls) = &sc.tls {
            service = service.tls(
                ServiceConnectTlsConfiguration::builder()
                    .issuer_certificate_authority(
                        ServiceConnectTlsCertificateAuthority::builder()
                            .aws_pca_authority_arn(&tls.certificate_authority_arn)
                            .build(),
                    )
                    .role_arn(&tls.role_arn)
                    .build(),
            );
        }
        let log = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", &sc.log.group)
            .options("awslogs-region", &sc.log.region)
            .options("awslogs-stream-prefix", &sc.log.stream_prefix)
            .build()
            .map_err(|e| AwsError::build(call, e))?;
        Ok(Some(
            ServiceConnectConfiguration::builder()
                .enabled(true)
                .namespace(&sc.namespace_arn)
                .services(service.build().map_err(|e| AwsError::build(call, e))?)
                .log_configuration(log)
                .build(),
        ))
    }

    /// The Service Connect settings ECS runs the service with. The Service
    /// shape does not carry them; its deployments do: the PRIMARY one's
    /// (the newest, which an update just started), else the first.
    fn service_connect_of(service: &Service) -> Option<ServiceConnectSpec> {
        let deployments = service.deployments();
        let deployment = deployments
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .or(deployments.first())?;
        let config = deployment.service_connect_configuration()?;
        if !config.enabled() {
            return None;
        }
        let svc = config.services().first();
        let alias = svc.and_then(|s| s.client_aliases().first());
        let timeout = svc.and_then(|s| s.timeout());
        let tls = svc.and_then(|s| s.tls()).map(|t| ServiceConnectTlsSpec {
            certificate_authority_arn: t
                .issuer_certificate_authority()
                .and_then(|ca| ca.aws_pca_authority_arn())
                .unwrap_or_default()
                .to_string(),
            role_arn: t.role_arn().unwrap_or_default().to_string(),
        });
        let log = config.log_configuration();
        let option = |k: &str| {
            log.and_then(|l| l.options())
                .and_then(|o| o.get(k))
                .cloned()
                .unwrap_or_default()
        };
        Some(ServiceConnectSpec {
            namespace_arn: config.namespace().unwrap_or_default().to_string(),
            port_name: svc.map(|s| s.port_name().to_string()).unwrap_or_default(),
            discovery_name: svc
                .and_then(|s| s.discovery_name())
                .unwrap_or_default()
                .to_string(),
            dns_name: alias
                .and_then(|a| a.dns_name())
                .unwrap_or_default()
                .to_string(),
            port: alias.map(|a| a.port()).unwrap_or_default(),
            per_request_timeout_seconds: timeout
                .and_then(|t| t.per_request_timeout_seconds())
                .unwrap_or_default(),
            idle_timeout_seconds: timeout
                .and_then(|t| t.idle_timeout_seconds())
                .unwrap_or_default(),
            tls,
            log: AwsLogsSpec {
                group: option("awslogs-group"),
                region: option("awslogs-region"),
                stream_prefix: option("awslogs-stream-prefix"),
            },
        })
    }

    /// How the Service Connect settings ECS runs differ from the wanted ones.
    fn service_connect_differences(&self, service: &Service) -> Vec<String> {
        let found = Self::service_connect_of(service);
        match (&self.service_connect, found) {
            (None, None) => vec![],
            (None, Some(_)) => vec!["Service Connect is enabled, want it off".to_string()],
            (Some(_), None) => vec!["Service Connect is off, want it enabled".to_string()],
            (Some(want), Some(found)) => service_connect_differences(want, &found),
        }
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
        resolved: &Resolved,
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
        let want_groups = service_load_balancer::wanted_groups(self, resolved)
            .unwrap_or_else(|_| self.security_groups.clone());
        if groups != want_groups {
            diffs.push(format!(
                "security groups are {groups:?}, want {want_groups:?}"
            ));
        }
        diffs.extend(service_load_balancer::differences(self, service, resolved));
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
        diffs.extend(self.service_connect_differences(service));
        diffs.extend(deployment_differences(
            &self.deployment,
            &deployment_of(service.deployment_configuration()),
        ));
        if let Some(dc) = service.deployment_configuration() {
            if let Some(cb) = dc.deployment_circuit_breaker() {
                let want = self.circuit_breaker();
                if cb.enable() != want || cb.rollback() != want {
                    diffs.push(format!(
                        "deployment circuit breaker is enable={} rollback={}, want {want}",
                        cb.enable(),
                        cb.rollback(),
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
    /// Wait for the deployment `deployment_id` (else the PRIMARY one) to
    /// finish; `first` is a describe already made, looked at before asking
    /// ECS again.
    async fn wait_for(
        &self,
        aws: &Clients,
        id: &str,
        deployment_id: Option<String>,
        mut first: Option<Service>,
    ) -> Result<(), AwsError> {
        const CALL: &str = "ecs:DescribeServices";
        loop {
            let described = match first.take() {
                Some(service) => Some(service),
                None => self.describe(aws, id).await?,
            };
            let service = described.ok_or_else(|| {
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
            let _ = crate::engine::pause(POLL_EVERY.min(left)).await;
        }
    }
}

impl EcsServiceSpec {
    /// After the service is deleted, wait until the Cloud Map service
    /// Service Connect created for it is gone: the namespace cannot be
    /// deleted before, and a new service of the name would meet it. ECS
    /// gets `LEFT_BEHIND_AFTER` to remove it; then the provider deletes it
    /// (AWS does not document that ECS does).
    async fn wait_for_service_connect_discovery_gone(&self, aws: &Clients) -> Result<(), AwsError> {
        let Some(sc) = &self.service_connect else {
            return Ok(());
        };
        let namespace_id = namespace_id_from_arn(&sc.namespace_arn);
        let started = tokio::time::Instant::now();
        while let Some(id) = find_service(aws, namespace_id, &sc.discovery_name).await? {
            if started.elapsed() >= LEFT_BEHIND_AFTER {
                match service_arn(aws, &id).await? {
                    None => return Ok(()),
                    Some(arn) => {
                        if delete_left_behind(aws, &id, &arn).await? {
                            return Ok(());
                        }
                    }
                }
            }
            tracing::info!(service = %self.name, discovery_name = %sc.discovery_name, "waiting for ECS to remove the Cloud Map service of the Service Connect endpoint");
            let left = remaining().map_err(|_| {
                AwsError::new(
                    "servicediscovery:ListServices",
                    format!(
                        "timed out waiting for ECS to remove Cloud Map service {} of ECS service {}",
                        sc.discovery_name, self.name
                    ),
                )
            })?;
            let _ = crate::engine::pause(POLL_EVERY.min(left)).await;
        }
        Ok(())
    }

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
        spec.load_balancer = service_load_balancer::read_back(&service);
        spec.service_connect = Self::service_connect_of(&service);
        spec.deployment = deployment_of(deployment);
        // Off with another strategy than rolling is what this spec sends
        // there (see `circuit_breaker`), not a difference.
        spec.circuit_breaker_rollback = breaker.is_some_and(|b| b.enable() && b.rollback())
            || (self.circuit_breaker_rollback
                && spec.deployment.strategy != DeploymentStrategy::Rolling);
        spec.minimum_healthy_percent = deployment
            .and_then(|d| d.minimum_healthy_percent())
            .unwrap_or(100);
        spec.maximum_percent = deployment.and_then(|d| d.maximum_percent()).unwrap_or(200);
        spec.tags = super::tag_map(service.tags());
        if spec.tags.is_empty() {
            // Not every ECS (emulators) includes tags in DescribeServices.
            spec.tags = super::tags_of(aws, arn).await?;
        }
        let mut found = Found::new(spec, arn);
        // After ECS rolled a deployment back on its alarms, the revision
        // that runs is read back, never the rejected one: the next plan shows
        // the rejected image as a change (and warns that it was rolled back),
        // and applying it is a deliberate retry (issue #19 item 11).
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
        let wanted = self.task_definition(resolved)?;
        let mut differences = self.differences(&service, wanted, registry, resolved);
        // No fight with a canary: while one deploys (or holds) its revision
        // on this service, the revision and the deployment settings are its.
        if let Some(canary) = Self::canary_running(aws, &service, wanted).await? {
            let deployment = deployment_differences(
                &self.deployment,
                &deployment_of(service.deployment_configuration()),
            );
            differences.retain(|d| !d.starts_with("task definition is") && !deployment.contains(d));
            tracing::debug!(service = %self.name, canary = %canary, "a canary's revision runs: left to the canary");
        }
        Ok(Observation::with_differences(differences))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "ecs:CreateService";
        // Straight to CreateService: only when ECS refuses the name ("not
        // idempotent": a service of the name exists) is it looked at, to
        // adopt our own leftover or refuse someone else's.
        let refused = match self.send_create(aws, resolved).await {
            Ok(arn) => return Ok(arn),
            Err(e) if e.is_conflict() => e,
            Err(e) => return Err(e),
        };
        let Some(existing) = self.describe(aws, &self.name).await? else {
            return Err(refused);
        };
        let found: BTreeMap<String, String> = existing
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect();
        tags::claim(CALL, "ECS service", &self.name, &self.tags, &found)?;
        match existing.service_arn() {
            Some(arn) => self.update(aws, arn, resolved).await,
            None => Err(refused),
        }
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
        let wanted = self.task_definition(resolved)?;
        // While a canary's revision runs, the revision and the deployment
        // settings stay the canary's (the two never fight).
        let canary = Self::canary_running(aws, &service, wanted).await?;
        let (task_definition, deployment) = match &canary {
            Some(_) => (
                service.task_definition().unwrap_or(wanted),
                service.deployment_configuration().cloned(),
            ),
            None => (wanted, Some(self.deployment())),
        };
        let mut request = aws
            .ecs
            .update_service()
            .cluster(&self.cluster)
            .service(id)
            .task_definition(task_definition)
            .set_capacity_provider_strategy(Some(self.strategy(CALL)?))
            .network_configuration(self.network(CALL, resolved)?)
            .set_deployment_configuration(deployment)
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
            .differences(
                &service,
                self.task_definition(resolved)?,
                registry_id,
                resolved,
            )
            .iter()
            .any(|d| d.starts_with("service registries"));
        // Sent only when it differs: a new load balancer configuration
        // starts a deployment.
        let load_balancer_differs =
            !service_load_balancer::differences(self, &service, resolved).is_empty();
        if load_balancer_differs {
            request = request
                .set_load_balancers(Some(service_load_balancer::for_update(
                    self, &service, resolved,
                )?))
                .set_health_check_grace_period_seconds(
                    self.load_balancer
                        .as_ref()
                        .map(|l| l.health_check_grace_period_seconds),
                );
        }
        let service_connect_differs = !self.service_connect_differences(&service).is_empty();
        // What starts a deployment: a new revision, capacity strategy,
        // Service Connect configuration or registry.
        let starts_deployment = service.task_definition() != Some(task_definition)
            || strategy_changed
            || service_connect_differs
            || registries_differ
            || load_balancer_differs;
        // Sent only when it differs: a Service Connect configuration in an
        // update starts a new deployment.
        if service_connect_differs {
            request = request.set_service_connect_configuration(
                self.service_connect_configuration(CALL)?.or_else(|| {
                    Some(
                        ServiceConnectConfiguration::builder()
                            .enabled(false)
                            .build(),
                    )
                }),
            );
        }
        if registries_differ {
            let arn = self.registry_arn(aws, resolved).await?;
            request = request.set_service_registries(Some(
                arn.into_iter()
                    .map(|a| ServiceRegistry::builder().registry_arn(a).build())
                    .collect(),
            ));
        }
        if starts_deployment && canary.is_none() && self.deployment.rollback_on_alarms {
            // ECS watches no alarm of a deployment that starts with one of
            // them in ALARM: they start it from OK.
            let reset = alarm_state::clear_alarm(
                aws,
                &self.deployment.alarm_names,
                "matbakh: a deployment with these rollback alarms starts (ECS would not watch them from ALARM)",
            )
            .await?;
            if !reset.is_empty() {
                tracing::info!(service = %self.name, alarms = ?reset, "rollback alarms in ALARM set to OK before the deployment");
            }
        }
        let out = request.send().await.map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .service()
            .and_then(|s| s.service_arn())
            .unwrap_or(id)
            .to_string();
        let before = current_deployment(&service);
        let started = service_deployment::find_started(
            aws,
            &self.cluster,
            &arn,
            before.as_deref(),
            out.service().and_then(current_deployment).as_deref(),
            starts_deployment && self.wait_for_steady_state,
        )
        .await?;
        service_deployment::note_update(&arn, before.as_deref(), started.as_deref());
        let found = super::tag_map(service.tags());
        super::put_tags(aws, &arn, &self.tags, Some(found)).await?;
        Ok(arn)
    }

    async fn settle(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let noted = service_deployment::take_noted(id);
        if !self.wait_for_steady_state {
            return Ok(());
        }
        // The create or update named the deployment it started: wait on it.
        if let Some(Some(started)) = &noted {
            return service_deployment::wait_for_deployment(
                aws,
                &self.name,
                started,
                DEPLOYMENT_FAILED,
                |_| {},
            )
            .await;
        }
        // ECS's service deployments when it has them: the one the update
        // started, or the current one after a create (the first).
        let service = self.describe(aws, id).await?;
        if let Some(current) = service.as_ref().and_then(current_deployment) {
            let ours = match noted {
                Some(Some(started)) => Some(started),
                None => Some(current),
                // The update started no deployment: nothing of this apply's
                // to wait on or fail for.
                Some(None) => None,
            };
            return match ours {
                Some(arn) => {
                    service_deployment::wait_for_deployment(
                        aws,
                        &self.name,
                        &arn,
                        DEPLOYMENT_FAILED,
                        |_| {},
                    )
                    .await
                }
                None => Ok(()),
            };
        }
        // Without them, the describe above both names the deployment to wait
        // for and is the first look at its state.
        let primary = service.as_ref().and_then(|s| {
            s.deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
                .and_then(|d| d.id().map(str::to_string))
        });
        self.wait_for(aws, id, primary, service).await
    }

    /// Once the service is gone: its Service Connect endpoint's Cloud Map
    /// service, which the namespace's delete needs gone, and the service's
    /// roles and task definition do not.
    async fn finish_delete(&self, aws: &Clients, _: &str) -> Result<(), AwsError> {
        self.wait_for_service_connect_discovery_gone(aws).await
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        const CALL: &str = "ecs:DeleteService";
        // Forced, straight away: ECS stops the tasks itself, each with its
        // stop timeout to drain, so no scale-in to 0 first; a service
        // already gone or draining is what we want.
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
                let inactive = e.code.as_deref() == Some("ServiceNotActiveException");
                if !e.is_not_found() && !inactive {
                    return Err(e);
                }
            }
        }
        // Wait until ECS no longer reports it: its tasks have left Cloud Map
        // and the task definition may go (the Service Connect endpoint's
        // Cloud Map service is waited for in `finish_delete`, beside them).
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
            let _ = crate::engine::pause(POLL_EVERY.min(left)).await;
        }
    }
}

/// Which of `names` are ECS services of `cluster` (not deleted). ECS
/// describes at most 10 services per call.
pub async fn existing_services(
    aws: &Clients,
    cluster: &str,
    names: &[String],
) -> Result<std::collections::BTreeSet<String>, AwsError> {
    let mut found = std::collections::BTreeSet::new();
    for chunk in names.chunks(10) {
        let out = aws
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:DescribeServices", e));
        let out = match out {
            Ok(out) => out,
            Err(e) if e.is_not_found() => return Ok(found),
            Err(e) => return Err(e),
        };
        for service in out.services() {
            if service.status() != Some("INACTIVE") {
                if let Some(name) = service.service_name() {
                    found.insert(name.to_string());
                }
            }
        }
    }
    Ok(found)
}

/// Differences between wanted and found Service Connect settings, in words.
/// The namespace is compared by ARN.
pub fn service_connect_differences(
    want: &ServiceConnectSpec,
    found: &ServiceConnectSpec,
) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut field = |what: &str, found: String, want: String| {
        if found != want {
            diffs.push(format!(
                "Service Connect {what} is {found:?}, want {want:?}"
            ));
        }
    };
    field(
        "namespace",
        found.namespace_arn.clone(),
        want.namespace_arn.clone(),
    );
    field("port name", found.port_name.clone(), want.port_name.clone());
    field(
        "discovery name",
        found.discovery_name.clone(),
        want.discovery_name.clone(),
    );
    field(
        "client alias",
        format!("{}:{}", found.dns_name, found.port),
        format!("{}:{}", want.dns_name, want.port),
    );
    field(
        "per-request timeout",
        format!("{}s", found.per_request_timeout_seconds),
        format!("{}s", want.per_request_timeout_seconds),
    );
    field(
        "idle timeout",
        format!("{}s", found.idle_timeout_seconds),
        format!("{}s", want.idle_timeout_seconds),
    );
    let tls = |t: &Option<ServiceConnectTlsSpec>| match t {
        None => "off".to_string(),
        Some(t) => format!(
            "CA {} with role {}",
            t.certificate_authority_arn, t.role_arn
        ),
    };
    field("TLS", tls(&found.tls), tls(&want.tls));
    field(
        "proxy log group",
        format!("{} ({})", found.log.group, found.log.stream_prefix),
        format!("{} ({})", want.log.group, want.log.stream_prefix),
    );
    diffs
}

#[cfg(test)]
mod service_connect_tests {
    use super::*;

    fn spec() -> ServiceConnectSpec {
        ServiceConnectSpec {
            namespace_arn: "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-1"
                .into(),
            port_name: "http".into(),
            discovery_name: "auth".into(),
            dns_name: "auth.svc.local".into(),
            port: 8080,
            per_request_timeout_seconds: 15,
            idle_timeout_seconds: 300,
            tls: None,
            log: AwsLogsSpec {
                group: "/matbakh/matbakh/auth".into(),
                region: "eu-central-1".into(),
                stream_prefix: "service-connect".into(),
            },
        }
    }

    #[test]
    fn equal_settings_do_not_differ() {
        assert!(service_connect_differences(&spec(), &spec()).is_empty());
    }

    #[test]
    fn namespace_by_name_is_a_difference_and_each_field_is_named() {
        let mut found = spec();
        found.namespace_arn = "svc.local".into();
        found.idle_timeout_seconds = 60;
        found.tls = Some(ServiceConnectTlsSpec {
            certificate_authority_arn: "ca".into(),
            role_arn: "role".into(),
        });
        let diffs = service_connect_differences(&spec(), &found);
        assert_eq!(diffs.len(), 3, "{diffs:?}");
        assert!(diffs[0].contains("namespace is \"svc.local\""));
        assert!(diffs[1].contains("idle timeout is \"60s\", want \"300s\""));
        assert!(diffs[2].starts_with("Service Connect TLS"));
    }

    #[test]
    fn the_request_carries_every_setting() {
        let service = EcsServiceSpec {
            cluster: "matbakh".into(),
            name: "auth".into(),
            task_definition: crate::spec::Ref::to("task_definition"),
            desired_count: 1,
            desired_count_managed_by_autoscaling: false,
            capacity_provider_strategy: vec![],
            subnets: vec![],
            security_groups: vec![],
            registry: None,
            service_connect: Some(ServiceConnectSpec {
                tls: Some(ServiceConnectTlsSpec {
                    certificate_authority_arn:
                        "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/x".into(),
                    role_arn: "arn:aws:iam::123456789012:role/sc".into(),
                }),
                ..spec()
            }),
            circuit_breaker_rollback: true,
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            deployment: Default::default(),
            wait_for_steady_state: true,
            load_balancer: None,
            tags: Default::default(),
        };
        let c = service
            .service_connect_configuration("ecs:CreateService")
            .unwrap()
            .unwrap();
        assert!(c.enabled());
        assert_eq!(c.namespace(), Some(spec().namespace_arn.as_str()));
        let s = &c.services()[0];
        assert_eq!((s.port_name(), s.discovery_name()), ("http", Some("auth")));
        assert_eq!(s.client_aliases().len(), 1);
        assert_eq!(s.client_aliases()[0].dns_name(), Some("auth.svc.local"));
        assert_eq!(s.client_aliases()[0].port(), 8080);
        let t = s.timeout().unwrap();
        assert_eq!(
            (t.per_request_timeout_seconds(), t.idle_timeout_seconds()),
            (Some(15), Some(300))
        );
        let tls = s.tls().unwrap();
        assert_eq!(tls.role_arn(), Some("arn:aws:iam::123456789012:role/sc"));
        let log = c.log_configuration().unwrap();
        assert_eq!(log.log_driver(), &LogDriver::Awslogs);
        assert_eq!(
            log.options().unwrap()["awslogs-group"],
            "/matbakh/matbakh/auth"
        );
    }
}
