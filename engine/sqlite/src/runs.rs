//! Rows of the `sync_runs` table: reading, decoding and writing sync runs.

use rusqlite::{params, Connection, OptionalExtension};
use syncproof_engine::*;

use crate::{err, text};

pub(crate) fn read_run(conn: &Connection, id: &SyncId) -> Result<Option<SyncRun>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, sync_type, parent, started_at, ended_at, token FROM sync_runs WHERE id = ?1")
        .map_err(err)?;
    let row = stmt
        .query_row([id.as_str().as_bytes()], run_row)
        .optional()
        .map_err(err)?;
    row.map(run_from_row).transpose()
}

pub(crate) type RunRow = (Vec<u8>, String, Option<Vec<u8>>, i64, Option<i64>, Vec<u8>);

/// The columns `id, sync_type, parent, started_at, ended_at, token` of a `sync_runs` row, in
/// that order: what every sync-run query selects.
pub(crate) fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(crate) fn run_from_row((id, t, parent, started, ended, token): RunRow) -> Result<SyncRun> {
    Ok(SyncRun {
        id: SyncId(text(id, "sync id")?),
        sync_type: SyncType::from_name(&t)
            .ok_or_else(|| Error::corruption(format!("sqlite: unknown sync type {t:?}")))?,
        parent: parent
            .map(|p| text(p, "parent id").map(SyncId))
            .transpose()?,
        started_at: Timestamp(started),
        ended_at: ended.map(Timestamp),
        token: text(token, "sync token")?,
    })
}

pub(crate) fn write_run(conn: &Connection, run: &SyncRun) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO sync_runs (id, sync_type, parent, started_at, ended_at, token) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .map_err(err)?
        .execute(params![
            run.id.as_str().as_bytes(),
            run.sync_type.name(),
            run.parent.as_ref().map(|p| p.as_str().as_bytes()),
            run.started_at.0,
            run.ended_at.map(|t| t.0),
            run.token.as_bytes()
        ])
        .map_err(err)?;
    Ok(())
}

pub(crate) fn not_found(id: &SyncId) -> Error {
    Error::not_found(format!("no sync {id}"))
}
