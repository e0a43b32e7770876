//! Tags of any resource with an ARN (connections, hosts, repository links):
//! list, tag, untag.

use serde::Deserialize;
use serde_json::json;

use super::{
    Caller, Limits, Outcome, check_tag_count, check_tag_keys, resource_not_found, tags_json,
};
use crate::emulator::protocol::ApiError;
use crate::emulator::state::{Region, Store, Tag};
use crate::resource::arn;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ResourceArnInput {
    resource_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagResourceInput {
    resource_arn: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

pub(super) fn list(
    caller: Caller<'_>,
    store: &Store,
    input: ResourceArnInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
    let tags = if let Some(c) = region.connection(&input.resource_arn) {
        &c.tags
    } else if let Some(h) = region.host(&input.resource_arn) {
        &h.tags
    } else if let Some(l) = region
        .repository_links
        .iter()
        .find(|l| arn::same(&l.arn, &input.resource_arn))
    {
        &l.tags
    } else {
        return Err(resource_not_found(&input.resource_arn));
    };
    Ok(Outcome::read(json!({ "Tags": tags_json(tags) })))
}

pub(super) fn tag(
    caller: Caller<'_>,
    limits: Limits,
    store: &mut Store,
    input: TagResourceInput,
) -> Result<Outcome, ApiError> {
    check_tag_keys(input.tags.iter().map(|t| t.key.as_str()))?;
    let tags = tags_mut(
        store.region_mut(caller.account_id, caller.region),
        &input.resource_arn,
    )?;
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

pub(super) fn untag(
    caller: Caller<'_>,
    store: &mut Store,
    input: UntagResourceInput,
) -> Result<Outcome, ApiError> {
    check_tag_keys(input.tag_keys.iter().map(String::as_str))?;
    let tags = tags_mut(
        store.region_mut(caller.account_id, caller.region),
        &input.resource_arn,
    )?;
    tags.retain(|t| !input.tag_keys.contains(&t.key));
    Ok(Outcome::changed(json!({})))
}

pub(super) fn tags_mut<'r>(
    region: &'r mut Region,
    resource_arn: &str,
) -> Result<&'r mut Vec<Tag>, ApiError> {
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
    if let Some(i) = region
        .repository_links
        .iter()
        .position(|l| arn::same(&l.arn, resource_arn))
    {
        return Ok(&mut region.repository_links[i].tags);
    }
    Err(resource_not_found(resource_arn))
}
