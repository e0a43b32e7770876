//! Running the real binary against a sandbox, as users and CI do.

#![allow(dead_code)] // Each test module uses a different part of the helper.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{ACCESS_KEY_ID, SECRET_ACCESS_KEY, Sandbox};

/// The outcome of one run of `codestar-reconcile`.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub(crate) fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub(crate) fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// The binary with an environment that cannot reach AWS or read the
/// developer's own profiles.
pub(crate) fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codestar-reconcile"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// The binary in `dir` running `args` against `sandbox` (region eu-west-1
/// unless the file pins another), not started yet.
pub(crate) fn against(dir: &Path, sandbox: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = command(dir);
    cmd.args(args)
        .args(["--endpoint-url", &sandbox.url()])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", "eu-west-1");
    cmd
}

/// Run the binary in `dir` against `sandbox` and wait for it.
pub(crate) fn run(dir: &Path, sandbox: &Sandbox, args: &[&str]) -> Run {
    Run::from(
        against(dir, sandbox, args)
            .output()
            .expect("run codestar-reconcile"),
    )
}

/// Run the binary in `dir` with no endpoint at all (`--local`, `validate`).
pub(crate) fn run_plain(dir: &Path, args: &[&str]) -> Run {
    Run::from(
        command(dir)
            .args(args)
            .output()
            .expect("run codestar-reconcile"),
    )
}

/// A scratch directory with one desired-state file in it.
pub(crate) struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub(crate) fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `name` in the directory; returns its path.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dirs");
        }
        std::fs::write(&path, text).expect("write a test file");
        path
    }
}

/// A desired-state file of `connections` connections and `hosts` GHES
/// hosts; every third connection uses a host, the others are tagged GitHub
/// ones.
pub(crate) fn fleet(stack: &str, region: &str, connections: usize, hosts: usize) -> String {
    let mut file = format!("version: 1\nstack: {stack}\nregion: {region}\n");
    if hosts > 0 {
        file.push_str("hosts:\n");
    }
    for i in 0..hosts {
        file.push_str(&format!(
            "  - name: ghes-{i}\n    provider_type: GitHubEnterpriseServer\n    provider_endpoint: https://ghes{i}.example.com\n"
        ));
    }
    file.push_str("connections:\n");
    for i in 0..connections {
        if i % 3 == 0 && hosts > 0 {
            file.push_str(&format!(
                "  - name: conn-{i}\n    host: ghes-{}\n",
                i % hosts
            ));
        } else {
            file.push_str(&format!(
                "  - name: conn-{i}\n    provider_type: GitHub\n    tags: {{n: \"{i}\"}}\n"
            ));
        }
    }
    file
}

/// A command's stdout as JSON, or a panic showing it.
pub(crate) fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The (action, kind, name) of every change of a JSON plan.
pub(crate) fn actions(plan: &serde_json::Value) -> Vec<(String, String, String)> {
    plan["changes"]
        .as_array()
        .expect("changes is a list")
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_owned(),
                c["kind"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Filters for snapshots: ARNs' random parts and temp paths vary by run.
#[macro_export]
macro_rules! assert_output_snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r"connection/[0-9a-f-]{36}", "connection/[UUID]"),
            (r"host/([A-Za-z0-9_.-]+)-[0-9a-f]{8}", "host/$1-[HEX]"),
            (r"[0-9a-f]{64}", "[SHA256]"),
            (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
        ]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}
