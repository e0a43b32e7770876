//! Sync configurations (CloudFormation Git sync): create (on an existing
//! repository link, one per resource name and sync type), get, list by
//! link, update (every member, the link included), delete; and the sync
//! definitions a link's configurations make.

use serde::Deserialize;
use serde_json::{Value, json};

use super::links::link_not_found;
use super::{Caller, Outcome, listed, paginate};
use crate::emulator::protocol::ApiError;
use crate::emulator::state::{Region, RepositoryLink, Store, SyncConfiguration};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateSyncConfigurationInput {
    resource_name: String,
    sync_type: String,
    repository_link_id: String,
    branch: String,
    config_file: String,
    role_arn: String,
    publish_deployment_status: Option<String>,
    trigger_resource_update_on: Option<String>,
    pull_request_comment: Option<String>,
}

/// The key of a sync configuration, which is all Get and Delete take.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SyncConfigurationKey {
    pub(super) resource_name: String,
    pub(super) sync_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListSyncConfigurationsInput {
    repository_link_id: String,
    sync_type: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateSyncConfigurationInput {
    resource_name: String,
    sync_type: String,
    repository_link_id: Option<String>,
    branch: Option<String>,
    config_file: Option<String>,
    role_arn: Option<String>,
    publish_deployment_status: Option<String>,
    trigger_resource_update_on: Option<String>,
    pull_request_comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListRepositorySyncDefinitionsInput {
    repository_link_id: String,
    sync_type: String,
}

pub(super) fn create(
    caller: Caller<'_>,
    store: &mut Store,
    input: CreateSyncConfigurationInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
    let link = region
        .repository_link(&input.repository_link_id)
        .ok_or_else(|| link_not_found(&input.repository_link_id))?;
    if region
        .sync_configuration(&input.resource_name, &input.sync_type)
        .is_some()
    {
        return Err(ApiError::already_exists(format!(
            "A {} sync configuration for {} already exists in {}",
            input.sync_type, input.resource_name, caller.region
        )));
    }
    let repository_link_id = link.id.clone();
    let seq = store.take_seq();
    let configuration = SyncConfiguration {
        seq,
        resource_name: input.resource_name,
        sync_type: input.sync_type,
        repository_link_id,
        branch: input.branch,
        config_file: input.config_file,
        role_arn: input.role_arn,
        publish_deployment_status: input.publish_deployment_status,
        trigger_resource_update_on: input.trigger_resource_update_on,
        pull_request_comment: input.pull_request_comment,
        latest_sync: None,
        latest_successful_sync: None,
        blockers: Vec::new(),
    };
    let region = store.region_mut(caller.account_id, caller.region);
    let output = json!({ "SyncConfiguration": configuration_json(region, &configuration) });
    region.sync_configurations.push(configuration);
    Ok(Outcome::changed(output))
}

/// Deleting one that does not exist is `ResourceNotFoundException`, as
/// everywhere else, although this operation's model lists no such error:
/// a caller can tell "already gone" by the error code.
pub(super) fn delete(
    caller: Caller<'_>,
    store: &mut Store,
    input: SyncConfigurationKey,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.account_id, caller.region);
    let index = region
        .sync_configurations
        .iter()
        .position(|c| c.resource_name == input.resource_name && c.sync_type == input.sync_type)
        .ok_or_else(|| configuration_not_found(&input))?;
    region.sync_configurations.remove(index);
    Ok(Outcome::changed(json!({})))
}

pub(super) fn get(
    caller: Caller<'_>,
    store: &Store,
    input: SyncConfigurationKey,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
    let configuration = region
        .sync_configuration(&input.resource_name, &input.sync_type)
        .ok_or_else(|| configuration_not_found(&input))?;
    Ok(Outcome::read(
        json!({ "SyncConfiguration": configuration_json(region, configuration) }),
    ))
}

pub(super) fn list(
    caller: Caller<'_>,
    store: &Store,
    input: ListSyncConfigurationsInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
    let link = region
        .repository_link(&input.repository_link_id)
        .ok_or_else(|| link_not_found(&input.repository_link_id))?;
    let matching: Vec<&SyncConfiguration> = of_link(region, link, &input.sync_type).collect();
    // A token names the link it pages through, so it cannot page another.
    let (page, next) = paginate(
        &matching,
        |c| c.seq,
        &format!("sync-configurations/{}", link.id),
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let page = page.iter().map(|c| configuration_json(region, c)).collect();
    Ok(listed("SyncConfigurations", page, next))
}

/// Every member but the key may change, the link included (to a link that
/// exists in the Region); an absent member is left as it is, and an
/// optional one cannot be removed (nor in the API).
pub(super) fn update(
    caller: Caller<'_>,
    store: &mut Store,
    input: UpdateSyncConfigurationInput,
) -> Result<Outcome, ApiError> {
    let region = store.region_mut(caller.account_id, caller.region);
    let key = SyncConfigurationKey {
        resource_name: input.resource_name,
        sync_type: input.sync_type,
    };
    let index = region
        .sync_configurations
        .iter()
        .position(|c| c.resource_name == key.resource_name && c.sync_type == key.sync_type)
        .ok_or_else(|| configuration_not_found(&key))?;
    let link_id = match &input.repository_link_id {
        Some(wanted) => Some(
            region
                .repository_link(wanted)
                .ok_or_else(|| link_not_found(wanted))?
                .id
                .clone(),
        ),
        None => None,
    };
    let configuration = &mut region.sync_configurations[index];
    let replace = |field: &mut String, value: Option<String>| {
        if let Some(value) = value {
            *field = value;
        }
    };
    replace(&mut configuration.repository_link_id, link_id);
    replace(&mut configuration.branch, input.branch);
    replace(&mut configuration.config_file, input.config_file);
    replace(&mut configuration.role_arn, input.role_arn);
    let keep = |field: &mut Option<String>, value: Option<String>| {
        if value.is_some() {
            *field = value;
        }
    };
    keep(
        &mut configuration.publish_deployment_status,
        input.publish_deployment_status,
    );
    keep(
        &mut configuration.trigger_resource_update_on,
        input.trigger_resource_update_on,
    );
    keep(
        &mut configuration.pull_request_comment,
        input.pull_request_comment,
    );
    let configuration = &region.sync_configurations[index];
    Ok(Outcome::changed(
        json!({ "SyncConfiguration": configuration_json(region, configuration) }),
    ))
}

/// One definition per sync configuration of the link: the branch it syncs
/// from, its config file (the model's `Directory`: "comes from ... the
/// config-file field"), and the resource as both parent and target (the
/// same for `CFN_STACK_SYNC`, the model says). Unpaged: the input takes no
/// token.
pub(super) fn definitions(
    caller: Caller<'_>,
    store: &Store,
    input: ListRepositorySyncDefinitionsInput,
) -> Result<Outcome, ApiError> {
    let region = store.region(caller.account_id, caller.region);
    let link = region
        .repository_link(&input.repository_link_id)
        .ok_or_else(|| link_not_found(&input.repository_link_id))?;
    let definitions: Vec<Value> = of_link(region, link, &input.sync_type)
        .map(|c| {
            json!({
                "Branch": c.branch,
                "Directory": c.config_file,
                "Parent": c.resource_name,
                "Target": c.resource_name,
            })
        })
        .collect();
    Ok(Outcome::read(
        json!({ "RepositorySyncDefinitions": definitions }),
    ))
}

fn of_link<'r>(
    region: &'r Region,
    link: &'r RepositoryLink,
    sync_type: &'r str,
) -> impl Iterator<Item = &'r SyncConfiguration> {
    region
        .sync_configurations
        .iter()
        .filter(move |c| c.repository_link_id == link.id && c.sync_type == sync_type)
}

/// The API's `SyncConfiguration`: the configuration plus its link's
/// repository. Every member either model has; the older API's answer is
/// trimmed to its model (no `PullRequestComment`) on the way out.
pub(super) fn configuration_json(region: &Region, c: &SyncConfiguration) -> Value {
    let mut value = json!({
        "Branch": c.branch,
        "ConfigFile": c.config_file,
        "RepositoryLinkId": c.repository_link_id,
        "ResourceName": c.resource_name,
        "RoleArn": c.role_arn,
        "SyncType": c.sync_type,
    });
    // A link cannot be deleted while a configuration uses it, so it is there.
    if let Some(link) = region.repository_link(&c.repository_link_id) {
        value["OwnerId"] = Value::String(link.owner_id.clone());
        value["RepositoryName"] = Value::String(link.repository_name.clone());
        value["ProviderType"] = Value::String(link.provider_type.as_str().to_owned());
    }
    for (member, field) in [
        ("PublishDeploymentStatus", &c.publish_deployment_status),
        ("TriggerResourceUpdateOn", &c.trigger_resource_update_on),
        ("PullRequestComment", &c.pull_request_comment),
    ] {
        if let Some(field) = field {
            value[member] = Value::String(field.clone());
        }
    }
    value
}

pub(super) fn configuration_not_found(key: &SyncConfigurationKey) -> ApiError {
    ApiError::not_found(format!(
        "No {} sync configuration exists for {}",
        key.sync_type, key.resource_name
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::call;
    use crate::emulator::state::Store;
    use crate::resource::Api;

    const NEW: Api = Api::Codeconnections;
    const REGION: &str = "eu-west-1";
    const ROLE: &str = "arn:aws:iam::123456789012:role/cfn-git-sync";

    /// A GitHub connection and links to `repositories`; answers their ids.
    fn links(store: &mut Store, repositories: &[&str]) -> Vec<String> {
        let connection = call(
            store,
            NEW,
            REGION,
            "CreateConnection",
            json!({"ConnectionName": "gh", "ProviderType": "GitHub"}),
        )
        .expect("connection")["ConnectionArn"]
            .clone();
        repositories
            .iter()
            .map(|repository| {
                call(
                    store,
                    NEW,
                    REGION,
                    "CreateRepositoryLink",
                    json!({"ConnectionArn": connection, "OwnerId": "my-org", "RepositoryName": repository}),
                )
                .expect("link")["RepositoryLinkInfo"]["RepositoryLinkId"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    fn create(store: &mut Store, link: &str, resource: &str) -> Result<Value, &'static str> {
        call(
            store,
            NEW,
            REGION,
            "CreateSyncConfiguration",
            json!({
                "ResourceName": resource, "SyncType": "CFN_STACK_SYNC", "RepositoryLinkId": link,
                "Branch": "main", "ConfigFile": format!("deploy/{resource}.yaml"), "RoleArn": ROLE,
            }),
        )
        .map_err(|e| e.code)
    }

    fn key(resource: &str) -> Value {
        json!({"ResourceName": resource, "SyncType": "CFN_STACK_SYNC"})
    }

    #[test]
    fn one_configuration_per_resource_and_type_on_an_existing_link() {
        let mut store = Store::empty();
        let ids = links(&mut store, &["app", "lib"]);
        let created = create(&mut store, &ids[0], "app-prod").expect("create");
        let configuration = &created["SyncConfiguration"];
        assert_eq!(configuration["OwnerId"], "my-org");
        assert_eq!(configuration["RepositoryName"], "app");
        assert_eq!(configuration["ProviderType"], "GitHub");
        assert!(configuration.get("PublishDeploymentStatus").is_none());
        assert_eq!(
            create(&mut store, &ids[1], "app-prod"),
            Err("ResourceAlreadyExistsException")
        );
        let missing = "00000000-0000-0000-0000-000000000000";
        assert_eq!(
            create(&mut store, missing, "other"),
            Err("ResourceNotFoundException")
        );
    }

    #[test]
    fn a_link_with_configurations_stays_and_a_missing_one_is_not_found() {
        let mut store = Store::empty();
        let ids = links(&mut store, &["app"]);
        create(&mut store, &ids[0], "app-prod").expect("create");
        let refused = call(
            &mut store,
            NEW,
            REGION,
            "DeleteRepositoryLink",
            json!({"RepositoryLinkId": ids[0]}),
        )
        .expect_err("in use");
        assert_eq!(refused.code, "SyncConfigurationStillExistsException");
        assert!(refused.message.contains("app-prod"), "{refused:?}");
        call(
            &mut store,
            NEW,
            REGION,
            "DeleteSyncConfiguration",
            key("app-prod"),
        )
        .expect("delete");
        let again = call(
            &mut store,
            NEW,
            REGION,
            "DeleteSyncConfiguration",
            key("app-prod"),
        )
        .expect_err("already gone");
        assert_eq!(again.code, "ResourceNotFoundException");
        call(
            &mut store,
            NEW,
            REGION,
            "DeleteRepositoryLink",
            json!({"RepositoryLinkId": ids[0]}),
        )
        .expect("no configurations left");
    }

    #[test]
    fn an_update_changes_what_it_names_and_may_move_to_another_link() {
        let mut store = Store::empty();
        let ids = links(&mut store, &["app", "lib"]);
        create(&mut store, &ids[0], "app-prod").expect("create");
        let updated = call(
            &mut store,
            NEW,
            REGION,
            "UpdateSyncConfiguration",
            json!({
                "ResourceName": "app-prod", "SyncType": "CFN_STACK_SYNC",
                "RepositoryLinkId": ids[1], "Branch": "release",
                "PublishDeploymentStatus": "ENABLED", "PullRequestComment": "DISABLED",
            }),
        )
        .expect("update")["SyncConfiguration"]
            .clone();
        assert_eq!(updated["RepositoryLinkId"], ids[1].as_str());
        assert_eq!(updated["RepositoryName"], "lib");
        assert_eq!(updated["Branch"], "release");
        assert_eq!(updated["ConfigFile"], "deploy/app-prod.yaml");
        assert_eq!(updated["PublishDeploymentStatus"], "ENABLED");
        assert_eq!(updated["PullRequestComment"], "DISABLED");
        let moved = call(
            &mut store,
            NEW,
            REGION,
            "UpdateSyncConfiguration",
            json!({"ResourceName": "app-prod", "SyncType": "CFN_STACK_SYNC",
                   "RepositoryLinkId": "00000000-0000-0000-0000-000000000000"}),
        )
        .expect_err("no such link");
        assert_eq!(moved.code, "ResourceNotFoundException");
        // The old link has none left; the definitions follow the move.
        let definitions = call(
            &mut store,
            NEW,
            REGION,
            "ListRepositorySyncDefinitions",
            json!({"RepositoryLinkId": ids[1], "SyncType": "CFN_STACK_SYNC"}),
        )
        .expect("definitions");
        assert_eq!(
            definitions["RepositorySyncDefinitions"],
            json!([{"Branch": "release", "Directory": "deploy/app-prod.yaml",
                    "Parent": "app-prod", "Target": "app-prod"}])
        );
        call(
            &mut store,
            NEW,
            REGION,
            "DeleteRepositoryLink",
            json!({"RepositoryLinkId": ids[0]}),
        )
        .expect("the old link is free");
    }

    #[test]
    fn a_page_token_belongs_to_the_links_list() {
        let mut store = Store::empty();
        let ids = links(&mut store, &["app", "lib"]);
        for resource in ["a", "b", "c"] {
            create(&mut store, &ids[0], resource).expect("create");
        }
        create(&mut store, &ids[1], "d").expect("create");
        let list = |store: &mut Store, link: &str, token: Option<&str>| {
            let mut input =
                json!({"RepositoryLinkId": link, "SyncType": "CFN_STACK_SYNC", "MaxResults": 2});
            if let Some(token) = token {
                input["NextToken"] = json!(token);
            }
            call(store, NEW, REGION, "ListSyncConfigurations", input)
        };
        let first = list(&mut store, &ids[0], None).expect("page 1");
        let names = |page: &Value| -> Vec<String> {
            page["SyncConfigurations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["ResourceName"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&first), ["a", "b"]);
        let token = first["NextToken"].as_str().expect("a token").to_owned();
        let second = list(&mut store, &ids[0], Some(&token)).expect("page 2");
        assert_eq!(names(&second), ["c"]);
        assert!(second.get("NextToken").is_none());
        let other = list(&mut store, &ids[1], Some(&token)).expect_err("another link's token");
        assert_eq!(other.code, "ValidationException");
    }
}
