//! `codestar-reconcile validate` as a user runs it: exit codes and where the
//! errors point.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validate(files: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codestar-reconcile"));
    cmd.arg("validate");
    for f in files {
        cmd.arg("-f").arg(f);
    }
    cmd.output().expect("the binary runs")
}

#[test]
fn valid_examples_exit_0() {
    let examples = repo().join("examples");
    let out = validate(&[
        &examples.join("minimal.yaml"),
        &examples.join("github-enterprise.yaml"),
        &examples.join("multi-target"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches(": valid").count(), 4, "{stdout}");
}

#[test]
fn a_bad_file_exits_1_with_file_line_column() {
    let bad = repo().join("tests/bad-inputs/connection-name-too-long.yaml");
    let out = validate(&[&bad]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:4:11: error: connection name", bad.display())),
        "{stderr}"
    );
    assert!(stderr.contains("names are 1-32 characters"), "{stderr}");
}

#[test]
fn errors_in_several_files_are_reported_together() {
    let dir = repo().join("tests/bad-inputs");
    let out = validate(&[&dir.join("version-2.yaml"), &dir.join("region-bad.yaml")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("version-2.yaml:1:10:"), "{stderr}");
    assert!(stderr.contains("region-bad.yaml:3:9:"), "{stderr}");
    assert!(stderr.contains("2 errors found"), "{stderr}");
}

#[test]
fn a_usage_error_exits_1_never_the_drift_code() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_codestar-reconcile"))
            .args(args)
            .output()
            .expect("the binary runs")
    };
    for args in [
        &["drift", "--no-such-flag"][..],
        &["plan", "-f"][..],
        &["import", "--local", "--stack", "web#1"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
    let bad_stack = run(&["import", "--local", "--stack", "web#1"]);
    let stderr = String::from_utf8_lossy(&bad_stack.stderr);
    assert!(
        stderr.contains("which AWS does not allow in a tag value"),
        "{stderr}"
    );
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    assert_eq!(run(&["--version"]).status.code(), Some(0));
}

#[test]
fn missing_credentials_fail_at_once_with_what_to_do() {
    let work = crate::cli::Workdir::new();
    work.write(
        "minimal.yaml",
        "version: 1\nstack: web\nregion: eu-west-1\nconnections:\n  - name: c\n    provider_type: GitHub\n",
    );
    // Nothing listens on the discard port; no request is ever sent.
    let out = crate::cli::run_plain(
        work.path(),
        &[
            "plan",
            "-f",
            "minimal.yaml",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
    )
    .expect(1);
    assert!(
        out.stderr
            .contains("no AWS credentials found: set AWS_PROFILE"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("DispatchFailure"), "{}", out.stderr);
}

#[test]
fn several_files_may_follow_one_f_as_a_shell_glob_gives_them() {
    let examples = repo().join("examples");
    let minimal = examples.join("minimal.yaml");
    let ghes = examples.join("github-enterprise.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_codestar-reconcile"))
        .arg("validate")
        .arg("-f")
        .arg(&minimal)
        .arg(&ghes)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches(": valid").count(), 2, "{stdout}");
}
