//! The drift report for a log (text), an alert (markdown) and a bot (JSON).

use std::fmt::Write;

use crate::drift::{Class, Report};

use super::Format;

pub fn render_drift(report: &Report, format: Format) -> String {
    match format {
        Format::Json => {
            let mut out = serde_json::to_string_pretty(report).expect("a report always serialises");
            out.push('\n');
            out
        }
        Format::Text => drift_text(report),
        Format::Markdown => drift_markdown(report),
    }
}

fn headline(report: &Report) -> String {
    let labels: Vec<&str> = report.targets.iter().map(|t| t.label.as_str()).collect();
    let counts: Vec<String> = Class::ALL
        .iter()
        .filter_map(|c| {
            let n = report.summary.get(c.as_str()).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {}", c.as_str()))
        })
        .collect();
    if report.findings.is_empty() {
        format!("No drift: {} match their files.", labels.join(", "))
    } else if report.drift {
        format!("DRIFT in {}: {}.", labels.join(", "), counts.join(", "))
    } else {
        format!(
            "No drift that fails this check in {} ({}).",
            labels.join(", "),
            counts.join(", ")
        )
    }
}

fn drift_text(report: &Report) -> String {
    let mut out = String::new();
    writeln!(out, "{}", headline(report)).ok();
    for class in Class::ALL {
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.class == class)
            .collect();
        if findings.is_empty() {
            continue;
        }
        let counts = if report.fail_on.contains(&class) {
            ""
        } else {
            " (informational)"
        };
        writeln!(out, "\n{}{counts}: {}", class.as_str(), class.advice()).ok();
        for f in findings {
            writeln!(out, "  {} {:?} in {}", f.kind, f.name, f.target).ok();
            if let Some(arn) = &f.arn {
                writeln!(out, "    arn: {arn}").ok();
            }
            writeln!(out, "    {}", f.detail).ok();
        }
    }
    out
}

fn drift_markdown(report: &Report) -> String {
    let mut out = String::new();
    let icon = if report.drift { "🚨" } else { "✅" };
    writeln!(
        out,
        "## {icon} codestar-reconcile drift\n\n{}\n",
        headline(report)
    )
    .ok();
    if report.findings.is_empty() {
        return out;
    }
    writeln!(
        out,
        "| class | kind | name | target | ARN | detail |\n|---|---|---|---|---|---|"
    )
    .ok();
    for f in &report.findings {
        let arn = f
            .arn
            .as_deref()
            .map(|a| format!("`{}`", cell(a)))
            .unwrap_or_else(|| "(none)".to_owned());
        writeln!(
            out,
            "| {} | {} | `{}` | {} | {arn} | {} |",
            f.class.as_str(),
            f.kind,
            cell(&f.name),
            cell(&f.target),
            cell(&f.detail)
        )
        .ok();
    }
    writeln!(out, "\n**What to do**\n").ok();
    for class in Class::ALL {
        if report.findings.iter().any(|f| f.class == class) {
            writeln!(out, "- **{}**: {}", class.as_str(), class.advice()).ok();
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('`', "'")
        .replace('\n', " ")
}
