//! The pull-request comment: what will change, what will break, and why
//! anything was refused, in GitHub-flavoured markdown.
//!
//! Order is by urgency: the summary, refusals, breaking replacements, the
//! table of changes, PENDING handshakes, then the field diffs folded in
//! `<details>`. GitHub rejects comments over [`MARKDOWN_LIMIT`] characters,
//! so a plan too big for one is cut down: the diffs go first, then the lists
//! share what room is left, each ending in a line saying how much was left
//! out and where to find it (the JSON plan).

use std::fmt::Write;

use super::diff::{FORCES_REPLACEMENT, field_diff};
use super::words::{self, action_outcome};
use super::{look, summary_counts};
use crate::plan::{Action, Change, Plan, Refusal, Warning};

/// GitHub's limit on a comment body. We measure UTF-8 bytes, never fewer
/// than characters, so the limit holds however GitHub counts.
pub(crate) const MARKDOWN_LIMIT: usize = 65_536;

/// Room kept for the digits of the "… and N more" lines, which are counted
/// before N is known.
const SLACK: usize = 64;

/// The plan as a pull-request comment, at most [`MARKDOWN_LIMIT`] bytes.
pub(crate) fn plan_markdown(plan: &Plan) -> String {
    let parts = Parts::of(plan);
    let all = Kept::all(&parts);
    let full = parts.assemble(&all);
    if full.len() <= MARKDOWN_LIMIT {
        return full;
    }
    // Everything must fit around the lists: headings, fold lines, notes.
    let frame = parts.assemble(&Kept::default()).len() + SLACK;
    let mut budget = MARKDOWN_LIMIT.saturating_sub(frame);
    loop {
        let kept = parts.fit(budget);
        let out = parts.assemble(&kept);
        if out.len() <= MARKDOWN_LIMIT || budget == 0 {
            return out;
        }
        // Only reachable if an estimate above was short; shrink and retry.
        budget = budget.saturating_sub(out.len() - MARKDOWN_LIMIT);
    }
}

/// Every piece of the comment, rendered once, so fitting it to the limit
/// is only a matter of choosing how many items of each list to keep.
struct Parts<'a> {
    plan: &'a Plan,
    refusals: Vec<String>,
    breaking: Vec<String>,
    rows: Vec<String>,
    pending: Vec<String>,
    other_warnings: Vec<String>,
    diffs: Vec<String>,
}

/// How many items of each list make it into the comment.
#[derive(Debug, Default, Clone, Copy)]
struct Kept {
    refusals: usize,
    breaking: usize,
    rows: usize,
    pending: usize,
    other_warnings: usize,
    diffs: usize,
}

impl Kept {
    fn all(parts: &Parts) -> Kept {
        Kept {
            refusals: parts.refusals.len(),
            breaking: parts.breaking.len(),
            rows: parts.rows.len(),
            pending: parts.pending.len(),
            other_warnings: parts.other_warnings.len(),
            diffs: parts.diffs.len(),
        }
    }
}

impl<'a> Parts<'a> {
    fn of(plan: &'a Plan) -> Parts<'a> {
        let (pending, other): (Vec<&Warning>, Vec<&Warning>) =
            plan.warnings.iter().partition(|w| w.warning.is_handshake());
        Parts {
            plan,
            refusals: plan.refusals.iter().map(refusal_item).collect(),
            breaking: plan
                .changes
                .iter()
                .filter(|c| c.action == Action::Replace)
                .map(breaking_item)
                .collect(),
            rows: plan.changes.iter().map(table_row).collect(),
            // The handshake worklist, when the run made one, says all the
            // PENDING warnings say and where to complete each, as tasks.
            pending: if plan.handshakes.is_empty() {
                pending.into_iter().map(warning_item).collect()
            } else {
                plan.handshakes
                    .iter()
                    .map(|h| format!("- [ ] {}\n", super::worklist_item(h)))
                    .collect()
            },
            other_warnings: other.into_iter().map(warning_item).collect(),
            diffs: plan.changes.iter().map(diff_block).collect(),
        }
    }

    /// How many items to keep within `budget` bytes. Diffs are the first to
    /// go: they get only what the lists leave over. The lists share fairly:
    /// short ones are kept whole, long ones split the rest equally, so 5,000
    /// PENDING warnings cannot crowd the table of changes out.
    fn fit(&self, budget: usize) -> Kept {
        let lists = [
            &self.refusals,
            &self.breaking,
            &self.rows,
            &self.pending,
            &self.other_warnings,
        ];
        let mut order: Vec<usize> = (0..lists.len()).collect();
        order.sort_by_key(|&i| size(lists[i]));
        let mut counts = [0; 5];
        let mut remaining = budget;
        for (done, &i) in order.iter().enumerate() {
            let share = remaining / (lists.len() - done);
            let (n, used) = take(lists[i], share);
            counts[i] = n;
            remaining -= used;
        }
        let (diffs, _) = take(&self.diffs, remaining);
        Kept {
            refusals: counts[0],
            breaking: counts[1],
            rows: counts[2],
            pending: counts[3],
            other_warnings: counts[4],
            diffs,
        }
    }

    fn assemble(&self, kept: &Kept) -> String {
        let plan = self.plan;
        let mut out = String::new();
        let refused = plan.is_refused();

        let _ = writeln!(
            out,
            "## codestar-reconcile plan{}\n",
            if refused { ": ⛔ refused" } else { "" }
        );
        if plan.is_empty() && !refused {
            let _ = writeln!(out, "**No changes.** The account matches the file.\n");
        } else {
            let _ = writeln!(out, "**{}**\n", summary_counts(&plan.summary));
        }
        write_targets(&mut out, plan);

        if !plan.unscanned.is_empty() {
            let _ = writeln!(
                out,
                "*Not scanned for this stack's resources outside the fleet:* {}\n",
                plan.unscanned
                    .iter()
                    .map(|f| format!("{} ({})", code(&f.target), one_line(&f.message)))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        if !plan.failed.is_empty() {
            let _ = writeln!(out, "> [!CAUTION]");
            let _ = writeln!(
                out,
                "> **{} could not be reached**; this plan covers the others.\n>",
                super::count(plan.failed.len(), "target")
            );
            for f in &plan.failed {
                let _ = writeln!(out, "> - {}: {}", code(&f.target), one_line(&f.message));
            }
            out.push('\n');
        }

        if refused {
            let n = plan.refusals.len();
            let _ = writeln!(out, "> [!CAUTION]");
            let _ = writeln!(
                out,
                "> **This plan is refused: nothing will be applied** until {} resolved.\n>",
                if n == 1 {
                    "this problem is".to_owned()
                } else {
                    format!("these {n} problems are")
                }
            );
            for item in &self.refusals[..kept.refusals] {
                out.push_str(item);
            }
            fold(
                &mut out,
                "> ",
                n - kept.refusals,
                "more refusals (see the JSON plan artifact)",
            );
            out.push('\n');
        }

        if !self.breaking.is_empty() {
            let n = self.breaking.len();
            let _ = writeln!(out, "> [!WARNING]");
            let _ = writeln!(
                out,
                "> **Breaking: {n} replacement{}.** A replaced resource is deleted and created \
                 again with a new ARN that starts PENDING: everything using the old ARN breaks \
                 until someone completes the handshake in the AWS console and the pipelines use \
                 the new ARN.\n>",
                if n == 1 { "" } else { "s" }
            );
            for item in &self.breaking[..kept.breaking] {
                out.push_str(item);
            }
            fold(
                &mut out,
                "> ",
                n - kept.breaking,
                "more replacements (see the JSON plan artifact)",
            );
            out.push('\n');
        }

        if !self.rows.is_empty() {
            let _ = writeln!(out, "### Changes\n");
            if refused {
                let _ = writeln!(
                    out,
                    "*None of these is applied while the plan is refused; they are listed so the \
                     rest of the change can be reviewed now.*\n"
                );
            }
            let _ = writeln!(out, "| Action | Kind | Name | Target | Reason |");
            let _ = writeln!(out, "|---|---|---|---|---|");
            for row in &self.rows[..kept.rows] {
                out.push_str(row);
            }
            // A blank line ends the table; without it the fold line would
            // be read as one more row.
            out.push('\n');
            let left_out = self.rows.len() - kept.rows;
            if left_out > 0 {
                let _ = writeln!(
                    out,
                    "*… and {left_out} more changes (see the JSON plan artifact).*\n"
                );
            }
        }

        if !self.pending.is_empty() || !self.other_warnings.is_empty() {
            let _ = writeln!(out, "### ⚠️ Warnings\n");
        }
        if !self.pending.is_empty() {
            if plan.handshakes.is_empty() {
                let _ = writeln!(
                    out,
                    "⚠️ These connections and hosts will be PENDING until someone completes the \
                     handshake in the AWS console; pipelines cannot use them before that:\n"
                );
            } else {
                let _ = writeln!(
                    out,
                    "🤝 **Handshakes to complete** ({}): connections and hosts are PENDING until \
                     a person signed in to their account completes them in the AWS console; \
                     pipelines cannot use them before that:\n",
                    plan.handshakes.len()
                );
            }
            for item in &self.pending[..kept.pending] {
                out.push_str(item);
            }
            fold(
                &mut out,
                "",
                self.pending.len() - kept.pending,
                "more resources waiting for a handshake (see the JSON plan artifact)",
            );
            out.push('\n');
        }
        if !self.other_warnings.is_empty() {
            for item in &self.other_warnings[..kept.other_warnings] {
                out.push_str(item);
            }
            fold(
                &mut out,
                "",
                self.other_warnings.len() - kept.other_warnings,
                "more warnings (see the JSON plan artifact)",
            );
            out.push('\n');
        }

        if !self.diffs.is_empty() {
            if kept.diffs == 0 {
                let _ = writeln!(
                    out,
                    "*The field diffs are left out: this plan is too long for one comment. \
                     The JSON plan artifact has every change's before and after.*"
                );
            } else {
                let _ = writeln!(
                    out,
                    "<details><summary>Diffs ({} changes)</summary>\n",
                    kept.diffs
                );
                for block in &self.diffs[..kept.diffs] {
                    out.push_str(block);
                }
                fold(
                    &mut out,
                    "",
                    self.diffs.len() - kept.diffs,
                    "more diffs left out to fit one comment (see the JSON plan artifact)",
                );
                let _ = writeln!(out, "</details>");
            }
        }
        out
    }
}

fn size(items: &[String]) -> usize {
    items.iter().map(String::len).sum()
}

/// How many leading items fit in `budget` bytes, and the bytes they use.
fn take(items: &[String], budget: usize) -> (usize, usize) {
    let mut used = 0;
    for (n, item) in items.iter().enumerate() {
        if used + item.len() > budget {
            return (n, used);
        }
        used += item.len();
    }
    (items.len(), used)
}

/// "… and 1234 more changes (see the JSON plan artifact)", when any were
/// left out. The blank line before it keeps markdown from reading it as a
/// continuation of the last list item.
fn fold(out: &mut String, prefix: &str, left_out: usize, what: &str) {
    if left_out > 0 {
        let _ = writeln!(out, "{}", prefix.trim_end());
        let _ = writeln!(out, "{prefix}*… and {left_out} {what}.*");
    }
}

fn write_targets(out: &mut String, plan: &Plan) {
    let targets: Vec<String> = plan
        .targets
        .iter()
        .map(|t| {
            let account = t
                .account_id
                .as_deref()
                .map(|a| format!(", account {a}"))
                .unwrap_or_default();
            let retired = if t.retired { ", **retired**" } else { "" };
            format!("{} ({}{account}{retired})", code(&t.label), code(&t.file))
        })
        .collect();
    match targets.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "Target: {one}\n");
        }
        many => {
            let _ = writeln!(out, "Targets: {}\n", many.join(", "));
        }
    }
}

fn refusal_item(r: &Refusal) -> String {
    format!(
        "> - {}: {}\n>   - **How to fix:** {}\n",
        code(&r.target),
        one_line(&r.message),
        one_line(&r.hint)
    )
}

fn breaking_item(c: &Change) -> String {
    format!(
        "> - {} {} {} in {}: {}\n",
        look(c.action).emoji,
        c.kind,
        code(&c.name),
        code(&c.target),
        one_line(&words::reason(c))
    )
}

fn warning_item(w: &Warning) -> String {
    format!(
        "- {} {} in {}: {}\n",
        w.kind,
        code(&w.name),
        code(&w.target),
        one_line(&words::warning(w))
    )
}

fn table_row(c: &Change) -> String {
    let action = if c.action == Action::Replace {
        // Bold: a replacement is the one update that breaks things.
        format!("{} **{}**", look(c.action).emoji, c.action.as_str())
    } else {
        format!("{} {}", look(c.action).emoji, c.action.as_str())
    };
    format!(
        "| {action} | {} | {} | {} | {} |\n",
        c.kind,
        cell(&c.name),
        cell(&c.target),
        cell(&words::reason(c))
    )
}

fn diff_block(c: &Change) -> String {
    let mut out = format!(
        "{} **{} {}** will be {}",
        look(c.action).emoji,
        c.kind,
        code(&c.name),
        action_outcome(c.action)
    );
    let _ = write!(out, " · {}", code(&c.target));
    if let Some(arn) = &c.arn {
        let _ = write!(out, " · {}", code(arn));
    }
    out.push_str("\n\n");

    let diff = field_diff(c);
    let width = diff.key_width();
    let mut body = String::new();
    for line in &diff.lines {
        body.push_str(&line.text(width));
        if line.forces_replacement {
            let _ = write!(body, "  {FORCES_REPLACEMENT}");
        }
        body.push('\n');
    }
    if let Some(hidden) = diff.hidden() {
        let _ = writeln!(body, "  {hidden}");
    }
    let fence = fence_for(&body);
    let _ = write!(out, "{fence}diff\n{body}{fence}\n\n");
    out
}

/// A table cell: one line, with the characters that would end the cell
/// (`|`), open a code span (`` ` ``) or start HTML escaped.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in one_line(text).chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '*' => out.push_str("\\*"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A code span that survives backticks inside the text: the delimiter is
/// one backtick longer than the longest run inside.
fn code(text: &str) -> String {
    let text = one_line(text);
    let ticks = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// A code fence longer than any backtick run in `body`, so a tag value
/// cannot close the block early.
fn fence_for(body: &str) -> String {
    "`".repeat((longest_run(body, '`') + 1).max(3))
}

fn longest_run(text: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == ch { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Newlines would break a list item or a table row out of its structure.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::fixtures;

    #[test]
    fn sample_plan_markdown() {
        insta::assert_snapshot!(plan_markdown(&fixtures::sample()));
    }

    #[test]
    fn empty_plan_markdown() {
        insta::assert_snapshot!(plan_markdown(&fixtures::empty()));
    }

    #[test]
    fn a_retired_accounts_target_says_so() {
        let mut plan = fixtures::sample();
        plan.targets[0].retired = true;
        let md = plan_markdown(&plan);
        let label = format!("`{}`", plan.targets[0].label);
        assert!(
            md.lines()
                .any(|l| l.contains(&label) && l.contains(", **retired**)")),
            "{md}"
        );
        assert_eq!(md.matches("**retired**").count(), 1, "{md}");
    }

    #[test]
    fn five_thousand_changes_fit_in_one_comment() {
        let md = plan_markdown(&fixtures::huge(5_000));
        assert!(md.len() <= MARKDOWN_LIMIT, "{} bytes", md.len());
        assert!(md.chars().count() <= MARKDOWN_LIMIT);
        assert!(md.contains("**5000 to create, 0 to update"));
        assert!(md.contains("| Action | Kind | Name | Target | Reason |"));
        assert!(md.contains("| ➕ create | connection | github-00000 |"));
        let folded =
            regex::Regex::new(r"\n\*… and (\d+) more changes \(see the JSON plan artifact\)\.\*\n")
                .unwrap();
        let left_out: usize = folded.captures(&md).expect("rows are folded")[1]
            .parse()
            .unwrap();
        let rows = md.matches("| ➕ create |").count();
        assert_eq!(rows + left_out, 5_000);
        assert!(md.contains("more resources waiting for a handshake"));
        assert!(md.contains("The field diffs are left out"));
        assert!(!md.contains("<details>"));
    }

    #[test]
    fn diffs_go_before_any_table_row() {
        // Big enough that the diffs cannot all fit, small enough that the
        // table and warnings can.
        let md = plan_markdown(&fixtures::huge(200));
        assert!(md.len() <= MARKDOWN_LIMIT);
        assert_eq!(md.matches("| ➕ create |").count(), 200);
        assert!(!md.contains("more changes (see"));
        assert!(md.contains("more diffs left out to fit one comment"));
    }

    #[test]
    fn table_cells_cannot_break_the_table() {
        assert_eq!(cell("a|b `c` <d>\nnext"), r"a\|b \`c\` &lt;d&gt; next");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }

    #[test]
    fn a_backtick_fence_in_a_value_does_not_end_the_diff_block() {
        assert_eq!(fence_for("+ tags.x = \"```\"\n"), "````");
        assert_eq!(fence_for("+ a = 1\n"), "```");
    }
}
