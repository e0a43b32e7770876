//! One test per planner rule for repository links and sync configurations.

use crate::plan::{Action, Field, Guard, Reason};
use crate::resource::{Kind, PROTECT_TAG, ProviderType, STACK_TAG};

use super::builders::*;

use Action::{Adopt, Create, Delete, Replace, Update};
use Kind::{Connection as Conn, RepositoryLink as Link, SyncConfiguration as Sync};
use ProviderType::{GitHub, GitLab};

const APP: &str = "my-org/app";

/// A file with a GitHub connection, a link through it to `my-org/app`, and
/// a sync configuration `app-prod` on that link.
fn file() -> crate::spec::Target {
    with_links(
        target(vec![], vec![connection("github", GitHub)]),
        vec![link(APP, "github")],
        vec![sync("app-prod", APP)],
    )
}

/// The account right after `file()` was applied.
fn applied() -> crate::live::Snapshot {
    let github = live_connection("github", GitHub);
    let app = live_link(APP, &github);
    let prod = live_sync("app-prod", &app);
    with_live_links(snapshot(vec![], vec![github]), vec![app], vec![prod])
}

#[test]
fn links_and_sync_configurations_are_created_after_their_connection() {
    let p = plan(&file(), &snapshot(vec![], vec![]));
    assert_eq!(
        actions(&p),
        [
            (Create, Conn, "github"),
            (Create, Link, APP),
            (Create, Sync, "app-prod"),
        ]
    );
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    let link = p.changes[1].after.as_ref().unwrap();
    assert_eq!(link.text(Field::Connection), Some("github"));
    assert_eq!(
        link.text(Field::ConnectionArn),
        None,
        "the connection's ARN is known only at apply"
    );
    assert_eq!(link.tags, tags(&[(STACK_TAG, STACK)]));
    let sync = p.changes[2].after.as_ref().unwrap();
    assert_eq!(sync.text(Field::Repository), Some(APP));
    assert_eq!(sync.text(Field::RepositoryLinkId), None);
    assert_eq!(sync.text(Field::Branch), Some("main"));
    assert!(sync.tags.is_empty(), "sync configurations have no tags");
}

#[test]
fn an_account_that_matches_plans_nothing() {
    assert_nothing_to_do(&plan(&file(), &applied()));
}

#[test]
fn a_new_link_on_an_existing_connection_names_its_arn() {
    let github = live_connection("github", GitHub);
    let p = plan(&file(), &snapshot(vec![], vec![github.clone()]));
    assert_eq!(
        actions(&p),
        [(Create, Link, APP), (Create, Sync, "app-prod")]
    );
    let link = p.changes[0].after.as_ref().unwrap();
    assert_eq!(link.text(Field::ConnectionArn), Some(github.arn.as_str()));
}

#[test]
fn a_branch_change_updates_the_sync_configuration_in_place() {
    let mut t = file();
    t.sync_configurations[0].branch = "release".to_owned();
    let p = plan(&t, &applied());
    let change = only_change(&p);
    assert_eq!(
        (change.action, change.kind, change.name.as_str()),
        (Update, Sync, "app-prod")
    );
    assert_eq!(
        change.reason,
        Reason::Differs {
            fields: vec![Field::Branch]
        }
    );
    let after = change.after.as_ref().unwrap();
    assert_eq!(after.text(Field::Branch), Some("release"));
    // The options the file leaves out are sent as the account has them.
    assert_eq!(after.text(Field::PublishDeploymentStatus), Some("DISABLED"));
    assert_eq!(
        after.text(Field::TriggerResourceUpdateOn),
        Some("ANY_CHANGE")
    );
}

#[test]
fn options_left_out_keep_the_account_s_and_options_given_are_compared() {
    let mut t = file();
    t.sync_configurations[0].publish_deployment_status = Some("DISABLED".to_owned());
    assert_nothing_to_do(&plan(&t, &applied()));
    t.sync_configurations[0].publish_deployment_status = Some("ENABLED".to_owned());
    let p = plan(&t, &applied());
    assert_eq!(
        only_change(&p).reason,
        Reason::Differs {
            fields: vec![Field::PublishDeploymentStatus]
        }
    );
}

#[test]
fn a_sync_configuration_dropped_from_the_file_is_deleted_and_its_link_stays() {
    let mut t = file();
    t.sync_configurations.clear();
    let p = plan(&t, &applied());
    let change = only_change(&p);
    assert_eq!(
        (change.action, change.kind, change.name.as_str()),
        (Delete, Sync, "app-prod")
    );
    assert_eq!(change.arn, None, "a sync configuration has no ARN");
    assert_eq!(
        change.before.as_ref().unwrap().text(Field::SyncType),
        Some("CFN_STACK_SYNC")
    );
}

#[test]
fn a_link_dropped_with_its_sync_configurations_deletes_both() {
    let mut t = file();
    t.sync_configurations.clear();
    t.repository_links.clear();
    let p = plan(&t, &applied());
    assert_eq!(
        actions(&p),
        [(Delete, Link, APP), (Delete, Sync, "app-prod")]
    );
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
}

#[test]
fn a_connection_used_by_a_link_that_stays_is_not_deleted() {
    // The link names the connection by ARN; the file no longer has the
    // connection, but the link stays.
    let github = live_connection("github", GitHub);
    let mut t = file();
    t.connections.clear();
    t.repository_links[0].connection = crate::spec::LinkConnection::Arn(github.arn.clone());
    let p = plan(&t, &applied());
    assert_eq!(guards(&p), [(Guard::ConnectionInUse, Some("github"))]);
    let refusal = only_refusal(&p);
    assert!(refusal.message.contains(APP), "{}", refusal.message);
    assert!(refusal.arns.contains(&link_arn(APP)), "{:?}", refusal.arns);
}

#[test]
fn a_connection_another_stack_s_link_uses_is_not_deleted() {
    let github = live_connection("github", GitHub);
    let theirs = live_link("their-org/tool", &github).foreign();
    let mut live = applied();
    live.links.push(theirs);
    let mut t = file();
    t.connections.clear();
    t.repository_links.clear();
    t.sync_configurations.clear();
    let p = plan(&t, &live);
    assert!(
        guards(&p).contains(&(Guard::ConnectionInUse, Some("github"))),
        "{:?}",
        guards(&p)
    );
}

#[test]
fn a_link_moved_to_another_connection_of_its_provider_is_updated_in_place() {
    let github = live_connection("github", GitHub);
    let other = live_connection("github-2", GitHub);
    let mut live = applied();
    live.connections.push(other.clone());
    let mut t = file();
    t.connections.push(connection("github-2", GitHub));
    t.repository_links[0].connection = crate::spec::LinkConnection::Name("github-2".to_owned());
    let p = plan(&t, &live);
    let change = only_change(&p);
    assert_eq!((change.action, change.kind), (Update, Link));
    assert_eq!(
        change.reason,
        Reason::Differs {
            fields: vec![Field::Connection]
        }
    );
    assert_eq!(
        change.after.as_ref().unwrap().text(Field::ConnectionArn),
        Some(other.arn.as_str())
    );
    assert_eq!(
        change.before.as_ref().unwrap().text(Field::ConnectionArn),
        Some(github.arn.as_str())
    );
}

#[test]
fn a_link_moved_to_another_provider_is_replaced_with_its_sync_configurations() {
    let mut live = applied();
    live.connections.push(live_connection("gitlab", GitLab));
    let mut t = file();
    t.connections.push(connection("gitlab", GitLab));
    t.repository_links[0].connection = crate::spec::LinkConnection::Name("gitlab".to_owned());

    let refused = plan(&t, &live);
    assert_eq!(guards(&refused), [(Guard::ReplaceNotAllowed, Some(APP))]);

    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(
        actions(&p),
        [(Replace, Link, APP), (Replace, Sync, "app-prod")]
    );
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    assert_eq!(p.changes[1].replace_fields, vec![Field::Repository]);
}

#[test]
fn a_sync_configuration_moved_to_a_new_link_is_updated_after_the_link_is_made() {
    let mut t = file();
    t.repository_links = vec![link("my-org/app-v2", "github")];
    t.sync_configurations[0].repository = "my-org/app-v2".to_owned();
    let p = plan(&t, &applied());
    assert_eq!(
        actions(&p),
        [
            (Delete, Link, APP),
            (Create, Link, "my-org/app-v2"),
            (Update, Sync, "app-prod"),
        ]
    );
    // The old link goes only after the sync configuration moved: no refusal.
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    let sync = &p.changes[2];
    assert_eq!(
        sync.after.as_ref().unwrap().text(Field::Repository),
        Some("my-org/app-v2")
    );
}

#[test]
fn a_link_follows_its_connection_re_pointed_to_a_new_one_replaced_with_a_replaced_one() {
    // To a connection of another name: created first, the link re-pointed in
    // place, the old connection deleted last.
    let mut t = file();
    t.connections = vec![connection("github-2", GitHub)];
    t.repository_links[0].connection = crate::spec::LinkConnection::Name("github-2".to_owned());
    let p = plan(&t, &applied());
    assert_eq!(
        actions(&p),
        [
            (Delete, Conn, "github"),
            (Create, Conn, "github-2"),
            (Update, Link, APP),
        ]
    );
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    let moved = &p.changes[2];
    assert_eq!(
        moved.reason,
        Reason::Differs {
            fields: vec![Field::Connection]
        }
    );
    assert_eq!(
        moved.after.as_ref().unwrap().text(Field::ConnectionArn),
        None
    );

    // Its own connection replaced (moved to another host of its provider):
    // AWS refuses to delete a connection that links use, and the new one
    // (same name) cannot be made before the old one is gone, so the link
    // and its sync configurations are replaced with it.
    let ghes = live_host("ghes");
    let conn = live_connection_on("ghes-apps", &ghes);
    let app = live_link(APP, &conn);
    let live = with_live_links(
        snapshot(vec![ghes], vec![conn]),
        vec![app.clone()],
        vec![live_sync("app-prod", &app)],
    );
    let t = with_links(
        target(
            vec![host("ghes"), host("ghes-2")],
            vec![connection_via_host("ghes-apps", "ghes-2")],
        ),
        vec![link(APP, "ghes-apps")],
        vec![sync("app-prod", APP)],
    );
    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(
        actions(&p),
        [
            (Create, Kind::Host, "ghes-2"),
            (Replace, Conn, "ghes-apps"),
            (Replace, Link, APP),
            (Replace, Sync, "app-prod"),
        ]
    );
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    assert_eq!(p.changes[2].replace_fields, vec![Field::Connection]);
}

#[test]
fn a_sync_configuration_on_an_unmanaged_link_is_refused_and_never_touched() {
    let github = live_connection("github", GitHub);
    let theirs = live_link(APP, &github).unmanaged();
    let prod = live_sync("app-prod", &theirs);
    let stray = live_sync("stray", &theirs);
    let live = with_live_links(
        snapshot(vec![], vec![github]),
        vec![theirs.clone()],
        vec![prod, stray],
    );
    // The file wants the link without adopting it.
    let p = plan(&file(), &live);
    assert_eq!(guards(&p), [(Guard::UnmanagedName, Some(APP))]);
    assert!(p.changes.is_empty(), "{:#?}", p.changes);

    // Nor a sync configuration of the file that lives on it.
    let t = with_links(
        target(vec![], vec![connection("github", GitHub)]),
        vec![link("my-org/other", "github")],
        vec![sync("app-prod", "my-org/other")],
    );
    let p = plan(&t, &live);
    assert!(
        guards(&p).contains(&(Guard::UnmanagedName, Some("app-prod"))),
        "{:?}",
        guards(&p)
    );
    let refusal = p
        .refusals
        .iter()
        .find(|r| r.name.as_deref() == Some("app-prod"))
        .unwrap();
    assert!(refusal.hint.contains("adopt: true"), "{}", refusal.hint);
    assert!(
        !p.changes.iter().any(|c| c.kind == Sync),
        "{:#?}",
        p.changes
    );
}

#[test]
fn a_sync_configuration_on_another_stack_s_link_is_refused() {
    let github = live_connection("github", GitHub);
    let theirs = live_link("their-org/app", &github).foreign();
    let prod = live_sync("app-prod", &theirs);
    let live = with_live_links(snapshot(vec![], vec![github]), vec![theirs], vec![prod]);
    let p = plan(&file(), &live);
    assert!(
        guards(&p).contains(&(Guard::ForeignOwner, Some("app-prod"))),
        "{:?}",
        guards(&p)
    );
    assert!(
        !p.changes.iter().any(|c| c.kind == Sync),
        "{:#?}",
        p.changes
    );
}

#[test]
fn adopting_a_link_brings_its_sync_configurations() {
    let github = live_connection("github", GitHub);
    let app = live_link(APP, &github).unmanaged();
    let prod = live_sync("app-prod", &app);
    let stray = live_sync("stray", &app);
    let live = with_live_links(snapshot(vec![], vec![github]), vec![app], vec![prod, stray]);
    let mut t = file();
    t.repository_links[0] = link(APP, "github").adopt();
    let p = plan(&t, &live);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    // The matching one comes along unchanged; the one the file does not
    // name is now the stack's, and goes.
    assert_eq!(actions(&p), [(Adopt, Link, APP), (Delete, Sync, "stray")]);
}

#[test]
fn a_protected_link_protects_its_sync_configurations() {
    let mut live = applied();
    live.links[0] = live.links[0].clone().protected();
    live.syncs[0]
        .tags
        .insert(PROTECT_TAG.to_owned(), "true".to_owned());
    let mut t = file();
    t.sync_configurations.clear();
    let p = plan(&t, &live);
    assert_eq!(guards(&p), [(Guard::Protected, Some("app-prod"))]);
    let refusal = only_refusal(&p);
    assert!(
        refusal.arns.is_empty(),
        "no ARN of its own: {:?}",
        refusal.arns
    );
    assert!(refusal.message.contains("its repository link is protected"));
    assert!(p.changes.is_empty());
}

#[test]
fn links_and_sync_configurations_count_toward_the_safety_limit() {
    let live = applied();
    assert_eq!(live.managed_by(STACK), 3);
    let mut t = file();
    t.sync_configurations.clear();
    t.repository_links.clear();
    t.safety.min_managed = 1;
    t.safety.max_delete_percent = 50;
    let p = plan(&t, &live);
    assert!(
        guards(&p).contains(&(Guard::TooMuchChange, None)),
        "2 of 3 deleted is above 50%: {:?}",
        guards(&p)
    );
}

#[test]
fn two_links_to_one_repository_through_different_providers_pick_the_file_s() {
    let github = live_connection("github", GitHub);
    let gitlab = live_connection("gitlab", GitLab).foreign();
    let on_github = live_link(APP, &github);
    let on_gitlab = crate::live::LiveLink {
        arn: link_arn("my-org/app-gitlab"),
        id: link_id("my-org/app-gitlab"),
        ..live_link(APP, &gitlab).foreign()
    };
    let live = with_live_links(
        snapshot(vec![], vec![github, gitlab]),
        vec![on_github, on_gitlab],
        vec![],
    );
    let t = with_links(
        target(vec![], vec![connection("github", GitHub)]),
        vec![link(APP, "github")],
        vec![],
    );
    let p = plan(&t, &live);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
}
