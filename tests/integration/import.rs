//! import: a hand-made account brought under management with one apply that
//! changes nothing but tags; the real binary, the real SDK, the emulator.

use aws_sdk_codestarconnections::Client;
use aws_sdk_codestarconnections::types::{ProviderType, Tag, VpcConfiguration};

use crate::cli::{Workdir, actions, json, run, run_plain};
use crate::support::Sandbox;

const REGION: &str = "eu-west-1";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

/// What a team made by hand over the years, plus one resource another stack owns.
async fn hand_made_account(client: &Client) {
    let host_arn = client
        .create_host()
        .name("ghes")
        .provider_type(ProviderType::GithubEnterpriseServer)
        .provider_endpoint("https://ghes.example.com")
        .vpc_configuration(
            VpcConfiguration::builder()
                .vpc_id("vpc-0abc1234def567890")
                .subnet_ids("subnet-0a1b2c3d")
                .security_group_ids("sg-0a1b2c3d")
                .build()
                .unwrap(),
        )
        .tags(tag("team", "platform"))
        .send()
        .await
        .unwrap()
        .host_arn
        .unwrap();
    client
        .create_connection()
        .connection_name("ghes-apps")
        .host_arn(&host_arn)
        .tags(tag("env", "prod"))
        .tags(tag("codestar-reconcile:protect", "true"))
        .send()
        .await
        .unwrap();
    client
        .create_connection()
        .connection_name("github-main")
        .provider_type(ProviderType::Github)
        .tags(tag("team", "web"))
        .send()
        .await
        .unwrap();
    client
        .create_connection()
        .connection_name("theirs")
        .provider_type(ProviderType::Bitbucket)
        .tags(tag("codestar-reconcile:stack", "someone-else"))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn import_adopt_then_apply_changes_only_tags_and_leaves_everything_clean() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    hand_made_account(&sandbox.client(REGION).await).await;

    let import = run(
        work.path(),
        &sandbox,
        &["import", "--stack", "S", "--adopt", "-o", "imported.yaml"],
    )
    .expect(0);
    assert!(
        import.stderr.contains("theirs") && import.stderr.contains("someone-else"),
        "says what it left out: {}",
        import.stderr
    );
    let yaml = std::fs::read_to_string(work.path().join("imported.yaml")).unwrap();
    assert!(
        !yaml.contains("theirs"),
        "a foreign resource is not imported:\n{yaml}"
    );
    assert!(
        yaml.contains("host: ghes"),
        "the host is named, not by ARN:\n{yaml}"
    );
    assert!(yaml.contains("protect: true"), "{yaml}");
    assert!(
        !yaml.contains("codestar-reconcile:"),
        "own tags are fields:\n{yaml}"
    );
    run_plain(work.path(), &["validate", "-f", "imported.yaml"]).expect(0);

    let plan = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "imported.yaml", "--format", "json"],
    )
    .expect(0);
    let mut actions: Vec<(String, String)> = actions(&json(&plan.stdout))
        .into_iter()
        .map(|(action, _, name)| (action, name))
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        vec![
            ("adopt".into(), "ghes".into()),
            ("adopt".into(), "ghes-apps".into()),
            ("adopt".into(), "github-main".into()),
        ],
        "only adoptions:\n{}",
        plan.stdout
    );

    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "imported.yaml", "--auto-approve"],
    )
    .expect(0);
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "imported.yaml", "--detailed-exitcode"],
    )
    .expect(0);
    run(
        work.path(),
        &sandbox,
        &["drift", "-f", "imported.yaml", "--ignore", "pending"],
    )
    .expect(0);

    // Imported again once managed: the same resources, nothing left to adopt.
    let again = run(
        work.path(),
        &sandbox,
        &["import", "--stack", "S", "--adopt"],
    )
    .expect(0);
    assert!(!again.stdout.contains("adopt:"), "{}", again.stdout);
    assert!(again.stdout.contains("github-main"), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn name_globs_filter_and_a_host_left_out_is_named_by_arn() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    hand_made_account(&sandbox.client(REGION).await).await;

    let out = run(
        work.path(),
        &sandbox,
        &["import", "--stack", "S", "--name", "ghes-*"],
    )
    .expect(0);
    assert!(out.stdout.contains("name: ghes-apps"), "{}", out.stdout);
    assert!(!out.stdout.contains("github-main"), "{}", out.stdout);
    assert!(!out.stdout.contains("hosts:"), "{}", out.stdout);
    assert!(out.stdout.contains("host_arn: arn:aws:"), "{}", out.stdout);
    assert!(!out.stdout.contains("adopt:"), "no --adopt: {}", out.stdout);
    work.write("filtered.yaml", &out.stdout);
    run_plain(work.path(), &["validate", "-f", "filtered.yaml"]).expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn hosts_sharing_a_name_are_left_out_and_the_hint_brings_one_back() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let client = sandbox.client(REGION).await;
    let mut twins = Vec::new();
    for endpoint in ["https://a.example.com", "https://b.example.com"] {
        twins.push(
            client
                .create_host()
                .name("twin")
                .provider_type(ProviderType::GitlabSelfManaged)
                .provider_endpoint(endpoint)
                .send()
                .await
                .expect("the service allows two hosts of one name")
                .host_arn
                .unwrap(),
        );
    }
    client
        .create_connection()
        .connection_name("github-main")
        .provider_type(ProviderType::Github)
        .send()
        .await
        .unwrap();

    let out = run(work.path(), &sandbox, &["import", "--stack", "S"]).expect(0);
    for arn in &twins {
        assert!(
            out.stderr.contains(arn.as_str()),
            "names {arn}: {}",
            out.stderr
        );
    }
    assert!(out.stdout.contains("github-main"), "{}", out.stdout);
    assert!(!out.stdout.contains("twin"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("Delete the hosts that should not be there, then import again"),
        "{}",
        out.stderr
    );

    // The hint: delete the extra one, import again.
    client
        .delete_host()
        .host_arn(&twins[1])
        .send()
        .await
        .unwrap();
    let again = run(work.path(), &sandbox, &["import", "--stack", "S"]).expect(0);
    assert!(again.stdout.contains("name: twin"), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schema_comment_points_from_the_written_file_to_the_schema() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    hand_made_account(&sandbox.client(REGION).await).await;
    let out = "infra/prod/platform.yaml";
    std::fs::create_dir_all(work.path().join("infra/prod")).unwrap();

    // No schema in the repository yet: the comment points where the hint
    // puts it, and the hint says how.
    let first = run(
        work.path(),
        &sandbox,
        &["import", "--stack", "S", "-o", out],
    )
    .expect(0);
    let modeline = |path: &str| {
        let yaml = std::fs::read_to_string(work.path().join(path)).unwrap();
        yaml.lines()
            .next()
            .and_then(|l| l.strip_prefix("# yaml-language-server: $schema="))
            .unwrap_or_else(|| panic!("no schema comment:\n{yaml}"))
            .to_owned()
    };
    assert_eq!(modeline(out), "../../schema/codestar-reconcile.schema.json");
    assert!(
        first
            .stderr
            .contains("`codestar-reconcile schema > schema/codestar-reconcile.schema.json`"),
        "{}",
        first.stderr
    );
    let schema = run_plain(work.path(), &["schema"]).expect(0);
    work.write("schema/codestar-reconcile.schema.json", &schema.stdout);
    let from_file = work.path().join("infra/prod").join(modeline(out));
    assert!(from_file.is_file(), "{} resolves", from_file.display());

    // Found: no hint, the same relative path.
    let second = run(
        work.path(),
        &sandbox,
        &["import", "--stack", "S", "-o", out],
    )
    .expect(0);
    assert!(
        !second.stderr.contains("does not exist"),
        "{}",
        second.stderr
    );
    assert_eq!(modeline(out), "../../schema/codestar-reconcile.schema.json");
    assert!(
        second.stderr.contains("Wrote 1 host and 2 connections"),
        "{}",
        second.stderr
    );
}
