//! `verify` passes a consistent SQLite store and reports one whose columns were tampered with.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use syncproof_engine::contract::{grant, Opener};
use syncproof_engine::*;

#[test]
fn verify_reports_tampered_columns() {
    let dir = tempfile::tempdir().unwrap();
    let e = syncproof_sqlite::SqliteOpener::default()
        .open(dir.path(), EngineConfig::default())
        .unwrap();
    e.start_sync().unwrap();
    e.put(
        &RecordBatch::Grants(vec![grant("g1", "e", "group", "eng", "user", "alice")]),
        PutMode::Replace,
    )
    .unwrap();
    e.end_sync().unwrap();
    let clean = e.verify().unwrap();
    assert_eq!(
        (clean.records, clean.sync_runs, clean.problems.len()),
        (1, 1, 0),
        "{clean:?}"
    );
    e.flush().unwrap();
    drop(e);
    let conn = rusqlite::Connection::open(dir.path().join("sqlite.db")).unwrap();
    conn.execute(
        "UPDATE grants SET principal_id = CAST('mallory' AS BLOB)",
        [],
    )
    .unwrap();
    drop(conn);
    let e = syncproof_sqlite::SqliteOpener::default()
        .open(dir.path(), EngineConfig::default())
        .unwrap();
    let report = e.verify().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("columns disagree")),
        "{report:?}"
    );
}
