#!/usr/bin/env python3
"""Drive the emulator's organisation with boto3 and the AWS CLI, clients no
one on this project wrote.

Usage: boto3_organization.py ENDPOINT_URL

Expects the emulator to run with the organisation of
tests/integration/organization.rs (management account 123456789012, page
size 2, empty pages), `--deny-assume-role 999999999999` and
`--external-id 'arn:aws:iam::444444444444:role/*=s3cret'`.

boto3 "sts": assumes roles into three accounts, checks the credentials and
GetCallerIdentity per account, creates a connection in each with those
credentials and checks each account sees only its own; a denied role and a
missing external id raise AccessDenied; DurationSeconds out of range raises
ValidationError. boto3 "organizations": pages every list to the end through
empty pages (boto3's paginators), reads nested units and suspended
accounts, and a member account is refused. Then, if the AWS CLI is
installed, `aws sts assume-role`, `aws sts get-caller-identity` with the
issued keys, and `aws organizations list-roots` / `list-accounts`.

Prints "boto3 sts: ok", "boto3 organizations: ok", and
"aws cli sts/organizations: ok" or "... not installed"; any failure raises.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "eu-west-1"
ACCESS_KEY = "AKIDBOTO3ORG"
SECRET_KEY = "boto3-secret"
MANAGEMENT = "123456789012"
FLEET = ["111111111111", "222222222222", "333333333333"]
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


def role(account):
    return f"arn:aws:iam::{account}:role/reconcile"


def session(keys=None):
    keys = keys or {"AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY}
    return boto3.session.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
        region_name=REGION,
    )


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{call.__name__}({kwargs}) did not fail")


def sts(endpoint):
    client = session().client("sts", endpoint_url=endpoint, config=NO_RETRIES)
    for account in FLEET:
        before = datetime.datetime.now(datetime.timezone.utc)
        out = client.assume_role(
            RoleArn=role(account), RoleSessionName="boto3", DurationSeconds=1800
        )
        keys = out["Credentials"]
        assert keys["AccessKeyId"].startswith("ASIA"), keys
        lifetime = keys["Expiration"] - before
        assert datetime.timedelta(seconds=1790) < lifetime < datetime.timedelta(seconds=1810), keys
        user = out["AssumedRoleUser"]
        assert user["Arn"] == f"arn:aws:sts::{account}:assumed-role/reconcile/boto3", user
        assert user["AssumedRoleId"].startswith("AROA") and user["AssumedRoleId"].endswith(":boto3")

        assumed = session(keys)
        identity = assumed.client("sts", endpoint_url=endpoint).get_caller_identity()
        assert identity["Account"] == account, identity
        assert identity["Arn"] == user["Arn"], identity
        assert identity["UserId"] == user["AssumedRoleId"], identity

        connections = assumed.client(
            "codestar-connections", endpoint_url=endpoint, config=NO_RETRIES
        )
        made = connections.create_connection(ProviderType="GitHub", ConnectionName=f"boto3-{account}")
        assert f":{account}:connection/" in made["ConnectionArn"], made
        listed = connections.list_connections()["Connections"]
        assert [c["ConnectionName"] for c in listed] == [f"boto3-{account}"], listed

    own = session().client("sts", endpoint_url=endpoint).get_caller_identity()
    assert own["Account"] == MANAGEMENT, own

    code, status = error_code(client.assume_role, RoleArn=role("999999999999"), RoleSessionName="x1")
    assert (code, status) == ("AccessDenied", 403), (code, status)
    code, _ = error_code(client.assume_role, RoleArn=role("444444444444"), RoleSessionName="x1")
    assert code == "AccessDenied", code
    client.assume_role(RoleArn=role("444444444444"), RoleSessionName="x1", ExternalId="s3cret")
    # botocore checks the range itself; the service's answer shows with
    # client-side validation off.
    unchecked = session().client(
        "sts",
        endpoint_url=endpoint,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
    code, status = error_code(
        unchecked.assume_role, RoleArn=role("111111111111"), RoleSessionName="x1", DurationSeconds=100
    )
    assert (code, status) == ("ValidationError", 400), (code, status)
    print("boto3 sts: ok")


def organizations(endpoint):
    client = session().client("organizations", endpoint_url=endpoint, config=NO_RETRIES)
    first = client.list_accounts()
    assert first["Accounts"] == [] and first.get("NextToken"), first

    def every(operation, key, **kwargs):
        pages = client.get_paginator(operation).paginate(**kwargs)
        return [item for page in pages for item in page[key]]

    accounts = every("list_accounts", "Accounts")
    assert len(accounts) == 7, accounts
    by_id = {a["Id"]: a for a in accounts}
    assert by_id["444444444444"]["Status"] == "SUSPENDED", by_id
    assert by_id["555555555555"]["Status"] == "PENDING_CLOSURE", by_id
    assert by_id["111111111111"]["Email"] == "prod@example.com", by_id

    roots = every("list_roots", "Roots")
    assert [r["Id"] for r in roots] == ["r-ex12"], roots
    units = every("list_organizational_units_for_parent", "OrganizationalUnits", ParentId="r-ex12")
    assert [u["Name"] for u in units] == ["Workloads", "Empty"], units
    below, parents = [], ["ou-ex12-workload"]
    while parents:
        parent = parents.pop()
        parents += [
            c["Id"]
            for c in every("list_children", "Children", ParentId=parent, ChildType="ORGANIZATIONAL_UNIT")
        ]
        below += [a["Id"] for a in every("list_accounts_for_parent", "Accounts", ParentId=parent)]
    assert sorted(below) == sorted(
        ["111111111111", "222222222222", "444444444444", "333333333333", "555555555555", "666666666666"]
    ), below
    described = client.describe_organization()["Organization"]
    assert described["MasterAccountId"] == MANAGEMENT, described

    try:
        client.list_children(ParentId="ou-ex12-nothere1", ChildType="ACCOUNT")
        raise AssertionError("an unknown parent was listed")
    except client.exceptions.ParentNotFoundException:
        pass

    keys = session().client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=role("111111111111"), RoleSessionName="member"
    )["Credentials"]
    member = session(keys).client("organizations", endpoint_url=endpoint, config=NO_RETRIES)
    try:
        member.list_accounts()
        raise AssertionError("a member account listed the organisation")
    except member.exceptions.AccessDeniedException:
        pass
    print("boto3 organizations: ok")


def aws_cli(endpoint):
    aws = shutil.which("aws")
    if aws is None:
        print("aws cli sts/organizations: not installed")
        return
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
    )
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)

    def cli(*args, env=env):
        out = subprocess.run(
            [aws, *args, "--endpoint-url", endpoint, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout)

    keys = cli("sts", "assume-role", "--role-arn", role("222222222222"), "--role-session-name", "cli")[
        "Credentials"
    ]
    assumed = dict(
        env,
        AWS_ACCESS_KEY_ID=keys["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=keys["SecretAccessKey"],
        AWS_SESSION_TOKEN=keys["SessionToken"],
    )
    identity = cli("sts", "get-caller-identity", env=assumed)
    assert identity["Account"] == "222222222222", identity
    roots = cli("organizations", "list-roots")
    assert [r["Id"] for r in roots["Roots"]] == ["r-ex12"], roots
    # The CLI pages by itself, through the empty pages.
    accounts = cli("organizations", "list-accounts")
    assert len(accounts["Accounts"]) == 7, accounts
    denied = subprocess.run(
        [aws, "sts", "assume-role", "--endpoint-url", endpoint, "--role-arn", role("999999999999"),
         "--role-session-name", "cli"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert denied.returncode != 0 and "AccessDenied" in denied.stderr, denied
    print("aws cli sts/organizations: ok")


def main(endpoint):
    sts(endpoint)
    organizations(endpoint)
    aws_cli(endpoint)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: boto3_organization.py ENDPOINT_URL")
    main(sys.argv[1])
