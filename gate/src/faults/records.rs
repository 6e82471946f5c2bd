//! SPEC §1, records: ids, keys and fields stored exactly as given.
//!
//! Each class's one-line doc is its row in [`super::CLASSES`].

use syncproof_engine::*;

use super::edit::{
    joined, map_ids, map_key, positive_zero, split, truncate_id, truncate_to, with_annotations,
};
use super::hooks::Fault;
use super::wrapper::Faulty;

/// Ids longer than 1024 bytes are truncated on write and on read.
pub struct TruncateLongIds;

impl Fault for TruncateLongIds {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        w.inner.put(&map_ids(batch, &truncate_id), mode)
    }
    fn get(&self, w: &Faulty, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        w.inner.get(sync, &map_key(key, &truncate_id))
    }
}

/// Ids are cut to [`NEAR_LIMIT`] bytes on write and on read: a key codec whose buffer is a
/// little short of the limit. Valid ids of up to 1,024 bytes lose their tail, and two ids
/// that share their first `NEAR_LIMIT` bytes become one.
pub struct TruncateNearLimit;

/// Where [`TruncateNearLimit`] cuts: 24 bytes under `MAX_ID_LEN`.
pub const NEAR_LIMIT: usize = MAX_ID_LEN - 24;

/// A valid id cut to [`NEAR_LIMIT`] bytes; an invalid one is left for validation to refuse
/// (the cut is in the key codec, after validation).
fn cut_near_limit(s: &str) -> String {
    if s.len() > MAX_ID_LEN {
        return s.to_string();
    }
    truncate_to(s, NEAR_LIMIT)
}

impl Fault for TruncateNearLimit {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        w.inner.put(&map_ids(batch, &cut_near_limit), mode)
    }
    fn get(&self, w: &Faulty, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        w.inner.get(sync, &map_key(key, &cut_near_limit))
    }
}

/// `\0` is stripped from ids on write and on read.
pub struct StripNul;

fn strip_nul(s: &str) -> String {
    s.replace('\0', "")
}

impl Fault for StripNul {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        w.inner.put(&map_ids(batch, &strip_nul), mode)
    }
    fn get(&self, w: &Faulty, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        w.inner.get(sync, &map_key(key, &strip_nul))
    }
}

/// A resource's key is stored joined with `:` and split at the first `:` when read back.
pub struct JoinResourceKey;

impl Fault for JoinResourceKey {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        let mut batch = batch.clone();
        if let RecordBatch::Resources(v) = &mut batch {
            v.iter_mut().for_each(|r| r.id = joined(&r.id));
        }
        w.inner.put(&batch, mode)
    }
    fn get(&self, w: &Faulty, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        let key = match key {
            RecordKey::Resource(r) => RecordKey::Resource(joined(r)),
            k => k.clone(),
        };
        Ok(match w.inner.get(sync, &key)? {
            Some(Record::Resource(mut r)) => {
                r.id = split(&r.id);
                Some(Record::Resource(r))
            }
            got => got,
        })
    }
}

pub struct NormalizeNegativeZero;

impl Fault for NormalizeNegativeZero {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        w.inner.put(&with_annotations(batch, &positive_zero), mode)
    }
}

pub struct DropGrantSources;

impl Fault for DropGrantSources {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        let mut batch = batch.clone();
        if let RecordBatch::Grants(v) = &mut batch {
            v.iter_mut().for_each(|g| g.sources.clear());
        }
        w.inner.put(&batch, mode)
    }
}

pub struct RequirePrincipal;

impl Fault for RequirePrincipal {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        if let RecordBatch::Grants(v) = batch {
            for g in v {
                if w.inner
                    .get(None, &RecordKey::Resource(g.principal.clone()))?
                    .is_none()
                {
                    return Err(Error::not_found(format!(
                        "principal {} of grant {} is not stored",
                        g.principal, g.id
                    )));
                }
            }
        }
        w.inner.put(batch, mode)
    }
}
