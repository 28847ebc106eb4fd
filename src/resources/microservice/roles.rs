//! The IAM roles a microservice gets when its role arguments are omitted:
//! least privilege, derived from the configuration. Pure: no I/O.
//!
//! - the execution role (ECS pulls the images, writes the logs, reads the
//!   secrets with it): made when `execution_role_arn` is omitted;
//! - the task role (the application and its sidecars): made when
//!   `task_role_arn` is omitted and something needs one: tracing,
//!   `task_policy_json`, `task_policy_arns`;
//! - the Service Connect TLS role (ECS issues the service's certificates
//!   from the Private CA with it): made on service_connect when `tls` is set
//!   without `tls.role_arn`, allowed on that CA only.
//!
//! A given ARN is used as it is and nothing is made. The roles' names carry
//! the platform and the service, since IAM names are unique per account;
//! their ARNs are written from the platform's account (read from its
//! namespace's ARN), so the task definition names a made role exactly as a
//! given one, and a canary's candidate (built from the same settings) names
//! the same role.

use serde_json::{json, Value};

use super::config::Settings;
use super::names;
use super::platform::PlatformContext;
use crate::service_mesh::ServiceMesh;
use crate::spec::iam::{role_name, RoleSpec};
use crate::spec::Tags;

/// Component keys of the made roles.
pub const EXECUTION_ROLE: &str = "execution_role";
pub const TASK_ROLE: &str = "task_role";
pub const TLS_ROLE: &str = "tls_role";

const POLICY_VERSION: &str = "2012-10-17";
/// The principal of the roles ECS tasks assume.
const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";
/// The ECR pull actions that support resource-level permissions
/// (Amazon ECR's service authorization reference: resource type
/// `repository`).
const ECR_PULL: [&str; 3] = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
];
/// What the ADOT collector calls for traces. X-Ray defines no resource
/// types for these (service authorization reference for X-Ray), so `*` is
/// the only resource AWS accepts.
const XRAY: [&str; 4] = [
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
];

/// `PLATFORM-NAME-REGION-exec`, shortened with a hash to IAM's 64
/// characters. IAM is global to the account while a platform is regional:
/// the same platform and service in two regions (one provider alias each)
/// are two roles, so the name carries the region, as a dashboard's does.
pub fn execution_role_name(platform: &str, region: &str, name: &str) -> String {
    role_name(&format!("{}-{name}-{region}-exec", iam_safe(platform)))
}

/// `PLATFORM-NAME-REGION-task`, shortened likewise.
pub fn task_role_name(platform: &str, region: &str, name: &str) -> String {
    role_name(&format!("{}-{name}-{region}-task", iam_safe(platform)))
}

/// `PLATFORM-NAME-REGION-tls`, shortened likewise.
pub fn tls_role_name(platform: &str, region: &str, name: &str) -> String {
    role_name(&format!("{}-{name}-{region}-tls", iam_safe(platform)))
}

/// The role ECS assumes for Service Connect TLS (the principal of
/// infrastructure roles, not of tasks).
const ECS: &str = "ecs.amazonaws.com";

/// What ECS does with the Private CA for Service Connect TLS (AWS's managed
/// policy `AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity`):
/// each takes the CA as its resource.
const PRIVATE_CA: [&str; 4] = [
    "acm-pca:DescribeCertificateAuthority",
    "acm-pca:GetCertificate",
    "acm-pca:GetCertificateAuthorityCertificate",
    "acm-pca:IssueCertificate",
];
/// Where ECS keeps the issued certificates: Secrets Manager secrets it
/// names `ecs-sc!...` (the same managed policy).
const CERTIFICATE_SECRETS: [&str; 9] = [
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:RotateSecret",
    "secretsmanager:TagResource",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
];

/// Whether the configuration needs the Service Connect TLS role made.
pub fn needs_tls_role(settings: &Settings, platform: &PlatformContext) -> bool {
    platform.service_mesh == ServiceMesh::ServiceConnect
        && settings.tls.as_ref().is_some_and(|t| t.role_arn.is_none())
}

/// The role ARN the service's Service Connect TLS names: the given one, or
/// the made one's.
pub fn tls_role_arn(settings: &Settings, platform: &PlatformContext) -> String {
    settings
        .tls
        .as_ref()
        .and_then(|t| t.role_arn.clone())
        .unwrap_or_else(|| {
            role_arn(
                platform,
                &tls_role_name(&platform.platform_id, &platform.region, &settings.name),
            )
        })
}

/// The Service Connect TLS role to make, `None` when `tls.role_arn` is
/// given, `tls` is absent or the backend is app_mesh.
pub fn tls_role(settings: &Settings, platform: &PlatformContext, tags: &Tags) -> Option<RoleSpec> {
    if !needs_tls_role(settings, platform) {
        return None;
    }
    let cas = sorted(&settings.tls.as_ref()?.certificate_authority_arns);
    let secrets = format!(
        "arn:{}:secretsmanager:{}:{}:secret:ecs-sc!*",
        partition(platform),
        platform.region,
        account(platform)
    );
    let statements = vec![
        statement("PrivateCa", &PRIVATE_CA, one_or_many(cas)),
        statement("CertificateSecrets", &CERTIFICATE_SECRETS, json!(secrets)),
    ];
    Some(RoleSpec {
        name: tls_role_name(&platform.platform_id, &platform.region, &settings.name),
        description: format!(
            "ECS issues the Service Connect TLS certificates of {} (made by terraform-provider-matbakh)",
            names::resource_id(&platform.platform_id, &settings.name)
        ),
        trust_policy: json!({
            "Version": POLICY_VERSION,
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": ECS},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account(platform)}},
            }]
        }),
        policy: Some(document(statements)),
        managed_policy_arns: Vec::new(),
        tags: tags.clone(),
    })
}

/// The ARN of the role named `name` in the platform's account.
pub fn role_arn(platform: &PlatformContext, name: &str) -> String {
    format!(
        "arn:{}:iam::{}:role/{name}",
        partition(platform),
        account(platform)
    )
}

/// The execution role's ARN the task definition names: the given one, or
/// the made one's.
pub fn execution_role_arn(settings: &Settings, platform: &PlatformContext) -> String {
    settings.execution_role_arn.clone().unwrap_or_else(|| {
        role_arn(
            platform,
            &execution_role_name(&platform.platform_id, &platform.region, &settings.name),
        )
    })
}

/// The task role's ARN the task definition names: the given one, the made
/// one's when one is needed, else none.
pub fn task_role_arn(settings: &Settings, platform: &PlatformContext) -> Option<String> {
    if settings.task_role_arn.is_some() {
        return settings.task_role_arn.clone();
    }
    needs_task_role(settings).then(|| {
        role_arn(
            platform,
            &task_role_name(&platform.platform_id, &platform.region, &settings.name),
        )
    })
}

/// Whether anything in the configuration needs a task role.
pub fn needs_task_role(settings: &Settings) -> bool {
    settings.tracing.enabled
        || settings.task_policy_json.is_some()
        || !settings.task_policy_arns.is_empty()
}

/// The execution role to make, `None` when `execution_role_arn` is given.
/// `images`: every container image of the task definition (the app's and
/// the sidecars'), for the ECR repositories it may pull from.
pub fn execution_role<'a>(
    settings: &Settings,
    platform: &PlatformContext,
    images: impl IntoIterator<Item = &'a str>,
    tags: &Tags,
) -> Option<RoleSpec> {
    if settings.execution_role_arn.is_some() {
        return None;
    }
    let mut statements = Vec::new();
    let mut repositories: Vec<String> = images.into_iter().filter_map(ecr_repository_arn).collect();
    repositories.sort();
    repositories.dedup();
    if !repositories.is_empty() {
        // GetAuthorizationToken has no resource type: `*` is the only form.
        statements.push(statement(
            "EcrLogin",
            &["ecr:GetAuthorizationToken"],
            json!("*"),
        ));
        statements.push(statement("EcrPull", &ECR_PULL, one_or_many(repositories)));
    }
    let log_group = names::log_group_name(&platform.platform_id, &settings.name);
    statements.push(statement(
        "Logs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        json!(format!(
            "arn:{}:logs:{}:{}:log-group:{log_group}:*",
            partition(platform),
            platform.region,
            account(platform)
        )),
    ));
    let (mut secrets, mut parameters) = (Vec::new(), Vec::new());
    for arn in settings.secrets.values() {
        match arn.split(':').nth(2) {
            Some("secretsmanager") => secrets.push(secret_arn(arn)),
            Some("ssm") => parameters.push(arn.clone()),
            _ => {}
        }
    }
    for list in [&mut secrets, &mut parameters] {
        list.sort();
        list.dedup();
    }
    if !secrets.is_empty() {
        statements.push(statement(
            "Secrets",
            &["secretsmanager:GetSecretValue"],
            one_or_many(secrets),
        ));
    }
    if !parameters.is_empty() {
        statements.push(statement(
            "Parameters",
            &["ssm:GetParameters"],
            one_or_many(parameters),
        ));
    }
    if !settings.secrets_kms_key_arns.is_empty() {
        statements.push(statement(
            "SecretsKeys",
            &["kms:Decrypt"],
            one_or_many(sorted(&settings.secrets_kms_key_arns)),
        ));
    }
    Some(RoleSpec {
        name: execution_role_name(&platform.platform_id, &platform.region, &settings.name),
        description: format!(
            "ECS task execution role of {} (made by terraform-provider-matbakh)",
            names::resource_id(&platform.platform_id, &settings.name)
        ),
        trust_policy: trust(platform, None),
        policy: Some(document(statements)),
        managed_policy_arns: Vec::new(),
        tags: tags.clone(),
    })
}

/// The task role to make, `None` when `task_role_arn` is given or nothing
/// needs one. `task_policy_json` is validated at plan; here a document that
/// does not parse contributes no statement.
pub fn task_role(settings: &Settings, platform: &PlatformContext, tags: &Tags) -> Option<RoleSpec> {
    if settings.task_role_arn.is_some() || !needs_task_role(settings) {
        return None;
    }
    let mut statements = Vec::new();
    if settings.tracing.enabled {
        statements.push(statement("Tracing", &XRAY, json!("*")));
        if platform.service_mesh == ServiceMesh::AppMesh {
            // PutMetricData has no resource type; the namespace condition
            // keeps the collector to its own metrics.
            let mut metrics = statement("Metrics", &["cloudwatch:PutMetricData"], json!("*"));
            metrics["Condition"] = json!({
                "StringEquals": {"cloudwatch:namespace": super::backend::app_mesh::METRICS_NAMESPACE}
            });
            statements.push(metrics);
        }
    }
    if let Some(own) = settings
        .task_policy_json
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
    {
        match own.get("Statement") {
            Some(Value::Array(list)) => statements.extend(list.iter().cloned()),
            Some(one @ Value::Object(_)) => statements.push(one.clone()),
            _ => {}
        }
    }
    Some(RoleSpec {
        name: task_role_name(&platform.platform_id, &platform.region, &settings.name),
        description: format!(
            "ECS task role of {} (made by terraform-provider-matbakh)",
            names::resource_id(&platform.platform_id, &settings.name)
        ),
        trust_policy: trust(platform, Some(&platform.cluster_name)),
        policy: (!statements.is_empty()).then(|| document(statements)),
        managed_policy_arns: sorted(&settings.task_policy_arns),
        tags: tags.clone(),
    })
}

/// The arguments that live only in the made roles' policies, as read back
/// from them (the inverse of [`execution_role`] and [`task_role`]).
#[derive(Debug, Default, PartialEq)]
pub struct RoleArguments {
    pub secrets_kms_key_arns: Vec<String>,
    /// The task role's statements but the provider's own (`Tracing`,
    /// `Metrics`), written as Terraform's `jsonencode` writes a document
    /// (compact, keys sorted), so a configuration using it plans clean.
    pub task_policy_json: Option<String>,
    pub task_policy_arns: Vec<String>,
}

pub fn role_arguments(execution: Option<&RoleSpec>, task: Option<&RoleSpec>) -> RoleArguments {
    let statements = |role: Option<&RoleSpec>| -> Vec<Value> {
        match role
            .and_then(|r| r.policy.as_ref())
            .map(|p| &p["Statement"])
        {
            Some(Value::Array(list)) => list.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => Vec::new(),
        }
    };
    let resources = |st: &Value| -> Vec<String> {
        match &st["Resource"] {
            Value::String(one) => vec![one.clone()],
            Value::Array(list) => list
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut arguments = RoleArguments::default();
    for st in statements(execution) {
        if st["Sid"] == "SecretsKeys" {
            arguments.secrets_kms_key_arns = sorted(&resources(&st));
        }
    }
    let own: Vec<Value> = statements(task)
        .into_iter()
        .filter(|st| st["Sid"] != "Tracing" && st["Sid"] != "Metrics")
        .collect();
    if !own.is_empty() {
        // serde_json's maps are sorted, as `jsonencode` sorts an object's keys.
        arguments.task_policy_json = Some(document(own).to_string());
    }
    if let Some(task) = task {
        arguments.task_policy_arns = sorted(&task.managed_policy_arns);
    }
    arguments
}

/// Trusted by ECS tasks of the platform's account only (the confused
/// deputy guard AWS documents for task roles: `aws:SourceAccount`, and
/// for the task role `aws:SourceArn` on the cluster's tasks).
fn trust(platform: &PlatformContext, cluster: Option<&str>) -> Value {
    let mut condition = json!({"StringEquals": {"aws:SourceAccount": account(platform)}});
    if let Some(cluster) = cluster {
        condition["ArnLike"] = json!({
            "aws:SourceArn": format!(
                "arn:{}:ecs:{}:{}:task/{cluster}/*",
                partition(platform),
                platform.region,
                account(platform)
            )
        });
    }
    json!({
        "Version": POLICY_VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ECS_TASKS},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }]
    })
}

fn document(statements: Vec<Value>) -> Value {
    json!({"Version": POLICY_VERSION, "Statement": statements})
}

fn statement(sid: &str, actions: &[&str], resource: Value) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": if actions.len() == 1 { json!(actions[0]) } else { json!(actions) },
        "Resource": resource,
    })
}

fn one_or_many(mut list: Vec<String>) -> Value {
    if list.len() == 1 {
        json!(list.remove(0))
    } else {
        json!(list)
    }
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut list = list.to_vec();
    list.sort();
    list.dedup();
    list
}

/// The account of the platform: the fifth field of its namespace's ARN.
fn account(platform: &PlatformContext) -> &str {
    platform.namespace_arn.split(':').nth(4).unwrap_or("")
}

fn partition(platform: &PlatformContext) -> &str {
    platform.namespace_arn.split(':').nth(1).unwrap_or("aws")
}

/// A Secrets Manager `valueFrom` may name a JSON key, version stage or
/// version after the secret's ARN (`…:secret:NAME-AbCdEf:KEY:STAGE:ID`);
/// the policy names the secret itself: its first seven fields.
fn secret_arn(value_from: &str) -> String {
    value_from.split(':').take(7).collect::<Vec<_>>().join(":")
}

/// The ARN of the private ECR repository an image is pulled from
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG|@DIGEST]`); `None` for
/// any other registry (Docker Hub, `public.ecr.aws`), which the execution
/// role needs no permission for.
pub fn ecr_repository_arn(image: &str) -> Option<String> {
    let (host, path) = image.split_once('/')?;
    let labels: Vec<&str> = host.split('.').collect();
    let [account, "dkr", "ecr", region, "amazonaws", "com", rest @ ..] = labels.as_slice() else {
        return None;
    };
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let partition = if rest == ["cn"] { "aws-cn" } else { "aws" };
    let repository = match path.split_once('@') {
        Some((repo, _digest)) => repo,
        None => match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => repo,
            _ => path,
        },
    };
    Some(format!(
        "arn:{partition}:ecr:{region}:{account}:repository/{repository}"
    ))
}

/// Role names take letters, digits and `+=,.@_-`.
fn iam_safe(platform: &str) -> String {
    platform
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "roles_tests.rs"]
mod tests;
