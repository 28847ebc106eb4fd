#!/usr/bin/env bash
# The main job: build the provider, start the local AWS, install the provider
# from a local filesystem mirror as the registry would serve it, apply
# examples/quickstart, and show what it made. The emulator is stopped at the
# end unless KEEP_EMULATOR=1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/setup.sh
mirror=$(bash scripts/package.sh | tail -1)

port=${MATBAKH_EMULATOR_PORT:-4566}
endpoint="http://127.0.0.1:$port"
mkdir -p .run
if ! curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1; then
  echo "quickstart: starting the local AWS on $endpoint (log: .run/emulator.log)"
  # Releases take their stages' time, 60 times faster than real time (README).
  MATBAKH_EMULATOR_SPEED=${MATBAKH_EMULATOR_SPEED:-60} \
    bash acceptance-tests/emulator/start.sh "$port" > .run/emulator.log 2>&1 &
  emulator_pid=$!
  if [ "${KEEP_EMULATOR:-0}" != 1 ]; then
    trap 'kill $emulator_pid 2>/dev/null || true; pkill -P $emulator_pid 2>/dev/null || true' EXIT
  fi
  for _ in $(seq 1 120); do
    curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1 && break
    sleep 0.5
  done
fi

work=.run/quickstart
rm -rf "$work" && mkdir -p "$work" && cp examples/quickstart/*.tf "$work/"
cat > .run/terraformrc <<EOT
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/matbakh/matbakh"]
  }
  direct { exclude = ["registry.terraform.io/matbakh/matbakh"] }
}
EOT
export TF_CLI_CONFIG_FILE=$root/.run/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
# The emulator accepts any credentials; real AWS uses your standard chain.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
cd "$work"
terraform init -input=false -no-color >/dev/null
echo "quickstart: provider installed from the local mirror: $(ls .terraform/providers/registry.terraform.io/matbakh/matbakh)"
# The emulator, like AWS, checks that the VPC, subnets and security groups
# exist: use its default VPC, one of its subnets and its default group.
read -r vpc_id subnet_id sg_id < <("$root/acceptance-tests/.venv/bin/python" -c "
import boto3, sys
ec2 = boto3.client('ec2', endpoint_url=sys.argv[1], region_name='eu-central-1')
vpc = ec2.describe_vpcs(Filters=[{'Name': 'isDefault', 'Values': ['true']}])['Vpcs'][0]['VpcId']
subnet = ec2.describe_subnets(Filters=[{'Name': 'vpc-id', 'Values': [vpc]}])['Subnets'][0]['SubnetId']
sg = ec2.describe_security_groups(Filters=[{'Name': 'vpc-id', 'Values': [vpc]}, {'Name': 'group-name', 'Values': ['default']}])['SecurityGroups'][0]['GroupId']
print(vpc, subnet, sg)
" "$endpoint")
terraform apply -input=false -auto-approve -no-color -var "endpoint=$endpoint" \
  -var "subnet_ids=[\"$subnet_id\"]" -var "security_group_ids=[\"$sg_id\"]"
echo
echo "== What Terraform recorded =="
terraform state list
echo
echo "== The Service Connect graph =="
"$root/acceptance-tests/.venv/bin/python" - "$endpoint" <<'PY'
import sys, boto3
endpoint = sys.argv[1]
kw = dict(endpoint_url=endpoint, region_name="eu-central-1")
ecs, sd = boto3.client("ecs", **kw), boto3.client("servicediscovery", **kw)
[cluster] = ecs.describe_clusters(clusters=["matbakh"])["clusters"]
namespace = cluster.get("serviceConnectDefaults", {}).get("namespace")
print(f"cluster {cluster['clusterName']}: Service Connect default namespace {namespace}")
for ns in sd.list_namespaces()["Namespaces"]:
    print(f"  namespace {ns['Name']} ({ns['Type']}) {ns['Id']}")
    for s in sd.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": [ns["Id"]]}])["Services"]:
        print(f"    Cloud Map service {s['Name']} {s['Id']} (created by ECS)")
for arn in ecs.list_services(cluster="matbakh")["serviceArns"]:
    [svc] = ecs.describe_services(cluster="matbakh", services=[arn])["services"]
    [primary] = [d for d in svc["deployments"] if d["status"] == "PRIMARY"]
    scc = primary.get("serviceConnectConfiguration", {})
    for entry in scc.get("services", []):
        aliases = ", ".join(f"{a['dnsName']}:{a['port']}" for a in entry.get("clientAliases", []))
        print(f"  ECS service {svc['serviceName']}: discovery name {entry.get('discoveryName')}, "
              f"port {entry['portName']}, client alias {aliases}, timeouts {entry.get('timeout')}")
PY
echo
echo "== What exists in the local AWS =="
"$root/acceptance-tests/.venv/bin/python" "$root/acceptance-tests/emulator/inventory.py" "$endpoint"
