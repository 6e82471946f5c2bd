//! "mine": a stand-in for a third party's engine, built on the contract crate alone — the
//! key-value layer (`KvStore`) over an in-memory ordered map, one map per store directory, so
//! a reopen keeps the data. A real engine puts its own `KvBackend` (or `StorageEngine`) here.
//! "mine-log" ([`log`]) is the same layer over an append-only log on disk, for the crash,
//! power-loss and I/O-error models.

pub mod log;

use std::path::Path;

use syncproof_engine::contract::{Opener, StoreDirs};
use syncproof_engine::kv::btree::SharedMap;
use syncproof_engine::kv::{BTreeBackend, DynBackend, KvStore};
use syncproof_engine::{EngineConfig, Result, StorageEngine};

/// The maps of the stores, by directory.
static MAPS: StoreDirs<SharedMap> = StoreDirs::new();

fn backend(dir: &Path) -> BTreeBackend {
    BTreeBackend::on(MAPS.open(dir).0)
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

/// Opens stores of the persistent engine "mine-log" ([`log`]), whose data outlives the
/// process: the one the fault models (`tests/crash.rs`) run on.
pub fn log_opener() -> syncproof_engine::kv::KvOpener<log::LogBackend> {
    syncproof_engine::kv::KvOpener::new("mine-log", log::LogBackend::open)
}

/// Opens the engine's raw key-value backend, for the gate's KV level.
pub fn open_backend(dir: &Path) -> Result<Box<dyn DynBackend>> {
    Ok(Box::new(backend(dir)))
}
