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

use std::fmt::Debug;

use futures_util::future::BoxFuture;

use crate::account::Identity;
use crate::call::Failure;
use crate::live::{LiveConnection, LiveHost};
use crate::resource::Tags;
use crate::spec::Vpc;

pub(crate) use codestar::CodeStar;

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
    fn tag<'a>(&'a self, arn: &'a str, tags: &'a Tags) -> Call<'a, ()>;
    fn untag<'a>(&'a self, arn: &'a str, keys: &'a [String]) -> Call<'a, ()>;
    /// Who the credentials are (STS GetCallerIdentity).
    fn caller_identity(&self) -> Call<'_, Identity>;
}
