//! What users copy: shell completions, the GitHub Actions workflows and the
//! IAM policies, each checked against the CLI it drives.

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
