"""Print what exists in the local AWS emulator, service by service.

Usage: inventory.py ENDPOINT [REGION]
Used by scripts/quickstart.sh to show what `terraform apply` made.
"""

import sys

import boto3


def main() -> None:
    endpoint = sys.argv[1]
    region = sys.argv[2] if len(sys.argv) > 2 else "eu-central-1"

    def client(name):
        return boto3.client(
            name,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    ecs = client("ecs")
    for arn in ecs.list_clusters()["clusterArns"]:
        cluster = ecs.describe_clusters(clusters=[arn], include=["SETTINGS"])["clusters"][0]
        settings = {s["name"]: s["value"] for s in cluster.get("settings", [])}
        print(f"ECS cluster        {cluster['clusterName']}  capacity={cluster.get('capacityProviders')}  insights={settings.get('containerInsights')}")
        for svc_arn in [a for page in ecs.get_paginator("list_services").paginate(cluster=arn)
                    for a in page["serviceArns"]]:
            svc = ecs.describe_services(cluster=arn, services=[svc_arn])["services"][0]
            print(f"  ECS service      {svc['serviceName']}  desired={svc['desiredCount']}  task={svc['taskDefinition'].rsplit('/', 1)[-1]}")
    for family in ecs.list_task_definition_families(status="ACTIVE")["families"]:
        print(f"ECS task family    {family}")

    mesh = client("appmesh")
    for m in mesh.list_meshes()["meshes"]:
        name = m["meshName"]
        spec = mesh.describe_mesh(meshName=name)["mesh"]["spec"]
        print(f"App Mesh mesh      {name}  egress={spec.get('egressFilter', {}).get('type')}")
        for n in mesh.list_virtual_nodes(meshName=name)["virtualNodes"]:
            print(f"  virtual node     {n['virtualNodeName']}")
        for r in mesh.list_virtual_routers(meshName=name)["virtualRouters"]:
            print(f"  virtual router   {r['virtualRouterName']}")
            for route in mesh.list_routes(meshName=name, virtualRouterName=r["virtualRouterName"])["routes"]:
                print(f"    route          {route['routeName']}")
        try:
            for s in mesh.list_virtual_services(meshName=name)["virtualServices"]:
                print(f"  virtual service  {s['virtualServiceName']}")
        except Exception as e:  # noqa: BLE001 - the inventory must not die on one service
            print(f"  virtual services: {e}")

    sd = client("servicediscovery")
    for ns in sd.list_namespaces()["Namespaces"]:
        print(f"Cloud Map namespace {ns['Name']}  id={ns['Id']}  type={ns.get('Type')}")
    for s in sd.list_services()["Services"]:
        print(f"  Cloud Map service {s['Name']}  id={s['Id']}")

    cw = client("cloudwatch")
    for a in cw.describe_alarms()["MetricAlarms"]:
        print(f"CloudWatch alarm   {a['AlarmName']}  state={a['StateValue']}")
    for d in cw.list_dashboards()["DashboardEntries"]:
        print(f"CloudWatch dashboard {d['DashboardName']}")

    logs = client("logs")
    for g in logs.describe_log_groups()["logGroups"]:
        print(f"Log group          {g['logGroupName']}  retention={g.get('retentionInDays')}")

    aas = client("application-autoscaling")
    for t in (t for page in aas.get_paginator("describe_scalable_targets").paginate(
            ServiceNamespace="ecs") for t in page["ScalableTargets"]):
        print(f"Scalable target    {t['ResourceId']}  min={t['MinCapacity']} max={t['MaxCapacity']}")
    # Ten policies a page, as on AWS.
    pages = aas.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="ecs")
    for p in (p for page in pages for p in page["ScalingPolicies"]):
        print(f"  scaling policy   {p['PolicyName']}")


if __name__ == "__main__":
    main()
