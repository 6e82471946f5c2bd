//! The memory engine against every contract check (the SPEC rule table is in
//! `syncproof_engine::contract::CHECKS` and docs/spec-rules.md).

#[test]
fn memory_engine_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_memory::MemoryOpener::default());
}
