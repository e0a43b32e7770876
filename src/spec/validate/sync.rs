//! Sync configurations: the stack's name and sync type, the link (of this
//! file) by repository, branch, file, role and options.

use super::*;

pub(super) fn check_sync(
    c: &mut Checker<'_>,
    sync: &FileSyncConfiguration,
    link_names: &BTreeSet<String>,
    api: Option<Api>,
) -> Option<SyncConfiguration> {
    let name = &sync.resource_name;
    let len = name.chars().count();
    if len == 0 || len > RESOURCE_NAME_MAX || !RESOURCE_NAME.is_match(name) {
        c.error(
            name.pos,
            format!(
                "resource_name {:?} is not a CloudFormation stack name AWS accepts here: 1-{RESOURCE_NAME_MAX} letters, digits, _ and -, starting with a letter or digit",
                name.value
            ),
        );
    }
    let sync_type = match &sync.sync_type {
        None => Some(CFN_STACK_SYNC.to_owned()),
        Some(t) if t.as_str() == CFN_STACK_SYNC => Some(t.value.clone()),
        Some(t) => {
            c.error(
                t.pos,
                format!(
                    "sync_type {:?} is not a sync type; the only one is {CFN_STACK_SYNC} (the default: leave it out)",
                    t.value
                ),
            );
            None
        }
    };
    let repository = &sync.repository;
    let linked = link_names.contains(repository.as_str());
    if !linked {
        let known = if link_names.is_empty() {
            "this file declares no repository_links".to_owned()
        } else {
            let names: Vec<String> = link_names.iter().map(|n| format!("{n:?}")).collect();
            format!("links in this file: {}", names.join(", "))
        };
        c.error(
            repository.pos,
            format!(
                "repository {:?} is not a repository link of this file ({known}); add it under repository_links",
                repository.value
            ),
        );
    }
    let branch = &sync.branch;
    let len = branch.chars().count();
    if len == 0 || len > BRANCH_MAX || branch.contains(['\n', '\r']) {
        c.error(
            branch.pos,
            format!(
                "branch {:?} is not a branch name AWS accepts: 1-{BRANCH_MAX} characters on one line",
                branch.value
            ),
        );
    }
    if sync.config_file.trim().is_empty() {
        c.error(
            sync.config_file.pos,
            "config_file is empty; give the deployment file's path in the repository".to_owned(),
        );
    }
    let role = &sync.role_arn;
    if !(ROLE_ARN.is_match(role) && role.chars().count() <= ARN_MAX) {
        c.error(
            role.pos,
            format!(
                "role_arn {:?} is not an IAM role ARN; expected arn:aws:iam::ACCOUNT:role/NAME, at most {ARN_MAX} characters",
                role.value
            ),
        );
    }
    let options = [
        (
            "publish_deployment_status",
            &sync.publish_deployment_status,
            &["ENABLED", "DISABLED"][..],
        ),
        (
            "trigger_resource_update_on",
            &sync.trigger_resource_update_on,
            &["ANY_CHANGE", "FILE_CHANGE"][..],
        ),
        (
            "pull_request_comment",
            &sync.pull_request_comment,
            &["ENABLED", "DISABLED"][..],
        ),
    ];
    for (key, value, allowed) in options {
        if let Some(value) = value
            && !allowed.contains(&value.as_str())
        {
            let hint = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(value))
                .map(|a| format!(" (did you mean {a}?)"))
                .unwrap_or_default();
            c.error(
                value.pos,
                format!(
                    "{key} {:?} is not one of {}{hint}",
                    value.value,
                    allowed.join(", ")
                ),
            );
        }
    }
    if let Some(comment) = &sync.pull_request_comment
        && api != Some(Api::Codeconnections)
    {
        c.error(
            comment.pos,
            "pull_request_comment exists only in the CodeConnections API: add `api: codeconnections` to the file, or leave pull_request_comment out".to_owned(),
        );
    }
    let value = |v: &Option<Located<String>>| v.as_ref().map(|v| v.value.clone());
    Some(SyncConfiguration {
        resource_name: name.value.clone(),
        sync_type: sync_type?,
        repository: linked.then(|| repository.value.clone())?,
        branch: branch.value.clone(),
        config_file: sync.config_file.value.clone(),
        role_arn: role.value.clone(),
        publish_deployment_status: value(&sync.publish_deployment_status),
        trigger_resource_update_on: value(&sync.trigger_resource_update_on),
        pull_request_comment: value(&sync.pull_request_comment),
    })
}
