//! Running one case: the differential runner (`runner`), the concurrent runner that checks
//! reads on other threads against their window of states (`concurrent`), comparable outcomes (`outcome`),
//! what the cases reached (`reach`), shrinking (`shrink`), repro files (`repro`) and their
//! text rendering (`text`). Imports only
//! from [`crate::model`].

pub mod case;
pub mod concurrent;
pub mod kv;
pub mod latency;
pub mod outcome;
pub mod reach;
pub mod repro;
pub mod runner;
pub mod shrink;
pub mod text;
pub mod watchdog;
