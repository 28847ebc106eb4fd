"""Every AWS call in the provider's log (issue #8 item 7, the AWS-call half).

With TF_LOG_PROVIDER=DEBUG each attempt of each AWS call is one line with service, operation,
HTTP status, request id, duration and attempt number (and the error code when it failed), inside
the span of the resource it belongs to (tf_resource_type, tf_resource_id). No credential, no
signature and no secret value ever appears."""

from __future__ import annotations

import re

import pytest

from test_numbers import config, network

pytestmark = pytest.mark.microservice

SECRET_KEY = "matbakhSecretAccessKey0123456789abcdef"
SESSION_TOKEN = "matbakhSessionToken9876543210fedcba"
SECRET_VALUE_ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-pass-XyZ"


def test_debug_log_has_a_line_per_aws_call_and_no_credentials(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net,
                                f'secrets = {{ DB_PASSWORD = "{SECRET_VALUE_ARN}" }}')})
    # The SDK's own retry (RegisterTaskDefinition is retried by the provider
    # itself, after a spec-hash lookup, so its attempts are separate calls).
    emulator.inject_fault("logs", "CreateLogGroup", count=1, status=400,
                          code="ThrottlingException", message="Rate exceeded")
    emulator.clear_requests()
    env = {"TF_LOG_PROVIDER": "DEBUG", "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "AWS_SESSION_TOKEN": SESSION_TOKEN}
    res = tf.apply(env=env)
    out = res.output
    calls = [l for l in out.splitlines() if "AWS call" in l]
    provider_requests = [r for r in emulator.requests() if r["service"] != "ec2"]
    assert len(calls) >= len(provider_requests) > 0, (len(calls), len(provider_requests))
    for field in ("aws_service=", "aws_operation=", "http_status=", "aws_request_id=",
                  "duration_ms=", "attempt="):
        assert all(field in l for l in calls), (field, calls[:3])
    create_service = [l for l in calls if "aws_operation=CreateService" in l]
    assert create_service, calls
    assert all("tf_resource_type=matbakh_microservice" in l for l in create_service), create_service
    assert all("tf_resource_id=matbakh/auth-service" in l for l in create_service), create_service
    cluster = [l for l in calls if "aws_operation=CreateCluster" in l]
    assert cluster and all("tf_resource_type=matbakh_platform" in l for l in cluster), cluster
    # the throttled attempt and its retry
    throttled = [l for l in calls if "aws_operation=CreateLogGroup" in l and "AWS call failed" in l]
    assert throttled and "error_code=ThrottlingException" in throttled[0], throttled
    assert "http_status=400" in throttled[0]
    retried = [l for l in calls if "aws_operation=CreateLogGroup" in l and "attempt=2" in l]
    assert retried, [l for l in calls if "CreateLogGroup" in l]
    for secret in (SECRET_KEY, SESSION_TOKEN, "Signature=", "X-Amz-Security-Token"):
        assert secret not in out, secret
