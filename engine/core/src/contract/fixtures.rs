//! Record builders and helpers for the contract checks (and for any test that wants them).

use super::{Cx, Failure, T0};
use crate::engine::StorageEngine;
use crate::error::ErrorKind;
use crate::id::ResourceId;
use crate::metadata::Metadata;
use crate::page::{PageRequest, PageToken};
use crate::query::ListQuery;
use crate::record::*;
use crate::sync_run::{SyncId, SyncType};
use crate::time::Timestamp;

/// Fails the check with a formatted message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::contract::Failure(format!($($msg)+)));
        }
    };
}

/// Fails the check unless both sides are equal, printing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($msg:tt)+) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err($crate::contract::Failure(format!(
                "{}\n  got:      {:?}\n  expected: {:?}",
                format!($($msg)+), l, r
            )));
        }
    }};
}

/// Expects an error of `kind`; anything else fails the check.
pub fn expect_err<T: std::fmt::Debug>(
    r: crate::Result<T>,
    kind: ErrorKind,
    what: &str,
) -> Result<(), Failure> {
    match r {
        Err(e) if e.kind == kind => Ok(()),
        Err(e) => Err(Failure(format!("{what}: expected {kind}, got error {e}"))),
        Ok(v) => Err(Failure(format!("{what}: expected {kind}, got Ok({v:?})"))),
    }
}

/// `T0 + n` nanoseconds.
pub fn at(n: i64) -> Timestamp {
    Timestamp(T0.0 + n)
}

/// A resource type with everything but its id fixed.
pub fn rt(id: &str) -> ResourceType {
    ResourceType {
        id: id.into(),
        display_name: String::new(),
        description: String::new(),
        traits: vec![],
        annotations: Metadata::Null,
        discovered_at: T0,
    }
}

/// A resource of type `t` with everything but its key fixed.
pub fn res(t: &str, r: &str) -> Resource {
    Resource {
        id: ResourceId::new(t, r),
        parent: None,
        display_name: String::new(),
        description: String::new(),
        annotations: Metadata::Null,
        discovered_at: T0,
    }
}

/// A resource under the parent `(pt, pr)`.
pub fn child(t: &str, r: &str, pt: &str, pr: &str) -> Resource {
    Resource {
        parent: Some(ResourceId::new(pt, pr)),
        ..res(t, r)
    }
}

/// An entitlement `id` on the resource `(t, r)`.
pub fn ent(id: &str, t: &str, r: &str) -> Entitlement {
    Entitlement {
        id: id.into(),
        resource: ResourceId::new(t, r),
        display_name: String::new(),
        description: String::new(),
        purpose: String::new(),
        slug: String::new(),
        grantable_to: vec![],
        annotations: Metadata::Null,
        discovered_at: T0,
    }
}

/// A grant of entitlement `e` (on resource `(et, er)`) to principal `(pt, pr)`.
pub fn grant(id: &str, e: &str, et: &str, er: &str, pt: &str, pr: &str) -> Grant {
    Grant {
        id: id.into(),
        entitlement: EntitlementRef {
            id: e.into(),
            resource: ResourceId::new(et, er),
        },
        principal: ResourceId::new(pt, pr),
        sources: vec![],
        annotations: Metadata::Null,
        discovered_at: T0,
    }
}

/// A grant with everything but its id fixed.
pub fn g(id: &str) -> Grant {
    grant(id, "member", "group", "eng", "user", "alice")
}

/// An asset with `data` and a fixed content type.
pub fn asset(id: &str, data: &[u8]) -> Asset {
    Asset {
        id: id.into(),
        content_type: "application/octet-stream".into(),
        data: data.to_vec(),
        annotations: Metadata::Null,
        discovered_at: T0,
    }
}

/// Sets `discovered_at` on any record type.
pub trait Discovered: Sized {
    /// The record with `discovered_at` set to `t`.
    fn discovered(self, t: Timestamp) -> Self;
}

macro_rules! discovered {
    ($($t:ty),*) => {$(
        impl Discovered for $t {
            fn discovered(mut self, t: Timestamp) -> Self {
                self.discovered_at = t;
                self
            }
        }
    )*};
}
discovered!(ResourceType, Resource, Entitlement, Grant, Asset);

/// The keys of records, for compact comparisons.
pub fn keys(records: &[Record]) -> Vec<RecordKey> {
    records.iter().map(Record::key).collect()
}

/// Grant keys from ids.
pub fn grant_keys(ids: &[&str]) -> Vec<RecordKey> {
    ids.iter()
        .map(|i| RecordKey::Grant(i.to_string()))
        .collect()
}

/// Pages through a whole list with `size`, following the engine's own tokens.
pub fn list_all(
    e: &dyn StorageEngine,
    sync: Option<&SyncId>,
    query: &ListQuery,
    size: usize,
) -> Result<Vec<Record>, Failure> {
    let mut out = Vec::new();
    let mut token: Option<PageToken> = None;
    for _ in 0..1_000_000 {
        let page = e.list(
            sync,
            query,
            &PageRequest {
                size,
                token: token.take(),
            },
        )?;
        let n = page.items.len();
        out.extend(page.items);
        match page.next_token {
            Some(t) if n > 0 => token = Some(t),
            Some(_) => return Err(Failure("empty page with a next token".into())),
            None => return Ok(out),
        }
    }
    Err(Failure("list did not end after 1,000,000 pages".into()))
}

impl Cx<'_> {
    /// Writes batches (replace mode) into the current sync.
    pub fn put_all(&self, batches: &[RecordBatch]) -> Result<(), Failure> {
        for b in batches {
            self.e().put(b, PutMode::Replace)?;
        }
        Ok(())
    }

    /// Starts a sync of `t`, writes `batches`, ticks one second, ends it; returns its id.
    pub fn finished_sync(&self, t: SyncType, batches: &[RecordBatch]) -> Result<SyncId, Failure> {
        let id = self.e().start_new_sync(t, None)?;
        self.put_all(batches)?;
        self.tick(1_000_000_000);
        self.e().end_sync()?;
        self.tick(1_000_000_000);
        Ok(id)
    }

    /// A finished full sync holding `batches`.
    pub fn full_sync(&self, batches: &[RecordBatch]) -> Result<SyncId, Failure> {
        self.finished_sync(SyncType::Full, batches)
    }
}
