//! `verify`: `PRAGMA integrity_check`, then every row decoded and checked against its key and
//! index columns and its sync run.

use rusqlite::Connection;
use syncproof_engine::*;

use crate::runs::{run_from_row, run_row, RunRow};
use crate::tables::{columns, from_row, SqlRecord};
use crate::{err, SqliteEngine};

/// Checks every row of `T`'s table (see [`SqliteEngine::verify`]).
pub(crate) fn verify_table<T: SqlRecord>(
    conn: &Connection,
    runs: &std::collections::BTreeSet<Vec<u8>>,
    report: &mut VerifyReport,
) -> Result<()> {
    let cols = columns::<T>();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT sync_id, {} FROM {}",
            cols.join(", "),
            T::TABLE
        ))
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let n = T::KEY_COLS.len() + T::INDEX_COLS.len();
    while let Some(row) = rows.next().map_err(err)? {
        report.records += 1;
        let sync: Vec<u8> = row.get(0).map_err(err)?;
        let stored: Vec<Option<Vec<u8>>> = (1..=n)
            .map(|i| row.get(i))
            .collect::<rusqlite::Result<_>>()
            .map_err(err)?;
        let t: i64 = row.get(n + 1).map_err(err)?;
        let data = row
            .get_ref(n + 2)
            .map_err(err)?
            .as_blob()
            .map_err(|e| Error::corruption(format!("sqlite: data column: {e}")))?;
        let what = format!(
            "{} row {:?} of sync {}",
            T::TABLE,
            stored
                .first()
                .cloned()
                .flatten()
                .map(|k| String::from_utf8_lossy(&k).into_owned()),
            String::from_utf8_lossy(&sync)
        );
        if !runs.contains(&sync) {
            report.problems.push(format!("{what}: its sync has no run"));
        }
        match from_row::<T>(t, data) {
            Err(e) => report.problems.push(format!("{what}: {}", e.message)),
            Ok(record) => {
                let fields: Vec<Option<Vec<u8>>> = record
                    .column_values()
                    .into_iter()
                    .map(|v| v.map(<[u8]>::to_vec))
                    .collect();
                if fields != stored {
                    report
                        .problems
                        .push(format!("{what}: columns disagree with the stored record"));
                }
            }
        }
    }
    Ok(())
}

impl SqliteEngine {
    /// `PRAGMA integrity_check`, then every row: its `data` decodes (checksum included) to a
    /// record whose key and index fields equal the row's columns, and its sync has a run.
    pub(crate) fn verify_store(&self) -> Result<VerifyReport> {
        let inner = self.lock();
        let mut report = VerifyReport::default();
        let checks: Vec<String> = {
            let mut stmt = inner.conn.prepare("PRAGMA integrity_check").map_err(err)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(err)?
        };
        if checks != ["ok"] {
            report.problems.extend(
                checks
                    .into_iter()
                    .map(|c| format!("sqlite integrity_check: {c}")),
            );
        }
        let runs: std::collections::BTreeSet<Vec<u8>> = {
            let mut stmt = inner
                .conn
                .prepare("SELECT id, sync_type, parent, started_at, ended_at, token FROM sync_runs")
                .map_err(err)?;
            let rows = stmt.query_map([], run_row).map_err(err)?;
            let mut ids = std::collections::BTreeSet::new();
            for row in rows {
                let row: RunRow = row.map_err(err)?;
                let id = row.0.clone();
                report.sync_runs += 1;
                if let Err(e) = run_from_row(row) {
                    report.problems.push(format!(
                        "sync run {}: {}",
                        String::from_utf8_lossy(&id),
                        e.message
                    ));
                }
                ids.insert(id);
            }
            ids
        };
        verify_table::<ResourceType>(&inner.conn, &runs, &mut report)?;
        verify_table::<Resource>(&inner.conn, &runs, &mut report)?;
        verify_table::<Entitlement>(&inner.conn, &runs, &mut report)?;
        verify_table::<Grant>(&inner.conn, &runs, &mut report)?;
        verify_table::<Asset>(&inner.conn, &runs, &mut report)?;
        Ok(report)
    }
}
