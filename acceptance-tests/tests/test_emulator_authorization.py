"""The emulator's request authorization (`authorize_requests`, extensions/authorization.py): the
caller's IAM policies must allow the action on the resource the call acts on, as on AWS; keys no
IAM user owns (the tests' own) act as the account's root."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.emulator

REGION = "eu-central-1"
ACCOUNT = "123456789012"


def user_client(emulator, service: str, policy: dict):
    iam = emulator.client("iam")
    iam.create_user(UserName="ci")
    iam.put_user_policy(UserName="ci", PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    return boto3.client(service, region_name=REGION, endpoint_url=emulator.endpoint,
                        aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=key["SecretAccessKey"])


def test_a_policy_scoped_to_one_cluster_allows_that_cluster_only(emulator):
    ecs = emulator.client("ecs")
    ecs.create_cluster(clusterName="mine")
    ecs.create_cluster(clusterName="theirs")
    ci = user_client(emulator, "ecs", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["ecs:DeleteCluster", "ecs:ListClusters"],
        "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/mine"}]})
    emulator.settings(authorize_requests=True)
    with pytest.raises(ClientError) as refused:
        ci.delete_cluster(cluster="theirs")
    err = refused.value.response["Error"]
    assert err["Code"] == "AccessDeniedException"
    assert (f"User: arn:aws:iam::{ACCOUNT}:user/ci is not authorized to perform: "
            f"ecs:DeleteCluster on resource: arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/theirs"
            in err["Message"])
    with pytest.raises(ClientError):
        ci.create_cluster(clusterName="new")  # not granted at all
    ci.delete_cluster(cluster="mine")
    # A call whose resource the emulator does not model is judged by its action alone.
    ci.list_clusters()
    # The tests' own keys are the account's root.
    ecs.delete_cluster(cluster="theirs")
    denied = [r for r in emulator.requests() if r.get("denied")]
    assert [r["action"] for r in denied] == ["ecs:DeleteCluster", "ecs:CreateCluster"]


def test_an_explicit_deny_wins_and_the_setting_off_allows_everything(emulator):
    ci = user_client(emulator, "logs", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "logs:CreateLogGroup",
         "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/secret/*"}]})
    emulator.settings(authorize_requests=True)
    ci.create_log_group(logGroupName="/matbakh/x")
    with pytest.raises(ClientError) as refused:
        ci.create_log_group(logGroupName="/secret/y")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    emulator.settings(authorize_requests=False)
    ci.create_log_group(logGroupName="/secret/y")


def test_cloudwatch_alarms_are_judged_by_their_arn(emulator):
    ci = user_client(emulator, "cloudwatch", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
        "Resource": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:mine-*"}]})
    emulator.settings(authorize_requests=True)
    alarm = dict(MetricName="CPUUtilization", Namespace="AWS/ECS", Statistic="Average",
                 Period=60, EvaluationPeriods=1, Threshold=80.0,
                 ComparisonOperator="GreaterThanThreshold")
    ci.put_metric_alarm(AlarmName="mine-cpu", **alarm)
    with pytest.raises(ClientError) as refused:
        ci.put_metric_alarm(AlarmName="theirs-cpu", **alarm)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "alarm:theirs-cpu" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        ci.delete_alarms(AlarmNames=["mine-cpu", "theirs-cpu"])  # every resource must be allowed
    ci.delete_alarms(AlarmNames=["mine-cpu"])
