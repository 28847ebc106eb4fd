//! The IAM roles a configuration brings (execution_role_arn,
//! task_role_arn) are role ARNs; what the roles the provider makes may do
//! is judged in `validate_roles`.

use super::aws_ids::is_iam_role_arn;
use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

impl Validator {
    pub(super) fn roles(&mut self, c: &MicroserviceConfig) {
        for (path, value) in [
            ("execution_role_arn", &c.execution_role_arn),
            ("task_role_arn", &c.task_role_arn),
        ] {
            if let Some(arn) = value {
                if !is_iam_role_arn(arn) {
                    self.error(
                        path,
                        "Invalid IAM role ARN",
                        format!(
                            "{arn:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_fixtures::*;
    use serde_json::json;

    #[test]
    fn role_arns() {
        assert_eq!(
            paths(json!({"execution_role_arn": "exec"})),
            vec!["execution_role_arn"]
        );
        assert_eq!(
            paths(json!({"task_role_arn": "arn:aws:iam::123:role/x"})),
            vec!["task_role_arn"]
        );
        assert_eq!(
            paths(json!({"task_role_arn": "arn:aws:iam::123456789012:user/x"})),
            vec!["task_role_arn"]
        );
        assert!(paths(json!({"task_role_arn": "arn:aws-cn:iam::123456789012:role/x"})).is_empty());
    }
}
