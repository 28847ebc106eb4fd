//! The subnets and security groups the service's tasks run in.

use super::aws_ids::is_aws_id;
use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

impl Validator {
    pub(super) fn network(&mut self, c: &MicroserviceConfig) {
        if let Some(list) = &c.subnet_ids {
            if list.is_empty() {
                self.error(
                    "subnet_ids",
                    "No subnets",
                    "the service's tasks need at least one subnet",
                );
            }
            if list.len() > 16 {
                self.error(
                    "subnet_ids",
                    "Too many subnets",
                    "an ECS service takes at most 16 subnets",
                );
            }
            for (i, id) in list.iter().enumerate() {
                if let Some(id) = id {
                    if !is_aws_id(id, "subnet-") {
                        self.error(
                            &format!("subnet_ids.{i}"),
                            "Invalid subnet id",
                            format!("{id:?} is not a subnet id (subnet- followed by hex digits)"),
                        );
                    }
                }
            }
        }
        if let Some(list) = &c.security_group_ids {
            if list.len() > 5 {
                self.error(
                    "security_group_ids",
                    "Too many security groups",
                    "an ECS service takes at most 5 security groups",
                );
            }
            for (i, id) in list.iter().enumerate() {
                if let Some(id) = id {
                    if !is_aws_id(id, "sg-") {
                        self.error(
                            &format!("security_group_ids.{i}"),
                            "Invalid security group id",
                            format!(
                                "{id:?} is not a security group id (sg- followed by hex digits)"
                            ),
                        );
                    }
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
    fn network_ids() {
        assert_eq!(paths(json!({"subnet_ids": []})), vec!["subnet_ids"]);
        assert_eq!(
            paths(json!({"subnet_ids": ["subnet-0123abcd", "subnet-xyz"]})),
            vec!["subnet_ids.1"]
        );
        assert!(paths(json!({"subnet_ids": [null]})).is_empty());
        assert_eq!(
            paths(json!({"security_group_ids": ["sg-12345678", "subnet-12345678"]})),
            vec!["security_group_ids.1"]
        );
    }
}
