//! The redb engine against every contract check.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[test]
fn redb_engine_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_redb::opener());
}
