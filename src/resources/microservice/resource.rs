//! `matbakh_microservice`: plan and CRUD glue around the pure expansion.

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{AttributePath, Diagnostics, Resource};

use super::backend::service_connect::client_alias;
use super::config::{MicroserviceConfig, Settings};
use super::expand::{self, keys, PlatformContext};
use super::platform_context::find_platform;
use super::read_back::{read_existing, read_leftovers};
use super::recover::without_defaults;
use super::schema::{self, COMPUTED, DEFAULTED};
use super::validate::check_service_name;
use crate::engine::Resolved;
use crate::environment::Environment;
use crate::provider::{Configured, ProviderContext};
use crate::resources::lifecycle::{self, Operation};
use crate::resources::ownership;
use crate::service_mesh::ServiceMesh;
use crate::spec::ownership::OwnerToken;
use crate::spec::{DesiredGraph, OWNER_TAG};
use crate::tf::diagnostics::{error, report};
use crate::tf::value::Value;

const RESOURCE: &str = "matbakh_microservice";

pub struct MicroserviceResource {
    context: ProviderContext,
}

impl MicroserviceResource {
    pub fn new(context: ProviderContext) -> Self {
        MicroserviceResource { context }
    }
}

fn config_of(state: &Value) -> Result<MicroserviceConfig, String> {
    MicroserviceConfig::from_value(&state.to_json())
}

fn settings_of(state: &Value, env: Environment, mesh: ServiceMesh) -> Result<Settings, String> {
    Ok(Settings::resolve_unchecked(&config_of(state)?, env).on(mesh))
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
            crate::cost::estimated_monthly_cost(settings, region).into()
        } else {
            Value::Unknown
        },
    );
}

/// The computed attributes that follow from the platform and the recorded
/// components.
fn set_computed(
    state: &mut Value,
    settings: &Settings,
    platform: &PlatformContext,
    recorded: &Resolved,
) {
    state.set(
        "id",
        super::names::resource_id(&settings.platform, &settings.name).into(),
    );
    state.set("dns_name", expand::dns_name(settings, platform).into());
    let app_mesh = platform.service_mesh == ServiceMesh::AppMesh;
    state.set(
        "virtual_node_name",
        app_mesh.then(|| expand::virtual_node_name(settings)).into(),
    );
    state.set(
        "virtual_service_name",
        app_mesh
            .then(|| expand::virtual_service_name(settings, platform))
            .into(),
    );
    state.set("service_arn", recorded.get(keys::SERVICE).cloned().into());
    state.set(
        "task_definition_arn",
        recorded.get(keys::TASK_DEFINITION).cloned().into(),
    );
    state.set(
        "estimated_monthly_cost",
        crate::cost::estimated_monthly_cost(settings, &platform.region).into(),
    );
    state.set("components", lifecycle::components_value(recorded));
}

/// The graph of `settings` with this resource's ownership token written into
/// every object's tags (none when the state predates tokens).
fn owned_graph(
    settings: &Settings,
    platform: &PlatformContext,
    token: Option<&OwnerToken>,
) -> DesiredGraph {
    let graph = expand::expand(settings, platform);
    match token {
        Some(token) => graph.with_owner_token(token),
        None => graph,
    }
}

/// The arguments an import of an interrupted create's leftovers records:
/// only what the import id says. The other arguments stay null, so the
/// next plan shows the configuration's values as an update, and its apply
/// creates what is missing.
fn leftover_arguments(platform: &str, name: &str) -> Value {
    let mut state = Value::Null;
    state.set("platform", Value::str(platform));
    state.set("name", Value::str(name));
    state
}

/// Attributes that change when AWS objects are created or replaced.
const FROM_AWS: [&str; 3] = ["components", "service_arn", "task_definition_arn"];

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

impl MicroserviceResource {
    /// Report what `config` cannot be on backend `mesh` (known at plan,
    /// unlike in ValidateResourceConfig); false when there is any.
    fn valid_on_backend(&self, diags: &mut Diagnostics, config: &Value, mesh: ServiceMesh) -> bool {
        match config_of(config) {
            Ok(c) => {
                let problems = super::validate::validate_on(&c, mesh);
                let ok = problems.is_empty();
                report(diags, problems);
                ok
            }
            Err(e) => {
                error(diags, format!("Invalid {RESOURCE} configuration"), e);
                false
            }
        }
    }

    async fn platform(
        &self,
        diags: &mut Diagnostics,
        configured: &Configured,
        settings: &Settings,
    ) -> Option<PlatformContext> {
        match find_platform(configured, &settings.platform).await {
            Ok(p) => {
                // The client alias needs the namespace's name, which only
                // the platform knows.
                if p.service_mesh == ServiceMesh::ServiceConnect {
                    if let Err(why) = client_alias(&settings.name, &p.namespace_name) {
                        report(
                            diags,
                            vec![crate::validation::Problem::at(
                                "name",
                                "Service Connect client alias too long",
                                why,
                            )],
                        );
                        return None;
                    }
                }
                Some(p)
            }
            Err(e) => {
                error(
                    diags,
                    format!("Cannot find the platform of {}", settings.name),
                    e,
                );
                None
            }
        }
    }

    fn settings(
        &self,
        diags: &mut Diagnostics,
        state: &Value,
        configured: &Configured,
    ) -> Option<Settings> {
        match settings_of(state, configured.environment, configured.service_mesh) {
            Ok(s) => Some(s),
            Err(e) => {
                error(diags, format!("Invalid {RESOURCE} configuration"), e);
                None
            }
        }
    }
}

#[async_trait]
impl Resource for MicroserviceResource {
    type State<'a> = Value;
    type PrivateState<'a> = Value;
    type ProviderMetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        match config_of(&config) {
            Ok(c) => {
                report(diags, super::validate::validate(&c));
                report(diags, lifecycle::validate_timeouts(&config));
            }
            Err(e) => error(diags, format!("Invalid {RESOURCE} configuration"), e),
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let settings = self.settings(diags, &state, &configured)?;
        let platform = self.platform(diags, &configured, &settings).await?;
        let graph = owned_graph(&settings, &platform, ownership::token_of(&private).as_ref());
        let recorded = lifecycle::recorded_components(&state);
        let (existing, drift) =
            match lifecycle::observe(&configured.clients, &graph.components, &recorded).await {
                Ok(found) => found,
                Err(e) => {
                    error(
                        diags,
                        format!("Cannot read {RESOURCE} {}", settings.name),
                        e,
                    );
                    return None;
                }
            };
        if existing.is_empty() && !recorded.is_empty() {
            tracing::info!(
                service = settings.name.as_str(),
                "every object is gone; removing from state"
            );
            return Some((Value::Null, private));
        }
        let mut state = state;
        set_computed(&mut state, &settings, &platform, &existing);
        state.set("drift", lifecycle::drift_value(&drift));
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Value,
        config: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        if !self.valid_on_backend(diags, &config, configured.service_mesh) {
            return None;
        }
        let settings = self.settings(diags, &proposed, &configured)?;
        let mut planned = proposed;
        plan_known_values(&mut planned, &settings, &configured.clients.region);
        for k in FROM_AWS.iter().chain(&["dns_name", "virtual_service_name"]) {
            planned.set(k, Value::Unknown);
        }
        // tags_all, and AWS's tag limits with the provider's default_tags.
        report(
            diags,
            crate::resources::tags::plan_tags(&mut planned, &configured.default_tags),
        );
        planned.set("drift", lifecycle::no_drift());
        Some((planned, ownership::planned_private(Value::Null)))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        proposed: Value,
        config: Value,
        prior_private: Value,
        _meta: Value,
    ) -> Option<(Value, Value, Vec<AttributePath>)> {
        let configured = self.context.get(diags)?;
        if !self.valid_on_backend(diags, &config, configured.service_mesh) {
            return None;
        }
        let settings = self.settings(diags, &proposed, &configured)?;
        let mut planned = proposed;
        plan_known_values(&mut planned, &settings, &configured.clients.region);
        let replace: Vec<AttributePath> = ["platform", "name"]
            .into_iter()
            .filter(|k| planned.get(k) != prior.get(k))
            .map(AttributePath::new)
            .collect();
        let drifted = lifecycle::has_drift(&prior);
        if drifted {
            lifecycle::warn_drift(diags, RESOURCE, &settings.name, &prior);
        }
        if drifted
            || !replace.is_empty()
            || lifecycle::arguments_changed(&prior, &planned, &COMPUTED)
        {
            for k in FROM_AWS {
                planned.set(k, Value::Unknown);
            }
        }
        if !replace.is_empty() {
            planned.set("dns_name", Value::Unknown);
            planned.set("virtual_service_name", Value::Unknown);
        }
        // tags_all, and AWS's tag limits with the provider's default_tags.
        report(
            diags,
            crate::resources::tags::plan_tags(&mut planned, &configured.default_tags),
        );
        planned.set("drift", lifecycle::no_drift());
        Some((planned, ownership::planned_private(prior_private), replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Value,
        prior_private: Value,
        _meta: Value,
    ) -> Option<Value> {
        Some(prior_private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Value,
        _config: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let settings = self.settings(diags, &planned, &configured)?;
        let platform = self.platform(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let graph = owned_graph(&settings, &platform, Some(&token));
        let outcome = lifecycle::apply(
            RESOURCE,
            &configured.clients,
            &graph.components,
            &[],
            Resolved::new(),
            lifecycle::timeout(&planned, Operation::Create),
        )
        .await;
        let mut outcome = outcome;
        ownership::record_own_objects_after_failure(
            &configured.clients,
            &graph.components,
            &mut outcome,
            &token,
        )
        .await;
        if ownership::undo_refused_create(
            diags,
            RESOURCE,
            &configured.clients,
            &graph.components,
            &mut outcome,
            lifecycle::timeout(&planned, Operation::Delete),
        )
        .await
        {
            return None;
        }
        lifecycle::report_failures(diags, RESOURCE, "creating", &outcome);
        let mut state = planned;
        set_computed(&mut state, &settings, &platform, &outcome.recorded);
        state.set("drift", lifecycle::no_drift());
        Some((state, ownership::with_token(private, &token)))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        planned: Value,
        _config: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let settings = self.settings(diags, &planned, &configured)?;
        let previous_settings = self.settings(diags, &prior, &configured)?;
        let platform = self.platform(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let desired = owned_graph(&settings, &platform, Some(&token));
        let previous = owned_graph(&previous_settings, &platform, Some(&token));
        let outcome = lifecycle::apply(
            RESOURCE,
            &configured.clients,
            &desired.components,
            &previous.components,
            lifecycle::recorded_components(&prior),
            lifecycle::timeout(&planned, Operation::Update),
        )
        .await;
        let mut outcome = outcome;
        ownership::record_own_objects_after_failure(
            &configured.clients,
            &desired.components,
            &mut outcome,
            &token,
        )
        .await;
        lifecycle::report_failures(diags, RESOURCE, "updating", &outcome);
        let mut state = planned;
        set_computed(&mut state, &settings, &platform, &outcome.recorded);
        state.set("drift", lifecycle::no_drift());
        Some((state, ownership::with_token(private, &token)))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        private: Value,
        _meta: Value,
    ) -> Option<()> {
        let configured = self.context.get(diags)?;
        let settings = self.settings(diags, &prior, &configured)?;
        let platform = self.platform(diags, &configured, &settings).await?;
        let token = ownership::token_of(&private);
        let graph = owned_graph(&settings, &platform, token.as_ref());
        let mut recorded = lifecycle::recorded_components(&prior);
        // Objects whose create answer was lost exist without being
        // recorded: delete those that carry this resource's token too.
        if let Some(token) = &token {
            match ownership::with_unrecorded_own_objects(
                &configured.clients,
                &graph.components,
                recorded.clone(),
                token,
            )
            .await
            {
                Ok(all) => recorded = all,
                Err(e) => {
                    error(
                        diags,
                        format!("Cannot destroy {RESOURCE} {}", settings.name),
                        e,
                    );
                    return None;
                }
            }
        }
        let outcome = lifecycle::destroy(
            RESOURCE,
            &configured.clients,
            &graph.components,
            recorded,
            lifecycle::timeout(&prior, Operation::Delete),
        )
        .await;
        lifecycle::report_failures(diags, RESOURCE, "destroying", &outcome);
        outcome.is_ok().then_some(())
    }

    /// `terraform import matbakh_microservice.X PLATFORM/NAME`: the arguments
    /// are recovered from what exists in AWS, written the way a
    /// configuration that leaves its defaults out records them.
    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(Value, Value)> {
        let (platform_id, name) = match parse_import_id(&id) {
            Ok(parts) => parts,
            Err(why) => {
                error(diags, "Invalid import id", why);
                return None;
            }
        };
        let configured = self.context.get(diags)?;
        let cannot = format!("Cannot import {RESOURCE} {id}");
        let platform = match find_platform(&configured, platform_id).await {
            Ok(p) => p,
            Err(e) => {
                error(diags, cannot, e);
                return None;
            }
        };
        let (mut state, components, token) = match read_existing(
            &configured.clients,
            &platform,
            name,
        )
        .await
        {
            Ok(Some(existing)) => (
                without_defaults(
                    &existing.arguments,
                    configured.environment,
                    configured.service_mesh,
                ),
                existing.components,
                existing.owner_token,
            ),
            Ok(None) => {
                // No ECS service: a create killed before it got there
                // left some objects. Adopt those; the next apply
                // creates the rest from the configuration.
                match read_leftovers(&configured.clients, &platform, name).await {
                    Ok(leftovers) if !leftovers.components.is_empty() => {
                        tracing::info!(
                            id = id.as_str(),
                            components = ?leftovers.components.keys().collect::<Vec<_>>(),
                            "importing the objects an interrupted create left"
                        );
                        (
                            leftover_arguments(platform_id, name),
                            leftovers.components,
                            leftovers.owner_token,
                        )
                    }
                    Ok(_) => {
                        error(
                                diags,
                                cannot,
                                format!(
                                    "no microservice {name:?} exists on platform {platform_id:?} in {}: neither the ECS service {name:?} of cluster {:?} nor any other object named for it and tagged {OWNER_TAG} = {id:?} was found",
                                    platform.region, platform.cluster_name
                                ),
                            );
                        return None;
                    }
                    Err(e) => {
                        error(diags, cannot, e);
                        return None;
                    }
                }
            }
            Err(e) => {
                error(diags, cannot, e);
                return None;
            }
        };
        // All objects of one resource share one token: adopt theirs, so a
        // later create that meets one of them knows it. Objects from before
        // ownership tokens get a new one, written onto them by the next apply.
        let token = token.unwrap_or_else(OwnerToken::generate);
        let settings = self.settings(diags, &state, &configured)?;
        set_computed(&mut state, &settings, &platform, &components);
        crate::resources::tags::set_tags_all(&mut state, &configured.default_tags);
        state.set("drift", lifecycle::no_drift());
        crate::tf::schema::complete_object(&mut state, &schema::schema().block);
        Some((state, ownership::with_token(Value::Null, &token)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
