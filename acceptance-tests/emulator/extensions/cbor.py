"""CloudWatch over Smithy RPCv2 CBOR, translated to the JSON protocol moto understands.

aws-sdk-cloudwatch (Rust, >= Dec 2025) speaks only `smithy-rpc-v2-cbor`:
    POST /service/GraniteServiceVersion20100801/operation/<Operation>
    Content-Type: application/cbor, smithy-protocol: rpc-v2-cbor
moto 5.2.5 speaks the query and the awsJson1_0 protocols for CloudWatch but not CBOR, so the
middleware decodes the CBOR request, forwards it to moto as awsJson1_0 (X-Amz-Target), and
encodes moto's JSON answer back into CBOR using the botocore model of the output shape
(timestamps as tag 1, doubles as floats, integers as integers: the Rust decoder is strict).
"""

from __future__ import annotations

import base64
import io
import json
import math
import struct
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.parsers import BaseCBORParser

CBOR_PATH_PREFIX = "/service/"


class _Decoder(BaseCBORParser):
    """Generic CBOR decoder (botocore's), keeping tag-1 timestamps as epoch numbers."""

    def __init__(self) -> None:  # noqa: D401 - no parser factories needed
        super().__init__()

    def _parse_datetime(self, value: Any) -> Any:
        return value


def decode(data: bytes) -> Any:
    if not data:
        return {}
    dec = _Decoder()
    return dec.parse_data_item(dec.get_peekable_stream_from_bytes(data))


# ----------------------------------------------------------------------------- encoding


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([(major << 5) | n])
    if n < 0x100:
        return bytes([(major << 5) | 24, n])
    if n < 0x10000:
        return bytes([(major << 5) | 25]) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes([(major << 5) | 26]) + n.to_bytes(4, "big")
    return bytes([(major << 5) | 27]) + n.to_bytes(8, "big")


def _int(v: int) -> bytes:
    return _head(0, v) if v >= 0 else _head(1, -1 - v)


def _text(s: str) -> bytes:
    b = s.encode("utf-8")
    return _head(3, len(b)) + b


def _double(v: float) -> bytes:
    if math.isnan(v):
        return b"\xf9\x7e\x00"
    return b"\xfb" + struct.pack(">d", float(v))


def _float32(v: float) -> bytes:
    if math.isnan(v):
        return b"\xf9\x7e\x00"
    return b"\xfa" + struct.pack(">f", float(v))


def _epoch(v: Any) -> float:
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        return v.timestamp()
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            pass
        s = v.replace("Z", "+00:00")
        dt = datetime.fromisoformat(s)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.timestamp()
    raise ValueError(f"cannot convert {v!r} to a timestamp")


def encode_shape(value: Any, shape: Any) -> bytes:
    t = shape.type_name
    if t == "structure":
        items = []
        for name, member in shape.members.items():
            if isinstance(value, dict) and value.get(name) is not None:
                items.append(_text(name) + encode_shape(value[name], member))
        return _head(5, len(items)) + b"".join(items)
    if t == "list":
        return _head(4, len(value)) + b"".join(encode_shape(v, shape.member) for v in value)
    if t == "map":
        items = [
            encode_shape(k, shape.key) + encode_shape(v, shape.value)
            for k, v in value.items() if v is not None
        ]
        return _head(5, len(items)) + b"".join(items)
    if t == "string":
        return _text(str(value))
    if t in ("integer", "long", "short", "byte"):
        return _int(int(value))
    if t == "double":
        return _double(float(value))
    if t == "float":
        return _float32(float(value))
    if t == "boolean":
        return b"\xf5" if value else b"\xf4"
    if t == "timestamp":
        return b"\xc1" + _double(_epoch(value))
    if t == "blob":
        raw = base64.b64decode(value) if isinstance(value, str) else bytes(value)
        return _head(2, len(raw)) + raw
    raise ValueError(f"unsupported shape type {t}")


def encode_generic(value: Any) -> bytes:
    if value is None:
        return b"\xf6"
    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, (bytes, bytearray)):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(encode_generic(v) for v in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(
            encode_generic(k) + encode_generic(v) for k, v in value.items())
    raise ValueError(f"cannot CBOR-encode {type(value)}")


# ----------------------------------------------------------------------------- models


@lru_cache(maxsize=None)
def service_model(name: str) -> Any:
    return botocore.session.get_session().get_service_model(name)


@lru_cache(maxsize=None)
def _target_prefixes() -> dict[str, str]:
    return {"GraniteServiceVersion20100801": "cloudwatch"}


def parse_path(path: str) -> tuple[str, str] | None:
    """'/service/GraniteServiceVersion20100801/operation/PutMetricAlarm' -> (prefix, op)."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "service" and parts[2] == "operation":
        return parts[1], parts[3]
    return None


def service_for_prefix(prefix: str) -> str | None:
    return _target_prefixes().get(prefix)


def _jsonable(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


def request_to_json(body: bytes) -> bytes:
    return json.dumps(_jsonable(decode(body))).encode()


def response_to_cbor(service: str, operation: str, json_body: bytes) -> bytes:
    model = service_model(service)
    op = model.operation_model(operation)
    data: Any = {}
    if json_body:
        try:
            data = json.loads(json_body)
        except ValueError:
            data = {}
    if op.output_shape is None:
        return encode_generic({})
    return encode_shape(data or {}, op.output_shape)


def error_to_cbor(code: str, message: str) -> bytes:
    return encode_generic({"__type": code, "message": message})


def stream_of(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
