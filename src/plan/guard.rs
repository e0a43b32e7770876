//! Safety guards. A refusal is a value with a message and a way out, not a
//! stray error: the plan still shows everything else, and nothing is applied.

use serde::{Deserialize, Serialize};

use super::Field;
use crate::resource::{Kind, PROTECT_TAG, STACK_TAG};

/// Which guard refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// The file wants a name an unmanaged resource has, without `adopt: true`.
    UnmanagedName,
    /// The file wants a name another stack owns.
    ForeignOwner,
    /// Several live hosts have the wanted name.
    AmbiguousHost,
    /// A replacement without `--allow-replace`.
    ReplaceNotAllowed,
    /// A delete or replacement of a protected resource.
    Protected,
    /// More deletes and replacements than the safety limit allows.
    TooMuchChange,
    /// A host to delete or replace is used by connections that stay.
    HostInUse,
    /// A connection to delete is used by repository links that stay.
    ConnectionInUse,
    /// A repository link to delete or replace is used by sync
    /// configurations that stay.
    LinkInUse,
    /// `host_arn:` names a host the account does not have.
    HostNotFound,
    /// `connection_arn:` names a connection the account does not have.
    ConnectionNotFound,
    /// Several live links to the repository, none clearly the file's.
    AmbiguousLink,
    /// Someone else created the name between plan and apply.
    Collision,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub guard: Guard,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arns: Vec<String>,
    /// What is wrong, naming the resources involved.
    pub message: String,
    /// How to resolve it.
    pub hint: String,
}

impl Refusal {
    fn about(guard: Guard, target: &str, kind: Kind, name: &str, arns: Vec<String>) -> Refusal {
        Refusal {
            guard,
            target: target.to_owned(),
            kind: Some(kind),
            name: Some(name.to_owned()),
            arns,
            message: String::new(),
            hint: String::new(),
        }
    }

    fn says(mut self, message: String, hint: String) -> Refusal {
        self.message = message;
        self.hint = hint;
        self
    }

    pub fn unmanaged_name(target: &str, kind: Kind, name: &str, arn: &str) -> Refusal {
        Refusal::about(
            Guard::UnmanagedName,
            target,
            kind,
            name,
            vec![arn.to_owned()],
        )
        .says(
            format!("{kind} {name:?} already exists ({arn}) and is not managed by any stack"),
            format!(
                "to take it over, add `adopt: true` to {name:?} in the file; \
                 otherwise pick another name"
            ),
        )
    }

    pub fn foreign_owner(target: &str, kind: Kind, name: &str, arn: &str, owner: &str) -> Refusal {
        Refusal::about(
            Guard::ForeignOwner,
            target,
            kind,
            name,
            vec![arn.to_owned()],
        )
        .says(
            format!("{kind} {name:?} ({arn}) belongs to stack {owner:?} ({STACK_TAG}={owner})"),
            format!(
                "pick another name, or remove it from stack {owner:?}'s file and apply that \
                 first; this tool never touches another stack's resources"
            ),
        )
    }

    pub fn ambiguous_host(target: &str, name: &str, arns: Vec<String>) -> Refusal {
        let n = arns.len();
        let list = arns.join(", ");
        Refusal::about(Guard::AmbiguousHost, target, Kind::Host, name, arns).says(
            format!("{n} hosts in the account are named {name:?}: {list}"),
            "host names are not unique in AWS, and not every one of these belongs to this stack, \
             so the tool cannot tell which one the file means. Delete the hosts that are not the \
             file's (in the console, or `aws codestar-connections delete-host --host-arn ARN` \
             once no connection uses them), or give this host another name in the file (a host \
             cannot be renamed in AWS)"
                .to_owned(),
        )
    }

    /// `arn` is `None` for a sync configuration, which has none.
    pub fn replace_not_allowed(
        target: &str,
        kind: Kind,
        name: &str,
        arn: Option<&str>,
        fields: &[Field],
    ) -> Refusal {
        let fields: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
        let fields = fields.join(", ");
        let which = arn.map(|a| format!(" ({a})")).unwrap_or_default();
        Refusal::about(
            Guard::ReplaceNotAllowed,
            target,
            kind,
            name,
            arn.map(str::to_owned).into_iter().collect(),
        )
        .says(
            format!(
                "{kind} {name:?}{which} must be replaced because {fields} cannot change in place"
            ),
            match kind {
                Kind::Connection => {
                    "replacing a connection gives it a new ARN that starts PENDING: every pipeline \
                     using it breaks until someone completes the handshake in the console. If that \
                     is intended, run again with --allow-replace; otherwise restore the old value"
                }
                Kind::Host => {
                    "replacing a host deletes it and creates a new one (with a new ARN) that must be \
                     set up again in the console. If that is intended, run again with \
                     --allow-replace; otherwise restore the old value"
                }
                Kind::RepositoryLink => {
                    "a link's connection can change in place only to one of the same provider \
                     type: replacing the link deletes it (its sync configurations first) and \
                     creates it again, so syncs stop until it is back. If that is intended, run \
                     again with --allow-replace; otherwise point it at a connection of its \
                     provider"
                }
                Kind::SyncConfiguration => {
                    "its repository link is replaced, and AWS refuses to delete a link that sync \
                     configurations use: it is deleted before the link and created again after. \
                     If that is intended, run again with --allow-replace"
                }
            }
            .to_owned(),
        )
    }

    /// `arn` is `None` for a sync configuration, which is protected through
    /// its repository link.
    pub fn protected(
        target: &str,
        kind: Kind,
        name: &str,
        arn: Option<&str>,
        action: &str,
    ) -> Refusal {
        let arns = arn.map(str::to_owned).into_iter().collect();
        let Some(arn) = arn else {
            return Refusal::about(Guard::Protected, target, kind, name, arns).says(
                format!(
                    "{kind} {name:?} would be {action}, but its repository link is protected \
                     ({PROTECT_TAG}=true), and so are its sync configurations"
                ),
                "if it really must go, first apply the file with `protect: false` on its \
                 repository link, then make this change"
                    .to_owned(),
            );
        };
        Refusal::about(Guard::Protected, target, kind, name, arns).says(
            format!(
                "{kind} {name:?} ({arn}) is protected ({PROTECT_TAG}=true) and would be {action}"
            ),
            format!(
                "if it really must go, first apply the file with `protect: false` on {name:?} \
                 (that removes the protect tag), then make this change"
            ),
        )
    }

    pub fn too_much_change(
        target: &str,
        destructive: usize,
        managed: usize,
        limit: u32,
    ) -> Refusal {
        let percent = destructive * 100 / managed.max(1);
        Refusal {
            guard: Guard::TooMuchChange,
            target: target.to_owned(),
            kind: None,
            name: None,
            arns: Vec::new(),
            message: format!(
                "the plan deletes or replaces {destructive} of {managed} managed resources \
                 ({percent}%), above the safety limit of {limit}%"
            ),
            hint: "check that the file is the one you meant (a truncated or wrong file looks \
                   like this); if the change is intended, run again with --force, or raise \
                   `safety.max_delete_percent` in the file"
                .to_owned(),
        }
    }

    /// A resource to delete or replace that others that stay use.
    pub fn in_use(
        target: &str,
        kind: Kind,
        name: &str,
        arn: &str,
        users: &[(String, String)],
        action: &str,
    ) -> Refusal {
        let list = users
            .iter()
            .map(|(n, a)| {
                if a.is_empty() {
                    format!("{n:?}")
                } else {
                    format!("{n} ({a})")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        match kind {
            Kind::Host => Refusal::host_in_use(target, name, arn, users, action),
            Kind::Connection => {
                let mut arns = vec![arn.to_owned()];
                arns.extend(users.iter().map(|(_, a)| a.clone()));
                Refusal::about(Guard::ConnectionInUse, target, kind, name, arns).says(
                    format!(
                        "connection {name:?} ({arn}) would be {action}, but repository links \
                         that stay still use it: {list}"
                    ),
                    "a connection that repository links use cannot be deleted: point those \
                     links at another connection (`connection:` in this file, or in the file of \
                     the stack that owns them) or remove them, or keep the connection"
                        .to_owned(),
                )
            }
            Kind::RepositoryLink => {
                Refusal::about(Guard::LinkInUse, target, kind, name, vec![arn.to_owned()]).says(
                    format!(
                        "repository link {name:?} ({arn}) would be {action}, but sync \
                         configurations that stay still use it: {list}"
                    ),
                    "AWS refuses to delete a link that sync configurations use: move them to \
                     another repository link or remove them from the file, or keep the link"
                        .to_owned(),
                )
            }
            Kind::SyncConfiguration => unreachable!("nothing uses a sync configuration"),
        }
    }

    /// The plan would create resources (by ARN) on one it also deletes or
    /// replaces.
    pub fn gets_new_users(
        target: &str,
        kind: Kind,
        name: &str,
        arn: &str,
        newcomers: &[String],
        action: &str,
    ) -> Refusal {
        match kind {
            Kind::Host => Refusal::host_gets_new_connections(target, name, arn, newcomers, action),
            Kind::Connection => Refusal::about(
                Guard::ConnectionInUse,
                target,
                kind,
                name,
                vec![arn.to_owned()],
            )
            .says(
                format!(
                    "connection {name:?} ({arn}) would be {action}, but this plan creates \
                     repository links on it through connection_arn: {}",
                    newcomers.join(", ")
                ),
                "a link cannot be made through a connection that is going away: keep the \
                 connection in the file and name it with `connection: <name>`, or point the \
                 links at another connection"
                    .to_owned(),
            ),
            Kind::RepositoryLink | Kind::SyncConfiguration => {
                unreachable!("nothing names a link or sync configuration by ARN")
            }
        }
    }

    fn host_in_use(
        target: &str,
        name: &str,
        arn: &str,
        users: &[(String, String)],
        action: &str,
    ) -> Refusal {
        let list = users
            .iter()
            .map(|(n, a)| format!("{n} ({a})"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut arns = vec![arn.to_owned()];
        arns.extend(users.iter().map(|(_, a)| a.clone()));
        Refusal::about(Guard::HostInUse, target, Kind::Host, name, arns).says(
            format!(
                "host {name:?} ({arn}) would be {action}, but connections that stay still use it: \
                 {list}"
            ),
            "AWS refuses to delete a host while connections use it: delete those connections \
             or move them to another host first (in this file, or in the file of the stack \
             that owns them), or keep the host"
                .to_owned(),
        )
    }

    /// The plan would create connections (by `host_arn:`) on a host it also
    /// deletes or replaces.
    fn host_gets_new_connections(
        target: &str,
        name: &str,
        arn: &str,
        newcomers: &[String],
        action: &str,
    ) -> Refusal {
        Refusal::about(
            Guard::HostInUse,
            target,
            Kind::Host,
            name,
            vec![arn.to_owned()],
        )
        .says(
            format!(
                "host {name:?} ({arn}) would be {action}, but this plan creates connections on \
                 it through host_arn: {}",
                newcomers.join(", ")
            ),
            "a connection cannot be created on a host that is going away: keep the host in the \
             file and name it with `host: <name>`, or point the connections at another host"
                .to_owned(),
        )
    }

    pub fn host_not_found(target: &str, connection: &str, host_arn: &str) -> Refusal {
        Refusal::about(
            Guard::HostNotFound,
            target,
            Kind::Connection,
            connection,
            vec![host_arn.to_owned()],
        )
        .says(
            format!("connection {connection:?} uses host_arn {host_arn}, which this account and Region do not have"),
            "check the ARN (account, Region and suffix), or manage the host in this file and \
             use `host: <name>` instead"
                .to_owned(),
        )
    }

    pub fn connection_not_found(target: &str, link: &str, connection_arn: &str) -> Refusal {
        Refusal::about(
            Guard::ConnectionNotFound,
            target,
            Kind::RepositoryLink,
            link,
            vec![connection_arn.to_owned()],
        )
        .says(
            format!(
                "repository link {link:?} uses connection_arn {connection_arn}, which this account \
                 and Region do not have"
            ),
            "check the ARN (account, Region and id), or manage the connection in this file and \
             use `connection: <name>` instead"
                .to_owned(),
        )
    }

    pub fn ambiguous_link(target: &str, name: &str, arns: Vec<String>) -> Refusal {
        let list = arns.join(", ");
        Refusal::about(
            Guard::AmbiguousLink,
            target,
            Kind::RepositoryLink,
            name,
            arns,
        )
        .says(
            format!("several repository links in the account are to {name:?}: {list}"),
            "they go through connections of different providers, and the file's connection \
             does not say which it means (its provider is not known yet): apply its \
             connection first, or delete the link that is not the file's"
                .to_owned(),
        )
    }

    /// A sync configuration the file wants, on a link no stack owns.
    pub fn sync_on_unmanaged_link(
        target: &str,
        name: &str,
        repository: &str,
        link_arn: &str,
    ) -> Refusal {
        Refusal::about(
            Guard::UnmanagedName,
            target,
            Kind::SyncConfiguration,
            name,
            vec![link_arn.to_owned()],
        )
        .says(
            format!(
                "sync configuration {name:?} already exists, on repository link {repository:?} \
                 ({link_arn}), which no stack manages"
            ),
            format!(
                "to take it over, add the link {repository:?} to this file with `adopt: true` \
                 (its sync configurations come with it); otherwise leave it to whoever made it"
            ),
        )
    }

    /// A sync configuration the file wants, on another stack's link.
    pub fn sync_on_foreign_link(
        target: &str,
        name: &str,
        repository: &str,
        link_arn: &str,
        owner: &str,
    ) -> Refusal {
        Refusal::about(
            Guard::ForeignOwner,
            target,
            Kind::SyncConfiguration,
            name,
            vec![link_arn.to_owned()],
        )
        .says(
            format!(
                "sync configuration {name:?} belongs to stack {owner:?}: it is on their \
                 repository link {repository:?} ({link_arn})"
            ),
            format!(
                "a stack's resource_name is unique in the account: remove it from stack \
                 {owner:?}'s file and apply that first; this tool never touches another stack's \
                 resources"
            ),
        )
    }

    pub fn collision(
        target: &str,
        kind: Kind,
        name: &str,
        arn: &str,
        owner: Option<&str>,
    ) -> Refusal {
        let (owned_by, hint) = match owner {
            Some(stack) => (
                format!("stack {stack:?}"),
                format!(
                    "stack {stack:?} now owns the name and this tool never takes another stack's \
                     resources: pick another name for it in this file, or agree with the owner of \
                     stack {stack:?} which file keeps it"
                ),
            ),
            None => (
                "no stack (unmanaged)".to_owned(),
                format!(
                    "run plan again and decide: take it over with `adopt: true` on {name:?}, or \
                     pick another name"
                ),
            ),
        };
        Refusal::about(Guard::Collision, target, kind, name, vec![arn.to_owned()]).says(
            format!(
                "{kind} {name:?} was created by someone else after the plan was made ({arn}, \
                 owned by {owned_by}); it was not created again"
            ),
            hint,
        )
    }
}
