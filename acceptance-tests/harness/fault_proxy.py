"""An HTTP fault proxy between the provider and the emulator: a hostile network, seeded.

Every AWS API request the provider sends passes through; with probability `rate` it meets one
fault instead of a clean round trip. The draw is seeded per request (seed, service, operation,
path, body without idempotency tokens, how often that request came before), not by arrival
order, so a seed replays the same faults even though the provider's requests race each other:

    throttle      the service's own throttling error in its own wire shape (ECS, Logs, Auto
                  Scaling `ThrottlingException` 400; Cloud Map `RequestLimitExceeded` 429;
                  App Mesh `TooManyRequestsException` 429; CloudWatch CBOR `Throttling` with
                  `x-amzn-query-error`), so the SDK classifies it as throttling
    internal      500 InternalFailure
    unavailable   503 ServiceUnavailable
    reset_before  the connection is reset (TCP RST) before the request is forwarded: AWS never
                  saw it
    reset_after   the request is forwarded, then the connection is reset: AWS did the work, the
                  answer is lost (the case that makes non-idempotent creates duplicate)
    delay         the request is held back (DELAY_FAULT_MS), then forwarded
    malformed     200 with a truncated body; never drawn at random, only where asked
                  (`malformed={"Operation": count}`)
    quota         with `quotas=QuotaModel()` (harness/quotas.py): AWS's published API rate
                  quotas, a token bucket per account, region and operation; a request that
                  finds its bucket empty gets the service's throttling error, as AWS answers

Besides the random draw, `script={"Operation": ["reset_after", ...]}` gives the next requests
to an operation exactly those faults, in order (a reproduction of one known failure).

A fixed delay (`delay_ms`) is added to every AWS request; requests are served by one thread
each, so concurrent requests overlap their delays and the request log shows how many
*sequential* rounds an operation took (the benchmark of issue #12 reads it).

Control paths of the emulator (`/_matbakh/*`, `/moto-api/*`) pass through untouched, undelayed
and unlogged.

Each AWS request is logged as one JSON line (and kept in `records`):
    {"t_in", "t_out", "service", "operation", "method", "path", "fault", "status"}
`fault` is null for a clean round trip; `status` is what the client got (null after a reset).

Library:   with FaultProxy(upstream, rate=0.2, seed=1, log_path=p) as proxy: ... proxy.endpoint
Program:   python -m harness.fault_proxy --upstream URL --port P --rate R --seed S
                                         --delay-ms D --log FILE [--kinds k,k] [--malformed Op[:N]]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Mapping

if __package__ in (None, ""):  # `python harness/fault_proxy.py` as well as `-m harness.fault_proxy`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The emulator's own request identification and AWS-shaped error bodies: one definition of
# "which service and operation is this" and "what does this service's error look like on the
# wire" for the emulator's fault rules and for the proxy.
from emulator.extensions.middleware import Call, error_response  # noqa: E402
from harness.quotas import QuotaModel  # noqa: E402

FAULT_KINDS = ("throttle", "internal", "unavailable", "reset_before", "reset_after", "delay")
ALL_KINDS = FAULT_KINDS + ("malformed",)
DELAY_FAULT_MS = (300, 1500)  # range of the `delay` fault

# Throttling as each service answers it (status, code). The Rust SDK classifies these codes as
# throttling errors (aws-smithy-runtime's THROTTLING_ERRORS) and retries them with backoff.
THROTTLING = {
    "ecs": (400, "ThrottlingException"),
    "logs": (400, "ThrottlingException"),
    "application-autoscaling": (400, "ThrottlingException"),
    "servicediscovery": (429, "RequestLimitExceeded"),
    "appmesh": (429, "TooManyRequestsException"),
    "monitoring": (400, "Throttling"),
    "elasticloadbalancing": (400, "Throttling"),
}
INTERNAL = (500, "InternalFailure")
UNAVAILABLE = (503, "ServiceUnavailable")

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
               "trailers", "transfer-encoding", "upgrade", "content-length"}


# Body fields that differ between otherwise identical requests (idempotency tokens).
_VOLATILE = re.compile(r"token|requestid", re.IGNORECASE)


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if not _VOLATILE.search(k)}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def request_key(call: Call) -> str:
    """What identifies a request across runs: service, operation, path and a digest of the
    body without idempotency tokens."""
    text = call.text_body()
    try:
        text = json.dumps(_stable(json.loads(text)), sort_keys=True) if text else ""
    except ValueError:
        pass
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{call.service}|{call.operation}|{call.path}|{digest}"


def is_control_path(path: str) -> bool:
    return path.startswith("/_matbakh/") or path.startswith("/moto-api")


class FaultProxy:
    """A threaded HTTP proxy injecting seeded faults into AWS API requests (see module doc).

    `rate`, `kinds`, `delay_ms`, `malformed` and `script` may be changed while it runs (e.g.
    faults off for a verification step)."""

    def __init__(self, upstream: str, port: int = 0, rate: float = 0.0, seed: int = 0,
                 delay_ms: float = 0.0, kinds: Iterable[str] = FAULT_KINDS,
                 malformed: Mapping[str, int] | None = None,
                 script: Mapping[str, Iterable[str]] | None = None, log_path: Path | str | None = None,
                 host: str = "127.0.0.1", quotas: QuotaModel | None = None) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ValueError(f"upstream must be http://HOST:PORT, got {upstream!r}")
        self.upstream = (parsed.hostname, parsed.port or 80)
        self.rate = rate
        self.seed = seed
        self.delay_ms = delay_ms
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        # operation name -> how many more of its answers to garble
        self.malformed: dict[str, int] = dict(malformed or {})
        # operation name -> the faults its next requests get, in order
        self.script: dict[str, list[str]] = _check_script(script or {})
        self.quotas = quotas
        self.records: list[dict[str, Any]] = []
        self._seen: Counter = Counter()  # request key -> times seen (see draw)
        self._lock = threading.Lock()
        self._log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115
        self._server = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FaultProxy":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def configure(self, rate: float | None = None, seed: int | None = None,
                  kinds: Iterable[str] | None = None, delay_ms: float | None = None,
                  malformed: Mapping[str, int] | None = None,
                  script: Mapping[str, Iterable[str]] | None = None,
                  quotas: QuotaModel | None = None) -> "FaultProxy":
        """Change the fault plan while running; a new `seed` starts the draws afresh; `quotas`
        turns the quota model on (with its buckets full)."""
        with self._lock:
            if quotas is not None:
                self.quotas = quotas
            if rate is not None:
                self.rate = rate
            if seed is not None:
                self.seed = seed
                self._seen: Counter = Counter()  # request key -> times seen (see draw)
            if kinds is not None:
                self.kinds = tuple(kinds)
            if delay_ms is not None:
                self.delay_ms = delay_ms
            if malformed is not None:
                self.malformed = dict(malformed)
            if script is not None:
                self.script = _check_script(script)
        return self

    # ------------------------------------------------------------------ decisions and records
    def draw(self, call: Call) -> tuple[str | None, float]:
        """(fault kind or None, seconds of a `delay` fault) for this request.

        The draw depends on the seed and on the request itself (service, operation, path, body
        without its idempotency tokens) and how often that same request came before, not on
        arrival order: concurrent requests racing each other do not change which of them meets
        which fault, so a seed replays the same faults as long as the provider sends the same
        requests."""
        key = request_key(call)
        with self._lock:
            n = self._seen[key]
            self._seen[key] = n + 1
            left = self.malformed.get(call.operation, 0)
            if left > 0:
                self.malformed[call.operation] = left - 1
                return "malformed", 0.0
            scripted = self.script.get(call.operation)
            if scripted:
                return scripted.pop(0), DELAY_FAULT_MS[0] / 1000
            seed, rate, kinds = self.seed, self.rate, self.kinds
        rng = random.Random(f"{seed}|{key}|{n}")
        roll = rng.random()
        kind = rng.choice(kinds) if kinds else None
        hold = rng.uniform(*DELAY_FAULT_MS) / 1000
        if kind is None or roll >= rate:
            return None, 0.0
        return kind, hold

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.records.append(entry)
            if self._log:
                self._log.write(json.dumps(entry) + "\n")

    def calls(self, fault: str | None | bool = False) -> Counter:
        """Requests per (service, operation); `fault=None` only clean ones, a kind only those."""
        with self._lock:
            recs = list(self.records)
        return Counter((r["service"], r["operation"]) for r in recs
                       if fault is False or r["fault"] == fault)

    def faults(self) -> Counter:
        with self._lock:
            return Counter(r["fault"] for r in self.records if r["fault"])

    def clear(self) -> None:
        with self._lock:
            self.records.clear()


# ---------------------------------------------------------------------------- request handling


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the provider opens many connections at once


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        pass

    Handler.proxy = proxy
    return Handler


class _ProxyHandler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    # -- plumbing
    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return b""

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self.proxy.upstream, timeout=300)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, [(k, v) for k, v in resp.getheaders()
                                              if k.lower() not in _HOP_BY_HOP], data
        finally:
            conn.close()

    def _send(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status, reason)
        for k, v in headers:
            if k.lower() not in _HOP_BY_HOP and k.lower() not in ("server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the kernel answers with a TCP RST ("connection reset by
        peer"), not an orderly FIN."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def _error(self, call: Call, status: int, code: str, message: str) -> None:
        line, headers, body = error_response(call, status, code, message)
        self._send(int(line.split()[0]), line.split(" ", 1)[1], headers, body)

    # -- one request
    def _handle(self) -> None:
        proxy = self.proxy
        body = self._read_body()
        path = urllib.parse.urlsplit(self.path).path
        if is_control_path(path):
            self._send(*self._forward(body))
            return

        t_in = time.time()
        url = urllib.parse.urlsplit(self.path)
        environ = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(url.path),
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "HTTP_AUTHORIZATION": self.headers.get("Authorization", ""),
        }
        if self.headers.get("X-Amz-Target"):
            environ["HTTP_X_AMZ_TARGET"] = self.headers["X-Amz-Target"]
        call = Call(environ, body)
        fault, hold = proxy.draw(call)
        if fault is None and proxy.quotas is not None and proxy.quotas.take(
                call.service, call.operation):
            fault = "quota"
        entry: dict[str, Any] = {"t_in": t_in, "t_out": None, "service": call.service,
                                 "operation": call.operation, "method": self.command,
                                 "path": path, "fault": fault, "status": None}
        recorded = False

        def record() -> None:
            # Before the answer goes out: a client that has its answer finds the request
            # in the log (recording after the send raced with the reader).
            nonlocal recorded
            if not recorded:
                recorded = True
                entry["t_out"] = time.time()
                proxy.record(entry)

        try:
            if proxy.delay_ms:
                time.sleep(proxy.delay_ms / 1000)
            if fault == "reset_before":
                record()
                self._reset()
                return
            if fault in ("throttle", "quota"):
                status, code = THROTTLING.get(call.service, (400, "ThrottlingException"))
                entry["status"] = status
                record()
                self._error(call, status, code, "Rate exceeded (injected by the fault proxy)")
                return
            if fault in ("internal", "unavailable"):
                status, code = INTERNAL if fault == "internal" else UNAVAILABLE
                entry["status"] = status
                record()
                self._error(call, status, code, f"{code} (injected by the fault proxy)")
                return
            if fault == "delay":
                time.sleep(hold)
            try:
                status, reason, headers, data = self._forward(body)
            except OSError as e:
                entry["status"] = 502
                record()
                self._error(call, 502, "BadGateway", f"fault proxy: upstream failed: {e}")
                return
            if fault == "reset_after":
                record()
                self._reset()
                return
            if fault == "malformed":
                status, reason = 200, "OK"
                data = _garble(data)
            entry["status"] = status
            record()
            self._send(status, reason, headers, data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. terraform was killed)
        finally:
            record()


def _garble(data: bytes) -> bytes:
    """A body no parser accepts: the first half of the real answer, then bytes that are neither
    JSON nor valid CBOR (0xff is a CBOR 'break' outside any indefinite item)."""
    return data[: max(1, len(data) // 2)] + b"\xff\x00{garbled"


# ---------------------------------------------------------------------------- program


def _check_script(script: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    out = {op: list(kinds) for op, kinds in script.items()}
    unknown = {k for kinds in out.values() for k in kinds} - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {ALL_KINDS}")
    return out


def _parse_malformed(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        op, _, n = v.partition(":")
        out[op] = int(n or 1)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m harness.fault_proxy",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", required=True, help="the emulator, e.g. http://127.0.0.1:4566")
    p.add_argument("--port", type=int, default=0, help="listen port (0: a free one, printed)")
    p.add_argument("--rate", type=float, default=0.0, help="share of AWS requests that fail (0..1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--delay-ms", type=float, default=0.0, help="fixed delay on every AWS request")
    p.add_argument("--kinds", default=",".join(FAULT_KINDS),
                   help=f"comma-separated fault kinds drawn at random (default all: {','.join(FAULT_KINDS)})")
    p.add_argument("--malformed", action="append", default=[], metavar="OP[:N]",
                   help="garble the next N (default 1) answers to operation OP (repeatable)")
    p.add_argument("--log", help="append one JSON line per AWS request to this file")
    p.add_argument("--quotas", action="store_true",
                   help="enforce AWS's published API rate quotas (harness/quotas.py)")
    args = p.parse_args(argv)
    if not 0 <= args.rate <= 1:
        p.error("--rate must be between 0 and 1")
    proxy = FaultProxy(args.upstream, port=args.port, rate=args.rate, seed=args.seed,
                       delay_ms=args.delay_ms,
                       kinds=[k for k in args.kinds.split(",") if k],
                       malformed=_parse_malformed(args.malformed), log_path=args.log,
                       quotas=QuotaModel() if args.quotas else None)

    def _exit(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)
    print(f"fault proxy on {proxy.endpoint} -> {args.upstream} rate={args.rate} seed={args.seed} "
          f"delay_ms={args.delay_ms}", flush=True)
    try:
        proxy.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if proxy._log:
            proxy._log.close()


if __name__ == "__main__":
    main()
