"""Fargate task sizes: the CPU/memory pairs RegisterTaskDefinition accepts for FARGATE.

Table from the ECS developer guide ("Troubleshoot Amazon ECS task definition invalid CPU or
memory errors"), Linux: cpu units -> allowed memory in MiB. moto 5.2.5 accepts any pair.
AWS answers ClientException "Invalid 'cpu' setting for task." for a CPU value not in the table
(the guide quotes it) and "No Fargate configuration exists for given values: ..." for a pair
(the text Terraform users see).
"""

from __future__ import annotations

import re

from moto.ecs.exceptions import EcsClientException

FARGATE_MEMORY_MIB: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}


def _cpu_units(value: str) -> int | None:
    """"1024", "1 vCPU", "0.25 vcpu" -> CPU units (as ECS converts at registration)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*", value, re.IGNORECASE)
    if not m:
        return None
    n = float(m.group(1))
    return int(round(n * 1024)) if m.group(2) else int(n)


def _memory_mib(value: str) -> int | None:
    """"2048", "2 GB", "0.5GB" -> MiB."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(gb)?\s*", value, re.IGNORECASE)
    if not m:
        return None
    n = float(m.group(1))
    return int(round(n * 1024)) if m.group(2) else int(n)


def check_fargate_size(requires_compatibilities: list[str] | None, cpu: str | None,
                       memory: str | None) -> None:
    if "FARGATE" not in (requires_compatibilities or []):
        return
    if cpu is None:
        raise EcsClientException("Fargate requires that 'cpu' be defined at the task level.")
    if memory is None:
        raise EcsClientException("Fargate requires that 'memory' be defined at the task level.")
    units = _cpu_units(str(cpu))
    if units not in FARGATE_MEMORY_MIB:
        raise EcsClientException("Invalid 'cpu' setting for task.")
    mib = _memory_mib(str(memory))
    if mib not in FARGATE_MEMORY_MIB[units]:
        raise EcsClientException(
            f"No Fargate configuration exists for given values: {units} CPU, {mib or memory} memory. "
            "See the Amazon ECS documentation for the valid values.")
