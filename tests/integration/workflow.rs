//! plan → apply → drift end to end: the real binary, the real SDK, the
//! emulator.

use std::collections::BTreeMap;

use aws_sdk_codestarconnections::types::Tag;

use crate::assert_output_snapshot;
use crate::cli::{Workdir, actions, json, run, run_plain};
use crate::support::Sandbox;

const PLATFORM: &str = r#"version: 1
stack: platform-prod
region: eu-west-1
default_tags:
  team: platform
hosts:
  - name: ghes-prod
    provider_type: GitHubEnterpriseServer
    provider_endpoint: https://ghes.example.com
    tags: {env: prod}
connections:
  - name: github-main
    provider_type: GitHub
    tags: {env: prod}
  - name: ghes-apps
    host: ghes-prod
    protect: true
"#;

fn tags(list: &[Tag]) -> BTreeMap<String, String> {
    list.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

#[test]
fn plan_shows_creates_without_changing_anything_then_apply_converges() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);

    let plan = run(
        work.path(),
        &sandbox,
        &[
            "plan",
            "-f",
            "platform.yaml",
            "--format",
            "json",
            "--detailed-exitcode",
        ],
    )
    .expect(2);
    let plan = json(&plan.stdout);
    assert_eq!(
        actions(&plan),
        vec![
            ("create".into(), "host".into(), "ghes-prod".into()),
            ("create".into(), "connection".into(), "ghes-apps".into()),
            ("create".into(), "connection".into(), "github-main".into()),
        ]
    );
    assert_eq!(plan["summary"]["create"], 3);
    assert_eq!(
        sandbox.mutating_calls(),
        0,
        "plan must not change anything: {:?}",
        sandbox.calls()
    );

    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "platform.yaml", "--detailed-exitcode"],
    )
    .expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_writes_ownership_and_protect_tags_and_uses_the_new_host() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);

    let client = sandbox.client("eu-west-1").await;
    let hosts = client.list_hosts().send().await.unwrap();
    let host = &hosts.hosts()[0];
    let connections = client.list_connections().send().await.unwrap();
    let ghes = connections
        .connections()
        .iter()
        .find(|c| c.connection_name() == Some("ghes-apps"))
        .expect("ghes-apps created");
    assert_eq!(ghes.host_arn(), host.host_arn());
    let t = client
        .list_tags_for_resource()
        .resource_arn(ghes.connection_arn().unwrap())
        .send()
        .await
        .unwrap();
    let t = tags(t.tags());
    assert_eq!(
        t.get("codestar-reconcile:stack").map(String::as_str),
        Some("platform-prod")
    );
    assert_eq!(
        t.get("codestar-reconcile:protect").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        t.get("team").map(String::as_str),
        Some("platform"),
        "default tags merged"
    );
}

#[test]
fn plan_renders_the_same_plan_as_text_markdown_and_json() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);
    for format in ["text", "markdown", "json"] {
        let out = run(
            work.path(),
            &sandbox,
            &["plan", "-f", "platform.yaml", "--format", format],
        )
        .expect(0);
        assert_output_snapshot!(format!("plan_create_{format}"), out.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unmanaged_and_foreign_names_are_refused_and_adopt_takes_over() {
    let sandbox = Sandbox::start();
    let client = sandbox.client("eu-west-1").await;
    let unmanaged = client
        .create_connection()
        .connection_name("github-main")
        .provider_type("GitHub".into())
        .send()
        .await
        .unwrap();
    client
        .create_connection()
        .connection_name("ghes-apps")
        .provider_type("GitLab".into())
        .tags(
            Tag::builder()
                .key("codestar-reconcile:stack")
                .value("other-team")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);

    let refused = run(work.path(), &sandbox, &["plan", "-f", "platform.yaml"]).expect(3);
    assert!(
        refused.stdout.contains(unmanaged.connection_arn()),
        "names the ARN:\n{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("adopt: true"),
        "says the way out:\n{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("other-team"),
        "names the owner:\n{}",
        refused.stdout
    );
    let refused_apply = run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(3);
    assert!(
        refused_apply
            .stderr
            .contains("Refused: nothing was changed."),
        "{}",
        refused_apply.stderr
    );
    assert_eq!(sandbox.mutating_calls(), 2, "only the two set-up creates");

    let adopting = PLATFORM
        .replace(
            "    provider_type: GitHub\n",
            "    provider_type: GitHub\n    adopt: true\n",
        )
        .replace(
            "  - name: ghes-apps\n    host: ghes-prod\n    protect: true\n",
            "",
        );
    work.write("platform.yaml", &adopting);
    let plan = json(
        &run(
            work.path(),
            &sandbox,
            &["plan", "-f", "platform.yaml", "--format", "json"],
        )
        .expect(0)
        .stdout,
    );
    assert!(actions(&plan).contains(&("adopt".into(), "connection".into(), "github-main".into())));
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);
    let t = client
        .list_tags_for_resource()
        .resource_arn(unmanaged.connection_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags(t.tags())
            .get("codestar-reconcile:stack")
            .map(String::as_str),
        Some("platform-prod")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plans_apply_once_and_are_refused_when_tampered_or_stale() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "platform.yaml", "--out", "plan.json"],
    )
    .expect(0);

    // Tampered: one character of the plan changed.
    let saved = std::fs::read_to_string(work.path().join("plan.json")).unwrap();
    work.write(
        "tampered.json",
        &saved.replacen("github-main", "github-evil", 1),
    );
    let tampered = run(work.path(), &sandbox, &["apply", "tampered.json"]).expect(1);
    assert!(tampered.stderr.contains("checksum"), "{}", tampered.stderr);

    // Stale: the account changed after the plan was made.
    let client = sandbox.client("eu-west-1").await;
    let other = client
        .create_connection()
        .connection_name("someone-else")
        .provider_type("GitHub".into())
        .send()
        .await
        .unwrap();
    let stale = run(work.path(), &sandbox, &["apply", "plan.json"]).expect(1);
    assert!(stale.stderr.contains("stale"), "{}", stale.stderr);
    assert_eq!(
        sandbox.mutating_calls(),
        1,
        "nothing applied from a stale plan"
    );

    client
        .delete_connection()
        .connection_arn(other.connection_arn())
        .send()
        .await
        .unwrap();
    run(work.path(), &sandbox, &["apply", "plan.json"]).expect(0);
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "platform.yaml", "--detailed-exitcode"],
    )
    .expect(0);
}

#[test]
fn removing_a_host_and_its_connection_deletes_the_connection_first() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let unprotected = PLATFORM.replace("    protect: true\n", "");
    work.write("platform.yaml", &unprotected);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);

    let only_github = "version: 1\nstack: platform-prod\nregion: eu-west-1\ndefault_tags:\n  team: platform\nconnections:\n  - name: github-main\n    provider_type: GitHub\n    tags: {env: prod}\n";
    work.write("platform.yaml", only_github);
    let plan = json(
        &run(
            work.path(),
            &sandbox,
            &["plan", "-f", "platform.yaml", "--format", "json"],
        )
        .expect(0)
        .stdout,
    );
    assert_eq!(plan["summary"]["delete"], 2);
    // The emulator refuses to delete a host in use: success proves the order.
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);
}

#[test]
fn protection_survives_removal_from_the_file_until_protect_false_is_applied() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);

    let without = PLATFORM.replace(
        "  - name: ghes-apps\n    host: ghes-prod\n    protect: true\n",
        "",
    );
    work.write("platform.yaml", &without);
    let refused = run(work.path(), &sandbox, &["plan", "-f", "platform.yaml"]).expect(3);
    assert!(
        refused.stdout.contains("protect: false"),
        "{}",
        refused.stdout
    );

    work.write(
        "platform.yaml",
        &PLATFORM.replace("protect: true", "protect: false"),
    );
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);
    work.write("platform.yaml", &without);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);
}

#[test]
fn deleting_too_much_needs_force() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let mut file = String::from("version: 1\nstack: fleet\nregion: eu-west-1\nconnections:\n");
    for i in 0..10 {
        file.push_str(&format!("  - name: conn-{i}\n    provider_type: GitHub\n"));
    }
    work.write("fleet.yaml", &file);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "fleet.yaml", "--auto-approve"],
    )
    .expect(0);

    let kept: String = file
        .lines()
        .take(4 + 2 * 6)
        .map(|l| format!("{l}\n"))
        .collect();
    work.write("fleet.yaml", &kept);
    let refused = run(
        work.path(),
        &sandbox,
        &["apply", "-f", "fleet.yaml", "--auto-approve"],
    )
    .expect(3);
    assert!(refused.stdout.contains("--force"), "{}", refused.stdout);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "fleet.yaml", "--auto-approve", "--force"],
    )
    .expect(0);
}

#[test]
fn a_pinned_account_that_is_not_the_callers_is_refused_before_any_call() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write(
        "platform.yaml",
        &PLATFORM.replace(
            "region: eu-west-1\n",
            "region: eu-west-1\naccount_id: \"999999999999\"\n",
        ),
    );
    let out = run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(1);
    assert!(
        out.stderr.contains("999999999999") && out.stderr.contains("123456789012"),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.mutating_calls(), 0);
    assert!(
        !sandbox.calls().contains_key("ListConnections"),
        "nothing read either"
    );
}

#[test]
fn a_region_flag_contradicting_the_file_is_an_error() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);
    let out = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "platform.yaml", "--region", "us-west-2"],
    )
    .expect(1);
    assert!(
        out.stderr.contains("pins region eu-west-1"),
        "{}",
        out.stderr
    );
}

#[test]
fn apply_refuses_to_prompt_without_a_terminal() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);
    let out = run(work.path(), &sandbox, &["apply", "-f", "platform.yaml"]).expect(1);
    assert!(out.stderr.contains("--auto-approve"), "{}", out.stderr);
    assert_eq!(sandbox.mutating_calls(), 0);
}

#[test]
fn local_mode_runs_the_whole_cycle_without_an_account() {
    let work = Workdir::new();
    work.write("platform.yaml", PLATFORM);
    run_plain(
        work.path(),
        &[
            "plan",
            "--local",
            "-f",
            "platform.yaml",
            "--detailed-exitcode",
        ],
    )
    .expect(2);
    run_plain(
        work.path(),
        &["apply", "--local", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);
    assert!(
        work.path().join(".codestar-local.json").exists(),
        "state persisted"
    );
    run_plain(
        work.path(),
        &[
            "plan",
            "--local",
            "-f",
            "platform.yaml",
            "--detailed-exitcode",
        ],
    )
    .expect(0);
    // Fresh connections wait for the console handshake: drift says so.
    let drift = run_plain(work.path(), &["drift", "--local", "-f", "platform.yaml"]).expect(2);
    assert!(drift.stdout.contains("pending"), "{}", drift.stdout);
    run_plain(
        work.path(),
        &[
            "drift",
            "--local",
            "-f",
            "platform.yaml",
            "--ignore",
            "pending",
        ],
    )
    .expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn host_updates_in_place_and_replacements_need_allow_replace() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let unprotected = PLATFORM.replace("    protect: true\n", "");
    work.write("platform.yaml", &unprotected);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(0);
    let client = sandbox.client("eu-west-1").await;
    let connection_arn = |name: &'static str| {
        let client = client.clone();
        async move {
            client
                .list_connections()
                .send()
                .await
                .unwrap()
                .connections()
                .iter()
                .find(|c| c.connection_name() == Some(name))
                .and_then(|c| c.connection_arn())
                .map(str::to_owned)
                .unwrap()
        }
    };
    let old_github = connection_arn("github-main").await;

    // A new endpoint is an in-place UpdateHost; a new provider is a replacement.
    let changed = unprotected
        .replace("https://ghes.example.com", "https://git.example.com")
        .replace("    provider_type: GitHub\n", "    provider_type: GitLab\n");
    work.write("platform.yaml", &changed);
    let plan = json(
        &run(
            work.path(),
            &sandbox,
            &[
                "plan",
                "-f",
                "platform.yaml",
                "--format",
                "json",
                "--allow-replace",
            ],
        )
        .expect(0)
        .stdout,
    );
    let acts = actions(&plan);
    assert!(
        acts.contains(&("update".into(), "host".into(), "ghes-prod".into())),
        "{acts:?}"
    );
    assert!(
        acts.contains(&("replace".into(), "connection".into(), "github-main".into())),
        "{acts:?}"
    );

    let refused = run(
        work.path(),
        &sandbox,
        &["apply", "-f", "platform.yaml", "--auto-approve"],
    )
    .expect(3);
    assert!(
        refused.stdout.contains("--allow-replace"),
        "{}",
        refused.stdout
    );
    run(
        work.path(),
        &sandbox,
        &[
            "apply",
            "-f",
            "platform.yaml",
            "--auto-approve",
            "--allow-replace",
        ],
    )
    .expect(0);

    let hosts = client.list_hosts().send().await.unwrap();
    assert_eq!(
        hosts.hosts()[0].provider_endpoint(),
        Some("https://git.example.com")
    );
    let new_github = connection_arn("github-main").await;
    assert_ne!(new_github, old_github, "a replacement has a new ARN");
    assert_eq!(sandbox.calls().get("UpdateHost"), Some(&1));
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "platform.yaml", "--detailed-exitcode"],
    )
    .expect(0);
}

/// A host replaced while the file drops the connection that used it: the
/// connection goes first, since AWS refuses to delete a host in use (the
/// deletes of the file otherwise come last).
#[test]
fn a_replaced_host_whose_connection_is_dropped_converges_in_one_apply() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let file = "version: 1
stack: s
region: eu-west-1
hosts:
  - name: git
    provider_type: GitHubEnterpriseServer
    provider_endpoint: https://git.example.com
connections:
  - name: keep
    provider_type: GitHub
  - name: on-git
    host: git
";
    work.write("s.yaml", file);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "s.yaml", "--auto-approve"],
    )
    .expect(0);
    let changed = file
        .replace("GitHubEnterpriseServer", "GitLabSelfManaged")
        .replace("  - name: on-git\n    host: git\n", "");
    work.write("s.yaml", &changed);
    let out = run(
        work.path(),
        &sandbox,
        &[
            "apply",
            "-f",
            "s.yaml",
            "--auto-approve",
            "--allow-replace",
            "--force",
        ],
    )
    .expect(0);
    assert!(out.stdout.contains("on-git"), "{}", out.stdout);
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "s.yaml", "--detailed-exitcode"],
    )
    .expect(0);
}
