//! The plan: what apply would change, and why, as plain data.
//!
//! One [`Plan`] value is serialised as the JSON format and read by the text
//! and markdown renderers, so the three views can never disagree. The
//! [`planner`] builds it without any I/O; [`Refusal`]s are values in it, so a
//! refused plan still shows everything it would have done.

mod guard;
mod planner;
pub mod saved;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::resource::{Kind, Tags};

pub use guard::{Guard, Refusal};
pub use planner::{Options, kept_copy, plan_target};

/// The JSON format's version; bumped on any incompatible change.
pub const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub targets: Vec<TargetSummary>,
    /// Every change, no-ops left out, in display order (by target, hosts
    /// before connections, by name).
    pub changes: Vec<Change>,
    pub refusals: Vec<Refusal>,
    pub warnings: Vec<Warning>,
    pub summary: Summary,
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

/// One resource's change: what, why, and the states on either side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub action: Action,
    pub kind: Kind,
    pub name: String,
    pub target: String,
    /// The live resource's ARN; absent for a create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub reason: String,
    /// The fields whose change forces a replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_fields: Vec<String>,
    pub before: Option<State>,
    pub after: Option<State>,
    /// Exactly which tag keys an update or adoption adds, changes and removes.
    #[serde(default, skip_serializing_if = "TagChanges::is_empty")]
    pub tags: TagChanges,
    /// Whether a host update sends its endpoint and VPC (UpdateHost).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub update_host: bool,
    /// For the delete of an extra copy of a host of the file (host names are
    /// not unique): the ARN of the copy that stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}

/// A resource's configuration as plans show it. Certificates appear only as
/// fingerprints: a plan is posted in pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct State {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<String>,
    /// A connection's host, by name, when it is a host of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc: Option<VpcState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VpcState {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate_sha256: Option<String>,
}

impl VpcState {
    pub fn from_vpc(vpc: &crate::spec::Vpc) -> VpcState {
        let mut subnet_ids = vpc.subnet_ids.clone();
        subnet_ids.sort();
        let mut security_group_ids = vpc.security_group_ids.clone();
        security_group_ids.sort();
        VpcState {
            vpc_id: vpc.vpc_id.clone(),
            subnet_ids,
            security_group_ids,
            tls_certificate_sha256: vpc.tls_certificate.as_deref().map(certificate_fingerprint),
        }
    }
}

/// SHA-256 of a PEM certificate, ignoring surrounding whitespace and line
/// ending style so an editor's re-wrap is not a change.
pub fn certificate_fingerprint(pem: &str) -> String {
    let normalised: String = pem.trim().replace("\r\n", "\n");
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TagChanges {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub add: Tags,
    /// Key → the new value (the old one is in `before`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub change: Tags,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl TagChanges {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.change.is_empty() && self.remove.is_empty()
    }

    /// The keys TagResource must write: added and changed ones.
    pub fn to_write(&self) -> Tags {
        let mut tags = self.add.clone();
        tags.extend(self.change.iter().map(|(k, v)| (k.clone(), v.clone())));
        tags
    }
}

/// Something a reviewer must know that is not a change or a refusal, such as
/// a connection that will stay PENDING until a person finishes its handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub target: String,
    pub kind: Kind,
    pub name: String,
    pub message: String,
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

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn is_refused(&self) -> bool {
        !self.refusals.is_empty()
    }
}
