//! Reads: paged lists over primary or index keys, the sync-run list, and stats.

use super::{decode_record_at, get_record, hex, key_parts, KvStore};
use crate::codec::key::{prefix_successor, KeyBuilder, KeyKind, OwnedPart};
use crate::codec::token::{decode_token, encode_token};
use crate::error::{Error, Result};
use crate::kv::backend::{KvBackend, KvSnapshot};
use crate::kv::layout::{plan, primary_kind};
use crate::page::{Page, PageRequest, PageToken};
use crate::query::ListQuery;
use crate::record::Record;
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

/// One page of a record list in `sync` (none: nothing resolves).
pub(super) fn list(
    snap: &dyn KvSnapshot,
    sync: Option<&SyncId>,
    query: &ListQuery,
    page: &PageRequest,
) -> Result<Page<Record>> {
    let Some(sync) = sync else {
        return match page.token {
            None => Ok(Page::empty()),
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
    // Records are decoded straight from the backend's bytes inside the scan; only the page's
    // last key is copied (for its token).
    let mut items = Vec::with_capacity(size.min(1024));
    let mut last: Option<Vec<u8>> = None;
    let mut more = false;
    snap.scan(&start, end.as_deref(), false, &mut |key, value| {
        if items.len() == size {
            more = true;
            return Ok(false);
        }
        let record = match plan.index_pk_parts {
            None => decode_record_at(key, value)?,
            Some(n) => {
                let parts = crate::codec::key::decode_key(key)
                    .map_err(|e| e.corruption(format!("index key {}", hex(key))))?
                    .parts;
                let pk_parts = parts
                    .get(parts.len().saturating_sub(n)..)
                    .unwrap_or_default();
                let mut b = KeyBuilder::new(primary_kind(want)).str(sync.as_str());
                for p in pk_parts {
                    b = b.part(p.as_part());
                }
                let pk = b.finish();
                get_record(snap, &pk)?.ok_or_else(|| {
                    Error::corruption(format!(
                        "index entry {} points to missing record {}",
                        hex(key),
                        hex(&pk)
                    ))
                })?
            }
        };
        if record.kind() != want {
            return Err(Error::corruption(format!(
                "key {} holds a {} record",
                hex(key),
                record.kind().name()
            )));
        }
        items.push(record);
        if items.len() == size {
            last = Some(key.to_vec());
        }
        Ok(true)
    })?;
    let next_token = match (more, last) {
        (true, Some(last)) => Some(encode_token(&plan.prefix, &last)),
        _ => None,
    };
    Ok(Page { items, next_token })
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
