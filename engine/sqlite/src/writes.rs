//! Writes: record batches into their tables (replace or if-newer), grant deletes, and
//! imports of whole syncs (clone).

use rusqlite::types::ToSql;
use rusqlite::{Connection, TransactionBehavior};
use syncproof_engine::*;

use crate::maintenance::delete_sync_rows;
use crate::runs::{read_run, write_run};
use crate::tables::{columns, content_blob, SqlRecord};
use crate::{err, SqliteEngine};

/// Writes records into `sync` (replace, or if-newer by `discovered_at`), one statement each.
pub(crate) fn put_rows<T: SqlRecord>(
    conn: &Connection,
    sync: &str,
    records: &[T],
    mode: PutMode,
) -> Result<()> {
    let cols = columns::<T>();
    let placeholders: Vec<String> = (1..=cols.len() + 1).map(|i| format!("?{i}")).collect();
    let sql = match mode {
        PutMode::Replace => format!(
            "INSERT OR REPLACE INTO {} (sync_id, {}) VALUES ({})",
            T::TABLE,
            cols.join(", "),
            placeholders.join(", ")
        ),
        PutMode::IfNewer => {
            let keys = T::KEY_COLS.join(", ");
            let sets: Vec<String> = cols.iter().map(|c| format!("{c} = excluded.{c}")).collect();
            format!(
                "INSERT INTO {t} (sync_id, {c}) VALUES ({p}) ON CONFLICT (sync_id, {keys}) DO UPDATE SET {s} WHERE excluded.discovered_at > {t}.discovered_at",
                t = T::TABLE,
                c = cols.join(", "),
                p = placeholders.join(", "),
                s = sets.join(", ")
            )
        }
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
    let sync = sync.as_bytes();
    for r in records {
        let vals = r.column_values();
        let data = content_blob(r)?;
        let t = r.discovered_at().0;
        let mut p: Vec<&dyn ToSql> = Vec::with_capacity(vals.len() + 3);
        p.push(&sync);
        for v in &vals {
            p.push(v);
        }
        p.push(&t);
        p.push(&data);
        stmt.execute(p.as_slice()).map_err(err)?;
    }
    Ok(())
}

pub(crate) fn put_batch(
    conn: &Connection,
    sync: &str,
    batch: &RecordBatch,
    mode: PutMode,
) -> Result<()> {
    match batch {
        RecordBatch::ResourceTypes(v) => put_rows(conn, sync, v, mode),
        RecordBatch::Resources(v) => put_rows(conn, sync, v, mode),
        RecordBatch::Entitlements(v) => put_rows(conn, sync, v, mode),
        RecordBatch::Grants(v) => put_rows(conn, sync, v, mode),
        RecordBatch::Assets(v) => put_rows(conn, sync, v, mode),
    }
}

/// Rows go in per batch under the new sync id; the run row, written at commit, makes the
/// sync visible. Dropped uncommitted, it deletes its rows.
pub(crate) struct SqliteImport<'a> {
    engine: &'a SqliteEngine,
    run: SyncRun,
    dirty: bool,
    committed: bool,
}

impl SyncImport for SqliteImport<'_> {
    fn write(&mut self, batch: RecordBatch) -> Result<()> {
        batch.validate(self.engine.config.max_asset_bytes)?;
        let mut inner = self.engine.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        put_batch(&tx, self.run.id.as_str(), &batch, PutMode::Replace)?;
        tx.commit().map_err(err)?;
        self.dirty = true;
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let inner = self.engine.lock();
        if read_run(&inner.conn, &self.run.id)?.is_some() {
            self.dirty = false;
            return Err(Error::already_exists(format!(
                "import: sync {} exists",
                self.run.id
            )));
        }
        write_run(&inner.conn, &self.run)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for SqliteImport<'_> {
    fn drop(&mut self) {
        if self.dirty && !self.committed {
            let inner = self.engine.lock();
            let _ = delete_sync_rows(&inner.conn, self.run.id.as_str());
        }
    }
}

impl SqliteEngine {
    pub(crate) fn write_batch(&self, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        batch.validate(self.config.max_asset_bytes)?;
        let mut inner = self.lock();
        let sync = inner
            .current
            .clone()
            .ok_or_else(|| Error::failed_precondition("put: no current sync"))?;
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        put_batch(&tx, sync.as_str(), batch, mode)?;
        tx.commit().map_err(err)
    }

    pub(crate) fn delete_grant_row(&self, id: &str) -> Result<bool> {
        validate_id("grant.id", id)?;
        let inner = self.lock();
        let sync = inner
            .current
            .clone()
            .ok_or_else(|| Error::failed_precondition("delete_grant: no current sync"))?;
        let n = inner
            .conn
            .prepare_cached("DELETE FROM grants WHERE sync_id = ?1 AND id = ?2")
            .map_err(err)?
            .execute([sync.as_str().as_bytes(), id.as_bytes()])
            .map_err(err)?;
        Ok(n > 0)
    }

    pub(crate) fn import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
        validate_sync_id(&run.id)?;
        if run.ended_at.is_none() {
            return Err(Error::failed_precondition(format!(
                "import: sync {} is not finished",
                run.id
            )));
        }
        if read_run(&self.lock().conn, &run.id)?.is_some() {
            return Err(Error::already_exists(format!(
                "import: sync {} exists",
                run.id
            )));
        }
        Ok(Box::new(SqliteImport {
            engine: self,
            run: run.clone(),
            dirty: false,
            committed: false,
        }))
    }
}
