//! Repository links, sync configurations and sync state in the emulator,
//! through both SDK crates (`aws-sdk-codestarconnections` on AWS JSON 1.0,
//! `aws-sdk-codeconnections` on RPC v2 CBOR), the admin routes that record
//! what Git sync would have done, and raw HTTP for what an SDK cannot send.
//! boto3's two clients and the AWS CLI run similar cases in
//! `tests/boto3_smoke.py`.

use codestar_reconcile::emulator::Config;
use serde_json::{Value, json};

use crate::support::{ACCESS_KEY_ID, Raw, Sandbox, http_to};

const REGION: &str = "eu-west-1";
const ROLE: &str = "arn:aws:iam::123456789012:role/cfn-git-sync";
const KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// A well-formed link id no link has.
const NO_LINK: &str = "00000000-0000-4000-8000-000000000000";

/// A raw AWS JSON 1.0 call of `operation` to `api` (`codestar-connections`
/// or `codeconnections`), signed for it, in [`REGION`].
fn raw_json(sandbox: &Sandbox, api: &str, operation: &str, body: &Value) -> Raw {
    let target = match api {
        "codestar-connections" => "CodeStar_connections_20191201",
        _ => "CodeConnections_20231201",
    };
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20240101/{REGION}/{api}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
    );
    http_to(
        sandbox.addr(),
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", &format!("{target}.{operation}")),
            ("X-Amz-Date", "20240101T000000Z"),
            ("Authorization", &authorization),
        ],
        &body.to_string(),
    )
}

/// Milliseconds since the epoch of a timestamp an admin route answered, read
/// as the SDKs read the same number on the wire (an f64 of epoch seconds,
/// truncated to the millisecond: `.645` may read as `.644`).
fn millis(seconds: &Value) -> i64 {
    let seconds = seconds.as_f64().expect("epoch seconds");
    aws_smithy_types::DateTime::from_secs_f64(seconds)
        .to_millis()
        .expect("in range")
}

/// The same cases through one SDK crate: links (create with the API's
/// prefix, page, get, update, tag), sync configurations (create, get,
/// page, update, move, definitions), the in-use refusals, sync status and
/// blockers through the admin routes, then everything deleted.
macro_rules! links_conformance {
    ($test:ident, $krate:ident, $client:ident, $prefix:literal) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $test() {
            use $krate::error::ProvideErrorMetadata;
            use $krate::types::{
                BlockerStatus, ProviderType, PublishDeploymentStatus, ResourceSyncStatus,
                SyncConfigurationType, Tag, TriggerResourceUpdateOn,
            };
            let sandbox = Sandbox::start();
            let client = sandbox.$client(REGION).await;
            let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
            let connection = |name: &'static str, provider: ProviderType| {
                let client = client.clone();
                async move {
                    client
                        .create_connection()
                        .connection_name(name)
                        .provider_type(provider)
                        .send()
                        .await
                        .expect("create connection")
                        .connection_arn()
                        .to_owned()
                }
            };
            let github = connection("gh", ProviderType::Github).await;
            let github2 = connection("gh2", ProviderType::Github).await;
            let gitlab = connection("gl", ProviderType::Gitlab).await;

            // Links: the API's prefix, the connection's provider, an id.
            let mut ids = Vec::new();
            for i in 0..5 {
                let info = client
                    .create_repository_link()
                    .connection_arn(&github)
                    .owner_id("my-org")
                    .repository_name(format!("repo{i}"))
                    .tags(tag("team", "app"))
                    .send()
                    .await
                    .expect("create link")
                    .repository_link_info()
                    .expect("link info")
                    .clone();
                let id = info.repository_link_id().to_owned();
                assert_eq!(
                    info.repository_link_arn(),
                    format!(
                        concat!("arn:aws:", $prefix, ":eu-west-1:123456789012:repository-link/{}"),
                        id
                    )
                );
                assert_eq!(info.provider_type(), &ProviderType::Github);
                assert_eq!(info.connection_arn(), github);
                assert_eq!(info.encryption_key_arn(), None);
                ids.push(id);
            }
            let mut seen = Vec::new();
            let (mut token, mut pages) = (None, 0);
            loop {
                let page = client
                    .list_repository_links()
                    .max_results(2)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .expect("list links");
                pages += 1;
                seen.extend(page.repository_links().iter().map(|l| l.repository_link_id().to_owned()));
                token = page.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            assert_eq!((seen, pages), (ids.clone(), 3));

            let taken = client
                .create_repository_link()
                .connection_arn(&github2)
                .owner_id("my-org")
                .repository_name("repo0")
                .send()
                .await
                .expect_err("linked already");
            assert!(
                taken.as_service_error().is_some_and(|e| e.is_resource_already_exists_exception()),
                "{taken:?}"
            );
            let elsewhere = client
                .create_repository_link()
                .connection_arn(github.replace(REGION, "eu-west-3"))
                .owner_id("my-org")
                .repository_name("other")
                .send()
                .await
                .expect_err("no such connection");
            // The Rust SDKs' models list no ResourceNotFoundException for
            // the Create operations (botocore's do): it arrives unhandled,
            // with its code.
            assert_eq!(elsewhere.code(), Some("ResourceNotFoundException"), "{elsewhere:?}");

            let updated = client
                .update_repository_link()
                .repository_link_id(&ids[0])
                .connection_arn(&github2)
                .encryption_key_arn(KEY)
                .send()
                .await
                .expect("update link");
            let updated = updated.repository_link_info().expect("link info");
            assert_eq!((updated.connection_arn(), updated.encryption_key_arn()), (github2.as_str(), Some(KEY)));
            let got = client
                .get_repository_link()
                .repository_link_id(&ids[0])
                .send()
                .await
                .expect("get link");
            assert_eq!(got.repository_link_info(), Some(updated));
            let other_provider = client
                .update_repository_link()
                .repository_link_id(&ids[0])
                .connection_arn(&gitlab)
                .send()
                .await
                .expect_err("GitLab is not GitHub");
            assert!(
                other_provider.as_service_error().is_some_and(|e| e.is_invalid_input_exception()),
                "{other_provider:?}"
            );

            let link_arn = updated.repository_link_arn().to_owned();
            client.tag_resource().resource_arn(&link_arn).tags(tag("env", "prod")).send().await.expect("tag");
            client.untag_resource().resource_arn(&link_arn).tag_keys("team").send().await.expect("untag");
            let tags = client.list_tags_for_resource().resource_arn(&link_arn).send().await.expect("tags");
            let tags: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
            assert_eq!(tags, [("env", "prod")]);

            // Sync configurations, keyed by resource name and type.
            let create = |resource: &'static str, link: String| {
                let client = client.clone();
                async move {
                    client
                        .create_sync_configuration()
                        .resource_name(resource)
                        .sync_type(SyncConfigurationType::CfnStackSync)
                        .repository_link_id(link)
                        .branch("main")
                        .config_file(format!("deploy/{resource}.yaml"))
                        .role_arn(ROLE)
                        .publish_deployment_status(PublishDeploymentStatus::Enabled)
                        .send()
                        .await
                }
            };
            for resource in ["app-prod", "app-dev", "app-test"] {
                create(resource, ids[0].clone()).await.expect("create sync configuration");
            }
            let taken = create("app-prod", ids[1].clone()).await.expect_err("the name is taken");
            assert!(
                taken.as_service_error().is_some_and(|e| e.is_resource_already_exists_exception()),
                "{taken:?}"
            );
            let no_link = create("orphan", NO_LINK.to_owned()).await.expect_err("no such link");
            assert_eq!(no_link.code(), Some("ResourceNotFoundException"), "{no_link:?}");
            let got = client
                .get_sync_configuration()
                .resource_name("app-prod")
                .sync_type(SyncConfigurationType::CfnStackSync)
                .send()
                .await
                .expect("get sync configuration");
            let got = got.sync_configuration().expect("a configuration");
            assert_eq!(
                (got.owner_id(), got.repository_name(), got.provider_type(), got.repository_link_id()),
                ("my-org", "repo0", &ProviderType::Github, ids[0].as_str())
            );
            assert_eq!(got.config_file(), Some("deploy/app-prod.yaml"));
            assert_eq!(got.publish_deployment_status(), Some(&PublishDeploymentStatus::Enabled));
            assert_eq!(got.trigger_resource_update_on(), None);

            let list = |link: String, token: Option<String>| {
                let client = client.clone();
                async move {
                    client
                        .list_sync_configurations()
                        .repository_link_id(link)
                        .sync_type(SyncConfigurationType::CfnStackSync)
                        .max_results(2)
                        .set_next_token(token)
                        .send()
                        .await
                        .expect("list sync configurations")
                }
            };
            let first = list(ids[0].clone(), None).await;
            let second = list(ids[0].clone(), first.next_token().map(str::to_owned)).await;
            let names: Vec<&str> = first
                .sync_configurations()
                .iter()
                .chain(second.sync_configurations())
                .map(|c| c.resource_name())
                .collect();
            assert_eq!(names, ["app-prod", "app-dev", "app-test"]);
            assert_eq!(second.next_token(), None);

            let moved = client
                .update_sync_configuration()
                .resource_name("app-prod")
                .sync_type(SyncConfigurationType::CfnStackSync)
                .repository_link_id(&ids[1])
                .branch("release")
                .config_file("cfn/prod.yaml")
                .role_arn("arn:aws:iam::123456789012:role/other")
                .trigger_resource_update_on(TriggerResourceUpdateOn::FileChange)
                .send()
                .await
                .expect("update sync configuration");
            let moved = moved.sync_configuration().expect("a configuration");
            assert_eq!(
                (moved.repository_link_id(), moved.repository_name(), moved.branch(), moved.config_file()),
                (ids[1].as_str(), "repo1", "release", Some("cfn/prod.yaml"))
            );
            assert_eq!(moved.role_arn(), "arn:aws:iam::123456789012:role/other");
            assert_eq!(moved.trigger_resource_update_on(), Some(&TriggerResourceUpdateOn::FileChange));
            assert_eq!(moved.publish_deployment_status(), Some(&PublishDeploymentStatus::Enabled));
            assert_eq!(list(ids[0].clone(), None).await.sync_configurations().len(), 2);
            let definitions = client
                .list_repository_sync_definitions()
                .repository_link_id(&ids[1])
                .sync_type(SyncConfigurationType::CfnStackSync)
                .send()
                .await
                .expect("definitions");
            let definitions: Vec<(&str, &str, &str, &str)> = definitions
                .repository_sync_definitions()
                .iter()
                .map(|d| (d.branch(), d.directory(), d.parent(), d.target()))
                .collect();
            assert_eq!(definitions, [("release", "cfn/prod.yaml", "app-prod", "app-prod")]);

            // What is in use stays.
            let in_use = client
                .delete_repository_link()
                .repository_link_id(&ids[1])
                .send()
                .await
                .expect_err("a configuration uses it");
            assert!(
                in_use.as_service_error().is_some_and(|e| e.is_sync_configuration_still_exists_exception()),
                "{in_use:?}"
            );
            let used = client
                .delete_connection()
                .connection_arn(&github)
                .send()
                .await
                .expect_err("links use it");
            assert_eq!(used.code(), Some("ResourceUnavailableException"), "{used:?}");

            // Sync state: nothing before the first sync, then what the admin
            // routes recorded, timestamps to the millisecond.
            let resource_status = || {
                client
                    .get_resource_sync_status()
                    .resource_name("app-prod")
                    .sync_type(SyncConfigurationType::CfnStackSync)
                    .send()
            };
            let never = resource_status().await.expect_err("not synced yet");
            assert!(
                never.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()),
                "{never:?}"
            );
            let started = sandbox.admin("sync-event",
                json!({"resource_name": "app-prod", "status": "IN_PROGRESS", "sha": "0123abcd"}),
            );
            let ended = sandbox.admin("sync-event",
                json!({"resource_name": "app-prod", "status": "SUCCEEDED", "message": "Stack updated"}),
            );
            let status = resource_status().await.expect("synced");
            let latest = status.latest_sync().expect("a latest sync");
            assert_eq!(latest.status(), &ResourceSyncStatus::Succeeded);
            assert_eq!(latest.started_at().to_millis().unwrap(), millis(&started["time"]));
            let events: Vec<(&str, i64)> = latest
                .events()
                .iter()
                .map(|e| (e.event(), e.time().to_millis().unwrap()))
                .collect();
            assert_eq!(
                events,
                [("Sync in_progress", millis(&started["time"])), ("Stack updated", millis(&ended["time"]))]
            );
            let target = latest.target_revision().expect("a target revision");
            assert_eq!(
                (target.branch(), target.directory(), target.repository_name(), target.sha()),
                ("release", "cfn/prod.yaml", "repo1", "0123abcd")
            );
            assert_eq!(latest.target(), "app-prod");
            assert_eq!(status.latest_successful_sync(), Some(latest));
            assert_eq!(status.desired_state(), Some(target));
            let repository = client
                .get_repository_sync_status()
                .repository_link_id(&ids[1])
                .branch("release")
                .sync_type(SyncConfigurationType::CfnStackSync)
                .send()
                .await
                .expect("the branch synced");
            let repository = repository.latest_sync().expect("a latest sync");
            assert_eq!(repository.status().as_str(), "SUCCEEDED");
            assert_eq!(repository.started_at().to_millis().unwrap(), millis(&started["time"]));
            let other_branch = client
                .get_repository_sync_status()
                .repository_link_id(&ids[1])
                .branch("main")
                .sync_type(SyncConfigurationType::CfnStackSync)
                .send()
                .await
                .expect_err("main never synced");
            assert!(
                other_branch.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()),
                "{other_branch:?}"
            );

            // A blocker is active until UpdateSyncBlocker resolves it.
            let opened = sandbox.admin("sync-blocker",
                json!({"resource_name": "app-prod", "reason": "Stack is in UPDATE_ROLLBACK_FAILED"}),
            );
            let blocker_id = opened["id"].as_str().expect("an id").to_owned();
            let summary = client
                .get_sync_blocker_summary()
                .resource_name("app-prod")
                .sync_type(SyncConfigurationType::CfnStackSync)
                .send()
                .await
                .expect("summary");
            let summary = summary.sync_blocker_summary().expect("a summary");
            let blocker = &summary.latest_blockers()[0];
            assert_eq!((blocker.id(), blocker.status()), (blocker_id.as_str(), &BlockerStatus::Active));
            assert_eq!(blocker.created_reason(), "Stack is in UPDATE_ROLLBACK_FAILED");
            assert_eq!(blocker.created_at().to_millis().unwrap(), millis(&opened["created_at"]));
            assert_eq!(blocker.r#type().as_str(), "AUTOMATED");
            let resolve = |id: String| {
                client
                    .update_sync_blocker()
                    .id(id)
                    .resource_name("app-prod")
                    .sync_type(SyncConfigurationType::CfnStackSync)
                    .resolved_reason("rolled back by hand")
                    .send()
            };
            let resolved = resolve(blocker_id.clone()).await.expect("resolve");
            let resolved_blocker = resolved.sync_blocker().expect("the blocker");
            assert_eq!(resolved_blocker.status(), &BlockerStatus::Resolved);
            assert_eq!(resolved_blocker.resolved_reason(), Some("rolled back by hand"));
            let resolved_at = resolved_blocker.resolved_at().expect("resolved at").secs();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            assert!((now - resolved_at).abs() < 60, "{resolved_at} vs {now}");
            let again = resolve(blocker_id.clone()).await.expect("already resolved");
            assert_eq!(again.sync_blocker(), Some(resolved_blocker));
            let unknown = resolve("no-such-blocker".to_owned()).await.expect_err("unknown");
            assert!(
                unknown.as_service_error().is_some_and(|e| e.is_sync_blocker_does_not_exist_exception()),
                "{unknown:?}"
            );

            // Everything deletes, in order; a missing configuration is
            // ResourceNotFoundException though the operation models none.
            for resource in ["app-prod", "app-dev", "app-test"] {
                client
                    .delete_sync_configuration()
                    .resource_name(resource)
                    .sync_type(SyncConfigurationType::CfnStackSync)
                    .send()
                    .await
                    .expect("delete sync configuration");
            }
            let gone = client
                .delete_sync_configuration()
                .resource_name("app-prod")
                .sync_type(SyncConfigurationType::CfnStackSync)
                .send()
                .await
                .expect_err("already gone");
            assert_eq!(gone.code(), Some("ResourceNotFoundException"), "{gone:?}");
            for id in &ids {
                client.delete_repository_link().repository_link_id(id).send().await.expect("delete link");
            }
            let gone = client
                .get_repository_link()
                .repository_link_id(&ids[0])
                .send()
                .await
                .expect_err("deleted");
            assert!(
                gone.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()),
                "{gone:?}"
            );
            let left = client.list_repository_links().send().await.expect("list links");
            assert!(left.repository_links().is_empty() && left.next_token().is_none());
            client.delete_connection().connection_arn(&github).send().await.expect("free now");
        }
    };
}

links_conformance!(
    codestar_connections_sdk_links_conformance,
    aws_sdk_codestarconnections,
    client,
    "codestar-connections"
);
links_conformance!(
    codeconnections_sdk_links_conformance,
    aws_sdk_codeconnections,
    codeconnections_client,
    "codeconnections"
);

/// A GitHub connection and a link to `my-org/app` through the older API;
/// answers the link's id.
async fn old_link(sandbox: &Sandbox) -> String {
    use aws_sdk_codestarconnections::types::ProviderType;
    let old = sandbox.client(REGION).await;
    let connection = old
        .create_connection()
        .connection_name("gh")
        .provider_type(ProviderType::Github)
        .send()
        .await
        .expect("connection")
        .connection_arn()
        .to_owned();
    old.create_repository_link()
        .connection_arn(connection)
        .owner_id("my-org")
        .repository_name("app")
        .send()
        .await
        .expect("link")
        .repository_link_info()
        .expect("info")
        .repository_link_id()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_request_comment_is_codeconnections_only() {
    use aws_sdk_codeconnections::types::{PullRequestComment, SyncConfigurationType};
    let sandbox = Sandbox::start();
    let link = old_link(&sandbox).await;
    let new = sandbox.codeconnections_client(REGION).await;
    let created = new
        .create_sync_configuration()
        .resource_name("app-prod")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .repository_link_id(&link)
        .branch("main")
        .config_file("deploy.yaml")
        .role_arn(ROLE)
        .pull_request_comment(PullRequestComment::Enabled)
        .send()
        .await
        .expect("codeconnections takes PullRequestComment");
    assert_eq!(
        created
            .sync_configuration()
            .and_then(|c| c.pull_request_comment()),
        Some(&PullRequestComment::Enabled)
    );

    // The older model has no such member: refused on the way in...
    let refused = raw_json(
        &sandbox,
        "codestar-connections",
        "UpdateSyncConfiguration",
        &json!({"ResourceName": "app-prod", "SyncType": "CFN_STACK_SYNC", "PullRequestComment": "DISABLED"}),
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["__type"], "ValidationException");
    assert!(
        refused.body.contains("'pullRequestComment'"),
        "{}",
        refused.body
    );
    // ...and never answered on the way out, while the newer API answers it.
    let key = json!({"ResourceName": "app-prod", "SyncType": "CFN_STACK_SYNC"});
    let old = raw_json(
        &sandbox,
        "codestar-connections",
        "GetSyncConfiguration",
        &key,
    );
    assert_eq!(old.status, 200, "{}", old.body);
    let old = old.json()["SyncConfiguration"].clone();
    assert_eq!(old["ResourceName"], "app-prod");
    assert!(old.get("PullRequestComment").is_none(), "{old}");
    let listed = raw_json(
        &sandbox,
        "codestar-connections",
        "ListSyncConfigurations",
        &json!({"RepositoryLinkId": link, "SyncType": "CFN_STACK_SYNC"}),
    )
    .json();
    assert!(
        listed["SyncConfigurations"][0]
            .get("PullRequestComment")
            .is_none(),
        "{listed}"
    );
    let newer = raw_json(&sandbox, "codeconnections", "GetSyncConfiguration", &key);
    assert_eq!(
        newer.json()["SyncConfiguration"]["PullRequestComment"],
        "ENABLED",
        "{}",
        newer.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_made_through_one_name_is_seen_and_deleted_through_the_other() {
    use aws_sdk_codeconnections::types::SyncConfigurationType;
    let sandbox = Sandbox::start();
    let link = old_link(&sandbox).await;
    let new = sandbox.codeconnections_client(REGION).await;
    let old = sandbox.client(REGION).await;

    let got = new
        .get_repository_link()
        .repository_link_id(&link)
        .send()
        .await
        .expect("the newer API sees it");
    let info = got.repository_link_info().expect("info");
    assert!(
        info.repository_link_arn()
            .starts_with("arn:aws:codestar-connections:"),
        "as issued: {}",
        info.repository_link_arn()
    );
    let listed = new.list_repository_links().send().await.expect("list");
    assert_eq!(listed.repository_links(), std::slice::from_ref(info));
    new.tag_resource()
        .resource_arn(info.repository_link_arn())
        .tags(
            aws_sdk_codeconnections::types::Tag::builder()
                .key("k")
                .value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("tag through the other name");
    let tags = old
        .list_tags_for_resource()
        .resource_arn(info.repository_link_arn())
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags().len(), 1);

    // A configuration made through the newer name on the older link.
    new.create_sync_configuration()
        .resource_name("app-prod")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .repository_link_id(&link)
        .branch("main")
        .config_file("deploy.yaml")
        .role_arn(ROLE)
        .send()
        .await
        .expect("create");
    let seen = old
        .get_sync_configuration()
        .resource_name("app-prod")
        .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("the older API sees it");
    assert_eq!(
        seen.sync_configuration().map(|c| c.repository_link_id()),
        Some(link.as_str())
    );
    old.delete_sync_configuration()
        .resource_name("app-prod")
        .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("delete through the older name");
    new.delete_repository_link()
        .repository_link_id(&link)
        .send()
        .await
        .expect("delete through the newer name");
    let gone = old
        .get_repository_link()
        .repository_link_id(&link)
        .send()
        .await
        .expect_err("gone for both");
    assert!(
        gone.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{gone:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn timestamps_are_epoch_seconds_numbers_on_the_json_wire() {
    let sandbox = Sandbox::start();
    let link = old_link(&sandbox).await;
    let create = raw_json(
        &sandbox,
        "codestar-connections",
        "CreateSyncConfiguration",
        &json!({"ResourceName": "app-prod", "SyncType": "CFN_STACK_SYNC", "RepositoryLinkId": link,
                "Branch": "main", "ConfigFile": "deploy.yaml", "RoleArn": ROLE}),
    );
    assert_eq!(create.status, 200, "{}", create.body);
    let recorded = sandbox.admin(
        "sync-event",
        json!({"resource_name": "app-prod", "status": "FAILED", "message": "Template error"}),
    );
    let opened = sandbox.admin("sync-blocker",
        json!({"resource_name": "app-prod", "reason": "failed", "contexts": {"StackName": "app-prod"}}),
    );
    for api in ["codestar-connections", "codeconnections"] {
        let key = json!({"ResourceName": "app-prod", "SyncType": "CFN_STACK_SYNC"});
        let status = raw_json(&sandbox, api, "GetResourceSyncStatus", &key).json();
        let latest = &status["LatestSync"];
        assert!(latest["StartedAt"].is_number(), "{status}");
        assert_eq!(latest["StartedAt"], recorded["time"]);
        assert_eq!(latest["Events"][0]["Time"], recorded["time"]);
        assert_eq!(latest["Events"][0]["Event"], "Template error");
        assert_eq!(latest["Status"], "FAILED");
        assert!(status.get("LatestSuccessfulSync").is_none(), "{status}");
        let summary = raw_json(&sandbox, api, "GetSyncBlockerSummary", &key).json();
        let blocker = &summary["SyncBlockerSummary"]["LatestBlockers"][0];
        assert_eq!(blocker["CreatedAt"], opened["created_at"]);
        assert_eq!(
            blocker["Contexts"],
            json!([{"Key": "StackName", "Value": "app-prod"}])
        );
    }
}

#[test]
fn the_sync_admin_routes_refuse_what_they_cannot_record() {
    let sandbox = Sandbox::start();
    let post = |route: &str, body: Value| {
        sandbox.http(
            "POST",
            &format!("/_emulator/{route}"),
            &[],
            &body.to_string(),
        )
    };
    let unknown = post(
        "sync-event",
        json!({"resource_name": "nothing", "status": "SUCCEEDED"}),
    );
    assert_eq!(
        (unknown.status, unknown.json()["__type"].as_str()),
        (400, Some("ResourceNotFoundException")),
        "{}",
        unknown.body
    );
    let blocker = post(
        "sync-blocker",
        json!({"resource_name": "nothing", "reason": "x"}),
    );
    assert_eq!(
        blocker.json()["__type"],
        "ResourceNotFoundException",
        "{}",
        blocker.body
    );
    let shapeless = post("sync-event", json!({"resource": "x"}));
    assert_eq!(
        shapeless.json()["__type"],
        "ValidationException",
        "{}",
        shapeless.body
    );
    let route = post("sync-events", json!({}));
    assert_eq!(route.status, 404);
    assert!(route.body.contains("POST sync-event"), "{}", route.body);
    assert!(route.body.contains("POST sync-blocker"), "{}", route.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn links_sync_configurations_and_their_history_persist_and_reset_forgets_them() {
    use aws_sdk_codestarconnections::types::SyncConfigurationType;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.json");
    let config = || Config {
        state: Some(path.clone()),
        ..Config::default()
    };
    let sandbox = Sandbox::with_config(config());
    let link = old_link(&sandbox).await;
    let client = sandbox.client(REGION).await;
    client
        .create_sync_configuration()
        .resource_name("app-prod")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .repository_link_id(&link)
        .branch("main")
        .config_file("deploy.yaml")
        .role_arn(ROLE)
        .send()
        .await
        .expect("create");
    let recorded = sandbox.admin(
        "sync-event",
        json!({"resource_name": "app-prod", "status": "SUCCEEDED"}),
    );
    let opened = sandbox.admin(
        "sync-blocker",
        json!({"resource_name": "app-prod", "reason": "r"}),
    );
    drop(sandbox);

    let sandbox = Sandbox::with_config(config());
    let client = sandbox.client(REGION).await;
    let link_arn = client
        .get_repository_link()
        .repository_link_id(&link)
        .send()
        .await
        .expect("the link is back")
        .repository_link_info()
        .expect("info")
        .repository_link_arn()
        .to_owned();
    let status = client
        .get_resource_sync_status()
        .resource_name("app-prod")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("its history is back");
    assert_eq!(
        status
            .latest_sync()
            .map(|s| s.started_at().to_millis().unwrap()),
        Some(millis(&recorded["time"]))
    );
    let summary = client
        .get_sync_blocker_summary()
        .resource_name("app-prod")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("summary");
    assert_eq!(
        summary
            .sync_blocker_summary()
            .map(|s| s.latest_blockers()[0].id()),
        opened["id"].as_str()
    );

    sandbox.reset();
    let left = client.list_repository_links().send().await.expect("list");
    assert!(left.repository_links().is_empty());
    let gone = client
        .get_sync_configuration()
        .resource_name("app-prod")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect_err("reset");
    assert!(
        gone.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{gone:?}"
    );
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read state"))
        .expect("state is JSON");
    let issued = state["issued_arns"].as_array().expect("issued ARNs");
    assert!(
        issued.iter().any(|a| a == link_arn.as_str()),
        "the link's ARN stays issued after a reset"
    );
}
