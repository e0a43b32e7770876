//! Import: a live [`Snapshot`] written back as a desired-state [`File`], so
//! an existing account can be brought under management with one reviewed
//! apply that adds nothing but the ownership tags.
//!
//! Pure data in, data out: the command reads the account and writes the YAML.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::live::{LiveConnection, LiveHost, LiveLink, LiveSync, Snapshot};
use crate::plan::kept_copy;
use crate::resource::{
    Api, Kind, OWN_TAG_PREFIX, Ownership, ProviderType, Tags, is_aws_tag, is_protected, ownership,
};
use crate::spec::{
    CFN_STACK_SYNC, File, FileConnection, FileHost, FileRepositoryLink, FileSyncConfiguration,
    FileTags, FileVpc, Located,
};

/// What to import, and how.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// The stack the file is for; resources another stack owns are skipped.
    pub(crate) stack: String,
    /// The Region written as the file's `region:` pin.
    pub(crate) region: Option<String>,
    /// The API written as the file's `api:`, when asked for (`--api`).
    pub(crate) api: Option<Api>,
    /// Write `adopt: true` on resources no stack owns yet.
    pub(crate) adopt: bool,
    /// Only resources whose name matches one of these (`*` and `?`); all when empty.
    pub(crate) names: Vec<String>,
}

/// The file, and what was left out of it.
#[derive(Debug, Clone)]
pub(crate) struct Imported {
    pub(crate) file: File,
    /// Each resource left out, and why.
    pub(crate) left_out: Vec<LeftOut>,
}

/// A resource `import` did not write into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeftOut {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) why: Why,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Why {
    /// Another stack owns it.
    Foreign(String),
    /// Other hosts share its name and are not all this stack's: a file
    /// names one host per name, and which one is meant cannot be told.
    SharedName(Vec<String>),
    /// A second copy of a host this stack owns; the file keeps this one.
    ExtraCopy { kept: String },
    /// A sync configuration whose repository link is not in the file.
    LinkLeftOut(String),
    /// Several links to one repository (through different providers): a
    /// file names one link per repository.
    SharedRepository(Vec<String>),
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LeftOut {
            kind, name, arn, ..
        } = self;
        match &self.why {
            Why::Foreign(owner) => write!(
                f,
                "Left out {kind} {name:?} ({arn}): stack {owner:?} owns it."
            ),
            Why::SharedName(others) => write!(
                f,
                "Left out host {name:?} ({arn}): {} share its name, and a file names one host per \
                 name; connections using it name it by host_arn. Delete the hosts that should not \
                 be there, then import again to manage the one left",
                match others.len() {
                    1 => format!("another host ({})", others[0]),
                    n => format!("{n} other hosts ({})", others.join(", ")),
                }
            ),
            Why::ExtraCopy { kept } => write!(
                f,
                "Left out host {name:?} ({arn}): a second copy of {kept}, which the file keeps; \
                 the first apply deletes this copy once no connection uses it"
            ),
            Why::LinkLeftOut(link) => write!(
                f,
                "Left out sync configuration {name:?} (on {arn}): its repository link {link:?} \
                 is not in the file; import it too (--name) to manage both"
            ),
            Why::SharedRepository(others) => write!(
                f,
                "Left out repository link {name:?} ({arn}): other links are to a repository of \
                 the same owner and name ({}), and a file names one link per repository",
                others.join(", ")
            ),
        }
    }
}

/// Describe the snapshot's hosts and connections that `options` selects as a
/// desired-state file. Hosts that share a name cannot all be described: of
/// copies this stack owns, the one apply keeps is; otherwise none is, and
/// their connections name them by ARN. Refuses only a connection to a
/// self-managed provider without a host, which no file can express.
pub(crate) fn import(snapshot: &Snapshot, options: &Options) -> Result<Imported> {
    let mut left_out = Vec::new();
    let mut by_name: BTreeMap<&str, Vec<&LiveHost>> = BTreeMap::new();
    for host in &snapshot.hosts {
        if let Some(owner) = foreign_owner(&host.tags, options) {
            left_out.push(LeftOut {
                kind: Kind::Host,
                name: host.name.clone(),
                arn: host.arn.clone(),
                why: Why::Foreign(owner),
            });
        } else if matches_any(&host.name, &options.names) {
            by_name.entry(&host.name).or_default().push(host);
        }
    }
    let mut hosts: Vec<&LiveHost> = Vec::new();
    for (_, same) in by_name {
        if let [one] = same.as_slice() {
            hosts.push(one);
            continue;
        }
        let ours = same
            .iter()
            .all(|h| ownership(&h.tags, &options.stack) == Ownership::Managed);
        let kept = ours.then(|| kept_copy(&same, &snapshot.connections));
        for host in &same {
            if kept.is_some_and(|k| std::ptr::eq(k, *host)) {
                hosts.push(host);
                continue;
            }
            let why = match kept {
                Some(kept) => Why::ExtraCopy {
                    kept: kept.arn.clone(),
                },
                None => Why::SharedName(
                    same.iter()
                        .filter(|o| !std::ptr::eq(**o, *host))
                        .map(|o| o.arn.clone())
                        .collect(),
                ),
            };
            left_out.push(LeftOut {
                kind: Kind::Host,
                name: host.name.clone(),
                arn: host.arn.clone(),
                why,
            });
        }
    }
    let host_names: BTreeMap<&str, &str> = hosts
        .iter()
        .map(|h| (h.arn.as_str(), h.name.as_str()))
        .collect();

    let mut connections = Vec::new();
    for connection in &snapshot.connections {
        if let Some(owner) = foreign_owner(&connection.tags, options) {
            left_out.push(LeftOut {
                kind: Kind::Connection,
                name: connection.name.clone(),
                arn: connection.arn.clone(),
                why: Why::Foreign(owner),
            });
        } else if matches_any(&connection.name, &options.names) {
            connections.push(file_connection(connection, &host_names, options)?);
        }
    }
    connections.sort_by(|a, b| a.name.cmp(&b.name));
    let connection_names: BTreeMap<&str, &str> = snapshot
        .connections
        .iter()
        .filter(|c| connections.iter().any(|f| f.name.value == c.name))
        .map(|c| (c.arn.as_str(), c.name.as_str()))
        .collect();

    let mut links = Vec::new();
    for link in &snapshot.links {
        let shared: Vec<String> = snapshot
            .links
            .iter()
            .filter(|l| l.name == link.name && !std::ptr::eq(*l, link))
            .map(|l| l.arn.clone())
            .collect();
        if let Some(owner) = foreign_owner(&link.tags, options) {
            left_out.push(LeftOut {
                kind: Kind::RepositoryLink,
                name: link.name.clone(),
                arn: link.arn.clone(),
                why: Why::Foreign(owner),
            });
        } else if !matches_any(&link.name, &options.names) {
        } else if !shared.is_empty() {
            left_out.push(LeftOut {
                kind: Kind::RepositoryLink,
                name: link.name.clone(),
                arn: link.arn.clone(),
                why: Why::SharedRepository(shared),
            });
        } else {
            links.push(link);
        }
    }
    let mut syncs = Vec::new();
    for sync in &snapshot.syncs {
        if let Some(owner) = foreign_owner(&sync.tags, options) {
            left_out.push(LeftOut {
                kind: Kind::SyncConfiguration,
                name: sync.resource_name.clone(),
                arn: sync.link_arn.clone(),
                why: Why::Foreign(owner),
            });
        } else if !matches_any(&sync.resource_name, &options.names) {
        } else if links.iter().any(|l| l.arn == sync.link_arn) {
            syncs.push(file_sync(sync, options));
        } else {
            left_out.push(LeftOut {
                kind: Kind::SyncConfiguration,
                name: sync.resource_name.clone(),
                arn: sync.link_arn.clone(),
                why: Why::LinkLeftOut(sync.repository.clone()),
            });
        }
    }
    syncs.sort_by(|a, b| a.resource_name.cmp(&b.resource_name));
    let mut links: Vec<FileRepositoryLink> = links
        .into_iter()
        .map(|l| file_link(l, &connection_names, options))
        .collect();
    links.sort_by(|a, b| a.repository.cmp(&b.repository));

    let file = File {
        version: Located::new(1),
        stack: Located::new(options.stack.clone()),
        region: options.region.clone().map(Located::new),
        api: options.api.map(|api| Located::new(api.as_str().to_owned())),
        hosts: hosts.into_iter().map(|h| file_host(h, options)).collect(),
        connections,
        repository_links: links,
        sync_configurations: syncs,
        ..File::default()
    };
    Ok(Imported { file, left_out })
}

/// `Some(owner)` when another stack owns the resource, so it is skipped.
fn foreign_owner(tags: &Tags, options: &Options) -> Option<String> {
    match ownership(tags, &options.stack) {
        Ownership::Foreign(owner) => Some(owner),
        Ownership::Managed | Ownership::Unmanaged => None,
    }
}

fn adopt(tags: &Tags, options: &Options) -> bool {
    options.adopt && ownership(tags, &options.stack) == Ownership::Unmanaged
}

/// `Some(true)` for a protected resource; otherwise left out, so apply keeps
/// whatever the live resource carries.
fn protect(tags: &Tags) -> Option<bool> {
    is_protected(tags).then_some(true)
}

/// The user's own tags: neither AWS's nor this tool's (which the file
/// expresses as `stack`, `protect` and `adopt`).
fn file_tags(tags: &Tags) -> FileTags {
    tags.iter()
        .filter(|(k, _)| !is_aws_tag(k) && !k.starts_with(OWN_TAG_PREFIX))
        .map(|(k, v)| (Located::new(k.clone()), Located::new(v.clone())))
        .collect()
}

fn file_host(host: &LiveHost, options: &Options) -> FileHost {
    FileHost {
        name: Located::new(host.name.clone()),
        provider_type: Located::new(host.provider_type.clone()),
        provider_endpoint: Located::new(host.provider_endpoint.clone()),
        vpc: host.vpc.as_ref().map(|v| FileVpc {
            vpc_id: Located::new(v.vpc_id.clone()),
            subnet_ids: Located::new(v.subnet_ids.iter().cloned().map(Located::new).collect()),
            security_group_ids: Located::new(
                v.security_group_ids
                    .iter()
                    .cloned()
                    .map(Located::new)
                    .collect(),
            ),
            tls_certificate: v.tls_certificate.clone().map(Located::new),
            tls_certificate_file: None,
        }),
        tags: file_tags(&host.tags),
        protect: protect(&host.tags),
        adopt: adopt(&host.tags, options),
    }
}

/// A connection through a host names it (`host:`) when the host is in the
/// file, else by ARN (`host_arn:`); any other names its provider type.
fn file_connection(
    connection: &LiveConnection,
    host_names: &BTreeMap<&str, &str>,
    options: &Options,
) -> Result<FileConnection> {
    let mut out = FileConnection {
        name: Located::new(connection.name.clone()),
        tags: file_tags(&connection.tags),
        protect: protect(&connection.tags),
        adopt: adopt(&connection.tags, options),
        ..FileConnection::default()
    };
    match &connection.host_arn {
        Some(arn) => match host_names.get(arn.as_str()) {
            Some(name) => out.host = Some(Located::new((*name).to_owned())),
            None => out.host_arn = Some(Located::new(arn.clone())),
        },
        None => {
            if ProviderType::parse(&connection.provider_type).is_none_or(|p| p.is_self_hosted()) {
                return Err(Error::usage(format!(
                    "connection {:?} ({}) has provider type {:?} and no host, which a \
                     desired-state file cannot express; leave it out with --name",
                    connection.name, connection.arn, connection.provider_type
                )));
            }
            out.provider_type = Some(Located::new(connection.provider_type.clone()));
        }
    }
    Ok(out)
}

/// A link names its connection (`connection:`) when the connection is in
/// the file, else by ARN (`connection_arn:`).
fn file_link(
    link: &LiveLink,
    connection_names: &BTreeMap<&str, &str>,
    options: &Options,
) -> FileRepositoryLink {
    let mut out = FileRepositoryLink {
        repository: Located::new(link.name.clone()),
        encryption_key_arn: link.encryption_key_arn.clone().map(Located::new),
        tags: file_tags(&link.tags),
        protect: protect(&link.tags),
        adopt: adopt(&link.tags, options),
        ..FileRepositoryLink::default()
    };
    match connection_names.get(link.connection_arn.as_str()) {
        Some(name) => out.connection = Some(Located::new((*name).to_owned())),
        None => out.connection_arn = Some(Located::new(link.connection_arn.clone())),
    }
    out
}

/// A sync configuration as the account has it. `pull_request_comment`
/// exists only in the CodeConnections API, so it is written only in a file
/// that uses it (`--api codeconnections`); elsewhere, left out, apply keeps
/// whatever the account has.
fn file_sync(sync: &LiveSync, options: &Options) -> FileSyncConfiguration {
    FileSyncConfiguration {
        resource_name: Located::new(sync.resource_name.clone()),
        sync_type: (sync.sync_type != CFN_STACK_SYNC).then(|| Located::new(sync.sync_type.clone())),
        repository: Located::new(sync.repository.clone()),
        branch: Located::new(sync.branch.clone()),
        config_file: Located::new(sync.config_file.clone()),
        role_arn: Located::new(sync.role_arn.clone()),
        publish_deployment_status: sync.publish_deployment_status.clone().map(Located::new),
        trigger_resource_update_on: sync.trigger_resource_update_on.clone().map(Located::new),
        pull_request_comment: sync
            .pull_request_comment
            .clone()
            .filter(|_| options.api == Some(Api::Codeconnections))
            .map(Located::new),
    }
}

/// Whether `name` matches one of `globs`; everything matches no globs.
pub(crate) fn matches_any(name: &str, globs: &[String]) -> bool {
    globs.is_empty() || globs.iter().any(|g| glob_match(g, name))
}

/// `*` matches any run of characters, `?` exactly one; all else literally.
/// Names are short, so the simple backtracking matcher is plenty.
fn glob_match(glob: &str, name: &str) -> bool {
    let (glob, name): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    let (mut g, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match glob.get(g) {
            Some('*') => {
                star = Some((g, n));
                g += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                g += 1;
                n += 1;
            }
            _ => match star {
                Some((sg, sn)) => {
                    g = sg + 1;
                    n = sn + 1;
                    star = Some((sg, sn + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{PROTECT_TAG, STACK_TAG};
    use crate::spec::{self, ConnectionSource, Vpc};

    const HOST_ARN: &str = "arn:aws:codestar-connections:eu-west-1:123456789012:host/ghes-0123abcd";
    const OTHER_HOST_ARN: &str =
        "arn:aws:codestar-connections:eu-west-1:123456789012:host/lab-0123abcd";

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn host(name: &str, arn: &str, t: &[(&str, &str)]) -> LiveHost {
        LiveHost {
            arn: arn.to_owned(),
            name: name.to_owned(),
            provider_type: "GitHubEnterpriseServer".to_owned(),
            provider_endpoint: "https://ghes.example.com".to_owned(),
            vpc: None,
            status: "AVAILABLE".to_owned(),
            status_message: None,
            tags: tags(t),
        }
    }

    fn connection(
        name: &str,
        provider: &str,
        host_arn: Option<&str>,
        t: &[(&str, &str)],
    ) -> LiveConnection {
        LiveConnection {
            arn: format!("arn:aws:codestar-connections:eu-west-1:123456789012:connection/{name}"),
            name: name.to_owned(),
            provider_type: provider.to_owned(),
            host_arn: host_arn.map(str::to_owned),
            status: "AVAILABLE".to_owned(),
            tags: tags(t),
        }
    }

    fn options(names: &[&str]) -> Options {
        Options {
            stack: "web".to_owned(),
            region: Some("eu-west-1".to_owned()),
            api: None,
            adopt: true,
            names: names.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn snapshot() -> Snapshot {
        let mut ghes = host(
            "ghes",
            HOST_ARN,
            &[("team", "platform"), (PROTECT_TAG, "true")],
        );
        ghes.vpc = Some(Vpc {
            vpc_id: "vpc-0123abcd".to_owned(),
            subnet_ids: vec!["subnet-0123abcd".to_owned()],
            security_group_ids: vec!["sg-0123abcd".to_owned()],
            tls_certificate: Some(
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_owned(),
            ),
        });
        Snapshot {
            links: Vec::new(),
            syncs: Vec::new(),
            hosts: vec![ghes, host("lab", OTHER_HOST_ARN, &[(STACK_TAG, "other")])],
            connections: vec![
                connection(
                    "app",
                    "GitHub",
                    None,
                    &[("env", "prod"), (STACK_TAG, "web")],
                ),
                connection("apps", "GitHubEnterpriseServer", Some(HOST_ARN), &[]),
                connection("labs", "GitLabSelfManaged", Some(OTHER_HOST_ARN), &[]),
                connection("theirs", "GitLab", None, &[(STACK_TAG, "other")]),
            ],
        }
    }

    /// Write the file and load it as `plan` would.
    fn load(file: &File) -> spec::Target {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imported.yaml");
        std::fs::write(&path, spec::to_yaml(file)).unwrap();
        let mut targets = spec::load(&[path]).unwrap_or_else(|d| panic!("{d}"));
        targets.remove(0)
    }

    #[test]
    fn the_imported_file_loads_and_describes_the_account() {
        let imported = import(&snapshot(), &options(&[])).unwrap();
        let left_out: Vec<_> = imported
            .left_out
            .iter()
            .map(|l| (l.kind, l.name.as_str(), l.why.clone()))
            .collect();
        assert_eq!(
            left_out,
            vec![
                (Kind::Host, "lab", Why::Foreign("other".to_owned())),
                (Kind::Connection, "theirs", Why::Foreign("other".to_owned())),
            ]
        );
        let target = load(&imported.file);
        assert_eq!(target.stack, "web");
        assert_eq!(target.region.as_deref(), Some("eu-west-1"));
        let [ghes] = &target.hosts[..] else {
            panic!("{:?}", target.hosts)
        };
        assert_eq!(ghes.tags, tags(&[("team", "platform")]));
        assert_eq!(ghes.protect, Some(true));
        assert!(ghes.adopt);
        assert!(ghes.vpc.as_ref().unwrap().tls_certificate.is_some());
        let by_name: BTreeMap<_, _> = target
            .connections
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect();
        assert_eq!(by_name.len(), 3);
        assert_eq!(by_name["app"].tags, tags(&[("env", "prod")]));
        assert!(
            !by_name["app"].adopt,
            "already this stack's: nothing to adopt"
        );
        assert_eq!(
            by_name["apps"].source,
            ConnectionSource::Host("ghes".to_owned())
        );
        assert!(by_name["apps"].adopt);
        assert_eq!(
            by_name["labs"].source,
            ConnectionSource::HostArn(OTHER_HOST_ARN.to_owned()),
            "its host belongs to another stack, so it is named by ARN"
        );
    }

    #[test]
    fn name_globs_filter_and_leave_hosts_out_by_arn() {
        let imported = import(&snapshot(), &options(&["app?"])).unwrap();
        let target = load(&imported.file);
        assert!(target.hosts.is_empty());
        let [apps] = &target.connections[..] else {
            panic!("{:?}", target.connections)
        };
        assert_eq!(apps.source, ConnectionSource::HostArn(HOST_ARN.to_owned()));
    }

    #[test]
    fn without_adopt_nothing_is_adopted() {
        let imported = import(
            &snapshot(),
            &Options {
                adopt: false,
                ..options(&[])
            },
        )
        .unwrap();
        assert!(imported.file.hosts.iter().all(|h| !h.adopt));
        assert!(imported.file.connections.iter().all(|c| !c.adopt));
    }

    #[test]
    fn hosts_sharing_a_name_are_left_out_and_their_connections_use_arns() {
        let mut snapshot = snapshot();
        snapshot.hosts.push(host("ghes", OTHER_HOST_ARN, &[]));
        let imported = import(&snapshot, &options(&[])).unwrap();
        let target = load(&imported.file);
        assert!(
            target.hosts.iter().all(|h| h.name != "ghes"),
            "{:?}",
            target.hosts
        );
        let apps = target
            .connections
            .iter()
            .find(|c| c.name == "apps")
            .unwrap();
        assert_eq!(apps.source, ConnectionSource::HostArn(HOST_ARN.to_owned()));
        let shared: Vec<_> = imported
            .left_out
            .iter()
            .filter(|l| matches!(l.why, Why::SharedName(_)))
            .map(|l| l.arn.as_str())
            .collect();
        assert_eq!(shared, vec![HOST_ARN, OTHER_HOST_ARN]);
        let line = imported.left_out[1].to_string();
        assert!(
            line.contains(OTHER_HOST_ARN) && line.contains("host_arn"),
            "{line}"
        );
    }

    #[test]
    fn of_several_copies_this_stack_owns_the_kept_one_is_imported() {
        let mut snapshot = snapshot();
        let mine = |arn: &str| host("twin", arn, &[(STACK_TAG, "web")]);
        let low = "arn:aws:codestar-connections:eu-west-1:123456789012:host/twin-00000001";
        let high = "arn:aws:codestar-connections:eu-west-1:123456789012:host/twin-ffffffff";
        snapshot.hosts.push(mine(high));
        snapshot.hosts.push(mine(low));
        let imported = import(&snapshot, &options(&[])).unwrap();
        assert_eq!(
            imported
                .file
                .hosts
                .iter()
                .filter(|h| h.name.value == "twin")
                .count(),
            1
        );
        assert!(imported.left_out.iter().any(|l| l.arn == high
            && l.why
                == Why::ExtraCopy {
                    kept: low.to_owned()
                }));
    }

    #[test]
    fn a_self_managed_connection_without_a_host_is_refused() {
        let mut snapshot = snapshot();
        snapshot
            .connections
            .push(connection("odd", "GitLabSelfManaged", None, &[]));
        let err = import(&snapshot, &options(&[])).unwrap_err().to_string();
        assert!(err.contains("\"odd\""), "{err}");
    }

    #[test]
    fn globs_match_stars_and_single_characters() {
        assert!(glob_match("*", ""));
        assert!(glob_match("app-*", "app-web"));
        assert!(glob_match("a?p*-b", "app-x-b"));
        assert!(!glob_match("app-*", "ap-web"));
        assert!(!glob_match("a?", "a"));
        assert!(glob_match("*-prod", "ghes-prod"));
        assert!(!glob_match("*-prod", "ghes-prod2"));
    }
}
