//! What every apply must leave true, whatever happened during it (faults,
//! kills, restarts): read the account with the real SDK client, and compare
//! it with what it was before.

#![allow(dead_code)] // Each proof uses a different part of the checks.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use aws_sdk_codestarconnections as codestar;
use codestar_reconcile::resource::{Kind, PROTECT_TAG, STACK_TAG, Tags};

use crate::cli::{json, run};
use crate::scenario::{APPLY, Desired, STACK};
use crate::support::Sandbox;

/// One live resource, every field the tool could change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resource {
    pub kind: Kind,
    pub name: String,
    pub provider_type: String,
    /// What it uses: a connection's host, a link's connection, a sync
    /// configuration's link (by ARN).
    pub host_arn: Option<String>,
    /// A host's endpoint; a link's KMS key; a sync configuration's branch,
    /// file and role.
    pub endpoint: Option<String>,
    pub status: String,
    /// A sync configuration's link, by `owner/name`.
    pub parent: Option<String>,
    /// Its tags; a sync configuration's are its link's.
    pub tags: Tags,
}

/// An account and Region, by ARN (a sync configuration, which has none, by
/// `sync:<stack name>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Account {
    pub resources: BTreeMap<String, Resource>,
}

impl Account {
    /// How many resources of `kind` are called `name`.
    pub(crate) fn count(&self, kind: Kind, name: &str) -> usize {
        self.named(kind, name).count()
    }

    pub(crate) fn named<'a>(
        &'a self,
        kind: Kind,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Resource)> {
        self.resources
            .iter()
            .filter(move |(_, r)| r.kind == kind && r.name == name)
    }

    fn owned_by(&self, pick: impl Fn(&Resource) -> bool) -> Vec<(&String, &Resource)> {
        self.resources.iter().filter(|(_, r)| pick(r)).collect()
    }
}

/// Read every connection and host with their tags. Each call is retried
/// until it succeeds, so this also reads through an emulator injecting
/// faults.
pub(crate) async fn read(client: &codestar::Client) -> Account {
    let mut account = Account::default();
    let mut token = None;
    loop {
        let page = retrying("ListConnections", || {
            client
                .list_connections()
                .set_next_token(token.clone())
                .send()
        })
        .await;
        for c in page.connections() {
            let arn = c.connection_arn().expect("an ARN").to_owned();
            let resource = Resource {
                kind: Kind::Connection,
                name: c.connection_name().expect("a name").to_owned(),
                provider_type: c.provider_type().expect("a provider").as_str().to_owned(),
                host_arn: c.host_arn().map(str::to_owned),
                endpoint: None,
                status: c.connection_status().expect("a status").as_str().to_owned(),
                parent: None,
                tags: read_tags(client, &arn).await,
            };
            account.resources.insert(arn, resource);
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    loop {
        let page = retrying("ListHosts", || {
            client.list_hosts().set_next_token(token.clone()).send()
        })
        .await;
        for h in page.hosts() {
            let arn = h.host_arn().expect("an ARN").to_owned();
            let resource = Resource {
                kind: Kind::Host,
                name: h.name().expect("a name").to_owned(),
                provider_type: h.provider_type().expect("a provider").as_str().to_owned(),
                host_arn: None,
                endpoint: h.provider_endpoint().map(str::to_owned),
                status: h.status().expect("a status").to_owned(),
                parent: None,
                tags: read_tags(client, &arn).await,
            };
            account.resources.insert(arn, resource);
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    loop {
        let page = retrying("ListRepositoryLinks", || {
            client
                .list_repository_links()
                .set_next_token(token.clone())
                .send()
        })
        .await;
        for l in page.repository_links() {
            let arn = l.repository_link_arn().to_owned();
            let name = format!("{}/{}", l.owner_id(), l.repository_name());
            let tags = read_tags(client, &arn).await;
            let link_tags: Tags = tags
                .iter()
                .filter(|(k, _)| *k == STACK_TAG || *k == PROTECT_TAG)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let syncs = retrying("ListSyncConfigurations", || {
                client
                    .list_sync_configurations()
                    .repository_link_id(l.repository_link_id())
                    .sync_type(codestar::types::SyncConfigurationType::CfnStackSync)
                    .send()
            })
            .await;
            for s in syncs.sync_configurations() {
                let resource = Resource {
                    kind: Kind::SyncConfiguration,
                    name: s.resource_name().to_owned(),
                    provider_type: s.provider_type().as_str().to_owned(),
                    host_arn: Some(arn.clone()),
                    endpoint: Some(format!(
                        "{} {} {}",
                        s.branch(),
                        s.config_file().unwrap_or_default(),
                        s.role_arn()
                    )),
                    status: String::new(),
                    parent: Some(name.clone()),
                    tags: link_tags.clone(),
                };
                account
                    .resources
                    .insert(format!("sync:{}", s.resource_name()), resource);
            }
            let resource = Resource {
                kind: Kind::RepositoryLink,
                name,
                provider_type: l.provider_type().as_str().to_owned(),
                host_arn: Some(l.connection_arn().to_owned()),
                endpoint: l.encryption_key_arn().map(str::to_owned),
                status: String::new(),
                parent: None,
                tags,
            };
            account.resources.insert(arn, resource);
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    account
}

async fn read_tags(client: &codestar::Client, arn: &str) -> Tags {
    retrying("ListTagsForResource", || {
        client.list_tags_for_resource().resource_arn(arn).send()
    })
    .await
    .tags()
    .iter()
    .map(|t| (t.key().to_owned(), t.value().to_owned()))
    .collect()
}

/// `call` until it succeeds: only injected faults make a read fail here.
async fn retrying<T, E, F, Fut>(what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Debug,
{
    let mut last = None;
    for _ in 0..50 {
        match call().await {
            Ok(value) => return value,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} failed 50 times; last: {last:?}")
}

/// Every way `after` breaks a promise the tool makes about `before`, for a
/// file `desired` of [`STACK`]; empty when all hold.
///
/// - A foreign resource, and an unmanaged one the file does not adopt, is
///   still there with the same ARN and every field and tag unchanged.
/// - A protected resource is still there (same ARN: neither deleted nor
///   replaced).
/// - No name of any kind is shared by several resources unless exactly
///   those resources already shared it before (host names are not unique in
///   AWS, so a lost create response could otherwise leave a twin).
pub(crate) fn violations(before: &Account, after: &Account, desired: &Desired) -> Vec<String> {
    let mut found = Vec::new();
    // A sync configuration is adopted with its link.
    let adopted = |r: &Resource| {
        desired.adopts(r.kind, &r.name)
            || r.parent
                .as_deref()
                .is_some_and(|link| desired.adopts(Kind::RepositoryLink, link))
    };
    let untouchable = before.owned_by(|r| match r.tags.get(STACK_TAG) {
        Some(owner) => owner != STACK,
        None => !adopted(r),
    });
    for (arn, was) in untouchable {
        match after.resources.get(arn) {
            None => found.push(format!("{} {:?} ({arn}) was deleted", was.kind, was.name)),
            Some(now) if now != was => found.push(format!(
                "{} {:?} ({arn}) was changed:\n  before {was:?}\n  after  {now:?}",
                was.kind, was.name
            )),
            Some(_) => {}
        }
    }
    let protected = before.owned_by(|r| {
        r.tags.get(STACK_TAG).is_some_and(|o| o == STACK)
            && r.tags.get(PROTECT_TAG).is_some_and(|p| p == "true")
    });
    for (arn, was) in protected {
        if !after.resources.contains_key(arn) {
            found.push(format!(
                "protected {} {:?} ({arn}) was deleted",
                was.kind, was.name
            ));
        }
    }
    for (arn, now) in &after.resources {
        let twins: Vec<&String> = after.named(now.kind, &now.name).map(|(a, _)| a).collect();
        if twins.len() > 1 && twins[0] == arn {
            let all_old = twins.iter().all(|a| before.resources.contains_key(*a))
                && before.count(now.kind, &now.name) == twins.len();
            if !all_old {
                found.push(format!(
                    "{} name {:?} is now shared by {twins:?}",
                    now.kind, now.name
                ));
            }
        }
    }
    found
}

/// Panics with every violation, and both accounts, if there is any.
#[track_caller]
pub(crate) fn assert_promises_kept(before: &Account, after: &Account, desired: &Desired) {
    let found = violations(before, after, desired);
    assert!(
        found.is_empty(),
        "{} broken promise(s):\n{}\n--- before\n{before:#?}\n--- after\n{after:#?}",
        found.len(),
        found.join("\n")
    );
}

/// [`read`] for a sync test: the sandbox's eu-west-1 account, on `runtime`.
pub(crate) fn read_on(runtime: &tokio::runtime::Runtime, sandbox: &Sandbox) -> Account {
    runtime.block_on(async { read(&sandbox.client("eu-west-1").await).await })
}

/// Run `apply` until it exits 0, at most 3 times; answers how many runs it
/// took, or panics with the last run's output.
#[track_caller]
pub(crate) fn apply_until_converged(dir: &Path, sandbox: &Sandbox) -> usize {
    let mut runs = Vec::new();
    while runs.len() < 3 {
        let out = run(dir, sandbox, &APPLY);
        let code = out.code;
        runs.push(out);
        if code == 0 {
            break;
        }
    }
    let last = runs.last().expect("at least one run");
    assert_eq!(
        last.code,
        0,
        "not converged after {} applies; the last one said:\n{}\n{}",
        runs.len(),
        last.stdout,
        last.stderr
    );
    runs.len()
}

/// Panics unless `plan --detailed-exitcode` of `file` finds nothing to do.
#[track_caller]
pub(crate) fn assert_plan_empty(dir: &Path, sandbox: &Sandbox, file: &str) {
    let out = run(
        dir,
        sandbox,
        &[
            "plan",
            "-f",
            file,
            "--format",
            "json",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(
        out.code, 0,
        "the plan is not empty (exit {}):\n{}\n{}",
        out.code, out.stdout, out.stderr
    );
    let plan = json(&out.stdout);
    assert_eq!(plan["changes"].as_array().map(Vec::len), Some(0), "{plan}");
}
