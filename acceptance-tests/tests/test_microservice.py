"""Acceptance tests for matbakh_microservice, driven through examples/three-services (Service
Connect), examples/app-mesh (the same stack on App Mesh) and examples/multi-region: the real
terraform CLI, the real provider binary, the local AWS emulator. Every test starts from an empty
emulator (conftest.emulator). The lifecycle runs on both backends (fixture `backend`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.terraform import REQUIRED_PROVIDERS, TerraformError, provider_block

pytestmark = pytest.mark.microservice

REPO = Path(__file__).resolve().parents[2]
THREE = REPO / "examples" / "three-services"
APP_MESH = REPO / "examples" / "app-mesh"
MULTI = REPO / "examples" / "multi-region"
SC, AM = "service_connect", "app_mesh"
EXAMPLE = {SC: THREE, AM: APP_MESH}
REGION = "eu-central-1"

PLATFORM = "matbakh"
NAMESPACE = "svc.local"
SERVICES = ["auth-service", "persona-service", "vc-service"]
AUTH = "auth-service"
AUTH_ADDR = "matbakh_microservice.auth"
EXEC_ROLE = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
FARGATE_SIZES = {256: {512, 1024, 2048}, 512: set(range(1024, 4097, 1024)),
                 1024: set(range(2048, 8193, 1024)), 2048: set(range(4096, 16385, 1024)),
                 4096: set(range(8192, 30721, 1024)), 8192: set(range(16384, 61441, 4096)),
                 16384: set(range(32768, 122881, 8192))}


# ---------------------------------------------------------------------------- network


def network(emulator, region: str = "eu-central-1") -> dict:
    """A VPC, two subnets and a security group in the emulator's EC2 (region `region`)."""
    ec2 = emulator._session.client("ec2", region_name=region, endpoint_url=emulator.endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="matbakh-services", Description="services",
                                   VpcId=vpc)["GroupId"]
    return {"vpc_id": vpc, "subnet_ids": subnets, "security_group_ids": [sg]}


@pytest.fixture
def net(emulator) -> dict:
    return network(emulator)


@pytest.fixture(params=[SC, AM])
def backend(request) -> str:
    """The provider's service_mesh the test runs on (the example written for it)."""
    return request.param


def example_vars(emulator, net, backend: str = SC, **extra) -> dict:
    """The example's variables: a VPC only on App Mesh (a Service Connect platform has none)."""
    network_vars = dict(net) if backend == AM else {k: v for k, v in net.items() if k != "vpc_id"}
    return {"endpoint": emulator.endpoint, **network_vars, **extra}


def three_services(tf, emulator, net, backend: str = SC, **extra) -> None:
    tf.copy_dir(EXAMPLE[backend], example_vars(emulator, net, backend, **extra))


# ---------------------------------------------------------------------------- emulator views


def c(emulator, name, region="eu-central-1"):
    if region == "eu-central-1":
        return emulator.client(name)
    return emulator._session.client(name, region_name=region, endpoint_url=emulator.endpoint)


def ecs_service(emulator, name=AUTH, region="eu-central-1"):
    out = c(emulator, "ecs", region).describe_services(cluster=PLATFORM, services=[name])
    live = [s for s in out["services"] if s["status"] == "ACTIVE"]
    assert len(live) <= 1
    return live[0] if live else None


def active_services(emulator, region="eu-central-1"):
    ecs = c(emulator, "ecs", region)
    if not ecs.list_clusters()["clusterArns"]:
        return []
    arns = ecs.list_services(cluster=PLATFORM)["serviceArns"]
    if not arns:
        return []
    return [s for s in ecs.describe_services(cluster=PLATFORM, services=arns)["services"]
            if s["status"] == "ACTIVE"]


def task_definition(emulator, arn):
    return emulator.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]


def cloudmap_services(emulator, region="eu-central-1"):
    return c(emulator, "servicediscovery", region).list_services()["Services"]


def mesh_names(emulator, kind, region="eu-central-1", **kw):
    am = c(emulator, "appmesh", region)
    if PLATFORM not in [m["meshName"] for m in am.list_meshes()["meshes"]]:
        return []
    if kind == "virtualNodes":
        return [x["virtualNodeName"] for x in am.list_virtual_nodes(meshName=PLATFORM)["virtualNodes"]]
    if kind == "virtualRouters":
        return [x["virtualRouterName"] for x in am.list_virtual_routers(meshName=PLATFORM)["virtualRouters"]]
    if kind == "virtualServices":
        return [x["virtualServiceName"] for x in am.list_virtual_services(meshName=PLATFORM)["virtualServices"]]
    if kind == "routes":
        return [x["routeName"] for x in am.list_routes(meshName=PLATFORM, **kw)["routes"]]
    raise ValueError(kind)


def matbakh_alarms(emulator, region="eu-central-1"):
    alarms = c(emulator, "cloudwatch", region).describe_alarms()["MetricAlarms"]
    return [a for a in alarms if a["AlarmName"].startswith(f"{PLATFORM}-")]


def dashboards(emulator, region="eu-central-1"):
    return [d["DashboardName"] for d in c(emulator, "cloudwatch", region).list_dashboards()["DashboardEntries"]]


def log_groups(emulator, region="eu-central-1"):
    return c(emulator, "logs", region).describe_log_groups(logGroupNamePrefix="/matbakh/")["logGroups"]


def scaling_targets(emulator, region="eu-central-1"):
    return c(emulator, "application-autoscaling", region).describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"]


def active_task_defs(emulator, family, region="eu-central-1"):
    return c(emulator, "ecs", region).list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]


def dashboard_name(service: str, region: str = REGION) -> str:
    """Dashboards are global to the account: the region is in the name."""
    return f"{PLATFORM}-{service}-{region}"


def assert_nothing_left(emulator, region="eu-central-1") -> None:
    assert active_services(emulator, region) == [], "ECS services left"
    for s in SERVICES:
        assert active_task_defs(emulator, f"{PLATFORM}-{s}", region) == [], f"task definitions of {s} left"
    assert cloudmap_services(emulator, region) == [], "Cloud Map services left"
    for kind in ("virtualNodes", "virtualRouters", "virtualServices"):
        assert mesh_names(emulator, kind, region) == [], f"{kind} left"
    assert matbakh_alarms(emulator, region) == [], "alarms left"
    assert dashboards(emulator, region) == [], "dashboards left"
    assert log_groups(emulator, region) == [], "log groups left"
    assert scaling_targets(emulator, region) == [], "scaling targets left"


def assert_nothing_created(emulator) -> None:
    assert emulator.client("ecs").list_clusters()["clusterArns"] == []
    assert emulator.client("appmesh").list_meshes()["meshes"] == []
    assert cloudmap_services(emulator) == []
    assert emulator.client("ecs").list_task_definitions()["taskDefinitionArns"] == []
    assert log_groups(emulator) == []
    assert matbakh_alarms(emulator) == []


def assert_one_of_each(emulator, backend: str = AM) -> None:
    names = [s["serviceName"] for s in active_services(emulator)]
    assert sorted(names) == sorted(SERVICES), names
    # App Mesh: the provider's Cloud Map services; Service Connect: the ones ECS created, named
    # after the discovery name, unique per platform.
    expected = SERVICES if backend == AM else [f"{s}_{PLATFORM}" for s in SERVICES]
    assert sorted(s["Name"] for s in cloudmap_services(emulator)) == sorted(expected)
    if backend == SC:
        assert emulator.client("appmesh").list_meshes()["meshes"] == []
        for s in SERVICES:
            assert len(active_task_defs(emulator, f"{PLATFORM}-{s}")) == 1, s
        assert sorted(dashboards(emulator)) == sorted(dashboard_name(s) for s in SERVICES)
        return
    assert sorted(mesh_names(emulator, "virtualNodes")) == sorted(SERVICES)
    assert sorted(mesh_names(emulator, "virtualRouters")) == sorted(f"{s}-router" for s in SERVICES)
    assert sorted(mesh_names(emulator, "virtualServices")) == sorted(f"{s}.{NAMESPACE}" for s in SERVICES)
    for s in SERVICES:
        assert mesh_names(emulator, "routes", virtualRouterName=f"{s}-router") == [f"{s}-route"]
        assert len(active_task_defs(emulator, f"{PLATFORM}-{s}")) == 1, s
    assert sorted(g["logGroupName"] for g in log_groups(emulator)) == sorted(
        f"/matbakh/{PLATFORM}/{s}" for s in SERVICES)
    alarm_names = [a["AlarmName"] for a in matbakh_alarms(emulator)]
    assert len(alarm_names) == len(set(alarm_names))
    assert sorted(d for d in dashboards(emulator)) == sorted(dashboard_name(s) for s in SERVICES)


# ---------------------------------------------------------------------------- tests


def test_three_services_graph_on_app_mesh(emulator, tf, net):
    three_services(tf, emulator, net, AM)
    tf.apply()
    st = tf.resource(AUTH_ADDR)
    comps = st["components"]
    assert set(comps) >= {"log_group", "task_definition", "discovery_service", "virtual_node",
                          "virtual_router", "route", "virtual_service", "service",
                          "scaling_target", "scaling_policy_cpu", "scaling_policy_memory",
                          "alarm_error_rate", "alarm_p95_latency", "alarm_cpu", "dashboard"}, comps
    assert st["dns_name"] == f"{AUTH}.{NAMESPACE}"
    assert st["virtual_node_name"] == AUTH
    assert st["virtual_service_name"] == f"{AUTH}.{NAMESPACE}"
    assert st["estimated_monthly_cost"] > 0
    costs = tf.output("estimated_monthly_costs")
    assert all(v > 0 for v in costs.values()), costs
    assert tf.output("dns_names") == {"auth": "auth-service.svc.local",
                                      "persona": "persona-service.svc.local",
                                      "vc": "vc-service.svc.local"}

    # --- task definition
    svc = ecs_service(emulator)
    assert svc is not None
    assert svc["taskDefinition"] == st["task_definition_arn"] == comps["task_definition"]
    td = task_definition(emulator, svc["taskDefinition"])
    assert td["family"] == f"{PLATFORM}-{AUTH}"
    assert "FARGATE" in td["requiresCompatibilities"]
    assert td["networkMode"] == "awsvpc"
    cpu, mem = int(td["cpu"]), int(td["memory"])
    assert cpu in FARGATE_SIZES and mem in FARGATE_SIZES[cpu], (cpu, mem)
    containers = {x["name"]: x for x in td["containerDefinitions"]}
    assert {"app", "envoy"} <= set(containers), list(containers)
    assert len(containers) == 3, "tracing on by default: app, envoy and the ADOT collector"
    assert sum(x.get("cpu", 0) for x in containers.values()) <= cpu
    assert sum(x.get("memory", 0) or x.get("memoryReservation", 0) for x in containers.values()) <= mem
    app, envoy = containers["app"], containers["envoy"]
    assert app["image"] == "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"
    assert app["cpu"] == 512 and app.get("memory", app.get("memoryReservation")) == 1024
    assert app["readonlyRootFilesystem"] is True
    assert app.get("user") and app["user"].split(":")[0] not in ("0", "root")
    assert {"name": "DB_PASSWORD", "valueFrom":
            "arn:aws:secretsmanager:eu-central-1:123456789012:secret:auth-db-password"} in app["secrets"]
    assert {"name": "LOG_LEVEL", "value": "info"} in app["environment"]
    assert not any(e["name"] == "DB_PASSWORD" for e in app["environment"])
    assert [p["containerPort"] for p in app["portMappings"]] == [8080]
    for x in containers.values():
        lc = x["logConfiguration"]
        assert lc["logDriver"] == "awslogs"
        assert lc["options"]["awslogs-group"] == f"/matbakh/{PLATFORM}/{AUTH}"
    assert {"containerName": "envoy", "condition": "HEALTHY"} in app["dependsOn"]
    assert envoy.get("healthCheck"), "envoy must be health-checked"
    assert envoy.get("user") == "1337"
    pc = td["proxyConfiguration"]
    assert pc["type"] == "APPMESH" and pc["containerName"] == "envoy"
    props = {p["name"]: p["value"] for p in pc["properties"]}
    assert props["IgnoredUID"] == "1337"
    assert props["ProxyIngressPort"] == "15000" and props["ProxyEgressPort"] == "15001"
    assert "8080" in props["AppPorts"]
    assert td["executionRoleArn"] == EXEC_ROLE
    assert td["taskRoleArn"] == "arn:aws:iam::123456789012:role/auth-service"

    # --- ECS service
    assert svc["desiredCount"] == 2
    strategy = {s["capacityProvider"]: s for s in svc["capacityProviderStrategy"]}
    assert set(strategy) == {"FARGATE", "FARGATE_SPOT"}, strategy
    assert strategy["FARGATE"]["weight"] == strategy["FARGATE_SPOT"]["weight"], \
        "development: 50 % spot"
    dc = svc["deploymentConfiguration"]
    assert dc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert dc["minimumHealthyPercent"] == 100 and dc["maximumPercent"] == 200
    vpc_conf = svc["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc_conf["assignPublicIp"] == "DISABLED"
    assert sorted(vpc_conf["subnets"]) == sorted(net["subnet_ids"])
    assert vpc_conf["securityGroups"] == net["security_group_ids"]
    [sd] = [s for s in cloudmap_services(emulator) if s["Name"] == AUTH]
    assert [r["registryArn"] for r in svc["serviceRegistries"]] == [sd["Arn"]]
    assert comps["service"] == svc["serviceArn"] == st["service_arn"]
    tags = {t["key"]: t["value"] for t in svc.get("tags", [])} or {
        t["key"]: t["value"] for t in emulator.client("ecs").list_tags_for_resource(
            resourceArn=svc["serviceArn"])["tags"]}
    assert tags.get("matbakh:owner") == f"{PLATFORM}/{AUTH}" and tags.get("project") == "matbakh", tags

    # --- Cloud Map service
    sdd = emulator.client("servicediscovery").get_service(Id=sd["Id"])["Service"]
    dns = sdd["DnsConfig"]
    assert dns["RoutingPolicy"] == "MULTIVALUE"
    assert dns["DnsRecords"] == [{"Type": "A", "TTL": 10}]
    assert "HealthCheckCustomConfig" in sdd

    # --- virtual node
    am = emulator.client("appmesh")
    vn = am.describe_virtual_node(meshName=PLATFORM, virtualNodeName=AUTH)["virtualNode"]["spec"]
    [listener] = vn["listeners"]
    assert listener["portMapping"] == {"port": 8080, "protocol": "http"}
    hc = listener["healthCheck"]
    assert hc["path"] == "/health" and hc["protocol"] == "http"
    assert (hc["intervalMillis"], hc["timeoutMillis"]) == (30000, 5000)
    assert (hc["unhealthyThreshold"], hc["healthyThreshold"]) == (3, 2)
    od = listener["outlierDetection"]
    assert od["maxServerErrors"] == 5 and od["maxEjectionPercent"] == 50
    assert od["interval"] == {"unit": "s", "value": 30} or od["interval"] == {"unit": "ms", "value": 30000}
    assert listener["connectionPool"]["http"] == {"maxConnections": 1024, "maxPendingRequests": 1024}
    backends = sorted(b["virtualService"]["virtualServiceName"] for b in vn["backends"])
    assert backends == ["persona-service.svc.local", "vc-service.svc.local"]
    cm = vn["serviceDiscovery"]["awsCloudMap"]
    assert cm["namespaceName"] == NAMESPACE and cm["serviceName"] == AUTH

    # --- router, route, virtual service
    vr = am.describe_virtual_router(meshName=PLATFORM, virtualRouterName=f"{AUTH}-router")["virtualRouter"]
    assert vr["spec"]["listeners"][0]["portMapping"]["port"] == 8080
    route = am.describe_route(meshName=PLATFORM, virtualRouterName=f"{AUTH}-router",
                              routeName=f"{AUTH}-route")["route"]["spec"]["httpRoute"]
    assert route["match"]["prefix"] == "/"
    rp = route["retryPolicy"]
    assert rp["maxRetries"] == 3
    assert rp["perRetryTimeout"] in ({"unit": "s", "value": 2}, {"unit": "ms", "value": 2000})
    assert sorted(rp["httpRetryEvents"]) == ["gateway-error", "server-error"]
    assert rp["tcpRetryEvents"] == ["connection-error"]
    assert route["action"]["weightedTargets"] == [{"virtualNode": AUTH, "weight": 100}] or \
        [(t["virtualNode"], t["weight"]) for t in route["action"]["weightedTargets"]] == [(AUTH, 100)]
    vs = am.describe_virtual_service(meshName=PLATFORM, virtualServiceName=f"{AUTH}.{NAMESPACE}")
    assert vs["virtualService"]["spec"]["provider"] == {
        "virtualRouter": {"virtualRouterName": f"{AUTH}-router"}}

    # --- alarms, dashboard, logs, scaling
    alarms = {a["AlarmName"]: a for a in matbakh_alarms(emulator)}
    for suffix in ("error-rate", "latency-average", "cpu-high"):
        assert f"{PLATFORM}-{AUTH}-{suffix}" in alarms, sorted(alarms)
    for suffix in ("error-rate", "latency-average"):
        a = alarms[f"{PLATFORM}-{AUTH}-{suffix}"]
        assert a["AlarmActions"] == ["arn:aws:sns:eu-central-1:123456789012:matbakh-alerts"]
        stats = [m["MetricStat"]["Metric"] for m in a.get("Metrics", []) if "MetricStat" in m]
        if not stats:
            stats = [{"Namespace": a["Namespace"], "MetricName": a["MetricName"],
                      "Dimensions": a["Dimensions"]}]
        for m in stats:
            assert m["Namespace"] == "matbakh/microservices"
            dims = {d["Name"]: d["Value"] for d in m["Dimensions"]}
            assert dims == {"ServiceName": AUTH, "Platform": PLATFORM, "Environment": "development",
                            "Region": "eu-central-1"}, dims
    p95 = alarms[f"{PLATFORM}-{AUTH}-latency-average"]
    # The collector publishes Latency as a statistic set: no percentiles, the Average.
    assert any(m.get("MetricStat", {}).get("Stat") == "Average" for m in p95.get("Metrics", []))
    adot = {x["name"]: x for x in td["containerDefinitions"]}["aws-otel-collector"]
    collector = json.loads({e["name"]: e["value"] for e in adot["environment"]}["AOT_CONFIG_CONTENT"])
    assert collector["exporters"]["awsemf"]["namespace"] == "matbakh/microservices"
    assert p95["Threshold"] == 200
    assert alarms[f"{PLATFORM}-{AUTH}-error-rate"]["Threshold"] == 5
    cpu_alarm = alarms[f"{PLATFORM}-{AUTH}-cpu-high"]
    [cpu_metric] = [m["MetricStat"]["Metric"] for m in cpu_alarm["Metrics"] if "MetricStat" in m]
    assert cpu_metric["Namespace"] == "AWS/ECS" and cpu_metric["MetricName"] == "CPUUtilization"
    assert {d["Name"]: d["Value"] for d in cpu_metric["Dimensions"]} == {
        "ClusterName": PLATFORM, "ServiceName": AUTH}
    body = json.loads(emulator.client("cloudwatch").get_dashboard(
        DashboardName=dashboard_name(AUTH))["DashboardBody"])
    assert body["widgets"], body
    [lg] = [g for g in log_groups(emulator) if g["logGroupName"] == f"/matbakh/{PLATFORM}/{AUTH}"]
    assert lg["retentionInDays"] == 7
    [target] = [t for t in scaling_targets(emulator) if t["ResourceId"] == f"service/{PLATFORM}/{AUTH}"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    policies = emulator.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=f"service/{PLATFORM}/{AUTH}")["ScalingPolicies"]
    targets = {p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
               ["PredefinedMetricType"]: p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
               for p in policies}
    assert targets == {"ECSServiceAverageCPUUtilization": 70.0,
                       "ECSServiceAverageMemoryUtilization": 80.0}, targets
    # no autoscaling block on persona / vc: no target, no policies
    assert [t["ResourceId"] for t in scaling_targets(emulator)] == [f"service/{PLATFORM}/{AUTH}"]
    # vc-service has tracing off: two containers
    vc_td = task_definition(emulator, ecs_service(emulator, "vc-service")["taskDefinition"])
    assert sorted(x["name"] for x in vc_td["containerDefinitions"]) == ["app", "envoy"]
    assert_one_of_each(emulator, AM)

    # --- plan is clean
    assert tf.plan().returncode == 0

    # --- destroy leaves nothing
    tf.destroy()
    assert_nothing_left(emulator)
    assert tf.state_list() == []


def test_three_services_graph_on_service_connect(emulator, tf, net):
    three_services(tf, emulator, net, SC)
    tf.apply()
    st = tf.resource(AUTH_ADDR)
    comps = st["components"]
    assert set(comps) == {"log_group", "task_definition", "service", "discovery_service",
                          "scaling_target", "scaling_policy_cpu", "scaling_policy_memory",
                          "alarm_error_rate", "alarm_p95_latency", "alarm_cpu", "dashboard"}, comps
    assert st["dns_name"] == f"{AUTH}.{NAMESPACE}"
    assert st["virtual_node_name"] is None and st["virtual_service_name"] is None
    assert tf.output("dns_names") == {"auth": "auth-service.svc.local",
                                      "persona": "persona-service.svc.local",
                                      "vc": "vc-service.svc.local"}
    sd = emulator.client("servicediscovery")
    [ns] = sd.list_namespaces()["Namespaces"]
    assert ns["Type"] == "HTTP" and ns["Name"] == NAMESPACE
    assert emulator.client("appmesh").list_meshes()["meshes"] == []

    # --- task definition: a named http port, a container health check, no Envoy, no proxy
    svc = ecs_service(emulator)
    td = task_definition(emulator, svc["taskDefinition"])
    assert svc["taskDefinition"] == st["task_definition_arn"] == comps["task_definition"]
    containers = {x["name"]: x for x in td["containerDefinitions"]}
    assert sorted(containers) == ["app", "aws-otel-collector"], list(containers)
    assert "proxyConfiguration" not in td or not td["proxyConfiguration"]
    cpu, mem = int(td["cpu"]), int(td["memory"])
    assert cpu in FARGATE_SIZES and mem in FARGATE_SIZES[cpu], (cpu, mem)
    app = containers["app"]
    [port] = app["portMappings"]
    assert (port["containerPort"], port["name"], port["appProtocol"]) == (8080, "http", "http")
    hc = app["healthCheck"]
    assert hc["command"] == ["CMD-SHELL", "curl -fsS -o /dev/null http://localhost:8080/health || exit 1"]
    assert (hc["interval"], hc["timeout"], hc["retries"]) == (30, 5, 3)
    assert not app.get("dependsOn")

    # --- ECS service: Service Connect on the deployment, by namespace ARN; no registries
    assert not svc.get("serviceRegistries")
    assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    [primary] = [d for d in svc["deployments"] if d["status"] == "PRIMARY"]
    scc = primary["serviceConnectConfiguration"]
    assert scc["enabled"] is True and scc["namespace"] == ns["Arn"]
    [entry] = scc["services"]
    # Unique per platform: AWS sums TargetDiscoveryName alone over the account and region.
    assert (entry["portName"], entry["discoveryName"]) == ("http", f"{AUTH}_{PLATFORM}")
    assert entry["clientAliases"] == [{"port": 8080, "dnsName": f"{AUTH}.{NAMESPACE}"}]
    assert entry["timeout"] == {"perRequestTimeoutSeconds": 15, "idleTimeoutSeconds": 300}
    assert scc["logConfiguration"]["options"]["awslogs-group"] == f"/matbakh/{PLATFORM}/{AUTH}"
    assert scc["logConfiguration"]["options"]["awslogs-stream-prefix"] == "service-connect"
    sent = [json.loads(r["body"]) for r in emulator.requests("ecs", "CreateService")]
    assert all(b["serviceConnectConfiguration"]["namespace"].startswith("arn:") for b in sent), sent

    # --- the Cloud Map service ECS created is recorded, and there is no second one
    auths = [s for s in cloudmap_services(emulator) if s["Name"] == f"{AUTH}_{PLATFORM}"]
    assert len(auths) == 1, auths
    assert comps["discovery_service"] == auths[0]["Id"]
    assert emulator.requests("servicediscovery", "CreateService") == [], \
        "the provider created a Cloud Map service itself"

    # --- alarms read the AWS/ECS Service Connect metrics
    alarms = {a["AlarmName"]: a for a in matbakh_alarms(emulator)}
    rate = alarms[f"{PLATFORM}-{AUTH}-error-rate"]
    metrics = {m["Id"]: m["MetricStat"]["Metric"] for m in rate["Metrics"] if "MetricStat" in m}
    assert (metrics["errors"]["Namespace"], metrics["errors"]["MetricName"]) == \
        ("AWS/ECS", "HTTPCode_Target_5XX_Count")
    assert {d["Name"]: d["Value"] for d in metrics["errors"]["Dimensions"]} == {"TargetDiscoveryName": f"{AUTH}_{PLATFORM}"}
    assert metrics["requests"]["MetricName"] == "RequestCount"
    assert {d["Name"]: d["Value"] for d in metrics["requests"]["Dimensions"]} == {
        "ClusterName": PLATFORM, "ServiceName": AUTH, "DiscoveryName": f"{AUTH}_{PLATFORM}"}
    latency = alarms[f"{PLATFORM}-{AUTH}-latency-average"]
    [lat] = [m["MetricStat"] for m in latency["Metrics"] if "MetricStat" in m]
    assert (lat["Metric"]["MetricName"], lat["Stat"]) == ("TargetResponseTime", "Average")
    cw = emulator.client("cloudwatch")
    dash = cw.get_dashboard(DashboardName=dashboard_name(AUTH))
    assert "TargetResponseTime" in dash["DashboardBody"]
    assert_one_of_each(emulator, SC)

    # --- plan is clean; destroy leaves nothing, ECS-created Cloud Map services included
    assert tf.plan().returncode == 0
    tf.destroy()
    assert_nothing_left(emulator)
    assert sd.list_namespaces()["Namespaces"] == [], "the HTTP namespace is left"
    assert tf.state_list() == []


def test_image_update_in_place(emulator, tf, net, backend):
    three_services(tf, emulator, net, backend)
    tf.apply()
    before = tf.resource(AUTH_ADDR)
    new_image = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.5.0"
    (tf.workdir / "terraform.tfvars.json").write_text(json.dumps(
        example_vars(emulator, net, backend, auth_image=new_image)))
    plan = tf.plan()
    assert plan.returncode == 2
    assert "1 to change, 0 to destroy" in plan.stdout, plan.stdout
    assert "must be replaced" not in plan.stdout
    out = tf.apply()
    assert "0 added, 1 changed, 0 destroyed" in out.stdout, out.stdout
    after = tf.resource(AUTH_ADDR)
    assert after["id"] == before["id"]
    assert after["service_arn"] == before["service_arn"]
    assert after["task_definition_arn"] != before["task_definition_arn"]
    assert after["task_definition_arn"].endswith(":2"), after["task_definition_arn"]
    svc = ecs_service(emulator)
    assert svc["taskDefinition"] == after["task_definition_arn"]
    td = task_definition(emulator, svc["taskDefinition"])
    assert {x["name"]: x for x in td["containerDefinitions"]}["app"]["image"] == new_image
    assert len([s for s in active_services(emulator) if s["serviceName"] == AUTH]) == 1
    assert tf.plan().returncode == 0


@pytest.mark.parametrize("backend,how", [(AM, "route"), (AM, "desired_count"), (AM, "alarm"),
                                         (SC, "desired_count"), (SC, "alarm"), (SC, "timeout")])
def test_drift_detected_and_repaired(emulator, tf, net, backend, how):
    three_services(tf, emulator, net, backend)
    tf.apply()
    if how == "timeout":
        # Out-of-band change of the Service Connect settings (read back from the deployment).
        svc = ecs_service(emulator)
        [primary] = [d for d in svc["deployments"] if d["status"] == "PRIMARY"]
        scc = primary["serviceConnectConfiguration"]
        scc["services"][0]["timeout"] = {"perRequestTimeoutSeconds": 99, "idleTimeoutSeconds": 300}
        emulator.client("ecs").update_service(cluster=PLATFORM, service=AUTH,
                                              serviceConnectConfiguration=scc)
    elif how == "route":
        emulator.client("appmesh").delete_route(meshName=PLATFORM, virtualRouterName=f"{AUTH}-router",
                                                routeName=f"{AUTH}-route")
    elif how == "desired_count":
        emulator.client("ecs").update_service(cluster=PLATFORM, service="persona-service", desiredCount=5)
    else:
        emulator.client("cloudwatch").delete_alarms(AlarmNames=[f"{PLATFORM}-{AUTH}-cpu-high"])
    plan = tf.plan()
    assert plan.returncode == 2, plan.output
    if how == "desired_count":
        # An argument AWS holds: drift shows as its value (issue #8 item 3).
        assert "desired_count = 5 -> 2" in " ".join(plan.output.split()), plan.output
    elif how == "timeout":
        # An argument read back from the deployment: drift shows as its value, in place.
        flat = " ".join(plan.output.split())
        assert 'per_request = "99s" -> "15s"' in flat, plan.output
        assert "1 to change, 0 to destroy" in flat and "must be replaced" not in flat, plan.output
    else:
        assert "changed outside Terraform" in plan.output, plan.output
    tf.apply()
    assert tf.plan().returncode == 0
    if how == "route":
        assert mesh_names(emulator, "routes", virtualRouterName=f"{AUTH}-router") == [f"{AUTH}-route"]
    elif how == "desired_count":
        assert ecs_service(emulator, "persona-service")["desiredCount"] == 2
    elif how == "timeout":
        [primary] = [d for d in ecs_service(emulator)["deployments"] if d["status"] == "PRIMARY"]
        assert primary["serviceConnectConfiguration"]["services"][0]["timeout"][
            "perRequestTimeoutSeconds"] == 15
    else:
        assert f"{PLATFORM}-{AUTH}-cpu-high" in [a["AlarmName"] for a in matbakh_alarms(emulator)]
    assert_one_of_each(emulator, backend)


# `before`: what the failing component depends on, so created (and recorded) before it failed.
@pytest.mark.parametrize("backend,service,operation,component,match,before", [
    (AM, "appmesh", "CreateRoute", "route", "auth-service-route", ("virtual_router", "virtual_node")),
    (AM, "ecs", "CreateService", "service", "auth-service", ("log_group", "task_definition")),
    (SC, "ecs", "CreateService", "service", "auth-service", ("log_group", "task_definition")),
])
def test_failure_mid_apply_then_retry(emulator, tf, net, backend, service, operation, component,
                                      match, before):
    three_services(tf, emulator, net, backend)
    emulator.inject_fault(service, operation, count=1, match=match,
                          message="injected fault for the test")
    res = tf.apply(check=False)
    assert res.returncode != 0
    assert component in res.output, res.output
    assert "injected fault for the test" in " ".join(res.output.split()), res.output
    assert emulator.faults()["fired"], "the fault never fired"
    # the state records what was created before the failure
    state = tf.state_json()
    [auth] = [r for r in state["values"]["root_module"]["resources"] if r["address"] == AUTH_ADDR]
    comps = auth["values"]["components"] or {}
    assert all(c in comps for c in before), comps
    assert component not in comps, comps
    emulator.clear_faults()
    tf.apply()
    assert_one_of_each(emulator, backend)
    assert tf.plan().returncode == 0


BAD = [
    # cpu/memory are the app container's: 300/100 is fine (the task is rounded up to a Fargate
    # size); a container no Fargate task can hold is not.
    ("cpu", "cpu = 20000\n  memory = 1024", ("cpu",)),
    ("memory", "cpu = 256\n  memory = 0", ("memory",)),
    ("secret", 'secrets = { DB_PASSWORD = "hunter2-plaintext" }', ("secrets",)),
    ("name", None, ("name",)),
    ("port", "port = 70000", ("port",)),
    ("sampling", "tracing {\n    sampling_rate = 1.5\n  }", ("sampling_rate",)),
    ("retention", "log_retention_days = 8", ("log_retention_days",)),
    ("max_count", "autoscaling {\n    max_count = 1001\n  }", ("max_count", "1000")),
    # Arguments with no meaning on Service Connect (the example's backend): named with it.
    ("retry-on-service-connect", "retry {\n    max_retries = 2\n  }", ("retry", "service_connect")),
    ("envoy-on-service-connect", "envoy {\n    cpu = 256\n  }", ("envoy", "service_connect")),
    ("backends-on-service-connect", 'backends = ["auth-service"]', ("backends", "service_connect")),
    ("circuit_breaker-on-service-connect", "circuit_breaker {\n    max_server_errors = 3\n  }",
     ("circuit_breaker", "service_connect")),
    ("two-cas-on-service-connect",
     'tls {\n    certificate_authority_arns = ["arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/a", '
     '"arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/b"]\n'
     '    role_arn = "arn:aws:iam::123456789012:role/tls"\n  }',
     ("certificate_authority_arns",)),
    ("fractional-timeout-on-service-connect", 'timeout {\n    per_request = "1500ms"\n  }',
     ("per_request", "whole seconds")),
]


@pytest.mark.parametrize("case,attrs,words", BAD, ids=[b[0] for b in BAD])
def test_validation_at_plan(emulator, tf, net, case, attrs, words):
    three_services(tf, emulator, net)
    main = tf.workdir / "main.tf"
    text = main.read_text()
    anchor = 'name               = "vc-service"'
    assert anchor in text
    if case == "name":
        text = text.replace(anchor, 'name               = "VC-Service"')
    else:
        # vc-service sets port, cpu and memory itself: drop those lines before adding ours
        head, tail = text.split(anchor, 1)
        body, rest = tail.split("\n}\n", 1)
        drop = {"cpu", "memory"} if case in ("cpu", "memory") else {"port"} if case == "port" else set()
        lines = [l for l in body.split("\n") if l.strip().split(" ")[0] not in drop]
        if case == "sampling":
            lines = [l for l in lines if "tracing" not in l and "enabled = false" not in l]
            body = "\n".join(lines)
            body = body.rstrip().rstrip("}").rstrip()  # remove the tracing block's closing brace
        else:
            body = "\n".join(lines)
        text = head + anchor + body + "\n  " + attrs + "\n}\n" + rest
    main.write_text(text)
    res = tf.plan(check=False)
    assert res.returncode == 1, res.output
    low = collapsed(res.output).lower()
    if case.endswith("-on-service-connect"):
        assert all(w in low for w in words), res.output
    assert any(w in low for w in words), res.output
    # terraform quotes the offending source line itself ("NN:   secrets = {...}"); the
    # provider's own summary and detail must not repeat the value
    diag = "\n".join(l for l in res.output.splitlines() if not re.match(r"^\s*\d+:", l))
    assert "hunter2" not in diag, diag
    assert_nothing_created(emulator)


def test_multi_region(emulator, tf):
    central = network(emulator, "eu-central-1")
    west = network(emulator, "eu-west-1")
    tf.copy_dir(MULTI, {"endpoint": emulator.endpoint, "eu_central_1": central, "eu_west_1": west})
    tf.run("get", "-no-color")  # installs ./modules/stack (init would query the registry)
    tf.apply()
    arns = tf.output("cluster_arns")
    assert ":eu-central-1:" in arns["eu-central-1"] and ":eu-west-1:" in arns["eu-west-1"], arns
    for region in ("eu-central-1", "eu-west-1"):
        names = sorted(s["serviceName"] for s in active_services(emulator, region))
        assert names == ["auth-service", "persona-service"], (region, names)
        assert mesh_names(emulator, "virtualNodes", region) == [], "Service Connect: no mesh"
        assert sorted(s["Name"] for s in cloudmap_services(emulator, region)) == [
            "auth-service_matbakh", "persona-service_matbakh"]
        assert len(log_groups(emulator, region)) == 2
    # Dashboards are global to the account: one per service and region, none shared.
    every = set(dashboards(emulator, "eu-central-1")) | set(dashboards(emulator, "eu-west-1"))
    assert every == {dashboard_name(s, r) for s in ("auth-service", "persona-service")
                     for r in ("eu-central-1", "eu-west-1")}, every
    assert tf.plan().returncode == 0
    tf.destroy()
    for region in ("eu-central-1", "eu-west-1"):
        assert_nothing_left(emulator, region)


# ---------------------------------------------------------------------------- import

AUTH_IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"


def import_config(emulator, net, name: str = AUTH, backend: str = AM) -> dict[str, str]:
    """A platform and one microservice with several arguments away from their defaults, written
    the way users write HCL: defaults left out (what `terraform import` records)."""
    subnets = ", ".join(json.dumps(s) for s in sorted(net["subnet_ids"]))
    groups = ", ".join(json.dumps(s) for s in net["security_group_ids"])
    ca = "arn:aws:acm-pca:eu-central-1:123456789012:certificate-authority/0a1b2c3d"
    if backend == AM:
        platform = f'  vpc_id = "{net["vpc_id"]}"\n'
        networking = f"""
  retry {{
    max_retries     = 5
    per_try_timeout = "1500ms"
    http_events     = ["server-error"]
  }}
  tls {{
    certificate_authority_arns = ["{ca}"]
  }}
  envoy {{
    log_level = "debug"
  }}"""
        health = '    path = "/ready"\n'
        backends = '  backends = ["persona-service", "vc-service"]\n'
    else:
        backends = ""
        platform = ""
        networking = f"""
  timeout {{
    per_request = "20s"
    idle        = "120s"
  }}
  tls {{
    certificate_authority_arns = ["{ca}"]
    role_arn                   = "arn:aws:iam::123456789012:role/service-connect-tls"
  }}"""
        health = '    command = "wget -q -O /dev/null http://localhost:8080/ready || exit 1"\n'
    return {"main.tf": (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, environment="staging", service_mesh=backend)
        + f"""
resource "matbakh_platform" "main" {{
  name   = "{PLATFORM}"
{platform}}}

resource "matbakh_microservice" "auth" {{
  platform           = matbakh_platform.main.id
  name               = "{name}"
  image              = "{AUTH_IMAGE}"
  port               = 8080
  cpu                = 512
  memory             = 1024
  subnet_ids         = [{subnets}]
  security_group_ids = [{groups}]
  execution_role_arn = "{EXEC_ROLE}"
  task_role_arn      = "arn:aws:iam::123456789012:role/auth-service"
  spot_percent       = 25
  log_retention_days = 14

  environment_variables = {{ LOG_LEVEL = "debug", FEATURE_X = "on" }}
  secrets = {{
    DB_PASSWORD = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:auth-db-password"
  }}
{backends}
  health_check {{
{health}  }}{networking}
  tracing {{
    sampling_rate = 0.25
  }}
  autoscaling {{
    min_count  = 2
    max_count  = 6
    cpu_target = 60
  }}
  alarms {{
    p95_latency_ms = 300
    actions        = ["arn:aws:sns:eu-central-1:123456789012:matbakh-alerts"]
  }}
}}
"""
    )}


def collapsed(text: str) -> str:
    """Terraform wraps diagnostics: compare with whitespace collapsed."""
    return " ".join(text.split())


def test_import_round_trip(emulator, tf_factory, net, backend):
    first = tf_factory("first")
    first.write(import_config(emulator, net, backend=backend))
    first.apply()
    original = first.resource(AUTH_ADDR)
    assert len(original["components"]) == (15 if backend == AM else 11), original["components"]

    second = tf_factory("second")
    second.write(import_config(emulator, net, backend=backend))
    second.import_("matbakh_platform.main", PLATFORM)
    out = second.import_(AUTH_ADDR, f"{PLATFORM}/{AUTH}")
    assert "Import successful" in out.stdout, out.output
    imported = second.resource(AUTH_ADDR)
    assert imported["components"] == original["components"]
    # every attribute, the recovered arguments included, is what the apply recorded
    assert imported == original, {k: (imported.get(k), original.get(k)) for k in
                                  set(imported) | set(original) if imported.get(k) != original.get(k)}

    plan = second.plan()
    assert plan.returncode == 0, plan.output

    # the imported state owns the graph: a destroy from the second directory removes it all
    second.destroy()
    assert second.state_list() == []
    assert_nothing_left(emulator)
    clusters = emulator.client("ecs").describe_clusters(clusters=[PLATFORM])["clusters"]
    assert [c for c in clusters if c["status"] == "ACTIVE"] == [], "ECS cluster left"
    assert emulator.client("appmesh").list_meshes()["meshes"] == [], "mesh left"
    assert emulator.client("servicediscovery").list_namespaces()["Namespaces"] == [], "namespace left"


def test_import_of_missing_microservice_fails(emulator, tf_factory, net):
    first = tf_factory("first")
    first.write(import_config(emulator, net))
    first.apply(extra_args=["-target=matbakh_platform.main"])

    second = tf_factory("second")
    second.write(import_config(emulator, net))
    res = second.import_(AUTH_ADDR, f"{PLATFORM}/does-not-exist", check=False)
    assert res.returncode != 0, res.output
    text = collapsed(res.output)
    assert f"Cannot import matbakh_microservice {PLATFORM}/does-not-exist" in text, res.output
    assert f'no microservice "does-not-exist" exists on platform "{PLATFORM}"' in text, res.output
    assert second.state_list() == []

    res = second.import_(AUTH_ADDR, f"no-such-platform/{AUTH}", check=False)
    assert res.returncode != 0, res.output
    assert 'platform "no-such-platform" has no ECS cluster' in collapsed(res.output), res.output
    assert second.state_list() == []


@pytest.mark.parametrize("bad_id", [AUTH, f"{PLATFORM}/{AUTH}/extra", f"{PLATFORM}/Auth_Service",
                                    f"/{AUTH}"])
def test_import_with_malformed_id_fails(emulator, tf, net, bad_id):
    tf.write(import_config(emulator, net))
    res = tf.import_(AUTH_ADDR, bad_id, check=False)
    assert res.returncode != 0, res.output
    text = collapsed(res.output)
    assert "Invalid import id" in text, res.output
    assert "PLATFORM/NAME" in text, res.output
    assert tf.state_list() == []
