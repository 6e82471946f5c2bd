//! The fjall engine against every contract check.

#[test]
fn fjall_engine_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_fjall::opener());
}
