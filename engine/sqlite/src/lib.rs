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
//!
//! By concern, as `KvStore` is split: this file holds the engine, its opener and the sync-run
//! lifecycle (start, resume, checkpoint, end, view); `runs` the `sync_runs` rows; `writes`
//! record batches, grant deletes and imports; `reads` gets, keyset-paged lists and stats;
//! `maintenance` cleanup, diff and export; `verify` the integrity check; `schema` and
//! `tables` the SQL schema and each record kind's columns.

mod maintenance;
mod reads;
mod runs;
mod schema;
mod tables;
mod verify;
mod writes;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use runs::{not_found, read_run, write_run};
use rusqlite::{Connection, OptionalExtension};
use syncproof_engine::contract::{Configuration, Opener};
use syncproof_engine::kv::Durability;
use syncproof_engine::*;

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
    /// `PRAGMA` statements run on a new connection before the journal mode is set (a page
    /// size takes effect only there, on a database with no tables yet).
    pub pragmas: &'static str,
}

impl Default for SqliteOpener {
    fn default() -> Self {
        SqliteOpener {
            durability: Durability::Flush,
            pragmas: "",
        }
    }
}

/// The configurations besides the default ([`Configuration`]).
pub const CONFIGURATIONS: &[Configuration] = &[
    Configuration {
        name: "small-pages",
        what: "512-byte pages and a 10-page cache (defaults 4 KiB, 2 MiB): cases split B-tree \
               pages, spill rows and index keys to overflow pages, and spill the cache",
        opener: || {
            Box::new(SqliteOpener {
                pragmas: "PRAGMA page_size = 512; PRAGMA cache_size = 10;",
                ..SqliteOpener::default()
            })
        },
        kv: None,
        known_race: None,
    },
    Configuration {
        name: "per-commit",
        what: "synchronous = FULL: every commit synced (Durability::Commit)",
        opener: || {
            Box::new(SqliteOpener {
                durability: Durability::Commit,
                ..SqliteOpener::default()
            })
        },
        kv: None,
        known_race: None,
    },
];

impl Opener for SqliteOpener {
    fn name(&self) -> &str {
        "sqlite"
    }
    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        Ok(Box::new(SqliteEngine::open_with(
            &dir.join(STORE_ENTRY),
            config,
            self.durability,
            self.pragmas,
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

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // A panic inside a transaction rolls it back on drop; the handle fields are single writes.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SqliteEngine {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path, config: EngineConfig, durability: Durability) -> Result<Self> {
        Self::open_with(path, config, durability, "")
    }

    /// [`Self::open`], running `pragmas` first ([`SqliteOpener::pragmas`]).
    pub fn open_with(
        path: &Path,
        config: EngineConfig,
        durability: Durability,
        pragmas: &str,
    ) -> Result<Self> {
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(pragmas).map_err(err)?;
        let sync = match durability {
            Durability::Flush => "NORMAL",
            Durability::Commit => "FULL",
        };
        conn.execute_batch(&format!(
            "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = OFF;"
        ))
        .map_err(err)?;
        conn.execute_batch(schema::SCHEMA).map_err(err)?;
        Ok(Self::over(conn, config))
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
        Ok(Self::over(conn, config))
    }

    /// The engine over an open connection: no current or viewed sync yet.
    fn over(conn: Connection, config: EngineConfig) -> Self {
        conn.set_prepared_statement_cache_capacity(64);
        SqliteEngine {
            inner: Mutex::new(Inner {
                conn,
                current: None,
                viewed: None,
            }),
            config,
        }
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
        self.list_runs(page)
    }

    fn put(&self, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        self.write_batch(batch, mode)
    }

    fn delete_grant(&self, id: &str) -> Result<bool> {
        self.delete_grant_row(id)
    }

    fn get(&self, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        self.get_record(sync, key)
    }

    fn list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        self.list_records(sync, query, page)
    }

    fn stats(&self, sync: Option<&SyncId>) -> Result<Stats> {
        self.count_records(sync)
    }

    fn cleanup(&self, keep: usize) -> Result<Vec<SyncId>> {
        self.cleanup_syncs(keep)
    }

    fn generate_sync_diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
        self.diff_syncs(base, applied)
    }

    fn export_sync(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        self.export(id, sink)
    }

    fn begin_import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
        self.import(run)
    }

    fn flush(&self) -> Result<()> {
        self.lock()
            .conn
            .execute_batch("PRAGMA wal_checkpoint(FULL);")
            .map_err(err)
    }

    fn verify(&self) -> Result<VerifyReport> {
        self.verify_store()
    }

    /// Pages beyond one root page per table and index (above zero once a B-tree split or a
    /// row overflowed) and pages on the free list.
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        let inner = self.lock();
        let one = |sql: &str| -> Result<u64> {
            let n: i64 = inner.conn.query_row(sql, [], |r| r.get(0)).map_err(err)?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let pages = one("PRAGMA page_count")?;
        let roots = one("SELECT count(*) FROM sqlite_schema WHERE rootpage > 0")?;
        Ok(vec![
            ("pages_beyond_roots", pages.saturating_sub(roots + 1)),
            ("free_pages", one("PRAGMA freelist_count")?),
        ])
    }
}
