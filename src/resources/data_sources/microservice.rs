//! `data "matbakh_microservice"`: a microservice by its platform and name,
//! read back from AWS the way `terraform import` reads it
//! ([`crate::resources::microservice::read_existing`]).

use async_trait::async_trait;
use tf_provider::schema::Schema;

use super::read_only::ReadOnlySource;
use crate::resources::context::Configured;
use crate::resources::lifecycle::components_value;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::expand::{self, keys, PlatformContext};
use crate::resources::microservice::platform_context::find_platform;
use crate::resources::microservice::validate::check_service_name;
use crate::resources::microservice::{names, read_existing, Existing};
use crate::resources::platform::schema::check_name as check_platform_name;
use crate::tf::schema::{block, string_map, Type};
use crate::tf::value::Value;
use crate::validation::Problem;

pub struct MicroserviceDataSource;

pub fn schema() -> Schema {
    block("An existing `matbakh_microservice` (made by another Terraform state), found by its platform and name in the provider's region.")
        .required("platform", Type::String, "Name (`id`) of the platform the service runs on.")
        .required("name", Type::String, "Name of the service.")
        .computed("id", Type::String, "`PLATFORM/NAME`, the microservice's id: what a `matbakh_canary`'s `microservice` takes.")
        .computed("dns_name", Type::String, "Name other services reach it by: `NAME.NAMESPACE`.")
        .computed("service_arn", Type::String, "ARN of the ECS service.")
        .computed("task_definition_arn", Type::String, "ARN of the task definition revision the ECS service runs.")
        .computed("image", Type::String, "Container image of the application, as the running task definition has it.")
        .computed("port", Type::Number, "Port the application listens on.")
        .computed("components", string_map(), "Every AWS object of the service that exists, by component (`task_definition`, `service`, `virtual_node`, …), to its ARN or id.")
        .schema(0)
}

pub fn validate(config: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(Err(why)) = config.get("platform").as_str().map(check_platform_name) {
        problems.push(Problem::at("platform", "Invalid platform name", why));
    }
    if let Some(Err(why)) = config.get("name").as_str().map(check_service_name) {
        problems.push(Problem::at("name", "Invalid service name", why));
    }
    problems
}

/// The data source's attributes from the microservice found.
pub fn attributes(
    platform: &PlatformContext,
    name: &str,
    existing: &Existing,
) -> Result<Value, String> {
    let config = MicroserviceConfig::from_value(&existing.arguments.to_json())?;
    let settings = Settings::resolve_unchecked(&config, platform.environment);
    let component = |key: &str| existing.components.get(key).cloned();
    let mut state = Value::Null;
    state.set("platform", platform.platform_id.as_str().into());
    state.set("name", name.into());
    state.set("id", names::resource_id(&platform.platform_id, name).into());
    state.set("dns_name", expand::dns_name(&settings, platform).into());
    state.set("service_arn", component(keys::SERVICE).into());
    state.set(
        "task_definition_arn",
        component(keys::TASK_DEFINITION).into(),
    );
    state.set("image", settings.image.as_str().into());
    state.set("port", settings.port.into());
    state.set("components", components_value(&existing.components));
    Ok(state)
}

#[async_trait]
impl ReadOnlySource for MicroserviceDataSource {
    fn schema() -> Schema {
        schema()
    }

    fn validate(config: &Value) -> Vec<Problem> {
        validate(config)
    }

    async fn read(configured: &Configured, config: &Value) -> Result<Value, (String, String)> {
        let platform_id = config.get("platform").as_str().unwrap_or_default();
        let name = config.get("name").as_str().unwrap_or_default();
        let cannot =
            || format!("Cannot read data source matbakh_microservice {platform_id}/{name}");
        let platform = find_platform(configured, platform_id)
            .await
            .map_err(|e| (cannot(), e))?;
        let existing = read_existing(&configured.clients, &platform, name)
            .await
            .map_err(|e| (cannot(), e))?
            .ok_or_else(|| {
                (
                    cannot(),
                    format!(
                        "no microservice {name:?} exists on platform {platform_id:?} in {}: the ECS service {name:?} of cluster {:?}, or the task definition it runs, was not found",
                        platform.region, platform.cluster_name
                    ),
                )
            })?;
        attributes(&platform, name, &existing).map_err(|why| (cannot(), why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::resources::microservice::test_fixtures::platform;

    #[test]
    fn attributes_from_the_recovered_arguments_and_components() {
        let mut arguments = Value::Null;
        arguments.set("platform", "matbakh".into());
        arguments.set("name", "auth-service".into());
        arguments.set("image", "registry.example/auth:1.4.2".into());
        arguments.set("port", 9000i64.into());
        let existing = Existing {
            arguments,
            components: [
                ("service".to_string(), "arn:service".to_string()),
                ("task_definition".to_string(), "arn:td:3".to_string()),
            ]
            .into_iter()
            .collect(),
            owner_token: None,
            canary: None,
        };
        let s = attributes(
            &platform(Environment::Production),
            "auth-service",
            &existing,
        )
        .unwrap();
        assert_eq!(s.get("id"), &Value::str("matbakh/auth-service"));
        assert_eq!(s.get("dns_name"), &Value::str("auth-service.svc.local"));
        assert_eq!(s.get("service_arn"), &Value::str("arn:service"));
        assert_eq!(s.get("task_definition_arn"), &Value::str("arn:td:3"));
        assert_eq!(s.get("image"), &Value::str("registry.example/auth:1.4.2"));
        assert_eq!(s.get("port"), &Value::from(9000i64));
        for name in schema().block.attributes.keys() {
            assert!(!s.get(name).is_null(), "{name}");
        }
    }

    #[test]
    fn ids_are_checked_before_any_call() {
        let mut c = Value::Null;
        c.set("platform", "matbakh".into());
        c.set("name", "Auth_Service".into());
        let paths: Vec<String> = validate(&c).iter().map(Problem::dotted).collect();
        assert_eq!(paths, vec!["name"]);
    }
}
