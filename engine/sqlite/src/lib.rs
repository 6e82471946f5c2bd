//! # syncproof-sqlite: the relational baseline
//!
//! An independent implementation of the contract in SQL (bundled SQLite via rusqlite): a table
//! per record kind with key and index columns (see `schema`), WAL journal, cached prepared
//! statements, one transaction per call, keyset paging in SPEC §4 order. Diff and cleanup are
//! set operations in SQL; export pages with keyset queries. It is the baseline users have
//! today, so it is meant to be a fair one.
//!
//! Durability: `Flush` runs `synchronous=NORMAL` (commits reach the WAL, fsynced at
//! checkpoint) and `flush()` runs `wal_checkpoint(FULL)`; `Commit` runs `synchronous=FULL`.
//! `auto_vacuum=INCREMENTAL` lets cleanup give pages back with `incremental_vacuum`.

mod schema;
mod tables;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::types::ToSql;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use syncproof_engine::codec::token::{decode_token, encode_token};
use syncproof_engine::contract::Opener;
use syncproof_engine::kv::Durability;
use syncproof_engine::*;
use tables::{columns, content_blob, from_row, SqlRecord};

/// Version of the upstream crate and of the SQLite library it bundles, for reports.
pub fn upstream() -> String {
    format!("rusqlite 0.41, bundled SQLite {}", rusqlite::version())
}

fn err(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            Error::corruption(format!("sqlite: {e}"))
        }
        Some(rusqlite::ErrorCode::ReadOnly) => Error::failed_precondition(format!("sqlite: {e}")),
        _ => Error::io(format!("sqlite: {e}")),
    }
}

fn text(bytes: Vec<u8>, what: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::corruption(format!("sqlite: {what} is not UTF-8")))
}

struct Inner {
    conn: Connection,
    current: Option<SyncId>,
    viewed: Option<SyncId>,
}

/// A SQLite database file holding a sync store.
pub struct SqliteEngine {
    inner: Mutex<Inner>,
    config: EngineConfig,
}

/// Opens SQLite stores (`dir/sqlite.db`).
#[derive(Clone, Copy, Debug)]
pub struct SqliteOpener {
    pub durability: Durability,
}

impl Default for SqliteOpener {
    fn default() -> Self {
        SqliteOpener {
            durability: Durability::Flush,
        }
    }
}

impl Opener for SqliteOpener {
    fn name(&self) -> &str {
        "sqlite"
    }
    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        Ok(Box::new(SqliteEngine::open(
            &dir.join(STORE_ENTRY),
            config,
            self.durability,
        )?))
    }
    fn store_entry(&self) -> Option<&str> {
        Some(STORE_ENTRY)
    }
    fn open_read_only(
        &self,
        dir: &Path,
        config: EngineConfig,
    ) -> Option<Result<Box<dyn StorageEngine>>> {
        Some(
            SqliteEngine::open_read_only(&dir.join(STORE_ENTRY), config)
                .map(|e| Box::new(e) as Box<dyn StorageEngine>),
        )
    }
}

/// The database file inside a store directory (SQLite keeps its `-wal` and `-shm` beside it).
pub const STORE_ENTRY: &str = "sqlite.db";

fn read_run(conn: &Connection, id: &SyncId) -> Result<Option<SyncRun>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, sync_type, parent, started_at, ended_at, token FROM sync_runs WHERE id = ?1")
        .map_err(err)?;
    let row = stmt
        .query_row([id.as_str().as_bytes()], run_row)
        .optional()
        .map_err(err)?;
    row.map(run_from_row).transpose()
}

type RunRow = (Vec<u8>, String, Option<Vec<u8>>, i64, Option<i64>, Vec<u8>);

/// The columns `id, sync_type, parent, started_at, ended_at, token` of a `sync_runs` row, in
/// that order: what every sync-run query selects.
fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn run_from_row((id, t, parent, started, ended, token): RunRow) -> Result<SyncRun> {
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

fn write_run(conn: &Connection, run: &SyncRun) -> Result<()> {
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

fn not_found(id: &SyncId) -> Error {
    Error::not_found(format!("no sync {id}"))
}

/// Writes records into `sync` (replace, or if-newer by `discovered_at`), one statement each.
fn put_rows<T: SqlRecord>(
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

fn put_batch(conn: &Connection, sync: &str, batch: &RecordBatch, mode: PutMode) -> Result<()> {
    match batch {
        RecordBatch::ResourceTypes(v) => put_rows(conn, sync, v, mode),
        RecordBatch::Resources(v) => put_rows(conn, sync, v, mode),
        RecordBatch::Entitlements(v) => put_rows(conn, sync, v, mode),
        RecordBatch::Grants(v) => put_rows(conn, sync, v, mode),
        RecordBatch::Assets(v) => put_rows(conn, sync, v, mode),
    }
}

/// The filter of a list as `(column, value)` equalities.
fn rid_cols<'a>(
    t: &'static str,
    r: &'static str,
    id: &'a ResourceId,
) -> Vec<(&'static str, &'a [u8])> {
    vec![
        (t, id.resource_type.as_bytes()),
        (r, id.resource.as_bytes()),
    ]
}

fn filter_cols(query: &ListQuery) -> Vec<(&'static str, &[u8])> {
    let rid = rid_cols;
    match query {
        ListQuery::ResourceTypes => vec![],
        ListQuery::Resources(f) => {
            let mut v = Vec::new();
            if let Some(t) = &f.resource_type {
                v.push(("resource_type", t.as_bytes()));
            }
            if let Some(p) = &f.parent {
                v.extend(rid("parent_type", "parent_id", p));
            }
            v
        }
        ListQuery::Entitlements(f) => f
            .resource
            .as_ref()
            .map(|r| rid("resource_type", "resource", r))
            .unwrap_or_default(),
        ListQuery::Grants(f) => match f {
            GrantFilter::All => vec![],
            GrantFilter::Resource(r) => rid("ent_resource_type", "ent_resource", r),
            GrantFilter::Entitlement { id, principal } => {
                let mut v = vec![("entitlement_id", id.as_bytes())];
                if let Some(p) = principal {
                    v.extend(rid("principal_type", "principal_id", p));
                }
                v
            }
            GrantFilter::Principal(p) => rid("principal_type", "principal_id", p),
            GrantFilter::ResourceType(t) => vec![("ent_resource_type", t.as_bytes())],
        },
    }
}

/// The index (from `schema::SCHEMA`) that serves a filtered list, named in the query with
/// `INDEXED BY`. Without statistics SQLite's planner prefers the primary key for
/// `ORDER BY id LIMIT n`, which scans the whole sync for a first page (found by the
/// `list_by_principal` benchmark: 14 ms per principal at 100k grants). `None`: the primary
/// key serves the list.
fn filter_index(query: &ListQuery) -> Option<&'static str> {
    match query {
        ListQuery::ResourceTypes => None,
        ListQuery::Resources(f) => f.parent.as_ref().map(|_| "resources_by_parent"),
        ListQuery::Entitlements(f) => f.resource.as_ref().map(|_| "entitlements_by_resource"),
        ListQuery::Grants(f) => match f {
            GrantFilter::All => None,
            GrantFilter::Resource(_) => Some("grants_by_resource"),
            GrantFilter::Entitlement {
                principal: None, ..
            } => Some("grants_by_entitlement"),
            GrantFilter::Entitlement {
                principal: Some(_), ..
            } => Some("grants_by_entitlement_principal"),
            GrantFilter::Principal(_) => Some("grants_by_principal"),
            GrantFilter::ResourceType(_) => Some("grants_by_resource_type"),
        },
    }
}

/// Length-prefixed key parts, the `last_key` of this engine's tokens.
fn pack(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

fn unpack(mut bytes: &[u8], n: usize) -> Result<Vec<Vec<u8>>> {
    let bad = || Error::invalid_page_token("page token: key does not fit this list");
    let mut out = Vec::with_capacity(n);
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_first_chunk::<4>().ok_or_else(bad)?;
        let len = u32::from_be_bytes(*len) as usize;
        let part = rest.get(..len).ok_or_else(bad)?;
        out.push(part.to_vec());
        bytes = rest.get(len..).unwrap_or_default();
    }
    if out.len() != n {
        return Err(bad());
    }
    Ok(out)
}

/// The query of [`select_rows`]; its parameters are the sync, the filter values, the `after`
/// key parts (if `after`), and the limit.
fn select_sql<T: SqlRecord>(index: Option<&str>, filter: &[(&str, &[u8])], after: bool) -> String {
    let keys = T::KEY_COLS;
    let mut sql = format!(
        "SELECT {}, discovered_at, data FROM {}{} WHERE sync_id = ?",
        keys.join(", "),
        T::TABLE,
        index.map_or(String::new(), |i| format!(" INDEXED BY {i}"))
    );
    for (c, _) in filter {
        sql.push_str(&format!(" AND {c} = ?"));
    }
    if after {
        let marks = vec!["?"; keys.len()].join(", ");
        sql.push_str(&format!(" AND ({}) > ({marks})", keys.join(", ")));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT ?", keys.join(", ")));
    sql
}

/// Rows of `T` in `sync` matching `filter` (through `index`, if named), after key `after`, in
/// key order, at most `limit`.
fn select_rows<T: SqlRecord>(
    conn: &Connection,
    sync: &str,
    index: Option<&str>,
    filter: &[(&str, &[u8])],
    after: Option<&[Vec<u8>]>,
    limit: usize,
) -> Result<Vec<(Vec<Vec<u8>>, T)>> {
    let keys = T::KEY_COLS;
    let sql = select_sql::<T>(index, filter, after.is_some());
    let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
    let sync = sync.as_bytes();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut p: Vec<&dyn ToSql> = vec![&sync];
    for (_, v) in filter {
        p.push(v);
    }
    if let Some(a) = after {
        for v in a {
            p.push(v);
        }
    }
    p.push(&limit);
    let mut rows = stmt.query(p.as_slice()).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let key: Vec<Vec<u8>> = (0..keys.len())
            .map(|i| row.get::<_, Vec<u8>>(i))
            .collect::<rusqlite::Result<_>>()
            .map_err(err)?;
        let t: i64 = row.get(keys.len()).map_err(err)?;
        let data = row
            .get_ref(keys.len() + 1)
            .map_err(err)?
            .as_blob()
            .map_err(|e| Error::corruption(format!("sqlite: data column: {e}")))?;
        out.push((key, from_row::<T>(t, data)?));
    }
    Ok(out)
}

fn list_typed<T: SqlRecord>(
    conn: &Connection,
    sync: &SyncId,
    query: &ListQuery,
    page: &PageRequest,
) -> Result<Page<Record>> {
    let scope = format!("sqlite1|{sync:?}|{query:?}").into_bytes();
    let after = match &page.token {
        None => None,
        Some(t) => {
            let body = decode_token(t.as_str()).map_err(|e| e.page_token())?;
            if body.scope != scope {
                return Err(Error::invalid_page_token(
                    "page token was issued for another list, filter or sync",
                ));
            }
            Some(unpack(&body.last_key, T::KEY_COLS.len())?)
        }
    };
    let size = page.effective_size();
    let mut rows = select_rows::<T>(
        conn,
        sync.as_str(),
        filter_index(query),
        &filter_cols(query),
        after.as_deref(),
        size + 1,
    )?;
    let next_token = if rows.len() > size {
        rows.truncate(size);
        rows.last().map(|(k, _)| encode_token(&scope, &pack(k)))
    } else {
        None
    };
    Ok(Page {
        items: rows.into_iter().map(|(_, r)| r.into_record()).collect(),
        next_token,
    })
}

fn get_typed<T: SqlRecord>(
    conn: &Connection,
    sync: &SyncId,
    key: &[&[u8]],
) -> Result<Option<Record>> {
    let cond: Vec<String> = T::KEY_COLS.iter().map(|c| format!("{c} = ?")).collect();
    let sql = format!(
        "SELECT discovered_at, data FROM {} WHERE sync_id = ? AND {}",
        T::TABLE,
        cond.join(" AND ")
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
    let sync = sync.as_str().as_bytes();
    let mut p: Vec<&dyn ToSql> = vec![&sync];
    for k in key {
        p.push(k);
    }
    let mut rows = stmt.query(p.as_slice()).map_err(err)?;
    match rows.next().map_err(err)? {
        None => Ok(None),
        Some(row) => {
            let t: i64 = row.get(0).map_err(err)?;
            let data = row
                .get_ref(1)
                .map_err(err)?
                .as_blob()
                .map_err(|e| Error::corruption(format!("sqlite: data column: {e}")))?;
            Ok(Some(from_row::<T>(t, data)?.into_record()))
        }
    }
}

/// Copies rows of table `T` from one sync to another with SQL set operations (diff).
fn diff_table<T: SqlRecord>(
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

fn export_table<T: SqlRecord>(
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

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // A panic inside a transaction rolls it back on drop; the handle fields are single writes.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn delete_sync_rows(conn: &Connection, id: &str) -> Result<()> {
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
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path, config: EngineConfig, durability: Durability) -> Result<Self> {
        let conn = Connection::open(path).map_err(err)?;
        let sync = match durability {
            Durability::Flush => "NORMAL",
            Durability::Commit => "FULL",
        };
        conn.execute_batch(&format!(
            "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = OFF;"
        ))
        .map_err(err)?;
        conn.execute_batch(schema::SCHEMA).map_err(err)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteEngine {
            inner: Mutex::new(Inner {
                conn,
                current: None,
                viewed: None,
            }),
            config,
        })
    }

    /// Opens the existing database at `path` with `SQLITE_OPEN_READ_ONLY`: no schema is
    /// created, no pragma is set and the database file is never written; writes fail with
    /// `FailedPrecondition`. As for any SQLite reader of a WAL database, SQLite creates the
    /// `-shm` index and an empty `-wal` beside the file if they are missing.
    pub fn open_read_only(path: &Path, config: EngineConfig) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::not_found(format!(
                "sqlite: no database file {}",
                path.display()
            )));
        }
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
            | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteEngine {
            inner: Mutex::new(Inner {
                conn,
                current: None,
                viewed: None,
            }),
            config,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Which sync a read sees (SPEC §2).
    fn resolve(inner: &Inner, named: Option<&SyncId>) -> Result<Option<SyncId>> {
        if let Some(id) = named {
            validate_sync_id(id)?;
            return match read_run(&inner.conn, id)? {
                Some(_) => Ok(Some(id.clone())),
                None => Err(not_found(id)),
            };
        }
        if let Some(id) = inner.current.as_ref().or(inner.viewed.as_ref()) {
            return Ok(Some(id.clone()));
        }
        let id: Option<Vec<u8>> = inner
            .conn
            .prepare_cached("SELECT id FROM sync_runs WHERE sync_type = 'full' AND ended_at IS NOT NULL ORDER BY ended_at DESC, id DESC LIMIT 1")
            .map_err(err)?
            .query_row([], |r| r.get(0))
            .optional()
            .map_err(err)?;
        id.map(|i| text(i, "sync id").map(SyncId)).transpose()
    }

    fn mint(&self, conn: &Connection, now: Timestamp) -> Result<SyncId> {
        let id = self.config.ids.next_id(now);
        validate_sync_id(&id)
            .map_err(|e| e.context("the id source returned an invalid sync id"))?;
        if read_run(conn, &id)?.is_some() {
            return Err(Error::already_exists(format!(
                "id source returned existing sync id {id}"
            )));
        }
        Ok(id)
    }

    fn create_sync(
        &self,
        inner: &mut Inner,
        sync_type: SyncType,
        parent: Option<SyncId>,
    ) -> Result<SyncId> {
        let now = self.config.clock.now();
        let id = self.mint(&inner.conn, now)?;
        let run = SyncRun {
            id: id.clone(),
            sync_type,
            parent,
            started_at: now,
            ended_at: None,
            token: String::new(),
        };
        write_run(&inner.conn, &run)?;
        inner.current = Some(id.clone());
        Ok(id)
    }

    fn current_run(inner: &Inner, call: &str) -> Result<SyncRun> {
        let id = inner
            .current
            .clone()
            .ok_or_else(|| Error::failed_precondition(format!("{call}: no current sync")))?;
        read_run(&inner.conn, &id)?
            .ok_or_else(|| Error::corruption(format!("{call}: current sync {id} vanished")))
    }
}

impl StorageEngine for SqliteEngine {
    fn name(&self) -> &str {
        "sqlite"
    }

    fn start_sync(&self) -> Result<(SyncId, bool)> {
        let mut inner = self.lock();
        if let Some(id) = &inner.current {
            return Ok((id.clone(), false));
        }
        let window_start = self
            .config
            .clock
            .now()
            .saturating_sub_nanos(RESUME_WINDOW_NANOS);
        let resumable: Option<Vec<u8>> = inner
            .conn
            .prepare_cached("SELECT id FROM sync_runs WHERE ended_at IS NULL AND started_at >= ?1 ORDER BY started_at DESC, id DESC LIMIT 1")
            .map_err(err)?
            .query_row([window_start.0], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if let Some(id) = resumable {
            let id = SyncId(text(id, "sync id")?);
            inner.current = Some(id.clone());
            return Ok((id, false));
        }
        self.create_sync(&mut inner, SyncType::Full, None)
            .map(|id| (id, true))
    }

    fn start_new_sync(&self, sync_type: SyncType, parent: Option<&SyncId>) -> Result<SyncId> {
        if let Some(p) = parent {
            validate_sync_id(p)?;
            if !sync_type.allows_parent() {
                return Err(Error::invalid_argument(format!(
                    "a {} sync takes no parent",
                    sync_type.name()
                )));
            }
        }
        let mut inner = self.lock();
        if inner.current.is_some() {
            let run = Self::current_run(&inner, "start_new_sync")?;
            return if run.sync_type == sync_type {
                Ok(run.id)
            } else {
                Err(Error::failed_precondition(format!(
                    "sync {} of type {} is current; cannot start a {} sync",
                    run.id,
                    run.sync_type.name(),
                    sync_type.name()
                )))
            };
        }
        if let Some(p) = parent {
            if read_run(&inner.conn, p)?.is_none() {
                return Err(not_found(p).context("parent"));
            }
        }
        self.create_sync(&mut inner, sync_type, parent.cloned())
    }

    fn set_current_sync(&self, id: &SyncId) -> Result<()> {
        validate_sync_id(id)?;
        let mut inner = self.lock();
        let run = read_run(&inner.conn, id)?.ok_or_else(|| not_found(id))?;
        if run.ended_at.is_some() {
            return Err(Error::failed_precondition(format!("sync {id} is finished")));
        }
        inner.current = Some(id.clone());
        Ok(())
    }

    fn current_sync_token(&self) -> Result<String> {
        Ok(Self::current_run(&self.lock(), "current_sync_token")?.token)
    }

    fn checkpoint_sync(&self, token: &str) -> Result<()> {
        let inner = self.lock();
        let mut run = Self::current_run(&inner, "checkpoint_sync")?;
        run.token = token.to_string();
        write_run(&inner.conn, &run)
    }

    fn end_sync(&self) -> Result<()> {
        let mut inner = self.lock();
        let mut run = Self::current_run(&inner, "end_sync")?;
        run.ended_at = Some(self.config.clock.now());
        write_run(&inner.conn, &run)?;
        inner.current = None;
        Ok(())
    }

    fn view_sync(&self, id: Option<&SyncId>) -> Result<()> {
        let Some(id) = id else {
            self.lock().viewed = None;
            return Ok(());
        };
        validate_sync_id(id)?;
        let mut inner = self.lock();
        if let Some(cur) = &inner.current {
            return Err(Error::failed_precondition(format!(
                "view_sync: sync {cur} is current"
            )));
        }
        let run = read_run(&inner.conn, id)?.ok_or_else(|| not_found(id))?;
        if run.ended_at.is_none() {
            return Err(Error::failed_precondition(format!(
                "view_sync: sync {id} is not finished"
            )));
        }
        inner.viewed = Some(id.clone());
        Ok(())
    }

    fn get_sync_run(&self, id: &SyncId) -> Result<Option<SyncRun>> {
        validate_sync_id(id)?;
        read_run(&self.lock().conn, id)
    }

    fn list_sync_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>> {
        const SCOPE: &[u8] = b"sqlite1|sync_runs";
        let after = match &page.token {
            None => None,
            Some(t) => {
                let body = decode_token(t.as_str()).map_err(|e| e.page_token())?;
                if body.scope != SCOPE {
                    return Err(Error::invalid_page_token(
                        "page token was issued for another list",
                    ));
                }
                let bad_time = || Error::invalid_page_token("page token: bad time");
                let [started, id]: [Vec<u8>; 2] = unpack(&body.last_key, 2)?
                    .try_into()
                    .map_err(|_| bad_time())?;
                let started = <[u8; 8]>::try_from(started.as_slice()).map_err(|_| bad_time())?;
                Some((i64::from_be_bytes(started), id))
            }
        };
        let size = page.effective_size();
        let limit = i64::try_from(size + 1).unwrap_or(i64::MAX);
        let inner = self.lock();
        let rows: Vec<RunRow> = {
            let (sql, p): (&str, Vec<&dyn ToSql>) = match &after {
                None => ("SELECT id, sync_type, parent, started_at, ended_at, token FROM sync_runs ORDER BY started_at, id LIMIT ?1", vec![&limit]),
                Some((t, id)) => (
                    "SELECT id, sync_type, parent, started_at, ended_at, token FROM sync_runs WHERE (started_at, id) > (?1, ?2) ORDER BY started_at, id LIMIT ?3",
                    vec![t, id, &limit],
                ),
            };
            let mut stmt = inner.conn.prepare_cached(sql).map_err(err)?;
            let rows = stmt.query_map(p.as_slice(), run_row).map_err(err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(err)?
        };
        let mut items = rows
            .into_iter()
            .map(run_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_token = if items.len() > size {
            items.truncate(size);
            items.last().map(|r| {
                encode_token(
                    SCOPE,
                    &pack(&[
                        r.started_at.0.to_be_bytes().to_vec(),
                        r.id.as_str().as_bytes().to_vec(),
                    ]),
                )
            })
        } else {
            None
        };
        Ok(Page { items, next_token })
    }

    fn put(&self, batch: &RecordBatch, mode: PutMode) -> Result<()> {
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

    fn delete_grant(&self, id: &str) -> Result<bool> {
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

    fn get(&self, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        key.validate()?;
        let inner = self.lock();
        let Some(sync) = Self::resolve(&inner, sync)? else {
            return Ok(None);
        };
        let c = &inner.conn;
        match key {
            RecordKey::ResourceType(id) => get_typed::<ResourceType>(c, &sync, &[id.as_bytes()]),
            RecordKey::Resource(r) => get_typed::<Resource>(
                c,
                &sync,
                &[r.resource_type.as_bytes(), r.resource.as_bytes()],
            ),
            RecordKey::Entitlement(id) => get_typed::<Entitlement>(c, &sync, &[id.as_bytes()]),
            RecordKey::Grant(id) => get_typed::<Grant>(c, &sync, &[id.as_bytes()]),
            RecordKey::Asset(id) => get_typed::<Asset>(c, &sync, &[id.as_bytes()]),
        }
    }

    fn list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        query.validate()?;
        let mut inner = self.lock();
        let Some(sync) = Self::resolve(&inner, sync)? else {
            return match page.token {
                None => Ok(Page::empty()),
                Some(_) => Err(Error::invalid_page_token(
                    "page token: no sync to read resolves now",
                )),
            };
        };
        let tx = inner.conn.transaction().map_err(err)?;
        let page = match query {
            ListQuery::ResourceTypes => list_typed::<ResourceType>(&tx, &sync, query, page),
            ListQuery::Resources(_) => list_typed::<Resource>(&tx, &sync, query, page),
            ListQuery::Entitlements(_) => list_typed::<Entitlement>(&tx, &sync, query, page),
            ListQuery::Grants(_) => list_typed::<Grant>(&tx, &sync, query, page),
        }?;
        tx.commit().map_err(err)?;
        Ok(page)
    }

    fn stats(&self, sync: Option<&SyncId>) -> Result<Stats> {
        let inner = self.lock();
        let Some(sync) = Self::resolve(&inner, sync)? else {
            return Ok(Stats::default());
        };
        let s = sync.as_str().as_bytes();
        let count = |t: &str| -> Result<u64> {
            inner
                .conn
                .prepare_cached(&format!("SELECT COUNT(*) FROM {t} WHERE sync_id = ?1"))
                .map_err(err)?
                .query_row([s], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(err)
        };
        let mut by_type = std::collections::BTreeMap::new();
        {
            let mut stmt = inner
                .conn
                .prepare_cached("SELECT resource_type, COUNT(*) FROM resources WHERE sync_id = ?1 GROUP BY resource_type")
                .map_err(err)?;
            let mut rows = stmt.query([s]).map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                by_type.insert(
                    text(row.get(0).map_err(err)?, "resource type")?,
                    row.get::<_, i64>(1).map_err(err)? as u64,
                );
            }
        }
        Ok(Stats {
            resource_types: count("resource_types")?,
            resources: count("resources")?,
            resources_by_type: by_type,
            entitlements: count("entitlements")?,
            grants: count("grants")?,
            assets: count("assets")?,
        })
    }

    fn cleanup(&self, keep: usize) -> Result<Vec<SyncId>> {
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

    fn generate_sync_diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
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

    fn export_sync(
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

    fn begin_import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
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

    fn flush(&self) -> Result<()> {
        self.lock()
            .conn
            .execute_batch("PRAGMA wal_checkpoint(FULL);")
            .map_err(err)
    }

    /// `PRAGMA integrity_check`, then every row: its `data` decodes (checksum included) to a
    /// record whose key and index fields equal the row's columns, and its sync has a run.
    fn verify(&self) -> Result<VerifyReport> {
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

/// Checks every row of `T`'s table (see [`SqliteEngine::verify`]).
fn verify_table<T: SqlRecord>(
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

/// Rows go in per batch under the new sync id; the run row, written at commit, makes the
/// sync visible. Dropped uncommitted, it deletes its rows.
struct SqliteImport<'a> {
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

#[cfg(test)]
mod plan_tests {
    use super::*;

    /// SQLite's plan for `T`'s list query: `expected` must serve it (`None`: the primary
    /// key), on a first page and on a resumed one, without a sort.
    fn assert_plan<T: SqlRecord>(conn: &Connection, query: &ListQuery, expected: Option<&str>) {
        let index = filter_index(query);
        let filter = filter_cols(query);
        for after in [false, true] {
            let sql = select_sql::<T>(index, &filter, after);
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let n = stmt.parameter_count();
            let params: Vec<Vec<u8>> = vec![b"x".to_vec(); n];
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let plan = plan.join("; ");
            let want = match expected {
                Some(i) => format!("INDEX {i} (sync_id=?"),
                None => "PRIMARY KEY (sync_id=?".to_string(),
            };
            assert!(
                plan.contains(&want) && !plan.contains("TEMP B-TREE"),
                "{query:?} (after: {after}): {plan}"
            );
            if expected.is_some() {
                let cols = filter.len();
                assert!(
                    plan.matches(" AND ").count() >= cols,
                    "{query:?}: the index must take every filter column: {plan}"
                );
            }
        }
    }

    #[test]
    fn every_list_is_served_by_its_index_without_a_sort() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(schema::SCHEMA).unwrap();
        let rid = || ResourceId::new("group", "eng");
        assert_plan::<ResourceType>(&conn, &ListQuery::ResourceTypes, None);
        let by_parent = "resources_by_parent";
        for (f, index) in [
            (ResourceFilter::default(), None),
            (
                ResourceFilter {
                    resource_type: Some("user".into()),
                    parent: None,
                },
                None,
            ),
            (
                ResourceFilter {
                    resource_type: None,
                    parent: Some(rid()),
                },
                Some(by_parent),
            ),
            (
                ResourceFilter {
                    resource_type: Some("user".into()),
                    parent: Some(rid()),
                },
                Some(by_parent),
            ),
        ] {
            assert_plan::<Resource>(&conn, &ListQuery::Resources(f), index);
        }
        for (f, index) in [
            (EntitlementFilter::default(), None),
            (
                EntitlementFilter {
                    resource: Some(rid()),
                },
                Some("entitlements_by_resource"),
            ),
        ] {
            assert_plan::<Entitlement>(&conn, &ListQuery::Entitlements(f), index);
        }
        for (f, index) in [
            (GrantFilter::All, None),
            (GrantFilter::Resource(rid()), Some("grants_by_resource")),
            (
                GrantFilter::Entitlement {
                    id: "e".into(),
                    principal: None,
                },
                Some("grants_by_entitlement"),
            ),
            (
                GrantFilter::Entitlement {
                    id: "e".into(),
                    principal: Some(rid()),
                },
                Some("grants_by_entitlement_principal"),
            ),
            (GrantFilter::Principal(rid()), Some("grants_by_principal")),
            (
                GrantFilter::ResourceType("group".into()),
                Some("grants_by_resource_type"),
            ),
        ] {
            assert_plan::<Grant>(&conn, &ListQuery::Grants(f), index);
        }
    }
}
