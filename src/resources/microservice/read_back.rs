//! Reading an existing microservice back from AWS: every component by its
//! deterministic name, then its arguments recovered from what was found
//! ([`super::recover`]). What `terraform import` and a canary's candidate
//! start from.

use futures::stream::{self, StreamExt, TryStreamExt};

use super::config::{AutoscalingConfig, MicroserviceConfig, Settings, TlsConfig};
use super::expand::{self, keys, PlatformContext};
use super::names;
use super::recover::{recover, ObservedGraph};
use crate::aws::ecs::task_definition::latest_without_canary;
use crate::aws::{AwsError, Clients, Found};
use crate::engine::{Resolved, MAX_CONCURRENCY, READ_CONCURRENCY};
use crate::resources::ownership::token_found;
use crate::spec::autoscaling::ScalingPolicySpec;
use crate::spec::cloudwatch::MetricAlarmSpec;
use crate::spec::ecs::TaskDefinitionSpec;
use crate::spec::ownership::OwnerToken;
use crate::spec::{DesiredGraph, Spec, CANARY_TAG, OWNER_TAG};
use crate::tf::value::Value;

/// A microservice found in AWS.
#[derive(Clone, Debug, PartialEq)]
pub struct Existing {
    /// Its arguments, every one written out, shaped like the resource's
    /// state (see [`super::recover::recover`]):
    /// `MicroserviceConfig::from_value(&arguments.to_json())` and
    /// `Settings::resolve_unchecked` give settings that expand into what
    /// exists.
    pub arguments: Value,
    /// The ids of the components found, by component key: what state's
    /// `components` holds after an apply.
    pub components: Resolved,
    /// The ownership token its objects carry (the ECS service's), `None`
    /// for objects created before ownership tokens.
    pub owner_token: Option<OwnerToken>,
    /// The `matbakh_canary` (its id) whose revision the ECS service runs:
    /// the task definition recovered is then the one the service ran
    /// before the canary's deployment, and the service's deployment
    /// settings are the canary's, not the microservice's.
    pub canary: Option<String>,
}

/// What is left of a microservice whose ECS service does not exist (a
/// create killed before it got there): the objects found by their
/// deterministic names that carry its owner tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Leftovers {
    pub components: Resolved,
    pub owner_token: Option<OwnerToken>,
}

/// The microservice `name` on `platform` as it exists in AWS. `None` when
/// its ECS service or the task definition that service runs does not
/// exist. An error when AWS cannot be read, when the ECS service belongs to
/// another owner (its `matbakh:owner` tag is not `PLATFORM/NAME`), or when
/// the task definition is none `matbakh_microservice` registers. Other
/// components tagged for another owner are left out, as if missing.
pub async fn read_existing(
    clients: &Clients,
    platform: &PlatformContext,
    name: &str,
) -> Result<Option<Existing>, String> {
    let Some((observed, components, canary)) = observe_existing(clients, platform, name).await?
    else {
        return Ok(None);
    };
    let arguments = recover(platform, name, &observed)?;
    let owner_token = token_found(observed.service.as_ref().map(|s| &s.tags));
    Ok(Some(Existing {
        arguments,
        components,
        owner_token,
        canary,
    }))
}

/// Every object of microservice `name` on `platform` found by its
/// deterministic name and tagged `matbakh:owner = PLATFORM/NAME` (objects
/// of kinds without tags when what they depend on was found), whatever
/// else exists: what an import adopts when the ECS service was never
/// created. Empty when nothing is found.
pub async fn read_leftovers(
    clients: &Clients,
    platform: &PlatformContext,
    name: &str,
) -> Result<Leftovers, String> {
    let owner = names::resource_id(&platform.platform_id, name);
    let probe = expand::expand(&probe_settings(platform, name), platform);
    let reads: Vec<_> = probe
        .components
        .iter()
        .map(|c| read_one(clients, name, c))
        .collect();
    let found: Vec<(String, Option<Found<Spec>>)> = stream::iter(reads)
        .buffered(MAX_CONCURRENCY)
        .try_collect()
        .await?;
    let mut components = Resolved::new();
    let mut tags_found = Vec::new();
    for c in &probe.components {
        let Some((_, Some(object))) = found.iter().find(|(k, _)| k == &c.key) else {
            continue;
        };
        let ours = match object.spec.tags() {
            Some(tags) => tags.get(OWNER_TAG) == Some(&owner),
            // Untagged kinds (scaling, dashboard) go with what they depend on.
            None => {
                !c.depends_on.is_empty() && c.depends_on.iter().all(|d| components.contains_key(d))
            }
        };
        if ours {
            components.insert(c.key.clone(), object.id.clone());
            tags_found.extend(object.spec.tags().cloned());
        }
    }
    Ok(Leftovers {
        components,
        owner_token: token_found(&tags_found),
    })
}

async fn read_one(
    clients: &Clients,
    name: &str,
    component: &crate::spec::Component,
) -> Result<(String, Option<Found<Spec>>), String> {
    let found = component
        .spec
        .read_back(clients)
        .await
        .map_err(|e| format!("reading {} of {name}: {e}", component.key))?;
    Ok((component.key.clone(), found))
}

/// Read back every component of microservice `name` on `platform`: what
/// was found, as specs and as recorded ids, and the canary whose revision
/// the service runs, if any. `None` when its ECS service or the task
/// definition revision it runs does not exist.
pub async fn observe_existing(
    clients: &Clients,
    platform: &PlatformContext,
    name: &str,
) -> Result<Option<(ObservedGraph, Resolved, Option<String>)>, String> {
    let owner = names::resource_id(&platform.platform_id, name);
    let mut probe = expand::expand(&probe_settings(platform, name), platform);
    // Behind the load balancer (the context of a refresh of a service with
    // `ingress` says so) the latency alarm is the p95 one: the probe looks
    // for it with the other alarms, not for the backend statistic's alarm,
    // which does not exist then, and which a refresh's listing of the owned
    // alarms therefore never names, so that every refresh asked for it.
    let p95_in_probe = platform.ingress.is_some();
    if p95_in_probe {
        for c in probe.components.iter_mut() {
            if let (keys::ALARM_P95_LATENCY, Spec::MetricAlarm(alarm)) =
                (c.key.as_str(), &mut c.spec)
            {
                alarm.name = names::alarm_name(
                    &platform.platform_id,
                    name,
                    super::ingress_alarms::LATENCY_WHAT,
                );
            }
        }
    }
    let service_spec = probe
        .get(keys::SERVICE)
        .map(|c| &c.spec)
        .ok_or_else(|| format!("the expansion has no component {}", keys::SERVICE))?;

    // The ECS service says which task definition revision runs; every other
    // object goes by its deterministic name, so it is read at the same time
    // (and dropped when the service turns out to be missing): a refresh
    // takes the rounds of the longer of the two, not both.
    let (running, found) = futures::join!(
        read_service_and_revision(clients, service_spec, &owner, platform, name),
        read_others(clients, &probe, name),
    );
    let Some((service, task_definition, canary)) = running? else {
        return Ok(None);
    };
    let found = found?;

    let mut observed = ObservedGraph::default();
    let mut components = Resolved::new();
    let mut record = |key: &str, spec: Spec, id: String| {
        if observed.insert(key, spec) {
            components.insert(key.to_string(), id);
        }
    };
    record(keys::SERVICE, service.spec, service.id);
    record(
        keys::TASK_DEFINITION,
        Spec::TaskDefinition(task_definition.spec),
        task_definition.id,
    );
    for (key, found) in found {
        let Some(found) = found else { continue };
        match found.spec.owner() {
            Some(other) if other != owner => {
                tracing::warn!(
                    component = key.as_str(),
                    owner = other,
                    "left out of the import: tagged for another owner"
                );
            }
            _ => record(&key, found.spec, found.id),
        }
    }
    // Behind the load balancer, one of the service's groups is its own
    // (`ingress`): not one of the user's `security_group_ids`.
    let own_group = match observed.service.as_ref() {
        Some(s) if s.load_balancer.is_some() => {
            super::ingress_components::find_own_group(clients, platform, name, s).await?
        }
        _ => None,
    };
    let attached = match observed.service.as_ref() {
        Some(s) => super::ingress_components::read_attached(clients, platform, name, s).await?,
        None => Vec::new(),
    };
    for (key, spec, id) in attached {
        // The test rule and the green group are recorded, not recovered from.
        observed.insert(key, spec);
        components.insert(key.to_string(), id);
    }
    // Behind the load balancer the latency alarm reads a real p95 and is
    // named so; a probe without the context's ingress (an import) looked
    // for the backend statistic's name.
    if !p95_in_probe
        && observed
            .service
            .as_ref()
            .is_some_and(|s| s.load_balancer.is_some())
    {
        let what = super::ingress_alarms::LATENCY_WHAT;
        if let Some(found) = read_owned_alarm(clients, platform, name, &owner, what).await? {
            observed.insert(keys::ALARM_P95_LATENCY, Spec::MetricAlarm(found.spec));
            components.insert(keys::ALARM_P95_LATENCY.to_string(), found.id);
        }
    }
    // A release's own rollback alarms exist only with a `deployment` block,
    // which the probe has not: the ones the service's deployment watches
    // are recorded (an import then names them, and its destroy deletes them).
    let watched = observed
        .service
        .as_ref()
        .map(|s| s.deployment.alarm_names.clone())
        .unwrap_or_default();
    for (key, what) in RELEASE_ALARMS {
        if !watched.contains(&names::alarm_name(&platform.platform_id, name, what)) {
            continue;
        }
        if let Some(found) = read_owned_alarm(clients, platform, name, &owner, what).await? {
            components.insert(key.to_string(), found.id);
        }
    }
    if let Some(group) = own_group {
        if let Some(service) = observed.service.as_mut() {
            service.security_groups.retain(|g| g != &group.id);
        }
        // Recorded for an import, whose state then names it.
        components.insert(
            super::ingress_components::keys::SECURITY_GROUP.to_string(),
            group.id,
        );
    }
    // Whether autoscaling owns the desired count shows in the scalable
    // target, not in the ECS service.
    let autoscaled = observed.scaling_target.is_some();
    if let Some(service) = observed.service.as_mut() {
        service.desired_count_managed_by_autoscaling = autoscaled;
    }
    Ok(Some((observed, components, canary)))
}

/// A release's rollback alarms, by component key and name part.
const RELEASE_ALARMS: [(&str, &str); 3] = [
    (
        super::release_alarms::ALARM_RELEASE_NO_TRAFFIC,
        super::release_alarms::RELEASE_NO_TRAFFIC,
    ),
    (
        super::release_alarms::ALARM_RELEASE_ERROR_RATE,
        super::release_alarms::RELEASE_ERROR_RATE,
    ),
    (
        super::release_alarms::ALARM_RELEASE_LATENCY,
        super::release_alarms::RELEASE_LATENCY,
    ),
];

/// The alarm `PLATFORM-NAME-WHAT` of a microservice (the latency alarm
/// behind the load balancer, a release's rollback alarms: those the probe
/// does not hold) when it carries `owner`'s tag.
async fn read_owned_alarm(
    clients: &Clients,
    platform: &PlatformContext,
    name: &str,
    owner: &str,
    what: &str,
) -> Result<Option<Found<MetricAlarmSpec>>, String> {
    let probe = MetricAlarmSpec {
        name: names::alarm_name(&platform.platform_id, name, what),
        description: String::new(),
        metrics: Vec::new(),
        comparison_operator: String::new(),
        threshold: 0.0,
        evaluation_periods: 0,
        datapoints_to_alarm: 0,
        treat_missing_data: String::new(),
        actions: Vec::new(),
        tags: Default::default(),
    };
    let found = probe
        .read_back(clients)
        .await
        .map_err(|e| format!("reading alarm {what} of {name}: {e}"))?;
    Ok(found.filter(|f| f.spec.tags.get(OWNER_TAG).map(String::as_str) == Some(owner)))
}

/// The ECS service of microservice `name` (`owner`), the task definition
/// revision it runs (the microservice's own while a canary's runs) and that
/// canary. `None` when the service or the revision does not exist; an error
/// when the service belongs to another owner.
async fn read_service_and_revision(
    clients: &Clients,
    service_spec: &Spec,
    owner: &str,
    platform: &PlatformContext,
    name: &str,
) -> Result<Option<(Found<Spec>, Found<TaskDefinitionSpec>, Option<String>)>, String> {
    let reading = |key: &str, e: AwsError| format!("reading {key} of {name}: {e}");
    let Some(service) = service_spec
        .read_back(clients)
        .await
        .map_err(|e| reading(keys::SERVICE, e))?
    else {
        return Ok(None);
    };
    match service.spec.owner() {
        Some(found) if found == owner => {}
        found => {
            return Err(format!(
                "ECS service {name} in cluster {} is not tagged {OWNER_TAG} = {owner:?} (found {:?}): it was not created by matbakh_microservice for {owner}",
                platform.cluster_name,
                found.unwrap_or(""),
            ))
        }
    }
    let Some(revision) = service.references.get(keys::TASK_DEFINITION) else {
        return Ok(None);
    };
    let Some(mut task_definition) = TaskDefinitionSpec::read_back_revision(clients, revision)
        .await
        .map_err(|e| reading(keys::TASK_DEFINITION, e))?
    else {
        return Ok(None);
    };
    // A canary's revision runs (service_connect): the microservice's own is
    // the newest revision of the family that is no canary's.
    let canary = task_definition.spec.tags.get(CANARY_TAG).cloned();
    if canary.is_some() {
        let source = latest_without_canary(clients, &task_definition.spec.family)
            .await
            .map_err(|e| reading(keys::TASK_DEFINITION, e))?;
        if let Some(source) = source {
            if let Some(own) = TaskDefinitionSpec::read_back_revision(clients, &source)
                .await
                .map_err(|e| reading(keys::TASK_DEFINITION, e))?
            {
                task_definition = own;
            }
        }
    }
    Ok(Some((service, task_definition, canary)))
}

/// Every component of `probe` but the ECS service and its task definition,
/// by key, as read back by its deterministic name (`None`: not found): the
/// alarms with one DescribeAlarms, the scaling policies with one
/// DescribeScalingPolicies, the rest one by one, all at once.
async fn read_others(
    clients: &Clients,
    probe: &DesiredGraph,
    name: &str,
) -> Result<Vec<(String, Option<Found<Spec>>)>, String> {
    let reading = |key: &str, e: AwsError| format!("reading {key} of {name}: {e}");
    let others: Vec<(String, Spec)> = probe
        .components
        .iter()
        .filter(|c| c.key != keys::SERVICE && c.key != keys::TASK_DEFINITION)
        .map(|c| (c.key.clone(), c.spec.clone()))
        .collect();
    // The alarms with one DescribeAlarms, the scaling policies with one
    // DescribeScalingPolicies, the rest one by one, all at once.
    let (alarms, others): (Vec<_>, Vec<_>) = others
        .into_iter()
        .partition(|(_, spec)| matches!(spec, Spec::MetricAlarm(_)));
    let (policies, others): (Vec<_>, Vec<_>) = others
        .into_iter()
        .partition(|(_, spec)| matches!(spec, Spec::ScalingPolicy(_)));
    let policy_specs: Vec<&ScalingPolicySpec> = policies
        .iter()
        .filter_map(|(_, spec)| match spec {
            Spec::ScalingPolicy(p) => Some(p),
            _ => None,
        })
        .collect();
    let policies_read = async {
        if policy_specs.is_empty() {
            return Ok(Vec::new());
        }
        ScalingPolicySpec::read_back_many(clients, &policy_specs)
            .await
            .map_err(|e| reading("scaling policies", e))
    };
    let alarm_specs: Vec<&MetricAlarmSpec> = alarms
        .iter()
        .filter_map(|(_, spec)| match spec {
            Spec::MetricAlarm(a) => Some(a),
            _ => None,
        })
        .collect();
    let alarms_read = async {
        if alarm_specs.is_empty() {
            return Ok(Vec::new());
        }
        MetricAlarmSpec::read_back_many(clients, &alarm_specs)
            .await
            .map_err(|e| reading("alarms", e))
    };
    let others_read = stream::iter(others)
        .map(|(key, spec)| async move {
            let found = spec
                .read_back(clients)
                .await
                .map_err(|e| reading(&key, e))?;
            Ok::<_, String>((key, found))
        })
        .buffered(READ_CONCURRENCY)
        .try_collect::<Vec<_>>();
    let (alarms_found, policies_found, mut found) =
        futures::try_join!(alarms_read, policies_read, others_read)?;
    found.extend(
        policies
            .into_iter()
            .zip(policies_found)
            .map(|((key, _), f)| (key, f.map(|f| f.map(Spec::ScalingPolicy)))),
    );
    found.extend(
        alarms
            .into_iter()
            .zip(alarms_found)
            .map(|((key, _), f)| (key, f.map(|f| f.map(Spec::MetricAlarm)))),
    );
    Ok(found)
}

/// Settings whose expansion holds every component a microservice can have
/// (autoscaling and dashboard included), named as `name`'s: what to look for.
fn probe_settings(platform: &PlatformContext, name: &str) -> Settings {
    let config = MicroserviceConfig {
        platform: Some(platform.platform_id.clone()),
        name: Some(name.to_string()),
        // With requests_per_target, so the probe holds its policy too.
        autoscaling: Some(AutoscalingConfig {
            requests_per_target: Some(1),
            ..Default::default()
        }),
        dashboard: Some(true),
        // So the probe holds the task role too (only its name is read).
        task_policy_arns: Some(vec![None]),
        // And the Service Connect TLS role (only its name is read).
        tls: Some(TlsConfig {
            certificate_authority_arns: Some(vec![Some(
                "arn:aws:acm-pca:eu-central-1:000000000000:certificate-authority/probe".into(),
            )]),
            role_arn: None,
        }),
        ..Default::default()
    };
    Settings::resolve_unchecked(&config, platform.environment).on(platform.service_mesh)
}
