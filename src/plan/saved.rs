//! A plan saved by `plan --out`, for `apply` to carry out later, and the
//! rules that decide whether it still may be.
//!
//! It records the options it was made with; per target, a digest of the
//! desired state, a fingerprint of the live state it saw, and where it was
//! made: the account and partition of the credentials, and the endpoint (or
//! the `--local` sandbox's state file); and a checksum of itself. `apply`
//! refuses it when the checksum does not match (edited or truncated), when
//! it would run anywhere else (before any call there), or when either side
//! moved since (stale). Certificates never enter it: the desired state is
//! re-read from the files and compared by digest. The files are found again
//! from any working directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Options, Plan};
use crate::account::{Identity, Place};
use crate::error::Error;
use crate::spec::Target;

/// Version 2 binds each target to its account, partition and endpoint, and
/// finds its file from any directory; version 1 plans are refused (make a
/// new one).
pub(crate) const SAVED_FORMAT_VERSION: &str = "2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SavedPlan {
    pub format_version: String,
    pub tool_version: String,
    pub options: Options,
    /// `--shard I/N` when the plan was made: applied with the same shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::fleet::Shard>,
    pub inputs: Vec<SavedInput>,
    pub plan: Plan,
    /// SHA-256 of this document with `checksum` empty.
    pub checksum: String,
}

/// What one target's part of the plan was made from, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedInput {
    /// The file as the command line named it.
    pub file: String,
    /// The same file from the root, when the plan was made.
    pub file_absolute: PathBuf,
    /// The same file relative to the saved plan's directory, so a plan kept
    /// beside the files (as a CI artifact is) finds them wherever both move.
    pub file_from_plan: Option<PathBuf>,
    pub label: String,
    pub region: String,
    pub account_id: String,
    pub partition: String,
    pub place: Place,
    pub desired_sha256: String,
    pub live_fingerprint: String,
}

impl SavedPlan {
    pub(crate) fn new(
        plan: Plan,
        options: Options,
        shard: Option<crate::fleet::Shard>,
        inputs: Vec<SavedInput>,
    ) -> SavedPlan {
        let mut saved = SavedPlan {
            format_version: SAVED_FORMAT_VERSION.to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            options,
            shard,
            inputs,
            plan,
            checksum: String::new(),
        };
        saved.checksum = saved.compute_checksum();
        saved
    }

    /// Read a saved plan: refused unless it is exactly as `plan --out`
    /// wrote it, in this version's format.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<SavedPlan, Error> {
        let remake = "make a new one with `plan --out`";
        let version = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("format_version")?.as_str().map(str::to_owned));
        match version.as_deref() {
            Some(SAVED_FORMAT_VERSION) => {}
            Some(other) => {
                return Err(Error::BadPlanFile(format!(
                    "{} is a saved plan of format {other}, which this version no longer \
                     applies (it expects {SAVED_FORMAT_VERSION}); nothing was applied: {remake}",
                    path.display()
                )));
            }
            None => {
                return Err(Error::BadPlanFile(format!(
                    "{} is not a saved plan; nothing was applied: {remake}",
                    path.display()
                )));
            }
        }
        let saved: SavedPlan = serde_json::from_str(text).map_err(|e| {
            Error::BadPlanFile(format!(
                "{} is not a complete saved plan ({e}); nothing was applied: {remake}",
                path.display()
            ))
        })?;
        if saved.checksum != saved.compute_checksum() {
            return Err(Error::BadPlanFile(format!(
                "{} was modified or truncated after it was saved (checksum mismatch); nothing \
                 was applied: {remake}",
                path.display()
            )));
        }
        Ok(saved)
    }

    fn compute_checksum(&self) -> String {
        let mut unsigned = self.clone();
        unsigned.checksum.clear();
        let bytes = serde_json::to_vec(&unsigned).expect("a plan always serialises");
        hex::encode(Sha256::digest(&bytes))
    }
}

impl SavedInput {
    /// Where to look for the file, most specific first: relative to the
    /// plan file, as named from this directory, from the root.
    pub(crate) fn candidates(&self, plan_file: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Some(relative) = &self.file_from_plan {
            let dir = plan_file.parent().unwrap_or(Path::new(""));
            out.push(dir.join(relative));
        }
        out.push(PathBuf::from(&self.file));
        out.push(self.file_absolute.clone());
        out.dedup();
        out
    }

    /// The file cannot be found at any candidate.
    pub(crate) fn lost(&self, plan_file: &Path) -> Error {
        let looked: Vec<String> = self
            .candidates(plan_file)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        Error::BadPlanFile(format!(
            "the plan's file {} is not where it was (looked at {}); nothing was applied. Keep \
             the saved plan beside the files as `plan --out` put it, or run apply from the \
             directory plan ran in",
            self.file,
            looked.join(", ")
        ))
    }

    /// Refused unless this run would call where the plan was made; checked
    /// before any call.
    pub(crate) fn check_place(&self, place: &Place) -> Result<(), Error> {
        if &self.place == place {
            return Ok(());
        }
        let how = match &self.place {
            Place::Local(state) => {
                format!("apply it with `--local --local-state {}`", state.display())
            }
            Place::Endpoint(_) if matches!(place, Place::Local(_)) => {
                "apply it without --local, with the credentials and endpoint plan used".to_owned()
            }
            Place::Endpoint(url) => format!(
                "apply it with the endpoint plan used (--endpoint-url {url}, or the same \
                 AWS_ENDPOINT_URL)"
            ),
        };
        Err(Error::WrongTarget(format!(
            "the saved plan for {} was made against {}, but this run would apply it to {place}; \
             nothing was applied: {how}",
            self.label, self.place
        )))
    }

    /// Refused unless the credentials are for the account (and partition)
    /// the plan was made in.
    pub(crate) fn check_identity(&self, identity: &Identity) -> Result<(), Error> {
        if identity.account_id == self.account_id && identity.partition == self.partition {
            return Ok(());
        }
        Err(Error::WrongTarget(format!(
            "the saved plan for {} was made in account {} ({}), but the credentials are for \
             account {} ({}); nothing was applied. Use credentials for account {} (--profile, \
             or the CI role of that account)",
            self.label,
            self.account_id,
            self.partition,
            identity.account_id,
            identity.partition,
            self.account_id
        )))
    }
}

/// A digest of everything the planner reads from a target's file (not its
/// path, comments or key order), certificates included.
pub(crate) fn desired_digest(target: &Target) -> String {
    let mut value = serde_json::to_value(target).expect("a target always serialises");
    if let Some(object) = value.as_object_mut() {
        object.remove("source");
    }
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// `path` relative to `base` (both from the root), through `..` where they
/// part; `None` when they share no root (another drive).
pub(crate) fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    if path.first() != base.first() {
        return None;
    }
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for part in &path[common..] {
        out.push(part);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_where_the_paths_part() {
        let rel = |p: &str, b: &str| relative_to(Path::new(p), Path::new(b)).unwrap();
        assert_eq!(rel("/w/infra/a.yaml", "/w"), PathBuf::from("infra/a.yaml"));
        assert_eq!(
            rel("/w/infra/a.yaml", "/w/out"),
            PathBuf::from("../infra/a.yaml")
        );
        assert_eq!(rel("/w/a.yaml", "/w"), PathBuf::from("a.yaml"));
    }

    fn input(place: Place) -> SavedInput {
        SavedInput {
            file: "a.yaml".to_owned(),
            file_absolute: PathBuf::from("/w/a.yaml"),
            file_from_plan: Some(PathBuf::from("a.yaml")),
            label: "s@eu-west-1".to_owned(),
            region: "eu-west-1".to_owned(),
            account_id: "111111111111".to_owned(),
            partition: "aws".to_owned(),
            place,
            desired_sha256: String::new(),
            live_fingerprint: String::new(),
        }
    }

    #[test]
    fn a_plan_applies_only_where_it_was_made() {
        let aws = Place::Endpoint("https://codestar-connections.eu-west-1.amazonaws.com".into());
        let saved = input(aws.clone());
        assert!(saved.check_place(&aws).is_ok());
        let local = Place::Local(PathBuf::from("/w/.codestar-local.json"));
        let err = saved.check_place(&local).unwrap_err().to_string();
        assert!(err.contains("without --local"), "{err}");
        let err = input(local.clone())
            .check_place(&aws)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--local --local-state /w/.codestar-local.json"),
            "{err}"
        );
        let identity = |account: &str, partition: &str| Identity {
            account_id: account.to_owned(),
            partition: partition.to_owned(),
        };
        assert!(
            saved
                .check_identity(&identity("111111111111", "aws"))
                .is_ok()
        );
        let err = saved
            .check_identity(&identity("222222222222", "aws"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("made in account 111111111111") && err.contains("222222222222"),
            "{err}"
        );
        assert!(
            saved
                .check_identity(&identity("111111111111", "aws-cn"))
                .is_err()
        );
    }

    #[test]
    fn the_file_is_looked_for_beside_the_plan_first() {
        let saved = input(Place::Local(PathBuf::from("/w/s.json")));
        assert_eq!(
            saved.candidates(Path::new("/elsewhere/plan.json")),
            vec![
                PathBuf::from("/elsewhere/a.yaml"),
                PathBuf::from("a.yaml"),
                PathBuf::from("/w/a.yaml")
            ]
        );
    }
}
