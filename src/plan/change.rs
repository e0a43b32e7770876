//! One resource's change, as data: the action, the typed reason, the fields
//! that force a replacement, and the states on either side. Renderers turn
//! reasons and warnings into words; nothing here is prose.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Action;
use crate::resource::{Kind, Tags};

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
    pub reason: Reason,
    /// The fields whose change forces a replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_fields: Vec<Field>,
    pub before: Option<State>,
    pub after: Option<State>,
    /// Exactly which tag keys an update or adoption adds, changes and removes.
    #[serde(default, skip_serializing_if = "TagChanges::is_empty")]
    pub tags: TagChanges,
}

impl Change {
    /// The fields an update or adoption changes in place, besides tags: a
    /// call to the kind's update operation (UpdateHost) is needed.
    pub fn updates_fields(&self) -> bool {
        match &self.reason {
            Reason::Differs { fields } | Reason::Adopt { fields } => {
                fields.iter().any(|f| *f != Field::Tags)
            }
            _ => false,
        }
    }
}

/// Why a change is planned (Terraform's `ActionReason`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// In the file, not in the account.
    Missing,
    /// These fields differ from the file and change in place.
    Differs { fields: Vec<Field> },
    /// The change's `replace_fields` cannot change in place.
    CannotChangeInPlace,
    /// Unmanaged, and the file says `adopt: true`: the stack tag is added,
    /// and these fields (besides tags) are brought in line too.
    Adopt { fields: Vec<Field> },
    /// Carries the stack's tag, and the file no longer names it.
    NotInFile { stack: String },
    /// A second copy of a host of the file that this stack owns (host names
    /// are not unique); the copy `kept` stays.
    ExtraCopy { kept: String },
}

/// A field of a resource's configuration, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    ProviderType,
    /// A connection's host, by name, when it is a host of the file.
    Host,
    HostArn,
    ProviderEndpoint,
    Vpc,
    /// A repository link's connection, by name, when it is a connection of
    /// the file.
    Connection,
    ConnectionArn,
    EncryptionKeyArn,
    /// A sync configuration's repository link, by `owner/name`.
    Repository,
    RepositoryLinkId,
    SyncType,
    Branch,
    ConfigFile,
    RoleArn,
    PublishDeploymentStatus,
    TriggerResourceUpdateOn,
    PullRequestComment,
    Tags,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::ProviderType => "provider_type",
            Field::Host => "host",
            Field::HostArn => "host_arn",
            Field::ProviderEndpoint => "provider_endpoint",
            Field::Vpc => "vpc",
            Field::Connection => "connection",
            Field::ConnectionArn => "connection_arn",
            Field::EncryptionKeyArn => "encryption_key_arn",
            Field::Repository => "repository",
            Field::RepositoryLinkId => "repository_link_id",
            Field::SyncType => "sync_type",
            Field::Branch => "branch",
            Field::ConfigFile => "config_file",
            Field::RoleArn => "role_arn",
            Field::PublishDeploymentStatus => "publish_deployment_status",
            Field::TriggerResourceUpdateOn => "trigger_resource_update_on",
            Field::PullRequestComment => "pull_request_comment",
            Field::Tags => "tags",
        }
    }
}

/// A resource's configuration as plans show it, field by field. Certificates
/// appear only as fingerprints: a plan is posted in pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct State {
    #[serde(flatten)]
    pub fields: BTreeMap<Field, Value>,
    /// As AWS reports it; never something a plan changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub tags: Tags,
}

impl State {
    /// A state with these tags and no field yet.
    pub fn tagged(tags: Tags) -> State {
        State {
            tags,
            ..State::default()
        }
    }

    /// Set `field` to a text, when there is one.
    pub fn with(mut self, field: Field, value: Option<impl Into<String>>) -> State {
        if let Some(value) = value {
            self.fields.insert(field, Value::Text(value.into()));
        }
        self
    }

    pub fn with_vpc(mut self, vpc: Option<VpcState>) -> State {
        if let Some(vpc) = vpc {
            self.fields.insert(Field::Vpc, Value::Vpc(vpc));
        }
        self
    }

    pub fn with_status(mut self, status: impl Into<String>) -> State {
        self.status = Some(status.into());
        self
    }

    /// A text field's value.
    pub fn text(&self, field: Field) -> Option<&str> {
        match self.fields.get(&field) {
            Some(Value::Text(text)) => Some(text),
            _ => None,
        }
    }

    pub fn vpc(&self) -> Option<&VpcState> {
        match self.fields.get(&Field::Vpc) {
            Some(Value::Vpc(vpc)) => Some(vpc),
            _ => None,
        }
    }
}

/// A field's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    Vpc(VpcState),
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

/// Something a reviewer must know that is not a change or a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub target: String,
    pub kind: Kind,
    pub name: String,
    pub warning: WarningKind,
}

/// What a warning is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum WarningKind {
    /// A new connection stays PENDING until a person completes the
    /// provider handshake in the console.
    PendingHandshake,
    /// A replaced connection gets a new ARN (PENDING): pipelines using the
    /// old one break until they use the new one.
    NewArn { old: Option<String> },
    /// A new host stays PENDING until a person sets it up in the console.
    HostSetUp,
    /// An extra copy of a host stays while connections use it.
    ExtraCopyInUse {
        copy: String,
        kept: String,
        users: Vec<String>,
    },
    /// A resource of this stack in an account of the organisation that the
    /// fleet no longer targets: nothing will manage or delete it.
    Orphan {
        account: String,
        arn: Option<String>,
    },
}

impl WarningKind {
    /// Whether it is about a person finishing a handshake or set-up in the
    /// console.
    pub fn is_handshake(&self) -> bool {
        matches!(
            self,
            WarningKind::PendingHandshake | WarningKind::NewArn { .. } | WarningKind::HostSetUp
        )
    }
}
