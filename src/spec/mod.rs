//! The desired-state file: its format (version 1), strict loading with
//! locations, and validation.
//!
//! Loading turns each file into a [`Target`]: plain, validated data with
//! default tags already merged, host references checked and certificate files
//! read. Later stages never see YAML, spans or unvalidated values.

mod diagnostic;
mod file;
mod load;
mod located;
mod validate;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::Serialize;

use crate::resource::{Api, Kind, ProviderType, Tags};

pub use diagnostic::{Diagnostic, Diagnostics};
pub use file::{
    DEFAULT_SCHEMA_REF, File, FileConnection, FileHost, FileRepositoryLink, FileSafety,
    FileSyncConfiguration, FileTags, FileTargets, FileVpc, to_yaml, to_yaml_with_schema,
};
pub use load::{MAX_FILE_BYTES, json_schema_string, load};
pub use located::{Located, Pos};
pub use validate::stack_problems;

/// One desired-state file: one account and Region to reconcile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// The file this target was read from, as given on the command line.
    pub source: PathBuf,
    /// Owner name written as `codestar-reconcile:stack` on every managed resource.
    pub stack: String,
    pub region: Option<String>,
    pub account_id: Option<String>,
    /// The API the file asks for (`api:`); `None`: the command line's, or
    /// the default.
    pub api: Option<Api>,
    pub profile: Option<String>,
    /// `targets:`: the accounts and Regions of a fleet. `None` for a file of
    /// one account and Region (and for each target a fleet expands to).
    pub fleet: Option<Fleet>,
    pub hosts: Vec<Host>,
    pub connections: Vec<Connection>,
    pub repository_links: Vec<RepositoryLink>,
    pub sync_configurations: Vec<SyncConfiguration>,
    pub safety: Safety,
}

impl Target {
    /// Whether the file names a resource of this kind and name.
    pub fn names(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Connection => self.connections.iter().any(|c| c.name == name),
            Kind::Host => self.hosts.iter().any(|h| h.name == name),
            Kind::RepositoryLink => self.repository_links.iter().any(|l| l.name() == name),
            Kind::SyncConfiguration => self
                .sync_configurations
                .iter()
                .any(|s| s.resource_name == name),
        }
    }
}

/// A host as the file wants it. `tags` already include the file's default tags
/// (the resource's own tags win) and never the tool's ownership tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    pub name: String,
    pub provider_type: ProviderType,
    pub provider_endpoint: String,
    pub vpc: Option<Vpc>,
    pub tags: Tags,
    /// `Some(true)` writes the protect tag, `Some(false)` removes it, `None`
    /// leaves whatever the live resource carries.
    pub protect: Option<bool>,
    /// Take over an unmanaged resource of this name instead of refusing.
    pub adopt: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Vpc {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    /// The PEM text, read from `tls_certificate_file` when the file used that.
    pub tls_certificate: Option<String>,
}

/// A connection as the file wants it; `tags` as for [`Host`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    pub name: String,
    pub source: ConnectionSource,
    pub tags: Tags,
    pub protect: Option<bool>,
    pub adopt: bool,
}

/// Where a connection points: exactly one of the file's three spellings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionSource {
    /// `provider_type:` a cloud provider (Bitbucket, GitHub, GitLab).
    Provider(ProviderType),
    /// `host:` the name of a host in the same file.
    Host(String),
    /// `host_arn:` a host managed elsewhere.
    HostArn(String),
}

/// A fleet: the accounts and Regions one file is applied to, each account
/// reached by assuming a role from the ambient credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fleet {
    pub accounts: Vec<String>,
    pub organizational_units: Vec<String>,
    pub exclude_accounts: Vec<String>,
    pub regions: Vec<String>,
    /// With `{account_id}` where the account id goes.
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub duration: Option<std::time::Duration>,
    pub retired_accounts: Vec<String>,
}

/// Where a fleet's role ARN names the account.
pub const ACCOUNT_PLACEHOLDER: &str = "{account_id}";

impl Fleet {
    /// The role to assume in `account_id`.
    pub fn role_in(&self, account_id: &str) -> String {
        self.role_arn.replace(ACCOUNT_PLACEHOLDER, account_id)
    }
}

/// A repository link as the file wants it; `tags` as for [`Host`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepositoryLink {
    /// The owner: a user, organisation or group (GitLab groups may hold `/`).
    pub owner_id: String,
    pub repository_name: String,
    pub connection: LinkConnection,
    pub encryption_key_arn: Option<String>,
    pub tags: Tags,
    pub protect: Option<bool>,
    pub adopt: bool,
}

impl RepositoryLink {
    /// `owner/name`, as plans and reports name the link.
    pub fn name(&self) -> String {
        link_name(&self.owner_id, &self.repository_name)
    }
}

/// How plans and reports name a repository link: `owner/name`.
pub fn link_name(owner_id: &str, repository_name: &str) -> String {
    format!("{owner_id}/{repository_name}")
}

/// The connection a link goes through: exactly one of the file's two
/// spellings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkConnection {
    /// `connection:` the name of a connection in the same file.
    Name(String),
    /// `connection_arn:` a connection managed elsewhere.
    Arn(String),
}

/// The only sync type the service has.
pub const CFN_STACK_SYNC: &str = "CFN_STACK_SYNC";

/// A sync configuration as the file wants it. The options left out of the
/// file (`None`) keep whatever the account has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncConfiguration {
    /// The CloudFormation stack; with `sync_type`, the identity.
    pub resource_name: String,
    pub sync_type: String,
    /// `owner/name` of a repository link of the file.
    pub repository: String,
    pub branch: String,
    pub config_file: String,
    pub role_arn: String,
    pub publish_deployment_status: Option<String>,
    pub trigger_resource_update_on: Option<String>,
    pub pull_request_comment: Option<String>,
}

/// Limits on how much one plan may destroy before it needs `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Safety {
    /// Deletes plus replaces, as a percentage of managed resources, above
    /// which a plan is refused.
    pub max_delete_percent: u32,
    /// The percentage rule applies only from this many managed resources.
    pub min_managed: usize,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_delete_percent: 30,
            min_managed: 10,
        }
    }
}
