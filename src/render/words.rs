//! The words for typed data: a change's reason, a warning, the field
//! differences drift reports. Every view (text, markdown, JSON, drift)
//! takes its sentences from here, so they never disagree.

use crate::plan::{Action, Change, Field, Reason, State, Warning, WarningKind};
use crate::resource::Kind;

/// Why a change is planned, in a sentence.
pub(crate) fn reason(change: &Change) -> String {
    match &change.reason {
        Reason::Missing => "not in the account".to_owned(),
        Reason::Differs { fields } => {
            let names: Vec<&str> = fields.iter().map(|f| field_name(*f)).collect();
            let verb = if fields.len() == 1 && *fields != [Field::Tags] {
                "differs"
            } else {
                "differ"
            };
            format!("{} {verb} from the file", names.join(", "))
        }
        Reason::CannotChangeInPlace => cannot_change(change),
        Reason::Adopt { fields } => {
            let mut text =
                "exists unmanaged and the file says `adopt: true`: the stack tag is added"
                    .to_owned();
            let rest: Vec<&str> = fields
                .iter()
                .filter(|f| **f != Field::Tags)
                .map(|f| field_name(*f))
                .collect();
            if !rest.is_empty() {
                text.push_str(&format!("; {} also updated", rest.join(", ")));
            }
            text
        }
        Reason::NotInFile { stack } => {
            format!("managed by stack {stack:?} but no longer in the file")
        }
        Reason::ExtraCopy { kept } => format!(
            "a second host named {:?} owned by this stack (overlapping applies can each create \
             one); {kept} is kept",
            change.name
        ),
    }
}

/// How a field is named in sentences.
fn field_name(field: Field) -> &'static str {
    match field {
        Field::Vpc => "VPC configuration",
        other => other.as_str(),
    }
}

/// Why a replacement is needed: each field that cannot change in place,
/// old → new.
fn cannot_change(change: &Change) -> String {
    let empty = State::default();
    let before = change.before.as_ref().unwrap_or(&empty);
    let after = change.after.as_ref().unwrap_or(&empty);
    let show = |v: Option<&str>| v.unwrap_or("(none)").to_owned();
    let mut why = Vec::new();
    for field in &change.replace_fields {
        match (change.kind, field) {
            (_, Field::Host | Field::HostArn) => {
                match (after.text(Field::HostArn), after.text(Field::Host)) {
                    (None, Some(host)) => {
                        why.push(format!("its host {host:?} is created anew by this plan"));
                    }
                    (new_arn, new_name) => why.push(format!(
                        "host {} → {}",
                        show(before.text(Field::HostArn)),
                        show(new_arn.or(new_name))
                    )),
                }
            }
            (Kind::Host, Field::Vpc) => {
                why.push("a host's VPC configuration cannot be removed in place".to_owned());
            }
            (Kind::Host, other) => why.push(format!(
                "{} cannot change in place ({} → {})",
                other.as_str(),
                show(before.text(*other)),
                show(after.text(*other))
            )),
            (Kind::SyncConfiguration, Field::Repository) => why.push(format!(
                "its repository link {} is replaced by this plan",
                show(after.text(Field::Repository))
            )),
            (Kind::Connection | Kind::RepositoryLink | Kind::SyncConfiguration, other) => {
                why.push(format!(
                    "{} {} → {}",
                    other.as_str(),
                    show(before.text(*other)),
                    show(after.text(*other))
                ))
            }
        }
    }
    match change.kind {
        Kind::Connection => format!(
            "a connection's provider and host cannot change in place: {}",
            why.join("; ")
        ),
        Kind::RepositoryLink => format!(
            "a link's connection can change in place only to one of the same provider: {}",
            why.join("; ")
        ),
        Kind::Host | Kind::SyncConfiguration => why.join("; "),
    }
}

/// What a reviewer must know, in a sentence (without the resource's name).
pub(crate) fn warning(w: &Warning) -> String {
    match &w.warning {
        WarningKind::PendingHandshake => {
            "will be PENDING until someone completes the provider handshake in the AWS console \
             (Developer Tools > Settings > Connections > Update pending connection)"
                .to_owned()
        }
        WarningKind::NewArn { old } => format!(
            "gets a new ARN and will be PENDING until someone completes the handshake in the AWS \
             console; every pipeline using {} breaks until it uses the new ARN",
            old.as_deref().unwrap_or("the old ARN")
        ),
        WarningKind::HostSetUp => {
            "will be PENDING until someone completes its setup in the AWS console (Developer \
             Tools > Settings > Connections > Hosts > Set up host)"
                .to_owned()
        }
        WarningKind::Orphan { account, arn } => format!(
            "is this stack's{} in account {account}, which the fleet no longer targets: nothing \
             manages it now. To delete it, add the account to targets.retired_accounts and \
             apply; to keep managing it, add the account back to targets",
            arn.as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        ),
        WarningKind::ExtraCopyInUse { copy, kept, users } => format!(
            "{copy} is a second copy of this host (the file's is {kept}); it stays while \
             connections use it: {}",
            users.join(", ")
        ),
    }
}

/// Field by field: what the account has → what the file says.
pub(crate) fn differences(change: &Change) -> Vec<String> {
    let empty = State::default();
    let before = change.before.as_ref().unwrap_or(&empty);
    let after = change.after.as_ref().unwrap_or(&empty);
    let mut out = Vec::new();
    let show = |v: Option<&str>| v.unwrap_or("(none)").to_owned();
    let host_moves = change
        .replace_fields
        .iter()
        .any(|f| matches!(f, Field::Host | Field::HostArn));
    let connection_moves = before.text(Field::ConnectionArn).is_some()
        && match (
            after.text(Field::ConnectionArn),
            before.text(Field::ConnectionArn),
        ) {
            (Some(new), Some(old)) => !crate::resource::arn::same(new, old),
            _ => true,
        };
    let mut fields: Vec<Field> = before
        .fields
        .keys()
        .chain(after.fields.keys())
        .copied()
        .collect();
    fields.sort();
    fields.dedup();
    for field in fields {
        let (old, new) = (before.fields.get(&field), after.fields.get(&field));
        match field {
            // A connection's host shows by name where there is one, once.
            Field::Host if host_moves => out.push(format!(
                "host {} → {}",
                show(before.text(Field::Host).or(before.text(Field::HostArn))),
                show(after.text(Field::Host).or(after.text(Field::HostArn)))
            )),
            Field::Host | Field::HostArn => {}
            // A link's connection, likewise.
            Field::Connection if connection_moves => out.push(format!(
                "connection {} → {}",
                show(
                    before
                        .text(Field::Connection)
                        .or(before.text(Field::ConnectionArn))
                ),
                show(
                    after
                        .text(Field::Connection)
                        .or(after.text(Field::ConnectionArn))
                )
            )),
            Field::ConnectionArn
                if connection_moves
                    && before.text(Field::Connection).is_none()
                    && after.text(Field::Connection).is_none() =>
            {
                out.push(format!(
                    "connection {} → {}",
                    show(before.text(Field::ConnectionArn)),
                    show(after.text(Field::ConnectionArn))
                ))
            }
            Field::Connection | Field::ConnectionArn => {}
            // A sync configuration's link shows by repository.
            Field::RepositoryLinkId => {}
            Field::Vpc if old != new => out.push("VPC configuration differs".to_owned()),
            _ if old != new && new.is_some() => out.push(format!(
                "{} {} → {}",
                field.as_str(),
                show(before.text(field)),
                show(after.text(field))
            )),
            _ => {}
        }
    }
    for (k, v) in &change.tags.add {
        out.push(format!("tag {k} missing (file: {v:?})"));
    }
    for (k, v) in &change.tags.change {
        let old = before.tags.get(k).cloned().unwrap_or_default();
        out.push(format!("tag {k} is {old:?} (file: {v:?})"));
    }
    for k in &change.tags.remove {
        out.push(format!(
            "tag {k} not in the file (value {:?})",
            before.tags.get(k).cloned().unwrap_or_default()
        ));
    }
    out
}

/// What the action does to the resource, as a past participle for sentences
/// like "will be replaced".
pub(crate) fn action_outcome(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated in place",
        Action::Replace => "replaced (deleted, then created with a new ARN)",
        Action::Delete => "deleted",
        Action::Adopt => "adopted (taken over by this stack)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveHost;
    use crate::plan::tests::builders::*;
    use crate::resource::ProviderType::{GitHub, GitLab, GitLabSelfManaged};

    fn only(plan: &crate::plan::TargetPlan) -> &Change {
        only_change(plan)
    }

    #[test]
    fn reasons_name_the_fields_and_their_old_and_new_values() {
        let t = target(vec![], vec![connection("c", GitLab)]);
        let p = plan_with(
            &t,
            &snapshot(vec![], vec![live_connection("c", GitHub)]),
            allow_replace(),
        );
        assert_eq!(
            reason(only(&p)),
            "a connection's provider and host cannot change in place: provider_type GitHub → GitLab"
        );

        let t = target(
            vec![crate::spec::Host {
                provider_type: GitLabSelfManaged,
                ..host("ghes")
            }],
            vec![],
        );
        let p = plan_with(
            &t,
            &snapshot(vec![live_host("ghes")], vec![]),
            allow_replace(),
        );
        assert_eq!(
            reason(only(&p)),
            "provider_type cannot change in place (GitHubEnterpriseServer → GitLabSelfManaged)"
        );
    }

    #[test]
    fn one_field_differs_and_several_differ() {
        let t = target(vec![host("ghes")], vec![]);
        let moved = LiveHost {
            provider_endpoint: "https://old.example.com".to_owned(),
            ..live_host("ghes")
        };
        let p = plan(&t, &snapshot(vec![moved.clone()], vec![]));
        assert_eq!(reason(only(&p)), "provider_endpoint differs from the file");
        let p = plan(&t, &snapshot(vec![moved.tag("env", "x")], vec![]));
        assert_eq!(
            reason(only(&p)),
            "provider_endpoint, tags differ from the file"
        );
    }

    #[test]
    fn a_connection_on_a_host_created_anew_says_so() {
        let gone = live_host("gone").foreign();
        let t = target(vec![host("ghes")], vec![connection_via_host("c", "ghes")]);
        let live = snapshot(vec![], vec![live_connection_on("c", &gone)]);
        let p = plan_with(&t, &live, allow_replace());
        assert!(
            reason(&p.changes[1]).ends_with("its host \"ghes\" is created anew by this plan"),
            "{}",
            reason(&p.changes[1])
        );
    }

    #[test]
    fn an_adoption_says_what_else_is_updated() {
        let t = target(vec![host("h").adopt()], vec![]);
        let live = LiveHost {
            provider_endpoint: "https://old.example.com".to_owned(),
            ..live_host("h").unmanaged()
        };
        let p = plan(&t, &snapshot(vec![live], vec![]));
        assert_eq!(
            reason(only(&p)),
            "exists unmanaged and the file says `adopt: true`: the stack tag is added; \
             provider_endpoint also updated"
        );
    }
}
