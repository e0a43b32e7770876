//! Command-line interface: arguments in, exit code out. Each command is a
//! short story over the shared pieces.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::account::AwsArgs;
use crate::apply::{self, Progress};
use crate::drift;
use crate::emulator;
use crate::error::{Error, Exit, Result};
use crate::import;
use crate::plan::saved::{SavedInput, SavedPlan, desired_digest};
use crate::plan::{self, Plan};
use crate::render::{self, Format, Style};
use crate::spec;
use crate::targets::Targets;

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
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what apply would change, and why; change nothing.
    Plan(PlanArgs),
    /// Make the account match the files (or carry out a saved plan).
    Apply(ApplyArgs),
    /// Report how the account differs from the files; change nothing. Exit 2 on drift.
    Drift(DriftArgs),
    /// Write a desired-state file describing the live account (change nothing).
    Import(ImportArgs),
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
    /// Run the local CodeStar Connections emulator (a test fixture and sandbox).
    Emulator(emulator::EmulatorArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Desired-state files, or directories of them; each file is one target.
    /// Several may follow one -f (a shell glob), or repeat -f.
    #[arg(short = 'f', long = "file", required = true, value_name = "FILE", num_args = 1..)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 2 when there are changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan for `apply PLAN_FILE`.
    #[arg(long, value_name = "PLAN_FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub safety: SafetyArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `plan --out`; applies exactly it, or refuses it if stale.
    #[arg(value_name = "PLAN_FILE", conflicts_with = "files")]
    pub plan_file: Option<PathBuf>,
    /// Desired-state files, or directories of them; each file is one target.
    /// Several may follow one -f (a shell glob), or repeat -f.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        num_args = 1..,
        required_unless_present = "plan_file"
    )]
    pub files: Vec<PathBuf>,
    /// Apply without asking (for CI).
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub safety: SafetyArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Desired-state files, or directories of them; each file is one target.
    /// Several may follow one -f (a shell glob), or repeat -f.
    #[arg(short = 'f', long = "file", required = true, value_name = "FILE", num_args = 1..)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also count these classes as drift (unmanaged is informational by default).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "CLASSES")]
    pub fail_on: Vec<drift::Class>,
    /// Do not count these classes as drift (e.g. pending).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "CLASSES")]
    pub ignore: Vec<drift::Class>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The shells `completions` writes scripts for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
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
pub struct ImportArgs {
    /// The stack the file is for: resources another stack owns are left out.
    #[arg(long, value_parser = parse_stack)]
    pub stack: String,
    /// Write `adopt: true` on resources no stack owns, so apply takes them over.
    #[arg(long)]
    pub adopt: bool,
    /// Import only resources whose name matches (`*`, `?`); repeatable.
    #[arg(long = "name", value_name = "GLOB")]
    pub names: Vec<String>,
    /// Write the file here instead of to standard output.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SafetyArgs {
    /// Allow replacements (a new ARN; connections then wait for the console handshake).
    #[arg(long)]
    pub allow_replace: bool,
    /// Allow more deletes and replacements than the safety limit.
    #[arg(long)]
    pub force: bool,
    /// Refuse plans deleting or replacing more than this percentage of the
    /// managed resources (overrides the file's safety.max_delete_percent).
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_delete_percent: Option<u32>,
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
                other => eprintln!("error: {other}"),
            }
            err.exit_code()
        }
    }
}

fn run(command: Command) -> Result<Exit> {
    match command {
        Command::Plan(args) => runtime()?.block_on(plan_command(args)),
        Command::Apply(args) => runtime()?.block_on(apply_command(args)),
        Command::Drift(args) => runtime()?.block_on(drift_command(args)),
        Command::Import(args) => runtime()?.block_on(import_command(args)),
        Command::Validate { files } => validate(&files),
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
            runtime()?.block_on(emulator::serve(args))?;
            Ok(Exit::Success)
        }
    }
}

/// Read, plan, render, save; exit 3 when refused, 2 for changes if asked.
async fn plan_command(args: PlanArgs) -> Result<Exit> {
    let targets = Targets::open(&args.files, &args.aws).await?;
    let snapshots = targets.read().await?;
    let options = args.safety.options();
    let plan = targets.plan(&snapshots, &options);
    print!(
        "{}",
        render::render_plan(&plan, args.format, Style::detect())
    );
    if let Some(out) = &args.out {
        let inputs = targets
            .targets
            .iter()
            .zip(&snapshots)
            .map(|(t, snapshot)| SavedInput {
                file: t.spec.source.display().to_string(),
                label: t.label.clone(),
                region: t.account.region.clone(),
                desired_sha256: desired_digest(&t.spec),
                live_fingerprint: snapshot.fingerprint(),
            })
            .collect();
        let saved = SavedPlan::new(plan.clone(), options, inputs);
        write_json(out, &saved)?;
        eprintln!(
            "Saved the plan to {}; apply it with `codestar-reconcile apply {}`.",
            out.display(),
            out.display()
        );
    }
    Ok(if plan.is_refused() {
        Exit::Refused
    } else if args.detailed_exitcode && !plan.is_empty() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Read, compare, report; exit 2 when a failing class of drift is found.
async fn drift_command(args: DriftArgs) -> Result<Exit> {
    let targets = Targets::open(&args.files, &args.aws).await?;
    let snapshots = targets.read().await?;
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
    let report = drift::Report::new(parts, &fail_on);
    print!("{}", render::render_drift(&report, args.format));
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
        profile: None,
        hosts: Vec::new(),
        connections: Vec::new(),
        safety: spec::Safety::default(),
    };
    let targets = Targets::open_specs(vec![target], &args.aws).await?;
    let snapshot = targets.read().await?.remove(0);
    let options = import::Options {
        stack: args.stack,
        region: Some(targets.targets[0].account.region.clone()),
        adopt: args.adopt,
        names: args.names,
    };
    let imported = import::import(&snapshot, &options)?;
    for (kind, name, owner) in &imported.foreign {
        eprintln!("Left out {kind} {name}: stack {owner} owns it.");
    }
    let yaml = spec::to_yaml_with_schema(&imported.file, spec::DEFAULT_SCHEMA_REF);
    match &args.out {
        Some(out) => {
            std::fs::write(out, yaml).map_err(|e| Error::io(out, e))?;
            eprintln!(
                "Wrote {} hosts and {} connections to {}; review it, then `codestar-reconcile plan -f {}`.",
                imported.file.hosts.len(),
                imported.file.connections.len(),
                out.display(),
                out.display()
            );
        }
        None => print!("{yaml}"),
    }
    Ok(Exit::Success)
}

/// Plan (or re-check a saved plan), confirm, apply, then verify that a fresh
/// plan is empty.
async fn apply_command(args: ApplyArgs) -> Result<Exit> {
    let (targets, plan, options) = match &args.plan_file {
        Some(path) => load_saved_plan(path, &args.aws).await?,
        None => {
            let targets = Targets::open(&args.files, &args.aws).await?;
            let snapshots = targets.read().await?;
            let options = args.safety.options();
            let plan = targets.plan(&snapshots, &options);
            (targets, plan, options)
        }
    };
    let style = Style::detect();
    print!("{}", render::render_plan(&plan, Format::Text, style));
    if plan.is_refused() {
        eprintln!("Refused: nothing was applied.");
        return Ok(Exit::Refused);
    }
    if plan.is_empty() {
        return Ok(Exit::Success);
    }
    if args.plan_file.is_none() && !args.auto_approve {
        confirm(&plan)?;
    }

    let progress = Progress::new(plan.changes.len(), std::io::stderr().is_terminal());
    let report = apply::apply(&targets, &plan, &progress).await;
    progress.finish();

    let failed = report.failed();
    let refused = report.refused();
    eprintln!(
        "\nApply: {} of {} changes done, {failed} failed or not attempted, {refused} refused.",
        report.done(),
        report.entries.len()
    );
    if failed > 0 {
        for entry in report
            .entries
            .iter()
            .filter(|e| !matches!(e.outcome, apply::Outcome::Done { .. }))
        {
            eprintln!("{}", apply::describe(entry));
        }
        return Err(Error::Incomplete(
            "apply stopped part-way: the changes listed above were not made (everything else \
             was). Fix what they say and run apply again; it converges from where this stopped"
                .to_owned(),
        ));
    }
    if refused > 0 {
        return Ok(Exit::Refused);
    }

    // Verify with every guard relaxed, so anything still different shows.
    let verify = plan::Options {
        allow_replace: true,
        force: true,
        ..options
    };
    let after = targets.plan(&targets.read().await?, &verify);
    if !after.is_empty() {
        print!("{}", render::render_plan(&after, Format::Text, style));
        return Err(Error::Incomplete(format!(
            "apply finished, but the account still differs from the files in {} places (above); \
             run apply again, and if it persists, check for another process changing these resources",
            after.changes.len()
        )));
    }
    eprintln!("The account now matches the files.");
    Ok(Exit::Success)
}

/// A saved plan, checked: checksum, desired state unchanged, live state
/// unchanged, and the same changes when planned again.
async fn load_saved_plan(path: &Path, aws: &AwsArgs) -> Result<(Targets, Plan, plan::Options)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let saved: SavedPlan = serde_json::from_str(&text).map_err(|e| {
        Error::usage(format!(
            "{} is not a saved plan ({e}); make one with `plan --out`",
            path.display()
        ))
    })?;
    if !saved.checksum_matches() {
        return Err(Error::usage(format!(
            "{} was modified or truncated after it was saved (checksum mismatch); nothing was \
             applied. Make a new plan with `plan --out`",
            path.display()
        )));
    }
    let files: Vec<PathBuf> = saved
        .inputs
        .iter()
        .map(|i| PathBuf::from(&i.file))
        .collect();
    let targets = Targets::open(&files, aws).await?;
    for (target, input) in targets.targets.iter().zip(&saved.inputs) {
        if desired_digest(&target.spec) != input.desired_sha256 {
            return Err(Error::Stale(format!(
                "{} changed since the plan was made",
                input.file
            )));
        }
        if target.account.region != input.region {
            return Err(Error::Stale(format!(
                "{} was planned for Region {}, but now resolves to {}",
                input.file, input.region, target.account.region
            )));
        }
    }
    let snapshots = targets.read().await?;
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

fn confirm(plan: &Plan) -> Result<()> {
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
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Other(format!("cannot read the answer: {e}")))?;
    if answer.trim() != "yes" {
        return Err(Error::usage("apply cancelled; nothing was changed"));
    }
    Ok(())
}

fn validate(files: &[PathBuf]) -> Result<Exit> {
    let targets = spec::load(files).map_err(Error::Spec)?;
    for target in &targets {
        println!(
            "{}: valid ({} hosts, {} connections, stack {})",
            target.source.display(),
            target.hosts.len(),
            target.connections.len(),
            target.stack
        );
    }
    Ok(Exit::Success)
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
