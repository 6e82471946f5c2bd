//! The mdbx engine against every contract check.

#[test]
fn mdbx_engine_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_mdbx::opener());
}
