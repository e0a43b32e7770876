#!/usr/bin/env python3
"""Drive the emulator with boto3 and the AWS CLI, clients no one on this
project wrote, under both names of the service.

Usage: boto3_smoke.py ENDPOINT_URL

For each of boto3's "codestar-connections" and "codeconnections" clients:
creates, lists (with paging), tags, untags, gets and deletes connections,
hosts, repository links and sync configurations, reads sync status and
blockers recorded through the emulator's admin routes, and checks that
errors arrive as boto3's typed exceptions, that timestamps arrive as
datetimes, and that every ARN carries the prefix of the API that made it.
Then checks that both names see one store. Then, if the AWS CLI is
installed, lists connections, repository links and sync configurations and
reads a sync status through `aws codestar-connections` and
`aws codeconnections`.

Prints "boto3 NAME: ok" per name, "boto3 shared store: ok", and
"aws cli: ok" or "aws cli: not installed"; any failure raises.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import urllib.request

import boto3
from botocore.config import Config

REGION = "eu-central-1"
ACCESS_KEY = "AKIDBOTO3SMOKE"
SECRET_KEY = "boto3-secret"
ROLE = "arn:aws:iam::123456789012:role/cfn-git-sync"
KEY = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STACK = "CFN_STACK_SYNC"


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

    links_and_sync(name, client, endpoint, arns)

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


def links_and_sync(name, client, endpoint, connections):
    """Repository links and sync configurations through one name: links on
    the first two (GitHub) connections, leaving nothing behind."""
    errors = client.exceptions
    prefix = f"arn:aws:{name}:{REGION}:"
    link_ids = []
    for i in range(5):
        info = client.create_repository_link(
            ConnectionArn=connections[0],
            OwnerId="my-org",
            RepositoryName=f"repo{i}",
            Tags=[{"Key": "team", "Value": "smoke"}],
        )["RepositoryLinkInfo"]
        link_id = info["RepositoryLinkId"]
        assert info["RepositoryLinkArn"] == f"{prefix}123456789012:repository-link/{link_id}", info
        assert info["ProviderType"] == "GitHub" and "EncryptionKeyArn" not in info, info
        link_ids.append(link_id)
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = client.list_repository_links(**kwargs)
        pages += 1
        seen += [link["RepositoryLinkId"] for link in page["RepositoryLinks"]]
        token = page.get("NextToken")
        if not token:
            break
    assert (seen, pages) == (link_ids, 3), (seen, pages)

    expect(
        errors.ResourceAlreadyExistsException,
        client.create_repository_link,
        ConnectionArn=connections[1],
        OwnerId="my-org",
        RepositoryName="repo0",
    )
    updated = client.update_repository_link(
        RepositoryLinkId=link_ids[0], ConnectionArn=connections[1], EncryptionKeyArn=KEY
    )["RepositoryLinkInfo"]
    assert updated["ConnectionArn"] == connections[1] and updated["EncryptionKeyArn"] == KEY, updated
    assert client.get_repository_link(RepositoryLinkId=link_ids[0])["RepositoryLinkInfo"] == updated
    link_arn = updated["RepositoryLinkArn"]
    client.tag_resource(ResourceArn=link_arn, Tags=[{"Key": "env", "Value": "prod"}])
    client.untag_resource(ResourceArn=link_arn, TagKeys=["team"])
    tags = client.list_tags_for_resource(ResourceArn=link_arn)["Tags"]
    assert tags == [{"Key": "env", "Value": "prod"}], tags

    # Sync configurations, keyed by resource name and sync type.
    extra = {"PullRequestComment": "ENABLED"} if name == "codeconnections" else {}
    for resource in ("app-prod", "app-dev", "app-test"):
        client.create_sync_configuration(
            ResourceName=resource,
            SyncType=STACK,
            RepositoryLinkId=link_ids[0],
            Branch="main",
            ConfigFile=f"deploy/{resource}.yaml",
            RoleArn=ROLE,
            TriggerResourceUpdateOn="FILE_CHANGE",
            **extra,
        )
    expect(
        errors.ResourceAlreadyExistsException,
        client.create_sync_configuration,
        ResourceName="app-prod",
        SyncType=STACK,
        RepositoryLinkId=link_ids[1],
        Branch="main",
        ConfigFile="x.yaml",
        RoleArn=ROLE,
    )
    got = client.get_sync_configuration(ResourceName="app-prod", SyncType=STACK)["SyncConfiguration"]
    assert (got["OwnerId"], got["RepositoryName"], got["ProviderType"]) == ("my-org", "repo0", "GitHub"), got
    assert got["TriggerResourceUpdateOn"] == "FILE_CHANGE", got
    assert got.get("PullRequestComment") == extra.get("PullRequestComment"), got
    first = client.list_sync_configurations(RepositoryLinkId=link_ids[0], SyncType=STACK, MaxResults=2)
    second = client.list_sync_configurations(
        RepositoryLinkId=link_ids[0], SyncType=STACK, MaxResults=2, NextToken=first["NextToken"]
    )
    names = [c["ResourceName"] for c in first["SyncConfigurations"] + second["SyncConfigurations"]]
    assert names == ["app-prod", "app-dev", "app-test"] and "NextToken" not in second, names
    moved = client.update_sync_configuration(
        ResourceName="app-prod", SyncType=STACK, RepositoryLinkId=link_ids[1], Branch="release"
    )["SyncConfiguration"]
    assert (moved["RepositoryName"], moved["Branch"]) == ("repo1", "release"), moved
    definitions = client.list_repository_sync_definitions(RepositoryLinkId=link_ids[1], SyncType=STACK)
    assert definitions["RepositorySyncDefinitions"] == [
        {"Branch": "release", "Directory": "deploy/app-prod.yaml", "Parent": "app-prod", "Target": "app-prod"}
    ], definitions
    expect(
        errors.SyncConfigurationStillExistsException,
        client.delete_repository_link,
        RepositoryLinkId=link_ids[1],
    )

    # Sync status and blockers, recorded through the admin routes.
    expect(
        errors.ResourceNotFoundException,
        client.get_resource_sync_status,
        ResourceName="app-prod",
        SyncType=STACK,
    )
    admin(endpoint, "sync-event", {"resource_name": "app-prod", "status": "FAILED", "sha": "abc123"})
    status = client.get_resource_sync_status(ResourceName="app-prod", SyncType=STACK)
    latest = status["LatestSync"]
    assert latest["Status"] == "FAILED" and "LatestSuccessfulSync" not in status, status
    assert isinstance(latest["StartedAt"], datetime.datetime), latest
    assert isinstance(latest["Events"][0]["Time"], datetime.datetime), latest
    assert latest["TargetRevision"]["Sha"] == "abc123", latest
    repository = client.get_repository_sync_status(
        RepositoryLinkId=link_ids[1], Branch="release", SyncType=STACK
    )["LatestSync"]
    assert repository["Status"] == "FAILED", repository
    blocker_id = admin(
        endpoint, "sync-blocker", {"resource_name": "app-prod", "reason": "Stack is in UPDATE_ROLLBACK_FAILED"}
    )["id"]
    summary = client.get_sync_blocker_summary(ResourceName="app-prod", SyncType=STACK)["SyncBlockerSummary"]
    blocker = summary["LatestBlockers"][0]
    assert (blocker["Id"], blocker["Status"]) == (blocker_id, "ACTIVE"), summary
    assert isinstance(blocker["CreatedAt"], datetime.datetime), blocker
    resolved = client.update_sync_blocker(
        Id=blocker_id, ResourceName="app-prod", SyncType=STACK, ResolvedReason="fixed"
    )["SyncBlocker"]
    assert resolved["Status"] == "RESOLVED" and isinstance(resolved["ResolvedAt"], datetime.datetime), resolved
    expect(
        errors.SyncBlockerDoesNotExistException,
        client.update_sync_blocker,
        Id="no-such-blocker",
        ResourceName="app-prod",
        SyncType=STACK,
        ResolvedReason="x",
    )

    # Clean up: configurations, then links; a missing configuration is
    # ResourceNotFoundException.
    for resource in ("app-prod", "app-dev", "app-test"):
        client.delete_sync_configuration(ResourceName=resource, SyncType=STACK)
    expect(
        errors.ResourceNotFoundException,
        client.delete_sync_configuration,
        ResourceName="app-prod",
        SyncType=STACK,
    )
    for link_id in link_ids:
        client.delete_repository_link(RepositoryLinkId=link_id)
    assert client.list_repository_links()["RepositoryLinks"] == []


def admin(endpoint, route, body):
    """POST an emulator admin route; answers its JSON."""
    request = urllib.request.Request(
        f"{endpoint}/_emulator/{route}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


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
    # A link made through one name is read, used and deleted through the other.
    link = old.create_repository_link(
        ConnectionArn=by_old, OwnerId="my-org", RepositoryName="shared"
    )["RepositoryLinkInfo"]
    assert link["RepositoryLinkArn"].startswith("arn:aws:codestar-connections:"), link
    assert new.get_repository_link(RepositoryLinkId=link["RepositoryLinkId"])["RepositoryLinkInfo"] == link
    new.create_sync_configuration(
        ResourceName="shared-stack",
        SyncType=STACK,
        RepositoryLinkId=link["RepositoryLinkId"],
        Branch="main",
        ConfigFile="deploy.yaml",
        RoleArn=ROLE,
    )
    listed = old.list_sync_configurations(RepositoryLinkId=link["RepositoryLinkId"], SyncType=STACK)
    assert [c["ResourceName"] for c in listed["SyncConfigurations"]] == ["shared-stack"], listed
    # The connection stays while the link uses it.
    expect(old.exceptions.ClientError, new.delete_connection, ConnectionArn=by_old)
    new.delete_sync_configuration(ResourceName="shared-stack", SyncType=STACK)
    new.delete_repository_link(RepositoryLinkId=link["RepositoryLinkId"])
    assert old.list_repository_links()["RepositoryLinks"] == []
    # One link and configuration left for the AWS CLI to read.
    kept = new.create_repository_link(
        ConnectionArn=by_new, OwnerId="my-org", RepositoryName="cli"
    )["RepositoryLinkInfo"]
    new.create_sync_configuration(
        ResourceName="cli-stack",
        SyncType=STACK,
        RepositoryLinkId=kept["RepositoryLinkId"],
        Branch="main",
        ConfigFile="deploy.yaml",
        RoleArn=ROLE,
    )
    admin(endpoint, "sync-event", {"resource_name": "cli-stack", "status": "SUCCEEDED"})
    print("boto3 shared store: ok")
    return (by_old, by_new), kept


def aws_cli(endpoint, made, link):
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
        links = cli_json(aws, env, name, "list-repository-links", "--endpoint-url", endpoint)
        assert links["RepositoryLinks"] == [link], (name, links)
        configurations = cli_json(
            aws, env, name, "list-sync-configurations", "--endpoint-url", endpoint,
            "--repository-link-id", link["RepositoryLinkId"], "--sync-type", STACK,
        )
        assert [c["ResourceName"] for c in configurations["SyncConfigurations"]] == ["cli-stack"], configurations
        status = cli_json(
            aws, env, name, "get-resource-sync-status", "--endpoint-url", endpoint,
            "--resource-name", "cli-stack", "--sync-type", STACK,
        )
        assert status["LatestSync"]["Status"] == "SUCCEEDED", status
        assert status["LatestSync"]["StartedAt"], status
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


def cli_json(aws, env, *args):
    out = subprocess.run(
        [aws, *args, "--output", "json"], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def expect(error_type, call, **kwargs):
    try:
        call(**kwargs)
    except error_type as err:
        return err
    raise AssertionError(f"{call.__name__}({kwargs}) did not raise {error_type.__name__}")


def main(endpoint):
    for name in ("codestar-connections", "codeconnections"):
        one_name(name, endpoint)
    made, link = shared_store(endpoint)
    aws_cli(endpoint, made, link)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: boto3_smoke.py ENDPOINT_URL")
    main(sys.argv[1])
