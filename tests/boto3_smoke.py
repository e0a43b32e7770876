#!/usr/bin/env python3
"""Drive the emulator with boto3 and the AWS CLI, clients no one on this
project wrote, under both names of the service.

Usage: boto3_smoke.py ENDPOINT_URL

For each of boto3's "codestar-connections" and "codeconnections" clients:
creates, lists (with paging), tags, untags, gets and deletes connections and
hosts, and checks that errors arrive as boto3's typed exceptions and that
every ARN carries the prefix of the API that made it. Then checks that both
names see one store. Then, if the AWS CLI is installed, lists through
`aws codestar-connections` and `aws codeconnections`.

Prints "boto3 NAME: ok" per name, "boto3 shared store: ok", and
"aws cli: ok" or "aws cli: not installed"; any failure raises.
"""

import json
import os
import shutil
import subprocess
import sys

import boto3
from botocore.config import Config

REGION = "eu-central-1"
ACCESS_KEY = "AKIDBOTO3SMOKE"
SECRET_KEY = "boto3-secret"


def client_for(name, endpoint):
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    # No retries: a retried create would hide what the emulator answered.
    return session.client(
        name,
        endpoint_url=endpoint,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def one_name(name, endpoint):
    client = client_for(name, endpoint)
    errors = client.exceptions
    prefix = f"arn:aws:{name}:{REGION}:"

    # Connections: create a page and a half, then read them back in pages.
    arns = []
    for i in range(7):
        out = client.create_connection(
            ProviderType="GitHub",
            ConnectionName=f"{name}-{i}",
            Tags=[{"Key": "team", "Value": "smoke"}],
        )
        arn = out["ConnectionArn"]
        assert arn.startswith(prefix) and ":connection/" in arn, out
        arns.append(arn)

    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxResults": 3}
        if token:
            kwargs["NextToken"] = token
        page = client.list_connections(**kwargs)
        pages += 1
        seen += [c["ConnectionArn"] for c in page["Connections"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == arns, (seen, arns)
    assert pages == 3, pages

    conn = client.get_connection(ConnectionArn=arns[0])["Connection"]
    assert conn["ConnectionStatus"] == "PENDING", conn
    assert conn["ProviderType"] == "GitHub", conn

    # Tags: add and overwrite, then remove.
    client.tag_resource(
        ResourceArn=arns[0],
        Tags=[{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "dev"}],
    )
    tags = client.list_tags_for_resource(ResourceArn=arns[0])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "platform", "env": "dev"}, tags
    client.untag_resource(ResourceArn=arns[0], TagKeys=["team", "absent"])
    tags = client.list_tags_for_resource(ResourceArn=arns[0])["Tags"]
    assert tags == [{"Key": "env", "Value": "dev"}], tags

    # Hosts, and a connection through one.
    host_arn = client.create_host(
        Name="ghes",
        ProviderType="GitHubEnterpriseServer",
        ProviderEndpoint="https://ghes.example.com",
    )["HostArn"]
    assert host_arn.startswith(prefix) and ":host/ghes-" in host_arn, host_arn
    host = client.get_host(HostArn=host_arn)
    assert host["Status"] == "PENDING" and host["Name"] == "ghes", host
    client.update_host(HostArn=host_arn, ProviderEndpoint="https://ghes2.example.com")
    assert client.get_host(HostArn=host_arn)["ProviderEndpoint"] == "https://ghes2.example.com"
    hosted = client.create_connection(ConnectionName="via-host", HostArn=host_arn)["ConnectionArn"]
    listed = client.list_connections(HostArnFilter=host_arn)["Connections"]
    assert [c["ConnectionArn"] for c in listed] == [hosted], listed
    assert listed[0]["ProviderType"] == "GitHubEnterpriseServer", listed
    assert [h["HostArn"] for h in client.list_hosts()["Hosts"]] == [host_arn]

    # Typed errors.
    expect(errors.ResourceUnavailableException, client.delete_host, HostArn=host_arn)
    expect(
        errors.ResourceUnavailableException,
        client.create_connection,
        ProviderType="GitHub",
        ConnectionName=f"{name}-0",
    )
    missing = arns[0][:-4] + "0000"
    expect(errors.ResourceNotFoundException, client.get_connection, ConnectionArn=missing)
    err = expect(
        errors.ClientError,
        client.create_connection,
        ProviderType="GitHub",
        ConnectionName="x" * 33,
    )
    assert err.response["Error"]["Code"] == "ValidationException", err.response
    assert "connectionName" in err.response["Error"]["Message"], err.response
    expect(
        errors.ClientError,
        client.tag_resource,
        ResourceArn=arns[0],
        Tags=[{"Key": "aws:reserved", "Value": "x"}],
    )

    # Clean up: everything deletes, then is gone.
    client.delete_connection(ConnectionArn=hosted)
    client.delete_host(HostArn=host_arn)
    for arn in arns:
        client.delete_connection(ConnectionArn=arn)
    expect(errors.ResourceNotFoundException, client.delete_connection, ConnectionArn=arns[0])
    assert client.list_connections()["Connections"] == []
    assert "NextToken" not in client.list_connections()
    assert client.list_hosts()["Hosts"] == []
    print(f"boto3 {name}: ok")


def shared_store(endpoint):
    old = client_for("codestar-connections", endpoint)
    new = client_for("codeconnections", endpoint)
    by_old = old.create_connection(ProviderType="GitHub", ConnectionName="by-old")["ConnectionArn"]
    by_new = new.create_connection(ProviderType="GitLab", ConnectionName="by-new")["ConnectionArn"]
    assert by_old.startswith("arn:aws:codestar-connections:"), by_old
    assert by_new.startswith("arn:aws:codeconnections:"), by_new
    for client in (old, new):
        listed = sorted(c["ConnectionArn"] for c in client.list_connections()["Connections"])
        assert listed == sorted([by_old, by_new]), listed
    # Each name reads and deletes what the other made.
    assert old.get_connection(ConnectionArn=by_new)["Connection"]["ProviderType"] == "GitLab"
    new.tag_resource(ResourceArn=by_old, Tags=[{"Key": "k", "Value": "v"}])
    assert old.list_tags_for_resource(ResourceArn=by_old)["Tags"] == [{"Key": "k", "Value": "v"}]
    print("boto3 shared store: ok")
    return by_old, by_new


def aws_cli(endpoint, made):
    aws = shutil.which("aws")
    if aws is None:
        print("aws cli: not installed")
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
    for name in ("codestar-connections", "codeconnections"):
        out = subprocess.run(
            [aws, name, "list-connections", "--endpoint-url", endpoint, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        listed = sorted(c["ConnectionArn"] for c in json.loads(out.stdout)["Connections"])
        assert listed == sorted(made), (name, listed)
    # An error reaches the CLI as the service's own message, not a parse failure.
    out = subprocess.run(
        [aws, "codeconnections", "get-connection", "--endpoint-url", endpoint,
         "--connection-arn", made[0][:-4] + "0000"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and "ResourceNotFoundException" in out.stderr, out
    print("aws cli: ok")


def expect(error_type, call, **kwargs):
    try:
        call(**kwargs)
    except error_type as err:
        return err
    raise AssertionError(f"{call.__name__}({kwargs}) did not raise {error_type.__name__}")


def main(endpoint):
    for name in ("codestar-connections", "codeconnections"):
        one_name(name, endpoint)
    made = shared_store(endpoint)
    aws_cli(endpoint, made)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: boto3_smoke.py ENDPOINT_URL")
    main(sys.argv[1])
