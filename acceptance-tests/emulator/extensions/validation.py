"""Validate AWS requests against botocore's input shapes, the way AWS's front end does.

AWS checks every request against the service model before the service sees it: required members,
string lengths, numeric ranges, list and map sizes, enums and patterns. A violation is a 400 with
the service's own error code and the Coral message format, e.g.

    1 validation error detected: Value 'x' at 'deploymentConfiguration.maximumPercent' failed to
    satisfy constraint: Member must have value less than or equal to 200

(several: "2 validation errors detected: ...; ..."). Paths name members with a lower-case first
letter (`AlarmName` -> `alarmName`), list elements as `items.1.member`, and the value is left out
of the message for sensitive shapes. Constraints on the scalar elements of a list or a map are
reported on the collection ("Member must satisfy constraint: [...]", "Map value must satisfy
constraint: [...]"), as AWS does. A value of the wrong JSON type never reaches validation on AWS:
the deserialiser refuses it with `SerializationException`; we do the same.

moto validates almost none of this, so without this module the emulator accepts requests AWS
would refuse. `params_for(...)` turns a request of any protocol the provider speaks (JSON 1.0/1.1,
REST-JSON with URI/query/header members, Smithy RPCv2 CBOR, query) into the operation's input
structure; `validate(...)` walks it against the shape.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote

from . import cbor

# The error each service answers a shape violation with (its modeled "bad input" error).
VALIDATION_ERROR_CODE = {
    "ecs": "InvalidParameterException",
    "servicediscovery": "InvalidInput",
    "logs": "InvalidParameterException",
    "application-autoscaling": "ValidationException",
    "appmesh": "BadRequestException",
    "monitoring": "ValidationError",
    "budgets": "InvalidParameterException",
    # ELBv2 (query protocol) answers shape violations with ValidationError; EC2 with
    # InvalidParameterValue (or MissingParameter), its own codes.
    "elasticloadbalancing": "ValidationError",
    "ec2": "InvalidParameterValue",
    "tagging": "InvalidParameterException",
}


class SerializationError(Exception):
    """The request's body does not even deserialise into the input shape (wrong JSON type)."""


# ----------------------------------------------------------------------------- Java regex -> Python

_JAVA_CLASSES = {"L": "L", "M": "M", "N": "N", "P": "P", "S": "S", "Z": "Z", "C": "C",
                 "Zs": "Zs", "Lu": "Lu", "Ll": "Ll", "Nd": "Nd"}


@lru_cache(maxsize=None)
def _categories() -> dict[str, list[list[int]]]:
    """Code point ranges of every Unicode category, major ("L") and minor ("Lu"), in one pass."""
    ranges: dict[str, list[list[int]]] = {}
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = unicodedata.category(chr(cp))
        for cat in (c, c[0]):
            rs = ranges.setdefault(cat, [])
            if rs and rs[-1][1] == cp - 1:
                rs[-1][1] = cp
            else:
                rs.append([cp, cp])
    return ranges


def _category_class(cat: str) -> str:
    """The code points of a Unicode category as a Python character-class body."""
    return "".join(_esc(a) if a == b else f"{_esc(a)}-{_esc(b)}"
                   for a, b in _categories().get(cat, []))


def _esc(cp: int) -> str:
    return f"\\U{cp:08x}"


def _java_to_python(pattern: str) -> str:
    """Translate the Java regex features botocore's models use into Python `re` syntax."""
    out = pattern
    # A surrogate-pair range in a class is Java's way to write "every supplementary code point".
    out = out.replace("\\uD800\\uDC00-\\uDBFF\\uDFFF", "\\U00010000-\\U0010FFFF")
    out = out.replace("\\p{Print}", "[\\x20-\\x7e]")  # POSIX class (ASCII in Java by default)

    def cls(m: re.Match[str]) -> str:
        body = _category_class(_JAVA_CLASSES[m.group(1)])
        return body if m.group(0).startswith("\\p") and _inside_class(out, m.start()) else f"[{body}]"

    out = re.sub(r"\\p\{([A-Za-z]+)\}", cls, out)
    # Java reads '-' after a predefined class like \w as a literal.
    out = re.sub(r"(\\[wdsWDS])-", r"\1\\-", out)
    return out


def _inside_class(pattern: str, pos: int) -> bool:
    depth, i = 0, 0
    while i < pos:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        i += 1
    return depth > 0


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    for candidate in (pattern, None):
        try:
            return re.compile(candidate if candidate is not None else _java_to_python(pattern),
                              re.DOTALL)
        except re.error:
            continue
    print(f"matbakh validation: cannot compile model pattern {pattern!r}; not checked", flush=True)
    return None


# ----------------------------------------------------------------------------- constraint walk


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _scalar_constraints(shape: Any, value: Any) -> list[str]:
    """The constraint texts a scalar (string / number) value breaks, in AWS's wording."""
    meta = shape.metadata
    t = shape.type_name
    broken: list[str] = []
    if t == "string":
        if "max" in meta and len(value) > meta["max"]:
            broken.append(f"Member must have length less than or equal to {_number(meta['max'])}")
        if "min" in meta and len(value) < meta["min"]:
            broken.append(f"Member must have length greater than or equal to {_number(meta['min'])}")
        enum = meta.get("enum")
        if enum and value not in enum:
            broken.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        if pattern:
            rx = _compiled(pattern)
            if rx is not None and rx.fullmatch(value) is None:
                broken.append(f"Member must satisfy regular expression pattern: {pattern}")
    elif t in ("integer", "long", "short", "byte", "float", "double"):
        if "max" in meta and value > meta["max"]:
            broken.append(f"Member must have value less than or equal to {_number(meta['max'])}")
        if "min" in meta and value < meta["min"]:
            broken.append(f"Member must have value greater than or equal to {_number(meta['min'])}")
    return broken


_INT_TYPES = ("integer", "long", "short", "byte")


def _check_type(shape: Any, value: Any, path: str) -> None:
    t = shape.type_name
    ok = True
    if t == "structure":
        ok = isinstance(value, dict)
    elif t == "list":
        ok = isinstance(value, list)
    elif t == "map":
        ok = isinstance(value, dict)
    elif t == "string":
        ok = isinstance(value, str)
    elif t in _INT_TYPES:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif t in ("float", "double"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif t == "boolean":
        ok = isinstance(value, bool)
    elif t == "timestamp":
        ok = isinstance(value, (int, float, str)) and not isinstance(value, bool)
    elif t == "blob":
        ok = isinstance(value, (str, bytes, bytearray))
    if not ok:
        kind = type(value).__name__
        raise SerializationError(
            f"Cannot deserialize value of type {kind} at '{path}' into a {t} "
            f"(shape {shape.name}).")


def _walk(shape: Any, value: Any, path: str, errors: list[str]) -> None:
    _check_type(shape, value, path)
    t = shape.type_name
    meta = shape.metadata
    shown = "" if meta.get("sensitive") else f" '{_render(value)}'"
    if t == "structure":
        if meta.get("document"):
            return
        required = set(shape.required_members)
        for name, member in shape.members.items():
            child = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
            # Bodies carry the wire name (locationName) where the model gives one.
            key = name if name in value else member.serialization.get("name", name)
            if value.get(key) is None:
                if name in required:
                    errors.append(f"Value null at '{child}' failed to satisfy constraint: "
                                  "Member must not be null")
                continue
            _walk(member, value[key], child, errors)
        return
    if t in ("list", "map"):
        broken = []
        if "max" in meta and len(value) > meta["max"]:
            broken.append(f"Member must have length less than or equal to {_number(meta['max'])}")
        if "min" in meta and len(value) < meta["min"]:
            broken.append(f"Member must have length greater than or equal to {_number(meta['min'])}")
        errors.extend(f"Value{shown} at '{path}' failed to satisfy constraint: {b}" for b in broken)
        if t == "list":
            element = shape.member
            if element.type_name in ("structure", "list", "map"):
                for i, item in enumerate(value, start=1):
                    if item is None:
                        continue
                    _walk(element, item, f"{path}.{i}.member", errors)
                return
            inner: list[str] = []
            for item in value:
                if item is None:
                    continue
                _check_type(element, item, f"{path}.member")
                for b in _scalar_constraints(element, item):
                    if b not in inner:
                        inner.append(b)
            if inner:
                errors.append(f"Value{shown} at '{path}' failed to satisfy constraint: "
                              f"Member must satisfy constraint: [{', '.join(inner)}]")
            return
        keys: list[str] = []
        vals: list[str] = []
        for k, v in value.items():
            _check_type(shape.key, k, f"{path}.key")
            keys += [b for b in _scalar_constraints(shape.key, k) if b not in keys]
            if v is None:
                continue
            if shape.value.type_name in ("structure", "list", "map"):
                _walk(shape.value, v, f"{path}.{k}", errors)
            else:
                _check_type(shape.value, v, f"{path}.{k}")
                vals += [b for b in _scalar_constraints(shape.value, v) if b not in vals]
        if keys:
            errors.append(f"Value{shown} at '{path}' failed to satisfy constraint: "
                          f"Map keys must satisfy constraint: [{', '.join(keys)}]")
        if vals:
            errors.append(f"Value{shown} at '{path}' failed to satisfy constraint: "
                          f"Map value must satisfy constraint: [{', '.join(vals)}]")
        return
    for b in _scalar_constraints(shape, value):
        errors.append(f"Value{shown} at '{path}' failed to satisfy constraint: {b}")


def violations(input_shape: Any, params: dict[str, Any]) -> list[str]:
    """Every constraint of `input_shape` that `params` breaks, as AWS words them.

    Raises SerializationError when a value has the wrong type for its member."""
    errors: list[str] = []
    if input_shape is not None:
        _walk(input_shape, params, "", errors)
    return errors


def message(errors: list[str]) -> str:
    n = len(errors)
    return f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errors)


# ----------------------------------------------------------------------------- request -> params


def _from_text(shape: Any, text: str) -> Any:
    """A scalar sent as text (URI label, query string, header, query protocol) in its own type."""
    t = shape.type_name
    if t in _INT_TYPES:
        try:
            return int(text)
        except ValueError:
            return text  # _check_type reports it
    if t in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if t == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text


def _uri_labels(template: str, path: str) -> dict[str, str]:
    uri = template.split("?")[0]
    names: list[str] = []

    def label(m: re.Match[str]) -> str:
        names.append(m.group(1).rstrip("+"))
        return "(.+)" if m.group(1).endswith("+") else "([^/]+)"

    rx = re.sub(r"\{([^}]+)\}", label, re.escape(uri).replace("\\{", "{").replace("\\}", "}"))
    m = re.fullmatch(rx + "/?", path)
    if not m:
        return {}
    return {n: unquote(v) for n, v in zip(names, m.groups())}


def _rest_params(op: Any, environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    shape = op.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    payload_member = shape.serialization.get("payload")
    labels = _uri_labels(op.http.get("requestUri", "/"), environ.get("PATH_INFO", ""))
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    body_members = {}
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri":
            if wire in labels:
                params[name] = _from_text(member, labels[wire])
        elif where == "querystring":
            if member.type_name == "list" and wire in query:
                params[name] = [_from_text(member.member, v) for v in query[wire]]
            elif member.type_name == "map":
                continue
            elif wire in query:
                params[name] = _from_text(member, query[wire][0])
        elif where == "header":
            key = "HTTP_" + wire.upper().replace("-", "_")
            if key in environ:
                params[name] = _from_text(member, environ[key])
        elif where == "headers":
            continue
        elif name != payload_member:
            body_members[wire] = name
    if not body.strip():
        return params
    try:
        data = json.loads(body)
    except ValueError as e:
        raise SerializationError(f"Request body is not JSON: {e}") from e
    if payload_member:
        params[payload_member] = data
        return params
    if not isinstance(data, dict):
        raise SerializationError("Request body must be a JSON object")
    for wire, value in data.items():
        if wire in body_members:
            params[body_members[wire]] = value
    return params


def _query_value(shape: Any, form: dict[str, str], prefix: str) -> Any:
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, member in shape.members.items():
            key = f"{prefix}.{member.serialization.get('name', name)}" if prefix else \
                member.serialization.get("name", name)
            v = _query_value(member, form, key)
            if v is not None:
                out[name] = v
        return out if (out or not prefix) else None
    if t == "list":
        flat = shape.serialization.get("flattened")
        base = prefix if flat else f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        if prefix in form and form[prefix] == "":
            return []  # an explicitly empty list
        items = []
        i = 1
        while True:
            v = _query_value(shape.member, form, f"{base}.{i}")
            if v is None:
                break
            items.append(v)
            i += 1
        return items or None
    if t == "map":
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        out = {}
        i = 1
        while f"{base}.{i}.key" in form:
            out[form[f"{base}.{i}.key"]] = _query_value(shape.value, form, f"{base}.{i}.value")
            i += 1
        return out or None
    if prefix not in form:
        return None
    return _from_text(shape, form[prefix])


def _ec2_value(shape: Any, form: dict[str, str], prefix: str) -> Any:
    """EC2's query dialect: members by queryName (else the capitalised locationName or member
    name), every list flattened as NAME.N (botocore's EC2 serializer)."""
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("queryName") or \
                (member.serialization.get("name", name)[:1].upper() + member.serialization.get("name", name)[1:])
            v = _ec2_value(member, form, f"{prefix}.{wire}" if prefix else wire)
            if v is not None:
                out[name] = v
        return out if (out or not prefix) else None
    if t == "list":
        items = []
        i = 1
        while True:
            v = _ec2_value(shape.member, form, f"{prefix}.{i}")
            if v is None:
                break
            items.append(v)
            i += 1
        return items or None
    if prefix not in form:
        return None
    return _from_text(shape, form[prefix])


def _query_params(op: Any, body: bytes) -> dict[str, Any]:
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                         keep_blank_values=True).items()}
    if op.input_shape is None:
        return {}
    if op.metadata.get("protocol") == "ec2":
        return _ec2_value(op.input_shape, form, "") or {}
    return _query_value(op.input_shape, form, "") or {}


def params_for(botocore_service: str, operation: str, protocol: str,
               environ: dict[str, Any], body: bytes) -> tuple[Any, dict[str, Any]] | None:
    """(input shape, request parameters) of a request, or None when the model has no such
    operation (moto answers those itself)."""
    model = cbor.service_model(botocore_service)
    if operation not in model.operation_names:
        return None
    op = model.operation_model(operation)
    if protocol == "cbor":
        data = cbor.decode(body) if body else {}
    elif protocol == "json":
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError as e:
            raise SerializationError(f"Request body is not JSON: {e}") from e
    elif protocol == "query":
        data = _query_params(op, body)
    else:
        data = _rest_params(op, environ, body)
    if not isinstance(data, dict):
        raise SerializationError("Request body must be an object")
    return op.input_shape, data


def check(botocore_service: str, operation: str, protocol: str, environ: dict[str, Any],
          body: bytes) -> tuple[str, str] | None:
    """None when the request satisfies its input shape, else (kind, message) where kind is
    "validation" (the service's validation error) or "serialization"."""
    try:
        found = params_for(botocore_service, operation, protocol, environ, body)
        if found is None:
            return None
        errors = violations(*found)
    except SerializationError as e:
        return "serialization", str(e)
    if not errors:
        return None
    return "validation", message(errors)

