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

use crate::resource::{Api, ProviderType, Tags};

pub use diagnostic::{Diagnostic, Diagnostics};
pub use file::{
    DEFAULT_SCHEMA_REF, File, FileConnection, FileHost, FileSafety, FileTags, FileVpc, to_yaml,
    to_yaml_with_schema,
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
    pub hosts: Vec<Host>,
    pub connections: Vec<Connection>,
    pub safety: Safety,
}

impl Target {
    /// Whether the file names a resource of this kind and name.
    pub fn names(&self, kind: crate::resource::Kind, name: &str) -> bool {
        match kind {
            crate::resource::Kind::Connection => self.connections.iter().any(|c| c.name == name),
            crate::resource::Kind::Host => self.hosts.iter().any(|h| h.name == name),
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
