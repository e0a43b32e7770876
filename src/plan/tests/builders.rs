//! Small builders for targets, live snapshots and plans. Defaults are chosen
//! so that `host("h")` and `live_host("h")` (or `connection("c", GitHub)` and
//! `live_connection("c", GitHub)`) describe the same, managed, resource: a
//! test only spells out what differs.

use std::path::PathBuf;

use crate::live::{LiveConnection, LiveHost, LiveLink, LiveSync, Snapshot};
use crate::plan::{Action, Change, Guard, Options, Refusal, TargetPlan, plan_target};
use crate::resource::{Kind, PROTECT_TAG, ProviderType, STACK_TAG, Tags};
use crate::spec::{
    CFN_STACK_SYNC, Connection, ConnectionSource, Host, LinkConnection, RepositoryLink, Safety,
    SyncConfiguration, Target, Vpc,
};

pub(crate) const STACK: &str = "platform-prod";
pub(crate) const OTHER_STACK: &str = "team-b";
pub(crate) const LABEL: &str = "platform-prod@eu-west-1";
pub(crate) const ARN_PREFIX: &str = "arn:aws:codestar-connections:eu-west-1:123456789012";

pub(crate) fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------- the file

pub(crate) fn target(hosts: Vec<Host>, connections: Vec<Connection>) -> Target {
    Target {
        source: PathBuf::from("prod.yaml"),
        stack: STACK.to_owned(),
        region: Some("eu-west-1".to_owned()),
        account_id: None,
        api: None,
        profile: None,
        fleet: None,
        hosts,
        connections,
        repository_links: Vec::new(),
        sync_configurations: Vec::new(),
        safety: Safety::default(),
    }
}

pub(crate) fn endpoint(host: &str) -> String {
    format!("https://{host}.example.com")
}

/// A GitHub Enterprise Server host without VPC, tags, protect or adopt.
pub(crate) fn host(name: &str) -> Host {
    Host {
        name: name.to_owned(),
        provider_type: ProviderType::GitHubEnterpriseServer,
        provider_endpoint: endpoint(name),
        vpc: None,
        tags: Tags::new(),
        protect: None,
        adopt: false,
    }
}

pub(crate) fn connection(name: &str, provider: ProviderType) -> Connection {
    Connection {
        name: name.to_owned(),
        source: ConnectionSource::Provider(provider),
        tags: Tags::new(),
        protect: None,
        adopt: false,
    }
}

/// A connection through `host:`, a host of the same file.
pub(crate) fn connection_via_host(name: &str, host: &str) -> Connection {
    Connection {
        source: ConnectionSource::Host(host.to_owned()),
        ..connection(name, ProviderType::GitHub)
    }
}

/// A connection through `host_arn:`, a host managed elsewhere.
pub(crate) fn connection_via_arn(name: &str, host_arn: &str) -> Connection {
    Connection {
        source: ConnectionSource::HostArn(host_arn.to_owned()),
        ..connection(name, ProviderType::GitHub)
    }
}

/// A link to `repository` (`owner/name`) through `connection`, a
/// connection of the same file.
pub(crate) fn link(repository: &str, connection: &str) -> RepositoryLink {
    let (owner_id, repository_name) = repository.rsplit_once('/').expect("owner/name");
    RepositoryLink {
        owner_id: owner_id.to_owned(),
        repository_name: repository_name.to_owned(),
        connection: LinkConnection::Name(connection.to_owned()),
        encryption_key_arn: None,
        tags: Tags::new(),
        protect: None,
        adopt: false,
    }
}

/// A sync configuration of stack `name` on the file's link to `repository`,
/// from branch `main`, options left to the account.
pub(crate) fn sync(name: &str, repository: &str) -> SyncConfiguration {
    SyncConfiguration {
        resource_name: name.to_owned(),
        sync_type: CFN_STACK_SYNC.to_owned(),
        repository: repository.to_owned(),
        branch: "main".to_owned(),
        config_file: format!("deploy/{name}.yaml"),
        role_arn: ROLE_ARN.to_owned(),
        publish_deployment_status: None,
        trigger_resource_update_on: None,
        pull_request_comment: None,
    }
}

pub(crate) const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/cfn-git-sync";

/// A target with these links and sync configurations besides its hosts and
/// connections.
pub(crate) fn with_links(
    mut target: Target,
    links: Vec<RepositoryLink>,
    syncs: Vec<SyncConfiguration>,
) -> Target {
    target.repository_links = links;
    target.sync_configurations = syncs;
    target
}

pub(crate) fn vpc(subnets: &[&str], groups: &[&str], certificate: Option<&str>) -> Vpc {
    Vpc {
        vpc_id: "vpc-0abc1234def567890".to_owned(),
        subnet_ids: subnets.iter().map(|s| (*s).to_owned()).collect(),
        security_group_ids: groups.iter().map(|s| (*s).to_owned()).collect(),
        tls_certificate: certificate.map(str::to_owned),
    }
}

// ------------------------------------------------------------- the account

pub(crate) fn host_arn(name: &str) -> String {
    format!("{ARN_PREFIX}:host/{name}-0123abcd")
}

pub(crate) fn connection_arn(name: &str) -> String {
    format!("{ARN_PREFIX}:connection/{name}-4d2a6c1e")
}

/// A link id as the service makes them (a UUID), derived from the
/// repository so each link has its own.
pub(crate) fn link_id(repository: &str) -> String {
    let n = repository.bytes().map(u64::from).sum::<u64>();
    format!("{:08x}-0000-4000-8000-{n:012x}", n)
}

pub(crate) fn link_arn(repository: &str) -> String {
    format!("{ARN_PREFIX}:repository-link/{}", link_id(repository))
}

/// A live link matching `link(repository, connection)`, managed by
/// [`STACK`], through the live `connection`.
pub(crate) fn live_link(repository: &str, connection: &LiveConnection) -> LiveLink {
    let (owner_id, repository_name) = repository.rsplit_once('/').expect("owner/name");
    LiveLink {
        name: repository.to_owned(),
        arn: link_arn(repository),
        id: link_id(repository),
        owner_id: owner_id.to_owned(),
        repository_name: repository_name.to_owned(),
        provider_type: connection.provider_type.clone(),
        connection_arn: connection.arn.clone(),
        encryption_key_arn: None,
        tags: tags(&[(STACK_TAG, STACK)]),
    }
}

/// A live sync configuration matching `sync(name, ...)` on `link`, owned
/// as the link is.
pub(crate) fn live_sync(name: &str, link: &LiveLink) -> LiveSync {
    LiveSync {
        resource_name: name.to_owned(),
        sync_type: CFN_STACK_SYNC.to_owned(),
        link_id: link.id.clone(),
        link_arn: link.arn.clone(),
        repository: link.name.clone(),
        branch: "main".to_owned(),
        config_file: format!("deploy/{name}.yaml"),
        role_arn: ROLE_ARN.to_owned(),
        publish_deployment_status: Some("DISABLED".to_owned()),
        trigger_resource_update_on: Some("ANY_CHANGE".to_owned()),
        pull_request_comment: None,
        tags: link
            .tags
            .iter()
            .filter(|(k, _)| *k == STACK_TAG || *k == PROTECT_TAG)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        sync_status: None,
    }
}

/// A snapshot with these links and sync configurations besides its hosts
/// and connections.
pub(crate) fn with_live_links(
    mut live: Snapshot,
    links: Vec<LiveLink>,
    syncs: Vec<LiveSync>,
) -> Snapshot {
    live.links = links;
    live.syncs = syncs;
    live
}

/// A live host matching `host(name)`, managed by [`STACK`].
pub(crate) fn live_host(name: &str) -> LiveHost {
    LiveHost {
        arn: host_arn(name),
        name: name.to_owned(),
        provider_type: ProviderType::GitHubEnterpriseServer.as_str().to_owned(),
        provider_endpoint: endpoint(name),
        vpc: None,
        status: "AVAILABLE".to_owned(),
        status_message: None,
        tags: tags(&[(STACK_TAG, STACK)]),
    }
}

/// A live connection matching `connection(name, provider)`, managed by [`STACK`].
pub(crate) fn live_connection(name: &str, provider: ProviderType) -> LiveConnection {
    LiveConnection {
        arn: connection_arn(name),
        name: name.to_owned(),
        provider_type: provider.as_str().to_owned(),
        host_arn: None,
        status: "AVAILABLE".to_owned(),
        tags: tags(&[(STACK_TAG, STACK)]),
    }
}

/// A live connection through `host`, managed by [`STACK`].
pub(crate) fn live_connection_on(name: &str, host: &LiveHost) -> LiveConnection {
    LiveConnection {
        provider_type: host.provider_type.clone(),
        host_arn: Some(host.arn.clone()),
        ..live_connection(name, ProviderType::GitHub)
    }
}

pub(crate) fn snapshot(hosts: Vec<LiveHost>, connections: Vec<LiveConnection>) -> Snapshot {
    Snapshot {
        connections,
        hosts,
        ..Snapshot::default()
    }
}

/// Anything carrying tags, file or live.
pub(crate) trait Tagged: Sized {
    fn tags_mut(&mut self) -> &mut Tags;

    fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags_mut().insert(key.to_owned(), value.to_owned());
        self
    }

    fn untag(mut self, key: &str) -> Self {
        self.tags_mut().remove(key);
        self
    }

    /// For live resources: carries no stack tag.
    fn unmanaged(self) -> Self {
        self.untag(STACK_TAG)
    }

    /// For live resources: carries another stack's tag.
    fn foreign(self) -> Self {
        self.tag(STACK_TAG, OTHER_STACK)
    }

    /// For live resources: carries the protect tag.
    fn protected(self) -> Self {
        self.tag(PROTECT_TAG, "true")
    }
}

macro_rules! tagged {
    ($($t:ty),*) => {$(
        impl Tagged for $t {
            fn tags_mut(&mut self) -> &mut Tags {
                &mut self.tags
            }
        }
    )*};
}
tagged!(
    Host,
    Connection,
    RepositoryLink,
    LiveHost,
    LiveConnection,
    LiveLink
);

/// The file's per-resource switches.
pub(crate) trait Desired: Sized {
    fn protect_mut(&mut self) -> &mut Option<bool>;
    fn adopt_mut(&mut self) -> &mut bool;

    fn protect(mut self, protect: Option<bool>) -> Self {
        *self.protect_mut() = protect;
        self
    }

    fn adopt(mut self) -> Self {
        *self.adopt_mut() = true;
        self
    }
}

macro_rules! desired {
    ($($t:ty),*) => {$(
        impl Desired for $t {
            fn protect_mut(&mut self) -> &mut Option<bool> {
                &mut self.protect
            }
            fn adopt_mut(&mut self) -> &mut bool {
                &mut self.adopt
            }
        }
    )*};
}
desired!(Host, Connection, RepositoryLink);

/// The tags a resource of the file should carry, computed independently of
/// the planner: own tags, the stack tag, the protect tag when asked for.
pub(crate) fn desired_tags(own: &Tags, protect: Option<bool>) -> Tags {
    let mut tags = own.clone();
    tags.insert(STACK_TAG.to_owned(), STACK.to_owned());
    if protect == Some(true) {
        tags.insert(PROTECT_TAG.to_owned(), "true".to_owned());
    }
    tags
}

/// The account as it is right after the file was applied: every resource
/// present, managed, with exactly the desired tags. `host_arn:` connections
/// get an unmanaged host of that ARN, managed elsewhere.
pub(crate) fn live_from(target: &Target) -> Snapshot {
    let mut hosts: Vec<LiveHost> = target
        .hosts
        .iter()
        .map(|h| LiveHost {
            provider_type: h.provider_type.as_str().to_owned(),
            provider_endpoint: h.provider_endpoint.clone(),
            vpc: h.vpc.clone(),
            tags: desired_tags(&h.tags, h.protect),
            ..live_host(&h.name)
        })
        .collect();
    let mut connections = Vec::new();
    for c in &target.connections {
        let (provider_type, host_arn) = match &c.source {
            ConnectionSource::Provider(p) => (p.as_str().to_owned(), None),
            ConnectionSource::Host(name) => {
                let h = target
                    .hosts
                    .iter()
                    .find(|h| &h.name == name)
                    .expect("a validated target names its own hosts");
                (h.provider_type.as_str().to_owned(), Some(host_arn(name)))
            }
            ConnectionSource::HostArn(arn) => {
                if !hosts.iter().any(|h| &h.arn == arn) {
                    let n = hosts.len();
                    hosts.push(
                        LiveHost {
                            arn: arn.clone(),
                            ..live_host(&format!("external-{n}"))
                        }
                        .unmanaged(),
                    );
                }
                (
                    ProviderType::GitHubEnterpriseServer.as_str().to_owned(),
                    Some(arn.clone()),
                )
            }
        };
        connections.push(LiveConnection {
            provider_type,
            host_arn,
            tags: desired_tags(&c.tags, c.protect),
            ..live_connection(&c.name, ProviderType::GitHub)
        });
    }
    Snapshot {
        connections,
        hosts,
        ..Snapshot::default()
    }
}

// ---------------------------------------------------------------- planning

pub(crate) fn plan(target: &Target, live: &Snapshot) -> TargetPlan {
    plan_target(target, live, LABEL, &Options::default())
}

pub(crate) fn plan_with(target: &Target, live: &Snapshot, opts: Options) -> TargetPlan {
    plan_target(target, live, LABEL, &opts)
}

pub(crate) fn allow_replace() -> Options {
    Options {
        allow_replace: true,
        ..Options::default()
    }
}

/// `(action, kind, name)` of every change, in plan order.
pub(crate) fn actions(plan: &TargetPlan) -> Vec<(Action, Kind, &str)> {
    plan.changes
        .iter()
        .map(|c| (c.action, c.kind, c.name.as_str()))
        .collect()
}

/// `(guard, name)` of every refusal, in plan order.
pub(crate) fn guards(plan: &TargetPlan) -> Vec<(Guard, Option<&str>)> {
    plan.refusals
        .iter()
        .map(|r| (r.guard, r.name.as_deref()))
        .collect()
}

/// The one change of the plan; fails, showing the plan, if there is not
/// exactly one.
pub(crate) fn only_change(plan: &TargetPlan) -> &Change {
    assert_eq!(plan.changes.len(), 1, "expected one change: {plan:#?}");
    &plan.changes[0]
}

/// The one refusal of the plan; fails, showing the plan, if there is not
/// exactly one.
pub(crate) fn only_refusal(plan: &TargetPlan) -> &Refusal {
    assert_eq!(plan.refusals.len(), 1, "expected one refusal: {plan:#?}");
    &plan.refusals[0]
}

pub(crate) fn assert_nothing_to_do(plan: &TargetPlan) {
    assert!(
        plan.changes.is_empty() && plan.refusals.is_empty() && plan.warnings.is_empty(),
        "expected an empty plan: {plan:#?}"
    );
}
