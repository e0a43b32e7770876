//! Puts the commit into `--version`: `codestar-reconcile 0.1.0 (abc1234
//! 2026-11-30)`. Built outside a git checkout of this crate (a source
//! tarball, a vendored copy, no `git` on PATH) it is the bare version.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let version = std::env::var("CARGO_PKG_VERSION").expect("set by cargo");
    let long = match commit(&manifest_dir) {
        Some((hash, date)) => format!("{version} ({hash} {date})"),
        None => version,
    };
    println!("cargo:rustc-env=CODESTAR_RECONCILE_VERSION={long}");
}

/// The short hash and commit date of HEAD, when this crate is the top of a
/// git work tree.
fn commit(manifest_dir: &Path) -> Option<(String, String)> {
    let toplevel = git(manifest_dir, &["rev-parse", "--show-toplevel"])?;
    // A crate unpacked inside some other repository must not take its commit.
    if Path::new(&toplevel).canonicalize().ok()? != manifest_dir.canonicalize().ok()? {
        return None;
    }
    // Rerun after a commit or checkout, and at no other time: HEAD, the
    // branch it names (its loose ref, or refs/heads until that exists) and
    // packed-refs are what those change. Only existing paths: cargo reruns a
    // script that watches a missing file on every build.
    let git_dir = PathBuf::from(git(manifest_dir, &["rev-parse", "--absolute-git-dir"])?);
    let common_dir = PathBuf::from(git(
        manifest_dir,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )?);
    let mut watched = vec![git_dir.join("HEAD"), common_dir.join("packed-refs")];
    if let Some(branch) = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        let loose = common_dir.join(&branch);
        watched.push(if loose.exists() {
            loose
        } else {
            common_dir.join("refs").join("heads")
        });
    }
    for path in watched.iter().filter(|path| path.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let line = git(
        manifest_dir,
        &["log", "-1", "--format=%h %cs", "--abbrev=7"],
    )?;
    let (hash, date) = line.split_once(' ')?;
    Some((hash.to_string(), date.to_string()))
}

/// The trimmed output of a successful `git` run, else `None`.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}
