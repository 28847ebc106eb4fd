//! The Terraform side of every graph resource, once.
//!
//! A graph resource (`matbakh_platform`, `matbakh_microservice`) brings what
//! is its own through [`GraphResource`]: its schema, how its configuration
//! becomes settings, the context it expands in (a microservice's platform),
//! the pure expansion into a graph of AWS components, the recovery of its
//! arguments from what exists in AWS, and its computed attributes. The
//! [`Driver`] brings the rest and implements `tf_provider::Resource` once:
//!
//! - **plan** fills defaults and computes the desired graph, then plans
//!   `components` entry by entry ([`plan_components`]): an entry whose object
//!   stays keeps its id, only what will be replaced or re-registered becomes
//!   unknown, a removed component drops out;
//! - **read** returns the values AWS has for every argument AWS holds
//!   ([`merge_recovered`]), so Terraform's own diff shows drift and
//!   `ignore_changes` works; what no argument can show (an object deleted or
//!   changed out of band in a way no argument holds) drops out of
//!   `components` with one short warning per component;
//! - **apply, destroy** run the engine with the `timeouts` deadline and log
//!   every component as it finishes;
//! - **import** asks the resource for its state.
//!
//! The driver knows no AWS service: the engine and the adapters do the work.
//! Each RPC has one entry point here (`Driver::*`), where cross-cutting
//! concerns (value normalisation, spans, the stop signal) hook in.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{AttributePath, Diagnostics, Resource};
use tracing::Instrument;

use crate::engine::{Observation, Outcome, Progress, Resolved};
use crate::resources::context::{Configured, ProviderContext};
use crate::resources::lifecycle::{self, Operation};
use crate::resources::ownership;
use crate::resources::tags;
use crate::spec::ownership::OwnerToken;
use crate::spec::{Component, DesiredGraph, Spec};
use crate::tf::diagnostics::{error, report, warning};
use crate::tf::value::Value;
use crate::validation::Problem;

/// What a graph resource finds of itself in AWS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recovered {
    /// Its arguments, shaped like the resource's state (every argument by
    /// name, blocks as lists of one object).
    pub arguments: Value,
    /// The ids of the components found, by component key.
    pub components: Resolved,
    /// Arguments whose prior value stands although AWS holds another: what
    /// a second resource is changing on this one's objects by design (a
    /// canary's deployment settings on its microservice's service).
    pub keep_prior: Vec<&'static str>,
}

/// What one graph resource brings to the [`Driver`].
#[async_trait]
pub trait GraphResource: Send + Sync + 'static {
    /// The Terraform type name, `matbakh_…`.
    const TYPE: &'static str;
    /// Arguments whose change replaces the resource.
    const REPLACE_ON: &'static [&'static str];

    /// The configuration, decoded and resolved.
    type Settings: Send + Sync;
    /// What the expansion needs besides the settings (found in AWS).
    type Context: Send + Sync;

    fn schema(&self) -> Schema;

    /// Plan-time problems of a configuration (values unknown at plan are
    /// not judged); `Err` when it cannot be decoded at all.
    fn validate(&self, config: &Value) -> Result<Vec<Problem>, String>;

    fn settings(&self, state: &Value, configured: &Configured) -> Result<Self::Settings, String>;

    /// The resource's id, for messages and logs.
    fn id(&self, settings: &Self::Settings) -> String;

    /// Find the context in AWS: what the resource is built on.
    async fn context(
        &self,
        configured: &Configured,
        settings: &Self::Settings,
    ) -> Result<Self::Context, String>;

    /// The pure expansion into the desired graph.
    fn expand(&self, settings: &Self::Settings, context: &Self::Context) -> DesiredGraph;

    /// Fill the defaults of omitted arguments and the computed attributes
    /// that follow from the configuration alone (unknown while an input is).
    fn plan_known(&self, planned: &mut Value, settings: &Self::Settings, configured: &Configured);

    /// Set the computed attributes that follow from the context; `None`:
    /// not known yet (unknown).
    fn context_computed(
        &self,
        state: &mut Value,
        settings: &Self::Settings,
        context: Option<&Self::Context>,
    );

    /// Set the computed attributes that follow from component ids (the
    /// driver sets `components` itself). `components` is a map whose
    /// entries may be unknown, or unknown as a whole.
    fn component_computed(&self, state: &mut Value, components: &Value);

    /// Whether argument `key` (top-level) is held by AWS in a way read can
    /// show, given the prior state: arguments AWS does not hold
    /// (`timeouts`, what only the provider acts on) keep their prior values.
    fn held_by_aws(&self, key: &str, prior: &Value) -> bool;

    /// What exists in AWS of the resource of `settings`; `None` when too
    /// little exists to recover its arguments.
    async fn recover(
        &self,
        configured: &Configured,
        settings: &Self::Settings,
        context: &Self::Context,
    ) -> Result<Option<Recovered>, String>;

    /// Whether `id` is a well-formed import id, and if not, what one is.
    fn check_import_id(&self, id: &str) -> Result<(), String>;

    /// Whether [`GraphResource::plan_warnings`] has anything to look at for
    /// `settings`: a plan that creates the resource reads AWS only then.
    fn has_plan_warnings(&self, settings: &Self::Settings) -> bool {
        let _ = settings;
        false
    }

    /// Warnings about the planned settings that need a look at AWS (the
    /// context exists): things that are allowed but probably a mistake.
    async fn plan_warnings(
        &self,
        configured: &Configured,
        settings: &Self::Settings,
        context: &Self::Context,
    ) -> Vec<(String, String)> {
        let _ = (configured, settings, context);
        Vec::new()
    }

    /// The whole state of the resource with import id `id` (well-formed).
    /// The state of the resource `id` as found in AWS, and the ownership
    /// token its objects carry (`None` when they carry none: objects from
    /// before ownership tokens; the driver then draws a new one).
    async fn import(
        &self,
        configured: &Configured,
        id: &str,
    ) -> Result<(Value, Option<OwnerToken>), String>;

    /// Problems of `config` on the provider's backend (`service_mesh`), which
    /// ValidateResourceConfig cannot see: checked at plan.
    fn validate_on_backend(
        &self,
        _config: &Value,
        _configured: &Configured,
    ) -> Result<Vec<Problem>, String> {
        Ok(Vec::new())
    }

    /// Computed attributes a plan takes from the provider configuration
    /// (not from AWS): set before the plan's settings are resolved.
    fn plan_from_provider(&self, _planned: &mut Value, _configured: &Configured) {}

    /// Bring a state written by an earlier version up to this schema's
    /// meaning (tf-provider 0.2.2 offers no UpgradeResourceState).
    fn upgrade(&self, _state: &mut Value) {}

    /// After an apply that created or updated every component: `state` is
    /// what Terraform stores. (The platform tells the microservices of this
    /// provider process where it is, so they need not look it up.)
    fn applied(&self, _configured: &Configured, _state: &Value) {}

    /// After a destroy that deleted every component.
    fn destroyed(&self, _configured: &Configured, _settings: &Self::Settings) {}

    /// Computed attributes only AWS can tell (a load balancer's DNS name),
    /// read after an apply and a refresh, once `components` is set.
    async fn computed_from_aws(&self, _configured: &Configured, _state: &mut Value) {}
}

/// Serves one [`GraphResource`] to Terraform.
pub struct Driver<R> {
    resource: R,
    context: ProviderContext,
}

impl<R: GraphResource> Driver<R> {
    pub fn of(resource: R, context: ProviderContext) -> Self {
        Driver { resource, context }
    }

    /// What stops an apply before anything is created: a value that was
    /// unknown at plan (so not judged then) and turned out null or invalid.
    /// The planned state is fully known here, so every check runs.
    fn check_before_apply(&self, planned: &Value) -> Vec<Problem> {
        let mut problems = required_but_null(&self.resource.schema().block, planned, "");
        match self.resource.validate(planned) {
            Ok(found) => problems.extend(found),
            Err(e) => problems.push(Problem {
                path: Vec::new(),
                summary: format!("Invalid {} configuration", R::TYPE),
                detail: e,
            }),
        }
        problems
    }

    /// An optional argument with a default that the configuration leaves
    /// out takes its default, not the prior value Terraform proposes (which
    /// may be what a read found in AWS): clear it for `plan_known` to fill.
    fn defaults_where_unset(&self, proposed: &mut Value, config: &Value) {
        use tf_provider::schema::AttributeConstraint;
        for (name, attribute) in &self.resource.schema().block.attributes {
            if matches!(attribute.constraint, AttributeConstraint::OptionalComputed)
                && config.get(name).is_null()
            {
                proposed.set(name, Value::Null);
            }
        }
    }

    /// A value as Terraform sent it, with every number at a Number-typed
    /// position exact (Terraform sends fractions as decimal text).
    fn normalized(&self, value: Value) -> Value {
        crate::tf::value::normalized(value, &self.resource.schema().block)
    }

    /// What the configuration cannot be on the provider's backend, as
    /// errors naming the attribute and the backend; None when any.
    fn check_on_backend(
        &self,
        diags: &mut Diagnostics,
        config: &Value,
        configured: &Configured,
    ) -> Option<()> {
        match self.resource.validate_on_backend(config, configured) {
            Ok(problems) => report_problems(diags, problems),
            Err(e) => {
                error(diags, format!("Invalid {} configuration", R::TYPE), e);
                None
            }
        }
    }

    fn settings(
        &self,
        diags: &mut Diagnostics,
        state: &Value,
        configured: &Configured,
    ) -> Option<R::Settings> {
        match self.resource.settings(state, configured) {
            Ok(s) => Some(s),
            Err(e) => {
                error(diags, format!("Invalid {} configuration", R::TYPE), e);
                None
            }
        }
    }

    async fn found_context(
        &self,
        diags: &mut Diagnostics,
        configured: &Configured,
        settings: &R::Settings,
    ) -> Option<R::Context> {
        match self.resource.context(configured, settings).await {
            Ok(c) => Some(c),
            Err(e) => {
                error(
                    diags,
                    format!(
                        "{} {}: what it is built on was not found",
                        R::TYPE,
                        self.resource.id(settings)
                    ),
                    e,
                );
                None
            }
        }
    }

    async fn warn_at_plan(
        &self,
        diags: &mut Diagnostics,
        configured: &Configured,
        settings: &R::Settings,
        context: &R::Context,
    ) {
        for (summary, detail) in self
            .resource
            .plan_warnings(configured, settings, context)
            .await
        {
            warning(diags, summary, detail);
        }
    }

    /// Set `components` and what follows from it. The `drift` attribute of
    /// earlier versions stays in the schema (states written then hold it)
    /// but is always empty: drift shows as values now.
    fn set_components(&self, state: &mut Value, components: Value) {
        self.resource.component_computed(state, &components);
        state.set("components", components);
        state.set("drift", lifecycle::no_drift());
    }

    /// The state after an apply: the plan with what AWS gave.
    fn applied_state(
        &self,
        planned: Value,
        settings: &R::Settings,
        context: &R::Context,
        outcome: &Outcome,
    ) -> Value {
        let mut state = planned;
        self.resource
            .context_computed(&mut state, settings, Some(context));
        self.set_components(&mut state, lifecycle::components_value(&outcome.recorded));
        state
    }

    /// Run `desired` against AWS from `recorded`, within `timeout`.
    async fn run_apply(
        &self,
        configured: &Configured,
        id: &str,
        timeout: std::time::Duration,
        desired: &DesiredGraph,
        previous: &[Component],
        recorded: Resolved,
    ) -> Outcome {
        let report = |p: &Progress| log_progress(R::TYPE, id, p);
        lifecycle::apply(
            &configured.clients,
            &desired.components,
            previous,
            recorded,
            timeout,
            &report,
        )
        .await
    }

    async fn do_read(
        &self,
        diags: &mut Diagnostics,
        state: Value,
        private: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let mut state = state;
        self.resource.upgrade(&mut state);
        // AWS is compared with the default_tags the state was applied with:
        // changed default_tags are a change to plan (tags_all), not objects
        // changed outside Terraform (nor, all of them differing, deleted).
        // Recovery and observation below ask for the same objects: with
        // clients that remember this refresh's reads, each is sent once.
        let configured = match tags::applied_default_tags(&state) {
            Some(applied) if applied != configured.default_tags => {
                configured.with_default_tags(applied).remembering_reads()
            }
            _ => configured.remembering_reads(),
        };
        let configured = std::sync::Arc::new(configured);
        let prior_settings = self.settings(diags, &state, &configured)?;
        let id = self.resource.id(&prior_settings);
        let context = self
            .found_context(diags, &configured, &prior_settings)
            .await?;
        let mut recorded = lifecycle::recorded_components(&state);
        recorded.extend(stale_ids(&private));
        let cannot = |diags: &mut Diagnostics, e: String| {
            error(diags, format!("Cannot read {} {id}", R::TYPE), e);
        };

        // Arguments: the values AWS has, where they mean something else
        // than what state says. The components of the graph state describes
        // are read at the same time: when AWS agrees with state (the usual
        // case) that is the graph to observe, and the read takes the rounds
        // of the slower of the two instead of both.
        let mut current = state.clone();
        let prior_graph = stamped(
            self.resource.expand(&prior_settings, &context),
            ownership::token_of(&private).as_ref(),
        );
        let prior_recorded = recorded.clone();
        let (recovered, early_observations) = futures::join!(
            self.resource
                .recover(&configured, &prior_settings, &context),
            lifecycle::observe(&configured.clients, &prior_graph, &prior_recorded),
        );
        match recovered {
            Err(e) => {
                cannot(diags, e);
                return None;
            }
            Ok(None) => {}
            Ok(Some(found)) => {
                let means = |candidate: &Value| {
                    self.resource
                        .settings(candidate, &configured)
                        .ok()
                        .map(|s| self.resource.expand(&s, &context))
                };
                current = merge_recovered(
                    &state,
                    &found.arguments,
                    |k| self.resource.held_by_aws(k, &state) && !found.keep_prior.contains(&k),
                    means,
                );
                // A component found under another id (a task definition
                // revision rolled out of band): record what runs.
                for (key, found_id) in found.components {
                    if let Some(id) = recorded.get_mut(&key) {
                        *id = found_id;
                    }
                }
            }
        }

        // Components: what exists and matches the arguments stays recorded.
        let settings = self.settings(diags, &current, &configured)?;
        let graph = stamped(
            self.resource.expand(&settings, &context),
            ownership::token_of(&private).as_ref(),
        );
        let observations = if graph == prior_graph && recorded == prior_recorded {
            early_observations
        } else {
            lifecycle::observe(&configured.clients, &graph, &recorded).await
        };
        let observations = match observations {
            Ok(o) => o,
            Err(e) => {
                cannot(diags, e);
                return None;
            }
        };
        let sorted = sort_observations(&graph, &recorded, observations);
        for (component, why) in &sorted.drift {
            warning(
                diags,
                format!("{component} changed outside Terraform"),
                format!("{why}; the next apply repairs it."),
            );
            tracing::info!(
                tf_resource_type = R::TYPE,
                tf_resource_id = id.as_str(),
                component = component.as_str(),
                "{why}"
            );
        }
        if sorted.all_gone(&recorded) {
            tracing::info!(
                tf_resource_type = R::TYPE,
                tf_resource_id = id.as_str(),
                "every object is gone; removing from state"
            );
            return Some((Value::Null, Value::Null));
        }
        self.resource
            .plan_known(&mut current, &settings, &configured);
        tags::set_tags_all(&mut current, &configured.default_tags);
        self.resource
            .context_computed(&mut current, &settings, Some(&context));
        self.set_components(&mut current, lifecycle::components_value(&sorted.existing));
        self.resource
            .computed_from_aws(&configured, &mut current)
            .await;
        let mut next_private = private_with_stale(&sorted.stale);
        if let Some(token) = ownership::token_of(&private) {
            next_private = ownership::with_token(next_private, &token);
        }
        Some((current, next_private))
    }

    async fn do_plan_create(
        &self,
        diags: &mut Diagnostics,
        proposed: Value,
        config: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        self.check_on_backend(diags, &config, &configured)?;
        let mut planned = proposed;
        self.defaults_where_unset(&mut planned, &config);
        self.resource.plan_from_provider(&mut planned, &configured);
        let settings = self.settings(diags, &planned, &configured)?;
        self.resource
            .plan_known(&mut planned, &settings, &configured);
        report_problems(
            diags,
            tags::plan_tags(&mut planned, &configured.default_tags),
        )?;
        self.resource
            .context_computed(&mut planned, &settings, None);
        self.set_components(&mut planned, Value::Unknown);
        if self.resource.has_plan_warnings(&settings)
            && !arguments_unknown(&self.resource.schema().block, &planned)
        {
            // What it is built on may not exist yet (made in this apply):
            // then there is nothing to look at.
            if let Ok(context) = self.resource.context(&configured, &settings).await {
                self.warn_at_plan(diags, &configured, &settings, &context)
                    .await;
            }
        }
        // The ownership token this resource's objects will carry.
        Some((planned, ownership::planned_private(Value::Null)))
    }

    async fn do_plan_update(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        proposed: Value,
        config: Value,
        prior_private: Value,
    ) -> Option<(Value, Value, Vec<AttributePath>)> {
        let configured = self.context.get(diags)?;
        self.check_on_backend(diags, &config, &configured)?;
        let mut prior = prior;
        self.resource.upgrade(&mut prior);
        let mut planned = proposed;
        self.resource.plan_from_provider(&mut planned, &configured);
        let settings = self.settings(diags, &planned, &configured)?;
        self.resource
            .plan_known(&mut planned, &settings, &configured);
        report_problems(
            diags,
            tags::plan_tags(&mut planned, &configured.default_tags),
        )?;
        let replace: Vec<AttributePath> = R::REPLACE_ON
            .iter()
            .filter(|k| planned.get(k) != prior.get(k))
            .map(|k| AttributePath::new(*k))
            .collect();
        let unknown_arguments = arguments_unknown(&self.resource.schema().block, &planned);
        let context = if replace.is_empty() && !unknown_arguments {
            // Without the context there is no graph to compare: every
            // component is then planned as possibly new.
            self.resource.context(&configured, &settings).await.ok()
        } else {
            None
        };
        let prior_settings = self.resource.settings(&prior, &configured).ok();
        match (context, prior_settings) {
            (Some(context), Some(prior_settings)) => {
                self.warn_at_plan(diags, &configured, &settings, &context)
                    .await;
                let desired = self.resource.expand(&settings, &context);
                let previous = self.resource.expand(&prior_settings, &context);
                let recorded = lifecycle::recorded_components(&prior);
                let mut stale = stale_ids(&prior_private);
                stale.retain(|k, _| !recorded.contains_key(k));
                let components =
                    plan_components(&previous.components, &desired.components, &recorded, &stale);
                self.resource
                    .context_computed(&mut planned, &settings, Some(&context));
                self.set_components(&mut planned, components);
            }
            _ => {
                if !replace.is_empty() {
                    self.resource
                        .context_computed(&mut planned, &settings, None);
                }
                self.set_components(&mut planned, Value::Unknown);
            }
        }
        Some((planned, ownership::planned_private(prior_private), replace))
    }

    async fn do_create(
        &self,
        diags: &mut Diagnostics,
        planned: Value,
        private: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        report_problems(diags, self.check_before_apply(&planned))?;
        let settings = self.settings(diags, &planned, &configured)?;
        let id = self.resource.id(&settings);
        let context = self.found_context(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let desired = stamped(self.resource.expand(&settings, &context), Some(&token));
        let mut outcome = self
            .run_apply(
                &configured,
                &id,
                lifecycle::timeout(&planned, Operation::Create),
                &desired,
                &[],
                Resolved::new(),
            )
            .await;
        ownership::record_own_objects_after_failure(
            &configured.clients,
            &desired.components,
            &mut outcome,
            &token,
        )
        .await;
        if ownership::undo_refused_create(
            diags,
            R::TYPE,
            &configured.clients,
            &desired.components,
            &mut outcome,
            lifecycle::timeout(&planned, Operation::Delete),
        )
        .await
        {
            return None;
        }
        report_failures(diags, R::TYPE, &id, "creating", &outcome);
        let mut state = self.applied_state(planned, &settings, &context, &outcome);
        self.resource
            .computed_from_aws(&configured, &mut state)
            .await;
        if outcome.is_ok() {
            self.resource.applied(&configured, &state);
        }
        Some((state, ownership::with_token(Value::Null, &token)))
    }

    async fn do_update(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        planned: Value,
        private: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        report_problems(diags, self.check_before_apply(&planned))?;
        let mut prior = prior;
        self.resource.upgrade(&mut prior);
        let settings = self.settings(diags, &planned, &configured)?;
        let prior_settings = self.settings(diags, &prior, &configured)?;
        let id = self.resource.id(&settings);
        let context = self.found_context(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let desired = stamped(self.resource.expand(&settings, &context), Some(&token));
        let previous = stamped(
            self.resource.expand(&prior_settings, &context),
            Some(&token),
        );
        let mut recorded = stale_ids(&private);
        recorded.extend(lifecycle::recorded_components(&prior));
        let mut outcome = self
            .run_apply(
                &configured,
                &id,
                lifecycle::timeout(&planned, Operation::Update),
                &desired,
                &previous.components,
                recorded,
            )
            .await;
        ownership::record_own_objects_after_failure(
            &configured.clients,
            &desired.components,
            &mut outcome,
            &token,
        )
        .await;
        report_failures(diags, R::TYPE, &id, "updating", &outcome);
        let mut state = self.applied_state(planned, &settings, &context, &outcome);
        self.resource
            .computed_from_aws(&configured, &mut state)
            .await;
        if outcome.is_ok() {
            self.resource.applied(&configured, &state);
        }
        Some((state, ownership::with_token(Value::Null, &token)))
    }

    async fn do_destroy(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        private: Value,
    ) -> Option<()> {
        let configured = self.context.get(diags)?;
        let mut prior = prior;
        self.resource.upgrade(&mut prior);
        let settings = self.settings(diags, &prior, &configured)?;
        let id = self.resource.id(&settings);
        let context = self.found_context(diags, &configured, &settings).await?;
        let token = ownership::token_of(&private);
        let graph = stamped(self.resource.expand(&settings, &context), token.as_ref());
        let mut recorded = stale_ids(&private);
        recorded.extend(lifecycle::recorded_components(&prior));
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
                    error(diags, format!("Cannot destroy {} {id}", R::TYPE), e);
                    return None;
                }
            }
        }
        let report = |p: &Progress| log_progress(R::TYPE, &id, p);
        let outcome = lifecycle::destroy(
            &configured.clients,
            &graph.components,
            recorded,
            lifecycle::timeout(&prior, Operation::Delete),
            &report,
        )
        .await;
        report_failures(diags, R::TYPE, &id, "destroying", &outcome);
        if outcome.is_ok() {
            self.resource.destroyed(&configured, &settings);
        }
        outcome.is_ok().then_some(())
    }

    async fn do_import(&self, diags: &mut Diagnostics, id: String) -> Option<(Value, Value)> {
        if let Err(why) = self.resource.check_import_id(&id) {
            error(diags, "Invalid import id", why);
            return None;
        }
        let configured = self.context.get(diags)?;
        match self.resource.import(&configured, &id).await {
            Ok((mut state, token)) => {
                tags::set_tags_all(&mut state, &configured.default_tags);
                state.set("drift", lifecycle::no_drift());
                crate::tf::schema::complete_object(&mut state, &self.resource.schema().block);
                // All objects of one resource share one token: adopt
                // theirs. Objects from before ownership tokens get a new
                // one, written onto them by the next apply.
                let token = token.unwrap_or_else(OwnerToken::generate);
                Some((state, ownership::with_token(Value::Null, &token)))
            }
            Err(e) => {
                error(diags, format!("Cannot import {} {id}", R::TYPE), e);
                None
            }
        }
    }
}

/// The span every operation of a resource runs in: its type and id on
/// every line it logs (the field names the AWS-call logging uses too).
fn span(type_name: &str, id: &str, operation: &str) -> tracing::Span {
    tracing::info_span!(
        "tf_resource",
        tf_resource_type = type_name,
        tf_resource_id = id,
        tf_operation = operation
    )
}

/// The id of a state for the span: its `id`, else what there is.
fn span_id(state: &Value) -> String {
    match state.get("id") {
        Value::String(s) => s.clone(),
        _ => state.get("name").as_str().unwrap_or("").to_string(),
    }
}

fn log_progress(type_name: &str, id: &str, progress: &Progress) {
    let (tf_resource_type, tf_resource_id) = (type_name, id);
    match progress {
        Progress::Created(k) => {
            tracing::info!(
                tf_resource_type,
                tf_resource_id,
                component = k.as_str(),
                "created"
            )
        }
        Progress::Updated(k, why) => tracing::info!(
            tf_resource_type,
            tf_resource_id,
            component = k.as_str(),
            changes = why.join("; ").as_str(),
            "updated"
        ),
        Progress::Unchanged(k) => {
            tracing::debug!(
                tf_resource_type,
                tf_resource_id,
                component = k.as_str(),
                "unchanged"
            )
        }
        Progress::Deleted(k) => {
            tracing::info!(
                tf_resource_type,
                tf_resource_id,
                component = k.as_str(),
                "deleted"
            )
        }
    }
}

/// A problem for every required attribute of `block` (and of its nested
/// blocks that are present) that is null in `value`.
fn required_but_null(
    block: &tf_provider::schema::Block,
    value: &Value,
    prefix: &str,
) -> Vec<Problem> {
    use tf_provider::schema::AttributeConstraint;
    let mut problems = Vec::new();
    for (name, attribute) in &block.attributes {
        if matches!(attribute.constraint, AttributeConstraint::Required)
            && value.get(name).is_null()
        {
            problems.push(Problem::at(
                &format!("{prefix}{name}"),
                format!("Missing value for {prefix}{name}"),
                format!(
                    "{prefix}{name} is required. It was unknown at plan and is null now, \
                     so nothing was created or changed."
                ),
            ));
        }
    }
    for (name, nested) in &block.blocks {
        let inner = match nested {
            tf_provider::schema::NestedBlock::Optional(b) => b,
            _ => continue,
        };
        if let Value::List(items) = value.get(name) {
            for (i, item) in items.iter().enumerate() {
                problems.extend(required_but_null(
                    inner,
                    item,
                    &format!("{prefix}{name}.{i}."),
                ));
            }
        }
    }
    problems
}

/// Report `problems` as errors; `None` when there were any.
fn report_problems(diags: &mut Diagnostics, problems: Vec<Problem>) -> Option<()> {
    let ok = problems.is_empty();
    report(diags, problems);
    ok.then_some(())
}

/// One error per failed component, naming it, and what the user can do.
pub fn report_failures(
    diags: &mut Diagnostics,
    type_name: &str,
    id: &str,
    action: &str,
    outcome: &Outcome,
) {
    let next = if action == "creating" {
        "Every object created so far is recorded in the state (attribute `components`). \
         Terraform marks the resource tainted after a failed create, so the next apply \
         would destroy and recreate all of it; run `terraform untaint` on it first to have \
         the next apply continue in place from what exists."
    } else {
        "Every object created so far is recorded in the state (attribute `components`); \
         the next apply or destroy continues from there."
    };
    for e in &outcome.errors {
        error(
            diags,
            format!(
                "{action} {type_name} {id}: component {} failed",
                e.component
            ),
            format!("{}\n\n{next}", e.message),
        );
    }
}

/// Whether an argument (an attribute the configuration sets, or a nested
/// block) is unknown in the plan: then the graph cannot be computed yet.
fn arguments_unknown(block: &tf_provider::schema::Block, planned: &Value) -> bool {
    use tf_provider::schema::AttributeConstraint;
    block.attributes.iter().any(|(name, attribute)| {
        !matches!(attribute.constraint, AttributeConstraint::Computed)
            && planned.get(name).contains_unknown()
    }) || block
        .blocks
        .keys()
        .any(|name| planned.get(name).contains_unknown())
}

/// Plan the `components` map of an update, entry by entry.
///
/// An entry whose object stays (unchanged, or updated in place as
/// [`Spec::update_keeps_id`] says) keeps its recorded id; an entry whose
/// object will be created, re-registered or replaced is unknown; a
/// component the desired graph no longer has drops out. A component whose
/// dependency gets a new id is updated to point at it; an entry in `stale`
/// (changed outside Terraform in a way no argument shows) is updated too.
/// Recorded entries that neither graph knows stay (destroy reports them).
pub fn plan_components(
    previous: &[Component],
    desired: &[Component],
    recorded: &Resolved,
    stale: &Resolved,
) -> Value {
    let mut planned: BTreeMap<String, Value> = BTreeMap::new();
    let order =
        crate::engine::creation_order(desired).unwrap_or_else(|_| (0..desired.len()).collect());
    for idx in order {
        let component = &desired[idx];
        let key = &component.key;
        let old = previous.iter().find(|c| &c.key == key);
        let stays = match (recorded.get(key), old) {
            (Some(id), Some(old)) => {
                let dependency_moves = component
                    .depends_on
                    .iter()
                    .any(|d| planned.get(d).is_some_and(Value::is_unknown));
                let changes =
                    old.spec != component.spec || dependency_moves || stale.contains_key(key);
                (!changes || Spec::update_keeps_id(&old.spec, &component.spec)).then(|| id.clone())
            }
            (None, Some(old)) if stale.contains_key(key) => {
                Spec::update_keeps_id(&old.spec, &component.spec).then(|| stale[key].clone())
            }
            _ => None,
        };
        planned.insert(key.clone(), stays.map(Value::str).unwrap_or(Value::Unknown));
    }
    for (key, id) in recorded {
        let known = |g: &[Component]| g.iter().any(|c| &c.key == key);
        if !known(desired) && !known(previous) {
            planned.insert(key.clone(), Value::str(id));
        }
    }
    Value::Map(planned)
}

/// The prior state's arguments, each replaced by the value AWS has where
/// that means something else.
///
/// `recovered` holds every argument as recovered from AWS. For each
/// top-level argument AWS holds (`held`), the recovered value replaces the
/// prior one when the state with it expands differently (`means`): a value
/// that only writes out a default the configuration left out keeps the
/// configuration's shape, so a plan shows only what really changed. Blocks
/// (lists of one object) are merged field by field the same way.
pub fn merge_recovered<H, M, G>(prior: &Value, recovered: &Value, held: H, means: M) -> Value
where
    H: Fn(&str) -> bool,
    M: Fn(&Value) -> Option<G>,
    G: PartialEq,
{
    let Value::Map(found) = recovered else {
        return prior.clone();
    };
    let mut current = prior.clone();
    for (key, value) in found {
        if !held(key) || prior.get(key) == value || prior.get(key).contains_unknown() {
            continue;
        }
        let baseline = means(&current);
        let differs = |candidate: &Value| means(candidate) != baseline;
        match (block_fields(prior.get(key)), block_fields(value)) {
            (Some(old), Some(new)) => {
                for (field, v) in new {
                    if old.get(field) == Some(v) {
                        continue;
                    }
                    let mut candidate = current.clone();
                    let mut block = old.clone();
                    block.insert(field.clone(), v.clone());
                    candidate.set(key, Value::List(vec![Value::Map(block)]));
                    if differs(&candidate) {
                        current = candidate;
                    }
                }
            }
            _ => {
                let mut candidate = current.clone();
                candidate.set(key, value.clone());
                if differs(&candidate) {
                    current = candidate;
                }
            }
        }
    }
    current
}

/// The fields of a block stored as a list of one object.
fn block_fields(value: &Value) -> Option<&BTreeMap<String, Value>> {
    match value {
        Value::List(items) if items.len() == 1 => match &items[0] {
            Value::Map(m) => Some(m),
            _ => None,
        },
        _ => None,
    }
}

/// What reading the components back says.
#[derive(Debug, Default, PartialEq)]
pub struct Sorted {
    /// The components to keep recording.
    pub existing: Resolved,
    /// Components changed outside Terraform in ways no argument shows,
    /// dropped from `components` (so the plan shows them updated) but
    /// remembered in private state (so the apply updates, not duplicates).
    pub stale: Resolved,
    /// A short sentence per component that no argument can show.
    pub drift: BTreeMap<String, String>,
}

impl Sorted {
    /// Whether nothing `recorded` exists any more. An object changed out of
    /// band still exists: a create killed between CreateLogGroup and
    /// PutRetentionPolicy leaves only such objects, and its import must not
    /// read as "gone".
    pub fn all_gone(&self, recorded: &Resolved) -> bool {
        self.existing.is_empty() && self.stale.is_empty() && !recorded.is_empty()
    }
}

/// Sort the observations of `graph`'s components.
pub fn sort_observations(
    graph: &DesiredGraph,
    recorded: &Resolved,
    observations: BTreeMap<String, Observation>,
) -> Sorted {
    let mut sorted = Sorted::default();
    for (key, observation) in observations {
        let Some(id) = recorded.get(&key) else {
            continue;
        };
        match observation {
            Observation::Missing => {
                sorted
                    .drift
                    .insert(key, "it was deleted outside Terraform".to_string());
            }
            Observation::Present { differences } if differences.is_empty() => {
                sorted.existing.insert(key, id.clone());
            }
            Observation::Present { differences } => {
                sorted.drift.insert(key.clone(), summarize(&differences));
                sorted.stale.insert(key, id.clone());
            }
        }
    }
    // Recorded ids the graph does not know stay recorded: destroy reports them.
    for (key, id) in recorded {
        if graph.get(key).is_none() {
            sorted.existing.insert(key.clone(), id.clone());
        }
    }
    sorted
}

/// A short sentence for differences no argument shows: what differs, never
/// the values (an alarm's or dashboard's would be kilobytes).
fn summarize(differences: &[String]) -> String {
    let what: Vec<String> = differences
        .iter()
        .map(|d| {
            let head = d.split([':', '(']).next().unwrap_or(d).trim();
            let mut head: String = head.chars().take(60).collect();
            if head.len() < d.trim().len() && !head.ends_with("...") && head.len() == 60 {
                head.push_str("...");
            }
            head
        })
        .collect();
    let mut unique: Vec<String> = Vec::new();
    for w in what {
        if !unique.contains(&w) {
            unique.push(w);
        }
    }
    format!(
        "its settings were changed outside Terraform ({})",
        unique.join(", ")
    )
}

/// Components a read found changed in ways no argument shows, kept in
/// private state between read, plan and apply.
fn stale_ids(private: &Value) -> Resolved {
    lifecycle::recorded_components(&Value::Map(
        [("components".to_string(), private.get("stale").clone())]
            .into_iter()
            .collect(),
    ))
}

/// `graph` with the resource's ownership token written into every object's
/// tags (none for a state from before ownership tokens).
fn stamped(graph: DesiredGraph, token: Option<&OwnerToken>) -> DesiredGraph {
    match token {
        Some(token) => graph.with_owner_token(token),
        None => graph,
    }
}

fn private_with_stale(stale: &Resolved) -> Value {
    if stale.is_empty() {
        return Value::Null;
    }
    let mut private = Value::Null;
    private.set("stale", lifecycle::components_value(stale));
    private
}

#[async_trait]
impl<R: GraphResource> Resource for Driver<R> {
    type State<'a> = Value;
    type PrivateState<'a> = Value;
    type ProviderMetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(self.resource.schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        let config = self.normalized(config);
        match self.resource.validate(&config) {
            Ok(problems) => {
                report(diags, problems);
                report(diags, lifecycle::validate_timeouts(&config));
            }
            Err(e) => error(diags, format!("Invalid {} configuration", R::TYPE), e),
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
        let state = self.normalized(state);
        let span = span(R::TYPE, &span_id(&state), "read");
        self.do_read(diags, state, private).instrument(span).await
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Value,
        config: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let (proposed, config) = (self.normalized(proposed), self.normalized(config));
        let span = span(R::TYPE, &span_id(&proposed), "plan");
        self.do_plan_create(diags, proposed, config)
            .instrument(span)
            .await
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
        let (prior, config) = (self.normalized(prior), self.normalized(config));
        let span = span(R::TYPE, &span_id(&prior), "plan");
        let mut proposed = self.normalized(proposed);
        self.defaults_where_unset(&mut proposed, &config);
        self.do_plan_update(diags, prior, proposed, config, prior_private)
            .instrument(span)
            .await
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
        let planned = self.normalized(planned);
        let span = span(R::TYPE, &span_id(&planned), "create");
        self.do_create(diags, planned, private)
            .instrument(span)
            .await
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
        let (prior, planned) = (self.normalized(prior), self.normalized(planned));
        let span = span(R::TYPE, &span_id(&prior), "update");
        self.do_update(diags, prior, planned, private)
            .instrument(span)
            .await
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        private: Value,
        _meta: Value,
    ) -> Option<()> {
        let prior = self.normalized(prior);
        let span = span(R::TYPE, &span_id(&prior), "delete");
        self.do_destroy(diags, prior, private)
            .instrument(span)
            .await
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(Value, Value)> {
        let span = span(R::TYPE, &id, "import");
        self.do_import(diags, id).instrument(span).await
    }
}

#[cfg(test)]
mod tests;
