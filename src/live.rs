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
///
/// On a task of its own, so the targets of a fleet are read on every core
/// while each target's calls stay on one task (no wake-up across threads
/// between a tag read and the next).
pub(crate) async fn read(account: &Account, concurrency: usize, depth: Depth) -> Result<Snapshot> {
    let apis = account.apis.clone();
    tokio::spawn(read_on_this_task(apis, concurrency, depth))
        .await
        .map_err(|e| Error::Other(format!("a read task failed: {e}")))?
}

async fn read_on_this_task(apis: Apis, concurrency: usize, depth: Depth) -> Result<Snapshot> {
    let concurrency = concurrency.max(1);
    let reader = Reader {
        apis,
        permits: Arc::new(Semaphore::new(concurrency)),
    };
    let tags = TagReads::default();
    let lists = async {
        let lists = tokio::try_join!(
            read_connections(&reader, &tags),
            read_hosts(&reader, &tags),
            read_links(&reader, &tags)
        );
        // Whether the lists ended or failed, no tag read will be added.
        tags.close();
        lists
    };
    let ((connections, hosts, links), mut read) =
        tokio::try_join!(lists, tags.run(&reader, concurrency))?;
    let connections = read.apply(List::Connections, connections);
    let hosts = read.apply(List::Hosts, hosts);
    let links = read.apply(List::Links, links);
    let syncs = read_syncs(&reader, &links, depth).await?;
    Ok(Snapshot {
        connections,
        hosts,
        links,
        syncs,
    })
}

async fn read_connections(reader: &Reader, tags: &TagReads) -> Result<Vec<LiveConnection>> {
    read_pages(
        tags,
        List::Connections,
        "ListConnections",
        |token| async move {
            let main = reader.apis.main();
            main.channel
                .call(true, || main.service.list_connections(token.clone()))
                .await
        },
    )
    .await
}

async fn read_hosts(reader: &Reader, tags: &TagReads) -> Result<Vec<LiveHost>> {
    read_pages(tags, List::Hosts, "ListHosts", |token| async move {
        let main = reader.apis.main();
        main.channel
            .call(true, || main.service.list_hosts(token.clone()))
            .await
    })
    .await
}

async fn read_links(reader: &Reader, tags: &TagReads) -> Result<Vec<LiveLink>> {
    read_pages(
        tags,
        List::Links,
        "ListRepositoryLinks",
        |token| async move {
            let main = reader.apis.main();
            main.channel
                .call(true, || main.service.list_repository_links(token.clone()))
                .await
        },
    )
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
/// names the next), each resource's tag read queued as its page arrives.
async fn read_pages<T, F, Fut>(
    tags: &TagReads,
    list: List,
    operation: &str,
    mut fetch: F,
) -> Result<Vec<T>>
where
    T: Tagged,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = std::result::Result<Page<T>, Failure>>,
{
    let mut resources = Vec::new();
    let mut token = None;
    loop {
        let page = fetch(token)
            .await
            .map_err(|f| Error::api(operation, f.message()))?;
        for resource in page.items {
            tags.queue(list, resources.len(), resource.arn());
            resources.push(resource);
        }
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    Ok(resources)
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

/// The lists whose resources' tags are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Connections,
    Hosts,
    Links,
}

/// The tag reads of one target: queued in list order as pages arrive, and
/// read by `concurrency` workers that each take the next one as soon as
/// theirs is answered. The workers are futures of the target's one task:
/// no task is spawned and no permit handed over per read.
#[derive(Default)]
struct TagReads {
    queue: std::sync::Mutex<TagQueue>,
    /// A read was queued, or the lists ended.
    changed: tokio::sync::Notify,
}

#[derive(Default)]
struct TagQueue {
    waiting: std::collections::VecDeque<(List, usize, String)>,
    closed: bool,
}

/// What the tag reads found, per list (by [`List`]'s order): each
/// resource's index in its list and its tags, or `None` if it was gone.
struct TagsRead([Vec<(usize, Option<Tags>)>; 3]);

impl TagReads {
    fn queue_lock(&self) -> std::sync::MutexGuard<'_, TagQueue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn queue(&self, list: List, index: usize, arn: &str) {
        self.queue_lock()
            .waiting
            .push_back((list, index, arn.to_owned()));
        self.changed.notify_one();
    }

    /// No more reads will be queued: the workers end once the queue is empty.
    fn close(&self) {
        self.queue_lock().closed = true;
        self.changed.notify_waiters();
    }

    /// Run `concurrency` workers until the lists end and every read is done.
    async fn run(&self, reader: &Reader, concurrency: usize) -> Result<TagsRead> {
        let workers = (0..concurrency).map(|_| self.work(reader));
        let mut read = TagsRead(Default::default());
        for (list, index, tags) in futures_util::future::try_join_all(workers)
            .await?
            .into_iter()
            .flatten()
        {
            read.0[list as usize].push((index, tags));
        }
        Ok(read)
    }

    async fn work(&self, reader: &Reader) -> Result<Vec<(List, usize, Option<Tags>)>> {
        let mut found = Vec::new();
        loop {
            // Registered before the queue is looked at, so a read queued in
            // between is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let next = {
                let mut queue = self.queue_lock();
                match queue.waiting.pop_front() {
                    Some(read) => Some(read),
                    None if queue.closed => return Ok(found),
                    None => None,
                }
            };
            match next {
                Some((list, index, arn)) => {
                    found.push((list, index, read_tags(reader, &arn).await?));
                }
                None => changed.await,
            }
        }
    }
}

impl TagsRead {
    /// `resources` of `list` with the tags read, in list order, without
    /// those deleted between the list and their tag read.
    fn apply<T: Tagged>(&mut self, list: List, resources: Vec<T>) -> Vec<T> {
        let mut read = std::mem::take(&mut self.0[list as usize]);
        // Every resource listed was queued, and every queued read is done.
        debug_assert_eq!(read.len(), resources.len());
        read.sort_unstable_by_key(|(index, _)| *index);
        resources
            .into_iter()
            .zip(read)
            .filter_map(|(mut resource, (_, tags))| {
                resource.set_tags(tags?);
                Some(resource)
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(name: &str) -> LiveConnection {
        LiveConnection {
            arn: format!("arn:aws:codestar-connections:eu-west-1:123456789012:connection/{name}"),
            name: name.to_owned(),
            provider_type: "GitHub".to_owned(),
            host_arn: None,
            status: "AVAILABLE".to_owned(),
            tags: Tags::new(),
        }
    }

    fn tags(value: &str) -> Tags {
        Tags::from([("n".to_owned(), value.to_owned())])
    }

    #[test]
    fn reads_answered_out_of_order_land_on_their_resource_and_the_gone_are_dropped() {
        let listed = vec![connection("a"), connection("b"), connection("c")];
        // Workers answer in any order; "b" was deleted after the list.
        let mut read = TagsRead(Default::default());
        read.0[List::Connections as usize] =
            vec![(2, Some(tags("c"))), (0, Some(tags("a"))), (1, None)];
        read.0[List::Hosts as usize] = vec![(0, Some(tags("a host")))];
        let connections = read.apply(List::Connections, listed);
        let got: Vec<(&str, &Tags)> = connections
            .iter()
            .map(|c| (c.name.as_str(), &c.tags))
            .collect();
        assert_eq!(got, [("a", &tags("a")), ("c", &tags("c"))]);
    }
}
