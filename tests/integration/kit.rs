//! What users copy: shell completions, the GitHub Actions workflows and the
//! IAM policies, each checked against the CLI it drives.

use std::collections::BTreeSet;
use std::path::Path;

use clap::{CommandFactory, Parser};
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

/// Every `run:` script of a workflow.
fn run_scripts(workflow: &serde_json::Value) -> Vec<String> {
    workflow["jobs"]
        .as_object()
        .expect("jobs is a mapping")
        .values()
        .flat_map(|job| job["steps"].as_array().expect("steps is a list").iter())
        .filter_map(|step| step["run"].as_str().map(str::to_owned))
        .collect()
}

/// The arguments of each line that runs the tool, up to the first shell
/// operator (redirections, pipes, `&&`).
fn invocations(script: &str) -> Vec<Vec<String>> {
    script
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("codestar-reconcile "))
        .map(|line| {
            line.split_whitespace()
                .take_while(|word| {
                    !word.starts_with('>') && !["|", "||", "&&", ";", "2>&1"].contains(word)
                })
                .map(|word| word.trim_matches('"').to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn the_workflows_run_only_real_commands_and_hold_no_secrets() {
    let subcommands: BTreeSet<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github-actions");
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
        assert_eq!(
            workflow["permissions"]["id-token"], "write",
            "{name}: OIDC needs id-token: write"
        );
        let runs: Vec<Vec<String>> = run_scripts(&workflow)
            .iter()
            .flat_map(|s| invocations(s))
            .collect();
        assert!(!runs.is_empty(), "{name} runs codestar-reconcile");
        for args in runs {
            assert!(
                subcommands.contains(&args[1]),
                "{name}: `{}` is not a subcommand ({subcommands:?})",
                args[1]
            );
            if let Err(e) = Cli::try_parse_from(&args) {
                panic!("{name}: `{}` does not parse:\n{e}", args.join(" "));
            }
            seen.insert(args[1].clone());
        }
    }
    assert_eq!(
        seen,
        ["apply", "drift", "plan"].map(String::from).into(),
        "one workflow per command"
    );
}
