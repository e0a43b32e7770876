//! One test per planner rule.

use crate::live::LiveHost;
use crate::plan::{
    Action, Field, Guard, Options, Reason, TagChanges, WarningKind, certificate_fingerprint,
};
use crate::resource::{Kind, PROTECT_TAG, ProviderType, STACK_TAG};
use crate::spec::Safety;

use super::builders::*;

use Action::{Adopt, Create, Delete, Replace, Update};
use Kind::{Connection as Conn, Host};
use ProviderType::{Bitbucket, GitHub, GitLab, GitLabSelfManaged};

// ------------------------------------------------------ create and no-op

#[test]
fn resources_missing_from_the_account_are_created_with_the_ownership_tags() {
    let t = target(
        vec![host("ghes").tag("env", "prod")],
        vec![
            connection("github-main", GitHub).protect(Some(true)),
            connection_via_host("ghes-apps", "ghes"),
        ],
    );
    let p = plan(&t, &snapshot(vec![], vec![]));

    assert_eq!(
        actions(&p),
        [
            (Create, Host, "ghes"),
            (Create, Conn, "ghes-apps"),
            (Create, Conn, "github-main"),
        ]
    );
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    let ghes = &p.changes[0];
    assert_eq!(ghes.arn, None);
    assert_eq!(ghes.before, None);
    let after = ghes.after.as_ref().unwrap();
    assert_eq!(
        after.tags,
        tags(&[("env", "prod"), (STACK_TAG, STACK)]),
        "own tags plus the stack tag"
    );
    assert_eq!(
        after.text(Field::ProviderEndpoint),
        Some("https://ghes.example.com")
    );
    assert_eq!(
        after.text(Field::ProviderType),
        Some("GitHubEnterpriseServer")
    );

    let apps = p.changes[1].after.as_ref().unwrap();
    assert_eq!(apps.text(Field::Host), Some("ghes"));
    assert_eq!(
        apps.text(Field::HostArn),
        None,
        "the host's ARN is known only at apply"
    );
    assert_eq!(
        apps.text(Field::ProviderType),
        Some("GitHubEnterpriseServer")
    );

    let main = p.changes[2].after.as_ref().unwrap();
    assert_eq!(
        main.tags,
        tags(&[(PROTECT_TAG, "true"), (STACK_TAG, STACK)]),
        "protect: true writes the protect tag"
    );
    assert_eq!(main.text(Field::ProviderType), Some("GitHub"));
}

#[test]
fn an_account_matching_the_file_plans_nothing() {
    let ghes = live_host("ghes").tag("env", "prod");
    let t = target(
        vec![host("ghes").tag("env", "prod")],
        vec![
            connection("github-main", GitHub),
            connection_via_host("ghes-apps", "ghes"),
            connection_via_arn("elsewhere", &host_arn("shared")),
        ],
    );
    let live = snapshot(
        vec![ghes.clone(), live_host("shared").foreign()],
        vec![
            live_connection("github-main", GitHub),
            live_connection_on("ghes-apps", &ghes),
            live_connection_on("elsewhere", &live_host("shared")),
        ],
    );
    let p = plan(&t, &live);
    assert_nothing_to_do(&p);
    assert_eq!(p.managed, 4, "ghes, github-main, ghes-apps, elsewhere");
}

#[test]
fn changes_are_ordered_hosts_first_then_by_name() {
    let t = target(
        vec![host("zeta"), host("alpha")],
        vec![connection("b", GitHub), connection("a", GitLab)],
    );
    let p = plan(&t, &snapshot(vec![], vec![]));
    let order: Vec<_> = p
        .changes
        .iter()
        .map(|c| (c.kind, c.name.as_str()))
        .collect();
    assert_eq!(
        order,
        [(Host, "alpha"), (Host, "zeta"), (Conn, "a"), (Conn, "b")]
    );
}

// ------------------------------------------------------------------- tags

#[test]
fn tag_diff_lists_exactly_the_keys_to_add_change_and_remove() {
    let t = target(
        vec![
            host("ghes")
                .tag("keep", "1")
                .tag("env", "prod")
                .tag("new", "x"),
        ],
        vec![
            connection("c", GitHub)
                .tag("keep", "1")
                .tag("env", "prod")
                .tag("new", "x"),
        ],
    );
    let live = snapshot(
        vec![
            live_host("ghes")
                .tag("keep", "1")
                .tag("env", "dev")
                .tag("old", "y"),
        ],
        vec![
            live_connection("c", GitHub)
                .tag("keep", "1")
                .tag("env", "dev")
                .tag("old", "y"),
        ],
    );
    let p = plan(&t, &live);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    assert_eq!(actions(&p), [(Update, Host, "ghes"), (Update, Conn, "c")]);
    let expected = TagChanges {
        add: tags(&[("new", "x")]),
        change: tags(&[("env", "prod")]),
        remove: vec!["old".to_owned()],
    };
    for change in &p.changes {
        assert_eq!(change.tags, expected, "{}", change.name);
        assert_eq!(
            change.reason,
            Reason::Differs {
                fields: vec![Field::Tags]
            }
        );
        assert!(
            !change.updates_fields(),
            "tags alone do not call UpdateHost"
        );
        assert!(change.replace_fields.is_empty());
    }
    assert_eq!(p.changes[0].arn.as_deref(), Some(host_arn("ghes").as_str()));
    assert_eq!(
        p.changes[1].arn.as_deref(),
        Some(connection_arn("c").as_str())
    );
    assert!(p.warnings.is_empty(), "tag updates warn of nothing");
}

#[test]
fn a_stack_tag_spelled_differently_is_another_stack() {
    // The stack tag is compared exactly: "Platform-Prod" is another stack.
    let t = target(vec![], vec![connection("c", GitHub)]);
    let live = snapshot(
        vec![],
        vec![live_connection("c", GitHub).tag(STACK_TAG, "Platform-Prod")],
    );
    let p = plan(&t, &live);
    assert_eq!(guards(&p), [(Guard::ForeignOwner, Some("c"))]);
    assert!(p.changes.is_empty());
}

#[test]
fn aws_tags_on_live_resources_are_never_added_changed_or_removed() {
    let t = target(
        vec![host("ghes")],
        vec![
            connection("same", GitHub),
            connection("differs", GitHub).tag("env", "prod"),
        ],
    );
    let live = snapshot(
        vec![live_host("ghes").tag("aws:cloudformation:stack-name", "legacy")],
        vec![
            live_connection("same", GitHub).tag("aws:createdBy", "someone"),
            live_connection("differs", GitHub)
                .tag("aws:cloudformation:stack-name", "legacy")
                .tag("stale", "1"),
        ],
    );
    let p = plan(&t, &live);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    let c = only_change(&p);
    assert_eq!((c.action, c.name.as_str()), (Update, "differs"));
    assert_eq!(
        c.tags,
        TagChanges {
            add: tags(&[("env", "prod")]),
            change: Default::default(),
            remove: vec!["stale".to_owned()],
        },
        "the aws: tag is neither removed nor rewritten"
    );
}

#[test]
fn default_tags_merged_by_the_loader_are_reconciled_like_own_tags() {
    // The loader merges `default_tags: {team: platform}` under each
    // resource's tags; the planner just sees them as tags.
    let t = target(
        vec![],
        vec![
            connection("a", GitHub).tag("team", "platform"),
            connection("b", GitHub).tag("team", "apps"), // its own value won
        ],
    );
    let live = snapshot(
        vec![],
        vec![
            live_connection("a", GitHub),
            live_connection("b", GitHub).tag("team", "platform"),
        ],
    );
    let p = plan(&t, &live);
    assert_eq!(actions(&p), [(Update, Conn, "a"), (Update, Conn, "b")]);
    assert_eq!(p.changes[0].tags.add, tags(&[("team", "platform")]));
    assert_eq!(p.changes[1].tags.change, tags(&[("team", "apps")]));
    assert!(p.changes[1].tags.add.is_empty() && p.changes[1].tags.remove.is_empty());
}

// ------------------------------------------------------------------ hosts

#[test]
fn a_new_endpoint_updates_the_host_in_place() {
    let t = target(vec![host("ghes").tag("env", "prod")], vec![]);
    let live = snapshot(
        vec![LiveHost {
            provider_endpoint: "https://old.example.com".to_owned(),
            ..live_host("ghes")
        }],
        vec![],
    );
    let p = plan(&t, &live);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    let c = only_change(&p);
    assert_eq!((c.action, c.kind), (Update, Host));
    assert!(c.updates_fields());
    assert!(c.replace_fields.is_empty());
    assert_eq!(c.tags.add, tags(&[("env", "prod")]));
    assert_eq!(
        c.reason,
        Reason::Differs {
            fields: vec![Field::ProviderEndpoint, Field::Tags]
        }
    );
    assert_eq!(
        c.before.as_ref().unwrap().text(Field::ProviderEndpoint),
        Some("https://old.example.com")
    );
    assert_eq!(
        c.after.as_ref().unwrap().text(Field::ProviderEndpoint),
        Some("https://ghes.example.com")
    );
    assert!(p.warnings.is_empty());
}

const PEM_A: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBaTCCAQ+gAwIBAgIUAAAA\n-----END CERTIFICATE-----\n";
const PEM_B: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBaTCCAQ+gAwIBAgIUBBBB\n-----END CERTIFICATE-----\n";

fn vpc_host(v: crate::spec::Vpc) -> crate::spec::Host {
    crate::spec::Host {
        vpc: Some(v),
        ..host("ghes")
    }
}

fn vpc_live(v: crate::spec::Vpc) -> LiveHost {
    LiveHost {
        vpc: Some(v),
        ..live_host("ghes")
    }
}

#[test]
fn vpc_lists_in_another_order_and_a_rewrapped_certificate_are_no_change() {
    let crlf_padded = format!("\n{}\n", PEM_A.replace('\n', "\r\n"));
    let t = target(
        vec![vpc_host(vpc(
            &["subnet-b", "subnet-a"],
            &["sg-2", "sg-1"],
            Some(&crlf_padded),
        ))],
        vec![],
    );
    let live = snapshot(
        vec![vpc_live(vpc(
            &["subnet-a", "subnet-b"],
            &["sg-1", "sg-2"],
            Some(PEM_A),
        ))],
        vec![],
    );
    assert_nothing_to_do(&plan(&t, &live));
}

#[test]
fn a_vpc_change_updates_the_host_in_place() {
    let t = target(
        vec![vpc_host(vpc(
            &["subnet-a", "subnet-c"],
            &["sg-1"],
            Some(PEM_A),
        ))],
        vec![],
    );
    let live = snapshot(
        vec![vpc_live(vpc(
            &["subnet-a", "subnet-b"],
            &["sg-1"],
            Some(PEM_A),
        ))],
        vec![],
    );
    let p = plan(&t, &live);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    let c = only_change(&p);
    assert_eq!((c.action, c.kind), (Update, Host));
    assert!(c.updates_fields());
    assert!(c.tags.is_empty());
    assert_eq!(
        c.reason,
        Reason::Differs {
            fields: vec![Field::Vpc]
        }
    );
    assert_eq!(
        c.after.as_ref().unwrap().vpc().unwrap().subnet_ids,
        ["subnet-a", "subnet-c"]
    );
}

#[test]
fn a_new_certificate_updates_the_host_and_shows_only_fingerprints() {
    let t = target(
        vec![vpc_host(vpc(&["subnet-a"], &["sg-1"], Some(PEM_B)))],
        vec![],
    );
    let live = snapshot(
        vec![vpc_live(vpc(&["subnet-a"], &["sg-1"], Some(PEM_A)))],
        vec![],
    );
    let p = plan(&t, &live);
    let c = only_change(&p);
    assert_eq!((c.action, c.updates_fields()), (Update, true));
    let before = c.before.as_ref().unwrap().vpc().unwrap();
    let after = c.after.as_ref().unwrap().vpc().unwrap();
    assert_eq!(
        before.tls_certificate_sha256.as_deref(),
        Some(certificate_fingerprint(PEM_A).as_str())
    );
    assert_eq!(
        after.tls_certificate_sha256.as_deref(),
        Some(certificate_fingerprint(PEM_B).as_str())
    );
    let json = serde_json::to_string(&p.changes).unwrap();
    assert!(
        !json.contains("BEGIN CERTIFICATE"),
        "a PEM leaked into the plan: {json}"
    );
}

#[test]
fn adding_a_vpc_to_a_host_updates_it_in_place() {
    let t = target(vec![vpc_host(vpc(&["subnet-a"], &["sg-1"], None))], vec![]);
    let p = plan(&t, &snapshot(vec![live_host("ghes")], vec![]));
    let c = only_change(&p);
    assert_eq!((c.action, c.updates_fields()), (Update, true));
    assert_eq!(c.before.as_ref().unwrap().vpc(), None);
}

#[test]
fn a_host_provider_change_is_a_replacement_when_allowed() {
    let t = target(
        vec![crate::spec::Host {
            provider_type: GitLabSelfManaged,
            ..host("ghes")
        }],
        vec![],
    );
    let live = snapshot(vec![live_host("ghes")], vec![]);
    let p = plan_with(&t, &live, allow_replace());
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    let c = only_change(&p);
    assert_eq!((c.action, c.kind, c.name.as_str()), (Replace, Host, "ghes"));
    assert_eq!(c.replace_fields, [Field::ProviderType]);
    assert_eq!(c.reason, Reason::CannotChangeInPlace);
    assert_eq!(c.arn.as_deref(), Some(host_arn("ghes").as_str()));
    assert_eq!(
        c.before.as_ref().unwrap().text(Field::ProviderType),
        Some("GitHubEnterpriseServer")
    );
    assert_eq!(
        c.after.as_ref().unwrap().text(Field::ProviderType),
        Some("GitLabSelfManaged")
    );
    assert_eq!(
        p.warnings
            .iter()
            .map(|w| (w.kind, w.name.as_str()))
            .collect::<Vec<_>>(),
        [(Host, "ghes")]
    );
}

#[test]
fn a_host_provider_change_is_refused_without_allow_replace() {
    let t = target(
        vec![crate::spec::Host {
            provider_type: GitLabSelfManaged,
            ..host("ghes")
        }],
        vec![],
    );
    let p = plan(&t, &snapshot(vec![live_host("ghes")], vec![]));
    assert!(p.changes.is_empty(), "a refused replacement is not planned");
    let r = only_refusal(&p);
    assert_eq!(
        (r.guard, r.kind, r.name.as_deref()),
        (Guard::ReplaceNotAllowed, Some(Host), Some("ghes"))
    );
    assert_eq!(r.arns, [host_arn("ghes")]);
    assert!(r.message.contains("provider_type"), "{}", r.message);
    assert!(r.hint.contains("--allow-replace"), "{}", r.hint);
}

// ------------------------------------------------------------ connections

#[test]
fn a_connection_provider_change_is_a_replacement_when_allowed_and_refused_otherwise() {
    let t = target(vec![], vec![connection("c", GitLab)]);
    let live = snapshot(vec![], vec![live_connection("c", GitHub)]);

    let p = plan_with(&t, &live, allow_replace());
    let c = only_change(&p);
    assert_eq!((c.action, c.kind), (Replace, Conn));
    assert_eq!(c.replace_fields, [Field::ProviderType]);
    assert_eq!(c.reason, Reason::CannotChangeInPlace);
    assert!(p.refusals.is_empty());

    let p = plan(&t, &live);
    assert!(p.changes.is_empty());
    assert_eq!(guards(&p), [(Guard::ReplaceNotAllowed, Some("c"))]);
    assert!(p.warnings.is_empty(), "nothing planned, nothing to warn of");
}

#[test]
fn a_connection_moved_to_another_host_arn_is_replaced() {
    let (a, b) = (live_host("a").foreign(), live_host("b").foreign());
    let t = target(vec![], vec![connection_via_arn("c", &b.arn)]);
    let live = snapshot(vec![a.clone(), b], vec![live_connection_on("c", &a)]);
    let p = plan_with(&t, &live, allow_replace());
    let c = only_change(&p);
    assert_eq!(c.action, Replace);
    assert_eq!(c.replace_fields, [Field::HostArn]);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
}

#[test]
fn a_host_arn_with_the_newer_service_prefix_names_the_same_host() {
    let shared = live_host("shared").foreign();
    let new_prefix = shared
        .arn
        .replace(":codestar-connections:", ":codeconnections:");
    let t = target(vec![], vec![connection_via_arn("c", &new_prefix)]);
    let live = snapshot(vec![shared.clone()], vec![live_connection_on("c", &shared)]);
    assert_nothing_to_do(&plan(&t, &live));
}

#[test]
fn a_host_arn_the_account_does_not_have_is_refused() {
    let missing = host_arn("nowhere");
    let t = target(
        vec![],
        vec![connection_via_arn("c", &missing), connection("ok", GitHub)],
    );
    let p = plan(&t, &snapshot(vec![live_host("elsewhere")], vec![]));
    let r = only_refusal(&p);
    assert_eq!(
        (r.guard, r.kind, r.name.as_deref()),
        (Guard::HostNotFound, Some(Conn), Some("c"))
    );
    assert_eq!(r.arns, [missing]);
    assert_eq!(
        actions(&p),
        [(Delete, Host, "elsewhere"), (Create, Conn, "ok")],
        "the rest of the plan is still shown"
    );
}

#[test]
fn only_tags_of_a_connection_update_in_place() {
    let ghes = live_host("ghes");
    let t = target(
        vec![host("ghes")],
        vec![connection_via_host("c", "ghes").tag("env", "prod")],
    );
    let live = snapshot(vec![ghes.clone()], vec![live_connection_on("c", &ghes)]);
    let p = plan(&t, &live);
    let c = only_change(&p);
    assert_eq!((c.action, c.kind), (Update, Conn));
    assert!(c.replace_fields.is_empty() && !c.updates_fields());
    assert_eq!(c.tags.add, tags(&[("env", "prod")]));
}

#[test]
fn a_connection_through_a_host_created_in_the_same_plan_is_created_with_it() {
    let t = target(vec![host("ghes")], vec![connection_via_host("c", "ghes")]);
    let p = plan(&t, &snapshot(vec![], vec![]));
    assert_eq!(actions(&p), [(Create, Host, "ghes"), (Create, Conn, "c")]);
    assert!(p.refusals.is_empty());
}

#[test]
fn an_existing_connection_whose_host_is_created_anew_is_replaced() {
    // The live connection still points at a host that is gone from the
    // account; the file's host is created, so the connection must follow.
    let gone = live_host("gone").foreign();
    let t = target(vec![host("ghes")], vec![connection_via_host("c", "ghes")]);
    let live = snapshot(vec![], vec![live_connection_on("c", &gone)]);
    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(actions(&p), [(Create, Host, "ghes"), (Replace, Conn, "c")]);
    assert_eq!(p.changes[1].replace_fields, [Field::Host]);
    let after = p.changes[1].after.as_ref().unwrap();
    assert_eq!(
        (after.text(Field::Host), after.text(Field::HostArn)),
        (Some("ghes"), None),
        "the new host's ARN is known after apply"
    );

    let p = plan(&t, &live);
    assert_eq!(actions(&p), [(Create, Host, "ghes")]);
    assert_eq!(guards(&p), [(Guard::ReplaceNotAllowed, Some("c"))]);
}

#[test]
fn a_connection_whose_host_is_replaced_is_replaced_too() {
    let ghes = live_host("ghes");
    let t = target(
        vec![crate::spec::Host {
            provider_type: GitLabSelfManaged,
            ..host("ghes")
        }],
        vec![connection_via_host("c", "ghes")],
    );
    let live = snapshot(vec![ghes.clone()], vec![live_connection_on("c", &ghes)]);
    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(actions(&p), [(Replace, Host, "ghes"), (Replace, Conn, "c")]);
    let c = &p.changes[1];
    assert_eq!(c.replace_fields, [Field::ProviderType, Field::Host]);
    assert_eq!(
        c.after.as_ref().unwrap().text(Field::ProviderType),
        Some("GitLabSelfManaged")
    );
    assert!(
        p.refusals.is_empty(),
        "the connection leaves with its host: {:#?}",
        p.refusals
    );
}

// ------------------------------------------------------------- protection

#[test]
fn a_live_protect_tag_refuses_a_replacement_even_with_allow_replace() {
    let t = target(vec![], vec![connection("c", GitLab)]);
    let live = snapshot(vec![], vec![live_connection("c", GitHub).protected()]);
    let p = plan_with(&t, &live, allow_replace());
    assert!(p.changes.is_empty());
    let r = only_refusal(&p);
    assert_eq!((r.guard, r.name.as_deref()), (Guard::Protected, Some("c")));
    assert!(r.message.contains("would be replaced"), "{}", r.message);
    assert_eq!(r.arns, [connection_arn("c")]);
}

#[test]
fn protect_true_in_the_file_refuses_a_replacement_of_an_unprotected_resource() {
    let t = target(
        vec![
            crate::spec::Host {
                provider_type: GitLabSelfManaged,
                ..host("ghes")
            }
            .protect(Some(true)),
        ],
        vec![],
    );
    let p = plan_with(
        &t,
        &snapshot(vec![live_host("ghes")], vec![]),
        allow_replace(),
    );
    assert!(p.changes.is_empty());
    assert_eq!(guards(&p), [(Guard::Protected, Some("ghes"))]);
}

#[test]
fn a_protected_resource_gone_from_the_file_is_refused_not_deleted() {
    let t = target(vec![], vec![]);
    let live = snapshot(
        vec![live_host("h").protected()],
        vec![
            live_connection("c", GitHub).protected(),
            live_connection("d", GitHub),
        ],
    );
    let p = plan_with(
        &t,
        &live,
        Options {
            allow_replace: true,
            force: true,
            ..Options::default()
        },
    );
    assert_eq!(actions(&p), [(Delete, Conn, "d")]);
    assert_eq!(
        guards(&p),
        [(Guard::Protected, Some("c")), (Guard::Protected, Some("h"))]
    );
    assert!(p.refusals[0].message.contains("would be deleted"));
}

#[test]
fn a_protect_tag_with_another_value_does_not_protect() {
    let t = target(vec![], vec![]);
    let live = snapshot(
        vec![],
        vec![live_connection("c", GitHub).tag(PROTECT_TAG, "false")],
    );
    assert_eq!(actions(&plan(&t, &live)), [(Delete, Conn, "c")]);
}

#[test]
fn protect_false_removes_the_protect_tag_and_protect_true_adds_it() {
    let t = target(
        vec![],
        vec![
            connection("off", GitHub).protect(Some(false)),
            connection("on", GitHub).protect(Some(true)),
        ],
    );
    let live = snapshot(
        vec![],
        vec![
            live_connection("off", GitHub).protected(),
            live_connection("on", GitHub),
        ],
    );
    let p = plan(&t, &live);
    assert_eq!(actions(&p), [(Update, Conn, "off"), (Update, Conn, "on")]);
    assert_eq!(p.changes[0].tags.remove, [PROTECT_TAG]);
    assert!(p.changes[0].tags.add.is_empty() && p.changes[0].tags.change.is_empty());
    assert_eq!(p.changes[1].tags.add, tags(&[(PROTECT_TAG, "true")]));
    assert!(p.refusals.is_empty());
}

#[test]
fn protect_unset_keeps_the_live_protect_tag() {
    let t = target(vec![host("h")], vec![connection("c", GitHub)]);
    let live = snapshot(
        vec![live_host("h").protected()],
        vec![live_connection("c", GitHub).protected()],
    );
    assert_nothing_to_do(&plan(&t, &live));
}

// -------------------------------------------------------------- ownership

#[test]
fn a_name_owned_by_another_stack_is_refused_and_its_resources_never_deleted() {
    let t = target(vec![host("h")], vec![connection("c", GitHub).adopt()]);
    let live = snapshot(
        vec![live_host("h").foreign(), live_host("theirs").foreign()],
        vec![
            live_connection("c", GitHub).foreign(),
            live_connection("other", GitHub).foreign(),
        ],
    );
    let p = plan_with(
        &t,
        &live,
        Options {
            allow_replace: true,
            force: true,
            ..Options::default()
        },
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
    assert_eq!(
        guards(&p),
        [
            (Guard::ForeignOwner, Some("h")),
            (Guard::ForeignOwner, Some("c"))
        ],
        "adopt: true does not take over another stack's resource"
    );
    assert_eq!(p.refusals[1].arns, [connection_arn("c")]);
    assert!(p.refusals[1].message.contains(OTHER_STACK));
    assert_eq!(p.managed, 0);
}

#[test]
fn an_unmanaged_name_is_refused_without_adopt_and_never_deleted() {
    let t = target(vec![host("h")], vec![connection("c", GitHub)]);
    let live = snapshot(
        vec![live_host("h").unmanaged(), live_host("stray").unmanaged()],
        vec![
            live_connection("c", GitHub).unmanaged(),
            live_connection("stray", GitHub).unmanaged(),
        ],
    );
    let p = plan(&t, &live);
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
    assert_eq!(
        guards(&p),
        [
            (Guard::UnmanagedName, Some("h")),
            (Guard::UnmanagedName, Some("c"))
        ]
    );
    assert!(p.refusals[0].hint.contains("adopt: true"));
}

#[test]
fn adopt_takes_over_an_unmanaged_resource_with_the_stack_tag_and_fixes() {
    let t = target(
        vec![host("h").adopt().tag("env", "prod")],
        vec![connection("c", Bitbucket).adopt()],
    );
    let live = snapshot(
        vec![LiveHost {
            provider_endpoint: "https://old.example.com".to_owned(),
            ..live_host("h").unmanaged().tag("aws:createdBy", "x")
        }],
        vec![
            live_connection("c", Bitbucket)
                .unmanaged()
                .tag("owner", "bob"),
        ],
    );
    let p = plan(&t, &live);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
    assert_eq!(actions(&p), [(Adopt, Host, "h"), (Adopt, Conn, "c")]);

    let h = &p.changes[0];
    assert!(h.updates_fields());
    assert_eq!(h.tags.add, tags(&[("env", "prod"), (STACK_TAG, STACK)]));
    assert!(h.tags.remove.is_empty(), "the aws: tag stays");
    assert_eq!(
        h.reason,
        Reason::Adopt {
            fields: vec![Field::ProviderEndpoint, Field::Tags]
        }
    );

    let c = &p.changes[1];
    assert_eq!(
        c.tags,
        TagChanges {
            add: tags(&[(STACK_TAG, STACK)]),
            change: Default::default(),
            remove: vec!["owner".to_owned()],
        }
    );
    assert!(!c.updates_fields());
    assert!(
        p.warnings.is_empty(),
        "adoption keeps the ARN: nothing goes PENDING"
    );
}

#[test]
fn adopt_on_a_resource_already_managed_is_a_plain_reconcile() {
    let t = target(vec![], vec![connection("c", GitHub).adopt()]);
    let live = snapshot(vec![], vec![live_connection("c", GitHub)]);
    assert_nothing_to_do(&plan(&t, &live));
}

#[test]
fn several_live_hosts_with_the_wanted_name_are_ambiguous() {
    let one = live_host("ghes");
    let two = LiveHost {
        arn: format!("{ARN_PREFIX}:host/ghes-99999999"),
        ..live_host("ghes").unmanaged()
    };
    let t = target(vec![host("ghes")], vec![connection_via_host("c", "ghes")]);
    let live = snapshot(vec![one.clone(), two.clone()], vec![]);
    let p = plan(&t, &live);
    assert!(
        p.changes.is_empty(),
        "neither host is touched and the connection cannot be planned: {:#?}",
        p.changes
    );
    let r = only_refusal(&p);
    assert_eq!(
        (r.guard, r.kind, r.name.as_deref()),
        (Guard::AmbiguousHost, Some(Host), Some("ghes"))
    );
    assert_eq!(r.arns, [one.arn, two.arn]);
}

/// A second copy of `live_host(name)`, as an overlapping apply makes one.
fn copy_of(name: &str, suffix: &str) -> LiveHost {
    LiveHost {
        arn: format!("{ARN_PREFIX}:host/{name}-{suffix}"),
        status: "PENDING".to_owned(),
        ..live_host(name)
    }
}

#[test]
fn extra_copies_of_a_host_this_stack_owns_are_deleted_keeping_one() {
    // Both PENDING, neither used: the lower ARN stays.
    let low = LiveHost {
        status: "PENDING".to_owned(),
        ..copy_of("ghes", "00000001")
    };
    let high = copy_of("ghes", "ffffffff");
    let t = target(vec![host("ghes")], vec![]);
    let p = plan(&t, &snapshot(vec![high.clone(), low.clone()], vec![]));
    let change = only_change(&p);
    assert_eq!(
        (change.action, change.kind, change.arn.as_deref()),
        (Delete, Host, Some(high.arn.as_str()))
    );
    assert_eq!(
        change.reason,
        Reason::ExtraCopy {
            kept: low.arn.clone()
        }
    );
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);

    // An AVAILABLE copy (someone finished its set-up) wins over a lower ARN.
    let available = LiveHost {
        status: "AVAILABLE".to_owned(),
        ..high.clone()
    };
    let p = plan(&t, &snapshot(vec![low.clone(), available.clone()], vec![]));
    assert_eq!(only_change(&p).arn.as_deref(), Some(low.arn.as_str()));
}

#[test]
fn the_copy_the_first_connection_uses_is_kept_and_the_file_connects_to_it() {
    let low = copy_of("ghes", "00000001");
    let high = copy_of("ghes", "ffffffff");
    // "a" (the first connection by name) uses the higher ARN.
    let live = snapshot(
        vec![low.clone(), high.clone()],
        vec![
            live_connection_on("a", &high),
            live_connection_on("b", &high),
        ],
    );
    let t = target(
        vec![host("ghes")],
        vec![
            connection_via_host("a", "ghes"),
            connection_via_host("b", "ghes"),
        ],
    );
    let p = plan(&t, &live);
    let change = only_change(&p);
    assert_eq!(
        (change.action, change.arn.as_deref(), &change.reason),
        (
            Delete,
            Some(low.arn.as_str()),
            &Reason::ExtraCopy {
                kept: high.arn.clone()
            }
        ),
        "the connections stay where they are; the unused copy goes"
    );
}

#[test]
fn an_extra_copy_a_connection_still_uses_stays_and_is_named_in_a_warning() {
    let low = copy_of("ghes", "00000001");
    let high = copy_of("ghes", "ffffffff");
    // "a" keeps the low copy; "z", on the high one, is protected, so it
    // cannot be moved: the high copy must stay while "z" uses it.
    let live = snapshot(
        vec![low.clone(), high.clone()],
        vec![
            live_connection_on("a", &low),
            live_connection_on("z", &high).protected(),
        ],
    );
    let t = target(
        vec![host("ghes")],
        vec![
            connection_via_host("a", "ghes"),
            connection_via_host("z", "ghes"),
        ],
    );
    let p = plan_with(&t, &live, allow_replace());
    assert!(
        !p.changes.iter().any(|c| c.action == Delete),
        "a copy in use is never deleted: {:#?}",
        p.changes
    );
    assert_eq!(guards(&p), vec![(Guard::Protected, Some("z"))]);
    assert!(
        p.warnings.iter().any(|w| w.name == "ghes"
            && w.warning
                == WarningKind::ExtraCopyInUse {
                    copy: high.arn.clone(),
                    kept: low.arn.clone(),
                    users: vec!["z".to_owned()]
                }),
        "{:#?}",
        p.warnings
    );
}

#[test]
fn deleting_extra_copies_is_not_a_mass_delete_nor_stopped_by_protection() {
    let names = ["h1", "h2", "h3", "h4", "h5"];
    let t = target(
        names.iter().map(|n| host(n).protect(Some(true))).collect(),
        vec![],
    );
    let mut hosts = Vec::new();
    for n in names {
        hosts.push(live_host(n).protected());
        hosts.push(copy_of(n, "ffffffff").protected());
    }
    let p = plan_with(
        &t,
        &snapshot(hosts, vec![]),
        Options {
            min_managed: Some(1),
            ..Options::default()
        },
    );
    assert_eq!(p.changes.len(), 5, "{:#?}", p.changes);
    assert!(
        p.changes
            .iter()
            .all(|c| matches!(c.reason, Reason::ExtraCopy { .. }))
    );
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
}

// --------------------------------------------------------- host in use

#[test]
fn a_host_still_used_by_a_connection_that_stays_cannot_go() {
    let old = live_host("old");
    let t = target(vec![], vec![]);
    let live = snapshot(
        vec![old.clone()],
        vec![live_connection_on("theirs", &old).foreign()],
    );
    let p = plan(&t, &live);
    assert_eq!(
        actions(&p),
        [(Delete, Host, "old")],
        "the plan still shows the delete"
    );
    let r = only_refusal(&p);
    assert_eq!(
        (r.guard, r.name.as_deref()),
        (Guard::HostInUse, Some("old"))
    );
    assert_eq!(r.arns, [old.arn.clone(), connection_arn("theirs")]);
}

#[test]
fn a_host_deleted_together_with_its_connections_is_not_in_use() {
    let old = live_host("old");
    let t = target(vec![], vec![]);
    let live = snapshot(vec![old.clone()], vec![live_connection_on("mine", &old)]);
    let p = plan(&t, &live);
    assert_eq!(actions(&p), [(Delete, Host, "old"), (Delete, Conn, "mine")]);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
}

#[test]
fn a_replaced_host_used_through_host_arn_by_a_connection_that_stays_is_in_use() {
    let ghes = live_host("ghes");
    let t = target(
        vec![crate::spec::Host {
            provider_type: GitLabSelfManaged,
            ..host("ghes")
        }],
        vec![],
    );
    let live = snapshot(
        vec![ghes.clone()],
        vec![live_connection_on("pinned", &ghes).unmanaged()],
    );
    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(actions(&p), [(Replace, Host, "ghes")]);
    let r = only_refusal(&p);
    assert_eq!(r.guard, Guard::HostInUse);
    assert!(r.message.contains("would be replaced"), "{}", r.message);
}

#[test]
fn a_host_to_delete_cannot_be_the_host_arn_of_a_new_connection() {
    // The file drops host "old" but a new connection names it by ARN: apply
    // would create the connection on a host it is about to delete (or fail
    // to delete it). The plan must refuse, as for a connection that stays.
    let old = live_host("old");
    let t = target(vec![], vec![connection_via_arn("new", &old.arn)]);
    let p = plan(&t, &snapshot(vec![old.clone()], vec![]));
    assert_eq!(
        guards(&p),
        [(Guard::HostInUse, Some("old"))],
        "planned {:?}",
        actions(&p)
    );
    assert!(
        p.refusals[0].message.contains("\"new\""),
        "{}",
        p.refusals[0].message
    );
}

#[test]
fn a_host_to_delete_cannot_be_the_host_arn_a_connection_moves_to() {
    let old = live_host("old");
    let t = target(vec![], vec![connection_via_arn("c", &old.arn)]);
    let live = snapshot(vec![old], vec![live_connection("c", GitHub)]);
    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(actions(&p), [(Delete, Host, "old"), (Replace, Conn, "c")]);
    assert_eq!(guards(&p), [(Guard::HostInUse, Some("old"))]);
}

#[test]
fn a_protected_connection_keeps_its_replaced_host_in_use() {
    let ghes = live_host("ghes");
    let t = target(
        vec![crate::spec::Host {
            provider_type: GitLabSelfManaged,
            ..host("ghes")
        }],
        vec![connection_via_host("c", "ghes")],
    );
    let live = snapshot(
        vec![ghes.clone()],
        vec![live_connection_on("c", &ghes).protected()],
    );
    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(actions(&p), [(Replace, Host, "ghes")]);
    assert_eq!(
        guards(&p),
        [
            (Guard::Protected, Some("c")),
            (Guard::HostInUse, Some("ghes"))
        ]
    );
}

#[test]
fn host_in_use_does_not_call_this_files_own_connections_unmanaged() {
    // "mine" is managed and named by the file (through host_arn), so it
    // stays; the refusal must not send the reader looking for another
    // stack's or nobody's connection.
    let old = live_host("old");
    let t = target(vec![], vec![connection_via_arn("mine", &old.arn)]);
    let live = snapshot(vec![old.clone()], vec![live_connection_on("mine", &old)]);
    let p = plan(&t, &live);
    let r = only_refusal(&p);
    assert_eq!(r.guard, Guard::HostInUse);
    assert!(
        !r.message.contains("this file does not manage"),
        "\"mine\" is managed by this file: {}",
        r.message
    );
    assert!(
        !r.hint.contains("belong to another stack or to nobody"),
        "\"mine\" belongs to this stack: {}",
        r.hint
    );
}

// ----------------------------------------------------------- safety limit

/// `n` managed live connections `c0..`, and a file keeping the first `keep`.
fn managed_fleet(n: usize, keep: usize) -> (crate::spec::Target, crate::live::Snapshot) {
    let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let t = target(
        vec![],
        names[..keep]
            .iter()
            .map(|n| connection(n, GitHub))
            .collect(),
    );
    let live = snapshot(
        vec![],
        names.iter().map(|n| live_connection(n, GitHub)).collect(),
    );
    (t, live)
}

fn too_much_change(p: &crate::plan::TargetPlan) -> bool {
    p.refusals.iter().any(|r| r.guard == Guard::TooMuchChange)
}

#[test]
fn deleting_exactly_the_limit_is_allowed_and_one_more_is_refused() {
    let (t, live) = managed_fleet(10, 7);
    let p = plan(&t, &live);
    assert_eq!(p.managed, 10);
    assert_eq!(p.changes.iter().filter(|c| c.action == Delete).count(), 3);
    assert!(
        p.refusals.is_empty(),
        "3 of 10 is 30%, not above it: {:#?}",
        p.refusals
    );

    let (t, live) = managed_fleet(10, 6);
    let p = plan(&t, &live);
    assert_eq!(
        p.changes.iter().filter(|c| c.action == Delete).count(),
        4,
        "a refused plan still lists its changes"
    );
    let r = only_refusal(&p);
    assert_eq!(
        (r.guard, r.kind, r.name.as_deref()),
        (Guard::TooMuchChange, None, None)
    );
    assert!(
        r.message.contains("4 of 10") && r.message.contains("40%"),
        "{}",
        r.message
    );
}

#[test]
fn below_the_minimum_of_managed_resources_everything_may_go() {
    let (t, live) = managed_fleet(9, 0);
    let p = plan(&t, &live);
    assert_eq!(p.changes.iter().filter(|c| c.action == Delete).count(), 9);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
}

#[test]
fn replacements_count_towards_the_limit() {
    let (mut t, live) = managed_fleet(10, 8);
    t.connections[0].source = crate::spec::ConnectionSource::Provider(GitLab);
    t.connections[1].source = crate::spec::ConnectionSource::Provider(Bitbucket);
    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(
        actions(&p),
        [
            (Replace, Conn, "c0"),
            (Replace, Conn, "c1"),
            (Delete, Conn, "c8"),
            (Delete, Conn, "c9")
        ]
    );
    assert_eq!(guards(&p), [(Guard::TooMuchChange, None)]);
}

#[test]
fn force_lifts_the_limit() {
    let (t, live) = managed_fleet(10, 0);
    let p = plan_with(
        &t,
        &live,
        Options {
            force: true,
            ..Options::default()
        },
    );
    assert_eq!(p.changes.len(), 10);
    assert!(p.refusals.is_empty(), "{:#?}", p.refusals);
}

#[test]
fn the_command_line_percent_overrides_the_file() {
    let (mut t, live) = managed_fleet(10, 5);
    t.safety = Safety {
        max_delete_percent: 50,
        min_managed: 10,
    };
    assert!(!too_much_change(&plan(&t, &live)), "the file allows 50%");

    let cli = |percent| Options {
        max_delete_percent: Some(percent),
        ..Options::default()
    };
    assert!(
        too_much_change(&plan_with(&t, &live, cli(40))),
        "the CLI's 40% wins"
    );
    let (t, live) = managed_fleet(10, 6);
    assert!(
        !too_much_change(&plan_with(&t, &live, cli(40))),
        "4 of 10 within 40%"
    );
}

#[test]
fn the_minimum_of_managed_resources_can_be_changed() {
    let (t, live) = managed_fleet(5, 0);
    assert!(!too_much_change(&plan(&t, &live)));
    let p = plan_with(
        &t,
        &live,
        Options {
            min_managed: Some(5),
            ..Options::default()
        },
    );
    assert!(too_much_change(&p));
}

// --------------------------------------------------------------- warnings

#[test]
fn every_create_and_replace_warns_and_nothing_else_does() {
    let ghes = live_host("ghes");
    let t = target(
        vec![host("new-host"), host("ghes").tag("env", "prod")],
        vec![
            connection("new-conn", GitHub),
            connection("moved", GitLab),
            connection("retagged", GitHub).tag("env", "prod"),
        ],
    );
    let live = snapshot(
        vec![ghes, live_host("dropped")],
        vec![
            live_connection("moved", GitHub),
            live_connection("retagged", GitHub),
            live_connection("gone", GitHub),
        ],
    );
    let p = plan_with(&t, &live, allow_replace());
    assert_eq!(
        actions(&p),
        [
            (Delete, Host, "dropped"),
            (Update, Host, "ghes"),
            (Create, Host, "new-host"),
            (Delete, Conn, "gone"),
            (Replace, Conn, "moved"),
            (Create, Conn, "new-conn"),
            (Update, Conn, "retagged"),
        ]
    );
    let mut warned: Vec<_> = p
        .warnings
        .iter()
        .map(|w| (w.kind, w.name.as_str()))
        .collect();
    warned.sort();
    assert_eq!(
        warned,
        [(Conn, "moved"), (Conn, "new-conn"), (Host, "new-host")]
    );
    for w in &p.warnings {
        assert!(w.warning.is_handshake(), "{w:?}");
        assert_eq!(w.target, LABEL);
    }
    let moved = p.warnings.iter().find(|w| w.name == "moved").unwrap();
    assert_eq!(
        moved.warning,
        WarningKind::NewArn {
            old: Some(connection_arn("moved"))
        },
        "a replacement names the ARN pipelines must stop using"
    );
}

// ---------------------------------------------- refusal message snapshots

#[test]
fn refusal_message_unmanaged_name() {
    let t = target(vec![], vec![connection("legacy-bitbucket", Bitbucket)]);
    let live = snapshot(
        vec![],
        vec![live_connection("legacy-bitbucket", Bitbucket).unmanaged()],
    );
    insta::assert_json_snapshot!(plan(&t, &live).refusals);
}

#[test]
fn refusal_message_host_in_use() {
    let old = live_host("ghes-old");
    let live = snapshot(
        vec![old.clone()],
        vec![live_connection_on("team-b-apps", &old).foreign()],
    );
    insta::assert_json_snapshot!(plan(&target(vec![], vec![]), &live).refusals);
}

#[test]
fn refusal_message_too_much_change_and_replace_not_allowed() {
    let (mut t, live) = managed_fleet(10, 7);
    t.connections[0].source = crate::spec::ConnectionSource::Provider(GitLab);
    let p = plan_with(
        &t,
        &live,
        Options {
            max_delete_percent: Some(20),
            ..Options::default()
        },
    );
    insta::assert_json_snapshot!(p.refusals);
}
