"""Self-tests of the local AWS emulator (moto 5.2.5 + emulator/extensions).

They pin down the behaviour the provider's acceptance tests rely on: every API the provider
calls, the fixes over plain moto (see emulator/README.md), fault injection and reset.
All clients are "strict": a response the Rust SDK could not parse fails the call
(harness/strict.py). CloudWatch is also exercised over Smithy RPCv2 CBOR, the protocol
aws-sdk-cloudwatch speaks.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.emulator

MESH = "matbakh"
ACCOUNT = "123456789012"


def err(exc: pytest.ExceptionInfo) -> tuple[str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def raw(endpoint: str, method: str, path: str, body: bytes | None = None,
        headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(endpoint + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def sigv4_headers(service: str, target: str | None = None,
                  content_type: str = "application/x-amz-json-1.1") -> dict:
    """Enough of a SigV4 Authorization header for routing (the emulator does not verify it)."""
    h = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20250101/eu-central-1/{service}/aws4_request, "
                         "SignedHeaders=host;x-amz-date, Signature=0",
        "X-Amz-Date": "20250101T000000Z",
        "Content-Type": content_type,
    }
    if target:
        h["X-Amz-Target"] = target
    return h


@pytest.fixture
def vpc(emulator):
    ec2 = emulator.client("ec2", strict_shapes=False)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc_id)["GroupId"]
    return {"vpc": vpc_id, "subnet": subnet, "sg": sg}


# ============================================================================ App Mesh

VN_SPEC = {
    "listeners": [{
        "portMapping": {"port": 8080, "protocol": "http"},
        "healthCheck": {"protocol": "http", "path": "/health", "port": 8080, "intervalMillis": 30000,
                        "timeoutMillis": 5000, "unhealthyThreshold": 3, "healthyThreshold": 2},
        "outlierDetection": {"maxServerErrors": 5, "interval": {"unit": "s", "value": 30},
                             "baseEjectionDuration": {"unit": "s", "value": 30},
                             "maxEjectionPercent": 50},
        "connectionPool": {"http": {"maxConnections": 1024, "maxPendingRequests": 1024}},
        "timeout": {"http": {"perRequest": {"unit": "s", "value": 15},
                             "idle": {"unit": "s", "value": 300}}},
        "tls": {"mode": "STRICT", "certificate": {"acm": {
            "certificateArn": f"arn:aws:acm:eu-central-1:{ACCOUNT}:certificate/abc"}}},
    }],
    "serviceDiscovery": {"awsCloudMap": {
        "namespaceName": "svc.local", "serviceName": "auth-service",
        "attributes": [{"key": "ECS_TASK_DEFINITION_FAMILY", "value": "auth-service"}]}},
    "backends": [{"virtualService": {"virtualServiceName": "persona-service.svc.local"}}],
    "backendDefaults": {"clientPolicy": {"tls": {"enforce": True, "ports": [], "validation": {
        "trust": {"acm": {"certificateAuthorityArns": [
            f"arn:aws:acm-pca:eu-central-1:{ACCOUNT}:certificate-authority/ca"]}}}}}},
    "logging": {"accessLog": {"file": {"path": "/dev/stdout"}}},
}

ROUTE_SPEC = {
    "priority": 1,
    "httpRoute": {
        "match": {"prefix": "/"},
        "action": {"weightedTargets": [{"virtualNode": "auth-service", "weight": 95},
                                       {"virtualNode": "auth-service-canary", "weight": 5}]},
        "retryPolicy": {"maxRetries": 3, "perRetryTimeout": {"unit": "ms", "value": 2000},
                        "httpRetryEvents": ["server-error", "gateway-error"],
                        "tcpRetryEvents": ["connection-error"]},
        "timeout": {"perRequest": {"unit": "s", "value": 15}, "idle": {"unit": "s", "value": 300}},
    },
}


def make_mesh_graph(am, mesh=MESH):
    am.create_mesh(meshName=mesh, spec={"egressFilter": {"type": "DROP_ALL"}},
                   tags=[{"key": "matbakh:owner", "value": mesh}])
    am.create_virtual_node(meshName=mesh, virtualNodeName="auth-service", spec=VN_SPEC)
    am.create_virtual_node(meshName=mesh, virtualNodeName="auth-service-canary", spec=VN_SPEC)
    am.create_virtual_router(meshName=mesh, virtualRouterName="auth-service",
                             spec={"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]})
    am.create_route(meshName=mesh, virtualRouterName="auth-service", routeName="auth-service",
                    spec=ROUTE_SPEC)
    return am.create_virtual_service(
        meshName=mesh, virtualServiceName="auth-service.svc.local",
        spec={"provider": {"virtualRouter": {"virtualRouterName": "auth-service"}}},
        tags=[{"key": "matbakh:owner", "value": "auth-service"}])["virtualService"]


def test_appmesh_mesh_lifecycle(emulator):
    am = emulator.client("appmesh")
    m = am.create_mesh(meshName=MESH, spec={"egressFilter": {"type": "DROP_ALL"}},
                       tags=[{"key": "project", "value": "matbakh"}])["mesh"]
    assert m["metadata"]["arn"] == f"arn:aws:appmesh:eu-central-1:{ACCOUNT}:mesh/{MESH}"
    assert m["metadata"]["meshOwner"] == ACCOUNT
    assert m["status"]["status"] == "ACTIVE"
    assert am.describe_mesh(meshName=MESH)["mesh"]["spec"]["egressFilter"]["type"] == "DROP_ALL"
    u = am.update_mesh(meshName=MESH, spec={"egressFilter": {"type": "ALLOW_ALL"}})["mesh"]
    assert u["spec"]["egressFilter"]["type"] == "ALLOW_ALL"
    assert u["metadata"]["version"] == 2
    assert am.list_tags_for_resource(resourceArn=m["metadata"]["arn"])["tags"] == [
        {"key": "project", "value": "matbakh"}]
    assert [x["meshName"] for x in am.list_meshes()["meshes"]] == [MESH]
    # Default egress filter is DROP_ALL, as in AWS.
    assert am.create_mesh(meshName="other")["mesh"]["spec"]["egressFilter"]["type"] == "DROP_ALL"
    assert am.delete_mesh(meshName=MESH)["mesh"]["status"]["status"] == "DELETED"
    with pytest.raises(ClientError) as e:
        am.describe_mesh(meshName=MESH)
    assert err(e) == ("NotFoundException", 404)


def test_appmesh_errors_have_aws_codes(emulator):
    am = emulator.client("appmesh")
    am.create_mesh(meshName=MESH)
    with pytest.raises(ClientError) as e:
        am.create_mesh(meshName=MESH)
    assert err(e) == ("ConflictException", 409)
    with pytest.raises(ClientError) as e:
        am.describe_virtual_node(meshName=MESH, virtualNodeName="nope")
    assert err(e) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as e:
        am.describe_route(meshName=MESH, virtualRouterName="nope", routeName="nope")
    assert err(e) == ("NotFoundException", 404)
    am.create_virtual_node(meshName=MESH, virtualNodeName="n", spec=VN_SPEC)
    with pytest.raises(ClientError) as e:
        am.create_virtual_node(meshName=MESH, virtualNodeName="n", spec=VN_SPEC)
    assert err(e) == ("ConflictException", 409)
    for call in (lambda: am.create_mesh(meshName="x", spec={"egressFilter": {"type": "SOMETIMES"}}),
                 lambda: am.update_mesh(meshName=MESH, spec={"egressFilter": {"type": "SOMETIMES"}})):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("BadRequestException", 400)


def test_appmesh_create_is_idempotent_with_client_token(emulator):
    am = emulator.client("appmesh")
    a = am.create_mesh(meshName=MESH, clientToken="tok-1")["mesh"]
    b = am.create_mesh(meshName=MESH, clientToken="tok-1")["mesh"]
    assert a["metadata"]["uid"] == b["metadata"]["uid"]
    n1 = am.create_virtual_node(meshName=MESH, virtualNodeName="n", spec=VN_SPEC, clientToken="t")
    n2 = am.create_virtual_node(meshName=MESH, virtualNodeName="n", spec=VN_SPEC, clientToken="t")
    assert n1["virtualNode"]["metadata"]["uid"] == n2["virtualNode"]["metadata"]["uid"]
    with pytest.raises(ClientError) as e:
        am.create_virtual_node(meshName=MESH, virtualNodeName="n", spec=VN_SPEC, clientToken="other")
    assert err(e) == ("ConflictException", 409)


def test_appmesh_specs_round_trip_exactly(emulator):
    am = emulator.client("appmesh")
    make_mesh_graph(am)
    vn = am.describe_virtual_node(meshName=MESH, virtualNodeName="auth-service")["virtualNode"]
    assert vn["spec"] == VN_SPEC
    assert vn["metadata"]["arn"].endswith(f"mesh/{MESH}/virtualNode/auth-service")
    rt = am.describe_route(meshName=MESH, virtualRouterName="auth-service",
                           routeName="auth-service")["route"]
    assert rt["spec"] == ROUTE_SPEC
    new_spec = json.loads(json.dumps(ROUTE_SPEC))
    new_spec["httpRoute"]["action"]["weightedTargets"] = [
        {"virtualNode": "auth-service", "weight": 100},
        {"virtualNode": "auth-service-canary", "weight": 0}]
    up = am.update_route(meshName=MESH, virtualRouterName="auth-service", routeName="auth-service",
                         spec=new_spec)["route"]
    assert up["spec"] == new_spec and up["metadata"]["version"] == 2
    assert am.describe_route(meshName=MESH, virtualRouterName="auth-service",
                             routeName="auth-service")["route"]["spec"] == new_spec
    vr = am.describe_virtual_router(meshName=MESH, virtualRouterName="auth-service")["virtualRouter"]
    assert vr["spec"] == {"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]}
    # Resources get their own uid and creation time.
    uids = {vn["metadata"]["uid"], rt["metadata"]["uid"], vr["metadata"]["uid"]}
    assert len(uids) == 3


def test_appmesh_virtual_service_crud_and_tags(emulator):
    am = emulator.client("appmesh")
    vs = make_mesh_graph(am)
    arn = f"arn:aws:appmesh:eu-central-1:{ACCOUNT}:mesh/{MESH}/virtualService/auth-service.svc.local"
    assert vs["metadata"]["arn"] == arn
    assert vs["meshName"] == MESH and vs["virtualServiceName"] == "auth-service.svc.local"
    assert vs["spec"] == {"provider": {"virtualRouter": {"virtualRouterName": "auth-service"}}}
    assert vs["status"] == {"status": "ACTIVE"}
    assert set(vs["metadata"]) == {"arn", "createdAt", "lastUpdatedAt", "meshOwner",
                                   "resourceOwner", "uid", "version"}
    got = am.describe_virtual_service(meshName=MESH, virtualServiceName="auth-service.svc.local")
    assert got["virtualService"]["metadata"]["uid"] == vs["metadata"]["uid"]
    listed = am.list_virtual_services(meshName=MESH)["virtualServices"]
    assert [v["virtualServiceName"] for v in listed] == ["auth-service.svc.local"]
    assert listed[0]["arn"] == arn

    assert am.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "matbakh:owner", "value": "auth-service"}]
    am.tag_resource(resourceArn=arn, tags=[{"key": "matbakh:owner", "value": "x"},
                                           {"key": "env", "value": "dev"}])
    tags = {t["key"]: t["value"] for t in am.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags == {"matbakh:owner": "x", "env": "dev"}
    am.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert am.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "matbakh:owner", "value": "x"}]

    up = am.update_virtual_service(
        meshName=MESH, virtualServiceName="auth-service.svc.local",
        spec={"provider": {"virtualNode": {"virtualNodeName": "auth-service"}}})["virtualService"]
    assert up["metadata"]["version"] == 2
    assert up["spec"]["provider"] == {"virtualNode": {"virtualNodeName": "auth-service"}}

    with pytest.raises(ClientError) as e:
        am.create_virtual_service(meshName=MESH, virtualServiceName="auth-service.svc.local",
                                  spec={"provider": {"virtualRouter": {"virtualRouterName": "auth-service"}}})
    assert err(e) == ("ConflictException", 409)
    with pytest.raises(ClientError) as e:
        am.create_virtual_service(meshName=MESH, virtualServiceName="x.svc.local",
                                  spec={"provider": {"virtualRouter": {"virtualRouterName": "missing"}}})
    assert err(e) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as e:
        am.create_virtual_service(meshName="nomesh", virtualServiceName="x.svc.local", spec={})
    assert err(e) == ("NotFoundException", 404)

    d = am.delete_virtual_service(meshName=MESH, virtualServiceName="auth-service.svc.local")
    assert d["virtualService"]["status"]["status"] == "DELETED"
    with pytest.raises(ClientError) as e:
        am.describe_virtual_service(meshName=MESH, virtualServiceName="auth-service.svc.local")
    assert err(e) == ("NotFoundException", 404)
    assert am.list_virtual_services(meshName=MESH)["virtualServices"] == []


def test_appmesh_refuses_to_delete_resources_in_use(emulator):
    am = emulator.client("appmesh")
    make_mesh_graph(am)
    for call in (lambda: am.delete_mesh(meshName=MESH),
                 lambda: am.delete_virtual_router(meshName=MESH, virtualRouterName="auth-service")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("ResourceInUseException", 409)
    # Delete order that works on AWS: virtual service, routes, router, nodes, mesh.
    am.delete_virtual_service(meshName=MESH, virtualServiceName="auth-service.svc.local")
    with pytest.raises(ClientError) as e:  # router still has its route
        am.delete_virtual_router(meshName=MESH, virtualRouterName="auth-service")
    assert err(e) == ("ResourceInUseException", 409)
    am.delete_route(meshName=MESH, virtualRouterName="auth-service", routeName="auth-service")
    am.delete_virtual_router(meshName=MESH, virtualRouterName="auth-service")
    am.delete_virtual_node(meshName=MESH, virtualNodeName="auth-service")
    am.delete_virtual_node(meshName=MESH, virtualNodeName="auth-service-canary")
    am.delete_mesh(meshName=MESH)
    assert am.list_meshes()["meshes"] == []


def test_appmesh_virtual_node_provider_blocks_node_delete(emulator):
    am = emulator.client("appmesh")
    am.create_mesh(meshName=MESH)
    am.create_virtual_node(meshName=MESH, virtualNodeName="n", spec=VN_SPEC)
    am.create_virtual_service(meshName=MESH, virtualServiceName="n.svc.local",
                              spec={"provider": {"virtualNode": {"virtualNodeName": "n"}}})
    with pytest.raises(ClientError) as e:
        am.delete_virtual_node(meshName=MESH, virtualNodeName="n")
    assert err(e) == ("ResourceInUseException", 409)


def test_appmesh_timestamps_are_epoch_numbers_on_the_wire(emulator):
    """moto sends "dd/mm/YYYY, HH:MM:SS" strings, which the Rust SDK cannot parse."""
    am = emulator.client("appmesh", strict_shapes=False)
    am.create_mesh(meshName=MESH)
    status, _, body = raw(emulator.endpoint, "GET", f"/v20190125/meshes/{MESH}",
                          headers=sigv4_headers("appmesh", content_type="application/json"))
    assert status == 200
    md = json.loads(body)["metadata"]
    assert isinstance(md["createdAt"], (int, float)) and isinstance(md["lastUpdatedAt"], (int, float))


# ============================================================================ ECS

TASK_DEF = dict(
    family="auth-service", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
    cpu="1024", memory="2048",
    executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/exec",
    taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/task",
    proxyConfiguration={"type": "APPMESH", "containerName": "envoy", "properties": [
        {"name": "IgnoredUID", "value": "1337"}, {"name": "ProxyIngressPort", "value": "15000"},
        {"name": "ProxyEgressPort", "value": "15001"}, {"name": "AppPorts", "value": "8080"},
        {"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254"}]},
    containerDefinitions=[
        {"name": "app", "image": "repo/auth:1.4.2", "cpu": 512, "memory": 1024, "essential": True,
         "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
         "readonlyRootFilesystem": True, "user": "1000",
         "environment": [{"name": "LOG_LEVEL", "value": "info"}],
         "secrets": [{"name": "DB_PASSWORD",
                      "valueFrom": f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT}:secret:db"}],
         "dependsOn": [{"containerName": "envoy", "condition": "HEALTHY"}],
         "logConfiguration": {"logDriver": "awslogs", "options": {
             "awslogs-group": "/matbakh/auth-service", "awslogs-region": "eu-central-1",
             "awslogs-stream-prefix": "app"}}},
        {"name": "envoy", "image": "envoy:v1", "cpu": 256, "memory": 256, "essential": True,
         "user": "1337",
         "healthCheck": {"command": ["CMD-SHELL", "curl -s http://localhost:9901/ready"],
                         "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 10},
         "environment": [{"name": "APPMESH_RESOURCE_ARN", "value": "arn:vn"}]},
    ],
    tags=[{"key": "matbakh:owner", "value": "auth-service"}],
)


def make_cluster(ecs, name="matbakh"):
    return ecs.create_cluster(
        clusterName=name, capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        settings=[{"name": "containerInsights", "value": "enabled"}],
        tags=[{"key": "matbakh:owner", "value": name}])["cluster"]


def make_service(ecs, vpc, td_arn, name="auth-service", **extra):
    args = dict(
        cluster="matbakh", serviceName=name, taskDefinition=td_arn, desiredCount=2,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                                  {"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                 "maximumPercent": 200, "minimumHealthyPercent": 100},
        serviceRegistries=[{"registryArn": f"arn:aws:servicediscovery:eu-central-1:{ACCOUNT}:service/srv-1"}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": [vpc["subnet"]],
                                                      "securityGroups": [vpc["sg"]],
                                                      "assignPublicIp": "DISABLED"}},
        propagateTags="SERVICE", enableECSManagedTags=True,
        tags=[{"key": "matbakh:owner", "value": name}])
    args.update(extra)
    return ecs.create_service(**args)["service"]


def test_ecs_cluster(emulator):
    ecs = emulator.client("ecs")
    c = make_cluster(ecs)
    assert c["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    d = ecs.describe_clusters(clusters=["matbakh"], include=["TAGS", "SETTINGS"])["clusters"][0]
    assert d["status"] == "ACTIVE"
    assert d["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert d["tags"] == [{"key": "matbakh:owner", "value": "matbakh"}]
    assert "tags" not in ecs.describe_clusters(clusters=["matbakh"])["clusters"][0]
    ecs.update_cluster_settings(cluster="matbakh", settings=[{"name": "containerInsights", "value": "disabled"}])
    ecs.update_cluster(cluster="matbakh", settings=[{"name": "containerInsights", "value": "disabled"}])
    ecs.put_cluster_capacity_providers(
        cluster="matbakh", capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    d = ecs.describe_clusters(clusters=["matbakh"], include=["SETTINGS"])["clusters"][0]
    assert d["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    assert d["defaultCapacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    # CreateCluster on an existing ACTIVE cluster returns it unchanged.
    again = ecs.create_cluster(clusterName="matbakh")["cluster"]
    assert again["clusterArn"] == c["clusterArn"]
    ecs.tag_resource(resourceArn=c["clusterArn"], tags=[{"key": "a", "value": "b"}])
    assert {"key": "a", "value": "b"} in ecs.list_tags_for_resource(resourceArn=c["clusterArn"])["tags"]
    assert ecs.delete_cluster(cluster="matbakh")["cluster"]["status"] == "INACTIVE"
    assert ecs.describe_clusters(clusters=["matbakh"])["clusters"][0]["status"] == "INACTIVE"


def test_ecs_task_definition_round_trip(emulator):
    ecs = emulator.client("ecs")
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]
    got = ecs.describe_task_definition(taskDefinition=td["taskDefinitionArn"], include=["TAGS"])
    assert got["tags"] == TASK_DEF["tags"]
    t = got["taskDefinition"]
    assert t["proxyConfiguration"] == TASK_DEF["proxyConfiguration"]
    assert (t["cpu"], t["memory"], t["networkMode"]) == ("1024", "2048", "awsvpc")
    app, envoy = t["containerDefinitions"]
    for key in ("readonlyRootFilesystem", "user", "secrets", "dependsOn", "logConfiguration",
                "environment", "portMappings"):
        assert app[key] == TASK_DEF["containerDefinitions"][0][key], key
    assert envoy["healthCheck"] == TASK_DEF["containerDefinitions"][1]["healthCheck"]
    assert ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["revision"] == 2
    assert ecs.deregister_task_definition(taskDefinition=td["taskDefinitionArn"])["taskDefinition"]["status"] == "INACTIVE"
    ecs.delete_task_definitions(taskDefinitions=[td["taskDefinitionArn"]])


def test_ecs_service_reaches_steady_state(emulator, vpc):
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td1 = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    s = make_service(ecs, vpc, td1)
    assert s["status"] == "ACTIVE"
    assert "launchType" not in s
    assert s["capacityProviderStrategy"][1] == {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    assert s["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert s["enableECSManagedTags"] is True and s["propagateTags"] == "SERVICE"
    assert s["runningCount"] == s["desiredCount"] == 2
    [dep] = s["deployments"]
    assert (dep["status"], dep["rolloutState"], dep["runningCount"]) == ("PRIMARY", "COMPLETED", 2)

    d = ecs.describe_services(cluster="matbakh", services=["auth-service"], include=["TAGS"])["services"][0]
    assert d["tags"] == [{"key": "matbakh:owner", "value": "auth-service"}]
    assert d["serviceArn"] == f"arn:aws:ecs:eu-central-1:{ACCOUNT}:service/matbakh/auth-service"

    # New task definition -> new deployment, completed at once.
    td2 = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    u = ecs.update_service(cluster="matbakh", service="auth-service", taskDefinition="auth-service:2",
                           desiredCount=3)["service"]
    assert u["taskDefinition"] == td2
    [dep2] = u["deployments"]
    assert dep2["id"] != dep["id"]
    assert (dep2["rolloutState"], dep2["desiredCount"], dep2["runningCount"], dep2["taskDefinition"]) == \
        ("COMPLETED", 3, 3, td2)
    assert u["runningCount"] == 3
    # Scaling only: same deployment, new counts.
    u = ecs.update_service(cluster="matbakh", service="auth-service", desiredCount=1)["service"]
    assert u["deployments"][0]["id"] == dep2["id"] and u["runningCount"] == 1

    # Duplicate create is refused; the same clientToken is idempotent.
    with pytest.raises(ClientError) as e:
        make_service(ecs, vpc, td2)
    assert err(e)[0] == "InvalidParameterException"

    with pytest.raises(ClientError) as e:
        ecs.delete_cluster(cluster="matbakh")
    assert err(e)[0] == "ClusterContainsServicesException"
    deleted = ecs.delete_service(cluster="matbakh", service="auth-service", force=True)["service"]
    assert deleted["status"] in ("DRAINING", "INACTIVE")
    d = ecs.describe_services(cluster="matbakh", services=["auth-service"])["services"][0]
    assert d["status"] == "INACTIVE" and d["runningCount"] == 0
    with pytest.raises(ClientError) as e:
        ecs.update_service(cluster="matbakh", service="auth-service", desiredCount=1)
    assert err(e)[0] == "ServiceNotActiveException"
    ecs.delete_cluster(cluster="matbakh")


def test_ecs_create_service_idempotent_client_token(emulator, vpc):
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    a = make_service(ecs, vpc, td, clientToken="tok")
    b = make_service(ecs, vpc, td, clientToken="tok")
    assert a["deployments"][0]["id"] == b["deployments"][0]["id"]


def test_ecs_deployment_modes(emulator, vpc):
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    emulator.settings(ecs_deployment="in_progress")
    s = make_service(ecs, vpc, td, name="slow")
    assert s["runningCount"] == 0
    assert s["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    emulator.settings(ecs_deployment="failed")
    s = make_service(ecs, vpc, td, name="broken")
    assert s["deployments"][0]["rolloutState"] == "FAILED"
    assert s["deployments"][0]["failedTasks"] >= 1
    emulator.settings(ecs_deployment="completed")
    u = ecs.update_service(cluster="matbakh", service="broken", forceNewDeployment=True)["service"]
    assert [d["rolloutState"] for d in u["deployments"]] == ["COMPLETED"]
    with pytest.raises(RuntimeError):
        emulator.settings(ecs_deployment="sometimes")


def test_ecs_awsvpc_needs_real_subnets(emulator):
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    with pytest.raises(ClientError) as e:
        make_service(ecs, {"subnet": "subnet-12345678", "sg": "sg-12345678"}, td)
    assert err(e)[0] == "InvalidParameterException"


# ============================================================================ Cloud Map


def test_cloudmap_namespace_async_operations(emulator, vpc):
    sd = emulator.client("servicediscovery")
    op_id = sd.create_private_dns_namespace(Name="svc.local", Vpc=vpc["vpc"], CreatorRequestId="req-1",
                                            Tags=[{"Key": "matbakh:owner", "Value": "matbakh"}])["OperationId"]
    op = sd.get_operation(OperationId=op_id)["Operation"]
    assert (op["Status"], op["Type"]) == ("SUCCESS", "CREATE_NAMESPACE")
    ns_id = op["Targets"]["NAMESPACE"]
    ns = sd.get_namespace(Id=ns_id)["Namespace"]
    assert (ns["Name"], ns["Type"]) == ("svc.local", "DNS_PRIVATE")
    assert ns["Properties"]["DnsProperties"]["HostedZoneId"]
    assert sd.list_tags_for_resource(ResourceARN=ns["Arn"])["Tags"] == [{"Key": "matbakh:owner", "Value": "matbakh"}]
    # Same CreatorRequestId: the same operation again; another one: NamespaceAlreadyExists.
    assert sd.create_private_dns_namespace(Name="svc.local", Vpc=vpc["vpc"],
                                           CreatorRequestId="req-1")["OperationId"] == op_id
    with pytest.raises(ClientError) as e:
        sd.create_private_dns_namespace(Name="svc.local", Vpc=vpc["vpc"], CreatorRequestId="req-2")
    assert err(e)[0] == "NamespaceAlreadyExists"
    assert e.value.response.get("NamespaceId") == ns_id
    # A second namespace with another name in the same VPC is fine (moto alone refuses it).
    op2 = sd.create_private_dns_namespace(Name="other.local", Vpc=vpc["vpc"], CreatorRequestId="r3")
    assert sd.get_operation(OperationId=op2["OperationId"])["Operation"]["Status"] == "SUCCESS"
    names = [n["Name"] for n in sd.list_namespaces(
        Filters=[{"Name": "NAME", "Values": ["svc.local"], "Condition": "EQ"}])["Namespaces"]]
    assert names == ["svc.local"]
    d = sd.delete_namespace(Id=ns_id)["OperationId"]
    assert sd.get_operation(OperationId=d)["Operation"]["Status"] == "SUCCESS"
    with pytest.raises(ClientError) as e:
        sd.get_namespace(Id=ns_id)
    assert err(e)[0] == "NamespaceNotFound"


def test_cloudmap_pending_operations_and_bad_vpc(emulator, vpc):
    sd = emulator.client("servicediscovery")
    emulator.settings(cloudmap_pending_polls=2)
    op_id = sd.create_private_dns_namespace(Name="svc.local", Vpc=vpc["vpc"], CreatorRequestId="a")["OperationId"]
    states = [sd.get_operation(OperationId=op_id)["Operation"]["Status"] for _ in range(3)]
    assert states == ["SUBMITTED", "PENDING", "SUCCESS"]
    emulator.settings(cloudmap_pending_polls=0)
    bad = sd.create_private_dns_namespace(Name="x.local", Vpc="vpc-0000000000", CreatorRequestId="b")
    op = sd.get_operation(OperationId=bad["OperationId"])["Operation"]
    assert op["Status"] == "FAIL" and "vpc-0000000000" in op["ErrorMessage"]
    assert [n["Name"] for n in sd.list_namespaces()["Namespaces"]] == ["svc.local"]


def test_cloudmap_service(emulator, vpc):
    sd = emulator.client("servicediscovery")
    op = sd.create_private_dns_namespace(Name="svc.local", Vpc=vpc["vpc"], CreatorRequestId="ns")
    ns_id = sd.get_operation(OperationId=op["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
    dns = {"NamespaceId": ns_id, "RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]}
    s = sd.create_service(Name="auth-service", NamespaceId=ns_id, CreatorRequestId="svc-1",
                          DnsConfig=dns, HealthCheckCustomConfig={"FailureThreshold": 1},
                          Tags=[{"Key": "matbakh:owner", "Value": "auth-service"}])["Service"]
    assert s["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 10}]
    assert s["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
    assert s["HealthCheckCustomConfig"] == {"FailureThreshold": 1}
    assert sd.get_service(Id=s["Id"])["Service"]["CreatorRequestId"] == "svc-1"
    assert sd.list_tags_for_resource(ResourceARN=s["Arn"])["Tags"] == [{"Key": "matbakh:owner", "Value": "auth-service"}]
    # Retry with the same CreatorRequestId returns the service; another id is refused.
    assert sd.create_service(Name="auth-service", NamespaceId=ns_id, CreatorRequestId="svc-1",
                             DnsConfig=dns)["Service"]["Id"] == s["Id"]
    with pytest.raises(ClientError) as e:
        sd.create_service(Name="auth-service", NamespaceId=ns_id, CreatorRequestId="svc-2", DnsConfig=dns)
    assert err(e)[0] == "ServiceAlreadyExists"
    assert e.value.response.get("ServiceId") == s["Id"]
    with pytest.raises(ClientError) as e:
        sd.create_service(Name="x", NamespaceId="ns-missing", DnsConfig=dns)
    assert err(e)[0] == "NamespaceNotFound"

    op = sd.update_service(Id=s["Id"], Service={"DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 20}]}})
    assert sd.get_operation(OperationId=op["OperationId"])["Operation"]["Status"] == "SUCCESS"
    assert sd.get_service(Id=s["Id"])["Service"]["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 20}]
    listed = sd.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": [ns_id], "Condition": "EQ"}])
    assert [x["Name"] for x in listed["Services"]] == ["auth-service"]
    assert sd.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": ["ns-other"]}])["Services"] == []

    with pytest.raises(ClientError) as e:
        sd.delete_namespace(Id=ns_id)
    assert err(e)[0] == "ResourceInUse"
    sd.delete_service(Id=s["Id"])
    with pytest.raises(ClientError) as e:
        sd.delete_service(Id=s["Id"])
    assert err(e)[0] == "ServiceNotFound"
    sd.delete_namespace(Id=ns_id)


# ============================================================================ CloudWatch

ERROR_RATE_ALARM = dict(
    AlarmName="auth-service-error-rate", ActionsEnabled=True,
    AlarmActions=[f"arn:aws:sns:eu-central-1:{ACCOUNT}:alerts"],
    EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=5.0,
    ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
    Metrics=[
        {"Id": "rate", "Expression": "100 * errors / requests", "Label": "error rate %", "ReturnData": True},
        {"Id": "errors", "ReturnData": False, "MetricStat": {"Period": 60, "Stat": "Sum", "Metric": {
            "Namespace": "matbakh/microservices", "MetricName": "ErrorCount",
            "Dimensions": [{"Name": "ServiceName", "Value": "auth-service"},
                           {"Name": "Environment", "Value": "development"},
                           {"Name": "Region", "Value": "eu-central-1"}]}}},
        {"Id": "requests", "ReturnData": False, "MetricStat": {"Period": 60, "Stat": "Sum", "Metric": {
            "Namespace": "matbakh/microservices", "MetricName": "RequestCount",
            "Dimensions": [{"Name": "ServiceName", "Value": "auth-service"}]}}},
    ],
    Tags=[{"Key": "matbakh:owner", "Value": "auth-service"}],
)
P95_ALARM = dict(
    AlarmName="auth-service-p95-latency", Namespace="matbakh/microservices", MetricName="Latency",
    Dimensions=[{"Name": "ServiceName", "Value": "auth-service"}], ExtendedStatistic="p95",
    Period=60, EvaluationPeriods=3, Threshold=200.0, ComparisonOperator="GreaterThanThreshold",
    Tags=[{"Key": "matbakh:owner", "Value": "auth-service"}],
)


@pytest.mark.parametrize("protocol", ["json", "cbor"])
def test_cloudwatch_alarms_and_dashboards(emulator, protocol):
    cw = emulator.client("cloudwatch") if protocol == "json" else emulator.cbor_client("cloudwatch")
    cw.put_metric_alarm(**ERROR_RATE_ALARM)
    cw.put_metric_alarm(**P95_ALARM)
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(
        AlarmNames=[ERROR_RATE_ALARM["AlarmName"], P95_ALARM["AlarmName"]])["MetricAlarms"]}
    er = alarms["auth-service-error-rate"]
    assert er["Metrics"] == ERROR_RATE_ALARM["Metrics"]
    assert (er["Threshold"], er["EvaluationPeriods"], er["DatapointsToAlarm"]) == (5.0, 3, 2)
    assert er["AlarmActions"] == ERROR_RATE_ALARM["AlarmActions"]
    assert er["StateValue"] in ("OK", "INSUFFICIENT_DATA")
    p95 = alarms["auth-service-p95-latency"]
    assert p95["ExtendedStatistic"] == "p95" and "Statistic" not in p95
    assert cw.list_tags_for_resource(ResourceARN=er["AlarmArn"])["Tags"] == ERROR_RATE_ALARM["Tags"]

    cw.set_alarm_state(AlarmName=P95_ALARM["AlarmName"], StateValue="ALARM", StateReason="test")
    assert [a["AlarmName"] for a in cw.describe_alarms(StateValue="ALARM")["MetricAlarms"]] == [P95_ALARM["AlarmName"]]

    body = json.dumps({"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
                                    "properties": {"metrics": [["matbakh/microservices", "RequestCount",
                                                                "ServiceName", "auth-service"]],
                                                   "region": "eu-central-1", "title": "Requests"}}]})
    cw.put_dashboard(DashboardName="auth-service", DashboardBody=body)
    assert json.loads(cw.get_dashboard(DashboardName="auth-service")["DashboardBody"]) == json.loads(body)
    cw.delete_dashboards(DashboardNames=["auth-service"])
    with pytest.raises(ClientError) as e:
        cw.get_dashboard(DashboardName="auth-service")
    assert err(e)[0] == "ResourceNotFound"
    cw.delete_alarms(AlarmNames=[ERROR_RATE_ALARM["AlarmName"], P95_ALARM["AlarmName"]])
    assert cw.describe_alarms()["MetricAlarms"] == []


def test_cloudwatch_cbor_wire_format(emulator):
    """What the Rust SDK sees: CBOR body, smithy-protocol header, tag-1 timestamps."""
    from botocore.parsers import BaseCBORParser

    cw = emulator.client("cloudwatch")
    cw.put_metric_alarm(**P95_ALARM)
    status, headers, body = raw(
        emulator.endpoint, "POST", "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
        body=b"\xa0", headers={**sigv4_headers("monitoring", content_type="application/cbor"),
                               "smithy-protocol": "rpc-v2-cbor", "Accept": "application/cbor"})
    assert status == 200
    assert headers.get("smithy-protocol") == "rpc-v2-cbor"
    assert headers.get("Content-Type") == "application/cbor"
    assert b"\xc1" in body  # tag 1 (epoch timestamp) present

    class P(BaseCBORParser):
        def _parse_datetime(self, v):
            return ("ts", v)

    p = P()
    data = p.parse_data_item(p.get_peekable_stream_from_bytes(body))
    alarm = data["MetricAlarms"][0]
    assert alarm["AlarmName"] == P95_ALARM["AlarmName"]
    assert alarm["StateUpdatedTimestamp"][0] == "ts"
    assert isinstance(alarm["Threshold"], float) and isinstance(alarm["EvaluationPeriods"], int)

    status, headers, body = raw(
        emulator.endpoint, "POST", "/service/GraniteServiceVersion20100801/operation/GetDashboard",
        body=b"\xa1mDashboardNamednope",
        headers={**sigv4_headers("monitoring", content_type="application/cbor"), "smithy-protocol": "rpc-v2-cbor"})
    assert status == 404
    assert headers.get("x-amzn-query-error", "").startswith("ResourceNotFound;")
    assert p.parse_data_item(p.get_peekable_stream_from_bytes(body))["__type"] == "ResourceNotFound"


# ============================================================================ Logs, Application Auto Scaling


def test_logs(emulator):
    logs = emulator.client("logs")
    name = "/matbakh/development/auth-service"
    logs.create_log_group(logGroupName=name, tags={"matbakh:owner": "auth-service"})
    logs.put_retention_policy(logGroupName=name, retentionInDays=7)
    [g] = logs.describe_log_groups(logGroupNamePrefix="/matbakh/")["logGroups"]
    assert g["retentionInDays"] == 7
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"matbakh:owner": "auth-service"}
    assert logs.list_tags_for_resource(resourceArn=g["logGroupArn"])["tags"] == {"matbakh:owner": "auth-service"}
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName=name, retentionInDays=8)
    assert err(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName=name)
    assert err(e)[0] == "ResourceAlreadyExistsException"
    logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix="/matbakh/")["logGroups"] == []


def test_application_autoscaling(emulator, vpc):
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    make_service(ecs, vpc, td)
    aas = emulator.client("application-autoscaling")
    rid, dim = "service/matbakh/auth-service", "ecs:service:DesiredCount"
    arn = aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=dim,
                                       MinCapacity=1, MaxCapacity=10,
                                       Tags={"matbakh:owner": "auth-service"})["ScalableTargetARN"]
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"matbakh:owner": "auth-service"}
    for metric, target in (("ECSServiceAverageCPUUtilization", 70.0),
                           ("ECSServiceAverageMemoryUtilization", 80.0)):
        aas.put_scaling_policy(
            PolicyName=f"auth-service-{metric}", ServiceNamespace="ecs", ResourceId=rid,
            ScalableDimension=dim, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": target, "ScaleInCooldown": 60, "ScaleOutCooldown": 60,
                "PredefinedMetricSpecification": {"PredefinedMetricType": metric}})
    pols = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=rid)["ScalingPolicies"]
    assert sorted(p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in pols) == [70.0, 80.0]
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=dim,
                                 MinCapacity=2, MaxCapacity=4)
    [t] = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])["ScalableTargets"]
    assert (t["MinCapacity"], t["MaxCapacity"]) == (2, 4)
    aas.delete_scaling_policy(PolicyName="auth-service-ECSServiceAverageCPUUtilization",
                              ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=dim)
    aas.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=dim)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []


# ============================================================================ fault injection


def test_fault_rest_json_appmesh(emulator):
    am = emulator.client("appmesh")
    am.create_mesh(meshName=MESH)
    am.create_virtual_node(meshName=MESH, virtualNodeName="n", spec=VN_SPEC)
    am.create_virtual_router(meshName=MESH, virtualRouterName="r",
                             spec={"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]})
    emulator.inject_fault("appmesh", "CreateRoute", count=1)
    with pytest.raises(ClientError) as e:
        am.create_route(meshName=MESH, virtualRouterName="r", routeName="x", spec=ROUTE_SPEC)
    assert err(e) == ("BadRequestException", 400)
    assert e.value.response["Error"]["Message"] == "injected fault"
    # Only `count` requests fail; other operations are untouched.
    am.create_route(meshName=MESH, virtualRouterName="r", routeName="x", spec=ROUTE_SPEC)
    state = emulator.faults()
    assert [f["operation"] for f in state["fired"]] == ["CreateRoute"]
    assert state["faults"][0]["count"] == 0


def test_fault_wire_shape_json_protocol(emulator):
    emulator.inject_fault("ecs", "CreateCluster", status=500, code="ServerException", message="boom")
    status, headers, body = raw(emulator.endpoint, "POST", "/", body=b'{"clusterName": "x"}',
                                headers=sigv4_headers("ecs", "AmazonEC2ContainerServiceV20141113.CreateCluster"))
    assert status == 500
    assert headers["x-amzn-ErrorType"] == "ServerException"
    assert json.loads(body) == {"__type": "ServerException", "message": "boom"}
    assert emulator.client("ecs").list_clusters()["clusterArns"] == []


def test_fault_match_after_and_clear(emulator):
    logs = emulator.client("logs")
    emulator.inject_fault("cloudwatchlogs", "CreateLogGroup", count=5, match="/b", after=1)
    logs.create_log_group(logGroupName="/a")           # no match
    logs.create_log_group(logGroupName="/b1")          # matches, skipped by after=1
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="/b2")
    assert err(e) == ("InvalidParameterException", 400)
    emulator.clear_faults()
    logs.create_log_group(logGroupName="/b2")
    assert emulator.faults() == {"faults": [], "fired": []}


def test_fault_cbor_and_wildcard(emulator):
    cw = emulator.cbor_client("cloudwatch")
    emulator.inject_fault("cloudwatch", "*", count=1, code="LimitExceeded")
    with pytest.raises(ClientError) as e:
        cw.put_metric_alarm(**P95_ALARM)
    assert err(e) == ("LimitExceeded", 400)
    cw.put_metric_alarm(**P95_ALARM)


def test_fault_cloudmap_and_autoscaling(emulator):
    emulator.inject_fault("cloudmap", "ListNamespaces")
    emulator.inject_fault("application-autoscaling", "DescribeScalableTargets", code="ConcurrentUpdateException")
    with pytest.raises(ClientError) as e:
        emulator.client("servicediscovery").list_namespaces()
    assert err(e) == ("InvalidInput", 400)
    with pytest.raises(ClientError) as e:
        emulator.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    assert err(e) == ("ConcurrentUpdateException", 400)


def test_fault_requires_service_and_operation(emulator):
    with pytest.raises(RuntimeError):
        emulator._http("POST", "/_matbakh/faults", {"operation": "CreateRoute"})


# ============================================================================ reset, request log, misc


def test_reset_wipes_everything(emulator, vpc):
    am = emulator.client("appmesh")
    make_mesh_graph(am)
    emulator.client("ecs").create_cluster(clusterName="c")
    emulator.client("servicediscovery").create_private_dns_namespace(Name="svc.local", Vpc=vpc["vpc"])
    emulator.client("logs").create_log_group(logGroupName="/g")
    emulator.client("cloudwatch").put_metric_alarm(**P95_ALARM)
    emulator.inject_fault("ecs", "ListClusters", count=10)
    emulator.settings(ecs_deployment="failed")
    assert emulator.requests()

    emulator.reset()

    assert emulator.faults() == {"faults": [], "fired": []}
    assert emulator.settings()["ecs_deployment"] == "completed"
    assert emulator.requests() == []
    assert am.list_meshes()["meshes"] == []
    am.create_mesh(meshName=MESH)  # same name again: no leftovers from the old mesh
    assert am.list_virtual_services(meshName=MESH)["virtualServices"] == []
    assert emulator.client("ecs").list_clusters()["clusterArns"] == []
    assert emulator.client("servicediscovery").list_namespaces()["Namespaces"] == []
    assert emulator.client("logs").describe_log_groups()["logGroups"] == []
    assert emulator.client("cloudwatch").describe_alarms()["MetricAlarms"] == []


def test_request_log(emulator):
    am = emulator.client("appmesh")
    am.create_mesh(meshName=MESH, spec={"egressFilter": {"type": "ALLOW_ALL"}})
    am.describe_mesh(meshName=MESH)
    emulator.cbor_client().describe_alarms()
    reqs = emulator.requests()
    assert [(r["service"], r["operation"], r["status"]) for r in reqs] == [
        ("appmesh", "CreateMesh", 200), ("appmesh", "DescribeMesh", 200),
        ("monitoring", "DescribeAlarms", 200)]
    assert json.loads(reqs[0]["body"])["spec"]["egressFilter"]["type"] == "ALLOW_ALL"
    emulator.clear_requests()
    assert emulator.requests() == []


def test_unimplemented_operation_is_an_aws_error_not_html(emulator):
    with pytest.raises(ClientError) as e:
        emulator.client("ecs").describe_service_deployments(serviceDeploymentArns=["arn:x"])
    code, status = err(e)
    assert (code, status) == ("NotImplemented", 501)


# ============================================================================ emu-strict: request validation
# Every AWS request is checked against botocore's input shape before moto sees it
# (emulator/extensions/validation.py). Clients here skip botocore's own client-side validation
# (parameter_validation=False) so the bad request reaches the emulator, as it would reach AWS
# from an SDK that does not validate (the Rust SDK checks required members only).


def loose_client(emulator, service: str, region: str = "eu-central-1"):
    from botocore.config import Config

    from harness import strict

    return strict.attach(emulator._session.client(
        service, region_name=region, endpoint_url=emulator.endpoint,
        config=Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"})))


def region_client(emulator, service: str, region: str):
    from botocore.config import Config

    from harness import strict

    return strict.attach(emulator._session.client(
        service, region_name=region, endpoint_url=emulator.endpoint,
        config=Config(retries={"max_attempts": 1, "mode": "standard"})))


def refused(exc: pytest.ExceptionInfo) -> tuple[str, int, str]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


class TestRequestValidation:
    def test_ecs_range_enum_and_required_in_aws_words(self, emulator):
        ecs = loose_client(emulator, "ecs")
        with pytest.raises(ClientError) as e:
            ecs.create_service(cluster="c", serviceName="s", taskDefinition="td:1",
                               capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1001}])
        assert refused(e) == (
            "InvalidParameterException", 400,
            "1 validation error detected: Value '1001' at 'capacityProviderStrategy.1.member.weight' "
            "failed to satisfy constraint: Member must have value less than or equal to 1000")
        with pytest.raises(ClientError) as e:
            ecs.update_service(service="s", deploymentConfiguration={"strategy": "RED_BLACK"})
        assert refused(e)[2] == (
            "1 validation error detected: Value 'RED_BLACK' at 'deploymentConfiguration.strategy' "
            "failed to satisfy constraint: Member must satisfy enum value set: "
            "[ROLLING, BLUE_GREEN, LINEAR, CANARY]")
        # Several violations at once, required members included; nothing reached moto.
        with pytest.raises(ClientError) as e:
            ecs.create_service(cluster="c", launchType="MOON")
        code, status, msg = refused(e)
        assert (code, status) == ("InvalidParameterException", 400)
        assert msg.startswith("2 validation errors detected: ")
        assert "Value null at 'serviceName' failed to satisfy constraint: Member must not be null" in msg
        assert "Value 'MOON' at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES]" in msg
        assert emulator.client("ecs").list_clusters()["clusterArns"] == []
        logged = emulator.requests("ecs", "CreateService")
        assert logged and all("validation error" in r["invalid"] for r in logged)

    def test_ecs_service_connect_members_are_validated(self, emulator):
        ecs = loose_client(emulator, "ecs")
        sc = {"enabled": True, "namespace": "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-1",
              "services": [{"portName": "http", "discoveryName": "auth",
                            "clientAliases": [{"port": 70000, "dnsName": "auth.svc"}]}]}
        with pytest.raises(ClientError) as e:
            ecs.create_service(cluster="c", serviceName="s", taskDefinition="td:1",
                               serviceConnectConfiguration=sc)
        assert refused(e)[2] == (
            "1 validation error detected: Value '70000' at "
            "'serviceConnectConfiguration.services.1.member.clientAliases.1.member.port' "
            "failed to satisfy constraint: Member must have value less than or equal to 65535")

    def test_java_unicode_patterns_and_map_constraints(self, emulator):
        logs = loose_client(emulator, "logs")
        # \p{L} in the tag-key pattern: a letter outside ASCII is fine, '!' is not.
        logs.create_log_group(logGroupName="/matbakh/ok", tags={"Besitzer-ü": "ä"})
        with pytest.raises(ClientError) as e:
            logs.create_log_group(logGroupName="/matbakh/bad", tags={"owner!": "x"})
        code, status, msg = refused(e)
        assert (code, status) == ("InvalidParameterException", 400)
        assert msg.startswith("1 validation error detected: Value '{owner!=x}' at 'tags' failed to "
                              "satisfy constraint: Map keys must satisfy constraint: [Member must "
                              "satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$")
        with pytest.raises(ClientError) as e:
            logs.create_log_group(logGroupName="has space")
        assert "at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern" in refused(e)[2]
        names = [g["logGroupName"] for g in emulator.client("logs").describe_log_groups()["logGroups"]]
        assert names == ["/matbakh/ok"]

    def test_cloudmap_invalid_input(self, emulator):
        sd = loose_client(emulator, "servicediscovery")
        with pytest.raises(ClientError) as e:
            sd.create_http_namespace(Name="has space")
        assert refused(e) == (
            "InvalidInput", 400,
            "1 validation error detected: Value 'has space' at 'name' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^(?!arn:)[!-~]{1,1024}$")
        with pytest.raises(ClientError) as e:
            sd.get_namespace()
        assert refused(e)[2] == ("1 validation error detected: Value null at 'id' failed to satisfy "
                                 "constraint: Member must not be null")

    def test_application_autoscaling_validation_exception(self, emulator):
        aas = loose_client(emulator, "application-autoscaling")
        with pytest.raises(ClientError) as e:
            aas.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/c/s",
                                         ScalableDimension="ecs:service:Sideways")
        code, status, msg = refused(e)
        assert (code, status) == ("ValidationException", 400)
        assert msg.startswith("1 validation error detected: Value 'ecs:service:Sideways' at "
                              "'scalableDimension' failed to satisfy constraint: Member must satisfy "
                              "enum value set: [ecs:service:DesiredCount, ")

    def test_appmesh_uri_query_and_body_members(self, emulator):
        am = loose_client(emulator, "appmesh")
        with pytest.raises(ClientError) as e:  # URI label
            am.describe_mesh(meshName="m" * 256)
        assert refused(e) == (
            "BadRequestException", 400,
            f"1 validation error detected: Value '{'m' * 256}' at 'meshName' failed to satisfy "
            "constraint: Member must have length less than or equal to 255")
        with pytest.raises(ClientError) as e:  # query string (limit, 1..100)
            am.list_meshes(limit=0)
        assert refused(e)[2] == ("1 validation error detected: Value '0' at 'limit' failed to satisfy "
                                 "constraint: Member must have value greater than or equal to 1")
        am.create_mesh(meshName=MESH)
        with pytest.raises(ClientError) as e:  # body: required spec, enum inside it
            am.create_virtual_router(meshName=MESH, virtualRouterName="r", spec={
                "listeners": [{"portMapping": {"port": 8080, "protocol": "smtp"}}]})
        assert refused(e)[2] == (
            "1 validation error detected: Value 'smtp' at "
            "'spec.listeners.1.member.portMapping.protocol' failed to satisfy constraint: "
            "Member must satisfy enum value set: [http, tcp, http2, grpc]")

    @pytest.mark.parametrize("protocol", ["json", "cbor", "query"])
    def test_cloudwatch_every_protocol(self, emulator, protocol):
        """CloudWatch's own code (ValidationError) over JSON, the Rust SDK's CBOR, and query."""
        from urllib.parse import urlencode

        from botocore.serialize import create_serializer

        bad = ["", *[f"arn:aws:sns:eu-central-1:{ACCOUNT}:a{i}" for i in range(5)]]
        if protocol == "query":
            form = {"Action": "PutMetricAlarm", "Version": "2010-08-01", "AlarmName": "a",
                    "EvaluationPeriods": "0", "ComparisonOperator": "GreaterThanThreshold"}
            form.update({f"AlarmActions.member.{i}": v for i, v in enumerate(bad, start=1)})
            status, _, body = raw(emulator.endpoint, "POST", "/", urlencode(form).encode(),
                                  sigv4_headers("monitoring", content_type="application/x-www-form-urlencoded"))
            text = body.decode()
            code = text.split("<Code>")[1].split("</Code>")[0]
            msg = text.split("<Message>")[1].split("</Message>")[0].replace("&lt;", "<").replace("&amp;", "&")
        else:
            if protocol == "cbor":
                cw = emulator.cbor_client("cloudwatch")
                cw._serializer = create_serializer("smithy-rpc-v2-cbor", include_validation=False)
            else:
                cw = loose_client(emulator, "cloudwatch")
            with pytest.raises(ClientError) as e:
                cw.put_metric_alarm(**dict(P95_ALARM, EvaluationPeriods=0, AlarmActions=bad))
            code, status, msg = refused(e)
        assert (code, status) == ("ValidationError", 400)
        assert msg.startswith("3 validation errors detected: ")
        assert ("Value '0' at 'evaluationPeriods' failed to satisfy constraint: "
                "Member must have value greater than or equal to 1") in msg
        assert "at 'alarmActions' failed to satisfy constraint: Member must have length less than or equal to 5" in msg
        assert ("at 'alarmActions' failed to satisfy constraint: Member must satisfy constraint: "
                "[Member must have length greater than or equal to 1]") in msg
        assert emulator.client("cloudwatch").describe_alarms()["MetricAlarms"] == []

    def test_wrong_json_type_is_a_serialization_exception(self, emulator):
        body = json.dumps({"cluster": "c", "serviceName": "s", "desiredCount": "three"}).encode()
        status, headers, out = raw(
            emulator.endpoint, "POST", "/", body=body,
            headers=sigv4_headers("ecs", "AmazonEC2ContainerServiceV20141113.CreateService"))
        assert status == 400
        assert json.loads(out)["__type"] == "SerializationException"

    def test_validation_can_be_switched_off(self, emulator):
        assert emulator.settings()["validate_requests"] is True
        emulator.settings(validate_requests=False)
        logs = loose_client(emulator, "logs")
        logs.create_log_group(logGroupName="has space")  # moto accepts it
        [entry] = emulator.requests("logs", "CreateLogGroup")
        assert "at 'logGroupName' failed to satisfy constraint" in entry["invalid"]
        emulator.reset()
        assert emulator.settings()["validate_requests"] is True
        with pytest.raises(RuntimeError):
            emulator.settings(validate_requests="no")

    def test_valid_requests_pass_untouched(self, emulator, vpc):
        """The shapes the provider sends (see the rest of this file) pass; nothing is logged invalid."""
        make_mesh_graph(emulator.client("appmesh"))
        cw = emulator.cbor_client("cloudwatch")
        cw.put_metric_alarm(**ERROR_RATE_ALARM)
        assert [r for r in emulator.requests() if r.get("invalid")] == []


# ============================================================================ emu-strict: dashboards are global


DASHBOARD_BODY = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2,
                                          "properties": {"markdown": "managed by matbakh"}}]})


class TestDashboardsAreGlobal:
    def test_one_dashboard_seen_from_every_region(self, emulator):
        eu = region_client(emulator, "cloudwatch", "eu-central-1")
        us = region_client(emulator, "cloudwatch", "us-east-1")
        eu.put_dashboard(DashboardName="auth-service", DashboardBody=DASHBOARD_BODY)
        got = us.get_dashboard(DashboardName="auth-service")
        assert got["DashboardArn"] == f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/auth-service"
        assert [d["DashboardName"] for d in us.list_dashboards()["DashboardEntries"]] == ["auth-service"]
        other = json.dumps({"widgets": []})
        us.put_dashboard(DashboardName="auth-service", DashboardBody=other)
        assert eu.get_dashboard(DashboardName="auth-service")["DashboardBody"] == other
        us.delete_dashboards(DashboardNames=["auth-service"])
        with pytest.raises(ClientError) as e:
            eu.get_dashboard(DashboardName="auth-service")
        assert err(e)[0] == "ResourceNotFound"
        assert eu.list_dashboards()["DashboardEntries"] == []

    def test_dashboards_are_taggable(self, emulator):
        eu = emulator.cbor_client("cloudwatch")  # the provider's protocol
        us = region_client(emulator, "cloudwatch", "us-east-1")
        arn = f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/auth-service"
        eu.put_dashboard(DashboardName="auth-service", DashboardBody=DASHBOARD_BODY,
                         Tags=[{"Key": "matbakh:owner", "Value": "auth-service"}])
        assert us.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
            {"Key": "matbakh:owner", "Value": "auth-service"}]
        # Tags on PutDashboard only apply on create (API reference): an update ignores them.
        us.put_dashboard(DashboardName="auth-service", DashboardBody=DASHBOARD_BODY,
                         Tags=[{"Key": "matbakh:owner", "Value": "someone-else"}])
        assert eu.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
            {"Key": "matbakh:owner", "Value": "auth-service"}]
        us.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "identity"}])
        eu.untag_resource(ResourceARN=arn, TagKeys=["matbakh:owner"])
        assert eu.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "identity"}]
        eu.delete_dashboards(DashboardNames=["auth-service"])
        for call in (lambda: us.list_tags_for_resource(ResourceARN=arn),
                     lambda: us.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])):
            with pytest.raises(ClientError) as e:
                call()
            assert err(e) == ("ResourceNotFoundException", 404)
        # Re-created: no tags left over from the deleted dashboard.
        us.put_dashboard(DashboardName="auth-service", DashboardBody=DASHBOARD_BODY)
        assert eu.list_tags_for_resource(ResourceARN=arn)["Tags"] == []


# ============================================================================ emu-strict: Cloud Map


class TestCloudMapStrict:
    @staticmethod
    def http_namespace(sd, name="svc", token="ns-1", **extra):
        op = sd.create_http_namespace(Name=name, CreatorRequestId=token, **extra)["OperationId"]
        done = sd.get_operation(OperationId=op)["Operation"]
        assert (done["Status"], done["Type"]) == ("SUCCESS", "CREATE_NAMESPACE")
        return op, done["Targets"]["NAMESPACE"]

    def test_http_namespace_lifecycle(self, emulator):
        sd = emulator.client("servicediscovery")
        op, ns_id = self.http_namespace(sd, Tags=[{"Key": "matbakh:owner", "Value": "platform"}])
        ns = sd.get_namespace(Id=ns_id)["Namespace"]
        assert (ns["Name"], ns["Type"], ns["ServiceCount"]) == ("svc", "HTTP", 0)
        assert ns["Properties"]["HttpProperties"] == {"HttpName": "svc"}
        assert not ns["Properties"].get("DnsProperties")
        assert sd.get_namespace(Id=ns["Arn"])["Namespace"]["Id"] == ns_id  # by ARN too
        assert sd.list_tags_for_resource(ResourceARN=ns["Arn"])["Tags"] == [
            {"Key": "matbakh:owner", "Value": "platform"}]
        listed = sd.list_namespaces(Filters=[{"Name": "TYPE", "Values": ["HTTP"], "Condition": "EQ"}])
        assert [n["Id"] for n in listed["Namespaces"]] == [ns_id]
        # A retry with the same CreatorRequestId is the same operation; another one is refused.
        assert sd.create_http_namespace(Name="svc", CreatorRequestId="ns-1")["OperationId"] == op
        with pytest.raises(ClientError) as e:
            sd.create_http_namespace(Name="svc", CreatorRequestId="ns-2")
        assert err(e)[0] == "NamespaceAlreadyExists"
        assert e.value.response.get("NamespaceId") == ns_id

        svc = sd.create_service(Name="auth-service", NamespaceId=ns["Arn"], Type="HTTP")["Service"]
        assert svc["NamespaceId"] == ns_id
        assert sd.get_namespace(Id=ns_id)["Namespace"]["ServiceCount"] == 1
        with pytest.raises(ClientError) as e:
            sd.delete_namespace(Id=ns["Arn"])
        assert err(e)[0] == "ResourceInUse"
        sd.delete_service(Id=svc["Id"])
        sd.delete_namespace(Id=ns["Arn"])
        assert sd.list_namespaces()["Namespaces"] == []

    def test_update_service_refused_in_http_namespace(self, emulator):
        sd = emulator.client("servicediscovery")
        _, ns_id = self.http_namespace(sd)
        svc = sd.create_service(Name="auth-service", NamespaceId=ns_id)["Service"]
        with pytest.raises(ClientError) as e:
            sd.update_service(Id=svc["Id"], Service={"Description": "new"})
        assert err(e) == ("InvalidInput", 400)
        assert sd.get_service(Id=svc["Id"])["Service"].get("Description") in (None, "")

    def test_routing_policy_and_custom_health_check_cannot_change_in_place(self, emulator, vpc):
        sd = loose_client(emulator, "servicediscovery")
        op = sd.create_private_dns_namespace(Name="svc.local", Vpc=vpc["vpc"], CreatorRequestId="ns")
        ns_id = sd.get_operation(OperationId=op["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
        s = sd.create_service(Name="auth-service", NamespaceId=ns_id, HealthCheckCustomConfig={"FailureThreshold": 1},
                              DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]})["Service"]
        # ServiceChange has no RoutingPolicy / HealthCheckCustomConfig: AWS ignores them
        # (sent raw: botocore cannot serialise members its model lacks).
        change = {"Id": s["Id"], "Service": {
            "Description": "d", "HealthCheckCustomConfig": {"FailureThreshold": 5},
            "DnsConfig": {"RoutingPolicy": "WEIGHTED", "DnsRecords": [{"Type": "A", "TTL": 60}]}}}
        status, _, _ = raw(emulator.endpoint, "POST", "/", json.dumps(change).encode(),
                           sigv4_headers("servicediscovery", "Route53AutoNaming_v20170314.UpdateService"))
        assert status == 200
        got = sd.get_service(Id=s["Id"])["Service"]
        assert got["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
        assert got["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 60}]
        assert got["HealthCheckCustomConfig"] == {"FailureThreshold": 1}
        assert got["Description"] == "d"
        # An update without DnsConfig deletes the records but keeps the routing policy.
        sd.update_service(Id=s["Id"], Service={"Description": "e"})
        got = sd.get_service(Id=s["Id"])["Service"]
        assert got["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
        # A Route 53 health check next to a custom one, or in a private namespace: refused.
        with pytest.raises(ClientError) as e:
            sd.update_service(Id=s["Id"], Service={"HealthCheckConfig": {"Type": "HTTP", "ResourcePath": "/"}})
        assert err(e) == ("InvalidInput", 400)

    def test_private_namespace_unique_per_name_and_vpc(self, emulator, vpc):
        sd = emulator.client("servicediscovery")
        ec2 = emulator.client("ec2", strict_shapes=False)
        other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        a = sd.create_private_dns_namespace(Name="svc.local", Vpc=vpc["vpc"], CreatorRequestId="a")
        b = sd.create_private_dns_namespace(Name="svc.local", Vpc=other_vpc, CreatorRequestId="b")
        ids = {sd.get_operation(OperationId=o["OperationId"])["Operation"]["Targets"]["NAMESPACE"] for o in (a, b)}
        assert len(ids) == 2
        with pytest.raises(ClientError) as e:
            sd.create_private_dns_namespace(Name="svc.local", Vpc=other_vpc, CreatorRequestId="c")
        assert err(e)[0] == "NamespaceAlreadyExists"
        assert e.value.response.get("NamespaceId") in ids
