//! `KvStore` over the `BTreeMap` backend against every contract check: the key-value layer's
//! logic, separated from any real backend's behaviour.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use syncproof_engine::contract::{run_all, Opener};
use syncproof_engine::kv::btree::SharedMap;
use syncproof_engine::kv::{BTreeBackend, KvStore};
use syncproof_engine::{EngineConfig, Result, StorageEngine};

#[derive(Default)]
struct BTreeOpener(Mutex<HashMap<PathBuf, SharedMap>>);

impl Opener for BTreeOpener {
    fn name(&self) -> &str {
        "btree"
    }
    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        let map = self
            .0
            .lock()
            .unwrap()
            .entry(dir.to_path_buf())
            .or_default()
            .clone();
        Ok(Box::new(KvStore::new(BTreeBackend::on(map), config)))
    }
}

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
