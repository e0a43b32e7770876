mod cli;
mod collision;
mod drift;
mod emulator;
mod faults;
mod support;
mod validate;
mod workflow;
