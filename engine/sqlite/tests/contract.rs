//! The SQLite engine against every contract check.

#[test]
fn sqlite_engine_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_sqlite::SqliteOpener::default());
}
