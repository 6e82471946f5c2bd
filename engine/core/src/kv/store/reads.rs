//! Reads: paged lists over primary or index keys, the sync-run list, and stats.

use super::{decode_record_at, hex, key_parts, view_record_at, KvStore, Stored};
use crate::codec::key::{prefix_successor, KeyBuilder, KeyKind, OwnedPart};
use crate::codec::token::{decode_token, encode_token};
use crate::engine::Visitor;
use crate::error::{Error, Result};
use crate::kv::backend::{KvBackend, KvSnapshot};
use crate::kv::layout::{plan, primary_kind};
use crate::page::{Page, PageRequest, PageToken};
use crate::query::ListQuery;
use crate::record::{Record, RecordKind};
use crate::stats::Stats;
use crate::sync_run::{SyncId, SyncRun};

/// Where a page starts: just after the token's key, or at the prefix. Refuses tokens of
/// another scope or whose key lies outside it.
fn start_after(prefix: &[u8], token: Option<&PageToken>) -> Result<Vec<u8>> {
    let Some(t) = token else {
        return Ok(prefix.to_vec());
    };
    let body = decode_token(t.as_str()).map_err(|e| e.page_token())?;
    if body.scope != prefix {
        return Err(Error::invalid_page_token(
            "page token was issued for another list, filter or sync",
        ));
    }
    if body.last_key.len() <= prefix.len() || !body.last_key.starts_with(prefix) {
        return Err(Error::invalid_page_token(
            "page token's key lies outside its list",
        ));
    }
    Ok(super::after(&body.last_key))
}

/// Scans up to `limit` keys (and values) from `start` within `prefix`.
fn scan_page(
    snap: &dyn KvSnapshot,
    prefix: &[u8],
    start: &[u8],
    limit: usize,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let end = prefix_successor(prefix);
    let mut out = Vec::with_capacity(limit.min(1024));
    snap.scan(start, end.as_deref(), false, &mut |k, v| {
        out.push((k.to_vec(), v.to_vec()));
        Ok(out.len() < limit)
    })?;
    Ok(out)
}

/// One page of a record list in `sync` (none: nothing resolves): hands `each` the stored
/// bytes of every record of the page, in order, with the key they are stored under (for an
/// index list, the record's primary key); returns the page's next token. The owned and the
/// lending list are this scan with a decoder or a viewer as `each`, so they cannot disagree
/// on what a page holds.
pub(super) fn list_each(
    snap: &dyn KvSnapshot,
    sync: Option<&SyncId>,
    query: &ListQuery,
    page: &PageRequest,
    each: &mut Stored<'_>,
) -> Result<Option<PageToken>> {
    let Some(sync) = sync else {
        return match page.token {
            None => Ok(None),
            Some(_) => Err(Error::invalid_page_token(
                "page token: no sync to read resolves now",
            )),
        };
    };
    let plan = plan(sync.as_str(), query);
    let start = start_after(&plan.prefix, page.token.as_ref())?;
    let end = prefix_successor(&plan.prefix);
    let size = page.effective_size();
    let want = query.kind();
    // Values are handed on straight from the backend's buffers inside the scan; only the
    // page's last key is copied (for its token).
    let mut n = 0;
    let mut last: Option<Vec<u8>> = None;
    let mut more = false;
    snap.scan(&start, end.as_deref(), false, &mut |key, value| {
        if n == size {
            more = true;
            return Ok(false);
        }
        match plan.index_pk_parts {
            None => each(key, value)?,
            Some(parts_in_pk) => {
                let parts = crate::codec::key::decode_key(key)
                    .map_err(|e| e.corruption(format!("index key {}", hex(key))))?
                    .parts;
                let pk_parts = parts
                    .get(parts.len().saturating_sub(parts_in_pk)..)
                    .unwrap_or_default();
                let mut b = KeyBuilder::new(primary_kind(want)).str(sync.as_str());
                for p in pk_parts {
                    b = b.part(p.as_part());
                }
                let pk = b.finish();
                if !snap.get(&pk, &mut |v| each(&pk, v))? {
                    return Err(Error::corruption(format!(
                        "index entry {} points to missing record {}",
                        hex(key),
                        hex(&pk)
                    )));
                }
            }
        }
        n += 1;
        if n == size {
            last = Some(key.to_vec());
        }
        Ok(true)
    })?;
    Ok(match (more, last) {
        (true, Some(last)) => Some(encode_token(&plan.prefix, &last)),
        _ => None,
    })
}

/// A record of another kind than its list's, as corruption naming its key.
pub(super) fn wrong_kind(key: &[u8], got: RecordKind) -> Error {
    Error::corruption(format!("key {} holds a {} record", hex(key), got.name()))
}

/// One page of a record list in `sync`, decoded into owned records.
pub(super) fn list(
    snap: &dyn KvSnapshot,
    sync: Option<&SyncId>,
    query: &ListQuery,
    page: &PageRequest,
) -> Result<Page<Record>> {
    let want = query.kind();
    let mut items = Vec::with_capacity(page.effective_size().min(1024));
    let next_token = list_each(snap, sync, query, page, &mut |key, value| {
        let record = decode_record_at(key, value)?;
        if record.kind() != want {
            return Err(wrong_kind(key, record.kind()));
        }
        items.push(record);
        Ok(())
    })?;
    Ok(Page { items, next_token })
}

/// One page of a record list in `sync`, each record lent to `visit` as the validated archive
/// in the backend's buffer (nothing decoded, nothing allocated per record).
pub(super) fn visit_list(
    snap: &dyn KvSnapshot,
    sync: Option<&SyncId>,
    query: &ListQuery,
    page: &PageRequest,
    visit: &mut Visitor<'_>,
) -> Result<Option<PageToken>> {
    let want = query.kind();
    list_each(snap, sync, query, page, &mut |key, value| {
        let view = view_record_at(key, value)?;
        if view.kind() != want {
            return Err(wrong_kind(key, view.kind()));
        }
        visit(view)
    })
}

/// Record counts of `sync`, from keys alone.
pub(super) fn stats(snap: &dyn KvSnapshot, sync: &SyncId) -> Result<Stats> {
    let mut s = Stats::default();
    let count = |kind: KeyKind, each: &mut dyn FnMut(&[u8]) -> Result<()>| -> Result<u64> {
        let prefix = KeyBuilder::new(kind).str(sync.as_str()).finish();
        let end = prefix_successor(&prefix);
        let mut n = 0;
        snap.scan(&prefix, end.as_deref(), false, &mut |k, _| {
            n += 1;
            each(k)?;
            Ok(true)
        })?;
        Ok(n)
    };
    let mut by_type = std::collections::BTreeMap::new();
    s.resources = count(KeyKind::Resource, &mut |k| {
        match key_parts(k, KeyKind::Resource)?.get(1) {
            Some(OwnedPart::Str(t)) => *by_type.entry(t.clone()).or_insert(0) += 1,
            _ => {
                return Err(Error::corruption(format!(
                    "resource key {} has no type",
                    hex(k)
                )))
            }
        }
        Ok(())
    })?;
    s.resources_by_type = by_type;
    s.resource_types = count(KeyKind::ResourceType, &mut |_| Ok(()))?;
    s.entitlements = count(KeyKind::Entitlement, &mut |_| Ok(()))?;
    s.grants = count(KeyKind::Grant, &mut |_| Ok(()))?;
    s.assets = count(KeyKind::Asset, &mut |_| Ok(()))?;
    Ok(s)
}

impl<B: KvBackend> KvStore<B> {
    /// One page of the sync-run list, in `(started_at, id)` order.
    pub(super) fn list_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>> {
        let prefix = KeyBuilder::new(KeyKind::SyncRunByStart).finish();
        let start = start_after(&prefix, page.token.as_ref())?;
        let size = page.effective_size();
        let snap = self.backend.snapshot()?;
        let mut rows = scan_page(&snap, &prefix, &start, size + 1)?;
        let more = rows.len() > size;
        rows.truncate(size);
        let mut items = Vec::with_capacity(rows.len());
        for (key, _) in &rows {
            let id = match key_parts(key, KeyKind::SyncRunByStart)?.get(1) {
                Some(OwnedPart::Str(id)) => SyncId(id.clone()),
                _ => {
                    return Err(Error::corruption(format!(
                        "sync-run index key {} has no id",
                        hex(key)
                    )))
                }
            };
            items.push(super::read_run(&snap, &id)?.ok_or_else(|| {
                Error::corruption(format!(
                    "sync-run index entry {} points to missing run {id}",
                    hex(key)
                ))
            })?);
        }
        let next_token = match (more, rows.last()) {
            (true, Some((last, _))) => Some(encode_token(&prefix, last)),
            _ => None,
        };
        Ok(Page { items, next_token })
    }
}
