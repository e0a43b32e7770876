//! What an apply did, change by change, and how it is shown while it runs:
//! each change's line is printed the moment its outcome is known.

use std::fmt;

use crate::plan::{Action, Change, Refusal};

/// How one change ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Done {
        arn: Option<String>,
        note: Option<Note>,
    },
    Failed(String),
    Refused(Box<Refusal>),
    NotAttempted(String),
}

/// Something a person should know about a change that was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    /// A retried delete whose first attempt had gone through.
    AlreadyGone,
    /// Created by a later attempt, after an earlier one that created nothing.
    AfterRetry,
    /// Another run (of this stack) created it after this run read the
    /// account: nothing was created twice.
    CreatedByAnotherRun,
    /// An attempt's answer was lost, then the resource was found: made by
    /// that attempt, or by another run at the same time.
    FoundAfterLostAnswer(String),
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::AlreadyGone => f.write_str("already gone"),
            Note::AfterRetry => f.write_str("after a retry"),
            Note::CreatedByAnotherRun => f.write_str(
                "another run of this stack created it after this one read the account; \
                 not created twice",
            ),
            Note::FoundAfterLostAnswer(why) => write!(
                f,
                "the answer to the create was lost ({why}), then it was found: made by that \
                 create or by another run at the same time; not created twice"
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) change: Change,
    pub(crate) outcome: Outcome,
}

/// What an apply did, change by change.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Report {
    pub(crate) entries: Vec<Entry>,
}

impl Report {
    pub(crate) fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
    pub(crate) fn not_attempted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotAttempted(_)))
    }
    pub(crate) fn refused(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Refused(_)))
    }
    pub(crate) fn done(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done { .. }))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.entries.iter().filter(|e| f(&e.outcome)).count()
    }

    /// One line: how many changes ended which way.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} of {} changes done, {} failed, {} not attempted, {} refused",
            self.done(),
            self.entries.len(),
            self.failed(),
            self.not_attempted(),
            self.refused()
        )
    }
}

/// Reports each change as it ends: a progress bar on a terminal, a line per
/// change otherwise (CI logs).
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub(crate) fn new(total: usize, terminal: bool) -> Progress {
        let bar = (terminal && total > 0).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} changes, {elapsed} {msg}",
                )
                .expect("the template is valid"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            bar
        });
        Progress { bar }
    }

    /// A change's final outcome is known: say so now.
    pub(super) fn ended(&self, entry: &Entry) {
        let line = describe(entry);
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One line for a change's outcome, as the report and progress print it.
pub(crate) fn describe(entry: &Entry) -> String {
    let c = &entry.change;
    let what = format!("{} {:?} ({})", c.kind, c.name, c.target);
    match &entry.outcome {
        Outcome::Done { arn, note } => {
            let verb = match c.action {
                Action::Create => "created",
                Action::Update => "updated",
                Action::Replace => "replaced",
                Action::Delete => "deleted",
                Action::Adopt => "adopted",
            };
            let mut line = format!("  ok      {what} {verb}");
            if let Some(arn) = arn {
                line.push_str(&format!(": {arn}"));
            }
            if let Some(note) = note {
                line.push_str(&format!(" ({note})"));
            }
            line
        }
        Outcome::Failed(why) => format!("  FAILED  {what} {}: {why}", c.action.as_str()),
        Outcome::Refused(r) => format!(
            "  REFUSED {what}: {}\n          hint: {}",
            r.message, r.hint
        ),
        Outcome::NotAttempted(why) => format!("  skipped {what} {}: {why}", c.action.as_str()),
    }
}
