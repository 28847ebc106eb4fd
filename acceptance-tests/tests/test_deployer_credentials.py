"""A CI principal whose only permissions are the generated deployer policy (issue 20): the
emulator authorizes every request against the caller's IAM policies (`authorize_requests`,
emulator/extensions/authorization.py), resources and tag conditions as AWS does. The full
lifecycle (platform, microservices with secrets and autoscaling, a canary, import, destroy; on
service_connect also the platform's budget and ingress and a microservice behind it) passes with
the policy on both backends; with one statement removed, or the Cloud Map or Application Auto
Scaling statements scoped to another platform, the apply fails with one diagnostic naming the
action, the resource and the object."""

from __future__ import annotations

import json

import pytest

from harness.terraform import REQUIRED_PROVIDERS, TerraformError, provider_block

pytestmark = pytest.mark.microservice

PLATFORM = "matbakh"
ACCOUNT = "123456789012"
REGION = "eu-central-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"
NEW_IMAGE = f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/auth:1.5.0"
SECRET = f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT}:secret:auth-db-AbCdEf"
PARAM = f"arn:aws:ssm:eu-central-1:{ACCOUNT}:parameter/auth/api-key"
SC, AM = "service_connect", "app_mesh"


@pytest.fixture(params=[SC, AM])
def backend(request) -> str:
    return request.param


@pytest.fixture
def net(emulator) -> dict:
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"eu-central-1{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    cert = emulator.client("acm", strict_shapes=False).request_certificate(
        DomainName="api.example.com")["CertificateArn"]
    return {"vpc_id": vpc, "subnet_id": subnets[0], "subnets": subnets, "cert": cert}


def config(emulator, net, canary: bool = True, platform_extra: str = "", backend: str = SC,
           orders_extra: str = "") -> dict[str, str]:
    if backend == AM:
        platform_extra = f'  vpc_id = "{net["vpc_id"]}"\n' + platform_extra
    text = REQUIRED_PROVIDERS + provider_block(emulator.endpoint, environment="staging",
                                               service_mesh=backend) + f"""
resource "matbakh_platform" "main" {{
  name = "{PLATFORM}"
{platform_extra}}}

resource "matbakh_microservice" "auth" {{
  platform   = matbakh_platform.main.id
  name       = "auth"
  image      = "{IMAGE}"
  port       = 8080
  subnet_ids = ["{net["subnet_id"]}"]
  secrets = {{
    DB_PASSWORD = "{SECRET}"
    API_KEY     = "{PARAM}"
  }}
  autoscaling {{
    min_count = 1
    max_count = 3
  }}
}}

resource "matbakh_microservice" "orders" {{
  platform   = matbakh_platform.main.id
  name       = "orders"
  image      = "public.ecr.aws/nginx/nginx:1.27"
  port       = 8080
  subnet_ids = ["{net["subnet_id"]}"]
{orders_extra}}}
"""
    if canary:
        text += f"""
resource "matbakh_canary" "auth" {{
  microservice  = matbakh_microservice.auth.id
  image         = "{NEW_IMAGE}"
  steps         = [50, 100]
  step_interval = "1m"
  rollback_on {{
    error_rate_percent = 2
    p95_latency_ms     = 150
  }}
}}
"""
    return {"main.tf": text}


def deployer_policy(emulator, tf_factory) -> dict:
    policy_tf = tf_factory("policy")
    policy_tf.write({"main.tf": REQUIRED_PROVIDERS + provider_block(emulator.endpoint)
                     + f'data "matbakh_deployer_policy" "ci" {{\n  platforms = ["{PLATFORM}"]\n}}\n'
                     + 'output "json" {\n  value = data.matbakh_deployer_policy.ci.json\n}\n'})
    policy_tf.apply()
    return json.loads(policy_tf.output("json"))


def ci_credentials(emulator, policy: dict) -> dict[str, str]:
    """An IAM user whose only permissions are `policy`; its keys as environment variables."""
    iam = emulator.client("iam")
    iam.create_user(UserName="ci")
    iam.put_user_policy(UserName="ci", PolicyName="deployer", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def as_ci(tf, env: dict[str, str]):
    tf.env.update(env)
    return tf


def errors(stderr: str) -> list[str]:
    return [chunk for chunk in stderr.split("Error: ")[1:]]


# The platform's budget and ingress (AWS Budgets, Elastic Load Balancing and EC2 calls) and a
# microservice behind the load balancer: on service_connect (ingress is a plan error on app_mesh).
def ingress_platform(net) -> str:
    return (f'  budget {{\n    monthly_limit = 200\n    alert_emails = ["platform@example.com"]\n  }}\n'
            f'  ingress {{\n    subnet_ids = {json.dumps(net["subnets"])}\n'
            f'    certificate_arn = {json.dumps(net["cert"])}\n  }}\n')


INGRESS_SERVICE = '  ingress {\n    paths = ["/orders", "/orders/*"]\n  }\n'


def test_the_deployer_policy_is_enough_for_the_whole_lifecycle(emulator, tf_factory, net, backend):
    env = ci_credentials(emulator, deployer_policy(emulator, tf_factory))
    emulator.settings(authorize_requests=True)
    emulator.clear_requests()
    tf = as_ci(tf_factory("main"), env)
    extra = ingress_platform(net) if backend == SC else ""
    orders = INGRESS_SERVICE if backend == SC else ""
    tf.write(config(emulator, net, platform_extra=extra, backend=backend, orders_extra=orders))
    tf.plan()
    tf.apply()
    assert tf.plan().returncode == 0, "clean plan after apply"
    other = as_ci(tf_factory("import"), env)
    other.write(config(emulator, net, canary=False, platform_extra=extra, backend=backend,
                       orders_extra=orders))
    other.import_("matbakh_platform.main", PLATFORM)
    other.import_("matbakh_microservice.auth", f"{PLATFORM}/auth")
    if backend == SC:
        other.import_("matbakh_microservice.orders", f"{PLATFORM}/orders")
    tf.destroy()
    seen = [r for r in emulator.requests() if r.get("access_key") == env["AWS_ACCESS_KEY_ID"]]
    assert seen, "the provider signed with the CI principal's keys"
    assert not [r for r in seen if r.get("denied")], [r["denied"] for r in seen if r.get("denied")]
    called = {r["action"] for r in seen}
    assert {"ecs:CreateService", "iam:CreateRole", "ecs:DeleteCluster",
            "application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:DeregisterScalableTarget",
            "servicediscovery:DeleteNamespace"} <= called
    if backend == SC:
        assert {"budgets:ModifyBudget", "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:CreateRule",
                "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress"} <= called
    else:
        assert {"appmesh:CreateMesh", "appmesh:CreateVirtualNode",
                "servicediscovery:CreateService", "servicediscovery:DeleteService"} <= called


def test_one_statement_less_fails_with_one_diagnostic_naming_action_resource_and_object(
        emulator, tf_factory, net, backend):
    policy = deployer_policy(emulator, tf_factory)
    # Take ecs:CreateService out of the statement that grants it (the others stay).
    for st in policy["Statement"]:
        if "ecs:CreateService" in st["Action"]:
            st["Action"] = [a for a in st["Action"] if a != "ecs:CreateService"]
    policy["Statement"] = [st for st in policy["Statement"] if st["Action"]]
    env = ci_credentials(emulator, policy)
    emulator.settings(authorize_requests=True)
    tf = as_ci(tf_factory("main"), env)
    files = config(emulator, net, canary=False, backend=backend)
    files["main.tf"] = files["main.tf"].split('resource "matbakh_microservice" "orders"')[0]
    tf.write(files)
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    found = errors(failed.value.result.stderr)
    assert len(found) == 1, failed.value.result.stderr
    text = " ".join(found[0].split())
    assert "ecs:CreateService" in text, text
    assert f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{PLATFORM}/auth" in text, text
    assert "matbakh_microservice" in text and "auth" in text, text
    assert "matbakh_deployer_policy" in text, text
    assert "stack" not in text.lower() and "dispatch failure" not in text.lower(), text


def scoped_elsewhere(policy: dict, prefix: str) -> dict:
    """The policy with the tag conditions of `prefix`'s statements naming another platform."""
    for st in policy["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if st.get("Condition") and all(a.startswith(prefix) for a in actions):
            st["Condition"] = json.loads(json.dumps(st["Condition"]).replace(
                f'"{PLATFORM}', '"elsewhere'))
    return policy


@pytest.mark.parametrize("prefix, action, resource", [
    # The namespace is the platform's first Cloud Map object: its create is judged by the tag
    # its request sets (AWS defines no resource for it).
    ("servicediscovery:", "servicediscovery:CreateHttpNamespace", "*"),
    ("application-autoscaling:", "application-autoscaling:RegisterScalableTarget",
     f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/"),
    # The platform's ingress security group: EC2 names groups by id, the policy scopes them by
    # the owner tag (here the one the create request sets).
    ("ec2:", "ec2:CreateSecurityGroup", f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/*"),
])
def test_statements_scoped_to_another_platforms_tags_fail_naming_the_action(
        emulator, tf_factory, net, prefix, action, resource):
    env = ci_credentials(emulator, scoped_elsewhere(deployer_policy(emulator, tf_factory), prefix))
    emulator.settings(authorize_requests=True)
    tf = as_ci(tf_factory("main"), env)
    files = config(emulator, net, canary=False,
                   platform_extra=ingress_platform(net) if prefix == "ec2:" else "")
    files["main.tf"] = files["main.tf"].split('resource "matbakh_microservice" "orders"')[0]
    tf.write(files)
    with pytest.raises(TerraformError) as failed:
        tf.apply()
    found = errors(failed.value.result.stderr)
    assert len(found) == 1, failed.value.result.stderr
    text = " ".join(found[0].split())
    assert f"refused {action} on {resource}" in text and "(component " in text, text


def test_the_suite_end_check_names_the_called_actions_the_policy_lacks(tmp_path, provider_binary):
    """What conftest.py checks when a run ends: the provider actions every pytest process's
    emulator counted, summed, against the policy the provider binary renders."""
    from harness import policy_coverage

    policy_coverage.record(tmp_path, {"ecs:CreateService": 2, "servicediscovery:GetOperation": 1})
    (tmp_path / "actions-other-worker.json").write_text(json.dumps({"ecs:CreateService": 1}))
    called = policy_coverage.recorded(tmp_path)
    assert called == {"ecs:CreateService": 3, "servicediscovery:GetOperation": 1}
    policy = policy_coverage.render_deployer_policy(provider_binary, tmp_path, [PLATFORM])
    assert policy_coverage.uncovered(called, policy) == []
    for st in policy["Statement"]:
        if isinstance(st["Action"], list) and "ecs:CreateService" in st["Action"]:
            st["Action"].remove("ecs:CreateService")
    assert policy_coverage.uncovered(called, policy) == ["ecs:CreateService"]


def test_a_deployer_policy_without_the_role_listing_still_plans_reading_role_by_role(
        emulator, tf_factory, net):
    """Credentials whose policy predates iam:GetAccountAuthorizationDetails (issue #23): the
    plan's listing of the account's roles is refused once, the process reads role by role for
    the rest of the plan, warns once in the log, and the plan is clean."""
    policy = deployer_policy(emulator, tf_factory)
    for st in policy["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        st["Action"] = [a for a in actions if a != "iam:GetAccountAuthorizationDetails"]
    policy["Statement"] = [st for st in policy["Statement"] if st["Action"]]
    env = ci_credentials(emulator, policy)
    emulator.settings(authorize_requests=True)
    tf = as_ci(tf_factory("main"), env)
    tf.write(config(emulator, net, canary=False))
    tf.apply()
    emulator.clear_requests()
    plan = tf.plan(env={"TF_LOG_PROVIDER": "WARN"})
    assert plan.returncode == 0, plan.output
    iam = [r for r in emulator.requests(service="iam")]
    listings = [r for r in iam if r["operation"] == "GetAccountAuthorizationDetails"]
    assert len(listings) == 1 and listings[0].get("denied"), listings
    assert {r["operation"] for r in iam if not r.get("denied")} >= {"GetRole", "ListRolePolicies"}
    warnings = [line for line in plan.stderr.splitlines()
                if "reading IAM roles one by one" in line]
    assert len(warnings) == 1, plan.stderr[-3000:]
