//! The terminal view, shaped like Terraform's plan output: a symbol per
//! change, the field diff, then warnings, refusals and the summary line.

use std::fmt::Write;

use anstyle::{AnsiColor, Style as Ansi};

use super::diff::{FORCES_REPLACEMENT, FieldDiff, Sign, field_diff};
use super::words::{self, action_outcome};
use super::{Style, look, several_targets, summary_counts};
use crate::plan::{Action, Change, Plan, TargetSummary, WarningKind};

/// Printed above the changes so nobody has to guess what `=` means.
const LEGEND: &str =
    "Symbols: + create, ~ update in place, -/+ replace (new ARN), - delete, = adopt (take over).";

/// Prose (reasons, warnings, refusals) is wrapped here; diff lines never are,
/// so they stay copyable.
const WRAP: usize = 100;

/// Green adds, yellow modifies in place, red destroys (a replace destroys
/// the old resource and its ARN).
fn action_color(action: Action) -> AnsiColor {
    match action {
        Action::Create => AnsiColor::Green,
        Action::Update | Action::Adopt => AnsiColor::Yellow,
        Action::Replace | Action::Delete => AnsiColor::Red,
    }
}

/// Writes styled text, or plain text when colour is off, so the layout is
/// the same either way.
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Ansi, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    fn fg(&self, color: AnsiColor, text: &str) -> String {
        self.paint(Ansi::new().fg_color(Some(color.into())), text)
    }

    fn bold(&self, text: &str) -> String {
        self.paint(Ansi::new().bold(), text)
    }
}

/// The plan for a terminal. Colour codes appear only with `style.color`.
pub(crate) fn plan_text(plan: &Plan, style: Style) -> String {
    let p = Painter { color: style.color };
    let mut out = String::new();

    if plan.is_empty() && !plan.is_refused() {
        let line = if !plan.failed.is_empty() {
            format!(
                "No changes in the {} read (the others could not be, below).",
                super::count(plan.targets.len(), "target")
            )
        } else if plan.targets.len() > 1 {
            format!(
                "No changes. Every target matches its file ({}).",
                super::count(plan.targets.len(), "target")
            )
        } else if plan.targets.is_empty() {
            "No changes: no target.".to_owned()
        } else {
            "No changes. The account matches the file.".to_owned()
        };
        let _ = writeln!(out, "{}", p.bold(&line));
        // Warnings without changes: this stack's resources left in accounts
        // the fleet no longer targets.
        write_warnings(&mut out, &p, plan);
        write_failed(&mut out, &p, plan);
        out.push_str(&super::worklist_text(&plan.handshakes));
        return out;
    }

    if !plan.is_empty() {
        let _ = writeln!(out, "{LEGEND}\n");
    }
    if several_targets(plan) {
        for target in &plan.targets {
            let _ = writeln!(out, "{}", p.bold(&target_heading(target)));
            let changes: Vec<&Change> = plan
                .changes
                .iter()
                .filter(|c| c.target == target.label)
                .collect();
            if changes.is_empty() {
                let _ = writeln!(out, "    No changes.\n");
            }
            for change in changes {
                write_change(&mut out, &p, change);
            }
        }
    } else {
        for change in &plan.changes {
            write_change(&mut out, &p, change);
        }
    }

    write_warnings(&mut out, &p, plan);

    if plan.is_refused() {
        let n = plan.refusals.len();
        let heading = format!(
            "Refused: nothing will be applied until {} resolved.",
            if n == 1 {
                "this problem is".to_owned()
            } else {
                format!("these {n} problems are")
            }
        );
        let _ = writeln!(out, "{}", p.bold(&p.fg(AnsiColor::Red, &heading)));
        for r in &plan.refusals {
            let message = if several_targets(plan) {
                format!("[{}] {}", r.target, r.message)
            } else {
                r.message.clone()
            };
            let _ = writeln!(out, "{}", wrap(&message, "  ✗ ", "    "));
            let _ = writeln!(out, "{}", wrap(&r.hint, "    hint: ", "          "));
        }
        out.push('\n');
    }

    write_failed(&mut out, &p, plan);
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!("Plan: {}.", summary_counts(&plan.summary)))
    );
    if plan.is_refused() {
        let _ = writeln!(
            out,
            "{}",
            p.fg(
                AnsiColor::Red,
                "The plan is refused (see above): apply will not run it."
            )
        );
    }
    out.push_str(&super::worklist_text(&plan.handshakes));
    out
}

fn write_warnings(out: &mut String, p: &Painter, plan: &Plan) {
    if plan.warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", p.bold(&p.fg(AnsiColor::Yellow, "Warnings:")));
    for w in &plan.warnings {
        let mut line = format!("{} {:?} {}", w.kind, w.name, words::warning(w));
        if several_targets(plan) || matches!(w.warning, WarningKind::Orphan { .. }) {
            line = format!("[{}] {line}", w.target);
        }
        let _ = writeln!(out, "{}", wrap(&line, "  ! ", "    "));
    }
    out.push('\n');
}

/// The targets that could not be planned, each with why; the accounts
/// that could not be scanned for orphans.
fn write_failed(out: &mut String, p: &Painter, plan: &Plan) {
    if !plan.unscanned.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.bold("Not scanned for this stack's resources outside the fleet:")
        );
        for f in &plan.unscanned {
            let _ = writeln!(
                out,
                "{}",
                wrap(&format!("{}: {}", f.target, f.message), "  ? ", "    ")
            );
        }
    }
    if plan.failed.is_empty() {
        return;
    }
    let heading = format!(
        "Not planned: {} could not be reached; the plan covers the others.",
        super::count(plan.failed.len(), "target")
    );
    let _ = writeln!(out, "\n{}", p.bold(&p.fg(AnsiColor::Red, &heading)));
    for f in &plan.failed {
        let _ = writeln!(
            out,
            "{}",
            wrap(&format!("{}: {}", f.target, f.message), "  ✗ ", "    ")
        );
    }
    out.push('\n');
}

/// `platform-prod@eu-west-1 (stacks/prod.yaml, account 123456789012):`, and
/// for an account of `retired_accounts`, what that means.
fn target_heading(target: &TargetSummary) -> String {
    let retired = if target.retired {
        ", retired: this stack's resources here are deleted"
    } else {
        ""
    };
    match &target.account_id {
        Some(account) => format!(
            "{} ({}, account {account}{retired}):",
            target.label, target.file
        ),
        None => format!("{} ({}{retired}):", target.label, target.file),
    }
}

fn write_change(out: &mut String, p: &Painter, change: &Change) {
    let color = action_color(change.action);
    // Spelled out as well as symbolised, like Terraform's "will be
    // created", so nobody has to look up the legend for a replacement.
    let head = format!(
        "{} {} {:?} will be {}",
        look(change.action).symbol,
        change.kind,
        change.name,
        action_outcome(change.action)
    );
    let _ = writeln!(out, "{}", p.bold(&p.fg(color, &head)));
    const BODY: &str = "      ";
    if let Some(arn) = &change.arn {
        let _ = writeln!(out, "{BODY}arn:    {arn}");
    }
    let _ = writeln!(
        out,
        "{}",
        wrap(
            &words::reason(change),
            &format!("{BODY}reason: "),
            &format!("{BODY}        ")
        )
    );
    write_diff(out, p, &field_diff(change));
    out.push('\n');
}

fn write_diff(out: &mut String, p: &Painter, diff: &FieldDiff) {
    let width = diff.key_width();
    for line in &diff.lines {
        let color = match line.sign {
            Sign::Remove => AnsiColor::Red,
            Sign::Add => AnsiColor::Green,
        };
        let _ = write!(out, "      {}", p.fg(color, &line.text(width)));
        if line.forces_replacement {
            let _ = write!(out, "  {}", p.fg(AnsiColor::Red, FORCES_REPLACEMENT));
        }
        out.push('\n');
    }
    if let Some(hidden) = diff.hidden() {
        let _ = writeln!(out, "        {hidden}");
    }
}

/// Word-wraps `text` to [`WRAP`] columns: `first` prefixes the first line,
/// `rest` the others. Words longer than a line (ARNs) are never broken.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::from(first);
    let mut col = first.chars().count();
    let mut line_empty = true;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if !line_empty && col + 1 + len > WRAP {
            out.push('\n');
            out.push_str(rest);
            col = rest.chars().count();
            line_empty = true;
        }
        if !line_empty {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
        line_empty = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::fixtures;

    const PLAIN: Style = Style { color: false };

    #[test]
    fn sample_plan_text() {
        insta::assert_snapshot!(plan_text(&fixtures::sample(), PLAIN));
    }

    #[test]
    fn empty_plan_says_so_in_one_line() {
        assert_eq!(
            plan_text(&fixtures::empty(), PLAIN),
            "No changes. The account matches the file.\n"
        );
    }

    #[test]
    fn refused_plan_without_changes_is_not_reported_as_no_changes() {
        let mut plan = fixtures::sample();
        plan.changes.clear();
        plan.warnings.clear();
        plan.summary = Default::default();
        let text = plan_text(&plan, PLAIN);
        assert!(!text.contains("No changes. The account"), "{text}");
        assert!(text.contains("Refused: nothing will be applied"), "{text}");
        assert!(text.contains("Plan: 0 to create"), "{text}");
    }

    #[test]
    fn colour_codes_only_when_asked() {
        let plan = fixtures::sample();
        let plain = plan_text(&plan, PLAIN);
        let coloured = plan_text(&plan, Style { color: true });
        assert!(!plain.contains('\u{1b}'), "no escape codes without colour");
        assert!(coloured.contains("\u{1b}["), "escape codes with colour");
        assert!(coloured.contains(&AnsiColor::Green.render_fg().to_string()));
        assert!(coloured.contains(&AnsiColor::Red.render_fg().to_string()));
        // Same layout: stripping the codes gives the plain output back.
        let stripped = regex::Regex::new("\u{1b}\\[[0-9;]*m")
            .unwrap()
            .replace_all(&coloured, "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn one_target_has_no_target_headings() {
        let text = plan_text(&fixtures::huge(2), PLAIN);
        assert!(!text.contains("platform-prod@eu-west-1 ("), "{text}");
        assert!(text.contains("Plan: 2 to create, 0 to update"), "{text}");
    }

    #[test]
    fn wrapping_keeps_long_words_whole() {
        let arn = "a".repeat(120);
        let wrapped = wrap(&format!("short words then {arn} end"), "> ", "  ");
        assert_eq!(wrapped, format!("> short words then\n  {arn}\n  end"));
    }
}
