//! Reading one target (an account and Region) into a [`Snapshot`].
//!
//! Exactly one call per list page and one `ListTagsForResource` per resource:
//! the list responses already carry every field the planner compares, so no
//! `GetConnection`/`GetHost` is needed. Tag reads start as soon as their page
//! arrives and run up to `concurrency` at a time. Every call is paced and
//! retried by [`crate::call`], as `apply`'s are.

use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::account::Account;
use crate::call::Failure;
use crate::error::{Error, Result};
use crate::resource::{Kind, Ownership, Tags, ownership};
use crate::service::{Apis, Page};
use crate::spec::Vpc;

/// What one account and Region holds, as the planner needs it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub connections: Vec<LiveConnection>,
    pub hosts: Vec<LiveHost>,
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

/// What every live resource shares, whatever its kind: the shape generic
/// code (deletes, guards, drift, counts) reads.
pub trait Live {
    fn kind(&self) -> Kind;
    /// Its identity within its kind, as plans and reports name it.
    fn name(&self) -> &str;
    fn arn(&self) -> &str;
    /// Every tag but AWS's own.
    fn tags(&self) -> &Tags;
    /// As AWS reports it, with AWS's message if any.
    fn status(&self) -> (&str, Option<&str>);
    /// The ARN of the resource it depends on (a connection's host).
    fn uses(&self) -> Option<&str>;
}

impl Live for LiveConnection {
    fn kind(&self) -> Kind {
        Kind::Connection
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn arn(&self) -> &str {
        &self.arn
    }
    fn tags(&self) -> &Tags {
        &self.tags
    }
    fn status(&self) -> (&str, Option<&str>) {
        (&self.status, None)
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
    fn arn(&self) -> &str {
        &self.arn
    }
    fn tags(&self) -> &Tags {
        &self.tags
    }
    fn status(&self) -> (&str, Option<&str>) {
        (&self.status, self.status_message.as_deref())
    }
    fn uses(&self) -> Option<&str> {
        None
    }
}

impl Snapshot {
    /// Every resource, of every kind, in a fixed order: kinds in apply's
    /// order of creation (hosts, then connections), each as listed.
    pub fn resources(&self) -> impl Iterator<Item = &dyn Live> {
        let hosts = self.hosts.iter().map(|h| h as &dyn Live);
        let connections = self.connections.iter().map(|c| c as &dyn Live);
        hosts.chain(connections)
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
        let canonical = serde_json::to_vec(&(connections, hosts))
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

/// Read every connection and host of the account's Region, with their tags.
pub(crate) async fn read(account: &Account, concurrency: usize) -> Result<Snapshot> {
    let reader = Reader {
        apis: account.apis.clone(),
        permits: Arc::new(Semaphore::new(concurrency.max(1))),
    };
    let (connections, hosts) = tokio::try_join!(read_connections(&reader), read_hosts(&reader))?;
    Ok(Snapshot { connections, hosts })
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
