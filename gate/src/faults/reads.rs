//! SPEC §4, reads: point gets, list order, filters, page sizes and tokens, stats.
//!
//! Each class's one-line doc is its row in [`super::CLASSES`].

use syncproof_engine::*;

use super::edit::{folded_key, prefix_match};
use super::hooks::Fault;
use super::wrapper::{lock, Faulty};

pub struct AbsentGetIsNotFound;

impl Fault for AbsentGetIsNotFound {
    fn get(&self, w: &Faulty, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        match w.inner.get(sync, key)? {
            None => Err(Error::not_found(format!("{key:?} not found"))),
            got => Ok(got),
        }
    }
}

pub struct CaseInsensitiveOrder;

impl Fault for CaseInsensitiveOrder {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        w.list_here(sync, query, page, &|_| true, &|v| v.sort_by_key(folded_key))
    }
}

pub struct PrefixFilters;

impl Fault for PrefixFilters {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        query.validate()?;
        w.list_here(
            sync,
            &query.unfiltered(),
            page,
            &|r| prefix_match(query, r),
            &|_| {},
        )
    }
}

pub struct DefaultPageSize50;

impl Fault for DefaultPageSize50 {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        if page.size != 0 {
            return w.inner.list(sync, query, page);
        }
        let fifty = PageRequest {
            size: 50,
            token: page.token.clone(),
        };
        w.inner.list(sync, query, &fifty)
    }
}

pub struct NoTokenOnFilteredLists;

impl Fault for NoTokenOnFilteredLists {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        let mut p = w.inner.list(sync, query, page)?;
        if query.is_filtered() {
            p.next_token = None;
        }
        Ok(p)
    }
}

pub struct InclusiveTokens;

impl Fault for InclusiveTokens {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        let mut p = w.inner.list(sync, query, page)?;
        let mut local = lock(&w.local);
        if let Some(prev) = page.token.as_ref().and_then(|t| local.token_last.get(t)) {
            p.items.insert(0, prev.clone());
            p.items.truncate(page.effective_size());
        }
        if let (Some(t), Some(last)) = (&p.next_token, p.items.last()) {
            local.token_last.insert(t.clone(), last.clone());
        }
        Ok(p)
    }
}

pub struct RestartOnBadToken;

impl Fault for RestartOnBadToken {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        match w.inner.list(sync, query, page) {
            Err(e) if e.kind == ErrorKind::InvalidPageToken => {
                w.inner.list(sync, query, &PageRequest::first(page.size))
            }
            other => other,
        }
    }
}

pub struct SkipAtPageBoundary;

impl Fault for SkipAtPageBoundary {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        list_skipping_first(w, sync, query, page, true)
    }
}

/// The inner engine's page, without the first record after the token when `skip` holds.
fn list_skipping_first(
    w: &Faulty,
    sync: Option<&SyncId>,
    query: &ListQuery,
    page: &PageRequest,
    skip: bool,
) -> Result<Page<Record>> {
    let mut p = w.inner.list(sync, query, page)?;
    if skip && page.token.is_some() && !p.items.is_empty() {
        p.items.remove(0);
    }
    Ok(p)
}

/// Resuming a page of the default size skips the first record after the token: in a list
/// of more than `DEFAULT_PAGE_SIZE` records, record 101 is never served.
pub struct SkipsRecord101;

impl Fault for SkipsRecord101 {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        list_skipping_first(w, sync, query, page, page.size == 0)
    }
}

pub struct StatsWithoutAssets;

impl Fault for StatsWithoutAssets {
    fn stats(&self, w: &Faulty, sync: Option<&SyncId>) -> Result<Stats> {
        let mut s = w.inner.stats(sync)?;
        s.assets = 0;
        Ok(s)
    }
}

pub struct LendingDropsPageEnd;

impl Fault for LendingDropsPageEnd {
    fn visit_list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
        visit: &mut Visitor<'_>,
    ) -> Result<Option<PageToken>> {
        let p = w.list(sync, query, page)?;
        // The visitor loop stops one short when another page follows.
        let lent = match p.next_token {
            Some(_) => p.items.len().saturating_sub(1),
            None => p.items.len(),
        };
        for r in p.items.iter().take(lent) {
            view::lend(r.as_ref(), &mut *visit)?;
        }
        Ok(p.next_token)
    }
}

pub struct LendingGetMissesAssets;

impl Fault for LendingGetMissesAssets {
    fn visit_get(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        key: &RecordKey,
        visit: &mut Visitor<'_>,
    ) -> Result<bool> {
        // The lending dispatch forgot a kind.
        if key.kind() == RecordKind::Asset {
            key.validate()?;
            return Ok(false);
        }
        owned_visit_get(w, sync, key, visit)
    }
}

/// Records a memtable holds before [`GetMissesFlushed`] flushes it.
pub const MEMTABLE_RECORDS: u64 = 256;

/// A point get consults only the active memtable: a record whose last put was more than
/// [`MEMTABLE_RECORDS`] record puts ago (flushed to a table since) reads as absent, in the
/// owned get and so in the lending one; lists merge every table and are right. Only a case
/// that puts more records than a memtable holds, and gets an early one, meets it.
pub struct GetMissesFlushed;

impl Fault for GetMissesFlushed {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        w.inner.put(batch, mode)?;
        let mut dir = lock(&w.dir);
        for r in batch.to_records() {
            dir.puts += 1;
            let at = dir.puts;
            dir.put_at.insert(r.key(), at);
        }
        Ok(())
    }
    fn get(&self, w: &Faulty, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        let found = w.inner.get(sync, key)?;
        let dir = lock(&w.dir);
        let flushed = dir
            .put_at
            .get(key)
            .is_some_and(|&at| dir.puts - at >= MEMTABLE_RECORDS);
        Ok(found.filter(|_| !flushed))
    }
}
