//! The drift report for a log (text), an alert (markdown) and a bot (JSON).

use std::fmt::Write;

use serde_json::json;

use crate::drift::{About, Class, Finding, Report, Status};
use crate::plan::{Action, Reason};
use crate::resource::{Kind, STACK_TAG};

use super::Format;
use super::words;

pub(crate) fn render_drift(report: &Report, format: Format) -> String {
    match format {
        Format::Json => {
            let mut out =
                serde_json::to_string_pretty(&drift_json(report)).expect("JSON always serialises");
            out.push('\n');
            out
        }
        Format::Text => drift_text(report),
        Format::Markdown => drift_markdown(report),
    }
}

/// The report as the documented JSON (`format_version` "1"): each finding's
/// detail in words, its ARN always present (null only for a missing one).
fn drift_json(report: &Report) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "class": f.class,
                "kind": f.kind,
                "name": f.name,
                "target": f.target,
                "arn": f.arn,
                "detail": detail(f),
            })
        })
        .collect();
    json!({
        "format_version": report.format_version,
        "targets": report.targets,
        "findings": findings,
        "summary": report.summary,
        "fail_on": report.fail_on,
        "drift": report.drift,
        "failed": report.failed,
        "handshakes": report.handshakes,
    })
}

/// What a finding says, in words.
pub(crate) fn detail(finding: &Finding) -> String {
    let mut text = match &finding.about {
        About::Change(change) => match (change.action, &change.reason) {
            (Action::Create, _) => "in the file, but not in the account".to_owned(),
            (Action::Delete, Reason::ExtraCopy { kept }) => format!(
                "a second host named {:?} owned by this stack; {kept} is kept",
                change.name
            ),
            (Action::Delete, _) => format!(
                "carries the tag of stack {:?}, but the file does not name it",
                change
                    .before
                    .as_ref()
                    .and_then(|b| b.tags.get(STACK_TAG))
                    .map(String::as_str)
                    .unwrap_or_default()
            ),
            (Action::Adopt, _) => {
                let mut text =
                    "exists without an owner; the file adopts it, but apply has not run since"
                        .to_owned();
                let differences = words::differences(change);
                if !differences.is_empty() {
                    text.push_str(&format!(". {}", differences.join("; ")));
                }
                text
            }
            (Action::Update | Action::Replace, _) => words::differences(change).join("; "),
        },
        About::Refusal(refusal) => format!("{}; {}", refusal.message, refusal.hint),
        About::Status(status) => status_words(status),
        About::Unmanaged => "owned by no stack (no codestar-reconcile:stack tag)".to_owned(),
    };
    if let Some(status) = &finding.status {
        text.push_str(&format!("; also {}", status_words(status)));
    }
    text
}

/// `status PENDING: waiting for someone to …`, with AWS's message if any.
fn status_words(status: &Status) -> String {
    match status {
        Status::Own {
            kind,
            status,
            message,
        } => {
            let mut text = format!("status {status}: {}", own_status_words(*kind, status));
            if let Some(message) = message {
                text.push_str(&format!(" ({message})"));
            }
            text
        }
        Status::Connection { name, arn, status } => {
            let connection = match name {
                Some(name) => format!("its connection {name:?} ({arn})"),
                None => format!("its connection {arn}"),
            };
            match status.as_deref() {
                None => format!("{connection} is gone: syncs through this link cannot run"),
                Some("PENDING") => format!(
                    "{connection} is PENDING: syncs through this link wait until someone \
                     completes its handshake in the console"
                ),
                Some(other) => {
                    format!("{connection} is {other}: syncs through this link cannot run")
                }
            }
        }
        Status::Blocked { reasons } => format!(
            "sync blocked (open blocker{}: {})",
            if reasons.len() == 1 { "" } else { "s" },
            reasons.join("; ")
        ),
        Status::LatestSync { status, event } => match event {
            Some(event) => format!("latest sync {status}: {event}"),
            None => format!("latest sync {status}"),
        },
    }
}

fn own_status_words(kind: Kind, status: &str) -> &'static str {
    match (kind, status) {
        (Kind::Connection, "ERROR") => "the connection is in error",
        (Kind::Host, "VPC_CONFIG_FAILED_INITIALIZATION") => {
            "AWS could not set up its VPC configuration"
        }
        (Kind::Connection, "PENDING") => {
            "waiting for someone to complete the handshake in the console (Developer Tools > \
             Settings > Connections > Update pending connection)"
        }
        (Kind::Host, "PENDING") => {
            "waiting for someone to set it up in the console (Developer Tools > Settings > \
             Connections > Hosts > Set up host)"
        }
        (Kind::Host, "VPC_CONFIG_INITIALIZING") => {
            "AWS is still setting up its VPC configuration; check again in a few minutes"
        }
        (Kind::Host, "VPC_CONFIG_DELETING") => {
            "AWS is removing its VPC configuration (the host is being deleted)"
        }
        _ => "as AWS reports it",
    }
}

fn headline(report: &Report) -> String {
    let labels: Vec<String> = if report.targets.len() > 3 {
        vec![super::count(report.targets.len(), "target")]
    } else {
        report.targets.iter().map(|t| t.label.clone()).collect()
    };
    let counts: Vec<String> = Class::ALL
        .iter()
        .filter_map(|c| {
            let n = report.summary.get(c.as_str()).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {}", c.as_str()))
        })
        .collect();
    let unread = if report.failed.is_empty() {
        String::new()
    } else {
        format!(
            " {} could not be read (below).",
            super::count(report.failed.len(), "target")
        )
    };
    let line = if report.findings.is_empty() {
        format!("No drift: {} match their files.", labels.join(", "))
    } else if report.drift {
        format!("DRIFT in {}: {}.", labels.join(", "), counts.join(", "))
    } else {
        format!(
            "No drift that fails this check in {} ({}).",
            labels.join(", "),
            counts.join(", ")
        )
    };
    format!("{line}{unread}")
}

/// The targets that could not be read, a line each.
fn failed_lines(report: &Report, bullet: &str) -> String {
    let mut out = String::new();
    if report.failed.is_empty() {
        return out;
    }
    writeln!(
        out,
        "\nnot read: these targets could not be reached, so their drift is unknown:"
    )
    .ok();
    for f in &report.failed {
        writeln!(out, "{bullet}{}: {}", f.target, f.message).ok();
    }
    out
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
            writeln!(out, "    {}", detail(f)).ok();
        }
    }
    out.push_str(&failed_lines(report, "  "));
    out.push_str(&super::worklist_text(&report.handshakes));
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
    out.push_str(&failed_lines(report, "- "));
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
            cell(&detail(f))
        )
        .ok();
    }
    writeln!(out, "\n**What to do**\n").ok();
    for class in Class::ALL {
        if report.findings.iter().any(|f| f.class == class) {
            writeln!(out, "- **{}**: {}", class.as_str(), class.advice()).ok();
        }
    }
    if !report.handshakes.is_empty() {
        writeln!(
            out,
            "\n**Handshakes to complete** ({}), each signed in to its account:\n",
            report.handshakes.len()
        )
        .ok();
        for h in &report.handshakes {
            writeln!(out, "- [ ] {}", super::worklist_item(h)).ok();
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('`', "'")
        .replace('\n', " ")
}
