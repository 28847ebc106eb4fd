"""The fault proxy itself (harness/fault_proxy.py), against the emulator, without the provider:
each fault kind has the wire shape the SDKs classify, resets happen before or after the
emulator saw the request, control paths pass untouched, delays overlap, the seed repeats."""

from __future__ import annotations

import http.client
import json
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.emulator import ACCESS_KEY, REGION, SECRET_KEY, Emulator

pytestmark = pytest.mark.emulator


def client(endpoint: str, name: str):
    return boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                 region_name=REGION).client(
        name, endpoint_url=endpoint, config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def raw(endpoint: str, path: str, method: str = "GET", body: bytes = b"",
        headers: dict | None = None) -> tuple[int, bytes]:
    host, port = endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


ECS_CREATE_CLUSTER = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.CreateCluster",
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-central-1/ecs/aws4_request, "
                     "SignedHeaders=host, Signature=0",
}


@pytest.mark.parametrize("service, call, code, status", [
    ("ecs", lambda c: c.list_clusters(), "ThrottlingException", 400),
    ("logs", lambda c: c.describe_log_groups(), "ThrottlingException", 400),
    ("application-autoscaling", lambda c: c.describe_scalable_targets(ServiceNamespace="ecs"),
     "ThrottlingException", 400),
    ("servicediscovery", lambda c: c.list_namespaces(), "RequestLimitExceeded", 429),
    ("appmesh", lambda c: c.list_meshes(), "TooManyRequestsException", 429),
])
def test_throttling_has_each_services_shape(emulator, fault_proxy, service, call, code, status):
    fault_proxy.configure(rate=1.0, kinds=["throttle"])
    with pytest.raises(ClientError) as err:
        call(client(fault_proxy.endpoint, service))
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert [r["fault"] for r in fault_proxy.records] == ["throttle"]
    assert emulator.requests() == [], "a throttled request must not reach the emulator"


def test_cloudwatch_cbor_throttling(emulator, fault_proxy):
    """CloudWatch over Smithy RPCv2 CBOR (as the Rust SDK talks): CBOR error body and the
    x-amzn-query-error header carry `Throttling`."""
    fault_proxy.configure(rate=1.0, kinds=["throttle"])
    cw = Emulator(fault_proxy.endpoint).cbor_client()
    with pytest.raises(ClientError) as err:
        cw.describe_alarms()
    assert err.value.response["Error"]["Code"] == "Throttling"
    assert fault_proxy.records[0]["service"] == "monitoring"
    assert fault_proxy.records[0]["operation"] == "DescribeAlarms"


@pytest.mark.parametrize("kind, status, code", [("internal", 500, "InternalFailure"),
                                                ("unavailable", 503, "ServiceUnavailable")])
def test_server_errors(emulator, fault_proxy, kind, status, code):
    fault_proxy.configure(rate=1.0, kinds=[kind])
    with pytest.raises(ClientError) as err:
        client(fault_proxy.endpoint, "ecs").list_clusters()
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_reset_before_forwarding_never_reaches_aws(emulator, fault_proxy):
    fault_proxy.configure(rate=1.0, kinds=["reset_before"])
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        raw(fault_proxy.endpoint, "/", "POST", b'{"clusterName": "lost"}', ECS_CREATE_CLUSTER)
    assert emulator.client("ecs").list_clusters()["clusterArns"] == []
    assert fault_proxy.records[0]["fault"] == "reset_before"


def test_reset_after_forwarding_loses_the_answer(emulator, fault_proxy):
    fault_proxy.configure(rate=1.0, kinds=["reset_after"])
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        raw(fault_proxy.endpoint, "/", "POST", b'{"clusterName": "made"}', ECS_CREATE_CLUSTER)
    arns = emulator.client("ecs").list_clusters()["clusterArns"]
    assert [a.rsplit("/", 1)[-1] for a in arns] == ["made"], "the request must have reached AWS"


def test_malformed_only_where_asked(emulator, fault_proxy):
    fault_proxy.configure(rate=0.0, malformed={"ListClusters": 1})
    status, body = raw(fault_proxy.endpoint, "/", "POST", b"{}", {
        **ECS_CREATE_CLUSTER, "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"})
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)
    # Only the asked number of answers is garbled; other operations never are.
    assert client(fault_proxy.endpoint, "ecs").list_clusters()["clusterArns"] == []
    assert [r["fault"] for r in fault_proxy.records] == ["malformed", None]


def test_control_paths_are_never_faulted_or_logged(emulator, fault_proxy):
    fault_proxy.configure(rate=1.0, delay_ms=500)
    t0 = time.monotonic()
    for _ in range(5):
        assert raw(fault_proxy.endpoint, "/_matbakh/health") == (200, b'{"status": "ok"}')
    # Delayed, the five would take at least 2.5 s; undelayed they take milliseconds (the
    # margin is for a loaded machine).
    assert time.monotonic() - t0 < 2.5
    status, _ = raw(fault_proxy.endpoint, "/moto-api/reset", "POST")
    assert status == 200
    assert fault_proxy.records == []


def test_fixed_delay_overlaps_for_concurrent_requests(emulator, fault_proxy):
    """Eight requests at once with 400 ms each overlap: one round, not eight. The proxy's own
    log says so (every request started before the first finished); wall time is not asserted
    beyond the delay itself, since a loaded machine stretches it."""
    fault_proxy.configure(delay_ms=400)
    ecs = [client(fault_proxy.endpoint, "ecs") for _ in range(8)]
    t0 = time.monotonic()
    threads = [threading.Thread(target=c.list_clusters) for c in ecs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    assert took >= 0.4, took
    recs = fault_proxy.records
    assert len(recs) == 8 and all(r["t_out"] - r["t_in"] >= 0.4 for r in recs)
    # The log's timing shows one round: every request started before the first finished.
    assert max(r["t_in"] for r in recs) < min(r["t_out"] for r in recs)


def test_rate_and_seed(emulator, fault_proxy, tmp_path):
    """The share of faulted requests follows the rate; the same seed gives the same faults for
    the same sequence of requests; the JSON-lines log has one line per request."""
    ecs = client(fault_proxy.endpoint, "ecs")

    def run(seed: int) -> list:
        fault_proxy.clear()
        fault_proxy.configure(rate=0.3, seed=seed, kinds=["internal", "unavailable", "throttle"])
        for _ in range(100):
            try:
                ecs.list_clusters()
            except ClientError:
                pass
        return [r["fault"] for r in fault_proxy.records]

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert first != other
    assert 15 <= sum(1 for f in first if f) <= 45, first
    lines = (tmp_path / "proxy-requests.jsonl").read_text().splitlines()
    assert len(lines) == 300
    entry = json.loads(lines[0])
    assert set(entry) == {"t_in", "t_out", "service", "operation", "method", "path", "fault", "status"}
    assert (entry["service"], entry["operation"]) == ("ecs", "ListClusters")


def test_script_gives_exact_faults_in_order(emulator, fault_proxy):
    fault_proxy.configure(rate=0.0, script={"ListClusters": ["internal", "throttle"]})
    ecs = client(fault_proxy.endpoint, "ecs")
    codes = []
    for _ in range(3):
        try:
            ecs.list_clusters()
            codes.append("ok")
        except ClientError as e:
            codes.append(e.response["Error"]["Code"])
    assert codes == ["InternalFailure", "ThrottlingException", "ok"]
    with pytest.raises(ValueError):
        fault_proxy.configure(script={"ListClusters": ["no-such-kind"]})
