//! Proof of power of the KV level: backends with a deliberately broken batch or scan are
//! caught against the `BTreeMap`, and a correct one passes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use syncproof_engine::kv::btree::{BTreeSnapshot, SharedMap};
use syncproof_engine::kv::{
    BTreeBackend, Durability, DynBackend, KvBackend, KvSnapshot, ScanVisitor, WriteBatch,
};
use syncproof_engine::Result;
use syncproof_harness::kv_level::{case, run};

/// What the broken backend gets wrong.
#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    IgnoresRangeDeletes,
    ReverseScanSkipsFirst,
    ReopenLosesData,
}

struct Broken(BTreeBackend, Flaw);

struct BrokenSnapshot<'a>(BTreeSnapshot<'a>, Flaw);

impl KvSnapshot for BrokenSnapshot<'_> {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        self.0.get(key, visit)
    }
    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: ScanVisitor<'_>,
    ) -> Result<()> {
        let mut first = reverse && self.1 == Flaw::ReverseScanSkipsFirst;
        self.0.scan(start, end, reverse, &mut |k, v| {
            if first {
                first = false;
                return Ok(true);
            }
            visit(k, v)
        })
    }
}

impl KvBackend for Broken {
    type Snapshot<'a> = BrokenSnapshot<'a>;
    fn name(&self) -> &'static str {
        "broken"
    }
    fn durability(&self) -> Durability {
        Durability::Flush
    }
    fn snapshot(&self) -> Result<BrokenSnapshot<'_>> {
        Ok(BrokenSnapshot(self.0.snapshot()?, self.1))
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        if self.1 != Flaw::IgnoresRangeDeletes {
            return KvBackend::write(&self.0, batch);
        }
        let mut points = WriteBatch::new();
        for (k, v) in batch.ops() {
            match v {
                Some(v) => points.put(k.to_vec(), v.to_vec()),
                None => points.delete(k.to_vec()),
            }
        }
        KvBackend::write(&self.0, &points)
    }
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

fn maps() -> &'static Mutex<HashMap<PathBuf, SharedMap>> {
    static MAPS: OnceLock<Mutex<HashMap<PathBuf, SharedMap>>> = OnceLock::new();
    MAPS.get_or_init(Mutex::default)
}

fn open_with(dir: &Path, flaw: Flaw) -> Result<Box<dyn DynBackend>> {
    let mut maps = maps().lock().unwrap();
    if flaw == Flaw::ReopenLosesData {
        maps.remove(dir);
    }
    let map = maps.entry(dir.to_path_buf()).or_default().clone();
    Ok(Box::new(Broken(BTreeBackend::on(map), flaw)))
}

fn caught(open: syncproof_harness::engines::KvOpen) -> Option<(u64, usize)> {
    (0..300).find_map(|i| {
        let ops = case(9, i, 30);
        run(&ops, &[("broken", open)], None)
            .unwrap()
            .map(|(at, _)| (i, at))
    })
}

#[test]
fn kv_level_catches_broken_backends() {
    assert_eq!(
        caught(|d| open_with(d, Flaw::None)),
        None,
        "a correct backend must pass"
    );
    for (name, open) in [
        (
            "ignores range deletes",
            (|d| open_with(d, Flaw::IgnoresRangeDeletes)) as syncproof_harness::engines::KvOpen,
        ),
        ("reverse scan skips its first entry", |d| {
            open_with(d, Flaw::ReverseScanSkipsFirst)
        }),
        ("reopen loses data", |d| open_with(d, Flaw::ReopenLosesData)),
    ] {
        let found = caught(open);
        assert!(found.is_some(), "KV level missed a backend that {name}");
        eprintln!("{name}: caught in case {:?}", found);
    }
}
