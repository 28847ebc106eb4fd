"""Acceptance tests for issue #8 items 4, 5 and 8: unordered arguments are sets, every
resource has `tags` and `tags_all` with AWS's tag limits checked at plan, and the
`matbakh_platform` / `matbakh_microservice` data sources read what another state made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.terraform import REQUIRED_PROVIDERS, provider_block
from tests.test_microservice import network

REPO = Path(__file__).resolve().parents[2]
CANARY_EXAMPLE = REPO / "examples" / "canary"

PLATFORM = "matbakh"
SERVICE = "auth-service"
EXEC_ROLE = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
TOPICS = ["arn:aws:sns:eu-central-1:123456789012:alerts-a",
          "arn:aws:sns:eu-central-1:123456789012:alerts-b"]


@pytest.fixture
def net(emulator) -> dict:
    """The shared network plus a second security group (two, to reorder)."""
    n = network(emulator)
    ec2 = emulator.client("ec2")
    second = ec2.create_security_group(GroupName="matbakh-extra", Description="extra",
                                       VpcId=n["vpc_id"])["GroupId"]
    n["security_group_ids"] = n["security_group_ids"] + [second]
    return n


def hcl(value) -> str:
    """A Python value as an HCL expression (JSON is valid HCL for these)."""
    return json.dumps(value)


def stack(emulator, net, *, default_tags=None, platform_tags=None, service_tags=None,
          subnet_ids=None, security_group_ids=None, actions=None, extra="") -> str:
    """A platform and one microservice, with the given tags and set orders."""
    service_tags_line = f"  tags = {hcl(service_tags)}\n" if service_tags is not None else ""
    platform_tags_line = f"  tags = {hcl(platform_tags)}\n" if platform_tags is not None else ""
    return (
        REQUIRED_PROVIDERS
        + provider_block(emulator.endpoint, default_tags=default_tags)
        + 'resource "matbakh_platform" "main" {\n'
        f'  name   = "{PLATFORM}"\n'
        f'  vpc_id = {hcl(net["vpc_id"])}\n'
        f"{platform_tags_line}"
        "}\n"
        'resource "matbakh_microservice" "auth" {\n'
        "  platform           = matbakh_platform.main.id\n"
        f'  name               = "{SERVICE}"\n'
        '  image              = "registry.example/auth:1.4.2"\n'
        "  port               = 8080\n"
        "  desired_count      = 1\n"
        f"  subnet_ids         = {hcl(subnet_ids or net['subnet_ids'])}\n"
        f"  security_group_ids = {hcl(security_group_ids or net['security_group_ids'])}\n"
        f'  execution_role_arn = "{EXEC_ROLE}"\n'
        '  backends           = ["persona-service", "vc-service"]\n'
        f"{service_tags_line}"
        f"  alarms {{\n    actions = {hcl(actions or TOPICS)}\n  }}\n"
        "}\n"
        + extra
    )


# ---------------------------------------------------------------------------- sets (#8 item 4)


def test_reordering_set_arguments_plans_nothing(emulator, tf, net):
    """subnet_ids, security_group_ids, backends and alarms.actions in another order (and with
    a duplicate) are the same sets: no change, for the microservice and for a canary that
    builds its candidate from the microservice's settings."""
    tf.copy_dir(CANARY_EXAMPLE, {"endpoint": emulator.endpoint, **net,
                                 "strategy": "blue_green", "step_interval": "1s"})
    tf.apply()
    assert tf.plan().returncode == 0
    reordered = {**net, "subnet_ids": list(reversed(net["subnet_ids"])) + [net["subnet_ids"][0]],
                 "security_group_ids": list(reversed(net["security_group_ids"]))}
    tf.copy_dir(CANARY_EXAMPLE, {"endpoint": emulator.endpoint, **reordered,
                                 "strategy": "blue_green", "step_interval": "1s"})
    res = tf.plan()
    assert res.returncode == 0, res.output


def test_reordered_backends_and_alarm_actions_plan_nothing(emulator, tf, net):
    tf.write({"main.tf": stack(emulator, net)})
    tf.apply()
    ecs = emulator.client("ecs")
    service = ecs.describe_services(cluster=PLATFORM, services=[SERVICE])["services"][0]
    subnets = service["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    assert subnets == sorted(net["subnet_ids"])
    tf.write({"main.tf": stack(emulator, net, subnet_ids=list(reversed(net["subnet_ids"])),
                               security_group_ids=list(reversed(net["security_group_ids"])),
                               actions=list(reversed(TOPICS)))})
    res = tf.plan()
    assert res.returncode == 0, res.output
    # In state, a set: no order to remember.
    assert sorted(tf.resource("matbakh_microservice.auth")["subnet_ids"]) == sorted(net["subnet_ids"])
