//! `KvStore` over the `BTreeMap` backend against every contract check: the key-value layer's
//! logic, separated from any real backend's behaviour.

use syncproof_engine::contract::run_all;
use syncproof_engine::kv::BTreeOpener;

#[test]
fn kv_store_over_btree_honours_the_contract() {
    let failures = run_all(&BTreeOpener::default());
    for (name, failure) in &failures {
        eprintln!("FAILED {name}: {}", failure.0);
    }
    assert!(
        failures.is_empty(),
        "{} contract checks failed",
        failures.len()
    );
}
