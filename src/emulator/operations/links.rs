//! Repository links: create (through an existing connection, one link per
//! repository), list, get, update (another connection of the same provider
//! type, a key) and delete (not while sync configurations use it).

use serde::Deserialize;
use serde_json::{Value, json};

use super::connections::connection_not_found;
use super::{Caller, Limits, Outcome, check_tag_count, check_tag_keys, listed, mint, paginate};
use crate::emulator::protocol::ApiError;
use crate::emulator::state::{RepositoryLink, Store, Tag};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateRepositoryLinkInput {
    connection_arn: String,
    owner_id: String,
    repository_name: String,
    encryption_key_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RepositoryLinkIdInput {
    repository_link_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListRepositoryLinksInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateRepositoryLinkInput {
    repository_link_id: String,
    connection_arn: Option<String>,
    encryption_key_arn: Option<String>,
}

pub(super) fn create(
    caller: Caller<'_>,
    limits: Limits,
    store: &mut Store,
    input: CreateRepositoryLinkInput,
) -> Result<Outcome, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tag_keys(tags.iter().map(|t| t.key.as_str()))?;
    let region = store.region(caller.account_id, caller.region);
    let connection = region
        .connection(&input.connection_arn)
        .ok_or_else(|| connection_not_found(&input.connection_arn))?;
    let (connection_arn, provider_type) = (connection.arn.clone(), connection.provider_type);
    // One link per repository: the provider, owner and name say which one.
    if let Some(existing) = region.repository_links.iter().find(|l| {
        l.provider_type == provider_type
            && l.owner_id == input.owner_id
            && l.repository_name == input.repository_name
    }) {
        return Err(ApiError::already_exists(format!(
            "Repository {}/{} of {provider_type} is already linked by {}",
            input.owner_id, input.repository_name, existing.arn
        )));
    }
    check_tag_count(tags.len(), limits)?;

    let (arn, seq) = mint(store, caller, || {
        format!("repository-link/{}", uuid::Uuid::new_v4())
    });
    let id = arn.rsplit('/').next().unwrap_or_default().to_owned();
    let link = RepositoryLink {
        seq,
        arn,
        id,
        connection_arn,
        owner_id: input.owner_id,
        repository_name: input.repository_name,
        provider_type,
        encryption_key_arn: input.encryption_key_arn,
        tags,
        repository_syncs: Vec::new(),
    };
    let output = json!({ "RepositoryLinkInfo": link_json(&link) });
    store
        .region_mut(caller.account_id, caller.region)
        .repository_links
        .push(link);
    Ok(Outcome::changed(output))
}

pub(super) fn delete(
    caller: Caller<'_>,
    store: &mut Store,
    input: RepositoryLinkIdInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.account_id, caller.region);
    let index = region
        .repository_links
        .iter()
        .position(|l| l.id.eq_ignore_ascii_case(&input.repository_link_id))
        .ok_or_else(|| link_not_found(&input.repository_link_id))?;
    let id = &region.repository_links[index].id;
    let users: Vec<&str> = region
        .sync_configurations
        .iter()
        .filter(|c| &c.repository_link_id == id)
        .map(|c| c.resource_name.as_str())
        .collect();
    if !users.is_empty() {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "SyncConfigurationStillExistsException",
            format!(
                "Repository link {id} is used by {} sync configuration(s) and cannot be deleted: {}",
                users.len(),
                users.join(", ")
            ),
        ));
    }
    region.repository_links.remove(index);
    Ok(Outcome::changed(json!({})))
}

pub(super) fn get(
    caller: Caller<'_>,
    store: &Store,
    input: RepositoryLinkIdInput,
) -> Result<Outcome, ApiError> {
    let link = store
        .region(caller.account_id, caller.region)
        .repository_link(&input.repository_link_id)
        .ok_or_else(|| link_not_found(&input.repository_link_id))?;
    Ok(Outcome::read(
        json!({ "RepositoryLinkInfo": link_json(link) }),
    ))
}

pub(super) fn list(
    caller: Caller<'_>,
    store: &Store,
    input: ListRepositoryLinksInput,
) -> Result<Outcome, ApiError> {
    let all: Vec<&RepositoryLink> = store
        .region(caller.account_id, caller.region)
        .repository_links
        .iter()
        .collect();
    let (page, next) = paginate(
        &all,
        |l| l.seq,
        "repository-links",
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let page = page.iter().map(|l| link_json(l)).collect();
    Ok(listed("RepositoryLinks", page, next))
}

/// Another connection (of the same provider type: the link names a
/// repository of that provider) and/or another key; an absent member is
/// left as it is, and there is no way to remove the key (nor in the API).
pub(super) fn update(
    caller: Caller<'_>,
    store: &mut Store,
    input: UpdateRepositoryLinkInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.account_id, caller.region);
    let index = region
        .repository_links
        .iter()
        .position(|l| l.id.eq_ignore_ascii_case(&input.repository_link_id))
        .ok_or_else(|| link_not_found(&input.repository_link_id))?;
    let connection_arn = match &input.connection_arn {
        Some(wanted) => {
            let connection = region
                .connection(wanted)
                .ok_or_else(|| connection_not_found(wanted))?;
            let link = &region.repository_links[index];
            if connection.provider_type != link.provider_type {
                return Err(ApiError::invalid_input(format!(
                    "Connection {} is a {} connection; repository link {} needs a {} one",
                    connection.arn, connection.provider_type, link.id, link.provider_type
                )));
            }
            Some(connection.arn.clone())
        }
        None => None,
    };
    let link = &mut region.repository_links[index];
    if let Some(connection_arn) = connection_arn {
        link.connection_arn = connection_arn;
    }
    if let Some(key) = input.encryption_key_arn {
        link.encryption_key_arn = Some(key);
    }
    Ok(Outcome::changed(
        json!({ "RepositoryLinkInfo": link_json(link) }),
    ))
}

pub(super) fn link_json(l: &RepositoryLink) -> Value {
    let mut value = json!({
        "ConnectionArn": l.connection_arn,
        "OwnerId": l.owner_id,
        "ProviderType": l.provider_type.as_str(),
        "RepositoryLinkArn": l.arn,
        "RepositoryLinkId": l.id,
        "RepositoryName": l.repository_name,
    });
    if let Some(key) = &l.encryption_key_arn {
        value["EncryptionKeyArn"] = Value::String(key.clone());
    }
    value
}

pub(super) fn link_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Repository link {id} does not exist"))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::call;
    use crate::emulator::state::Store;
    use crate::resource::Api;

    const OLD: Api = Api::CodestarConnections;
    const NEW: Api = Api::Codeconnections;
    const REGION: &str = "eu-west-1";

    fn connection(store: &mut Store, api: Api, name: &str, provider: &str) -> String {
        let out = call(
            store,
            api,
            REGION,
            "CreateConnection",
            json!({"ConnectionName": name, "ProviderType": provider}),
        )
        .expect("create connection");
        out["ConnectionArn"].as_str().unwrap().to_owned()
    }

    fn link(store: &mut Store, api: Api, connection: &str, repository: &str) -> Value {
        call(
            store,
            api,
            REGION,
            "CreateRepositoryLink",
            json!({"ConnectionArn": connection, "OwnerId": "my-org", "RepositoryName": repository}),
        )
        .map(|out| out["RepositoryLinkInfo"].clone())
        .expect("create link")
    }

    fn code(result: Result<Value, crate::emulator::protocol::ApiError>) -> &'static str {
        result.expect_err("an error").code
    }

    #[test]
    fn a_link_takes_its_connections_provider_and_its_apis_prefix() {
        let mut store = Store::empty();
        let github = connection(&mut store, NEW, "gh", "GitHub");
        // Found by the other prefix of its ARN, and reported as issued.
        let other_prefix =
            github.replace("arn:aws:codeconnections:", "arn:aws:codestar-connections:");
        let info = link(&mut store, OLD, &other_prefix, "app");
        assert_eq!(info["ConnectionArn"], github.as_str());
        assert_eq!(info["ProviderType"], "GitHub");
        let arn = info["RepositoryLinkArn"].as_str().unwrap();
        let id = info["RepositoryLinkId"].as_str().unwrap();
        assert_eq!(
            arn,
            format!("arn:aws:codestar-connections:{REGION}:123456789012:repository-link/{id}")
        );
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        // The link lives in the Region of its connection only.
        let elsewhere = call(
            &mut store,
            NEW,
            "eu-west-2",
            "CreateRepositoryLink",
            json!({"ConnectionArn": github, "OwnerId": "my-org", "RepositoryName": "other"}),
        );
        assert_eq!(code(elsewhere), "ResourceNotFoundException");
        let got = call(
            &mut store,
            NEW,
            REGION,
            "GetRepositoryLink",
            json!({"RepositoryLinkId": id.to_uppercase()}),
        )
        .expect("found by either case of its id");
        assert_eq!(got["RepositoryLinkInfo"], info);
    }

    #[test]
    fn one_link_per_repository_of_a_provider() {
        let mut store = Store::empty();
        let github = connection(&mut store, NEW, "gh", "GitHub");
        let github2 = connection(&mut store, NEW, "gh2", "GitHub");
        let gitlab = connection(&mut store, NEW, "gl", "GitLab");
        link(&mut store, NEW, &github, "app");
        let again = call(
            &mut store,
            NEW,
            REGION,
            "CreateRepositoryLink",
            json!({"ConnectionArn": github2, "OwnerId": "my-org", "RepositoryName": "app"}),
        );
        assert_eq!(code(again), "ResourceAlreadyExistsException");
        // The same names at another provider are another repository.
        link(&mut store, NEW, &gitlab, "app");
        assert_eq!(
            store
                .region(super::super::TEST_ACCOUNT, REGION)
                .repository_links
                .len(),
            2
        );
    }

    #[test]
    fn an_update_keeps_the_provider_type() {
        let mut store = Store::empty();
        let github = connection(&mut store, NEW, "gh", "GitHub");
        let github2 = connection(&mut store, OLD, "gh2", "GitHub");
        let gitlab = connection(&mut store, NEW, "gl", "GitLab");
        let info = link(&mut store, NEW, &github, "app");
        let id = info["RepositoryLinkId"].as_str().unwrap();
        let other = call(
            &mut store,
            NEW,
            REGION,
            "UpdateRepositoryLink",
            json!({"RepositoryLinkId": id, "ConnectionArn": gitlab}),
        );
        assert_eq!(code(other), "InvalidInputException");
        let key = "arn:aws:kms:eu-west-1:123456789012:key/abcd-1234";
        let updated = call(
            &mut store,
            NEW,
            REGION,
            "UpdateRepositoryLink",
            json!({"RepositoryLinkId": id, "ConnectionArn": github2, "EncryptionKeyArn": key}),
        )
        .expect("same provider");
        assert_eq!(
            updated["RepositoryLinkInfo"]["ConnectionArn"],
            github2.as_str()
        );
        assert_eq!(updated["RepositoryLinkInfo"]["EncryptionKeyArn"], key);
        // Nothing asked, nothing changed.
        let same = call(
            &mut store,
            NEW,
            REGION,
            "UpdateRepositoryLink",
            json!({"RepositoryLinkId": id}),
        )
        .expect("no change");
        assert_eq!(same, updated);
    }

    #[test]
    fn a_connection_cannot_be_deleted_while_a_link_uses_it() {
        let mut store = Store::empty();
        let github = connection(&mut store, NEW, "gh", "GitHub");
        let info = link(&mut store, NEW, &github, "app");
        let refused = call(
            &mut store,
            OLD,
            REGION,
            "DeleteConnection",
            json!({"ConnectionArn": github}),
        );
        let error = refused.expect_err("in use");
        assert_eq!(error.code, "ResourceUnavailableException");
        assert!(
            error
                .message
                .contains(info["RepositoryLinkArn"].as_str().unwrap()),
            "{error:?}"
        );
        call(
            &mut store,
            NEW,
            REGION,
            "DeleteRepositoryLink",
            json!({"RepositoryLinkId": info["RepositoryLinkId"]}),
        )
        .expect("delete link");
        call(
            &mut store,
            NEW,
            REGION,
            "DeleteConnection",
            json!({"ConnectionArn": github}),
        )
        .expect("no longer in use");
    }
}
