//! `codestar-reconcile`: a declarative reconciler for AWS CodeStar Connections.
//!
//! Data flows one way: a desired-state file ([`spec`]) and a live account
//! ([`live`]) go into the pure planner ([`plan`]); the resulting [`plan::Plan`]
//! is rendered ([`render`]) and executed ([`apply`]). [`drift`] and
//! [`import`] reuse the same pieces. [`emulator`] is the local stand-in for
//! the AWS service that tests and `--local` run against.

pub mod account;
pub mod apply;
pub mod call;
pub mod cli;
pub mod drift;
pub mod emulator;
pub mod error;
pub mod import;
pub mod interrupt;
pub mod live;
pub mod plan;
pub mod render;
pub mod resource;
pub mod service;
pub mod spec;
pub mod targets;
