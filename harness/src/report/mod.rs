//! `syncproof report`: criterion's results turned into the published comparison report, and
//! the A/B comparison of two criterion baselines that gates engine changes in CI.

mod run_info;

pub use run_info::{criterion_dir, RunInfo, RUN_INFO_FILE};
