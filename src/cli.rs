//! Command-line interface: arguments in, exit code out. Each command is a
//! short story over the shared pieces.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::account::Settings;
use crate::apply::{self, Progress};
use crate::call::{DEFAULT_MAX_IN_FLIGHT, limit_in_flight};
use crate::drift;
use crate::emulator;
use crate::error::{Error, Exit, Result};
use crate::fleet::Shard;
use crate::import;
use crate::live::Depth;
use crate::plan::saved::{self, SavedInput, SavedPlan, desired_digest};
use crate::plan::{self, Plan};
use crate::render::{self, Format, Style};
use crate::resource::Api;
use crate::spec;
use crate::targets::{self, Targets};
use crate::{call, interrupt, live, resource};

#[derive(Debug, Parser)]
#[command(
    name = "codestar-reconcile",
    // The package version and, from a git checkout, the commit (build.rs).
    version = env!("CODESTAR_RECONCILE_VERSION"),
    about = "Declarative reconciler for AWS CodeStar Connections",
    long_about = "Keeps AWS CodeStar Connections (connections, hosts and their tags) \
                  in line with a YAML file in git: `plan` on pull requests, `apply` \
                  on merge, `drift` from cron.\n\nExit codes: 0 success (no changes \
                  with --detailed-exitcode); 1 error; 2 changes pending or drift \
                  found; 3 refused by a safety guard."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show what apply would change, and why; change nothing.
    Plan(PlanArgs),
    /// Make the account match the files (or carry out a saved plan).
    Apply(ApplyArgs),
    /// Report how the account differs from the files; change nothing. Exit 2 on drift.
    Drift(DriftArgs),
    /// Write a desired-state file describing the live account (change nothing).
    Import(ImportArgs),
    /// Render saved plans (`plan --out`) as one report, e.g. the plans of a
    /// CI matrix's shards as one pull-request comment; no AWS call.
    Show {
        /// Saved plans, rendered together in the order given.
        #[arg(required = true, value_name = "PLAN_FILE", num_args = 1..)]
        plans: Vec<PathBuf>,
        #[arg(long, default_value = "text", value_parser = choice(&Format::ALL, Format::as_str, Format::help))]
        format: Format,
    },
    /// Check desired-state files without touching AWS (no credentials needed).
    Validate {
        /// Desired-state files or directories of them; several may follow one -f.
        #[arg(short = 'f', long = "file", required = true, value_name = "FILE", num_args = 1..)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the desired-state file (for editors).
    Schema,
    /// Print a shell completion script, e.g. `codestar-reconcile completions
    /// bash > /etc/bash_completion.d/codestar-reconcile`.
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Run the local emulator of both names of the service, CodeStar
    /// Connections and CodeConnections (a test fixture and sandbox).
    Emulator(EmulatorArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Desired-state files, or directories of them; each file is one target.
    /// Several may follow one -f (a shell glob), or repeat -f.
    #[arg(short = 'f', long = "file", required = true, value_name = "FILE", num_args = 1..)]
    pub(crate) files: Vec<PathBuf>,
    #[arg(long, default_value = "text", value_parser = choice(&Format::ALL, Format::as_str, Format::help))]
    pub(crate) format: Format,
    /// Exit 2 when there are changes, 0 when there are none.
    #[arg(long)]
    pub(crate) detailed_exitcode: bool,
    /// Save the plan for `apply PLAN_FILE`.
    #[arg(short = 'o', long, value_name = "PLAN_FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Also look for this stack's resources in the organisation's accounts
    /// a fleet does not target, and warn about each (done anyway for fleets
    /// with organizational units).
    #[arg(long)]
    pub(crate) scan_organization: bool,
    #[command(flatten)]
    pub(crate) safety: SafetyArgs,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// A plan saved by `plan --out`; applies exactly it, or refuses it if stale.
    #[arg(value_name = "PLAN_FILE", conflicts_with = "files")]
    pub(crate) plan_file: Option<PathBuf>,
    /// Desired-state files, or directories of them; each file is one target.
    /// Several may follow one -f (a shell glob), or repeat -f.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        num_args = 1..,
        required_unless_present = "plan_file"
    )]
    pub(crate) files: Vec<PathBuf>,
    /// Apply without asking (for CI).
    #[arg(long)]
    pub(crate) auto_approve: bool,
    #[command(flatten)]
    pub(crate) safety: SafetyArgs,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DriftArgs {
    /// Desired-state files, or directories of them; each file is one target.
    /// Several may follow one -f (a shell glob), or repeat -f.
    #[arg(short = 'f', long = "file", required = true, value_name = "FILE", num_args = 1..)]
    pub(crate) files: Vec<PathBuf>,
    #[arg(long, default_value = "text", value_parser = choice(&Format::ALL, Format::as_str, Format::help))]
    pub(crate) format: Format,
    /// Also count these classes as drift (unmanaged is informational by default).
    #[arg(long, value_delimiter = ',', value_name = "CLASSES", value_parser = classes())]
    pub(crate) fail_on: Vec<drift::Class>,
    /// Do not count these classes as drift (e.g. pending).
    #[arg(long, value_delimiter = ',', value_name = "CLASSES", value_parser = classes())]
    pub(crate) ignore: Vec<drift::Class>,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

/// The flags every command that talks to AWS shares.
#[derive(Debug, Clone, Args)]
pub(crate) struct AwsArgs {
    /// Named profile from ~/.aws/config (overrides the file's `profile:`).
    #[arg(long)]
    profile: Option<String>,
    /// Region; a Region pinned in the file wins, and a different one here is an error.
    #[arg(long)]
    region: Option<String>,
    /// Send API calls to this endpoint (AWS_ENDPOINT_URL,
    /// AWS_ENDPOINT_URL_CODESTAR_CONNECTIONS and
    /// AWS_ENDPOINT_URL_CODECONNECTIONS are honoured too).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Run against a built-in local emulator instead of AWS (no account needed).
    #[arg(long, conflicts_with_all = ["endpoint_url", "profile"])]
    local: bool,
    /// Where `--local` keeps its state.
    #[arg(
        long,
        value_name = "FILE",
        default_value = ".codestar-local.json",
        requires = "local"
    )]
    local_state: PathBuf,
    /// API calls in flight at once, per target.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// How long to wait on one API call, all its retries included, before
    /// giving up on the endpoint: `30s`, `2m`, or seconds.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    timeout: std::time::Duration,
    /// The name of the service to list and create through where a file has
    /// no `api:`, so the ARN prefix of new resources; existing ones are
    /// always called through the API their ARN names [default:
    /// codestar-connections].
    #[arg(long, value_name = "API", value_parser = choice(&Api::ALL, Api::as_str, Api::help))]
    api: Option<Api>,
    /// API calls in flight at once across every target of the run.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_IN_FLIGHT as u32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    max_in_flight: u32,
    /// Only the accounts of shard I of N (a stable hash of the account id),
    /// so a CI matrix of N jobs runs a large fleet in parallel.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
}

impl AwsArgs {
    fn settings(&self) -> Settings {
        limit_in_flight(self.max_in_flight as usize);
        Settings {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            local: self.local,
            local_state: self.local_state.clone(),
            concurrency: usize::from(self.concurrency),
            timeout: self.timeout,
            api: self.api,
            shard: self.shard,
        }
    }
}

/// `30s`, `2m`, `45` (seconds): at least one second, at most an hour.
fn parse_timeout(text: &str) -> std::result::Result<std::time::Duration, String> {
    let (digits, unit) = match text.strip_suffix('m') {
        Some(minutes) => (minutes, 60),
        None => (text.strip_suffix('s').unwrap_or(text), 1),
    };
    match digits.parse::<u64>() {
        Ok(n) if (1..=3600).contains(&(n * unit)) => Ok(std::time::Duration::from_secs(n * unit)),
        _ => Err("expected a duration from 1s to 60m, such as 30s or 2m".to_owned()),
    }
}

/// A flag whose values are a domain enum's names: clap stays out of the
/// domain, which only lists its values and their words.
fn choice<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
    help: fn(T) -> &'static str,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        all.iter()
            .map(|t| PossibleValue::new(name(*t)).help(help(*t))),
    )
    .map(move |text| {
        *all.iter()
            .find(|t| name(**t) == text)
            .expect("clap accepts only the possible values")
    })
}

fn classes() -> impl clap::builder::TypedValueParser<Value = drift::Class> {
    choice(&drift::Class::ALL, drift::Class::as_str, drift::Class::help)
}

/// Flags of `codestar-reconcile emulator`.
#[derive(Debug, Clone, Args)]
pub(crate) struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port. Loopback by default:
    /// the emulator has no real authentication.
    #[arg(long, default_value = "127.0.0.1:4599", value_name = "HOST:PORT")]
    pub(crate) listen: String,
    /// Keep state in this JSON file: loaded on start (missing = empty),
    /// rewritten atomically after every change.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    /// The account every resource belongs to [default: the one the --state
    /// file records, else 123456789012].
    #[arg(long, value_parser = emulator::parse_account_id)]
    pub(crate) account_id: Option<String>,
    /// Sleep this long before answering each API request.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) latency_ms: u64,
    /// Answer ThrottlingException to requests beyond this many per second.
    #[arg(long, value_name = "N")]
    pub(crate) throttle_rps: Option<u32>,
    /// Probability (0-1) of a 500 InternalFailure before any change.
    #[arg(long, default_value_t = 0.0, value_parser = emulator::parse_rate, value_name = "P")]
    pub(crate) error_rate: f64,
    /// Probability (0-1) that a successful change is committed but answered
    /// with a 500, as when a response is lost on the way back.
    #[arg(long, default_value_t = 0.0, value_parser = emulator::parse_rate, value_name = "P")]
    pub(crate) lost_response_rate: f64,
    /// Seed of the fault generator, for reproducible runs (default: random,
    /// printed on stderr when a fault is enabled).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Verify SigV4 signatures against this key pair and refuse others.
    /// Without it any well-formed SigV4 Authorization header is accepted.
    #[arg(long, value_name = "AKID:SECRET")]
    pub(crate) credentials: Option<emulator::Credentials>,
    /// Connections quota per Region.
    #[arg(long, default_value_t = resource::MAX_CONNECTIONS_PER_REGION, value_name = "N")]
    pub(crate) max_connections: usize,
    /// Hosts quota per account, across Regions.
    #[arg(long, default_value_t = resource::MAX_HOSTS_PER_ACCOUNT, value_name = "N")]
    pub(crate) max_hosts: usize,
    /// Tags quota per resource.
    #[arg(long, default_value_t = resource::MAX_TAGS, value_name = "N")]
    pub(crate) max_tags: usize,
    /// Apply --latency-ms, --throttle-rps, --error-rate and
    /// --lost-response-rate to this account only [default: every account].
    #[arg(long, value_parser = emulator::parse_account_id, value_name = "ACCOUNT_ID")]
    pub(crate) fault_account: Option<String>,
    /// Answer AWS Organizations from this organisation file (YAML or JSON;
    /// see docs/emulator.md). Without it Organizations is not in use.
    // Boxed: a whole tree would make every command's arguments as large.
    #[arg(long, value_parser = |path: &str| emulator::parse_organization_file(path).map(Box::new), value_name = "FILE")]
    pub(crate) organization: Option<Box<emulator::Organization>>,
    /// Refuse AssumeRole into this account or role ARN (`*` matches any
    /// run of characters); repeatable.
    #[arg(long, value_parser = emulator::parse_role_rule, value_name = "ACCOUNT_OR_ROLE_ARN")]
    pub(crate) deny_assume_role: Vec<String>,
    /// Roles of this account or role ARN (`*` allowed) require this
    /// external id in AssumeRole; repeatable.
    #[arg(long, value_parser = emulator::parse_external_id, value_name = "ACCOUNT_OR_ROLE_ARN=ID")]
    pub(crate) external_id: Vec<(String, String)>,
}

impl EmulatorArgs {
    fn config(&self) -> emulator::Config {
        let args = self;
        emulator::Config {
            listen: args.listen.clone(),
            state: args.state.clone(),
            account_id: args.account_id.clone(),
            holder: "codestar-reconcile emulator".to_string(),
            wait_for_state: false,
            latency_ms: args.latency_ms,
            throttle_rps: args.throttle_rps,
            error_rate: args.error_rate,
            lost_response_rate: args.lost_response_rate,
            seed: args.seed,
            credentials: args.credentials.clone(),
            max_connections: args.max_connections,
            max_hosts: args.max_hosts,
            max_tags: args.max_tags,
            fault_account_id: args.fault_account.clone(),
            organization: args.organization.as_deref().cloned(),
            deny_assume_role: args.deny_assume_role.clone(),
            external_ids: args.external_id.iter().cloned().collect(),
        }
    }
}

/// The shells `completions` writes scripts for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// A stack name as the file would accept it, so import never writes a file
/// that fails `validate`.
fn parse_stack(text: &str) -> std::result::Result<String, String> {
    match crate::spec::stack_problems(text).as_slice() {
        [] => Ok(text.to_owned()),
        problems => Err(problems.join("; ")),
    }
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The stack the file is for: resources another stack owns are left out.
    #[arg(long, value_parser = parse_stack)]
    pub(crate) stack: String,
    /// Write `adopt: true` on resources no stack owns, so apply takes them over.
    #[arg(long)]
    pub(crate) adopt: bool,
    /// Import only resources whose name matches (`*`, `?`); repeatable.
    #[arg(long = "name", value_name = "GLOB")]
    pub(crate) names: Vec<String>,
    /// Write the file here instead of to standard output.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct SafetyArgs {
    /// Allow replacements (a new ARN; connections then wait for the console handshake).
    #[arg(long)]
    pub(crate) allow_replace: bool,
    /// Allow more deletes and replacements than the safety limit.
    #[arg(long)]
    pub(crate) force: bool,
    /// Refuse plans deleting or replacing more than this percentage of the
    /// managed resources (overrides the file's safety.max_delete_percent).
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub(crate) max_delete_percent: Option<u32>,
}

impl SafetyArgs {
    fn options(&self) -> plan::Options {
        plan::Options {
            allow_replace: self.allow_replace,
            force: self.force,
            max_delete_percent: self.max_delete_percent,
            min_managed: None,
        }
    }
}

/// Parse the arguments, run the command, print any error, exit with its code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap exits 2 on a usage error, which here means "drift found" or
        // "changes pending": a cron job with a mistyped flag would page
        // someone about drift. A usage error is an error: 1.
        Err(usage) => {
            let _ = usage.print();
            return ExitCode::from(if usage.use_stderr() { 1 } else { 0 });
        }
    };
    match run(cli.command) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(err) => {
            match &err {
                // Each diagnostic already says `file:line:col: error: …`.
                Error::Spec(diagnostics) => eprintln!("{diagnostics}"),
                Error::Interrupted { .. } => eprintln!("{err}"),
                other => eprintln!("error: {other}"),
            }
            err.exit_code()
        }
    }
}

fn run(command: Command) -> Result<Exit> {
    match command {
        Command::Plan(args) => runtime()?.block_on(async {
            interrupt::install();
            read_only(plan_command(args)).await
        }),
        Command::Apply(args) => runtime()?.block_on(async {
            interrupt::install();
            apply_command(args).await
        }),
        Command::Drift(args) => runtime()?.block_on(async {
            interrupt::install();
            read_only(drift_command(args)).await
        }),
        Command::Import(args) => runtime()?.block_on(async {
            interrupt::install();
            read_only(import_command(args)).await
        }),
        Command::Validate { files } => validate(&files),
        Command::Show { plans, format } => show(&plans, format),
        Command::Schema => {
            println!("{}", spec::json_schema_string());
            Ok(Exit::Success)
        }
        Command::Completions { shell } => {
            let shell = match shell {
                CompletionShell::Bash => clap_complete::Shell::Bash,
                CompletionShell::Zsh => clap_complete::Shell::Zsh,
                CompletionShell::Fish => clap_complete::Shell::Fish,
            };
            let mut command = Cli::command();
            clap_complete::generate(
                shell,
                &mut command,
                "codestar-reconcile",
                &mut std::io::stdout(),
            );
            Ok(Exit::Success)
        }
        Command::Emulator(args) => {
            runtime()?.block_on(emulator::serve(args.config()))?;
            Ok(Exit::Success)
        }
    }
}

/// Read, plan, render, save; exit 3 when refused, 2 for changes if asked.
async fn plan_command(args: PlanArgs) -> Result<Exit> {
    let mut targets = Targets::open(&args.files, &args.aws.settings()).await?;
    let snapshots = Phase::start(&reading(&targets))
        .during(targets.read(Depth::Configuration))
        .await?;
    let options = args.safety.options();
    let mut plan = targets.plan(&snapshots, &options);
    let (orphans, unscanned) = targets.scan_orphans(args.scan_organization).await;
    plan.warnings.extend(orphans);
    plan.unscanned = unscanned;
    print!(
        "{}",
        render::render_plan(&plan, args.format, Style::detect())
    );
    if let Some(out) = &args.out {
        save_plan(out, &targets, &snapshots, plan.clone(), options).await?;
    }
    some_failed(&targets, "plan covers")?;
    Ok(if plan.is_refused() {
        Exit::Refused
    } else if args.detailed_exitcode && !plan.is_empty() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// What apply does about a first SIGINT or SIGTERM.
fn announce_stop(signal: interrupt::Signal) {
    eprintln!(
        "\n{}: finishing the calls in flight and starting nothing new (send it again to stop at \
         once)",
        signal.name()
    );
}

/// Write `plan` for `apply PLAN_FILE`, bound to where each target was read:
/// its account and partition (one STS call each) and its endpoint.
async fn save_plan(
    out: &Path,
    targets: &Targets,
    snapshots: &[live::Snapshot],
    plan: Plan,
    options: plan::Options,
) -> Result<()> {
    let plan_dir = targets::absolute(out)?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let identities =
        futures_util::future::try_join_all(targets.targets.iter().map(|t| t.account.identity()))
            .await?;
    let mut inputs = Vec::new();
    for ((t, snapshot), identity) in targets.targets.iter().zip(snapshots).zip(identities) {
        let file_absolute = targets::absolute(&t.spec.source)?;
        inputs.push(SavedInput {
            file: t.spec.source.display().to_string(),
            file_from_plan: saved::relative_to(&file_absolute, &plan_dir),
            file_absolute,
            label: t.label.clone(),
            region: t.account.region.clone(),
            account_id: identity.account_id,
            partition: identity.partition,
            place: t.account.place.clone(),
            desired_sha256: t.file_digest.clone(),
            live_fingerprint: snapshot.fingerprint(),
        });
    }
    write_json(out, &SavedPlan::new(plan, options, targets.shard, inputs))?;
    eprintln!(
        "Saved the plan to {}; apply it with `codestar-reconcile apply {}`.",
        out.display(),
        out.display()
    );
    Ok(())
}

/// Read, compare, report; exit 2 when a failing class of drift is found.
async fn drift_command(args: DriftArgs) -> Result<Exit> {
    let mut targets = Targets::open(&args.files, &args.aws.settings()).await?;
    let snapshots = Phase::start(&reading(&targets))
        .during(targets.read(Depth::WithSyncStatus))
        .await?;
    let fail_on: BTreeSet<drift::Class> = drift::Class::ALL
        .into_iter()
        .filter(|c| {
            (c.failing_by_default() || args.fail_on.contains(c)) && !args.ignore.contains(c)
        })
        .collect();
    let parts = targets
        .targets
        .iter()
        .zip(&snapshots)
        .map(|(t, snapshot)| {
            (
                t.summary(snapshot),
                drift::findings(&t.spec, snapshot, &t.label),
            )
        })
        .collect();
    let mut report = drift::Report::new(parts, &fail_on);
    report.failed = targets.failed.clone();
    report.handshakes = targets.worklist(&snapshots, &[]);
    print!("{}", render::render_drift(&report, args.format));
    some_failed(&targets, "report covers")?;
    Ok(if report.drift {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Read one target with no resources of its own, describe what it holds as a
/// desired-state file, write it.
async fn import_command(args: ImportArgs) -> Result<Exit> {
    let target = spec::Target {
        source: PathBuf::from("the import"),
        stack: args.stack.clone(),
        region: None,
        account_id: None,
        api: None,
        profile: None,
        fleet: None,
        hosts: Vec::new(),
        connections: Vec::new(),
        repository_links: Vec::new(),
        sync_configurations: Vec::new(),
        safety: spec::Safety::default(),
    };
    let mut targets = Targets::open_specs(vec![target], &args.aws.settings()).await?;
    let snapshot = targets.read(Depth::Configuration).await?.remove(0);
    let options = import::Options {
        stack: args.stack,
        region: Some(targets.targets[0].account.region.clone()),
        api: args.aws.api,
        adopt: args.adopt,
        names: args.names,
    };
    let imported = import::import(&snapshot, &options)?;
    for left_out in &imported.left_out {
        eprintln!("{left_out}");
    }
    let dir = match &args.out {
        Some(out) => targets::absolute(out)?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        None => targets::absolute(Path::new("."))?,
    };
    let (schema, found) = schema_reference(&dir)?;
    let yaml = spec::to_yaml_with_schema(&imported.file, &schema);
    match &args.out {
        Some(out) => {
            std::fs::write(out, yaml).map_err(|e| Error::io(out, e))?;
            eprintln!(
                "Wrote {} and {} to {}; review it, then `codestar-reconcile plan -f {}`.",
                render::count(imported.file.hosts.len(), "host"),
                render::count(imported.file.connections.len(), "connection"),
                out.display(),
                out.display()
            );
        }
        None => print!("{yaml}"),
    }
    if !found {
        eprintln!(
            "Editors find the file's schema at {schema} (relative to the file), which does not \
             exist yet: `codestar-reconcile schema > {}` writes it.",
            Path::new(spec::DEFAULT_SCHEMA_REF).display()
        );
    }
    Ok(Exit::Success)
}

/// Plan (or re-check a saved plan), confirm, apply, then verify that a fresh
/// plan is empty.
async fn apply_command(args: ApplyArgs) -> Result<Exit> {
    // Until the first change is made, a signal ends the command at once.
    let (mut targets, plan, options) = read_only(async {
        match &args.plan_file {
            Some(path) => load_saved_plan(path, &args.aws.settings()).await,
            None => {
                let mut targets = Targets::open(&args.files, &args.aws.settings()).await?;
                let snapshots = Phase::start(&reading(&targets))
                    .during(targets.read(Depth::Configuration))
                    .await?;
                let options = args.safety.options();
                let plan = targets.plan(&snapshots, &options);
                Ok((targets, plan, options))
            }
        }
    })
    .await?;
    let style = Style::detect();
    print!("{}", render::render_plan(&plan, Format::Text, style));
    if plan.is_refused() {
        eprintln!("Refused: nothing was changed.");
        return Ok(Exit::Refused);
    }
    if plan.is_empty() {
        some_failed(&targets, "plan covers")?;
        return Ok(Exit::Success);
    }
    if args.plan_file.is_none() && !args.auto_approve {
        read_only(confirm(&plan)).await?;
    }

    let progress = Progress::new(plan.changes.len(), terminal());
    let announce = tokio::spawn(async { announce_stop(interrupt::wait().await) });
    let report = apply::apply(&targets, &plan, &progress).await;
    progress.finish();
    announce.abort();
    // A signal that came as the last calls ended may find the announcement
    // not yet run: it is said all the same, before the summary.
    if announce.await.is_err()
        && let Some(signal) = interrupt::requested()
    {
        announce_stop(signal);
    }

    eprintln!("\nApply: {}.", report.summary());
    if let Some(signal) = interrupt::requested() {
        return Err(Error::Interrupted {
            signal,
            message: "the changes marked ok above were made; the others were not (each line \
                      says why). Run apply again to finish"
                .to_owned(),
        });
    }
    if report.failed() + report.not_attempted() > 0 {
        return Err(Error::Incomplete(
            "apply stopped part-way: the changes marked FAILED or skipped above were not made \
             (those marked ok were). Fix what they say and run apply again; it converges from \
             where this stopped"
                .to_owned(),
        ));
    }
    if report.refused() > 0 {
        if report.done() == 0 {
            eprintln!("Refused: nothing was changed.");
            return Ok(Exit::Refused);
        }
        let made = match report.done() {
            1 => "1 change was made".to_owned(),
            n => format!("{n} changes were made"),
        };
        return Err(Error::Incomplete(format!(
            "{made} (marked ok above), then {} refused (marked REFUSED): follow their hints, \
             then run plan again",
            match report.refused() {
                1 => "1 was".to_owned(),
                n => format!("{n} were"),
            }
        )));
    }
    let verified = verify(&mut targets, options, style).await;
    some_failed(&targets, "apply covered")?;
    verified
}

/// After a command's output: exit 1 when some targets were left out (the
/// output lists them and why), since the exit code covers every target.
fn some_failed(targets: &Targets, covers: &str) -> Result<()> {
    if targets.failed.is_empty() {
        return Ok(());
    }
    let n = targets.failed.len();
    let total = n + targets.targets.len();
    Err(Error::Incomplete(format!(
        "{} of {total} targets could not be reached ({}, each with why above); the {covers} the \
         others. Fix what they say and run again",
        n,
        targets
            .failed
            .iter()
            .map(|f| f.target.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Read the account again after applying: "the account now matches the
/// files" only when a fresh plan, with every guard relaxed, has no change
/// and no refusal.
async fn verify(targets: &mut Targets, options: plan::Options, style: Style) -> Result<Exit> {
    let relaxed = plan::Options {
        allow_replace: true,
        force: true,
        ..options
    };
    let checking = "Checking that the account now matches the files";
    if !terminal() {
        eprintln!("{checking}…");
    }
    let read = tokio::select! {
        read = Phase::start(checking).during(targets.read(Depth::Configuration)) => read,
        signal = interrupt::wait() => {
            return Err(Error::Interrupted {
                signal,
                message: "the changes above were made, but the account was not checked \
                          afterwards; run plan to see where it stands"
                    .to_owned(),
            });
        }
    };
    let read = read?;
    let after = targets.plan(&read, &relaxed);
    if after.is_empty() && !after.is_refused() {
        eprintln!("The account now matches the files.");
        print!("{}", render::worklist_text(&after.handshakes));
        return Ok(Exit::Success);
    }
    print!("{}", render::render_plan(&after, Format::Text, style));
    Err(Error::Incomplete(format!(
        "apply finished, but a fresh read shows the account still differs from the files \
         ({} changes, {} refusals, above). Another run of this stack may have applied at the \
         same time: run apply again, it converges. If this persists, something else is \
         changing these resources",
        after.changes.len(),
        after.refusals.len()
    )))
}

/// A saved plan, checked: checksum; each target's file found again,
/// unchanged; the same endpoint (before any call) and account; the same
/// live state; the same changes when planned again.
async fn load_saved_plan(path: &Path, aws: &Settings) -> Result<(Targets, Plan, plan::Options)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let saved = SavedPlan::parse(path, &text)?;
    // Each file once (a fleet's targets share it), found where the plan
    // expects it and unchanged.
    let mut specs = Vec::new();
    let mut files: Vec<(&str, &str)> = Vec::new();
    for input in &saved.inputs {
        if files.contains(&(input.file.as_str(), input.desired_sha256.as_str())) {
            continue;
        }
        files.push((&input.file, &input.desired_sha256));
        let mut changed = None;
        let mut found = None;
        for candidate in input.candidates(path) {
            if !candidate.is_file() {
                continue;
            }
            let spec = spec::load(std::slice::from_ref(&candidate))
                .map_err(Error::Spec)?
                .remove(0);
            if desired_digest(&spec) == input.desired_sha256 {
                found = Some(spec);
                break;
            }
            changed.get_or_insert(candidate);
        }
        match (found, changed) {
            (Some(spec), _) => specs.push(spec),
            (None, Some(file)) => {
                return Err(Error::Stale(format!(
                    "{} changed since the plan was made",
                    file.display()
                )));
            }
            (None, None) => return Err(input.lost(path)),
        }
    }
    let mut aws = aws.clone();
    aws.shard = saved.shard;
    let mut targets = Targets::connect(specs, &aws).await?;
    // The same targets as when the plan was made, in the plan's order: a
    // fleet's accounts may have changed since (an organizational unit).
    let planned_failed: Vec<&str> = saved
        .plan
        .failed
        .iter()
        .map(|f| f.target.as_str())
        .collect();
    let mut ordered = Vec::new();
    for input in &saved.inputs {
        let Some(at) = targets.targets.iter().position(|t| t.label == input.label) else {
            return Err(Error::Stale(format!(
                "target {} is no longer among the files' targets",
                input.label
            )));
        };
        ordered.push(targets.targets.remove(at));
    }
    for extra in std::mem::take(&mut targets.targets) {
        if planned_failed.contains(&extra.label.as_str()) {
            let why = saved
                .plan
                .failed
                .iter()
                .find(|f| f.target == extra.label)
                .map(|f| f.message.clone())
                .unwrap_or_default();
            targets.failed.push(plan::FailedTarget {
                target: extra.label,
                message: format!("not in the saved plan: it could not be planned ({why})"),
            });
        } else {
            return Err(Error::Stale(format!(
                "target {} is new among the files' targets (a fleet's accounts changed?)",
                extra.label
            )));
        }
    }
    targets.targets = ordered;
    for (target, input) in targets.targets.iter().zip(&saved.inputs) {
        input.check_place(&target.account.place)?;
        if target.account.region != input.region {
            return Err(Error::Stale(format!(
                "{} was planned for Region {}, but now resolves to {}",
                input.file, input.region, target.account.region
            )));
        }
    }
    targets.check_accounts().await?;
    if !targets.failed.is_empty() && targets.targets.len() != saved.inputs.len() {
        return Err(Error::Stale(format!(
            "{} could not be reached now; nothing was applied",
            targets
                .failed
                .iter()
                .map(|f| format!("{} ({})", f.target, f.message))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let identities =
        futures_util::future::try_join_all(targets.targets.iter().map(|t| t.account.identity()))
            .await?;
    for (identity, input) in identities.iter().zip(&saved.inputs) {
        input.check_identity(identity)?;
    }
    let snapshots = Phase::start(&reading(&targets))
        .during(targets.read(Depth::Configuration))
        .await?;
    for (snapshot, input) in snapshots.iter().zip(&saved.inputs) {
        if snapshot.fingerprint() != input.live_fingerprint {
            return Err(Error::Stale(format!(
                "the resources of {} changed in the account since the plan was made",
                input.label
            )));
        }
    }
    let plan = targets.plan(&snapshots, &saved.options);
    if plan.changes != saved.plan.changes || plan.refusals != saved.plan.refusals {
        return Err(Error::Stale(
            "planning again gives different changes".to_owned(),
        ));
    }
    Ok((targets, plan, saved.options))
}

/// Ask for `yes` on the terminal.
async fn confirm(plan: &Plan) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage(
            "apply needs confirmation, and there is no terminal to ask on: review the plan and \
             pass --auto-approve, or apply a saved plan (`plan --out plan.json`, then \
             `apply plan.json`)",
        ));
    }
    let s = plan.summary;
    eprint!(
        "\nApply {} changes ({} create, {} update, {} replace, {} delete, {} adopt)? Only 'yes' will be accepted: ",
        s.total(),
        s.create,
        s.update,
        s.replace,
        s.delete,
        s.adopt
    );
    std::io::stderr().flush().ok();
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map(|_| answer)
    })
    .await
    .map_err(|e| Error::Other(format!("cannot read the answer: {e}")))?
    .map_err(|e| Error::Other(format!("cannot read the answer: {e}")))?;
    if answer.trim() != "yes" {
        return Err(Error::Cancelled);
    }
    Ok(())
}

/// Run a part of a command that changes nothing: a signal ends the command
/// at once, truthfully.
async fn read_only<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        result = work => result,
        signal = interrupt::wait() => Err(Error::Interrupted {
            signal,
            message: "nothing was changed".to_owned(),
        }),
    }
}

/// "Reading platform@eu-west-1", "Reading 3 targets".
fn reading(targets: &Targets) -> String {
    match targets.targets.as_slice() {
        [one] => format!("Reading {}", one.label),
        many => format!("Reading {} targets", many.len()),
    }
}

/// Whether stderr is a terminal that can show progress.
fn terminal() -> bool {
    std::io::stderr().is_terminal() && !render::dumb_terminal()
}

/// A phase that may take seconds (reading accounts, the after-apply check),
/// shown on a terminal as a spinner with the calls answered so far and the
/// time taken.
struct Phase {
    bar: Option<indicatif::ProgressBar>,
}

impl Phase {
    fn start(message: &str) -> Phase {
        let bar = terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {msg}: {pos} calls answered, {elapsed}",
                )
                .expect("the template is valid"),
            );
            bar.set_message(message.to_owned());
            bar
        });
        Phase { bar }
    }

    /// Run `work` with the spinner turning.
    async fn during<T>(self, work: impl Future<Output = T>) -> T {
        let Some(bar) = &self.bar else {
            return work.await;
        };
        let from = call::answered();
        let ticker = {
            let bar = bar.clone();
            tokio::spawn(async move {
                loop {
                    bar.set_position(call::answered().saturating_sub(from));
                    bar.tick();
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            })
        };
        let out = work.await;
        ticker.abort();
        bar.finish_and_clear();
        out
    }
}

/// Saved plans as one: exit 3 when any is refused, else 0.
fn show(paths: &[PathBuf], format: Format) -> Result<Exit> {
    let mut plans = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        plans.push(SavedPlan::parse(path, &text)?.plan);
    }
    let plan = Plan::merge(plans);
    print!("{}", render::render_plan(&plan, format, Style::detect()));
    Ok(if plan.is_refused() {
        Exit::Refused
    } else {
        Exit::Success
    })
}

fn validate(files: &[PathBuf]) -> Result<Exit> {
    let targets = spec::load(files).map_err(Error::Spec)?;
    for target in &targets {
        let mut counts = vec![
            render::count(target.hosts.len(), "host"),
            render::count(target.connections.len(), "connection"),
        ];
        if !target.repository_links.is_empty() || !target.sync_configurations.is_empty() {
            counts.push(render::count(
                target.repository_links.len(),
                "repository link",
            ));
            counts.push(render::count(
                target.sync_configurations.len(),
                "sync configuration",
            ));
        }
        println!(
            "{}: valid ({}, stack {})",
            target.source.display(),
            counts.join(", "),
            target.stack
        );
    }
    Ok(Exit::Success)
}

/// Where the `$schema` comment of a file written in `dir` should point: the
/// nearest `schema/codestar-reconcile.schema.json` in `dir` or above it, as
/// a path from `dir` (editors resolve it from the file); else where
/// `codestar-reconcile schema > schema/…` in the working directory puts it.
/// Whether it exists is the second value.
fn schema_reference(dir: &Path) -> Result<(String, bool)> {
    let found = dir
        .ancestors()
        .map(|d| d.join(spec::DEFAULT_SCHEMA_REF))
        .find(|p| p.is_file());
    let schema = match &found {
        Some(path) => path.clone(),
        None => targets::absolute(Path::new(spec::DEFAULT_SCHEMA_REF))?,
    };
    let relative = saved::relative_to(&schema, dir).unwrap_or(schema);
    Ok((relative.display().to_string(), found.is_some()))
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("plans always serialise");
    text.push('\n');
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))
}
