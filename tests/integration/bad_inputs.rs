//! The bad-input corpus (`tests/bad-inputs/`) through the real binary, as CI
//! runs it: every file is refused with exit 1 and a `file:line:column`, by
//! `plan` and by `apply`, before a single API call. How fast the slowest of
//! them are refused is measured by `cargo bench --bench scale -- bad`.

use std::path::{Path, PathBuf};

use crate::cli::{Workdir, run};
use crate::support::Sandbox;

/// The corpus, plus the two inputs git cannot hold: a 10 MB file and a
/// directory with no YAML in it.
fn corpus(work: &Workdir) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/bad-inputs exists")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    let mut big = String::from("version: 1\nstack: big\nconnections:\n");
    while big.len() < 10 * 1024 * 1024 {
        big.push_str("  - name: c\n    provider_type: GitHub\n");
    }
    files.push(work.write("ten-megabytes.yaml", &big));
    work.write("no-yaml/README.txt", "desired state lives elsewhere\n");
    files.push(work.path().join("no-yaml"));
    files
}

/// Inputs that are wrong as a whole, with no line to point at.
fn wrong_as_a_whole(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    [
        "empty.yaml",
        "only-comments.yaml",
        "ten-megabytes.yaml",
        "no-yaml",
    ]
    .contains(&name.as_ref())
}

#[test]
fn every_bad_input_is_refused_with_a_location_before_any_api_call() {
    let sandbox = Sandbox::start();
    let work = Workdir::new();
    let files = corpus(&work);
    assert!(files.len() >= 40, "only {} bad inputs", files.len());
    let location = regex::Regex::new(r"^(.+):(\d+):(\d+): error: ").unwrap();

    for path in &files {
        let shown = path.display().to_string();
        for command in [
            &["plan", "-f", &shown][..],
            &["apply", "-f", &shown, "--auto-approve"][..],
        ] {
            let out = run(work.path(), &sandbox, command);
            assert_eq!(
                out.code, 1,
                "{} {shown}: exit {}\n{}",
                command[0], out.code, out.stderr
            );
            assert!(
                out.stderr.contains("nothing was changed"),
                "{} {shown}:\n{}",
                command[0],
                out.stderr
            );
            let located: Vec<_> = out
                .stderr
                .lines()
                .filter_map(|line| location.captures(line))
                .collect();
            if wrong_as_a_whole(path) {
                assert!(
                    out.stderr.starts_with(&format!("{shown}: error: ")),
                    "{shown}:\n{}",
                    out.stderr
                );
            } else {
                assert!(
                    !located.is_empty(),
                    "{shown}: no file:line:column in\n{}",
                    out.stderr
                );
                for at in located {
                    assert_eq!(&at[1], shown, "{}", out.stderr);
                    assert!(&at[2] != "0" && &at[3] != "0", "{}", out.stderr);
                }
            }
        }
    }
    let calls = sandbox.calls();
    assert!(
        calls.is_empty(),
        "bad input reached the API (every call counted, mutating or not): {calls:?}"
    );
}

#[test]
fn the_corpus_covers_what_the_issue_lists() {
    // A rename or a deletion must not quietly drop a kind of bad input.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs");
    for name in [
        "syntax-unclosed-bracket.yaml",
        "wrong-type-tags-list.yaml",
        "unknown-top-level-key.yaml",
        "connection-name-too-long.yaml",
        "host-name-too-long.yaml",
        "too-many-tags.yaml",
        "tag-key-too-long.yaml",
        "tag-value-too-long.yaml",
        "subnets-too-many.yaml",
        "tag-key-aws-prefix.yaml",
        "dangling-host-reference.yaml",
        "duplicate-connection-name.yaml",
        "duplicate-key.yaml",
        "alias-bomb.yaml",
        "deep-nesting.yaml",
        "not-utf8.yaml",
        "empty.yaml",
    ] {
        assert!(
            dir.join(name).is_file(),
            "tests/bad-inputs/{name} is missing"
        );
    }
}
