//! Carrying out a plan against the API.
//!
//! Per target, in the order of [`STEPS`]: delete what is being replaced,
//! users before what they use (sync configurations, links, connections,
//! hosts), each kind with the deletes that must go before (what uses a
//! resource being replaced); create and update hosts, connections (with
//! the new host ARNs), links (with the new connection ARNs), sync
//! configurations (with the new link ids); change tags; then the other
//! deletes, sync configurations first, hosts last.
//! Targets run concurrently; within a step, up to `--concurrency` calls at
//! once. Every change ends as done, failed, refused or not attempted, and
//! its line is printed the moment that is known, so an apply stopped
//! part-way (by a failure or a signal) is never silent: running it again
//! converges.
//!
//! Other runs of the same stack may apply at the same time (two merges in a
//! row, a laptop and CI). A create first looks for its name and takes a
//! resource this stack already has instead of making a second one; host
//! names are not unique, so the connections of one host are created first
//! one, then the rest on whichever copy of the host that first one uses.

mod report;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::FutureExt;
use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};
use tokio::sync::Mutex;

use crate::call::{Failure, backoff};
use crate::interrupt::{self, Signal};
use crate::live::{self, Depth, LiveHost, Snapshot};
use crate::plan::{Action, Change, Field, Plan, Refusal, kept_copy, link_id_of};
use crate::resource::{
    Kind, MAX_CONNECTIONS_PER_REGION, MAX_HOSTS_PER_ACCOUNT, MAX_TAGS, Ownership, arn, ownership,
};
use crate::service::{Attempt, Link, NewConnection, NewHost, NewLink, SyncSettings};
use crate::spec;
use crate::targets::{OpenTarget, Targets};

pub(crate) use report::{Entry, Note, Outcome, Progress, Report};

use Action::{Adopt, Create, Delete, Replace, Update};

/// Apply every target's part of `plan`, concurrently.
pub(crate) async fn apply(targets: &Targets, plan: &Plan, progress: &Progress) -> Report {
    let reports = join_all(targets.targets.iter().map(|t| {
        let changes: Vec<Change> = plan
            .changes
            .iter()
            .filter(|c| c.target == t.label)
            .cloned()
            .collect();
        Executor::new(t, targets.concurrency, progress).run(changes)
    }))
    .await;
    Report {
        entries: reports.into_iter().flatten().collect(),
    }
}

/// What a step does to each change it picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// The delete half of a replacement (names must be free, and host names
    /// unambiguous, before the new one is created).
    DeleteOld,
    CreateHost,
    UpdateHost,
    CreateConnection,
    CreateLink,
    UpdateLink,
    CreateSync,
    UpdateSync,
    Retag,
    Delete,
}

/// One step of apply's order: what it does, to the changes of which kind
/// (any, if none) and actions, and which part of a change it does.
struct Step {
    work: Work,
    kind: Option<Kind>,
    actions: &'static [Action],
    part: Part,
}

/// Which part of a change a step carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// All of it.
    Whole,
    /// The first part of a replacement; its create step goes on with it.
    FirstOfReplace,
    /// The fields an update changes in place; the retag step goes on with
    /// it when its tags change too.
    Fields,
    /// Only the tags.
    Tags,
    /// A delete that must come before the replacements: of a resource that
    /// uses one this plan replaces (AWS refuses to delete a host that
    /// connections use, a link that sync configurations use), or that uses
    /// one deleted this early. The final delete steps leave these out.
    Frees,
}

const fn step(work: Work, kind: Option<Kind>, actions: &'static [Action], part: Part) -> Step {
    Step {
        work,
        kind,
        actions,
        part,
    }
}

/// Apply's order, per target.
const STEPS: [Step; 19] = [
    step(
        Work::DeleteOld,
        Some(Kind::SyncConfiguration),
        &[Replace],
        Part::FirstOfReplace,
    ),
    step(
        Work::Delete,
        Some(Kind::SyncConfiguration),
        &[Delete],
        Part::Frees,
    ),
    step(
        Work::DeleteOld,
        Some(Kind::RepositoryLink),
        &[Replace],
        Part::FirstOfReplace,
    ),
    step(
        Work::Delete,
        Some(Kind::RepositoryLink),
        &[Delete],
        Part::Frees,
    ),
    step(
        Work::DeleteOld,
        Some(Kind::Connection),
        &[Replace],
        Part::FirstOfReplace,
    ),
    step(Work::Delete, Some(Kind::Connection), &[Delete], Part::Frees),
    step(
        Work::DeleteOld,
        Some(Kind::Host),
        &[Replace],
        Part::FirstOfReplace,
    ),
    step(
        Work::CreateHost,
        Some(Kind::Host),
        &[Create, Replace],
        Part::Whole,
    ),
    step(
        Work::UpdateHost,
        Some(Kind::Host),
        &[Update, Adopt],
        Part::Fields,
    ),
    step(
        Work::CreateConnection,
        Some(Kind::Connection),
        &[Create, Replace],
        Part::Whole,
    ),
    step(
        Work::CreateLink,
        Some(Kind::RepositoryLink),
        &[Create, Replace],
        Part::Whole,
    ),
    step(
        Work::UpdateLink,
        Some(Kind::RepositoryLink),
        &[Update, Adopt],
        Part::Fields,
    ),
    step(
        Work::CreateSync,
        Some(Kind::SyncConfiguration),
        &[Create, Replace],
        Part::Whole,
    ),
    step(
        Work::UpdateSync,
        Some(Kind::SyncConfiguration),
        &[Update, Adopt],
        Part::Fields,
    ),
    step(Work::Retag, None, &[Update, Adopt], Part::Tags),
    step(
        Work::Delete,
        Some(Kind::SyncConfiguration),
        &[Delete],
        Part::Whole,
    ),
    step(
        Work::Delete,
        Some(Kind::RepositoryLink),
        &[Delete],
        Part::Whole,
    ),
    step(Work::Delete, Some(Kind::Connection), &[Delete], Part::Whole),
    step(Work::Delete, Some(Kind::Host), &[Delete], Part::Whole),
];

impl Step {
    /// Whether this step does (part of) `c`; `frees` says whether `c` is a
    /// delete that must go before the replacements.
    fn picks(&self, c: &Change, frees: bool) -> bool {
        self.kind.is_none_or(|k| k == c.kind)
            && self.actions.contains(&c.action)
            && match self.part {
                Part::Whole => !frees,
                Part::FirstOfReplace => true,
                Part::Fields => c.updates_fields(),
                Part::Tags => !c.tags.is_empty(),
                Part::Frees => frees,
            }
    }

    /// Whether a later step goes on with a change this step did.
    fn continues(&self, c: &Change) -> bool {
        match self.part {
            Part::FirstOfReplace => true,
            Part::Fields => !c.tags.is_empty(),
            Part::Whole | Part::Tags | Part::Frees => false,
        }
    }
}

/// The deletes among `changes` that must go before the replacements: of
/// resources that use one `changes` replaces, or one deleted this early.
fn freeing_replaced(changes: &[Change]) -> BTreeSet<Key> {
    let mut early: BTreeSet<Key> = BTreeSet::new();
    // Identities of what is gone before the replacements: the old halves,
    // then the early deletes, found kind by kind from what is used to what
    // uses it.
    let mut gone: Vec<(Kind, String)> = changes
        .iter()
        .filter(|c| c.action == Replace)
        .filter_map(|c| Some((c.kind, c.arn.clone()?)))
        .collect();
    for kind in [
        Kind::Connection,
        Kind::RepositoryLink,
        Kind::SyncConfiguration,
    ] {
        for c in changes
            .iter()
            .filter(|c| c.kind == kind && c.action == Delete)
        {
            let Some(before) = &c.before else { continue };
            let uses_gone = gone
                .iter()
                .any(|(used_kind, used)| match (kind, used_kind) {
                    (Kind::Connection, Kind::Host) => before
                        .text(Field::HostArn)
                        .is_some_and(|a| arn::same(a, used)),
                    (Kind::RepositoryLink, Kind::Connection) => before
                        .text(Field::ConnectionArn)
                        .is_some_and(|a| arn::same(a, used)),
                    (Kind::SyncConfiguration, Kind::RepositoryLink) => {
                        before.text(Field::RepositoryLinkId) == link_id_of(used)
                    }
                    _ => false,
                });
            if uses_gone {
                early.insert(key(c));
                if let Some(arn) = &c.arn {
                    gone.push((kind, arn.clone()));
                }
            }
        }
    }
    early
}

/// One step's run over the changes it picks, with what earlier steps left.
#[derive(Clone, Copy)]
struct Round<'r> {
    step: &'r Step,
    /// Each change's outcome so far.
    outcomes: &'r BTreeMap<Key, Outcome>,
    /// The account as read just before the first create.
    taken: Option<&'r Taken>,
}

/// A change within one target's apply. The ARN tells apart the update of a
/// host and the delete of its second copy, which share kind and name.
type Key = (Kind, String, Option<String>);

fn key(change: &Change) -> Key {
    (change.kind, change.name.clone(), change.arn.clone())
}

struct Executor<'a> {
    target: &'a OpenTarget,
    concurrency: usize,
    progress: &'a Progress,
    /// ARNs of the hosts connections should use, by host name: the ones
    /// this apply created or found.
    new_hosts: Mutex<BTreeMap<String, String>>,
    /// The host ARN each connection this apply created (or found) uses.
    connection_hosts: Mutex<BTreeMap<String, String>>,
    /// ARNs of the connections this apply created or found, by name, for
    /// the links that name them.
    new_connections: Mutex<BTreeMap<String, String>>,
    /// ARNs of the links this apply created or found, by `owner/name`, for
    /// the sync configurations that name them.
    new_links: Mutex<BTreeMap<String, String>>,
}

impl<'a> Executor<'a> {
    fn new(target: &'a OpenTarget, concurrency: usize, progress: &'a Progress) -> Executor<'a> {
        Executor {
            target,
            concurrency,
            progress,
            new_hosts: Mutex::new(BTreeMap::new()),
            connection_hosts: Mutex::new(BTreeMap::new()),
            new_connections: Mutex::new(BTreeMap::new()),
            new_links: Mutex::new(BTreeMap::new()),
        }
    }

    async fn run(self, changes: Vec<Change>) -> Vec<Entry> {
        // Each change's outcome so far. A change spanning several steps
        // (a replacement deletes then creates; a host update may also
        // retag) goes on only while it has not failed.
        let mut outcomes: BTreeMap<Key, Outcome> = BTreeMap::new();
        let mut taken: Option<Taken> = None;
        let frees = freeing_replaced(&changes);
        for step in &STEPS {
            let picked: Vec<&Change> = changes
                .iter()
                .filter(|c| step.picks(c, frees.contains(&key(c))))
                .filter(|c| {
                    outcomes
                        .get(&key(c))
                        .is_none_or(|o| matches!(o, Outcome::Done { .. }))
                })
                .collect();
            if picked.is_empty() {
                continue;
            }
            if matches!(
                step.work,
                Work::CreateHost | Work::CreateConnection | Work::CreateLink | Work::CreateSync
            ) && taken.is_none()
            {
                taken = Some(self.names_taken().await);
            }
            let round = Round {
                step,
                outcomes: &outcomes,
                taken: taken.as_ref(),
            };
            let entries = if step.work == Work::CreateConnection {
                self.create_connections(&round, &picked).await
            } else {
                self.step(&round, &picked).await
            };
            for entry in entries {
                outcomes.insert(key(&entry.change), entry.outcome);
            }
        }
        changes
            .into_iter()
            .map(|change| {
                let outcome = outcomes.remove(&key(&change)).unwrap_or_else(|| {
                    let outcome = Outcome::NotAttempted(
                        "no step of apply carries out this change".to_owned(),
                    );
                    self.progress.ended(&Entry {
                        change: change.clone(),
                        outcome: outcome.clone(),
                    });
                    outcome
                });
                Entry { change, outcome }
            })
            .collect()
    }

    /// Run `step` on the `picked` changes, `concurrency` at a time, each
    /// reported the moment it ends (unless a later step goes on with it).
    /// Once the command is interrupted, no change starts.
    async fn step(&self, round: &Round<'_>, picked: &[&Change]) -> Vec<Entry> {
        let Round {
            step,
            outcomes,
            taken,
        } = *round;
        stream::iter(picked.iter().copied())
            .map(|change| async move {
                let outcome = match interrupt::requested() {
                    Some(signal) => interrupted(change, outcomes.get(&key(change)), signal),
                    None => self.work(step.work, change, taken).await,
                };
                let entry = Entry {
                    change: change.clone(),
                    outcome,
                };
                let done = matches!(entry.outcome, Outcome::Done { .. });
                if !(done && step.continues(change)) {
                    self.progress.ended(&entry);
                }
                entry
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await
    }

    async fn work(&self, work: Work, change: &Change, taken: Option<&Taken>) -> Outcome {
        let taken = || taken.expect("the name check runs before any create");
        match work {
            Work::DeleteOld => self.delete_for_replace(change).await,
            Work::CreateHost => self.create_host(change, taken()).await,
            Work::UpdateHost => self.update_host(change).await,
            Work::CreateConnection => self.create_connection(change, taken()).await,
            Work::CreateLink => self.create_link(change, taken()).await,
            Work::UpdateLink => self.update_link(change).await,
            Work::CreateSync => self.create_sync(change, taken()).await,
            Work::UpdateSync => self.update_sync(change).await,
            Work::Retag => self.retag(change).await,
            Work::Delete => self.delete(change).await,
        }
    }

    /// Connections through a host of the file are created first one (by
    /// name) per host, then the rest on the copy of the host that first one
    /// uses: if another run created the first one on its own copy of the
    /// host, this run follows it instead of splitting the connections over
    /// two copies.
    async fn create_connections(&self, round: &Round<'_>, picked: &[&Change]) -> Vec<Entry> {
        let mut first_of_host: BTreeMap<&str, &str> = BTreeMap::new();
        for change in picked {
            if let Some(host) = change.after.as_ref().and_then(|a| a.text(Field::Host)) {
                let first = first_of_host.entry(host).or_insert(&change.name);
                if change.name.as_str() < *first {
                    *first = &change.name;
                }
            }
        }
        let follows = |c: &Change| {
            c.after
                .as_ref()
                .and_then(|a| a.text(Field::Host))
                .and_then(|host| first_of_host.get(host))
                .is_some_and(|first| *first != c.name)
        };
        let (followers, leaders): (Vec<&Change>, Vec<&Change>) =
            picked.iter().copied().partition(|c| follows(c));
        let mut entries = self.step(round, &leaders).await;
        {
            let used = self.connection_hosts.lock().await;
            let mut hosts = self.new_hosts.lock().await;
            for (host, first) in &first_of_host {
                if let Some(arn) = used.get(*first) {
                    hosts.insert((*host).to_owned(), arn.clone());
                }
            }
        }
        entries.extend(self.step(round, &followers).await);
        entries
    }

    /// The API the target asked for: lists and creates.
    fn main(&self) -> &Link {
        self.target.account.apis.main()
    }

    /// The API of an existing resource: the one its ARN's prefix names.
    fn api_of(&self, arn: &str) -> &Link {
        self.target.account.apis.for_arn(arn)
    }

    fn stack(&self) -> &str {
        &self.target.spec.stack
    }

    fn spec_host(&self, name: &str) -> Option<&spec::Host> {
        self.target.spec.hosts.iter().find(|h| h.name == name)
    }

    async fn delete_for_replace(&self, change: &Change) -> Outcome {
        match self.delete(change).await {
            Outcome::Done { .. } => Outcome::Done {
                arn: None,
                note: None,
            },
            Outcome::Failed(why) => Outcome::Failed(format!(
                "deleting the old {} failed, so the new one was not created: {why}",
                change.kind
            )),
            other => other,
        }
    }

    async fn delete(&self, change: &Change) -> Outcome {
        let result = match (change.kind, change.arn.clone()) {
            (Kind::SyncConfiguration, _) => {
                let sync_type = change
                    .before
                    .as_ref()
                    .and_then(|b| b.text(Field::SyncType))
                    .unwrap_or(spec::CFN_STACK_SYNC);
                let api = self.main();
                api.channel
                    .call(true, || {
                        api.service
                            .delete_sync_configuration(&change.name, sync_type)
                    })
                    .await
            }
            (_, None) => return Outcome::Failed("the plan has no ARN for it".to_owned()),
            (Kind::Connection, Some(arn)) => {
                let api = self.api_of(&arn);
                api.channel
                    .call(true, || api.service.delete_connection(&arn))
                    .await
            }
            (Kind::Host, Some(arn)) => {
                let api = self.api_of(&arn);
                api.channel
                    .call(true, || api.service.delete_host(&arn))
                    .await
            }
            (Kind::RepositoryLink, Some(arn)) => {
                let Some(id) = link_id_of(&arn) else {
                    return Outcome::Failed(format!("{arn} is not a repository link ARN"));
                };
                let api = self.api_of(&arn);
                api.channel
                    .call(true, || api.service.delete_repository_link(id))
                    .await
            }
        };
        match result {
            Ok(()) => Outcome::Done {
                arn: change.arn.clone(),
                note: None,
            },
            // A retried delete whose first attempt went through.
            Err(Failure::NotFound(_)) => Outcome::Done {
                arn: change.arn.clone(),
                note: Some(Note::AlreadyGone),
            },
            Err(failure) => failed(failure),
        }
    }

    /// Every resource of the account, read once just before the first
    /// create: names someone took since the plan.
    async fn names_taken(&self) -> Taken {
        match live::read(&self.target.account, self.concurrency, Depth::Configuration).await {
            Ok(snapshot) => Taken::Read(snapshot),
            Err(e) => Taken::Unreadable(e.to_string()),
        }
    }

    /// The live resource of the change's kind and name this stack already
    /// has (created since this run read the account), or a refusal when
    /// someone else has the name. Of several copies of a host, the one
    /// every run agrees to keep.
    fn claim_existing(
        &self,
        change: &Change,
        live: &Snapshot,
    ) -> Result<Option<Existing>, Outcome> {
        let same: Vec<&dyn live::Live> = live
            .resources()
            .filter(|r| r.kind() == change.kind && r.name() == change.name)
            .collect();
        let ours = if change.kind == Kind::Host {
            let mine: Vec<&LiveHost> = live
                .hosts
                .iter()
                .filter(|h| h.name == change.name)
                .filter(|h| ownership(&h.tags, self.stack()) == Ownership::Managed)
                .collect();
            (!mine.is_empty()).then(|| Existing {
                arn: Some(kept_copy(&mine, &live.connections).arn.clone()),
                host_arn: None,
            })
        } else {
            same.iter()
                .find(|r| ownership(r.tags(), self.stack()) == Ownership::Managed)
                .map(|r| Existing {
                    arn: r.arn().map(str::to_owned),
                    host_arn: (r.kind() == Kind::Connection)
                        .then(|| r.uses().map(str::to_owned))
                        .flatten(),
                })
        };
        if ours.is_some() {
            return Ok(ours);
        }
        match same.first() {
            None => Ok(None),
            Some(other) => {
                let owner = match ownership(other.tags(), self.stack()) {
                    Ownership::Foreign(stack) => Some(stack),
                    _ => None,
                };
                Err(Outcome::Refused(Box::new(Refusal::collision(
                    &change.target,
                    change.kind,
                    &change.name,
                    other.arn().or(other.uses()).unwrap_or_default(),
                    owner.as_deref(),
                ))))
            }
        }
    }

    /// The name check just before a create: `Ok(None)` to go ahead,
    /// `Ok(Some(existing))` when another run of this stack created it since
    /// this one read the account, `Err` when the name cannot be checked or
    /// someone else took it.
    fn before_create(&self, change: &Change, taken: &Taken) -> Result<Option<Existing>, Outcome> {
        match taken {
            Taken::Unreadable(why) => Err(Outcome::NotAttempted(format!(
                "could not re-check the name before creating: {why}"
            ))),
            Taken::Read(live) => self.claim_existing(change, live),
        }
    }

    async fn create_host(&self, change: &Change, taken: &Taken) -> Outcome {
        let outcome = match self.before_create(change, taken) {
            Err(outcome) => outcome,
            Ok(Some(existing)) => Outcome::Done {
                arn: existing.arn,
                note: Some(Note::CreatedByAnotherRun),
            },
            Ok(None) => self.create_new_host(change).await,
        };
        if let Outcome::Done { arn: Some(arn), .. } = &outcome {
            self.new_hosts
                .lock()
                .await
                .insert(change.name.clone(), arn.clone());
        }
        outcome
    }

    async fn create_new_host(&self, change: &Change) -> Outcome {
        let Some(host) = self.spec_host(&change.name) else {
            return Outcome::Failed("the file no longer has this host".to_owned());
        };
        let new = NewHost {
            name: host.name.clone(),
            provider_type: host.provider_type.as_str().to_owned(),
            provider_endpoint: host.provider_endpoint.clone(),
            vpc: host.vpc.clone(),
            tags: change
                .after
                .as_ref()
                .map(|a| a.tags.clone())
                .unwrap_or_default(),
        };
        let api = self.main();
        self.create_once(
            change,
            api,
            || api.service.create_host(&new).map(|r| r.map(Some)),
            &mut None,
        )
        .await
    }

    async fn create_connection(&self, change: &Change, taken: &Taken) -> Outcome {
        let (outcome, host_arn) = match self.before_create(change, taken) {
            Err(outcome) => (outcome, None),
            Ok(Some(existing)) => (
                Outcome::Done {
                    arn: existing.arn,
                    note: Some(Note::CreatedByAnotherRun),
                },
                existing.host_arn,
            ),
            Ok(None) => self.create_new_connection(change).await,
        };
        if let (Outcome::Done { .. }, Some(host_arn)) = (&outcome, host_arn) {
            self.connection_hosts
                .lock()
                .await
                .insert(change.name.clone(), host_arn);
        }
        if let Outcome::Done { arn: Some(arn), .. } = &outcome {
            self.new_connections
                .lock()
                .await
                .insert(change.name.clone(), arn.clone());
        }
        outcome
    }

    /// Create the connection; the outcome, and the host ARN the connection
    /// (made or found) uses.
    async fn create_new_connection(&self, change: &Change) -> (Outcome, Option<String>) {
        let Some(after) = &change.after else {
            return (
                Outcome::Failed("the plan has no desired state for it".to_owned()),
                None,
            );
        };
        // A host of the file: the copy this apply settled on (created,
        // found, or the one its first connection uses), else the live one
        // the plan resolved. A host managed elsewhere: its ARN.
        let host = after.text(Field::Host);
        let settled = match host {
            Some(host) => self.new_hosts.lock().await.get(host).cloned(),
            None => None,
        };
        let known = after.text(Field::HostArn).map(str::to_owned);
        let host_arn = match (settled, known, host) {
            (Some(arn), _, _) | (None, Some(arn), _) => Some(arn),
            (None, None, Some(host)) => {
                return (
                    Outcome::NotAttempted(format!("its host {host:?} was not created")),
                    None,
                );
            }
            (None, None, None) => None,
        };
        // The older API refuses a host ARN of the newer prefix: a connection
        // on such a host is created through the newer API (and carries its
        // prefix).
        let api = match &host_arn {
            Some(host) => self.target.account.apis.to_create_on(host),
            None => self.main(),
        };
        let new = NewConnection {
            name: change.name.clone(),
            provider_type: match &host_arn {
                Some(_) => None,
                None => after.text(Field::ProviderType).map(str::to_owned),
            },
            host_arn: host_arn.clone(),
            tags: after.tags.clone(),
        };
        let mut found_host = None;
        let outcome = self
            .create_once(
                change,
                api,
                || api.service.create_connection(&new).map(|r| r.map(Some)),
                &mut found_host,
            )
            .await;
        let used = match &outcome {
            Outcome::Done { note: None, .. }
            | Outcome::Done {
                note: Some(Note::AfterRetry),
                ..
            } => host_arn,
            _ => found_host,
        };
        (outcome, used)
    }

    /// Create a resource (`create` answers its ARN, if it has one) without
    /// ever creating it twice: after a failure that may have committed, or
    /// a name the service says is taken, look for it (by name and stack tag)
    /// before trying again. `found_host` receives the host of a connection
    /// found that way.
    async fn create_once<F, Fut>(
        &self,
        change: &Change,
        api: &Link,
        mut create: F,
        found_host: &mut Option<String>,
    ) -> Outcome
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<String>, Attempt>>,
    {
        const ATTEMPTS: u32 = 6;
        // The last attempt whose answer was lost: it may have created it.
        let mut lost: Option<String> = None;
        for attempt in 0..ATTEMPTS {
            match api.channel.call(false, &mut create).await {
                Ok(arn) => {
                    return Outcome::Done {
                        arn,
                        note: (attempt > 0).then_some(Note::AfterRetry),
                    };
                }
                Err(Failure::Quota(message)) => {
                    return Outcome::Failed(quota_message(change.kind, &message));
                }
                Err(Failure::Ambiguous(message)) => lost = Some(message),
                // A name the service says is taken: by another run of this
                // stack, by a lost attempt of this one, or by someone else.
                Err(Failure::Rejected {
                    code: Some(code), ..
                }) if name_taken(change.kind, &code) => {}
                Err(Failure::Interrupted { after }) => {
                    return match after.or(lost) {
                        None => Outcome::NotAttempted(not_started(signal_now())),
                        Some(why) => Outcome::NotAttempted(format!(
                            "interrupted by {} after an attempt whose answer was lost ({why}): \
                             it may exist now. Run apply again: it finds a resource this stack \
                             created and keeps it instead of creating another",
                            signal_now().name()
                        )),
                    };
                }
                Err(failure) => {
                    return Outcome::Failed(match lost {
                        None => failure.message(),
                        Some(why) => format!(
                            "{}; an earlier attempt's answer was lost ({why}), so it may exist \
                             now: run apply again, it finds it instead of creating another",
                            failure.message()
                        ),
                    });
                }
            }
            let looked =
                live::read(&self.target.account, self.concurrency, Depth::Configuration).await;
            match looked.map(|live| self.claim_existing(change, &live)) {
                Ok(Ok(Some(existing))) => {
                    *found_host = existing.host_arn;
                    return Outcome::Done {
                        arn: existing.arn,
                        note: Some(match lost {
                            Some(why) => Note::FoundAfterLostAnswer(why),
                            None => Note::CreatedByAnotherRun,
                        }),
                    };
                }
                Ok(Ok(None)) if lost.is_some() => tokio::time::sleep(backoff(attempt)).await,
                // The service said the name is taken, yet nothing of this
                // stack has it and nobody else does: it went away again.
                Ok(Ok(None)) => tokio::time::sleep(backoff(attempt)).await,
                Ok(Err(refused)) => return refused,
                // Trying again blind could make a second one (host names
                // are not unique): stop, and let the next apply find it.
                Err(why) => {
                    return Outcome::Failed(format!(
                        "{}; then could not look for it ({why}), so it was not tried again: it \
                         may exist now. Run apply again: it finds a resource this stack created \
                         and keeps it instead of creating another",
                        lost.as_deref()
                            .unwrap_or("the service said the name is taken")
                    ));
                }
            }
        }
        Outcome::Failed(format!(
            "not created after {ATTEMPTS} attempts: {}",
            lost.as_deref()
                .unwrap_or("the service kept saying the name is taken")
        ))
    }

    /// The ARN of the connection a link's state names: the one this apply
    /// created or found for a connection of the file, else the one the plan
    /// resolved.
    async fn connection_of(&self, state: &crate::plan::State) -> Result<String, Outcome> {
        let name = state.text(Field::Connection);
        let settled = match name {
            Some(name) => self.new_connections.lock().await.get(name).cloned(),
            None => None,
        };
        match (settled, state.text(Field::ConnectionArn), name) {
            (Some(arn), _, _) => Ok(arn),
            (None, Some(arn), _) => Ok(arn.to_owned()),
            (None, None, Some(name)) => Err(Outcome::NotAttempted(format!(
                "its connection {name:?} was not created"
            ))),
            (None, None, None) => Err(Outcome::Failed(
                "the plan names no connection for it".to_owned(),
            )),
        }
    }

    /// The id of the link a sync configuration's state names: the one this
    /// apply created or found, else the one the plan resolved.
    async fn link_of(&self, state: &crate::plan::State) -> Result<String, Outcome> {
        let repository = state.text(Field::Repository).unwrap_or_default();
        let settled = self.new_links.lock().await.get(repository).cloned();
        match (settled, state.text(Field::RepositoryLinkId)) {
            (Some(arn), _) => link_id_of(&arn)
                .map(str::to_owned)
                .ok_or_else(|| Outcome::Failed(format!("{arn} is not a repository link ARN"))),
            (None, Some(id)) => Ok(id.to_owned()),
            (None, None) => Err(Outcome::NotAttempted(format!(
                "its repository link {repository:?} was not created"
            ))),
        }
    }

    async fn create_link(&self, change: &Change, taken: &Taken) -> Outcome {
        let outcome = match self.before_create(change, taken) {
            Err(outcome) => outcome,
            Ok(Some(existing)) => Outcome::Done {
                arn: existing.arn,
                note: Some(Note::CreatedByAnotherRun),
            },
            Ok(None) => self.create_new_link(change).await,
        };
        if let Outcome::Done { arn: Some(arn), .. } = &outcome {
            self.new_links
                .lock()
                .await
                .insert(change.name.clone(), arn.clone());
        }
        outcome
    }

    async fn create_new_link(&self, change: &Change) -> Outcome {
        let Some(after) = &change.after else {
            return Outcome::Failed("the plan has no desired state for it".to_owned());
        };
        let connection_arn = match self.connection_of(after).await {
            Ok(arn) => arn,
            Err(outcome) => return outcome,
        };
        let Some((owner_id, repository_name)) = change.name.rsplit_once('/') else {
            return Outcome::Failed(format!("{:?} is not owner/name", change.name));
        };
        let new = NewLink {
            owner_id: owner_id.to_owned(),
            repository_name: repository_name.to_owned(),
            connection_arn,
            encryption_key_arn: after.text(Field::EncryptionKeyArn).map(str::to_owned),
            tags: after.tags.clone(),
        };
        let api = self.main();
        self.create_once(
            change,
            api,
            || {
                api.service
                    .create_repository_link(&new)
                    .map(|r| r.map(Some))
            },
            &mut None,
        )
        .await
    }

    async fn update_link(&self, change: &Change) -> Outcome {
        let (Some(arn), Some(after)) = (change.arn.clone(), change.after.as_ref()) else {
            return Outcome::Failed("the plan has no ARN or desired state for it".to_owned());
        };
        let Some(id) = link_id_of(&arn) else {
            return Outcome::Failed(format!("{arn} is not a repository link ARN"));
        };
        let connection_arn = match self.connection_of(after).await {
            Ok(arn) => arn,
            Err(outcome) => return outcome,
        };
        let key = after.text(Field::EncryptionKeyArn);
        let api = self.api_of(&arn);
        let result = api
            .channel
            .call(true, || {
                api.service.update_repository_link(id, &connection_arn, key)
            })
            .await;
        match result {
            Ok(()) => Outcome::Done {
                arn: Some(arn),
                note: None,
            },
            Err(failure) => failed(failure),
        }
    }

    /// What a sync configuration's state asks for, its link resolved.
    async fn sync_settings(&self, change: &Change) -> Result<SyncSettings, Outcome> {
        let Some(after) = &change.after else {
            return Err(Outcome::Failed(
                "the plan has no desired state for it".to_owned(),
            ));
        };
        let text = |field| after.text(field).map(str::to_owned);
        Ok(SyncSettings {
            resource_name: change.name.clone(),
            sync_type: text(Field::SyncType).unwrap_or_else(|| spec::CFN_STACK_SYNC.to_owned()),
            link_id: self.link_of(after).await?,
            branch: text(Field::Branch).unwrap_or_default(),
            config_file: text(Field::ConfigFile).unwrap_or_default(),
            role_arn: text(Field::RoleArn).unwrap_or_default(),
            publish_deployment_status: text(Field::PublishDeploymentStatus),
            trigger_resource_update_on: text(Field::TriggerResourceUpdateOn),
            pull_request_comment: text(Field::PullRequestComment),
        })
    }

    async fn create_sync(&self, change: &Change, taken: &Taken) -> Outcome {
        match self.before_create(change, taken) {
            Err(outcome) => outcome,
            Ok(Some(_)) => Outcome::Done {
                arn: None,
                note: Some(Note::CreatedByAnotherRun),
            },
            Ok(None) => {
                let settings = match self.sync_settings(change).await {
                    Ok(settings) => settings,
                    Err(outcome) => return outcome,
                };
                let api = self.main();
                self.create_once(
                    change,
                    api,
                    || {
                        api.service
                            .create_sync_configuration(&settings)
                            .map(|r| r.map(|()| None))
                    },
                    &mut None,
                )
                .await
            }
        }
    }

    async fn update_sync(&self, change: &Change) -> Outcome {
        let settings = match self.sync_settings(change).await {
            Ok(settings) => settings,
            Err(outcome) => return outcome,
        };
        let api = self.main();
        let result = api
            .channel
            .call(true, || api.service.update_sync_configuration(&settings))
            .await;
        match result {
            Ok(()) => Outcome::Done {
                arn: None,
                note: None,
            },
            Err(failure) => failed(failure),
        }
    }

    async fn update_host(&self, change: &Change) -> Outcome {
        let (Some(arn), Some(host)) = (change.arn.clone(), self.spec_host(&change.name)) else {
            return Outcome::Failed("the plan and the file disagree about this host".to_owned());
        };
        let api = self.api_of(&arn);
        let result = api
            .channel
            .call(true, || {
                api.service
                    .update_host(&arn, &host.provider_endpoint, host.vpc.as_ref())
            })
            .await;
        match result {
            Ok(_) => Outcome::Done {
                arn: Some(arn),
                note: None,
            },
            Err(failure) => failed(failure),
        }
    }

    async fn retag(&self, change: &Change) -> Outcome {
        let Some(arn) = change.arn.clone() else {
            return Outcome::Failed("the plan has no ARN for it".to_owned());
        };
        let api = self.api_of(&arn);
        if !change.tags.remove.is_empty() {
            let keys = change.tags.remove.clone();
            let result = api
                .channel
                .call(true, || api.service.untag(&arn, &keys))
                .await;
            if let Err(failure) = result {
                return match failed(failure) {
                    Outcome::Failed(why) => {
                        Outcome::Failed(format!("removing tags {}: {why}", keys.join(", ")))
                    }
                    other => other,
                };
            }
        }
        let write = change.tags.to_write();
        if !write.is_empty() {
            let result = api
                .channel
                .call(true, || api.service.tag(&arn, &write))
                .await;
            match result {
                Ok(_) => {}
                Err(Failure::Quota(aws_says)) => {
                    return Outcome::Failed(format!(
                        "writing tags: {}",
                        quota_reached(&format!("at most {MAX_TAGS} tags per resource"), &aws_says)
                    ));
                }
                Err(failure) if change.tags.remove.is_empty() => return failed(failure),
                // The removals went through: say so, whatever stopped the rest.
                Err(failure) => {
                    return Outcome::Failed(format!(
                        "tags {} were removed, but writing the others failed: {}",
                        change.tags.remove.join(", "),
                        failure.message()
                    ));
                }
            }
        }
        Outcome::Done {
            arn: Some(arn),
            note: None,
        }
    }
}

/// What a create found already there.
struct Existing {
    /// `None` for a sync configuration, which has none.
    arn: Option<String>,
    /// A connection's host.
    host_arn: Option<String>,
}

/// The account read just before the first create, or why it could not be.
enum Taken {
    Read(Snapshot),
    Unreadable(String),
}

/// A failed call as a change's outcome: one that was never sent because the
/// command was interrupted did not fail.
fn failed(failure: Failure) -> Outcome {
    match failure {
        Failure::Interrupted { after: None } => Outcome::NotAttempted(not_started(signal_now())),
        other => Outcome::Failed(other.message()),
    }
}

/// The signal that interrupted the command (called only once it has).
fn signal_now() -> Signal {
    interrupt::requested().unwrap_or(Signal::Interrupt)
}

fn not_started(signal: Signal) -> String {
    format!("not started: interrupted by {}", signal.name())
}

/// A change the interrupt stopped: before it began, or between its steps
/// (saying exactly what of it was done).
fn interrupted(change: &Change, so_far: Option<&Outcome>, signal: Signal) -> Outcome {
    if !matches!(so_far, Some(Outcome::Done { .. })) {
        return Outcome::NotAttempted(not_started(signal));
    }
    let done = match (change.action, change.kind) {
        (Action::Replace, kind) => {
            format!("the old {kind} was deleted and the new one was not created")
        }
        (_, Kind::RepositoryLink) => {
            "its connection and key were updated, its tags were not".to_owned()
        }
        _ => "its endpoint and VPC configuration were updated, its tags were not".to_owned(),
    };
    Outcome::NotAttempted(format!(
        "interrupted by {} part-way: {done}; run apply again to finish",
        signal.name()
    ))
}

/// Whether a create's error `code` says the name is already taken. Host
/// names are not unique, so no answer means that for a host.
fn name_taken(kind: Kind, code: &str) -> bool {
    match kind {
        Kind::Connection => code == "ResourceUnavailableException",
        Kind::RepositoryLink | Kind::SyncConfiguration => code == "ResourceAlreadyExistsException",
        Kind::Host => false,
    }
}

fn quota_message(kind: Kind, aws_says: &str) -> String {
    let quota = match kind {
        Kind::Connection => {
            format!("at most {MAX_CONNECTIONS_PER_REGION} connections per account and Region")
        }
        Kind::Host => format!("at most {MAX_HOSTS_PER_ACCOUNT} hosts per account"),
        Kind::RepositoryLink => "the repository links of the account and Region".to_owned(),
        Kind::SyncConfiguration => "the sync configurations of the account and Region".to_owned(),
    };
    quota_reached(&quota, aws_says)
}

fn quota_reached(quota: &str, aws_says: &str) -> String {
    format!(
        "a service quota was reached: {quota}. AWS says: {aws_says}. Delete unused resources, \
         or request a quota increase in the Service Quotas console, then run apply again"
    )
}
