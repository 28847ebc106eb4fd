//! `data "matbakh_platform"`: a platform by its name.

use async_trait::async_trait;
use tf_provider::schema::Schema;

use super::read_only::ReadOnlySource;
use crate::resources::context::Configured;
use crate::resources::platform::lookup::{self, FoundPlatform};
use crate::resources::platform::schema::check_name;
use crate::tf::schema::{block, Type};
use crate::tf::value::Value;
use crate::validation::Problem;

pub struct PlatformDataSource;

pub fn schema() -> Schema {
    block("An existing `matbakh_platform` (made by another Terraform state), found by its name in the provider's region.")
        .required("name", Type::String, "Name of the platform (its `id`).")
        .computed("id", Type::String, "The platform's id: its name; what a `matbakh_microservice`'s `platform` takes.")
        .computed("cluster_arn", Type::String, "ARN of the ECS cluster.")
        .computed("namespace_id", Type::String, "Id of the Cloud Map namespace (`ns-…`).")
        .computed("namespace_arn", Type::String, "ARN of the Cloud Map namespace.")
        .computed("service_mesh", Type::String, "How the platform's services find and call each other: `app_mesh` when a mesh of the platform's name exists.")
        .computed("mesh_name", Type::String, "Name of the App Mesh mesh; null without a mesh.")
        .schema(0)
}

pub fn validate(config: &Value) -> Vec<Problem> {
    match config.get("name").as_str().map(check_name) {
        Some(Err(why)) => vec![Problem::at("name", "Invalid platform name", why)],
        _ => Vec::new(),
    }
}

/// The data source's attributes from what was found; an error naming what
/// was looked for when the platform is missing or incomplete.
pub fn attributes(found: &FoundPlatform, region: &str) -> Result<Value, String> {
    let name = &found.name;
    if found.is_empty() {
        return Err(format!(
            "no matbakh_platform named {name:?} exists in {region}: no ECS cluster {name:?}, no App Mesh mesh {name:?} and no Cloud Map namespace tagged matbakh:owner = {name:?} (check `name` and the provider's region)"
        ));
    }
    let (Some(cluster_arn), Some(namespace_arn)) = (found.cluster_arn(), found.namespace_arn())
    else {
        let missing = if found.cluster.is_none() {
            format!("ECS cluster {name:?}")
        } else {
            format!("Cloud Map namespace tagged matbakh:owner = {name:?}")
        };
        return Err(format!(
            "matbakh_platform {name:?} in {region} is incomplete: its {missing} does not exist"
        ));
    };
    let mut state = Value::Null;
    state.set("name", name.as_str().into());
    state.set("id", name.as_str().into());
    state.set("cluster_arn", cluster_arn.into());
    state.set("namespace_arn", namespace_arn.into());
    state.set("namespace_id", found.namespace_id().into());
    state.set("service_mesh", lookup::service_mesh(found).into());
    state.set("mesh_name", found.mesh_name().into());
    Ok(state)
}

#[async_trait]
impl ReadOnlySource for PlatformDataSource {
    fn schema() -> Schema {
        schema()
    }

    fn validate(config: &Value) -> Vec<Problem> {
        validate(config)
    }

    async fn read(configured: &Configured, config: &Value) -> Result<Value, (String, String)> {
        let name = config.get("name").as_str().unwrap_or_default().to_string();
        let cannot = || format!("Cannot read data source matbakh_platform {name:?}");
        let found = lookup::lookup(&configured.clients, &name, configured.service_mesh)
            .await
            .map_err(|e| (cannot(), e.to_string()))?;
        attributes(&found, &configured.clients.region).map_err(|why| (cannot(), why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Tags;

    fn found() -> FoundPlatform {
        FoundPlatform {
            name: "matbakh".into(),
            cluster: Some(("arn:cluster".into(), true)),
            mesh: Some(("arn:mesh".into(), "DROP_ALL".into())),
            namespace: Some((
                "arn:aws:servicediscovery:eu-central-1:1:namespace/ns-1".into(),
                "svc.local".into(),
                Tags::new(),
            )),
        }
    }

    #[test]
    fn every_attribute_from_what_was_found() {
        let s = attributes(&found(), "eu-central-1").unwrap();
        assert_eq!(s.get("id"), &Value::str("matbakh"));
        assert_eq!(s.get("cluster_arn"), &Value::str("arn:cluster"));
        assert_eq!(s.get("namespace_id"), &Value::str("ns-1"));
        assert_eq!(s.get("service_mesh"), &Value::str("app_mesh"));
        assert_eq!(s.get("mesh_name"), &Value::str("matbakh"));
        // Every attribute of the schema is set.
        for name in schema().block.attributes.keys() {
            assert!(!s.get(name).is_null(), "{name}");
        }
    }

    #[test]
    fn missing_platforms_name_what_was_looked_for() {
        let none = FoundPlatform {
            name: "matbakh".into(),
            ..Default::default()
        };
        let why = attributes(&none, "eu-central-1").unwrap_err();
        assert!(
            why.contains("\"matbakh\"") && why.contains("eu-central-1"),
            "{why}"
        );
        let no_cluster = FoundPlatform {
            cluster: None,
            ..found()
        };
        let why = attributes(&no_cluster, "eu-central-1").unwrap_err();
        assert!(why.contains("ECS cluster"), "{why}");
    }

    #[test]
    fn names_are_checked_before_any_call() {
        let mut c = Value::Null;
        c.set("name", "Bad Name".into());
        assert_eq!(validate(&c)[0].dotted(), "name");
        c.set("name", Value::Unknown);
        assert!(validate(&c).is_empty());
    }
}
