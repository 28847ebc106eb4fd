//! The Terraform side of every graph resource, once.
//!
//! A graph resource (`matbakh_platform`, `matbakh_microservice`,
//! `matbakh_canary`) brings what is its own through [`GraphResource`]: its
//! schema, how its configuration becomes settings, the context it expands in
//! (a microservice's platform, a canary's microservice), the pure expansion
//! into a graph of AWS components, the recovery of its arguments from what
//! exists in AWS, and its computed attributes. A resource that acts in time
//! besides (the canary) brings hooks, each with a default that leaves the
//! driver as it is: a context that may be gone, components another resource
//! owns (`external`), a release step instead of the engine's run, a step
//! before destroy, what a read finds beyond the graph, and what a plan
//! leaves unknown. The [`Driver`] brings the rest and implements
//! `tf_provider::Resource` once:
//!
//! - **plan** fills defaults and computes the desired graph, then plans
//!   `components` entry by entry (`plan::plan_components`): an entry whose object
//!   stays keeps its id, only what will be replaced or re-registered becomes
//!   unknown, a removed component drops out;
//! - **read** returns the values AWS has for every argument AWS holds
//!   ([`merge_recovered`]), so Terraform's own diff shows drift and
//!   `ignore_changes` works; what no argument can show (an object deleted or
//!   changed out of band in a way no argument holds) drops out of
//!   `components` with one short warning per component;
//! - **apply, destroy** run the engine (or the resource's release step, and
//!   its step before destroy) with the `timeouts` deadline and log every
//!   component as it finishes;
//! - **import** asks the resource for its state, or says why it has none.
//!
//! The driver knows no AWS service: the engine and the adapters do the work.
//! Each RPC has one entry point here (`Driver::*`), where cross-cutting
//! concerns (value normalisation, spans, the stop signal) hook in.

mod apply;
mod destroy;
mod external;
mod graph_resource;
mod import;
mod logging;
mod merge;
mod observations;
mod plan;
mod problems;
mod read;
mod terraform;
#[cfg(test)]
mod tests;
mod versions;

pub use external::{drop_external, with_external};
pub use graph_resource::{Beyond, GraphResource, Recovered, ReleaseRun, Released};
pub use merge::merge_recovered;
pub use observations::{sort_observations, Sorted};
pub use problems::report_failures;

use tf_provider::Diagnostics;

use logging::log_progress;
use problems::{report_problems, required_but_null};

use crate::engine::{Outcome, Progress, Resolved};
use crate::resources::context::{Configured, ProviderContext};
use crate::resources::lifecycle;
use crate::spec::ownership::OwnerToken;
use crate::spec::{Component, DesiredGraph};
use crate::tf::diagnostics::{error, warning};
use crate::tf::value::Value;
use crate::validation::Problem;

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
        let found = self.resource.context(configured, settings).await;
        self.reported_context(diags, settings, found)
    }

    /// The context, `Some(None)` when it is gone (see
    /// [`GraphResource::context_if_exists`]); `None` (reported) when it
    /// cannot be looked up.
    async fn context_or_gone(
        &self,
        diags: &mut Diagnostics,
        configured: &Configured,
        settings: &R::Settings,
    ) -> Option<Option<R::Context>> {
        let found = self.resource.context_if_exists(configured, settings).await;
        self.reported_context(diags, settings, found)
    }

    /// A context lookup's answer, its failure reported.
    fn reported_context<C>(
        &self,
        diags: &mut Diagnostics,
        settings: &R::Settings,
        found: Result<C, String>,
    ) -> Option<C> {
        found
            .map_err(|e| {
                error(
                    diags,
                    format!(
                        "{} {}: what it is built on was not found",
                        R::TYPE,
                        self.resource.id(settings)
                    ),
                    e,
                )
            })
            .ok()
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
        for v in self
            .resource
            .plan_verdicts(configured, settings, context)
            .await
        {
            if v.error {
                error(diags, v.summary, v.detail);
            } else {
                warning(diags, v.summary, v.detail);
            }
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

    /// How long `op` may take: the `timeouts` block of `state`, else the
    /// resource's default.
    fn timeout(&self, state: &Value, op: lifecycle::Operation) -> std::time::Duration {
        lifecycle::timeout_or(state, op, R::DEFAULT_TIMEOUT)
    }

    /// Run `desired` against AWS from `recorded`, within `timeout`: the
    /// resource's release step where it has one, else the engine (with the
    /// external components' ids to resolve against, never recorded).
    #[allow(clippy::too_many_arguments)]
    async fn release_or_apply(
        &self,
        configured: &Configured,
        settings: &R::Settings,
        context: &R::Context,
        timeout: std::time::Duration,
        desired: &DesiredGraph,
        previous: &[Component],
        run: ReleaseRun<'_>,
    ) -> Released {
        let recorded = run.recorded.clone();
        let released = crate::engine::with_deadline(
            timeout,
            self.resource.release(configured, settings, context, run),
        )
        .await;
        if let Some(released) = released {
            return released;
        }
        let id = self.resource.id(settings);
        let external = self.resource.external(context);
        let report = |p: &Progress| log_progress(R::TYPE, &id, p);
        let mut outcome = lifecycle::apply(
            &configured.clients,
            &desired.components,
            previous,
            with_external(&recorded, &external),
            timeout,
            &report,
        )
        .await;
        drop_external(
            &mut outcome.recorded,
            &external.keys().map(String::as_str).collect::<Vec<_>>(),
        );
        Released {
            outcome,
            ..Released::default()
        }
    }
}

/// Set the computed attributes a release or a read determined.
fn set_computed(state: &mut Value, computed: &[(&'static str, Value)]) {
    for (key, value) in computed {
        state.set(key, value.clone());
    }
}

/// What a destroy does when what the resource is built on is gone: with
/// nothing recorded there is nothing to delete; recorded objects cannot be
/// described without it, so the destroy fails naming them.
fn destroy_without_context(
    type_name: &str,
    id: &str,
    recorded: &Resolved,
) -> Result<(), (String, String)> {
    if recorded.is_empty() {
        return Ok(());
    }
    Err((
        format!("destroying {type_name} {id}: what it is built on is gone"),
        format!(
            "Its objects cannot be described without what it is built on. Delete them by hand: {}",
            recorded.values().cloned().collect::<Vec<_>>().join(", ")
        ),
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
