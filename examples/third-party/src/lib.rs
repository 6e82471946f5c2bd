//! "mine": a stand-in for a third party's engine, built on the contract crate alone — the
//! key-value layer (`KvStore`) over an in-memory ordered map, one map per store directory, so
//! a reopen keeps the data. A real engine puts its own `KvBackend` (or `StorageEngine`) here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use syncproof_engine::contract::Opener;
use syncproof_engine::kv::btree::SharedMap;
use syncproof_engine::kv::{BTreeBackend, DynBackend, KvStore};
use syncproof_engine::{EngineConfig, Result, StorageEngine};

fn maps() -> &'static Mutex<HashMap<PathBuf, SharedMap>> {
    static MAPS: OnceLock<Mutex<HashMap<PathBuf, SharedMap>>> = OnceLock::new();
    MAPS.get_or_init(Mutex::default)
}

fn backend(dir: &Path) -> BTreeBackend {
    let mut maps = maps().lock().unwrap_or_else(|e| e.into_inner());
    maps.retain(|d, _| d.exists());
    BTreeBackend::on(maps.entry(dir.to_path_buf()).or_default().clone())
}

/// Opens stores of the engine.
#[derive(Debug, Default)]
pub struct MineOpener;

impl Opener for MineOpener {
    fn name(&self) -> &str {
        "mine"
    }
    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        Ok(Box::new(KvStore::new(backend(dir), config)))
    }
}

/// Opens the engine's raw key-value backend, for the gate's KV level.
pub fn open_backend(dir: &Path) -> Result<Box<dyn DynBackend>> {
    Ok(Box::new(backend(dir)))
}
