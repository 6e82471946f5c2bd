//! The memory engine against every contract check (the SPEC rule table is in
//! `syncproof_engine::contract::CHECKS`).

use syncproof_engine::contract::run_all;
use syncproof_memory::MemoryOpener;

#[test]
fn memory_engine_honours_the_contract() {
    let failures = run_all(&MemoryOpener::default());
    for (name, failure) in &failures {
        eprintln!("FAILED {name}: {}", failure.0);
    }
    assert!(
        failures.is_empty(),
        "{} contract checks failed",
        failures.len()
    );
}
