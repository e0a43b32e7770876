//! Reading desired-state files: paths to [`Target`]s, or every problem found.
//!
//! Each file is read, parsed strictly with serde-saphyr (within budgets, so a
//! hostile file fails fast), then validated. Problems in one file do not hide
//! problems in the next: everything is reported together.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use schemars::generate::SchemaSettings;

use super::diagnostic::Mark;
use super::file::File;
use super::located::Pos;
use super::validate;
use super::{Diagnostic, Diagnostics, Target};

/// Larger than any real file (even 250 connections and 50 hosts with 200
/// tags each stay under about 1.5 MiB), small enough to parse quickly.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// YAML nodes in the largest real file (300 resources of 200 tags) with room
/// to spare; a flood of tiny nodes stops here instead of being parsed.
const MAX_NODES: usize = 200_000;

/// Nesting a valid file needs: document, `hosts`, a host, `vpc`, `subnet_ids`.
const MAX_DEPTH: usize = 12;

/// Read every file named (a directory stands for the `*.yaml` and `*.yml`
/// files directly in it, in name order) into targets, or report every problem
/// in all of them.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Target>, Diagnostics> {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        match expand(path) {
            Ok(found) => {
                for file in found {
                    if !files.contains(&file) {
                        files.push(file);
                    }
                }
            }
            Err(d) => diagnostics.push(d),
        }
    }

    let mut loaded = Vec::new();
    for path in &files {
        match load_file(path) {
            Ok(one) => loaded.push(one),
            Err(mut ds) => diagnostics.append(&mut ds),
        }
    }
    diagnostics.extend(check_targets_distinct(&loaded));

    if diagnostics.is_empty() {
        Ok(loaded.into_iter().map(|l| l.target).collect())
    } else {
        Err(Diagnostics(diagnostics))
    }
}

/// A file that parsed and validated, with what cross-file checks need.
struct Loaded {
    source: String,
    stack_pos: Pos,
    target: Target,
}

/// The files a command-line path stands for.
fn expand(path: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let meta = fs::metadata(path).map_err(|e| Diagnostic::whole_file(path, read_error(&e)))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = fs::read_dir(path).map_err(|e| Diagnostic::whole_file(path, read_error(&e)))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Diagnostic::whole_file(
            path,
            "this directory has no .yaml or .yml files; give a directory of desired-state files or a file",
        ));
    }
    Ok(files)
}

fn read_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => format!("cannot read: {e}"),
    }
}

fn load_file(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let whole = |m: String| vec![Diagnostic::whole_file(path, m)];
    let size = fs::metadata(path).map_err(|e| whole(read_error(&e)))?.len();
    if size > MAX_FILE_BYTES {
        return Err(whole(format!(
            "file is {} bytes; a desired-state file may be at most {MAX_FILE_BYTES} bytes (2 MiB): split it into several files",
            size
        )));
    }
    let bytes = fs::read(path).map_err(|e| whole(read_error(&e)))?;
    let source = decode(path, bytes).map_err(|d| vec![d])?;
    if is_blank(&source) {
        return Err(whole(
            "file is empty; a desired-state file needs at least `version: 1` and `stack: NAME`"
                .to_string(),
        ));
    }
    let file = parse(path, &source).map_err(|d| vec![d])?;
    let (target, stack_pos) = validate::validate(path, &source, file)?;
    Ok(Loaded {
        source,
        stack_pos,
        target,
    })
}

/// The text of a file, or where its first non-UTF-8 byte is.
fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let good = &bytes[..e.utf8_error().valid_up_to()];
        // `good` is valid UTF-8 by construction.
        let before = std::str::from_utf8(good).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        let bad = bytes[good.len()];
        Diagnostic {
            file: path.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: format!(
                "byte 0x{bad:02X} is not UTF-8; save the file as UTF-8 (without a byte order mark if your editor offers one)"
            ),
            snippet: None,
        }
    })
}

/// Nothing but whitespace and comments: YAML would read it as "no document",
/// which is never what the user meant.
fn is_blank(source: &str) -> bool {
    source
        .lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

/// The strict parse: unknown keys, wrong types, duplicate keys and syntax
/// errors stop here with a location.
fn parse(path: &Path, source: &str) -> Result<File, Diagnostic> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_anchors: 1_000,
            max_aliases: 10_000,
            max_nodes: MAX_NODES,
            max_events: 2 * MAX_NODES + 1_000,
            // One `&common` tag set merged into every resource is the normal
            // use of anchors; the replay limits below stop real bombs.
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 20_000,
            max_replay_stack_depth: 8,
        },
        // `yes`/`no`/`on`/`off` as booleans surprise people; `true`/`false` only.
        strict_booleans: true,
        // A CloudFormation habit like `!Ref X` must not silently become "X".
        reject_unsupported_tags: true,
        // We render our own snippets, the same way for every error.
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<File>(source, options)
        .map_err(|err| parse_diagnostic(path, source, &err))
}

fn parse_diagnostic(path: &Path, source: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let inner = err.without_snippet();
    let mut message = explain(inner);
    if message.contains("tabs disallowed") {
        message.push_str("; indent with spaces: YAML does not allow tabs there");
    }
    let pos = inner.location().map(Pos::from).unwrap_or_default();
    if pos.is_known() {
        Diagnostic::at(path, source, pos, message)
    } else {
        Diagnostic::whole_file(path, message)
    }
}

/// serde-saphyr's message, reworded where a new user would not know what
/// it means or what to do.
fn explain(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let bomb = "the file expands to far more than a desired-state file can hold; check its anchors (&), aliases (*) and merge keys (<<)";
    match err {
        E::AliasError { error, .. } => explain(error),
        E::Unexpected { expected, .. } => match *expected {
            "mapping start" => "expected a mapping (`key: value` entries) here".to_string(),
            "sequence start" => "expected a list (`- item` entries, or `[a, b]`) here".to_string(),
            other => format!("expected {other} here"),
        },
        E::InvalidScalar { ty, .. } => match *ty {
            "bool" => "expected true or false here".to_string(),
            "u32" | "u64" | "usize" => "expected a whole number, 0 or more, here".to_string(),
            other => format!("expected a value of type {other} here"),
        },
        E::Budget { breach, .. } => match breach {
            B::Documents { .. } => "a second YAML document (`---`) starts here; a desired-state file holds one document: put each target in its own file".to_string(),
            B::Depth { .. } => format!("nested more than {MAX_DEPTH} levels deep; a desired-state file never needs that"),
            B::Nodes { .. } | B::Events { .. } => format!("the file has more than {MAX_NODES} YAML values; even 250 connections and 50 hosts with 200 tags each need fewer: split it into several files"),
            _ => bomb.to_string(),
        },
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => bomb.to_string(),
        E::SerdeUnknownField {
            field, expected, ..
        } => unknown_key(field, expected),
        E::NullIntoString { .. } => {
            "expected a value here, found nothing (null); quote it (\"\") if it is meant to be empty".to_string()
        }
        _ => serde_saphyr::MessageFormatter::format_message(&serde_saphyr::UserMessageFormatter, err)
            .into_owned(),
    }
}

/// An unknown key, with the likeliest key meant when it is a near miss
/// (`protct`, `provider-type`, `host_ARN`).
fn unknown_key(original: &str, expected: &[&str]) -> String {
    let field = original;
    let folded = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let field = folded(field);
    let guess = expected
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&field, k), *k))
        .filter(|(distance, k)| {
            *distance <= 2.max(k.len() / 4) || (field.len() >= 4 && k.starts_with(&field))
        })
        .min();
    let allowed = expected
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match guess {
        Some((_, key)) => {
            format!("unknown key `{original}`: did you mean `{key}`? (allowed here: {allowed})")
        }
        None => format!("unknown key `{original}` (allowed here: {allowed})"),
    }
}

/// Two files for the same stack in the same Region would each delete what
/// the other creates.
fn check_targets_distinct(loaded: &[Loaded]) -> Vec<Diagnostic> {
    let mut seen: BTreeMap<(String, Option<String>), &Loaded> = BTreeMap::new();
    let mut out = Vec::new();
    for one in loaded {
        let t = &one.target;
        let key = (t.stack.clone(), t.region.clone());
        match seen.get(&key) {
            Some(first)
                if !(first.target.account_id.is_some()
                    && t.account_id.is_some()
                    && first.target.account_id != t.account_id) =>
            {
                let region = t
                    .region
                    .as_deref()
                    .map_or("the default Region".to_string(), |r| format!("Region {r}"));
                let message = format!(
                    "stack \"{}\" in {region} is also declared by {}:{}:{}; each stack may have one file per Region (use another stack name, or merge the files)",
                    t.stack,
                    first.target.source.display(),
                    first.stack_pos.line,
                    first.stack_pos.column,
                );
                out.push(Diagnostic::at_with(
                    &t.source,
                    one.stack_pos,
                    message,
                    &[
                        Mark {
                            file: Some(&first.target.source),
                            source: &first.source,
                            pos: first.stack_pos,
                            label: Some("first declared here"),
                        },
                        Mark {
                            file: Some(&t.source),
                            source: &one.source,
                            pos: one.stack_pos,
                            label: None,
                        },
                    ],
                ));
            }
            Some(_) => {}
            None => {
                seen.insert(key, one);
            }
        }
    }
    out
}

/// The JSON Schema of the desired-state file, generated from [`File`]: what
/// `codestar-reconcile schema` prints and `schema/` commits.
pub fn json_schema_string() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<File>();
    serde_json::to_string_pretty(&schema).expect("a schema is plain JSON")
}
