//! What users copy: shell completions, the GitHub Actions workflows and the
//! IAM policies, each checked against the CLI it drives.

use std::collections::BTreeSet;
use std::path::Path;

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
    run_plain(work.path(), &["completions", "powershell"]).expect(2);
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
