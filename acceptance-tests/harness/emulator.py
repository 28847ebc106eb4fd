"""Start, drive and stop the local AWS emulator (emulator/start.sh)."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from . import strict

ROOT = Path(__file__).resolve().parent.parent  # acceptance-tests/
START_SH = ROOT / "emulator" / "start.sh"
REGION = "eu-central-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
# Virtual seconds of the ECS deployment clock per real second in the acceptance tests.
RELEASE_SPEED = 3600


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    def __init__(self, endpoint: str, proc: subprocess.Popen | None = None,
                 log_path: Path | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.proc = proc
        self.log_path = log_path
        self._session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION)
        self._cbor_dir: tempfile.TemporaryDirectory | None = None

    # ------------------------------------------------------------------ HTTP helpers
    def _http(self, method: str, path: str, payload: Any = None, timeout: float = 30) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path} -> {e.code}: {e.read()[:500]!r}") from e
        try:
            return json.loads(body) if body else None
        except ValueError:
            return body

    def healthy(self) -> bool:
        try:
            return self._http("GET", "/_matbakh/health", timeout=2)["status"] == "ok"
        except Exception:  # noqa: BLE001
            return False

    # ------------------------------------------------------------------ state control
    def reset(self) -> None:
        """Wipe every moto backend, our extension state, faults, request log and settings."""
        self._http("POST", "/moto-api/reset")

    def inject_fault(self, service: str, operation: str, count: int = 1, status: int = 400,
                     code: str | None = None, message: str = "injected fault",
                     match: str | None = None, after: int = 0) -> dict:
        """The next `count` requests to service:operation (after skipping `after` of them;
        optionally only those whose path/query/body contains `match`) fail with an AWS error."""
        spec: dict[str, Any] = {"service": service, "operation": operation, "count": count,
                                "status": status, "message": message, "after": after}
        if code:
            spec["code"] = code
        if match:
            spec["match"] = match
        return self._http("POST", "/_matbakh/faults", spec)["faults"][0]

    def clear_faults(self) -> None:
        self._http("DELETE", "/_matbakh/faults")

    def faults(self) -> dict:
        return self._http("GET", "/_matbakh/faults")

    def requests(self, service: str | None = None, operation: str | None = None) -> list[dict]:
        reqs = self._http("GET", "/_matbakh/requests")["requests"]
        return [r for r in reqs
                if (service is None or r["service"] == service)
                and (operation is None or r["operation"] == operation)]

    def provider_actions(self) -> dict[str, int]:
        """IAM action -> how often the provider called it since this emulator started (kept
        across resets)."""
        return self._http("GET", "/_matbakh/provider-actions")["actions"]

    def clear_requests(self) -> None:
        self._http("DELETE", "/_matbakh/requests")

    def settings(self, **values: Any) -> dict:
        if values:
            return self._http("POST", "/_matbakh/settings", values)
        return self._http("GET", "/_matbakh/settings")

    def clock(self, advance_seconds: float | None = None, speed: float | None = None) -> dict:
        """The ECS deployment clock (ecs_deployment=timed): {"now", "speed"}; optionally move it
        forward by `advance_seconds` and/or set its `speed` (virtual seconds per real second)."""
        payload: dict[str, Any] = {}
        if advance_seconds is not None:
            payload["advance_seconds"] = advance_seconds
        if speed is not None:
            payload["speed"] = speed
        if payload:
            return self._http("POST", "/_matbakh/clock", payload)
        return self._http("GET", "/_matbakh/clock")

    def service_connect_traffic(self, region: str = "eu-central-1", **traffic: Any) -> dict:
        """Publish the Service Connect metrics AWS would for calls to one ECS service
        (emulator/extensions/metrics.py): cluster=, service=, requests=, errors=, latency_ms=,
        caller_cluster=, caller_service=, minutes= (per minute, up to now); candidate_share=
        (percent) and candidate_latency_ms= for a new revision's share during a release."""
        return self._http("POST", "/_matbakh/service_connect/traffic", {"region": region, **traffic})

    def evaluate_alarms(self, region: str = "eu-central-1", alarm_names: list[str] | None = None) -> dict:
        """Evaluate metric alarms on the stored data as CloudWatch would now, set their states,
        answer {name: {"state", "points"}}."""
        payload: dict[str, Any] = {"region": region}
        if alarm_names is not None:
            payload["alarm_names"] = alarm_names
        return self._http("POST", "/_matbakh/alarms/evaluate", payload)

    # ------------------------------------------------------------------ clients
    def client(self, service_name: str, strict_shapes: bool = True) -> Any:
        c = self._session.client(
            service_name, endpoint_url=self.endpoint,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        return strict.attach(c) if strict_shapes else c

    def cbor_client(self, service_name: str = "cloudwatch") -> Any:
        """A botocore client forced onto Smithy RPCv2 CBOR, as the Rust SDK talks to CloudWatch."""
        if self._cbor_dir is None:
            self._cbor_dir = tempfile.TemporaryDirectory(prefix="matbakh-cbor-models-")
        loader = botocore.session.get_session().get_component("data_loader")
        api_version = loader.determine_latest_version(service_name, "service-2")
        model = copy.deepcopy(loader.load_service_model(service_name, "service-2", api_version))
        model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
        model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
        target = Path(self._cbor_dir.name) / service_name / api_version
        target.mkdir(parents=True, exist_ok=True)
        (target / "service-2.json").write_text(json.dumps(model))
        session = botocore.session.get_session()
        session.get_component("data_loader").search_paths.insert(0, self._cbor_dir.name)
        return session.create_client(
            service_name, region_name=REGION, endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}))

    # ------------------------------------------------------------------ lifecycle
    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def start(log_dir: Path, port: int | None = None, timeout: float = 900) -> Emulator:
    """Run emulator/start.sh PORT in the background (own process group) and wait until it answers.

    The timeout is generous because the first start builds the virtualenv."""
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"emulator-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - kept open for the process' lifetime
    # Release tests watch deployments take their stages' time: an hour of the emulator's
    # deployment clock per second keeps a 10-minute canary bake under a second.
    env = dict(os.environ)
    env.setdefault("MATBAKH_EMULATOR_SPEED", str(RELEASE_SPEED))
    proc = subprocess.Popen([str(START_SH), str(port)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    emu = Emulator(f"http://127.0.0.1:{port}", proc, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited with {proc.returncode}:\n{emu.log_tail()}")
        if emu.healthy():
            return emu
        time.sleep(0.3)
    emu.stop()
    raise RuntimeError(f"emulator did not answer within {timeout}s:\n{emu.log_tail()}")
