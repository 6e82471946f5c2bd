//! # syncproof-harness
//!
//! The engine-bundling side of syncproof: the registry of in-tree engines ([`engines`]), the
//! `syncproof` command line, reports, and the crash, corruption and migration tooling. The
//! gate itself (op model, runner, shrinking, repro files, fault classes, both levels) is the
//! engine-agnostic `syncproof-gate`, which this crate drives with the in-tree engines.

pub mod allocator;
pub mod corrupt;
pub mod crash;
pub mod engines;
pub mod existing;
pub mod faultmodel;
pub mod fuzz_targets;
pub mod instrument;
pub mod migrate;
pub mod report;
pub mod stall_shrink;
pub mod workload;
