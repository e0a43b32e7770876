//! Desired state × live snapshot → changes and refusals. Pure: no client, no
//! clock, no environment, so it is tested case by case and by property.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::live::{Live, LiveConnection, LiveHost, LiveLink, LiveSync, Snapshot, identity};
use crate::resource::{
    Kind, Ownership, PROTECT_TAG, STACK_TAG, Tags, arn, is_aws_tag, is_protected, ownership,
};
use crate::spec::Target;

use super::{
    Action, Change, Field, Reason, Refusal, State, TagChanges, TargetPlan, Warning, WarningKind,
};

mod connection;
mod host;
mod link;
mod sync;

pub use host::kept_copy;
use host::live_host_state;
pub(crate) use sync::link_id_of;

/// How a resource of the file resolves for the resources that name it (a
/// host for its connections, a connection for its links, a link for its
/// sync configurations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Resolution<'a> {
    /// The live resource with this ARN is the one.
    Existing(&'a str),
    /// Created by this plan: its ARN is known only at apply.
    New,
    /// Replaced by this plan (deleted first, then created): its ARN is
    /// known only at apply, and what uses the old one must let go of it
    /// first.
    Replaced,
    /// Refused; what names it is left out (the refusal says why).
    Unresolved,
}

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
        connections: BTreeMap::new(),
        links: BTreeMap::new(),
        adopted_links: BTreeSet::new(),
        copies: Vec::new(),
        index: Index::new(target, live),
    };
    for host in &target.hosts {
        planner.plan_host(host);
    }
    for connection in &target.connections {
        planner.plan_connection(connection);
    }
    for link in &target.repository_links {
        planner.plan_link(link);
    }
    for sync in &target.sync_configurations {
        planner.plan_sync(sync);
    }
    planner.plan_deletes();
    planner.plan_extra_copies();
    planner.check_in_use();
    planner.check_safety_limit();
    planner
        .out
        .changes
        .sort_by(|a, b| (a.kind.rank(), &a.name).cmp(&(b.kind.rank(), &b.name)));
    planner.warn_pending();

    planner.out
}

struct Planner<'a> {
    target: &'a Target,
    live: &'a Snapshot,
    label: &'a str,
    opts: &'a Options,
    out: TargetPlan,
    /// How each resource of the file resolved, by name, for what names it.
    hosts: BTreeMap<&'a str, Resolution<'a>>,
    connections: BTreeMap<&'a str, Resolution<'a>>,
    links: BTreeMap<String, Resolution<'a>>,
    /// Canonical ARNs of the unmanaged links this plan adopts: their sync
    /// configurations come along.
    adopted_links: BTreeSet<String>,
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
    connections_by_arn: HashMap<arn::Key<'a>, &'a LiveConnection>,
    /// Live links of each `owner/name`: two providers may each have one.
    links_by_name: HashMap<&'a str, Vec<&'a LiveLink>>,
    /// Live sync configurations by stack name and sync type.
    syncs_by_key: HashMap<(&'a str, &'a str), &'a LiveSync>,
    /// Names the file declares, by kind.
    file_connections: HashSet<&'a str>,
    file_hosts: HashSet<&'a str>,
    file_links: HashSet<String>,
    file_syncs: HashSet<&'a str>,
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
        let mut links_by_name: HashMap<&str, Vec<&LiveLink>> = HashMap::new();
        for l in &live.links {
            links_by_name.entry(l.name.as_str()).or_default().push(l);
        }
        Index {
            connections_by_name,
            hosts_by_name,
            hosts_by_arn: live.hosts.iter().map(|h| (arn::key(&h.arn), h)).collect(),
            // Only links name connections by ARN.
            connections_by_arn: if live.links.is_empty() && target.repository_links.is_empty() {
                HashMap::new()
            } else {
                live.connections
                    .iter()
                    .map(|c| (arn::key(&c.arn), c))
                    .collect()
            },
            links_by_name,
            syncs_by_key: live
                .syncs
                .iter()
                .map(|s| ((s.resource_name.as_str(), s.sync_type.as_str()), s))
                .collect(),
            file_connections: target.connections.iter().map(|c| c.name.as_str()).collect(),
            file_hosts: target.hosts.iter().map(|h| h.name.as_str()).collect(),
            file_links: target.repository_links.iter().map(|l| l.name()).collect(),
            file_syncs: target
                .sync_configurations
                .iter()
                .map(|s| s.resource_name.as_str())
                .collect(),
        }
    }

    fn host(&self, host_arn: &str) -> Option<&'a LiveHost> {
        self.hosts_by_arn.get(&arn::key(host_arn)).copied()
    }

    fn connection(&self, connection_arn: &str) -> Option<&'a LiveConnection> {
        self.connections_by_arn
            .get(&arn::key(connection_arn))
            .copied()
    }

    fn file_names(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Connection => self.file_connections.contains(name),
            Kind::Host => self.file_hosts.contains(name),
            Kind::RepositoryLink => self.file_links.contains(name),
            Kind::SyncConfiguration => self.file_syncs.contains(name),
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
        let arn = change.arn.clone();
        if is_protected(live_tags) || wants_protect {
            self.refuse(Refusal::protected(
                self.label,
                change.kind,
                &change.name,
                arn.as_deref(),
                "replaced",
            ));
            return false;
        }
        if !self.opts.allow_replace {
            self.refuse(Refusal::replace_not_allowed(
                self.label,
                change.kind,
                &change.name,
                arn.as_deref(),
                &change.replace_fields,
            ));
            return false;
        }
        change.action = Action::Replace;
        self.out.changes.push(change);
        true
    }

    /// Managed resources the file no longer names are deleted, unless
    /// protected.
    fn plan_deletes(&mut self) {
        let live = self.live;
        self.plan_deletes_of(&live.connections, |p, c| p.live_connection_state(c));
        self.plan_deletes_of(&live.hosts, |_, h| live_host_state(h));
        self.plan_deletes_of(&live.links, |p, l| p.live_link_state(l));
        self.plan_deletes_of(&live.syncs, |_, s| sync::live_sync_state(s));
    }

    /// Whether the stack owns `resource` once this plan is applied: it
    /// carries the stack's tag, or is a sync configuration on a link the
    /// plan adopts.
    fn owned_after(&self, resource: &dyn Live) -> bool {
        ownership(resource.tags(), self.stack()) == Ownership::Managed
            || (resource.kind() == Kind::SyncConfiguration
                && resource
                    .uses()
                    .is_some_and(|link| self.adopted_links.contains(&arn::canonical(link))))
    }

    /// The resources of one kind that the stack owns and that the file no
    /// longer names: deleted, unless protected.
    fn plan_deletes_of<L: Live>(&mut self, live: &'a [L], state: impl Fn(&Self, &L) -> State) {
        let stack = self.stack();
        for resource in live {
            let (kind, name, arn) = (resource.kind(), resource.name(), resource.arn());
            if !self.owned_after(resource) || self.index.file_names(kind, name) {
                continue;
            }
            if is_protected(resource.tags()) {
                self.refuse(Refusal::protected(self.label, kind, name, arn, "deleted"));
                continue;
            }
            let reason = Reason::NotInFile {
                stack: stack.to_owned(),
            };
            let mut change = self.change(Action::Delete, kind, name, reason);
            change.arn = arn.map(str::to_owned);
            change.before = Some(state(self, resource));
            self.out.changes.push(change);
        }
    }

    /// Identities (see [`identity`]) of the live resources this plan
    /// deletes or replaces.
    fn leaving(&self) -> BTreeSet<String> {
        self.changed(&[Action::Delete, Action::Replace])
    }

    /// Identities of the live resources of the plan's changes of `actions`.
    fn changed(&self, actions: &[Action]) -> BTreeSet<String> {
        self.out
            .changes
            .iter()
            .filter(|c| actions.contains(&c.action))
            .map(|c| identity(c.kind, &c.name, c.arn.as_deref()))
            .collect()
    }

    /// A resource can only go once nothing that stays uses it (AWS refuses
    /// to delete a host that connections use, a connection that links use,
    /// a link that sync configurations use), and nothing this plan creates
    /// may be made to use it. Users this plan points elsewhere let go in
    /// time for a delete, which apply does last.
    fn check_in_use(&mut self) {
        let leaving = self.leaving();
        let repointed: BTreeSet<String> = self
            .out
            .changes
            .iter()
            .filter(|c| {
                matches!(c.action, Action::Update | Action::Adopt)
                    && matches!(&c.reason, Reason::Differs { fields } | Reason::Adopt { fields }
                        if fields.iter().any(|f| points_at(c.kind).contains(f)))
            })
            .map(|c| identity(c.kind, &c.name, c.arn.as_deref()))
            .collect();
        let mut refusals = Vec::new();
        for change in &self.out.changes {
            if !matches!(change.action, Action::Delete | Action::Replace) {
                continue;
            }
            let Some(used) = change.arn.as_deref() else {
                continue;
            };
            let users: Vec<(String, String)> = self
                .live
                .resources()
                .filter(|r| r.uses().is_some_and(|a| arn::same(a, used)))
                .filter(|r| {
                    let id = identity(r.kind(), r.name(), r.arn());
                    // Apply re-points users before its final deletes; a
                    // replacement deletes first, before anything could be
                    // re-pointed (AWS refuses to delete a host, connection
                    // or link that others use), so its users must leave.
                    let lets_go = change.action == Action::Delete && repointed.contains(&id);
                    !leaving.contains(&id) && !lets_go
                })
                .map(|r| (r.name().to_owned(), r.arn().unwrap_or_default().to_owned()))
                .collect();
            let action = if change.action == Action::Delete {
                "deleted"
            } else {
                "replaced"
            };
            if !users.is_empty() {
                refusals.push(Refusal::in_use(
                    self.label,
                    change.kind,
                    &change.name,
                    used,
                    &users,
                    action,
                ));
            }
            // What this plan creates (or re-creates) on it by ARN would use
            // it too, and is not in the snapshot.
            let newcomers: Vec<String> = self
                .out
                .changes
                .iter()
                .filter(|c| matches!(c.action, Action::Create | Action::Replace))
                .filter(|c| {
                    let field = reference_field(c.kind);
                    c.after
                        .as_ref()
                        .and_then(|a| field.and_then(|f| a.text(f)))
                        .is_some_and(|a| arn::same(a, used))
                })
                .map(|c| format!("{:?}", c.name))
                .collect();
            if !newcomers.is_empty() {
                refusals.push(Refusal::gets_new_users(
                    self.label,
                    change.kind,
                    &change.name,
                    used,
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

/// The field by which a resource of `kind` names, by ARN, the resource it
/// uses (sync configurations name their link only by repository, a link of
/// the file).
fn reference_field(kind: Kind) -> Option<Field> {
    match kind {
        Kind::Connection => Some(Field::HostArn),
        Kind::RepositoryLink => Some(Field::ConnectionArn),
        Kind::Host | Kind::SyncConfiguration => None,
    }
}

/// The fields by which a resource of `kind` names the resource it uses,
/// either way.
fn points_at(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::Connection => &[Field::Host, Field::HostArn],
        Kind::RepositoryLink => &[Field::Connection, Field::ConnectionArn],
        Kind::SyncConfiguration => &[Field::Repository],
        Kind::Host => &[],
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
