//! Repository links: planned against the live link to the same repository
//! (`owner/name`) through the file's connection. The connection and the
//! KMS key change in place (UpdateRepositoryLink), as long as the new
//! connection has the link's provider type; another provider is a new link.
//! So is a link whose connection this plan replaces: AWS refuses to delete
//! a connection that links use, and the new one (same name) cannot be made
//! before the old one is gone, so the link cannot be moved over in between.

use super::{Planner, Resolution, desired_tags, tag_changes};
use crate::live::LiveLink;
use crate::plan::{Action, Field, Reason, Refusal, State};
use crate::resource::{Kind, Tags, arn};
use crate::spec::{self, LinkConnection};

/// The connection a link of the file wants, resolved against the plan.
struct Wanted {
    /// A connection of the file, by name.
    name: Option<String>,
    /// Its ARN, when it exists and stays.
    arn: Option<String>,
    provider_type: Option<String>,
    /// Created or replaced by this plan: its ARN is known only at apply.
    new: bool,
    /// Replaced by this plan: what uses the old one must go first.
    replaced: bool,
}

impl Wanted {
    fn state(&self, key: Option<&String>, tags: Tags) -> State {
        State::tagged(tags)
            .with(Field::ProviderType, self.provider_type.as_ref())
            .with(Field::Connection, self.name.as_ref())
            .with(Field::ConnectionArn, self.arn.as_ref())
            .with(Field::EncryptionKeyArn, key)
    }
}

impl<'a> Planner<'a> {
    pub(super) fn plan_link(&mut self, link: &'a spec::RepositoryLink) {
        let resolution = self.resolve_link(link);
        self.links.insert(link.name(), resolution);
    }

    fn resolve_link(&mut self, link: &'a spec::RepositoryLink) -> Resolution<'a> {
        let name = link.name();
        let wanted = match &link.connection {
            LinkConnection::Name(connection) => {
                let provider_type = self
                    .target
                    .connections
                    .iter()
                    .find(|c| &c.name == connection)
                    .and_then(|c| self.connection_provider(c));
                match self.connections.get(connection.as_str()) {
                    Some(Resolution::Existing(arn)) => Wanted {
                        name: Some(connection.clone()),
                        arn: Some((*arn).to_owned()),
                        provider_type,
                        new: false,
                        replaced: false,
                    },
                    Some(resolution @ (Resolution::New | Resolution::Replaced)) => Wanted {
                        name: Some(connection.clone()),
                        arn: None,
                        provider_type,
                        new: true,
                        replaced: *resolution == Resolution::Replaced,
                    },
                    // The connection's own refusal explains.
                    Some(Resolution::Unresolved) | None => return Resolution::Unresolved,
                }
            }
            LinkConnection::Arn(connection_arn) => {
                let Some(live) = self.index.connection(connection_arn) else {
                    self.refuse(Refusal::connection_not_found(
                        self.label,
                        &name,
                        connection_arn,
                    ));
                    return Resolution::Unresolved;
                };
                Wanted {
                    name: None,
                    arn: Some(connection_arn.clone()),
                    provider_type: Some(live.provider_type.clone()),
                    new: false,
                    replaced: false,
                }
            }
        };

        let same_name = self
            .index
            .links_by_name
            .get(name.as_str())
            .cloned()
            .unwrap_or_default();
        // Two providers can each have a repository of one owner and name:
        // the link through the wanted provider is the one.
        let candidates: Vec<&LiveLink> = match (&wanted.provider_type, same_name.len()) {
            (Some(p), 2..) => same_name
                .iter()
                .copied()
                .filter(|l| &l.provider_type == p)
                .collect(),
            _ => same_name,
        };
        let live = match candidates.as_slice() {
            [] => {
                let mut change =
                    self.change(Action::Create, Kind::RepositoryLink, &name, Reason::Missing);
                change.after = Some(wanted.state(
                    link.encryption_key_arn.as_ref(),
                    desired_tags(&link.tags, self.stack(), link.protect, None),
                ));
                self.out.changes.push(change);
                return Resolution::New;
            }
            [live] => *live,
            many => {
                let arns = many.iter().map(|l| l.arn.clone()).collect();
                self.refuse(Refusal::ambiguous_link(self.label, &name, arns));
                return Resolution::Unresolved;
            }
        };
        let Some(adopting) = self.claim(
            Kind::RepositoryLink,
            &name,
            &live.arn,
            &live.tags,
            link.adopt,
        ) else {
            return Resolution::Unresolved;
        };
        self.adopted_links
            .extend(adopting.then(|| arn::canonical(&live.arn)));

        let desired = desired_tags(&link.tags, self.stack(), link.protect, Some(&live.tags));
        let tags = tag_changes(&desired, &live.tags);
        let same_connection = !wanted.new
            && wanted
                .arn
                .as_deref()
                .is_some_and(|a| arn::same(a, &live.connection_arn));
        // Left out of the file, the key stays as it is.
        let same_key = link
            .encryption_key_arn
            .as_ref()
            .is_none_or(|k| live.encryption_key_arn.as_ref() == Some(k));
        if same_connection && same_key && tags.is_empty() && !adopting {
            return Resolution::Existing(&live.arn);
        }
        let mut change = self.change(
            Action::Update,
            Kind::RepositoryLink,
            &name,
            Reason::CannotChangeInPlace,
        );
        change.arn = Some(live.arn.clone());
        change.before = Some(self.live_link_state(live));
        let key = link
            .encryption_key_arn
            .as_ref()
            .or(live.encryption_key_arn.as_ref());
        change.after = Some(wanted.state(key, desired));

        // UpdateRepositoryLink takes a connection of the link's provider
        // type only; and a link cannot outlive its connection's replacement.
        let other_provider = wanted
            .provider_type
            .as_ref()
            .is_some_and(|p| *p != live.provider_type);
        // The link uses the very connection this plan replaces.
        let connection_replaced = wanted.replaced
            && wanted
                .name
                .as_deref()
                .and_then(|n| self.index.connections_by_name.get(n))
                .is_some_and(|c| arn::same(&c.arn, &live.connection_arn));
        if other_provider || connection_replaced {
            change.replace_fields = if other_provider {
                vec![Field::ProviderType]
            } else {
                vec![Field::Connection]
            };
            return if self.replace(change, &live.tags, link.protect == Some(true)) {
                Resolution::Replaced
            } else {
                Resolution::Unresolved
            };
        }
        let mut fields = Vec::new();
        if !same_connection {
            fields.push(if wanted.name.is_some() {
                Field::Connection
            } else {
                Field::ConnectionArn
            });
        }
        if !same_key {
            fields.push(Field::EncryptionKeyArn);
        }
        change.tags = tags;
        if !change.tags.is_empty() {
            fields.push(Field::Tags);
        }
        if adopting {
            change.action = Action::Adopt;
            change.reason = Reason::Adopt { fields };
        } else {
            change.reason = Reason::Differs { fields };
        }
        self.out.changes.push(change);
        Resolution::Existing(&live.arn)
    }

    pub(super) fn live_link_state(&self, live: &LiveLink) -> State {
        State::tagged(live.tags.clone())
            .with(Field::ProviderType, Some(&live.provider_type))
            .with(
                Field::Connection,
                self.index
                    .connection(&live.connection_arn)
                    .filter(|c| self.index.file_names(Kind::Connection, &c.name))
                    .map(|c| &c.name),
            )
            .with(Field::ConnectionArn, Some(&live.connection_arn))
            .with(Field::EncryptionKeyArn, live.encryption_key_arn.as_ref())
    }
}
