//! What users copy: shell completions, the GitHub Actions workflows and the
//! IAM policies, each checked against the CLI it drives.

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory;
use codestar_reconcile::cli::Cli;

use crate::cli::{Workdir, run_plain};

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

#[test]
fn the_apply_policy_is_the_read_only_one_plus_exactly_the_writes() {
    let read_only = actions(&policy("read-only.json"));
    let apply = actions(&policy("apply.json"));
    assert!(apply.is_superset(&read_only), "{read_only:?} ⊄ {apply:?}");
    let writes: BTreeSet<&str> = apply.difference(&read_only).map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "CreateConnection",
        "DeleteConnection",
        "CreateHost",
        "DeleteHost",
        "UpdateHost",
        "TagResource",
        "UntagResource",
    ]
    .into();
    let writes: BTreeSet<&str> = writes
        .iter()
        .map(|a| {
            a.strip_prefix("codestar-connections:")
                .expect("a CodeStar action")
        })
        .collect();
    assert_eq!(writes, expected);
    assert!(
        read_only
            .iter()
            .all(|a| a.contains(":List") || a == "sts:GetCallerIdentity")
    );
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
