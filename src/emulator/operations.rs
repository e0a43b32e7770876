//! The twelve operations of the service, as pure changes to a [`Store`].
//!
//! Inputs arrive as JSON already checked against the model; the rules here
//! are the service's own (uniqueness, quotas, the host-in-use rule, tags)
//! plus the choices this emulator makes where AWS does not document its
//! answer (see `docs/emulator.md`).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::model;
use super::protocol::ApiError;
use super::state::{Connection, Host, Region, Store, Tag, VpcConfiguration};
use crate::resource::{ProviderType, arn};

/// Page size when `MaxResults` is absent or 0.
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// Statuses a connection can be in.
pub const CONNECTION_STATUSES: [&str; 3] = ["PENDING", "AVAILABLE", "ERROR"];
/// Statuses a host can be in.
pub const HOST_STATUSES: [&str; 5] = [
    "PENDING",
    "AVAILABLE",
    "VPC_CONFIG_INITIALIZING",
    "VPC_CONFIG_FAILED_INITIALIZATION",
    "VPC_CONFIG_DELETING",
];

const PENDING: &str = "PENDING";
const HOST_DELETING: &str = "VPC_CONFIG_DELETING";
const HOST_INITIALIZING: &str = "VPC_CONFIG_INITIALIZING";
const HOST_FAILED: &str = "VPC_CONFIG_FAILED_INITIALIZATION";

/// The quotas the emulator enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub max_hosts: usize,
    pub max_tags: usize,
}

/// Who is calling, and where.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
}

/// What an operation answered, and whether it changed the store (so it must
/// be persisted and may lose its response).
#[derive(Debug)]
pub struct Outcome {
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
pub fn run(
    caller: Caller<'_>,
    limits: Limits,
    store: &mut Store,
    operation: &str,
    input: Value,
) -> Result<Outcome, ApiError> {
    let errors = model::validate_input(operation, &input);
    if !errors.is_empty() {
        return Err(ApiError::validation(model::validation_message(&errors)));
    }
    match operation {
        "CreateConnection" => create_connection(caller, limits, store, parse(input)?),
        "DeleteConnection" => delete_connection(caller, store, parse(input)?),
        "GetConnection" => get_connection(caller, store, parse(input)?),
        "ListConnections" => list_connections(caller, store, parse(input)?),
        "CreateHost" => create_host(caller, limits, store, parse(input)?),
        "DeleteHost" => delete_host(caller, store, parse(input)?),
        "GetHost" => get_host(caller, store, parse(input)?),
        "ListHosts" => list_hosts(caller, store, parse(input)?),
        "UpdateHost" => update_host(caller, store, parse(input)?),
        "ListTagsForResource" => list_tags(caller, store, parse(input)?),
        "TagResource" => tag_resource(caller, limits, store, parse(input)?),
        "UntagResource" => untag_resource(caller, store, parse(input)?),
        _ => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("Operation {operation} is not supported by this service"),
        )),
    }
}

/// The model check already passed, so this only fails on shapes the model
/// allows but the emulator cannot represent; still a 400, never a panic.
fn parse<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| ApiError::validation(format!("Invalid input: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateConnectionInput {
    connection_name: String,
    provider_type: Option<String>,
    host_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectionArnInput {
    connection_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListConnectionsInput {
    provider_type_filter: Option<String>,
    host_arn_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateHostInput {
    name: String,
    provider_type: String,
    provider_endpoint: String,
    vpc_configuration: Option<VpcConfiguration>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HostArnInput {
    host_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListHostsInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateHostInput {
    host_arn: String,
    provider_endpoint: Option<String>,
    vpc_configuration: Option<VpcConfiguration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceArnInput {
    resource_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceInput {
    resource_arn: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

fn create_connection(
    caller: Caller<'_>,
    limits: Limits,
    store: &mut Store,
    input: CreateConnectionInput,
) -> Result<Outcome, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tag_keys(tags.iter().map(|t| t.key.as_str()))?;
    let requested = input
        .provider_type
        .as_deref()
        .map(provider_type)
        .transpose()?;
    let region = store.region(caller.region);
    let (provider, host_arn) = match (&input.host_arn, requested) {
        (Some(host_arn), requested) => {
            let host = region.host(host_arn).ok_or_else(|| {
                ApiError::not_found(format!(
                    "Host {host_arn} does not exist in {}",
                    caller.region
                ))
            })?;
            if let Some(requested) = requested.filter(|p| *p != host.provider_type) {
                return Err(ApiError::validation(format!(
                    "ProviderType {requested} does not match the host's provider type {}",
                    host.provider_type
                )));
            }
            (host.provider_type, Some(host.arn.clone()))
        }
        (None, Some(requested)) if requested.is_self_hosted() => {
            return Err(ApiError::validation(format!(
                "A {requested} connection needs a HostArn: create a host first"
            )));
        }
        (None, Some(requested)) => (requested, None),
        (None, None) => {
            return Err(ApiError::validation(
                "Either ProviderType or HostArn must be specified",
            ));
        }
    };
    if region
        .connections
        .iter()
        .any(|c| c.name == input.connection_name)
    {
        return Err(ApiError::unavailable(format!(
            "Connection name {} is already in use in {}",
            input.connection_name, caller.region
        )));
    }
    if region.connections.len() >= limits.max_connections {
        return Err(ApiError::limit(format!(
            "Maximum number of connections ({}) reached in {}",
            limits.max_connections, caller.region
        )));
    }
    check_tag_count(tags.len(), limits)?;

    let arn = issue_arn(store, || {
        format!(
            "arn:aws:codestar-connections:{}:{}:connection/{}",
            caller.region,
            caller.account_id,
            uuid::Uuid::new_v4()
        )
    });
    let seq = store.take_seq();
    store
        .region_mut(caller.region)
        .connections
        .push(Connection {
            seq,
            arn: arn.clone(),
            name: input.connection_name,
            provider_type: provider,
            owner_account_id: caller.account_id.to_string(),
            status: PENDING.to_string(),
            host_arn,
            tags: tags.clone(),
        });
    Ok(Outcome::changed(
        json!({ "ConnectionArn": arn, "Tags": tags_json(&tags) }),
    ))
}

fn delete_connection(
    caller: Caller<'_>,
    store: &mut Store,
    input: ConnectionArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.region);
    let index = region
        .connections
        .iter()
        .position(|c| arn::same(&c.arn, &input.connection_arn))
        .ok_or_else(|| connection_not_found(&input.connection_arn))?;
    region.connections.remove(index);
    Ok(Outcome::changed(json!({})))
}

fn get_connection(
    caller: Caller<'_>,
    store: &Store,
    input: ConnectionArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.region);
    let connection = region
        .connection(&input.connection_arn)
        .ok_or_else(|| connection_not_found(&input.connection_arn))?;
    if let Some(host) = connection.host_arn.as_deref().and_then(|h| region.host(h))
        && host.status == HOST_DELETING
    {
        return Err(ApiError::unavailable(format!(
            "Connection {} is unavailable: its host {} is being deleted",
            connection.arn, host.arn
        )));
    }
    Ok(Outcome::read(
        json!({ "Connection": connection_json(connection) }),
    ))
}

fn list_connections(
    caller: Caller<'_>,
    store: &Store,
    input: ListConnectionsInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.region);
    // Filtering by a host that does not exist is a mistake worth reporting,
    // and the one case where the model's ResourceNotFoundException fits.
    if let Some(filter) = input.host_arn_filter.as_deref()
        && region.host(filter).is_none()
    {
        return Err(host_not_found(filter));
    }
    let matching: Vec<&Connection> = region
        .connections
        .iter()
        .filter(|c| {
            input
                .provider_type_filter
                .as_deref()
                .is_none_or(|p| c.provider_type.as_str() == p)
        })
        .filter(|c| {
            input
                .host_arn_filter
                .as_deref()
                .is_none_or(|filter| c.host_arn.as_deref().is_some_and(|h| arn::same(h, filter)))
        })
        .collect();
    let (page, next) = paginate(
        &matching,
        |c| c.seq,
        "connections",
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let mut output = json!({
        "Connections": page.iter().map(|c| connection_json(c)).collect::<Vec<_>>()
    });
    if let Some(next) = next {
        output["NextToken"] = Value::String(next);
    }
    Ok(Outcome::read(output))
}

fn create_host(
    caller: Caller<'_>,
    limits: Limits,
    store: &mut Store,
    input: CreateHostInput,
) -> Result<Outcome, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tag_keys(tags.iter().map(|t| t.key.as_str()))?;
    let provider = provider_type(&input.provider_type)?;
    if !provider.is_self_hosted() {
        return Err(ApiError::validation(format!(
            "Hosts are for GitHubEnterpriseServer or GitLabSelfManaged, not {provider}"
        )));
    }
    if store.host_count() >= limits.max_hosts {
        return Err(ApiError::limit(format!(
            "Maximum number of hosts ({}) reached for account {}",
            limits.max_hosts, caller.account_id
        )));
    }
    check_tag_count(tags.len(), limits)?;

    let arn = issue_arn(store, || {
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        format!(
            "arn:aws:codestar-connections:{}:{}:host/{}-{suffix}",
            caller.region, caller.account_id, input.name
        )
    });
    let seq = store.take_seq();
    store.region_mut(caller.region).hosts.push(Host {
        seq,
        arn: arn.clone(),
        name: input.name,
        provider_type: provider,
        provider_endpoint: input.provider_endpoint,
        vpc_configuration: input.vpc_configuration,
        status: PENDING.to_string(),
        status_message: None,
        tags: tags.clone(),
    });
    Ok(Outcome::changed(
        json!({ "HostArn": arn, "Tags": tags_json(&tags) }),
    ))
}

fn delete_host(
    caller: Caller<'_>,
    store: &mut Store,
    input: HostArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.region);
    let index = region
        .hosts
        .iter()
        .position(|h| arn::same(&h.arn, &input.host_arn))
        .ok_or_else(|| host_not_found(&input.host_arn))?;
    let host_arn = region.hosts[index].arn.clone();
    let users: Vec<&str> = region
        .connections
        .iter()
        .filter(|c| {
            c.host_arn
                .as_deref()
                .is_some_and(|h| arn::same(h, &host_arn))
        })
        .map(|c| c.arn.as_str())
        .collect();
    if !users.is_empty() {
        return Err(ApiError::unavailable(format!(
            "Host {host_arn} is used by {} connection(s) and cannot be deleted: {}",
            users.len(),
            users.join(", ")
        )));
    }
    region.hosts.remove(index);
    Ok(Outcome::changed(json!({})))
}

fn get_host(caller: Caller<'_>, store: &Store, input: HostArnInput) -> Result<Outcome, ApiError> {
    let region = store.region(caller.region);
    let host = region
        .host(&input.host_arn)
        .ok_or_else(|| host_not_found(&input.host_arn))?;
    if host.status == HOST_DELETING {
        return Err(host_deleting(host));
    }
    let mut output = json!({
        "Name": host.name,
        "Status": host.status,
        "ProviderType": host.provider_type.as_str(),
        "ProviderEndpoint": host.provider_endpoint,
    });
    if let Some(vpc) = &host.vpc_configuration {
        output["VpcConfiguration"] = json!(vpc);
    }
    Ok(Outcome::read(output))
}

fn list_hosts(
    caller: Caller<'_>,
    store: &Store,
    input: ListHostsInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.region);
    let all: Vec<&Host> = region.hosts.iter().collect();
    let (page, next) = paginate(
        &all,
        |h| h.seq,
        "hosts",
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let mut output = json!({ "Hosts": page.iter().map(|h| host_json(h)).collect::<Vec<_>>() });
    if let Some(next) = next {
        output["NextToken"] = Value::String(next);
    }
    Ok(Outcome::read(output))
}

fn update_host(
    caller: Caller<'_>,
    store: &mut Store,
    input: UpdateHostInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.region);
    let host = region
        .hosts
        .iter_mut()
        .find(|h| arn::same(&h.arn, &input.host_arn))
        .ok_or_else(|| host_not_found(&input.host_arn))?;
    match host.status.as_str() {
        HOST_DELETING => return Err(host_deleting(host)),
        HOST_INITIALIZING => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "ConflictException",
                format!(
                    "Host {} is initializing its VPC configuration; try again when it is done",
                    host.arn
                ),
            ));
        }
        HOST_FAILED => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "UnsupportedOperationException",
                format!(
                    "Host {} failed to initialize its VPC configuration and cannot be updated; delete and recreate it",
                    host.arn
                ),
            ));
        }
        _ => {}
    }
    if let Some(endpoint) = input.provider_endpoint {
        host.provider_endpoint = endpoint;
    }
    if let Some(vpc) = input.vpc_configuration {
        host.vpc_configuration = Some(vpc);
    }
    Ok(Outcome::changed(json!({})))
}

fn list_tags(
    caller: Caller<'_>,
    store: &Store,
    input: ResourceArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.region);
    let tags = if let Some(c) = region.connection(&input.resource_arn) {
        &c.tags
    } else if let Some(h) = region.host(&input.resource_arn) {
        &h.tags
    } else {
        return Err(resource_not_found(&input.resource_arn));
    };
    Ok(Outcome::read(json!({ "Tags": tags_json(tags) })))
}

fn tag_resource(
    caller: Caller<'_>,
    limits: Limits,
    store: &mut Store,
    input: TagResourceInput,
) -> Result<Outcome, ApiError> {
    check_tag_keys(input.tags.iter().map(|t| t.key.as_str()))?;
    let tags = tags_mut(store.region_mut(caller.region), &input.resource_arn)?;
    let mut merged = tags.clone();
    for tag in input.tags {
        match merged.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => merged.push(tag),
        }
    }
    check_tag_count(merged.len(), limits)?;
    *tags = merged;
    Ok(Outcome::changed(json!({})))
}

fn untag_resource(
    caller: Caller<'_>,
    store: &mut Store,
    input: UntagResourceInput,
) -> Result<Outcome, ApiError> {
    check_tag_keys(input.tag_keys.iter().map(String::as_str))?;
    let tags = tags_mut(store.region_mut(caller.region), &input.resource_arn)?;
    tags.retain(|t| !input.tag_keys.contains(&t.key));
    Ok(Outcome::changed(json!({})))
}

/// Set a resource's status as the console handshake (or a failure) would.
/// The resource is found by ARN in whichever Region holds it.
pub fn set_status(
    store: &mut Store,
    resource_arn: &str,
    status: &str,
    message: Option<String>,
) -> Result<Value, ApiError> {
    for region in store.regions.values_mut() {
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

fn tags_mut<'r>(region: &'r mut Region, resource_arn: &str) -> Result<&'r mut Vec<Tag>, ApiError> {
    if let Some(i) = region
        .connections
        .iter()
        .position(|c| arn::same(&c.arn, resource_arn))
    {
        return Ok(&mut region.connections[i].tags);
    }
    if let Some(i) = region
        .hosts
        .iter()
        .position(|h| arn::same(&h.arn, resource_arn))
    {
        return Ok(&mut region.hosts[i].tags);
    }
    Err(resource_not_found(resource_arn))
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

/// Mint ARNs until one was never issued before.
fn issue_arn(store: &mut Store, mint: impl Fn() -> String) -> String {
    loop {
        let candidate = mint();
        if store.issue(&candidate) {
            return candidate;
        }
    }
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

fn connection_json(c: &Connection) -> Value {
    let mut value = json!({
        "ConnectionName": c.name,
        "ConnectionArn": c.arn,
        "ProviderType": c.provider_type.as_str(),
        "OwnerAccountId": c.owner_account_id,
        "ConnectionStatus": c.status,
    });
    if let Some(host) = &c.host_arn {
        value["HostArn"] = Value::String(host.clone());
    }
    value
}

fn host_json(h: &Host) -> Value {
    let mut value = json!({
        "Name": h.name,
        "HostArn": h.arn,
        "ProviderType": h.provider_type.as_str(),
        "ProviderEndpoint": h.provider_endpoint,
        "Status": h.status,
    });
    if let Some(vpc) = &h.vpc_configuration {
        value["VpcConfiguration"] = json!(vpc);
    }
    if let Some(message) = &h.status_message {
        value["StatusMessage"] = Value::String(message.clone());
    }
    value
}

fn tags_json(tags: &[Tag]) -> Value {
    json!(tags)
}

fn connection_not_found(connection_arn: &str) -> ApiError {
    ApiError::not_found(format!("Connection {connection_arn} does not exist"))
}

fn host_not_found(host_arn: &str) -> ApiError {
    ApiError::not_found(format!("Host {host_arn} does not exist"))
}

fn resource_not_found(resource_arn: &str) -> ApiError {
    ApiError::not_found(format!("Resource {resource_arn} does not exist"))
}

fn host_deleting(host: &Host) -> ApiError {
    ApiError::unavailable(format!("Host {} is being deleted", host.arn))
}

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
