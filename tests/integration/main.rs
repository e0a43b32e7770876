mod cli;
mod drift;
mod emulator;
mod faults;
mod import;
mod support;
mod validate;
mod workflow;
