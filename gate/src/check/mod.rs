//! The gate: one driver ([`driver`]) that both levels run on — the API level ([`api`], the
//! contract suite then generated sync sequences against the oracle) and the KV level ([`kv`],
//! generated batches and scans against a `BTreeMap`) — with one report ([`report`]) rendered
//! as a summary, JUnit or JSON ([`render`]); [`concurrent`] runs the concurrent phase (reads on
//! other threads checked against their window of states). [`detection`] measures how many cases the
//! sequences need to find each planted bug.

pub mod api;
pub mod concurrent;
pub mod detection;
pub mod driver;
pub mod kv;
pub mod options;
pub mod progress;
pub mod render;
pub mod report;
pub mod stall;
