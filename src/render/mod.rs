//! Rendering a [`Plan`] for people and machines.
//!
//! Three views of the one plan value, so they can never disagree: `text`
//! for terminals (Terraform-like), `markdown` for pull-request comments,
//! `json` for bots and for `apply` to read back. The field diff shown by
//! text and markdown is computed once, in the `diff` module.

mod diff;
mod drift;
mod json;
mod markdown;
mod text;
pub(crate) mod words;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::IsTerminal;

use crate::plan::{Action, Plan, Summary};

/// The handshake worklist for a terminal or a log: a line per connection
/// or host waiting for a person, with where to complete it.
pub(crate) fn worklist_text(list: &[crate::plan::Handshake]) -> String {
    let mut out = String::new();
    if list.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\nHandshakes to complete in the AWS console ({}):",
        list.len()
    );
    for h in list {
        let _ = writeln!(out, "  [ ] {}", worklist_item(h));
    }
    out
}

/// `connection "github" (arn…) in account 111111111111, eu-west-1: PENDING; open <page> and
/// choose …`.
pub(crate) fn worklist_item(h: &crate::plan::Handshake) -> String {
    let place = match &h.account_id {
        Some(account) => format!("account {account}, {}", h.region),
        None => format!("{} ({})", h.region, h.target),
    };
    let arn = h
        .arn
        .as_deref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    let when = match h.waiting {
        crate::plan::Waiting::Now => "PENDING",
        crate::plan::Waiting::AfterApply => "PENDING once applied",
    };
    let action = match h.kind {
        crate::resource::Kind::Host => "the Hosts tab, the host, then Set up host",
        _ => "the connection, then Update pending connection",
    };
    format!(
        "{} {:?}{arn} in {place}: {when}; open {} and choose {action}",
        h.kind, h.name, h.console
    )
}

#[cfg(test)]
pub(crate) use drift::detail as finding_detail;
pub(crate) use drift::render_drift;
pub(crate) use json::plan_json;
pub(crate) use markdown::plan_markdown;
pub(crate) use text::plan_text;

/// The output formats `plan` and `drift` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Terraform-like text, coloured on a terminal.
    Text,
    /// A pull-request comment (GitHub-flavoured markdown, at most 65,536 characters).
    Markdown,
    /// The plan value itself, versioned (`format_version`).
    Json,
}

impl Format {
    pub(crate) const ALL: [Format; 3] = [Format::Text, Format::Markdown, Format::Json];

    /// As the command line spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Json => "json",
        }
    }

    /// One line for `--help`.
    pub(crate) fn help(self) -> &'static str {
        match self {
            Format::Text => "Terraform-like text, coloured on a terminal",
            Format::Markdown => {
                "A pull-request comment (GitHub-flavoured markdown, at most 65,536 characters)"
            }
            Format::Json => "The plan or report as data, versioned (`format_version`)",
        }
    }
}

/// How text output may be decorated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Style {
    /// Whether to emit ANSI colour and bold codes.
    pub(crate) color: bool,
}

impl Style {
    /// Colour only when stdout is a terminal that is not `TERM=dumb` and
    /// `NO_COLOR` is unset or empty (<https://no-color.org>): CI logs, files
    /// and dumb terminals get plain text.
    pub(crate) fn detect() -> Style {
        Style::decide(
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
            std::io::stdout().is_terminal(),
        )
    }

    fn decide(no_color: Option<&OsStr>, term: Option<&OsStr>, terminal: bool) -> Style {
        let no_color = no_color.is_some_and(|v| !v.is_empty());
        Style {
            color: !no_color && !is_dumb(term) && terminal,
        }
    }
}

/// `TERM=dumb`: a terminal that cannot move the cursor or show colour
/// (Emacs shells, some CI runners).
pub(crate) fn dumb_terminal() -> bool {
    is_dumb(std::env::var_os("TERM").as_deref())
}

fn is_dumb(term: Option<&OsStr>) -> bool {
    term.is_some_and(|t| t == "dumb")
}

/// The plan in the chosen format. `style` matters only for text.
pub(crate) fn render_plan(plan: &Plan, format: Format, style: Style) -> String {
    match format {
        Format::Text => plan_text(plan, style),
        Format::Markdown => plan_markdown(plan),
        Format::Json => plan_json(plan),
    }
}

/// "1 host", "0 connections", "2 connections".
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// "2 to create, 1 to update, 0 to replace, 1 to delete, 0 to adopt": every
/// count is always shown, so a reviewer never wonders whether a zero was
/// left out.
fn summary_counts(summary: &Summary) -> String {
    format!(
        "{} to create, {} to update, {} to replace, {} to delete, {} to adopt",
        summary.create, summary.update, summary.replace, summary.delete, summary.adopt
    )
}

/// How the text and markdown views mark an action.
struct Look {
    /// Terraform-like, right-aligned in three columns so names line up.
    symbol: &'static str,
    emoji: &'static str,
}

fn look(action: Action) -> Look {
    let (symbol, emoji) = match action {
        Action::Create => ("  +", "➕"),
        Action::Update => ("  ~", "✏️"),
        Action::Replace => ("-/+", "♻️"),
        Action::Delete => ("  -", "🗑️"),
        Action::Adopt => ("  =", "📥"),
    };
    Look { symbol, emoji }
}

/// Whether the plan spans several targets, in which case every line that
/// names a resource also names its target.
fn several_targets(plan: &Plan) -> bool {
    plan.targets.len() > 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::fixtures;

    #[test]
    fn formats_are_named_in_lowercase_on_the_command_line() {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ["text", "markdown", "json"]);
    }

    #[test]
    fn colour_only_on_a_terminal_that_is_not_dumb_without_no_color() {
        let color = |no_color: Option<&str>, term: Option<&str>, terminal| {
            Style::decide(no_color.map(OsStr::new), term.map(OsStr::new), terminal).color
        };
        assert!(color(None, Some("xterm-256color"), true));
        assert!(color(None, None, true));
        assert!(!color(None, Some("dumb"), true));
        assert!(!color(Some("1"), Some("xterm"), true));
        assert!(
            color(Some(""), Some("xterm"), true),
            "an empty NO_COLOR is unset"
        );
        assert!(!color(None, Some("xterm"), false));
    }

    #[test]
    fn render_plan_picks_the_format() {
        let plan = fixtures::sample();
        let plain = Style { color: false };
        assert_eq!(
            render_plan(&plan, Format::Text, plain),
            plan_text(&plan, plain)
        );
        assert_eq!(
            render_plan(&plan, Format::Markdown, plain),
            plan_markdown(&plan)
        );
        assert_eq!(render_plan(&plan, Format::Json, plain), plan_json(&plan));
    }

    #[test]
    fn no_certificate_ever_appears_only_its_fingerprint() {
        let plan = fixtures::sample();
        let fingerprint = crate::plan::certificate_fingerprint(fixtures::CERTIFICATE_PEM);
        for (format, out) in [
            ("text", plan_text(&plan, Style { color: false })),
            ("coloured text", plan_text(&plan, Style { color: true })),
            ("markdown", plan_markdown(&plan)),
            ("json", plan_json(&plan)),
        ] {
            assert!(!out.contains("BEGIN CERTIFICATE"), "PEM in {format}");
            assert!(!out.contains("MIIB"), "certificate body in {format}");
            assert!(
                out.contains(&fingerprint),
                "fingerprint missing in {format}"
            );
        }
    }
}
