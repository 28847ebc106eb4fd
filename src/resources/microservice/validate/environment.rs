//! The app's environment: variable names ECS and the sidecars leave free,
//! and secrets given as ARNs, never as values.

use std::collections::BTreeSet;

use super::aws_ids::is_secret_arn;
use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

impl Validator {
    pub(super) fn environment_variables(&mut self, c: &MicroserviceConfig) {
        let Some(vars) = &c.environment_variables else {
            return;
        };
        let secrets: BTreeSet<&String> = c.secrets.iter().flatten().map(|(k, _)| k).collect();
        for name in vars.keys() {
            let attr = "environment_variables";
            if let Err(why) = check_env_name(name) {
                self.error_at_key(attr, name, "Invalid environment variable name", why);
            } else if secrets.contains(name) {
                self.error_at_key(
                    attr,
                    name,
                    "Variable set twice",
                    format!("{name} is in both environment_variables and secrets"),
                );
            }
        }
    }

    pub(super) fn secrets(&mut self, c: &MicroserviceConfig) {
        let Some(secrets) = &c.secrets else { return };
        for (name, value) in secrets {
            if let Err(why) = check_env_name(name) {
                self.error_at_key("secrets", name, "Invalid secret variable name", why);
            }
            if let Some(value) = value {
                if !is_secret_arn(value) {
                    // Never echo the value: it may be the secret itself.
                    self.error_at_key(
                        "secrets",
                        name,
                        "Not a secret ARN",
                        format!("secrets takes ARNs, never values: the value of {name} is not the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)"),
                    );
                }
            }
        }
    }
}

pub(super) fn check_env_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "{name:?} is not a variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    // These prefixes belong to the ECS agent and the App Mesh/ADOT sidecars.
    for reserved in ["AWS_", "ECS_", "APPMESH_"] {
        if name.starts_with(reserved) {
            return Err(format!(
                "{name:?}: names starting with {reserved} are reserved for ECS and the sidecars"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn environment_variable_names() {
        assert_eq!(
            paths(json!({"environment_variables": {"1X": "a"}})),
            vec![r#"environment_variables.["1X"]"#]
        );
        assert_eq!(
            paths(json!({"environment_variables": {"A-B": "a"}})),
            vec![r#"environment_variables.["A-B"]"#]
        );
        assert_eq!(
            paths(json!({"environment_variables": {"AWS_REGION": "a"}})),
            vec![r#"environment_variables.["AWS_REGION"]"#]
        );
        assert_eq!(
            paths(json!({"environment_variables": {"DB_PASSWORD": "a"}})),
            vec![r#"environment_variables.["DB_PASSWORD"]"#]
        );
    }

    #[test]
    fn secrets_take_arns_and_never_echo_values() {
        let problems = problems_with(json!({"secrets": {"DB_PASSWORD": "hunter2-s3cret"}}));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].dotted(), r#"secrets.["DB_PASSWORD"]"#);
        assert!(problems[0]
            .detail
            .contains("secrets takes ARNs, never values"));
        assert!(!format!("{problems:?}").contains("hunter2"));
        assert_eq!(
            paths(json!({"secrets": {"X": "arn:aws:s3:::bucket/key"}})),
            vec![r#"secrets.["X"]"#]
        );
        assert_eq!(
            paths(json!({"secrets": {"X": "arn:aws:ssm:eu-west-1:123456789012:document/x"}})),
            vec![r#"secrets.["X"]"#]
        );
    }
}
