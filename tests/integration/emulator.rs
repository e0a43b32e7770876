//! The emulator, driven through the real `aws-sdk-codestarconnections`
//! client (and raw HTTP for what SDKs never send).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_codestarconnections::Client;
use aws_sdk_codestarconnections::types::{ProviderType, Tag, VpcConfiguration};
use codestar_reconcile::emulator::{Config, Credentials};
use regex::Regex;

use crate::support::{ACCOUNT_ID, SECRET_ACCESS_KEY, Sandbox, code, message};

const REGION: &str = "eu-west-1";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().expect("a tag")
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn vpc(vpc_id: &str, subnets: &[&str], groups: &[&str]) -> VpcConfiguration {
    VpcConfiguration::builder()
        .vpc_id(vpc_id)
        .set_subnet_ids(Some(subnets.iter().map(|s| s.to_string()).collect()))
        .set_security_group_ids(Some(groups.iter().map(|s| s.to_string()).collect()))
        .build()
        .expect("a VPC configuration")
}

async fn github(client: &Client, name: &str) -> String {
    client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {}", code(&e)))
        .connection_arn()
        .to_string()
}

async fn ghes_host(client: &Client, name: &str) -> String {
    client
        .create_host()
        .name(name)
        .provider_type(ProviderType::GithubEnterpriseServer)
        .provider_endpoint("https://ghes.example.com")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create host {name}: {}", code(&e)))
        .host_arn()
        .expect("a host ARN")
        .to_string()
}

fn with_new_prefix(arn: &str) -> String {
    arn.replacen(":codestar-connections:", ":codeconnections:", 1)
}

#[tokio::test]
async fn emulator_connection_lifecycle() {
    let sandbox = Sandbox::start();
    let client = sandbox.client(REGION).await;

    let created = client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("github-main")
        .tags(tag("team", "platform"))
        .send()
        .await
        .expect("create");
    let arn = created.connection_arn().to_string();
    let pattern = Regex::new(
        r"^arn:aws:codestar-connections:eu-west-1:123456789012:connection/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
    )
    .expect("regex");
    assert!(pattern.is_match(&arn), "{arn}");
    assert_eq!(tag_map(created.tags()), tag_map(&[tag("team", "platform")]));

    let connection = client
        .get_connection()
        .connection_arn(&arn)
        .send()
        .await
        .expect("get")
        .connection
        .expect("a connection");
    assert_eq!(connection.connection_name(), Some("github-main"));
    assert_eq!(connection.provider_type(), Some(&ProviderType::Github));
    assert_eq!(connection.owner_account_id(), Some(ACCOUNT_ID));
    assert_eq!(
        connection.connection_status().map(|s| s.as_str()),
        Some("PENDING")
    );
    assert_eq!(connection.host_arn(), None);

    // Either ARN prefix names the same connection.
    let same = client
        .get_connection()
        .connection_arn(with_new_prefix(&arn))
        .send()
        .await
        .expect("get by codeconnections ARN");
    assert_eq!(
        same.connection.and_then(|c| c.connection_arn),
        Some(arn.clone())
    );

    let listed = client.list_connections().send().await.expect("list");
    assert_eq!(listed.connections().len(), 1);
    assert_eq!(listed.next_token(), None);

    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("team", "apps"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .expect("tag");
    let tags = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("list tags");
    assert_eq!(
        tag_map(tags.tags()),
        tag_map(&[tag("team", "apps"), tag("env", "prod")])
    );
    client
        .untag_resource()
        .resource_arn(with_new_prefix(&arn))
        .tag_keys("team")
        .tag_keys("never-set")
        .send()
        .await
        .expect("untag");
    let tags = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("list tags");
    assert_eq!(tag_map(tags.tags()), tag_map(&[tag("env", "prod")]));

    client
        .delete_connection()
        .connection_arn(&arn)
        .send()
        .await
        .expect("delete");
    let gone = client
        .get_connection()
        .connection_arn(&arn)
        .send()
        .await
        .expect_err("deleted");
    assert!(gone.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn emulator_host_lifecycle_and_connections_through_hosts() {
    let sandbox = Sandbox::start();
    let client = sandbox.client(REGION).await;

    let host_arn = client
        .create_host()
        .name("ghes-prod")
        .provider_type(ProviderType::GithubEnterpriseServer)
        .provider_endpoint("https://ghes.example.com")
        .vpc_configuration(vpc(
            "vpc-0abc1234def567890",
            &["subnet-0a1b2c3d"],
            &["sg-0a1b2c3d"],
        ))
        .tags(tag("env", "prod"))
        .send()
        .await
        .expect("create host")
        .host_arn
        .expect("host ARN");
    let pattern = Regex::new(
        r"^arn:aws:codestar-connections:eu-west-1:123456789012:host/ghes-prod-[0-9a-f]{8}$",
    )
    .expect("regex");
    assert!(pattern.is_match(&host_arn), "{host_arn}");

    let host = client
        .get_host()
        .host_arn(&host_arn)
        .send()
        .await
        .expect("get host");
    assert_eq!(host.name(), Some("ghes-prod"));
    assert_eq!(host.status(), Some("PENDING"));
    assert_eq!(
        host.provider_type(),
        Some(&ProviderType::GithubEnterpriseServer)
    );
    assert_eq!(
        host.vpc_configuration().map(|v| v.vpc_id()),
        Some("vpc-0abc1234def567890")
    );

    client
        .update_host()
        .host_arn(&host_arn)
        .provider_endpoint("https://ghes2.example.com")
        .vpc_configuration(vpc(
            "vpc-0abc1234def567891",
            &["subnet-0a1b2c3e", "subnet-0a1b2c3f"],
            &["sg-0a1b2c3e"],
        ))
        .send()
        .await
        .expect("update host");
    let host = client
        .get_host()
        .host_arn(&host_arn)
        .send()
        .await
        .expect("get host");
    assert_eq!(host.provider_endpoint(), Some("https://ghes2.example.com"));
    assert_eq!(
        host.vpc_configuration().map(|v| v.subnet_ids().len()),
        Some(2)
    );
    // Both members are optional: an endpoint-only update keeps the VPC.
    client
        .update_host()
        .host_arn(&host_arn)
        .provider_endpoint("https://ghes3.example.com")
        .send()
        .await
        .expect("update endpoint only");
    let host = client
        .get_host()
        .host_arn(&host_arn)
        .send()
        .await
        .expect("get host");
    assert_eq!(
        host.vpc_configuration().map(|v| v.vpc_id()),
        Some("vpc-0abc1234def567891")
    );

    let hosts = client.list_hosts().send().await.expect("list hosts");
    assert_eq!(hosts.hosts().len(), 1);
    assert_eq!(hosts.hosts()[0].host_arn(), Some(host_arn.as_str()));
    assert_eq!(hosts.next_token(), None);

    // A connection through the host takes the host's provider type. The
    // older API's model takes host ARNs of its own prefix only; the newer
    // one takes both spellings of the same host.
    let refused = client
        .create_connection()
        .connection_name("ghes-apps")
        .host_arn(with_new_prefix(&host_arn))
        .send()
        .await
        .expect_err("the older API refuses a host ARN of the newer prefix");
    assert_eq!(code(&refused), "ValidationException", "{refused:?}");
    let via_host = client
        .create_connection()
        .connection_name("ghes-apps")
        .host_arn(&host_arn)
        .send()
        .await
        .expect("connection through host")
        .connection_arn()
        .to_string();
    let direct = github(&client, "github-main").await;
    let connection = client
        .get_connection()
        .connection_arn(&via_host)
        .send()
        .await
        .expect("get")
        .connection
        .expect("connection");
    assert_eq!(
        connection.provider_type(),
        Some(&ProviderType::GithubEnterpriseServer)
    );
    assert_eq!(connection.host_arn(), Some(host_arn.as_str()));

    let listed = client
        .list_connections()
        .host_arn_filter(&host_arn)
        .send()
        .await
        .expect("filter by host");
    let arns: Vec<_> = listed
        .connections()
        .iter()
        .filter_map(|c| c.connection_arn())
        .collect();
    assert_eq!(arns, [via_host.as_str()]);
    let newer = sandbox.codeconnections_client(REGION).await;
    let listed = newer
        .list_connections()
        .host_arn_filter(with_new_prefix(&host_arn))
        .send()
        .await
        .expect("filter by host, newer prefix, newer API");
    let arns: Vec<_> = listed
        .connections()
        .iter()
        .filter_map(|c| c.connection_arn())
        .collect();
    assert_eq!(arns, [via_host.as_str()]);
    let listed = client
        .list_connections()
        .provider_type_filter(ProviderType::Github)
        .send()
        .await
        .expect("filter by provider");
    let arns: Vec<_> = listed
        .connections()
        .iter()
        .filter_map(|c| c.connection_arn())
        .collect();
    assert_eq!(arns, [direct.as_str()]);

    // The host in use cannot be deleted, and the error says by what.
    let in_use = client
        .delete_host()
        .host_arn(&host_arn)
        .send()
        .await
        .expect_err("host in use");
    assert_eq!(code(&in_use), "ResourceUnavailableException");
    assert!(message(&in_use).contains(&via_host), "{}", message(&in_use));

    client
        .delete_connection()
        .connection_arn(&via_host)
        .send()
        .await
        .expect("delete connection");
    client
        .delete_host()
        .host_arn(&host_arn)
        .send()
        .await
        .expect("delete host");
    let gone = client
        .get_host()
        .host_arn(&host_arn)
        .send()
        .await
        .expect_err("deleted");
    assert!(gone.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn emulator_modelled_errors() {
    let sandbox = Sandbox::with_config(Config {
        max_connections: 3,
        max_hosts: 2,
        max_tags: 3,
        ..Config::default()
    });
    let client = sandbox.client_without_retries(REGION).await;
    let other_region = sandbox.client_without_retries("us-east-1").await;

    let first = github(&client, "first").await;
    let duplicate = client
        .create_connection()
        .provider_type(ProviderType::Bitbucket)
        .connection_name("first")
        .send()
        .await
        .expect_err("duplicate name");
    assert!(
        duplicate
            .into_service_error()
            .is_resource_unavailable_exception()
    );

    let unknown_host = "arn:aws:codestar-connections:eu-west-1:123456789012:host/nope-00000000";
    let no_host = client
        .create_connection()
        .connection_name("via-missing-host")
        .host_arn(unknown_host)
        .send()
        .await
        .expect_err("missing host");
    assert!(
        no_host
            .into_service_error()
            .is_resource_not_found_exception()
    );
    let no_host = client
        .list_connections()
        .host_arn_filter(unknown_host)
        .send()
        .await
        .expect_err("filter by missing host");
    assert!(
        no_host
            .into_service_error()
            .is_resource_not_found_exception()
    );

    // Quotas: connections per Region, hosts per account, tags per resource.
    github(&client, "second").await;
    github(&client, "third").await;
    let over = client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("fourth")
        .send()
        .await
        .expect_err("over the connections quota");
    assert!(over.into_service_error().is_limit_exceeded_exception());
    github(&other_region, "fourth").await;

    let host = ghes_host(&client, "h1").await;
    ghes_host(&other_region, "h2").await;
    let over = client
        .create_host()
        .name("h3")
        .provider_type(ProviderType::GitlabSelfManaged)
        .provider_endpoint("https://gitlab.example.com")
        .send()
        .await
        .expect_err("over the hosts quota, counted across Regions");
    assert!(over.into_service_error().is_limit_exceeded_exception());

    client
        .tag_resource()
        .resource_arn(&first)
        .tags(tag("a", "1"))
        .tags(tag("b", "2"))
        .send()
        .await
        .expect("two tags");
    client
        .tag_resource()
        .resource_arn(&first)
        .tags(tag("a", "overwritten"))
        .tags(tag("c", "3"))
        .send()
        .await
        .expect("three after merging");
    let over = client
        .tag_resource()
        .resource_arn(&first)
        .tags(tag("d", "4"))
        .send()
        .await
        .expect_err("over the tags quota");
    assert!(over.into_service_error().is_limit_exceeded_exception());
    let over = other_region
        .create_connection()
        .provider_type(ProviderType::Gitlab)
        .connection_name("many-tags")
        .tags(tag("a", "1"))
        .tags(tag("b", "2"))
        .tags(tag("c", "3"))
        .tags(tag("d", "4"))
        .send()
        .await
        .expect_err("over the tags quota at create");
    assert_eq!(code(&over), "LimitExceededException");

    // Unknown ARNs, everywhere an ARN is read.
    let missing = format!("{}x", &first[..first.len() - 1]);
    let missing_host = format!("{host}x");
    assert_eq!(
        code(
            &client
                .get_connection()
                .connection_arn(&missing)
                .send()
                .await
                .expect_err("get")
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            &client
                .delete_connection()
                .connection_arn(&missing)
                .send()
                .await
                .expect_err("delete")
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            &client
                .get_host()
                .host_arn(&missing_host)
                .send()
                .await
                .expect_err("get host")
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            &client
                .delete_host()
                .host_arn(&missing_host)
                .send()
                .await
                .expect_err("delete host")
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            &client
                .update_host()
                .host_arn(&missing_host)
                .provider_endpoint("https://x.example.com")
                .send()
                .await
                .expect_err("update host")
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            &client
                .list_tags_for_resource()
                .resource_arn(&missing)
                .send()
                .await
                .expect_err("list tags")
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            &client
                .tag_resource()
                .resource_arn(&missing)
                .tags(tag("a", "b"))
                .send()
                .await
                .expect_err("tag")
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            &client
                .untag_resource()
                .resource_arn(&missing)
                .tag_keys("a")
                .send()
                .await
                .expect_err("untag")
        ),
        "ResourceNotFoundException"
    );
    // A resource of another Region is not found from this one.
    assert_eq!(
        code(
            &other_region
                .get_connection()
                .connection_arn(&first)
                .send()
                .await
                .expect_err("other Region")
        ),
        "ResourceNotFoundException"
    );

    // Host statuses drive UpdateHost's and Get*'s modelled errors.
    let hosted = client
        .create_connection()
        .connection_name("hosted")
        .host_arn(&host);
    client
        .delete_connection()
        .connection_arn(&first)
        .send()
        .await
        .expect("room for one");
    let hosted = hosted
        .send()
        .await
        .expect("hosted")
        .connection_arn()
        .to_string();
    let update = || {
        client
            .update_host()
            .host_arn(&host)
            .provider_endpoint("https://x.example.com")
            .send()
    };
    sandbox.set_status(&host, "VPC_CONFIG_INITIALIZING", None);
    let conflict = update().await.expect_err("initializing");
    assert!(conflict.into_service_error().is_conflict_exception());
    sandbox.set_status(
        &host,
        "VPC_CONFIG_FAILED_INITIALIZATION",
        Some("subnet full"),
    );
    let unsupported = update().await.expect_err("failed");
    assert!(
        unsupported
            .into_service_error()
            .is_unsupported_operation_exception()
    );
    sandbox.set_status(&host, "VPC_CONFIG_DELETING", None);
    let unavailable = update().await.expect_err("deleting");
    assert!(
        unavailable
            .into_service_error()
            .is_resource_unavailable_exception()
    );
    let unavailable = client
        .get_host()
        .host_arn(&host)
        .send()
        .await
        .expect_err("deleting");
    assert!(
        unavailable
            .into_service_error()
            .is_resource_unavailable_exception()
    );
    let unavailable = client
        .get_connection()
        .connection_arn(&hosted)
        .send()
        .await
        .expect_err("its host is deleting");
    assert!(
        unavailable
            .into_service_error()
            .is_resource_unavailable_exception()
    );
    sandbox.set_status(&host, "AVAILABLE", None);
    update().await.expect("available hosts update");
}

#[tokio::test]
async fn emulator_validation_follows_the_model() {
    let sandbox = Sandbox::start();
    let client = sandbox.client_without_retries(REGION).await;

    let long = client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("x".repeat(33))
        .send()
        .await
        .expect_err("too long");
    assert_eq!(code(&long), "ValidationException");
    assert_eq!(
        message(&long),
        "1 validation error detected: Value at 'connectionName' failed to satisfy constraint: Member must have length less than or equal to 32"
    );
    // 32 characters is fine, counted as characters not bytes.
    github(&client, &"é".repeat(32)).await;

    let empty = client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("")
        .send()
        .await
        .expect_err("empty");
    assert!(message(&empty).contains("greater than or equal to 1"));

    let enum_violation = client
        .create_connection()
        .provider_type(ProviderType::from("Subversion"))
        .connection_name("svn")
        .send()
        .await
        .expect_err("not a provider");
    assert!(
        message(&enum_violation).contains("'providerType'")
            && message(&enum_violation).contains("enum value set"),
        "{}",
        message(&enum_violation)
    );

    let bad_vpc = client
        .create_host()
        .name("h")
        .provider_type(ProviderType::GitlabSelfManaged)
        .provider_endpoint("https://gitlab.example.com")
        .vpc_configuration(vpc("vpc-1", &[], &["sg-0a1b2c3d"; 11]))
        .send()
        .await
        .expect_err("bad VPC");
    let text = message(&bad_vpc);
    assert!(text.starts_with("4 validation errors detected: "), "{text}");
    for expected in [
        "'vpcConfiguration.vpcId' failed to satisfy constraint: Member must have length greater than or equal to 12",
        "'vpcConfiguration.vpcId' failed to satisfy constraint: Member must satisfy regular expression pattern: vpc-\\w{8}(\\w{9})?",
        "'vpcConfiguration.subnetIds' failed to satisfy constraint: Member must have length greater than or equal to 1",
        "'vpcConfiguration.securityGroupIds' failed to satisfy constraint: Member must have length less than or equal to 10",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }

    let page = client
        .list_hosts()
        .max_results(101)
        .send()
        .await
        .expect_err("page too big");
    assert!(message(&page).contains("'maxResults'"));
    assert!(message(&page).contains("less than or equal to 100"));

    let long_key = client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("tagged")
        .tags(tag(&"k".repeat(129), "v"))
        .send()
        .await
        .expect_err("key too long");
    assert!(message(&long_key).contains("'tags.1.member.key'"));

    let bad_arn = client
        .get_host()
        .host_arn("arn:aws:codestar-connections:eu-west-1:123456789012:connection/abc")
        .send()
        .await
        .expect_err("not a host ARN");
    assert!(message(&bad_arn).contains("'hostArn'"));

    // Keys starting aws: are AWS's, in every operation that takes tags.
    let arn = github(&client, "plain").await;
    let reserved = client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("reserved")
        .tags(tag("aws:cloudformation:stack-name", "x"))
        .send()
        .await
        .expect_err("aws: at create");
    assert_eq!(code(&reserved), "ValidationException");
    let reserved = client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("aws:owner", "x"))
        .send()
        .await
        .expect_err("aws: when tagging");
    assert_eq!(code(&reserved), "ValidationException");
    let reserved = client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("aws:owner")
        .send()
        .await
        .expect_err("aws: when untagging");
    assert_eq!(code(&reserved), "ValidationException");

    // Provider types and hosts must agree.
    let needs_host = client
        .create_connection()
        .provider_type(ProviderType::GithubEnterpriseServer)
        .connection_name("ghes")
        .send()
        .await
        .expect_err("self-hosted without a host");
    assert_eq!(code(&needs_host), "ValidationException");
    let neither = client
        .create_connection()
        .connection_name("nothing")
        .send()
        .await
        .expect_err("neither provider nor host");
    assert_eq!(code(&neither), "ValidationException");
    let not_a_host_type = client
        .create_host()
        .name("gh")
        .provider_type(ProviderType::Github)
        .provider_endpoint("https://github.com")
        .send()
        .await
        .expect_err("GitHub needs no host");
    assert_eq!(code(&not_a_host_type), "ValidationException");
    let host = ghes_host(&client, "ghes").await;
    let mismatch = client
        .create_connection()
        .connection_name("mismatch")
        .provider_type(ProviderType::GitlabSelfManaged)
        .host_arn(&host)
        .send()
        .await
        .expect_err("provider differs from the host's");
    assert_eq!(code(&mismatch), "ValidationException");
    client
        .create_connection()
        .connection_name("matching")
        .provider_type(ProviderType::GithubEnterpriseServer)
        .host_arn(&host)
        .send()
        .await
        .expect("provider matches the host's");
}

#[test]
fn emulator_validation_of_what_sdks_never_send() {
    let sandbox = Sandbox::start();
    let create = "CodeStar_connections_20191201.CreateConnection";

    let missing = sandbox.raw_call(REGION, create, r#"{"ProviderType": "GitHub"}"#);
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["__type"], "ValidationException");
    assert_eq!(
        missing.json()["message"],
        "1 validation error detected: Value null at 'connectionName' failed to satisfy constraint: Member must not be null"
    );

    let several = sandbox.raw_call(
        REGION,
        create,
        r#"{"ConnectionName": 7, "ProviderType": "GitHub", "Colour": "blue", "Tags": {}}"#,
    );
    let text = several.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.starts_with("3 validation errors detected: "), "{text}");
    assert!(
        text.contains("'connectionName' failed to satisfy constraint: Member must be a string")
    );
    assert!(text.contains("'colour'"));
    assert!(text.contains("'tags' failed to satisfy constraint: Member must be a list"));

    let not_json = sandbox.raw_call(REGION, create, "{nope");
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.json()["__type"], "SerializationException");

    let untag = sandbox.raw_call(
        REGION,
        "CodeStar_connections_20191201.UntagResource",
        r#"{"ResourceArn": "arn:aws:codestar-connections:eu-west-1:123456789012:connection/x"}"#,
    );
    assert!(
        untag.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("'tagKeys'")
    );
}

#[tokio::test]
async fn emulator_paginates_in_creation_order() {
    let sandbox = Sandbox::start();
    let client = sandbox.client(REGION).await;
    let mut created = Vec::new();
    for i in 0..120 {
        created.push(github(&client, &format!("c{i:03}")).await);
    }

    for (max_results, expected_pages) in [
        (Some(50), vec![50, 50, 20]),
        (Some(100), vec![100, 20]),
        (Some(0), vec![50, 50, 20]),
        (None, vec![50, 50, 20]),
    ] {
        let mut token: Option<String> = None;
        let mut pages = Vec::new();
        let mut seen = Vec::new();
        loop {
            let page = client
                .list_connections()
                .set_max_results(max_results)
                .set_next_token(token.take())
                .send()
                .await
                .expect("page");
            pages.push(page.connections().len());
            seen.extend(
                page.connections()
                    .iter()
                    .filter_map(|c| c.connection_arn().map(str::to_string)),
            );
            match page.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(pages, expected_pages, "MaxResults {max_results:?}");
        assert_eq!(seen, created, "MaxResults {max_results:?}");
    }

    // The SDK's own paginator agrees.
    let pages: Vec<_> = client
        .list_connections()
        .max_results(33)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("paginate");
    let all: Vec<_> = pages.iter().flat_map(|p| p.connections()).collect();
    assert_eq!(all.len(), 120);

    // A token survives deletions around it.
    let first = client
        .list_connections()
        .max_results(10)
        .send()
        .await
        .expect("first page");
    let token = first.next_token().expect("more pages").to_string();
    for arn in &created[5..15] {
        client
            .delete_connection()
            .connection_arn(arn)
            .send()
            .await
            .expect("delete");
    }
    let next = client
        .list_connections()
        .max_results(10)
        .next_token(&token)
        .send()
        .await
        .expect("next page");
    assert_eq!(
        next.connections()[0].connection_arn(),
        Some(created[15].as_str())
    );

    let bad = client
        .list_connections()
        .next_token("not-a-token")
        .send()
        .await
        .expect_err("bad token");
    assert_eq!(code(&bad), "ValidationException");
    let hosts_token = client
        .list_hosts()
        .next_token(&token)
        .send()
        .await
        .expect_err("a connections token for hosts");
    assert_eq!(code(&hosts_token), "ValidationException");
}

#[tokio::test]
async fn emulator_paginates_hosts() {
    let sandbox = Sandbox::start();
    let client = sandbox.client(REGION).await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(ghes_host(&client, &format!("h{i}")).await);
    }
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut token = None;
    loop {
        let page = client
            .list_hosts()
            .max_results(3)
            .set_next_token(token.take())
            .send()
            .await
            .expect("page");
        pages += 1;
        seen.extend(
            page.hosts()
                .iter()
                .filter_map(|h| h.host_arn().map(str::to_string)),
        );
        match page.next_token() {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);
}

#[tokio::test]
async fn emulator_keeps_regions_apart() {
    let sandbox = Sandbox::start();
    let ireland = sandbox.client("eu-west-1").await;
    let virginia = sandbox.client("us-east-1").await;

    let in_ireland = github(&ireland, "same-name").await;
    let in_virginia = github(&virginia, "same-name").await;
    assert!(in_ireland.contains(":eu-west-1:"));
    assert!(in_virginia.contains(":us-east-1:"));

    let listed = virginia.list_connections().send().await.expect("list");
    let arns: Vec<_> = listed
        .connections()
        .iter()
        .filter_map(|c| c.connection_arn())
        .collect();
    assert_eq!(arns, [in_virginia.as_str()]);
    let host = ghes_host(&ireland, "ghes").await;
    assert!(
        virginia
            .list_hosts()
            .send()
            .await
            .expect("hosts")
            .hosts()
            .is_empty()
    );
    let elsewhere = virginia
        .create_connection()
        .connection_name("via-irish-host")
        .host_arn(&host)
        .send()
        .await
        .expect_err("a host of another Region");
    assert_eq!(code(&elsewhere), "ResourceNotFoundException");
}

#[tokio::test]
async fn emulator_state_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.json");
    let config = Config {
        state: Some(path.clone()),
        ..Config::default()
    };

    let (connection, host, deleted) = {
        let sandbox = Sandbox::with_config(config.clone());
        let client = sandbox.client(REGION).await;
        let connection = github(&client, "kept").await;
        let deleted = github(&client, "deleted").await;
        client
            .delete_connection()
            .connection_arn(&deleted)
            .send()
            .await
            .expect("delete");
        client
            .tag_resource()
            .resource_arn(&connection)
            .tags(tag("team", "platform"))
            .send()
            .await
            .expect("tag");
        let host = ghes_host(&client, "ghes").await;
        sandbox.set_status(&connection, "AVAILABLE", None);
        sandbox.set_status(&host, "VPC_CONFIG_FAILED_INITIALIZATION", Some("no route"));
        (connection, host, deleted)
    };
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["state.json", "state.json.lock"],
        "no temporary file is left behind, only the lock file"
    );

    let sandbox = Sandbox::with_config(config);
    let client = sandbox.client(REGION).await;
    let got = client
        .get_connection()
        .connection_arn(&connection)
        .send()
        .await
        .expect("still there")
        .connection
        .expect("connection");
    assert_eq!(
        got.connection_status().map(|s| s.as_str()),
        Some("AVAILABLE")
    );
    let tags = client
        .list_tags_for_resource()
        .resource_arn(&connection)
        .send()
        .await
        .expect("tags");
    assert_eq!(tag_map(tags.tags()), tag_map(&[tag("team", "platform")]));
    let hosts = client.list_hosts().send().await.expect("hosts");
    assert_eq!(hosts.hosts()[0].host_arn(), Some(host.as_str()));
    assert_eq!(hosts.hosts()[0].status_message(), Some("no route"));
    assert_eq!(
        code(
            &client
                .get_connection()
                .connection_arn(&deleted)
                .send()
                .await
                .expect_err("stays deleted")
        ),
        "ResourceNotFoundException"
    );
    // The name of a deleted connection is free again.
    github(&client, "deleted").await;
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read state"))
            .expect("state is JSON");
    let issued = state["issued_arns"].as_array().expect("issued ARNs");
    assert!(issued.iter().any(|a| a == deleted.as_str()));
}

#[tokio::test]
async fn emulator_fault_latency() {
    let sandbox = Sandbox::with_config(Config {
        latency_ms: 300,
        ..Config::default()
    });
    let client = sandbox.client_without_retries(REGION).await;
    let started = Instant::now();
    client.list_hosts().send().await.expect("slow but fine");
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Admin routes are exempt.
    let started = Instant::now();
    sandbox.calls();
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn emulator_fault_throttling() {
    let sandbox = Sandbox::with_config(Config {
        throttle_rps: Some(2),
        ..Config::default()
    });
    let client = sandbox.client_without_retries(REGION).await;
    client.list_hosts().send().await.expect("first");
    client.list_hosts().send().await.expect("second");
    let throttled = client.list_hosts().send().await.expect_err("third");
    assert_eq!(code(&throttled), "ThrottlingException");
    assert_eq!(
        throttled.raw_response().map(|r| r.status().as_u16()),
        Some(400)
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.list_hosts().send().await.expect("a new second");
    assert_eq!(sandbox.calls().get("ListHosts"), Some(&4));
}

#[tokio::test]
async fn emulator_faults_change_while_serving_and_are_counted() {
    let sandbox = Sandbox::with_config(Config {
        throttle_rps: Some(1),
        ..Config::default()
    });
    let client = sandbox.client_without_retries(REGION).await;
    client.list_hosts().send().await.expect("first");
    let throttled = client.list_hosts().send().await.expect_err("second");
    assert_eq!(code(&throttled), "ThrottlingException");
    let now = sandbox.http("GET", "/_emulator/faults", &[], "").json();
    assert_eq!(now["throttle_rps"], 1);
    assert_eq!(now["injected"]["throttled"], 1);

    // Left-out faults are off: no throttle now, only latency.
    let set = sandbox.set_faults(serde_json::json!({"latency_ms": 200}));
    assert_eq!(set["latency_ms"], 200);
    assert!(set["throttle_rps"].is_null(), "{set}");
    let started = Instant::now();
    for _ in 0..3 {
        client
            .list_hosts()
            .send()
            .await
            .expect("not throttled any more");
    }
    assert!(started.elapsed() >= Duration::from_millis(600));

    sandbox.set_faults(serde_json::json!({"error_rate": 1.0}));
    let failed = client.list_hosts().send().await.expect_err("injected");
    assert_eq!(code(&failed), "InternalFailure");
    let now = sandbox.set_faults(serde_json::json!({}));
    assert_eq!(now["injected"]["errors"], 1);
    client.list_hosts().send().await.expect("faults off");

    for bad in [
        r#"{"error_rate": 2}"#,
        r#"{"latency": 5}"#,
        r#"{"throttle_rps": -1}"#,
        "fast",
    ] {
        let answer = sandbox.http("POST", "/_emulator/faults", &[], bad);
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
    }
    sandbox.reset();
    let after = sandbox.http("GET", "/_emulator/faults", &[], "").json();
    assert_eq!(after["injected"]["throttled"], 0, "{after}");
}

#[tokio::test]
async fn emulator_fault_errors_change_nothing() {
    let config = Config {
        error_rate: 0.5,
        seed: Some(7),
        ..Config::default()
    };
    let outcomes = |sandbox: Sandbox| async move {
        let client = sandbox.client_without_retries(REGION).await;
        let mut created = Vec::new();
        for i in 0..20 {
            match client
                .create_connection()
                .provider_type(ProviderType::Github)
                .connection_name(format!("c{i}"))
                .send()
                .await
            {
                Ok(_) => created.push(i),
                Err(e) => {
                    assert_eq!(code(&e), "InternalFailure");
                    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500));
                }
            }
        }
        let listed = loop {
            if let Ok(listed) = client.list_connections().send().await {
                break listed;
            }
        };
        let names: Vec<usize> = listed
            .connections()
            .iter()
            .filter_map(|c| c.connection_name()?.strip_prefix('c')?.parse().ok())
            .collect();
        assert_eq!(names, created, "a failed create created nothing");
        created
    };
    let first = outcomes(Sandbox::with_config(config.clone())).await;
    assert!(!first.is_empty() && first.len() < 20, "{first:?}");
    let again = outcomes(Sandbox::with_config(config)).await;
    assert_eq!(first, again, "the same seed gives the same faults");
}

#[tokio::test]
async fn emulator_fault_lost_responses_commit_the_change() {
    let sandbox = Sandbox::with_config(Config {
        lost_response_rate: 1.0,
        ..Config::default()
    });
    let client = sandbox.client_without_retries(REGION).await;
    let lost = client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("committed")
        .send()
        .await
        .expect_err("response lost");
    assert_eq!(code(&lost), "InternalFailure");
    let listed = client
        .list_connections()
        .send()
        .await
        .expect("reads are not lost");
    assert_eq!(listed.connections().len(), 1);
    assert_eq!(listed.connections()[0].connection_name(), Some("committed"));

    // A retrying client then meets its own earlier success.
    let retrying = sandbox.client(REGION).await;
    let retried = retrying
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("retried")
        .send()
        .await
        .expect_err("lost, retried, then a duplicate");
    assert_eq!(code(&retried), "ResourceUnavailableException");
}

#[tokio::test]
async fn emulator_verifies_signatures_when_given_credentials() {
    let sandbox = Sandbox::with_config(Config {
        credentials: Some(Credentials {
            access_key_id: crate::support::ACCESS_KEY_ID.to_string(),
            secret_access_key: SECRET_ACCESS_KEY.to_string(),
        }),
        ..Config::default()
    });
    let good = sandbox.client(REGION).await;
    github(&good, "signed").await;
    sandbox
        .sts_client(REGION)
        .await
        .get_caller_identity()
        .send()
        .await
        .expect("STS is verified too");

    let client_with = |key: &str, secret: &str| {
        Client::from_conf(
            sandbox
                .config(REGION)
                .credentials_provider(aws_sdk_codestarconnections::config::Credentials::new(
                    key, secret, None, None, "test",
                ))
                .build(),
        )
    };
    let wrong_secret = client_with(crate::support::ACCESS_KEY_ID, "not-the-secret")
        .list_connections()
        .send()
        .await
        .expect_err("wrong secret");
    assert_eq!(code(&wrong_secret), "InvalidSignatureException");
    assert_eq!(
        wrong_secret.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );
    let unknown_key = client_with("AKIDSOMEONEELSE", SECRET_ACCESS_KEY)
        .list_connections()
        .send()
        .await
        .expect_err("unknown key");
    assert_eq!(code(&unknown_key), "UnrecognizedClientException");

    // A made-up signature from a known key is refused.
    let forged = sandbox.raw_call(REGION, "CodeStar_connections_20191201.ListHosts", "{}");
    assert_eq!(forged.status, 403);
    assert_eq!(forged.json()["__type"], "InvalidSignatureException");
}

#[test]
fn emulator_requires_a_sigv4_header() {
    let sandbox = Sandbox::start();
    let target = ("X-Amz-Target", "CodeStar_connections_20191201.ListHosts");
    let missing = sandbox.http("POST", "/", &[target], "{}");
    assert_eq!(missing.status, 403);
    assert_eq!(
        missing.json()["__type"],
        "MissingAuthenticationTokenException"
    );
    assert_eq!(
        missing.headers.get("x-amzn-errortype").map(String::as_str),
        Some("MissingAuthenticationTokenException")
    );
    let malformed = sandbox.http(
        "POST",
        "/",
        &[
            target,
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240101"),
        ],
        "{}",
    );
    assert_eq!(malformed.status, 403);
    assert_eq!(malformed.json()["__type"], "IncompleteSignatureException");
}

#[test]
fn emulator_speaks_aws_json_1_0() {
    let sandbox = Sandbox::start();
    // boto3 and the CLI send the model's full target prefix.
    let full = sandbox.raw_call(
        REGION,
        "com.amazonaws.codestar.connections.CodeStar_connections_20191201.CreateConnection",
        r#"{"ConnectionName": "from-boto", "ProviderType": "Bitbucket"}"#,
    );
    assert_eq!(full.status, 200, "{}", full.body);
    assert_eq!(
        full.headers.get("content-type").map(String::as_str),
        Some("application/x-amz-json-1.0")
    );
    assert!(full.headers.contains_key("x-amzn-requestid"));
    assert!(
        full.json()["ConnectionArn"]
            .as_str()
            .is_some_and(|a| a.contains(":connection/"))
    );

    let unknown = sandbox.raw_call(REGION, "CodeStar_connections_20191201.CreateBucket", "{}");
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["__type"], "UnknownOperationException");
    assert_eq!(
        unknown.headers.get("x-amzn-errortype").map(String::as_str),
        Some("UnknownOperationException")
    );
    assert!(unknown.headers.contains_key("x-amzn-requestid"));
    assert!(unknown.json()["message"].is_string());
}

#[tokio::test]
async fn emulator_admin_routes() {
    let sandbox = Sandbox::start();
    let client = sandbox.client_without_retries(REGION).await;
    let connection = github(&client, "handshake").await;
    let host = ghes_host(&client, "ghes").await;

    sandbox.set_status(&connection, "AVAILABLE", None);
    let status = client
        .get_connection()
        .connection_arn(&connection)
        .send()
        .await
        .expect("get")
        .connection
        .and_then(|c| c.connection_status);
    assert_eq!(status.as_ref().map(|s| s.as_str()), Some("AVAILABLE"));
    sandbox.set_status(&with_new_prefix(&connection), "ERROR", None);

    sandbox.set_status(
        &host,
        "VPC_CONFIG_FAILED_INITIALIZATION",
        Some("subnet has no route"),
    );
    let hosts = client.list_hosts().send().await.expect("hosts");
    assert_eq!(
        hosts.hosts()[0].status(),
        Some("VPC_CONFIG_FAILED_INITIALIZATION")
    );
    assert_eq!(
        hosts.hosts()[0].status_message(),
        Some("subnet has no route")
    );

    let post =
        |body: serde_json::Value| sandbox.http("POST", "/_emulator/status", &[], &body.to_string());
    let wrong_kind = post(serde_json::json!({"arn": connection, "status": "VPC_CONFIG_DELETING"}));
    assert_eq!(wrong_kind.status, 400, "{}", wrong_kind.body);
    let not_a_status = post(serde_json::json!({"arn": host, "status": "READY"}));
    assert_eq!(not_a_status.status, 400);
    let unknown = post(serde_json::json!({"arn": format!("{host}0"), "status": "AVAILABLE"}));
    assert_eq!(unknown.json()["__type"], "ResourceNotFoundException");
    let garbage = post(serde_json::json!({"status": "AVAILABLE"}));
    assert_eq!(garbage.status, 400);

    // Calls count every API request, failed ones included; admin routes not.
    let _ = client.get_host().host_arn(format!("{host}0")).send().await;
    let calls = sandbox.calls();
    assert_eq!(calls.get("CreateConnection"), Some(&1));
    assert_eq!(calls.get("CreateHost"), Some(&1));
    assert_eq!(calls.get("GetConnection"), Some(&1));
    assert_eq!(calls.get("ListHosts"), Some(&1));
    assert_eq!(calls.get("GetHost"), Some(&1));
    assert_eq!(calls.len(), 5, "{calls:?}");

    sandbox.reset();
    assert!(sandbox.calls().is_empty());
    assert!(
        client
            .list_connections()
            .send()
            .await
            .expect("list")
            .connections()
            .is_empty()
    );
    let again = github(&client, "handshake").await;
    assert_ne!(again, connection, "ARNs are never reused");
    assert_eq!(sandbox.http("GET", "/_emulator/nope", &[], "").status, 404);
}

#[tokio::test]
async fn emulator_answers_sts_get_caller_identity() {
    let sandbox = Sandbox::with_config(Config {
        account_id: Some("210987654321".to_string()),
        ..Config::default()
    });
    let identity = sandbox
        .sts_client("eu-west-1")
        .await
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(identity.account(), Some("210987654321"));
    assert_eq!(
        identity.arn(),
        Some("arn:aws:iam::210987654321:user/emulator")
    );
    assert!(identity.user_id().is_some_and(|u| u.starts_with("AIDA")));
    assert_eq!(sandbox.calls().get("GetCallerIdentity"), Some(&1));
}

#[test]
fn emulator_binary_announces_its_address() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_codestar-reconcile"))
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the binary");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .map(str::to_string);
    let reachable = url.as_deref().is_some_and(|url| {
        let addr = url.trim_start_matches("http://");
        std::net::TcpStream::connect(addr).is_ok()
    });
    let _ = child.kill();
    let _ = child.wait();
    let url = url.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(
        Regex::new(r"^http://127\.0\.0\.1:[1-9][0-9]*$")
            .expect("regex")
            .is_match(&url),
        "{url}"
    );
    assert!(reachable, "nothing listens on {url}");
}
