//! Connections: planned against the live connection of the same name
//! (names are unique), through a cloud provider, a host of the file, or a
//! host managed elsewhere (`host_arn:`).

use super::{Planner, Resolution};
use crate::live::LiveConnection;
use crate::plan::{Action, Field, Reason, Refusal, State};
use crate::resource::{Kind, Tags, arn};
use crate::spec::{self, ConnectionSource};

use super::{desired_tags, tag_changes};

impl<'a> Planner<'a> {
    pub(super) fn plan_connection(&mut self, connection: &'a spec::Connection) {
        let resolution = self.resolve_connection(connection);
        // Only links name connections: a fleet without them keeps no map.
        if !self.target.repository_links.is_empty() {
            self.connections.insert(&connection.name, resolution);
        }
    }

    /// Plan one connection of the file; how it resolves for the links that
    /// name it.
    fn resolve_connection(&mut self, connection: &'a spec::Connection) -> Resolution<'a> {
        let wanted = match &connection.source {
            ConnectionSource::Provider(p) => Wanted {
                provider_type: Some(p.as_str().to_owned()),
                host_name: None,
                host_arn: None,
                new_host: false,
            },
            ConnectionSource::Host(name) => match self.hosts.get(name.as_str()) {
                Some(Resolution::Existing(arn)) => Wanted {
                    provider_type: self.host_provider(arn),
                    host_name: Some(name.clone()),
                    host_arn: Some((*arn).to_owned()),
                    new_host: false,
                },
                Some(Resolution::New | Resolution::Replaced) => Wanted {
                    provider_type: self
                        .target
                        .hosts
                        .iter()
                        .find(|h| &h.name == name)
                        .map(|h| h.provider_type.as_str().to_owned()),
                    host_name: Some(name.clone()),
                    host_arn: None,
                    new_host: true,
                },
                // The host's own refusal explains; a connection to an unknown
                // host cannot be planned.
                Some(Resolution::Unresolved) | None => return Resolution::Unresolved,
            },
            ConnectionSource::HostArn(host_arn) => {
                let Some(host) = self.index.host(host_arn) else {
                    self.refuse(Refusal::host_not_found(
                        self.label,
                        &connection.name,
                        host_arn,
                    ));
                    return Resolution::Unresolved;
                };
                Wanted {
                    provider_type: Some(host.provider_type.clone()),
                    host_name: None,
                    host_arn: Some(host_arn.clone()),
                    new_host: false,
                }
            }
        };

        let Some(live) = self
            .index
            .connections_by_name
            .get(connection.name.as_str())
            .copied()
        else {
            let mut change = self.change(
                Action::Create,
                Kind::Connection,
                &connection.name,
                Reason::Missing,
            );
            change.after = Some(wanted.state(desired_tags(
                &connection.tags,
                self.stack(),
                connection.protect,
                None,
            )));
            self.out.changes.push(change);
            return Resolution::New;
        };
        let Some(adopting) = self.claim(
            Kind::Connection,
            &connection.name,
            &live.arn,
            &live.tags,
            connection.adopt,
        ) else {
            return Resolution::Unresolved;
        };

        let mut fields = Vec::new();
        if let Some(p) = &wanted.provider_type
            && &live.provider_type != p
        {
            fields.push(Field::ProviderType);
        }
        let host_field = match connection.source {
            ConnectionSource::HostArn(_) => Field::HostArn,
            _ => Field::Host,
        };
        let same_host = match (&live.host_arn, &wanted.host_arn) {
            (None, None) => true,
            (Some(a), Some(b)) => arn::same(a, b),
            _ => false,
        };
        // A host created anew by this plan has no ARN yet: never the same.
        if wanted.new_host || !same_host {
            fields.push(host_field);
        }
        let desired = desired_tags(
            &connection.tags,
            self.stack(),
            connection.protect,
            Some(&live.tags),
        );
        let tags = tag_changes(&desired, &live.tags);
        // Most of a fleet matches its file: decide that before building the
        // change, whose states copy every field and tag.
        if fields.is_empty() && tags.is_empty() && !adopting {
            return Resolution::Existing(&live.arn);
        }
        let mut change = self.change(
            Action::Update,
            Kind::Connection,
            &connection.name,
            Reason::CannotChangeInPlace,
        );
        change.arn = Some(live.arn.clone());
        change.before = Some(self.live_connection_state(live));
        change.after = Some(wanted.state(desired));

        if !fields.is_empty() {
            change.replace_fields = fields;
            return if self.replace(change, &live.tags, connection.protect == Some(true)) {
                Resolution::Replaced
            } else {
                Resolution::Unresolved
            };
        }
        change.tags = tags;
        let fields = if change.tags.is_empty() {
            Vec::new()
        } else {
            vec![Field::Tags]
        };
        if adopting {
            change.action = Action::Adopt;
            change.reason = Reason::Adopt { fields };
            self.out.changes.push(change);
        } else if !fields.is_empty() {
            change.reason = Reason::Differs { fields };
            self.out.changes.push(change);
        }
        Resolution::Existing(&live.arn)
    }

    /// The provider type a connection of the file will have.
    pub(super) fn connection_provider(&self, connection: &spec::Connection) -> Option<String> {
        match &connection.source {
            ConnectionSource::Provider(p) => Some(p.as_str().to_owned()),
            ConnectionSource::Host(name) => self
                .target
                .hosts
                .iter()
                .find(|h| &h.name == name)
                .map(|h| h.provider_type.as_str().to_owned()),
            ConnectionSource::HostArn(arn) => self.host_provider(arn),
        }
    }

    fn host_provider(&self, host_arn: &str) -> Option<String> {
        self.index.host(host_arn).map(|h| h.provider_type.clone())
    }

    pub(super) fn live_connection_state(&self, live: &LiveConnection) -> State {
        State::tagged(live.tags.clone())
            .with(Field::ProviderType, Some(&live.provider_type))
            .with(
                Field::Host,
                live.host_arn
                    .as_deref()
                    .and_then(|a| self.index.host(a))
                    .map(|h| &h.name),
            )
            .with(Field::HostArn, live.host_arn.as_ref())
            .with_status(&live.status)
    }
}

/// What a connection of the file points at, resolved against the snapshot.
struct Wanted {
    provider_type: Option<String>,
    host_name: Option<String>,
    host_arn: Option<String>,
    /// Its host is created or replaced by this same plan.
    new_host: bool,
}

impl Wanted {
    fn state(&self, tags: Tags) -> State {
        State::tagged(tags)
            .with(Field::ProviderType, self.provider_type.as_ref())
            .with(Field::Host, self.host_name.as_ref())
            .with(Field::HostArn, self.host_arn.as_ref())
    }
}
