//! Repository links and sync configurations end to end: the real binary,
//! the real SDK, the emulator.

use serde_json::json;

use crate::cli::{Workdir, actions, json, run};
use crate::support::Sandbox;

const REGION: &str = "eu-west-1";
const ROLE: &str = "arn:aws:iam::123456789012:role/cfn-git-sync";

/// A GitHub connection, a link through it to `my-org/app`, and sync
/// configurations for `app-prod` (branch `branch`) and `app-staging`.
fn stack(branch: &str) -> String {
    format!(
        "version: 1
stack: git
region: {REGION}
connections:
  - name: github
    provider_type: GitHub
repository_links:
  - repository: my-org/app
    connection: github
    tags: {{team: app}}
sync_configurations:
  - resource_name: app-prod
    repository: my-org/app
    branch: {branch}
    config_file: deploy/app-prod.yaml
    role_arn: {ROLE}
  - resource_name: app-staging
    repository: my-org/app
    branch: staging
    config_file: deploy/app-staging.yaml
    role_arn: {ROLE}
"
    )
}

/// `(owner/name, connection ARN)` of every link, and `(stack, branch, link
/// id)` of every sync configuration, read with the SDK.
async fn account(
    sandbox: &Sandbox,
) -> (Vec<(String, String, String)>, Vec<(String, String, String)>) {
    let client = sandbox.client(REGION).await;
    let links = client.list_repository_links().send().await.unwrap();
    let mut syncs = Vec::new();
    for link in links.repository_links() {
        let page = client
            .list_sync_configurations()
            .repository_link_id(link.repository_link_id())
            .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
            .send()
            .await
            .unwrap();
        for s in page.sync_configurations() {
            syncs.push((
                s.resource_name().to_owned(),
                s.branch().to_owned(),
                s.repository_link_id().to_owned(),
            ));
        }
    }
    let mut links: Vec<(String, String, String)> = links
        .repository_links()
        .iter()
        .map(|l| {
            (
                format!("{}/{}", l.owner_id(), l.repository_name()),
                l.connection_arn().to_owned(),
                l.repository_link_arn().to_owned(),
            )
        })
        .collect();
    links.sort();
    syncs.sort();
    (links, syncs)
}

fn apply(work: &Workdir, sandbox: &Sandbox, extra: &[&str]) -> crate::cli::Run {
    let mut args = vec!["apply", "-f", "s.yaml", "--auto-approve"];
    args.extend_from_slice(extra);
    run(work.path(), sandbox, &args)
}

fn plan_is_empty(work: &Workdir, sandbox: &Sandbox) {
    run(
        work.path(),
        sandbox,
        &["plan", "-f", "s.yaml", "--detailed-exitcode"],
    )
    .expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_creates_a_link_and_its_sync_configurations_then_plans_nothing() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    let plan = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "s.yaml", "--format", "json"],
    )
    .expect(0);
    assert_eq!(
        actions(&json(&plan.stdout)),
        vec![
            ("create".into(), "connection".into(), "github".into()),
            (
                "create".into(),
                "repository_link".into(),
                "my-org/app".into()
            ),
            (
                "create".into(),
                "sync_configuration".into(),
                "app-prod".into()
            ),
            (
                "create".into(),
                "sync_configuration".into(),
                "app-staging".into()
            ),
        ]
    );
    let out = apply(&work, &sandbox, &[]).expect(0);
    assert!(
        out.stderr.contains("The account now matches the files."),
        "{}",
        out.stderr
    );

    let (links, syncs) = account(&sandbox).await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].0, "my-org/app");
    let link_id = links[0].2.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        syncs,
        vec![
            ("app-prod".into(), "main".into(), link_id.clone()),
            ("app-staging".into(), "staging".into(), link_id),
        ]
    );
    let tags = sandbox
        .client(REGION)
        .await
        .list_tags_for_resource()
        .resource_arn(&links[0].2)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert!(
        tags.contains(&("codestar-reconcile:stack", "git")),
        "{tags:?}"
    );
    assert!(tags.contains(&("team", "app")), "{tags:?}");
    plan_is_empty(&work, &sandbox);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_branch_change_is_an_in_place_update() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    let (links, _) = account(&sandbox).await;

    work.write("s.yaml", &stack("release"));
    let plan = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "s.yaml", "--format", "json"],
    )
    .expect(0);
    let plan = json(&plan.stdout);
    assert_eq!(
        actions(&plan),
        vec![(
            "update".into(),
            "sync_configuration".into(),
            "app-prod".into()
        )]
    );
    assert_eq!(
        plan["changes"][0]["reason_code"]["fields"],
        json!(["branch"])
    );
    let text = run(work.path(), &sandbox, &["plan", "-f", "s.yaml"]).expect(0);
    assert!(
        text.stdout.contains(r#"- branch"#) && text.stdout.contains(r#""release""#),
        "{}",
        text.stdout
    );

    let before = sandbox.calls();
    apply(&work, &sandbox, &[]).expect(0);
    let after = sandbox.calls();
    let delta = |op: &str| after.get(op).unwrap_or(&0) - before.get(op).unwrap_or(&0);
    assert_eq!(delta("UpdateSyncConfiguration"), 1);
    assert_eq!(
        delta("DeleteSyncConfiguration") + delta("CreateSyncConfiguration"),
        0
    );
    let (links_after, syncs) = account(&sandbox).await;
    assert_eq!(links_after, links, "the link is untouched");
    assert!(
        syncs
            .iter()
            .any(|(n, b, _)| n == "app-prod" && b == "release"),
        "{syncs:?}"
    );
    plan_is_empty(&work, &sandbox);
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_link_with_its_sync_configurations_deletes_them_first() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    // One sync configuration dropped: only it goes.
    let one_less = stack("main").replace(
        &format!(
            "  - resource_name: app-staging\n    repository: my-org/app\n    branch: staging\n    config_file: deploy/app-staging.yaml\n    role_arn: {ROLE}\n"
        ),
        "",
    );
    work.write("s.yaml", &one_less);
    apply(&work, &sandbox, &["--force"]).expect(0);
    let (links, syncs) = account(&sandbox).await;
    assert_eq!((links.len(), syncs.len()), (1, 1), "{links:?} {syncs:?}");
    // The link and the other one dropped: AWS refuses to delete a link that
    // sync configurations use, so this converges only if they go first.
    let no_git_sync = one_less[..one_less.find("repository_links:").unwrap()].to_owned();
    work.write("s.yaml", &no_git_sync);
    apply(&work, &sandbox, &["--force"]).expect(0);
    let (links, syncs) = account(&sandbox).await;
    assert!(links.is_empty() && syncs.is_empty(), "{links:?} {syncs:?}");
    plan_is_empty(&work, &sandbox);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_a_kept_link_uses_is_refused_with_exit_3_and_no_call() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    let (links, _) = account(&sandbox).await;
    // The file drops the connection but keeps the link, now naming the
    // connection by ARN.
    let kept = stack("main")
        .replace(
            "connections:\n  - name: github\n    provider_type: GitHub\n",
            "",
        )
        .replace(
            "    connection: github\n",
            &format!("    connection_arn: {}\n", links[0].1),
        );
    work.write("s.yaml", &kept);
    let before = sandbox.mutating_calls();
    let plan = run(work.path(), &sandbox, &["plan", "-f", "s.yaml"]).expect(3);
    assert!(
        plan.stdout
            .contains("repository links that stay still use it"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("my-org/app"), "{}", plan.stdout);
    apply(&work, &sandbox, &[]).expect(3);
    assert_eq!(sandbox.mutating_calls(), before, "{:?}", sandbox.calls());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_configuration_on_an_unmanaged_link_is_never_touched_until_its_link_is_adopted() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let client = sandbox.client(REGION).await;
    // Made in the console: a connection, a link, a sync configuration.
    let connection = client
        .create_connection()
        .connection_name("console-github")
        .provider_type(aws_sdk_codestarconnections::types::ProviderType::Github)
        .send()
        .await
        .unwrap()
        .connection_arn()
        .to_owned();
    let link = client
        .create_repository_link()
        .connection_arn(&connection)
        .owner_id("their-org")
        .repository_name("tool")
        .send()
        .await
        .unwrap()
        .repository_link_info()
        .unwrap()
        .repository_link_id()
        .to_owned();
    client
        .create_sync_configuration()
        .resource_name("tool-prod")
        .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
        .repository_link_id(&link)
        .branch("main")
        .config_file("deploy/tool.yaml")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();

    // A stack of its own beside it: the console's are never touched.
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    let before = sandbox.calls();
    apply(&work, &sandbox, &[]).expect(0);
    let touched = sandbox.calls();
    assert_eq!(
        touched.get("UpdateSyncConfiguration"),
        before.get("UpdateSyncConfiguration")
    );
    let tool = client
        .get_sync_configuration()
        .resource_name("tool-prod")
        .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .unwrap();
    assert_eq!(tool.sync_configuration().unwrap().branch(), "main");

    // The file names the console's sync configuration (on a link of its
    // own): refused, nothing done, and the hint says to adopt the link.
    let wants_theirs = stack("main").replace("app-staging", "tool-prod");
    work.write("s.yaml", &wants_theirs);
    let before = sandbox.mutating_calls();
    let refused = apply(&work, &sandbox, &[]).expect(3);
    assert!(
        refused.stdout.contains("their-org/tool") && refused.stdout.contains("adopt: true"),
        "{}",
        refused.stdout
    );
    assert_eq!(sandbox.mutating_calls(), before);

    // Following the hint: the link adopted (through its connection, named
    // by ARN), its sync configuration comes along and moves as the file says.
    let file = wants_theirs.replace(
        "sync_configurations:",
        &format!(
            "  - repository: their-org/tool\n    connection_arn: {connection}\n    adopt: true\nsync_configurations:"
        ),
    );
    work.write("s.yaml", &file);
    apply(&work, &sandbox, &[]).expect(0);
    plan_is_empty(&work, &sandbox);
    let tool = client
        .get_sync_configuration()
        .resource_name("tool-prod")
        .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .unwrap();
    let (links, _) = account(&sandbox).await;
    let ours = links.iter().find(|l| l.0 == "my-org/app").unwrap();
    assert_eq!(
        tool.sync_configuration().unwrap().repository_link_id(),
        ours.2.rsplit('/').next().unwrap(),
        "moved to the file's link"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn import_round_trips_links_and_sync_configurations() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    run(
        work.path(),
        &sandbox,
        &["import", "--stack", "git", "-o", "imported.yaml"],
    )
    .expect(0);
    let yaml = std::fs::read_to_string(work.path().join("imported.yaml")).unwrap();
    assert!(yaml.contains("repository: my-org/app"), "{yaml}");
    assert!(yaml.contains("connection: github"), "{yaml}");
    assert!(yaml.contains("resource_name: app-staging"), "{yaml}");
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "imported.yaml", "--detailed-exitcode"],
    )
    .expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_reports_an_open_blocker_and_a_failed_sync_and_clears_when_resolved() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    let drift = |args: &[&str]| {
        let mut all = vec!["drift", "-f", "s.yaml", "--ignore", "pending"];
        all.extend_from_slice(args);
        run(work.path(), &sandbox, &all)
    };
    drift(&[]).expect(0);

    let blocker = sandbox.admin(
        "sync-blocker",
        json!({"resource_name": "app-prod", "reason": "the stack is in UPDATE_ROLLBACK_FAILED"}),
    );
    sandbox.admin(
        "sync-event",
        json!({"resource_name": "app-staging", "status": "FAILED", "message": "Template format error"}),
    );
    let found = drift(&["--format", "json"]).expect(2);
    let report = json(&found.stdout);
    let classes: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["class"] != "pending")
        .map(|f| {
            (
                f["class"].as_str().unwrap().to_owned(),
                f["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        classes,
        vec![
            ("blocked".into(), "app-prod".into()),
            ("failing".into(), "app-staging".into()),
        ],
        "{}",
        found.stdout
    );
    let text = drift(&[]).expect(2);
    assert!(
        text.stdout.contains("UPDATE_ROLLBACK_FAILED")
            && text.stdout.contains("Template format error"),
        "{}",
        text.stdout
    );

    // Resolved the way the advice says: the blocker goes, a good sync
    // replaces the failed one.
    sandbox
        .codeconnections_client(REGION)
        .await
        .update_sync_blocker()
        .id(blocker["id"].as_str().unwrap())
        .resource_name("app-prod")
        .sync_type(aws_sdk_codeconnections::types::SyncConfigurationType::CfnStackSync)
        .resolved_reason("rolled back by hand")
        .send()
        .await
        .unwrap();
    sandbox.admin(
        "sync-event",
        json!({"resource_name": "app-staging", "status": "SUCCEEDED"}),
    );
    drift(&[]).expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_whose_connection_is_pending_or_gone_is_reported() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    let drift = run(
        work.path(),
        &sandbox,
        &["drift", "-f", "s.yaml", "--format", "json"],
    )
    .expect(2);
    let report = json(&drift.stdout);
    let link = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "repository_link")
        .unwrap_or_else(|| panic!("{}", drift.stdout));
    assert_eq!(link["class"], "pending");
    assert!(
        link["detail"]
            .as_str()
            .unwrap()
            .contains("syncs through this link wait"),
        "{link}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_moves_in_place_to_a_new_connection_and_the_old_one_goes() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    let (links, syncs) = account(&sandbox).await;
    work.write("s.yaml", &stack("main").replace("github", "github-2"));
    let before = sandbox.calls();
    apply(&work, &sandbox, &["--force"]).expect(0);
    let after = sandbox.calls();
    assert_eq!(
        after.get("UpdateRepositoryLink").unwrap_or(&0)
            - before.get("UpdateRepositoryLink").unwrap_or(&0),
        1
    );
    let (links_after, syncs_after) = account(&sandbox).await;
    assert_eq!(links_after[0].2, links[0].2, "the same link");
    assert_ne!(links_after[0].1, links[0].1, "through the new connection");
    assert_eq!(syncs_after, syncs, "its sync configurations untouched");
    plan_is_empty(&work, &sandbox);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_connection_takes_its_link_and_sync_configurations_with_it() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack("main"));
    apply(&work, &sandbox, &[]).expect(0);
    let (links, _) = account(&sandbox).await;
    // Another provider: the connection is replaced, and the link with it.
    let gitlab = stack("main").replace("provider_type: GitHub", "provider_type: GitLab");
    work.write("s.yaml", &gitlab);
    let refused = run(work.path(), &sandbox, &["plan", "-f", "s.yaml"]).expect(3);
    assert!(
        refused.stdout.contains("--allow-replace"),
        "{}",
        refused.stdout
    );
    apply(&work, &sandbox, &["--allow-replace", "--force"]).expect(0);
    let (links_after, syncs_after) = account(&sandbox).await;
    assert_eq!(links_after.len(), 1);
    assert_ne!(links_after[0].2, links[0].2, "a new link");
    assert_eq!(syncs_after.len(), 2, "{syncs_after:?}");
    assert!(
        syncs_after
            .iter()
            .all(|(_, _, id)| links_after[0].2.ends_with(id.as_str())),
        "{syncs_after:?}"
    );
    plan_is_empty(&work, &sandbox);
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_request_comment_goes_through_codeconnections() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let file = stack("main")
        .replace(
            "region: eu-west-1\n",
            "region: eu-west-1\napi: codeconnections\n",
        )
        .replace(
            "    config_file: deploy/app-prod.yaml\n",
            "    config_file: deploy/app-prod.yaml\n    pull_request_comment: ENABLED\n",
        );
    work.write("s.yaml", &file);
    apply(&work, &sandbox, &[]).expect(0);
    let got = sandbox
        .codeconnections_client(REGION)
        .await
        .get_sync_configuration()
        .resource_name("app-prod")
        .sync_type(aws_sdk_codeconnections::types::SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.sync_configuration()
            .unwrap()
            .pull_request_comment()
            .map(|p| p.as_str()),
        Some("ENABLED")
    );
    plan_is_empty(&work, &sandbox);
    work.write("s.yaml", &file.replace("ENABLED", "DISABLED"));
    apply(&work, &sandbox, &[]).expect(0);
    plan_is_empty(&work, &sandbox);
}
