//! The targets a command works on: the desired-state files loaded, each one's
//! account opened, read into snapshots and planned, concurrently.

use std::path::{Path, PathBuf};

use futures_util::future::try_join_all;

use crate::account::{self, Account, Endpoint, Settings};
use crate::emulator::{self, Emulator, RunningEmulator};
use crate::error::{Error, Result};
use crate::live::{self, Depth, Snapshot};
use crate::plan::{self, Plan, TargetSummary};
use crate::spec::{self, Target};

/// One desired-state file with the clients for its account and Region.
pub(crate) struct OpenTarget {
    pub(crate) spec: Target,
    pub(crate) account: Account,
    /// `stack@region`: how plans and reports name this target.
    pub(crate) label: String,
}

/// Every target of one command run, and the local emulator when `--local`
/// runs one for them.
pub(crate) struct Targets {
    pub(crate) targets: Vec<OpenTarget>,
    pub(crate) concurrency: usize,
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
        let targets = Targets::connect(specs, args).await?;
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
        let targets = try_join_all(specs.into_iter().map(|spec| {
            let endpoint = endpoint.clone();
            async move {
                let account = account::connect(&spec, args, &endpoint).await?;
                let label = format!("{}@{}", spec.stack, account.region);
                Ok::<_, Error>(OpenTarget {
                    spec,
                    account,
                    label,
                })
            }
        }))
        .await?;
        Ok(Targets {
            targets,
            concurrency: args.concurrency,
            _local: None,
        })
    }

    /// Refuse targets whose file pins another account than the credentials
    /// reach, before anything is read.
    pub(crate) async fn check_accounts(&self) -> Result<()> {
        try_join_all(
            self.targets
                .iter()
                .map(|t| t.account.check_account(&t.spec)),
        )
        .await?;
        Ok(())
    }

    /// Read every target's account, concurrently.
    pub(crate) async fn read(&self, depth: Depth) -> Result<Vec<Snapshot>> {
        try_join_all(
            self.targets
                .iter()
                .map(|t| read_target(t, self.concurrency, depth)),
        )
        .await
    }

    /// Plan every target against its snapshot; one combined plan.
    pub(crate) fn plan(&self, snapshots: &[Snapshot], options: &plan::Options) -> Plan {
        Plan::combine(
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
        )
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
