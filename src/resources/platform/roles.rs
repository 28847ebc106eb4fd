//! The role ECS uses to move a platform's ALB traffic during a release
//! (blue/green, canary and linear deployments behind a load balancer): ECS
//! assumes it to shift the production and test listener rules between the
//! two target groups. Pure: the platform's name, region and account in,
//! the role and its policy out.
//!
//! In the platform's graph under [`ALB_TRAFFIC_ROLE`] when `ingress` is
//! set; its microservices name it as their load balancer's `roleArn`. The
//! listeners, rules and target groups it may change are the platform's
//! only: named with the platform's prefix.
//!
//! The actions are those of AWS's managed policy for this role,
//! `AmazonECSInfrastructureRolePolicyForLoadBalancers` (Amazon ECS
//! Developer Guide, "Amazon ECS infrastructure IAM role for load
//! balancers"), each scoped to the platform where Elastic Load Balancing
//! takes a resource; the Describe actions take none.

use serde_json::{json, Value};

use crate::spec::iam::{role_name, RoleSpec};
use crate::spec::Tags;

/// Component key of the role in the platform's graph.
pub const ALB_TRAFFIC_ROLE: &str = "alb_traffic_role";

/// `PLATFORM-REGION-alb-traffic`: IAM is global, a platform regional (one
/// platform name in two regions is two roles, as the services' roles are).
pub fn alb_traffic_role_name(platform: &str, region: &str) -> String {
    role_name(&format!("{platform}-{region}-alb-traffic"))
}

/// The role for platform `platform` in `region` of `account` (partition
/// `partition`), tagged `tags` (the platform's owner tags).
pub fn alb_traffic_role(
    platform: &str,
    region: &str,
    account: &str,
    partition: &str,
    tags: &Tags,
) -> RoleSpec {
    let elb = |resource: &str| {
        format!("arn:{partition}:elasticloadbalancing:{region}:{account}:{resource}")
    };
    let statement = |sid: &str, actions: &[&str], resource: Value| json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource});
    RoleSpec {
        name: alb_traffic_role_name(platform, region),
        description: format!(
            "ECS moves the ALB traffic of platform {platform} in a release (made by terraform-provider-matbakh)"
        ),
        trust_policy: json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "ecs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }]
        }),
        policy: Some(json!({
            "Version": "2012-10-17",
            "Statement": [
                // Elastic Load Balancing defines no resource type for these.
                statement("Read", &[
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                ], json!("*")),
                statement("MoveTraffic", &[
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyRule",
                ], json!([
                    elb(&format!("listener/app/{platform}/*")),
                    elb(&format!("listener-rule/app/{platform}/*")),
                ])),
                statement("Targets", &[
                    "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:RegisterTargets",
                ], json!(elb(&format!("targetgroup/{platform}-*/*")))),
            ]
        })),
        managed_policy_arns: Vec::new(),
        tags: tags.clone(),
    }
}

/// The partition of `region`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_of_regions() {
        assert_eq!(partition("eu-central-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn scoped_to_the_platforms_listeners_rules_and_target_groups() {
        let tags: Tags = [("matbakh:owner".to_string(), "matbakh".to_string())].into();
        let role = alb_traffic_role("matbakh", "eu-central-1", "123456789012", "aws", &tags);
        assert_eq!(role.name, "matbakh-eu-central-1-alb-traffic");
        assert_eq!(
            role.trust_policy["Statement"][0]["Principal"]["Service"],
            "ecs.amazonaws.com"
        );
        let policy = role.policy.unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        for st in statements {
            for action in st["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap();
                assert!(!action.contains('*'));
                if st["Resource"] == "*" {
                    assert!(
                        action.starts_with("elasticloadbalancing:Describe"),
                        "{action} on *"
                    );
                }
            }
        }
        assert_eq!(
            statements[1]["Resource"],
            json!([
                "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/app/matbakh/*",
                "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener-rule/app/matbakh/*",
            ])
        );
        assert_eq!(
            statements[2]["Resource"],
            "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/matbakh-*/*"
        );
        assert_eq!(role.tags, tags);
    }
}
