//! `matbakh_microservice`: what is its own (schema, settings, the platform
//! it joins, the expansion, recovery from AWS, computed attributes); the
//! driver does the rest.

use async_trait::async_trait;
use tf_provider::schema::Schema;

use super::backend::service_connect::client_alias;
use super::config::{MicroserviceConfig, Settings};
use super::expand::{self, keys, PlatformContext};
use super::platform_context::find_platform;
use super::read_back::{read_existing, read_leftovers};
use super::recover::without_defaults;
use super::schema::{self, DEFAULTED};
use super::validate::check_service_name;
use crate::resources::context::{Configured, ProviderContext};
use crate::resources::driver::{Driver, GraphResource, Recovered};
use crate::resources::lifecycle;
use crate::service_mesh::ServiceMesh;
use crate::spec::ownership::OwnerToken;
use crate::spec::{DesiredGraph, OWNER_TAG};
use crate::tf::value::Value;
use crate::validation::Problem;

/// `matbakh_microservice` as Terraform sees it.
pub type MicroserviceResource = Driver<Microservice>;

impl MicroserviceResource {
    pub fn new(context: ProviderContext) -> Self {
        Driver::of(Microservice, context)
    }
}

/// What `matbakh_microservice` brings to the driver.
pub struct Microservice;

fn config_of(state: &Value) -> Result<MicroserviceConfig, String> {
    MicroserviceConfig::from_value(&state.to_json())
}

/// Arguments that feed the cost estimate; while any is unknown, so is it.
const COST_INPUTS: [&str; 9] = [
    "cpu",
    "memory",
    "desired_count",
    "spot_percent",
    "tracing",
    "envoy",
    "autoscaling",
    "alarms",
    "dashboard",
];

/// Fill the defaults of omitted top-level arguments and the computed
/// attributes that are pure functions of the configuration.
fn plan_known_values(planned: &mut Value, settings: &Settings, region: &str) {
    for key in DEFAULTED {
        if !planned.get(key).is_null() {
            continue;
        }
        let value: Value = match key {
            "cpu" => settings.cpu.into(),
            "memory" => settings.memory.into(),
            "desired_count" => settings.desired_count.into(),
            "spot_percent" => settings.spot_percent.into(),
            "dashboard" => settings.dashboard.into(),
            "log_retention_days" => settings.log_retention_days.into(),
            "wait_for_steady_state" => settings.wait_for_steady_state.into(),
            _ => continue,
        };
        planned.set(key, value);
    }
    let known = |k: &str| !planned.get(k).contains_unknown();
    let ids_known = known("platform") && known("name");
    let name_known = known("name");
    let cost_known = COST_INPUTS.iter().all(|k| known(k));
    planned.set(
        "id",
        if ids_known {
            super::names::resource_id(&settings.platform, &settings.name).into()
        } else {
            Value::Unknown
        },
    );
    planned.set(
        "virtual_node_name",
        if settings.service_mesh != ServiceMesh::AppMesh {
            Value::Null
        } else if name_known {
            expand::virtual_node_name(settings).into()
        } else {
            Value::Unknown
        },
    );
    planned.set(
        "estimated_monthly_cost",
        if cost_known {
            crate::cost::estimated_monthly_cost(&settings.workload(), region).into()
        } else {
            Value::Unknown
        },
    );
}

/// `PLATFORM/NAME` (what `id` holds) split into its parts, or why not.
fn parse_import_id(id: &str) -> Result<(&str, &str), String> {
    let expected = "Import a microservice by its id, PLATFORM/NAME (the platform's name and the service's), e.g. terraform import matbakh_microservice.auth matbakh/auth-service";
    let Some((platform, name)) = id.split_once('/') else {
        return Err(format!("{expected}; got {id:?}."));
    };
    if name.contains('/') {
        return Err(format!(
            "{expected}; got {id:?}, which has more than one \"/\"."
        ));
    }
    crate::resources::platform::schema::check_name(platform)
        .map_err(|why| format!("{expected}. The platform part is invalid: {why}"))?;
    check_service_name(name)
        .map_err(|why| format!("{expected}. The name part is invalid: {why}."))?;
    Ok((platform, name))
}

/// The component that carries a computed ARN: unknown while the whole map
/// or the entry is.
fn component(components: &Value, key: &str) -> Value {
    match components {
        Value::Map(m) => m.get(key).cloned().unwrap_or(Value::Null),
        _ => Value::Unknown,
    }
}

/// The `desired_count` an import records. With autoscaling, the count ECS
/// runs is the scaler's, not an argument, and may lie outside a range
/// changed since: record the initial count a configuration without
/// `desired_count` plans (the default, clamped into the range), so
/// `-generate-config-out` writes a value the provider accepts and a plan
/// after import shows no change.
fn imported_desired_count(state: &Value, env: crate::environment::Environment) -> Value {
    let autoscaled = matches!(state.get("autoscaling"), Value::List(l) if !l.is_empty());
    if !autoscaled {
        return state.get("desired_count").clone();
    }
    let mut without = state.clone();
    without.set("desired_count", Value::Null);
    match config_of(&without) {
        Ok(config) => Settings::resolve_unchecked(&config, env)
            .desired_count
            .into(),
        Err(_) => state.get("desired_count").clone(),
    }
}

/// Arguments the provider alone acts on: AWS holds nothing to read back.
/// `secrets_kms_key_arns`, `task_policy_json` and `task_policy_arns` live
/// in the made roles' policies: a change there shows as the role's drift
/// (the role is updated back), not as another argument value. An import
/// reads them back from the roles (`roles::role_arguments`). `ingress` is
/// recovered by an import; a read keeps it (drift shows as its objects').
const NOT_IN_AWS: [&str; 8] = [
    "platform",
    "ingress",
    "name",
    "wait_for_steady_state",
    "timeouts",
    "secrets_kms_key_arns",
    "task_policy_json",
    "task_policy_arns",
];

#[async_trait]
impl GraphResource for Microservice {
    const TYPE: &'static str = "matbakh_microservice";
    const REPLACE_ON: &'static [&'static str] = &["platform", "name"];
    type Settings = Settings;
    type Context = PlatformContext;

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value) -> Result<Vec<Problem>, String> {
        // A value that does not decode is a problem at its own attribute.
        let decoded = crate::tf::decode::typed::<MicroserviceConfig>(config, "the configuration");
        let mut problems = match decoded {
            Ok(c) => super::validate::validate(&c),
            Err(p) => vec![p],
        };
        problems.extend(lifecycle::validate_timeouts(config));
        Ok(problems)
    }

    fn settings(&self, state: &Value, configured: &Configured) -> Result<Settings, String> {
        Ok(
            Settings::resolve_unchecked(&config_of(state)?, configured.environment)
                .on(configured.service_mesh),
        )
    }

    fn validate_on_backend(
        &self,
        config: &Value,
        configured: &Configured,
    ) -> Result<Vec<Problem>, String> {
        let mut problems =
            super::validate::validate_on(&config_of(config)?, configured.service_mesh);
        if configured.service_mesh == ServiceMesh::AppMesh {
            problems.extend(crate::resources::platform::ingress::on_app_mesh(config));
        }
        Ok(problems)
    }

    fn id(&self, settings: &Settings) -> String {
        super::names::resource_id(&settings.platform, &settings.name)
    }

    async fn context(
        &self,
        configured: &Configured,
        settings: &Settings,
    ) -> Result<PlatformContext, String> {
        let mut platform = find_platform(configured, &settings.platform).await?;
        if settings.ingress.is_some() && platform.service_mesh == ServiceMesh::ServiceConnect {
            platform.ingress = Some(super::platform_ingress::find(configured, settings).await?);
        }
        // The client alias needs the namespace's name, which only the
        // platform knows (its 70-character limit keeps every valid name in).
        if platform.service_mesh == ServiceMesh::ServiceConnect {
            client_alias(&settings.name, &platform.namespace_name)
                .map_err(|why| format!("name: {why}"))?;
        }
        Ok(platform)
    }

    fn expand(&self, settings: &Settings, platform: &PlatformContext) -> DesiredGraph {
        expand::expand(settings, platform)
    }

    fn plan_known(&self, planned: &mut Value, settings: &Settings, configured: &Configured) {
        plan_known_values(planned, settings, &configured.clients.region);
    }

    fn context_computed(
        &self,
        state: &mut Value,
        settings: &Settings,
        platform: Option<&PlatformContext>,
    ) {
        let (dns_name, virtual_service_name) = match platform {
            Some(p) => (
                expand::dns_name(settings, p).into(),
                (p.service_mesh == ServiceMesh::AppMesh)
                    .then(|| expand::virtual_service_name(settings, p))
                    .into(),
            ),
            None if settings.service_mesh != ServiceMesh::AppMesh => (Value::Unknown, Value::Null),
            None => (Value::Unknown, Value::Unknown),
        };
        state.set("dns_name", dns_name);
        state.set("virtual_service_name", virtual_service_name);
        let url = match (&settings.ingress, platform.and_then(|p| p.ingress.as_ref())) {
            (None, _) => Value::Null,
            (Some(i), Some(alb)) => super::ingress_components::url(i, alb).into(),
            (Some(_), None) => Value::Unknown,
        };
        state.set("url", url);
    }

    fn component_computed(&self, state: &mut Value, components: &Value) {
        let with_ingress = matches!(state.get("ingress"), Value::List(l) if !l.is_empty());
        let groups = if with_ingress {
            use super::ingress_components::keys::{TARGET_GROUP_BLUE, TARGET_GROUP_GREEN};
            match (
                component(components, TARGET_GROUP_BLUE),
                component(components, TARGET_GROUP_GREEN),
            ) {
                (Value::String(b), Value::String(g)) => {
                    Value::List(vec![Value::String(b), Value::String(g)])
                }
                // Known components without one of them (a refresh that found
                // a group changed or deleted outside Terraform: the plan
                // repairs it): no value, as `service_arn` then; a refresh
                // may not return an unknown one.
                (Value::Null, _) | (_, Value::Null) if matches!(components, Value::Map(_)) => {
                    Value::Null
                }
                _ => Value::Unknown,
            }
        } else {
            Value::Null
        };
        state.set("target_group_arns", groups);
        state.set("service_arn", component(components, keys::SERVICE));
        state.set(
            "task_definition_arn",
            component(components, keys::TASK_DEFINITION),
        );
    }

    /// With autoscaling on, the scaler owns the desired count: its changes
    /// are not drift, so the prior value stays.
    fn held_by_aws(&self, key: &str, prior: &Value) -> bool {
        let autoscaled = matches!(prior.get("autoscaling"), Value::List(l) if !l.is_empty());
        let scaled = key == "desired_count" && autoscaled;
        !NOT_IN_AWS.contains(&key) && !scaled
    }

    async fn recover(
        &self,
        configured: &Configured,
        settings: &Settings,
        platform: &PlatformContext,
    ) -> Result<Option<Recovered>, String> {
        Ok(read_existing(&configured.clients, platform, &settings.name)
            .await?
            .map(|mut existing| Recovered {
                arguments: {
                    // `min_requests` lives in the release's no-traffic alarm
                    // only as a threshold (drift there shows as the alarm's):
                    // the configured value is kept.
                    super::release_alarms::keep_min_requests(&mut existing.arguments, settings);
                    existing.arguments
                },
                components: existing.components,
                // While a canary deploys on the service, its deployment
                // settings are the canary's: not drift of this resource.
                keep_prior: if existing.canary.is_some() {
                    vec!["deployment"]
                } else {
                    Vec::new()
                },
            }))
    }

    /// Backends to check, or a budget that may guard the platform: unless
    /// the platform was planned in this process without one, a new service
    /// is what the budget guard is for.
    fn has_plan_warnings(&self, settings: &Settings) -> bool {
        !settings.backends.is_empty()
            || settings.ingress.is_some()
            || super::rollback_warning::applies(settings)
            || super::release_alarms::warns_about_silence(settings)
            || !crate::resources::planned_costs::planned_without_budget(&settings.platform)
    }

    async fn plan_verdicts(
        &self,
        configured: &Configured,
        settings: &Settings,
        platform: &PlatformContext,
    ) -> Vec<crate::budget_guard::Verdict> {
        let mut verdicts: Vec<_> = super::budget_check::check(configured, settings, platform)
            .await
            .into_iter()
            .collect();
        if let Some(alb) = &platform.ingress {
            verdicts.extend(
                super::platform_ingress::collision_verdicts(configured, settings, alb).await,
            );
        }
        if !crate::cost::priced_region(&platform.region) {
            verdicts.push(crate::budget_guard::Verdict {
                error: false,
                summary: format!("estimated_monthly_cost: no prices for {}", platform.region),
                detail: format!(
                    "The price table has no Fargate prices for {}: {}'s estimate uses us-east-1's, which may be lower. Priced regions: {}.",
                    platform.region,
                    settings.name,
                    crate::cost::PRICED_REGIONS.join(", ")
                ),
            });
        }
        verdicts
    }

    /// A backend no microservice of the platform answers to is allowed (it
    /// may be created in this same apply) but worth a look.
    async fn plan_warnings(
        &self,
        configured: &Configured,
        settings: &Settings,
        platform: &PlatformContext,
    ) -> Vec<(String, String)> {
        let mut warnings: Vec<(String, String)> =
            super::rollback_warning::warning(&configured.clients, platform, settings)
                .await
                .into_iter()
                .collect();
        warnings.extend(super::platform_ingress::exposure(configured, settings).await);
        if super::release_alarms::warns_about_silence(settings) {
            if let Some(rate) = super::release_alarms::recent_requests_per_minute(
                &configured.clients,
                super::expand::requests_query(settings, platform),
            )
            .await
            {
                warnings.extend(super::release_alarms::silence_warning(settings, rate));
            }
        }
        if settings.backends.is_empty() {
            return warnings;
        }
        let found = match crate::aws::ecs::service::existing_services(
            &configured.clients,
            &platform.cluster_name,
            &settings.backends,
        )
        .await
        {
            Ok(found) => found,
            // Only a warning is at stake: the apply reports AWS trouble.
            Err(_) => return warnings,
        };
        warnings
            .into_iter()
            .chain(settings.backends
            .iter()
            .filter(|b| !found.contains(*b))
            .map(|b| {
                (
                    format!("backends: no microservice {b:?} on platform {:?}", platform.platform_id),
                    format!(
                        "{} lists {b:?} as a backend, but platform {:?} has no microservice of that name. \
                         Unless it is created in this same apply, calls to {b}.{} will fail; check the name.",
                        settings.name, platform.platform_id, platform.namespace_name
                    ),
                )
            }))
            .collect()
    }

    fn check_import_id(&self, id: &str) -> Result<(), String> {
        parse_import_id(id).map(|_| ())
    }

    /// `terraform import matbakh_microservice.X PLATFORM/NAME`: the arguments
    /// are recovered from what exists in AWS, written the way a
    /// configuration that leaves its defaults out records them.
    async fn import(
        &self,
        configured: &Configured,
        id: &str,
    ) -> Result<(Value, Option<OwnerToken>), String> {
        let (platform_id, name) = parse_import_id(id)?;
        let platform = find_platform(configured, platform_id).await?;
        let Some(existing) = read_existing(&configured.clients, &platform, name).await? else {
            // No ECS service: a create killed before it got there left some
            // objects. Adopt those; the next plan takes the other arguments
            // from the configuration and its apply creates the rest.
            let leftovers = read_leftovers(&configured.clients, &platform, name).await?;
            if leftovers.components.is_empty() {
                return Err(format!(
                    "no microservice {name:?} exists on platform {platform_id:?} in {}: neither the ECS service {name:?} of cluster {:?} nor any other object named for it and tagged {OWNER_TAG} = {id:?} was found",
                    platform.region, platform.cluster_name
                ));
            }
            tracing::info!(
                components = ?leftovers.components.keys().collect::<Vec<_>>(),
                "importing the objects an interrupted create left"
            );
            let mut state = Value::Null;
            state.set("platform", Value::str(platform_id));
            state.set("name", Value::str(name));
            let settings = self.settings(&state, configured)?;
            self.context_computed(&mut state, &settings, Some(&platform));
            let components = lifecycle::components_value(&leftovers.components);
            self.component_computed(&mut state, &components);
            state.set("components", components);
            state.set("drift", lifecycle::no_drift());
            return Ok((state, leftovers.owner_token));
        };
        let mut state = without_defaults(
            &existing.arguments,
            configured.environment,
            configured.service_mesh,
        );
        state.set(
            "desired_count",
            imported_desired_count(&state, configured.environment),
        );
        let settings = self.settings(&state, configured)?;
        let mut planned = state.clone();
        plan_known_values(&mut planned, &settings, &platform.region);
        // Only the computed attributes: the arguments stay as recovered,
        // defaults left out.
        for key in ["id", "virtual_node_name", "estimated_monthly_cost"] {
            state.set(key, planned.get(key).clone());
        }
        self.context_computed(&mut state, &settings, Some(&platform));
        let components = lifecycle::components_value(&existing.components);
        self.component_computed(&mut state, &components);
        state.set("components", components);
        state.set("drift", lifecycle::no_drift());
        Ok((state, existing.owner_token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_with_autoscaling_records_the_initial_count_in_range() {
        let env = crate::environment::Environment::Production;
        let mut state = Value::from_json(&serde_json::json!({
            "platform": "matbakh", "name": "auth-service", "image": "x", "port": 8080,
            "desired_count": 12,
            "autoscaling": [{"min_count": 3, "max_count": 10}],
        }));
        let count = imported_desired_count(&state, env);
        assert_eq!(count, Value::from(3i64));
        state.set("desired_count", count);
        let problems = super::super::validate::validate(&config_of(&state).unwrap());
        assert!(problems.is_empty(), "{problems:?}");
        // Without autoscaling the count ECS runs is the argument.
        state.set("autoscaling", Value::List(vec![]));
        state.set("desired_count", 12i64.into());
        assert_eq!(imported_desired_count(&state, env), Value::from(12i64));
    }

    #[test]
    fn import_ids() {
        assert_eq!(
            parse_import_id("matbakh/auth-service"),
            Ok(("matbakh", "auth-service"))
        );
        for bad in [
            "auth-service",
            "matbakh/",
            "/auth-service",
            "a/b/c",
            "matbakh/Auth_Service",
            "",
        ] {
            let why = parse_import_id(bad).unwrap_err();
            assert!(why.contains("PLATFORM/NAME"), "{bad}: {why}");
        }
    }
}
