//! What the emulated service remembers: per account and Region, connections,
//! hosts, repository links and sync configurations (with their sync history
//! and blockers); the ARNs it ever issued; the temporary credentials STS
//! issued; and their persistence to a JSON file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::resource::{ProviderType, arn};

/// Version of the state file layout, so a future layout can refuse old files
/// instead of misreading them.
const STATE_FORMAT: u32 = 2;

/// A key/value tag, in the order the client gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Tag {
    pub key: String,
    pub value: String,
}

/// A host's VPC configuration, as the API spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct VpcConfiguration {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<String>,
}

/// A connection as the service stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Connection {
    /// Creation order across the whole emulator; pagination tokens point at it.
    pub seq: u64,
    pub arn: String,
    pub name: String,
    pub provider_type: ProviderType,
    pub owner_account_id: String,
    pub status: String,
    pub host_arn: Option<String>,
    pub tags: Vec<Tag>,
}

/// A host as the service stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Host {
    /// Creation order across the whole emulator; pagination tokens point at it.
    pub seq: u64,
    pub arn: String,
    pub name: String,
    pub provider_type: ProviderType,
    pub provider_endpoint: String,
    pub vpc_configuration: Option<VpcConfiguration>,
    pub status: String,
    pub status_message: Option<String>,
    pub tags: Vec<Tag>,
}

/// A moment, in milliseconds since the Unix epoch: what the service's
/// timestamps carry (the wire has seconds with a millisecond fraction).
pub(super) type EpochMillis = i64;

/// A repository link as the service stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct RepositoryLink {
    /// Creation order across the whole emulator; pagination tokens point at it.
    pub seq: u64,
    pub arn: String,
    /// The UUID at the end of the ARN, lowercase.
    pub id: String,
    /// The connection's ARN as the connection was issued (whichever prefix
    /// the request named it by).
    pub connection_arn: String,
    pub owner_id: String,
    pub repository_name: String,
    /// The connection's provider type, taken when the link was made.
    pub provider_type: ProviderType,
    pub encryption_key_arn: Option<String>,
    pub tags: Vec<Tag>,
    /// The latest repository sync of each branch (and sync type).
    #[serde(default)]
    pub repository_syncs: Vec<RepositorySync>,
}

/// The latest sync of one branch of a linked repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct RepositorySync {
    pub branch: String,
    pub sync_type: String,
    pub attempt: SyncAttempt,
}

/// A sync attempt: its status and what happened, oldest event first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SyncAttempt {
    pub status: String,
    pub started_at: EpochMillis,
    pub events: Vec<SyncEvent>,
}

/// One event of a sync attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SyncEvent {
    pub event: String,
    pub time: EpochMillis,
    pub event_type: String,
}

/// A sync of the resource a sync configuration names: the attempt and the
/// revisions it went from and to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ResourceSync {
    pub attempt: SyncAttempt,
    pub initial_revision: Revision,
    pub target_revision: Revision,
}

/// A commit of a file of a linked repository, as the API spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Revision {
    pub branch: String,
    pub directory: String,
    pub owner_id: String,
    pub repository_name: String,
    pub provider_type: ProviderType,
    pub sha: String,
}

/// What stops a sync configuration from syncing until someone resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SyncBlocker {
    pub id: String,
    pub blocker_type: String,
    pub status: String,
    pub created_reason: String,
    pub created_at: EpochMillis,
    pub contexts: Vec<SyncBlockerContext>,
    pub resolved_reason: Option<String>,
    pub resolved_at: Option<EpochMillis>,
}

/// A key/value of a blocker's context, as the API spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SyncBlockerContext {
    pub key: String,
    pub value: String,
}

/// A sync configuration as the service stores it: keyed by resource name
/// and sync type in its Region; no ARN, no tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SyncConfiguration {
    /// Creation order across the whole emulator; pagination tokens point at it.
    pub seq: u64,
    pub resource_name: String,
    pub sync_type: String,
    /// The link's id, lowercase.
    pub repository_link_id: String,
    pub branch: String,
    pub config_file: String,
    pub role_arn: String,
    pub publish_deployment_status: Option<String>,
    pub trigger_resource_update_on: Option<String>,
    /// CodeConnections only: the older API's model has no such member.
    pub pull_request_comment: Option<String>,
    #[serde(default)]
    pub latest_sync: Option<ResourceSync>,
    #[serde(default)]
    pub latest_successful_sync: Option<ResourceSync>,
    /// Oldest first.
    #[serde(default)]
    pub blockers: Vec<SyncBlocker>,
}

/// The resources of one Region, in creation order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Region {
    pub connections: Vec<Connection>,
    pub hosts: Vec<Host>,
    /// Absent in state files written before links existed.
    #[serde(default)]
    pub repository_links: Vec<RepositoryLink>,
    #[serde(default)]
    pub sync_configurations: Vec<SyncConfiguration>,
}

impl Region {
    pub(super) fn connection(&self, resource_arn: &str) -> Option<&Connection> {
        self.connections
            .iter()
            .find(|c| arn::same(&c.arn, resource_arn))
    }

    pub(super) fn host(&self, resource_arn: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| arn::same(&h.arn, resource_arn))
    }

    /// A link by its id (the model lets either case of hex through).
    pub(super) fn repository_link(&self, id: &str) -> Option<&RepositoryLink> {
        self.repository_links
            .iter()
            .find(|l| l.id.eq_ignore_ascii_case(id))
    }

    pub(super) fn sync_configuration(
        &self,
        resource_name: &str,
        sync_type: &str,
    ) -> Option<&SyncConfiguration> {
        self.sync_configurations
            .iter()
            .find(|c| c.resource_name == resource_name && c.sync_type == sync_type)
    }
}

/// The resources of one account, by Region name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Account {
    pub regions: BTreeMap<String, Region>,
}

/// Temporary credentials `AssumeRole` issued: the key they sign with, the
/// secret and token that prove them, and the account they act in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Session {
    pub secret_access_key: String,
    pub session_token: String,
    /// The role's account: requests signed with these keys act in it.
    pub account_id: String,
    pub role_arn: String,
    pub role_name: String,
    /// The role's stable id (`AROA...`), as `AssumedRoleId` starts.
    pub role_id: String,
    pub session_name: String,
    pub expiration: EpochMillis,
    /// Issued to another session's keys (role chaining).
    pub chained: bool,
}

/// Everything the emulator persists: every account's resources, and the
/// temporary credentials that are still valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Store {
    format: u32,
    /// Next creation sequence number; never goes back, even on reset.
    pub next_seq: u64,
    /// Every ARN ever handed out, in any account (an ARN names its account),
    /// so none is handed out twice, even after its resource is deleted or
    /// the emulator is reset.
    pub issued_arns: BTreeSet<String>,
    /// The default account: the one requests signed with keys `AssumeRole`
    /// did not issue act in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Resources by account id.
    pub accounts: BTreeMap<String, Account>,
    /// Temporary credentials by access key id.
    #[serde(default)]
    pub sessions: BTreeMap<String, Session>,
    /// A format-1 file's resources that recorded no account: they belong to
    /// the default account once the emulator knows it ([`Store::settle`]).
    #[serde(skip)]
    unsettled: Option<Account>,
}

/// Format 1: one account, its Regions at the top.
#[derive(Deserialize)]
struct StoreV1 {
    next_seq: u64,
    issued_arns: BTreeSet<String>,
    regions: BTreeMap<String, Region>,
    #[serde(default)]
    account_id: Option<String>,
}

#[derive(Deserialize)]
struct Format {
    format: u32,
}

impl Store {
    /// Read the state file; a missing file is an empty emulator. A format-1
    /// file (one account) loads into the account it records, else into the
    /// default account.
    pub(super) fn load(path: &Path) -> Result<Store> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Store::empty()),
            Err(e) => return Err(Error::io(path, e)),
        };
        let not_state = |e: serde_json::Error| {
            Error::Other(format!(
                "{}: not an emulator state file: {e}",
                path.display()
            ))
        };
        let Format { format } = serde_json::from_str(&text).map_err(not_state)?;
        match format {
            1 => {
                let v1: StoreV1 = serde_json::from_str(&text).map_err(not_state)?;
                let account = Account {
                    regions: v1.regions,
                };
                let mut store = Store {
                    next_seq: v1.next_seq,
                    issued_arns: v1.issued_arns,
                    ..Store::empty()
                };
                match v1.account_id {
                    Some(id) => {
                        store.accounts.insert(id.clone(), account);
                        store.account_id = Some(id);
                    }
                    None => store.unsettled = Some(account),
                }
                Ok(store)
            }
            STATE_FORMAT => serde_json::from_str(&text).map_err(not_state),
            other => Err(Error::Other(format!(
                "{}: emulator state format {other} is not supported (expected 1 or \
                 {STATE_FORMAT})",
                path.display()
            ))),
        }
    }

    pub(super) fn empty() -> Store {
        Store {
            format: STATE_FORMAT,
            ..Store::default()
        }
    }

    /// Record the default account, and give it the resources of a format-1
    /// file that named none. True when that changed the store.
    pub(super) fn settle(&mut self, default_account: &str) -> bool {
        let changed =
            self.account_id.as_deref() != Some(default_account) || self.unsettled.is_some();
        self.account_id = Some(default_account.to_owned());
        if let Some(account) = self.unsettled.take() {
            self.accounts.insert(default_account.to_owned(), account);
        }
        changed
    }

    /// Write the state atomically: a reader (or a crash) sees the old file or
    /// the new one, never half of one, because rename within a directory is
    /// atomic.
    pub(super) fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Other(format!("cannot serialise emulator state: {e}")))?;
        let temp = temp_path(path);
        std::fs::write(&temp, text).map_err(|e| Error::io(&temp, e))?;
        std::fs::rename(&temp, path).map_err(|e| Error::io(path, e))
    }

    /// The account's Region, created empty on first use.
    pub(super) fn region_mut(&mut self, account_id: &str, name: &str) -> &mut Region {
        self.accounts
            .entry(account_id.to_owned())
            .or_default()
            .regions
            .entry(name.to_string())
            .or_default()
    }

    /// The account's Region, or an empty Region. Borrowed: every read asks
    /// for it, and a copy of a full Region per request was most of the
    /// emulator's time under load.
    pub(super) fn region(&self, account_id: &str, name: &str) -> &Region {
        static EMPTY: Region = Region {
            connections: Vec::new(),
            hosts: Vec::new(),
            repository_links: Vec::new(),
            sync_configurations: Vec::new(),
        };
        self.accounts
            .get(account_id)
            .and_then(|account| account.regions.get(name))
            .unwrap_or(&EMPTY)
    }

    /// Hosts count against one quota for the whole account, across Regions.
    pub(super) fn host_count(&self, account_id: &str) -> usize {
        self.accounts
            .get(account_id)
            .map_or(0, |a| a.regions.values().map(|r| r.hosts.len()).sum())
    }

    pub(super) fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Record an ARN as issued; false when it was issued before.
    pub(super) fn issue(&mut self, resource_arn: &str) -> bool {
        self.issued_arns.insert(arn::canonical(resource_arn))
    }

    /// Keep temporary credentials, forgetting those expired at `now`.
    pub(super) fn add_session(
        &mut self,
        access_key_id: String,
        session: Session,
        now: EpochMillis,
    ) {
        self.sessions.retain(|_, s| s.expiration > now);
        self.sessions.insert(access_key_id, session);
    }

    /// Forget every resource in every account; keep what guarantees ARNs and
    /// pagination tokens are never reused, and the temporary credentials
    /// (clients still hold them).
    pub(super) fn reset(&mut self) {
        self.accounts.clear();
    }
}

/// An exclusive hold on a state file for as long as it lives, so two
/// processes never load the same state and overwrite each other's changes.
/// The lock is on `FILE.lock` (the state file itself is replaced on every
/// save), which also says who holds it.
#[derive(Debug)]
pub(super) struct StateLock {
    _file: std::fs::File,
}

impl StateLock {
    /// Take the lock of `state` for `holder`. When another process holds
    /// it: fail at once, or with `wait`, say so and wait; but never wait
    /// for a serving emulator, which only stops when told to.
    pub(super) fn acquire(state: &Path, holder: &str, wait: bool) -> Result<StateLock> {
        use std::io::{Read, Seek, Write};
        let path = lock_path(state);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut other = String::new();
                let _ = file.read_to_string(&mut other);
                let other = match other.trim() {
                    "" => "another process".to_owned(),
                    text => text.to_owned(),
                };
                if !wait || other.contains("codestar-reconcile emulator") {
                    return Err(Error::Other(format!(
                        "{} is in use by {other}; stop it first (an emulator serving it can be \
                         reached with --endpoint-url instead), or use another state file",
                        state.display()
                    )));
                }
                eprintln!(
                    "Waiting for {other} to finish with {} (two commands on one state file \
                     would overwrite each other's changes)…",
                    state.display()
                );
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let who = format!("pid {} ({holder})\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(who.as_bytes()))
            .map_err(|e| Error::io(&path, e))?;
        Ok(StateLock { _file: file })
    }
}

fn lock_path(state: &Path) -> PathBuf {
    let mut name = state
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "emulator-state".into());
    name.push(".lock");
    state.with_file_name(name)
}

/// The temporary file sits beside the target so the rename never crosses
/// file systems.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "emulator-state".into());
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_atomically_and_loads_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        assert_eq!(
            Store::load(&path).expect("missing is empty"),
            Store::empty()
        );
        let mut store = Store::empty();
        store.issue("arn:aws:codestar-connections:eu-west-1:123456789012:host/a-00000000");
        store.region_mut("123456789012", "eu-west-1");
        store.region_mut("210987654321", "us-east-1");
        store.settle("123456789012");
        store.save(&path).expect("save");
        assert_eq!(Store::load(&path).expect("load"), store);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name() != "state.json")
            .collect();
        assert!(leftovers.is_empty(), "temp file left behind");
    }

    #[test]
    fn a_file_written_before_links_existed_still_loads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        std::fs::write(
            &path,
            r#"{"format": 1, "next_seq": 3, "issued_arns": [],
                "regions": {"eu-west-1": {"connections": [], "hosts": []}}}"#,
        )
        .expect("write");
        let mut store = Store::load(&path).expect("loads");
        assert_eq!(store.account_id, None);
        store.settle("210987654321");
        assert_eq!(store.accounts.len(), 1, "{store:?}");
        let region = store.region("210987654321", "eu-west-1");
        assert!(region.repository_links.is_empty() && region.sync_configurations.is_empty());
        assert_eq!(store.next_seq, 3);
    }

    #[test]
    fn a_format_1_file_loads_into_the_account_it_records() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        let arn = "arn:aws:codestar-connections:eu-west-1:111111111111:host/a-00000000";
        std::fs::write(
            &path,
            format!(
                r#"{{"format": 1, "next_seq": 1, "issued_arns": ["{arn}"], "account_id": "111111111111",
                "regions": {{"eu-west-1": {{"connections": [], "hosts": [{{"seq": 0, "arn": "{arn}",
                "name": "a", "provider_type": "GitHubEnterpriseServer", "provider_endpoint": "https://x",
                "vpc_configuration": null, "status": "PENDING", "status_message": null, "tags": []}}]}}}}}}"#
            ),
        )
        .expect("write");
        let mut store = Store::load(&path).expect("loads");
        assert_eq!(store.account_id.as_deref(), Some("111111111111"));
        store.settle("111111111111");
        assert_eq!(store.host_count("111111111111"), 1);
        assert_eq!(store.host_count("123456789012"), 0);
        store.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("\"format\": 2"), "{text}");
        assert_eq!(Store::load(&path).expect("loads again"), store);
    }

    #[test]
    fn refuses_a_file_that_is_not_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{\"hello\": 1}").expect("write");
        assert!(Store::load(&path).is_err());
    }
}
