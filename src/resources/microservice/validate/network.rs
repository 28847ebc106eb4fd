//! The subnets and security groups the service's tasks run in.

use super::aws_ids::is_aws_id;
use super::validator::Validator;
use crate::resources::microservice::config::MicroserviceConfig;

/// One list of AWS ids the ECS service takes: its attribute, the id prefix,
/// what an id is called, and how many the service takes at least and at most.
struct IdList {
    attr: &'static str,
    prefix: &'static str,
    what: &'static str,
    min: usize,
    max: usize,
}

const SUBNETS: IdList = IdList {
    attr: "subnet_ids",
    prefix: "subnet-",
    what: "subnet",
    min: 1,
    max: 16,
};

const SECURITY_GROUPS: IdList = IdList {
    attr: "security_group_ids",
    prefix: "sg-",
    what: "security group",
    min: 0,
    max: 5,
};

impl Validator {
    pub(super) fn network(&mut self, c: &MicroserviceConfig) {
        self.id_list(&SUBNETS, &c.subnet_ids);
        self.id_list(&SECURITY_GROUPS, &c.security_group_ids);
    }

    fn id_list(&mut self, rule: &IdList, list: &Option<Vec<Option<String>>>) {
        let Some(list) = list else { return };
        let IdList {
            attr,
            prefix,
            what,
            min,
            max,
        } = rule;
        if list.len() < *min {
            self.error(
                attr,
                &format!("No {what}s"),
                format!("the service's tasks need at least one {what}"),
            );
        }
        if list.len() > *max {
            self.error(
                attr,
                &format!("Too many {what}s"),
                format!("an ECS service takes at most {max} {what}s"),
            );
        }
        for (i, id) in list.iter().enumerate() {
            if let Some(id) = id {
                if !is_aws_id(id, prefix) {
                    self.error(
                        &format!("{attr}.{i}"),
                        &format!("Invalid {what} id"),
                        format!("{id:?} is not a {what} id ({prefix} followed by hex digits)"),
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
        assert!(paths(json!({"security_group_ids": []})).is_empty());
        let subnets: Vec<String> = (0..17).map(|i| format!("subnet-{i:08x}")).collect();
        let problems = problems_with(json!({ "subnet_ids": subnets }));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].dotted(), "subnet_ids");
        assert!(problems[0].detail.contains("at most 16 subnets"));
        let groups: Vec<String> = (0..6).map(|i| format!("sg-{i:08x}")).collect();
        let problems = problems_with(json!({ "security_group_ids": groups }));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].detail.contains("at most 5 security groups"));
    }
}
