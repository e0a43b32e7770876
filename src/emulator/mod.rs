//! PLACEHOLDER owned by the emulator work: replaced by the real emulator.
use std::path::PathBuf;

use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    #[arg(long, default_value = "127.0.0.1:4599")]
    pub listen: String,
    #[arg(long)]
    pub state: Option<PathBuf>,
}

pub async fn serve(_args: EmulatorArgs) -> Result<()> {
    unimplemented!("the emulator is being written")
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub listen: String,
    pub state: Option<PathBuf>,
    pub account_id: String,
}

pub struct Emulator;

pub struct RunningEmulator;

impl Emulator {
    pub async fn start(_config: Config) -> Result<RunningEmulator> {
        unimplemented!("the emulator is being written")
    }
}

impl RunningEmulator {
    pub fn url(&self) -> String {
        unimplemented!("the emulator is being written")
    }
}
