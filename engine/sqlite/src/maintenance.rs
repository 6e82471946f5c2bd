//! Whole-sync operations: cleanup of old syncs, diff as set operations in SQL, export with
//! keyset queries, and deleting a sync's rows.

use rusqlite::{params, Connection, TransactionBehavior};
use syncproof_engine::*;

use std::sync::Mutex;

use crate::reads::select_rows;
use crate::runs::{not_found, read_run, write_run};
use crate::tables::{columns, SqlRecord};
use crate::{err, text, SqliteEngine};
use crate::{lock, schema, Inner};

/// Copies rows of table `T` from one sync to another with SQL set operations (diff).
pub(crate) fn diff_table<T: SqlRecord>(
    conn: &Connection,
    base: &str,
    applied: &str,
    up: &str,
    del: &str,
) -> Result<()> {
    let cols = columns::<T>();
    let a_cols: Vec<String> = cols.iter().map(|c| format!("a.{c}")).collect();
    let key_eq: Vec<String> = T::KEY_COLS
        .iter()
        .map(|k| format!("b.{k} = a.{k}"))
        .collect();
    let upserts = format!(
        "INSERT INTO {t} (sync_id, {c}) SELECT ?1, {ac} FROM {t} a WHERE a.sync_id = ?2 AND NOT EXISTS \
         (SELECT 1 FROM {t} b WHERE b.sync_id = ?3 AND {k} AND b.data = a.data)",
        t = T::TABLE,
        c = cols.join(", "),
        ac = a_cols.join(", "),
        k = key_eq.join(" AND ")
    );
    conn.prepare_cached(&upserts)
        .map_err(err)?
        .execute(params![up.as_bytes(), applied.as_bytes(), base.as_bytes()])
        .map_err(err)?;
    let deletions = format!(
        "INSERT INTO {t} (sync_id, {c}) SELECT ?1, {ac} FROM {t} a WHERE a.sync_id = ?2 AND NOT EXISTS \
         (SELECT 1 FROM {t} b WHERE b.sync_id = ?3 AND {k})",
        t = T::TABLE,
        c = cols.join(", "),
        ac = a_cols.join(", "),
        k = key_eq.join(" AND ")
    );
    conn.prepare_cached(&deletions)
        .map_err(err)?
        .execute(params![del.as_bytes(), base.as_bytes(), applied.as_bytes()])
        .map_err(err)?;
    Ok(())
}

pub(crate) fn export_table<T: SqlRecord>(
    conn: &Mutex<Inner>,
    sync: &SyncId,
    wrap: fn(Vec<T>) -> RecordBatch,
    sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let mut after: Option<Vec<Vec<u8>>> = None;
    loop {
        let rows = {
            let inner = lock(conn);
            select_rows::<T>(
                &inner.conn,
                sync.as_str(),
                None,
                &[],
                after.as_deref(),
                EXPORT_CHUNK,
            )?
        };
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        sink(wrap(rows.into_iter().map(|(_, r)| r).collect()))?;
    }
}

pub(crate) fn delete_sync_rows(conn: &Connection, id: &str) -> Result<()> {
    for t in schema::RECORD_TABLES.iter().chain(["sync_runs"].iter()) {
        let col = if *t == "sync_runs" { "id" } else { "sync_id" };
        conn.prepare_cached(&format!("DELETE FROM {t} WHERE {col} = ?1"))
            .map_err(err)?
            .execute([id.as_bytes()])
            .map_err(err)?;
    }
    Ok(())
}

impl SqliteEngine {
    pub(crate) fn cleanup_syncs(&self, keep: usize) -> Result<Vec<SyncId>> {
        if keep == 0 {
            return Err(Error::invalid_argument("cleanup: keep must be at least 1"));
        }
        let mut inner = self.lock();
        let spared: Vec<Vec<u8>> = [&inner.current, &inner.viewed]
            .into_iter()
            .flatten()
            .map(|i| i.as_str().as_bytes().to_vec())
            .collect();
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let doomed: Vec<Vec<u8>> = {
            // Fulls beyond the `keep` latest, and non-fulls that ended before the oldest kept
            // full started; never the current or viewed sync.
            let sql = "
                WITH fulls AS (
                    SELECT id, started_at, ROW_NUMBER() OVER (ORDER BY ended_at DESC, id DESC) AS n
                    FROM sync_runs WHERE sync_type = 'full' AND ended_at IS NOT NULL
                ),
                oldest_kept AS (SELECT started_at FROM fulls WHERE n <= ?1 ORDER BY n DESC LIMIT 1)
                SELECT r.id FROM sync_runs r WHERE r.ended_at IS NOT NULL AND (
                    r.id IN (SELECT id FROM fulls WHERE n > ?1)
                    OR (r.sync_type != 'full' AND r.ended_at < (SELECT started_at FROM oldest_kept))
                ) ORDER BY r.started_at, r.id";
            let mut stmt = inner.conn.prepare_cached(sql).map_err(err)?;
            let rows = stmt
                .query_map([keep], |r| r.get::<_, Vec<u8>>(0))
                .map_err(err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(err)?
                .into_iter()
                .filter(|id| !spared.contains(id))
                .collect()
        };
        if doomed.is_empty() {
            return Ok(Vec::new());
        }
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut ids = Vec::with_capacity(doomed.len());
        for id in doomed {
            let id = text(id, "sync id")?;
            delete_sync_rows(&tx, &id)?;
            ids.push(SyncId(id));
        }
        tx.commit().map_err(err)?;
        inner
            .conn
            .execute_batch("PRAGMA incremental_vacuum;")
            .map_err(err)?;
        Ok(ids)
    }

    pub(crate) fn diff_syncs(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
        validate_sync_id(base)?;
        validate_sync_id(applied)?;
        let mut inner = self.lock();
        for id in [base, applied] {
            let run = read_run(&inner.conn, id)?
                .ok_or_else(|| not_found(id).context("generate_sync_diff"))?;
            if run.ended_at.is_none() {
                return Err(Error::failed_precondition(format!(
                    "generate_sync_diff: sync {id} is not finished"
                )));
            }
        }
        let now = self.config.clock.now();
        let up = self.mint(&inner.conn, now)?;
        let del = self.config.ids.next_id(now);
        validate_sync_id(&del)
            .map_err(|e| e.context("the id source returned an invalid sync id"))?;
        if del == up || read_run(&inner.conn, &del)?.is_some() {
            return Err(Error::already_exists(format!(
                "id source returned existing sync id {del}"
            )));
        }
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let (b, a, u, d) = (base.as_str(), applied.as_str(), up.as_str(), del.as_str());
        diff_table::<ResourceType>(&tx, b, a, u, d)?;
        diff_table::<Resource>(&tx, b, a, u, d)?;
        diff_table::<Entitlement>(&tx, b, a, u, d)?;
        diff_table::<Grant>(&tx, b, a, u, d)?;
        diff_table::<Asset>(&tx, b, a, u, d)?;
        for (id, t) in [
            (&up, SyncType::PartialUpserts),
            (&del, SyncType::PartialDeletions),
        ] {
            write_run(
                &tx,
                &SyncRun {
                    id: id.clone(),
                    sync_type: t,
                    parent: Some(base.clone()),
                    started_at: now,
                    ended_at: Some(now),
                    token: String::new(),
                },
            )?;
        }
        tx.commit().map_err(err)?;
        Ok((up, del))
    }

    pub(crate) fn export(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        validate_sync_id(id)?;
        let run =
            read_run(&self.lock().conn, id)?.ok_or_else(|| not_found(id).context("export"))?;
        if run.ended_at.is_none() {
            return Err(Error::failed_precondition(format!(
                "export: sync {id} is not finished"
            )));
        }
        export_table::<ResourceType>(&self.inner, id, RecordBatch::ResourceTypes, sink)?;
        export_table::<Resource>(&self.inner, id, RecordBatch::Resources, sink)?;
        export_table::<Entitlement>(&self.inner, id, RecordBatch::Entitlements, sink)?;
        export_table::<Grant>(&self.inner, id, RecordBatch::Grants, sink)?;
        export_table::<Asset>(&self.inner, id, RecordBatch::Assets, sink)?;
        Ok(run)
    }
}
