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
    // Application Auto Scaling authorizes these on the scalable target
    // (`scalable-target/ID`, an id AWS draws): scoped to the region's
    // targets and, by `CONDITIONS`, to ECS targets this platform's
    // microservices own (their `matbakh:owner` tag).
    (
        "application-autoscaling:DeleteScalingPolicy",
        SCALABLE_TARGET,
    ),
    (
        "application-autoscaling:DeregisterScalableTarget",
        SCALABLE_TARGET,
    ),
    // AWS defines no resource type for the two Describe calls: `*`.
    ("application-autoscaling:DescribeScalableTargets", "*"),
    ("application-autoscaling:DescribeScalingPolicies", "*"),
    (
        "application-autoscaling:ListTagsForResource",
        SCALABLE_TARGET,
    ),
    ("application-autoscaling:PutScalingPolicy", SCALABLE_TARGET),
    (
        "application-autoscaling:RegisterScalableTarget",
        SCALABLE_TARGET,
    ),
    ("application-autoscaling:TagResource", SCALABLE_TARGET),
    ("application-autoscaling:UntagResource", SCALABLE_TARGET),
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
    // A refresh's one listing of the dashboards' LastModified; AWS defines
    // no resource type for it.
    ("cloudwatch:ListDashboards", "*"),
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
    // A refresh lists the account's roles at once (`iam_role_listing`).
    // AWS defines no resource type for it (the Service Authorization
    // Reference for IAM): `*` is the only resource that allows it.
    ("iam:GetAccountAuthorizationDetails", "*"),
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
    // Cloud Map names namespaces and services by ids it draws
    // (`namespace/ns-…`, `service/srv-…`): scoped to the region's and, by
    // `CONDITIONS`, to what carries this platform's `matbakh:owner` tag
    // (or ECS's own tag on the services Service Connect makes).
    // The creates of a namespace take no resource (AWS defines none): `*`,
    // allowed only with the platform's owner tag in the request.
    ("servicediscovery:CreateHttpNamespace", "*"),
    ("servicediscovery:CreatePrivateDnsNamespace", "*"),
    ("servicediscovery:CreateService", NAMESPACE_AND_SERVICE),
    ("servicediscovery:DeleteNamespace", NAMESPACE),
    ("servicediscovery:DeleteService", CLOUD_MAP_SERVICE),
    ("servicediscovery:GetNamespace", NAMESPACE),
    ("servicediscovery:GetOperation", NAMESPACE_AND_SERVICE),
    ("servicediscovery:GetService", CLOUD_MAP_SERVICE),
    // No resource type for the List calls and the tag calls: `*`.
    ("servicediscovery:ListNamespaces", "*"),
    ("servicediscovery:ListServices", "*"),
    ("servicediscovery:ListTagsForResource", "*"),
    ("servicediscovery:TagResource", "*"),
    ("servicediscovery:UpdateService", CLOUD_MAP_SERVICE),
    ("servicediscovery:UntagResource", "*"),
    ("sts:AssumeRole", "*"),
    ("sts:GetCallerIdentity", "*"),
    // The Resource Groups Tagging API defines no resource type: it answers
    // only for resources the caller may read tags of.
    ("tag:GetResources", "*"),
];

/// What a statement asks of the request besides its action and resource:
/// the tag conditions AWS evaluates for services that name their objects
/// by ids they draw themselves (Cloud Map, Application Auto Scaling, EC2
/// security groups), so
/// a resource pattern alone cannot tell this platform's objects from
/// others'. Keys from the Service Authorization Reference of each service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum When {
    /// The object carries the platform's own `matbakh:owner` (`PLATFORM`).
    PlatformOwns,
    /// The create request tags the new object `matbakh:owner = PLATFORM`.
    PlatformCreates,
    /// The object is a microservice's or canary's (`matbakh:owner =
    /// PLATFORM/NAME`).
    ServiceOwns,
    /// The create request tags the new object `PLATFORM/NAME`.
    ServiceCreates,
    /// A Cloud Map service ECS made for Service Connect
    /// (`AmazonECSManaged = true`; it carries no owner tag of ours).
    EcsMade,
    /// An ECS service's desired count scalable target a microservice owns.
    EcsScalingOwned,
    /// As `EcsScalingOwned`, for the tag calls, which take neither the
    /// namespace nor the dimension (AWS evaluates those keys only on the
    /// scaling calls).
    ServiceOwnsTarget,
    /// RegisterScalableTarget: an ECS desired count whose request tags it
    /// `PLATFORM/NAME` (a new target has no tags yet to read).
    EcsScalingCreated,
    /// An EC2 security group of the platform's or one of its
    /// microservices' (`matbakh:owner` = `PLATFORM` or `PLATFORM/NAME`).
    GroupOwned,
    /// CreateSecurityGroup: the new group (not its VPC) is tagged with the
    /// platform's or a microservice's owner in the request.
    GroupCreated,
    /// CreateTags as part of CreateSecurityGroup (its `TagSpecifications`:
    /// EC2 authorizes them as `ec2:CreateTags` with `ec2:CreateAction`),
    /// with an owner tag of the platform's.
    GroupTaggedAtCreate,
}

/// The condition of each `(action, When)`: an action listed here is
/// granted only under these conditions (once per entry, in separate
/// statements, as IAM has no OR inside one); every other action of
/// [`CALLED`] on its resources alone.
pub const CONDITIONS: &[(&str, When)] = &[
    (
        "application-autoscaling:DeleteScalingPolicy",
        When::EcsScalingOwned,
    ),
    (
        "application-autoscaling:DeregisterScalableTarget",
        When::EcsScalingOwned,
    ),
    (
        "application-autoscaling:ListTagsForResource",
        When::ServiceOwnsTarget,
    ),
    (
        "application-autoscaling:PutScalingPolicy",
        When::EcsScalingOwned,
    ),
    (
        "application-autoscaling:RegisterScalableTarget",
        When::EcsScalingCreated,
    ),
    (
        "application-autoscaling:TagResource",
        When::ServiceOwnsTarget,
    ),
    // RegisterScalableTarget's tags are also authorized as TagResource on
    // the new target, which has no tags yet: by the request's.
    ("application-autoscaling:TagResource", When::ServiceCreates),
    (
        "application-autoscaling:UntagResource",
        When::ServiceOwnsTarget,
    ),
    (
        "servicediscovery:CreateHttpNamespace",
        When::PlatformCreates,
    ),
    (
        "servicediscovery:CreatePrivateDnsNamespace",
        When::PlatformCreates,
    ),
    // App Mesh's discovery services, in the platform's namespace.
    ("servicediscovery:CreateService", When::ServiceCreates),
    ("servicediscovery:DeleteNamespace", When::PlatformOwns),
    ("servicediscovery:GetNamespace", When::PlatformOwns),
    ("servicediscovery:DeleteService", When::ServiceOwns),
    ("servicediscovery:DeleteService", When::EcsMade),
    ("servicediscovery:GetService", When::ServiceOwns),
    ("servicediscovery:GetService", When::EcsMade),
    ("servicediscovery:UpdateService", When::ServiceOwns),
    // The ingress security groups (EC2 names a group by its id only).
    ("ec2:AuthorizeSecurityGroupIngress", When::GroupOwned),
    ("ec2:CreateSecurityGroup", When::GroupCreated),
    ("ec2:CreateTags", When::GroupOwned),
    ("ec2:CreateTags", When::GroupTaggedAtCreate),
    ("ec2:DeleteSecurityGroup", When::GroupOwned),
    ("ec2:RevokeSecurityGroupIngress", When::GroupOwned),
    // GetOperation keeps no condition: the operation of a namespace's
    // delete is polled after the namespace (and its tags) are gone.
];

const RESOURCE_OWNER: &str = "aws:ResourceTag/matbakh:owner";
const REQUEST_OWNER: &str = "aws:RequestTag/matbakh:owner";

impl When {
    /// The IAM `Condition` block for these platforms.
    pub fn condition(self, platforms: &[String]) -> Value {
        let platform_owners: Vec<&str> = platforms.iter().map(String::as_str).collect();
        let service_owners: Vec<String> = platforms.iter().map(|p| format!("{p}/*")).collect();
        let any_owner: Vec<String> = platforms
            .iter()
            .flat_map(|p| [p.clone(), format!("{p}/*")])
            .collect();
        let ecs_scaling = json!({
            "application-autoscaling:service-namespace": "ecs",
            "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
        });
        match self {
            When::PlatformOwns => json!({"StringEquals": {RESOURCE_OWNER: platform_owners}}),
            When::PlatformCreates => json!({"StringEquals": {REQUEST_OWNER: platform_owners}}),
            When::ServiceOwns | When::ServiceOwnsTarget => {
                json!({"StringLike": {RESOURCE_OWNER: service_owners}})
            }
            When::ServiceCreates => json!({"StringLike": {REQUEST_OWNER: service_owners}}),
            When::EcsMade => json!({"StringEquals": {"aws:ResourceTag/AmazonECSManaged": "true"}}),
            When::EcsScalingOwned => json!({
                "StringEquals": ecs_scaling,
                "StringLike": {RESOURCE_OWNER: service_owners},
            }),
            When::EcsScalingCreated => json!({
                "StringEquals": ecs_scaling,
                "StringLike": {REQUEST_OWNER: service_owners},
            }),
            When::GroupOwned => json!({"StringLike": {RESOURCE_OWNER: any_owner}}),
            When::GroupCreated => json!({"StringLike": {REQUEST_OWNER: any_owner}}),
            When::GroupTaggedAtCreate => json!({
                "StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
                "StringLike": {REQUEST_OWNER: any_owner},
            }),
        }
    }

    /// Whether the condition holds for this resource pattern of the
    /// action's: CreateSecurityGroup's tag condition is the new group's,
    /// not its VPC's (the VPC is granted without it, in its own statement).
    fn applies_to(self, pattern: &str) -> bool {
        match self {
            When::GroupCreated => pattern.contains(":security-group/"),
            _ => true,
        }
    }
}

/// The conditions `action` is granted under; `[None]` for unconditioned.
fn conditions_of(action: &str) -> Vec<Option<When>> {
    let listed: Vec<Option<When>> = CONDITIONS
        .iter()
        .filter(|(a, _)| *a == action)
        .map(|(_, w)| Some(*w))
        .collect();
    if listed.is_empty() {
        vec![None]
    } else {
        listed
    }
}

/// Names in the adapters' sources that look like actions but label a
/// check, not a call (an ownership refusal, a request that failed to build).
pub const NOT_CALLS: &[&str] = &[
    "servicediscovery:Tag",
    "servicediscovery:CreateNamespace",
    // Resource types of the tagging API's GetResources (`ResourceTypeFilters`).
    "application-autoscaling:scalable-target",
    "logs:log-group",
];

const NAMESPACE: &str = "arn:aws:servicediscovery:{r}:{a}:namespace/*";
const CLOUD_MAP_SERVICE: &str = "arn:aws:servicediscovery:{r}:{a}:service/*";
const NAMESPACE_AND_SERVICE: &str =
    "arn:aws:servicediscovery:{r}:{a}:namespace/* arn:aws:servicediscovery:{r}:{a}:service/*";
const SCALABLE_TARGET: &str = "arn:aws:application-autoscaling:{r}:{a}:scalable-target/*";
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
// and, by `CONDITIONS`, to those the platform's owner tag marks.
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
    type Scope = (Vec<String>, Option<When>);
    let mut by_scope: std::collections::BTreeMap<Scope, Vec<&str>> = Default::default();
    let expand = |pieces: &[&str]| -> Vec<String> {
        if pieces == ["*"] {
            return vec!["*".to_string()];
        }
        let mut resources: Vec<String> = Vec::new();
        for p in platforms {
            for r in regions {
                for one in pieces {
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
        resources
    };
    for (action, pattern) in CALLED {
        let pieces: Vec<&str> = pattern.split(' ').collect();
        for when in conditions_of(action) {
            let (scoped, plain): (Vec<&str>, Vec<&str>) = pieces
                .iter()
                .partition(|one| when.is_none_or(|w| w.applies_to(one)));
            for (part, condition) in [(scoped, when), (plain, None)] {
                if part.is_empty() {
                    continue;
                }
                let granted = by_scope.entry((expand(&part), condition)).or_default();
                if !granted.contains(&iam_action(action)) {
                    granted.push(iam_action(action));
                }
            }
        }
    }
    let mut statements: Vec<Value> = by_scope
        .into_iter()
        // No `Sid`s: IAM counts every character of a role's inline policies
        // against 10,240, and the numbered ones said nothing.
        .map(|((resources, when), actions)| {
            let mut st = json!({"Effect": "Allow", "Action": actions, "Resource": resources});
            if let Some(when) = when {
                st["Condition"] = when.condition(platforms);
            }
            st
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

    /// The calls of Cloud Map and Application Auto Scaling for which the
    /// Service Authorization Reference lists no resource type (so `*` is
    /// the only resource a statement can name for them).
    const NO_RESOURCE_TYPE: [&str; 9] = [
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "servicediscovery:CreateHttpNamespace",
        "servicediscovery:CreatePrivateDnsNamespace",
        "servicediscovery:ListNamespaces",
        "servicediscovery:ListServices",
        "servicediscovery:ListTagsForResource",
        "servicediscovery:TagResource",
        "servicediscovery:UntagResource",
    ];

    #[test]
    fn cloud_map_and_autoscaling_take_star_only_where_aws_defines_no_resource_type() {
        for (action, pattern) in CALLED.iter().filter(|(a, _)| {
            a.starts_with("servicediscovery:") || a.starts_with("application-autoscaling:")
        }) {
            assert_eq!(
                *pattern == "*",
                NO_RESOURCE_TYPE.contains(action),
                "{action} on {pattern}"
            );
        }
    }

    #[test]
    fn every_conditioned_action_is_called() {
        for (action, _) in CONDITIONS {
            assert!(CALLED.iter().any(|(a, _)| a == action), "{action}");
        }
    }

    /// The statements granting `action`, as (resources, condition).
    fn grants_of(policy: &Value, action: &str) -> Vec<(Value, Value)> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|st| match &st["Action"] {
                Value::String(a) => a == action,
                list => list.as_array().unwrap().iter().any(|a| a == action),
            })
            .map(|st| (st["Resource"].clone(), st["Condition"].clone()))
            .collect()
    }

    #[test]
    fn cloud_map_and_autoscaling_are_scoped_by_owner_tag() {
        let policy = deployer_policy(
            &["matbakh".into()],
            &["eu-central-1".into()],
            "123456789012",
        );
        assert_eq!(
            grants_of(&policy, "servicediscovery:DeleteNamespace"),
            vec![(
                json!(["arn:aws:servicediscovery:eu-central-1:123456789012:namespace/*"]),
                json!({"StringEquals": {"aws:ResourceTag/matbakh:owner": ["matbakh"]}})
            )]
        );
        assert_eq!(
            grants_of(&policy, "servicediscovery:CreateHttpNamespace"),
            vec![(
                json!(["*"]),
                json!({"StringEquals": {"aws:RequestTag/matbakh:owner": ["matbakh"]}})
            )]
        );
        // Owned by a microservice of the platform, or made by ECS.
        let deletes = grants_of(&policy, "servicediscovery:DeleteService");
        assert_eq!(deletes.len(), 2, "{deletes:?}");
        assert!(deletes.contains(&(
            json!(["arn:aws:servicediscovery:eu-central-1:123456789012:service/*"]),
            json!({"StringLike": {"aws:ResourceTag/matbakh:owner": ["matbakh/*"]}})
        )));
        assert!(deletes.contains(&(
            json!(["arn:aws:servicediscovery:eu-central-1:123456789012:service/*"]),
            json!({"StringEquals": {"aws:ResourceTag/AmazonECSManaged": "true"}})
        )));
        assert_eq!(
            grants_of(&policy, "application-autoscaling:PutScalingPolicy"),
            vec![(
                json!([
                    "arn:aws:application-autoscaling:eu-central-1:123456789012:scalable-target/*"
                ]),
                json!({
                    "StringEquals": {
                        "application-autoscaling:service-namespace": "ecs",
                        "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount"
                    },
                    "StringLike": {"aws:ResourceTag/matbakh:owner": ["matbakh/*"]}
                })
            )]
        );
        let register = grants_of(&policy, "application-autoscaling:RegisterScalableTarget");
        assert_eq!(
            register[0].1["StringLike"],
            json!({"aws:RequestTag/matbakh:owner": ["matbakh/*"]})
        );
    }

    #[test]
    fn security_groups_are_scoped_by_owner_tag_and_their_vpc_is_not() {
        let policy = deployer_policy(
            &["matbakh".into()],
            &["eu-central-1".into()],
            "123456789012",
        );
        let owners = json!(["matbakh", "matbakh/*"]);
        let creates = grants_of(&policy, "ec2:CreateSecurityGroup");
        assert_eq!(creates.len(), 2, "{creates:?}");
        assert!(creates.contains(&(
            json!(["arn:aws:ec2:eu-central-1:123456789012:security-group/*"]),
            json!({"StringLike": {"aws:RequestTag/matbakh:owner": owners}})
        )));
        assert!(creates.contains(&(
            json!(["arn:aws:ec2:eu-central-1:123456789012:vpc/*"]),
            Value::Null
        )));
        assert_eq!(
            grants_of(&policy, "ec2:DeleteSecurityGroup"),
            vec![(
                json!(["arn:aws:ec2:eu-central-1:123456789012:security-group/*"]),
                json!({"StringLike": {"aws:ResourceTag/matbakh:owner": owners}})
            )]
        );
        let tags = grants_of(&policy, "ec2:CreateTags");
        assert!(tags
            .iter()
            .any(|(_, c)| c["StringEquals"]["ec2:CreateAction"] == "CreateSecurityGroup"));
    }

    /// IAM's limit on a role's inline policies together, in characters
    /// without whitespace (IAM User Guide, "IAM and AWS STS quotas").
    const INLINE_ROLE_POLICY_MAX: usize = 10_240;

    #[test]
    fn the_policy_of_one_platform_in_one_region_fits_a_roles_inline_policy() {
        let policy = deployer_policy(
            &["matbakh-production".into()],
            &["eu-central-1".into()],
            "123456789012",
        );
        let size = policy.to_string().len();
        assert!(size <= INLINE_ROLE_POLICY_MAX, "{size} characters");
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
