//! `matbakh_canary`: what is its own (schema, configuration, the
//! microservice it runs beside, the expansion on either backend, its
//! release step and what a read finds beyond its components); the shared
//! driver does plan, read, apply, destroy and import.
//!
//! Ownership of the route is split: the microservice owns the route, the
//! canary owns the weight of its candidate's target (see
//! `RouteSpec::shared_with`).
//!
//! Promotion (the microservice takes the candidate's image, the canary is
//! removed) is one apply in which Terraform destroys the canary *before* it
//! updates the microservice. That order is safe by construction: the stable
//! service keeps its full task count during the whole walk, so destroying
//! the canary first moves all traffic back to a healthy, fully scaled stable
//! service ([`GraphResource::before_destroy`]), and only then removes the
//! candidate; the microservice's update is then an ordinary ECS rolling
//! deployment (100 % minimum healthy).

use std::time::Duration;

use async_trait::async_trait;
use tf_provider::schema::Schema;

use super::config::{
    split_microservice_id, CanaryConfig, CanarySettings, DEFAULT_STEPS, DEFAULT_STEP_INTERVAL,
};
use super::expand::canary_id;
use super::release::status_of;
use super::schema::{self, COMPUTED, DEFAULTED};
use super::stable::Stable;
use super::status::Status;
use crate::engine::{Resolved, StepError};
use crate::resources::context::{Configured, ProviderContext};
use crate::resources::driver::{Beyond, Driver, GraphResource, Recovered, ReleaseRun, Released};
use crate::resources::microservice::names;
use crate::service_mesh::ServiceMesh;
use crate::spec::ownership::OwnerToken;
use crate::spec::DesiredGraph;
use crate::tf::value::Value;
use crate::validation::{parse_duration, Problem};

/// `matbakh_canary` as Terraform sees it.
pub type CanaryResource = Driver<Canary>;

impl CanaryResource {
    pub fn new(context: ProviderContext) -> Self {
        Driver::of(Canary, context)
    }
}

/// What `matbakh_canary` brings to the driver.
pub struct Canary;

/// A canary's state as the driver works with it.
pub struct CanaryState {
    /// The settings; `None` while an argument is unknown (a plan): nothing
    /// looks at AWS then.
    pub settings: Option<CanarySettings>,
    /// Where the walk stands, as state says (`None` in a plan of a create).
    pub status: Option<Status>,
    /// `step_interval`, when known: a plan warns about a short one.
    pub step_interval: Option<Duration>,
}

impl CanaryState {
    fn known(&self) -> Result<&CanarySettings, String> {
        self.settings
            .as_ref()
            .ok_or_else(|| "the canary's arguments are not known yet".to_string())
    }
}

/// Arguments of the configuration (the rest is computed).
const ARGUMENTS: [&str; 8] = [
    "microservice",
    "image",
    "strategy",
    "steps",
    "step_interval",
    "min_requests",
    "rollback_on",
    "tags",
];

/// Why a canary cannot be imported.
const NO_IMPORT: &str = "A canary's walk is an operation in time, not an object AWS keeps: create a new matbakh_canary instead.";

/// Fill the defaults of omitted arguments, and the id once the
/// microservice's id is known.
fn plan_defaults(planned: &mut Value, mesh: ServiceMesh) {
    for key in DEFAULTED {
        if !planned.get(key).is_null() {
            continue;
        }
        let steps: &[i64] = match mesh {
            ServiceMesh::AppMesh => &DEFAULT_STEPS,
            // ECS's CANARY: its default share, then everything.
            ServiceMesh::ServiceConnect => &[super::ecs_strategy::DEFAULT_CANARY_PERCENT, 100],
        };
        let value: Value = match key {
            "strategy" => "canary".into(),
            "steps" => Value::List(steps.iter().map(|s| (*s).into()).collect()),
            "step_interval" => DEFAULT_STEP_INTERVAL.into(),
            _ => continue,
        };
        planned.set(key, value);
    }
    let id = match planned
        .get("microservice")
        .as_str()
        .map(split_microservice_id)
    {
        Some(Ok((platform, service))) => {
            names::resource_id(&platform, &names::canary_slot(&service)).into()
        }
        _ => Value::Unknown,
    };
    planned.set("id", id);
}

/// Whether any argument differs between the prior state and the plan
/// (computed attributes and `timeouts` aside): whether apply has work to do.
fn arguments_changed(prior: &Value, planned: &Value) -> bool {
    let (Value::Map(p), Value::Map(n)) = (prior, planned) else {
        return true;
    };
    let ignore = |k: &str| COMPUTED.contains(&k) || k == "timeouts";
    n.iter().any(|(k, v)| !ignore(k) && p.get(k) != Some(v))
}

/// What the release sets anew, left unknown by a plan that has work for
/// it: a create, a new image or walk, a walk that did not finish, a repair
/// the last read asked for. A new microservice is a new canary (a new id).
fn unknown_after_plan(prior: Option<&Value>, planned: &Value, repair: bool) -> Vec<&'static str> {
    const SET_BY_RELEASE: [&str; 3] = ["status", "current_weight", "components"];
    let Some(prior) = prior else {
        return SET_BY_RELEASE.to_vec();
    };
    let replaced = planned.get("microservice") != prior.get("microservice");
    let unfinished = status_of(prior) == Some(Status::Progressing);
    let mut unknown = Vec::new();
    if repair || unfinished || replaced || arguments_changed(prior, planned) {
        unknown.extend(SET_BY_RELEASE);
    }
    if replaced {
        unknown.push("id");
    }
    unknown
}

#[async_trait]
impl GraphResource for Canary {
    const TYPE: &'static str = "matbakh_canary";
    const REPLACE_ON: &'static [&'static str] = &["microservice"];
    /// A walk holds each step for `step_interval` (the default walk takes
    /// 20 minutes after deployment): `schema::DEFAULT_TIMEOUT`, 60 minutes.
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
    type Settings = CanaryState;
    type Context = Stable;

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value) -> Result<Vec<Problem>, String> {
        Ok(
            match crate::tf::decode::typed::<CanaryConfig>(config, "the configuration") {
                Ok(c) => super::config::validate(&c),
                Err(p) => vec![p],
            },
        )
    }

    /// On service_connect a canary is an ECS deployment: its `steps`,
    /// `strategy` and `step_interval` must be what ECS can express.
    fn validate_on_backend(
        &self,
        config: &Value,
        configured: &Configured,
    ) -> Result<Vec<Problem>, String> {
        if configured.service_mesh != ServiceMesh::ServiceConnect {
            return Ok(Vec::new());
        }
        Ok(match CanaryConfig::from_value(&config.to_json()) {
            Ok(c) => super::ecs_strategy::plan_problems(&c),
            Err(_) => Vec::new(),
        })
    }

    fn settings(&self, state: &Value, _configured: &Configured) -> Result<CanaryState, String> {
        let step_interval = state
            .get("step_interval")
            .as_str()
            .and_then(|t| parse_duration(t).ok());
        let settings = if ARGUMENTS.iter().any(|k| state.get(k).contains_unknown()) {
            None
        } else {
            Some(CanarySettings::resolve(&CanaryConfig::from_value(
                &state.to_json(),
            )?)?)
        };
        Ok(CanaryState {
            settings,
            status: status_of(state),
            step_interval,
        })
    }

    fn id(&self, state: &CanaryState) -> String {
        state
            .settings
            .as_ref()
            .map(canary_id)
            .unwrap_or_else(|| "(not known yet)".to_string())
    }

    async fn context_if_exists(
        &self,
        configured: &Configured,
        state: &CanaryState,
    ) -> Result<Option<Stable>, String> {
        Stable::find(configured, state.known()?).await
    }

    async fn context(
        &self,
        configured: &Configured,
        state: &CanaryState,
    ) -> Result<Stable, String> {
        let settings = state.known()?;
        self.context_if_exists(configured, state).await?.ok_or_else(|| {
            format!(
                "microservice {} not found. The canary runs beside an existing matbakh_microservice: its ECS service was not found. Create the microservice first (refer to it as matbakh_microservice.NAME.id so Terraform orders them).",
                settings.microservice_id()
            )
        })
    }

    /// The candidate joins the microservice's Cloud Map service.
    fn external(&self, stable: &Stable) -> Resolved {
        stable.external.clone()
    }

    /// On service_connect the canary's alarms (its revision and deployment
    /// are recorded beside them, see `ecs_native`); on App Mesh the
    /// candidate slot, scaled to zero once rolled back.
    fn expand(&self, state: &CanaryState, stable: &Stable) -> DesiredGraph {
        let Some(settings) = &state.settings else {
            return DesiredGraph::default();
        };
        if stable.is_native() {
            super::ecs_native::alarm_graph(&stable.settings, &stable.platform, settings)
        } else {
            let rolled_back = state.status == Some(Status::RolledBack);
            super::expand::expand(&stable.settings, &stable.platform, settings, rolled_back)
        }
    }

    fn plan_known(&self, planned: &mut Value, _state: &CanaryState, configured: &Configured) {
        plan_defaults(planned, configured.service_mesh);
    }

    fn context_computed(&self, _: &mut Value, _: &CanaryState, _: Option<&Stable>) {}

    fn component_computed(&self, _: &mut Value, _: &Value) {}

    /// The canary's arguments are what it was told, never read back.
    fn held_by_aws(&self, _key: &str, _prior: &Value) -> bool {
        false
    }

    async fn recover(
        &self,
        _: &Configured,
        _: &CanaryState,
        _: &Stable,
    ) -> Result<Option<Recovered>, String> {
        Ok(None)
    }

    async fn release(
        &self,
        configured: &Configured,
        state: &CanaryState,
        stable: &Stable,
        run: ReleaseRun<'_>,
    ) -> Option<Released> {
        let settings = state.settings.as_ref()?;
        Some(super::release::release(configured, settings, stable, run).await)
    }

    async fn before_destroy(
        &self,
        configured: &Configured,
        state: &CanaryState,
        stable: &Stable,
        recorded: Resolved,
    ) -> Result<Resolved, StepError> {
        let Some(settings) = &state.settings else {
            return Ok(recorded);
        };
        if stable.is_native() {
            stable
                .native(configured, settings, None)
                .before_destroy(recorded)
                .await
        } else {
            stable
                .app_mesh(configured, settings, None)
                .before_destroy()
                .await?;
            Ok(recorded)
        }
    }

    async fn read_beyond_graph(
        &self,
        configured: &Configured,
        state: &CanaryState,
        stable: &Stable,
        recorded: &Resolved,
        current: &Value,
    ) -> Result<Beyond, String> {
        super::where_it_stands::read(configured, state.known()?, stable, recorded, current).await
    }

    fn unknown_after_plan(
        &self,
        prior: Option<&Value>,
        planned: &Value,
        repair: bool,
    ) -> Vec<&'static str> {
        unknown_after_plan(prior, planned, repair)
    }

    /// The warnings are about a change: a plan without one gives none.
    fn warns_on_update(&self, prior: &Value, planned: &Value) -> bool {
        arguments_changed(prior, planned)
    }

    /// A `step_interval` shorter than the alarms' evaluation window (see
    /// [`super::silence::short_interval_warning`]).
    fn settings_warnings(&self, state: &CanaryState) -> Vec<(String, String)> {
        state
            .step_interval
            .and_then(super::silence::short_interval_warning)
            .into_iter()
            .collect()
    }

    fn has_plan_warnings(&self, state: &CanaryState) -> bool {
        state.settings.is_some()
    }

    /// The service's traffic can hardly give the candidate `min_requests`
    /// in its first step (see
    /// [`super::min_requests_warning::plan_min_requests_warning`]).
    async fn plan_warnings(
        &self,
        configured: &Configured,
        state: &CanaryState,
        _stable: &Stable,
    ) -> Vec<(String, String)> {
        let Some(settings) = &state.settings else {
            return Vec::new();
        };
        super::min_requests_warning::plan_min_requests_warning(configured, settings)
            .await
            .into_iter()
            .collect()
    }

    fn import_not_supported(&self) -> Option<&'static str> {
        Some(NO_IMPORT)
    }

    fn check_import_id(&self, _id: &str) -> Result<(), String> {
        Err(NO_IMPORT.to_string())
    }

    async fn import(
        &self,
        _configured: &Configured,
        _id: &str,
    ) -> Result<(Value, Option<OwnerToken>), String> {
        Err(NO_IMPORT.to_string())
    }
}

#[cfg(test)]
#[path = "resource_tests.rs"]
mod tests;
