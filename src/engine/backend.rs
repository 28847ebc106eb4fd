//! What the engine asks of the world: a [`Backend`] observes, creates,
//! updates, settles and deletes one component; the engine records its ids
//! and bounds how many it works on at once.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::order::Direction;
use crate::spec::Spec;

/// Recorded ids, by component key: what state's `components` holds.
pub type Resolved = BTreeMap<String, String>;

/// The start of a difference AWS made itself, in the course of what the
/// configuration asked for (ECS moving a release's live target group): the
/// next apply updates the component to follow it, and a plan does not
/// call it a change made outside Terraform.
pub const FOLLOWS_AWS: &str = "follows AWS:";

/// What reading one component back found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// It no longer exists (deleted out of band).
    Missing,
    /// It exists; each entry says how it differs from the desired spec.
    Present { differences: Vec<String> },
}

impl Observation {
    pub fn in_sync() -> Self {
        Observation::Present {
            differences: Vec::new(),
        }
    }

    /// An observation from a list of differences found by comparing fields.
    pub fn with_differences(differences: Vec<String>) -> Self {
        Observation::Present { differences }
    }
}

/// How the engine reaches the world. Implemented over AWS in `crate::aws`
/// and by fakes in the engine's tests.
#[async_trait]
pub trait Backend: Sync {
    type Spec: Sync;
    type Error: std::fmt::Display + Send;

    async fn observe(
        &self,
        spec: &Spec,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, Self::Error>;
    async fn create(&self, spec: &Spec, resolved: &Resolved) -> Result<String, Self::Error>;
    async fn update(
        &self,
        spec: &Spec,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, Self::Error>;
    /// Wait until a just-created or updated object is ready for what depends
    /// on it (a service's deployment, an asynchronous operation). Separate
    /// from `create` so the id is recorded before the wait can fail.
    async fn settle(&self, spec: &Spec, id: &str) -> Result<(), Self::Error>;

    /// The part of a create that only what uses the object needs, not what
    /// only names it (a role's policies: a task definition names the role,
    /// the service's tasks use its permissions). Sent once `create`
    /// returned and its id is recorded, beside the creates of what only
    /// names it ([`Backend::only_names_its_dependencies`]), before
    /// `settle`; what uses the object waits for both. Nothing by default.
    async fn finish_create(&self, spec: &Spec, id: &str) -> Result<(), Self::Error> {
        let _ = (spec, id);
        Ok(())
    }
    async fn delete(&self, spec: &Spec, id: &str) -> Result<(), Self::Error>;

    /// What a delete leaves for once the object is gone, which what it
    /// depends on need not wait for (Service Connect's Cloud Map service,
    /// which ECS removes after the ECS service: the namespace needs it
    /// gone, the service's roles and task definition do not). The object
    /// stays recorded until it is done. Nothing by default.
    async fn finish_delete(&self, spec: &Spec, id: &str) -> Result<(), Self::Error> {
        let _ = (spec, id);
        Ok(())
    }

    /// Read ahead what creating `spec` reads before it writes (sent when
    /// the apply starts, not when its dependencies are done); its create
    /// takes the answer. Nothing by default; failures are the create's.
    async fn look_ahead(&self, spec: &Spec) {
        let _ = spec;
    }

    /// Read ahead what deleting `spec` (recorded as `id`) reads before it
    /// writes (a role's owner check and policies): sent when the destroy
    /// starts, not once what depends on it is gone; its delete takes the
    /// answer. Nothing by default; failures are the delete's.
    async fn look_ahead_delete(&self, spec: &Spec, id: &str) {
        let _ = (spec, id);
    }

    /// How many requests creating (`Direction::Dependents`) or deleting
    /// (`Direction::Dependencies`) `spec` sends one after the other, as the
    /// engine's estimate of how long it keeps a slot: the longest chain
    /// starts first. By default 1.
    fn rounds(&self, spec: &Spec, direction: Direction) -> usize {
        let _ = (spec, direction);
        1
    }

    /// Whether `spec` only names the objects it depends on, and nothing
    /// of theirs is in use while it exists on its own (a task definition
    /// names its roles and log group; the tasks that use them are the
    /// service's). In a destroy, what it depends on then waits for what
    /// depends on it (the service), not for it: deleted beside it instead
    /// of a round after. In an apply, it starts once what it depends on
    /// is made ([`Backend::starts_once_made`]). By default false.
    fn only_names_its_dependencies(&self, spec: &Spec) -> bool {
        let _ = spec;
        false
    }

    /// Whether creating `spec` needs what it depends on only made (their
    /// ids recorded), not finished and settled: what only names them
    /// ([`Backend::only_names_its_dependencies`]), and what finds an
    /// object their create made while they settle. What depends on such a
    /// component still waits for its dependencies done. By default the
    /// same as `only_names_its_dependencies`.
    fn starts_once_made(&self, spec: &Spec) -> bool {
        self.only_names_its_dependencies(spec)
    }

    /// Components this backend reads with one request for many (a call
    /// that describes up to 100 objects by name) share a batch name;
    /// `None`: read alone with [`Backend::observe`].
    fn read_batch(&self, spec: &Spec) -> Option<&'static str> {
        let _ = spec;
        None
    }

    /// Read back the components of one batch (`(spec, recorded id)`, all
    /// with the same [`Backend::read_batch`] name): one result per item, in
    /// order. By default each is observed alone, all at once.
    async fn observe_batch(
        &self,
        items: &[(&Spec, &str)],
        resolved: &Resolved,
    ) -> Vec<Result<Observation, Self::Error>> {
        futures::future::join_all(
            items
                .iter()
                .map(|(spec, id)| self.observe(spec, id, resolved)),
        )
        .await
    }
}

/// At most this many AWS objects are worked on at once: enough to overlap
/// the slow waits (namespace creation, service stabilisation), few enough to
/// stay clear of AWS's per-account API rate limits.
pub const MAX_CONCURRENCY: usize = 4;

/// At most this many components are read back at once: a microservice's
/// whole graph, so a refresh costs one round of reads. Reads are what AWS
/// rate-limits least (Describe/List calls have the largest buckets).
pub const READ_CONCURRENCY: usize = 16;
