//! Config in, role and policy documents out.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::environment::Environment;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::expand::{self, keys};
use crate::resources::microservice::test_fixtures::platform_on;
use crate::spec::Spec;

fn settings(extra: serde_json::Value, mesh: ServiceMesh) -> (Settings, PlatformContext) {
    let mut config = json!({
        "platform": "matbakh",
        "name": "auth",
        "image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2",
        "port": 8080,
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
    });
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    let config = MicroserviceConfig::from_value(&config).expect("parses");
    let platform = platform_on(Environment::Production, mesh);
    let settings = Settings::resolve(&config, Environment::Production, mesh).expect("valid");
    (settings, platform)
}

fn role(graph: &crate::spec::DesiredGraph, key: &str) -> Option<RoleSpec> {
    graph.get(key).map(|c| match &c.spec {
        Spec::Role(r) => r.clone(),
        other => panic!("{key} is {other:?}"),
    })
}

#[test]
fn an_omitted_execution_role_is_made_with_exactly_what_the_service_needs() {
    let (s, p) = settings(
        json!({"secrets": {
            "DB": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf:password::",
            "API": "arn:aws:ssm:eu-central-1:123456789012:parameter/auth/api",
        }, "secrets_kms_key_arns": ["arn:aws:kms:eu-central-1:123456789012:key/k1"]}),
        ServiceMesh::ServiceConnect,
    );
    let graph = expand::expand(&s, &p);
    let exec = role(&graph, EXECUTION_ROLE).expect("made");
    assert_eq!(exec.name, "matbakh-auth-eu-central-1-exec");
    assert_eq!(
        exec.trust_policy,
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }]})
    );
    assert_eq!(
        exec.policy.unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "EcrPull", "Effect": "Allow", "Action": ECR_PULL,
             "Resource": "arn:aws:ecr:eu-central-1:123456789012:repository/auth"},
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": "arn:aws:logs:eu-central-1:123456789012:log-group:/matbakh/matbakh/auth:*"},
            {"Sid": "Secrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf"},
            {"Sid": "Parameters", "Effect": "Allow", "Action": "ssm:GetParameters",
             "Resource": "arn:aws:ssm:eu-central-1:123456789012:parameter/auth/api"},
            {"Sid": "SecretsKeys", "Effect": "Allow", "Action": "kms:Decrypt",
             "Resource": "arn:aws:kms:eu-central-1:123456789012:key/k1"},
        ]})
    );
    assert_eq!(exec.tags.get("matbakh:owner").unwrap(), "matbakh/auth");
    // The task definition names it and comes after it.
    let td = graph.get(keys::TASK_DEFINITION).unwrap();
    assert!(td.depends_on.contains(&EXECUTION_ROLE.to_string()));
    let Spec::TaskDefinition(td) = &td.spec else {
        panic!()
    };
    assert_eq!(
        td.execution_role_arn,
        "arn:aws:iam::123456789012:role/matbakh-auth-eu-central-1-exec"
    );
}

#[test]
fn no_role_grants_a_star_action_nor_a_star_resource_where_aws_takes_a_resource() {
    for mesh in [ServiceMesh::ServiceConnect, ServiceMesh::AppMesh] {
        let (s, p) = settings(
            json!({"secrets": {"DB": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf"},
                   "tracing": [{"enabled": true}]}),
            mesh,
        );
        let graph = expand::expand(&s, &p);
        for key in [EXECUTION_ROLE, TASK_ROLE] {
            let role = role(&graph, key).expect(key);
            for st in role.policy.unwrap()["Statement"].as_array().unwrap() {
                let actions: Vec<String> = match &st["Action"] {
                    Value::String(a) => vec![a.clone()],
                    list => list
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_string())
                        .collect(),
                };
                assert!(actions.iter().all(|a| !a.contains('*')), "{st}");
                if st["Resource"] == "*" {
                    // Only actions AWS defines no resource type for.
                    for a in &actions {
                        assert!(
                            a == "ecr:GetAuthorizationToken"
                                || a.starts_with("xray:")
                                || a == "cloudwatch:PutMetricData",
                            "{a} on *"
                        );
                    }
                }
                if st["Action"] == "cloudwatch:PutMetricData" {
                    assert_eq!(
                        st["Condition"]["StringEquals"]["cloudwatch:namespace"],
                        "matbakh/microservices"
                    );
                }
            }
        }
    }
}

#[test]
fn a_task_role_is_made_only_when_something_needs_it() {
    let (s, p) = settings(
        json!({"tracing": [{"enabled": false}]}),
        ServiceMesh::ServiceConnect,
    );
    let graph = expand::expand(&s, &p);
    assert!(role(&graph, TASK_ROLE).is_none());
    let Spec::TaskDefinition(td) = &graph.get(keys::TASK_DEFINITION).unwrap().spec else {
        panic!()
    };
    assert_eq!(td.task_role_arn, None);

    let own = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::auth/*"}}"#;
    let (s, p) = settings(
        json!({"tracing": [{"enabled": false}], "task_policy_json": own, "task_policy_arns": ["arn:aws:iam::123456789012:policy/b", "arn:aws:iam::123456789012:policy/a"]}),
        ServiceMesh::ServiceConnect,
    );
    let graph = expand::expand(&s, &p);
    let task = role(&graph, TASK_ROLE).expect("made");
    assert_eq!(task.name, "matbakh-auth-eu-central-1-task");
    assert_eq!(
        task.policy.unwrap()["Statement"],
        json!([{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::auth/*"}])
    );
    assert_eq!(
        task.managed_policy_arns,
        vec![
            "arn:aws:iam::123456789012:policy/a",
            "arn:aws:iam::123456789012:policy/b"
        ]
    );
    assert_eq!(
        task.trust_policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"],
        "arn:aws:ecs:eu-central-1:123456789012:task/matbakh/*"
    );
}

#[test]
fn given_arns_make_nothing() {
    let (s, p) = settings(
        json!({"execution_role_arn": "arn:aws:iam::123456789012:role/exec",
               "task_role_arn": "arn:aws:iam::123456789012:role/app",
               "tracing": [{"enabled": true}]}),
        ServiceMesh::AppMesh,
    );
    let graph = expand::expand(&s, &p);
    assert!(graph
        .components
        .iter()
        .all(|c| !matches!(c.spec, Spec::Role(_))));
    let Spec::TaskDefinition(td) = &graph.get(keys::TASK_DEFINITION).unwrap().spec else {
        panic!()
    };
    assert_eq!(td.execution_role_arn, "arn:aws:iam::123456789012:role/exec");
    assert_eq!(
        td.task_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/app")
    );
}

#[test]
fn a_removed_secret_narrows_the_policy_and_keeps_the_role() {
    let secret = |n: &str| format!("arn:aws:secretsmanager:eu-central-1:123456789012:secret:{n}");
    let (two, p) = settings(
        json!({"secrets": {"A": secret("a"), "B": secret("b")}}),
        ServiceMesh::ServiceConnect,
    );
    let (one, _) = settings(
        json!({"secrets": {"A": secret("a")}}),
        ServiceMesh::ServiceConnect,
    );
    let before = Spec::Role(role(&expand::expand(&two, &p), EXECUTION_ROLE).unwrap());
    let after = Spec::Role(role(&expand::expand(&one, &p), EXECUTION_ROLE).unwrap());
    assert_ne!(before, after);
    assert!(Spec::update_keeps_id(&before, &after));
}

#[test]
fn ecr_repositories_of_images() {
    assert_eq!(
        ecr_repository_arn("123456789012.dkr.ecr.eu-central-1.amazonaws.com/team/auth:1.4.2")
            .as_deref(),
        Some("arn:aws:ecr:eu-central-1:123456789012:repository/team/auth")
    );
    assert_eq!(
        ecr_repository_arn("123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth@sha256:abc")
            .as_deref(),
        Some("arn:aws:ecr:eu-central-1:123456789012:repository/auth")
    );
    assert_eq!(ecr_repository_arn("public.ecr.aws/nginx/nginx:1"), None);
    assert_eq!(ecr_repository_arn("nginx:1"), None);
    assert_eq!(ecr_repository_arn("localhost:5000/auth:1"), None);
}

#[test]
fn the_role_arguments_read_back_from_the_made_roles_are_those_configured() {
    let own = r#"{"Statement":[{"Action":"s3:PutObject","Effect":"Allow","Resource":"arn:aws:s3:::up/*","Sid":"Uploads"}],"Version":"2012-10-17"}"#;
    for mesh in [ServiceMesh::ServiceConnect, ServiceMesh::AppMesh] {
        let (s, p) = settings(
            json!({
                "secrets": {"DB": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf"},
                "secrets_kms_key_arns": ["arn:aws:kms:eu-central-1:123456789012:key/k2", "arn:aws:kms:eu-central-1:123456789012:key/k1"],
                "task_policy_json": own,
                "task_policy_arns": ["arn:aws:iam::123456789012:policy/extra"],
            }),
            mesh,
        );
        let graph = expand::expand(&s, &p);
        let back = role_arguments(
            role(&graph, EXECUTION_ROLE).as_ref(),
            role(&graph, TASK_ROLE).as_ref(),
        );
        assert_eq!(
            back,
            RoleArguments {
                secrets_kms_key_arns: vec![
                    "arn:aws:kms:eu-central-1:123456789012:key/k1".into(),
                    "arn:aws:kms:eu-central-1:123456789012:key/k2".into()
                ],
                // Exactly what `jsonencode` writes for the document.
                task_policy_json: Some(own.into()),
                task_policy_arns: vec!["arn:aws:iam::123456789012:policy/extra".into()],
            }
        );
    }
    // Tracing alone: the task role holds nothing of the user's.
    let (s, p) = settings(json!({}), ServiceMesh::AppMesh);
    let graph = expand::expand(&s, &p);
    assert_eq!(
        role_arguments(None, role(&graph, TASK_ROLE).as_ref()),
        RoleArguments::default()
    );
}

#[test]
fn service_connect_tls_without_a_role_gets_one_allowed_on_its_ca_only() {
    let ca = "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555";
    let (s, p) = settings(
        json!({"tls": [{"certificate_authority_arns": [ca]}]}),
        ServiceMesh::ServiceConnect,
    );
    let graph = expand::expand(&s, &p);
    let tls = role(&graph, TLS_ROLE).expect("made");
    assert_eq!(tls.name, "matbakh-auth-eu-central-1-tls");
    assert_eq!(
        tls.trust_policy["Statement"][0]["Principal"],
        json!({"Service": "ecs.amazonaws.com"})
    );
    assert_eq!(
        tls.trust_policy["Statement"][0]["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": "123456789012"}})
    );
    let policy = tls.policy.unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Sid"], "PrivateCa");
    assert_eq!(statements[0]["Resource"], ca, "the CA only");
    assert_eq!(statements[1]["Sid"], "CertificateSecrets");
    assert_eq!(
        statements[1]["Resource"],
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecs-sc!*"
    );
    for st in statements {
        for action in st["Action"].as_array().unwrap() {
            assert!(!action.as_str().unwrap().contains('*'), "{action}");
        }
    }
    assert!(
        tls.tags.contains_key("matbakh:owner"),
        "tagged like the rest"
    );
    // The ECS service names it, after the task definition that comes after it.
    let service = match &graph.get(keys::SERVICE).unwrap().spec {
        Spec::EcsService(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        service.service_connect.unwrap().tls.unwrap().role_arn,
        "arn:aws:iam::123456789012:role/matbakh-auth-eu-central-1-tls"
    );
    assert!(graph
        .get(keys::TASK_DEFINITION)
        .unwrap()
        .depends_on
        .contains(&TLS_ROLE.to_string()));

    // A given role: nothing made, the service names it.
    let given = "arn:aws:iam::123456789012:role/hand-made-tls";
    let (s, p) = settings(
        json!({"tls": [{"certificate_authority_arns": [ca], "role_arn": given}]}),
        ServiceMesh::ServiceConnect,
    );
    let graph = expand::expand(&s, &p);
    assert!(role(&graph, TLS_ROLE).is_none());
    // app_mesh: ECS uses no role for TLS.
    let (s, p) = settings(
        json!({"tls": [{"certificate_authority_arns": [ca]}]}),
        ServiceMesh::AppMesh,
    );
    assert!(role(&expand::expand(&s, &p), TLS_ROLE).is_none());
}
