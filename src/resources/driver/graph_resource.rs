//! What a graph resource brings to the [`super::Driver`]: its schema,
//! settings, context, expansion, recovery and computed attributes.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tf_provider::schema::Schema;

use crate::engine::{Outcome, Resolved, StepError};
use crate::resources::context::Configured;
use crate::spec::ownership::OwnerToken;
use crate::spec::DesiredGraph;
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

/// What an apply hands to [`GraphResource::release`].
pub struct ReleaseRun<'a> {
    /// The ids state records (components a read found changed included).
    pub recorded: Resolved,
    /// The prior state; `None` on create.
    pub prior: Option<&'a Value>,
    /// The planned state.
    pub planned: &'a Value,
    /// The ownership token every object of the resource carries.
    pub token: &'a OwnerToken,
}

/// What a release step did instead of the engine's run.
#[derive(Debug, Default)]
pub struct Released {
    /// What state records, and the steps that failed (reported per
    /// component, as the engine's failures are).
    pub outcome: Outcome,
    /// Computed attributes the release determined (a canary's `status` and
    /// `current_weight`).
    pub computed: Vec<(&'static str, Value)>,
    /// Further errors, summary and detail (a rollback naming its alarm):
    /// state is still saved.
    pub errors: Vec<(String, String)>,
}

/// What a read finds beyond the graph's components.
#[derive(Debug, Default, PartialEq)]
pub struct Beyond {
    /// Computed attributes only the objects' current condition tells (where
    /// a canary's deployment stands, the share of traffic it has).
    pub computed: Vec<(&'static str, Value)>,
    /// Drift no component shows (a route weight moved out of band), a
    /// sentence each by name: warned like a component's, and the next plan
    /// repairs it (see [`GraphResource::unknown_after_plan`]).
    pub drift: BTreeMap<String, String>,
    /// Recorded components outside the graph that are gone (or no longer
    /// this resource's): dropped from `components`.
    pub gone: Vec<String>,
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

    /// How long an operation may take when `timeouts` leaves it out.
    const DEFAULT_TIMEOUT: Duration = crate::resources::lifecycle::DEFAULT_TIMEOUT;

    /// The resource's id, for messages and logs.
    fn id(&self, settings: &Self::Settings) -> String;

    /// Find the context in AWS: what the resource is built on.
    async fn context(
        &self,
        configured: &Configured,
        settings: &Self::Settings,
    ) -> Result<Self::Context, String>;

    /// The context, or `None` when what the resource is built on no longer
    /// exists (a canary's microservice deleted): a read then drops the
    /// resource from state, and a destroy that recorded nothing succeeds
    /// (one that recorded objects fails, naming them). By default the
    /// context is never gone: [`GraphResource::context`] errs.
    async fn context_if_exists(
        &self,
        configured: &Configured,
        settings: &Self::Settings,
    ) -> Result<Option<Self::Context>, String> {
        self.context(configured, settings).await.map(Some)
    }

    /// Components the graph refers to that another resource owns (a
    /// canary's candidate registers in its microservice's Cloud Map
    /// service), by key, with their ids: the engine resolves references
    /// against them, but they are never recorded, created, updated,
    /// observed as this resource's or deleted. Default: none.
    fn external(&self, _context: &Self::Context) -> Resolved {
        Resolved::new()
    }

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

    /// A release step that replaces the engine's run in create and update
    /// (a canary's walk: it deploys the graph and then acts in time, with
    /// the `timeouts` deadline); `None`: the engine applies the graph.
    async fn release(
        &self,
        _configured: &Configured,
        _settings: &Self::Settings,
        _context: &Self::Context,
        _run: ReleaseRun<'_>,
    ) -> Option<Released> {
        None
    }

    /// What must happen before the graph's components are deleted (a
    /// canary moves all traffic back to stable first). Returns the recorded
    /// ids the deletion still has to delete (what the step disposed of
    /// itself is gone from them), or the step that failed: the destroy
    /// stops there, everything still recorded.
    async fn before_destroy(
        &self,
        _configured: &Configured,
        _settings: &Self::Settings,
        _context: &Self::Context,
        recorded: Resolved,
    ) -> Result<Resolved, StepError> {
        Ok(recorded)
    }

    /// What a read finds beyond the graph's components (see [`Beyond`]);
    /// `state` is the state being read.
    async fn read_beyond_graph(
        &self,
        _configured: &Configured,
        _settings: &Self::Settings,
        _context: &Self::Context,
        _recorded: &Resolved,
        _state: &Value,
    ) -> Result<Beyond, String> {
        Ok(Beyond::default())
    }

    /// Computed attributes a plan leaves unknown besides the `components`
    /// entries the driver plans: what an operation in time sets when it
    /// runs (a walk that has not finished, or a repair the last read asked
    /// for: `repair`). `prior` is `None` on create. Default: none.
    fn unknown_after_plan(
        &self,
        _prior: Option<&Value>,
        _planned: &Value,
        _repair: bool,
    ) -> Vec<&'static str> {
        Vec::new()
    }

    /// Whether a plan that updates `prior` to `planned` gives the plan's
    /// warnings and verdicts. By default every plan does; a resource whose
    /// warnings are about a change asks only when one is made.
    fn warns_on_update(&self, _prior: &Value, _planned: &Value) -> bool {
        true
    }

    /// Warnings about the planned settings alone, without AWS (a step
    /// shorter than its alarms can judge): given wherever the plan's
    /// warnings are, even when the context does not exist yet.
    fn settings_warnings(&self, _settings: &Self::Settings) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Why the resource cannot be imported, when it cannot: the import
    /// then fails with "Import is not supported" and this reason.
    fn import_not_supported(&self) -> Option<&'static str> {
        None
    }

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

    /// What a look at AWS and at this process's other plans says of the
    /// planned settings, warnings and errors alike: an error fails the plan
    /// before anything is changed (a microservice's budget guard). Asked
    /// wherever [`GraphResource::plan_warnings`] is.
    async fn plan_verdicts(
        &self,
        configured: &Configured,
        settings: &Self::Settings,
        context: &Self::Context,
    ) -> Vec<crate::budget_guard::Verdict> {
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
