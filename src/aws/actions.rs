//! Every AWS action the adapters call, in one table: what the deployer's
//! policy (`data "matbakh_deployer_policy"`) grants, each scoped by the
//! names the provider derives where AWS takes a resource for the action.
//!
//! The table is checked against the provider's own sources (the call name
//! each passes to `AwsError`, `"service:Action"`): a unit test fails when
//! an adapter calls an action missing here, or when an entry here is no
//! longer called, so the policy cannot fall behind the code.

use serde_json::{json, Value};

/// `(action, resource pattern)`. Patterns: `{r}` region, `{a}` account,
/// `{p}` platform name; `*` where AWS defines no resource type for the
/// action (the service authorization reference of each service).
pub const CALLED: &[(&str, &str)] = &[
    ("application-autoscaling:DeleteScalingPolicy", "*"),
    ("application-autoscaling:DeregisterScalableTarget", "*"),
    ("application-autoscaling:DescribeScalableTargets", "*"),
    ("application-autoscaling:DescribeScalingPolicies", "*"),
    ("application-autoscaling:ListTagsForResource", "*"),
    ("application-autoscaling:PutScalingPolicy", "*"),
    ("application-autoscaling:RegisterScalableTarget", "*"),
    ("application-autoscaling:TagResource", "*"),
    ("application-autoscaling:UntagResource", "*"),
    ("appmesh:CreateMesh", MESH),
    ("appmesh:CreateRoute", MESH_CHILD),
    ("appmesh:CreateVirtualNode", MESH_CHILD),
    ("appmesh:CreateVirtualRouter", MESH_CHILD),
    ("appmesh:CreateVirtualService", MESH_CHILD),
    ("appmesh:DeleteMesh", MESH),
    ("appmesh:DeleteRoute", MESH_CHILD),
    ("appmesh:DeleteVirtualNode", MESH_CHILD),
    ("appmesh:DeleteVirtualRouter", MESH_CHILD),
    ("appmesh:DeleteVirtualService", MESH_CHILD),
    ("appmesh:DescribeMesh", MESH),
    ("appmesh:DescribeRoute", MESH_CHILD),
    ("appmesh:DescribeVirtualNode", MESH_CHILD),
    ("appmesh:DescribeVirtualRouter", MESH_CHILD),
    ("appmesh:DescribeVirtualService", MESH_CHILD),
    ("appmesh:ListTagsForResource", MESH_ANY),
    ("appmesh:TagResource", MESH_ANY),
    ("appmesh:UntagResource", MESH_ANY),
    ("appmesh:UpdateMesh", MESH),
    ("appmesh:UpdateRoute", MESH_CHILD),
    ("appmesh:UpdateVirtualNode", MESH_CHILD),
    ("appmesh:UpdateVirtualRouter", MESH_CHILD),
    ("appmesh:UpdateVirtualService", MESH_CHILD),
    ("budgets:CreateBudget", BUDGET),
    ("budgets:CreateNotification", BUDGET),
    ("budgets:DeleteBudget", BUDGET),
    ("budgets:DeleteNotification", BUDGET),
    ("budgets:DescribeBudget", BUDGET),
    ("budgets:DescribeNotificationsForBudget", BUDGET),
    ("budgets:DescribeSubscribersForNotification", BUDGET),
    ("budgets:ListTagsForResource", BUDGET),
    ("budgets:TagResource", BUDGET),
    ("budgets:UpdateBudget", BUDGET),
    ("cloudwatch:DeleteAlarms", ALARM),
    ("cloudwatch:DeleteDashboards", DASHBOARD),
    ("cloudwatch:DescribeAlarms", "*"),
    ("cloudwatch:GetDashboard", DASHBOARD),
    ("cloudwatch:GetMetricStatistics", "*"),
    ("cloudwatch:ListTagsForResource", ALARM_OR_DASHBOARD),
    ("cloudwatch:PutDashboard", DASHBOARD),
    ("cloudwatch:PutMetricAlarm", ALARM),
    ("cloudwatch:SetAlarmState", ALARM),
    ("cloudwatch:TagResource", ALARM_OR_DASHBOARD),
    ("cloudwatch:UntagResource", ALARM_OR_DASHBOARD),
    ("ec2:AuthorizeSecurityGroupIngress", SECURITY_GROUP),
    ("ec2:CreateSecurityGroup", SECURITY_GROUP_AND_VPC),
    ("ec2:CreateTags", SECURITY_GROUP),
    ("ec2:DeleteSecurityGroup", SECURITY_GROUP),
    ("ec2:DescribeSecurityGroups", "*"),
    ("ec2:DescribeSubnets", "*"),
    ("ec2:RevokeSecurityGroupIngress", SECURITY_GROUP),
    ("ecs:CreateCluster", "*"),
    ("ecs:CreateService", SERVICE),
    ("ecs:DeleteCluster", CLUSTER),
    ("ecs:DeleteService", SERVICE),
    ("ecs:DeregisterTaskDefinition", "*"),
    ("ecs:DescribeClusters", CLUSTER),
    ("ecs:DescribeServiceDeployments", "*"),
    ("ecs:DescribeServiceRevisions", "*"),
    ("ecs:DescribeServices", SERVICE),
    ("ecs:DescribeTaskDefinition", "*"),
    ("ecs:ListServices", "*"),
    ("ecs:ListServiceDeployments", SERVICE),
    ("ecs:ListTagsForResource", ECS_ANY),
    ("ecs:ListTaskDefinitions", "*"),
    ("ecs:PutClusterCapacityProviders", CLUSTER),
    ("ecs:RegisterTaskDefinition", "*"),
    ("ecs:StopServiceDeployment", "*"),
    ("ecs:TagResource", ECS_ANY),
    ("ecs:UntagResource", ECS_ANY),
    ("ecs:UpdateCluster", CLUSTER),
    ("ecs:UpdateClusterSettings", CLUSTER),
    ("ecs:UpdateService", SERVICE),
    ("elasticloadbalancing:AddTags", ELB_ANY),
    ("elasticloadbalancing:CreateListener", ELB_ANY),
    ("elasticloadbalancing:CreateLoadBalancer", LOAD_BALANCER),
    ("elasticloadbalancing:CreateRule", ELB_ANY),
    ("elasticloadbalancing:CreateTargetGroup", TARGET_GROUP),
    ("elasticloadbalancing:DeleteListener", LISTENER),
    ("elasticloadbalancing:DeleteLoadBalancer", LOAD_BALANCER),
    ("elasticloadbalancing:DeleteRule", LISTENER_RULE),
    ("elasticloadbalancing:DeleteTargetGroup", TARGET_GROUP),
    ("elasticloadbalancing:DescribeListeners", "*"),
    ("elasticloadbalancing:DescribeLoadBalancerAttributes", "*"),
    ("elasticloadbalancing:DescribeLoadBalancers", "*"),
    ("elasticloadbalancing:DescribeRules", "*"),
    ("elasticloadbalancing:DescribeTags", "*"),
    ("elasticloadbalancing:DescribeTargetGroupAttributes", "*"),
    ("elasticloadbalancing:DescribeTargetGroups", "*"),
    ("elasticloadbalancing:ModifyListener", LISTENER),
    (
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        LOAD_BALANCER,
    ),
    ("elasticloadbalancing:ModifyRule", LISTENER_RULE),
    ("elasticloadbalancing:ModifyTargetGroup", TARGET_GROUP),
    (
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        TARGET_GROUP,
    ),
    ("elasticloadbalancing:SetRulePriorities", LISTENER_RULE),
    ("elasticloadbalancing:SetSecurityGroups", LOAD_BALANCER),
    ("elasticloadbalancing:SetSubnets", LOAD_BALANCER),
    ("iam:AttachRolePolicy", ROLE),
    ("iam:CreateRole", ROLE),
    ("iam:DeleteRole", ROLE),
    ("iam:DeleteRolePolicy", ROLE),
    ("iam:DetachRolePolicy", ROLE),
    ("iam:GetRole", ROLE),
    ("iam:GetRolePolicy", ROLE),
    ("iam:ListAttachedRolePolicies", ROLE),
    ("iam:ListRolePolicies", ROLE),
    ("iam:PutRolePolicy", ROLE),
    ("iam:TagRole", ROLE),
    ("iam:UntagRole", ROLE),
    ("iam:UpdateAssumeRolePolicy", ROLE),
    ("logs:CreateLogGroup", LOG_GROUP),
    ("logs:DeleteLogGroup", LOG_GROUP),
    ("logs:DescribeLogGroups", "*"),
    ("logs:ListTagsLogGroup", LOG_GROUP),
    ("logs:PutRetentionPolicy", LOG_GROUP),
    ("logs:TagLogGroup", LOG_GROUP),
    ("logs:UntagLogGroup", LOG_GROUP),
    ("servicediscovery:CreateHttpNamespace", "*"),
    ("servicediscovery:CreatePrivateDnsNamespace", "*"),
    ("servicediscovery:CreateService", "*"),
    ("servicediscovery:DeleteNamespace", "*"),
    ("servicediscovery:DeleteService", "*"),
    ("servicediscovery:GetNamespace", "*"),
    ("servicediscovery:GetOperation", "*"),
    ("servicediscovery:GetService", "*"),
    ("servicediscovery:ListNamespaces", "*"),
    ("servicediscovery:ListServices", "*"),
    ("servicediscovery:ListTagsForResource", "*"),
    ("servicediscovery:TagResource", "*"),
    ("servicediscovery:UpdateService", "*"),
    ("servicediscovery:UntagResource", "*"),
    ("sts:AssumeRole", "*"),
    ("sts:GetCallerIdentity", "*"),
    // The Resource Groups Tagging API defines no resource type: it answers
    // only for resources the caller may read tags of.
    ("tag:GetResources", "*"),
];

/// Names in the adapters' sources that look like actions but label a
/// check, not a call (an ownership refusal, a request that failed to build).
pub const NOT_CALLS: &[&str] = &["servicediscovery:Tag", "servicediscovery:CreateNamespace"];

const CLUSTER: &str = "arn:aws:ecs:{r}:{a}:cluster/{p}";
const SERVICE: &str = "arn:aws:ecs:{r}:{a}:service/{p}/*";
const ECS_ANY: &str = "arn:aws:ecs:{r}:{a}:cluster/{p} arn:aws:ecs:{r}:{a}:service/{p}/* arn:aws:ecs:{r}:{a}:task-definition/{p}-*:*";
const MESH: &str = "arn:aws:appmesh:{r}:{a}:mesh/{p}";
const MESH_CHILD: &str = "arn:aws:appmesh:{r}:{a}:mesh/{p}/*";
const MESH_ANY: &str = "arn:aws:appmesh:{r}:{a}:mesh/{p} arn:aws:appmesh:{r}:{a}:mesh/{p}/*";
const ALARM: &str = "arn:aws:cloudwatch:{r}:{a}:alarm:{p}-*";
const DASHBOARD: &str = "arn:aws:cloudwatch::{a}:dashboard/{p}-*";
const ALARM_OR_DASHBOARD: &str =
    "arn:aws:cloudwatch:{r}:{a}:alarm:{p}-* arn:aws:cloudwatch::{a}:dashboard/{p}-*";
const LOG_GROUP: &str = "arn:aws:logs:{r}:{a}:log-group:/matbakh/{p}/*";
const ROLE: &str = "arn:aws:iam::{a}:role/{p}-*";
// AWS Budgets names are account-wide: `matbakh-PLATFORM-REGION`.
const BUDGET: &str = "arn:aws:budgets::{a}:budget/matbakh-{p}-*";
// EC2 names a security group by its id only: scoped to the region's groups
// (the adapter itself touches only the groups its platform made).
const SECURITY_GROUP: &str = "arn:aws:ec2:{r}:{a}:security-group/*";
const SECURITY_GROUP_AND_VPC: &str =
    "arn:aws:ec2:{r}:{a}:security-group/* arn:aws:ec2:{r}:{a}:vpc/*";
const LOAD_BALANCER: &str = "arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/app/{p}/*";
const LISTENER: &str = "arn:aws:elasticloadbalancing:{r}:{a}:listener/app/{p}/*";
const LISTENER_RULE: &str = "arn:aws:elasticloadbalancing:{r}:{a}:listener-rule/app/{p}/*";
const TARGET_GROUP: &str = "arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{p}-*/*";
const ELB_ANY: &str = "arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/app/{p}/* arn:aws:elasticloadbalancing:{r}:{a}:listener/app/{p}/* arn:aws:elasticloadbalancing:{r}:{a}:listener-rule/app/{p}/* arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{p}-*/*";

/// The services a role the provider makes is passed to: ECS tasks (the
/// execution and task roles, in the task definition) and ECS itself (the
/// Service Connect TLS role, in the service).
const PASSED_TO: [&str; 2] = ["ecs-tasks.amazonaws.com", "ecs.amazonaws.com"];

/// The IAM action that authorizes an API call. They are the same name for
/// every service the provider calls but AWS Budgets, whose API calls are
/// authorized by `budgets:ViewBudget` and `budgets:ModifyBudget` (the
/// Service Authorization Reference, "Actions defined by AWS Budget
/// Service"); its tag calls keep their own names.
pub fn iam_action(call: &str) -> &str {
    match call {
        "budgets:DescribeBudget"
        | "budgets:DescribeNotificationsForBudget"
        | "budgets:DescribeSubscribersForNotification" => "budgets:ViewBudget",
        "budgets:CreateBudget"
        | "budgets:UpdateBudget"
        | "budgets:DeleteBudget"
        | "budgets:CreateNotification"
        | "budgets:DeleteNotification" => "budgets:ModifyBudget",
        other => other,
    }
}

/// The IAM policy a CI principal needs to plan, apply, import and destroy
/// `platforms` in `regions` (account `account`, `*` when not known): one
/// statement per resource scope, no `*` action, `iam:PassRole` only to ECS
/// and its tasks.
pub fn deployer_policy(platforms: &[String], regions: &[String], account: &str) -> Value {
    let mut by_scope: std::collections::BTreeMap<Vec<String>, Vec<&str>> = Default::default();
    for (action, pattern) in CALLED {
        let mut resources: Vec<String> = Vec::new();
        for p in platforms {
            for r in regions {
                for one in pattern.split(' ') {
                    resources.push(
                        one.replace("{r}", r)
                            .replace("{a}", account)
                            .replace("{p}", p),
                    );
                }
            }
        }
        resources.sort();
        resources.dedup();
        if *pattern == "*" {
            resources = vec!["*".to_string()];
        }
        let granted = by_scope.entry(resources).or_default();
        if !granted.contains(&iam_action(action)) {
            granted.push(iam_action(action));
        }
    }
    let mut statements: Vec<Value> = by_scope
        .into_iter()
        .enumerate()
        .map(|(i, (resources, actions))| {
            json!({"Sid": format!("Matbakh{i}"), "Effect": "Allow", "Action": actions, "Resource": resources})
        })
        .collect();
    let roles: Vec<String> = platforms
        .iter()
        .map(|p| ROLE.replace("{a}", account).replace("{p}", p))
        .collect();
    statements.push(json!({
        "Sid": "MatbakhPassRole",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": roles,
        "Condition": {"StringEquals": {"iam:PassedToService": PASSED_TO}},
    }));
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    const PREFIXES: [&str; 12] = [
        "budgets:",
        "ec2:",
        "elasticloadbalancing:",
        "ecs:",
        "appmesh:",
        "servicediscovery:",
        "cloudwatch:",
        "logs:",
        "application-autoscaling:",
        "iam:",
        "sts:",
        "tag:",
    ];

    /// Every `"service:Action"` literal in the adapters' sources.
    fn called_in_sources() -> BTreeSet<String> {
        fn walk(dir: &Path, out: &mut BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("actions.rs")
                    // Policy documents of the roles the provider makes,
                    // not calls.
                    && !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("roles"))
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                        for piece in line.split('"').skip(1).step_by(2) {
                            let name = piece.split_whitespace().next().unwrap_or("");
                            if PREFIXES.iter().any(|p| name.starts_with(p))
                                && name
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-')
                            {
                                out.insert(name.to_string());
                            }
                        }
                    }
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
        out
    }

    #[test]
    fn the_table_holds_every_action_an_adapter_calls_and_no_other() {
        let table: BTreeSet<String> = CALLED.iter().map(|(a, _)| a.to_string()).collect();
        let mut sources = called_in_sources();
        for label in NOT_CALLS {
            sources.remove(*label);
        }
        // Calls the SDK makes under its own name: the credentials check and
        // the provider's `assume_role`.
        sources.insert("sts:GetCallerIdentity".into());
        sources.insert("sts:AssumeRole".into());
        let missing: Vec<_> = sources.difference(&table).collect();
        assert!(
            missing.is_empty(),
            "called but not in the deployer policy: {missing:?}"
        );
        let stale: Vec<_> = table.difference(&sources).collect();
        assert!(
            stale.is_empty(),
            "in the table but called nowhere: {stale:?}"
        );
    }

    #[test]
    fn the_policy_grants_every_called_action_scoped_and_no_star_action() {
        let policy = deployer_policy(
            &["matbakh".into()],
            &["eu-central-1".into()],
            "123456789012",
        );
        let mut granted = BTreeSet::new();
        for st in policy["Statement"].as_array().unwrap() {
            let actions: Vec<&str> = match &st["Action"] {
                Value::String(a) => vec![a.as_str()],
                list => list
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .collect(),
            };
            for a in actions {
                assert!(!a.contains('*'), "{a}");
                granted.insert(a.to_string());
            }
            if st["Action"] == "iam:PassRole" {
                assert_eq!(
                    st["Condition"]["StringEquals"]["iam:PassedToService"],
                    json!(["ecs-tasks.amazonaws.com", "ecs.amazonaws.com"])
                );
            }
        }
        for (action, _) in CALLED {
            assert!(granted.contains(iam_action(action)), "{action}");
        }
        assert!(granted.contains("budgets:ModifyBudget"));
        assert!(!granted.contains("budgets:CreateBudget"));
        let text = policy.to_string();
        assert!(
            text.contains("arn:aws:iam::123456789012:role/matbakh-*"),
            "{text}"
        );
        assert!(
            text.contains("arn:aws:ecs:eu-central-1:123456789012:service/matbakh/*"),
            "{text}"
        );
    }
}
