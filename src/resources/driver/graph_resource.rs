//! What a graph resource brings to the [`super::Driver`]: its schema,
//! settings, context, expansion, recovery and computed attributes.

use async_trait::async_trait;
use tf_provider::schema::Schema;

use crate::engine::Resolved;
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
