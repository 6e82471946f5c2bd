//! The SQLite engine against every contract check.

use syncproof_engine::contract::run_all;

#[test]
fn sqlite_engine_honours_the_contract() {
    let failures = run_all(&syncproof_sqlite::SqliteOpener::default());
    for (check, failure) in &failures {
        eprintln!("FAILED {check}: {}", failure.0);
    }
    assert!(
        failures.is_empty(),
        "{} contract checks failed",
        failures.len()
    );
}
