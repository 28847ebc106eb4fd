//! `matbakh_canary`: plan and CRUD glue around the candidate expansion and
//! the walk.
//!
//! The canary reads its microservice's settings back from AWS (the candidate
//! is the stable service with another image), so it needs nothing but the
//! microservice's id. Ownership of the route is split: the microservice owns
//! the route, the canary owns the weight of its candidate's target (see
//! `RouteSpec::shared_with`).
//!
//! Promotion (the microservice takes the candidate's image, the canary is
//! removed) is one apply in which Terraform destroys the canary *before* it
//! updates the microservice. That order is safe by construction: the stable
//! service keeps its full task count during the whole walk, so destroying
//! the canary first moves all traffic back to a healthy, fully scaled stable
//! service, and only then removes the candidate; the microservice's update
//! is then an ordinary ECS rolling deployment (100 % minimum healthy).

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{AttributePath, Diagnostics, Resource};

use super::app_mesh_walk::Canary;
use super::config::{
    split_microservice_id, CanaryConfig, CanarySettings, DEFAULT_STEPS, DEFAULT_STEP_INTERVAL,
};
use super::ecs_native::NativeCanary;
use super::expand::{canary_id, EXTERNAL};
use super::report::Report;
use super::schema::{self, COMPUTED, DEFAULTED};
use super::status::{expected_weight, Status};
use crate::engine::{self, Resolved};
use crate::resources::context::{Configured, ProviderContext};
use crate::resources::driver::report_failures;
use crate::resources::lifecycle::{self, Operation};
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::expand::keys::SERVICE;
use crate::resources::microservice::expand::PlatformContext;
use crate::resources::microservice::names;
use crate::resources::microservice::platform_context::find_platform;
use crate::resources::microservice::read_existing;
use crate::resources::ownership;
use crate::service_mesh::ServiceMesh;
use crate::spec::ownership::OwnerToken;
use crate::tf::diagnostics::{error, report, warning};
use crate::tf::value::Value;
use crate::validation::parse_duration;

const RESOURCE: &str = "matbakh_canary";

pub struct CanaryResource {
    context: ProviderContext,
}

impl CanaryResource {
    pub fn new(context: ProviderContext) -> Self {
        CanaryResource { context }
    }
}

fn settings_of(state: &Value) -> Result<CanarySettings, String> {
    CanarySettings::resolve(&CanaryConfig::from_value(&state.to_json())?)
}

fn status_of(state: &Value) -> Option<Status> {
    state.get("status").as_str().and_then(Status::parse)
}

/// What the canary needs to know about the microservice it points at.
struct Stable {
    platform: PlatformContext,
    settings: Settings,
    external: Resolved,
    /// The microservice's ECS service ARN and ownership token.
    service_arn: Option<String>,
    owner_token: Option<OwnerToken>,
}

impl Stable {
    /// Whether the canary is an ECS-native deployment (service_connect)
    /// rather than an App Mesh walk.
    fn is_native(&self) -> bool {
        self.platform.service_mesh == ServiceMesh::ServiceConnect
    }

    /// The canary of `settings` on service_connect.
    fn native<'a>(
        &'a self,
        configured: &'a Configured,
        settings: &'a CanarySettings,
        token: Option<OwnerToken>,
    ) -> NativeCanary<'a> {
        NativeCanary {
            clients: &configured.clients,
            stable: &self.settings,
            platform: &self.platform,
            settings,
            service_arn: self.service_arn.clone().unwrap_or_default(),
            microservice_token: self.owner_token.clone(),
            token,
        }
    }

    /// The canary of `settings` beside this stable service.
    fn canary<'a>(
        &'a self,
        configured: &'a Configured,
        settings: &'a CanarySettings,
        token: Option<OwnerToken>,
    ) -> Canary<'a> {
        Canary {
            clients: &configured.clients,
            stable: &self.settings,
            platform: &self.platform,
            settings,
            external: self.external.clone(),
            token,
        }
    }
}

fn default_timeout() -> std::time::Duration {
    parse_duration(schema::DEFAULT_TIMEOUT).expect("a valid duration")
}

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

/// On service_connect a canary is an ECS deployment: its `steps`,
/// `strategy` and `step_interval` must be what ECS can express. False
/// (with the errors reported) when they are not.
fn native_plan_ok(diags: &mut Diagnostics, mesh: ServiceMesh, config: &Value) -> bool {
    if mesh != ServiceMesh::ServiceConnect {
        return true;
    }
    let Ok(c) = CanaryConfig::from_value(&config.to_json()) else {
        return true;
    };
    let problems = super::ecs_strategy::plan_problems(&c);
    let ok = problems.is_empty();
    report(diags, problems);
    ok
}

/// A plan warns about a `step_interval` shorter than the alarms'
/// evaluation window (see [`super::silence::short_interval_warning`]).
fn warn_short_interval(diags: &mut Diagnostics, planned: &Value) {
    let interval = planned
        .get("step_interval")
        .as_str()
        .and_then(|t| parse_duration(t).ok());
    if let Some((summary, detail)) = interval.and_then(super::silence::short_interval_warning) {
        warning(diags, summary, detail);
    }
}

/// A plan warns when the service's traffic can hardly give the candidate
/// `min_requests` in its first step (see
/// [`super::min_requests_warning::plan_min_requests_warning`]).
async fn warn_min_requests(diags: &mut Diagnostics, configured: &Configured, planned: &Value) {
    let Ok(settings) = settings_of(planned) else {
        return;
    };
    if let Some((summary, detail)) =
        super::min_requests_warning::plan_min_requests_warning(configured, &settings).await
    {
        warning(diags, summary, detail);
    }
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

/// Candidate objects a read found changed outside Terraform, remembered in
/// private state for the apply that repairs them.
fn stale_ids(private: &Value) -> Resolved {
    let mut holder = Value::Null;
    holder.set("components", private.get("stale").clone());
    lifecycle::recorded_components(&holder)
}

/// The state after an operation.
fn state_after(planned: Value, settings: &CanarySettings, report: &Report) -> Value {
    let mut state = planned;
    state.set("id", canary_id(settings).into());
    state.set("status", report.status.name().into());
    state.set("current_weight", report.weight.into());
    state.set("components", lifecycle::components_value(&report.recorded));
    state.set("drift", lifecycle::no_drift());
    state
}

/// Turn a report's failures into diagnostics: a rollback names the alarm
/// (or the failed deployment), a stop says where the walk stands.
fn report_outcome(
    diags: &mut Diagnostics,
    settings: &CanarySettings,
    action: &str,
    report: &Report,
) {
    report_failures(
        diags,
        RESOURCE,
        &canary_id(settings),
        action,
        &engine::Outcome {
            recorded: report.recorded.clone(),
            errors: report.errors.clone(),
            progress: vec![],
        },
    );
    if let Some(reason) = &report.rolled_back {
        error(
            diags,
            format!("{RESOURCE} {}: rolled back", settings.service),
            format!(
                "The candidate {} was rolled back: {reason}.\n\nAll traffic is on the stable service again and the candidate is scaled to zero; \
                 its objects stay recorded in the state (status = \"rolled_back\"). Apply a new image to try again, or remove the canary.",
                settings.image
            ),
        );
    }
    if let Some(why) = &report.stopped {
        error(
            diags,
            format!("{action} {RESOURCE} {}: the walk stopped", settings.service),
            format!(
                "{why}\n\nThe candidate has {}% of the traffic (status = \"{}\"); the next apply starts the walk again.",
                report.weight,
                report.status.name()
            ),
        );
    }
}

impl CanaryResource {
    fn settings(&self, diags: &mut Diagnostics, state: &Value) -> Option<CanarySettings> {
        match settings_of(state) {
            Ok(s) => Some(s),
            Err(e) => {
                error(diags, format!("Invalid {RESOURCE} configuration"), e);
                None
            }
        }
    }

    /// The microservice's platform, settings and component ids, read from
    /// AWS. `None` (with no error) when the microservice no longer exists.
    async fn stable(
        &self,
        diags: &mut Diagnostics,
        configured: &Configured,
        settings: &CanarySettings,
    ) -> Option<Option<Stable>> {
        let id = settings.microservice_id();
        let platform = match find_platform(configured, &settings.platform).await {
            Ok(p) => p,
            Err(e) => {
                error(diags, format!("Cannot find the platform of {id}"), e);
                return None;
            }
        };
        let existing = match read_existing(&configured.clients, &platform, &settings.service).await
        {
            Ok(Some(e)) => e,
            Ok(None) => return Some(None),
            Err(e) => {
                error(diags, format!("Cannot read the microservice {id}"), e);
                return None;
            }
        };
        let stable = MicroserviceConfig::from_value(&existing.arguments.to_json()).map(|c| {
            Settings::resolve_unchecked(&c, configured.environment).on(configured.service_mesh)
        });
        match stable {
            Ok(stable) => Some(Some(Stable {
                platform,
                settings: stable,
                service_arn: existing.components.get(SERVICE).cloned(),
                owner_token: existing.owner_token.clone(),
                external: existing
                    .components
                    .into_iter()
                    .filter(|(k, _)| EXTERNAL.contains(&k.as_str()))
                    .collect(),
            })),
            Err(e) => {
                error(diags, format!("Cannot read the microservice {id}"), e);
                None
            }
        }
    }

    /// Like `stable`, but a missing microservice is an error.
    async fn require_stable(
        &self,
        diags: &mut Diagnostics,
        configured: &Configured,
        settings: &CanarySettings,
    ) -> Option<Stable> {
        match self.stable(diags, configured, settings).await? {
            Some(s) => Some(s),
            None => {
                error(
                    diags,
                    format!("{RESOURCE}: microservice {} not found", settings.microservice_id()),
                    "The canary runs beside an existing matbakh_microservice: its ECS service was not found. Create the microservice first (refer to it as matbakh_microservice.NAME.id so Terraform orders them).",
                );
                None
            }
        }
    }
}

/// Read a canary on service_connect: its alarms, its revision, and where
/// its ECS deployment stands (`status`, `current_weight`).
async fn native_read(
    diags: &mut Diagnostics,
    native: &NativeCanary<'_>,
    state: Value,
    private: Value,
    recorded: &Resolved,
    status: Status,
) -> Option<(Value, Value)> {
    let (sorted, deployment) = match native.observe(recorded).await {
        Ok(found) => found,
        Err(e) => {
            error(
                diags,
                format!("Cannot read {RESOURCE} {}", native.settings.service),
                e,
            );
            return None;
        }
    };
    if sorted.existing.is_empty() && sorted.stale.is_empty() && !recorded.is_empty() {
        tracing::info!(
            canary = native.settings.service.as_str(),
            "every canary object is gone; removing from state"
        );
        return Some((Value::Null, Value::Null));
    }
    for (component, why) in &sorted.drift {
        warning(
            diags,
            format!("{component} changed outside Terraform"),
            format!("{why}; the next apply repairs it."),
        );
    }
    let (status, weight) = deployment.unwrap_or((
        status,
        state
            .get("current_weight")
            .as_f64()
            .map(|w| w as i64)
            .unwrap_or(0),
    ));
    let mut state = state;
    state.set("id", canary_id(native.settings).into());
    state.set("status", status.name().into());
    state.set("current_weight", weight.into());
    state.set("components", lifecycle::components_value(&sorted.existing));
    state.set("drift", lifecycle::no_drift());
    let mut next = Value::Null;
    if !sorted.drift.is_empty() {
        next.set("repair", true.into());
        next.set("stale", lifecycle::components_value(&sorted.stale));
    }
    if let Some(token) = ownership::token_of(&private) {
        next = ownership::with_token(next, &token);
    }
    Some((state, next))
}

#[async_trait]
impl Resource for CanaryResource {
    type State<'a> = Value;
    type PrivateState<'a> = Value;
    type ProviderMetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        let config = crate::tf::value::normalized(config, &schema::schema().block);
        match crate::tf::decode::typed::<CanaryConfig>(&config, "the configuration") {
            Ok(c) => {
                report(diags, super::config::validate(&c));
                report(diags, lifecycle::validate_timeouts(&config));
            }
            Err(p) => report(diags, vec![p]),
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
        let state = crate::tf::value::normalized(state, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let settings = self.settings(diags, &state)?;
        let recorded = lifecycle::recorded_components(&state);
        let Some(stable) = self.stable(diags, &configured, &settings).await? else {
            tracing::warn!(
                canary = settings.service.as_str(),
                "the microservice is gone; removing the canary from state"
            );
            return Some((Value::Null, private));
        };
        let status = status_of(&state).unwrap_or(Status::Progressing);
        if stable.is_native() {
            let native = stable.native(&configured, &settings, ownership::token_of(&private));
            return native_read(diags, &native, state, private, &recorded, status).await;
        }
        let canary = stable.canary(&configured, &settings, ownership::token_of(&private));
        let sorted = match canary.observe(&recorded, status).await {
            Ok(found) => found,
            Err(e) => {
                error(
                    diags,
                    format!("Cannot read {RESOURCE} {}", settings.service),
                    e,
                );
                return None;
            }
        };
        if sorted.existing.is_empty() && sorted.stale.is_empty() && !recorded.is_empty() {
            tracing::info!(
                canary = settings.service.as_str(),
                "every candidate object is gone; removing from state"
            );
            return Some((Value::Null, Value::Null));
        }
        let weight = match canary.observed_weight().await {
            Ok(w) => w,
            Err(e) => {
                error(
                    diags,
                    format!("Cannot read the route of {}", settings.service),
                    e,
                );
                return None;
            }
        };
        let mut drift = sorted.drift;
        if let Some(want) = expected_weight(&settings, status) {
            if want != weight {
                drift.insert(
                    "route_weight".to_string(),
                    format!(
                        "the candidate has {weight}% of the traffic, want {want}% (status {})",
                        status.name()
                    ),
                );
            }
        }
        for (component, why) in &drift {
            warning(
                diags,
                format!("{component} changed outside Terraform"),
                format!("{why}; the next apply repairs it."),
            );
        }
        let mut state = state;
        state.set("id", canary_id(&settings).into());
        state.set("current_weight", weight.into());
        state.set("components", lifecycle::components_value(&sorted.existing));
        state.set("drift", lifecycle::no_drift());
        let mut private = Value::Null;
        if !drift.is_empty() {
            // The plan repairs what the read found; the apply updates the
            // stale objects in place.
            private.set("repair", true.into());
            private.set("stale", lifecycle::components_value(&sorted.stale));
        }
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Value,
        config: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let proposed = crate::tf::value::normalized(proposed, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let mesh = configured.service_mesh;
        if !native_plan_ok(diags, mesh, &config) {
            return None;
        }
        let mut planned = proposed;
        plan_defaults(&mut planned, mesh);
        for k in ["status", "current_weight", "components"] {
            planned.set(k, Value::Unknown);
        }
        // tags_all, and AWS's tag limits with the provider's default_tags.
        report(
            diags,
            crate::resources::tags::plan_tags(&mut planned, &configured.default_tags),
        );
        warn_short_interval(diags, &planned);
        warn_min_requests(diags, &configured, &planned).await;
        planned.set("drift", lifecycle::no_drift());
        Some((planned, ownership::planned_private(Value::Null)))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        proposed: Value,
        _config: Value,
        prior_private: Value,
        _meta: Value,
    ) -> Option<(Value, Value, Vec<AttributePath>)> {
        let configured = self.context.get(diags)?;
        let prior = crate::tf::value::normalized(prior, &schema::schema().block);
        let proposed = crate::tf::value::normalized(proposed, &schema::schema().block);
        if !native_plan_ok(diags, configured.service_mesh, &_config) {
            return None;
        }
        let mut planned = proposed;
        plan_defaults(&mut planned, configured.service_mesh);
        let settings = settings_of(&planned).ok();
        let replace: Vec<AttributePath> = ["microservice"]
            .into_iter()
            .filter(|k| planned.get(k) != prior.get(k))
            .map(AttributePath::new)
            .collect();
        let _ = settings;
        let drifted = prior_private.get("repair").as_bool() == Some(true);
        let unfinished = status_of(&prior) == Some(Status::Progressing);
        if drifted || unfinished || !replace.is_empty() || arguments_changed(&prior, &planned) {
            for k in ["status", "current_weight", "components"] {
                planned.set(k, Value::Unknown);
            }
        }
        if !replace.is_empty() {
            planned.set("id", Value::Unknown);
        }
        // tags_all, and AWS's tag limits with the provider's default_tags.
        report(
            diags,
            crate::resources::tags::plan_tags(&mut planned, &configured.default_tags),
        );
        if arguments_changed(&prior, &planned) {
            warn_short_interval(diags, &planned);
            warn_min_requests(diags, &configured, &planned).await;
        }
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
        let planned = crate::tf::value::normalized(planned, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let settings = self.settings(diags, &planned)?;
        let stable = self.require_stable(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let timeout = lifecycle::timeout_or(&planned, Operation::Create, default_timeout());
        let report = if stable.is_native() {
            let native = stable.native(&configured, &settings, Some(token.clone()));
            engine::with_deadline(timeout, native.deploy(Resolved::new(), true)).await
        } else {
            let canary = stable.canary(&configured, &settings, Some(token.clone()));
            engine::with_deadline(timeout, canary.walk(Resolved::new(), 0, true)).await
        };
        report_outcome(diags, &settings, "creating", &report);
        Some((
            state_after(planned, &settings, &report),
            ownership::with_token(private, &token),
        ))
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
        let prior = crate::tf::value::normalized(prior, &schema::schema().block);
        let planned = crate::tf::value::normalized(planned, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let settings = self.settings(diags, &planned)?;
        let stable = self.require_stable(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let canary = stable.canary(&configured, &settings, Some(token.clone()));
        let mut recorded = stale_ids(&private);
        recorded.extend(lifecycle::recorded_components(&prior));
        let prior_status = status_of(&prior).unwrap_or(Status::Progressing);
        let new_image = planned.get("image") != prior.get("image");
        let timeout = lifecycle::timeout_or(&planned, Operation::Update, default_timeout());
        if stable.is_native() {
            let native = stable.native(&configured, &settings, Some(token.clone()));
            let redeploy = new_image
                || prior_status == Status::Progressing
                || planned.get("steps") != prior.get("steps")
                || planned.get("strategy") != prior.get("strategy")
                || planned.get("step_interval") != prior.get("step_interval");
            let report = engine::with_deadline(timeout, async {
                if redeploy {
                    native.deploy(recorded, new_image).await
                } else {
                    native.settle(recorded, prior_status).await
                }
            })
            .await;
            report_outcome(diags, &settings, "updating", &report);
            return Some((
                state_after(planned, &settings, &report),
                ownership::with_token(Value::Null, &token),
            ));
        }
        let report = engine::with_deadline(timeout, async {
            if new_image || prior_status == Status::Progressing {
                let mut weight = canary.observed_weight().await.unwrap_or(0);
                if new_image && weight > 0 {
                    // The old candidate leaves the route before the new
                    // version is deployed onto it: nothing unproven gets
                    // traffic.
                    if let Err(e) = canary.set_weight(0).await {
                        let mut r =
                            Report::stopped_at(recorded, prior_status, weight, e.to_string());
                        r.status = Status::Progressing;
                        return r;
                    }
                    weight = 0;
                }
                canary.walk(recorded, weight, new_image).await
            } else {
                canary.settle_at(recorded, prior_status).await
            }
        })
        .await;
        report_outcome(diags, &settings, "updating", &report);
        Some((
            state_after(planned, &settings, &report),
            ownership::with_token(Value::Null, &token),
        ))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        private: Value,
        _meta: Value,
    ) -> Option<()> {
        let prior = crate::tf::value::normalized(prior, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let settings = self.settings(diags, &prior)?;
        let recorded = lifecycle::recorded_components(&prior);
        let Some(stable) = self.stable(diags, &configured, &settings).await? else {
            if recorded.is_empty() {
                return Some(());
            }
            error(
                diags,
                format!("destroying {RESOURCE} {}: the microservice is gone", settings.service),
                format!(
                    "The candidate's objects cannot be described without the microservice's settings. Delete them by hand: {}",
                    recorded.values().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
            return None;
        };
        let timeout = lifecycle::timeout_or(&prior, Operation::Delete, default_timeout());
        let outcome = if stable.is_native() {
            let native = stable.native(&configured, &settings, ownership::token_of(&private));
            engine::with_deadline(timeout, native.destroy(recorded)).await
        } else {
            let canary = stable.canary(&configured, &settings, ownership::token_of(&private));
            engine::with_deadline(timeout, canary.destroy(recorded)).await
        };
        report_failures(
            diags,
            RESOURCE,
            &canary_id(&settings),
            "destroying",
            &outcome,
        );
        outcome.is_ok().then_some(())
    }
}
