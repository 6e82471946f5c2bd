//! The sled engine against every contract check.

#[test]
fn sled_engine_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_sled::opener());
}
