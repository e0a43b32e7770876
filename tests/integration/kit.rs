//! What users copy: shell completions, the GitHub Actions workflows and the
//! IAM policies, each checked against the CLI it drives.

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory;
use codestar_reconcile::cli::Cli;

use crate::cli::{Workdir, run, run_plain};
use crate::support::Sandbox;

#[test]
fn completions_for_each_shell_know_the_commands() {
    let work = Workdir::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = run_plain(work.path(), &["completions", shell]).expect(0);
        assert!(
            out.stdout.contains("codestar-reconcile") && out.stdout.contains("plan"),
            "{shell}:\n{}",
            out.stdout
        );
    }
    // An unknown shell is a usage error: 1, never the drift code.
    run_plain(work.path(), &["completions", "powershell"]).expect(1);
}

fn actions(policy: &serde_json::Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .expect("Statement is a list")
        .iter()
        .inspect(|s| assert_eq!(s["Effect"], "Allow", "{s}"))
        .flat_map(|s| s["Action"].as_array().expect("Action is a list").iter())
        .map(|a| a.as_str().expect("an action is a string").to_owned())
        .collect()
}

fn policy(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/iam")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The IAM actions a run of `args` needs: the emulator counts each call by
/// the action AWS authorizes it as (`codeconnections:TagResource`).
fn needs(work: &Workdir, sandbox: &Sandbox, args: &[&str]) -> BTreeSet<String> {
    let before = sandbox.actions();
    run(work.path(), sandbox, args).expect(0);
    sandbox
        .actions()
        .into_iter()
        .filter(|(action, n)| before.get(action) != Some(n))
        .map(|(action, _)| action)
        .collect()
}

/// The operation an action names, whatever its prefix.
fn operation(action: &str) -> &str {
    action.split_once(':').map_or(action, |(_, op)| op)
}

/// Every command run through each API over an account holding both ARN
/// prefixes, every kind of change made: the actions the read commands and
/// apply needed.
async fn what_the_tool_calls() -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut reads, mut writes) = (BTreeSet::new(), BTreeSet::new());
    for api in ["codestar-connections", "codeconnections"] {
        let sandbox = Sandbox::start();
        let work = Workdir::new();
        // What the console and other teams made, under both names.
        sandbox
            .codeconnections_client("eu-west-1")
            .await
            .create_connection()
            .connection_name("console")
            .provider_type(aws_sdk_codeconnections::types::ProviderType::Github)
            .send()
            .await
            .unwrap();
        sandbox
            .client("eu-west-1")
            .await
            .create_host()
            .name("old-ghes")
            .provider_type(aws_sdk_codestarconnections::types::ProviderType::GithubEnterpriseServer)
            .provider_endpoint("https://old.example.com")
            .send()
            .await
            .unwrap();
        let file = |endpoint: &str, extra: &str, git_sync: &str| {
            format!(
                "version: 1
stack: iam
region: eu-west-1
account_id: \"123456789012\"
api: {api}
hosts:
  - name: old-ghes
    provider_type: GitHubEnterpriseServer
    provider_endpoint: {endpoint}
    adopt: true
{extra}connections:
  - name: console
    provider_type: GitHub
    adopt: true
  - name: github-main
    provider_type: GitHub
    tags: {{env: prod}}
{git_sync}"
            )
        };
        // A link and a sync configuration, then both changed in place.
        let git_sync = |connection: &str, branch: &str| {
            format!(
                "repository_links:
  - repository: my-org/app
    connection: {connection}
    tags: {{env: prod}}
sync_configurations:
  - resource_name: app-prod
    repository: my-org/app
    branch: {branch}
    config_file: deploy/app.yaml
    role_arn: arn:aws:iam::123456789012:role/cfn-git-sync
"
            )
        };
        let with_host = "  - name: ghes\n    provider_type: GitHubEnterpriseServer\n    \
             provider_endpoint: https://ghes.example.com\n";
        work.write(
            "s.yaml",
            &file(
                "https://old.example.com",
                with_host,
                &git_sync("github-main", "main"),
            )
            .replace(
                "repository_links:",
                "  - name: via-ghes\n    host: ghes\nrepository_links:",
            ),
        );
        writes.extend(needs(
            &work,
            &sandbox,
            &["apply", "-f", "s.yaml", "--auto-approve"],
        ));
        // Update a host, a link and a sync configuration, change and drop
        // tags, delete a connection and a host.
        work.write(
            "s.yaml",
            &file(
                "https://new.example.com",
                "",
                &git_sync("console", "release"),
            )
            .replace("tags: {env: prod}", "tags: {team: x}"),
        );
        writes.extend(needs(
            &work,
            &sandbox,
            &["apply", "-f", "s.yaml", "--auto-approve", "--force"],
        ));
        reads.extend(needs(&work, &sandbox, &["plan", "-f", "s.yaml"]));
        reads.extend(needs(
            &work,
            &sandbox,
            &["drift", "-f", "s.yaml", "--ignore", "pending"],
        ));
        reads.extend(needs(&work, &sandbox, &["import", "--stack", "iam"]));
        // And delete the sync configuration and the link.
        work.write(
            "s.yaml",
            &file("https://new.example.com", "", "")
                .replace("tags: {env: prod}", "tags: {team: x}"),
        );
        writes.extend(needs(
            &work,
            &sandbox,
            &["apply", "-f", "s.yaml", "--auto-approve", "--force"],
        ));
    }
    (reads, writes)
}

/// The actions AWS authorizes a call as besides its own, from the Service
/// Authorization Reference's operations table (both prefixes list the
/// same): <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodeconnections.html>.
fn dependent(operation: &str) -> &'static [&'static str] {
    match operation {
        "CreateConnection" | "CreateHost" => &["TagResource"],
        "CreateRepositoryLink" => &["PassConnection", "UseConnection", "TagResource"],
        "UpdateRepositoryLink" => &["PassConnection", "UseConnection"],
        "CreateSyncConfiguration" | "UpdateSyncConfiguration" => {
            &["PassRepository", "iam:PassRole"]
        }
        _ => &[],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policies_grant_what_each_command_calls_under_both_prefixes() {
    let (reads, writes) = what_the_tool_calls().await;
    let read_only = actions(&policy("read-only.json"));
    let apply = actions(&policy("apply.json"));

    // The calls a Git sync apply makes were seen.
    for operation in [
        "CreateRepositoryLink",
        "UpdateRepositoryLink",
        "DeleteRepositoryLink",
        "CreateSyncConfiguration",
        "UpdateSyncConfiguration",
        "DeleteSyncConfiguration",
    ] {
        assert!(
            writes.iter().any(|a| a.ends_with(&format!(":{operation}"))),
            "{operation} not seen: {writes:?}"
        );
    }
    for operation in ["GetResourceSyncStatus", "GetSyncBlockerSummary"] {
        assert!(
            reads.iter().any(|a| a.ends_with(&format!(":{operation}"))),
            "{operation} not seen: {reads:?}"
        );
    }
    // Each policy grants what its commands were seen to call...
    let missing: Vec<&String> = reads.difference(&read_only).collect();
    assert!(missing.is_empty(), "read-only.json lacks {missing:?}");
    let missing: Vec<&String> = reads
        .union(&writes)
        .filter(|a| !apply.contains(*a))
        .collect();
    assert!(missing.is_empty(), "apply.json lacks {missing:?}");
    // ...both prefixes were seen, since an account holds both...
    for prefix in ["codestar-connections:", "codeconnections:"] {
        assert!(writes.iter().any(|a| a.starts_with(prefix)), "{writes:?}");
        assert!(reads.iter().any(|a| a.starts_with(prefix)), "{reads:?}");
    }
    // ...and each grants every operation under both prefixes, and nothing
    // the commands do not call.
    for (name, policy, seen) in [
        ("read-only.json", &read_only, reads.clone()),
        (
            "apply.json",
            &apply,
            reads.union(&writes).cloned().collect(),
        ),
    ] {
        for action in policy
            .iter()
            .filter(|a| !a.starts_with("sts:") && !a.starts_with("iam:"))
        {
            for prefix in ["codestar-connections", "codeconnections"] {
                let twin = format!("{prefix}:{}", operation(action));
                assert!(
                    policy.contains(&twin),
                    "{name} grants {action} but not {twin}"
                );
            }
        }
        let granted: BTreeSet<&str> = policy
            .iter()
            .map(|a| {
                if a.starts_with("iam:") {
                    a
                } else {
                    operation(a)
                }
            })
            .collect();
        let mut needed: BTreeSet<&str> = seen.iter().map(|a| operation(a)).collect();
        let dependents: Vec<&str> = needed.iter().flat_map(|o| dependent(o)).copied().collect();
        needed.extend(dependents);
        assert_eq!(
            granted, needed,
            "{name}: granted vs called (with dependent actions)"
        );
    }
}

/// The steps of a workflow's jobs.
fn steps(workflow: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    workflow["jobs"]
        .as_object()
        .expect("jobs is a mapping")
        .values()
        .flat_map(|job| job["steps"].as_array().expect("steps is a list").iter())
}

/// Whether a step uses the action at the root of this repository.
fn uses_our_action(step: &serde_json::Value) -> bool {
    step["uses"]
        .as_str()
        .is_some_and(|uses| uses.contains("/codestar-reconcile@"))
}

#[test]
fn the_workflows_run_real_commands_through_the_action_and_hold_no_secrets() {
    let subcommands: BTreeSet<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root.join("action.yml")).unwrap())
            .expect("action.yml is YAML");
    let inputs: BTreeSet<&str> = action["inputs"]
        .as_object()
        .expect("the action has inputs")
        .keys()
        .map(String::as_str)
        .collect();
    let dir = root.join("examples/github-actions");
    let mut seen = BTreeSet::new();
    for name in ["plan.yml", "apply.yml", "drift.yml"] {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("secrets."),
            "{name}: credentials come from OIDC"
        );
        let workflow: serde_json::Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"));
        for (job_name, job) in workflow["jobs"].as_object().expect("jobs is a mapping") {
            // Permissions are granted per job; a job without its own has
            // the workflow's.
            let permissions = match &job["permissions"] {
                serde_json::Value::Null => &workflow["permissions"],
                own => own,
            };
            assert_eq!(
                permissions["id-token"], "write",
                "{name}: job {job_name}: OIDC needs id-token: write"
            );
        }
        let runs: Vec<&serde_json::Value> =
            steps(&workflow).filter(|s| uses_our_action(s)).collect();
        assert!(
            !runs.is_empty(),
            "{name} runs codestar-reconcile through the action"
        );
        for step in runs {
            let with = step["with"]
                .as_object()
                .expect("the action is given inputs");
            for input in with.keys() {
                assert!(
                    inputs.contains(input.as_str()),
                    "{name}: the action has no input `{input}` ({inputs:?})"
                );
            }
            let command = with["command"].as_str().expect("command is a string");
            assert!(
                subcommands.contains(command),
                "{name}: `{command}` is not a subcommand ({subcommands:?})"
            );
            seen.insert(command.to_owned());
        }
    }
    assert_eq!(
        seen,
        ["apply", "drift", "plan"].map(String::from).into(),
        "one workflow per command"
    );
}
