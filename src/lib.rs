//! `codestar-reconcile`: a declarative reconciler for AWS CodeStar Connections.
//!
//! Data flows one way: a desired-state file ([`spec`]) and a live account
//! ([`live`]) go into the pure planner ([`plan`]); the resulting [`plan::Plan`]
//! is rendered (`render`) and executed (`apply`). `drift` and `import`
//! reuse the same pieces. [`emulator`] is the local stand-in for
//! the AWS service that tests and `--local` run against.

//!
//! The public modules are what the binary, the integration tests and the
//! benchmark use: the command line, the emulator, and the pure pieces
//! (file, snapshot, planner, vocabulary). Everything else is the crate's own.

pub mod cli;
pub mod emulator;
pub mod error;
pub mod interrupt;
pub mod live;
pub mod plan;
pub mod resource;
pub mod spec;

mod account;
mod apply;
mod call;
mod drift;
mod fleet;
mod import;
mod render;
mod service;
mod targets;
mod worklist;
