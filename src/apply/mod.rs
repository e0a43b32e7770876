//! Carrying out a plan against the API.
//!
//! Per target, in this order: delete what is being replaced (connections,
//! then hosts), create hosts, update hosts, create connections (with the new
//! host ARNs), change tags, delete connections, delete hosts. Targets run
//! concurrently; within a step, up to `--concurrency` calls at once. Every
//! change ends as done, failed, refused or not attempted, and the report
//! says which, so an apply stopped part-way is never silent: running it
//! again converges.

use std::collections::BTreeMap;

use aws_sdk_codestarconnections::Client;
use aws_sdk_codestarconnections::types::{ProviderType, Tag, VpcConfiguration};
use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};
use tokio::sync::Mutex;

use crate::live::{self, Ownership, ownership};
use crate::plan::{Action, Change, Plan, Refusal};
use crate::resource::{Kind, Tags};
use crate::spec;
use crate::targets::{OpenTarget, Targets};

use crate::call::{Failure, Pace, backoff, paced};

/// How one change ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done {
        arn: Option<String>,
        note: Option<String>,
    },
    Failed(String),
    Refused(Box<Refusal>),
    NotAttempted(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub change: Change,
    pub outcome: Outcome,
}

/// What an apply did, change by change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_) | Outcome::NotAttempted(_)))
    }
    pub fn refused(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Refused(_)))
    }
    pub fn done(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done { .. }))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.entries.iter().filter(|e| f(&e.outcome)).count()
    }
}

/// Reports each change as it ends: a progress bar on a terminal, a line per
/// change otherwise (CI logs).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(total: usize, terminal: bool) -> Progress {
        let bar = (terminal && total > 0).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} changes {msg}")
                    .expect("the template is valid"),
            );
            bar
        });
        Progress { bar }
    }

    fn ended(&self, entry: &Entry) {
        let line = describe(entry);
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One line for a change's outcome, as the report and progress print it.
pub fn describe(entry: &Entry) -> String {
    let c = &entry.change;
    let what = format!("{} {:?} ({})", c.kind, c.name, c.target);
    match &entry.outcome {
        Outcome::Done { arn, note } => {
            let verb = match c.action {
                Action::Create => "created",
                Action::Update => "updated",
                Action::Replace => "replaced",
                Action::Delete => "deleted",
                Action::Adopt => "adopted",
            };
            let mut line = format!("  ok      {what} {verb}");
            if let Some(arn) = arn {
                line.push_str(&format!(": {arn}"));
            }
            if let Some(note) = note {
                line.push_str(&format!(" ({note})"));
            }
            line
        }
        Outcome::Failed(why) => format!("  FAILED  {what} {}: {why}", c.action.as_str()),
        Outcome::Refused(r) => format!(
            "  REFUSED {what}: {}\n          hint: {}",
            r.message, r.hint
        ),
        Outcome::NotAttempted(why) => format!("  skipped {what} {}: {why}", c.action.as_str()),
    }
}

/// Apply every target's part of `plan`, concurrently.
pub async fn apply(targets: &Targets, plan: &Plan, progress: &Progress) -> Report {
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

struct Executor<'a> {
    target: &'a OpenTarget,
    pace: Pace,
    concurrency: usize,
    progress: &'a Progress,
    /// ARNs of hosts created by this apply, by name.
    new_hosts: Mutex<BTreeMap<String, String>>,
}

impl<'a> Executor<'a> {
    fn new(target: &'a OpenTarget, concurrency: usize, progress: &'a Progress) -> Executor<'a> {
        Executor {
            target,
            pace: Pace::default(),
            concurrency,
            progress,
            new_hosts: Mutex::new(BTreeMap::new()),
        }
    }

    async fn run(self, changes: Vec<Change>) -> Vec<Entry> {
        // Each change's outcome so far. A change spanning several steps
        // (a replacement deletes then creates; a host update may also
        // retag) goes on only while it has not failed.
        let mut outcomes: BTreeMap<(Kind, String), Outcome> = BTreeMap::new();
        let healthy = |c: &Change, outcomes: &BTreeMap<(Kind, String), Outcome>| {
            outcomes
                .get(&key(c))
                .is_none_or(|o| matches!(o, Outcome::Done { .. }))
        };
        let of =
            |kind: Kind, action: Action| move |c: &Change| c.kind == kind && c.action == action;
        let creates = |kind: Kind| {
            move |c: &Change| c.kind == kind && matches!(c.action, Action::Create | Action::Replace)
        };

        // Replacement is delete-then-create: connection names are unique,
        // and host names must stay unambiguous.
        let step = self
            .step(&changes, of(Kind::Connection, Action::Replace), |c| {
                self.delete_for_replace(c)
            })
            .await;
        self.record(&mut outcomes, step, &|_| true);
        let step = self
            .step(&changes, of(Kind::Host, Action::Replace), |c| {
                self.delete_for_replace(c)
            })
            .await;
        self.record(&mut outcomes, step, &|_| true);

        let taken = self.names_taken(&changes).await;
        let step = self
            .step(
                &changes,
                |c| creates(Kind::Host)(c) && healthy(c, &outcomes),
                |c| self.create_host(c, &taken),
            )
            .await;
        self.record(&mut outcomes, step, &|_| false);

        let step = self
            .step(
                &changes,
                |c| {
                    c.kind == Kind::Host
                        && c.update_host
                        && matches!(c.action, Action::Update | Action::Adopt)
                },
                |c| self.update_host(c),
            )
            .await;
        self.record(&mut outcomes, step, &|c| !c.tags.is_empty());

        let step = self
            .step(
                &changes,
                |c| creates(Kind::Connection)(c) && healthy(c, &outcomes),
                |c| self.create_connection(c, &taken),
            )
            .await;
        self.record(&mut outcomes, step, &|_| false);

        let step = self
            .step(
                &changes,
                |c| {
                    matches!(c.action, Action::Update | Action::Adopt)
                        && !c.tags.is_empty()
                        && healthy(c, &outcomes)
                },
                |c| self.retag(c),
            )
            .await;
        self.record(&mut outcomes, step, &|_| false);

        let step = self
            .step(&changes, of(Kind::Connection, Action::Delete), |c| {
                self.delete(c)
            })
            .await;
        self.record(&mut outcomes, step, &|_| false);
        let step = self
            .step(&changes, of(Kind::Host, Action::Delete), |c| self.delete(c))
            .await;
        self.record(&mut outcomes, step, &|_| false);

        changes
            .into_iter()
            .map(|change| {
                let outcome = outcomes.remove(&key(&change)).unwrap_or_else(|| {
                    Outcome::NotAttempted("an earlier step for it did not complete".to_owned())
                });
                Entry { change, outcome }
            })
            .collect()
    }

    /// Keep each change's latest outcome; report it unless a later step
    /// continues that change.
    fn record(
        &self,
        outcomes: &mut BTreeMap<(Kind, String), Outcome>,
        step: Vec<Entry>,
        continues: &dyn Fn(&Change) -> bool,
    ) {
        for entry in step {
            let done = matches!(entry.outcome, Outcome::Done { .. });
            if !(done && continues(&entry.change)) {
                self.progress.ended(&entry);
            }
            outcomes.insert(key(&entry.change), entry.outcome);
        }
    }

    /// Run `work` on every change `select` picks, `concurrency` at a time.
    async fn step<'c, S, W, F>(&self, changes: &'c [Change], select: S, work: W) -> Vec<Entry>
    where
        S: Fn(&Change) -> bool,
        W: Fn(&'c Change) -> F,
        F: std::future::Future<Output = Outcome> + 'c,
    {
        stream::iter(changes.iter().filter(|c| select(c)))
            .map(|c| {
                let fut = work(c);
                async move {
                    Entry {
                        change: c.clone(),
                        outcome: fut.await,
                    }
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await
    }

    /// The target's client, with the SDK's own retries off: [`paced`]
    /// decides what may be retried.
    fn client(&self) -> &Client {
        &self.target.account.codestar
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
        let Some(arn) = change.arn.clone() else {
            return Outcome::Failed("the plan has no ARN for it".to_owned());
        };
        let result = match change.kind {
            Kind::Connection => paced(&self.pace, true, || {
                self.client()
                    .delete_connection()
                    .connection_arn(&arn)
                    .send()
            })
            .await
            .map(drop),
            Kind::Host => paced(&self.pace, true, || {
                self.client().delete_host().host_arn(&arn).send()
            })
            .await
            .map(drop),
        };
        match result {
            Ok(()) => Outcome::Done {
                arn: Some(arn),
                note: None,
            },
            // A retried delete whose first attempt went through.
            Err(Failure::NotFound(_)) => Outcome::Done {
                arn: Some(arn),
                note: Some("already gone".to_owned()),
            },
            Err(failure) => Outcome::Failed(failure.message()),
        }
    }

    /// Names the file wants to create that someone else took since the plan.
    async fn names_taken(&self, changes: &[Change]) -> Taken {
        let mut taken = Taken::default();
        if !changes
            .iter()
            .any(|c| matches!(c.action, Action::Create | Action::Replace))
        {
            return taken;
        }
        match live::read(&self.target.account.codestar, self.concurrency).await {
            Ok(snapshot) => {
                for c in snapshot.connections {
                    taken
                        .connections
                        .entry(c.name.clone())
                        .or_default()
                        .push((c.arn, c.tags));
                }
                for h in snapshot.hosts {
                    taken
                        .hosts
                        .entry(h.name.clone())
                        .or_default()
                        .push((h.arn, h.tags));
                }
            }
            Err(e) => taken.unreadable = Some(e.to_string()),
        }
        taken
    }

    /// The existing resource of this name, if any: `Ok(Some(arn))` when it is
    /// ours (an earlier create whose answer was lost), a refusal when it is
    /// not.
    fn check_taken(
        &self,
        change: &Change,
        existing: &[(String, Tags)],
    ) -> Result<Option<String>, Outcome> {
        let ours = existing
            .iter()
            .find(|(_, tags)| ownership(tags, self.stack()) == Ownership::Managed);
        if let Some((arn, _)) = ours {
            return Ok(Some(arn.clone()));
        }
        match existing.first() {
            None => Ok(None),
            Some((arn, tags)) => {
                let owner = match ownership(tags, self.stack()) {
                    Ownership::Foreign(stack) => Some(stack),
                    _ => None,
                };
                Err(Outcome::Refused(Box::new(Refusal::collision(
                    &change.target,
                    change.kind,
                    &change.name,
                    arn,
                    owner.as_deref(),
                ))))
            }
        }
    }

    /// The name check just before a create: `Ok(None)` to go ahead,
    /// `Ok(Some(done))` when an earlier apply already created it, `Err` when
    /// the name cannot be checked or someone else took it.
    fn before_create(&self, change: &Change, taken: &Taken) -> Result<Option<Outcome>, Outcome> {
        if let Some(why) = &taken.unreadable {
            return Err(Outcome::NotAttempted(format!(
                "could not re-check the name before creating: {why}"
            )));
        }
        let existing = match change.kind {
            Kind::Connection => taken.connections.get(&change.name),
            Kind::Host => taken.hosts.get(&change.name),
        };
        let existing = existing.map(Vec::as_slice).unwrap_or_default();
        Ok(self
            .check_taken(change, existing)?
            .map(|arn| Outcome::Done {
                arn: Some(arn),
                note: Some("it already existed from an earlier apply".to_owned()),
            }))
    }

    async fn create_host(&self, change: &Change, taken: &Taken) -> Outcome {
        match self.before_create(change, taken) {
            Err(outcome) => return outcome,
            Ok(Some(done)) => {
                if let Outcome::Done { arn: Some(arn), .. } = &done {
                    self.new_hosts
                        .lock()
                        .await
                        .insert(change.name.clone(), arn.clone());
                }
                return done;
            }
            Ok(None) => {}
        }
        let Some(host) = self.spec_host(&change.name) else {
            return Outcome::Failed("the file no longer has this host".to_owned());
        };
        let tags = to_tags(
            &change
                .after
                .as_ref()
                .map(|a| a.tags.clone())
                .unwrap_or_default(),
        );
        let vpc = host.vpc.as_ref().map(vpc_configuration).transpose();
        let vpc = match vpc {
            Ok(vpc) => vpc,
            Err(why) => return Outcome::Failed(why),
        };
        let outcome = self
            .create_once(
                change,
                || {
                    self.client()
                        .create_host()
                        .name(&host.name)
                        .provider_type(ProviderType::from(host.provider_type.as_str()))
                        .provider_endpoint(&host.provider_endpoint)
                        .set_vpc_configuration(vpc.clone())
                        .set_tags(Some(tags.clone()))
                        .send()
                },
                |out| out.host_arn().map(str::to_owned),
            )
            .await;
        if let Outcome::Done { arn: Some(arn), .. } = &outcome {
            self.new_hosts
                .lock()
                .await
                .insert(change.name.clone(), arn.clone());
        }
        outcome
    }

    async fn create_connection(&self, change: &Change, taken: &Taken) -> Outcome {
        match self.before_create(change, taken) {
            Err(outcome) => return outcome,
            Ok(Some(done)) => return done,
            Ok(None) => {}
        }
        let Some(after) = &change.after else {
            return Outcome::Failed("the plan has no desired state for it".to_owned());
        };
        let host_arn = match (&after.host_arn, &after.host) {
            (Some(arn), _) => Some(arn.clone()),
            (None, Some(host)) => match self.new_hosts.lock().await.get(host) {
                Some(arn) => Some(arn.clone()),
                None => return Outcome::NotAttempted(format!("its host {host:?} was not created")),
            },
            (None, None) => None,
        };
        let provider = match &host_arn {
            Some(_) => None,
            None => after.provider_type.as_deref().map(ProviderType::from),
        };
        let tags = to_tags(&after.tags);
        self.create_once(
            change,
            || {
                self.client()
                    .create_connection()
                    .connection_name(&change.name)
                    .set_provider_type(provider.clone())
                    .set_host_arn(host_arn.clone())
                    .set_tags(Some(tags.clone()))
                    .send()
            },
            |out| Some(out.connection_arn().to_owned()),
        )
        .await
    }

    /// Create a resource without ever creating it twice: after a failure
    /// that may have committed, look for it (by name and stack tag) before
    /// trying again.
    async fn create_once<T, E, F, Fut>(
        &self,
        change: &Change,
        mut create: F,
        arn_of: impl Fn(&T) -> Option<String>,
    ) -> Outcome
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, aws_sdk_codestarconnections::error::SdkError<E>>>,
        E: aws_sdk_codestarconnections::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        const ATTEMPTS: u32 = 6;
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            match paced(&self.pace, false, &mut create).await {
                Ok(out) => {
                    return Outcome::Done {
                        arn: arn_of(&out),
                        note: (attempt > 0).then(|| "after a retry".to_owned()),
                    };
                }
                Err(Failure::Quota(message)) => {
                    return Outcome::Failed(quota_message(change.kind, &message));
                }
                Err(Failure::Ambiguous(message)) => last = message,
                // A connection name the service says is taken: ours from a
                // lost response, or someone else's.
                Err(Failure::Rejected {
                    code: Some(code),
                    message,
                }) if change.kind == Kind::Connection && code == "ResourceUnavailableException" => {
                    last = message
                }
                Err(failure) => return Outcome::Failed(failure.message()),
            }
            match self.find_existing(change).await {
                Ok(existing) => match self.check_taken(change, &existing) {
                    Ok(Some(arn)) => {
                        return Outcome::Done {
                            arn: Some(arn),
                            note: Some(format!(
                                "the service's answer was lost ({last}); found it created"
                            )),
                        };
                    }
                    Ok(None) => tokio::time::sleep(backoff(attempt)).await,
                    Err(refused) => return refused,
                },
                // Trying again blind could make a second one (host names
                // are not unique): stop, and let the next apply find it.
                Err(why) => {
                    return Outcome::Failed(format!(
                        "{last}; then could not look for it ({why}), so it was not tried \
                         again: it may exist now. Run apply again: it finds a resource this \
                         stack created and keeps it instead of creating another"
                    ));
                }
            }
        }
        Outcome::Failed(format!("not created after {ATTEMPTS} attempts: {last}"))
    }

    /// Live resources of the change's kind and name, with their tags.
    async fn find_existing(&self, change: &Change) -> crate::error::Result<Vec<(String, Tags)>> {
        let snapshot = live::read(&self.target.account.codestar, self.concurrency).await?;
        Ok(match change.kind {
            Kind::Connection => snapshot
                .connections
                .into_iter()
                .filter(|c| c.name == change.name)
                .map(|c| (c.arn, c.tags))
                .collect(),
            Kind::Host => snapshot
                .hosts
                .into_iter()
                .filter(|h| h.name == change.name)
                .map(|h| (h.arn, h.tags))
                .collect(),
        })
    }

    async fn update_host(&self, change: &Change) -> Outcome {
        let (Some(arn), Some(host)) = (change.arn.clone(), self.spec_host(&change.name)) else {
            return Outcome::Failed("the plan and the file disagree about this host".to_owned());
        };
        let vpc = match host.vpc.as_ref().map(vpc_configuration).transpose() {
            Ok(vpc) => vpc,
            Err(why) => return Outcome::Failed(why),
        };
        let result = paced(&self.pace, true, || {
            self.client()
                .update_host()
                .host_arn(&arn)
                .provider_endpoint(&host.provider_endpoint)
                .set_vpc_configuration(vpc.clone())
                .send()
        })
        .await;
        match result {
            Ok(_) => Outcome::Done {
                arn: Some(arn),
                note: None,
            },
            Err(failure) => Outcome::Failed(failure.message()),
        }
    }

    async fn retag(&self, change: &Change) -> Outcome {
        let Some(arn) = change.arn.clone() else {
            return Outcome::Failed("the plan has no ARN for it".to_owned());
        };
        if !change.tags.remove.is_empty() {
            let keys = change.tags.remove.clone();
            let result = paced(&self.pace, true, || {
                self.client()
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(keys.clone()))
                    .send()
            })
            .await;
            if let Err(failure) = result {
                return Outcome::Failed(format!(
                    "removing tags {}: {}",
                    keys.join(", "),
                    failure.message()
                ));
            }
        }
        let write = change.tags.to_write();
        if !write.is_empty() {
            let tags = to_tags(&write);
            let result = paced(&self.pace, true, || {
                self.client()
                    .tag_resource()
                    .resource_arn(&arn)
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await;
            if let Err(failure) = result {
                let message = match failure {
                    Failure::Quota(m) => {
                        quota_message(change.kind, &m).replace("resources", "tags")
                    }
                    other => other.message(),
                };
                return Outcome::Failed(format!("writing tags: {message}"));
            }
        }
        Outcome::Done {
            arn: Some(arn),
            note: None,
        }
    }
}

fn key(change: &Change) -> (Kind, String) {
    (change.kind, change.name.clone())
}

/// Resources that exist by name just before creating, read once per step.
#[derive(Debug, Default)]
struct Taken {
    connections: BTreeMap<String, Vec<(String, Tags)>>,
    hosts: BTreeMap<String, Vec<(String, Tags)>>,
    unreadable: Option<String>,
}

fn quota_message(kind: Kind, aws_says: &str) -> String {
    let quota = match kind {
        Kind::Connection => {
            "at most 250 connections per account and Region (or 200 tags per connection)"
        }
        Kind::Host => "at most 50 hosts per account (or 200 tags per host)",
    };
    format!(
        "a service quota was reached: {quota}. AWS says: {aws_says}. Delete unused resources, \
         or request a quota increase in the Service Quotas console, then run apply again"
    )
}

fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

fn vpc_configuration(vpc: &spec::Vpc) -> Result<VpcConfiguration, String> {
    VpcConfiguration::builder()
        .vpc_id(&vpc.vpc_id)
        .set_subnet_ids(Some(vpc.subnet_ids.clone()))
        .set_security_group_ids(Some(vpc.security_group_ids.clone()))
        .set_tls_certificate(vpc.tls_certificate.clone())
        .build()
        .map_err(|e| format!("incomplete VPC configuration: {e}"))
}
