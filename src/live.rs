//! Reading one target (an account and Region) into a [`Snapshot`].
//!
//! Exactly one call per list page and one `ListTagsForResource` per tagged
//! resource: the list responses already carry every field the planner
//! compares, so no `Get*` is needed. Sync configurations are listed per
//! repository link (the API has no other way), and take their owner from
//! their link's tags. Tag reads start as soon as their page arrives and run
//! up to `concurrency` at a time. Drift also reads each sync
//! configuration's latest sync and blockers ([`Depth::WithSyncStatus`]).
//! Every call is paced and retried by [`crate::call`], as `apply`'s are.

use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::account::Account;
use crate::call::Failure;
use crate::error::{Error, Result};
use crate::resource::{Kind, Ownership, PROTECT_TAG, STACK_TAG, Tags, arn, ownership};
use crate::service::{Apis, Page};
use crate::spec::Vpc;

/// What one account and Region holds, as the planner needs it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub connections: Vec<LiveConnection>,
    pub hosts: Vec<LiveHost>,
    pub links: Vec<LiveLink>,
    pub syncs: Vec<LiveSync>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveConnection {
    pub arn: String,
    pub name: String,
    /// As the service spells it; kept as text so a provider type newer than
    /// this tool still reads.
    pub provider_type: String,
    pub host_arn: Option<String>,
    pub status: String,
    /// Every tag but AWS's own `aws:` tags.
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveHost {
    pub arn: String,
    pub name: String,
    pub provider_type: String,
    pub provider_endpoint: String,
    pub vpc: Option<Vpc>,
    pub status: String,
    pub status_message: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveLink {
    /// `owner/name`, as plans and reports name it.
    pub name: String,
    pub arn: String,
    /// The id the API's link operations take (the ARN's last part).
    pub id: String,
    pub owner_id: String,
    pub repository_name: String,
    pub provider_type: String,
    pub connection_arn: String,
    pub encryption_key_arn: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveSync {
    pub resource_name: String,
    pub sync_type: String,
    pub link_id: String,
    /// The ARN of its link; empty when the link was not listed (deleted
    /// meanwhile).
    pub link_arn: String,
    /// Its link's `owner/name`.
    pub repository: String,
    pub branch: String,
    pub config_file: String,
    pub role_arn: String,
    pub publish_deployment_status: Option<String>,
    pub trigger_resource_update_on: Option<String>,
    pub pull_request_comment: Option<String>,
    /// Sync configurations have no tags: these are its link's ownership
    /// tags (stack and protect), since it belongs to its link's stack.
    pub tags: Tags,
    /// How its syncs go, when read (drift reads it; plans need not).
    pub sync_status: Option<SyncStatus>,
}

/// How a sync configuration's syncs go, as AWS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SyncStatus {
    /// The latest sync's status (`SUCCEEDED`, `FAILED`, ...) and the last
    /// event's message; `None` before the first sync.
    pub latest: Option<(String, Option<String>)>,
    /// The reasons of the open (ACTIVE) sync blockers.
    pub blockers: Vec<String>,
}

/// What every live resource shares, whatever its kind: the shape generic
/// code (deletes, guards, drift, counts) reads.
pub trait Live {
    fn kind(&self) -> Kind;
    /// Its identity within its kind, as plans and reports name it.
    fn name(&self) -> &str;
    /// `None` for a sync configuration, which has none.
    fn arn(&self) -> Option<&str>;
    /// Every tag but AWS's own (a sync configuration: its link's ownership
    /// tags).
    fn tags(&self) -> &Tags;
    /// Its own status as AWS reports it, with AWS's message if any; `None`
    /// for kinds without one.
    fn status(&self) -> Option<(&str, Option<&str>)>;
    /// The ARN of the resource it depends on: a connection's host, a link's
    /// connection, a sync configuration's link.
    fn uses(&self) -> Option<&str>;
}

/// One resource's identity across kinds: its ARN, the same for either
/// prefix, or for a kind without ARNs its kind and name.
pub fn identity(kind: Kind, name: &str, resource_arn: Option<&str>) -> String {
    match resource_arn {
        Some(a) => arn::canonical(a),
        None => format!("{kind}:{name}"),
    }
}

impl Live for LiveConnection {
    fn kind(&self) -> Kind {
        Kind::Connection
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn arn(&self) -> Option<&str> {
        Some(&self.arn)
    }
    fn tags(&self) -> &Tags {
        &self.tags
    }
    fn status(&self) -> Option<(&str, Option<&str>)> {
        Some((&self.status, None))
    }
    fn uses(&self) -> Option<&str> {
        self.host_arn.as_deref()
    }
}

impl Live for LiveHost {
    fn kind(&self) -> Kind {
        Kind::Host
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn arn(&self) -> Option<&str> {
        Some(&self.arn)
    }
    fn tags(&self) -> &Tags {
        &self.tags
    }
    fn status(&self) -> Option<(&str, Option<&str>)> {
        Some((&self.status, self.status_message.as_deref()))
    }
    fn uses(&self) -> Option<&str> {
        None
    }
}

impl Live for LiveLink {
    fn kind(&self) -> Kind {
        Kind::RepositoryLink
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn arn(&self) -> Option<&str> {
        Some(&self.arn)
    }
    fn tags(&self) -> &Tags {
        &self.tags
    }
    fn status(&self) -> Option<(&str, Option<&str>)> {
        None
    }
    fn uses(&self) -> Option<&str> {
        Some(&self.connection_arn)
    }
}

impl Live for LiveSync {
    fn kind(&self) -> Kind {
        Kind::SyncConfiguration
    }
    fn name(&self) -> &str {
        &self.resource_name
    }
    fn arn(&self) -> Option<&str> {
        None
    }
    fn tags(&self) -> &Tags {
        &self.tags
    }
    fn status(&self) -> Option<(&str, Option<&str>)> {
        None
    }
    fn uses(&self) -> Option<&str> {
        Some(&self.link_arn)
            .filter(|a| !a.is_empty())
            .map(String::as_str)
    }
}

impl Snapshot {
    /// Every resource, of every kind, in a fixed order: kinds in apply's
    /// order of creation (hosts, connections, links, sync
    /// configurations), each as listed.
    pub fn resources(&self) -> impl Iterator<Item = &dyn Live> {
        let hosts = self.hosts.iter().map(|h| h as &dyn Live);
        let connections = self.connections.iter().map(|c| c as &dyn Live);
        let links = self.links.iter().map(|l| l as &dyn Live);
        let syncs = self.syncs.iter().map(|s| s as &dyn Live);
        hosts.chain(connections).chain(links).chain(syncs)
    }

    /// How many resources carry `stack`'s ownership tag.
    pub fn managed_by(&self, stack: &str) -> usize {
        self.resources()
            .filter(|r| ownership(r.tags(), stack) == Ownership::Managed)
            .count()
    }

    /// A digest of everything a plan depends on (names, ARNs, configuration,
    /// tags) and nothing it does not (statuses, order), so a saved plan goes
    /// stale exactly when its assumptions do.
    pub fn fingerprint(&self) -> String {
        let mut connections: Vec<_> = self
            .connections
            .iter()
            .map(|c| (&c.arn, &c.name, &c.provider_type, &c.host_arn, &c.tags))
            .collect();
        connections.sort();
        let mut hosts: Vec<_> = self
            .hosts
            .iter()
            .map(|h| {
                (
                    &h.arn,
                    &h.name,
                    &h.provider_type,
                    &h.provider_endpoint,
                    h.vpc.as_ref().map(|v| {
                        (
                            &v.vpc_id,
                            &v.subnet_ids,
                            &v.security_group_ids,
                            &v.tls_certificate,
                        )
                    }),
                    &h.tags,
                )
            })
            .collect();
        hosts.sort();
        let mut links: Vec<_> = self
            .links
            .iter()
            .map(|l| {
                (
                    &l.arn,
                    &l.name,
                    &l.connection_arn,
                    &l.encryption_key_arn,
                    &l.tags,
                )
            })
            .collect();
        links.sort();
        let mut syncs: Vec<_> = self
            .syncs
            .iter()
            .map(|s| {
                (
                    (&s.resource_name, &s.sync_type, &s.link_id, &s.branch),
                    (&s.config_file, &s.role_arn),
                    (
                        &s.publish_deployment_status,
                        &s.trigger_resource_update_on,
                        &s.pull_request_comment,
                    ),
                    &s.tags,
                )
            })
            .collect();
        syncs.sort();
        let canonical = serde_json::to_vec(&(connections, hosts, links, syncs))
            .expect("a snapshot of strings always serialises");
        hex::encode(Sha256::digest(&canonical))
    }
}

/// What every read of one target shares: the client (whose retries are
/// the channel's: paced, so a throttled fleet slows down instead of
/// stalling in the SDK's adaptive back-off), and the concurrency permits.
#[derive(Clone)]
struct Reader {
    apis: Apis,
    permits: Arc<Semaphore>,
}

/// How much of each sync configuration to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// What plans compare: configuration and tags.
    Configuration,
    /// Also each sync configuration's latest sync and open blockers, for
    /// drift (two more calls per sync configuration).
    WithSyncStatus,
}

/// Read every resource of the account's Region, with their tags.
pub(crate) async fn read(account: &Account, concurrency: usize, depth: Depth) -> Result<Snapshot> {
    let reader = Reader {
        apis: account.apis.clone(),
        permits: Arc::new(Semaphore::new(concurrency.max(1))),
    };
    let (connections, hosts, links) = tokio::try_join!(
        read_connections(&reader),
        read_hosts(&reader),
        read_links(&reader)
    )?;
    let syncs = read_syncs(&reader, &links, depth).await?;
    Ok(Snapshot {
        connections,
        hosts,
        links,
        syncs,
    })
}

async fn read_connections(reader: &Reader) -> Result<Vec<LiveConnection>> {
    read_pages(reader, "ListConnections", |token| async move {
        let main = reader.apis.main();
        main.channel
            .call(true, || main.service.list_connections(token.clone()))
            .await
    })
    .await
}

async fn read_hosts(reader: &Reader) -> Result<Vec<LiveHost>> {
    read_pages(reader, "ListHosts", |token| async move {
        let main = reader.apis.main();
        main.channel
            .call(true, || main.service.list_hosts(token.clone()))
            .await
    })
    .await
}

async fn read_links(reader: &Reader) -> Result<Vec<LiveLink>> {
    read_pages(reader, "ListRepositoryLinks", |token| async move {
        let main = reader.apis.main();
        main.channel
            .call(true, || main.service.list_repository_links(token.clone()))
            .await
    })
    .await
}

/// The sync configurations of every link (one list per link, up to
/// `concurrency` at once), each with its link's ownership tags and, at
/// [`Depth::WithSyncStatus`], how its syncs go.
async fn read_syncs(reader: &Reader, links: &[LiveLink], depth: Depth) -> Result<Vec<LiveSync>> {
    let mut running = JoinSet::new();
    for (index, link) in links.iter().enumerate() {
        let permit = reader
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let reader = reader.clone();
        let link = link.clone();
        running.spawn(async move {
            let _permit = permit;
            read_syncs_of(&reader, &link).await.map(|s| (index, s))
        });
    }
    let mut per_link = vec![Vec::new(); links.len()];
    while let Some(joined) = running.join_next().await {
        let (index, syncs) =
            joined.map_err(|e| Error::Other(format!("a sync list task failed: {e}")))??;
        per_link[index] = syncs;
    }
    let mut syncs: Vec<LiveSync> = per_link.into_iter().flatten().collect();
    if depth == Depth::WithSyncStatus {
        let mut running = JoinSet::new();
        for (index, sync) in syncs.iter().enumerate() {
            let permit = reader
                .permits
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let reader = reader.clone();
            let (name, sync_type) = (sync.resource_name.clone(), sync.sync_type.clone());
            running.spawn(async move {
                let _permit = permit;
                let main = reader.apis.main();
                let status = main
                    .channel
                    .call(true, || main.service.sync_status(&name, &sync_type))
                    .await
                    .map_err(|f| Error::api(format!("reading the syncs of {name}"), f.message()))?;
                Ok::<_, Error>((index, status))
            });
        }
        while let Some(joined) = running.join_next().await {
            let (index, status) =
                joined.map_err(|e| Error::Other(format!("a sync status task failed: {e}")))??;
            syncs[index].sync_status = Some(status);
        }
    }
    Ok(syncs)
}

/// One link's sync configurations, all pages; owned as the link is.
async fn read_syncs_of(reader: &Reader, link: &LiveLink) -> Result<Vec<LiveSync>> {
    let main = reader.apis.main();
    let mut syncs = Vec::new();
    let mut token = None;
    loop {
        let page = match main
            .channel
            .call(true, || {
                main.service
                    .list_sync_configurations(&link.id, token.clone())
            })
            .await
        {
            Ok(page) => page,
            // The link went away after it was listed: so did its syncs.
            Err(Failure::NotFound(_)) => return Ok(Vec::new()),
            Err(failure) => {
                return Err(Error::api(
                    format!("ListSyncConfigurations of {}", link.name),
                    failure.message(),
                ));
            }
        };
        syncs.extend(page.items);
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    let inherited: Tags = link
        .tags
        .iter()
        .filter(|(k, _)| *k == STACK_TAG || *k == PROTECT_TAG)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for sync in &mut syncs {
        sync.link_arn = link.arn.clone();
        sync.repository = link.name.clone();
        sync.tags = inherited.clone();
    }
    Ok(syncs)
}

/// Every page of one list, `fetch`ed one after another (a page's token
/// names the next), each resource's tag read started as its page arrives.
async fn read_pages<T, F, Fut>(reader: &Reader, operation: &str, mut fetch: F) -> Result<Vec<T>>
where
    T: Tagged,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = std::result::Result<Page<T>, Failure>>,
{
    let mut reads = TagReads::new();
    let mut token = None;
    loop {
        let page = fetch(token)
            .await
            .map_err(|f| Error::api(operation, f.message()))?;
        for resource in page.items {
            reads.start(reader, resource).await?;
        }
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    reads.finish().await
}

/// A resource whose tags are read separately from its list entry.
trait Tagged: Send + 'static {
    fn arn(&self) -> &str;
    fn set_tags(&mut self, tags: Tags);
}

impl Tagged for LiveConnection {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn set_tags(&mut self, tags: Tags) {
        self.tags = tags;
    }
}

impl Tagged for LiveHost {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn set_tags(&mut self, tags: Tags) {
        self.tags = tags;
    }
}

impl Tagged for LiveLink {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn set_tags(&mut self, tags: Tags) {
        self.tags = tags;
    }
}

/// The tag reads of one list (connections or hosts): started in list order
/// as permits free up, kept in list order.
struct TagReads<T> {
    running: JoinSet<Result<(usize, Option<T>)>>,
    /// One per listed resource; `None` until read, or when it was deleted
    /// between the list and the tag read.
    read: Vec<Option<T>>,
}

impl<T: Tagged> TagReads<T> {
    fn new() -> TagReads<T> {
        TagReads {
            running: JoinSet::new(),
            read: Vec::new(),
        }
    }

    /// Start reading `resource`'s tags once a permit is free. Waiting here,
    /// not inside a task, keeps at most `concurrency` SDK futures alive per
    /// target; taking in finished reads as it goes keeps their task memory
    /// (several KiB each) from piling up over a large account.
    async fn start(&mut self, reader: &Reader, mut resource: T) -> Result<()> {
        let permit = reader
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let index = self.read.len();
        self.read.push(None);
        let reader = reader.clone();
        self.running.spawn(async move {
            let _permit = permit;
            match read_tags(&reader, resource.arn()).await? {
                Some(tags) => {
                    resource.set_tags(tags);
                    Ok((index, Some(resource)))
                }
                // Deleted between the list and the tag read: it is gone.
                None => Ok((index, None)),
            }
        });
        while let Some(joined) = self.running.try_join_next() {
            self.keep(joined)?;
        }
        Ok(())
    }

    /// Wait for the reads still running; every resource read, in list order.
    async fn finish(mut self) -> Result<Vec<T>> {
        while let Some(joined) = self.running.join_next().await {
            self.keep(joined)?;
        }
        Ok(self.read.into_iter().flatten().collect())
    }

    fn keep(
        &mut self,
        joined: std::result::Result<Result<(usize, Option<T>)>, tokio::task::JoinError>,
    ) -> Result<()> {
        let (index, resource) =
            joined.map_err(|e| Error::Other(format!("a tag read task failed: {e}")))??;
        self.read[index] = resource;
        Ok(())
    }
}

/// The resource's tags without AWS's own; `None` when the resource is gone.
async fn read_tags(reader: &Reader, arn: &str) -> Result<Option<Tags>> {
    // Through the API of the resource's own prefix, as AWS's IAM expects.
    let link = reader.apis.for_arn(arn);
    match link
        .channel
        .call(true, || link.service.list_tags(arn))
        .await
    {
        Ok(tags) => Ok(Some(tags)),
        Err(Failure::NotFound(_)) => Ok(None),
        Err(failure) => Err(Error::api(
            format!("ListTagsForResource {arn}"),
            failure.message(),
        )),
    }
}
