"""Credentials are checked once, at configure (issue #8 item 6).

STS GetCallerIdentity proves the credentials work before any other AWS call; missing credentials
are one error that lists where the chain looked; skip_credentials_validation skips the check;
allowed_account_ids refuses another account; assume_role goes through STS AssumeRole (at the
emulator's endpoint) and every later call is signed with the assumed credentials."""

from __future__ import annotations

import pytest

from test_numbers import config, network

pytestmark = pytest.mark.microservice

NO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}


def provider_calls(emulator):
    return [r for r in emulator.requests() if r["service"] != "ec2"]


def test_no_credentials_is_one_clear_error_at_plan_before_any_aws_call(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net)})
    emulator.clear_requests()
    res = tf.plan(check=False, env=NO_CREDENTIALS)
    assert res.returncode == 1, res.output
    assert res.output.count("Error:") == 1, res.output
    text = " ".join(res.output.split())  # terraform wraps long lines
    for source in ("AWS_ACCESS_KEY_ID", "credentials files", "web identity", "ECS container",
                   "IMDS", "aws configure"):
        assert source in text, (source, res.output)
    assert [r for r in provider_calls(emulator) if r["service"] != "sts"] == [], provider_calls(emulator)


def test_credentials_are_checked_with_sts_once(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net)})
    emulator.clear_requests()
    tf.plan()
    ops = [r["operation"] for r in provider_calls(emulator) if r["service"] == "sts"]
    assert ops == ["GetCallerIdentity"], ops


def test_skip_credentials_validation_makes_no_sts_call(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net, provider_extra="skip_credentials_validation = true")})
    emulator.clear_requests()
    tf.apply()
    assert [r for r in provider_calls(emulator) if r["service"] == "sts"] == []


def test_a_wrong_allowed_account_is_refused_naming_both_accounts(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net,
                                provider_extra='allowed_account_ids = ["111111111111"]')})
    emulator.clear_requests()
    res = tf.plan(check=False)
    assert res.returncode == 1, res.output
    assert "123456789012" in res.output and "111111111111" in res.output, res.output
    assert [r for r in provider_calls(emulator) if r["service"] != "sts"] == []
    # the right account passes
    tf.write({"main.tf": config(emulator, net,
                                provider_extra='allowed_account_ids = ["123456789012"]')})
    tf.plan()


def test_assume_role_signs_every_call_with_the_assumed_credentials(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net, provider_extra='''
  endpoints {
    sts = "%s"
  }
  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/deployer"
    session_name = "matbakh-test"
    external_id  = "ext-1"
  }''' % emulator.endpoint)})
    emulator.clear_requests()
    tf.apply()
    calls = provider_calls(emulator)
    assume = [r for r in calls if r["operation"] == "AssumeRole"]
    assert assume, [(r["service"], r["operation"]) for r in calls]
    assert "deployer" in assume[0]["body"] and "matbakh-test" in assume[0]["body"]
    assert assume[0]["access_key"] == "testing"  # the chain's own credentials
    later = [r for r in calls if r["service"] not in ("sts",)]
    assert later
    keys = {r["access_key"] for r in later}
    assert "testing" not in keys and len(keys) == 1, keys


def test_a_malformed_role_arn_fails_at_plan_naming_it(emulator, tf):
    net = network(emulator)
    tf.write({"main.tf": config(emulator, net, provider_extra='''
  assume_role {
    role_arn = "deployer"
  }''')})
    res = tf.plan(check=False)
    assert res.returncode == 1, res.output
    assert "Invalid role_arn" in res.output, res.output
