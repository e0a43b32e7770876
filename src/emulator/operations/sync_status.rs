//! What Git sync did and what blocks it: the latest repository and
//! resource syncs, sync blockers and their resolution. Nothing syncs in an
//! emulator, so the history comes from the admin routes: a test records a
//! sync event ([`record_sync`]) or opens a blocker ([`open_blocker`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::links::link_not_found;
use super::sync_configurations::{SyncConfigurationKey, configuration_not_found};
use super::{Caller, Outcome, timestamp};
use crate::emulator::protocol::ApiError;
use crate::emulator::state::{
    EpochMillis, Region, RepositorySync, ResourceSync, Revision, Store, SyncAttempt, SyncBlocker,
    SyncBlockerContext, SyncConfiguration, SyncEvent,
};

/// The sync statuses a test may record: the resource sync statuses of the
/// model (a repository sync has one more, `QUEUED`, that nothing records).
pub(in crate::emulator) const SYNC_STATUSES: [&str; 4] =
    ["INITIATED", "IN_PROGRESS", "SUCCEEDED", "FAILED"];

/// A sync in one of these has not ended: the next event continues it.
const UNFINISHED: [&str; 2] = ["INITIATED", "IN_PROGRESS"];

const SUCCEEDED: &str = "SUCCEEDED";
const ACTIVE: &str = "ACTIVE";
const RESOLVED: &str = "RESOLVED";

/// The one sync type the models know, and the admin routes' default.
pub(in crate::emulator) const CFN_STACK_SYNC: &str = "CFN_STACK_SYNC";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RepositorySyncStatusInput {
    branch: String,
    repository_link_id: String,
    sync_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateSyncBlockerInput {
    id: String,
    sync_type: String,
    resource_name: String,
    resolved_reason: String,
}

/// The latest sync of a branch of a linked repository; before any,
/// `ResourceNotFoundException` (the output's `LatestSync` is required).
pub(super) fn repository_status(
    caller: Caller<'_>,
    store: &Store,
    input: RepositorySyncStatusInput,
) -> Result<Outcome, ApiError> {
    let link = store
        .region(caller.account_id, caller.region)
        .repository_link(&input.repository_link_id)
        .ok_or_else(|| link_not_found(&input.repository_link_id))?;
    let sync = link
        .repository_syncs
        .iter()
        .find(|s| s.branch == input.branch && s.sync_type == input.sync_type)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Branch {} of repository link {} has not synced yet",
                input.branch, link.id
            ))
        })?;
    Ok(Outcome::read(
        json!({ "LatestSync": attempt_json(&sync.attempt) }),
    ))
}

/// The latest sync of a sync configuration's resource, and its latest
/// successful one; before any, `ResourceNotFoundException` (the output's
/// `LatestSync` is required).
pub(super) fn resource_status(
    caller: Caller<'_>,
    store: &Store,
    input: SyncConfigurationKey,
) -> Result<Outcome, ApiError> {
    let configuration = store
        .region(caller.account_id, caller.region)
        .sync_configuration(&input.resource_name, &input.sync_type)
        .ok_or_else(|| configuration_not_found(&input))?;
    let latest = configuration.latest_sync.as_ref().ok_or_else(|| {
        ApiError::not_found(format!(
            "{} has not synced yet: its {} sync configuration has no sync",
            input.resource_name, input.sync_type
        ))
    })?;
    let mut output = json!({
        "DesiredState": json!(latest.target_revision),
        "LatestSync": resource_sync_json(configuration, latest),
    });
    if let Some(successful) = &configuration.latest_successful_sync {
        output["LatestSuccessfulSync"] = resource_sync_json(configuration, successful);
    }
    Ok(Outcome::read(output))
}

/// Every blocker of the sync configuration, newest first, active and
/// resolved; none is an empty list.
pub(super) fn blocker_summary(
    caller: Caller<'_>,
    store: &Store,
    input: SyncConfigurationKey,
) -> Result<Outcome, ApiError> {
    let configuration = store
        .region(caller.account_id, caller.region)
        .sync_configuration(&input.resource_name, &input.sync_type)
        .ok_or_else(|| configuration_not_found(&input))?;
    let blockers: Vec<Value> = configuration
        .blockers
        .iter()
        .rev()
        .map(blocker_json)
        .collect();
    Ok(Outcome::read(json!({
        "SyncBlockerSummary": {
            "ResourceName": configuration.resource_name,
            "ParentResourceName": configuration.resource_name,
            "LatestBlockers": blockers,
        }
    })))
}

/// Resolve a blocker of the sync configuration. One that is already
/// resolved is answered as it is (its first reason and time kept), so a
/// retried call succeeds.
pub(super) fn update_blocker(
    caller: Caller<'_>,
    store: &mut Store,
    input: UpdateSyncBlockerInput,
) -> Result<Outcome, ApiError> {
    let key = SyncConfigurationKey {
        resource_name: input.resource_name,
        sync_type: input.sync_type,
    };
    let configuration = store
        .region_mut(caller.account_id, caller.region)
        .sync_configurations
        .iter_mut()
        .find(|c| c.resource_name == key.resource_name && c.sync_type == key.sync_type)
        .ok_or_else(|| configuration_not_found(&key))?;
    let blocker = configuration
        .blockers
        .iter_mut()
        .find(|b| b.id == input.id)
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "SyncBlockerDoesNotExistException",
                format!(
                    "Sync blocker {} does not exist for the {} sync configuration of {}",
                    input.id, key.sync_type, key.resource_name
                ),
            )
        })?;
    let changed = blocker.status != RESOLVED;
    if changed {
        blocker.status = RESOLVED.to_owned();
        blocker.resolved_reason = Some(input.resolved_reason);
        blocker.resolved_at = Some(caller.now);
    }
    let output = json!({
        "ResourceName": configuration.resource_name,
        "ParentResourceName": configuration.resource_name,
        "SyncBlocker": blocker_json(blocker),
    });
    Ok(if changed {
        Outcome::changed(output)
    } else {
        Outcome::read(output)
    })
}

/// What a test asks the emulator to have synced (the admin route's body).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::emulator) struct SyncEventRequest {
    pub resource_name: String,
    #[serde(default = "default_sync_type")]
    pub sync_type: String,
    pub status: String,
    pub message: Option<String>,
    /// The commit synced; made up when absent.
    pub sha: Option<String>,
    /// Needed only when the resource name has sync configurations in more
    /// than one Region.
    pub region: Option<String>,
    /// Needed only when it has them in more than one account.
    pub account_id: Option<String>,
}

/// What a test asks to block (the admin route's body).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::emulator) struct SyncBlockerRequest {
    pub resource_name: String,
    #[serde(default = "default_sync_type")]
    pub sync_type: String,
    pub reason: String,
    /// The blocker's `Contexts`, as key/value pairs.
    #[serde(default)]
    pub contexts: BTreeMap<String, String>,
    pub region: Option<String>,
    pub account_id: Option<String>,
}

fn default_sync_type() -> String {
    CFN_STACK_SYNC.to_owned()
}

/// Record a sync event of a sync configuration, as Git sync would: it
/// becomes the latest resource sync and the latest sync of its branch of
/// the linked repository. An event continues the latest sync while that
/// one has not ended (`INITIATED`, `IN_PROGRESS`); otherwise it starts a
/// new one, which starts from the last successful sync's revision.
pub(in crate::emulator) fn record_sync(
    store: &mut Store,
    request: SyncEventRequest,
    now: EpochMillis,
) -> Result<Value, ApiError> {
    if !SYNC_STATUSES.contains(&request.status.as_str()) {
        return Err(ApiError::validation(format!(
            "{} is not a sync status; expected one of {}",
            request.status,
            SYNC_STATUSES.join(", ")
        )));
    }
    let (account_id, region_name, region) = region_of(
        store,
        request.account_id.as_deref(),
        request.region.as_deref(),
        &request.resource_name,
        &request.sync_type,
    )?;
    let index = region
        .sync_configurations
        .iter()
        .position(|c| c.resource_name == request.resource_name && c.sync_type == request.sync_type)
        .ok_or_else(|| {
            configuration_not_found(&SyncConfigurationKey {
                resource_name: request.resource_name.clone(),
                sync_type: request.sync_type.clone(),
            })
        })?;
    let configuration = &region.sync_configurations[index];
    let link_index = region
        .repository_links
        .iter()
        .position(|l| l.id == configuration.repository_link_id)
        .ok_or_else(|| link_not_found(&configuration.repository_link_id))?;
    let link = &region.repository_links[link_index];
    let event = SyncEvent {
        event: request
            .message
            .unwrap_or_else(|| format!("Sync {}", request.status.to_lowercase())),
        time: now,
        event_type: request.status.clone(),
    };
    let continued = configuration
        .latest_sync
        .as_ref()
        .filter(|s| UNFINISHED.contains(&s.attempt.status.as_str()));
    let sha = request
        .sha
        .or_else(|| continued.map(|s| s.target_revision.sha.clone()))
        .unwrap_or_else(made_up_sha);
    let target = Revision {
        branch: configuration.branch.clone(),
        directory: configuration.config_file.clone(),
        owner_id: link.owner_id.clone(),
        repository_name: link.repository_name.clone(),
        provider_type: link.provider_type,
        sha,
    };
    let resource_sync = match continued {
        Some(sync) => ResourceSync {
            attempt: continue_attempt(&sync.attempt, &request.status, event.clone()),
            initial_revision: sync.initial_revision.clone(),
            target_revision: target.clone(),
        },
        None => ResourceSync {
            attempt: new_attempt(&request.status, now, event.clone()),
            initial_revision: configuration
                .latest_successful_sync
                .as_ref()
                .map_or_else(|| target.clone(), |s| s.target_revision.clone()),
            target_revision: target.clone(),
        },
    };
    let (branch, sync_type) = (
        configuration.branch.clone(),
        configuration.sync_type.clone(),
    );

    let link = &mut region.repository_links[link_index];
    let repository_attempt = match link
        .repository_syncs
        .iter()
        .find(|s| s.branch == branch && s.sync_type == sync_type)
        .map(|s| &s.attempt)
        .filter(|a| UNFINISHED.contains(&a.status.as_str()))
    {
        Some(attempt) => continue_attempt(attempt, &request.status, event),
        None => new_attempt(&request.status, now, event),
    };
    link.repository_syncs
        .retain(|s| !(s.branch == branch && s.sync_type == sync_type));
    link.repository_syncs.push(RepositorySync {
        branch,
        sync_type,
        attempt: repository_attempt,
    });
    let configuration = &mut region.sync_configurations[index];
    if request.status == SUCCEEDED {
        configuration.latest_successful_sync = Some(resource_sync.clone());
    }
    configuration.latest_sync = Some(resource_sync);
    Ok(json!({
        "account_id": account_id,
        "region": region_name,
        "resource_name": configuration.resource_name,
        "sync_type": configuration.sync_type,
        "status": request.status,
        "sha": target.sha,
        "time": timestamp(now),
    }))
}

/// Open an `AUTOMATED` blocker on a sync configuration, `ACTIVE` until
/// `UpdateSyncBlocker` resolves it. Answers its id.
pub(in crate::emulator) fn open_blocker(
    store: &mut Store,
    request: SyncBlockerRequest,
    now: EpochMillis,
) -> Result<Value, ApiError> {
    let (account_id, region_name, region) = region_of(
        store,
        request.account_id.as_deref(),
        request.region.as_deref(),
        &request.resource_name,
        &request.sync_type,
    )?;
    let configuration = region
        .sync_configurations
        .iter_mut()
        .find(|c| c.resource_name == request.resource_name && c.sync_type == request.sync_type)
        .ok_or_else(|| {
            configuration_not_found(&SyncConfigurationKey {
                resource_name: request.resource_name.clone(),
                sync_type: request.sync_type.clone(),
            })
        })?;
    let blocker = SyncBlocker {
        id: uuid::Uuid::new_v4().to_string(),
        blocker_type: "AUTOMATED".to_owned(),
        status: ACTIVE.to_owned(),
        created_reason: request.reason,
        created_at: now,
        contexts: request
            .contexts
            .into_iter()
            .map(|(key, value)| SyncBlockerContext { key, value })
            .collect(),
        resolved_reason: None,
        resolved_at: None,
    };
    let answer = json!({
        "id": blocker.id,
        "account_id": account_id,
        "region": region_name,
        "resource_name": configuration.resource_name,
        "sync_type": configuration.sync_type,
        "status": blocker.status,
        "created_at": timestamp(now),
    });
    configuration.blockers.push(blocker);
    Ok(answer)
}

/// The account and Region holding the sync configuration: the ones
/// named, else the only ones with a configuration of that key.
fn region_of<'s>(
    store: &'s mut Store,
    account_id: Option<&str>,
    region: Option<&str>,
    resource_name: &str,
    sync_type: &str,
) -> Result<(String, String, &'s mut Region), ApiError> {
    let not_found = || {
        configuration_not_found(&SyncConfigurationKey {
            resource_name: resource_name.to_owned(),
            sync_type: sync_type.to_owned(),
        })
    };
    let holding: Vec<(&String, &String)> = store
        .accounts
        .iter()
        .filter(|(id, _)| account_id.is_none_or(|wanted| wanted == id.as_str()))
        .flat_map(|(id, account)| account.regions.iter().map(move |r| (id, r)))
        .filter(|(_, (name, r))| {
            region.is_none_or(|wanted| wanted == name.as_str())
                && r.sync_configuration(resource_name, sync_type).is_some()
        })
        .map(|(id, (name, _))| (id, name))
        .collect();
    let (account, name) = match holding.as_slice() {
        [] => return Err(not_found()),
        [(account, name)] => ((*account).clone(), (*name).clone()),
        many => {
            return Err(ApiError::validation(format!(
                "{resource_name} has a {sync_type} sync configuration in several places ({}); \
                 say which with \"account_id\" and \"region\"",
                many.iter()
                    .map(|(account, name)| format!("{account}/{name}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    // Found above, so both exist; a Region is never created by asking.
    let region = store
        .accounts
        .get_mut(&account)
        .and_then(|a| a.regions.get_mut(&name))
        .ok_or_else(not_found)?;
    Ok((account, name, region))
}

fn new_attempt(status: &str, now: EpochMillis, event: SyncEvent) -> SyncAttempt {
    SyncAttempt {
        status: status.to_owned(),
        started_at: now,
        events: vec![event],
    }
}

fn continue_attempt(attempt: &SyncAttempt, status: &str, event: SyncEvent) -> SyncAttempt {
    let mut attempt = attempt.clone();
    attempt.status = status.to_owned();
    attempt.events.push(event);
    attempt
}

/// A commit id when the test gives none: 40 hex digits, like Git's.
fn made_up_sha() -> String {
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    format!("{}{}", a.simple(), b.simple())[..40].to_owned()
}

fn attempt_json(attempt: &SyncAttempt) -> Value {
    json!({
        "StartedAt": timestamp(attempt.started_at),
        "Status": attempt.status,
        "Events": attempt.events.iter().map(|e| json!({
            "Event": e.event,
            "Time": timestamp(e.time),
            "Type": e.event_type,
        })).collect::<Vec<_>>(),
    })
}

fn resource_sync_json(configuration: &SyncConfiguration, sync: &ResourceSync) -> Value {
    let mut value = attempt_json(&sync.attempt);
    value["InitialRevision"] = json!(sync.initial_revision);
    value["TargetRevision"] = json!(sync.target_revision);
    value["Target"] = Value::String(configuration.resource_name.clone());
    value
}

fn blocker_json(b: &SyncBlocker) -> Value {
    let mut value = json!({
        "Id": b.id,
        "Type": b.blocker_type,
        "Status": b.status,
        "CreatedReason": b.created_reason,
        "CreatedAt": timestamp(b.created_at),
    });
    if !b.contexts.is_empty() {
        value["Contexts"] = json!(b.contexts);
    }
    if let Some(reason) = &b.resolved_reason {
        value["ResolvedReason"] = Value::String(reason.clone());
    }
    if let Some(at) = b.resolved_at {
        value["ResolvedAt"] = timestamp(at);
    }
    value
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{TEST_NOW, call};
    use super::*;
    use crate::resource::Api;

    const NEW: Api = Api::Codeconnections;
    const REGION: &str = "eu-west-1";

    /// A connection, a link and a sync configuration of `app-prod` on
    /// branch `main`; answers the link's id.
    fn configured(store: &mut Store) -> String {
        let connection = call(
            store,
            NEW,
            REGION,
            "CreateConnection",
            json!({"ConnectionName": "gh", "ProviderType": "GitHub"}),
        )
        .expect("connection")["ConnectionArn"]
            .clone();
        let link = call(
            store,
            NEW,
            REGION,
            "CreateRepositoryLink",
            json!({"ConnectionArn": connection, "OwnerId": "my-org", "RepositoryName": "app"}),
        )
        .expect("link")["RepositoryLinkInfo"]["RepositoryLinkId"]
            .as_str()
            .unwrap()
            .to_owned();
        call(
            store,
            NEW,
            REGION,
            "CreateSyncConfiguration",
            json!({
                "ResourceName": "app-prod", "SyncType": CFN_STACK_SYNC, "RepositoryLinkId": link,
                "Branch": "main", "ConfigFile": "deploy/app-prod.yaml",
                "RoleArn": "arn:aws:iam::123456789012:role/cfn-git-sync",
            }),
        )
        .expect("sync configuration");
        link
    }

    fn event(status: &str, sha: Option<&str>) -> SyncEventRequest {
        SyncEventRequest {
            resource_name: "app-prod".to_owned(),
            sync_type: CFN_STACK_SYNC.to_owned(),
            status: status.to_owned(),
            message: None,
            sha: sha.map(str::to_owned),
            region: None,
            account_id: None,
        }
    }

    fn resource_status(store: &mut Store) -> Result<Value, &'static str> {
        call(
            store,
            NEW,
            REGION,
            "GetResourceSyncStatus",
            json!({"ResourceName": "app-prod", "SyncType": CFN_STACK_SYNC}),
        )
        .map_err(|e| e.code)
    }

    #[test]
    fn nothing_has_synced_before_the_first_event() {
        let mut store = Store::empty();
        let link = configured(&mut store);
        assert_eq!(
            resource_status(&mut store),
            Err("ResourceNotFoundException")
        );
        let repository = call(
            &mut store,
            NEW,
            REGION,
            "GetRepositorySyncStatus",
            json!({"RepositoryLinkId": link, "Branch": "main", "SyncType": CFN_STACK_SYNC}),
        );
        assert_eq!(
            repository.expect_err("no sync").code,
            "ResourceNotFoundException"
        );
        let summary = call(
            &mut store,
            NEW,
            REGION,
            "GetSyncBlockerSummary",
            json!({"ResourceName": "app-prod", "SyncType": CFN_STACK_SYNC}),
        )
        .expect("a summary");
        assert_eq!(summary["SyncBlockerSummary"]["LatestBlockers"], json!([]));
    }

    #[test]
    fn an_unfinished_sync_is_continued_and_a_finished_one_followed() {
        let mut store = Store::empty();
        let link = configured(&mut store);
        record_sync(&mut store, event("IN_PROGRESS", Some("aaa")), 1_000).expect("record");
        record_sync(&mut store, event("SUCCEEDED", None), 2_500).expect("record");
        let status = resource_status(&mut store).expect("synced");
        let latest = &status["LatestSync"];
        assert_eq!(latest["Status"], "SUCCEEDED");
        assert_eq!(latest["StartedAt"], json!(1.0));
        assert_eq!(latest["Events"].as_array().unwrap().len(), 2);
        assert_eq!(latest["Events"][1]["Time"], json!(2.5));
        assert_eq!(latest["TargetRevision"]["Sha"], "aaa");
        assert_eq!(
            latest["TargetRevision"]["Directory"],
            "deploy/app-prod.yaml"
        );
        assert_eq!(latest["Target"], "app-prod");
        assert_eq!(status["LatestSuccessfulSync"], *latest);

        record_sync(&mut store, event("FAILED", Some("bbb")), 4_000).expect("record");
        let status = resource_status(&mut store).expect("synced");
        let latest = &status["LatestSync"];
        assert_eq!(latest["Status"], "FAILED");
        assert_eq!(latest["StartedAt"], json!(4.0));
        assert_eq!(latest["InitialRevision"]["Sha"], "aaa");
        assert_eq!(latest["TargetRevision"]["Sha"], "bbb");
        assert_eq!(status["DesiredState"]["Sha"], "bbb");
        assert_eq!(
            status["LatestSuccessfulSync"]["TargetRevision"]["Sha"],
            "aaa"
        );

        let repository = call(
            &mut store,
            NEW,
            REGION,
            "GetRepositorySyncStatus",
            json!({"RepositoryLinkId": link, "Branch": "main", "SyncType": CFN_STACK_SYNC}),
        )
        .expect("the branch synced");
        assert_eq!(repository["LatestSync"]["Status"], "FAILED");
        assert_eq!(
            repository["LatestSync"]["Events"][0]["Event"],
            "Sync failed"
        );
        let other_branch = call(
            &mut store,
            NEW,
            REGION,
            "GetRepositorySyncStatus",
            json!({"RepositoryLinkId": link, "Branch": "dev", "SyncType": CFN_STACK_SYNC}),
        );
        assert_eq!(
            other_branch.expect_err("never synced").code,
            "ResourceNotFoundException"
        );
        let bad =
            record_sync(&mut store, event("QUEUED", None), 5_000).expect_err("not recordable");
        assert_eq!(bad.code, "ValidationException");
        let elsewhere = SyncEventRequest {
            region: Some("ap-south-1".to_owned()),
            ..event("SUCCEEDED", None)
        };
        let unknown = record_sync(&mut store, elsewhere, 6_000).expect_err("not in that Region");
        assert_eq!(unknown.code, "ResourceNotFoundException");
        assert!(
            !store.accounts[super::super::TEST_ACCOUNT]
                .regions
                .contains_key("ap-south-1"),
            "asking created a Region"
        );
    }

    #[test]
    fn a_blocker_is_active_until_resolved_and_resolving_twice_changes_nothing() {
        let mut store = Store::empty();
        configured(&mut store);
        let opened = open_blocker(
            &mut store,
            SyncBlockerRequest {
                resource_name: "app-prod".to_owned(),
                sync_type: CFN_STACK_SYNC.to_owned(),
                reason: "Stack is in UPDATE_ROLLBACK_FAILED".to_owned(),
                contexts: [("StackName".to_owned(), "app-prod".to_owned())].into(),
                region: None,
                account_id: None,
            },
            3_000,
        )
        .expect("open");
        let id = opened["id"].as_str().unwrap().to_owned();
        let summary = call(
            &mut store,
            NEW,
            REGION,
            "GetSyncBlockerSummary",
            json!({"ResourceName": "app-prod", "SyncType": CFN_STACK_SYNC}),
        )
        .expect("summary");
        let blocker = &summary["SyncBlockerSummary"]["LatestBlockers"][0];
        assert_eq!(blocker["Status"], "ACTIVE");
        assert_eq!(blocker["Type"], "AUTOMATED");
        assert_eq!(blocker["CreatedAt"], json!(3.0));
        assert_eq!(
            blocker["Contexts"],
            json!([{"Key": "StackName", "Value": "app-prod"}])
        );

        let resolve = |store: &mut Store, id: &str, reason: &str| {
            call(
                store,
                NEW,
                REGION,
                "UpdateSyncBlocker",
                json!({"Id": id, "ResourceName": "app-prod", "SyncType": CFN_STACK_SYNC,
                       "ResolvedReason": reason}),
            )
        };
        let resolved = resolve(&mut store, &id, "fixed by hand").expect("resolve");
        assert_eq!(resolved["SyncBlocker"]["Status"], "RESOLVED");
        assert_eq!(resolved["SyncBlocker"]["ResolvedReason"], "fixed by hand");
        assert_eq!(
            resolved["SyncBlocker"]["ResolvedAt"],
            json!(TEST_NOW as f64 / 1000.0)
        );
        assert_eq!(resolved["ParentResourceName"], "app-prod");
        let again = resolve(&mut store, &id, "again").expect("already resolved");
        assert_eq!(again, resolved);
        let unknown = resolve(&mut store, "no-such-blocker", "x").expect_err("unknown");
        assert_eq!(unknown.code, "SyncBlockerDoesNotExistException");
    }
}
