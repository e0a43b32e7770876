//! Hosts: create (the account's quota), list, get, update and delete (not
//! while connections use it).

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Caller, Limits, Outcome, PENDING, check_tag_count, check_tag_keys, listed, mint, paginate,
    provider_type, tags_json,
};
use crate::emulator::protocol::ApiError;
use crate::emulator::state::{Host, Store, Tag, VpcConfiguration};
use crate::resource::arn;

/// A host whose VPC configuration AWS is removing: on its way out.
pub(super) const HOST_DELETING: &str = "VPC_CONFIG_DELETING";
const HOST_INITIALIZING: &str = "VPC_CONFIG_INITIALIZING";
const HOST_FAILED: &str = "VPC_CONFIG_FAILED_INITIALIZATION";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateHostInput {
    name: String,
    provider_type: String,
    provider_endpoint: String,
    vpc_configuration: Option<VpcConfiguration>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HostArnInput {
    host_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListHostsInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateHostInput {
    host_arn: String,
    provider_endpoint: Option<String>,
    vpc_configuration: Option<VpcConfiguration>,
}

pub(super) fn create(
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
    if store.host_count(caller.account_id) >= limits.max_hosts {
        return Err(ApiError::limit(format!(
            "Maximum number of hosts ({}) reached for account {}",
            limits.max_hosts, caller.account_id
        )));
    }
    check_tag_count(tags.len(), limits)?;

    let (arn, seq) = mint(store, caller, || {
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        format!("host/{}-{suffix}", input.name)
    });
    store
        .region_mut(caller.account_id, caller.region)
        .hosts
        .push(Host {
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

pub(super) fn delete(
    caller: Caller<'_>,
    store: &mut Store,
    input: HostArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.account_id, caller.region);
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

pub(super) fn get(
    caller: Caller<'_>,
    store: &Store,
    input: HostArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
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

pub(super) fn list(
    caller: Caller<'_>,
    store: &Store,
    input: ListHostsInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
    let all: Vec<&Host> = region.hosts.iter().collect();
    let (page, next) = paginate(
        &all,
        |h| h.seq,
        "hosts",
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let page = page.iter().map(|h| host_json(h)).collect();
    Ok(listed("Hosts", page, next))
}

pub(super) fn update(
    caller: Caller<'_>,
    store: &mut Store,
    input: UpdateHostInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.account_id, caller.region);
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

pub(super) fn host_json(h: &Host) -> Value {
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

pub(super) fn host_not_found(host_arn: &str) -> ApiError {
    ApiError::not_found(format!("Host {host_arn} does not exist"))
}

pub(super) fn host_deleting(host: &Host) -> ApiError {
    ApiError::unavailable(format!("Host {} is being deleted", host.arn))
}
