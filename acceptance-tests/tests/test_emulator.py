"""Self-tests of the local AWS emulator (moto 5.2.5 + emulator/extensions).

They pin down the behaviour the provider's acceptance tests rely on: every API the provider
calls, the fixes over plain moto (see emulator/README.md), fault injection and reset.
All clients are "strict": a response the Rust SDK could not parse fails the call
(harness/strict.py). CloudWatch is also exercised over Smithy RPCv2 CBOR, the protocol
aws-sdk-cloudwatch speaks.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

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


# ============================================================================ ECS Service Connect

SC_TASK_DEF = dict(
    family="orders", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
    cpu="512", memory="1024",
    containerDefinitions=[
        {"name": "app", "image": "repo/orders:1.0", "essential": True,
         "portMappings": [{"containerPort": 8080, "protocol": "tcp", "name": "http",
                           "appProtocol": "http"},
                          {"containerPort": 9000, "protocol": "tcp", "name": "raw"}],
         "healthCheck": {"command": ["CMD-SHELL", "wget -qO- http://localhost:8080/health"],
                         "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 30}},
    ],
)


def http_namespace(emulator, name="internal.local"):
    sd = emulator.client("servicediscovery")
    op = sd.create_http_namespace(Name=name, CreatorRequestId=f"ns-{name}")
    ns_id = sd.get_operation(OperationId=op["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
    return sd.get_namespace(Id=ns_id)["Namespace"]


def sc_config(namespace, discovery="orders", port_name="http", port=8080, **service_extra):
    entry = {"portName": port_name, "discoveryName": discovery,
             "clientAliases": [{"port": port, "dnsName": f"{discovery}.internal.local"}]}
    entry.update(service_extra)
    return {"enabled": True, "namespace": namespace, "services": [entry]}


def make_sc_service(ecs, vpc, td_arn, config, name="orders", **extra):
    return make_service(ecs, vpc, td_arn, name=name, serviceRegistries=[],
                        serviceConnectConfiguration=config, **extra)


def ecs_managed_cloudmap_services(emulator, ns_id):
    sd = emulator.client("servicediscovery")
    out = {}
    for s in sd.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": [ns_id]}])["Services"]:
        tags = sd.list_tags_for_resource(ResourceARN=s["Arn"])["Tags"]
        if {"Key": "AmazonECSManaged", "Value": "true"} in tags:
            out[s["Name"]] = s
    return out


class TestEcsServiceConnect:
    def test_cluster_defaults_resolve_name_to_arn(self, emulator):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        c = ecs.create_cluster(clusterName="by-name",
                               serviceConnectDefaults={"namespace": "internal.local"})["cluster"]
        assert c["serviceConnectDefaults"] == {"namespace": ns["Arn"]}
        c = ecs.create_cluster(clusterName="by-arn",
                               serviceConnectDefaults={"namespace": ns["Arn"]})["cluster"]
        assert c["serviceConnectDefaults"] == {"namespace": ns["Arn"]}
        [d] = ecs.describe_clusters(clusters=["by-arn"])["clusters"]
        assert d["serviceConnectDefaults"] == {"namespace": ns["Arn"]}
        # An unknown ARN is refused; an unknown *name* makes ECS create an HTTP namespace.
        with pytest.raises(ClientError) as e:
            ecs.update_cluster(cluster="by-arn", serviceConnectDefaults={
                "namespace": f"arn:aws:servicediscovery:eu-central-1:{ACCOUNT}:namespace/ns-missing"})
        assert err(e)[0] == "NamespaceNotFoundException"
        u = ecs.update_cluster(cluster="by-arn", serviceConnectDefaults={"namespace": "fresh"})["cluster"]
        sd = emulator.client("servicediscovery")
        [fresh] = [n for n in sd.list_namespaces()["Namespaces"] if n["Name"] == "fresh"]
        assert fresh["Type"] == "HTTP" and u["serviceConnectDefaults"] == {"namespace": fresh["Arn"]}
        # "" removes the defaults; the namespace stays.
        u = ecs.update_cluster(cluster="by-arn", serviceConnectDefaults={"namespace": ""})["cluster"]
        assert "serviceConnectDefaults" not in u
        assert "fresh" in [n["Name"] for n in sd.list_namespaces()["Namespaces"]]

    def test_task_definition_keeps_named_ports_and_health_check(self, emulator):
        ecs = emulator.client("ecs")
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]
        got = ecs.describe_task_definition(taskDefinition=td["taskDefinitionArn"])["taskDefinition"]
        [c] = got["containerDefinitions"]
        assert c["portMappings"] == SC_TASK_DEF["containerDefinitions"][0]["portMappings"]
        assert c["healthCheck"] == SC_TASK_DEF["containerDefinitions"][0]["healthCheck"]

    @pytest.mark.parametrize("cpu,memory", [("256", "512"), ("512", "4096"), ("1 vCPU", "8 GB"),
                                            ("4096", "30720"), ("8192", "16384"), ("8192", "61440"),
                                            ("16384", "122880"), ("16384", "40960")])
    def test_fargate_task_sizes_accepted(self, emulator, cpu, memory):
        ecs = emulator.client("ecs")
        ecs.register_task_definition(**dict(SC_TASK_DEF, cpu=cpu, memory=memory))

    @pytest.mark.parametrize("cpu,memory,message", [
        ("256", "4096", "No Fargate configuration exists for given values: 256 CPU, 4096 memory."),
        ("1024", "1024", "No Fargate configuration exists for given values: 1024 CPU, 1024 memory."),
        ("8192", "18432", "No Fargate configuration exists for given values: 8192 CPU, 18432 memory."),
        ("16384", "36864", "No Fargate configuration exists for given values: 16384 CPU, 36864 memory."),
        ("4096", "31744", "No Fargate configuration exists for given values: 4096 CPU, 31744 memory."),
        ("3072", "8192", "Invalid 'cpu' setting for task."),
        ("32768", "131072", "Invalid 'cpu' setting for task."),
    ])
    def test_fargate_task_sizes_refused(self, emulator, cpu, memory, message):
        ecs = emulator.client("ecs")
        with pytest.raises(ClientError) as e:
            ecs.register_task_definition(**dict(SC_TASK_DEF, cpu=cpu, memory=memory))
        assert err(e) == ("ClientException", 400)
        assert e.value.response["Error"]["Message"].startswith(message)
        # EC2-only task definitions are not held to the Fargate table.
        ecs.register_task_definition(**dict(SC_TASK_DEF, cpu=cpu, memory=memory,
                                            requiresCompatibilities=["EC2"]))

    def test_service_connect_on_deployments_and_cloud_map(self, emulator, vpc):
        ecs = emulator.client("ecs")
        sd = emulator.client("servicediscovery")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        config = sc_config("internal.local", timeout={"perRequestTimeoutSeconds": 15, "idleTimeoutSeconds": 60})
        s = make_sc_service(ecs, vpc, td, config)
        assert "serviceConnectConfiguration" not in s  # not a member of the Service shape
        [dep] = s["deployments"]
        assert dep["serviceConnectConfiguration"] == dict(config, namespace=ns["Arn"])
        [res] = dep["serviceConnectResources"]
        managed = ecs_managed_cloudmap_services(emulator, ns["Id"])
        assert list(managed) == ["orders"]
        assert res == {"discoveryName": "orders", "discoveryArn": managed["orders"]["Arn"]}
        assert managed["orders"]["Type"] == "HTTP"
        # One instance per running task, visible through the Cloud Map API.
        assert len(sd.list_instances(ServiceId=managed["orders"]["Id"])["Instances"]) == 2
        ecs.update_service(cluster="matbakh", service="orders", desiredCount=3)
        assert len(sd.list_instances(ServiceId=managed["orders"]["Id"])["Instances"]) == 3
        d = ecs.describe_services(cluster="matbakh", services=["orders"])["services"][0]
        assert d["deployments"][0]["serviceConnectConfiguration"]["namespace"] == ns["Arn"]

        # Renaming the discovery name: ECS creates the new Cloud Map service, drops the old one.
        ecs.update_service(cluster="matbakh", service="orders",
                           serviceConnectConfiguration=sc_config(ns["Arn"], discovery="orders-v2"))
        assert list(ecs_managed_cloudmap_services(emulator, ns["Id"])) == ["orders-v2"]
        # The namespace cannot go while ECS's service is in it; deleting the ECS service
        # (forced, while scaled up) removes it.
        with pytest.raises(ClientError) as e:
            sd.delete_namespace(Id=ns["Id"])
        assert err(e)[0] == "ResourceInUse"
        ecs.delete_service(cluster="matbakh", service="orders", force=True)
        assert ecs_managed_cloudmap_services(emulator, ns["Id"]) == {}
        sd.delete_namespace(Id=ns["Id"])

    def test_disabling_service_connect_removes_the_cloud_map_service(self, emulator, vpc):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        make_sc_service(ecs, vpc, td, sc_config(ns["Arn"]))
        assert list(ecs_managed_cloudmap_services(emulator, ns["Id"])) == ["orders"]
        u = ecs.update_service(cluster="matbakh", service="orders",
                               serviceConnectConfiguration={"enabled": False})["service"]
        assert u["deployments"][0]["serviceConnectConfiguration"] == {"enabled": False}
        assert "serviceConnectResources" not in u["deployments"][0]
        assert ecs_managed_cloudmap_services(emulator, ns["Id"]) == {}

    def test_namespace_from_cluster_defaults(self, emulator, vpc):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        ecs.create_cluster(clusterName="matbakh", serviceConnectDefaults={"namespace": ns["Arn"]})
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        config = sc_config(None)
        del config["namespace"]
        s = make_sc_service(ecs, vpc, td, config, capacityProviderStrategy=[])
        assert s["deployments"][0]["serviceConnectConfiguration"]["namespace"] == ns["Arn"]

    @pytest.mark.parametrize("change,code,text", [
        ({"portName": "nope"}, "InvalidParameterException", "portName 'nope' does not match"),
        ({"clientAliases": []}, "InvalidParameterException", "exactly one client alias"),
        ({"clientAliases": [{"port": 80, "dnsName": "a.internal.local"},
                            {"port": 81, "dnsName": "b.internal.local"}]},
         "InvalidParameterException", "exactly one client alias"),
        ({"clientAliases": [{"port": 80, "dnsName": "a" * 128}]}, "InvalidParameterException",
         "longer than 127 characters"),
        ({"portName": "raw", "timeout": {"perRequestTimeoutSeconds": 5}}, "InvalidParameterException",
         "perRequestTimeout can only be set if Service Connect appProtocol isn't TCP"),
        ({"discoveryName": "-bad"}, "InvalidParameterException", "discoveryName '-bad' is not valid"),
    ])
    def test_service_connect_validation(self, emulator, vpc, change, code, text):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        config = sc_config(ns["Arn"])
        config["services"][0].update(change)
        with pytest.raises(ClientError) as e:
            make_sc_service(ecs, vpc, td, config)
        assert err(e)[0] == code
        assert text in e.value.response["Error"]["Message"]
        assert ecs.describe_services(cluster="matbakh", services=["orders"])["failures"]
        assert ecs_managed_cloudmap_services(emulator, ns["Id"]) == {}

    def test_alias_of_127_characters_and_tcp_idle_timeout_are_fine(self, emulator, vpc):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        config = sc_config(ns["Arn"], port_name="raw", timeout={"idleTimeoutSeconds": 30})
        config["services"][0]["clientAliases"][0]["dnsName"] = "a" * 127
        make_sc_service(ecs, vpc, td, config)

    def test_unknown_namespace(self, emulator, vpc):
        ecs = emulator.client("ecs")
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        with pytest.raises(ClientError) as e:
            make_sc_service(ecs, vpc, td, sc_config("nowhere.local"))
        assert err(e)[0] == "NamespaceNotFoundException"

    def test_names_unique_per_namespace_across_services(self, emulator, vpc):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        make_sc_service(ecs, vpc, td, sc_config(ns["Arn"]))
        with pytest.raises(ClientError) as e:
            make_sc_service(ecs, vpc, td, sc_config(ns["Arn"]), name="orders-copy")
        assert "discoveryName 'orders' is already used" in e.value.response["Error"]["Message"]
        dup_alias = sc_config(ns["Arn"], discovery="other")
        dup_alias["services"][0]["clientAliases"] = [{"port": 8080, "dnsName": "orders.internal.local"}]
        with pytest.raises(ClientError) as e:
            make_sc_service(ecs, vpc, td, dup_alias, name="orders-copy")
        assert "client alias orders.internal.local:8080 is already used" in e.value.response["Error"]["Message"]
        # Same names in another namespace are fine; so is re-sending the service's own configuration.
        http_namespace(emulator, "other.local")
        make_sc_service(ecs, vpc, td, sc_config("other.local"), name="orders-copy")
        ecs.update_service(cluster="matbakh", service="orders", serviceConnectConfiguration=sc_config(ns["Arn"]))

    def test_discovery_name_taken_by_a_cloud_map_service_of_someone_else(self, emulator, vpc):
        ecs = emulator.client("ecs")
        sd = emulator.client("servicediscovery")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        sd.create_service(Name="orders", NamespaceId=ns["Id"], Type="HTTP")
        with pytest.raises(ClientError) as e:
            make_sc_service(ecs, vpc, td, sc_config(ns["Arn"]))
        assert err(e)[0] == "InvalidParameterException"
        assert "already exists in namespace internal.local" in e.value.response["Error"]["Message"]

    def test_new_task_definition_must_keep_the_port_name(self, emulator, vpc):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        make_sc_service(ecs, vpc, td, sc_config(ns["Arn"]))
        unnamed = json.loads(json.dumps(SC_TASK_DEF))
        for pm in unnamed["containerDefinitions"][0]["portMappings"]:
            pm.pop("name")
        td2 = ecs.register_task_definition(**unnamed)["taskDefinition"]["taskDefinitionArn"]
        with pytest.raises(ClientError) as e:
            ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        assert err(e)[0] == "InvalidParameterException"
        assert ecs.describe_services(cluster="matbakh", services=["orders"])["services"][0]["taskDefinition"] == td


# ============================================================================ ECS service deployments


def deployment_of(ecs, service="orders", cluster="matbakh"):
    s = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    [d] = ecs.describe_service_deployments(serviceDeploymentArns=[s["currentServiceDeployment"]])[
        "serviceDeployments"]
    return s, d


def sc_service_with(emulator, vpc, deployment_configuration, desired=2):
    """An SC service on revision 1, then task definition 2 registered (not yet deployed)."""
    ecs = emulator.client("ecs")
    ns = http_namespace(emulator)
    make_cluster(ecs)
    td1 = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    make_sc_service(ecs, vpc, td1, sc_config(ns["Arn"]), desiredCount=desired,
                    deploymentConfiguration=deployment_configuration)
    td2 = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    return ecs, td1, td2


def alarm(emulator, name, state=None):
    cw = emulator.client("cloudwatch")
    cw.put_metric_alarm(AlarmName=name, Namespace="AWS/ECS", MetricName="HTTPCode_Target_5XX_Count",
                        Dimensions=[{"Name": "TargetDiscoveryName", "Value": "orders"}], Statistic="Sum",
                        Period=60, EvaluationPeriods=2, Threshold=1.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    if state:
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


CANARY = {"strategy": "CANARY", "bakeTimeInMinutes": 5,
          "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 3},
          "deploymentCircuitBreaker": {"enable": False, "rollback": False},
          "maximumPercent": 200, "minimumHealthyPercent": 100}


class TestEcsServiceDeployments:
    def test_every_deployment_has_a_service_deployment_and_revision(self, emulator, vpc):
        ecs = emulator.client("ecs")
        make_cluster(ecs)
        td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        s = make_service(ecs, vpc, td)
        arn = s["currentServiceDeployment"]
        prefix = f"arn:aws:ecs:eu-central-1:{ACCOUNT}:service-deployment/matbakh/auth-service/"
        assert arn.startswith(prefix)
        assert re.fullmatch(r"[A-Z0-9]{8}-[A-Za-z0-9_]{12}", arn[len(prefix):])  # as NCWGC2ZR-taawPAYrIaU5
        [d] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
        assert d["status"] == "SUCCESSFUL" and d["serviceArn"] == s["serviceArn"]
        assert d["sourceServiceRevisions"] == []
        rev_arn = d["targetServiceRevision"]["arn"]
        assert re.fullmatch(rf"arn:aws:ecs:eu-central-1:{ACCOUNT}:service-revision/matbakh/auth-service/\d{{19}}",
                            rev_arn)
        assert d["targetServiceRevision"]["runningTaskCount"] == 2
        [rev] = ecs.describe_service_revisions(serviceRevisionArns=[rev_arn])["serviceRevisions"]
        assert rev["taskDefinition"] == td
        assert [i["image"] for i in rev["containerImages"]] == ["repo/auth:1.4.2", "envoy:v1"]
        assert s["currentServiceRevisions"] == [
            {"arn": rev_arn, "requestedTaskCount": 2, "runningTaskCount": 2, "pendingTaskCount": 0}]

        # Scaling starts no deployment; a new task definition does.
        ecs.update_service(cluster="matbakh", service="auth-service", desiredCount=3)
        td2 = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        u = ecs.update_service(cluster="matbakh", service="auth-service", taskDefinition=td2)["service"]
        listed = ecs.list_service_deployments(cluster="matbakh", service="auth-service")["serviceDeployments"]
        assert [x["serviceDeploymentArn"] for x in listed] == [u["currentServiceDeployment"], arn]
        assert listed[0]["targetServiceRevisionArn"] != rev_arn
        [d2] = ecs.describe_service_deployments(serviceDeploymentArns=[u["currentServiceDeployment"]])[
            "serviceDeployments"]
        assert [r["arn"] for r in d2["sourceServiceRevisions"]] == [rev_arn]
        # The service and cluster may be given by ARN; a long service ARN names its cluster.
        by_arn = ecs.list_service_deployments(cluster=s["clusterArn"], service=s["serviceArn"])
        assert by_arn["serviceDeployments"] == listed
        assert ecs.list_service_deployments(service=s["serviceArn"])["serviceDeployments"] == listed
        # Filters, pagination, missing ARNs, errors.
        assert ecs.list_service_deployments(cluster="matbakh", service=s["serviceArn"],
                                            status=["STOPPED"])["serviceDeployments"] == []
        page = ecs.list_service_deployments(cluster="matbakh", service="auth-service", maxResults=1)
        assert len(page["serviceDeployments"]) == 1 and page["nextToken"]
        assert ecs.list_service_deployments(cluster="matbakh", service="auth-service",
                                            createdAt={"before": "2001-01-01T00:00:00Z"})["serviceDeployments"] == []
        assert len(ecs.list_service_deployments(
            cluster="matbakh", service="auth-service",
            createdAt={"after": "2001-01-01T00:00:00Z"})["serviceDeployments"]) == 2
        missing = prefix + "nope"
        out = ecs.describe_service_deployments(serviceDeploymentArns=[missing])
        assert out["failures"] == [{"arn": missing, "reason": "MISSING"}]
        with pytest.raises(ClientError) as e:
            ecs.list_service_deployments(cluster="matbakh", service="ghost")
        assert err(e)[0] == "ServiceNotFoundException"
        with pytest.raises(ClientError) as e:
            ecs.stop_service_deployment(serviceDeploymentArn=missing)
        assert err(e)[0] == "ServiceDeploymentNotFoundException"
        with pytest.raises(ClientError) as e:
            ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
        assert err(e)[0] == "ConflictException"

    @pytest.mark.parametrize("config,text", [
        ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.05}}, "canaryPercent 0.05"),
        ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.05}}, "canaryPercent 10.05"),
        ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 100.1}}, "canaryPercent 100.1"),
        ({"strategy": "CANARY", "canaryConfiguration": {"canaryBakeTimeInMinutes": 1441}},
         "canaryBakeTimeInMinutes"),
        ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.9}}, "stepPercent 2.9"),
        ({"strategy": "LINEAR", "linearConfiguration": {"stepBakeTimeInMinutes": 1441}}, "stepBakeTimeInMinutes"),
        ({"strategy": "BLUE_GREEN"}, "bakeTimeInMinutes must be provided"),
        ({"strategy": "ROLLING", "bakeTimeInMinutes": 1441}, "bakeTimeInMinutes must be between"),
        ({"strategy": "ROLLING", "canaryConfiguration": {"canaryPercent": 5.0}}, "only be specified with the CANARY"),
        ({"alarms": {"alarmNames": [], "enable": True, "rollback": True}}, "alarmNames"),
        # DeploymentCircuitBreaker (ECS API reference): "The deployment circuit breaker can only
        # be used for services using the rolling update (ECS) deployment type."
        *[({"strategy": strategy, "bakeTimeInMinutes": 1,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
           "circuit breaker is only supported with the ROLLING") for strategy in
          ("CANARY", "LINEAR", "BLUE_GREEN")],
    ])
    def test_strategy_validation(self, emulator, vpc, config, text):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        with pytest.raises(ClientError) as e:
            make_sc_service(ecs, vpc, td, sc_config(ns["Arn"]), deploymentConfiguration=config)
        assert err(e)[0] == "InvalidParameterException"
        assert text in e.value.response["Error"]["Message"]

    @pytest.mark.parametrize("strategy", ["CANARY", "LINEAR", "BLUE_GREEN"])
    def test_traffic_strategies_need_service_connect_or_load_balancer(self, emulator, vpc, strategy):
        ecs = emulator.client("ecs")
        make_cluster(ecs)
        td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        config = {"strategy": strategy, "bakeTimeInMinutes": 1}
        with pytest.raises(ClientError) as e:
            make_service(ecs, vpc, td, deploymentConfiguration=config)
        assert "requires a load balancer or a Service Connect configuration" in e.value.response["Error"]["Message"]
        # The same on update, and fine once Service Connect is on.
        make_service(ecs, vpc, td)
        with pytest.raises(ClientError):
            ecs.update_service(cluster="matbakh", service="auth-service", deploymentConfiguration=config)
        ns = http_namespace(emulator)
        sc_td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        make_sc_service(ecs, vpc, sc_td, sc_config(ns["Arn"]), deploymentConfiguration=config)

    def test_boundaries_are_accepted(self, emulator, vpc):
        ecs = emulator.client("ecs")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        for i, config in enumerate([
            {"strategy": "CANARY", "bakeTimeInMinutes": 1440,
             "canaryConfiguration": {"canaryPercent": 0.1, "canaryBakeTimeInMinutes": 0}},
            {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 100.0}},
            {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 3.0, "stepBakeTimeInMinutes": 1440}},
            {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0},
        ]):
            name = f"svc-{i}"
            conf = sc_config(ns["Arn"], discovery=name)
            conf["services"][0]["clientAliases"][0]["port"] = 8000 + i
            s = make_sc_service(ecs, vpc, td, conf, name=name, deploymentConfiguration=config)
            assert s["deploymentConfiguration"]["strategy"] == config["strategy"]

    def test_canary_walks_with_the_clock(self, emulator, vpc):
        emulator.settings(ecs_deployment="timed")
        emulator.clock(speed=0)
        ecs, td1, td2 = sc_service_with(emulator, vpc, CANARY)
        s, d = deployment_of(ecs)
        assert d["status"] == "SUCCESSFUL" and s["taskDefinition"] == td1  # first deployment: no bake
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        s, d = deployment_of(ecs)
        assert (d["status"], d["lifecycleStage"]) == ("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
        assert d["targetServiceRevision"]["requestedProductionTrafficWeight"] == 10.0
        assert d["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 90.0
        assert d["targetServiceRevision"]["runningTaskCount"] == 2
        assert d["deploymentConfiguration"]["canaryConfiguration"]["canaryPercent"] == 10.0
        assert s["taskDefinition"] == td2
        assert [x["rolloutState"] for x in s["deployments"]] == ["IN_PROGRESS", "COMPLETED"]
        assert len(s["currentServiceRevisions"]) == 2
        emulator.clock(advance_seconds=179)
        assert deployment_of(ecs)[1]["targetServiceRevision"]["requestedProductionTrafficWeight"] == 10.0
        emulator.clock(advance_seconds=1)
        s, d = deployment_of(ecs)
        assert (d["status"], d["lifecycleStage"]) == ("IN_PROGRESS", "BAKE_TIME")
        assert d["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
        emulator.clock(advance_seconds=300)
        s, d = deployment_of(ecs)
        assert (d["status"], d["lifecycleStage"]) == ("SUCCESSFUL", "CLEAN_UP")
        assert d["alarms"]["status"] == "DISABLED"
        assert d["sourceServiceRevisions"][0]["runningTaskCount"] == 0
        assert [(x["rolloutState"], x["taskDefinition"]) for x in s["deployments"]] == [("COMPLETED", td2)]
        assert s["runningCount"] == 2 and len(s["currentServiceRevisions"]) == 1

    def test_clock_speed_finishes_by_itself(self, emulator, vpc):
        import time

        emulator.settings(ecs_deployment="timed")
        emulator.clock(speed=3600)  # an hour per second
        ecs, td1, td2 = sc_service_with(emulator, vpc, CANARY)
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        deadline = time.time() + 10
        while deployment_of(ecs)[1]["status"] == "IN_PROGRESS" and time.time() < deadline:
            time.sleep(0.2)
        assert deployment_of(ecs)[1]["status"] == "SUCCESSFUL"

    def test_linear_steps(self, emulator, vpc):
        emulator.settings(ecs_deployment="timed")
        emulator.clock(speed=0)
        config = {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 40.0, "stepBakeTimeInMinutes": 2}}
        ecs, td1, td2 = sc_service_with(emulator, vpc, config)
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        weights = []
        for _ in range(4):
            weights.append(deployment_of(ecs)[1]["targetServiceRevision"]["requestedProductionTrafficWeight"])
            emulator.clock(advance_seconds=120)
        assert weights == [40.0, 80.0, 100.0, 100.0]
        assert deployment_of(ecs)[1]["status"] == "SUCCESSFUL"

    def test_blue_green_sits_in_bake_time(self, emulator, vpc):
        emulator.settings(ecs_deployment="timed")
        emulator.clock(speed=0)
        ecs, td1, td2 = sc_service_with(emulator, vpc, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10})
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        emulator.clock(advance_seconds=599)
        d = deployment_of(ecs)[1]
        assert (d["status"], d["lifecycleStage"]) == ("IN_PROGRESS", "BAKE_TIME")
        assert d["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
        assert d["sourceServiceRevisions"][0]["runningTaskCount"] == 2  # blue still up while baking
        emulator.clock(advance_seconds=1)
        assert deployment_of(ecs)[1]["status"] == "SUCCESSFUL"

    def test_alarm_during_bake_rolls_back(self, emulator, vpc):
        emulator.settings(ecs_deployment="timed")
        emulator.clock(speed=0)
        alarm(emulator, "orders-5xx")
        alarm(emulator, "orders-latency")
        config = dict(CANARY, alarms={"alarmNames": ["orders-5xx", "orders-latency"],
                                      "enable": True, "rollback": True})
        ecs, td1, td2 = sc_service_with(emulator, vpc, config)
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        emulator.clock(advance_seconds=200)
        d = deployment_of(ecs)[1]
        assert (d["lifecycleStage"], d["alarms"]["status"]) == ("BAKE_TIME", "MONITORING")
        emulator.client("cloudwatch").set_alarm_state(
            AlarmName="orders-5xx", StateValue="ALARM", StateReason="5xx")
        s, d = deployment_of(ecs)
        assert d["status"] == "ROLLBACK_SUCCESSFUL"
        assert d["alarms"]["status"] == "TRIGGERED"
        assert d["alarms"]["triggeredAlarmNames"] == ["orders-5xx"]
        assert "orders-5xx" in d["rollback"]["reason"] and d["statusReason"] == d["rollback"]["reason"]
        assert d["rollback"]["serviceRevisionArn"] == d["sourceServiceRevisions"][0]["arn"]
        assert d["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
        # The service runs the previous task definition again.
        assert s["taskDefinition"] == td1
        assert [(x["rolloutState"], x["taskDefinition"]) for x in s["deployments"]] == [("COMPLETED", td1)]
        assert s["deployments"][0]["serviceConnectConfiguration"]["enabled"] is True
        assert any("rolled back" in e["message"] for e in s["events"])
        # The next deployment starts from what runs now (revision 1).
        emulator.client("cloudwatch").set_alarm_state(AlarmName="orders-5xx", StateValue="OK", StateReason="ok")
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        d2 = deployment_of(ecs)[1]
        assert d2["sourceServiceRevisions"][0]["arn"] == d["sourceServiceRevisions"][0]["arn"]

    def test_alarm_already_firing_rolls_back_at_once_and_rolling_monitors(self, emulator, vpc):
        emulator.settings(ecs_deployment="timed")
        emulator.clock(speed=0)
        alarm(emulator, "orders-5xx")
        config = {"alarms": {"alarmNames": ["orders-5xx"], "enable": True, "rollback": True}}
        ecs, td1, td2 = sc_service_with(emulator, vpc, config)
        emulator.clock(advance_seconds=120)  # 60 s x 2 periods: the first deployment's window
        assert deployment_of(ecs)[1]["status"] == "SUCCESSFUL"
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        d = deployment_of(ecs)[1]
        assert d["status"] == "IN_PROGRESS" and "lifecycleStage" not in d
        emulator.client("cloudwatch").set_alarm_state(AlarmName="orders-5xx", StateValue="ALARM", StateReason="x")
        s, d = deployment_of(ecs)
        assert d["status"] == "ROLLBACK_SUCCESSFUL" and s["taskDefinition"] == td1
        # An alarm already in ALARM when a deployment starts: ECS watches none of its alarms.
        s = ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)["service"]
        d = deployment_of(ecs)[1]
        assert d["status"] == "IN_PROGRESS" and d["alarms"]["status"] == "DISABLED"

    def test_alarm_in_alarm_at_the_start_switches_watching_off(self, emulator, vpc):
        """ECS developer guide (deployment-alarm-failure): "If an alarm is in the ALARM state at
        the beginning of a deployment, Amazon ECS will not monitor alarms for the duration of
        that deployment." alarms.status DISABLED; another alarm firing later changes nothing."""
        emulator.settings(ecs_deployment="timed")
        emulator.clock(speed=0)
        alarm(emulator, "orders-5xx")
        alarm(emulator, "orders-no-traffic", state="ALARM")
        config = dict(CANARY, alarms={"alarmNames": ["orders-5xx", "orders-no-traffic"],
                                      "enable": True, "rollback": True})
        ecs, td1, td2 = sc_service_with(emulator, vpc, config)
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        d = deployment_of(ecs)[1]
        assert (d["status"], d["alarms"]["status"]) == ("IN_PROGRESS", "DISABLED")
        emulator.client("cloudwatch").set_alarm_state(AlarmName="orders-5xx", StateValue="ALARM",
                                                      StateReason="5xx")
        emulator.clock(advance_seconds=3600)
        s, d = deployment_of(ecs)
        assert d["status"] == "SUCCESSFUL" and d["alarms"]["triggeredAlarmNames"] == []
        assert s["taskDefinition"] == td2
        # With every alarm OK at the start, the next one is watched.
        cw = emulator.client("cloudwatch")
        for name in ("orders-5xx", "orders-no-traffic"):
            cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="ok")
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td1)
        assert deployment_of(ecs)[1]["alarms"]["status"] == "MONITORING"

    def test_stop_with_rollback_and_abort(self, emulator, vpc):
        emulator.settings(ecs_deployment="in_progress")
        ecs, td1, td2 = sc_service_with(emulator, vpc, CANARY)
        s, d = deployment_of(ecs)
        assert d["status"] == "IN_PROGRESS"
        with pytest.raises(ClientError) as e:  # the first deployment has nothing to go back to
            ecs.stop_service_deployment(serviceDeploymentArn=d["serviceDeploymentArn"], stopType="ROLLBACK")
        assert err(e)[0] == "ConflictException"
        ecs.stop_service_deployment(serviceDeploymentArn=d["serviceDeploymentArn"], stopType="ABORT")
        assert deployment_of(ecs)[1]["status"] == "STOPPED"
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        s, d = deployment_of(ecs)
        assert d["status"] == "IN_PROGRESS" and s["taskDefinition"] == td2
        assert ecs.stop_service_deployment(serviceDeploymentArn=d["serviceDeploymentArn"])[
            "serviceDeploymentArn"] == d["serviceDeploymentArn"]  # stopType defaults to ROLLBACK
        s, d = deployment_of(ecs)
        assert d["status"] == "ROLLBACK_SUCCESSFUL" and "StopServiceDeployment" in d["rollback"]["reason"]
        assert s["taskDefinition"] == td1
        assert [x["rolloutState"] for x in s["deployments"]] == ["COMPLETED"]

    def test_alarm_rolls_back_a_pinned_in_progress_deployment(self, emulator, vpc):
        alarm(emulator, "orders-5xx")
        config = dict(CANARY, alarms={"alarmNames": ["orders-5xx"], "enable": True, "rollback": True})
        ecs, td1, td2 = sc_service_with(emulator, vpc, config)
        emulator.settings(ecs_deployment="in_progress")
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        d = deployment_of(ecs)[1]
        assert (d["status"], d["lifecycleStage"]) == ("IN_PROGRESS", "PRE_SCALE_UP")
        assert d["targetServiceRevision"]["runningTaskCount"] == 0
        emulator.client("cloudwatch").set_alarm_state(AlarmName="orders-5xx", StateValue="ALARM", StateReason="x")
        s, d = deployment_of(ecs)
        assert d["status"] == "ROLLBACK_SUCCESSFUL" and s["taskDefinition"] == td1
        assert [x["rolloutState"] for x in s["deployments"]] == ["COMPLETED"]

    def test_new_deployment_supersedes_one_in_progress(self, emulator, vpc):
        emulator.settings(ecs_deployment="in_progress")
        ecs, td1, td2 = sc_service_with(emulator, vpc, CANARY)
        first = deployment_of(ecs)[1]["serviceDeploymentArn"]
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        [old] = ecs.describe_service_deployments(serviceDeploymentArns=[first])["serviceDeployments"]
        assert old["status"] == "STOPPED" and "new service deployment" in old["statusReason"]
        assert ecs.list_service_deployments(cluster="matbakh", service="orders",
                                            status=["IN_PROGRESS"])["serviceDeployments"][0][
            "serviceDeploymentArn"] != first

    def test_pause_hook_waits_for_continue(self, emulator, vpc):
        emulator.settings(ecs_deployment="timed")
        emulator.clock(speed=0)
        config = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [
            {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
             "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"}}]}
        ecs, td1, td2 = sc_service_with(emulator, vpc, config)
        assert deployment_of(ecs)[1]["status"] == "SUCCESSFUL"  # the first deployment only scales up
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
        d = deployment_of(ecs)[1]
        [hook] = d["lifecycleHookDetails"]
        assert (hook["status"], hook["targetType"], d["lifecycleStage"]) == \
            ("AWAITING_ACTION", "PAUSE", "POST_TEST_TRAFFIC_SHIFT")
        emulator.clock(advance_seconds=600)
        assert deployment_of(ecs)[1]["status"] == "IN_PROGRESS"
        ecs.continue_service_deployment(serviceDeploymentArn=d["serviceDeploymentArn"],
                                        hookId=hook["hookId"], action="CONTINUE")
        s, d = deployment_of(ecs)
        assert d["status"] == "SUCCESSFUL" and d["lifecycleHookDetails"][0]["status"] == "SUCCEEDED"
        assert s["taskDefinition"] == td2
        with pytest.raises(ClientError) as e:
            ecs.continue_service_deployment(serviceDeploymentArn=d["serviceDeploymentArn"],
                                            hookId=hook["hookId"])
        assert err(e)[0] == "InvalidParameterException"
        td3 = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        # The next one times out after 30 minutes and rolls back.
        ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td3)
        emulator.clock(advance_seconds=30 * 60 - 1)
        assert deployment_of(ecs)[1]["status"] == "IN_PROGRESS"
        emulator.clock(advance_seconds=1)
        s, d = deployment_of(ecs)
        assert d["status"] == "ROLLBACK_SUCCESSFUL" and d["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"
        assert s["taskDefinition"] == td2

    def test_failed_mode_is_a_circuit_breaker_rollback(self, emulator, vpc):
        ecs, td1, td2 = sc_service_with(emulator, vpc, {  # the breaker goes with ROLLING only
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        emulator.settings(ecs_deployment="failed")
        s = ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)["service"]
        assert s["deployments"][0]["rolloutState"] == "FAILED"  # the deployments[] view as before
        d = deployment_of(ecs)[1]
        assert d["status"] == "ROLLBACK_SUCCESSFUL"
        assert d["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
        assert d["deploymentCircuitBreaker"]["failureCount"] >= 1
        assert "circuit breaker" in d["rollback"]["reason"]

    def test_delete_stops_the_deployment(self, emulator, vpc):
        emulator.settings(ecs_deployment="in_progress")
        ecs, td1, td2 = sc_service_with(emulator, vpc, CANARY)
        arn = deployment_of(ecs)[1]["serviceDeploymentArn"]
        ecs.delete_service(cluster="matbakh", service="orders", force=True)
        [d] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
        assert d["status"] == "STOPPED"

    def test_clock_control(self, emulator):
        before = emulator.clock()
        after = emulator.clock(advance_seconds=3600, speed=0)
        assert after["speed"] == 0 and after["now"] >= before["now"] + 3600
        with pytest.raises(RuntimeError):
            emulator.clock(advance_seconds=-1)
        emulator.reset()
        # A reset returns to the launch speed (harness.emulator.RELEASE_SPEED here).
        assert emulator.clock()["speed"] == 3600.0


class TestEcsReleaseSafety:
    def test_create_service_without_security_groups(self, emulator, vpc):
        """AwsVpcConfiguration.securityGroups is optional: "If you don't specify a security
        group, the default security group for the VPC is used." moto crashed (KeyError)."""
        ecs = emulator.client("ecs")
        make_cluster(ecs)
        td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        network = {"awsvpcConfiguration": {"subnets": [vpc["subnet"]], "assignPublicIp": "DISABLED"}}
        s = make_service(ecs, vpc, td, networkConfiguration=network)
        assert s["status"] == "ACTIVE"
        assert s["networkConfiguration"] == network
        u = ecs.update_service(cluster="matbakh", service="auth-service", networkConfiguration=network)
        assert u["service"]["networkConfiguration"] == network
        with pytest.raises(ClientError) as e:  # the subnet is still checked
            make_service(ecs, vpc, td, name="other", networkConfiguration={
                "awsvpcConfiguration": {"subnets": ["subnet-12345678"]}})
        assert err(e)[0] == "InvalidParameterException"

    def test_circuit_breaker_refused_on_update_to_another_strategy(self, emulator, vpc):
        """(Refused on create: test_strategy_validation.)"""
        ecs, td1, td2 = sc_service_with(emulator, vpc, {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        with pytest.raises(ClientError) as e:
            ecs.update_service(cluster="matbakh", service="orders",
                               deploymentConfiguration={"strategy": "CANARY", "deploymentCircuitBreaker": {
                                   "enable": True, "rollback": True}})
        assert err(e)[0] == "InvalidParameterException"
        ecs.update_service(cluster="matbakh", service="orders", deploymentConfiguration={
            "strategy": "CANARY", "deploymentCircuitBreaker": {"enable": False, "rollback": False}})

    @pytest.mark.parametrize("answer", ["previous", "blank"])
    def test_answer_without_the_new_deployment(self, emulator, vpc, answer):
        ecs, td1, td2 = sc_service_with(emulator, vpc, CANARY)
        before = deployment_of(ecs)[0]["currentServiceDeployment"]
        emulator.settings(ecs_deployment_answer=answer)
        s = ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)["service"]
        assert s.get("currentServiceDeployment") == (before if answer == "previous" else None)
        # The deployment was started all the same, and DescribeServices names it.
        now = deployment_of(ecs)[0]["currentServiceDeployment"]
        assert now != before
        listed = ecs.list_service_deployments(cluster="matbakh", service="orders")["serviceDeployments"]
        assert listed[0]["serviceDeploymentArn"] == now
        c = make_service(ecs, vpc, td1, name="other")
        assert "currentServiceDeployment" not in c

    def test_service_connect_cloud_map_service_left_behind(self, emulator, vpc):
        ecs = emulator.client("ecs")
        sd = emulator.client("servicediscovery")
        ns = http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        make_sc_service(ecs, vpc, td, sc_config(ns["Arn"]))
        emulator.settings(ecs_service_connect_cleanup="leave")
        ecs.delete_service(cluster="matbakh", service="orders", force=True)
        left = ecs_managed_cloudmap_services(emulator, ns["Id"])
        assert list(left) == ["orders"]
        assert sd.list_instances(ServiceId=left["orders"]["Id"])["Instances"] == []
        with pytest.raises(ClientError) as e:
            sd.delete_namespace(Id=ns["Id"])
        assert err(e)[0] == "ResourceInUse"
        sd.delete_service(Id=left["orders"]["Id"])
        sd.delete_namespace(Id=ns["Id"])


@pytest.mark.releases
def test_deployments_take_their_time_by_default(emulator, vpc):
    """Without a setting, a release takes its stages' time on the emulator's clock."""
    assert emulator.settings()["ecs_deployment"] == "timed"
    emulator.clock(speed=0)
    ecs, td1, td2 = sc_service_with(emulator, vpc, CANARY)
    ecs.update_service(cluster="matbakh", service="orders", taskDefinition=td2)
    d = deployment_of(ecs)[1]
    assert d["status"] == "IN_PROGRESS"
    assert d["targetServiceRevision"]["requestedProductionTrafficWeight"] == 10.0
    emulator.clock(advance_seconds=(3 + 5) * 60)
    assert deployment_of(ecs)[1]["status"] == "SUCCESSFUL"


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


def test_describe_scaling_policies_by_name_across_targets_ten_a_page(emulator, vpc):
    """As AWS: PolicyNames (at most 50) filters by name, across targets without a ResourceId;
    ScalableDimension needs a ResourceId; MaxResults 1-10 (default 10), NextToken for the rest."""
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    aas = emulator.client("application-autoscaling")
    dim = "ecs:service:DesiredCount"
    config = {"TargetValue": 70.0,
              "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}
    for service in ("a", "ab"):
        make_service(ecs, vpc, td, name=service)
        rid = f"service/matbakh/{service}"
        aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=dim,
                                     MinCapacity=1, MaxCapacity=3)
        for i in range(6):
            aas.put_scaling_policy(PolicyName=f"p{i}", ServiceNamespace="ecs", ResourceId=rid,
                                   ScalableDimension=dim, PolicyType="TargetTrackingScaling",
                                   TargetTrackingScalingPolicyConfiguration=config)
    named = aas.describe_scaling_policies(ServiceNamespace="ecs", PolicyNames=["p0", "p5", "x"])
    assert sorted((p["ResourceId"], p["PolicyName"]) for p in named["ScalingPolicies"]) == [
        ("service/matbakh/a", "p0"), ("service/matbakh/a", "p5"),
        ("service/matbakh/ab", "p0"), ("service/matbakh/ab", "p5")]
    # ResourceId is the target's own, not a prefix of another's.
    one = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/matbakh/a")
    assert {p["ResourceId"] for p in one["ScalingPolicies"]} == {"service/matbakh/a"}
    # Twelve policies: ten a page, then the rest.
    first = aas.describe_scaling_policies(ServiceNamespace="ecs")
    assert len(first["ScalingPolicies"]) == 10 and first["NextToken"]
    rest = aas.describe_scaling_policies(ServiceNamespace="ecs", NextToken=first["NextToken"])
    assert len(rest["ScalingPolicies"]) == 2 and "NextToken" not in rest
    for bad in ({"MaxResults": 50}, {"ScalableDimension": dim},
                {"PolicyNames": [f"p{i}" for i in range(51)]}):
        with pytest.raises(ClientError) as e:
            aas.describe_scaling_policies(ServiceNamespace="ecs", **bad)
        assert err(e)[0] == "ValidationException", bad


def test_get_resources_names_tagged_scalable_targets(emulator, vpc):
    """The Resource Groups Tagging API covers application-autoscaling:scalable-target: a target
    tagged now or once is named with its tags, one never tagged is not."""
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    aas = emulator.client("application-autoscaling")
    dim = "ecs:service:DesiredCount"
    arns = {}
    for service, tags in (("tagged", {"team": "identity"}), ("bare", {})):
        make_service(ecs, vpc, td, name=service)
        arns[service] = aas.register_scalable_target(
            ServiceNamespace="ecs", ResourceId=f"service/matbakh/{service}",
            ScalableDimension=dim, MinCapacity=1, MaxCapacity=3,
            **({"Tags": tags} if tags else {}))["ScalableTargetARN"]
    tagging = emulator.client("resourcegroupstaggingapi")

    def named() -> dict:
        out = tagging.get_resources(ResourceARNList=list(arns.values()))
        return {m["ResourceARN"]: {t["Key"]: t["Value"] for t in m["Tags"]}
                for m in out["ResourceTagMappingList"]}

    assert named() == {arns["tagged"]: {"team": "identity"}}
    aas.tag_resource(ResourceARN=arns["tagged"], Tags={"team": "by-hand"})
    assert named() == {arns["tagged"]: {"team": "by-hand"}}
    aas.untag_resource(ResourceARN=arns["tagged"], TagKeys=["team"])
    assert named() == {arns["tagged"]: {}}, "previously tagged: named, without tags"
    by_type = tagging.get_resources(ResourceTypeFilters=["application-autoscaling:scalable-target"])
    assert [m["ResourceARN"] for m in by_type["ResourceTagMappingList"]] == [arns["tagged"]]


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
    assert emulator.settings()["ecs_deployment"] == "timed"
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
        # (DescribeServiceDeployments served here before ecs_deployments.py implemented it.)
        emulator.client("ecs").describe_daemon_deployments(daemonDeploymentArns=["arn:x"])
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


class TestServiceConnectMetricsAndAlarms:
    """extensions/metrics.py: Service Connect's metrics as AWS publishes them, alarms evaluated."""

    @staticmethod
    def orders(emulator, vpc):
        ecs = emulator.client("ecs")
        http_namespace(emulator)
        make_cluster(ecs)
        td = ecs.register_task_definition(**SC_TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
        make_sc_service(ecs, vpc, td, sc_config("internal.local"))

    @staticmethod
    def total(emulator, metric, dims):
        cw = emulator.client("cloudwatch")
        now = datetime.now(timezone.utc)
        out = cw.get_metric_statistics(
            Namespace="AWS/ECS", MetricName=metric, Dimensions=[{"Name": k, "Value": v} for k, v in dims],
            StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1), Period=600,
            Statistics=["Sum"])
        return sum(p["Sum"] for p in out["Datapoints"])

    def test_target_discovery_name_alone_sums_every_caller_of_every_cluster(self, emulator, vpc):
        self.orders(emulator, vpc)
        for caller_cluster, errors in (("matbakh", 1), ("elsewhere", 4)):
            out = emulator.service_connect_traffic(cluster="matbakh", service="orders", requests=10,
                                                   errors=errors, caller_cluster=caller_cluster,
                                                   caller_service="web", minutes=2)
            assert out["discovery_name"] == "orders"
        assert self.total(emulator, "HTTPCode_Target_5XX_Count", [("TargetDiscoveryName", "orders")]) == 10
        caller = [("TargetDiscoveryName", "orders"), ("ServiceName", "web"), ("ClusterName", "elsewhere")]
        assert self.total(emulator, "HTTPCode_Target_5XX_Count", caller) == 8
        own = [("DiscoveryName", "orders"), ("ServiceName", "orders"), ("ClusterName", "matbakh")]
        assert self.total(emulator, "RequestCount", own) == 40

    def test_alarms_are_evaluated_on_the_data_with_metric_math(self, emulator, vpc):
        self.orders(emulator, vpc)
        cw = emulator.client("cloudwatch")
        stat = lambda i, m, dims: {"Id": i, "ReturnData": False, "MetricStat": {  # noqa: E731
            "Metric": {"Namespace": "AWS/ECS", "MetricName": m,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in dims]},
            "Period": 60, "Stat": "Sum"}}
        cw.put_metric_alarm(
            AlarmName="rate", EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=5.0,
            ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
            Metrics=[stat("errors", "HTTPCode_Target_5XX_Count", [("TargetDiscoveryName", "orders")]),
                     stat("requests", "RequestCount", [("DiscoveryName", "orders")]),
                     {"Id": "rate", "ReturnData": True,
                      "Expression": "IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)"}])
        assert emulator.evaluate_alarms(alarm_names=["rate"])["rate"]["state"] == "OK"
        emulator.service_connect_traffic(cluster="matbakh", service="orders", requests=100, errors=6,
                                         minutes=2)
        result = emulator.evaluate_alarms(alarm_names=["rate"])["rate"]
        assert result == {"state": "ALARM", "points": [0.0, 6.0, 6.0]}
        assert cw.describe_alarms(AlarmNames=["rate"])["MetricAlarms"][0]["StateValue"] == "ALARM"
        with pytest.raises(RuntimeError):
            emulator.evaluate_alarms(alarm_names=["no-such-alarm"])


def test_get_resources_by_arn_list_answers_one_page_and_refuses_filters_beside_it(emulator):
    cw = emulator.client("cloudwatch")
    arns = []
    for i in range(40):
        name = f"batch-{i}"
        cw.put_metric_alarm(AlarmName=name, MetricName="CPUUtilization", Namespace="AWS/ECS",
                            Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold",
                            Tags=[{"Key": f"k{j}", "Value": "v"} for j in range(5)])
        arns.append(cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"])
    tagging = emulator.client("resourcegroupstaggingapi")
    unknown = arns[0] + "-unknown"
    out = tagging.get_resources(ResourceARNList=arns + [unknown])
    # 200 tags: moto's own default of 100 tags a page would have cut it; AWS answers one page.
    assert sorted(m["ResourceARN"] for m in out["ResourceTagMappingList"]) == sorted(arns)
    assert not out.get("PaginationToken")
    with pytest.raises(ClientError) as e:
        tagging.get_resources(ResourceARNList=arns[:1], ResourceTypeFilters=["cloudwatch:alarm"])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_get_resources_by_filters_pages_by_resources_and_types_log_groups_as_aws(emulator):
    cw = emulator.client("cloudwatch")
    logs = emulator.client("logs")
    for i in range(30):
        cw.put_metric_alarm(AlarmName=f"owned-{i}", MetricName="CPUUtilization",
                            Namespace="AWS/ECS", Statistic="Average", Period=60,
                            EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold",
                            Tags=[{"Key": "owner-key", "Value": "x"}]
                            + [{"Key": f"k{j}", "Value": "v"} for j in range(5)])
    logs.create_log_group(logGroupName="/owned/group", tags={"owner-key": "x"})
    tagging = emulator.client("resourcegroupstaggingapi")
    # 31 resources with 181 tags: without TagsPerPage a page holds ResourcesPerPage resources
    # (moto's default of 100 tags a page would have cut it); the log group's type is the string
    # in its ARN, `logs:log-group`; `cloudwatch` alone is every CloudWatch type.
    out = tagging.get_resources(TagFilters=[{"Key": "owner-key"}], ResourcesPerPage=100,
                                ResourceTypeFilters=["cloudwatch", "logs:log-group"])
    arns = [m["ResourceARN"] for m in out["ResourceTagMappingList"]]
    assert len(arns) == 31 and not out.get("PaginationToken"), (len(arns), out.get("PaginationToken"))
    assert any(":log-group:/owned/group" in a for a in arns), arns
    first = tagging.get_resources(TagFilters=[{"Key": "owner-key"}], ResourcesPerPage=20,
                                  ResourceTypeFilters=["cloudwatch", "logs:log-group"])
    rest = tagging.get_resources(TagFilters=[{"Key": "owner-key"}], ResourcesPerPage=20,
                                 ResourceTypeFilters=["cloudwatch", "logs:log-group"],
                                 PaginationToken=first["PaginationToken"])
    assert len(first["ResourceTagMappingList"]) == 20 and len(rest["ResourceTagMappingList"]) == 11
    with pytest.raises(ClientError) as e:
        tagging.get_resources(TagFilters=[{"Key": f"k{i}"} for i in range(51)])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_get_resources_never_names_a_tagged_dashboard(emulator):
    """CloudWatch tags dashboards through its own TagResource / ListTagsForResource only: the
    Resource Groups Tagging API does not cover them (cloud-custodian issue 11029 and PR 11090;
    src/aws/cloudwatch/dashboard.rs), so neither its listing by type nor a ResourceARNList
    names one, while CloudWatch answers its tags."""
    cw = emulator.client("cloudwatch")
    cw.put_dashboard(DashboardName="tagged-board", DashboardBody='{"widgets": []}',
                     Tags=[{"Key": "owner-key", "Value": "x"}])
    [entry] = [d for d in cw.list_dashboards()["DashboardEntries"]
               if d["DashboardName"] == "tagged-board"]
    arn = entry["DashboardArn"]
    assert arn.startswith("arn:aws:cloudwatch::") and arn.endswith(":dashboard/tagged-board"), arn
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "owner-key", "Value": "x"}]
    tagging = emulator.client("resourcegroupstaggingapi")
    listed = tagging.get_resources(TagFilters=[{"Key": "owner-key"}],
                                   ResourceTypeFilters=["cloudwatch"])
    assert arn not in [m["ResourceARN"] for m in listed["ResourceTagMappingList"]], listed
    by_arn = tagging.get_resources(ResourceARNList=[arn])
    assert by_arn["ResourceTagMappingList"] == [], by_arn


def test_describe_alarms_pages_as_aws(emulator):
    cw = emulator.client("cloudwatch")
    for i in range(120):
        cw.put_metric_alarm(AlarmName=f"paged-{i:03}", MetricName="CPUUtilization",
                            Namespace="AWS/ECS", Statistic="Average", Period=60,
                            EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold")
    # 50 a page by default, at most 100, in order of name; NextToken goes on.
    first = cw.describe_alarms(AlarmNamePrefix="paged-")
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == [f"paged-{i:03}" for i in range(50)]
    names, token = [], None
    while True:
        page = cw.describe_alarms(AlarmNamePrefix="paged-", MaxRecords=100,
                                  **({"NextToken": token} if token else {}))
        names += [a["AlarmName"] for a in page["MetricAlarms"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"paged-{i:03}" for i in range(120)]
    for bad in ({"MaxRecords": 101}, {"AlarmNames": [f"paged-{i:03}" for i in range(101)]},
                {"AlarmNames": ["paged-000"], "AlarmNamePrefix": "paged-"}):
        with pytest.raises(ClientError) as e:
            cw.describe_alarms(**bad)
        assert e.value.response["Error"]["Code"] in (
            "InvalidParameterValue", "InvalidParameterCombination", "ValidationError"), bad


def test_describe_security_groups_pages_as_aws(emulator, vpc):
    ec2 = emulator.client("ec2")
    made = sorted(ec2.create_security_group(GroupName=f"paged-{i}", Description="paged",
                                            VpcId=vpc["vpc"],
                                            TagSpecifications=[{"ResourceType": "security-group",
                                                                "Tags": [{"Key": "paged", "Value": "1"}]}])
                  ["GroupId"] for i in range(12))
    tagged = [{"Name": "tag-key", "Values": ["paged"]}]
    # Without MaxResults everything at once; with it, pages in order of id and a NextToken.
    assert sorted(g["GroupId"] for g in ec2.describe_security_groups(Filters=tagged)["SecurityGroups"]) == made
    ids, token, pages = [], None, 0
    while True:
        page = ec2.describe_security_groups(Filters=tagged, MaxResults=5,
                                            **({"NextToken": token} if token else {}))
        ids += [g["GroupId"] for g in page["SecurityGroups"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert (ids, pages) == (made, 3)
    # A group-id filter leaves a missing group out; GroupIds refuses the whole call.
    by_id = ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [made[0], "sg-0000000000000000"]}])
    assert [g["GroupId"] for g in by_id["SecurityGroups"]] == [made[0]]
    for bad in ({"MaxResults": 1001}, {"GroupIds": [made[0], "sg-0000000000000000"]}):
        with pytest.raises(ClientError) as e:
            ec2.describe_security_groups(**bad)
        assert e.value.response["Error"]["Code"] in ("InvalidParameterValue", "InvalidGroup.NotFound"), bad


def test_describe_log_groups_by_identifiers(emulator):
    logs = emulator.client("logs")
    for name in ("/ids/a", "/ids/b", "/ids/c"):
        logs.create_log_group(logGroupName=name)
    out = logs.describe_log_groups(logGroupIdentifiers=["/ids/a", "/ids/c", "/ids/missing"])
    assert [g["logGroupName"] for g in out["logGroups"]] == ["/ids/a", "/ids/c"]
    with pytest.raises(ClientError) as e:
        logs.describe_log_groups(logGroupIdentifiers=["/ids/a"], logGroupNamePrefix="/ids")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


# ============================================================================ ELB DescribeTags


def test_elbv2_describe_tags_refuses_a_missing_object_and_more_than_twenty(emulator):
    """As AWS: a batched DescribeTags is refused whole when one of its objects is gone (the
    provider then asks each alone), and takes at most 20 ARNs."""
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    elb = emulator.client("elbv2")
    arns = [elb.create_target_group(Name=f"tg-{i}", Protocol="HTTP", Port=80, VpcId=vpc,
                                    TargetType="ip", Tags=[{"Key": "n", "Value": str(i)}])
            ["TargetGroups"][0]["TargetGroupArn"] for i in range(2)]
    found = elb.describe_tags(ResourceArns=arns)["TagDescriptions"]
    assert [d["Tags"] for d in found] == [[{"Key": "n", "Value": "0"}], [{"Key": "n", "Value": "1"}]]
    elb.delete_target_group(TargetGroupArn=arns[1])
    with pytest.raises(ClientError) as e:
        elb.describe_tags(ResourceArns=arns)
    assert err(e)[0] == "TargetGroupNotFound"
    with pytest.raises(ClientError) as e:
        elb.describe_tags(ResourceArns=[arns[0]] * 21)
    assert err(e)[0] == "ValidationError"


# ============================================================================ IAM account details


def test_iam_account_authorization_details_pages_and_encodes_as_aws(emulator):
    """As AWS: GetAccountAuthorizationDetails answers MaxItems items a page with a Marker for the
    next (moto answered all at once), Filter=Role carries roles only, with each role's path,
    tags, inline policies, attached policies and trust policy (URL-encoded, as AWS sends it)."""
    iam = emulator.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    inline = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]}
    iam.create_role(RoleName="detailed", Path="/team/", AssumeRolePolicyDocument=json.dumps(trust),
                    Tags=[{"Key": "matbakh:owner", "Value": "p/s"}])
    iam.put_role_policy(RoleName="detailed", PolicyName="matbakh", PolicyDocument=json.dumps(inline))
    managed = iam.create_policy(PolicyName="extra", PolicyDocument=json.dumps(inline))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="detailed", PolicyArn=managed)
    for i in range(4):
        iam.create_role(RoleName=f"plain-{i}", AssumeRolePolicyDocument=json.dumps(trust))
    raw: list[str] = []
    iam.meta.events.register("after-call.iam.GetAccountAuthorizationDetails",
                             lambda http_response, **_: raw.append(http_response.text))

    first = iam.get_account_authorization_details(Filter=["Role"], MaxItems=2)
    assert first["IsTruncated"] and first["Marker"], first
    assert len(first["RoleDetailList"]) == 2 and not first["Policies"]
    names = [r["RoleName"] for r in first["RoleDetailList"]]
    marker = first["Marker"]
    while marker:
        page = iam.get_account_authorization_details(Filter=["Role"], MaxItems=2, Marker=marker)
        names += [r["RoleName"] for r in page["RoleDetailList"]]
        marker = page.get("Marker") if page["IsTruncated"] else None
    assert sorted(names) == sorted(["detailed"] + [f"plain-{i}" for i in range(4)])

    role = next(r for r in iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
                if r["RoleName"] == "detailed")
    assert role["Path"] == "/team/" and role["Arn"].endswith(":role/team/detailed")
    assert role["Tags"] == [{"Key": "matbakh:owner", "Value": "p/s"}]
    assert role["RolePolicyList"][0]["PolicyName"] == "matbakh"
    assert role["RolePolicyList"][0]["PolicyDocument"] == inline
    assert role["AttachedManagedPolicies"] == [{"PolicyName": "extra", "PolicyArn": managed}]
    assert role["AssumeRolePolicyDocument"] == trust
    # On the wire both documents are URL-encoded (boto3 decodes them).
    assert "<AssumeRolePolicyDocument>%7B" in raw[-1] and "<PolicyDocument>%7B" in raw[-1], raw[-1]

    for bad in ({"MaxItems": 1001}, {"Filter": ["Roles"]}, {"Marker": "not-given"}):
        with pytest.raises(ClientError) as e:
            iam.get_account_authorization_details(**bad)
        assert err(e)[0] == "ValidationError", bad


def test_list_services_pages_and_describe_services_takes_ten(emulator, vpc):
    """As AWS (botocore's ecs model): ListServices' maxResults 1-100, 10 a page without it, a
    nextToken while more remain; DescribeServices takes at most 10 services."""
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    names = [f"svc-{i:02}" for i in range(12)]
    for name in names:
        make_service(ecs, vpc, td, name=name)
    first = ecs.list_services(cluster="matbakh")
    assert len(first["serviceArns"]) == 10 and first["nextToken"], first
    rest = ecs.list_services(cluster="matbakh", nextToken=first["nextToken"])
    assert len(rest["serviceArns"]) == 2 and "nextToken" not in rest, rest
    listed = first["serviceArns"] + rest["serviceArns"]
    assert sorted(a.rsplit("/", 1)[-1] for a in listed) == names
    assert len(ecs.list_services(cluster="matbakh", maxResults=100)["serviceArns"]) == 12
    with pytest.raises(ClientError) as e:
        ecs.list_services(cluster="matbakh", maxResults=101)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert len(ecs.describe_services(cluster="matbakh", services=names[:10])["services"]) == 10
    with pytest.raises(ClientError) as e:
        ecs.describe_services(cluster="matbakh", services=names[:11])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_describe_scalable_targets_fifty_ids_and_fifty_a_page(emulator, vpc):
    """As AWS (botocore's application-autoscaling model): ResourceIds at most 50, MaxResults
    1-50 (default 50), a NextToken while more remain (moto's third page repeated its second)."""
    ecs = emulator.client("ecs")
    make_cluster(ecs)
    td = ecs.register_task_definition(**TASK_DEF)["taskDefinition"]["taskDefinitionArn"]
    aas = emulator.client("application-autoscaling")
    dim = "ecs:service:DesiredCount"
    rids = [f"service/matbakh/s{i:03}" for i in range(60)]
    for rid in rids:
        make_service(ecs, vpc, td, name=rid.rsplit("/", 1)[-1])
        aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=rid,
                                     ScalableDimension=dim, MinCapacity=1, MaxCapacity=2)
    pages = list(aas.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="ecs"))
    assert [len(p["ScalableTargets"]) for p in pages] == [50, 10]
    pages = list(aas.get_paginator("describe_scalable_targets").paginate(
        ServiceNamespace="ecs", PaginationConfig={"PageSize": 25}))
    assert [len(p["ScalableTargets"]) for p in pages] == [25, 25, 10]
    assert sorted(t["ResourceId"] for p in pages for t in p["ScalableTargets"]) == rids
    got = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=rids[:50])
    assert len(got["ScalableTargets"]) == 50
    for args in ({"ResourceIds": rids[:51]}, {"MaxResults": 51}):
        with pytest.raises(ClientError) as e:
            aas.describe_scalable_targets(ServiceNamespace="ecs", **args)
        assert e.value.response["Error"]["Code"] == "ValidationException", args
    for rid in rids:
        aas.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=rid,
                                       ScalableDimension=dim)
