//! Shared set-up of the benchmarks: workload sizes and stores prepared in temp dirs.
//!
//! Sizes: N = 1k and 10k grants by default; `SYNCPROOF_BENCH_LARGE=1` adds 100k and 1M.
//! Every engine runs with `Durability::Flush` (the registry's setting), the same for all.

use syncproof_engine::contract::Opener;
use syncproof_engine::{EngineConfig, StorageEngine, SyncId};
use syncproof_harness::workload::{write_sync, Shape};

/// Grant counts to measure.
pub fn sizes() -> Vec<usize> {
    let mut n = vec![1_000, 10_000];
    if std::env::var_os("SYNCPROOF_BENCH_LARGE").is_some() {
        n.extend([100_000, 1_000_000]);
    }
    n
}

/// The workload shape for `grants` grants.
pub fn shape(grants: usize) -> Shape {
    Shape {
        users: (grants / 10).max(10),
        groups: (grants / 100).max(2),
        grants,
        assets: 0,
    }
}

/// A store of one engine in its own temp dir.
pub struct Store {
    pub engine: Box<dyn StorageEngine>,
    _dir: tempfile::TempDir,
}

/// A fresh, empty store.
pub fn empty(opener: &dyn Opener) -> Store {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = opener
        .open(dir.path(), EngineConfig::default())
        .expect("open");
    Store { engine, _dir: dir }
}

/// A store holding one finished sync of `grants` grants; returns it and the sync id.
pub fn with_sync(opener: &dyn Opener, grants: usize) -> (Store, SyncId) {
    let s = empty(opener);
    let id = write_sync(s.engine.as_ref(), shape(grants), 0, &mut |_| {}).expect("write sync");
    s.engine.flush().expect("flush");
    (s, id)
}
