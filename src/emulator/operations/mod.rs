//! The operations of the service, as pure changes to a [`Store`]: one
//! module per kind of resource, this one the dispatch and what they share.
//!
//! Inputs arrive as JSON already checked against the model; the rules here
//! are the service's own (uniqueness, quotas, the in-use rules, tags) plus
//! the choices this emulator makes where AWS does not document its answer
//! (see `docs/emulator.md`). Outputs leave trimmed to the model of the API
//! that was asked, so the older API never answers a member it lacks.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

mod connections;
mod hosts;
mod links;
mod sync_configurations;
mod sync_status;
mod tags;

pub(super) use sync_status::{
    CFN_STACK_SYNC, SYNC_STATUSES, SyncBlockerRequest, SyncEventRequest, open_blocker, record_sync,
};

use super::model;
use super::protocol::ApiError;
use super::state::{EpochMillis, Store, Tag};
use crate::resource::{Api, ProviderType, arn};

/// Page size when `MaxResults` is absent or 0.
pub(super) const DEFAULT_PAGE_SIZE: usize = 50;

/// Statuses a connection can be in.
pub(super) const CONNECTION_STATUSES: [&str; 3] = ["PENDING", "AVAILABLE", "ERROR"];
/// Statuses a host can be in.
pub(super) const HOST_STATUSES: [&str; 5] = [
    "PENDING",
    "AVAILABLE",
    "VPC_CONFIG_INITIALIZING",
    "VPC_CONFIG_FAILED_INITIALIZATION",
    "VPC_CONFIG_DELETING",
];

/// The status of a new connection or host, until the console handshake.
const PENDING: &str = "PENDING";

/// The quotas the emulator enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    pub max_connections: usize,
    pub max_hosts: usize,
    pub max_tags: usize,
}

/// Who is calling, where, and when.
#[derive(Debug, Clone, Copy)]
pub(super) struct Caller<'a> {
    /// The API the request was sent to: new resources carry its ARN prefix.
    pub api: Api,
    pub region: &'a str,
    pub account_id: &'a str,
    /// The time of the request, for the timestamps it records.
    pub now: EpochMillis,
}

/// What an operation answered, and whether it changed the store (so it must
/// be persisted and may lose its response).
#[derive(Debug)]
pub(super) struct Outcome {
    pub output: Value,
    pub changed: bool,
}

impl Outcome {
    fn read(output: Value) -> Outcome {
        Outcome {
            output,
            changed: false,
        }
    }

    fn changed(output: Value) -> Outcome {
        Outcome {
            output,
            changed: true,
        }
    }
}

/// Validate `input` against the model, then run `operation` on the caller's
/// Region of `store`. On error the store is unchanged.
pub(super) fn run(
    caller: Caller<'_>,
    limits: Limits,
    store: &mut Store,
    operation: &str,
    input: Value,
) -> Result<Outcome, ApiError> {
    let errors = model::validate_input(caller.api, operation, &input);
    if !errors.is_empty() {
        return Err(ApiError::validation(model::validation_message(&errors)));
    }
    let mut outcome = match operation {
        "CreateConnection" => connections::create(caller, limits, store, parse(input)?),
        "DeleteConnection" => connections::delete(caller, store, parse(input)?),
        "GetConnection" => connections::get(caller, store, parse(input)?),
        "ListConnections" => connections::list(caller, store, parse(input)?),
        "CreateHost" => hosts::create(caller, limits, store, parse(input)?),
        "DeleteHost" => hosts::delete(caller, store, parse(input)?),
        "GetHost" => hosts::get(caller, store, parse(input)?),
        "ListHosts" => hosts::list(caller, store, parse(input)?),
        "UpdateHost" => hosts::update(caller, store, parse(input)?),
        "ListTagsForResource" => tags::list(caller, store, parse(input)?),
        "TagResource" => tags::tag(caller, limits, store, parse(input)?),
        "UntagResource" => tags::untag(caller, store, parse(input)?),
        "CreateRepositoryLink" => links::create(caller, limits, store, parse(input)?),
        "DeleteRepositoryLink" => links::delete(caller, store, parse(input)?),
        "GetRepositoryLink" => links::get(caller, store, parse(input)?),
        "ListRepositoryLinks" => links::list(caller, store, parse(input)?),
        "UpdateRepositoryLink" => links::update(caller, store, parse(input)?),
        "CreateSyncConfiguration" => sync_configurations::create(caller, store, parse(input)?),
        "DeleteSyncConfiguration" => sync_configurations::delete(caller, store, parse(input)?),
        "GetSyncConfiguration" => sync_configurations::get(caller, store, parse(input)?),
        "ListSyncConfigurations" => sync_configurations::list(caller, store, parse(input)?),
        "UpdateSyncConfiguration" => sync_configurations::update(caller, store, parse(input)?),
        "ListRepositorySyncDefinitions" => {
            sync_configurations::definitions(caller, store, parse(input)?)
        }
        "GetRepositorySyncStatus" => sync_status::repository_status(caller, store, parse(input)?),
        "GetResourceSyncStatus" => sync_status::resource_status(caller, store, parse(input)?),
        "GetSyncBlockerSummary" => sync_status::blocker_summary(caller, store, parse(input)?),
        "UpdateSyncBlocker" => sync_status::update_blocker(caller, store, parse(input)?),
        // Only an operation both models gain later can get here.
        _ => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!(
                "Operation {operation} is in the service model, but this emulator does not \
                 implement it"
            ),
        )),
    }?;
    model::trim_output(caller.api, operation, &mut outcome.output);
    Ok(outcome)
}

/// The model check already passed, so this only fails on shapes the model
/// allows but the emulator cannot represent; still a 400, never a panic.
fn parse<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| ApiError::validation(format!("Invalid input: {e}")))
}

/// Set a resource's status as the console handshake (or a failure) would.
/// The resource is found by ARN in whichever account and Region holds it.
pub(super) fn set_status(
    store: &mut Store,
    resource_arn: &str,
    status: &str,
    message: Option<String>,
) -> Result<Value, ApiError> {
    let regions = store
        .accounts
        .values_mut()
        .flat_map(|account| account.regions.values_mut());
    for region in regions {
        if let Some(c) = region
            .connections
            .iter_mut()
            .find(|c| arn::same(&c.arn, resource_arn))
        {
            check_status(status, &CONNECTION_STATUSES, "connection")?;
            if message.is_some() {
                return Err(ApiError::validation(
                    "Connections have no status message; \"message\" applies to hosts only",
                ));
            }
            c.status = status.to_string();
            return Ok(json!({ "arn": c.arn, "status": c.status }));
        }
        if let Some(h) = region
            .hosts
            .iter_mut()
            .find(|h| arn::same(&h.arn, resource_arn))
        {
            check_status(status, &HOST_STATUSES, "host")?;
            h.status = status.to_string();
            h.status_message = message;
            return Ok(json!({ "arn": h.arn, "status": h.status, "message": h.status_message }));
        }
    }
    Err(resource_not_found(resource_arn))
}

fn check_status(status: &str, allowed: &[&str], kind: &str) -> Result<(), ApiError> {
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "{status} is not a {kind} status; expected one of {}",
            allowed.join(", ")
        )))
    }
}

/// Keys starting `aws:` (any case) belong to AWS; one key twice in a request
/// is ambiguous. Both are refused before anything changes.
fn check_tag_keys<'k>(keys: impl Iterator<Item = &'k str>) -> Result<(), ApiError> {
    let mut seen = BTreeSet::new();
    for key in keys {
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::validation(format!(
                "Tag key {key} is invalid: the aws: prefix is reserved for AWS use"
            )));
        }
        if !seen.insert(key) {
            return Err(ApiError::validation(format!(
                "Tag key {key} appears more than once in the request"
            )));
        }
    }
    Ok(())
}

fn check_tag_count(count: usize, limits: Limits) -> Result<(), ApiError> {
    if count > limits.max_tags {
        Err(ApiError::limit(format!(
            "A resource can have at most {} tags; this request would leave {count}",
            limits.max_tags
        )))
    } else {
        Ok(())
    }
}

fn provider_type(text: &str) -> Result<ProviderType, ApiError> {
    ProviderType::parse(text)
        .ok_or_else(|| ApiError::validation(format!("Unknown provider type {text}")))
}

/// A new resource's ARN, with the prefix of the API it is created
/// through (`resource` answers its last part, e.g. `connection/<uuid>`;
/// minted again until the ARN was never issued before), and its creation
/// sequence number.
fn mint(store: &mut Store, caller: Caller<'_>, resource: impl Fn() -> String) -> (String, u64) {
    let arn = loop {
        let candidate = format!(
            "arn:aws:{}:{}:{}:{}",
            caller.api.as_str(),
            caller.region,
            caller.account_id,
            resource()
        );
        if store.issue(&candidate) {
            break candidate;
        }
    };
    (arn, store.take_seq())
}

/// Page through `items` (creation order) by creation sequence number, so a
/// token stays valid when resources before or after it are deleted.
fn paginate<'i, T>(
    items: &[&'i T],
    seq: impl Fn(&T) -> u64,
    kind: &str,
    max_results: Option<i64>,
    next_token: Option<&str>,
) -> Result<(Vec<&'i T>, Option<String>), ApiError> {
    let size = match max_results {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(DEFAULT_PAGE_SIZE),
        _ => DEFAULT_PAGE_SIZE,
    };
    let after = next_token.map(|t| decode_token(t, kind)).transpose()?;
    let remaining: Vec<&T> = items
        .iter()
        .copied()
        .filter(|item| after.is_none_or(|after| seq(item) > after))
        .collect();
    let page: Vec<&T> = remaining.iter().copied().take(size).collect();
    let next = if remaining.len() > page.len() {
        page.last().map(|last| encode_token(kind, seq(last)))
    } else {
        None
    };
    Ok((page, next))
}

/// A list operation's answer: `member` holding one page, and `NextToken`
/// when more pages follow.
fn listed(member: &str, page: Vec<Value>, next: Option<String>) -> Outcome {
    let mut output = serde_json::Map::new();
    output.insert(member.to_owned(), Value::Array(page));
    if let Some(next) = next {
        output.insert("NextToken".to_owned(), Value::String(next));
    }
    Outcome::read(Value::Object(output))
}

fn encode_token(kind: &str, seq: u64) -> String {
    hex::encode(format!("v1:{kind}:{seq}"))
}

fn decode_token(token: &str, kind: &str) -> Result<u64, ApiError> {
    let invalid = || ApiError::validation(format!("Invalid NextToken: {token}"));
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let seq = text
        .strip_prefix("v1:")
        .and_then(|rest| rest.strip_prefix(kind))
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(invalid)?;
    seq.parse().map_err(|_| invalid())
}

/// A timestamp as both wires carry it: epoch seconds, with the
/// milliseconds as a fraction (the CBOR wire tags it on the way out).
fn timestamp(at: EpochMillis) -> Value {
    json!(at as f64 / 1000.0)
}

fn tags_json(tags: &[Tag]) -> Value {
    json!(tags)
}

fn resource_not_found(resource_arn: &str) -> ApiError {
    ApiError::not_found(format!("Resource {resource_arn} does not exist"))
}

/// Run `operation` as `api` would in `region` at a fixed time, with the
/// default quotas: the unit tests' way in, validation included.
#[cfg(test)]
fn call(
    store: &mut Store,
    api: Api,
    region: &str,
    operation: &str,
    input: Value,
) -> Result<Value, ApiError> {
    let caller = Caller {
        api,
        region,
        account_id: TEST_ACCOUNT,
        now: TEST_NOW,
    };
    let limits = Limits {
        max_connections: crate::resource::MAX_CONNECTIONS_PER_REGION,
        max_hosts: crate::resource::MAX_HOSTS_PER_ACCOUNT,
        max_tags: crate::resource::MAX_TAGS,
    };
    run(caller, limits, store, operation, input).map(|outcome| outcome.output)
}

/// The account [`call`] acts in.
#[cfg(test)]
const TEST_ACCOUNT: &str = "123456789012";

/// The time [`call`] runs at.
#[cfg(test)]
const TEST_NOW: EpochMillis = 1_700_000_000_250;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_the_wrong_list() {
        let token = encode_token("hosts", 42);
        assert_eq!(decode_token(&token, "hosts"), Ok(42));
        assert!(decode_token(&token, "connections").is_err());
        assert!(decode_token("zz", "hosts").is_err());
    }
}
