"""Acceptance tests for matbakh_platform: the real terraform CLI, the real provider binary,
the local AWS emulator. Every test starts from an empty emulator (conftest.emulator).
The lifecycle runs on both backends (fixture `backend`): service_connect (a cluster whose Service
Connect defaults name a Cloud Map HTTP namespace by ARN) and app_mesh (cluster, mesh, private
DNS namespace in a VPC)."""

from __future__ import annotations

import json

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block

pytestmark = pytest.mark.platform

NAME = "matbakh"
NAMESPACE = "svc.local"
DEFAULT_TAGS = {"project": "matbakh", "team": "platform"}
ADDR = "matbakh_platform.main"


SC, AM = "service_connect", "app_mesh"


@pytest.fixture(params=[SC, AM])
def backend(request) -> str:
    """The provider's service_mesh the test runs on."""
    return request.param


@pytest.fixture
def vpc_id(emulator) -> str:
    ec2 = emulator.client("ec2", strict_shapes=False)
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def config(emulator, vpc_id: str, attrs: str = "", provider: dict | None = None,
           name: str = NAME, mesh: str = AM) -> dict[str, str]:
    """A platform on backend `mesh`; `vpc_id` is written on app_mesh only (an error on
    service_connect)."""
    p = {"endpoint": emulator.endpoint, "default_tags": DEFAULT_TAGS, "service_mesh": mesh}
    p.update(provider or {})
    vpc_line = f"  vpc_id = {json.dumps(vpc_id)}\n" if mesh == AM else ""
    return {"main.tf": (
        REQUIRED_PROVIDERS
        + provider_block(**p)
        + 'resource "matbakh_platform" "main" {\n'
        + f"  name   = {json.dumps(name)}\n"
        + vpc_line
        + attrs
        + "}\n"
        + 'output "platform" {\n  value = matbakh_platform.main\n}\n'
    )}


# ---------------------------------------------------------------------------- emulator views


def cluster(emulator, name: str = NAME) -> dict | None:
    out = emulator.client("ecs").describe_clusters(clusters=[name], include=["TAGS", "SETTINGS"])
    live = [c for c in out["clusters"] if c["status"] == "ACTIVE"]
    return live[0] if live else None


def mesh(emulator, name: str = NAME) -> dict | None:
    am = emulator.client("appmesh")
    if name not in [m["meshName"] for m in am.list_meshes()["meshes"]]:
        return None
    return am.describe_mesh(meshName=name)["mesh"]


def namespaces(emulator, name: str = NAMESPACE) -> list[dict]:
    sd = emulator.client("servicediscovery")
    return [n for n in sd.list_namespaces()["Namespaces"] if n["Name"] == name]


def ecs_tags(c: dict) -> dict:
    return {t["key"]: t["value"] for t in c.get("tags", [])}


def mesh_tags(emulator, arn: str) -> dict:
    tags = emulator.client("appmesh").list_tags_for_resource(resourceArn=arn)["tags"]
    return {t["key"]: t["value"] for t in tags}


def ns_tags(emulator, arn: str) -> dict:
    tags = emulator.client("servicediscovery").list_tags_for_resource(ResourceARN=arn)["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def settings_of(c: dict) -> dict:
    return {s["name"]: s["value"] for s in c.get("settings", [])}


def assert_nothing_created(emulator) -> None:
    assert emulator.client("ecs").list_clusters()["clusterArns"] == [], "an ECS cluster was created"
    assert emulator.client("appmesh").list_meshes()["meshes"] == [], "a mesh was created"
    assert emulator.client("servicediscovery").list_namespaces()["Namespaces"] == [], \
        "a Cloud Map namespace was created"


def assert_platform_exists(emulator, vpc_id: str, egress: str = "DROP_ALL", insights: str = "enabled",
                           mesh_kind: str = AM) -> None:
    owner = {**DEFAULT_TAGS, "matbakh:owner": NAME}
    c = cluster(emulator)
    assert c is not None, "ECS cluster missing"
    assert set(c["capacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    assert settings_of(c).get("containerInsights") == insights
    assert ecs_tags(c).items() >= owner.items(), ecs_tags(c)
    if mesh_kind == SC:
        assert mesh(emulator) is None, "a mesh on service_connect"
        [ns] = namespaces(emulator)
        assert ns["Type"] == "HTTP"
        assert ns_tags(emulator, ns["Arn"]).items() >= owner.items()
        assert c.get("serviceConnectDefaults", {}).get("namespace") == ns["Arn"], c
        creates = emulator.requests("ecs", "CreateCluster") + emulator.requests("ecs", "UpdateCluster")
        for r in creates:
            sent = json.loads(r["body"]).get("serviceConnectDefaults", {}).get("namespace")
            assert sent is None or sent.startswith("arn:aws:servicediscovery:"), \
                f"the namespace went by name: {sent}"
        assert emulator.requests("servicediscovery", "CreatePrivateDnsNamespace") == []
        return

    m = mesh(emulator)
    assert m is not None, "mesh missing"
    assert m["spec"]["egressFilter"]["type"] == egress
    assert mesh_tags(emulator, m["metadata"]["arn"]).items() >= owner.items()

    [ns] = namespaces(emulator)
    assert ns["Type"] == "DNS_PRIVATE"
    assert ns_tags(emulator, ns["Arn"]).items() >= owner.items()
    creates = emulator.requests("servicediscovery", "CreatePrivateDnsNamespace")
    assert creates and all(json.loads(r["body"])["Vpc"] == vpc_id for r in creates)


# ---------------------------------------------------------------------------- tests


def test_apply_creates_the_platform(emulator, tf, vpc_id, backend):
    tf.write(config(emulator, vpc_id, mesh=backend))
    tf.apply()

    assert_platform_exists(emulator, vpc_id, mesh_kind=backend)
    state = tf.resource(ADDR)
    assert state["service_mesh"] == backend
    if backend == SC:
        c, [ns] = cluster(emulator), namespaces(emulator)
        assert state["cluster_arn"] == c["clusterArn"]
        assert (state["namespace_id"], state["namespace_arn"]) == (ns["Id"], ns["Arn"])
        assert state["mesh_name"] is None and state["mesh_egress"] is None
        assert set(state["components"]) == {"cluster", "namespace"}
        return
    c, m, [ns] = cluster(emulator), mesh(emulator), namespaces(emulator)
    assert state["id"] == NAME
    assert state["cluster_arn"] == c["clusterArn"]
    assert state["mesh_name"] == m["meshName"] == NAME
    assert state["namespace_id"] == ns["Id"]
    assert state["namespace_arn"] == ns["Arn"]
    # Defaults from the contract.
    assert state["namespace"] == NAMESPACE
    assert state["container_insights"] is True
    assert state["mesh_egress"] == "DROP_ALL"
    assert tf.output("platform")["id"] == NAME


def test_plan_after_apply_is_empty(emulator, tf, vpc_id, backend):
    tf.write(config(emulator, vpc_id, mesh=backend))
    tf.apply()
    emulator.clear_requests()
    plan = tf.plan()
    assert plan.returncode == 0, plan.output
    mutating = [(r["service"], r["operation"]) for r in emulator.requests()
                if r["operation"].startswith(("Create", "Update", "Delete", "Put", "Tag", "Untag",
                                              "Register", "Deregister"))]
    assert mutating == [], f"plan sent mutating calls: {mutating}"


def test_update_in_place(emulator, tf, vpc_id, backend):
    tf.write(config(emulator, vpc_id, mesh=backend))
    tf.apply()
    arn_before = cluster(emulator)["clusterArn"]
    ns_before = namespaces(emulator)[0]["Id"]

    egress = '  mesh_egress        = "ALLOW_ALL"\n' if backend == AM else ""
    tf.write(config(emulator, vpc_id, mesh=backend, attrs=egress + "  container_insights = false\n"))
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    assert "update in-place" in plan.output, plan.output
    assert "must be replaced" not in plan.output, plan.output
    tf.apply()

    assert_platform_exists(emulator, vpc_id, egress="ALLOW_ALL", insights="disabled", mesh_kind=backend)
    assert cluster(emulator)["clusterArn"] == arn_before
    assert namespaces(emulator)[0]["Id"] == ns_before
    state = tf.resource(ADDR)
    assert state["container_insights"] is False
    if backend == AM:
        assert state["mesh_egress"] == "ALLOW_ALL"
    assert tf.plan().returncode == 0


def test_drift_deleted_mesh_is_detected_and_recreated(emulator, tf, vpc_id):
    tf.write(config(emulator, vpc_id))
    tf.apply()
    emulator.client("appmesh").delete_mesh(meshName=NAME)

    plan = tf.plan()
    assert plan.returncode == 2, f"plan did not notice the deleted mesh:\n{plan.output}"
    tf.apply()
    assert_platform_exists(emulator, vpc_id)
    plan = tf.plan()
    assert plan.returncode == 0, plan.output


def test_drift_changed_insights_is_reverted(emulator, tf, vpc_id, backend):
    tf.write(config(emulator, vpc_id, mesh=backend))
    tf.apply()
    emulator.client("ecs").update_cluster_settings(
        cluster=NAME, settings=[{"name": "containerInsights", "value": "disabled"}])
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    tf.apply()
    assert_platform_exists(emulator, vpc_id, mesh_kind=backend)
    assert tf.plan().returncode == 0


def test_drift_service_connect_defaults_removed_is_repaired(emulator, tf, vpc_id):
    tf.write(config(emulator, vpc_id, mesh=SC))
    tf.apply()
    emulator.client("ecs").update_cluster(cluster=NAME, serviceConnectDefaults={"namespace": ""})
    assert "serviceConnectDefaults" not in cluster(emulator) or \
        not cluster(emulator)["serviceConnectDefaults"].get("namespace")
    emulator.clear_requests()  # the out-of-band removal above sent "" on purpose
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    tf.apply()
    assert_platform_exists(emulator, vpc_id, mesh_kind=SC)
    assert tf.plan().returncode == 0


def test_drift_changed_egress_is_reverted(emulator, tf, vpc_id):
    tf.write(config(emulator, vpc_id))
    tf.apply()
    emulator.client("appmesh").update_mesh(meshName=NAME, spec={"egressFilter": {"type": "ALLOW_ALL"}})
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    tf.apply()
    assert mesh(emulator)["spec"]["egressFilter"]["type"] == "DROP_ALL"
    assert tf.plan().returncode == 0


def test_import(emulator, tf_factory, vpc_id, backend):
    first = tf_factory("first")
    first.write(config(emulator, vpc_id, mesh=backend))
    first.apply()
    original = first.resource(ADDR)

    second = tf_factory("second")
    second.write(config(emulator, vpc_id, mesh=backend))
    second.import_(ADDR, NAME)
    imported = second.resource(ADDR)
    for key in ("id", "cluster_arn", "mesh_name", "namespace_id", "namespace_arn", "namespace",
                "container_insights", "mesh_egress", "vpc_id", "name", "service_mesh"):
        assert imported.get(key) == original.get(key), (key, imported.get(key), original.get(key))
    plan = second.plan()
    assert plan.returncode == 0, plan.output


def test_import_of_missing_platform_fails(emulator, tf, vpc_id):
    tf.write(config(emulator, vpc_id))
    res = tf.import_(ADDR, "does-not-exist", check=False)
    assert res.returncode != 0
    assert tf.state_list() == []


def test_destroy_leaves_nothing(emulator, tf, vpc_id, backend):
    tf.write(config(emulator, vpc_id, mesh=backend))
    tf.apply()
    tf.destroy()
    assert cluster(emulator) is None, "ECS cluster still ACTIVE"
    assert mesh(emulator) is None, "mesh still exists"
    assert namespaces(emulator) == [], "namespace still exists"
    assert emulator.client("appmesh").list_meshes()["meshes"] == []
    assert emulator.client("servicediscovery").list_namespaces()["Namespaces"] == []
    assert emulator.client("servicediscovery").list_services()["Services"] == []


@pytest.mark.parametrize("fault", [
    ("ecs", "CreateCluster"),
    ("appmesh", "CreateMesh"),
    ("servicediscovery", "CreatePrivateDnsNamespace"),
])
def test_failed_apply_converges_on_next_apply(emulator, tf, vpc_id, fault):
    service, operation = fault
    tf.write(config(emulator, vpc_id))
    emulator.inject_fault(service, operation, count=1, message=f"injected fault in {operation}")
    res = tf.apply(check=False)
    assert res.returncode != 0, res.output
    # Terraform wraps diagnostics: compare with whitespace collapsed.
    assert f"injected fault in {operation}" in " ".join(res.output.split()), \
        f"the AWS error message is not in the diagnostics:\n{res.output}"

    tf.apply()
    assert_platform_exists(emulator, vpc_id)
    assert len(emulator.client("ecs").list_clusters()["clusterArns"]) == 1
    assert len(emulator.client("appmesh").list_meshes()["meshes"]) == 1
    assert len(emulator.client("servicediscovery").list_namespaces()["Namespaces"]) == 1
    plan = tf.plan()
    assert plan.returncode == 0, plan.output


@pytest.mark.parametrize("fault", [
    ("ecs", "CreateCluster"),
    ("servicediscovery", "CreateHttpNamespace"),
])
def test_failed_apply_converges_on_next_apply_on_service_connect(emulator, tf, vpc_id, fault):
    service, operation = fault
    tf.write(config(emulator, vpc_id, mesh=SC))
    emulator.inject_fault(service, operation, count=1, message=f"injected fault in {operation}")
    res = tf.apply(check=False)
    assert res.returncode != 0, res.output
    assert f"injected fault in {operation}" in " ".join(res.output.split()), res.output
    tf.apply()
    assert_platform_exists(emulator, vpc_id, mesh_kind=SC)
    assert len(emulator.client("ecs").list_clusters()["clusterArns"]) == 1
    assert len(emulator.client("servicediscovery").list_namespaces()["Namespaces"]) == 1
    assert tf.plan().returncode == 0


BAD_CONFIGS = {
    "environment": dict(provider={"environment": "prod"}),
    "service_mesh": dict(provider={"service_mesh": "istio"}),
    "mesh_egress-on-service-connect": dict(mesh=SC, attrs='  mesh_egress = "DROP_ALL"\n'),
    "vpc_id-on-service-connect": dict(mesh=SC, attrs='  vpc_id = "vpc-0123456789abcdef0"\n'),
    "namespace-too-long-for-service-connect": dict(mesh=SC, attrs=f'  namespace = "{"a" * 63}.bbbbbbbbbb"\n'),
    "endpoint": dict(provider={"endpoint": "not a url"}),
    "name-empty": dict(name=""),
    "name-chars": dict(name="bad name!"),
    "mesh_egress": dict(attrs='  mesh_egress = "SOMETIMES"\n'),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_config_fails_at_plan(emulator, tf, vpc_id, case):
    attribute = case.split("-")[0]
    kw = dict(BAD_CONFIGS[case])
    tf.write(config(emulator, vpc_id, **kw))
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.output
    assert "Error:" in plan.output, plan.output
    errors = plan.output[plan.output.index("Error:"):]
    assert attribute in errors, f"error does not name {attribute!r}:\n{errors}"
    apply = tf.apply(check=False)
    assert apply.returncode != 0
    assert_nothing_created(emulator)


SECRET = "matbakhTestSecretKey0123456789abcdefEXAMPLE"


def test_debug_log_has_provider_lines_and_no_secret(emulator, tf, vpc_id):
    tf.write(config(emulator, vpc_id))
    env = {"TF_LOG": "DEBUG", "AWS_ACCESS_KEY_ID": "AKIAMATBAKHTEST00001",
           "AWS_SECRET_ACCESS_KEY": SECRET}
    plan = tf.plan(env=env)
    assert plan.returncode == 2, plan.output
    provider_lines = [line for line in plan.output.splitlines()
                      if "provider.terraform-provider-matbakh" in line]
    assert provider_lines, "no log lines from the provider"
    assert any("configuring matbakh provider" in line for line in provider_lines), \
        "\n".join(provider_lines[:50])
    assert SECRET not in plan.output, "the secret access key is in the debug log"
    apply = tf.apply(env=env)
    assert SECRET not in apply.output, "the secret access key is in the debug log of apply"
    assert SECRET not in (tf.workdir / "terraform.tfstate").read_text()
