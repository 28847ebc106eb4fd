"""Numbers cross the plugin protocol exactly (issue #8 item 1).

Terraform sends a number a float64 cannot hold exactly (0.1, 0.3, 1/3) as its decimal text; the
provider must take it, send the same number back in plan and state (else Terraform reports an
inconsistent result or a perpetual diff), and reject fractions and out-of-range numbers where a
whole number is required, at plan, pointing at the attribute."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.microservice


def network(emulator) -> dict:
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                               AvailabilityZone="eu-central-1a")["Subnet"]["SubnetId"]
    return {"vpc_id": vpc, "subnet_ids": [subnet]}


def config(emulator, net, service_extra: str = "", provider_extra: str = "",
           service_mesh: str = "service_connect") -> str:
    """A platform and one microservice on `service_mesh` (the platform's vpc_id on app_mesh
    only: an error on service_connect)."""
    vpc_line = f'vpc_id = "{net["vpc_id"]}"' if service_mesh == "app_mesh" else ""
    if service_mesh == "app_mesh":
        provider_extra = f'service_mesh = "app_mesh"\n  {provider_extra}'
    return f'''
terraform {{
  required_providers {{
    matbakh = {{ source = "matbakh/matbakh" }}
  }}
}}

provider "matbakh" {{
  region   = "eu-central-1"
  endpoint = "{emulator.endpoint}"
  {provider_extra}
}}

resource "matbakh_platform" "main" {{
  name   = "matbakh"
  {vpc_line}
}}

resource "matbakh_microservice" "auth" {{
  platform           = matbakh_platform.main.id
  name               = "auth-service"
  image              = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.0.0"
  port               = 8080
  subnet_ids         = {list(net['subnet_ids'])!r}
  execution_role_arn = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
  {service_extra}
}}
'''.replace("'", '"')


def nothing_created(emulator) -> None:
    assert emulator.client("ecs").list_clusters()["clusterArns"] == []


@pytest.mark.parametrize("rate,state_text", [
    ("0.1", "0.1"),
    ("0.3", "0.3"),
    # HCL computes 1/3 as a 512-bit big.Float; Terraform sends and stores its long decimal.
    ("1/3", "0.3333333333333333333333333333333333333333"),
], ids=["0.1", "0.3", "1/3"])
def test_fractions_round_trip_into_state(emulator, tf, rate, state_text):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net, f"tracing {{\n    sampling_rate = {rate}\n  }}")})
    tf.validate()
    tf.apply()
    raw = (tf.workdir / "terraform.tfstate").read_text()
    m = re.search(r'"sampling_rate":\s*([0-9.eE+-]+)', raw)
    assert m, raw
    assert m.group(1).startswith(state_text), m.group(1)
    if rate == "1/3":
        assert len(m.group(1)) > 100, m.group(1)  # not the float64 0.3333333333333333
    else:
        assert m.group(1) == state_text
    assert tf.plan().returncode == 0
    # a refreshing plan with the fraction in prior state also stays clean
    assert tf.plan(extra_args=["-refresh=true"]).returncode == 0


BAD = [
    ("fraction", "desired_count = 1.5", "", r"desired_count\s+=\s+1\.5"),
    ("beyond_int32", "desired_count = 2147483648", "", r"desired_count\s+=\s+2147483648"),
    ("negative", "desired_count = -1", "", r"desired_count\s+=\s+-1"),
    ("provider_max_retries", "", "max_retries = 0.1", r"max_retries\s+=\s+0\.1"),
]


@pytest.mark.parametrize("case,service_extra,provider_extra,source_line", BAD,
                         ids=[b[0] for b in BAD])
def test_bad_numbers_fail_at_plan_naming_the_attribute(emulator, tf, case, service_extra,
                                                       provider_extra, source_line):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net, service_extra, provider_extra)})
    res = tf.plan(check=False)
    assert res.returncode == 1, res.output
    # Terraform quotes the source line of the attribute a diagnostic points at; a diagnostic
    # on the whole block would quote the `resource` line instead.
    assert re.search(r"^\s*\d+:\s+" + source_line, res.output, re.M), res.output
    nothing_created(emulator)
