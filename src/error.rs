//! The one error type of the tool, and the one place that maps outcomes to
//! exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::interrupt::Signal;
use crate::spec::Diagnostics;

/// How a command that ran to the end went, as the process exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success; with `--detailed-exitcode`, also "no changes".
    Success,
    /// 2: changes pending (`plan --detailed-exitcode`) or drift found.
    Changes,
    /// 3: a safety guard refused the plan; nothing was changed.
    Refused,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Changes => 2,
            Exit::Refused => 3,
        }
    }
}

/// Everything that stops a command. Each variant carries what its message
/// needs; all of them exit 1, but an interruption (130 or 143).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Spec(Diagnostics),

    #[error("{message}")]
    Usage { message: String },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{context}: {message}")]
    Api { context: String, message: String },

    /// The credentials, endpoint or sandbox are not the ones the file or the
    /// saved plan is for.
    #[error("{0}")]
    WrongTarget(String),

    /// A saved plan edited or truncated after it was saved, or not a plan.
    #[error("{0}")]
    BadPlanFile(String),

    /// SIGINT or SIGTERM stopped the command; `message` says what was done.
    #[error("Interrupted by {}: {message}", signal.name())]
    Interrupted { signal: Signal, message: String },

    /// The person at the terminal did not confirm.
    #[error("apply cancelled; nothing was changed")]
    Cancelled,

    /// A saved plan that no longer describes what apply would do.
    #[error(
        "the saved plan is stale: {0}; nothing was applied. Run plan again and review the new plan"
    )]
    Stale(String),

    /// Apply ran but the account does not match the file afterwards.
    #[error("{0}")]
    Incomplete(String),

    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn api(context: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Api {
            context: context.into(),
            message: message.into(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Interrupted { signal, .. } => ExitCode::from(signal.exit_code()),
            _ => ExitCode::from(1),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
