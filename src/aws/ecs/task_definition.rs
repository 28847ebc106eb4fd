//! ECS task definition. Its id is the revision's ARN (`...:task-definition/FAMILY:N`).
//!
//! Revisions are immutable, so a change registers a new revision. Each
//! revision carries a tag `matbakh:spec-hash`: a stable hash of the spec with
//! its references resolved; observing compares hashes, which never yields a
//! phantom difference from AWS's own representation. The revision before the
//! current one stays ACTIVE as the ECS deployment circuit breaker's rollback
//! target; older ones are deregistered.

use crate::aws::iam_propagation::role_not_yet_usable;
use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_sdk_ecs::types::{
    ApplicationProtocol, Compatibility, ContainerCondition, ContainerDefinition,
    ContainerDependency, HealthCheck, KeyValuePair, LogConfiguration, LogDriver, NetworkMode,
    PortMapping, ProxyConfiguration, ProxyConfigurationType, Secret, Tag, TaskDefinition,
    TaskDefinitionField, TaskDefinitionStatus, TransportProtocol,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::compare::stable_hash;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::ecs::{
    AwsLogsSpec, ContainerDependencySpec, ContainerHealthCheckSpec, ContainerSpec, EnvValue,
    NamedPortSpec, ProxyConfigurationSpec, TaskDefinitionSpec,
};

/// How often RegisterTaskDefinition is tried (it is retried here, not by the
/// SDK: see `register`).
const REGISTER_ATTEMPTS: u32 = 5;

/// Exponential backoff with full jitter before retry `attempt` (1-based):
/// up to 0.4 s, 0.8 s, 1.6 s, 3.2 s.
fn register_backoff(attempt: u32) -> Duration {
    let ceiling_ms = 200u64 << attempt.min(6);
    Duration::from_millis(rand::random::<u64>() % (ceiling_ms + 1))
}

/// Whether a failed call is worth retrying: the request may not have
/// reached AWS, or AWS answered with throttling or a server error. Client
/// errors (a bad request) would fail the same way again.
fn retry_may_help<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let throttled = matches!(
                service.err().code(),
                Some(
                    "ThrottlingException"
                        | "Throttling"
                        | "TooManyRequestsException"
                        | "RequestLimitExceeded"
                        | "ServerException"
                        | "ServiceUnavailableException"
                        | "InternalFailure"
                )
            );
            throttled || service.raw().status().is_server_error()
        }
        _ => false,
    }
}

/// Tag holding the hash of the spec a revision was registered from.
pub const SPEC_HASH_TAG: &str = "matbakh:spec-hash";

impl TaskDefinitionSpec {
    /// The hash of this spec with its references resolved.
    pub fn spec_hash(&self, resolved: &Resolved) -> Result<String, AwsError> {
        let mut text = serde_json::to_string(&(
            &self.family,
            self.cpu,
            self.memory,
            &self.execution_role_arn,
            &self.task_role_arn,
            &self.containers,
            &self.proxy,
        ))
        .map_err(|e| AwsError::new("ecs:RegisterTaskDefinition", e.to_string()))?;
        for key in self.references() {
            text.push('\n');
            text.push_str(&resolve(resolved, &key)?);
        }
        Ok(stable_hash(&text))
    }

    fn references(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .containers
            .iter()
            .flat_map(|c| c.environment.values())
            .filter_map(|v| match v {
                EnvValue::Component { of } => Some(of.0.clone()),
                EnvValue::Text(_) => None,
            })
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    fn container_definitions(
        &self,
        resolved: &Resolved,
    ) -> Result<Vec<ContainerDefinition>, AwsError> {
        const CALL: &str = "ecs:RegisterTaskDefinition";
        let b = |e| AwsError::build(CALL, e);
        let mut out = Vec::new();
        for c in &self.containers {
            let mut d = ContainerDefinition::builder()
                .name(&c.name)
                .image(&c.image)
                .cpu(c.cpu)
                .memory(c.memory)
                .essential(c.essential)
                .readonly_root_filesystem(c.read_only_root_filesystem)
                .set_user(c.user.clone())
                .log_configuration(
                    LogConfiguration::builder()
                        .log_driver(LogDriver::Awslogs)
                        .options("awslogs-group", &c.log.group)
                        .options("awslogs-region", &c.log.region)
                        .options("awslogs-stream-prefix", &c.log.stream_prefix)
                        .build()
                        .map_err(b)?,
                );
            for (i, port) in c.ports.iter().enumerate() {
                let mut mapping = PortMapping::builder()
                    .container_port(*port)
                    .protocol(TransportProtocol::Tcp);
                if let (0, Some(named)) = (i, &c.port_name) {
                    mapping = mapping
                        .name(&named.name)
                        .app_protocol(ApplicationProtocol::from(named.app_protocol.as_str()));
                }
                d = d.port_mappings(mapping.build());
            }
            for (name, value) in &c.environment {
                let value = match value {
                    EnvValue::Text(t) => t.clone(),
                    EnvValue::Component { of } => resolve(resolved, &of.0)?,
                };
                d = d.environment(KeyValuePair::builder().name(name).value(value).build());
            }
            for (name, arn) in &c.secrets {
                d = d.secrets(
                    Secret::builder()
                        .name(name)
                        .value_from(arn)
                        .build()
                        .map_err(b)?,
                );
            }
            if !c.command.is_empty() {
                d = d.set_command(Some(c.command.clone()));
            }
            if let Some(hc) = &c.health_check {
                d = d.health_check(
                    HealthCheck::builder()
                        .set_command(Some(hc.command.clone()))
                        .interval(hc.interval_seconds)
                        .timeout(hc.timeout_seconds)
                        .retries(hc.retries)
                        .start_period(hc.start_period_seconds)
                        .build()
                        .map_err(b)?,
                );
            }
            for dep in &c.depends_on {
                d = d.depends_on(
                    ContainerDependency::builder()
                        .container_name(&dep.container)
                        .condition(ContainerCondition::from(dep.condition.as_str()))
                        .build()
                        .map_err(b)?,
                );
            }
            out.push(d.build());
        }
        Ok(out)
    }

    /// The spec a registered revision corresponds to, with `tags` as found
    /// (less the spec-hash tag). Environment values come back as text: a
    /// resolved reference (Envoy's `APPMESH_RESOURCE_ARN`) reads as the ARN.
    /// What ECS fills in when it was not given takes ECS's defaults
    /// (essential containers, health check timings).
    pub fn from_sdk(td: &TaskDefinition, tags: &BTreeMap<String, String>) -> TaskDefinitionSpec {
        let mut tags = tags.clone();
        tags.remove(SPEC_HASH_TAG);
        TaskDefinitionSpec {
            family: td.family().unwrap_or_default().to_string(),
            cpu: td.cpu().map(task_units).unwrap_or(0),
            memory: td.memory().map(task_units).unwrap_or(0),
            execution_role_arn: td.execution_role_arn().unwrap_or_default().to_string(),
            task_role_arn: td.task_role_arn().map(str::to_string),
            containers: td
                .container_definitions()
                .iter()
                .map(container_spec)
                .collect(),
            proxy: td.proxy_configuration().map(|p| ProxyConfigurationSpec {
                container_name: p.container_name().to_string(),
                properties: p
                    .properties()
                    .iter()
                    .filter_map(|kv| {
                        Some((
                            kv.name()?.to_string(),
                            kv.value().unwrap_or_default().to_string(),
                        ))
                    })
                    .collect(),
            }),
            tags,
        }
    }

    /// Read back one revision by its ARN, whatever its status (the revision
    /// a service runs may have been deregistered since). Its id is the ARN.
    ///
    /// In a refresh, a revision whose recorded version the driver vouched
    /// for (see `aws::versions`) is not described: its body is the vouched
    /// one (a revision's body never changes) and only its tags are read,
    /// gathered through GetResources.
    pub async fn read_back_revision(
        aws: &Clients,
        arn: &str,
    ) -> Result<Option<Found<TaskDefinitionSpec>>, AwsError> {
        if aws.memo.is_some() {
            if let Some(crate::spec::Spec::TaskDefinition(mut body)) = aws.versions.vouched_any(arn)
            {
                let Some(mut tags) = revision_tags(aws, arn).await? else {
                    return Ok(None);
                };
                tags.remove(SPEC_HASH_TAG);
                body.tags = tags;
                return Ok(Some(Found::new(body, arn)));
            }
        }
        Ok(describe_any(aws, arn).await?.map(|(td, tags)| {
            let id = td.task_definition_arn().unwrap_or(arn).to_string();
            Found::new(TaskDefinitionSpec::from_sdk(&td, &tags), id)
        }))
    }

    /// Read back the latest ACTIVE revision of this spec's family.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<TaskDefinitionSpec>>, AwsError> {
        Ok(self
            .describe(aws, &self.family)
            .await?
            .and_then(|(td, tags)| {
                let id = td.task_definition_arn()?.to_string();
                Some(Found::new(TaskDefinitionSpec::from_sdk(&td, &tags), id))
            }))
    }

    /// The key of the family's latest revision among an apply's reads
    /// ahead.
    fn family_key(&self) -> String {
        format!("ecs:DescribeTaskDefinition {}", self.family)
    }

    async fn describe(
        &self,
        aws: &Clients,
        arn_or_family: &str,
    ) -> Result<Option<(TaskDefinition, BTreeMap<String, String>)>, AwsError> {
        Ok(describe_any(aws, arn_or_family)
            .await?
            .filter(|(td, _)| td.status() == Some(&TaskDefinitionStatus::Active)))
    }

    /// The latest ACTIVE revision of the family when it is this resource's
    /// (owner and ownership token) and was registered from a spec with
    /// `hash`: what an earlier attempt registered, whose answer was lost.
    /// When `creating`, a family whose latest revision is not this
    /// resource's is refused with "already exists" (another resource of the
    /// same name registers into it).
    async fn registered_revision(
        &self,
        aws: &Clients,
        hash: &str,
        resolved: &Resolved,
        creating: bool,
    ) -> Result<Option<String>, AwsError> {
        // Read ahead when the apply started (`look_ahead`), else now.
        let latest = aws
            .ahead
            .taken(self.family_key(), || self.describe(aws, &self.family))
            .await?;
        let Some((td, found)) = latest else {
            return Ok(None);
        };
        if creating {
            tags::claim(
                "ecs:RegisterTaskDefinition",
                "ECS task definition family",
                &self.family,
                &self.tags,
                &found,
            )?;
        }
        // The hash tag alone does not vouch for it: a CI system's revision
        // copies the tags of the one it was made from.
        let same = tags::may_adopt(&self.tags, &found)
            && found.get(SPEC_HASH_TAG).map(String::as_str) == Some(hash)
            && self.holds_the_same(&td, &found, resolved)?;
        Ok(same
            .then(|| td.task_definition_arn().map(str::to_string))
            .flatten())
    }

    /// Register a revision, or find the one an earlier attempt registered.
    ///
    /// AWS takes no idempotency token for RegisterTaskDefinition, so a
    /// blind retry after a lost answer registers a second revision. The
    /// SDK's own retry is therefore off for this one call; it is retried
    /// here, and each retry first looks for a revision carrying this spec's
    /// hash and this resource's token (the lost answer's), and registers
    /// again only when there is none.
    async fn register(
        &self,
        aws: &Clients,
        resolved: &Resolved,
        creating: bool,
    ) -> Result<String, AwsError> {
        const CALL: &str = "ecs:RegisterTaskDefinition";
        let hash = self.spec_hash(resolved)?;
        // A retried apply finds the revision it registered last time.
        if let Some(arn) = self
            .registered_revision(aws, &hash, resolved, creating)
            .await?
        {
            return Ok(arn);
        }
        let mut tags: Vec<Tag> = self
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        tags.push(Tag::builder().key(SPEC_HASH_TAG).value(&hash).build());
        let proxy = match &self.proxy {
            None => None,
            Some(p) => Some(
                ProxyConfiguration::builder()
                    .r#type(ProxyConfigurationType::Appmesh)
                    .container_name(&p.container_name)
                    .set_properties(Some(
                        p.properties
                            .iter()
                            .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
                            .collect(),
                    ))
                    .build()
                    .map_err(|e| AwsError::build(CALL, e))?,
            ),
        };
        let request = aws
            .ecs
            .register_task_definition()
            .family(&self.family)
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu(self.cpu.to_string())
            .memory(self.memory.to_string())
            .execution_role_arn(&self.execution_role_arn)
            .set_task_role_arn(self.task_role_arn.clone())
            .set_container_definitions(Some(self.container_definitions(resolved)?))
            .set_proxy_configuration(proxy)
            .set_tags(Some(tags));
        let mut attempt: u32 = 1;
        let mut role_waits: u32 = 0;
        loop {
            let sent = request
                .clone()
                .customize()
                .config_override(
                    aws_sdk_ecs::config::Builder::default().retry_config(RetryConfig::disabled()),
                )
                .send()
                .await;
            match sent {
                Ok(out) => {
                    return out
                        .task_definition()
                        .and_then(|td| td.task_definition_arn())
                        .map(str::to_string)
                        .ok_or_else(|| AwsError::new(CALL, "AWS returned no task definition ARN"))
                }
                // A role made in this apply, not yet visible to ECS.
                Err(e) if role_not_yet_usable(e.code(), e.message()) => {
                    let e = AwsError::sdk(CALL, e);
                    tracing::debug!(family = self.family.as_str(), error = %e, "role not yet usable; retrying");
                    if crate::aws::iam_propagation::wait(role_waits).await.is_err() {
                        return Err(e);
                    }
                    role_waits += 1;
                }
                Err(e) if attempt < REGISTER_ATTEMPTS && retry_may_help(&e) => {
                    tracing::debug!(
                        family = self.family.as_str(),
                        attempt,
                        error = %AwsError::sdk(CALL, e),
                        "RegisterTaskDefinition failed; looking for the revision before retrying"
                    );
                    tokio::time::sleep(register_backoff(attempt)).await;
                    // The request may have reached AWS although its answer
                    // did not reach us: look before registering again.
                    if let Some(arn) = self
                        .registered_revision(aws, &hash, resolved, false)
                        .await?
                    {
                        return Ok(arn);
                    }
                    attempt += 1;
                }
                Err(e) => return Err(AwsError::sdk(CALL, e)),
            }
        }
    }

    /// The ACTIVE revisions of our family, with their revision numbers.
    async fn active_revisions(&self, aws: &Clients) -> Result<Vec<(String, i64)>, AwsError> {
        let mut pages = aws
            .ecs
            .list_task_definitions()
            .family_prefix(&self.family)
            .status(TaskDefinitionStatus::Active)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::sdk("ecs:ListTaskDefinitions", e))?;
            for arn in page.task_definition_arns() {
                // family_prefix also matches longer families (NAME-canary).
                if family(arn) != Some(self.family.as_str()) {
                    continue;
                }
                if let Some(r) = revision(arn) {
                    found.push((arn.clone(), r));
                }
            }
        }
        Ok(found)
    }

    /// Deregister the ACTIVE revisions of our family older than `keep`.
    async fn deregister_older_than(&self, aws: &Clients, keep: &str) -> Result<(), AwsError> {
        let Some(keep_revision) = revision(keep) else {
            return Ok(());
        };
        for (arn, _) in self
            .active_revisions(aws)
            .await?
            .into_iter()
            .filter(|(_, r)| *r < keep_revision)
        {
            deregister(aws, &arn).await?;
        }
        Ok(())
    }

    /// On delete, every ACTIVE revision of our family besides `keep` that
    /// is this resource's: the older ones an update left behind, and newer
    /// ones that carry its owner tag and ownership token, whoever
    /// registered them: its canary (a revision of this family), or an
    /// update whose deployment rolled back, so that state records an older
    /// revision than the newest one. A newer revision without both tags is
    /// someone else's and stays.
    async fn deregister_others(&self, aws: &Clients, keep: &str) -> Result<(), AwsError> {
        let keep_revision = revision(keep);
        let others = self.active_revisions(aws).await?;
        let checks = others
            .into_iter()
            .filter(|(arn, _)| arn != keep)
            .map(|(arn, r)| async move {
                let older = keep_revision.is_some_and(|k| r < k);
                let ours = older
                    || describe_any_now(aws, &arn)
                        .await?
                        .is_some_and(|(_, found)| tags::may_adopt(&self.tags, &found));
                if ours {
                    deregister(aws, &arn).await?;
                }
                Ok::<(), AwsError>(())
            });
        futures::future::join_all(checks)
            .await
            .into_iter()
            .collect::<Result<Vec<()>, AwsError>>()?;
        Ok(())
    }
}

/// A revision (by ARN) or a family's latest ACTIVE revision, with its tags,
/// whatever its status.
pub async fn describe_any(
    aws: &Clients,
    arn_or_family: &str,
) -> Result<Option<(TaskDefinition, BTreeMap<String, String>)>, AwsError> {
    let key = format!("ecs:DescribeTaskDefinition {arn_or_family}");
    aws.remembered(key, || describe_any_now(aws, arn_or_family))
        .await
}

async fn describe_any_now(
    aws: &Clients,
    arn_or_family: &str,
) -> Result<Option<(TaskDefinition, BTreeMap<String, String>)>, AwsError> {
    let result = aws
        .ecs
        .describe_task_definition()
        .task_definition(arn_or_family)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(|e| AwsError::sdk("ecs:DescribeTaskDefinition", e));
    let out = match result {
        Ok(out) => out,
        // ECS answers an unknown revision with a ClientException.
        Err(e) if e.is_not_found() || e.code.as_deref() == Some("ClientException") => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let found: BTreeMap<String, String> = out
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect();
    Ok(out.task_definition.map(|td| (td, found)))
}

/// The `matbakh:canary` tag of revision `arn`: the canary that deploys it,
/// `None` for a revision no canary is deploying (or one that is gone).
pub async fn canary_of_revision(aws: &Clients, arn: &str) -> Result<Option<String>, AwsError> {
    Ok(describe_any(aws, arn)
        .await?
        .and_then(|(_, tags)| tags.get(crate::spec::CANARY_TAG).cloned()))
}

/// The newest ACTIVE revision of `family` that no canary is deploying (no
/// `matbakh:canary` tag): the microservice's own while a canary's
/// revision runs on its service.
pub async fn latest_without_canary(
    aws: &Clients,
    family: &str,
) -> Result<Option<String>, AwsError> {
    let mut pages = aws
        .ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .sort(aws_sdk_ecs::types::SortOrder::Desc)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("ecs:ListTaskDefinitions", e))?;
        for arn in page.task_definition_arns() {
            // family_prefix also matches longer families.
            if self::family(arn) != Some(family) {
                continue;
            }
            if canary_of_revision(aws, arn).await?.is_none() {
                return Ok(Some(arn.clone()));
            }
        }
    }
    Ok(None)
}

/// Task CPU or memory as ECS reports it: "512", or "1 vCPU" / "2 GB".
fn task_units(text: &str) -> i32 {
    let text = text.trim();
    let (number, unit) = text.split_once(' ').unwrap_or((text, ""));
    let Ok(n) = number.trim().parse::<f64>() else {
        return 0;
    };
    let units = match unit.trim().to_ascii_lowercase().as_str() {
        "vcpu" | "gb" => n * 1024.0,
        _ => n,
    };
    units.round() as i32
}

/// One container definition as a [`ContainerSpec`].
fn container_spec(c: &ContainerDefinition) -> ContainerSpec {
    let options = c.log_configuration().and_then(|l| l.options());
    let option = |key: &str| {
        options
            .and_then(|o| o.get(key))
            .cloned()
            .unwrap_or_default()
    };
    ContainerSpec {
        name: c.name().unwrap_or_default().to_string(),
        image: c.image().unwrap_or_default().to_string(),
        cpu: c.cpu(),
        memory: c.memory().or(c.memory_reservation()).unwrap_or(0),
        essential: c.essential().unwrap_or(true),
        ports: c
            .port_mappings()
            .iter()
            .filter_map(|p| p.container_port())
            .collect(),
        port_name: c.port_mappings().first().and_then(|p| {
            Some(NamedPortSpec {
                name: p.name()?.to_string(),
                app_protocol: p
                    .app_protocol()
                    .map(|a| a.as_str().to_string())
                    .unwrap_or_default(),
            })
        }),
        environment: c
            .environment()
            .iter()
            .filter_map(|kv| {
                Some((
                    kv.name()?.to_string(),
                    EnvValue::Text(kv.value().unwrap_or_default().to_string()),
                ))
            })
            .collect(),
        secrets: c
            .secrets()
            .iter()
            .map(|s| (s.name().to_string(), s.value_from().to_string()))
            .collect(),
        user: c.user().map(str::to_string),
        read_only_root_filesystem: c.readonly_root_filesystem().unwrap_or(false),
        command: c.command().to_vec(),
        log: AwsLogsSpec {
            group: option("awslogs-group"),
            region: option("awslogs-region"),
            stream_prefix: option("awslogs-stream-prefix"),
        },
        // ECS's defaults for what a health check leaves out.
        health_check: c.health_check().map(|h| ContainerHealthCheckSpec {
            command: h.command().to_vec(),
            interval_seconds: h.interval().unwrap_or(30),
            timeout_seconds: h.timeout().unwrap_or(5),
            retries: h.retries().unwrap_or(3),
            start_period_seconds: h.start_period().unwrap_or(0),
        }),
        depends_on: c
            .depends_on()
            .iter()
            .map(|d| ContainerDependencySpec {
                container: d.container_name().to_string(),
                condition: d.condition().as_str().to_string(),
            })
            .collect(),
    }
}

/// The tags of revision `arn`, gathered through GetResources (ECS task
/// definitions are a type it names), or from DescribeTaskDefinition when it
/// leaves the ARN out. `None` when the revision does not exist. In a
/// refresh, the GetResources also carries the revisions this process's
/// described services run (`running_revisions`), then the region's ACTIVE
/// revisions from the process's listing (`active_revisions`; a refresh
/// asks for its revision's tags beside its service's describe, before that
/// answer names the next services' revisions), whose refreshes then send
/// nothing; a revision neither names is asked as before.
async fn revision_tags(
    aws: &Clients,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    // A refresh's recovery and observation ask for the same tags.
    aws.remembered(format!("revision tags {arn}"), || {
        revision_tags_now(aws, arn)
    })
    .await
}

async fn revision_tags_now(
    aws: &Clients,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let gone = std::sync::atomic::AtomicBool::new(false);
    // The region's ACTIVE revisions, which the refresh's status check lists
    // at the same moment: waited for, so that the first refreshes (ten
    // start together, before any service answer names a revision) ask
    // once with all of them instead of once each. A plan of one
    // microservice loses no round by it: its alarms' describe waits as
    // long for the CloudWatch listing.
    let listed = super::active_revisions::listed(aws).await;
    let mut likely = super::running_revisions::named(aws);
    likely.extend(listed);
    let tags = crate::aws::tagging::tags_of_filled(aws, arn, likely, || async {
        match describe_any(aws, arn).await? {
            Some((_, tags)) => Ok(tags),
            None => {
                gone.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(BTreeMap::new())
            }
        }
    })
    .await?;
    Ok((!gone.into_inner()).then_some(tags))
}

impl TaskDefinitionSpec {
    /// This spec as ECS holds it once registered: its references resolved
    /// (what a read back of the revision gives).
    pub fn as_registered(&self, resolved: &Resolved) -> Result<TaskDefinitionSpec, AwsError> {
        let mut want = self.clone();
        for container in &mut want.containers {
            for value in container.environment.values_mut() {
                if let EnvValue::Component { of } = value {
                    *value = EnvValue::Text(resolve(resolved, &of.0)?);
                }
            }
        }
        Ok(want)
    }

    /// Whether the registered revision `td` holds exactly this spec (with
    /// its references resolved), tags aside.
    fn holds_the_same(
        &self,
        td: &TaskDefinition,
        tags: &BTreeMap<String, String>,
        resolved: &Resolved,
    ) -> Result<bool, AwsError> {
        let mut want = self.as_registered(resolved)?;
        let mut have = TaskDefinitionSpec::from_sdk(td, tags);
        want.tags.clear();
        have.tags.clear();
        Ok(want == have)
    }
}

fn resolve(resolved: &Resolved, key: &str) -> Result<String, AwsError> {
    resolved.get(key).cloned().ok_or_else(|| {
        AwsError::new(
            "ecs:RegisterTaskDefinition",
            format!("the id of component {key} is not known yet (it must be created first)"),
        )
    })
}

/// `...:task-definition/FAMILY:REVISION` → REVISION.
fn revision(arn: &str) -> Option<i64> {
    arn.rsplit(':').next()?.parse().ok()
}

fn family(arn: &str) -> Option<&str> {
    let tail = arn.rsplit_once("task-definition/")?.1;
    Some(tail.rsplit_once(':').map(|(f, _)| f).unwrap_or(tail))
}

pub async fn deregister(aws: &Clients, arn: &str) -> Result<(), AwsError> {
    match aws
        .ecs
        .deregister_task_definition()
        .task_definition(arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::sdk("ecs:DeregisterTaskDefinition", e);
            // Already inactive or unknown: nothing left to do.
            if e.is_not_found() || e.code.as_deref() == Some("ClientException") {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

#[async_trait]
impl Adapter for TaskDefinitionSpec {
    /// The family's latest revision (the owner check and an interrupted
    /// apply's revision, see `registered_revision`) needs nothing the
    /// roles' create makes: asked for beside it.
    async fn look_ahead(&self, aws: &Clients) {
        let _ = aws
            .ahead
            .remembered(self.family_key(), || self.describe(aws, &self.family))
            .await;
    }

    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let want = self.spec_hash(resolved)?;
        // A refresh of the revision this resource registered or last read
        // in sync: its body is that one still. Its status and tags are
        // what can have changed.
        if aws.memo.is_some() && aws.versions.recorded(id) == Some(want.as_str()) {
            // Both at once: the tags are needed whenever it is ACTIVE.
            let (active, found) = futures::join!(
                super::active_revisions::is_active(aws, id),
                revision_tags(aws, id)
            );
            if !active? {
                // Deregistered out of band (or registered after the
                // listing): described below, as without a record.
                return self.observe_described(aws, id, resolved, want).await;
            }
            let Some(found) = found? else {
                return Ok(Observation::Missing);
            };
            aws.versions.note(id, want);
            return Ok(Observation::with_differences(tags::differences(
                &self.tags, &found,
            )));
        }
        self.observe_described(aws, id, resolved, want).await
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let arn = self.register(aws, resolved, true).await?;
        aws.versions.note(&arn, self.spec_hash(resolved)?);
        Ok(arn)
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        let new = self.register(aws, resolved, false).await?;
        aws.versions.note(&new, self.spec_hash(resolved)?);
        // A revision takes tags in place: a change of tags alone keeps the
        // revision (the spec hash leaves tags out) and re-tags it, so the
        // service does not roll.
        super::put_tags(aws, &new, &self.tags, None).await?;
        if new != id {
            // Keep `id` (the rollback target of the deployment to come).
            self.deregister_older_than(aws, id).await?;
        }
        Ok(new)
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        // The recorded revision goes at once; the others that are this
        // resource's are found and go beside it, not before it.
        let (others, recorded) =
            futures::join!(self.deregister_others(aws, id), deregister(aws, id));
        others.and(recorded)
    }
}

impl TaskDefinitionSpec {
    /// Observe revision `id` by describing it (`want`: this spec's hash),
    /// and note its version when it holds this spec.
    async fn observe_described(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
        want: String,
    ) -> Result<Observation, AwsError> {
        let Some((td, found)) = self.describe(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if td.family() != Some(self.family.as_str()) {
            diffs.push(format!(
                "family is {:?}, want {}",
                td.family().unwrap_or(""),
                self.family
            ));
        }
        let images: Vec<(&str, &str)> = td
            .container_definitions()
            .iter()
            .filter_map(|c| Some((c.name()?, c.image()?)))
            .collect();
        let same_images = self
            .containers
            .iter()
            .all(|c| images.contains(&(c.name.as_str(), c.image.as_str())));
        match found.get(SPEC_HASH_TAG) {
            // A revision a CI system registered copies the tags, hash and
            // all: the hash only vouches for it when the images agree.
            Some(h) if *h == want && same_images => aws.versions.note(id, want.clone()),
            // Registered by someone else: compare what it holds.
            _ if self.holds_the_same(&td, &found, resolved)? => aws.versions.note(id, want.clone()),
            _ => {
                // Say what changed where it is cheap to tell; the hash
                // catches the rest.
                for c in &self.containers {
                    match images.iter().find(|(n, _)| *n == c.name) {
                        Some((_, image)) if *image != c.image => diffs.push(format!(
                            "container {} image is {image}, want {}",
                            c.name, c.image
                        )),
                        None => diffs.push(format!("container {} missing", c.name)),
                        _ => {}
                    }
                }
                diffs.push(
                    "task definition differs from the configuration: a new revision is needed"
                        .to_string(),
                );
            }
        }
        diffs.extend(tags::differences(&self.tags, &found));
        Ok(Observation::with_differences(diffs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare(family: &str) -> TaskDefinitionSpec {
        TaskDefinitionSpec {
            family: family.into(),
            cpu: 256,
            memory: 512,
            execution_role_arn: "arn:aws:iam::1:role/exec".into(),
            task_role_arn: None,
            containers: Vec::new(),
            proxy: None,
            tags: [("matbakh:owner".to_string(), format!("p/{family}"))]
                .into_iter()
                .collect(),
        }
    }

    fn revision_arn(family: &str, n: u32) -> String {
        format!("arn:aws:ecs:eu-central-1:1:task-definition/{family}:{n}")
    }

    /// ECS as a refresh sees it: revisions `svc-I:1` ACTIVE, but `svc-0:1`
    /// deregistered (INACTIVE: not listed, described as such); tags by
    /// GetResources, the owner tag retagged out of band on `svc-1:1`.
    fn ecs(n: usize) -> crate::aws::fake_endpoint::FakeEndpoint {
        use serde_json::json;
        crate::aws::fake_endpoint::FakeEndpoint::start(move |op, body| match op {
            "ListTaskDefinitions" => {
                assert_eq!(body["status"], "ACTIVE");
                let arns: Vec<String> = (1..n)
                    .map(|i| revision_arn(&format!("svc-{i}"), 1))
                    .collect();
                (200, json!({"taskDefinitionArns": arns}))
            }
            "GetResources" => {
                let found: Vec<_> = body["ResourceARNList"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| {
                        let arn = a.as_str().unwrap();
                        let family = family(arn).unwrap();
                        let owner = if family == "svc-1" { "someone/else".to_string() } else { format!("p/{family}") };
                        json!({"ResourceARN": arn, "Tags": [{"Key": "matbakh:owner", "Value": owner}]})
                    })
                    .collect();
                (200, json!({"ResourceTagMappingList": found}))
            }
            "DescribeTaskDefinition" => {
                let arn = body["taskDefinition"].as_str().unwrap();
                (
                    200,
                    json!({"taskDefinition": {
                        "taskDefinitionArn": arn, "family": family(arn).unwrap(),
                        "status": "INACTIVE", "containerDefinitions": []}}),
                )
            }
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        })
    }

    #[tokio::test]
    async fn a_refresh_of_recorded_revisions_describes_none() {
        let n = 30;
        let fake = ecs(n);
        let resolved = Resolved::default();
        let specs: Vec<TaskDefinitionSpec> = (0..n).map(|i| bare(&format!("svc-{i}"))).collect();
        let recorded: crate::aws::versions::VersionMap = specs
            .iter()
            .map(|s| (revision_arn(&s.family, 1), s.spec_hash(&resolved).unwrap()))
            .collect();
        let base = fake.clients();
        let refreshes = specs.iter().map(|spec| {
            let aws = base.remembering_reads().with_versions(recorded.clone());
            let graph = crate::spec::DesiredGraph {
                components: vec![crate::spec::Component::new(
                    "task_definition",
                    crate::spec::Spec::TaskDefinition(spec.clone()),
                )],
            };
            let arn = revision_arn(&spec.family, 1);
            let ids: Resolved = [("task_definition".to_string(), arn.clone())]
                .into_iter()
                .collect();
            crate::aws::vouch::vouch_for_graph(&aws, &graph, &ids);
            let resolved = &resolved;
            async move {
                let found = TaskDefinitionSpec::read_back_revision(&aws, &arn)
                    .await
                    .unwrap()
                    .unwrap();
                let observed = spec.observe(&aws, &arn, resolved).await.unwrap();
                (found, observed, aws.versions.to_record([arn].iter()))
            }
        });
        let results = futures::future::join_all(refreshes).await;
        let calls = fake.calls();
        // The recovery's read and the observation take the body from the
        // record: one listing of ACTIVE revisions for all, tags gathered;
        // only the revision deregistered out of band is described.
        assert_eq!(
            calls.iter().filter(|c| *c == "ListTaskDefinitions").count(),
            1,
            "{calls:?}"
        );
        assert_eq!(
            calls
                .iter()
                .filter(|c| *c == "DescribeTaskDefinition")
                .count(),
            1,
            "{calls:?}"
        );
        assert!(
            calls.iter().filter(|c| *c == "GetResources").count() <= 2,
            "{calls:?}"
        );
        let (found, observed, kept) = &results[2];
        assert_eq!(found.spec.family, "svc-2");
        assert_eq!(found.spec.tags, specs[2].tags);
        assert_eq!(*observed, Observation::in_sync());
        assert_eq!(kept.len(), 1);
        // Deregistered out of band: gone, as before.
        assert_eq!(results[0].1, Observation::Missing);
        // Retagged out of band: seen.
        assert!(
            matches!(&results[1].1, Observation::Present { differences } if !differences.is_empty())
        );
    }

    /// A plan's refreshes of 30 microservices, one after another (they
    /// never meet in the gatherer's window), each reading its service and
    /// then its revision's tags: once the services are described ahead
    /// (ten a call), each GetResources carries the revisions they run, a
    /// canary's deployment among them, and those refreshes send nothing.
    /// A revision no service runs is asked alone, one GetResources leaves
    /// out is described, and a tag changed out of band is what is read.
    #[tokio::test]
    async fn a_plan_fills_each_revision_tag_read_with_the_revisions_the_services_run() {
        use serde_json::json;
        let sizes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let fake = crate::aws::fake_endpoint::FakeEndpoint::start(move |op, body| match op {
            "ListTaskDefinitions" => (200, json!({"taskDefinitionArns": []})),
            "ListServices" => {
                let arns: Vec<String> = (0..30)
                    .map(|i| format!("arn:aws:ecs:eu-central-1:1:service/c/svc-{i}"))
                    .collect();
                (200, json!({"serviceArns": arns}))
            }
            "DescribeServices" => {
                let services: Vec<_> = body["services"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        let name = s.as_str().unwrap();
                        let mut deployments =
                            vec![json!({"taskDefinition": revision_arn(name, 1)})];
                        if name == "svc-5" {
                            deployments
                                .push(json!({"taskDefinition": revision_arn("canary-5", 1)}));
                        }
                        json!({"serviceName": name, "status": "ACTIVE",
                               "serviceArn": format!("arn:aws:ecs:eu-central-1:1:service/c/{name}"),
                               "taskDefinition": revision_arn(name, 1),
                               "deployments": deployments})
                    })
                    .collect();
                (200, json!({"services": services, "failures": []}))
            }
            "GetResources" => {
                let arns = body["ResourceARNList"].as_array().unwrap();
                assert!(arns.len() <= 100, "{body}");
                seen.lock().unwrap().push(arns.len());
                let found: Vec<_> = arns
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .filter(|a| family(a) != Some("svc-7"))
                    .map(|arn| {
                        let family = family(arn).unwrap();
                        let owner = if family == "svc-9" { "someone/else".to_string() } else { format!("p/{family}") };
                        json!({"ResourceARN": arn, "Tags": [{"Key": "matbakh:owner", "Value": owner}]})
                    })
                    .collect();
                (200, json!({"ResourceTagMappingList": found}))
            }
            "DescribeTaskDefinition" => {
                let arn = body["taskDefinition"].as_str().unwrap();
                (
                    200,
                    json!({"taskDefinition": {
                        "taskDefinitionArn": arn, "family": family(arn).unwrap(),
                        "status": "ACTIVE", "containerDefinitions": []},
                        "tags": [{"key": "matbakh:owner", "value": "described"}]}),
                )
            }
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let configured = fake.clients();
        let owner = |tags: Option<BTreeMap<String, String>>| {
            tags.unwrap().get("matbakh:owner").cloned().unwrap()
        };
        for i in 0..30 {
            let aws = configured.remembering_reads();
            let name = format!("svc-{i}");
            let service = super::super::services_gathered::gathered_service(&aws, "c", &name)
                .await
                .unwrap()
                .unwrap();
            let arn = service.task_definition().unwrap().to_string();
            let found = owner(revision_tags(&aws, &arn).await.unwrap());
            let want = match i {
                7 => "described".to_string(),
                9 => "someone/else".to_string(),
                _ => format!("p/{name}"),
            };
            assert_eq!(found, want, "{name}");
            if i == 1 {
                // The listing the second refresh started, in the background.
                super::super::services_gathered::wait_for_listing(&configured, "c", 30).await;
            }
        }
        let aws = configured.remembering_reads();
        // The canary's revision, named by its service's deployments.
        let canary = revision_tags(&aws, &revision_arn("canary-5", 1)).await;
        assert_eq!(owner(canary.unwrap()), "p/canary-5");
        let calls_before = fake.calls().len();
        // An older revision, recorded but run by no service: asked alone.
        let old = revision_tags(&aws, &revision_arn("svc-3", 0)).await;
        assert_eq!(owner(old.unwrap()), "p/svc-3");
        assert_eq!(fake.calls().len(), calls_before + 1);
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        assert_eq!(count("ListServices"), 1, "{calls:?}");
        // The revision tag reads wait for the process's ACTIVE listing
        // (empty here: the services name every revision).
        assert_eq!(count("ListTaskDefinitions"), 1, "{calls:?}");
        // svc-0 and svc-1 alone, then 2-11, 12-21, 22-29.
        assert_eq!(count("DescribeServices"), 5, "{calls:?}");
        // The same five moments (2-11 with the canary's), and the old
        // revision alone: 6 GetResources for 32 revisions, not 32.
        assert_eq!(*sizes.lock().unwrap(), vec![1, 1, 11, 10, 8, 1]);
        // svc-7's, which GetResources left out.
        assert_eq!(count("DescribeTaskDefinition"), 1, "{calls:?}");
    }

    /// Once the process has listed the region's ACTIVE revisions, the next
    /// revision tag read carries them (after those the services named):
    /// 30 refreshes one after another, one GetResources after the listing.
    #[tokio::test]
    async fn a_plan_fills_revision_tag_reads_with_the_listed_active_revisions() {
        use serde_json::json;
        let sizes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let fake = crate::aws::fake_endpoint::FakeEndpoint::start(move |op, body| match op {
            "ListTaskDefinitions" => {
                let arns: Vec<String> = (0..30)
                    .map(|i| revision_arn(&format!("svc-{i}"), 1))
                    .collect();
                (200, json!({"taskDefinitionArns": arns}))
            }
            "GetResources" => {
                let arns = body["ResourceARNList"].as_array().unwrap().clone();
                assert!(arns.len() <= 100, "{body}");
                seen.lock().unwrap().push(arns.len());
                let found: Vec<_> = arns
                    .iter()
                    .map(|a| json!({"ResourceARN": a, "Tags": [{"Key": "k", "Value": a}]}))
                    .collect();
                (200, json!({"ResourceTagMappingList": found}))
            }
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let configured = fake.clients();
        for i in 0..30 {
            let aws = configured.remembering_reads();
            let arn = revision_arn(&format!("svc-{i}"), 1);
            assert!(super::super::active_revisions::is_active(&aws, &arn)
                .await
                .unwrap());
            let tags = revision_tags(&aws, &arn).await.unwrap().unwrap();
            assert_eq!(tags.get("k"), Some(&arn));
        }
        assert_eq!(*sizes.lock().unwrap(), vec![30]);
        assert_eq!(fake.calls(), ["ListTaskDefinitions", "GetResources"]);
    }

    /// One refresh alone or an apply reads the revision's tags as before:
    /// nothing noted, nothing filled.
    #[tokio::test]
    async fn outside_a_plan_a_revision_tag_read_carries_nothing_else() {
        use serde_json::json;
        let sizes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let fake = crate::aws::fake_endpoint::FakeEndpoint::start(move |op, body| match op {
            "DescribeServices" => {
                let services: Vec<_> = body["services"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        let name = s.as_str().unwrap();
                        json!({"serviceName": name, "status": "ACTIVE",
                               "taskDefinition": revision_arn(name, 1)})
                    })
                    .collect();
                (200, json!({"services": services, "failures": []}))
            }
            "GetResources" => {
                let arns = body["ResourceARNList"].as_array().unwrap().clone();
                seen.lock().unwrap().push(arns.len());
                let found: Vec<_> = arns
                    .iter()
                    .map(|a| json!({"ResourceARN": a, "Tags": [{"Key": "k", "Value": "v"}]}))
                    .collect();
                (200, json!({"ResourceTagMappingList": found}))
            }
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let configured = fake.clients();
        for name in ["a", "b", "c"] {
            super::super::services_gathered::gathered_service(&configured, "c", name)
                .await
                .unwrap();
        }
        for name in ["a", "b"] {
            assert!(revision_tags(&configured, &revision_arn(name, 1))
                .await
                .unwrap()
                .is_some());
        }
        // A refresh alone: what an apply described was not noted.
        let aws = configured.remembering_reads();
        assert!(revision_tags(&aws, &revision_arn("c", 1))
            .await
            .unwrap()
            .is_some());
        assert_eq!(*sizes.lock().unwrap(), vec![1, 1, 1]);
    }

    #[tokio::test]
    async fn a_revision_without_a_record_is_described_and_its_version_noted() {
        use serde_json::json;
        let spec = bare("svc-7");
        let resolved = Resolved::default();
        let hash = spec.spec_hash(&resolved).unwrap();
        let arn = revision_arn("svc-7", 3);
        let answer_hash = hash.clone();
        let fake = crate::aws::fake_endpoint::FakeEndpoint::start(move |op, body| match op {
            "DescribeTaskDefinition" => (
                200,
                json!({"taskDefinition": {
                    "taskDefinitionArn": body["taskDefinition"], "family": "svc-7",
                    "status": "ACTIVE", "cpu": "256", "memory": "512",
                    "executionRoleArn": "arn:aws:iam::1:role/exec", "containerDefinitions": []},
                    "tags": [{"key": "matbakh:owner", "value": "p/svc-7"},
                             {"key": SPEC_HASH_TAG, "value": answer_hash}]}),
            ),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let aws = fake.clients().remembering_reads();
        assert_eq!(
            spec.observe(&aws, &arn, &resolved).await.unwrap(),
            Observation::in_sync()
        );
        assert_eq!(fake.calls(), ["DescribeTaskDefinition"]);
        assert_eq!(
            aws.versions.to_record([arn.clone()].iter()).get(&arn),
            Some(&hash)
        );
    }

    #[test]
    fn revision_and_family_from_arns() {
        let arn = "arn:aws:ecs:eu-central-1:123456789012:task-definition/matbakh-auth:12";
        assert_eq!(revision(arn), Some(12));
        assert_eq!(family(arn), Some("matbakh-auth"));
    }

    #[test]
    fn task_units_read_both_notations() {
        assert_eq!(task_units("512"), 512);
        assert_eq!(task_units("1 vCPU"), 1024);
        assert_eq!(task_units("0.25 vCPU"), 256);
        assert_eq!(task_units("2 GB"), 2048);
        assert_eq!(task_units("lots"), 0);
    }

    /// What registering a spec sends, read back, is the spec again, with the
    /// resolved reference as text.
    #[test]
    fn from_sdk_inverts_registration() {
        use crate::environment::Environment;
        use crate::resources::microservice::config::{MicroserviceConfig, Settings};
        use crate::resources::microservice::expand::{task_definition, PlatformContext, Slot};

        let config = MicroserviceConfig::from_value(&serde_json::json!({
            "platform": "matbakh", "name": "auth-service", "image": "img:1", "port": 8080,
            "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
            "task_role_arn": "arn:aws:iam::123456789012:role/auth",
            "environment_variables": {"LOG_LEVEL": "info"},
            "secrets": {"DB": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db"},
        }))
        .unwrap();
        let settings = Settings::resolve_unchecked(&config, Environment::Production)
            .on(crate::service_mesh::ServiceMesh::AppMesh);
        let platform = PlatformContext {
            platform_id: "matbakh".into(),
            service_mesh: crate::service_mesh::ServiceMesh::AppMesh,
            namespace_arn: String::new(),
            cluster_name: "matbakh".into(),
            mesh_name: "matbakh".into(),
            namespace_name: "svc.local".into(),
            namespace_id: "ns-1".into(),
            environment: Environment::Production,
            region: "eu-central-1".into(),
            tags: Default::default(),
            ingress: None,
        };
        let tags: crate::spec::Tags = [(
            "matbakh:owner".to_string(),
            "matbakh/auth-service".to_string(),
        )]
        .into_iter()
        .collect();
        let spec = task_definition(&settings, &platform, &Slot::stable(&settings), &tags);
        let node_arn =
            "arn:aws:appmesh:eu-central-1:123456789012:mesh/matbakh/virtualNode/auth-service";
        let resolved: Resolved = [("virtual_node".to_string(), node_arn.to_string())]
            .into_iter()
            .collect();
        let proxy = spec.proxy.as_ref().unwrap();
        let td = TaskDefinition::builder()
            .family(&spec.family)
            .cpu(spec.cpu.to_string())
            .memory(spec.memory.to_string())
            .execution_role_arn(&spec.execution_role_arn)
            .set_task_role_arn(spec.task_role_arn.clone())
            .set_container_definitions(Some(spec.container_definitions(&resolved).unwrap()))
            .proxy_configuration(
                ProxyConfiguration::builder()
                    .r#type(ProxyConfigurationType::Appmesh)
                    .container_name(&proxy.container_name)
                    .set_properties(Some(
                        proxy
                            .properties
                            .iter()
                            .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
                            .collect(),
                    ))
                    .build()
                    .unwrap(),
            )
            .build();
        let mut found_tags = tags.clone();
        found_tags.insert(SPEC_HASH_TAG.to_string(), "hash".to_string());
        let back = TaskDefinitionSpec::from_sdk(&td, &found_tags);
        let mut expected = spec.clone();
        for c in &mut expected.containers {
            for v in c.environment.values_mut() {
                if matches!(v, EnvValue::Component { .. }) {
                    *v = EnvValue::Text(node_arn.to_string());
                }
            }
        }
        assert_eq!(back, expected);
    }
}
