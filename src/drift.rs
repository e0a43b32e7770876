//! Drift: how an account differs from its file, for a cron job and the
//! person it pages. Read-only.
//!
//! Differences come from the planner itself (every guard relaxed), so drift
//! and plan can never disagree about what differs; health and unmanaged
//! resources are read from the snapshot.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::live::{Ownership, Snapshot, ownership};
use crate::plan::{self, Action, Change, Options, State, TargetSummary};
use crate::resource::Kind;
use crate::spec::Target;

pub const FORMAT_VERSION: &str = "1";

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// In the file, gone from the account.
    Missing,
    /// Tags, endpoint, VPC, provider or host differ from the file.
    Changed,
    /// Connection in ERROR, or host whose VPC set-up failed.
    Unhealthy,
    /// Still waiting for someone to finish the handshake in the console.
    Pending,
    /// Managed by this stack but no longer in the file (apply would delete it).
    Extra,
    /// Owned by no stack; informational unless asked to fail on it.
    Unmanaged,
}

impl Class {
    pub const ALL: [Class; 6] = [
        Class::Missing,
        Class::Changed,
        Class::Unhealthy,
        Class::Pending,
        Class::Extra,
        Class::Unmanaged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Missing => "missing",
            Class::Changed => "changed",
            Class::Unhealthy => "unhealthy",
            Class::Pending => "pending",
            Class::Extra => "extra",
            Class::Unmanaged => "unmanaged",
        }
    }

    /// What to do about it, for the person reading the alert.
    pub fn advice(self) -> &'static str {
        match self {
            Class::Missing => {
                "someone deleted it outside git: run apply to re-create it (a re-created connection needs the console handshake again)"
            }
            Class::Changed => {
                "someone changed it outside git: run apply to restore the file's values, or update the file to keep them"
            }
            Class::Unhealthy => {
                "check the status message; fix the provider or VPC set-up in the console, or replace the resource"
            }
            Class::Pending => {
                "finish the handshake in the AWS console (Developer Tools > Settings > Connections)"
            }
            Class::Extra => {
                "it was removed from the file but apply has not run since: run apply to delete it, or add it back to the file"
            }
            Class::Unmanaged => {
                "made outside this tool: adopt it into a file (`adopt: true`, see `import`), or delete it"
            }
        }
    }

    /// The classes that make `drift` exit 2 unless told otherwise.
    pub fn failing_by_default(self) -> bool {
        self != Class::Unmanaged
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub class: Class,
    pub kind: Kind,
    pub name: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub format_version: String,
    pub targets: Vec<TargetSummary>,
    pub findings: Vec<Finding>,
    /// Findings per class, every class present.
    pub summary: std::collections::BTreeMap<String, usize>,
    /// The classes that count as drift in this run.
    pub fail_on: Vec<Class>,
    /// Whether any finding is of a failing class.
    pub drift: bool,
}

impl Report {
    pub fn new(parts: Vec<(TargetSummary, Vec<Finding>)>, fail_on: &BTreeSet<Class>) -> Report {
        let mut targets = Vec::new();
        let mut findings = Vec::new();
        for (summary, part) in parts {
            targets.push(summary);
            findings.extend(part);
        }
        let summary = Class::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str().to_owned(),
                    findings.iter().filter(|f| f.class == *c).count(),
                )
            })
            .collect();
        let drift = findings.iter().any(|f| fail_on.contains(&f.class));
        Report {
            format_version: FORMAT_VERSION.to_owned(),
            targets,
            findings,
            summary,
            fail_on: fail_on.iter().copied().collect(),
            drift,
        }
    }
}

/// Every way the account differs from the file, for one target.
pub fn findings(target: &Target, live: &Snapshot, label: &str) -> Vec<Finding> {
    let everything = Options {
        allow_replace: true,
        force: true,
        ..Options::default()
    };
    let plan = plan::plan_target(target, live, label, &everything);
    let mut findings: Vec<Finding> = plan.changes.iter().map(|c| from_change(c, label)).collect();
    for refusal in &plan.refusals {
        findings.push(Finding {
            class: Class::Changed,
            kind: refusal.kind.unwrap_or(Kind::Connection),
            name: refusal.name.clone().unwrap_or_default(),
            target: label.to_owned(),
            arn: refusal.arns.first().cloned(),
            detail: format!("{} ({})", refusal.message, refusal.hint),
        });
    }

    let stack = target.stack.as_str();
    let in_file = |kind: Kind, name: &str| target.names(kind, name);
    let mut health =
        |kind: Kind, name: &str, arn: &str, tags, status: &str, message: Option<&str>| {
            match ownership(tags, stack) {
                Ownership::Managed if in_file(kind, name) => {
                    let class = match (kind, status) {
                        (Kind::Connection, "ERROR")
                        | (Kind::Host, "VPC_CONFIG_FAILED_INITIALIZATION") => Class::Unhealthy,
                        (_, "PENDING") => Class::Pending,
                        _ => return,
                    };
                    let mut detail = format!("status {status}");
                    if let Some(message) = message.filter(|m| !m.is_empty()) {
                        detail.push_str(&format!(": {message}"));
                    }
                    findings.push(Finding {
                        class,
                        kind,
                        name: name.to_owned(),
                        target: label.to_owned(),
                        arn: Some(arn.to_owned()),
                        detail,
                    });
                }
                Ownership::Unmanaged if !in_file(kind, name) => findings.push(Finding {
                    class: Class::Unmanaged,
                    kind,
                    name: name.to_owned(),
                    target: label.to_owned(),
                    arn: Some(arn.to_owned()),
                    detail: "owned by no stack (no codestar-reconcile:stack tag)".to_owned(),
                }),
                _ => {}
            }
        };
    for c in &live.connections {
        health(Kind::Connection, &c.name, &c.arn, &c.tags, &c.status, None);
    }
    for h in &live.hosts {
        health(
            Kind::Host,
            &h.name,
            &h.arn,
            &h.tags,
            &h.status,
            h.status_message.as_deref(),
        );
    }
    findings.sort_by(|a, b| (a.class, a.kind, &a.name).cmp(&(b.class, b.kind, &b.name)));
    findings
}

fn from_change(change: &Change, label: &str) -> Finding {
    let (class, detail) = match change.action {
        Action::Create => (
            Class::Missing,
            "in the file, but not in the account".to_owned(),
        ),
        Action::Delete => (Class::Extra, change.reason.clone()),
        Action::Adopt => (
            Class::Changed,
            format!(
                "exists without an owner; the file adopts it but apply has not run. {}",
                differences(change).join("; ")
            ),
        ),
        Action::Update | Action::Replace => (Class::Changed, differences(change).join("; ")),
    };
    Finding {
        class,
        kind: change.kind,
        name: change.name.clone(),
        target: label.to_owned(),
        arn: change.arn.clone(),
        detail,
    }
}

/// Field by field: what the account has → what the file says.
pub fn differences(change: &Change) -> Vec<String> {
    let empty = State::default();
    let before = change.before.as_ref().unwrap_or(&empty);
    let after = change.after.as_ref().unwrap_or(&empty);
    let mut out = Vec::new();
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
    if before.provider_type != after.provider_type && after.provider_type.is_some() {
        out.push(format!(
            "provider_type {} → {}",
            show(&before.provider_type),
            show(&after.provider_type)
        ));
    }
    if change
        .replace_fields
        .iter()
        .any(|f| f == "host" || f == "host_arn")
    {
        out.push(format!(
            "host {} → {}",
            before
                .host
                .clone()
                .or(before.host_arn.clone())
                .unwrap_or_else(|| "(none)".to_owned()),
            after
                .host
                .clone()
                .or(after.host_arn.clone())
                .unwrap_or_else(|| "(none)".to_owned())
        ));
    }
    if before.provider_endpoint != after.provider_endpoint && after.provider_endpoint.is_some() {
        out.push(format!(
            "provider_endpoint {} → {}",
            show(&before.provider_endpoint),
            show(&after.provider_endpoint)
        ));
    }
    if before.vpc != after.vpc
        && (after.vpc.is_some() || before.vpc.is_some())
        && change.kind == Kind::Host
    {
        out.push("VPC configuration differs".to_owned());
    }
    for (k, v) in &change.tags.add {
        out.push(format!("tag {k} missing (file: {v:?})"));
    }
    for (k, v) in &change.tags.change {
        let old = before.tags.get(k).cloned().unwrap_or_default();
        out.push(format!("tag {k} is {old:?} (file: {v:?})"));
    }
    for k in &change.tags.remove {
        out.push(format!(
            "tag {k} not in the file (value {:?})",
            before.tags.get(k).cloned().unwrap_or_default()
        ));
    }
    out
}
