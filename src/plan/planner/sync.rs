//! Sync configurations: planned against the live one of the same stack
//! name and sync type. They have no ARN and no tags: one belongs to the
//! stack that owns its repository link, and is never touched on a link
//! that is another stack's or no stack's (unless the file adopts that
//! link). Everything but the identity changes in place
//! (UpdateSyncConfiguration), the link included; a configuration on a link
//! this plan replaces is replaced with it, since AWS refuses to delete a
//! link that sync configurations use.

use super::{Planner, Resolution};
use crate::live::LiveSync;
use crate::plan::{Action, Field, Reason, Refusal, State};
use crate::resource::{Kind, Ownership, Tags, arn, ownership};
use crate::spec;

impl<'a> Planner<'a> {
    pub(super) fn plan_sync(&mut self, sync: &'a spec::SyncConfiguration) {
        let name = sync.resource_name.as_str();
        let (link_arn, link_replaced) = match self.links.get(&sync.repository) {
            Some(Resolution::Existing(arn)) => (Some(*arn), false),
            Some(Resolution::New) => (None, false),
            Some(Resolution::Replaced) => (None, true),
            // The link's own refusal explains.
            Some(Resolution::Unresolved) | None => return,
        };
        let link_id = link_arn.and_then(link_id_of);
        let after = desired_sync_state(sync, link_id);

        let Some(live) = self
            .index
            .syncs_by_key
            .get(&(name, sync.sync_type.as_str()))
            .copied()
        else {
            let mut change = self.change(
                Action::Create,
                Kind::SyncConfiguration,
                name,
                Reason::Missing,
            );
            change.after = Some(after);
            self.out.changes.push(change);
            return;
        };
        // Its owner is its link's, whether or not the file adopts that link
        // in this same plan.
        let adopted = self.adopted_links.contains(&arn::canonical(&live.link_arn));
        match ownership(&live.tags, self.stack()) {
            Ownership::Managed => {}
            Ownership::Unmanaged if adopted => {}
            Ownership::Unmanaged => {
                self.refuse(Refusal::sync_on_unmanaged_link(
                    self.label,
                    name,
                    &live.repository,
                    &live.link_arn,
                ));
                return;
            }
            Ownership::Foreign(owner) => {
                self.refuse(Refusal::sync_on_foreign_link(
                    self.label,
                    name,
                    &live.repository,
                    &live.link_arn,
                    &owner,
                ));
                return;
            }
        }

        let before = live_sync_state(live);
        let mut fields = Vec::new();
        let same_link = link_arn.is_some_and(|a| arn::same(a, &live.link_arn));
        if !same_link {
            fields.push(Field::Repository);
        }
        for (field, wanted, has) in [
            (Field::Branch, Some(&sync.branch), Some(&live.branch)),
            (
                Field::ConfigFile,
                Some(&sync.config_file),
                Some(&live.config_file),
            ),
            (Field::RoleArn, Some(&sync.role_arn), Some(&live.role_arn)),
            // Options left out of the file keep what the account has.
            (
                Field::PublishDeploymentStatus,
                sync.publish_deployment_status.as_ref(),
                live.publish_deployment_status.as_ref(),
            ),
            (
                Field::TriggerResourceUpdateOn,
                sync.trigger_resource_update_on.as_ref(),
                live.trigger_resource_update_on.as_ref(),
            ),
            (
                Field::PullRequestComment,
                sync.pull_request_comment.as_ref(),
                live.pull_request_comment.as_ref(),
            ),
        ] {
            if wanted.is_some_and(|w| Some(w) != has) {
                fields.push(field);
            }
        }
        if fields.is_empty() {
            return;
        }
        let mut change = self.change(
            Action::Update,
            Kind::SyncConfiguration,
            name,
            Reason::Differs {
                fields: fields.clone(),
            },
        );
        change.before = Some(before);
        change.after = Some(with_kept_options(after, live));
        if link_replaced {
            change.reason = Reason::CannotChangeInPlace;
            change.replace_fields = vec![Field::Repository];
            self.replace(change, &live.tags, false);
            return;
        }
        self.out.changes.push(change);
    }
}

/// A link's id: the last part of its ARN.
pub(crate) fn link_id_of(link_arn: &str) -> Option<&str> {
    link_arn
        .rsplit_once("repository-link/")
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty())
}

fn desired_sync_state(sync: &spec::SyncConfiguration, link_id: Option<&str>) -> State {
    State::tagged(Tags::new())
        .with(Field::Repository, Some(&sync.repository))
        .with(Field::RepositoryLinkId, link_id)
        .with(Field::SyncType, Some(&sync.sync_type))
        .with(Field::Branch, Some(&sync.branch))
        .with(Field::ConfigFile, Some(&sync.config_file))
        .with(Field::RoleArn, Some(&sync.role_arn))
        .with(
            Field::PublishDeploymentStatus,
            sync.publish_deployment_status.as_ref(),
        )
        .with(
            Field::TriggerResourceUpdateOn,
            sync.trigger_resource_update_on.as_ref(),
        )
        .with(
            Field::PullRequestComment,
            sync.pull_request_comment.as_ref(),
        )
}

/// The options the file leaves out keep the account's values: an update
/// sends them as they are.
fn with_kept_options(after: State, live: &LiveSync) -> State {
    let mut after = after;
    for (field, value) in [
        (
            Field::PublishDeploymentStatus,
            &live.publish_deployment_status,
        ),
        (
            Field::TriggerResourceUpdateOn,
            &live.trigger_resource_update_on,
        ),
        (Field::PullRequestComment, &live.pull_request_comment),
    ] {
        if after.text(field).is_none() {
            after = after.with(field, value.as_ref());
        }
    }
    after
}

pub(super) fn live_sync_state(live: &LiveSync) -> State {
    State::tagged(Tags::new())
        .with(Field::Repository, Some(&live.repository))
        .with(Field::RepositoryLinkId, Some(&live.link_id))
        .with(Field::SyncType, Some(&live.sync_type))
        .with(Field::Branch, Some(&live.branch))
        .with(Field::ConfigFile, Some(&live.config_file))
        .with(Field::RoleArn, Some(&live.role_arn))
        .with(
            Field::PublishDeploymentStatus,
            live.publish_deployment_status.as_ref(),
        )
        .with(
            Field::TriggerResourceUpdateOn,
            live.trigger_resource_update_on.as_ref(),
        )
        .with(
            Field::PullRequestComment,
            live.pull_request_comment.as_ref(),
        )
}
