//! The desired-state file exactly as written (format version 1).
//!
//! These types mirror the YAML one to one: they read it strictly (unknown keys
//! are errors), write it back (`import` builds a [`File`] and calls
//! [`to_yaml`]), and generate the JSON Schema editors use. Values a later
//! check must point at are [`Located`]. Nothing here is validated yet: that is
//! `validate`'s job, which turns a `File` into a [`super::Target`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::located::Located;

/// Tags as written: a mapping of key to value, each with its place.
pub type FileTags = BTreeMap<Located<String>, Located<String>>;

/// Where [`to_yaml`] points editors for the schema: the committed schema,
/// relative to the root of a repository laid out like this one's examples.
pub const DEFAULT_SCHEMA_REF: &str = "schema/codestar-reconcile.schema.json";

/// A desired-state file: the connections and hosts one stack owns in one
/// account and Region.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "codestar-reconcile desired state (format version 1)")]
pub struct File {
    /// Format version of this file; only 1 exists.
    #[schemars(range(min = 1, max = 1))]
    pub version: Located<u32>,
    /// Owner name written as the `codestar-reconcile:stack` tag on everything
    /// this file manages. A tag value: 1-256 letters, digits, spaces and
    /// `_.:/=+-@`.
    #[schemars(
        length(min = 1, max = 256),
        regex(pattern = r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$")
    )]
    pub stack: Located<String>,
    /// AWS Region this file is for, e.g. `eu-west-1`. When set, running with a
    /// different `--region` is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-\d+$"))]
    pub region: Option<Located<String>>,
    /// The 12-digit AWS account id; apply refuses to run against any other.
    /// Quote it, so a leading zero survives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\d{12}$"))]
    pub account_id: Option<Located<String>>,
    /// Which name of the service to call: `codestar-connections` (the
    /// default) or `codeconnections`. Resources of both ARN prefixes are
    /// managed either way; new ones carry the prefix of the API used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["codestar-connections", "codeconnections"]))]
    pub api: Option<Located<String>>,
    /// AWS profile to use for this file's account (like `--profile`); with
    /// `targets:`, the credentials that assume each account's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Located<String>>,
    /// A fleet: the same resources in many accounts and Regions, each
    /// reached by assuming a role. Replaces `region:` and `account_id:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<FileTargets>,
    /// Tags merged under every resource's own tags (the resource's win).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub default_tags: FileTags,
    /// Hosts: the endpoints of self-managed GitHub Enterprise Server or GitLab.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<FileHost>,
    /// Connections to source providers, directly or through a host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<FileConnection>,
    /// Repositories linked into AWS through a connection (for CloudFormation
    /// Git sync).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repository_links: Vec<FileRepositoryLink>,
    /// CloudFormation stacks kept in sync with a file on a branch of a
    /// linked repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_configurations: Vec<FileSyncConfiguration>,
    /// Limits on how much one plan may destroy before it needs `--force`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<FileSafety>,
}

/// A host: how AWS reaches a self-managed provider.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileHost {
    /// Host name, 1-64 characters, unique in this file. It cannot change in
    /// place: renaming replaces the host.
    #[schemars(length(min = 1, max = 64))]
    pub name: Located<String>,
    /// The self-managed provider behind this host.
    #[schemars(extend("enum" = ["GitHubEnterpriseServer", "GitLabSelfManaged"]))]
    pub provider_type: Located<String>,
    /// The provider's https URL, at most 512 characters.
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^https://"))]
    pub provider_endpoint: Located<String>,
    /// Reach the provider through a VPC instead of the internet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc: Option<FileVpc>,
    /// This host's own tags (merged over `default_tags`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub tags: FileTags,
    /// `true`: apply never deletes or replaces this host, even once it is
    /// removed from the file. `false` removes that protection.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_flag"
    )]
    pub protect: Option<bool>,
    /// Take over an existing, unowned host of this name instead of refusing.
    #[serde(default, skip_serializing_if = "is_false", deserialize_with = "flag")]
    pub adopt: bool,
}

/// The VPC a host's provider is reached through.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("not" = {"required": ["tls_certificate", "tls_certificate_file"]}))]
pub struct FileVpc {
    /// `vpc-` and 8 or 17 characters.
    #[schemars(regex(pattern = r"^vpc-\w{8}(\w{9})?$"))]
    pub vpc_id: Located<String>,
    /// 1-10 distinct subnet ids (`subnet-` and 8 or 17 characters).
    #[schemars(length(min = 1, max = 10), extend("uniqueItems" = true), inner(regex(pattern = r"^subnet-\w{8}(\w{9})?$")))]
    pub subnet_ids: Located<Vec<Located<String>>>,
    /// 1-10 distinct security group ids (`sg-` and 8 or 17 characters).
    #[schemars(length(min = 1, max = 10), extend("uniqueItems" = true), inner(regex(pattern = r"^sg-\w{8}(\w{9})?$")))]
    pub security_group_ids: Located<Vec<Located<String>>>,
    /// The provider's TLS certificate, PEM, at most 16384 characters. Give
    /// this or `tls_certificate_file`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 16384))]
    pub tls_certificate: Option<Located<String>>,
    /// A PEM file holding the certificate, relative to this YAML file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate_file: Option<Located<String>>,
}

/// A connection: to a cloud provider (`provider_type`), to a host of this
/// file (`host`), or to a host managed elsewhere (`host_arn`); exactly one.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["provider_type"]},
    {"required": ["host"]},
    {"required": ["host_arn"]}
]))]
pub struct FileConnection {
    /// Connection name, 1-32 characters, unique in the account and Region.
    /// It cannot change in place: renaming replaces the connection.
    #[schemars(length(min = 1, max = 32))]
    pub name: Located<String>,
    /// A cloud provider. Self-managed providers are reached through `host`
    /// or `host_arn` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Bitbucket", "GitHub", "GitLab"]))]
    pub provider_type: Option<Located<String>>,
    /// The name of a host in this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub host: Option<Located<String>>,
    /// The ARN of a host managed elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 256),
        regex(
            pattern = r"^arn:aws(-[\w]+)*:(codestar-connections|codeconnections):[a-z]{2}(-[a-z]+)+-\d+:\d{12}:host/.+$"
        )
    )]
    pub host_arn: Option<Located<String>>,
    /// This connection's own tags (merged over `default_tags`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub tags: FileTags,
    /// `true`: apply never deletes or replaces this connection, even once it
    /// is removed from the file. `false` removes that protection.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_flag"
    )]
    pub protect: Option<bool>,
    /// Take over an existing, unowned connection of this name instead of
    /// refusing.
    #[serde(default, skip_serializing_if = "is_false", deserialize_with = "flag")]
    pub adopt: bool,
}

/// A repository linked into AWS through a connection: to a connection of
/// this file (`connection`) or one managed elsewhere (`connection_arn`);
/// exactly one.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["connection"]},
    {"required": ["connection_arn"]}
]))]
pub struct FileRepositoryLink {
    /// `owner/name`: the owner (user, organisation or group; GitLab groups
    /// may hold `/`) and the repository name, split at the last `/`. The
    /// link's identity: a different repository is a different link.
    #[schemars(regex(pattern = r"^.+/[^/]+$"))]
    pub repository: Located<String>,
    /// The name of a connection of this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    pub connection: Option<Located<String>>,
    /// The ARN of a connection managed elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 256),
        regex(
            pattern = r"^arn:aws(-[\w]+)*:(codestar-connections|codeconnections):[a-z0-9\-]+:[0-9]{12}:connection/[\w\-]+$"
        )
    )]
    pub connection_arn: Option<Located<String>>,
    /// The KMS key that encrypts the link's data (an ARN); AWS's own key
    /// when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 1024),
        regex(pattern = r"^arn:aws(-[\w]+)*:kms:[a-z\-0-9]+:\d{12}:key/[a-zA-Z0-9\-]+$")
    )]
    pub encryption_key_arn: Option<Located<String>>,
    /// This link's own tags (merged over `default_tags`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub tags: FileTags,
    /// `true`: apply never deletes or replaces this link (nor its sync
    /// configurations), even once it is removed from the file. `false`
    /// removes that protection.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_flag"
    )]
    pub protect: Option<bool>,
    /// Take over an existing, unowned link to this repository (and its sync
    /// configurations) instead of refusing.
    #[serde(default, skip_serializing_if = "is_false", deserialize_with = "flag")]
    pub adopt: bool,
}

/// A CloudFormation stack kept in sync with a file on a branch of a linked
/// repository (CloudFormation Git sync). It has no tags of its own: it
/// belongs to the stack that owns its repository link.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSyncConfiguration {
    /// The CloudFormation stack's name: 1-100 letters, digits, `_` and `-`,
    /// starting with a letter or digit. With `sync_type`, the
    /// configuration's identity.
    #[schemars(
        length(min = 1, max = 100),
        regex(pattern = r"^[0-9A-Za-z]+[0-9A-Za-z_\-]*$")
    )]
    pub resource_name: Located<String>,
    /// `CFN_STACK_SYNC`, the only type there is (and the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["CFN_STACK_SYNC"]))]
    pub sync_type: Option<Located<String>>,
    /// `owner/name` of a repository link of this file.
    pub repository: Located<String>,
    /// The branch to sync from, 1-255 characters.
    #[schemars(length(min = 1, max = 255))]
    pub branch: Located<String>,
    /// The deployment file's path in the repository.
    #[schemars(length(min = 1))]
    pub config_file: Located<String>,
    /// The IAM role CloudFormation Git sync assumes.
    #[schemars(
        length(min = 1, max = 1024),
        regex(pattern = r"^arn:aws(-[\w]+)*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+$")
    )]
    pub role_arn: Located<String>,
    /// Whether to publish the deployment status to the repository; AWS's
    /// default, whatever the account has, when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ENABLED", "DISABLED"]))]
    pub publish_deployment_status: Option<Located<String>>,
    /// Update the stack on any change to the branch, or only on a change to
    /// its files; AWS's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ANY_CHANGE", "FILE_CHANGE"]))]
    pub trigger_resource_update_on: Option<Located<String>>,
    /// Comment on pull requests; only through the CodeConnections API, so
    /// the file needs `api: codeconnections`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ENABLED", "DISABLED"]))]
    pub pull_request_comment: Option<Located<String>>,
}

/// The accounts and Regions a fleet file is applied to. Each account ×
/// Region is one target, `stack@account/region`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileTargets {
    /// 12-digit account ids, quoted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^\d{12}$")))]
    pub accounts: Vec<Located<String>>,
    /// Every ACTIVE account below these organizational units, recursively,
    /// read through AWS Organizations with the ambient credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")))]
    pub organizational_units: Vec<Located<String>>,
    /// Accounts left out, whatever `accounts` and the units say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^\d{12}$")))]
    pub exclude_accounts: Vec<Located<String>>,
    /// The Regions of every account, e.g. `[us-east-1, eu-west-1]`.
    #[schemars(length(min = 1))]
    pub regions: Located<Vec<Located<String>>>,
    /// The role to assume in each account, naming it with `{account_id}`:
    /// `arn:aws:iam::{account_id}:role/codestar-reconcile`.
    pub role_arn: Located<String>,
    /// The external id the roles' trust policies ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 1224))]
    pub external_id: Option<Located<String>>,
    /// The role session name (2-64 characters); `codestar-reconcile` when
    /// left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 64), regex(pattern = r"^[\w+=,.@-]+$"))]
    pub session_name: Option<Located<String>>,
    /// How long each role session lasts: `15m` to `12h` (the role's
    /// maximum session duration must allow it); 1 hour when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Located<String>>,
    /// Accounts this stack leaves: its resources there are deleted (with
    /// the same guards as any delete).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^\d{12}$")))]
    pub retired_accounts: Vec<Located<String>>,
}

/// How much one plan may destroy before it needs `--force`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSafety {
    /// Deletes plus replaces, as a percentage (0-100) of the managed
    /// resources, above which a plan is refused.
    #[serde(default = "default_max_delete_percent")]
    #[schemars(range(min = 0, max = 100))]
    pub max_delete_percent: Located<u32>,
    /// The percentage rule applies only from this many managed resources.
    #[serde(default = "default_min_managed")]
    pub min_managed: Located<u32>,
}

impl Default for FileSafety {
    fn default() -> Self {
        FileSafety {
            max_delete_percent: default_max_delete_percent(),
            min_managed: default_min_managed(),
        }
    }
}

fn default_max_delete_percent() -> Located<u32> {
    Located::new(super::Safety::default().max_delete_percent)
}

fn default_min_managed() -> Located<u32> {
    let min = super::Safety::default().min_managed;
    Located::new(u32::try_from(min).unwrap_or(u32::MAX))
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `true` or `false`, unquoted. A quoted `"true"` is a string in YAML, and
/// other tools reading the file (linters, `yq`, editors) treat it as one.
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match deserializer.deserialize_any(Flag)? {
        Some(value) => Ok(value),
        None => Err(serde::de::Error::custom(
            "expected true or false, found nothing (null)",
        )),
    }
}

/// [`flag`], or nothing (`null`) for "not said".
fn some_flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    deserializer.deserialize_any(Flag)
}

struct Flag;

impl serde::de::Visitor<'_> for Flag {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("true or false")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Option<bool>, E> {
        Ok(Some(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Option<bool>, E> {
        Ok(None)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Option<bool>, E> {
        Ok(None)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Option<bool>, E> {
        let unquote = if v == "true" || v == "false" {
            ": write it without quotes"
        } else {
            ""
        };
        Err(E::custom(format!(
            "expected true or false, found the string {v:?}{unquote}"
        )))
    }
}

/// Write a file as YAML, starting with the yaml-language-server comment that
/// points editors at [`DEFAULT_SCHEMA_REF`].
pub fn to_yaml(file: &File) -> String {
    to_yaml_with_schema(file, DEFAULT_SCHEMA_REF)
}

/// Write a file as YAML whose schema comment points at `schema_ref` (a URL,
/// or a path relative to where the YAML will be saved).
pub fn to_yaml_with_schema(file: &File, schema_ref: &str) -> String {
    // Only strings, string maps, lists, integers and booleans: serialising
    // them cannot fail.
    let body = serde_saphyr::to_string(file).expect("a File always serialises to YAML");
    format!("# yaml-language-server: $schema={schema_ref}\n{body}")
}
