//! A plan saved by `plan --out`, for `apply` to carry out later.
//!
//! It records the options it was made with, a digest of each target's
//! desired state and a fingerprint of the live state it saw, and a checksum
//! of itself. `apply` refuses it when the checksum does not match (edited or
//! truncated) or when either side moved since (stale). Certificates never
//! enter it: the desired state is re-read from the files and compared by
//! digest.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Options, Plan};
use crate::spec::Target;

pub const SAVED_FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: String,
    pub tool_version: String,
    pub options: Options,
    pub inputs: Vec<SavedInput>,
    pub plan: Plan,
    /// SHA-256 of this document with `checksum` empty.
    pub checksum: String,
}

/// What one target's part of the plan was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedInput {
    pub file: String,
    pub label: String,
    pub region: String,
    pub desired_sha256: String,
    pub live_fingerprint: String,
}

impl SavedPlan {
    pub fn new(plan: Plan, options: Options, inputs: Vec<SavedInput>) -> SavedPlan {
        let mut saved = SavedPlan {
            format_version: SAVED_FORMAT_VERSION.to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            options,
            inputs,
            plan,
            checksum: String::new(),
        };
        saved.checksum = saved.compute_checksum();
        saved
    }

    fn compute_checksum(&self) -> String {
        let mut unsigned = self.clone();
        unsigned.checksum.clear();
        let bytes = serde_json::to_vec(&unsigned).expect("a plan always serialises");
        hex::encode(Sha256::digest(&bytes))
    }

    /// Whether the document is exactly as `plan --out` wrote it.
    pub fn checksum_matches(&self) -> bool {
        self.format_version == SAVED_FORMAT_VERSION && self.checksum == self.compute_checksum()
    }
}

/// A digest of everything the planner reads from a target's file (not its
/// path, comments or key order), certificates included.
pub fn desired_digest(target: &Target) -> String {
    let mut value = serde_json::to_value(target).expect("a target always serialises");
    if let Some(object) = value.as_object_mut() {
        object.remove("source");
    }
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}
