//! Drift: how an account differs from its file, for a cron job and the
//! person it pages. Read-only.
//!
//! Differences come from the planner itself (every guard relaxed), so drift
//! and plan can never disagree about what differs; health and unmanaged
//! resources are read from the snapshot.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::live::{LiveLink, LiveSync, Snapshot};
use crate::plan::{self, Action, Change, Options, Reason, Refusal, TargetSummary};
use crate::resource::{Kind, Ownership, arn, ownership};
use crate::spec::Target;

pub(crate) const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Class {
    /// The file cannot be applied as it stands (plan refuses it).
    Conflict,
    /// In the file, gone from the account.
    Missing,
    /// Tags, endpoint, VPC, provider or host differ from the file.
    Changed,
    /// A second copy of a host of the file, owned by this stack.
    Duplicate,
    /// A sync configuration with an open sync blocker: CloudFormation Git
    /// sync stopped until someone resolves it.
    Blocked,
    /// A sync configuration whose latest sync failed.
    Failing,
    /// Connection in ERROR, host whose VPC set-up failed, or repository
    /// link whose connection is in ERROR or gone.
    Unhealthy,
    /// Waiting for a person (the console handshake) or for AWS (VPC set-up).
    Pending,
    /// Carries this stack's tag but the file does not name it (apply would delete it).
    Extra,
    /// Owned by no stack; informational unless asked to fail on it.
    Unmanaged,
}

impl Class {
    pub(crate) const ALL: [Class; 10] = [
        Class::Conflict,
        Class::Missing,
        Class::Changed,
        Class::Duplicate,
        Class::Blocked,
        Class::Failing,
        Class::Unhealthy,
        Class::Pending,
        Class::Extra,
        Class::Unmanaged,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Class::Conflict => "conflict",
            Class::Missing => "missing",
            Class::Changed => "changed",
            Class::Duplicate => "duplicate",
            Class::Blocked => "blocked",
            Class::Failing => "failing",
            Class::Unhealthy => "unhealthy",
            Class::Pending => "pending",
            Class::Extra => "extra",
            Class::Unmanaged => "unmanaged",
        }
    }

    /// One line for `--help`.
    pub(crate) fn help(self) -> &'static str {
        match self {
            Class::Conflict => "the file cannot be applied as it stands (plan refuses it)",
            Class::Missing => "in the file, gone from the account",
            Class::Changed => "tags, endpoint, VPC, provider or host differ from the file",
            Class::Duplicate => "a second copy of a host of the file, owned by this stack",
            Class::Blocked => "a sync configuration stopped by an open sync blocker",
            Class::Failing => "a sync configuration whose latest sync failed",
            Class::Unhealthy => {
                "connection in ERROR, host whose VPC set-up failed, or link whose connection is in ERROR or gone"
            }
            Class::Pending => {
                "waiting for the console handshake (of a connection or of a link's connection) or for AWS's VPC set-up"
            }
            Class::Extra => "carries this stack's tag but the file does not name it",
            Class::Unmanaged => "owned by no stack; informational unless asked to fail on it",
        }
    }

    /// What to do about it, for the person reading the alert. True of
    /// every finding of the class; each finding's detail says the rest.
    pub(crate) fn advice(self) -> &'static str {
        match self {
            Class::Conflict => {
                "plan refuses the file as it stands: each line says why and what to do"
            }
            Class::Missing => {
                "in the file but not in the account: run apply to create it (a new connection or host needs the console handshake)"
            }
            Class::Changed => {
                "the account differs from the file: run apply to make it match, or change the file to keep what the account has"
            }
            Class::Duplicate => {
                "host names are not unique, and overlapping applies of this stack can each create one: run apply to delete the copy that is not kept"
            }
            Class::Blocked => {
                "CloudFormation Git sync stopped on this stack until the blocker is resolved: read its reason, fix the cause (often the last commit's template or the role), then resolve it in the console (CloudFormation > stack > Git sync) or with `aws codeconnections update-sync-blocker`"
            }
            Class::Failing => {
                "the latest sync of this stack failed: read the event in the CloudFormation console (stack > Git sync) and fix the template, parameters or role in the repository; the next commit syncs again"
            }
            Class::Unhealthy => {
                "check the status message; fix the provider or VPC set-up in the console, or replace the resource"
            }
            Class::Pending => {
                "waiting for a person (the console handshake) or for AWS (VPC set-up): each line says which"
            }
            Class::Extra => {
                "carries this stack's tag but the file does not name it (removed from the file, or tagged by hand): run apply to delete it, or add it to the file"
            }
            Class::Unmanaged => {
                "made outside this tool: adopt it into a file (`adopt: true`, see `import`), or delete it"
            }
        }
    }

    /// The classes that make `drift` exit 2 unless told otherwise.
    pub(crate) fn failing_by_default(self) -> bool {
        self != Class::Unmanaged
    }
}

/// One way the account differs from the file, about one resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    pub(crate) class: Class,
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) target: String,
    /// The live resource; `None` only for a missing one.
    pub(crate) arn: Option<String>,
    pub(crate) about: About,
    /// The resource's status, when it is worth saying and is not what the
    /// finding is about.
    pub(crate) status: Option<Status>,
}

/// What a finding is about; renderers turn it into words.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum About {
    /// What apply would change (missing, changed, extra, duplicate).
    Change(Box<Change>),
    /// What plan refuses (conflict).
    Refusal(Box<Refusal>),
    /// A status worth a look (unhealthy, pending).
    Status(Status),
    /// Owned by no stack.
    Unmanaged,
}

/// A live resource's state worth a look, as AWS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    /// Its own status (connections and hosts), with AWS's message.
    Own {
        kind: Kind,
        status: String,
        message: Option<String>,
    },
    /// A repository link whose connection is not AVAILABLE (`status`), or
    /// gone (`None`): syncs cannot run through it.
    Connection {
        name: Option<String>,
        arn: String,
        status: Option<String>,
    },
    /// A sync configuration's open sync blockers, by reason.
    Blocked { reasons: Vec<String> },
    /// A sync configuration's latest sync, with its last event.
    LatestSync {
        status: String,
        event: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Report {
    pub(crate) format_version: String,
    pub(crate) targets: Vec<TargetSummary>,
    pub(crate) findings: Vec<Finding>,
    /// Findings per class, every class present.
    pub(crate) summary: std::collections::BTreeMap<String, usize>,
    /// The classes that count as drift in this run.
    pub(crate) fail_on: Vec<Class>,
    /// Whether any finding is of a failing class.
    pub(crate) drift: bool,
    /// Targets left out: they could not be opened, checked or read.
    pub(crate) failed: Vec<crate::plan::FailedTarget>,
    /// Connections and hosts waiting for a person in the console.
    pub(crate) handshakes: Vec<crate::plan::Handshake>,
}

impl Report {
    pub(crate) fn new(
        parts: Vec<(TargetSummary, Vec<Finding>)>,
        fail_on: &BTreeSet<Class>,
    ) -> Report {
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
            failed: Vec::new(),
            handshakes: Vec::new(),
        }
    }
}

/// Every way the account differs from the file, for one target: one
/// finding per resource, of its most urgent class, its status added when
/// that is not what the finding is about.
pub(crate) fn findings(target: &Target, live: &Snapshot, label: &str) -> Vec<Finding> {
    let everything = Options {
        allow_replace: true,
        force: true,
        ..Options::default()
    };
    let plan = plan::plan_target(target, live, label, &everything);
    let mut findings: Vec<Finding> = plan
        .changes
        .into_iter()
        .map(|c| Finding {
            class: class_of(&c),
            kind: c.kind,
            name: c.name.clone(),
            target: label.to_owned(),
            arn: c.arn.clone(),
            about: About::Change(Box::new(c)),
            status: None,
        })
        .collect();
    for refusal in plan.refusals {
        findings.push(Finding {
            class: Class::Conflict,
            kind: refusal.kind.unwrap_or(Kind::Connection),
            name: refusal.name.clone().unwrap_or_default(),
            target: label.to_owned(),
            arn: refusal.arns.first().cloned(),
            about: About::Refusal(Box::new(refusal)),
            status: None,
        });
    }

    let stack = target.stack.as_str();
    let mut health =
        |kind: Kind, name: &str, arn: Option<&str>, tags, noted: Option<(Class, Status)>| {
            let reported = findings.iter_mut().find(|f| match (&f.arn, arn) {
                (Some(a), Some(b)) => arn::same(a, b),
                (None, None) => f.kind == kind && f.name == name,
                _ => false,
            });
            let owned = ownership(tags, stack);
            let finding = |class, about| Finding {
                class,
                kind,
                name: name.to_owned(),
                target: label.to_owned(),
                arn: arn.map(str::to_owned),
                about,
                status: None,
            };
            match (noted, reported) {
                (Some((_, noted)), Some(reported)) => reported.status = Some(noted),
                (None, Some(_)) => {}
                (Some((class, noted)), None)
                    if owned == Ownership::Managed && target.names(kind, name) =>
                {
                    findings.push(finding(class, About::Status(noted)));
                }
                // Not this stack's to look after: its status is its owner's news.
                // A sync configuration on an unmanaged link: the link's finding
                // says it.
                (_, None)
                    if owned == Ownership::Unmanaged
                        && !target.names(kind, name)
                        && kind != Kind::SyncConfiguration =>
                {
                    findings.push(finding(Class::Unmanaged, About::Unmanaged));
                }
                (_, None) => {}
            }
        };
    for r in live.resources() {
        let noted = match r.status() {
            Some((status, message)) => status_class(r.kind(), status).map(|class| {
                let status = Status::Own {
                    kind: r.kind(),
                    status: status.to_owned(),
                    message: message.filter(|m| !m.is_empty()).map(str::to_owned),
                };
                (class, status)
            }),
            None => None,
        };
        health(r.kind(), r.name(), r.arn(), r.tags(), noted);
    }
    for link in &live.links {
        if let Some(noted) = link_health(link, live) {
            health(
                Kind::RepositoryLink,
                &link.name,
                Some(&link.arn),
                &link.tags,
                Some(noted),
            );
        }
    }
    for sync in &live.syncs {
        if let Some(noted) = sync_health(sync) {
            health(
                Kind::SyncConfiguration,
                &sync.resource_name,
                None,
                &sync.tags,
                Some(noted),
            );
        }
    }
    findings.sort_by(|a, b| (a.class, a.kind, &a.name).cmp(&(b.class, b.kind, &b.name)));
    findings
}

/// A link whose connection is not AVAILABLE cannot sync: unhealthy when
/// the connection is in ERROR or gone, pending while it waits for its
/// handshake.
fn link_health(link: &LiveLink, live: &Snapshot) -> Option<(Class, Status)> {
    let connection = live
        .connections
        .iter()
        .find(|c| arn::same(&c.arn, &link.connection_arn));
    let class = match connection.map(|c| c.status.as_str()) {
        Some("AVAILABLE") => return None,
        Some("PENDING") => Class::Pending,
        _ => Class::Unhealthy,
    };
    Some((
        class,
        Status::Connection {
            name: connection.map(|c| c.name.clone()),
            arn: link.connection_arn.clone(),
            status: connection.map(|c| c.status.clone()),
        },
    ))
}

/// A sync configuration with an open blocker is blocked; one whose latest
/// sync failed is failing.
fn sync_health(sync: &LiveSync) -> Option<(Class, Status)> {
    let status = sync.sync_status.as_ref()?;
    if !status.blockers.is_empty() {
        return Some((
            Class::Blocked,
            Status::Blocked {
                reasons: status.blockers.clone(),
            },
        ));
    }
    match &status.latest {
        Some((latest, event)) if latest == "FAILED" => Some((
            Class::Failing,
            Status::LatestSync {
                status: latest.clone(),
                event: event.clone(),
            },
        )),
        _ => None,
    }
}

/// The class of a status worth a finding, if it is one.
pub(crate) fn status_class(kind: Kind, status: &str) -> Option<Class> {
    match (kind, status) {
        (Kind::Connection, "ERROR") | (Kind::Host, "VPC_CONFIG_FAILED_INITIALIZATION") => {
            Some(Class::Unhealthy)
        }
        (_, "PENDING") | (Kind::Host, "VPC_CONFIG_INITIALIZING" | "VPC_CONFIG_DELETING") => {
            Some(Class::Pending)
        }
        _ => None,
    }
}

/// The class of what apply would change.
fn class_of(change: &Change) -> Class {
    match (&change.action, &change.reason) {
        (Action::Create, _) => Class::Missing,
        (Action::Delete, Reason::ExtraCopy { .. }) => Class::Duplicate,
        (Action::Delete, _) => Class::Extra,
        (Action::Adopt | Action::Update | Action::Replace, _) => Class::Changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LiveConnection, LiveHost};
    use crate::plan::tests::builders::*;
    use crate::resource::ProviderType::GitHub;

    fn classes(findings: &[Finding]) -> Vec<(Class, &str)> {
        findings
            .iter()
            .map(|f| (f.class, f.name.as_str()))
            .collect()
    }

    #[test]
    fn a_second_copy_of_a_host_is_a_duplicate_once_not_also_pending() {
        let kept = live_host("ghes");
        let copy = LiveHost {
            arn: format!("{ARN_PREFIX}:host/ghes-ffffffff"),
            status: "PENDING".to_owned(),
            ..live_host("ghes")
        };
        let t = target(vec![host("ghes")], vec![]);
        let found = findings(
            &t,
            &snapshot(vec![kept.clone(), copy.clone()], vec![]),
            LABEL,
        );
        assert_eq!(classes(&found), vec![(Class::Duplicate, "ghes")]);
        assert_eq!(found[0].arn.as_deref(), Some(copy.arn.as_str()));
        assert!(
            crate::render::finding_detail(&found[0]).contains(&kept.arn),
            "{}",
            crate::render::finding_detail(&found[0])
        );
        assert!(
            crate::render::finding_detail(&found[0]).contains("also status PENDING"),
            "{}",
            crate::render::finding_detail(&found[0])
        );
    }

    #[test]
    fn a_changed_pending_connection_is_one_finding_saying_both() {
        let t = target(vec![], vec![connection("app", GitHub).tag("env", "prod")]);
        let live = snapshot(
            vec![],
            vec![LiveConnection {
                status: "PENDING".to_owned(),
                ..live_connection("app", GitHub).tag("env", "dev")
            }],
        );
        let found = findings(&t, &live, LABEL);
        assert_eq!(classes(&found), vec![(Class::Changed, "app")]);
        assert!(
            crate::render::finding_detail(&found[0]).contains("tag env is \"dev\""),
            "{}",
            crate::render::finding_detail(&found[0])
        );
        assert!(
            crate::render::finding_detail(&found[0]).contains("status PENDING"),
            "{}",
            crate::render::finding_detail(&found[0])
        );
    }

    #[test]
    fn a_host_still_setting_up_its_vpc_is_pending_and_says_so() {
        let t = target(vec![host("ghes")], vec![]);
        let live = snapshot(
            vec![LiveHost {
                status: "VPC_CONFIG_INITIALIZING".to_owned(),
                ..live_host("ghes")
            }],
            vec![],
        );
        let found = findings(&t, &live, LABEL);
        assert_eq!(classes(&found), vec![(Class::Pending, "ghes")]);
        assert!(
            crate::render::finding_detail(&found[0]).contains("still setting up its VPC"),
            "{}",
            crate::render::finding_detail(&found[0])
        );
    }

    #[test]
    fn a_refused_file_is_a_conflict_with_the_refusal_s_way_out_not_a_change() {
        let theirs = live_connection("app", GitHub).foreign();
        let t = target(vec![], vec![connection("app", GitHub)]);
        let found = findings(&t, &snapshot(vec![], vec![theirs.clone()]), LABEL);
        assert_eq!(classes(&found), vec![(Class::Conflict, "app")]);
        assert_eq!(found[0].arn.as_deref(), Some(theirs.arn.as_str()));
        assert!(
            crate::render::finding_detail(&found[0]).contains("pick another name"),
            "{}",
            crate::render::finding_detail(&found[0])
        );
    }

    #[test]
    fn a_tagged_resource_the_file_does_not_name_is_extra_without_guessing_why() {
        let t = target(vec![], vec![]);
        let found = findings(
            &t,
            &snapshot(vec![], vec![live_connection("old", GitHub)]),
            LABEL,
        );
        assert_eq!(classes(&found), vec![(Class::Extra, "old")]);
        assert!(
            crate::render::finding_detail(&found[0]).contains("does not name it"),
            "{}",
            crate::render::finding_detail(&found[0])
        );
        assert!(Class::Extra.advice().contains("or tagged by hand"));
    }
}
