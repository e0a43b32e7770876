//! The one port to the service: the operations of AWS CodeStar Connections
//! (and, by its newer name, CodeConnections) that the tool calls, with plain
//! data in and out. `live` reads and `apply` writes through [`Service`];
//! each SDK crate is one implementation ([`codestar`]), and no SDK type is
//! named outside them. The emulator is what the tests put behind it.
//!
//! An implementation makes one attempt per call and says what went wrong
//! as an [`Attempt`]; pacing, deadlines and retries are the
//! [`crate::call::Channel`]'s.

mod codestar;
mod errors;
mod organizations;

use std::fmt::Debug;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::account::Identity;
use crate::call::{Channel, Failure};
use crate::live::{LiveConnection, LiveHost, LiveLink, LiveSync, SyncStatus};
use crate::resource::{Api, Tags};
use crate::spec::Vpc;

pub(crate) use codestar::{CodeConnections, CodeStar};
pub(crate) use organizations::{OrgAccount, Organizations};

/// One attempt of a call, as a future.
pub(crate) type Call<'a, T> = BoxFuture<'a, Result<T, Attempt>>;

/// How one attempt failed, sorted by what may be done next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// The service asked to slow down: nothing happened.
    Throttled,
    /// The request never reached the service (no connection made): nothing
    /// happened. The text says why.
    NeverSent(String),
    /// The request left (or may have), and the answer said nothing
    /// reliable: the service may have acted on it.
    Ambiguous(String),
    /// An answer a retry will not change.
    Failed(Failure),
}

/// One page of a list, and the token of the next one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next: Option<String>,
}

/// A connection to create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewConnection {
    pub(crate) name: String,
    /// Only for a connection without a host.
    pub(crate) provider_type: Option<String>,
    pub(crate) host_arn: Option<String>,
    pub(crate) tags: Tags,
}

/// A host to create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewHost {
    pub(crate) name: String,
    pub(crate) provider_type: String,
    pub(crate) provider_endpoint: String,
    pub(crate) vpc: Option<Vpc>,
    pub(crate) tags: Tags,
}

/// A repository link to create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewLink {
    pub(crate) owner_id: String,
    pub(crate) repository_name: String,
    pub(crate) connection_arn: String,
    pub(crate) encryption_key_arn: Option<String>,
    pub(crate) tags: Tags,
}

/// A sync configuration to create, or to update (every member is sent;
/// the options left `None` are left out, so AWS keeps or defaults them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyncSettings {
    pub(crate) resource_name: String,
    pub(crate) sync_type: String,
    pub(crate) link_id: String,
    pub(crate) branch: String,
    pub(crate) config_file: String,
    pub(crate) role_arn: String,
    pub(crate) publish_deployment_status: Option<String>,
    pub(crate) trigger_resource_update_on: Option<String>,
    pub(crate) pull_request_comment: Option<String>,
}

/// The operations the tool calls. Lists leave tags empty: they are read
/// with [`Service::list_tags`].
pub(crate) trait Service: Send + Sync + Debug {
    fn list_connections(&self, next: Option<String>) -> Call<'_, Page<LiveConnection>>;
    fn list_hosts(&self, next: Option<String>) -> Call<'_, Page<LiveHost>>;
    /// Every tag but AWS's own `aws:` tags.
    fn list_tags<'a>(&'a self, arn: &'a str) -> Call<'a, Tags>;
    /// The new connection's ARN.
    fn create_connection<'a>(&'a self, new: &'a NewConnection) -> Call<'a, String>;
    /// The new host's ARN.
    fn create_host<'a>(&'a self, new: &'a NewHost) -> Call<'a, String>;
    /// Change a host's endpoint and VPC configuration (both are sent).
    fn update_host<'a>(
        &'a self,
        arn: &'a str,
        endpoint: &'a str,
        vpc: Option<&'a Vpc>,
    ) -> Call<'a, ()>;
    fn delete_connection<'a>(&'a self, arn: &'a str) -> Call<'a, ()>;
    fn delete_host<'a>(&'a self, arn: &'a str) -> Call<'a, ()>;
    fn list_repository_links(&self, next: Option<String>) -> Call<'_, Page<LiveLink>>;
    /// The new link's ARN.
    fn create_repository_link<'a>(&'a self, new: &'a NewLink) -> Call<'a, String>;
    /// Point a link at a connection (of the same provider type) and key;
    /// `None` leaves the key as it is.
    fn update_repository_link<'a>(
        &'a self,
        id: &'a str,
        connection_arn: &'a str,
        encryption_key_arn: Option<&'a str>,
    ) -> Call<'a, ()>;
    fn delete_repository_link<'a>(&'a self, id: &'a str) -> Call<'a, ()>;
    /// The sync configurations of one link (their link's ARN, repository and
    /// tags left empty for the reader to fill in).
    fn list_sync_configurations<'a>(
        &'a self,
        link_id: &'a str,
        next: Option<String>,
    ) -> Call<'a, Page<LiveSync>>;
    fn create_sync_configuration<'a>(&'a self, sync: &'a SyncSettings) -> Call<'a, ()>;
    fn update_sync_configuration<'a>(&'a self, sync: &'a SyncSettings) -> Call<'a, ()>;
    fn delete_sync_configuration<'a>(
        &'a self,
        resource_name: &'a str,
        sync_type: &'a str,
    ) -> Call<'a, ()>;
    /// The latest sync and the open blockers of a sync configuration.
    fn sync_status<'a>(
        &'a self,
        resource_name: &'a str,
        sync_type: &'a str,
    ) -> Call<'a, SyncStatus>;
    fn tag<'a>(&'a self, arn: &'a str, tags: &'a Tags) -> Call<'a, ()>;
    fn untag<'a>(&'a self, arn: &'a str, keys: &'a [String]) -> Call<'a, ()>;
    /// Who the credentials are (STS GetCallerIdentity).
    fn caller_identity(&self) -> Call<'_, Identity>;
}

/// One name of the service for one target: its implementation, and the
/// channel its calls go through.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) service: Arc<dyn Service>,
    pub(crate) channel: Arc<Channel>,
}

/// Both names of the service for one target. Lists, creates and who-am-i
/// go through the one the target asked for; every call about an existing
/// resource goes through the one whose prefix its ARN carries, because the
/// older API's model accepts only its own prefix for hosts and repository
/// links, and IAM matches the action's prefix to the resource's.
#[derive(Debug, Clone)]
pub(crate) struct Apis {
    main: Api,
    codestar: Link,
    codeconnections: Link,
}

impl Apis {
    pub(crate) fn new(main: Api, codestar: Link, codeconnections: Link) -> Apis {
        Apis {
            main,
            codestar,
            codeconnections,
        }
    }

    /// The name of the API the target asked for.
    pub(crate) fn main_api(&self) -> Api {
        self.main
    }

    /// The API the target asked for.
    pub(crate) fn main(&self) -> &Link {
        self.get(self.main)
    }

    pub(crate) fn get(&self, api: Api) -> &Link {
        match api {
            Api::CodestarConnections => &self.codestar,
            Api::Codeconnections => &self.codeconnections,
        }
    }

    /// The API whose prefix `arn` carries; the main one for an ARN of
    /// neither.
    pub(crate) fn for_arn(&self, arn: &str) -> &Link {
        self.get(Api::of_arn(arn).unwrap_or(self.main))
    }

    /// The API that creates a resource on `parent` (a connection on a
    /// host): the one asked for, unless that is the older API and the
    /// parent carries the newer prefix, which the older model refuses.
    pub(crate) fn to_create_on(&self, parent: &str) -> &Link {
        match (self.main, Api::of_arn(parent)) {
            (Api::CodestarConnections, Some(Api::Codeconnections)) => &self.codeconnections,
            _ => self.main(),
        }
    }
}
