//! The inputs of the proof suites: a desired-state file and the account it
//! meets, as plain data. [`Desired`] renders the YAML; [`Seed`] creates the
//! pre-existing resources with the real SDK client, tagged as their owner.

#![allow(dead_code)] // Each proof uses a different part of the scenario.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use aws_sdk_codestarconnections as codestar;
use aws_sdk_codestarconnections::types::{ProviderType, Tag};
use codestar_reconcile::resource::{Kind, PROTECT_TAG, STACK_TAG, Tags};

/// The stack every proof file declares.
pub(crate) const STACK: &str = "platform";
/// The stack that owns the foreign resources.
pub(crate) const OTHER_STACK: &str = "other-team";

/// How the proofs apply `stack.yaml`. The replace and delete-percentage
/// guards have their own tests; here they would only turn random or large
/// cases into refusals. The ownership and protection guards hold whatever
/// the flags say.
pub(crate) const APPLY: [&str; 6] = [
    "apply",
    "-f",
    "stack.yaml",
    "--auto-approve",
    "--allow-replace",
    "--force",
];

/// What a connection points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A cloud provider: `GitHub`, `GitLab` or `Bitbucket`.
    Provider(&'static str),
    /// A host by name (of the file, or of the seed).
    Host(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Host {
    pub name: String,
    /// `GitHubEnterpriseServer` or `GitLabSelfManaged`.
    pub provider: &'static str,
    pub endpoint: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Connection {
    pub name: String,
    pub source: Source,
    pub tags: Tags,
}

/// A repository link through a connection (by name: of the file, or of the
/// seed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    /// `owner/name`.
    pub repository: String,
    pub connection: String,
    pub tags: Tags,
}

/// A sync configuration on a link (by repository: of the file, or of the
/// seed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sync {
    pub resource_name: String,
    pub repository: String,
    pub branch: String,
}

/// The role every proof's sync configurations name.
pub(crate) const SYNC_ROLE: &str = "arn:aws:iam::123456789012:role/cfn-git-sync";

impl Sync {
    pub(crate) fn config_file(&self) -> String {
        format!("deploy/{}.yaml", self.resource_name)
    }
}

/// The flags a file entry carries besides the resource itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub protect: Option<bool>,
    pub adopt: bool,
}

/// A desired-state file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Desired {
    pub hosts: Vec<(Host, Flags)>,
    pub connections: Vec<(Connection, Flags)>,
    pub links: Vec<(Link, Flags)>,
    pub syncs: Vec<Sync>,
}

impl Desired {
    /// Whether the file names a resource of `kind` called `name`.
    pub(crate) fn names(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Host => self.hosts.iter().any(|(h, _)| h.name == name),
            Kind::Connection => self.connections.iter().any(|(c, _)| c.name == name),
            Kind::RepositoryLink => self.links.iter().any(|(l, _)| l.repository == name),
            Kind::SyncConfiguration => self.syncs.iter().any(|s| s.resource_name == name),
        }
    }

    /// Whether the file adopts the resource of `kind` called `name`.
    pub(crate) fn adopts(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Host => self.hosts.iter().any(|(h, f)| h.name == name && f.adopt),
            Kind::Connection => self
                .connections
                .iter()
                .any(|(c, f)| c.name == name && f.adopt),
            Kind::RepositoryLink => self
                .links
                .iter()
                .any(|(l, f)| l.repository == name && f.adopt),
            // A sync configuration comes with its link.
            Kind::SyncConfiguration => false,
        }
    }

    pub(crate) fn remove(&mut self, kind: Kind, name: &str) {
        match kind {
            Kind::Host => self.hosts.retain(|(h, _)| h.name != name),
            Kind::Connection => self.connections.retain(|(c, _)| c.name != name),
            Kind::RepositoryLink => self.links.retain(|(l, _)| l.repository != name),
            Kind::SyncConfiguration => self.syncs.retain(|s| s.resource_name != name),
        }
    }

    /// The file as YAML, for stack [`STACK`] in eu-west-1.
    pub(crate) fn yaml(&self) -> String {
        let mut out = format!("version: 1\nstack: {STACK}\nregion: eu-west-1\n");
        if !self.hosts.is_empty() {
            out.push_str("hosts:\n");
        }
        for (host, flags) in &self.hosts {
            let _ = writeln!(out, "  - name: {}", host.name);
            let _ = writeln!(out, "    provider_type: {}", host.provider);
            let _ = writeln!(out, "    provider_endpoint: {}", host.endpoint);
            entry_tail(&mut out, &host.tags, *flags);
        }
        if !self.connections.is_empty() {
            out.push_str("connections:\n");
        }
        for (connection, flags) in &self.connections {
            let _ = writeln!(out, "  - name: {}", connection.name);
            match &connection.source {
                Source::Provider(p) => {
                    let _ = writeln!(out, "    provider_type: {p}");
                }
                Source::Host(h) => {
                    let _ = writeln!(out, "    host: {h}");
                }
            }
            entry_tail(&mut out, &connection.tags, *flags);
        }
        if !self.links.is_empty() {
            out.push_str("repository_links:\n");
        }
        for (link, flags) in &self.links {
            let _ = writeln!(out, "  - repository: {}", link.repository);
            let _ = writeln!(out, "    connection: {}", link.connection);
            entry_tail(&mut out, &link.tags, *flags);
        }
        if !self.syncs.is_empty() {
            out.push_str("sync_configurations:\n");
        }
        for sync in &self.syncs {
            let _ = writeln!(out, "  - resource_name: {}", sync.resource_name);
            let _ = writeln!(out, "    repository: {}", sync.repository);
            let _ = writeln!(out, "    branch: {}", sync.branch);
            let _ = writeln!(out, "    config_file: {}", sync.config_file());
            let _ = writeln!(out, "    role_arn: {SYNC_ROLE}");
        }
        out
    }
}

fn entry_tail(out: &mut String, tags: &Tags, flags: Flags) {
    if !tags.is_empty() {
        let pairs: Vec<String> = tags.iter().map(|(k, v)| format!("{k}: {v:?}")).collect();
        let _ = writeln!(out, "    tags: {{{}}}", pairs.join(", "));
    }
    if let Some(protect) = flags.protect {
        let _ = writeln!(out, "    protect: {protect}");
    }
    if flags.adopt {
        out.push_str("    adopt: true\n");
    }
}

/// Who a pre-existing resource belongs to, seen from [`STACK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Tagged with [`STACK`].
    Managed,
    /// Tagged with [`STACK`] and the protect tag.
    Protected,
    /// Tagged with [`OTHER_STACK`].
    Foreign,
    /// No stack tag.
    Unmanaged,
}

impl Owner {
    /// The ownership tags this owner writes.
    pub(crate) fn tags(self) -> Tags {
        let mut tags = Tags::new();
        match self {
            Owner::Managed => {
                tags.insert(STACK_TAG.to_owned(), STACK.to_owned());
            }
            Owner::Protected => {
                tags.insert(STACK_TAG.to_owned(), STACK.to_owned());
                tags.insert(PROTECT_TAG.to_owned(), "true".to_owned());
            }
            Owner::Foreign => {
                tags.insert(STACK_TAG.to_owned(), OTHER_STACK.to_owned());
            }
            Owner::Unmanaged => {}
        }
        tags
    }
}

/// The account before the first apply. A connection's [`Source::Host`]
/// names a host listed here (created first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Seed {
    pub hosts: Vec<(Host, Owner)>,
    pub connections: Vec<(Connection, Owner)>,
    /// Each through a connection listed here.
    pub links: Vec<(Link, Owner)>,
    /// Each on a link listed here.
    pub syncs: Vec<Sync>,
}

impl Seed {
    /// Create every resource directly with the SDK (no faults expected).
    pub(crate) async fn create(&self, client: &codestar::Client) {
        let mut host_arns: BTreeMap<&str, String> = BTreeMap::new();
        for (host, owner) in &self.hosts {
            let out = client
                .create_host()
                .name(&host.name)
                .provider_type(ProviderType::from(host.provider))
                .provider_endpoint(&host.endpoint)
                .set_tags(Some(sdk_tags(&host.tags, *owner)))
                .send()
                .await
                .unwrap_or_else(|e| panic!("seed host {}: {e:?}", host.name));
            host_arns.insert(&host.name, out.host_arn().expect("an ARN").to_owned());
        }
        let mut connection_arns: BTreeMap<&str, String> = BTreeMap::new();
        for (connection, owner) in &self.connections {
            let request = client
                .create_connection()
                .connection_name(&connection.name)
                .set_tags(Some(sdk_tags(&connection.tags, *owner)));
            let request = match &connection.source {
                Source::Provider(p) => request.provider_type(ProviderType::from(*p)),
                Source::Host(h) => request.host_arn(
                    host_arns
                        .get(h.as_str())
                        .unwrap_or_else(|| panic!("seed host {h} comes before its connections")),
                ),
            };
            let out = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("seed connection {}: {e:?}", connection.name));
            connection_arns.insert(&connection.name, out.connection_arn().to_owned());
        }
        let mut link_ids: BTreeMap<&str, String> = BTreeMap::new();
        for (link, owner) in &self.links {
            let (owner_id, name) = link.repository.rsplit_once('/').expect("owner/name");
            let out = client
                .create_repository_link()
                .connection_arn(
                    connection_arns
                        .get(link.connection.as_str())
                        .unwrap_or_else(|| {
                            panic!("seed connection {} comes first", link.connection)
                        }),
                )
                .owner_id(owner_id)
                .repository_name(name)
                .set_tags(Some(sdk_tags(&link.tags, *owner)))
                .send()
                .await
                .unwrap_or_else(|e| panic!("seed link {}: {e:?}", link.repository));
            let info = out.repository_link_info().expect("the link");
            link_ids.insert(&link.repository, info.repository_link_id().to_owned());
        }
        for sync in &self.syncs {
            client
                .create_sync_configuration()
                .resource_name(&sync.resource_name)
                .sync_type(codestar::types::SyncConfigurationType::CfnStackSync)
                .repository_link_id(
                    link_ids
                        .get(sync.repository.as_str())
                        .unwrap_or_else(|| panic!("seed link {} comes first", sync.repository)),
                )
                .branch(&sync.branch)
                .config_file(sync.config_file())
                .role_arn(SYNC_ROLE)
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!("seed sync configuration {}: {e:?}", sync.resource_name)
                });
        }
    }
}

fn sdk_tags(own: &Tags, owner: Owner) -> Vec<Tag> {
    let mut tags = own.clone();
    tags.extend(owner.tags());
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().expect("a tag"))
        .collect()
}

/// A map of tags from `(key, value)` pairs.
pub(crate) fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
