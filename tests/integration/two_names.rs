//! Both names of the service on one emulator: the same conformance cases
//! through `aws-sdk-codestarconnections` (AWS JSON 1.0) and
//! `aws-sdk-codeconnections` (Smithy RPC v2 CBOR), one shared store,
//! resources carrying the ARN prefix of the API that made them, and a
//! request signed for the other name refused as AWS refuses it. boto3's two
//! clients and the AWS CLI run the same cases in `tests/boto3_smoke.py`.

use std::process::Command;

use crate::support::{ACCESS_KEY_ID, Sandbox, http_to};

const REGION: &str = "eu-west-1";

/// The same cases through one SDK crate: create (the API's ARN prefix),
/// page through a list, get, tag and untag, hosts and a connection through
/// one, typed errors, delete.
macro_rules! conformance {
    ($test:ident, $krate:ident, $client:ident, $prefix:literal) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $test() {
            use $krate::error::ProvideErrorMetadata;
            use $krate::types::{ProviderType, Tag};
            let sandbox = Sandbox::start();
            let client = sandbox.$client(REGION).await;
            let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();

            let mut arns = Vec::new();
            for i in 0..5 {
                let out = client
                    .create_connection()
                    .connection_name(format!("c{i}"))
                    .provider_type(ProviderType::Github)
                    .tags(tag("team", "x"))
                    .send()
                    .await
                    .expect("create");
                let arn = out.connection_arn().to_owned();
                assert!(
                    arn.starts_with(concat!(
                        "arn:aws:",
                        $prefix,
                        ":eu-west-1:123456789012:connection/"
                    )),
                    "{arn}"
                );
                arns.push(arn);
            }
            let mut seen = Vec::new();
            let mut token = None;
            let mut pages = 0;
            loop {
                let page = client
                    .list_connections()
                    .max_results(2)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .expect("list");
                pages += 1;
                seen.extend(
                    page.connections()
                        .iter()
                        .filter_map(|c| c.connection_arn())
                        .map(str::to_owned),
                );
                token = page.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            assert_eq!((seen, pages), (arns.clone(), 3));

            let got = client
                .get_connection()
                .connection_arn(&arns[0])
                .send()
                .await
                .expect("get");
            let got = got.connection().expect("a connection");
            assert_eq!(got.connection_status().map(|s| s.as_str()), Some("PENDING"));
            assert_eq!(got.provider_type(), Some(&ProviderType::Github));

            client
                .tag_resource()
                .resource_arn(&arns[0])
                .tags(tag("team", "y"))
                .tags(tag("env", "dev"))
                .send()
                .await
                .expect("tag");
            client
                .untag_resource()
                .resource_arn(&arns[0])
                .tag_keys("team")
                .send()
                .await
                .expect("untag");
            let tags = client
                .list_tags_for_resource()
                .resource_arn(&arns[0])
                .send()
                .await
                .expect("tags");
            let tags: Vec<(&str, &str)> =
                tags.tags().iter().map(|t| (t.key(), t.value())).collect();
            assert_eq!(tags, [("env", "dev")]);

            let host = client
                .create_host()
                .name("ghes")
                .provider_type(ProviderType::GithubEnterpriseServer)
                .provider_endpoint("https://ghes.example.com")
                .send()
                .await
                .expect("create host")
                .host_arn()
                .expect("a host ARN")
                .to_owned();
            assert!(
                host.starts_with(concat!(
                    "arn:aws:",
                    $prefix,
                    ":eu-west-1:123456789012:host/ghes-"
                )),
                "{host}"
            );
            client
                .update_host()
                .host_arn(&host)
                .provider_endpoint("https://ghes2.example.com")
                .send()
                .await
                .expect("update host");
            let via = client
                .create_connection()
                .connection_name("via-host")
                .host_arn(&host)
                .send()
                .await
                .expect("a connection through the host")
                .connection_arn()
                .to_owned();

            // Typed errors, in the API's own wire format.
            let in_use = client
                .delete_host()
                .host_arn(&host)
                .send()
                .await
                .expect_err("in use");
            assert_eq!(
                in_use.code(),
                Some("ResourceUnavailableException"),
                "{in_use:?}"
            );
            let taken = client
                .create_connection()
                .connection_name("c0")
                .provider_type(ProviderType::Github)
                .send()
                .await
                .expect_err("the name is taken");
            assert_eq!(
                taken.code(),
                Some("ResourceUnavailableException"),
                "{taken:?}"
            );
            let missing = format!("{}0000", &arns[0][..arns[0].len() - 4]);
            let gone = client
                .get_connection()
                .connection_arn(&missing)
                .send()
                .await
                .expect_err("missing");
            assert!(
                gone.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()),
                "{gone:?}"
            );
            let long = client
                .create_connection()
                .connection_name("x".repeat(33))
                .provider_type(ProviderType::Github)
                .send()
                .await
                .expect_err("too long");
            assert_eq!(long.code(), Some("ValidationException"), "{long:?}");
            assert!(
                long.message().is_some_and(|m| m.contains("connectionName")),
                "{long:?}"
            );

            client
                .delete_connection()
                .connection_arn(&via)
                .send()
                .await
                .expect("delete via");
            client
                .delete_host()
                .host_arn(&host)
                .send()
                .await
                .expect("delete host");
            for arn in &arns {
                client
                    .delete_connection()
                    .connection_arn(arn)
                    .send()
                    .await
                    .expect("delete");
            }
            let left = client.list_connections().send().await.expect("list");
            assert!(left.connections().is_empty() && left.next_token().is_none());
        }
    };
}

conformance!(
    codestar_connections_sdk_conformance,
    aws_sdk_codestarconnections,
    client,
    "codestar-connections"
);
conformance!(
    codeconnections_sdk_conformance,
    aws_sdk_codeconnections,
    codeconnections_client,
    "codeconnections"
);

#[tokio::test(flavor = "multi_thread")]
async fn one_store_serves_both_names_and_each_resource_keeps_its_prefix() {
    let sandbox = Sandbox::start();
    let old = sandbox.client(REGION).await;
    let new = sandbox.codeconnections_client(REGION).await;
    let by_old = old
        .create_connection()
        .connection_name("old")
        .provider_type(aws_sdk_codestarconnections::types::ProviderType::Github)
        .send()
        .await
        .unwrap()
        .connection_arn()
        .to_owned();
    let by_new = new
        .create_connection()
        .connection_name("new")
        .provider_type(aws_sdk_codeconnections::types::ProviderType::Gitlab)
        .send()
        .await
        .unwrap()
        .connection_arn()
        .to_owned();
    assert!(
        by_old.starts_with("arn:aws:codestar-connections:"),
        "{by_old}"
    );
    assert!(by_new.starts_with("arn:aws:codeconnections:"), "{by_new}");

    // Each API lists both, each ARN as it was issued.
    let mut listed_old: Vec<String> = old
        .list_connections()
        .send()
        .await
        .unwrap()
        .connections()
        .iter()
        .filter_map(|c| c.connection_arn().map(str::to_owned))
        .collect();
    let mut listed_new: Vec<String> = new
        .list_connections()
        .send()
        .await
        .unwrap()
        .connections()
        .iter()
        .filter_map(|c| c.connection_arn().map(str::to_owned))
        .collect();
    listed_old.sort();
    listed_new.sort();
    let mut both = vec![by_old.clone(), by_new.clone()];
    both.sort();
    assert_eq!(listed_old, both);
    assert_eq!(listed_new, both);

    // A tag written through one API is read through the other.
    new.tag_resource()
        .resource_arn(&by_old)
        .tags(
            aws_sdk_codeconnections::types::Tag::builder()
                .key("k")
                .value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tags = old
        .list_tags_for_resource()
        .resource_arn(&by_old)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    // And deleting through one API deletes it for both.
    old.delete_connection()
        .connection_arn(&by_new)
        .send()
        .await
        .unwrap();
    let left = new.list_connections().send().await.unwrap();
    assert_eq!(left.connections().len(), 1);
}

/// A raw request to `path` with `target` (JSON) or none (CBOR), signed for
/// `service`.
fn signed_for(
    sandbox: &Sandbox,
    service: &str,
    path: &str,
    target: Option<&str>,
    content_type: &str,
    body: &str,
) -> crate::support::Raw {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20240101/{REGION}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
    );
    let mut headers = vec![
        ("Content-Type", content_type),
        ("X-Amz-Date", "20240101T000000Z"),
        ("Authorization", authorization.as_str()),
    ];
    if let Some(target) = target {
        headers.push(("X-Amz-Target", target));
    }
    http_to(sandbox.addr(), "POST", path, &headers, body)
}

#[test]
fn a_request_signed_for_the_other_name_is_refused() {
    let sandbox = Sandbox::start();
    // JSON, to CodeStar Connections, signed for codeconnections.
    let json = signed_for(
        &sandbox,
        "codeconnections",
        "/",
        Some("CodeStar_connections_20191201.ListConnections"),
        "application/x-amz-json-1.0",
        "{}",
    );
    assert_eq!(json.status, 400, "{}", json.body);
    assert_eq!(json.json()["__type"], "InvalidSignatureException");
    assert_eq!(
        json.json()["message"],
        "Credential should be scoped to correct service: 'codestar-connections'. "
    );
    // JSON, to CodeConnections, signed for codestar-connections.
    let json = signed_for(
        &sandbox,
        "codestar-connections",
        "/",
        Some("com.amazonaws.codeconnections.CodeConnections_20231201.ListConnections"),
        "application/x-amz-json-1.0",
        "{}",
    );
    assert_eq!(
        json.json()["__type"],
        "InvalidSignatureException",
        "{}",
        json.body
    );
    // The same, signed right: answered.
    let ok = signed_for(
        &sandbox,
        "codeconnections",
        "/",
        Some("com.amazonaws.codeconnections.CodeConnections_20231201.ListConnections"),
        "application/x-amz-json-1.0",
        "{}",
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    // CBOR, signed for the older name: refused in CBOR (a map, `__type`).
    let cbor = signed_for(
        &sandbox,
        "codestar-connections",
        "/service/CodeConnections_20231201/operation/ListConnections",
        None,
        "application/cbor",
        "",
    );
    assert_eq!(cbor.status, 400);
    assert_eq!(
        cbor.headers.get("smithy-protocol").map(String::as_str),
        Some("rpc-v2-cbor")
    );
    assert!(
        cbor.body
            .contains("com.amazonaws.codeconnections#InvalidSignatureException"),
        "{:?}",
        cbor.body
    );
    assert_eq!(sandbox.mutating_calls(), 0);
}

#[test]
fn boto3_and_the_aws_cli_speak_both_names() {
    let has_boto3 = Command::new("python3")
        .args(["-c", "import boto3"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_boto3 {
        eprintln!(
            "SKIPPED boto3_and_the_aws_cli_speak_both_names: python3 with boto3 is not installed \
             (python3 -m pip install boto3 awscli; .ci/run installs them)"
        );
        return;
    }
    let sandbox = Sandbox::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_smoke.py");
    let out = Command::new("python3")
        .args([script, &sandbox.url()])
        .output()
        .expect("run the boto3 smoke test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "boto3 failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["codestar-connections", "codeconnections"] {
        assert!(stdout.contains(&format!("boto3 {name}: ok")), "{stdout}");
    }
    assert!(stdout.contains("boto3 shared store: ok"), "{stdout}");
    // CI installs the AWS CLI too; elsewhere the script says it skipped it.
    assert!(
        stdout.contains("aws cli: ok") || stdout.contains("aws cli: not installed"),
        "{stdout}"
    );
}
