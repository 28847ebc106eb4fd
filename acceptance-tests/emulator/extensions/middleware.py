"""WSGI middleware in front of moto's server app.

* control endpoints under /_matbakh/ (health, fault injection, request log, ECS behaviour);
* fault injection: the next N matching AWS requests fail with an AWS-shaped error;
* request authorization against the caller's IAM policies, with `authorize_requests` on
  (authorization.py);
* request validation against botocore's input shapes (validation.py), before moto sees a request;
* CloudWatch Smithy RPCv2 CBOR <-> awsJson1_0 bridge (see cbor.py);
* POST /moto-api/reset also clears faults, the request log and the settings;
* the IAM actions the provider itself called (requests signed by the AWS SDK for Rust) are
  counted for the emulator's whole life, across resets: GET /_matbakh/provider-actions (the
  acceptance suite checks at its end that the deployer policy grants every one, conftest.py);
* every request is processed under one lock (moto's backends are not thread safe, and the
  provider sends requests concurrently).
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import traceback
import uuid
from functools import lru_cache
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs
from xml.sax.saxutils import escape as xml_escape

from . import authorization
from . import cbor
from . import settings
from . import validation

MAX_LOGGED_REQUESTS = 10000

# Signing names (Authorization credential scope) and the friendlier names tests may use.
SERVICE_ALIASES = {
    "cloudwatch": "monitoring",
    "cloudmap": "servicediscovery",
    "cloud-map": "servicediscovery",
    "autoscaling": "application-autoscaling",
    "applicationautoscaling": "application-autoscaling",
    "app-autoscaling": "application-autoscaling",
    "cloudwatchlogs": "logs",
    "app-mesh": "appmesh",
    "resourcegroupstaggingapi": "tagging",
}

# The service's own modeled "bad input" error: a 400 the SDKs never retry.
DEFAULT_FAULT_CODE = {
    "appmesh": "BadRequestException",
    "ecs": "InvalidParameterException",
    "servicediscovery": "InvalidInput",
    "logs": "InvalidParameterException",
    "application-autoscaling": "ValidationException",
    "monitoring": "InvalidParameterValue",
    "budgets": "InvalidParameterException",
    "elasticloadbalancing": "ValidationError",
    "ec2": "InvalidParameterValue",
    "tagging": "InvalidParameterException",
}

SIGNING_TO_BOTOCORE = {
    "appmesh": "appmesh",
    "ecs": "ecs",
    "servicediscovery": "servicediscovery",
    "logs": "logs",
    "application-autoscaling": "application-autoscaling",
    "monitoring": "cloudwatch",
    "budgets": "budgets",
    "elasticloadbalancing": "elbv2",
    "ec2": "ec2",
    "tagging": "resourcegroupstaggingapi",
}


def canonical_service(name: str | None) -> str:
    n = (name or "").strip().lower()
    return SERVICE_ALIASES.get(n, n)


# ----------------------------------------------------------------------------- REST operation matching


@lru_cache(maxsize=None)
def _rest_routes(botocore_service: str) -> list[tuple[str, re.Pattern[str], str]]:
    model = cbor.service_model(botocore_service)
    routes = []
    for op_name in model.operation_names:
        http = model.operation_model(op_name).http
        uri = http.get("requestUri", "/").split("?")[0]
        pattern = re.sub(r"\{[^}]+\+\}", ".+", uri)
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", pattern)
        routes.append((http.get("method", "POST"), re.compile(pattern + "/?"), op_name))
    # Most specific (longest literal) first.
    routes.sort(key=lambda r: -len(r[1].pattern))
    return routes


def rest_operation(botocore_service: str, method: str, path: str) -> str | None:
    for m, rx, op in _rest_routes(botocore_service):
        if m == method and rx.fullmatch(path):
            return op
    return None


# ----------------------------------------------------------------------------- request identification


class Call:
    def __init__(self, environ: dict[str, Any], body: bytes) -> None:
        self.environ = environ
        self.body = body
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "")
        self.query = environ.get("QUERY_STRING", "")
        self.service = ""
        self.operation = ""
        self.protocol = "rest-json"
        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/([^/]+)/aws4_request", auth)
        if m:
            self.service = m.group(2).lower()
        target = environ.get("HTTP_X_AMZ_TARGET")
        content_type = environ.get("CONTENT_TYPE", "")
        cbor_path = cbor.parse_path(self.path)
        if cbor_path is not None:
            self.protocol = "cbor"
            self.operation = cbor_path[1]
            if not self.service:
                svc = cbor.service_for_prefix(cbor_path[0])
                self.service = "monitoring" if svc == "cloudwatch" else (svc or "")
        elif target:
            self.protocol = "json"
            self.operation = target.split(".")[-1]
        elif content_type.startswith("application/x-www-form-urlencoded"):
            self.protocol = "query"
            form = parse_qs(body.decode("utf-8", "replace"))
            self.operation = (form.get("Action") or [""])[0]
        else:
            self.protocol = "rest-json"
            botocore_name = SIGNING_TO_BOTOCORE.get(self.service)
            if botocore_name:
                try:
                    self.operation = rest_operation(botocore_name, self.method, self.path) or ""
                except Exception:  # noqa: BLE001
                    self.operation = ""

    def describe(self) -> str:
        return f"{self.service}:{self.operation}"

    def text_body(self) -> str:
        if self.protocol == "cbor":
            try:
                return json.dumps(cbor._jsonable(cbor.decode(self.body)))
            except Exception:  # noqa: BLE001
                return ""
        return self.body.decode("utf-8", "replace")


def _from_provider(environ: dict[str, Any]) -> bool:
    """Signed by the AWS SDK for Rust, i.e. the provider (the tests' own calls are boto3's)."""
    agents = environ.get("HTTP_X_AMZ_USER_AGENT", "") + " " + environ.get("HTTP_USER_AGENT", "")
    return "aws-sdk-rust" in agents


def _access_key(environ: dict[str, Any]) -> str | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    if marker not in auth:
        return None
    return auth.split(marker, 1)[1].split("/", 1)[0]


# ----------------------------------------------------------------------------- faults


class Faults:
    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self.fired: list[dict[str, Any]] = []

    def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        service = canonical_service(spec.get("service"))
        if not service or not spec.get("operation"):
            raise ValueError("fault needs 'service' and 'operation'")
        rule = {
            "id": uuid.uuid4().hex[:12],
            "service": service,
            "operation": spec["operation"],
            "count": int(spec.get("count", 1)),
            "status": int(spec.get("status", 400)),
            "code": spec.get("code") or DEFAULT_FAULT_CODE.get(service, "ValidationException"),
            "message": spec.get("message") or "injected fault",
            "match": spec.get("match"),
            "after": int(spec.get("after", 0)),
        }
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()
        self.fired.clear()

    def take(self, call: Call) -> dict[str, Any] | None:
        for rule in self.rules:
            if rule["count"] <= 0:
                continue
            if rule["service"] != call.service:
                continue
            if rule["operation"] != "*" and rule["operation"].lower() != call.operation.lower():
                continue
            if rule["match"] and rule["match"] not in call.path + "?" + call.query + " " + call.text_body():
                continue
            if rule["after"] > 0:
                rule["after"] -= 1
                continue
            rule["count"] -= 1
            self.fired.append({"id": rule["id"], "service": call.service,
                               "operation": call.operation, "path": call.path})
            return rule
        return None


def error_response(call: Call, status: int, code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if call.protocol == "cbor":
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-query-error", f"{code};Sender")]
        body = cbor.error_to_cbor(code, message)
    elif call.protocol == "query" and call.service == "ec2":
        # EC2's own error document (not the query protocol's ErrorResponse).
        headers += [("Content-Type", "text/xml")]
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{xml_escape(message)}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
    elif call.protocol == "query":
        headers += [("Content-Type", "text/xml")]
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    else:
        ctype = "application/x-amz-json-1.1" if call.protocol == "json" else "application/json"
        headers += [("Content-Type", ctype), ("x-amzn-ErrorType", code)]
        body = json.dumps({"__type": code, "message": message}).encode()
    return f"{status} {_reason(status)}", headers, body


def _reason(status: int) -> str:
    return {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}.get(status, "Error")


# ----------------------------------------------------------------------------- middleware


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            data = stream.read(int(length))
        except ValueError:
            data = b""
    elif environ.get("wsgi.input_terminated") or environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        data = stream.read()
    else:
        data = b""
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return data


class MatbakhMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.RLock()
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        # IAM action -> how often the provider called it, since the emulator started.
        self.provider_actions: dict[str, int] = {}

    # -- helpers
    @staticmethod
    def _json(start_response: Callable[..., Any], status: int, payload: Any) -> list[bytes]:
        body = json.dumps(payload).encode()
        start_response(f"{status} {_reason(status) if status >= 400 else 'OK'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _call_inner(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def sr(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = status
            captured["headers"] = headers
            return lambda _data: None

        chunks = self.app(environ, sr)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        return captured["status"], captured["headers"], body

    def reset(self) -> None:
        from . import ecs_clock

        self.faults.clear()
        self.requests.clear()
        settings.reset()
        ecs_clock.CLOCK.reset()

    # -- control API
    def control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "").rstrip("/")
        body = _read_body(environ)
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return self._json(start_response, 400, {"error": "body is not JSON"})
        if path == "/_matbakh/health":
            return self._json(start_response, 200, {"status": "ok"})
        if path == "/_matbakh/faults":
            if method == "POST":
                specs = payload if isinstance(payload, list) else [payload]
                try:
                    rules = [self.faults.add(s) for s in specs]
                except (ValueError, TypeError) as e:
                    return self._json(start_response, 400, {"error": str(e)})
                return self._json(start_response, 200, {"faults": rules})
            if method == "DELETE":
                self.faults.clear()
                return self._json(start_response, 200, {"faults": []})
            return self._json(start_response, 200, {"faults": self.faults.rules, "fired": self.faults.fired})
        if path == "/_matbakh/provider-actions":
            return self._json(start_response, 200, {"actions": self.provider_actions})
        if path == "/_matbakh/requests":
            if method == "DELETE":
                self.requests.clear()
                return self._json(start_response, 200, {"requests": []})
            return self._json(start_response, 200, {"requests": self.requests})
        if path == "/_matbakh/settings":
            if method in ("POST", "PUT"):
                try:
                    settings.update(payload)
                except (ValueError, TypeError) as e:
                    return self._json(start_response, 400, {"error": str(e)})
            elif method == "DELETE":
                settings.reset()
            return self._json(start_response, 200, settings.current())
        if path == "/_matbakh/clock":  # ECS deployment clock (ecs_clock.py)
            from . import ecs_clock

            if method in ("POST", "PUT"):
                try:
                    return self._json(start_response, 200, ecs_clock.control(payload))
                except (ValueError, TypeError) as e:
                    return self._json(start_response, 400, {"error": str(e)})
            return self._json(start_response, 200, ecs_clock.CLOCK.state())
        if path in ("/_matbakh/service_connect/traffic", "/_matbakh/alarms/evaluate") \
                and method == "POST":  # metrics.py
            from . import metrics

            run = metrics.publish_service_connect if path.endswith("traffic") else metrics.evaluate
            try:
                return self._json(start_response, 200, run(payload))
            except (ValueError, TypeError, KeyError) as e:
                return self._json(start_response, 400, {"error": str(e)})
        if path == "/_matbakh/reset" and method == "POST":
            self.reset()
            return self._json(start_response, 200, {"reset": True})
        return self._json(start_response, 404, {"error": f"unknown control endpoint {path}"})

    # -- WSGI entry point
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        with self.lock:
            if path.startswith("/_matbakh/"):
                return self.control(environ, start_response)
            if path.startswith("/moto-api/reset") and environ.get("REQUEST_METHOD") == "POST":
                self.reset()
                return self.app(environ, start_response)
            if path.startswith("/moto-api"):
                return self.app(environ, start_response)

            body = _read_body(environ)
            call = Call(environ, body)
            entry = {"time": time.time(), "service": call.service, "operation": call.operation,
                     "method": call.method, "path": call.path, "body": call.text_body()[:20000],
                     # which credentials signed it (the access key id only, never the secret)
                     "access_key": _access_key(environ),
                     # the IAM action that authorizes it (what a policy must grant)
                     "action": authorization.iam_action(call.service, call.operation)
                     if call.service and call.operation else None}
            if _from_provider(environ):
                entry["agent"] = "provider"
                if entry["action"]:
                    self.provider_actions[entry["action"]] = (
                        self.provider_actions.get(entry["action"], 0) + 1)
            self.requests.append(entry)
            if len(self.requests) > MAX_LOGGED_REQUESTS:
                del self.requests[: len(self.requests) - MAX_LOGGED_REQUESTS]

            rule = self.faults.take(call)
            if rule is not None:
                status, headers, out = error_response(call, rule["status"], rule["code"], rule["message"])
                entry["status"] = rule["status"]
                entry["fault"] = rule["id"]
                headers.append(("Content-Length", str(len(out))))
                start_response(status, headers)
                return [out]

            refusal = self._authorize(call, entry)
            if refusal is None:
                refusal = self._validate(call, entry)
            if refusal is not None:
                status, headers, out = refusal
                entry["status"] = int(status.split()[0])
                headers.append(("Content-Length", str(len(out))))
                start_response(status, headers)
                return [out]

            try:
                if call.protocol == "cbor":
                    status, headers, out = self._cbor_call(environ, call)
                else:
                    status, headers, out = self._call_inner(environ)
            except NotImplementedError as e:
                traceback.print_exc()
                status, headers, out = error_response(
                    call, 501, "NotImplemented",
                    f"the emulator (moto) does not implement {call.describe()}: {e}")
            except Exception as e:  # noqa: BLE001 - a moto crash; keep it AWS-shaped
                traceback.print_exc()
                status, headers, out = error_response(
                    call, 500, "InternalFailure",
                    f"emulator crashed in {call.describe()}: {type(e).__name__}: {e}")
            entry["status"] = int(status.split()[0])
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(out))))
            start_response(status, headers)
            return [out]

    def _authorize(self, call: Call, entry: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """With authorize_requests on, the caller's IAM policies must allow the call (AWS checks
        this before it looks at the request's shape)."""
        if not settings.get("authorize_requests"):
            return None
        m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", call.environ.get("HTTP_AUTHORIZATION", ""))
        region = m.group(1) if m else "us-east-1"
        try:
            denied = authorization.refusal(call, _access_key(call.environ), region)
        except Exception:  # noqa: BLE001 - a bug here must not take the request down
            traceback.print_exc()
            return None
        if denied is None:
            return None
        code, message = denied
        entry["denied"] = message
        print(f"matbakh authorization: {call.describe()} refused: {message}", flush=True)
        return error_response(call, 403, code, message)

    def _validate(self, call: Call, entry: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """Check the request against its botocore input shape. Every violation is recorded in the
        request log (`invalid`) and printed to the emulator log; with validate_requests on (the
        default) it is answered as AWS answers it and moto never sees the request."""
        botocore_name = SIGNING_TO_BOTOCORE.get(call.service)
        if not botocore_name or not call.operation:
            return None
        try:
            found = validation.check(botocore_name, call.operation, call.protocol, call.environ, call.body)
        except Exception:  # noqa: BLE001 - a bug here must not take the request down
            traceback.print_exc()
            return None
        if found is None:
            return None
        kind, text = found
        entry["invalid"] = text
        print(f"matbakh validation: {call.describe()} {kind}: {text}", flush=True)
        if not settings.get("validate_requests"):
            return None
        if kind == "serialization":
            return error_response(call, 400, "SerializationException", text)
        code = validation.VALIDATION_ERROR_CODE.get(call.service, "ValidationException")
        return error_response(call, 400, code, text)

    def _cbor_call(self, environ: dict[str, Any], call: Call) -> tuple[str, list[tuple[str, str]], bytes]:
        prefix, operation = cbor.parse_path(call.path)  # type: ignore[misc]
        service = cbor.service_for_prefix(prefix)
        if service is None:
            return error_response(call, 404, "UnknownOperationException", f"unknown service {prefix}")
        try:
            json_body = cbor.request_to_json(call.body)
        except Exception as e:  # noqa: BLE001
            return error_response(call, 400, "SerializationException", f"bad CBOR body: {e}")
        inner = dict(environ)
        inner["PATH_INFO"] = "/"
        inner["QUERY_STRING"] = ""
        inner["CONTENT_TYPE"] = "application/x-amz-json-1.0"
        inner["HTTP_X_AMZ_TARGET"] = f"{prefix}.{operation}"
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        inner.pop("HTTP_ACCEPT", None)
        inner["wsgi.input"] = io.BytesIO(json_body)
        inner["CONTENT_LENGTH"] = str(len(json_body))
        status, headers, body = self._call_inner(inner)
        code = int(status.split()[0])
        keep = [(k, v) for k, v in headers
                if k.lower() in ("x-amzn-requestid", "x-amzn-query-error", "date")]
        keep += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        if code < 300:
            try:
                out = cbor.response_to_cbor(service, operation, body)
            except Exception as e:  # noqa: BLE001
                return error_response(call, 500, "InternalFailure", f"emulator CBOR encoding failed: {e}")
            return status, keep, out
        # Error: moto answers {"__type": ..., "message": ...} (JSON) or XML for some errors.
        err_code, message = "InternalFailure", body.decode("utf-8", "replace")
        try:
            data = json.loads(body)
            err_code = str(data.get("__type") or data.get("code") or err_code).split("#")[-1]
            message = data.get("message") or data.get("Message") or ""
        except ValueError:
            m = re.search(r"<Code>([^<]+)</Code>", message)
            mm = re.search(r"<Message>([^<]*)</Message>", message)
            if m:
                err_code = m.group(1)
                message = mm.group(1) if mm else ""
        if not any(k.lower() == "x-amzn-query-error" for k, _ in keep):
            keep.append(("x-amzn-query-error", f"{err_code};Sender"))
        return status, keep, cbor.error_to_cbor(err_code, message)
