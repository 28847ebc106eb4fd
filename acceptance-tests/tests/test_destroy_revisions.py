"""Issue #18 item 4: destroy leaves no task definition revision behind. The sequence a new user
walked on service_connect: a microservice with `deployment { strategy = "canary" }` applied
with 1.27, then 1.28, then 1.29 while its alarm fires (ECS rolls back, the apply fails), then
1.28 again together with a `matbakh_canary` of 1.30, then `terraform destroy`. Every revision
of the family that carries the microservice's owner tag and ownership token goes, whoever
registered it (the microservice after its rollback, the canary)."""

from __future__ import annotations

import pytest

from harness.terraform import TerraformError
from tests.test_delivery import (AUTH, CANARY, ERROR_ALARM, PLATFORM, config, current_deployment,
                                 ecs, fire_when_in_progress, net)  # noqa: F401 (net is a fixture)

pytestmark = pytest.mark.canary

FAMILY = f"{PLATFORM}-{AUTH}"


def image(version: str) -> str:
    return f"registry.example/auth:{version}"


def with_canary(emulator, net, stable: str, candidate: str) -> dict:
    files = config(emulator, net, image(stable), CANARY)
    files["main.tf"] += f"""
resource "matbakh_canary" "auth" {{
  microservice  = matbakh_microservice.auth.id
  image         = "{image(candidate)}"
  steps         = [20, 100]
  step_interval = "1m"
  rollback_on {{
    error_rate_percent = 2
    p95_latency_ms     = 150
  }}
}}
"""
    return files


def active_revisions(emulator) -> dict[str, dict[str, str]]:
    """The family's ACTIVE revisions: ARN -> {image, owner, token}."""
    client = ecs(emulator)
    out = {}
    for arn in client.list_task_definitions(familyPrefix=FAMILY, status="ACTIVE")["taskDefinitionArns"]:
        if arn.split("/")[-1].rsplit(":", 1)[0] != FAMILY:
            continue
        td = client.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        tags = {t["key"]: t["value"] for t in td.get("tags", [])}
        [app] = [c for c in td["taskDefinition"]["containerDefinitions"] if c["name"] == "app"]
        out[arn] = {"image": app["image"], "owner": tags.get("matbakh:owner"),
                    "token": tags.get("matbakh:owner-token")}
    return out


def test_destroy_after_a_rollback_and_a_canary_leaves_no_revision(emulator, tf, net):
    emulator.settings(ecs_deployment="completed")
    tf.write(config(emulator, net, image("1.27"), CANARY))
    tf.apply()
    emulator.settings(ecs_deployment="timed")
    emulator.clock(speed=3600)
    tf.write(config(emulator, net, image("1.28"), CANARY))
    tf.apply()

    # 1.29 while the alarm fires: ECS rolls back to 1.28 and the apply fails.
    emulator.clock(speed=0)
    tf.write(config(emulator, net, image("1.29"), CANARY))
    firing = fire_when_in_progress(emulator, within=120)
    with pytest.raises(TerraformError):
        tf.apply()
    firing.join()
    assert current_deployment(emulator)["status"] == "ROLLBACK_SUCCESSFUL"
    emulator.client("cloudwatch").set_alarm_state(AlarmName=ERROR_ALARM, StateValue="OK",
                                                   StateReason="recovered")

    # 1.28 again, with a canary of 1.30.
    emulator.clock(speed=3600)
    tf.write(with_canary(emulator, net, "1.28", "1.30"))
    tf.apply()
    state = tf.resource("matbakh_microservice.auth")
    owner = state["id"]
    before = active_revisions(emulator)
    images = sorted(r["image"] for r in before.values())
    assert image("1.30") in images, before
    # More than the one revision state records are the microservice's: what destroy must find.
    owned = [arn for arn, r in before.items() if r["owner"] == owner and r["token"]]
    assert len(owned) >= 2, before
    assert state["task_definition_arn"] in before

    # A newer revision of the family that another resource registered (another token) is not
    # this one's: it stays.
    client = ecs(emulator)
    td = client.describe_task_definition(taskDefinition=state["task_definition_arn"])["taskDefinition"]
    theirs = client.register_task_definition(
        family=FAMILY, containerDefinitions=td["containerDefinitions"],
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu=td["cpu"],
        memory=td["memory"], executionRoleArn=td["executionRoleArn"],
        tags=[{"key": "matbakh:owner", "value": owner},
              {"key": "matbakh:owner-token", "value": "f" * 32}],
    )["taskDefinition"]["taskDefinitionArn"]

    tf.destroy()
    assert list(active_revisions(emulator)) == [theirs], "revisions left behind (or another's taken)"
