//! The targets a command works on: the desired-state files loaded, each one's
//! account opened, read into snapshots and planned, concurrently.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aws_credential_types::provider::SharedCredentialsProvider;
use futures_util::future::{join_all, try_join_all};

use crate::account::{self, Account, AssumeRole, Endpoint, Settings};
use crate::emulator::{self, Emulator, RunningEmulator};
use crate::error::{Error, Result};
use crate::fleet::{self, Placed};
use crate::live::{self, Depth, Snapshot};
use crate::plan::{self, FailedTarget, Plan, TargetSummary};
use crate::resource::{Ownership, ownership};
use crate::spec::{self, Target};
use crate::worklist;

/// One desired-state file (or one account × Region of a fleet file) with
/// the clients for its account and Region.
pub(crate) struct OpenTarget {
    pub(crate) spec: Target,
    pub(crate) account: Account,
    /// `stack@region`, or `stack@account/region` for a fleet's: how plans
    /// and reports name this target.
    pub(crate) label: String,
    /// A fleet's retired account: everything the stack owns there goes.
    pub(crate) retired: bool,
    /// The digest of its file's desired state, as written.
    pub(crate) file_digest: String,
}

/// Every target of one command run, and the local emulator when `--local`
/// runs one for them.
pub(crate) struct Targets {
    pub(crate) targets: Vec<OpenTarget>,
    /// Targets dropped along the way, with why: a fleet goes on without
    /// them, and the command's exit code says they failed.
    pub(crate) failed: Vec<FailedTarget>,
    pub(crate) concurrency: usize,
    /// The `--shard` this run keeps, which a saved plan records.
    pub(crate) shard: Option<fleet::Shard>,
    /// The fleet files, with every account they name.
    fleets: Vec<fleet::Expanded>,
    settings: Settings,
    endpoint: Endpoint,
    _local: Option<RunningEmulator>,
}

impl Targets {
    /// Load and validate every file (all errors at once, before any API
    /// call), then open each target's account and check its account pin.
    pub(crate) async fn open(files: &[PathBuf], args: &Settings) -> Result<Targets> {
        let specs = spec::load(files).map_err(Error::Spec)?;
        Targets::open_specs(specs, args).await
    }

    /// Open `specs` and check their account pins.
    pub(crate) async fn open_specs(specs: Vec<Target>, args: &Settings) -> Result<Targets> {
        let mut targets = Targets::connect(specs, args).await?;
        targets.check_accounts().await?;
        Ok(targets)
    }

    /// Build each target's clients, starting the `--local` sandbox if asked;
    /// no API call yet.
    pub(crate) async fn connect(specs: Vec<Target>, args: &Settings) -> Result<Targets> {
        let (endpoint, local) = if args.local {
            let state = absolute(&args.local_state)?;
            let pinned = specs.iter().find_map(|s| s.account_id.clone());
            let running = start_local(&state, pinned).await?;
            let endpoint = Endpoint::Local {
                url: running.url(),
                state: Some(state),
            };
            (endpoint, Some(running))
        } else {
            (Endpoint::Aws, None)
        };
        let mut targets = Targets::connect_to(specs, args, &endpoint).await?;
        targets._local = local;
        Ok(targets)
    }

    async fn connect_to(
        specs: Vec<Target>,
        args: &Settings,
        endpoint: &Endpoint,
    ) -> Result<Targets> {
        let (placed, fleets) = fleet::expand(specs, args, endpoint, args.shard).await?;
        // One credentials provider per role (so per account), shared by the
        // account's Regions: each role is assumed once.
        let mut roles: HashMap<AssumeRole, SharedCredentialsProvider> = HashMap::new();
        for p in &placed {
            if let Some(role) = &p.role
                && !roles.contains_key(role)
            {
                let base = account::load_config(&p.spec, args, endpoint).await?;
                roles.insert(role.clone(), account::assume(&base, role).await);
            }
        }
        let roles = &roles;
        let targets = try_join_all(placed.into_iter().map(|p: Placed| {
            let endpoint = endpoint.clone();
            async move {
                let credentials = p.role.as_ref().and_then(|r| roles.get(r)).cloned();
                let account = account::connect(&p.spec, args, &endpoint, credentials).await?;
                let label = p
                    .label
                    .unwrap_or_else(|| format!("{}@{}", p.spec.stack, account.region));
                Ok::<_, Error>(OpenTarget {
                    spec: p.spec,
                    account,
                    label,
                    retired: p.retired,
                    file_digest: p.file_digest,
                })
            }
        }))
        .await?;
        match (targets.is_empty(), args.shard) {
            // A CI matrix job whose shard is empty has nothing to do, and
            // succeeds.
            (true, Some(shard)) => {
                eprintln!("No target falls in shard {shard}: nothing to do in this shard.");
            }
            (true, None) => {
                return Err(Error::usage(
                    "the files name no target: a fleet with no account (its organizational \
                     units hold no ACTIVE account?)",
                ));
            }
            (false, _) => {}
        }
        Ok(Targets {
            targets,
            failed: Vec::new(),
            concurrency: args.concurrency,
            shard: args.shard,
            fleets,
            settings: args.clone(),
            endpoint: endpoint.clone(),
            _local: None,
        })
    }

    /// Refuse targets whose file pins another account than the credentials
    /// reach (a fleet's role in the wrong account, or denied), before
    /// anything is read.
    pub(crate) async fn check_accounts(&mut self) -> Result<()> {
        let checks = join_all(
            self.targets
                .iter()
                .map(|t| t.account.check_account(&t.spec)),
        )
        .await;
        self.keep_healthy(checks).map(|_| ())
    }

    /// Read every target's account, concurrently; a target that cannot be
    /// read is dropped into [`Targets::failed`] and the others go on. The
    /// snapshots, in the order of the targets left.
    pub(crate) async fn read(&mut self, depth: Depth) -> Result<Vec<Snapshot>> {
        let reads = join_all(
            self.targets
                .iter()
                .map(|t| read_target(t, self.concurrency, depth)),
        )
        .await;
        self.keep_healthy(reads)
    }

    /// Keep the targets whose `results` are fine, moving the others into
    /// `failed`. When none is left, the error itself (one target's, or a
    /// line per target).
    fn keep_healthy<T>(&mut self, results: Vec<Result<T>>) -> Result<Vec<T>> {
        let targets = std::mem::take(&mut self.targets);
        let total = targets.len() + self.failed.len();
        let mut fine = Vec::new();
        let mut errors = Vec::new();
        for (target, result) in targets.into_iter().zip(results) {
            match result {
                Ok(value) => {
                    self.targets.push(target);
                    fine.push(value);
                }
                Err(error) => {
                    self.failed.push(FailedTarget {
                        target: target.label.clone(),
                        message: error.to_string(),
                    });
                    errors.push(error);
                }
            }
        }
        if self.targets.is_empty() && total > 0 {
            if total == 1
                && let Some(error) = errors.pop()
            {
                return Err(error);
            }
            let lines: Vec<String> = self
                .failed
                .iter()
                .map(|f| format!("  {}: {}", f.target, f.message))
                .collect();
            return Err(Error::Other(format!(
                "no target could be read; nothing was changed:\n{}",
                lines.join("\n")
            )));
        }
        Ok(fine)
    }

    /// Plan every target against its snapshot; one combined plan.
    pub(crate) fn plan(&self, snapshots: &[Snapshot], options: &plan::Options) -> Plan {
        let mut plan = Plan::combine(
            self.targets
                .iter()
                .zip(snapshots)
                .map(|(t, snapshot)| {
                    (
                        t.summary(snapshot),
                        plan::plan_target(&t.spec, snapshot, &t.label, options),
                    )
                })
                .collect(),
        );
        plan.failed = self.failed.clone();
        plan.handshakes = self.worklist(snapshots, &plan.changes);
        plan
    }

    /// This stack's resources in the organisation's accounts that a fleet
    /// does not name: a warning for each, since nothing manages them. Run
    /// for fleets with organizational units, or for every fleet when
    /// `everywhere` (`--scan-organization`). Accounts that cannot be
    /// scanned (no role there, or the organisation unreadable) are listed.
    pub(crate) async fn scan_orphans(
        &self,
        everywhere: bool,
    ) -> (Vec<plan::Warning>, Vec<FailedTarget>) {
        let mut warnings = Vec::new();
        let mut unscanned = Vec::new();
        for expanded in &self.fleets {
            let Some(fleet) = &expanded.spec.fleet else {
                continue;
            };
            if !everywhere && fleet.organizational_units.is_empty() {
                continue;
            }
            let organization =
                match fleet::organization(&expanded.spec, &self.settings, &self.endpoint).await {
                    Ok((org, channel)) => fleet::organization_accounts(&org, &channel)
                        .await
                        .map_err(|f| f.message()),
                    Err(e) => Err(e.to_string()),
                };
            let accounts = match organization {
                Ok(accounts) => accounts,
                Err(why) => {
                    unscanned.push(FailedTarget {
                        target: format!("the organisation of {}", expanded.spec.source.display()),
                        message: format!("its accounts could not be listed: {why}"),
                    });
                    continue;
                }
            };
            let outside = fleet::outside(expanded, &accounts);
            let scans = join_all(outside.into_iter().map(|p| self.scan(p))).await;
            for scan in scans {
                match scan {
                    Ok(found) => warnings.extend(found),
                    Err(failed) => unscanned.push(failed),
                }
            }
        }
        (warnings, unscanned)
    }

    /// One account × Region outside a fleet: this stack's resources there.
    async fn scan(&self, p: Placed) -> std::result::Result<Vec<plan::Warning>, FailedTarget> {
        let label = p.label.clone().unwrap_or_default();
        let failed = |e: Error| FailedTarget {
            target: label.clone(),
            message: e.to_string(),
        };
        let base = account::load_config(&p.spec, &self.settings, &self.endpoint)
            .await
            .map_err(failed)?;
        let credentials = match &p.role {
            Some(role) => Some(account::assume(&base, role).await),
            None => None,
        };
        let account = account::connect(&p.spec, &self.settings, &self.endpoint, credentials)
            .await
            .map_err(failed)?;
        let live = live::read(&account, self.concurrency, Depth::Configuration)
            .await
            .map_err(failed)?;
        let account_id = p.spec.account_id.clone().unwrap_or_default();
        Ok(live
            .resources()
            .filter(|r| ownership(r.tags(), &p.spec.stack) == Ownership::Managed)
            .map(|r| plan::Warning {
                target: label.clone(),
                kind: r.kind(),
                name: r.name().to_owned(),
                warning: plan::WarningKind::Orphan {
                    account: account_id.clone(),
                    arn: r.arn().map(str::to_owned),
                },
            })
            .collect())
    }

    /// Every target's handshake worklist, in target order: what waits in
    /// `snapshots`, and what `changes` create.
    pub(crate) fn worklist(
        &self,
        snapshots: &[Snapshot],
        changes: &[plan::Change],
    ) -> Vec<plan::Handshake> {
        self.targets
            .iter()
            .zip(snapshots)
            .flat_map(|(t, snapshot)| {
                let mine: Vec<plan::Change> = changes
                    .iter()
                    .filter(|c| c.target == t.label)
                    .cloned()
                    .collect();
                worklist::of_target(&t.spec, &t.label, &t.account.region, snapshot, &mine)
            })
            .collect()
    }
}

impl OpenTarget {
    /// What reports say about this target, with `live`'s count of the
    /// resources its stack owns.
    pub(crate) fn summary(&self, live: &Snapshot) -> TargetSummary {
        TargetSummary {
            label: self.label.clone(),
            file: self.spec.source.display().to_string(),
            stack: self.spec.stack.clone(),
            region: self.account.region.clone(),
            account_id: self.spec.account_id.clone(),
            api: self.account.apis.main_api(),
            retired: self.retired,
            managed: live.managed_by(&self.spec.stack),
        }
    }
}

async fn read_target(target: &OpenTarget, concurrency: usize, depth: Depth) -> Result<Snapshot> {
    live::read(&target.account, concurrency, depth)
        .await
        .map_err(|e| match e {
            Error::Api { context, message } => Error::Api {
                context: format!("reading {} ({})", target.label, context),
                message,
            },
            other => other,
        })
}

/// Start the in-process emulator `--local` uses, its state in the file
/// `--local-state` names so the sandbox persists between commands. A new
/// sandbox plays the account the files pin (so they can be tried as they
/// are); an existing one keeps its account, and files pinning another are
/// refused like the wrong credentials would be.
async fn start_local(state: &Path, pinned: Option<String>) -> Result<RunningEmulator> {
    let account_id = match emulator::recorded_account(state)? {
        Some(recorded) => Some(recorded),
        None => pinned,
    };
    let command: Vec<String> = std::env::args().skip(1).take(2).collect();
    Emulator::start(emulator::Config {
        listen: "127.0.0.1:0".to_owned(),
        state: Some(state.to_path_buf()),
        account_id,
        holder: format!("codestar-reconcile {} (--local)", command.join(" ")),
        wait_for_state: true,
        ..emulator::Config::default()
    })
    .await
}

/// `path` from the root, so a saved plan names the same file from any
/// directory.
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io(path, e))
}
