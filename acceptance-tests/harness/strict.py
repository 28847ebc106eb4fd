"""Check raw emulator responses the way the Rust SDK (smithy-rs) parses them.

boto3 is lenient: it accepts a timestamp given as a string, an integer given as 1.0, and so
on. The Rust SDK is not, so an emulator response boto3 accepts can still break the provider.
`attach(client)` validates every successful JSON / REST-JSON response body against the
botocore output shape and raises `ShapeViolation` on the first call whose body the Rust SDK
would reject (or misread).
"""

from __future__ import annotations

import json
from typing import Any


class ShapeViolation(AssertionError):
    pass


def _check(value: Any, shape: Any, path: str, problems: list[str]) -> None:
    if value is None:
        return  # smithy-rs accepts null for optional members
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected object, got {type(value).__name__}")
            return
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in value:
                _check(value[wire], member, f"{path}.{wire}", problems)
    elif t == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected array, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            if v is None:
                problems.append(f"{path}[{i}]: null inside a list")
            else:
                _check(v, shape.member, f"{path}[{i}]", problems)
    elif t == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected object (map), got {type(value).__name__}")
            return
        for k, v in value.items():
            _check(v, shape.value, f"{path}[{k!r}]", problems)
    elif t == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected string, got {value!r}")
    elif t in ("integer", "long", "short", "byte"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected integer, got {value!r}")
    elif t in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if value not in ("NaN", "Infinity", "-Infinity"):
                problems.append(f"{path}: expected number, got {value!r}")
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean, got {value!r}")
    elif t == "timestamp":
        fmt = shape.serialization.get("timestampFormat")
        if fmt in (None, "unixTimestamp"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"{path}: expected epoch-seconds number, got {value!r}")
        elif not isinstance(value, str):
            problems.append(f"{path}: expected {fmt} string, got {value!r}")
    elif t == "blob":
        if not isinstance(value, str):
            problems.append(f"{path}: expected base64 string, got {value!r}")


def validate(operation_model: Any, body: bytes) -> list[str]:
    shape = operation_model.output_shape
    if shape is None or not body:
        return []
    try:
        data = json.loads(body)
    except ValueError as e:
        return [f"body is not JSON: {e}: {body[:200]!r}"]
    problems: list[str] = []
    # REST-JSON: members bound to headers/status are not in the body.
    if shape.type_name == "structure":
        payload = shape.serialization.get("payload")
        if payload:
            member = shape.members[payload]
            _check(data, member, payload, problems)
            return problems
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            wire = member.serialization.get("name", name)
            if isinstance(data, dict) and wire in data:
                _check(data[wire], member, wire, problems)
    return problems


def attach(client: Any) -> Any:
    protocol = client.meta.service_model.resolved_protocol

    def before_parse(operation_model: Any, response_dict: dict, **_: Any) -> None:
        if protocol not in ("json", "rest-json"):
            return
        if response_dict.get("status_code", 500) >= 300:
            return
        problems = validate(operation_model, response_dict.get("body") or b"")
        if problems:
            raise ShapeViolation(
                f"{client.meta.service_model.service_name}.{operation_model.name}: response would "
                f"break a strict SDK client:\n  " + "\n  ".join(problems[:20])
            )

    client.meta.events.register("before-parse", before_parse)
    return client
