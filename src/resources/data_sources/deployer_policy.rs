//! `data "matbakh_deployer_policy"`: the IAM policy a CI principal needs to
//! plan, apply, import and destroy the given platforms, their microservices
//! and canaries. Generated from the table of every action the provider
//! calls ([`crate::aws::actions`]); reads nothing from AWS.

use async_trait::async_trait;
use tf_provider::schema::Schema;

use super::read_only::ReadOnlySource;
use crate::aws::actions::deployer_policy;
use crate::resources::context::Configured;
use crate::resources::platform::schema::check_name;
use crate::tf::schema::{block, string_set, Type};
use crate::tf::value::Value;
use crate::validation::Problem;

pub struct DeployerPolicyDataSource;

pub fn schema() -> Schema {
    block("The IAM policy a CI principal needs to plan, apply, import and destroy the given platforms, their microservices and canaries: every action the provider calls, scoped by the names it derives where AWS takes a resource for the action, `iam:PassRole` only to ECS tasks, no `*` action.")
        .required("platforms", string_set(), "Names of the platforms the principal manages, a set.")
        .optional("regions", string_set(), "Regions, a set. Default: the provider's region.")
        .computed("id", Type::String, "The platforms and regions, joined.")
        .computed("json", Type::String, "The policy document (JSON).")
        .schema(0)
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::List(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

pub fn validate(config: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, name) in strings(config.get("platforms")).iter().enumerate() {
        if let Err(why) = check_name(name) {
            problems.push(Problem::at(
                &format!("platforms.{i}"),
                "Invalid platform name",
                why,
            ));
        }
    }
    problems
}

#[async_trait]
impl ReadOnlySource for DeployerPolicyDataSource {
    fn schema() -> Schema {
        schema()
    }

    fn validate(config: &Value) -> Vec<Problem> {
        validate(config)
    }

    async fn read(configured: &Configured, config: &Value) -> Result<Value, (String, String)> {
        let mut platforms = strings(config.get("platforms"));
        let mut regions = strings(config.get("regions"));
        if regions.is_empty() {
            regions.push(configured.clients.region.clone());
        }
        platforms.sort();
        regions.sort();
        let account = configured.clients.account_id.as_deref().unwrap_or("*");
        let policy = deployer_policy(&platforms, &regions, account);
        let mut state = config.clone();
        state.set(
            "id",
            format!("{}@{}", platforms.join(","), regions.join(",")).into(),
        );
        state.set("json", policy.to_string().into());
        Ok(state)
    }
}
