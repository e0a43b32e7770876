//! The plan: what apply would change, and why, as plain data.
//!
//! One [`Plan`] value is serialised as the JSON format and read by the text
//! and markdown renderers, so the three views can never disagree. The
//! [`planner`] builds it without any I/O; [`Refusal`]s are values in it, so a
//! refused plan still shows everything it would have done.

mod change;
mod guard;
mod planner;
pub(crate) mod saved;
#[cfg(test)]
pub(crate) mod tests;

use serde::{Deserialize, Serialize};

pub use change::{
    Change, Field, Reason, State, TagChanges, Value, VpcState, Warning, WarningKind,
    certificate_fingerprint,
};
pub use guard::{Guard, Refusal};
pub(crate) use planner::link_id_of;
pub use planner::{Options, kept_copy, plan_target};

/// The JSON format's version; bumped on any incompatible change. Version 2:
/// each change's `reason_code` (typed) beside `reason` (words), each
/// warning's `code` beside `message`; `update_host` and `duplicate_of` gone
/// (they are in `reason_code`).
pub const FORMAT_VERSION: &str = "2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub targets: Vec<TargetSummary>,
    /// Every change, no-ops left out, in display order (by target, hosts
    /// before connections, by name).
    pub changes: Vec<Change>,
    pub refusals: Vec<Refusal>,
    pub warnings: Vec<Warning>,
    /// Targets left out: they could not be opened, checked or read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<FailedTarget>,
    /// Organisation accounts outside the fleet that could not be scanned
    /// for this stack's resources (informational).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unscanned: Vec<FailedTarget>,
    /// Connections and hosts waiting for a person in the console, or that
    /// will once applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handshakes: Vec<Handshake>,
    pub summary: Summary,
}

/// A connection or host that waits for its handshake (or set-up) in the
/// AWS console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handshake {
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub region: String,
    pub kind: crate::resource::Kind,
    pub name: String,
    /// `None` until apply creates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub waiting: Waiting,
    /// The console page where a person completes it.
    pub console: String,
}

/// Whether a handshake waits now, or will once apply creates the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    Now,
    AfterApply,
}

/// A target that could not be opened, checked or read: the plan covers
/// the others, and the command exits 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedTarget {
    pub target: String,
    pub message: String,
}

/// Which account, Region and stack a part of the plan is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSummary {
    /// `stack@region`, the name changes and refusals use for their target.
    pub label: String,
    pub file: String,
    pub stack: String,
    pub region: String,
    pub account_id: Option<String>,
    /// The API new resources are created through, so their ARN prefix.
    #[serde(default)]
    pub api: crate::resource::Api,
    /// A fleet's retired account: the stack's resources there are deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
    /// Live resources carrying this stack's tag when the plan was made.
    pub managed: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    Adopt,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Adopt => "adopt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub adopt: usize,
}

impl Summary {
    pub fn of(changes: &[Change]) -> Summary {
        let mut s = Summary::default();
        for c in changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::Adopt => s.adopt += 1,
            }
        }
        s
    }

    pub fn total(&self) -> usize {
        self.create + self.update + self.replace + self.delete + self.adopt
    }
}

/// The plan for one target, before plans of several targets are combined.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetPlan {
    pub changes: Vec<Change>,
    pub refusals: Vec<Refusal>,
    pub warnings: Vec<Warning>,
    pub managed: usize,
}

impl Plan {
    /// One plan over several targets, in the order given.
    pub fn combine(parts: Vec<(TargetSummary, TargetPlan)>) -> Plan {
        let mut plan = Plan {
            format_version: FORMAT_VERSION.to_owned(),
            targets: Vec::new(),
            changes: Vec::new(),
            refusals: Vec::new(),
            warnings: Vec::new(),
            failed: Vec::new(),
            unscanned: Vec::new(),
            handshakes: Vec::new(),
            summary: Summary::default(),
        };
        for (mut summary, part) in parts {
            summary.managed = part.managed;
            plan.targets.push(summary);
            plan.changes.extend(part.changes);
            plan.refusals.extend(part.refusals);
            plan.warnings.extend(part.warnings);
        }
        plan.summary = Summary::of(&plan.changes);
        plan
    }

    /// Several plans (of several saved files, say) as one, in the order
    /// given.
    pub fn merge(plans: Vec<Plan>) -> Plan {
        let mut merged = Plan::combine(Vec::new());
        for plan in plans {
            merged.targets.extend(plan.targets);
            merged.changes.extend(plan.changes);
            merged.refusals.extend(plan.refusals);
            merged.warnings.extend(plan.warnings);
            merged.failed.extend(plan.failed);
            merged.unscanned.extend(plan.unscanned);
            merged.handshakes.extend(plan.handshakes);
        }
        merged.summary = Summary::of(&merged.changes);
        merged
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn is_refused(&self) -> bool {
        !self.refusals.is_empty()
    }
}
