//! # syncproof-engine
//!
//! The shared vocabulary of syncproof: the sync-store records and sync runs (SPEC §1–§2), the
//! [`StorageEngine`] contract every engine implements (SPEC §2–§6), its [`Error`] type, the
//! injectable [`Clock`] and [`IdSource`], and the byte codecs ([`codec`]) that key-value
//! engines store records with: order-preserving keys, the rkyv value envelope and page tokens.
//!
//! Engines depend on this crate only; this crate depends on no engine.

// Every public item is documented (the workspace lints cannot scope this to two crates).
#![deny(missing_docs)]

pub mod codec;
pub mod dirsync;
pub mod engine;
pub mod error;
pub mod id;
pub mod kv;
pub mod metadata;
pub mod page;
pub mod query;
pub mod record;
pub mod scratch;
pub mod stats;
pub mod sync_run;
pub mod testing;
pub mod time;
pub mod view;

pub use engine::{
    owned_visit_get, owned_visit_list, EngineConfig, StorageEngine, SyncImport, VerifyReport,
    Visitor, DEFAULT_KEEP_SYNCS, EXPORT_CHUNK, RESUME_WINDOW_NANOS,
};
pub use error::{Error, ErrorKind, Result};
pub use id::{validate_id, ResourceId, MAX_ID_LEN};
pub use metadata::{Metadata, MetadataJsonError};
pub use page::{Page, PageRequest, PageToken, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use query::{EntitlementFilter, GrantFilter, ListQuery, ResourceFilter};
pub use record::{
    Asset, Entitlement, EntitlementRef, Grant, PutMode, Record, RecordBatch, RecordKey, RecordKind,
    RecordRef, RecordType, Resource, ResourceType, DEFAULT_MAX_ASSET_BYTES,
};
pub use stats::Stats;
pub use sync_run::{
    validate_sync_id, IdSource, SeededIds, SyncId, SyncRun, SyncType, TimeSortableIds,
};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
pub use view::RecordView;
pub mod contract;
