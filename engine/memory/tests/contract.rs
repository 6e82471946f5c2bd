//! The memory engine against every contract check (the SPEC rule table is in
//! `syncproof_engine::contract::CHECKS` and docs/spec-rules.md).

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[test]
fn memory_engine_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_memory::MemoryOpener::default());
}
