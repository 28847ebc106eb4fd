"""The IAM roles the provider makes (issue 20): the real terraform CLI and provider binary against
the emulator, whose ECS refuses to start tasks whose execution role cannot read a listed secret
(emulator/extensions/ecs_task_iam.py), so a role that misses a secret fails here as on AWS. Both
backends."""

from __future__ import annotations

import json

import pytest

from harness.terraform import REQUIRED_PROVIDERS, TerraformError, provider_block

pytestmark = pytest.mark.microservice

SC, AM = "service_connect", "app_mesh"
PLATFORM = "matbakh"
ACCOUNT = "123456789012"
REGION = "eu-central-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"
SECRET = f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT}:secret:auth-db-AbCdEf"
PARAM = f"arn:aws:ssm:eu-central-1:{ACCOUNT}:parameter/auth/api-key"
KEY = f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
APP_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "Uploads", "Effect": "Allow", "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::auth-uploads/*"}]}


@pytest.fixture(params=[SC, AM])
def backend(request) -> str:
    return request.param


@pytest.fixture
def net(emulator) -> dict:
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                               AvailabilityZone="eu-central-1a")["Subnet"]["SubnetId"]
    return {"vpc_id": vpc, "subnet_id": subnet}


def config(emulator, net, backend: str, secrets: dict[str, str], extra: str = "",
           given: str = "", explicit_tracing: bool = True) -> dict[str, str]:
    tracing = "  tracing {\n    enabled = true\n  }\n" if explicit_tracing else ""
    vpc = f'  vpc_id = "{net["vpc_id"]}"\n' if backend == AM else ""
    secret_lines = "".join(f"    {k} = {json.dumps(v)}\n" for k, v in secrets.items())
    return {"main.tf": REQUIRED_PROVIDERS
            + provider_block(emulator.endpoint, environment="staging", service_mesh=backend)
            + f"""
resource "matbakh_platform" "main" {{
  name = "{PLATFORM}"
{vpc}}}

resource "matbakh_microservice" "auth" {{
  platform   = matbakh_platform.main.id
  name       = "auth"
  image      = "{IMAGE}"
  port       = 8080
  subnet_ids = ["{net["subnet_id"]}"]
  secrets = {{
{secret_lines}  }}
  secrets_kms_key_arns = ["{KEY}"]
  task_policy_json     = jsonencode({json.dumps(APP_POLICY)})
{tracing}{extra}}}

resource "matbakh_microservice" "given" {{
  platform           = matbakh_platform.main.id
  name               = "given"
  image              = "public.ecr.aws/nginx/nginx:1.27"
  port               = 8080
  subnet_ids         = ["{net["subnet_id"]}"]
  execution_role_arn = "arn:aws:iam::{ACCOUNT}:role/hand-made-exec"
  task_role_arn      = "arn:aws:iam::{ACCOUNT}:role/hand-made-task"
{given}}}
"""}


def role_policy(emulator, name: str) -> dict:
    doc = emulator.client("iam").get_role_policy(RoleName=name, PolicyName="matbakh")["PolicyDocument"]
    return doc if isinstance(doc, dict) else json.loads(doc)


def statements(policy: dict) -> dict[str, dict]:
    return {s.get("Sid", ""): s for s in policy["Statement"]}


def role_names(emulator) -> list[str]:
    return sorted(r["RoleName"] for r in emulator.client("iam").list_roles()["Roles"])


def test_roles_made_scoped_narrowed_in_place_and_deleted(emulator, tf, net, backend):
    tf.write(config(emulator, net, backend, {"DB_PASSWORD": SECRET, "API_KEY": PARAM}))
    plan = tf.plan()
    assert "execution_role" in plan.stdout and "task_role" in plan.stdout, plan.stdout
    tf.apply()
    auth = tf.resource("matbakh_microservice.auth")
    exec_arn = f"arn:aws:iam::{ACCOUNT}:role/{PLATFORM}-auth-{REGION}-exec"
    task_arn = f"arn:aws:iam::{ACCOUNT}:role/{PLATFORM}-auth-{REGION}-task"
    assert auth["components"]["execution_role"] == exec_arn
    assert auth["components"]["task_role"] == task_arn
    assert auth["execution_role_arn"] is None and auth["task_role_arn"] is None
    # ECS refused the first task definition naming the just-made roles (IAM propagation, as the
    # emulator models it); the provider retried within the timeout.
    refused = [r for r in emulator.requests(service="ecs", operation="RegisterTaskDefinition")
               if r["status"] == 400]
    assert refused, "the emulator refuses a role ECS has not seen yet once"

    # The task definition names the made roles.
    ecs = emulator.client("ecs")
    td = ecs.describe_task_definition(taskDefinition=auth["task_definition_arn"])["taskDefinition"]
    assert td["executionRoleArn"] == exec_arn and td["taskRoleArn"] == task_arn

    # Execution role: exactly this service's repository, log group, secret, parameter and key.
    iam = emulator.client("iam")
    exec_role = iam.get_role(RoleName=f"{PLATFORM}-auth-{REGION}-exec")["Role"]
    trust = exec_role["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    assert trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=f"{PLATFORM}-auth-{REGION}-exec")["Tags"]}
    assert tags["matbakh:owner"] == f"{PLATFORM}/auth" and "matbakh:owner-token" in tags, tags
    st = statements(role_policy(emulator, f"{PLATFORM}-auth-{REGION}-exec"))
    assert st["Secrets"]["Resource"] == SECRET
    assert st["Parameters"]["Resource"] == PARAM
    assert st["SecretsKeys"]["Resource"] == KEY
    assert st["EcrPull"]["Resource"] == f"arn:aws:ecr:eu-central-1:{ACCOUNT}:repository/auth"
    assert st["Logs"]["Resource"].endswith(f"log-group:/matbakh/{PLATFORM}/auth:*")

    # Task role: X-Ray and the application's own statement.
    st = statements(role_policy(emulator, f"{PLATFORM}-auth-{REGION}-task"))
    assert "xray:PutTraceSegments" in st["Tracing"]["Action"]
    assert st["Uploads"]["Resource"] == "arn:aws:s3:::auth-uploads/*"
    assert ("Metrics" in st) == (backend == AM)

    # Given ARNs: nothing made.
    assert not [n for n in role_names(emulator) if n.startswith(f"{PLATFORM}-given")]
    assert "execution_role" not in tf.resource("matbakh_microservice.given")["components"]
    assert tf.plan().returncode == 0

    # A secret removed: the policy narrows in place, the role keeps its ARN.
    tf.write(config(emulator, net, backend, {"DB_PASSWORD": SECRET}))
    plan = tf.plan()
    assert plan.returncode == 2 and "must be replaced" not in plan.stdout, plan.stdout
    tf.apply()
    assert tf.resource("matbakh_microservice.auth")["components"]["execution_role"] == exec_arn
    st = statements(role_policy(emulator, f"{PLATFORM}-auth-{REGION}-exec"))
    assert "Parameters" not in st and st["Secrets"]["Resource"] == SECRET

    # A statement added out of band is drift, and the next apply removes it.
    widened = role_policy(emulator, f"{PLATFORM}-auth-{REGION}-exec")
    widened["Statement"].append({"Sid": "Sneaky", "Effect": "Allow", "Action": "s3:GetObject",
                                 "Resource": "arn:aws:s3:::other/*"})
    iam.put_role_policy(RoleName=f"{PLATFORM}-auth-{REGION}-exec", PolicyName="matbakh",
                        PolicyDocument=json.dumps(widened))
    assert tf.plan().returncode == 2
    tf.apply()
    assert "Sneaky" not in statements(role_policy(emulator, f"{PLATFORM}-auth-{REGION}-exec"))
    assert tf.plan().returncode == 0

    tf.destroy()
    assert [n for n in role_names(emulator) if n.startswith(PLATFORM)] == []


def test_a_role_that_cannot_read_a_secret_fails_the_deployment(emulator, tf, net, backend):
    """The emulator's ECS models AWS: the hand-made role lacks the secret, the deployment fails
    with ResourceInitializationError; the made role reads it and the same service deploys."""
    iam = emulator.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="hand-made-exec", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="hand-made-exec", PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}))
    given_secret = f'  secrets = {{ DB_PASSWORD = "{SECRET}" }}\n'
    tf.write(config(emulator, net, backend, {"DB_PASSWORD": SECRET}, given=given_secret))
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    text = " ".join(failed.value.result.output.split())
    assert "ResourceInitializationError" in text, failed.value.result.output
    assert "secretsmanager:GetSecretValue" in text and SECRET in text, failed.value.result.output
    # The made role of the other service read the same secret: it deployed.
    ecs = emulator.client("ecs")
    auth = ecs.describe_services(cluster=PLATFORM, services=["auth"])["services"][0]
    assert auth["deployments"][0].get("rolloutState") != "FAILED", auth["deployments"]


@pytest.mark.parametrize("attr,value,words", [
    ("secrets_kms_key_arns", '["alias/db"]', ["secrets_kms_key_arns", "KMS key"]),
    ("task_policy_arns", f'["arn:aws:iam::{ACCOUNT}:role/x"]', ["task_policy_arns", "policy"]),
    ("task_policy_json", json.dumps('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}'),
     ["task_policy_json", "Statement[0]", "Resource"]),
    ("task_policy_json", json.dumps("{not json"), ["task_policy_json", "line 1"]),
])
def test_bad_role_arguments_fail_at_plan(emulator, tf, net, attr, value, words):
    cfg = config(emulator, net, SC, {"DB_PASSWORD": SECRET})
    main = cfg["main.tf"]
    # Replace the argument of `auth` (or add it) with the bad value.
    lines = [line for line in main.splitlines() if not line.strip().startswith(f"{attr} ")]
    main = "\n".join(lines).replace('  name       = "auth"\n', f'  name       = "auth"\n  {attr} = {value}\n')
    tf.write({"main.tf": main})
    res = tf.plan(check=False)
    assert res.returncode == 1, res.output
    text = " ".join(res.output.split())
    for w in words:
        assert w in text, res.output
    assert emulator.requests(service="iam") == [], "a plan that fails validation calls nothing"


def test_deployer_policy_covers_every_action_the_lifecycle_calls(emulator, tf_factory, net, backend):
    """Every AWS request the provider sent during a lifecycle (plan, apply, a change, import,
    destroy), as the emulator's request log saw it, is an action the generated deployer policy
    grants; and the policy has no `*` action and passes roles to ECS tasks only."""
    tf = tf_factory("main")
    tf.write(config(emulator, net, backend, {"DB_PASSWORD": SECRET, "API_KEY": PARAM}))
    emulator.clear_requests()
    tf.plan()
    tf.apply()
    tf.write(config(emulator, net, backend, {"DB_PASSWORD": SECRET}))
    tf.apply()
    other = tf_factory("import")
    other.write(config(emulator, net, backend, {"DB_PASSWORD": SECRET}))
    other.import_("matbakh_microservice.auth", f"{PLATFORM}/auth")
    tf.destroy()
    # The emulator logs the IAM action that authorizes each request (AWS Budgets' calls are
    # authorized by budgets:ViewBudget / ModifyBudget, CloudWatch signs as `monitoring`); the
    # test's own boto3 calls were made before the log was cleared.
    seen = {r["action"] for r in emulator.requests() if r.get("action")}

    policy_tf = tf_factory("policy")
    policy_tf.write({"main.tf": REQUIRED_PROVIDERS
                     + provider_block(emulator.endpoint, service_mesh=backend)
                     + f'data "matbakh_deployer_policy" "ci" {{\n  platforms = ["{PLATFORM}"]\n}}\n'
                     + 'output "json" {\n  value = data.matbakh_deployer_policy.ci.json\n}\n'})
    policy_tf.apply()
    policy = json.loads(policy_tf.output("json"))
    granted = set()
    for st in policy["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all("*" not in a for a in actions), st
        granted.update(actions)
        if "iam:PassRole" in actions:
            assert sorted(st["Condition"]["StringEquals"]["iam:PassedToService"]) == [
                "ecs-tasks.amazonaws.com", "ecs.amazonaws.com"]
    assert seen, "the request log saw the lifecycle"
    assert seen <= granted, f"called but not granted: {sorted(seen - granted)}"


def test_import_restores_the_role_arguments_and_the_plan_after_it_is_clean(
        emulator, tf_factory, net, backend):
    """Import reads task_policy_json, task_policy_arns and secrets_kms_key_arns back from the made
    roles (the only place they live in AWS), and a given role ARN stays given: the same
    configuration plans no change after import."""
    extra = f'  task_policy_arns = ["arn:aws:iam::{ACCOUNT}:policy/auth-extra"]\n'
    emulator.client("iam").create_policy(PolicyName="auth-extra", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                 "Resource": "arn:aws:s3:::auth-uploads"}]}))
    # Tracing on by default (the task role's X-Ray statement): an import leaves arguments at
    # their defaults out, so the block is not written here.
    files = config(emulator, net, backend, {"DB_PASSWORD": SECRET, "API_KEY": PARAM}, extra=extra,
                   explicit_tracing=False)
    tf = tf_factory("main")
    tf.write(files)
    tf.apply()
    other = tf_factory("import")
    other.write(files)
    other.import_("matbakh_platform.main", PLATFORM)
    other.import_("matbakh_microservice.auth", f"{PLATFORM}/auth")
    other.import_("matbakh_microservice.given", f"{PLATFORM}/given")
    auth = other.resource("matbakh_microservice.auth")
    assert auth["secrets_kms_key_arns"] == [KEY]
    assert auth["task_policy_arns"] == [f"arn:aws:iam::{ACCOUNT}:policy/auth-extra"]
    assert json.loads(auth["task_policy_json"]) == APP_POLICY
    assert auth["execution_role_arn"] is None and auth["task_role_arn"] is None
    given = other.resource("matbakh_microservice.given")
    assert given["execution_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/hand-made-exec"
    plan = other.plan()
    assert plan.returncode == 0, plan.stdout
    tf.destroy()


def test_service_connect_tls_without_a_role_gets_one_on_its_ca_only(emulator, tf_factory, net):
    """Service Connect `tls` without `role_arn`: the microservice makes the role ECS issues the
    certificates with, allowed on that Private CA only; recorded, tagged, named by the service,
    read back for drift, imported as omitted, deleted with the microservice."""
    ca = f"arn:aws:acm-pca:{REGION}:{ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555"
    files = config(emulator, net, SC, {"DB_PASSWORD": SECRET}, explicit_tracing=False,
                   extra=f'  tls {{\n    certificate_authority_arns = ["{ca}"]\n  }}\n')
    tf = tf_factory("main")
    tf.write(files)
    tf.apply()
    name = f"{PLATFORM}-auth-{REGION}-tls"
    arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    auth = tf.resource("matbakh_microservice.auth")
    assert auth["components"]["tls_role"] == arn
    iam = emulator.client("iam")
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    assert trust["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}
    assert tags["matbakh:owner"] == f"{PLATFORM}/auth", tags
    st = statements(role_policy(emulator, name))
    assert st["PrivateCa"]["Resource"] == ca
    assert st["CertificateSecrets"]["Resource"] == f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecs-sc!*"
    service = emulator.client("ecs").describe_services(cluster=PLATFORM, services=["auth"])["services"][0]
    sc_tls = service["deployments"][0]["serviceConnectConfiguration"]["services"][0]["tls"]
    assert sc_tls["roleArn"] == arn and sc_tls["issuerCertificateAuthority"]["awsPcaAuthorityArn"] == ca
    assert tf.plan().returncode == 0

    # Drift: a statement added out of band shows, and the next apply removes it.
    widened = role_policy(emulator, name)
    widened["Statement"].append({"Sid": "Sneaky", "Effect": "Allow", "Action": "acm-pca:*",
                                 "Resource": "*"})
    iam.put_role_policy(RoleName=name, PolicyName="matbakh", PolicyDocument=json.dumps(widened))
    assert tf.plan().returncode == 2
    tf.apply()
    assert "Sneaky" not in statements(role_policy(emulator, name))

    other = tf_factory("import")
    other.write(files)
    other.import_("matbakh_platform.main", PLATFORM)
    other.import_("matbakh_microservice.auth", f"{PLATFORM}/auth")
    other.import_("matbakh_microservice.given", f"{PLATFORM}/given")
    imported = other.resource("matbakh_microservice.auth")
    assert imported["tls"][0]["role_arn"] is None, imported["tls"]
    assert imported["components"]["tls_role"] == arn
    assert other.plan().returncode == 0

    tf.destroy()
    assert [n for n in role_names(emulator) if n.startswith(PLATFORM)] == []


def test_a_plan_lists_the_roles_once_and_still_sees_drift_in_each(emulator, tf, net):
    """A plan reads every role (and looks for the roles a configuration does not make) from one
    GetAccountAuthorizationDetails listing, not role by role (issue #23); drift in a role is still
    seen: a statement added to its inline policy, a managed policy attached, a tag changed, the
    role deleted out of band. Each is repaired by the next apply."""
    tf.write(config(emulator, net, SC, {"DB_PASSWORD": SECRET}))
    tf.apply()
    iam = emulator.client("iam")
    exec_name = f"{PLATFORM}-auth-{REGION}-exec"
    task_name = f"{PLATFORM}-auth-{REGION}-task"

    def plan_reads_roles_listed() -> int:
        emulator.clear_requests()
        code = tf.plan().returncode
        ops = sorted({r["operation"] for r in emulator.requests(service="iam")})
        assert ops == ["GetAccountAuthorizationDetails"], ops
        assert len(emulator.requests(service="iam")) == 1
        return code

    assert plan_reads_roles_listed() == 0

    def widen(_):
        widened = role_policy(emulator, exec_name)
        widened["Statement"].append({"Sid": "Sneaky", "Effect": "Allow", "Action": "s3:GetObject",
                                     "Resource": "arn:aws:s3:::other/*"})
        iam.put_role_policy(RoleName=exec_name, PolicyName="matbakh",
                            PolicyDocument=json.dumps(widened))

    managed = iam.create_policy(PolicyName="by-hand", PolicyDocument=json.dumps(APP_POLICY))[
        "Policy"]["Arn"]

    def delete(_):
        iam.delete_role_policy(RoleName=exec_name, PolicyName="matbakh")
        iam.delete_role(RoleName=exec_name)

    drifts = {
        "statement added": widen,
        "managed policy attached": lambda _: iam.attach_role_policy(RoleName=task_name,
                                                                    PolicyArn=managed),
        "tag changed": lambda _: iam.tag_role(RoleName=task_name,
                                              Tags=[{"Key": "project", "Value": "by-hand"}]),
        "role deleted": delete,
    }
    for what, drift in drifts.items():
        drift(None)
        assert plan_reads_roles_listed() == 2, what
        tf.apply()
        assert tf.plan().returncode == 0, what
    assert "Sneaky" not in statements(role_policy(emulator, exec_name))
    assert iam.list_attached_role_policies(RoleName=task_name)["AttachedPolicies"] == []
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=task_name)["Tags"]}
    assert tags["project"] == "matbakh", tags
    assert iam.get_role(RoleName=exec_name)["Role"]["Arn"].endswith(exec_name)
