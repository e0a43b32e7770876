//! Errors in a desired-state file, each pointing at a place in it.

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::located::Pos;

/// One problem in a file: where it is, what is wrong, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; `None` when the problem has no place (an unreadable file).
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    /// The offending source lines with a caret, ready to print.
    pub snippet: Option<String>,
}

/// A place to show in a snippet: the source it is in, and an optional label
/// (the primary place of a diagnostic has none; its message says it all).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark<'a> {
    /// The file, when it differs from the diagnostic's own.
    pub file: Option<&'a Path>,
    pub source: &'a str,
    pub pos: Pos,
    pub label: Option<&'a str>,
}

impl Diagnostic {
    /// A problem with a file as a whole (unreadable, empty, not UTF-8...).
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
            snippet: None,
        }
    }

    /// A problem at `pos` in `source` (the text of `file`), with a snippet.
    pub fn at(file: &Path, source: &str, pos: Pos, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at_with(
            file,
            pos,
            message,
            &[Mark {
                file: None,
                source,
                pos,
                label: None,
            }],
        )
    }

    /// A problem at `pos` whose snippet shows several places (e.g. both
    /// definitions of a duplicate name).
    pub(crate) fn at_with(
        file: &Path,
        pos: Pos,
        message: impl Into<String>,
        marks: &[Mark<'_>],
    ) -> Diagnostic {
        let known = pos.is_known();
        Diagnostic {
            file: file.to_path_buf(),
            line: known.then_some(pos.line),
            column: known.then_some(pos.column),
            message: message.into(),
            snippet: render_snippet(marks),
        }
    }
}

/// Render marked source lines, rustc-style:
///
/// ```text
///   |
/// 3 |   - name: github-main
///   |           ^^^^^^^^^^^
/// ```
fn render_snippet(marks: &[Mark<'_>]) -> Option<String> {
    let marks: Vec<&Mark<'_>> = marks.iter().filter(|m| m.pos.is_known()).collect();
    let width = marks.iter().map(|m| m.pos.line.to_string().len()).max()?;
    let pad = " ".repeat(width);
    let mut out = String::new();
    let mut current_file: Option<&Path> = None;
    for (i, mark) in marks.iter().enumerate() {
        if mark.file != current_file || i == 0 {
            if let Some(file) = mark.file {
                let _ = writeln!(
                    out,
                    "{pad}--> {}:{}:{}",
                    file.display(),
                    mark.pos.line,
                    mark.pos.column
                );
            }
            let _ = writeln!(out, "{pad} |");
            current_file = mark.file;
        }
        let Some(line) = mark.source.lines().nth(mark.pos.line - 1) else {
            continue;
        };
        // Keep the line printable: long lines (a 10 MB one-liner) are cut,
        // control characters would garble a terminal.
        let keep = mark.pos.column.saturating_add(60).max(120);
        let total = line.chars().count();
        let mut shown: String = line
            .chars()
            .take(keep)
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect();
        if total > keep {
            shown.push_str(" …");
        }
        let _ = writeln!(out, "{:>width$} | {}", mark.pos.line, shown.trim_end());
        // Tabs stay tabs under the line so the caret lines up whatever the
        // terminal's tab width.
        let indent: String = line
            .chars()
            .take(mark.pos.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let rest = total.min(keep).saturating_sub(mark.pos.column - 1);
        let len = mark.pos.len.min(rest).max(1);
        let under = if mark.label.is_some() { "-" } else { "^" }.repeat(len);
        match mark.label {
            Some(label) => {
                let _ = writeln!(out, "{pad} | {indent}{under} {label}");
            }
            None => {
                let _ = writeln!(out, "{pad} | {indent}{under}");
            }
        }
    }
    Some(out.trim_end().to_string())
}

/// Every problem found across the files given, reported together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": error: {}", self.message)?;
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "{n} error{} found; nothing was changed",
            if n == 1 { "" } else { "s" }
        )
    }
}
