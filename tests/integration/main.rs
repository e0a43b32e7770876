mod cli;
mod drift;
mod emulator;
mod faults;
mod support;
mod validate;
mod workflow;
