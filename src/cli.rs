//! Command-line interface: arguments in, exit code out. Each command is a
//! short story over the shared pieces.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::emulator;
use crate::error::{Error, Exit, Result};
use crate::spec;

#[derive(Debug, Parser)]
#[command(
    name = "codestar-reconcile",
    version,
    about = "Declarative reconciler for AWS CodeStar Connections",
    long_about = "Keeps AWS CodeStar Connections (connections, hosts and their tags) \
                  in line with a YAML file in git: `plan` on pull requests, `apply` \
                  on merge, `drift` from cron."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check desired-state files without touching AWS (no credentials needed).
    Validate {
        /// Desired-state files or directories of them.
        #[arg(short = 'f', long = "file", required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the desired-state file (for editors).
    Schema,
    /// Run the local CodeStar Connections emulator (a test fixture and sandbox).
    Emulator(emulator::EmulatorArgs),
}

/// Parse the arguments, run the command, print any error, exit with its code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

fn run(command: Command) -> Result<Exit> {
    match command {
        Command::Validate { files } => validate(&files),
        Command::Schema => {
            println!("{}", spec::json_schema_string());
            Ok(Exit::Success)
        }
        Command::Emulator(args) => {
            runtime()?.block_on(emulator::serve(args))?;
            Ok(Exit::Success)
        }
    }
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

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))
}
