//! The redb engine against every contract check.

#[test]
fn redb_engine_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_redb::opener());
}
