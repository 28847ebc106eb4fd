//! Plan-time validation of `matbakh_microservice`, mirroring AWS's own
//! constraints so a bad value fails at plan, naming its attribute, instead
//! of half way through an apply.
//!
//! Values unknown at plan time arrive as null and are not judged; Terraform
//! itself insists on required arguments.
//!
//! One file per concept: each adds its checks to `Validator` and keeps
//! its unit tests beside them; this file runs them in order.

mod alarms;
mod autoscaling;
mod aws_ids;
mod backends;
mod container;
mod environment;
mod health_check;
mod logs;
mod network;
mod role_arns;
mod service_name;
mod sidecars;
mod sizing;
#[cfg(test)]
mod test_fixtures;
mod timeouts;
mod tls;
mod traffic_policy;
mod validator;

use validator::Validator;

use super::config::{MicroserviceConfig, Settings};
use crate::environment::Environment;
use crate::service_mesh::ServiceMesh;
use crate::validation::Problem;

pub use service_name::check_service_name;

/// Every problem of `config` that does not depend on the backend; empty
/// when it is valid. What Terraform's ValidateResourceConfig checks (it
/// does not see the provider's configuration).
pub fn validate(config: &MicroserviceConfig) -> Vec<Problem> {
    let mut v = Validator::default();
    v.name(config);
    v.image(config);
    v.port(config);
    v.sizes_positive(config);
    v.counts(config);
    v.network(config);
    v.roles(config);
    v.problems.extend(super::validate_roles::validate(config));
    v.environment_variables(config);
    v.secrets(config);
    v.backends(config);
    v.health_check(config);
    v.retry(config);
    v.timeout(config);
    v.circuit_breaker(config);
    v.tls(config);
    v.envoy(config);
    v.tracing(config);
    v.autoscaling(config);
    v.alarms(config);
    v.log_retention(config);
    v.timeouts(config);
    // The tags alone; with the provider's default_tags at plan
    // (crate::resources::tags::plan_tags).
    v.problems.extend(crate::resources::tags::check_tags(
        "tags",
        &super::config::known_map(&config.tags),
    ));
    if let Some(d) = &config.deployment {
        v.problems.extend(super::deployment::validate(d));
    }
    v.problems
}

/// The problems of `config` on the backend `mesh` (the provider's
/// `service_mesh`, known at plan): arguments the backend refuses, each
/// named with the backend, and whether a Fargate size holds the app with
/// the backend's sidecars. Checked at plan.
pub fn validate_on(config: &MicroserviceConfig, mesh: ServiceMesh) -> Vec<Problem> {
    let mut v = Validator {
        problems: super::backend::of(mesh).refused(config),
    };
    v.task_size(config, mesh);
    if let Some(d) = &config.deployment {
        v.problems
            .extend(super::deployment::check_backend(d, mesh.name()));
    }
    v.problems
}

impl Settings {
    /// Validate `config` and apply every default. Values still unknown at
    /// plan time (null) take their default, or stay empty for required
    /// arguments (Terraform itself insists on those), so this also serves a
    /// plan-time cost estimate. Any validation problem is returned instead.
    pub fn resolve(
        config: &MicroserviceConfig,
        env: Environment,
        mesh: ServiceMesh,
    ) -> Result<Settings, Vec<Problem>> {
        let mut problems = validate(config);
        problems.extend(validate_on(config, mesh));
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Settings::resolve_unchecked(config, env).on(mesh))
    }
}

#[cfg(test)]
mod tests {
    use super::test_fixtures::*;
    use super::validate;
    use crate::resources::microservice::config::MicroserviceConfig;
    use serde_json::json;

    #[test]
    fn the_reference_is_valid() {
        assert_eq!(paths(json!({})), Vec::<String>::new());
    }

    #[test]
    fn an_empty_configuration_is_not_judged() {
        assert!(validate(&MicroserviceConfig::default()).is_empty());
    }
}
