"""The benchmark's and the chaos suite's quota model (harness/quotas.py, issue #23 item 1).

Through the fault proxy with the quota model on, an operation's bucket holds its published burst;
the request after it is answered as AWS answers an empty bucket: the service's own throttling
error, code and HTTP status per protocol. The clock is frozen, so nothing refills mid-test."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.emulator import REGION
from harness.fault_proxy import FaultProxy
from harness.quotas import QuotaModel, floor_seconds

pytestmark = pytest.mark.emulator


def client(service: str, endpoint: str):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def burst_then_throttled(call, burst: int) -> ClientError:
    for i in range(burst):
        call()  # raises if the bucket ran dry early
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("service,operation,burst,code", [
    ("cloudwatch", "describe_alarms", 9, "Throttling"),
    ("ecs", "list_services", 100, "ThrottlingException"),
    ("logs", "describe_log_groups", 10, "ThrottlingException"),
    ("elbv2", "describe_load_balancers", 40, "Throttling"),
])
def test_an_empty_bucket_answers_with_the_services_throttling_error(emulator, service,
                                                                     operation, burst, code):
    args = {}
    if service == "ecs":
        emulator.client("ecs").create_cluster(clusterName="quota")
        args = {"cluster": "quota"}
    with FaultProxy(emulator.endpoint, quotas=QuotaModel(clock=lambda: 0.0)) as proxy:
        method = getattr(client(service, proxy.endpoint), operation)
        err = burst_then_throttled(lambda: method(**args), burst)
    assert err.response["Error"]["Code"] == code, err.response
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400, err.response


def test_elb_requests_share_the_account_wide_bucket(emulator):
    with FaultProxy(emulator.endpoint, quotas=QuotaModel(clock=lambda: 0.0)) as proxy:
        elb = client("elbv2", proxy.endpoint)
        for _ in range(20):
            elb.describe_load_balancers()
            elb.describe_target_groups()
        with pytest.raises(ClientError) as caught:
            elb.describe_listeners(LoadBalancerArn="arn:aws:elasticloadbalancing:"
                                   f"{REGION}:123456789012:loadbalancer/app/x/1")
    assert caught.value.response["Error"]["Code"] == "Throttling"


def test_unpublished_quotas_are_not_enforced(emulator):
    with FaultProxy(emulator.endpoint, quotas=QuotaModel(clock=lambda: 0.0)) as proxy:
        sd = client("servicediscovery", proxy.endpoint)
        for _ in range(150):
            sd.list_namespaces()
        assert not proxy.faults()


def test_the_floor_is_calls_beyond_the_burst_over_the_refill():
    floor = floor_seconds({"monitoring:PutMetricAlarm": 303, "ecs:RegisterTaskDefinition": 100,
                           "servicediscovery:ListServices": 1000,
                           "ecs:DescribeServices": 50})
    assert floor == {"monitoring:PutMetricAlarm": 100.0, "ecs:RegisterTaskDefinition": 80.0}
