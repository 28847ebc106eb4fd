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


def test_cloud_map_is_judged_by_the_owner_tag_of_the_namespace_and_of_the_request(emulator):
    """Cloud Map names objects by ids it draws: a policy scopes them by tag conditions
    (`aws:ResourceTag/…` of the namespace, `aws:RequestTag/…` of a create), which IAM evaluates
    and so does the emulator (Service Authorization Reference, "AWS Cloud Map")."""
    sd = emulator.client("servicediscovery")
    mine = sd.create_http_namespace(Name="mine", Tags=[{"Key": "matbakh:owner", "Value": "mine"}])
    theirs = sd.create_http_namespace(Name="theirs",
                                      Tags=[{"Key": "matbakh:owner", "Value": "theirs"}])
    ids = {}
    for name, op in (("mine", mine), ("theirs", theirs)):
        ids[name] = sd.get_operation(OperationId=op["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
    owner = "aws:ResourceTag/matbakh:owner"
    ci = user_client(emulator, "servicediscovery", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["servicediscovery:GetNamespace"],
         "Resource": f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/*",
         "Condition": {"StringEquals": {owner: ["mine"]}}},
        {"Effect": "Allow", "Action": ["servicediscovery:CreateHttpNamespace"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/matbakh:owner": ["mine"]}}},
        {"Effect": "Allow", "Action": ["servicediscovery:TagResource"], "Resource": "*"}]})
    emulator.settings(authorize_requests=True)
    ci.get_namespace(Id=ids["mine"])
    with pytest.raises(ClientError) as refused:
        ci.get_namespace(Id=ids["theirs"])
    err = refused.value.response["Error"]
    assert err["Code"] == "AccessDeniedException"
    assert f"servicediscovery:GetNamespace on resource: arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/{ids['theirs']}" in err["Message"]
    ci.create_http_namespace(Name="mine-2", Tags=[{"Key": "matbakh:owner", "Value": "mine"}])
    for tags in ([{"Key": "matbakh:owner", "Value": "theirs"}], []):
        with pytest.raises(ClientError):
            ci.create_http_namespace(Name="other", Tags=tags)


def test_scalable_targets_are_judged_by_owner_tag_and_ecs_namespace(emulator):
    """Application Auto Scaling authorizes the scaling calls on the scalable target's ARN, with
    `application-autoscaling:service-namespace`, `…:scalable-dimension` and the target's tags;
    RegisterScalableTarget by the tags its request sets (a new target has none yet)."""
    ecs = emulator.client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="t", containerDefinitions=[
        {"name": "app", "image": "nginx", "memory": 128}])
    for name in ("mine", "theirs", "new", "other"):
        ecs.create_service(cluster="c", serviceName=name, taskDefinition="t", desiredCount=1)
    aas = emulator.client("application-autoscaling")
    for name in ("mine", "theirs"):
        aas.register_scalable_target(
            ServiceNamespace="ecs", ResourceId=f"service/c/{name}",
            ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=2,
            Tags={"matbakh:owner": f"{name}/svc"})
    ecs_scaling = {"application-autoscaling:service-namespace": "ecs",
                   "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount"}
    target = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/*"
    ci = user_client(emulator, "application-autoscaling", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["application-autoscaling:DeregisterScalableTarget"],
         "Resource": target, "Condition": {
             "StringEquals": ecs_scaling,
             "StringLike": {"aws:ResourceTag/matbakh:owner": ["mine/*"]}}},
        {"Effect": "Allow", "Action": ["application-autoscaling:RegisterScalableTarget"],
         "Resource": target, "Condition": {
             "StringEquals": ecs_scaling,
             "StringLike": {"aws:RequestTag/matbakh:owner": ["mine/*"]}}},
        # The tags a register sets are authorized as TagResource on the new target.
        {"Effect": "Allow", "Action": ["application-autoscaling:TagResource"],
         "Resource": target,
         "Condition": {"StringLike": {"aws:RequestTag/matbakh:owner": ["mine/*"]}}}]})
    emulator.settings(authorize_requests=True)
    args = dict(ServiceNamespace="ecs", ScalableDimension="ecs:service:DesiredCount")
    with pytest.raises(ClientError) as refused:
        ci.deregister_scalable_target(ResourceId="service/c/theirs", **args)
    assert "scalable-target/" in refused.value.response["Error"]["Message"]
    ci.deregister_scalable_target(ResourceId="service/c/mine", **args)
    ci.register_scalable_target(ResourceId="service/c/new", MinCapacity=1, MaxCapacity=2,
                                Tags={"matbakh:owner": "mine/new"}, **args)
    with pytest.raises(ClientError):
        ci.register_scalable_target(ResourceId="service/c/other", MinCapacity=1, MaxCapacity=2,
                                    Tags={"matbakh:owner": "theirs/other"}, **args)


def test_security_groups_are_judged_by_owner_tag_and_load_balancer_objects_by_name(emulator):
    """EC2 names a security group by its id: a policy scopes it by `aws:ResourceTag/…` (and a
    create by the tags its TagSpecifications set); ELB objects are judged by their ARNs, which
    carry their names (a create by its name: it has no id yet)."""
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    groups = {}
    for name in ("mine", "theirs"):
        groups[name] = ec2.create_security_group(
            GroupName=name, Description=name, VpcId=vpc, TagSpecifications=[{
                "ResourceType": "security-group",
                "Tags": [{"Key": "matbakh:owner", "Value": name}]}])["GroupId"]
    owned = {"StringLike": {"aws:ResourceTag/matbakh:owner": ["mine", "mine/*"]}}
    statements = [
        {"Effect": "Allow", "Action": ["ec2:DeleteSecurityGroup"],
         "Resource": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/*", "Condition": owned},
        {"Effect": "Allow", "Action": ["ec2:CreateSecurityGroup"],
         "Resource": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/*",
         "Condition": {"StringLike": {"aws:RequestTag/matbakh:owner": ["mine", "mine/*"]}}},
        {"Effect": "Allow", "Action": ["ec2:CreateSecurityGroup"],
         "Resource": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/*"},
        # A create's TagSpecifications are authorized as CreateTags on the new group.
        {"Effect": "Allow", "Action": ["ec2:CreateTags"],
         "Resource": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/*",
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}}},
        {"Effect": "Allow", "Action": ["elasticloadbalancing:CreateTargetGroup"],
         "Resource": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/mine-*/*"}]
    ci = user_client(emulator, "ec2", {"Version": "2012-10-17", "Statement": statements})
    emulator.settings(authorize_requests=True)
    with pytest.raises(ClientError) as refused:
        ci.delete_security_group(GroupId=groups["theirs"])
    err = refused.value.response["Error"]
    assert err["Code"] == "UnauthorizedOperation"
    assert f"security-group/{groups['theirs']}" in err["Message"]
    ci.delete_security_group(GroupId=groups["mine"])
    ci.create_security_group(GroupName="mine-2", Description="x", VpcId=vpc, TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": "matbakh:owner", "Value": "mine/svc"}]}])
    with pytest.raises(ClientError):
        ci.create_security_group(GroupName="other", Description="x", VpcId=vpc)
    # The same user's keys, for Elastic Load Balancing.
    elb = boto3.client("elbv2", region_name=REGION, endpoint_url=emulator.endpoint,
                       aws_access_key_id=ci._request_signer._credentials.access_key,
                       aws_secret_access_key=ci._request_signer._credentials.secret_key)
    elb.create_target_group(Name="mine-b", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
    with pytest.raises(ClientError) as refused:
        elb.create_target_group(Name="theirs-b", Protocol="HTTP", Port=80, VpcId=vpc,
                                TargetType="ip")
    assert "targetgroup/theirs-b/" in refused.value.response["Error"]["Message"]


def test_a_create_that_tags_also_needs_the_tagging_action(emulator):
    """AWS authorizes the tags a create sets as the service's tagging action too (the reference's
    dependent actions: Cloud Map `TagResource`, EC2 `CreateTags` with `ec2:CreateAction`, ...)."""
    ci = user_client(emulator, "servicediscovery", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["servicediscovery:CreateHttpNamespace"], "Resource": "*"}]})
    emulator.settings(authorize_requests=True)
    ci.create_http_namespace(Name="untagged")
    with pytest.raises(ClientError) as refused:
        ci.create_http_namespace(Name="tagged", Tags=[{"Key": "matbakh:owner", "Value": "x"}])
    assert "servicediscovery:TagResource on resource: *" in refused.value.response["Error"]["Message"]


def test_only_the_providers_own_requests_count_for_the_policy_check(emulator):
    """GET /_matbakh/provider-actions counts what the AWS SDK for Rust (the provider) signed, across
    resets; the tests' own boto3 calls are not counted."""
    from botocore.config import Config

    before = emulator.provider_actions()
    emulator.client("ecs").describe_clusters(clusters=["x"])
    assert emulator.provider_actions() == before
    as_provider = boto3.client("ecs", region_name=REGION, endpoint_url=emulator.endpoint,
                               aws_access_key_id="testing", aws_secret_access_key="testing",
                               config=Config(user_agent="aws-sdk-rust/1.3.0 os/linux"))
    # An action the provider does call (the suite's end-of-run check sees this one too).
    as_provider.describe_clusters(clusters=["x"])
    emulator.reset()
    after = emulator.provider_actions()
    assert after.get("ecs:DescribeClusters", 0) == before.get("ecs:DescribeClusters", 0) + 1


def test_account_authorization_details_needs_a_statement_on_every_resource(emulator):
    """AWS defines no resource type for iam:GetAccountAuthorizationDetails: a statement scoped to
    role ARNs does not allow it, one on `*` does."""
    scoped = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["iam:GetRole", "iam:GetAccountAuthorizationDetails"],
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/matbakh-*"}]}
    ci = user_client(emulator, "iam", scoped)
    emulator.settings(authorize_requests=True)
    with pytest.raises(ClientError) as refused:
        ci.get_account_authorization_details(Filter=["Role"])
    err = refused.value.response["Error"]
    assert err["Code"] == "AccessDenied"
    assert "iam:GetAccountAuthorizationDetails on resource: *" in err["Message"], err
    emulator.settings(authorize_requests=False)
    emulator.client("iam").put_user_policy(
        UserName="ci", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "iam:GetAccountAuthorizationDetails",
                "Resource": "*"}]}))
    emulator.settings(authorize_requests=True)
    ci.get_account_authorization_details(Filter=["Role"])
