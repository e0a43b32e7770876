//! Desired state × live snapshot → changes and refusals. Pure: no client, no
//! clock, no environment, so it is tested case by case and by property.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::live::{Live, LiveConnection, LiveHost, Snapshot};
use crate::resource::{
    Kind, Ownership, PROTECT_TAG, STACK_TAG, Tags, arn, is_aws_tag, is_protected, ownership,
};
use crate::spec::Target;

use super::{
    Action, Change, Field, Reason, Refusal, State, TagChanges, TargetPlan, Warning, WarningKind,
};

mod connection;
mod host;

pub use host::kept_copy;
use host::{HostResolution, live_host_state};

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
    planner.check_in_use();
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

    /// Managed resources the file no longer names are deleted, unless
    /// protected.
    fn plan_deletes(&mut self) {
        let live = self.live;
        self.plan_deletes_of(&live.connections, |p, c| p.live_connection_state(c));
        self.plan_deletes_of(&live.hosts, |_, h| live_host_state(h));
    }

    /// The resources of one kind that carry the stack's tag and that the
    /// file no longer names: deleted, unless protected.
    fn plan_deletes_of<L: Live>(&mut self, live: &'a [L], state: impl Fn(&Self, &L) -> State) {
        let stack = self.stack();
        for resource in live {
            let (kind, name, arn) = (resource.kind(), resource.name(), resource.arn());
            if ownership(resource.tags(), stack) != Ownership::Managed
                || self.index.file_names(kind, name)
            {
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
            change.arn = Some(arn.to_owned());
            change.before = Some(state(self, resource));
            self.out.changes.push(change);
        }
    }

    /// Canonical ARNs of the live resources this plan deletes or replaces.
    fn leaving(&self) -> BTreeSet<String> {
        self.out
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Delete | Action::Replace))
            .filter_map(|c| c.arn.as_deref().map(arn::canonical))
            .collect()
    }

    /// A resource can only go once nothing that stays uses it (AWS refuses
    /// to delete a host that connections use), and nothing this plan
    /// creates may be made to use it.
    fn check_in_use(&mut self) {
        let leaving = self.leaving();
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
                .filter(|r| !leaving.contains(&arn::canonical(r.arn())))
                .map(|r| (r.name().to_owned(), r.arn().to_owned()))
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
/// uses.
fn reference_field(kind: Kind) -> Option<Field> {
    match kind {
        Kind::Connection => Some(Field::HostArn),
        Kind::Host => None,
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
