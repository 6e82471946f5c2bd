//! The sled engine against every contract check.

use syncproof_engine::contract::run_all;

#[test]
fn sled_engine_honours_the_contract() {
    let failures = run_all(&syncproof_sled::opener());
    for (check, failure) in &failures {
        eprintln!("FAILED {check}: {}", failure.0);
    }
    assert!(
        failures.is_empty(),
        "{} contract checks failed",
        failures.len()
    );
}
