//! Desired state × live snapshot → changes and refusals. Pure: no client, no
//! clock, no environment, so it is tested case by case and by property.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::live::{LiveConnection, LiveHost, Ownership, Snapshot, is_protected, ownership};
use crate::resource::{Kind, PROTECT_TAG, STACK_TAG, Tags, arn, is_aws_tag};
use crate::spec::{self, ConnectionSource, Target};

use super::{
    Action, Change, Field, Reason, Refusal, State, TagChanges, TargetPlan, VpcState, Warning,
    WarningKind,
};

/// Choices made on the command line that change what a plan may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Options {
    /// Allow replacements (delete then create, new ARN).
    pub allow_replace: bool,
    /// Allow more deletes and replacements than the safety limit.
    pub force: bool,
    /// Overrides the file's `safety.max_delete_percent`.
    pub max_delete_percent: Option<u32>,
    /// Overrides the file's `safety.min_managed`.
    pub min_managed: Option<usize>,
}

/// How a host of the file resolves for the connections that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostResolution {
    /// The live host with this ARN is the one.
    Existing(String),
    /// Created (or re-created) by this plan: its ARN is known only at apply.
    New,
    /// Refused; connections naming it are left out (the refusal says why).
    Unresolved,
}

/// Plan one target. `label` names it in changes and refusals.
pub fn plan_target(target: &Target, live: &Snapshot, label: &str, opts: &Options) -> TargetPlan {
    let mut planner = Planner {
        target,
        live,
        label,
        opts,
        out: TargetPlan {
            managed: live.managed_by(&target.stack),
            ..TargetPlan::default()
        },
        hosts: BTreeMap::new(),
        copies: Vec::new(),
        index: Index::new(target, live),
    };
    for host in &target.hosts {
        planner.plan_host(host);
    }
    for connection in &target.connections {
        planner.plan_connection(connection);
    }
    planner.plan_deletes();
    planner.plan_extra_copies();
    planner.check_hosts_in_use();
    planner.check_safety_limit();
    planner
        .out
        .changes
        .sort_by(|a, b| (a.kind != Kind::Host, &a.name).cmp(&(b.kind != Kind::Host, &b.name)));
    planner.warn_pending();

    planner.out
}

struct Planner<'a> {
    target: &'a Target,
    live: &'a Snapshot,
    label: &'a str,
    opts: &'a Options,
    out: TargetPlan,
    hosts: BTreeMap<&'a str, HostResolution>,
    /// Hosts of the file with several live copies owned by this stack: the
    /// copy kept, and the others.
    copies: Vec<(&'a LiveHost, Vec<&'a LiveHost>)>,
    index: Index<'a>,
}

/// The lookups the planner makes for every resource, built once per target
/// so that planning stays linear in the size of the fleet.
struct Index<'a> {
    /// The first live connection of each name (the service keeps them
    /// unique).
    connections_by_name: HashMap<&'a str, &'a LiveConnection>,
    /// Live hosts of each name, in snapshot order: host names may repeat.
    hosts_by_name: HashMap<&'a str, Vec<&'a LiveHost>>,
    hosts_by_arn: HashMap<arn::Key<'a>, &'a LiveHost>,
    /// Names the file declares, by kind.
    file_connections: HashSet<&'a str>,
    file_hosts: HashSet<&'a str>,
}

impl<'a> Index<'a> {
    fn new(target: &'a Target, live: &'a Snapshot) -> Index<'a> {
        let mut connections_by_name = HashMap::new();
        for c in &live.connections {
            connections_by_name.entry(c.name.as_str()).or_insert(c);
        }
        let mut hosts_by_name: HashMap<&str, Vec<&LiveHost>> = HashMap::new();
        for h in &live.hosts {
            hosts_by_name.entry(h.name.as_str()).or_default().push(h);
        }
        Index {
            connections_by_name,
            hosts_by_name,
            hosts_by_arn: live.hosts.iter().map(|h| (arn::key(&h.arn), h)).collect(),
            file_connections: target.connections.iter().map(|c| c.name.as_str()).collect(),
            file_hosts: target.hosts.iter().map(|h| h.name.as_str()).collect(),
        }
    }

    fn host(&self, host_arn: &str) -> Option<&'a LiveHost> {
        self.hosts_by_arn.get(&arn::key(host_arn)).copied()
    }

    fn file_names(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Connection => self.file_connections.contains(name),
            Kind::Host => self.file_hosts.contains(name),
        }
    }
}

impl<'a> Planner<'a> {
    fn stack(&self) -> &'a str {
        &self.target.stack
    }

    fn refuse(&mut self, refusal: Refusal) {
        self.out.refusals.push(refusal);
    }

    fn change(&self, action: Action, kind: Kind, name: &str, reason: Reason) -> Change {
        Change {
            action,
            kind,
            name: name.to_owned(),
            target: self.label.to_owned(),
            arn: None,
            reason,
            replace_fields: Vec::new(),
            before: None,
            after: None,
            tags: TagChanges::default(),
        }
    }

    /// Whether the file's resource may be reconciled against `tags`' owner;
    /// refuses (and returns `None`) for foreign resources and unadopted
    /// unmanaged ones. `Some(true)` means it is being adopted.
    fn claim(
        &mut self,
        kind: Kind,
        name: &str,
        arn: &str,
        tags: &Tags,
        adopt: bool,
    ) -> Option<bool> {
        match ownership(tags, self.stack()) {
            Ownership::Managed => Some(false),
            Ownership::Unmanaged if adopt => Some(true),
            Ownership::Unmanaged => {
                self.refuse(Refusal::unmanaged_name(self.label, kind, name, arn));
                None
            }
            Ownership::Foreign(owner) => {
                self.refuse(Refusal::foreign_owner(self.label, kind, name, arn, &owner));
                None
            }
        }
    }

    /// A replacement if the guards allow it, else the refusals that stop it.
    /// Returns whether the replacement is planned.
    fn replace(&mut self, mut change: Change, live_tags: &Tags, wants_protect: bool) -> bool {
        let arn = change.arn.clone().unwrap_or_default();
        if is_protected(live_tags) || wants_protect {
            self.refuse(Refusal::protected(
                self.label,
                change.kind,
                &change.name,
                &arn,
                "replaced",
            ));
            return false;
        }
        if !self.opts.allow_replace {
            self.refuse(Refusal::replace_not_allowed(
                self.label,
                change.kind,
                &change.name,
                &arn,
                &change.replace_fields,
            ));
            return false;
        }
        change.action = Action::Replace;
        self.out.changes.push(change);
        true
    }

    fn plan_host(&mut self, host: &'a spec::Host) {
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
                HostResolution::New
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
                HostResolution::Unresolved
            }
        };
        self.hosts.insert(&host.name, resolution);
    }

    fn plan_existing_host(&mut self, host: &spec::Host, live: &LiveHost) -> HostResolution {
        let Some(adopting) = self.claim(Kind::Host, &host.name, &live.arn, &live.tags, host.adopt)
        else {
            return HostResolution::Unresolved;
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
            return HostResolution::Existing(live.arn.clone());
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
                HostResolution::New
            } else {
                HostResolution::Unresolved
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
        HostResolution::Existing(live.arn.clone())
    }

    fn plan_connection(&mut self, connection: &'a spec::Connection) {
        let wanted = match &connection.source {
            ConnectionSource::Provider(p) => Wanted {
                provider_type: Some(p.as_str().to_owned()),
                host_name: None,
                host_arn: None,
                new_host: false,
            },
            ConnectionSource::Host(name) => match self.hosts.get(name.as_str()) {
                Some(HostResolution::Existing(arn)) => Wanted {
                    provider_type: self.host_provider(arn),
                    host_name: Some(name.clone()),
                    host_arn: Some(arn.clone()),
                    new_host: false,
                },
                Some(HostResolution::New) => Wanted {
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
                Some(HostResolution::Unresolved) | None => return,
            },
            ConnectionSource::HostArn(host_arn) => {
                let Some(host) = self.index.host(host_arn) else {
                    self.refuse(Refusal::host_not_found(
                        self.label,
                        &connection.name,
                        host_arn,
                    ));
                    return;
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
            return;
        };
        let Some(adopting) = self.claim(
            Kind::Connection,
            &connection.name,
            &live.arn,
            &live.tags,
            connection.adopt,
        ) else {
            return;
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
            return;
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
            self.replace(change, &live.tags, connection.protect == Some(true));
            return;
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
    }

    fn host_provider(&self, host_arn: &str) -> Option<String> {
        self.index.host(host_arn).map(|h| h.provider_type.clone())
    }

    fn live_connection_state(&self, live: &LiveConnection) -> State {
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

    /// Managed resources the file no longer names are deleted, unless
    /// protected.
    fn plan_deletes(&mut self) {
        let stack = self.stack();
        let gone = |kind: Kind, name: &str, tags: &Tags| {
            ownership(tags, stack) == Ownership::Managed && !self.index.file_names(kind, name)
        };
        let connections = self
            .live
            .connections
            .iter()
            .filter(|live| gone(Kind::Connection, &live.name, &live.tags))
            .map(|live| {
                (
                    Kind::Connection,
                    &live.name,
                    &live.arn,
                    &live.tags,
                    self.live_connection_state(live),
                )
            });
        let hosts = self
            .live
            .hosts
            .iter()
            .filter(|live| gone(Kind::Host, &live.name, &live.tags))
            .map(|live| {
                (
                    Kind::Host,
                    &live.name,
                    &live.arn,
                    &live.tags,
                    live_host_state(live),
                )
            });
        let gone: Vec<_> = connections.chain(hosts).collect();
        for (kind, name, arn, tags, before) in gone {
            if is_protected(tags) {
                self.refuse(Refusal::protected(self.label, kind, name, arn, "deleted"));
                continue;
            }
            let reason = Reason::NotInFile {
                stack: stack.to_owned(),
            };
            let mut change = self.change(Action::Delete, kind, name, reason);
            change.arn = Some(arn.clone());
            change.before = Some(before);
            self.out.changes.push(change);
        }
    }

    /// The extra copies of a host of the file are deleted once no connection
    /// that stays uses them. Not counted against the safety limit, and not
    /// held back by protection: the file's host (the kept copy) stays.
    fn plan_extra_copies(&mut self) {
        let leaving = self.leaving_connections();
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

    /// Canonical ARNs of the live connections this plan deletes or replaces.
    fn leaving_connections(&self) -> BTreeSet<String> {
        self.out
            .changes
            .iter()
            .filter(|c| {
                c.kind == Kind::Connection && matches!(c.action, Action::Delete | Action::Replace)
            })
            .filter_map(|c| c.arn.as_deref().map(arn::canonical))
            .collect()
    }

    /// A host can only go once no remaining connection uses it.
    fn check_hosts_in_use(&mut self) {
        let leaving = self.leaving_connections();
        let mut refusals = Vec::new();
        for change in &self.out.changes {
            if change.kind != Kind::Host
                || !matches!(change.action, Action::Delete | Action::Replace)
            {
                continue;
            }
            let host_arn = change.arn.as_deref().unwrap_or_default();
            let users: Vec<(String, String)> = self
                .live
                .connections
                .iter()
                .filter(|c| {
                    c.host_arn
                        .as_deref()
                        .is_some_and(|a| arn::same(a, host_arn))
                })
                .filter(|c| !leaving.contains(&arn::canonical(&c.arn)))
                .map(|c| (c.name.clone(), c.arn.clone()))
                .collect();
            let action = if change.action == Action::Delete {
                "deleted"
            } else {
                "replaced"
            };
            if !users.is_empty() {
                refusals.push(Refusal::host_in_use(
                    self.label,
                    &change.name,
                    host_arn,
                    &users,
                    action,
                ));
            }
            // Connections this plan creates (or re-creates) on the host by
            // `host_arn:` would use it too, and are not in the snapshot.
            let newcomers: Vec<String> = self
                .out
                .changes
                .iter()
                .filter(|c| {
                    c.kind == Kind::Connection
                        && matches!(c.action, Action::Create | Action::Replace)
                        && c.after
                            .as_ref()
                            .and_then(|a| a.text(Field::HostArn))
                            .is_some_and(|a| arn::same(a, host_arn))
                })
                .map(|c| format!("{:?}", c.name))
                .collect();
            if !newcomers.is_empty() {
                refusals.push(Refusal::host_gets_new_connections(
                    self.label,
                    &change.name,
                    host_arn,
                    &newcomers,
                    action,
                ));
            }
        }
        self.out.refusals.extend(refusals);
    }

    fn check_safety_limit(&mut self) {
        let limit = self
            .opts
            .max_delete_percent
            .unwrap_or(self.target.safety.max_delete_percent);
        let floor = self
            .opts
            .min_managed
            .unwrap_or(self.target.safety.min_managed);
        let managed = self.out.managed;
        let destructive = self
            .out
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Delete | Action::Replace))
            .filter(|c| !matches!(c.reason, Reason::ExtraCopy { .. }))
            .count();
        if !self.opts.force
            && managed >= floor
            && managed > 0
            && destructive * 100 > limit as usize * managed
        {
            self.refuse(Refusal::too_much_change(
                self.label,
                destructive,
                managed,
                limit,
            ));
        }
    }

    fn warn_pending(&mut self) {
        let mut warnings = Vec::new();
        for change in &self.out.changes {
            let warning = match (change.kind, change.action) {
                (Kind::Connection, Action::Create) => WarningKind::PendingHandshake,
                (Kind::Connection, Action::Replace) => WarningKind::NewArn {
                    old: change.arn.clone(),
                },
                (Kind::Host, Action::Create | Action::Replace) => WarningKind::HostSetUp,
                _ => continue,
            };
            warnings.push(Warning {
                target: change.target.clone(),
                kind: change.kind,
                name: change.name.clone(),
                warning,
            });
        }
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

/// The full tag set a resource should carry: its own tags (default tags
/// already merged by the loader) plus the ownership tags. With `protect`
/// unset, whatever protect tag the live resource has is kept.
pub(crate) fn desired_tags(
    own: &Tags,
    stack: &str,
    protect: Option<bool>,
    live: Option<&Tags>,
) -> Tags {
    let mut tags = own.clone();
    tags.insert(STACK_TAG.to_owned(), stack.to_owned());
    match protect {
        Some(true) => {
            tags.insert(PROTECT_TAG.to_owned(), "true".to_owned());
        }
        Some(false) => {}
        None => {
            if let Some(value) = live.and_then(|l| l.get(PROTECT_TAG)) {
                tags.insert(PROTECT_TAG.to_owned(), value.clone());
            }
        }
    }
    tags
}

/// Which keys to add, change and remove to turn `live` into `desired`.
/// AWS's `aws:` tags are never touched.
pub(crate) fn tag_changes(desired: &Tags, live: &Tags) -> TagChanges {
    let mut changes = TagChanges::default();
    for (key, value) in desired.iter().filter(|(k, _)| !is_aws_tag(k)) {
        match live.get(key) {
            None => {
                changes.add.insert(key.clone(), value.clone());
            }
            Some(old) if old != value => {
                changes.change.insert(key.clone(), value.clone());
            }
            Some(_) => {}
        }
    }
    changes.remove = live
        .keys()
        .filter(|k| !is_aws_tag(k) && !desired.contains_key(*k))
        .cloned()
        .collect();
    changes
}

fn live_host_state(live: &LiveHost) -> State {
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
