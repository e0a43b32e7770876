//! The tool in an account that holds both ARN prefixes, as every account
//! made before and after July 2024 does: `api:` picks the name new resources
//! are made under, and nothing else; each resource is read, adopted, tagged,
//! updated and deleted through the API its ARN names.

use aws_sdk_codeconnections::types::ProviderType as NewProviderType;
use aws_sdk_codestarconnections::types::ProviderType;

use crate::cli::{Workdir, actions, json, run};
use crate::support::Sandbox;

const REGION: &str = "eu-west-1";
const OLD: &str = "arn:aws:codestar-connections:";
const NEW: &str = "arn:aws:codeconnections:";

/// A stack with a host, a connection through it and a GitHub connection,
/// made through `api` (`None`: the file does not say).
fn stack(api: Option<&str>, endpoint: &str) -> String {
    let api = api.map(|a| format!("api: {a}\n")).unwrap_or_default();
    format!(
        "version: 1
stack: both
region: {REGION}
{api}hosts:
  - name: ghes
    provider_type: GitHubEnterpriseServer
    provider_endpoint: {endpoint}
    tags: {{env: prod}}
connections:
  - name: via-ghes
    host: ghes
  - name: github-main
    provider_type: GitHub
    tags: {{env: prod}}
"
    )
}

/// Every connection and host ARN in the account, read through the older API.
async fn every_arn(sandbox: &Sandbox) -> Vec<String> {
    let client = sandbox.client(REGION).await;
    let mut arns: Vec<String> = client
        .list_connections()
        .send()
        .await
        .unwrap()
        .connections()
        .iter()
        .filter_map(|c| c.connection_arn().map(str::to_owned))
        .collect();
    arns.extend(
        client
            .list_hosts()
            .send()
            .await
            .unwrap()
            .hosts()
            .iter()
            .filter_map(|h| h.host_arn().map(str::to_owned)),
    );
    arns.sort();
    arns
}

/// The tags of `arn`, read through the API its prefix names.
async fn tags_of(sandbox: &Sandbox, arn: &str) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = if arn.starts_with(NEW) {
        sandbox
            .codeconnections_client(REGION)
            .await
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    } else {
        sandbox
            .client(REGION)
            .await
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    };
    tags.sort();
    tags
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_applied_with_api_codeconnections_creates_codeconnections_arns() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write(
        "s.yaml",
        &stack(Some("codeconnections"), "https://ghes.example.com"),
    );
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "s.yaml", "--auto-approve"],
    )
    .expect(0);
    let arns = every_arn(&sandbox).await;
    assert_eq!(arns.len(), 3, "{arns:?}");
    assert!(arns.iter().all(|a| a.starts_with(NEW)), "{arns:?}");
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "s.yaml", "--detailed-exitcode"],
    )
    .expect(0);
    run(
        work.path(),
        &sandbox,
        &["drift", "-f", "s.yaml", "--ignore", "pending"],
    )
    .expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_flag_names_the_api_where_the_file_does_not() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write("s.yaml", &stack(None, "https://ghes.example.com"));
    run(
        work.path(),
        &sandbox,
        &[
            "apply",
            "-f",
            "s.yaml",
            "--auto-approve",
            "--api",
            "codeconnections",
        ],
    )
    .expect(0);
    let arns = every_arn(&sandbox).await;
    assert!(arns.iter().all(|a| a.starts_with(NEW)), "{arns:?}");

    // Without either, the older name, as before.
    let fresh = Sandbox::start();
    run(
        work.path(),
        &fresh,
        &["apply", "-f", "s.yaml", "--auto-approve"],
    )
    .expect(0);
    let arns = every_arn(&fresh).await;
    assert!(arns.iter().all(|a| a.starts_with(OLD)), "{arns:?}");
}

#[test]
fn an_api_flag_that_contradicts_the_file_is_refused_before_any_call() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write(
        "s.yaml",
        &stack(Some("codeconnections"), "https://ghes.example.com"),
    );
    let out = run(
        work.path(),
        &sandbox,
        &["plan", "-f", "s.yaml", "--api", "codestar-connections"],
    )
    .expect(1);
    assert!(
        out.stderr.contains(
            "s.yaml says api: codeconnections, but --api codestar-connections was given; \
             drop --api or change the file"
        ),
        "{}",
        out.stderr
    );
    assert!(sandbox.calls().is_empty(), "{:?}", sandbox.calls());
    // The hint works: dropped, the same plan runs.
    run(work.path(), &sandbox, &["plan", "-f", "s.yaml"]).expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn switching_a_stacks_api_plans_no_change_and_every_change_uses_the_arns_own_api() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write(
        "s.yaml",
        &stack(Some("codeconnections"), "https://ghes.example.com"),
    );
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "s.yaml", "--auto-approve"],
    )
    .expect(0);
    let before = every_arn(&sandbox).await;

    // Moved to the older name: the same resources, nothing to do.
    work.write(
        "s.yaml",
        &stack(Some("codestar-connections"), "https://ghes.example.com"),
    );
    let plan = run(
        work.path(),
        &sandbox,
        &[
            "plan",
            "-f",
            "s.yaml",
            "--format",
            "json",
            "--detailed-exitcode",
        ],
    )
    .expect(0);
    assert!(actions(&json(&plan.stdout)).is_empty(), "{}", plan.stdout);

    // An update and a tag change on a codeconnections host, and a new
    // connection through it, under the older name: the older API refuses a
    // codeconnections host ARN, so these only succeed through the ARN's own
    // API.
    let changed = stack(Some("codestar-connections"), "https://ghes2.example.com").replacen(
        "tags: {env: prod}",
        "tags: {env: staging}",
        1,
    ) + "  - name: via-ghes-2\n    host: ghes\n";
    work.write("s.yaml", &changed);
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "s.yaml", "--auto-approve"],
    )
    .expect(0);
    let after = every_arn(&sandbox).await;
    assert_eq!(after.len(), 4, "{after:?}");
    assert!(
        before.iter().all(|a| after.contains(a)),
        "updated in place: {before:?} then {after:?}"
    );
    let host = before.iter().find(|a| a.contains(":host/")).unwrap();
    let got = sandbox
        .codeconnections_client(REGION)
        .await
        .get_host()
        .host_arn(host)
        .send()
        .await
        .unwrap();
    assert_eq!(got.provider_endpoint(), Some("https://ghes2.example.com"));
    assert!(
        tags_of(&sandbox, host)
            .await
            .contains(&("env".into(), "staging".into())),
        "{:?}",
        tags_of(&sandbox, host).await
    );

    // And deletes, the same way.
    work.write(
        "s.yaml",
        "version: 1\nstack: both\nregion: eu-west-1\napi: codestar-connections\n",
    );
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "s.yaml", "--auto-approve", "--force"],
    )
    .expect(0);
    assert!(every_arn(&sandbox).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_with_both_prefixes_plans_empty_once_converged() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    // Half the stack made under the older name...
    work.write(
        "s.yaml",
        "version: 1
stack: both
region: eu-west-1
hosts:
  - name: ghes-old
    provider_type: GitLabSelfManaged
    provider_endpoint: https://gitlab.example.com
connections:
  - name: old-one
    provider_type: GitHub
",
    );
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "s.yaml", "--auto-approve"],
    )
    .expect(0);
    let first = every_arn(&sandbox).await;
    // ...the rest under the new one, including a connection on the older
    // host, which the newer API takes.
    work.write(
        "s.yaml",
        "version: 1
stack: both
region: eu-west-1
api: codeconnections
hosts:
  - name: ghes-old
    provider_type: GitLabSelfManaged
    provider_endpoint: https://gitlab.example.com
  - name: ghes
    provider_type: GitHubEnterpriseServer
    provider_endpoint: https://ghes.example.com
connections:
  - name: old-one
    provider_type: GitHub
  - name: new-one
    provider_type: Bitbucket
  - name: via-ghes
    host: ghes
  - name: via-ghes-old
    host: ghes-old
",
    );
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "s.yaml", "--auto-approve"],
    )
    .expect(0);
    let second = every_arn(&sandbox).await;
    let added: Vec<&String> = second.iter().filter(|a| !first.contains(a)).collect();
    assert_eq!(added.len(), 4, "{added:?}");
    assert!(added.iter().all(|a| a.starts_with(NEW)), "{added:?}");
    assert!(first.iter().all(|a| a.starts_with(OLD)), "{first:?}");
    // And what the console and other teams made, under both names.
    let old = sandbox.client(REGION).await;
    let new = sandbox.codeconnections_client(REGION).await;
    old.create_connection()
        .connection_name("theirs-old")
        .provider_type(ProviderType::Github)
        .send()
        .await
        .unwrap();
    new.create_connection()
        .connection_name("theirs-new")
        .provider_type(NewProviderType::Gitlab)
        .send()
        .await
        .unwrap();

    let arns = every_arn(&sandbox).await;
    assert!(arns.iter().any(|a| a.starts_with(OLD)), "{arns:?}");
    assert!(arns.iter().any(|a| a.starts_with(NEW)), "{arns:?}");
    for api in ["codeconnections", "codestar-connections"] {
        let file = std::fs::read_to_string(work.path().join("s.yaml"))
            .unwrap()
            .replace("api: codeconnections", &format!("api: {api}"));
        work.write(&format!("{api}.yaml"), &file);
        run(
            work.path(),
            &sandbox,
            &["plan", "-f", &format!("{api}.yaml"), "--detailed-exitcode"],
        )
        .expect(0);
        run(
            work.path(),
            &sandbox,
            &["drift", "-f", &format!("{api}.yaml"), "--ignore", "pending"],
        )
        .expect(0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_made_connection_is_adopted_through_either_api() {
    for api in ["codestar-connections", "codeconnections"] {
        let sandbox = Sandbox::start();
        let work = Workdir::new();
        // As the console makes them since July 2024: a codeconnections ARN,
        // no tags.
        let made = sandbox
            .codeconnections_client(REGION)
            .await
            .create_connection()
            .connection_name("console-made")
            .provider_type(NewProviderType::Github)
            .send()
            .await
            .unwrap()
            .connection_arn()
            .to_owned();
        work.write(
            "s.yaml",
            &format!(
                "version: 1
stack: both
region: {REGION}
api: {api}
connections:
  - name: console-made
    provider_type: GitHub
    adopt: true
    tags: {{team: platform}}
"
            ),
        );
        let plan = run(
            work.path(),
            &sandbox,
            &["plan", "-f", "s.yaml", "--format", "json"],
        )
        .expect(0);
        let plan = json(&plan.stdout);
        assert_eq!(
            actions(&plan),
            vec![("adopt".into(), "connection".into(), "console-made".into())],
            "{api}: {plan}"
        );
        assert_eq!(plan["changes"][0]["arn"], made.as_str(), "{api}: {plan}");
        assert_eq!(plan["targets"][0]["api"], api, "{plan}");
        run(
            work.path(),
            &sandbox,
            &["apply", "-f", "s.yaml", "--auto-approve"],
        )
        .expect(0);
        assert_eq!(every_arn(&sandbox).await, vec![made.clone()], "{api}");
        let tags = tags_of(&sandbox, &made).await;
        assert!(
            tags.contains(&("codestar-reconcile:stack".into(), "both".into()))
                && tags.contains(&("team".into(), "platform".into())),
            "{api}: {tags:?}"
        );
        run(
            work.path(),
            &sandbox,
            &["plan", "-f", "s.yaml", "--detailed-exitcode"],
        )
        .expect(0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn import_writes_the_api_asked_for_and_keeps_every_arn_as_reported() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let old = sandbox.client(REGION).await;
    let new = sandbox.codeconnections_client(REGION).await;
    // A host under one name, used by a connection made under the other:
    // a host of this file, named by name. And a connection on a host the
    // import leaves out is named by the host's ARN, as reported.
    let host = old
        .create_host()
        .name("ghes")
        .provider_type(ProviderType::GithubEnterpriseServer)
        .provider_endpoint("https://ghes.example.com")
        .send()
        .await
        .unwrap()
        .host_arn()
        .unwrap()
        .to_owned();
    new.create_connection()
        .connection_name("via-ghes")
        .host_arn(&host)
        .send()
        .await
        .unwrap();
    let other_host = new
        .create_host()
        .name("other-ghes")
        .provider_type(NewProviderType::GithubEnterpriseServer)
        .provider_endpoint("https://other.example.com")
        .send()
        .await
        .unwrap()
        .host_arn()
        .unwrap()
        .to_owned();
    new.create_connection()
        .connection_name("via-other")
        .host_arn(&other_host)
        .send()
        .await
        .unwrap();

    run(
        work.path(),
        &sandbox,
        &[
            "import",
            "--stack",
            "both",
            "--adopt",
            "--api",
            "codeconnections",
            "--name",
            "ghes",
            "--name",
            "via-*",
            "-o",
            "imported.yaml",
        ],
    )
    .expect(0);
    let yaml = std::fs::read_to_string(work.path().join("imported.yaml")).unwrap();
    assert!(yaml.contains("\napi: codeconnections\n"), "{yaml}");
    assert!(yaml.contains("host: ghes\n"), "{yaml}");
    assert!(
        yaml.contains(&format!("host_arn: {other_host}\n")),
        "{yaml}"
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

    // Without --api, no api: line: the file keeps the default.
    let plain = run(work.path(), &sandbox, &["import", "--stack", "both"]).expect(0);
    assert!(!plain.stdout.contains("api:"), "{}", plain.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_endpoint_url_codeconnections_is_honoured() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    work.write(
        "s.yaml",
        &stack(Some("codeconnections"), "https://ghes.example.com"),
    );
    // No --endpoint-url: the service-specific variables point at the sandbox.
    let out = crate::cli::command(work.path())
        .args(["apply", "-f", "s.yaml", "--auto-approve"])
        .env("AWS_ACCESS_KEY_ID", crate::support::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", crate::support::SECRET_ACCESS_KEY)
        .env("AWS_ENDPOINT_URL_CODECONNECTIONS", sandbox.url())
        .env("AWS_ENDPOINT_URL_STS", sandbox.url())
        .output()
        .unwrap();
    let out = crate::cli::Run::from(out).expect(0);
    assert!(out.stdout.contains("github-main"), "{}", out.stdout);
    let arns = every_arn(&sandbox).await;
    assert_eq!(arns.len(), 3, "{arns:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_arn_written_with_the_other_prefix_names_the_same_host() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let host = sandbox
        .client(REGION)
        .await
        .create_host()
        .name("shared-ghes")
        .provider_type(ProviderType::GithubEnterpriseServer)
        .provider_endpoint("https://ghes.example.com")
        .send()
        .await
        .unwrap()
        .host_arn()
        .unwrap()
        .to_owned();
    // The file names the host with the newer prefix; the account reports
    // the older one.
    let renamed = host.replacen("codestar-connections", "codeconnections", 1);
    work.write(
        "s.yaml",
        &format!(
            "version: 1\nstack: s\nregion: {REGION}\napi: codeconnections\nconnections:\n  - name: on-shared\n    host_arn: {renamed}\n"
        ),
    );
    run(
        work.path(),
        &sandbox,
        &["apply", "-f", "s.yaml", "--auto-approve"],
    )
    .expect(0);
    let connections = sandbox
        .client(REGION)
        .await
        .list_connections()
        .send()
        .await
        .unwrap();
    assert_eq!(connections.connections().len(), 1);
    run(
        work.path(),
        &sandbox,
        &["plan", "-f", "s.yaml", "--detailed-exitcode"],
    )
    .expect(0);
    run(
        work.path(),
        &sandbox,
        &["drift", "-f", "s.yaml", "--ignore", "pending"],
    )
    .expect(0);
}
