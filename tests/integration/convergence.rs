//! Convergence, as a property: random desired files × random pre-existing
//! accounts (managed, protected, foreign, unmanaged) × random emulator
//! faults. After at most 3 applies the plan is empty, and the promises of
//! [`crate::invariants`] hold.
//!
//! Each case runs three emulators over one state file: a clean one to seed
//! the account, a faulty one for the applies, and a clean one again to check
//! the result, so the checks never race an injected fault.
//!
//! Which inputs converge and which are refused is decided here, explicitly:
//! [`build`] only makes accounts every apply can converge on, and a case may
//! add one [`Conflict`], a documented refusal, which the test expects, then
//! resolves the way the refusal's hint says before applying.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use codestar_reconcile::emulator::Config;
use codestar_reconcile::resource::{Kind, Tags};
use proptest::prelude::*;
use proptest::sample::select;

use crate::cli::{Workdir, json, run};
use crate::invariants::{
    apply_until_converged, assert_plan_empty, assert_promises_kept, read, read_on,
};
use crate::scenario::{
    APPLY, Connection, Desired, Flags, Host, Link, Owner, Seed, Source, Sync, tags,
};
use crate::support::Sandbox;

const HOST_NAMES: [&str; 4] = ["ghes-a", "ghes-b", "gitlab-c", "gitlab-d"];
const CONNECTION_NAMES: [&str; 6] = ["app", "web", "api", "ops", "docs", "data"];
const CLOUD: [&str; 3] = ["GitHub", "GitLab", "Bitbucket"];
const LINK_REPOS: [&str; 3] = ["my-org/app", "my-org/web", "grp/sub/ops"];
const SYNC_NAMES: [&str; 4] = ["app-prod", "app-dev", "web-prod", "ops-prod"];

/// How a resource the file could name is already in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pre {
    Absent,
    /// Managed by this stack, maybe with other tags or endpoint.
    Managed,
    /// Managed by this stack and protected.
    Protected,
    /// Unmanaged; the file (if it names it) says `adopt: true`.
    Adopted,
    /// Managed, but a connection with another provider or host, so the file
    /// replaces it.
    Stale,
}

#[derive(Debug, Clone)]
struct HostSlot {
    in_file: bool,
    gitlab: bool,
    /// The seeded copy has another endpoint (an in-place update).
    moved: bool,
    tags: Tags,
    seed_tags: Tags,
    protect: Option<bool>,
    pre: Pre,
}

#[derive(Debug, Clone)]
struct ConnectionSlot {
    in_file: bool,
    /// 0-2: a cloud provider; 3-6: a host of [`HOST_NAMES`].
    source: usize,
    tags: Tags,
    seed_tags: Tags,
    protect: Option<bool>,
    pre: Pre,
}

#[derive(Debug, Clone)]
struct LinkSlot {
    in_file: bool,
    /// The connection of [`CONNECTION_NAMES`] it goes through (the file's
    /// first connection when that one is not in the file).
    connection: usize,
    tags: Tags,
    seed_tags: Tags,
    protect: Option<bool>,
    pre: Pre,
}

#[derive(Debug, Clone)]
struct SyncSlot {
    in_file: bool,
    /// The link of [`LINK_REPOS`] it is on.
    link: usize,
    /// Already in the account (on the same link).
    seeded: bool,
    /// The account's is on another branch (an in-place update).
    moved: bool,
}

/// Resources of other owners the file never names.
#[derive(Debug, Clone)]
struct Others {
    foreign_connections: usize,
    /// A foreign host with a foreign connection on it.
    foreign_host: bool,
    unmanaged_connections: usize,
    /// Two unmanaged hosts sharing a name: already-duplicate names must stay
    /// as they are, and are no excuse for the tool to make more.
    unmanaged_twins: bool,
    /// A link and a sync configuration of another stack.
    foreign_link: bool,
}

/// One documented refusal a case may add (resource names outside the
/// pools, so nothing else in the case depends on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conflict {
    /// The file wants a host name another stack owns.
    ForeignHost,
    /// The file wants an unmanaged connection's name without `adopt: true`.
    UnmanagedConnection,
    /// A protected connection of this stack is no longer in the file.
    ProtectedDropped,
    /// The file wants a host name two unmanaged hosts share.
    AmbiguousHost,
    /// A connection of this stack the file drops, that another stack's
    /// link uses.
    ConnectionUsedByLink,
}

impl Conflict {
    /// The guard the plan must name, and the resource.
    fn refusal(self) -> (&'static str, &'static str) {
        match self {
            Conflict::ForeignHost => ("foreign_owner", "shared-ghes"),
            Conflict::UnmanagedConnection => ("unmanaged_name", "legacy"),
            Conflict::ProtectedDropped => ("protected", "keep-me"),
            Conflict::AmbiguousHost => ("ambiguous_host", "dup-ghes"),
            Conflict::ConnectionUsedByLink => ("connection_in_use", "linked"),
        }
    }

    /// Add the conflicting file entry and account resources.
    fn add(self, desired: &mut Desired, seed: &mut Seed) {
        match self {
            Conflict::ForeignHost => {
                let host = ghes("shared-ghes");
                seed.hosts.push((host.clone(), Owner::Foreign));
                desired.hosts.push((host, Flags::default()));
            }
            Conflict::UnmanagedConnection => {
                let connection = cloud("legacy", "GitHub");
                seed.connections
                    .push((connection.clone(), Owner::Unmanaged));
                desired.connections.push((connection, Flags::default()));
            }
            Conflict::ProtectedDropped => {
                seed.connections
                    .push((cloud("keep-me", "GitLab"), Owner::Protected));
            }
            Conflict::AmbiguousHost => {
                let host = ghes("dup-ghes");
                seed.hosts.push((host.clone(), Owner::Unmanaged));
                seed.hosts.push((host.clone(), Owner::Unmanaged));
                let adopt = Flags {
                    adopt: true,
                    ..Flags::default()
                };
                desired.hosts.push((host, adopt));
            }
            Conflict::ConnectionUsedByLink => {
                seed.connections
                    .push((cloud("linked", "GitHub"), Owner::Managed));
                seed.links.push((
                    Link {
                        repository: "them/linked".to_owned(),
                        connection: "linked".to_owned(),
                        tags: Tags::new(),
                    },
                    Owner::Foreign,
                ));
            }
        }
    }

    /// Change the file the way the refusal's hint says.
    fn resolve(self, desired: &mut Desired) {
        match self {
            Conflict::ForeignHost => desired.remove(Kind::Host, "shared-ghes"),
            Conflict::UnmanagedConnection => {
                let entry = desired
                    .connections
                    .iter_mut()
                    .find(|(c, _)| c.name == "legacy")
                    .expect("the conflict added it");
                entry.1.adopt = true;
            }
            Conflict::ProtectedDropped => desired
                .connections
                .push((cloud("keep-me", "GitLab"), Flags::default())),
            Conflict::AmbiguousHost => desired.remove(Kind::Host, "dup-ghes"),
            // "keep the connection"
            Conflict::ConnectionUsedByLink => desired
                .connections
                .push((cloud("linked", "GitHub"), Flags::default())),
        }
    }
}

#[derive(Debug, Clone)]
struct Faults {
    error_rate: f64,
    lost_response_rate: f64,
    throttle_rps: Option<u32>,
    seed: u64,
}

#[derive(Debug, Clone)]
struct Case {
    desired: Desired,
    seed: Seed,
    conflict: Option<Conflict>,
    faults: Faults,
}

fn ghes(name: &str) -> Host {
    Host {
        name: name.to_owned(),
        provider: "GitHubEnterpriseServer",
        endpoint: format!("https://{name}.example.com"),
        tags: Tags::new(),
    }
}

fn cloud(name: &str, provider: &'static str) -> Connection {
    Connection {
        name: name.to_owned(),
        source: Source::Provider(provider),
        tags: Tags::new(),
    }
}

/// The desired file and the account for a case's slots: the rules that keep
/// every generated case convergent live here.
fn build(
    hosts: &[HostSlot],
    connections: &[ConnectionSlot],
    links: &[LinkSlot],
    syncs: &[SyncSlot],
    others: &Others,
) -> (Desired, Seed) {
    let mut desired = Desired::default();
    let mut seed = Seed::default();

    // Hosts are never replaced here (their provider type is never changed):
    // a replaced host cascades into replacing its connections, which is
    // planned case by case in the planner's tests.
    for (slot, name) in hosts.iter().zip(HOST_NAMES) {
        let provider = if slot.gitlab {
            "GitLabSelfManaged"
        } else {
            "GitHubEnterpriseServer"
        };
        let wanted = Host {
            name: name.to_owned(),
            provider,
            endpoint: format!("https://{name}.example.com"),
            tags: slot.tags.clone(),
        };
        let seeded = Host {
            endpoint: if slot.moved {
                format!("https://{name}.old.example.com")
            } else {
                wanted.endpoint.clone()
            },
            tags: slot.seed_tags.clone(),
            ..wanted.clone()
        };
        let owner = seed_owner(slot.in_file, slot.pre);
        if let Some(owner) = owner {
            seed.hosts.push((seeded, owner));
        }
        if slot.in_file {
            let flags = Flags {
                protect: slot.protect,
                adopt: owner == Some(Owner::Unmanaged),
            };
            desired.hosts.push((wanted, flags));
        }
    }
    let host_owner: BTreeMap<String, Owner> = seed
        .hosts
        .iter()
        .map(|(h, o)| (h.name.clone(), *o))
        .collect();
    let file_hosts: BTreeSet<String> = desired.hosts.iter().map(|(h, _)| h.name.clone()).collect();
    // A host is deleted when it is this stack's and the file drops it.
    let doomed =
        |name: &str| host_owner.get(name) == Some(&Owner::Managed) && !file_hosts.contains(name);

    for (slot, name) in connections.iter().zip(CONNECTION_NAMES) {
        // A connection may use a host of the file only.
        let source = match slot.source {
            i @ 0..3 => Source::Provider(CLOUD[i]),
            i => Some(HOST_NAMES[i - 3])
                .filter(|h| file_hosts.contains(*h))
                .map_or(Source::Provider("GitHub"), |h| Source::Host(h.to_owned())),
        };
        let wanted = Connection {
            name: name.to_owned(),
            source,
            tags: slot.tags.clone(),
        };
        let mut owner = seed_owner(slot.in_file, slot.pre);
        let seeded_source = if !slot.in_file {
            // Left behind: on its host only if that host's fate allows it (a
            // connection that stays would stop its host from being deleted).
            let deleted = owner == Some(Owner::Managed);
            match slot.source.checked_sub(3).map(|i| HOST_NAMES[i]) {
                Some(h) if host_owner.contains_key(h) && (deleted || !doomed(h)) => {
                    Source::Host(h.to_owned())
                }
                _ => Source::Provider(CLOUD[slot.source % 3]),
            }
        } else if slot.pre == Pre::Stale && slot.protect != Some(true) {
            // Another provider, or no host: the file replaces it.
            match &wanted.source {
                Source::Provider(p) => {
                    Source::Provider(if *p == "GitHub" { "GitLab" } else { "GitHub" })
                }
                Source::Host(_) => Source::Provider("GitHub"),
            }
        } else {
            // The same provider or host as the file (a replacement of a
            // protected or adopted connection would be refused), so it needs
            // its host in the account already.
            if let Source::Host(h) = &wanted.source
                && !host_owner.contains_key(h)
            {
                owner = None;
            }
            wanted.source.clone()
        };
        if let Some(owner) = owner {
            let seeded = Connection {
                source: seeded_source,
                tags: slot.seed_tags.clone(),
                ..wanted.clone()
            };
            seed.connections.push((seeded, owner));
        }
        if slot.in_file {
            let flags = Flags {
                protect: slot.protect,
                adopt: owner == Some(Owner::Unmanaged),
            };
            desired.connections.push((wanted, flags));
        }
    }

    for i in 0..others.foreign_connections {
        let connection = Connection {
            tags: tags(&[("team", "other")]),
            ..cloud(&format!("theirs-{i}"), CLOUD[i % 3])
        };
        seed.connections.push((connection, Owner::Foreign));
    }
    if others.foreign_host {
        seed.hosts.push((ghes("theirs-ghes"), Owner::Foreign));
        let connection = Connection {
            name: "theirs-on-host".to_owned(),
            source: Source::Host("theirs-ghes".to_owned()),
            tags: Tags::new(),
        };
        seed.connections.push((connection, Owner::Foreign));
    }
    for i in 0..others.unmanaged_connections {
        let connection = Connection {
            tags: tags(&[("made-in", "console")]),
            ..cloud(&format!("console-{i}"), CLOUD[(i + 1) % 3])
        };
        seed.connections.push((connection, Owner::Unmanaged));
    }
    if others.unmanaged_twins {
        seed.hosts.push((ghes("twin-ghes"), Owner::Unmanaged));
        seed.hosts.push((ghes("twin-ghes"), Owner::Unmanaged));
    }
    git_sync(&mut desired, &mut seed, links, syncs, connections);
    if others.foreign_link && others.foreign_connections > 0 {
        seed.links.push((
            Link {
                repository: "them/tool".to_owned(),
                connection: "theirs-0".to_owned(),
                tags: tags(&[("team", "other")]),
            },
            Owner::Foreign,
        ));
        seed.syncs.push(Sync {
            resource_name: "their-stack".to_owned(),
            repository: "them/tool".to_owned(),
            branch: "main".to_owned(),
        });
    }
    (desired, seed)
}

/// The links and sync configurations of a case, over its connections. The
/// rules that keep them convergent: a link of the file goes through a
/// connection of the file, and its seeded copy through the account's
/// connection of that name; a link that stays unmanaged sits on a
/// connection that stays; nothing protected stands in the way of a
/// replacement its connection forces, or of a delete.
fn git_sync(
    desired: &mut Desired,
    seed: &mut Seed,
    links: &[LinkSlot],
    syncs: &[SyncSlot],
    connections: &[ConnectionSlot],
) {
    let in_file = |d: &Desired, name: &str| d.connections.iter().any(|(c, _)| c.name == name);
    let seeded: BTreeMap<String, Owner> = seed
        .connections
        .iter()
        .map(|(c, o)| (c.name.clone(), *o))
        .collect();
    // Connections the file replaces: links on them are replaced too.
    let replaced = |name: &str| {
        CONNECTION_NAMES
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| {
                connections[i].pre == Pre::Stale && connections[i].protect != Some(true)
            })
    };
    for (slot, repository) in links.iter().zip(LINK_REPOS) {
        let wanted = CONNECTION_NAMES[slot.connection];
        let connection = if in_file(desired, wanted) {
            Some(wanted.to_owned())
        } else {
            desired.connections.first().map(|(c, _)| c.name.clone())
        };
        let Some(connection) = connection else {
            continue;
        };
        let link = Link {
            repository: repository.to_owned(),
            connection: connection.clone(),
            tags: slot.tags.clone(),
        };
        let mut protect = slot.protect;
        let mut owner = seed_owner(slot.in_file, slot.pre);
        if !seeded.contains_key(&connection) {
            owner = None;
        }
        if replaced(&connection) {
            protect = None;
            if owner == Some(Owner::Protected) {
                owner = Some(Owner::Managed);
            }
        }
        // An unmanaged link the file leaves alone needs a connection that
        // stays: the file's own, as it is.
        if !slot.in_file && owner == Some(Owner::Unmanaged) && replaced(&connection) {
            owner = None;
        }
        if let Some(owner) = owner {
            seed.links.push((
                Link {
                    tags: slot.seed_tags.clone(),
                    ..link.clone()
                },
                owner,
            ));
        }
        if slot.in_file {
            let flags = Flags {
                protect,
                adopt: owner == Some(Owner::Unmanaged),
            };
            desired.links.push((link, flags));
        }
    }
    let link_owner: BTreeMap<String, Owner> = seed
        .links
        .iter()
        .map(|(l, o)| (l.repository.clone(), *o))
        .collect();
    for (slot, name) in syncs.iter().zip(SYNC_NAMES) {
        let repository = LINK_REPOS[slot.link];
        let in_file = slot.in_file && desired.names(Kind::RepositoryLink, repository);
        let wanted = Sync {
            resource_name: name.to_owned(),
            repository: repository.to_owned(),
            branch: "main".to_owned(),
        };
        let owner = link_owner.get(repository).copied();
        // Left out of the file on a protected link, it could never go.
        let seedable = owner.is_some() && (in_file || owner != Some(Owner::Protected));
        if slot.seeded && seedable {
            seed.syncs.push(Sync {
                branch: if slot.moved { "old-branch" } else { "main" }.to_owned(),
                ..wanted.clone()
            });
        }
        if in_file {
            desired.syncs.push(wanted);
        }
    }
}

/// Who owns the seeded copy of a pool resource, if there is one. Left out
/// of the file, a protected resource would be refused forever (that case is
/// [`Conflict::ProtectedDropped`]), so it is only managed there, and an
/// "adopted" one stays unmanaged and untouched.
fn seed_owner(in_file: bool, pre: Pre) -> Option<Owner> {
    match pre {
        Pre::Absent => None,
        Pre::Managed | Pre::Stale => Some(Owner::Managed),
        Pre::Protected if in_file => Some(Owner::Protected),
        Pre::Protected => Some(Owner::Managed),
        Pre::Adopted => Some(Owner::Unmanaged),
    }
}

fn tag_map() -> impl Strategy<Value = Tags> {
    prop::collection::btree_map(
        select(vec!["env", "team", "tier"]),
        select(vec!["prod", "dev", "blue"]),
        0..=2,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    })
}

/// Hosts are created more often than not: a lost CreateHost response is
/// where a duplicate could appear.
fn host_pre() -> impl Strategy<Value = Pre> {
    select(vec![
        Pre::Absent,
        Pre::Absent,
        Pre::Absent,
        Pre::Managed,
        Pre::Protected,
        Pre::Adopted,
    ])
}

fn connection_pre() -> impl Strategy<Value = Pre> {
    select(vec![
        Pre::Absent,
        Pre::Absent,
        Pre::Managed,
        Pre::Protected,
        Pre::Adopted,
        Pre::Stale,
    ])
}

fn protect() -> impl Strategy<Value = Option<bool>> {
    select(vec![None, None, Some(true), Some(false)])
}

prop_compose! {
    fn host_slot()(
        in_file in prop::bool::weighted(0.75),
        gitlab in any::<bool>(),
        moved in any::<bool>(),
        tags in tag_map(),
        seed_tags in tag_map(),
        protect in protect(),
        pre in host_pre(),
    ) -> HostSlot {
        HostSlot { in_file, gitlab, moved, tags, seed_tags, protect, pre }
    }
}

prop_compose! {
    fn connection_slot()(
        in_file in any::<bool>(),
        source in 0..7usize,
        tags in tag_map(),
        seed_tags in tag_map(),
        protect in protect(),
        pre in connection_pre(),
    ) -> ConnectionSlot {
        ConnectionSlot { in_file, source, tags, seed_tags, protect, pre }
    }
}

fn link_pre() -> impl Strategy<Value = Pre> {
    select(vec![
        Pre::Absent,
        Pre::Absent,
        Pre::Managed,
        Pre::Protected,
        Pre::Adopted,
    ])
}

prop_compose! {
    fn link_slot()(
        in_file in prop::bool::weighted(0.7),
        connection in 0..CONNECTION_NAMES.len(),
        tags in tag_map(),
        seed_tags in tag_map(),
        protect in protect(),
        pre in link_pre(),
    ) -> LinkSlot {
        LinkSlot { in_file, connection, tags, seed_tags, protect, pre }
    }
}

prop_compose! {
    fn sync_slot()(
        in_file in prop::bool::weighted(0.7),
        link in 0..LINK_REPOS.len(),
        seeded in any::<bool>(),
        moved in any::<bool>(),
    ) -> SyncSlot {
        SyncSlot { in_file, link, seeded, moved }
    }
}

prop_compose! {
    fn others()(
        foreign_connections in 0..=2usize,
        foreign_host in any::<bool>(),
        unmanaged_connections in 0..=2usize,
        unmanaged_twins in any::<bool>(),
        foreign_link in any::<bool>(),
    ) -> Others {
        Others {
            foreign_connections,
            foreign_host,
            unmanaged_connections,
            unmanaged_twins,
            foreign_link,
        }
    }
}

prop_compose! {
    /// Moderate faults (at most 15% each), so 3 applies are enough. Lost
    /// responses are always on: they are what could make a duplicate.
    /// Throttling in 1 case in 3, at a tight or a loose limit: reads and
    /// writes are paced, so a throttled apply slows to the limit.
    fn faults()(
        error_rate in select(vec![0.0, 0.05, 0.1, 0.15]),
        lost_response_rate in select(vec![0.05, 0.1, 0.15]),
        throttle_rps in select(vec![None, None, None, None, Some(20), Some(50)]),
        seed in any::<u64>(),
    ) -> Faults {
        Faults { error_rate, lost_response_rate, throttle_rps, seed }
    }
}

prop_compose! {
    fn case()(
        hosts in prop::collection::vec(host_slot(), HOST_NAMES.len()),
        connections in prop::collection::vec(connection_slot(), CONNECTION_NAMES.len()),
        links in prop::collection::vec(link_slot(), LINK_REPOS.len()),
        syncs in prop::collection::vec(sync_slot(), SYNC_NAMES.len()),
        others in others(),
        conflict in prop::option::weighted(0.4, select(vec![
            Conflict::ForeignHost,
            Conflict::UnmanagedConnection,
            Conflict::ProtectedDropped,
            Conflict::AmbiguousHost,
            Conflict::ConnectionUsedByLink,
        ])),
        faults in faults(),
    ) -> Case {
        let (mut desired, mut seed) = build(&hosts, &connections, &links, &syncs, &others);
        if let Some(conflict) = conflict {
            conflict.add(&mut desired, &mut seed);
        }
        Case { desired, seed, conflict, faults }
    }
}

/// An emulator over `state`, with `faults` (or none).
fn emulator(state: &Path, faults: Option<&Faults>) -> Sandbox {
    let mut config = Config {
        state: Some(state.to_path_buf()),
        ..Config::default()
    };
    if let Some(f) = faults {
        config.error_rate = f.error_rate;
        config.lost_response_rate = f.lost_response_rate;
        config.throttle_rps = f.throttle_rps;
        config.seed = Some(f.seed);
    }
    Sandbox::with_config(config)
}

fn check(case: &Case) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let work = Workdir::new();
    let state = work.path().join("emulator-state.json");

    let started = std::time::Instant::now();
    let clean = emulator(&state, None);
    runtime.block_on(async { case.seed.create(&clean.client("eu-west-1").await).await });
    let before = read_on(&runtime, &clean);
    drop(clean);

    let faulty = emulator(&state, Some(&case.faults));
    let mut desired = case.desired.clone();
    work.write("stack.yaml", &desired.yaml());

    if let Some(conflict) = case.conflict {
        let (guard, name) = conflict.refusal();
        let plan = run(
            work.path(),
            &faulty,
            &[
                "plan",
                "-f",
                "stack.yaml",
                "--format",
                "json",
                "--allow-replace",
                "--force",
            ],
        )
        .expect(3);
        let refusals: Vec<(String, String)> = json(&plan.stdout)["refusals"]
            .as_array()
            .expect("refusals is a list")
            .iter()
            .map(|r| {
                (
                    r["guard"].as_str().unwrap().to_owned(),
                    r["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            refusals,
            vec![(guard.to_owned(), name.to_owned())],
            "{}",
            plan.stdout
        );
        run(work.path(), &faulty, &APPLY).expect(3);
        assert_eq!(
            read_on(&runtime, &faulty),
            before,
            "a refused apply changed the account"
        );

        conflict.resolve(&mut desired);
        work.write("stack.yaml", &desired.yaml());
    }

    let runs = apply_until_converged(work.path(), &faulty);
    drop(faulty);

    let clean = emulator(&state, None);
    assert_plan_empty(work.path(), &clean, "stack.yaml");
    let after = read_on(&runtime, &clean);
    assert_promises_kept(&before, &after, &desired);
    eprintln!(
        "convergence: {} hosts, {} connections, {} links, {} sync configurations in the file; {} resources before; {:?}; {:?}; {} apply run(s); {:.1?}",
        desired.hosts.len(),
        desired.connections.len(),
        desired.links.len(),
        desired.syncs.len(),
        before.resources.len(),
        case.conflict,
        case.faults,
        runs,
        started.elapsed()
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 12,
        failure_persistence: None,
        max_shrink_iters: 24,
        ..ProptestConfig::default()
    })]

    #[test]
    fn apply_converges_in_three_runs_and_keeps_its_promises(case in case()) {
        check(&case);
    }
}

// ------------------------------------------------------------------ fleets

/// The accounts of the fleet case; faults hit one of them.
const FLEET: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

#[derive(Debug, Clone)]
struct FleetCase {
    desired: Desired,
    /// What each account of [`FLEET`] holds before the first apply.
    seeds: Vec<Seed>,
    faults: Faults,
    /// The index in [`FLEET`] of the account with faults.
    faulty: usize,
}

prop_compose! {
    /// One file for three accounts: the same pool slots in each (so every
    /// account can converge), other owners' resources drawn per account.
    fn fleet_case()(
        hosts in prop::collection::vec(host_slot(), HOST_NAMES.len()),
        connections in prop::collection::vec(connection_slot(), CONNECTION_NAMES.len()),
        links in prop::collection::vec(link_slot(), LINK_REPOS.len()),
        syncs in prop::collection::vec(sync_slot(), SYNC_NAMES.len()),
        others in prop::collection::vec(others(), FLEET.len()),
        faults in faults(),
        faulty in 0..FLEET.len(),
    ) -> FleetCase {
        let mut desired = None;
        let seeds = others
            .iter()
            .map(|o| {
                let (d, seed) = build(&hosts, &connections, &links, &syncs, o);
                desired.get_or_insert(d);
                seed
            })
            .collect();
        FleetCase { desired: desired.expect("three accounts"), seeds, faults, faulty }
    }
}

/// The file of the fleet case: `desired` in every account of [`FLEET`].
fn fleet_yaml(desired: &Desired) -> String {
    let accounts: Vec<String> = FLEET.iter().map(|a| format!("\"{a}\"")).collect();
    desired.yaml().replacen(
        "region: eu-west-1\n",
        &format!(
            "targets:\n  accounts: [{}]\n  regions: [eu-west-1]\n  role_arn: arn:aws:iam::{{account_id}}:role/reconcile\n",
            accounts.join(", ")
        ),
        1,
    )
}

fn check_fleet(case: &FleetCase) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let work = Workdir::new();
    let state = work.path().join("emulator-state.json");
    let read_all = |sandbox: &Sandbox| {
        runtime.block_on(async {
            let mut all = Vec::new();
            for account in FLEET {
                all.push(read(&sandbox.client_in(account, "eu-west-1").await).await);
            }
            all
        })
    };

    let clean = emulator(&state, None);
    runtime.block_on(async {
        for (account, seed) in FLEET.iter().zip(&case.seeds) {
            seed.create(&clean.client_in(account, "eu-west-1").await)
                .await;
        }
    });
    let before = read_all(&clean);
    drop(clean);

    let config = Config {
        state: Some(state.clone()),
        error_rate: case.faults.error_rate,
        lost_response_rate: case.faults.lost_response_rate,
        throttle_rps: case.faults.throttle_rps,
        seed: Some(case.faults.seed),
        fault_account_id: Some(FLEET[case.faulty].to_owned()),
        ..Config::default()
    };
    let faulty = Sandbox::with_config(config);
    work.write("stack.yaml", &fleet_yaml(&case.desired));
    let runs = apply_until_converged(work.path(), &faulty);
    drop(faulty);

    let clean = emulator(&state, None);
    assert_plan_empty(work.path(), &clean, "stack.yaml");
    let after = read_all(&clean);
    for ((account, was), now) in FLEET.iter().zip(&before).zip(&after) {
        eprintln!("fleet convergence: account {account}");
        assert_promises_kept(was, now, &case.desired);
    }
    eprintln!(
        "fleet convergence: {} accounts, faults in {}; {:?}; {} apply run(s)",
        FLEET.len(),
        FLEET[case.faulty],
        case.faults,
        runs
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4,
        failure_persistence: None,
        max_shrink_iters: 12,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_fleet_converges_with_faults_in_one_account(case in fleet_case()) {
        check_fleet(&case);
    }
}
