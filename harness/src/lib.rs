//! # syncproof-harness
//!
//! Runs sync-store engines against the contract and against each other. This crate holds the
//! engine registry ([`engines`]), deliberately broken engines that prove the checkers catch
//! bugs ([`faulty`]), and the `syncproof` command line.

pub mod arbitrary_ops;
pub mod check;
pub mod corrupt;
pub mod crash;
pub mod engines;
pub mod faulty;
pub mod fuzz_targets;
pub mod generate;
pub mod instrument;
pub mod kv_level;
pub mod migrate;
pub mod ops;
pub mod outcome;
pub mod report;
pub mod repro;
pub mod runner;
pub mod shrink;
pub mod universe;
pub mod workload;
