//! # syncproof-gate
//!
//! The engine-agnostic gate: it depends on the engine contract (`syncproof-engine`) and the
//! oracle (`syncproof-memory`) only, so a third-party engine author tests an engine without
//! building any of the in-tree engines.
//!
//! Stages import one way: [`model`] (ops, universe, generation) ← [`run`] (runner, outcome,
//! shrink, repro) ← [`check`] (the driver, both levels, the report and its rendering).
//! [`faults`] holds the deliberately broken engines and backends that prove the checkers
//! catch bugs.
//!
//! ```no_run
//! use syncproof_gate::Harness;
//! # fn my_opener() -> syncproof_memory::MemoryOpener { Default::default() }
//!
//! let report = Harness::new().engine("mine", Box::new(my_opener())).cases(200).run();
//! assert!(report.passed(), "{}", report.summary());
//! ```

// Every public item is documented (the workspace lints cannot scope this to two crates).
#![deny(missing_docs)]

pub mod check;
pub mod faultmodel;
pub mod faults;
pub mod model;
pub mod run;

pub use check::api::{assert_replay_agrees, Harness};
pub use check::options::{Options, Progress, Shard};
pub use check::report::Report;
pub use run::repro::{OpenerFn, Repro};
