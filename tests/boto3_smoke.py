#!/usr/bin/env python3
"""Drive the emulator with boto3, a client no one on this project wrote.

Usage: boto3_smoke.py ENDPOINT_URL

Creates, lists (with paging), tags, untags, gets and deletes connections and
hosts, and checks that errors arrive as boto3's typed exceptions. Exits 0 and
prints "boto3 smoke: ok" on success; any failure raises.
"""

import sys

import boto3
from botocore.config import Config


def main(endpoint):
    session = boto3.session.Session(
        aws_access_key_id="AKIDBOTO3SMOKE",
        aws_secret_access_key="boto3-secret",
        region_name="eu-central-1",
    )
    # No retries: a retried create would hide what the emulator answered.
    client = session.client(
        "codestar-connections",
        endpoint_url=endpoint,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    errors = client.exceptions

    # Connections: create a page and a half, then read them back in pages.
    arns = []
    for i in range(7):
        out = client.create_connection(
            ProviderType="GitHub",
            ConnectionName=f"boto3-{i}",
            Tags=[{"Key": "team", "Value": "smoke"}],
        )
        assert ":connection/" in out["ConnectionArn"], out
        arns.append(out["ConnectionArn"])

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
    assert ":host/ghes-" in host_arn, host_arn
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
        ConnectionName="boto3-0",
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
    print("boto3 smoke: ok")


def expect(error_type, call, **kwargs):
    try:
        call(**kwargs)
    except error_type as err:
        return err
    raise AssertionError(f"{call.__name__}({kwargs}) did not raise {error_type.__name__}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: boto3_smoke.py ENDPOINT_URL")
    main(sys.argv[1])
