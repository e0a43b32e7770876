//! Hosts: planned against the live hosts of the same name (names are not
//! unique: several copies this stack owns are resolved to one, the others
//! deleted), and resolved for the connections that name them.

use super::{Planner, Resolution};
use crate::live::{LiveConnection, LiveHost};
use crate::plan::{Action, Field, Reason, Refusal, State, VpcState, Warning, WarningKind};
use crate::resource::{Kind, Ownership, Tags, arn, ownership};
use crate::spec;

use super::{desired_tags, tag_changes};

impl<'a> Planner<'a> {
    pub(super) fn plan_host(&mut self, host: &'a spec::Host) {
        let same_name = self
            .index
            .hosts_by_name
            .get(host.name.as_str())
            .cloned()
            .unwrap_or_default();
        let resolution = match same_name.as_slice() {
            [] => {
                let mut change =
                    self.change(Action::Create, Kind::Host, &host.name, Reason::Missing);
                change.after = Some(desired_host_state(host, self.stack(), None));
                self.out.changes.push(change);
                Resolution::New
            }
            [live] => self.plan_existing_host(host, live),
            // Host names are not unique: two applies of this stack at once
            // can each create one. Every copy is ours, so keep one by a
            // rule every run agrees on, and let the others go.
            many if many
                .iter()
                .all(|h| ownership(&h.tags, self.stack()) == Ownership::Managed) =>
            {
                let kept = kept_copy(many, &self.live.connections);
                let others = many
                    .iter()
                    .copied()
                    .filter(|h| !std::ptr::eq(*h, kept))
                    .collect();
                self.copies.push((kept, others));
                self.plan_existing_host(host, kept)
            }
            many => {
                let arns = many.iter().map(|l| l.arn.clone()).collect();
                self.refuse(Refusal::ambiguous_host(self.label, &host.name, arns));
                Resolution::Unresolved
            }
        };
        self.hosts.insert(&host.name, resolution);
    }

    fn plan_existing_host(&mut self, host: &spec::Host, live: &'a LiveHost) -> Resolution<'a> {
        let Some(adopting) = self.claim(Kind::Host, &host.name, &live.arn, &live.tags, host.adopt)
        else {
            return Resolution::Unresolved;
        };
        // Most hosts match their file: recognise the plain ones (no VPC to
        // compare) before building states that copy every field and tag.
        let unchanged = !adopting
            && live.provider_type == host.provider_type.as_str()
            && live.provider_endpoint == host.provider_endpoint
            && live.vpc.is_none()
            && host.vpc.is_none()
            && tag_changes(
                &desired_tags(&host.tags, self.stack(), host.protect, Some(&live.tags)),
                &live.tags,
            )
            .is_empty();
        if unchanged {
            return Resolution::Existing(&live.arn);
        }
        let before = live_host_state(live);
        let after = desired_host_state(host, self.stack(), Some(&live.tags));
        let mut change = self.change(
            Action::Update,
            Kind::Host,
            &host.name,
            Reason::CannotChangeInPlace,
        );
        change.arn = Some(live.arn.clone());

        let mut fields = Vec::new();
        if live.provider_type != host.provider_type.as_str() {
            fields.push(Field::ProviderType);
        }
        // UpdateHost treats an absent VpcConfiguration as "unchanged", so a
        // VPC can be changed in place but never removed.
        if live.vpc.is_some() && host.vpc.is_none() {
            fields.push(Field::Vpc);
        }
        if !fields.is_empty() {
            change.replace_fields = fields;
            change.before = Some(before);
            change.after = Some(after);
            return if self.replace(change, &live.tags, host.protect == Some(true)) {
                Resolution::Replaced
            } else {
                Resolution::Unresolved
            };
        }

        let mut fields = Vec::new();
        if live.provider_endpoint != host.provider_endpoint {
            fields.push(Field::ProviderEndpoint);
        }
        if before.vpc() != after.vpc() {
            fields.push(Field::Vpc);
        }
        change.tags = tag_changes(&after.tags, &live.tags);
        if !change.tags.is_empty() {
            fields.push(Field::Tags);
        }
        change.before = Some(before);
        change.after = Some(after);
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

    /// The extra copies of a host of the file are deleted once no connection
    /// that stays uses them. Not counted against the safety limit, and not
    /// held back by protection: the file's host (the kept copy) stays.
    pub(super) fn plan_extra_copies(&mut self) {
        let leaving = self.leaving();
        let mut changes = Vec::new();
        let mut warnings = Vec::new();
        for (kept, others) in &self.copies {
            for other in others {
                let users: Vec<&str> = self
                    .live
                    .connections
                    .iter()
                    .filter(|c| {
                        c.host_arn
                            .as_deref()
                            .is_some_and(|a| arn::same(a, &other.arn))
                    })
                    .filter(|c| !leaving.contains(&arn::canonical(&c.arn)))
                    .map(|c| c.name.as_str())
                    .collect();
                if users.is_empty() {
                    let reason = Reason::ExtraCopy {
                        kept: kept.arn.clone(),
                    };
                    let mut change = self.change(Action::Delete, Kind::Host, &other.name, reason);
                    change.arn = Some(other.arn.clone());
                    change.before = Some(live_host_state(other));
                    changes.push(change);
                } else {
                    warnings.push(Warning {
                        target: self.label.to_owned(),
                        kind: Kind::Host,
                        name: other.name.clone(),
                        warning: WarningKind::ExtraCopyInUse {
                            copy: other.arn.clone(),
                            kept: kept.arn.clone(),
                            users: users.iter().map(|u| (*u).to_owned()).collect(),
                        },
                    });
                }
            }
        }
        self.out.changes.extend(changes);
        self.out.warnings.extend(warnings);
    }
}

/// Of several live hosts of one name that one stack owns, the copy to keep,
/// by a rule every run reading the same account agrees on: the copy used by
/// the first connection (by name) that uses any of them, because connection
/// names are unique and the first create of a name wins; else an AVAILABLE
/// copy (someone finished its set-up); else the lowest ARN.
pub fn kept_copy<'a>(copies: &[&'a LiveHost], connections: &[LiveConnection]) -> &'a LiveHost {
    let used = connections
        .iter()
        .filter_map(|c| {
            let host = c.host_arn.as_deref()?;
            let copy = copies.iter().find(|h| arn::same(&h.arn, host))?;
            Some((c.name.as_str(), *copy))
        })
        .min_by(|a, b| a.0.cmp(b.0))
        .map(|(_, copy)| copy);
    let lowest = |available: bool| {
        copies
            .iter()
            .copied()
            .filter(|h| !available || h.status == "AVAILABLE")
            .min_by(|a, b| arn::canonical(&a.arn).cmp(&arn::canonical(&b.arn)))
    };
    used.or_else(|| lowest(true))
        .or_else(|| lowest(false))
        .expect("there are several copies")
}

pub(super) fn live_host_state(live: &LiveHost) -> State {
    State::tagged(live.tags.clone())
        .with(Field::ProviderType, Some(&live.provider_type))
        .with(Field::ProviderEndpoint, Some(&live.provider_endpoint))
        .with_vpc(live.vpc.as_ref().map(VpcState::from_vpc))
        .with_status(&live.status)
}

fn desired_host_state(host: &spec::Host, stack: &str, live_tags: Option<&Tags>) -> State {
    State::tagged(desired_tags(&host.tags, stack, host.protect, live_tags))
        .with(Field::ProviderType, Some(host.provider_type.as_str()))
        .with(Field::ProviderEndpoint, Some(&host.provider_endpoint))
        .with_vpc(host.vpc.as_ref().map(VpcState::from_vpc))
}
