//! One adapter per AWS service: how a [`Spec`] is sent to AWS and read back.
//!
//! Adapters never decide *what* to build; they translate a desired object
//! into SDK calls, compare what AWS reports with what was asked for, and turn
//! AWS errors into messages that name the call and what AWS said.

pub mod access_denied;
pub mod actions;
pub mod appmesh;
pub mod arn;
pub mod autoscaling;
pub mod budgets;
pub mod call_log;
pub mod clients;
pub mod cloudmap;
pub mod cloudwatch;
pub mod compare;
pub mod credentials;
pub mod ec2;
pub mod ecs;
pub mod elbv2;
pub mod error;
#[cfg(test)]
pub mod fake_endpoint;
pub mod gatherer;
pub mod iam;
pub mod iam_propagation;
pub mod iam_role_listing;
pub mod logs;
pub mod pacer;
pub mod quotas;
pub mod read_back;
pub mod read_memo;
pub mod retry_policy;
pub mod stop_sleep;
pub mod tagging;
pub mod tags;
pub mod versions;
pub mod vouch;

use async_trait::async_trait;

pub use clients::Clients;
pub use error::AwsError;
pub use read_back::Found;

use crate::engine::{Backend, Observation, Resolved};
use crate::spec::Spec;

/// What every desired-object kind implements, in its service's adapter module.
///
/// `id` is what the engine recorded for the object (an ARN, or the id AWS
/// gave it); `resolved` holds the recorded ids of the component's
/// dependencies, for the [`crate::spec::Ref`]s in the spec.
#[async_trait]
pub trait Adapter: Sync {
    /// Read the object back. `Observation::Missing` when it no longer exists;
    /// otherwise the human-readable differences from the desired spec.
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError>;

    /// Create the object and return its id. When an object of the same
    /// deterministic name already exists and carries our owner tag and
    /// ownership token (our own leftover: a lost answer, an interrupted
    /// apply), adopt it; any other is refused with "already exists" (see
    /// [`crate::spec::ownership`] and [`tags::claim`]).
    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError>;

    /// Bring an existing object in line with the spec. Returns its id, which
    /// changes for immutable objects that get a new revision.
    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError>;

    /// Wait until the object is ready for what depends on it. Most kinds are
    /// ready as soon as the create or update call returns.
    async fn settle(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let _ = (aws, id);
        Ok(())
    }

    /// What a create leaves for after its id is recorded, which only what
    /// uses the object needs (see [`crate::engine::Backend::finish_create`]).
    /// Nothing by default.
    async fn finish_create(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let _ = (aws, id);
        Ok(())
    }

    /// Read ahead, into [`Clients::ahead`], what `delete` reads before it
    /// writes (see [`crate::engine::Backend::look_ahead_delete`]). Nothing
    /// by default.
    async fn look_ahead_delete(&self, aws: &Clients, id: &str) {
        let _ = (aws, id);
    }

    /// What a delete leaves for once the object is gone, which what it
    /// depends on need not wait for (see
    /// [`crate::engine::Backend::finish_delete`]). Nothing by default.
    async fn finish_delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let _ = (aws, id);
        Ok(())
    }

    /// Delete the object, waiting until AWS no longer reports it where the
    /// next delete in reverse order depends on that. Already gone is success.
    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError>;

    /// Read ahead, into [`Clients::ahead`], what `create` reads before it
    /// writes (see [`crate::engine::Backend::look_ahead`]). Nothing by
    /// default.
    async fn look_ahead(&self, aws: &Clients) {
        let _ = aws;
    }
}

impl Spec {
    /// The adapter that knows how to reconcile this kind of object.
    pub fn adapter(&self) -> &dyn Adapter {
        match self {
            Spec::Cluster(s) => s,
            Spec::Mesh(s) => s,
            Spec::Namespace(s) => s,
            Spec::LogGroup(s) => s,
            Spec::TaskDefinition(s) => s,
            Spec::EcsService(s) => s,
            Spec::DiscoveryService(s) => s,
            Spec::ServiceConnectDiscovery(s) => s,
            Spec::VirtualNode(s) => s,
            Spec::VirtualRouter(s) => s,
            Spec::Route(s) => s,
            Spec::VirtualService(s) => s,
            Spec::ScalableTarget(s) => s,
            Spec::ScalingPolicy(s) => s,
            Spec::MetricAlarm(s) => s,
            Spec::Dashboard(s) => s,
            Spec::LoadBalancer(s) => s,
            Spec::Listener(s) => s,
            Spec::TargetGroup(s) => s,
            Spec::ListenerRule(s) => s,
            Spec::SecurityGroup(s) => s,
            Spec::Role(s) => s,
            Spec::Budget(s) => s,
        }
    }
}

/// The engine's view of AWS: every component goes to its kind's adapter.
pub struct AwsBackend<'a> {
    pub clients: &'a Clients,
}

#[async_trait]
impl Backend for AwsBackend<'_> {
    type Spec = Spec;
    type Error = AwsError;

    async fn observe(
        &self,
        spec: &Spec,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        spec.adapter().observe(self.clients, id, resolved).await
    }
    async fn create(&self, spec: &Spec, resolved: &Resolved) -> Result<String, AwsError> {
        spec.adapter().create(self.clients, resolved).await
    }
    async fn update(&self, spec: &Spec, id: &str, resolved: &Resolved) -> Result<String, AwsError> {
        spec.adapter().update(self.clients, id, resolved).await
    }
    async fn settle(&self, spec: &Spec, id: &str) -> Result<(), AwsError> {
        spec.adapter().settle(self.clients, id).await
    }
    async fn finish_create(&self, spec: &Spec, id: &str) -> Result<(), AwsError> {
        spec.adapter().finish_create(self.clients, id).await
    }
    async fn delete(&self, spec: &Spec, id: &str) -> Result<(), AwsError> {
        spec.adapter().delete(self.clients, id).await
    }
    async fn finish_delete(&self, spec: &Spec, id: &str) -> Result<(), AwsError> {
        spec.adapter().finish_delete(self.clients, id).await
    }
    async fn look_ahead(&self, spec: &Spec) {
        spec.adapter().look_ahead(self.clients).await
    }
    async fn look_ahead_delete(&self, spec: &Spec, id: &str) {
        spec.adapter().look_ahead_delete(self.clients, id).await
    }

    /// A task definition names its roles and log group (and, on App Mesh,
    /// its virtual node); only the tasks the ECS service runs use them, and
    /// a revision naming a role deleted is still deregistered (and takes
    /// no role to describe).
    fn only_names_its_dependencies(&self, spec: &Spec) -> bool {
        matches!(spec, Spec::TaskDefinition(_))
    }

    /// What only names its dependencies (above), and Service Connect's
    /// Cloud Map service: ECS makes it with `CreateService` (whose answer's
    /// deployment already names it), so it is looked for while the ECS
    /// service's deployment settles, not after (its create polls until it
    /// appears).
    fn starts_once_made(&self, spec: &Spec) -> bool {
        self.only_names_its_dependencies(spec) || matches!(spec, Spec::ServiceConnectDiscovery(_))
    }

    /// The requests each adapter sends one after the other (see each
    /// adapter's create and delete; waits counted as their first poll).
    fn rounds(&self, spec: &Spec, direction: crate::engine::Direction) -> usize {
        use crate::engine::Direction::{Dependencies, Dependents};
        match (spec, direction) {
            // GetDashboard (the owner check), PutDashboard, GetDashboard
            // (its ARN), TagResource.
            (Spec::Dashboard(_), Dependents) => 4,
            // Create, GetOperation, GetNamespace; delete: the wait for no
            // services, DeleteNamespace, GetOperation.
            (Spec::Namespace(_), _) => 3,
            // CreateService, then the deployment's wait.
            (Spec::EcsService(_), Dependents) => 2,
            // DeleteService, then the wait for it to be gone.
            (Spec::EcsService(_), Dependencies) => 2,
            // The owner check (with the policies' list), DeleteRolePolicy,
            // DeleteRole.
            (Spec::Role(_), Dependencies) => 3,
            // A describe or owner check, then the create (or the
            // retention after CreateLogGroup).
            (
                Spec::Cluster(_)
                | Spec::Mesh(_)
                | Spec::LogGroup(_)
                | Spec::TaskDefinition(_)
                | Spec::DiscoveryService(_)
                | Spec::VirtualNode(_)
                | Spec::VirtualRouter(_)
                | Spec::Route(_)
                | Spec::VirtualService(_)
                | Spec::MetricAlarm(_),
                Dependents,
            ) => 2,
            _ => 1,
        }
    }

    /// Alarms are read with one DescribeAlarms for up to 100 names, a
    /// target's scaling policies with one DescribeScalingPolicies.
    fn read_batch(&self, spec: &Spec) -> Option<&'static str> {
        match spec {
            Spec::MetricAlarm(_) => Some("cloudwatch:DescribeAlarms"),
            Spec::ScalingPolicy(_) => Some("application-autoscaling:DescribeScalingPolicies"),
            _ => None,
        }
    }

    async fn observe_batch(
        &self,
        items: &[(&Spec, &str)],
        resolved: &Resolved,
    ) -> Vec<Result<Observation, AwsError>> {
        let alarms: Vec<_> = items
            .iter()
            .filter_map(|(spec, id)| match spec {
                Spec::MetricAlarm(alarm) => Some((alarm, *id)),
                _ => None,
            })
            .collect();
        if alarms.len() == items.len() {
            return crate::spec::cloudwatch::MetricAlarmSpec::observe_many(
                self.clients,
                &alarms,
                resolved,
            )
            .await;
        }
        let policies: Vec<_> = items
            .iter()
            .filter_map(|(spec, id)| match spec {
                Spec::ScalingPolicy(policy) => Some((policy, *id)),
                _ => None,
            })
            .collect();
        if policies.len() == items.len() {
            return crate::spec::autoscaling::ScalingPolicySpec::observe_many(
                self.clients,
                &policies,
                resolved,
            )
            .await;
        }
        // Not one kind: read each alone.
        futures::future::join_all(
            items
                .iter()
                .map(|(spec, id)| self.observe(spec, id, resolved)),
        )
        .await
    }
}

/// Placeholder adapter for kinds whose adapter is not written yet.
#[macro_export]
macro_rules! not_yet_implemented {
    ($spec:ty) => {
        #[async_trait::async_trait]
        impl $crate::aws::Adapter for $spec {
            async fn observe(
                &self,
                _: &$crate::aws::Clients,
                _: &str,
                _: &$crate::engine::Resolved,
            ) -> Result<$crate::engine::Observation, $crate::aws::AwsError> {
                Err($crate::aws::AwsError::new(
                    stringify!($spec),
                    "not implemented",
                ))
            }
            async fn create(
                &self,
                _: &$crate::aws::Clients,
                _: &$crate::engine::Resolved,
            ) -> Result<String, $crate::aws::AwsError> {
                Err($crate::aws::AwsError::new(
                    stringify!($spec),
                    "not implemented",
                ))
            }
            async fn update(
                &self,
                _: &$crate::aws::Clients,
                _: &str,
                _: &$crate::engine::Resolved,
            ) -> Result<String, $crate::aws::AwsError> {
                Err($crate::aws::AwsError::new(
                    stringify!($spec),
                    "not implemented",
                ))
            }
            async fn delete(
                &self,
                _: &$crate::aws::Clients,
                _: &str,
            ) -> Result<(), $crate::aws::AwsError> {
                Err($crate::aws::AwsError::new(
                    stringify!($spec),
                    "not implemented",
                ))
            }
        }
    };
}
pub use not_yet_implemented;
