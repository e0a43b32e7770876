//! Connections: create (unique names, a host's provider, the quota), list,
//! get and delete (not while repository links use it).

use serde::Deserialize;
use serde_json::{Value, json};

use super::hosts::{HOST_DELETING, host_not_found};
use super::{
    Caller, Limits, Outcome, PENDING, check_tag_count, check_tag_keys, listed, mint, paginate,
    provider_type, tags_json,
};
use crate::emulator::protocol::ApiError;
use crate::emulator::state::{Connection, Store, Tag};
use crate::resource::arn;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateConnectionInput {
    connection_name: String,
    provider_type: Option<String>,
    host_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConnectionArnInput {
    connection_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListConnectionsInput {
    provider_type_filter: Option<String>,
    host_arn_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) fn create(
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
    let region = store.region(caller.account_id, caller.region);
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

    let (arn, seq) = mint(store, caller, || {
        format!("connection/{}", uuid::Uuid::new_v4())
    });
    store
        .region_mut(caller.account_id, caller.region)
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

pub(super) fn delete(
    caller: Caller<'_>,
    store: &mut Store,
    input: ConnectionArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.account_id, caller.region);
    let index = region
        .connections
        .iter()
        .position(|c| arn::same(&c.arn, &input.connection_arn))
        .ok_or_else(|| connection_not_found(&input.connection_arn))?;
    let connection_arn = &region.connections[index].arn;
    let users: Vec<&str> = region
        .repository_links
        .iter()
        .filter(|l| arn::same(&l.connection_arn, connection_arn))
        .map(|l| l.arn.as_str())
        .collect();
    if !users.is_empty() {
        return Err(ApiError::unavailable(format!(
            "Connection {connection_arn} is used by {} repository link(s) and cannot be deleted: {}",
            users.len(),
            users.join(", ")
        )));
    }
    region.connections.remove(index);
    Ok(Outcome::changed(json!({})))
}

pub(super) fn get(
    caller: Caller<'_>,
    store: &Store,
    input: ConnectionArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
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

pub(super) fn list(
    caller: Caller<'_>,
    store: &Store,
    input: ListConnectionsInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
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
    let page = page.iter().map(|c| connection_json(c)).collect();
    Ok(listed("Connections", page, next))
}

pub(super) fn connection_json(c: &Connection) -> Value {
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

pub(super) fn connection_not_found(connection_arn: &str) -> ApiError {
    ApiError::not_found(format!("Connection {connection_arn} does not exist"))
}
