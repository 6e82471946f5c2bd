//! `KvStore` over the `BTreeMap` backend against every contract check: the key-value layer's
//! logic, separated from any real backend's behaviour.

#[test]
fn kv_store_over_btree_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_engine::kv::BTreeOpener::default());
}
