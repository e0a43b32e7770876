//! Errors in a desired-state file, each pointing at a place in it.

use std::fmt;
use std::path::PathBuf;

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
