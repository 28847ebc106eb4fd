//! How many ECS calls the service adapter's create, settle and delete make,
//! counted against a fake endpoint (issue #12: the shortest path, so a
//! regression fails here, not only in the benchmark).

use serde_json::{json, Value};

use crate::aws::fake_endpoint::FakeEndpoint;
use crate::aws::Adapter;
use crate::engine::Resolved;
use crate::spec::ecs::{CapacityProviderSpec, EcsServiceSpec};
use crate::spec::ownership::OWNER_TOKEN_TAG;
use crate::spec::{Ref, Tags, OWNER_TAG};

const ARN: &str = "arn:aws:ecs:eu-central-1:123456789012:service/matbakh/auth-service";
const TASK_DEFINITION: &str = "arn:aws:ecs:eu-central-1:123456789012:task-definition/auth:1";

/// Tags of `owner` with ownership token `token` (32 hex digits).
fn owned(owner: &str, token: &str) -> Tags {
    [
        (OWNER_TAG.to_string(), owner.to_string()),
        (OWNER_TOKEN_TAG.to_string(), token.to_string()),
    ]
    .into_iter()
    .collect()
}

const OUR_TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// This resource's tags.
fn ours() -> Tags {
    owned("matbakh/auth-service", OUR_TOKEN)
}

fn spec() -> EcsServiceSpec {
    EcsServiceSpec {
        cluster: "matbakh".into(),
        name: "auth-service".into(),
        task_definition: Ref("task_definition".into()),
        desired_count: 2,
        desired_count_managed_by_autoscaling: false,
        capacity_provider_strategy: vec![CapacityProviderSpec {
            provider: "FARGATE".into(),
            weight: 1,
            base: 0,
        }],
        subnets: vec!["subnet-1".into()],
        security_groups: vec!["sg-1".into()],
        registry: None,
        service_connect: None,
        circuit_breaker_rollback: true,
        minimum_healthy_percent: 100,
        maximum_percent: 200,
        deployment: Default::default(),
        wait_for_steady_state: true,
        load_balancer: None,
        tags: ours(),
    }
}

fn resolved() -> Resolved {
    [("task_definition".to_string(), TASK_DEFINITION.to_string())]
        .into_iter()
        .collect()
}

/// An ACTIVE service whose PRIMARY deployment is done, tagged `tags`.
fn service(tags: &Tags) -> Value {
    json!({
        "serviceArn": ARN, "serviceName": "auth-service", "status": "ACTIVE",
        "desiredCount": 2, "runningCount": 2, "taskDefinition": TASK_DEFINITION,
        "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": "COMPLETED",
                         "desiredCount": 2, "runningCount": 2}],
        "tags": tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
    })
}

fn error(code: &str, message: &str) -> (u16, Value) {
    (400, json!({"__type": code, "message": message}))
}

#[tokio::test]
async fn create_is_one_create_service_call() {
    let fake = FakeEndpoint::start(|op, _| match op {
        "CreateService" => (200, json!({"service": service(&Tags::new())})),
        _ => error("ClientException", "not expected"),
    });
    let id = spec()
        .create(&fake.clients(), &resolved())
        .await
        .expect("created");
    assert_eq!(id, ARN);
    // No existence check first.
    assert_eq!(fake.calls(), ["CreateService"]);
}

#[tokio::test]
async fn a_refused_name_is_looked_at_and_our_leftover_adopted() {
    let ours = ours();
    let fake = FakeEndpoint::start(move |op, _| match op {
        "CreateService" => error(
            "InvalidParameterException",
            "Creation of service was not idempotent.",
        ),
        "DescribeServices" => (200, json!({"services": [service(&ours)], "failures": []})),
        "UpdateService" => (200, json!({"service": service(&ours)})),
        "TagResource" => (200, json!({})),
        _ => error("ClientException", "not expected"),
    });
    let id = spec()
        .create(&fake.clients(), &resolved())
        .await
        .expect("adopted");
    assert_eq!(id, ARN);
    assert_eq!(fake.calls()[..2], ["CreateService", "DescribeServices"]);
    assert!(fake.calls().contains(&"UpdateService".to_string()));
}

#[tokio::test]
async fn a_refused_name_of_someone_else_fails_without_touching_it() {
    let theirs = owned("someone/else", &"1".repeat(32));
    let fake = FakeEndpoint::start(move |op, _| match op {
        "CreateService" => error(
            "InvalidParameterException",
            "Creation of service was not idempotent.",
        ),
        "DescribeServices" => (200, json!({"services": [service(&theirs)], "failures": []})),
        _ => error("ClientException", "not expected"),
    });
    let err = spec()
        .create(&fake.clients(), &resolved())
        .await
        .expect_err("someone else's");
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(fake.calls(), ["CreateService", "DescribeServices"]);
}

#[tokio::test]
async fn a_refused_name_of_the_same_owner_with_another_token_is_not_adopted() {
    // A second configuration with the same names: the same owner tag, its
    // own ownership token. Never adopted, changed or deleted.
    let theirs = owned("matbakh/auth-service", &"2".repeat(32));
    let fake = FakeEndpoint::start(move |op, _| match op {
        "CreateService" => error(
            "InvalidParameterException",
            "Creation of service was not idempotent.",
        ),
        "DescribeServices" => (200, json!({"services": [service(&theirs)], "failures": []})),
        _ => error("ClientException", "not expected"),
    });
    let err = spec()
        .create(&fake.clients(), &resolved())
        .await
        .expect_err("another resource's");
    let text = err.to_string();
    assert!(text.contains("already exists"), "{text}");
    assert!(text.contains("terraform import"), "{text}");
    assert_eq!(fake.calls(), ["CreateService", "DescribeServices"]);
}

#[tokio::test]
async fn an_invalid_create_fails_with_what_ecs_said() {
    let fake = FakeEndpoint::start(|op, _| match op {
        "CreateService" => error("InvalidParameterException", "subnet-1 does not exist"),
        "DescribeServices" => (
            200,
            json!({"services": [], "failures": [{"arn": ARN, "reason": "MISSING"}]}),
        ),
        _ => error("ClientException", "not expected"),
    });
    let err = spec()
        .create(&fake.clients(), &resolved())
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("subnet-1 does not exist"), "{err}");
    assert_eq!(fake.calls(), ["CreateService", "DescribeServices"]);
}

#[tokio::test]
async fn settle_of_a_finished_deployment_is_one_describe() {
    let ours = ours();
    let fake = FakeEndpoint::start(move |op, _| match op {
        "DescribeServices" => (200, json!({"services": [service(&ours)], "failures": []})),
        _ => error("ClientException", "not expected"),
    });
    spec().settle(&fake.clients(), ARN).await.expect("steady");
    assert_eq!(fake.calls(), ["DescribeServices"]);
}

#[tokio::test]
async fn delete_is_one_forced_delete_then_the_wait() {
    let fake = FakeEndpoint::start(|op, request| match op {
        "DeleteService" => {
            assert_eq!(request["force"], json!(true), "{request}");
            (200, json!({"service": service(&Tags::new())}))
        }
        "DescribeServices" => (
            200,
            json!({"services": [], "failures": [{"arn": ARN, "reason": "MISSING"}]}),
        ),
        _ => error("ClientException", "not expected"),
    });
    spec().delete(&fake.clients(), ARN).await.expect("deleted");
    // No describe before, no scale-in to 0: the delete, then the wait.
    assert_eq!(fake.calls(), ["DeleteService", "DescribeServices"]);
}

#[tokio::test]
async fn deleting_a_service_already_gone_succeeds() {
    let fake = FakeEndpoint::start(|op, _| match op {
        "DeleteService" => error("ServiceNotFoundException", "Service not found."),
        "DescribeServices" => (
            200,
            json!({"services": [], "failures": [{"arn": ARN, "reason": "MISSING"}]}),
        ),
        _ => error("ClientException", "not expected"),
    });
    spec()
        .delete(&fake.clients(), ARN)
        .await
        .expect("gone is fine");
    assert_eq!(fake.calls(), ["DeleteService", "DescribeServices"]);
}

#[tokio::test]
async fn a_refresh_reads_the_service_once_by_arn_and_by_name() {
    let ours = ours();
    let fake = FakeEndpoint::start(move |op, _| match op {
        "DescribeServices" => (200, json!({"services": [service(&ours)], "failures": []})),
        "DescribeServiceDeployments" => (200, json!({"serviceDeployments": [], "failures": []})),
        _ => error("ClientException", "not expected"),
    });
    // A refresh observes the recorded service (by ARN) while it recovers
    // the arguments from the service of the name: one DescribeServices.
    let clients = fake.clients().remembering_reads();
    let (spec, resolved) = (spec(), resolved());
    let (observed, found) = futures::join!(
        spec.observe(&clients, ARN, &resolved),
        spec.read_back(&clients),
    );
    assert!(observed.is_ok(), "{observed:?}");
    assert_eq!(found.expect("read back").expect("found").id, ARN);
    let describes = fake
        .calls()
        .iter()
        .filter(|c| *c == "DescribeServices")
        .count();
    assert_eq!(describes, 1, "{:?}", fake.calls());

    // Outside a refresh every read asks ECS.
    let plain = fake.clients();
    let before = fake.calls().len();
    spec.read_back(&plain).await.expect("read back");
    spec.read_back(&plain).await.expect("read back");
    assert_eq!(
        fake.calls()[before..]
            .iter()
            .filter(|c| *c == "DescribeServices")
            .count(),
        2
    );
}

#[tokio::test]
async fn settle_after_a_create_waits_on_the_deployment_its_answer_named() {
    // Its own service name: what a create notes is kept by service ARN.
    const SETTLED: &str = "arn:aws:ecs:eu-central-1:123456789012:service/matbakh/settled";
    const DEPLOYMENT: &str =
        "arn:aws:ecs:eu-central-1:123456789012:service-deployment/matbakh/settled/abc";
    let fake = FakeEndpoint::start(|op, _| match op {
        "CreateService" => (
            200,
            json!({"service": {"serviceArn": SETTLED, "serviceName": "settled",
                               "status": "ACTIVE", "currentServiceDeployment": DEPLOYMENT}}),
        ),
        "DescribeServiceDeployments" => (
            200,
            json!({"serviceDeployments": [{"serviceDeploymentArn": DEPLOYMENT,
                                           "serviceArn": SETTLED, "status": "SUCCESSFUL"}],
                   "failures": []}),
        ),
        _ => error("ClientException", "not expected"),
    });
    let mut spec = spec();
    spec.name = "settled".into();
    let clients = fake.clients();
    let id = spec.create(&clients, &resolved()).await.expect("created");
    assert_eq!(id, SETTLED);
    spec.settle(&clients, &id).await.expect("steady");
    // No DescribeServices to learn the deployment: CreateService named it.
    assert_eq!(
        fake.calls(),
        ["CreateService", "DescribeServiceDeployments"]
    );
}

#[test]
fn the_circuit_breaker_goes_with_rolling_deployments_only() {
    use crate::spec::deployment_strategy::DeploymentStrategy;
    let breaker = |s: &EcsServiceSpec| {
        let dc = s.deployment();
        let cb = dc.deployment_circuit_breaker().unwrap();
        (cb.enable(), cb.rollback())
    };
    let mut s = spec();
    assert_eq!(breaker(&s), (true, true));
    for strategy in [
        DeploymentStrategy::Canary {
            percent_tenths: 50,
            canary_bake_minutes: 5,
            bake_minutes: 5,
        },
        DeploymentStrategy::Linear {
            step_percent_tenths: 100,
            step_bake_minutes: 1,
            bake_minutes: 1,
        },
        DeploymentStrategy::BlueGreen { bake_minutes: 1 },
    ] {
        s.deployment.strategy = strategy;
        assert_eq!(breaker(&s), (false, false), "{strategy}");
    }
}

#[tokio::test]
async fn a_service_connect_services_delete_leaves_the_cloud_map_wait_to_its_finish() {
    // The delete ends once ECS no longer reports the service; the wait for
    // the Service Connect endpoint's Cloud Map service (one ListServices:
    // gone already) is the delete's finish, which the engine runs beside
    // the deletes of the service's roles and task definition.
    let fake = FakeEndpoint::start(|op, _| match op {
        "DeleteService" => (200, json!({})),
        "DescribeServices" => (
            200,
            json!({"services": [], "failures": [{"arn": ARN, "reason": "MISSING"}]}),
        ),
        "ListServices" => (200, json!({"Services": []})),
        _ => error("ClientException", "not expected"),
    });
    let mut spec = spec();
    spec.service_connect = Some(crate::spec::ecs::ServiceConnectSpec {
        namespace_arn: "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-1".into(),
        port_name: "http".into(),
        discovery_name: "auth".into(),
        dns_name: "auth.svc.local".into(),
        port: 8080,
        per_request_timeout_seconds: 15,
        idle_timeout_seconds: 300,
        tls: None,
        log: crate::spec::ecs::AwsLogsSpec {
            group: "/matbakh/matbakh/auth".into(),
            region: "eu-central-1".into(),
            stream_prefix: "service-connect".into(),
        },
    });
    spec.delete(&fake.clients(), ARN).await.expect("deleted");
    assert_eq!(fake.calls(), ["DeleteService", "DescribeServices"]);
    spec.finish_delete(&fake.clients(), ARN)
        .await
        .expect("the Cloud Map service is gone");
    assert_eq!(
        fake.calls(),
        ["DeleteService", "DescribeServices", "ListServices"]
    );
}
