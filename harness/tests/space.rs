//! Cleanup gives space back: a store that keeps writing a sync and cleaning up the old ones
//! must not grow without bound. Asserted for the B-tree engines (mdbx, redb, sqlite), whose
//! freed pages are reused at once; measured and printed for sled and fjall, which reclaim in
//! background GC / compaction on their own schedule.

use syncproof_engine::contract::{grant, T0};
use syncproof_engine::{EngineConfig, ManualClock, PutMode, RecordBatch, SeededIds, StorageEngine};

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn one_round(e: &dyn StorageEngine, round: usize, clock: &ManualClock) {
    e.start_new_sync(syncproof_engine::SyncType::Full, None)
        .unwrap();
    for chunk in 0..4 {
        let grants = (0..500)
            .map(|i| {
                grant(
                    &format!("grant-{round}-{chunk}-{i:04}-{}", "x".repeat(40)),
                    "member",
                    "group",
                    "eng",
                    "user",
                    &format!("u{i}"),
                )
            })
            .collect();
        e.put(&RecordBatch::Grants(grants), PutMode::Replace)
            .unwrap();
    }
    clock.advance(1_000_000_000);
    e.end_sync().unwrap();
    clock.advance(1_000_000_000);
    e.cleanup(1).unwrap();
    e.flush().unwrap();
}

#[test]
fn cleanup_keeps_the_store_bounded() {
    let mut report = Vec::new();
    for info in syncproof_harness::engines::all()
        .into_iter()
        .filter(|e| e.name != "memory")
    {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let config = EngineConfig {
            clock: std::sync::Arc::new(clock.clone()),
            ids: std::sync::Arc::new(SeededIds::new(3)),
            ..EngineConfig::default()
        };
        let e = (info.opener)().open(dir.path(), config).unwrap();
        let mut sizes = Vec::new();
        for round in 0..12 {
            one_round(e.as_ref(), round, &clock);
            sizes.push(dir_size(dir.path()));
        }
        let (after_two, last) = (sizes[1], *sizes.last().unwrap());
        report.push(format!(
            "{:<7} size after round 2: {:>9} B, after round 12: {:>9} B ({:.2}x)",
            info.name,
            after_two,
            last,
            last as f64 / after_two as f64
        ));
        if matches!(info.name, "mdbx" | "redb" | "sqlite") {
            assert!(last <= after_two * 2, "{}: store grew from {after_two} to {last} bytes over 10 cleaned-up syncs: {sizes:?}", info.name);
        }
    }
    eprintln!("{}", report.join("\n"));
}
