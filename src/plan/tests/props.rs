//! Properties over random files × random accounts. Names are drawn from
//! small pools so that the file and the account often collide, and live
//! resources are managed, foreign, unmanaged, protected and carry `aws:`
//! tags at random.

use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::live::{LiveConnection, LiveHost, Snapshot};
use crate::plan::{Action, Change, Field, Guard, Options, Reason, TargetPlan, plan_target};
use crate::resource::{
    Kind, Ownership, PROTECT_TAG, ProviderType, STACK_TAG, Tags, arn, is_aws_tag, is_protected,
    ownership,
};
use crate::spec::{Connection, ConnectionSource, Host, Target, Vpc};

use super::builders::{
    ARN_PREFIX, LABEL, OTHER_STACK, STACK, desired_tags, live_connection, live_from, live_host,
    target,
};

const HOST_NAMES: [&str; 3] = ["h1", "h2", "h3"];
const CONNECTION_NAMES: [&str; 4] = ["c1", "c2", "c3", "c4"];
const SELF_HOSTED: [ProviderType; 2] = [
    ProviderType::GitHubEnterpriseServer,
    ProviderType::GitLabSelfManaged,
];
const CLOUD: [ProviderType; 3] = [
    ProviderType::Bitbucket,
    ProviderType::GitHub,
    ProviderType::GitLab,
];
const ENDPOINTS: [&str; 2] = ["https://git.example.com", "https://git2.example.com"];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// The ARN of the `i`-th live host; `host_arn:` in files draws from the same
/// shapes (including the newer service prefix and hosts nobody has).
fn live_host_arn(name: &str, i: usize) -> String {
    format!("{ARN_PREFIX}:host/{name}-{i:08}")
}

fn external_arns() -> Vec<String> {
    vec![
        live_host_arn("h1", 0),
        live_host_arn("h2", 1).replace(":codestar-connections:", ":codeconnections:"),
        live_host_arn("old-h", 2),
        live_host_arn("ext", 9),
    ]
}

// ---------------------------------------------------------------- the file

/// Own tags as the loader hands them over: resource tags with default tags
/// (`team`, `cost-center`) merged in; never `aws:` or the tool's own keys.
fn file_tags() -> impl Strategy<Value = Tags> {
    prop::collection::btree_map(
        select(vec!["env", "team", "cost-center", "owner"]).prop_map(str::to_owned),
        select(vec!["prod", "dev", "platform"]).prop_map(str::to_owned),
        0..4,
    )
}

fn arb_vpc() -> impl Strategy<Value = Option<Vpc>> {
    let pem = |s: &str| format!("-----BEGIN CERTIFICATE-----\n{s}\n-----END CERTIFICATE-----\n");
    let vpcs = vec![
        None,
        Some(super::builders::vpc(
            &["subnet-a", "subnet-b"],
            &["sg-1"],
            None,
        )),
        Some(super::builders::vpc(
            &["subnet-b", "subnet-a"],
            &["sg-1"],
            None,
        )),
        Some(super::builders::vpc(
            &["subnet-a"],
            &["sg-1", "sg-2"],
            Some(&pem("AAAA")),
        )),
        Some(super::builders::vpc(
            &["subnet-a"],
            &["sg-2", "sg-1"],
            Some(&pem("BBBB")),
        )),
    ];
    select(vpcs)
}

fn arb_protect() -> impl Strategy<Value = Option<bool>> {
    select(vec![None, Some(true), Some(false)])
}

fn arb_host(name: &'static str) -> impl Strategy<Value = Host> {
    (
        select(SELF_HOSTED.to_vec()),
        select(ENDPOINTS.to_vec()),
        arb_vpc(),
        file_tags(),
        arb_protect(),
        any::<bool>(),
    )
        .prop_map(
            move |(provider_type, endpoint, vpc, tags, protect, adopt)| Host {
                name: name.to_owned(),
                provider_type,
                provider_endpoint: endpoint.to_owned(),
                vpc,
                tags,
                protect,
                adopt,
            },
        )
}

fn arb_source(hosts: Vec<String>) -> BoxedStrategy<ConnectionSource> {
    let mut options = vec![
        select(CLOUD.to_vec())
            .prop_map(ConnectionSource::Provider)
            .boxed(),
        select(external_arns())
            .prop_map(ConnectionSource::HostArn)
            .boxed(),
    ];
    if !hosts.is_empty() {
        options.push(select(hosts).prop_map(ConnectionSource::Host).boxed());
    }
    prop::strategy::Union::new(options).boxed()
}

fn arb_connection(name: &'static str, hosts: Vec<String>) -> impl Strategy<Value = Connection> {
    (arb_source(hosts), file_tags(), arb_protect(), any::<bool>()).prop_map(
        move |(source, tags, protect, adopt)| Connection {
            name: name.to_owned(),
            source,
            tags,
            protect,
            adopt,
        },
    )
}

/// A validated file: unique names, `host:` only to hosts of the file.
fn arb_target() -> impl Strategy<Value = Target> {
    subsequence(HOST_NAMES.to_vec(), 0..=HOST_NAMES.len())
        .prop_flat_map(|names| names.into_iter().map(arb_host).collect::<Vec<_>>())
        .prop_flat_map(|hosts| {
            let names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
            let connections = subsequence(CONNECTION_NAMES.to_vec(), 0..=CONNECTION_NAMES.len())
                .prop_flat_map(move |cs| {
                    cs.into_iter()
                        .map(|c| arb_connection(c, names.clone()))
                        .collect::<Vec<_>>()
                });
            (Just(hosts), connections)
        })
        .prop_map(|(hosts, connections)| target(hosts, connections))
}

// ------------------------------------------------------------- the account

#[derive(Debug, Clone, Copy)]
enum Owner {
    Managed,
    Foreign,
    Unmanaged,
}

/// Live tags: ordinary keys, `aws:` keys, and the ownership tags as chosen.
fn live_tags() -> impl Strategy<Value = Tags> {
    (
        file_tags(),
        prop::collection::btree_map(
            select(vec![
                "aws:cloudformation:stack-name",
                "aws:createdBy",
                "aws:team",
            ])
            .prop_map(str::to_owned),
            select(vec!["legacy", "prod"]).prop_map(str::to_owned),
            0..2,
        ),
        select(vec![Owner::Managed, Owner::Foreign, Owner::Unmanaged]),
        any::<bool>(),
    )
        .prop_map(|(mut tags, aws, owner, protected)| {
            tags.extend(aws);
            match owner {
                Owner::Managed => tags.insert(STACK_TAG.to_owned(), STACK.to_owned()),
                Owner::Foreign => tags.insert(STACK_TAG.to_owned(), OTHER_STACK.to_owned()),
                Owner::Unmanaged => None,
            };
            if protected {
                tags.insert(PROTECT_TAG.to_owned(), "true".to_owned());
            }
            tags
        })
}

fn arb_live_hosts() -> impl Strategy<Value = Vec<LiveHost>> {
    prop::collection::vec(
        (
            select(vec!["h1", "h2", "h3", "old-h"]),
            select(SELF_HOSTED.to_vec()),
            select(ENDPOINTS.to_vec()),
            arb_vpc(),
            live_tags(),
        ),
        0..5,
    )
    .prop_map(|hosts| {
        hosts
            .into_iter()
            .enumerate()
            .map(|(i, (name, provider, endpoint, vpc, tags))| LiveHost {
                arn: live_host_arn(name, i),
                provider_type: provider.as_str().to_owned(),
                provider_endpoint: endpoint.to_owned(),
                vpc,
                tags,
                ..live_host(name)
            })
            .collect()
    })
}

fn arb_snapshot() -> impl Strategy<Value = Snapshot> {
    arb_live_hosts().prop_flat_map(|hosts| {
        let connections =
            subsequence(vec!["c1", "c2", "c3", "c4", "old-c"], 0..=5).prop_flat_map(|names| {
                names
                    .into_iter()
                    .map(|name| {
                        (
                            select(CLOUD.to_vec()),
                            prop::option::of(any::<Index>()),
                            live_tags(),
                        )
                            .prop_map(move |(provider, host, tags)| (name, provider, host, tags))
                    })
                    .collect::<Vec<_>>()
            });
        (Just(hosts), connections).prop_map(|(hosts, connections)| {
            let connections = connections
                .into_iter()
                .map(|(name, provider, host, tags)| {
                    let mut c = LiveConnection {
                        tags,
                        ..live_connection(name, provider)
                    };
                    if let (Some(i), false) = (host, hosts.is_empty()) {
                        let h = i.get(&hosts);
                        c.host_arn = Some(h.arn.clone());
                        c.provider_type = h.provider_type.clone();
                    }
                    c
                })
                .collect();
            Snapshot {
                connections,
                hosts,
                ..Snapshot::default()
            }
        })
    })
}

/// Command-line switches, with safety overrides low enough that the small
/// random accounts can reach the limit.
fn arb_options() -> impl Strategy<Value = Options> {
    (
        any::<bool>(),
        any::<bool>(),
        select(vec![None, Some(0), Some(50)]),
        select(vec![None, Some(2)]),
    )
        .prop_map(
            |(allow_replace, force, max_delete_percent, min_managed)| Options {
                allow_replace,
                force,
                max_delete_percent,
                min_managed,
            },
        )
}

// -------------------------------------------------------------- the checks

fn live_tags_of<'s>(live: &'s Snapshot, change: &Change) -> Option<(&'s str, &'s Tags)> {
    let arn = change.arn.as_deref()?;
    match change.kind {
        Kind::Host => live
            .hosts
            .iter()
            .find(|h| arn::same(&h.arn, arn))
            .map(|h| (h.name.as_str(), &h.tags)),
        Kind::Connection => live
            .connections
            .iter()
            .find(|c| arn::same(&c.arn, arn))
            .map(|c| (c.name.as_str(), &c.tags)),
        Kind::RepositoryLink => live
            .links
            .iter()
            .find(|l| arn::same(&l.arn, arn))
            .map(|l| (l.name.as_str(), &l.tags)),
        Kind::SyncConfiguration => None,
    }
}

/// The file's `adopt` and `protect` for a resource it names.
fn in_file(target: &Target, kind: Kind, name: &str) -> Option<(bool, Option<bool>)> {
    match kind {
        Kind::Host => target
            .hosts
            .iter()
            .find(|h| h.name == name)
            .map(|h| (h.adopt, h.protect)),
        Kind::Connection => target
            .connections
            .iter()
            .find(|c| c.name == name)
            .map(|c| (c.adopt, c.protect)),
        Kind::RepositoryLink => target
            .repository_links
            .iter()
            .find(|l| l.name() == name)
            .map(|l| (l.adopt, l.protect)),
        Kind::SyncConfiguration => None,
    }
}

fn apply_tags(live: &Tags, change: &Change) -> Tags {
    let mut tags = live.clone();
    for key in &change.tags.remove {
        tags.remove(key);
    }
    tags.extend(change.tags.to_write());
    tags
}

fn without_aws(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| !is_aws_tag(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The names of the hosts whose deletion the service would refuse because a
/// connection still uses them, or that are gone when a connection is
/// created on them, when `plan`'s changes are carried out in apply's order
/// (old halves of replacements, host creates, connection creates,
/// connection deletes, host deletes).
fn simulate_hosts(live: &Snapshot, plan: &TargetPlan) -> Vec<String> {
    use std::collections::BTreeMap;
    /// Host ARN → name; connection ARN → host ARN; hosts that could not go.
    struct Account {
        hosts: BTreeMap<String, String>,
        connections: BTreeMap<String, Option<String>>,
        blocked: Vec<String>,
    }
    impl Account {
        fn delete_host(&mut self, change: &Change) {
            let arn_ = arn::canonical(change.arn.as_deref().expect("an ARN"));
            if self
                .connections
                .values()
                .any(|h| h.as_deref() == Some(arn_.as_str()))
            {
                self.blocked.push(change.name.clone());
            } else {
                self.hosts.remove(&arn_);
            }
        }
        fn delete_connection(&mut self, change: &Change) {
            let arn_ = arn::canonical(change.arn.as_deref().expect("an ARN"));
            self.connections.remove(&arn_);
        }
    }
    let mut account = Account {
        hosts: live
            .hosts
            .iter()
            .map(|h| (arn::canonical(&h.arn), h.name.clone()))
            .collect(),
        connections: live
            .connections
            .iter()
            .map(|c| {
                (
                    arn::canonical(&c.arn),
                    c.host_arn.as_deref().map(arn::canonical),
                )
            })
            .collect(),
        blocked: Vec::new(),
    };
    let of = |kind: Kind, actions: &'static [Action]| {
        plan.changes
            .iter()
            .filter(move |c| c.kind == kind && actions.contains(&c.action))
    };
    for c in of(Kind::Connection, &[Action::Replace]) {
        account.delete_connection(c);
    }
    // Apply deletes the connections the file drops from a replaced host
    // before replacing it.
    let replaced: Vec<String> = of(Kind::Host, &[Action::Replace])
        .filter_map(|h| h.arn.as_deref().map(arn::canonical))
        .collect();
    let mut freed = Vec::new();
    for c in of(Kind::Connection, &[Action::Delete]) {
        let on = live
            .connections
            .iter()
            .find(|l| Some(l.arn.as_str()) == c.arn.as_deref())
            .and_then(|l| l.host_arn.as_deref().map(arn::canonical));
        if on.is_some_and(|h| replaced.contains(&h)) {
            account.delete_connection(c);
            freed.push(c.arn.clone());
        }
    }
    for h in of(Kind::Host, &[Action::Replace]) {
        account.delete_host(h);
    }
    let mut new_hosts = BTreeMap::new();
    for h in of(Kind::Host, &[Action::Create, Action::Replace]) {
        let fake = format!("new-host-{}", h.name);
        account.hosts.insert(fake.clone(), h.name.clone());
        new_hosts.insert(h.name.clone(), fake);
    }
    for c in of(Kind::Connection, &[Action::Create, Action::Replace]) {
        let after = c.after.as_ref().expect("a create has an after");
        let host = match (after.text(Field::HostArn), after.text(Field::Host)) {
            (Some(a), _) => Some(arn::canonical(a)),
            (None, Some(name)) => new_hosts.get(name).cloned(),
            (None, None) => None,
        };
        if let Some(host) = &host
            && !account.hosts.contains_key(host)
        {
            // Gone: the name it had in the account.
            let name = live
                .hosts
                .iter()
                .find(|h| arn::same(&h.arn, host))
                .map(|h| h.name.clone())
                .unwrap_or_else(|| host.clone());
            account.blocked.push(name);
        }
        account
            .connections
            .insert(format!("new-connection-{}", c.name), host);
    }
    for c in of(Kind::Connection, &[Action::Delete]).filter(|c| !freed.contains(&c.arn)) {
        account.delete_connection(c);
    }
    for h in of(Kind::Host, &[Action::Delete]) {
        account.delete_host(h);
    }
    account.blocked
}

fn check_plan(target: &Target, live: &Snapshot, plan: &TargetPlan) -> Result<(), TestCaseError> {
    for change in &plan.changes {
        let what = format!("{:?} {} {:?}", change.action, change.kind, change.name);

        // (b) AWS's tags are never written nor removed.
        let keys = change
            .tags
            .add
            .keys()
            .chain(change.tags.change.keys())
            .chain(&change.tags.remove);
        for key in keys {
            prop_assert!(!is_aws_tag(key), "{what} touches {key}");
        }

        if change.action == Action::Create {
            // A create never lands on a name the account already has.
            let taken = match change.kind {
                Kind::Host => live.hosts.iter().any(|h| h.name == change.name),
                Kind::Connection => live.connections.iter().any(|c| c.name == change.name),
                Kind::RepositoryLink => live.links.iter().any(|l| l.name == change.name),
                Kind::SyncConfiguration => {
                    live.syncs.iter().any(|s| s.resource_name == change.name)
                }
            };
            prop_assert!(!taken, "{what} but the name exists");
            continue;
        }

        let Some((live_name, tags)) = live_tags_of(live, change) else {
            return Err(TestCaseError::fail(format!(
                "{what} names no live resource: {:?}",
                change.arn
            )));
        };
        prop_assert_eq!(live_name, change.name.as_str());
        let file = in_file(target, change.kind, &change.name);

        // (a) foreign resources are never touched; unmanaged ones only when
        // the file adopts them, and never deleted.
        match ownership(tags, STACK) {
            Ownership::Foreign(owner) => {
                return Err(TestCaseError::fail(format!("{what} of {owner}'s resource")));
            }
            Ownership::Unmanaged => {
                prop_assert!(
                    change.action != Action::Delete,
                    "{what} of an unmanaged resource"
                );
                prop_assert!(
                    matches!(file, Some((true, _))),
                    "{what} of an unmanaged resource the file does not adopt"
                );
            }
            Ownership::Managed => {}
        }
        if change.action == Action::Adopt {
            prop_assert!(
                ownership(tags, STACK) == Ownership::Unmanaged,
                "{what} of a non-unmanaged resource"
            );
        }

        // (c) protected resources are never deleted nor replaced. The one
        // delete of a resource the file names: an extra copy of a host the
        // file has, every copy this stack's, one of them kept (the kept one
        // is the protected resource; the others are duplicates).
        if let Reason::ExtraCopy { kept } = &change.reason {
            let arn_ = change.arn.as_ref().expect("a delete names its ARN");
            prop_assert!(
                change.action == Action::Delete && change.kind == Kind::Host,
                "{}",
                what
            );
            prop_assert!(
                file.is_some(),
                "{what}: a duplicate of a host the file lacks"
            );
            let copies: Vec<_> = live
                .hosts
                .iter()
                .filter(|h| h.name == change.name)
                .collect();
            prop_assert!(
                copies
                    .iter()
                    .all(|h| ownership(&h.tags, STACK) == Ownership::Managed),
                "{what}: not every copy is this stack's"
            );
            prop_assert!(
                copies.iter().any(|h| &h.arn == kept) && kept != arn_,
                "{what}: kept {kept} is not another live copy"
            );
            // It may be replaced (the file changed what cannot change in
            // place), never deleted.
            prop_assert!(
                !plan
                    .changes
                    .iter()
                    .any(|c| c.arn.as_deref() == Some(kept.as_str()) && c.action == Action::Delete),
                "{what}: the kept copy {kept} is deleted too"
            );
            prop_assert!(
                !live
                    .connections
                    .iter()
                    .any(|c| c.host_arn.as_deref() == Some(arn_.as_str())
                        && !plan
                            .changes
                            .iter()
                            .any(|l| l.arn.as_deref() == Some(c.arn.as_str())
                                && matches!(l.action, Action::Delete | Action::Replace))),
                "{what}: a connection that stays uses it"
            );
        } else {
            if matches!(change.action, Action::Delete | Action::Replace) {
                prop_assert!(!is_protected(tags), "{what} of a protected resource");
                prop_assert!(
                    !matches!(file, Some((_, Some(true)))),
                    "{what} though the file says protect: true"
                );
            }
            if change.action == Action::Delete {
                prop_assert!(file.is_none(), "{what} though the file names it");
            }
        }
        if change.action == Action::Replace {
            prop_assert!(!change.replace_fields.is_empty(), "{what} without a field");
        }

        // (e) applying the tag changes gives the desired tags; aws: tags stay.
        if matches!(change.action, Action::Update | Action::Adopt) {
            let after = &change.after.as_ref().expect("an update has an after").tags;
            let applied = apply_tags(tags, change);
            prop_assert_eq!(without_aws(&applied), without_aws(after), "{}", what);
            for (k, v) in tags.iter().filter(|(k, _)| is_aws_tag(k)) {
                prop_assert_eq!(applied.get(k), Some(v));
            }
            // Exactly: adds are new keys, changes existing keys with a new
            // value, removes existing keys.
            for (k, v) in &change.tags.add {
                prop_assert!(!tags.contains_key(k), "{what} adds existing {k}={v}");
            }
            for (k, v) in &change.tags.change {
                prop_assert!(
                    tags.get(k).is_some_and(|old| old != v),
                    "{what} changes {k} to the same"
                );
            }
            for k in &change.tags.remove {
                prop_assert!(
                    tags.contains_key(k) && !after.contains_key(k),
                    "{what} removes {k}"
                );
            }
            // And the desired tags are the file's, independently computed,
            // with a live protect tag kept when the file leaves it unset.
            if let Some((_, protect)) = file {
                let own = match change.kind {
                    Kind::Host => {
                        &target
                            .hosts
                            .iter()
                            .find(|h| h.name == change.name)
                            .unwrap()
                            .tags
                    }
                    Kind::Connection => {
                        &target
                            .connections
                            .iter()
                            .find(|c| c.name == change.name)
                            .unwrap()
                            .tags
                    }
                    Kind::RepositoryLink => {
                        &target
                            .repository_links
                            .iter()
                            .find(|l| l.name() == change.name)
                            .unwrap()
                            .tags
                    }
                    Kind::SyncConfiguration => unreachable!("sync configurations have no tags"),
                };
                let mut expected = desired_tags(own, protect);
                if protect.is_none()
                    && let Some(v) = tags.get(PROTECT_TAG)
                {
                    expected.insert(PROTECT_TAG.to_owned(), v.clone());
                }
                prop_assert_eq!(after, &expected, "{}", what);
            }
        }
    }

    // A host that goes away is used by nothing that stays or arrives, or
    // the plan refuses it (host_in_use). Checked against a model of the
    // service, not the planner's own reasoning: apply the plan's changes
    // in apply's order to the snapshot, with AWS's rule that a host in use
    // cannot be deleted and a connection needs a host that exists.
    let mut blocked = simulate_hosts(live, plan);
    blocked.sort();
    blocked.dedup();
    let mut refused: Vec<String> = plan
        .refusals
        .iter()
        .filter(|r| r.guard == Guard::HostInUse)
        .filter_map(|r| r.name.clone())
        .collect();
    refused.sort();
    refused.dedup();
    prop_assert_eq!(
        &blocked,
        &refused,
        "hosts AWS would refuse to delete (or that are gone when a connection \
         needs them) vs host_in_use refusals"
    );

    // Every create or replace is announced (PENDING handshakes).
    for change in &plan.changes {
        if matches!(change.action, Action::Create | Action::Replace) {
            prop_assert!(
                plan.warnings
                    .iter()
                    .any(|w| w.kind == change.kind && w.name == change.name),
                "no warning for {:?} {}",
                change.action,
                change.name
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// (a), (b), (c), (e) over random files and accounts.
    #[test]
    fn plans_respect_ownership_protection_and_aws_tags(
        t in arb_target(),
        live in arb_snapshot(),
        opts in arb_options(),
    ) {
        let plan = plan_target(&t, &live, LABEL, &opts);
        check_plan(&t, &live, &plan)?;
    }

    /// (d) a file planned against the account it produced changes nothing,
    /// whatever `aws:` tags AWS added and in whatever order it lists VPC ids.
    #[test]
    fn a_file_against_its_own_result_plans_nothing(
        t in arb_target(),
        aws in prop::collection::vec(prop::option::of(select(vec!["aws:createdBy", "aws:cloudformation:stack-name"])), 8),
        reverse in prop::collection::vec(any::<bool>(), 8),
        opts in arb_options(),
    ) {
        let mut live = live_from(&t);
        for (i, h) in live.hosts.iter_mut().enumerate() {
            if let Some(key) = aws[i % aws.len()] {
                h.tags.insert(key.to_owned(), "x".to_owned());
            }
            if let (Some(v), true) = (h.vpc.as_mut(), reverse[i % reverse.len()]) {
                v.subnet_ids.reverse();
                v.security_group_ids.reverse();
            }
        }
        for (i, c) in live.connections.iter_mut().enumerate() {
            if let Some(key) = aws[(i + 3) % aws.len()] {
                c.tags.insert(key.to_owned(), "x".to_owned());
            }
        }
        let plan = plan_target(&t, &live, LABEL, &opts);
        prop_assert!(plan.changes.is_empty(), "changes: {:#?}", plan.changes);
        prop_assert!(plan.refusals.is_empty(), "refusals: {:#?}", plan.refusals);
        prop_assert!(plan.warnings.is_empty(), "warnings: {:#?}", plan.warnings);
    }

    /// The tags of the result, after a first plan's tag changes were applied,
    /// need no second update.
    #[test]
    fn applying_tag_changes_converges(
        t in arb_target(),
        live in arb_snapshot(),
    ) {
        let first = plan_target(&t, &live, LABEL, &Options::default());
        let mut next = live.clone();
        for change in first.changes.iter().filter(|c| matches!(c.action, Action::Update | Action::Adopt)) {
            if change.updates_fields() {
                continue;
            }
            let arn = change.arn.as_deref().unwrap();
            match change.kind {
                Kind::Host => {
                    let h = next.hosts.iter_mut().find(|h| h.arn == arn).unwrap();
                    h.tags = apply_tags(&h.tags, change);
                }
                Kind::Connection => {
                    let c = next.connections.iter_mut().find(|c| c.arn == arn).unwrap();
                    c.tags = apply_tags(&c.tags, change);
                }
                Kind::RepositoryLink => {
                    let l = next.links.iter_mut().find(|l| l.arn == arn).unwrap();
                    l.tags = apply_tags(&l.tags, change);
                }
                Kind::SyncConfiguration => unreachable!("sync configurations have no tags"),
            }
        }
        let second = plan_target(&t, &next, LABEL, &Options::default());
        for change in &second.changes {
            // By ARN: host names repeat (an extra copy is another host).
            let again = first.changes.iter().any(|c| {
                c.kind == change.kind
                    && c.arn == change.arn
                    && matches!(c.action, Action::Update | Action::Adopt)
                    && !c.updates_fields()
            });
            prop_assert!(!again, "still to change after its tags were applied: {:#?}", change);
        }
    }
}

/// The generators are only worth their properties if random files and
/// accounts reach every action and every guard the planner has.
#[test]
fn the_generators_reach_every_action_and_guard() {
    let mut runner = TestRunner::deterministic();
    let strategy = (arb_target(), arb_snapshot(), arb_options());
    let mut actions = std::collections::BTreeSet::new();
    let mut guards = Vec::new();
    let mut update_host = false;
    for _ in 0..256 {
        let (t, live, opts) = strategy.new_tree(&mut runner).unwrap().current();
        let plan = plan_target(&t, &live, LABEL, &opts);
        actions.extend(plan.changes.iter().map(|c| c.action));
        update_host |= plan.changes.iter().any(|c| c.updates_fields());
        for r in plan.refusals {
            if !guards.contains(&r.guard) {
                guards.push(r.guard);
            }
        }
    }
    use Action::*;
    assert_eq!(
        actions.into_iter().collect::<Vec<_>>(),
        [Create, Update, Replace, Delete, Adopt]
    );
    assert!(update_host, "no host endpoint or VPC update generated");
    for guard in [
        Guard::UnmanagedName,
        Guard::ForeignOwner,
        Guard::AmbiguousHost,
        Guard::ReplaceNotAllowed,
        Guard::Protected,
        Guard::TooMuchChange,
        Guard::HostInUse,
        Guard::HostNotFound,
    ] {
        assert!(
            guards.contains(&guard),
            "{guard:?} never reached; saw {guards:?}"
        );
    }
}
