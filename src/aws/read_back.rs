//! Reading existing AWS objects back as specs: what `terraform import` of a
//! microservice (and a canary building its candidate from the stable
//! service) needs to learn a graph nobody recorded.
//!
//! Each kind's `read_back` takes a *probe*: a spec whose deterministic names
//! (and `Ref` keys) say which object to read; its other fields are ignored,
//! except for the few AWS does not report (each `read_back` says which).
//! The answer is the object as AWS has it, in the spec's terms, with the
//! tags found on it, and the id the kind's `create` would have recorded.

use super::clients::Clients;
use super::error::AwsError;
use crate::engine::Resolved;
use crate::spec::Spec;

/// An object read back from AWS.
#[derive(Clone, Debug, PartialEq)]
pub struct Found<S> {
    /// What AWS reports, in the spec's terms; tags as found.
    pub spec: S,
    /// The id the kind's `create` returns for it (an ARN, a name, an id).
    pub id: String,
    /// The ids of the objects it points at, by the keys of its spec's
    /// [`crate::spec::Ref`]s (an ECS service's task definition revision and
    /// Cloud Map service ARN). Empty for kinds without references.
    pub references: Resolved,
}

impl<S> Found<S> {
    pub fn new(spec: S, id: impl Into<String>) -> Self {
        Found {
            spec,
            id: id.into(),
            references: Resolved::new(),
        }
    }

    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> Found<T> {
        Found {
            spec: f(self.spec),
            id: self.id,
            references: self.references,
        }
    }
}

impl Spec {
    /// Read back the object `self` names. `None` when it does not exist.
    /// A task definition reads its family's latest ACTIVE revision; to read
    /// the revision a service runs, use
    /// [`crate::spec::ecs::TaskDefinitionSpec::read_back_revision`].
    /// Platform objects are found by `find_cluster`, `find_mesh` and
    /// `find_owned_namespace` instead.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<Spec>>, AwsError> {
        fn wrap<S>(found: Option<Found<S>>, f: impl FnOnce(S) -> Spec) -> Option<Found<Spec>> {
            found.map(|x| x.map(f))
        }
        Ok(match self {
            Spec::LogGroup(s) => wrap(s.read_back(aws).await?, Spec::LogGroup),
            Spec::TaskDefinition(s) => wrap(s.read_back(aws).await?, Spec::TaskDefinition),
            Spec::EcsService(s) => wrap(s.read_back(aws).await?, Spec::EcsService),
            Spec::DiscoveryService(s) => wrap(s.read_back(aws).await?, Spec::DiscoveryService),
            Spec::ServiceConnectDiscovery(s) => {
                wrap(s.read_back(aws).await?, Spec::ServiceConnectDiscovery)
            }
            Spec::VirtualNode(s) => wrap(s.read_back(aws).await?, Spec::VirtualNode),
            Spec::VirtualRouter(s) => wrap(s.read_back(aws).await?, Spec::VirtualRouter),
            Spec::Route(s) => wrap(s.read_back(aws).await?, Spec::Route),
            Spec::VirtualService(s) => wrap(s.read_back(aws).await?, Spec::VirtualService),
            Spec::ScalableTarget(s) => wrap(s.read_back(aws).await?, Spec::ScalableTarget),
            Spec::ScalingPolicy(s) => wrap(s.read_back(aws).await?, Spec::ScalingPolicy),
            Spec::MetricAlarm(s) => wrap(s.read_back(aws).await?, Spec::MetricAlarm),
            Spec::Dashboard(s) => wrap(s.read_back(aws).await?, Spec::Dashboard),
            Spec::LoadBalancer(s) => wrap(s.read_back(aws).await?, Spec::LoadBalancer),
            Spec::SecurityGroup(s) => wrap(s.read_back(aws).await?, Spec::SecurityGroup),
            // A listener has no name: it goes with its load balancer.
            Spec::Listener(_) => None,
            Spec::Role(s) => wrap(s.read_back(aws).await?, Spec::Role),
            Spec::Cluster(_) | Spec::Mesh(_) | Spec::Namespace(_) | Spec::Budget(_) => return Err(AwsError::new(
                "read back",
                "platform objects are read with find_cluster, find_mesh, find_owned_namespace and find_budget",
            )),
        })
    }

    /// The owner its tags name (`matbakh:owner`): `Some("")` when it has
    /// tags but no owner tag, `None` for kinds that take no tags
    /// (Application Auto Scaling), whose names say whose they are, and for
    /// the Cloud Map service ECS Service Connect creates.
    pub fn owner(&self) -> Option<&str> {
        let tags = match self {
            Spec::Cluster(s) => &s.tags,
            Spec::Mesh(s) => &s.tags,
            Spec::Namespace(s) => &s.tags,
            Spec::LogGroup(s) => &s.tags,
            Spec::TaskDefinition(s) => &s.tags,
            Spec::EcsService(s) => &s.tags,
            Spec::DiscoveryService(s) => &s.tags,
            Spec::VirtualNode(s) => &s.tags,
            Spec::VirtualRouter(s) => &s.tags,
            Spec::Route(s) => &s.tags,
            Spec::VirtualService(s) => &s.tags,
            Spec::MetricAlarm(s) => &s.tags,
            Spec::Dashboard(s) => &s.tags,
            Spec::LoadBalancer(s) => &s.tags,
            Spec::Listener(s) => &s.tags,
            Spec::SecurityGroup(s) => &s.tags,
            Spec::Role(s) => &s.tags,
            Spec::Budget(s) => &s.tags,
            // ECS creates it; its tags are not ours to judge.
            Spec::ServiceConnectDiscovery(_) => return None,
            Spec::ScalableTarget(_) | Spec::ScalingPolicy(_) => return None,
        };
        Some(super::tags::owner(tags))
    }
}
