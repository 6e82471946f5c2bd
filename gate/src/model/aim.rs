//! State-aware aim: points a generated sequence at what it has written.
//!
//! The strategies of `generate` draw every id, filter value and sync from the whole universe,
//! so a read meets the record a write just touched about once in 900 tries, and no sync is a
//! re-sync of an earlier one (what every real sync after the first is). This pass walks a
//! generated sequence in order, keeping what it has put so far, and
//! - points most gets, grant deletes and list filters (of fresh and resumed lists) at written
//!   ids, principals, entitlements, resources, parents and types; the rest keep the
//!   universe's value, for misses and prefix neighbours;
//! - points most diffs at the two latest syncs and most clones at the latest;
//! - turns some new full syncs into re-syncs of the sync before: most of its records put
//!   again with a later `discovered_at`, some changed in one field, some dropped (the
//!   episode's own puts are the added ones), some of them if-newer; when the re-sync ends,
//!   a diff of the two syncs follows;
//! - resumes lists of a written sync with their own tokens (see `Op::ResumeList` below);
//! - reads back what the engine must keep where a bug would drop it: the last grant batch's
//!   sync after a reopen, and a grant's old principal after an overwrite moved it;
//! - runs most cleanups between syncs (the one in progress ended first) with a history
//!   (empty full syncs started and ended until three are finished): half keep one after
//!   viewing the oldest (which cleanup must spare), half keep more than one and fewer than
//!   there are;
//! - makes some resumes carry a token over 64 KiB (hostile input a decoder must refuse).
//!
//! The pass is deterministic in its seed and its output is an ordinary op sequence, so
//! shrinking, repros and replay are unchanged. It models the engine's sync bookkeeping only
//! roughly (which sync a put lands in, which syncs exist): a wrong guess yields a valid op
//! aimed less well, never an invalid case.

use syncproof_engine::*;

use crate::model::ops::{Op, SyncRef, TokenRef};
use crate::model::rng::Rng;
use crate::model::universe;

/// Percent of gets, deletes, filters, diffs and clones pointed at what the case wrote.
pub const AIM_PERCENT: u64 = 75;
/// Percent of new full syncs (with a sync before them that has records) made re-syncs.
pub const RESYNC_PERCENT: u64 = 50;
/// Most records a re-synced sync may hold (a tail sync past the largest page is not re-put:
/// it would double the case's cost on every engine for a path smaller syncs already take).
const MAX_RESYNC_RECORDS: usize = 2 * EXPORT_CHUNK;
/// Fewest records per re-put batch.
const RESYNC_BATCH: usize = 5;

/// Records put (into the case, or into one sync), by kind.
#[derive(Clone, Default)]
pub(crate) struct Written {
    grants: Vec<Grant>,
    resources: Vec<Resource>,
    entitlements: Vec<Entitlement>,
    types: Vec<ResourceType>,
    assets: Vec<Asset>,
}

impl Written {
    pub(crate) fn absorb(&mut self, b: &RecordBatch) {
        match b {
            RecordBatch::Grants(v) => self.grants.extend(v.iter().cloned()),
            RecordBatch::Resources(v) => self.resources.extend(v.iter().cloned()),
            RecordBatch::Entitlements(v) => self.entitlements.extend(v.iter().cloned()),
            RecordBatch::ResourceTypes(v) => self.types.extend(v.iter().cloned()),
            RecordBatch::Assets(v) => self.assets.extend(v.iter().cloned()),
        }
    }

    fn len(&self) -> usize {
        self.grants.len()
            + self.resources.len()
            + self.entitlements.len()
            + self.types.len()
            + self.assets.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key of a written record (grants weighted as the generator weights their puts).
    pub(crate) fn key(&self, rng: &mut Rng) -> Option<RecordKey> {
        let mut keys: Vec<RecordKey> = Vec::new();
        let grant = rng
            .pick(&self.grants)
            .map(|g| RecordKey::Grant(g.id.clone()));
        let resource = rng
            .pick(&self.resources)
            .map(|r| RecordKey::Resource(r.id.clone()));
        let entitlement = rng
            .pick(&self.entitlements)
            .map(|e| RecordKey::Entitlement(e.id.clone()));
        let rtype = rng
            .pick(&self.types)
            .map(|t| RecordKey::ResourceType(t.id.clone()));
        let asset = rng
            .pick(&self.assets)
            .map(|a| RecordKey::Asset(a.id.clone()));
        for (k, weight) in [
            (grant, 3),
            (resource, 2),
            (entitlement, 1),
            (rtype, 1),
            (asset, 1),
        ] {
            if let Some(k) = k {
                keys.extend(std::iter::repeat_n(k, weight));
            }
        }
        rng.pick(&keys).cloned()
    }

    /// A query for a list to resume: half the time `q` aimed ([`Self::query`]), else an
    /// unfiltered list of a kind with at least two records here, so a list of one-record
    /// pages issues a token (a filter aimed at one record rarely matches two).
    pub(crate) fn paged_query(&self, q: &ListQuery, rng: &mut Rng) -> ListQuery {
        let many = [
            (self.grants.len(), ListQuery::Grants(GrantFilter::All)),
            (
                self.resources.len(),
                ListQuery::Resources(ResourceFilter::default()),
            ),
            (
                self.entitlements.len(),
                ListQuery::Entitlements(EntitlementFilter::default()),
            ),
            (self.types.len(), ListQuery::ResourceTypes),
        ];
        let kinds: Vec<&ListQuery> = many
            .iter()
            .filter(|(n, _)| *n >= 2)
            .map(|(_, q)| q)
            .collect();
        match rng.pick(&kinds) {
            Some(k) if rng.percent(50) => (*k).clone(),
            _ => self.query(q, rng),
        }
    }

    /// The same query with its filter values taken from written records.
    pub(crate) fn query(&self, q: &ListQuery, rng: &mut Rng) -> ListQuery {
        match q {
            ListQuery::ResourceTypes | ListQuery::Grants(GrantFilter::All) => q.clone(),
            ListQuery::Grants(f) => {
                let Some(g) = rng.pick(&self.grants) else {
                    return q.clone();
                };
                ListQuery::Grants(match f {
                    GrantFilter::All => GrantFilter::All,
                    GrantFilter::Resource(_) => {
                        GrantFilter::Resource(g.entitlement.resource.clone())
                    }
                    GrantFilter::Entitlement { principal, .. } => GrantFilter::Entitlement {
                        id: g.entitlement.id.clone(),
                        principal: principal.as_ref().map(|_| g.principal.clone()),
                    },
                    GrantFilter::Principal(_) => GrantFilter::Principal(g.principal.clone()),
                    GrantFilter::ResourceType(_) => {
                        GrantFilter::ResourceType(g.entitlement.resource.resource_type.clone())
                    }
                })
            }
            ListQuery::Resources(f) => {
                let Some(r) = rng.pick(&self.resources) else {
                    return q.clone();
                };
                let parent = match (&f.parent, &r.parent) {
                    (Some(_), Some(p)) => Some(p.clone()),
                    // A resource that has none: another written resource as the parent.
                    (Some(p), None) => Some(
                        rng.pick(&self.resources)
                            .map_or_else(|| p.clone(), |o| o.id.clone()),
                    ),
                    (None, _) => None,
                };
                ListQuery::Resources(ResourceFilter {
                    resource_type: f.resource_type.as_ref().map(|_| r.id.resource_type.clone()),
                    parent,
                })
            }
            ListQuery::Entitlements(f) => match rng.pick(&self.entitlements) {
                Some(e) => ListQuery::Entitlements(EntitlementFilter {
                    resource: f.resource.as_ref().map(|_| e.resource.clone()),
                }),
                None => q.clone(),
            },
        }
    }
}

/// A timestamp after `t`: what a re-sync that discovers the record again stamps it with.
fn later(t: Timestamp, rng: &mut Rng) -> Timestamp {
    Timestamp(t.0.saturating_add(1 + i64::try_from(rng.next_u64() % 3).unwrap_or(0)))
}

/// The re-put batches of `prev`'s records: most unchanged but discovered later, some changed
/// in one field, some dropped.
fn resync_batches(prev: &Written, rng: &mut Rng) -> Vec<Op> {
    /// What happens to one record.
    enum Fate {
        Same,
        Changed,
        Dropped,
    }
    fn fate(rng: &mut Rng) -> Fate {
        match rng.next_u64() % 100 {
            0..75 => Fate::Same,
            75..90 => Fate::Changed,
            _ => Fate::Dropped,
        }
    }
    fn again<T: Clone>(
        records: &[T],
        rng: &mut Rng,
        stamp: impl Fn(&mut T, &mut Rng),
        change: impl Fn(&mut T, &mut Rng),
    ) -> Vec<T> {
        let mut out = Vec::new();
        for r in records {
            let f = fate(rng);
            if matches!(f, Fate::Dropped) {
                continue;
            }
            let mut r = r.clone();
            stamp(&mut r, rng);
            if matches!(f, Fate::Changed) {
                change(&mut r, rng);
            }
            out.push(r);
        }
        out
    }
    let annotations =
        |rng: &mut Rng| universe::annotations(u8::try_from(rng.next_u64() % 8).unwrap_or(0));
    let batches = [
        chunks(
            again(
                &prev.types,
                rng,
                |t, rng| t.discovered_at = later(t.discovered_at, rng),
                |t, _| t.display_name.push('+'),
            ),
            RecordBatch::ResourceTypes,
        ),
        chunks(
            again(
                &prev.resources,
                rng,
                |r, rng| r.discovered_at = later(r.discovered_at, rng),
                |r, _| r.display_name.push('+'),
            ),
            RecordBatch::Resources,
        ),
        chunks(
            again(
                &prev.entitlements,
                rng,
                |e, rng| e.discovered_at = later(e.discovered_at, rng),
                |e, rng| e.annotations = annotations(rng),
            ),
            RecordBatch::Entitlements,
        ),
        chunks(
            again(
                &prev.grants,
                rng,
                |g, rng| g.discovered_at = later(g.discovered_at, rng),
                |g, rng| g.annotations = annotations(rng),
            ),
            RecordBatch::Grants,
        ),
        chunks(
            again(
                &prev.assets,
                rng,
                |a, rng| a.discovered_at = later(a.discovered_at, rng),
                |a, _| a.data.push(1),
            ),
            RecordBatch::Assets,
        ),
    ];
    batches
        .into_iter()
        .flatten()
        .map(|batch| Op::Put {
            batch,
            mode: if rng.percent(33) {
                PutMode::IfNewer
            } else {
                PutMode::Replace
            },
        })
        .collect()
}

/// `records` in at most about four batches (of at least [`RESYNC_BATCH`]), so that a re-sync
/// of a large sync stays a few ops.
fn chunks<T: Clone>(records: Vec<T>, batch: fn(Vec<T>) -> RecordBatch) -> Vec<RecordBatch> {
    let size = (records.len() / 4).max(RESYNC_BATCH);
    records.chunks(size).map(|c| batch(c.to_vec())).collect()
}

/// A reference to the `n`-th sync the pass believes created (`None` past what `Nth` holds).
fn nth(n: usize) -> Option<SyncRef> {
    u8::try_from(n).ok().map(SyncRef::Nth)
}

/// What the pass believes about the syncs: the records put in each, in order of creation,
/// which one puts land in, and whether it is still open.
#[derive(Default)]
struct Syncs {
    records: Vec<Written>,
    /// Per sync: whether it is full, and whether it was ended.
    full: Vec<bool>,
    ended: Vec<bool>,
    current: Option<usize>,
    open: bool,
}

impl Syncs {
    fn create(&mut self, full: bool) -> usize {
        self.records.push(Written::default());
        self.full.push(full);
        self.ended.push(false);
        let i = self.records.len() - 1;
        self.current = Some(i);
        self.open = true;
        i
    }

    /// The current sync ends.
    fn end(&mut self) {
        if let Some(e) = self.current.and_then(|c| self.ended.get_mut(c)) {
            *e = true;
        }
        self.open = false;
    }

    /// The latest sync when `aimed` (and there is one), else `s`.
    fn latest_if(&self, aimed: bool, s: SyncRef) -> SyncRef {
        match self.records.len().checked_sub(1).and_then(nth) {
            Some(l) if aimed => l,
            _ => s,
        }
    }

    /// The syncs believed full and ended, oldest first.
    fn finished_full(&self) -> Vec<usize> {
        (0..self.records.len())
            .filter(|&k| self.full.get(k) == Some(&true) && self.ended.get(k) == Some(&true))
            .collect()
    }
}

/// Percent of aimed cleanups that view the oldest finished full sync first.
const VIEW_BEFORE_CLEANUP_PERCENT: u64 = 50;

/// Length of the over-long forged tokens: past the 64 KiB a token may have.
const LONG_TOKEN: usize = 64 * 1024 + 1;

/// Percent of unaimed resumes that carry an over-long token.
const LONG_TOKEN_PERCENT: u64 = 10;

/// Aims `ops` (see the module doc) with the generator seeded by `seed`, keeping at most
/// `max_ops` ops.
pub fn aim(ops: Vec<Op>, seed: u64, max_ops: usize) -> Vec<Op> {
    let mut rng = Rng(seed);
    let mut all = Written::default();
    let mut syncs = Syncs::default();
    // A re-sync in progress: (the sync it re-syncs, the re-sync).
    let mut resync: Option<(usize, usize)> = None;
    // The sync the last grant batch went to, and its list.
    let mut last_batch: Option<(usize, ListQuery)> = None;
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let aimed = rng.percent(AIM_PERCENT);
        match op {
            Op::StartNewSync { sync_type, parent } => {
                // A parent that is not a sync makes the call fail: no sync is created.
                let creates = matches!(parent, None | Some(SyncRef::Nth(_)));
                let full = sync_type == SyncType::Full;
                let prev = syncs.records.len().checked_sub(1);
                out.push(Op::StartNewSync { sync_type, parent });
                if !creates {
                    continue;
                }
                let this = syncs.create(full);
                if let Some(p) = prev {
                    // A sync too large to re-put within a case's budget is not re-synced.
                    let has = syncs
                        .records
                        .get(p)
                        .is_some_and(|w| !w.is_empty() && w.len() <= MAX_RESYNC_RECORDS);
                    if full && has && rng.percent(RESYNC_PERCENT) {
                        let batches = syncs
                            .records
                            .get(p)
                            .map(|w| resync_batches(w, &mut rng))
                            .unwrap_or_default();
                        for b in &batches {
                            if let Op::Put { batch, .. } = b {
                                all.absorb(batch);
                                if let Some(w) = syncs.records.get_mut(this) {
                                    w.absorb(batch);
                                }
                            }
                        }
                        out.extend(batches);
                        resync = Some((p, this));
                    }
                }
            }
            Op::StartSync => {
                if !syncs.open || syncs.current.is_none() {
                    syncs.create(true);
                }
                out.push(Op::StartSync);
            }
            Op::EndSync => {
                out.push(Op::EndSync);
                syncs.end();
                if let Some((base, applied)) = resync.take() {
                    if syncs.current == Some(applied) {
                        if let (Some(base), Some(applied)) = (nth(base), nth(applied)) {
                            out.push(Op::Diff { base, applied });
                        }
                    }
                }
            }
            Op::Reopen => {
                out.push(Op::Reopen);
                // Read back the sync the last batch went to: a reopen must keep it.
                if let Some((k, q)) = last_batch.take().filter(|_| aimed) {
                    if let Some(of) = nth(k) {
                        out.push(Op::List {
                            sync: Some(of),
                            query: q,
                            page_size: 0,
                        });
                    }
                }
                syncs.current = None;
                syncs.open = false;
                resync = None;
            }
            Op::Put { batch, mode } => {
                all.absorb(&batch);
                // Grants this batch moves to another principal, in the sync it lands in.
                let mut moved: Vec<ResourceId> = Vec::new();
                if let Some(c) = syncs.current {
                    if let (Some(w), RecordBatch::Grants(v)) = (syncs.records.get(c), &batch) {
                        for g in v {
                            let old = w.grants.iter().rev().find(|o| o.id == g.id);
                            if let Some(o) = old.filter(|o| o.principal != g.principal) {
                                moved.push(o.principal.clone());
                            }
                        }
                    }
                    // Grants: the kind a lost batch is most often of, and the one whose loss
                    // an unfiltered list shows whatever else the sync holds.
                    if let RecordBatch::Grants(_) = batch {
                        last_batch = Some((c, ListQuery::Grants(GrantFilter::All)));
                    }
                }
                if let Some(w) = syncs.current.and_then(|c| syncs.records.get_mut(c)) {
                    w.absorb(&batch);
                }
                out.push(Op::Put { batch, mode });
                // The old principal's list must no longer hold a moved grant.
                if let (Some(p), Some(of)) = (
                    rng.pick(&moved).filter(|_| aimed),
                    syncs.current.and_then(nth),
                ) {
                    out.push(Op::List {
                        sync: Some(of),
                        query: ListQuery::Grants(GrantFilter::Principal(p.clone())),
                        page_size: 0,
                    });
                }
            }
            Op::PutAsset(a) => {
                let batch = RecordBatch::Assets(vec![a.clone()]);
                all.absorb(&batch);
                if let Some(w) = syncs.current.and_then(|c| syncs.records.get_mut(c)) {
                    w.absorb(&batch);
                }
                out.push(Op::PutAsset(a));
            }
            Op::Cleanup { keep } => {
                // Aimed: enough history for cleanup to delete something, as a real store has:
                // empty full syncs started and ended until there are three finished.
                // A cleanup runs between syncs: the one in progress ends first.
                if aimed && syncs.open {
                    out.push(Op::EndSync);
                    syncs.end();
                }
                if aimed {
                    while syncs.finished_full().len() < 3 {
                        out.push(Op::StartNewSync {
                            sync_type: SyncType::Full,
                            parent: None,
                        });
                        out.push(Op::EndSync);
                        syncs.create(true);
                        syncs.end();
                    }
                }
                let finished = syncs.finished_full();
                let old = finished.first().copied().and_then(nth);
                match old {
                    Some(oldest) if aimed && finished.len() >= 3 && !syncs.open => {
                        // Viewed: keep 1, so every finished full sync but the latest goes
                        // unless viewed, whichever the engine's order (the clock may have
                        // gone back) makes latest. Else a keep above 1 and below the history.
                        let keep = if rng.percent(VIEW_BEFORE_CLEANUP_PERCENT) {
                            out.push(Op::ViewSync(Some(oldest)));
                            1
                        } else {
                            2 + (rng.next_u64() % (finished.len() as u64 - 2)) as usize
                        };
                        out.push(Op::Cleanup { keep });
                    }
                    _ => out.push(Op::Cleanup { keep }),
                }
            }
            Op::Get { sync, key } => {
                let key = if aimed {
                    all.key(&mut rng).unwrap_or(key)
                } else {
                    key
                };
                out.push(Op::Get { sync, key });
            }
            Op::DeleteGrant(id) => {
                let id = match rng.pick(&all.grants) {
                    Some(g) if aimed => g.id.clone(),
                    _ => id,
                };
                out.push(Op::DeleteGrant(id));
            }
            Op::List {
                sync,
                query,
                page_size,
            } => {
                let query = if aimed {
                    all.query(&query, &mut rng)
                } else {
                    query
                };
                out.push(Op::List {
                    sync,
                    query,
                    page_size,
                });
            }
            Op::ResumeList {
                sync,
                query,
                page_size,
                token,
            } => {
                // Aimed: a list of one-record pages over a sync the case wrote records to, with
                // its query aimed at them, then a resume with one of that list's own tokens
                // (or of an earlier list of the same sync and query).
                let written: Vec<usize> = (0..syncs.records.len())
                    .filter(|k| syncs.records.get(*k).is_some_and(|w| !w.is_empty()))
                    .collect();
                let own = match rng.pick(&written) {
                    Some(&k) if aimed => nth(k).zip(syncs.records.get(k)),
                    _ => None,
                };
                match own {
                    Some((of, w)) => {
                        let query = w.paged_query(&query, &mut rng);
                        out.push(Op::List {
                            sync: Some(of.clone()),
                            query: query.clone(),
                            page_size: 1,
                        });
                        out.push(Op::ResumeList {
                            sync: Some(of),
                            query,
                            page_size,
                            token: TokenRef::OfList((rng.next_u64() % 64) as u16),
                        });
                    }
                    None => out.push(Op::ResumeList {
                        sync,
                        query,
                        page_size,
                        token: if rng.percent(LONG_TOKEN_PERCENT) {
                            TokenRef::Forged("A".repeat(LONG_TOKEN))
                        } else {
                            token
                        },
                    }),
                }
            }
            Op::Diff { base, applied } => {
                let n = syncs.records.len();
                let latest = (n >= 2).then(|| (nth(n - 2), nth(n - 1)));
                match latest {
                    Some((Some(b), Some(a))) if aimed => out.push(Op::Diff {
                        base: b,
                        applied: a,
                    }),
                    _ => out.push(Op::Diff { base, applied }),
                }
            }
            Op::CloneSync(s) => out.push(Op::CloneSync(syncs.latest_if(aimed, s))),
            Op::CloneAcross(s) => out.push(Op::CloneAcross(syncs.latest_if(aimed, s))),
            other => out.push(other),
        }
    }
    out.truncate(max_ops.max(1));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::generate::case;

    fn grant(id: &str, principal: &str, at: i64) -> Grant {
        use syncproof_engine::contract::{grant, Discovered};
        grant(id, "member", "group", "g1", "user", principal).discovered(Timestamp(at))
    }

    fn put(grants: Vec<Grant>) -> Op {
        Op::Put {
            batch: RecordBatch::Grants(grants),
            mode: PutMode::Replace,
        }
    }

    #[test]
    fn aimed_reads_name_written_values() {
        let written = vec![grant("w1", "alice", 5), grant("w2", "bob", 5)];
        let mut ops = vec![Op::StartSync, put(written.clone())];
        for _ in 0..200 {
            ops.push(Op::Get {
                sync: None,
                key: RecordKey::Grant("universe".into()),
            });
            ops.push(Op::List {
                sync: None,
                query: ListQuery::Grants(GrantFilter::Principal(ResourceId::new("x", "y"))),
                page_size: 1,
            });
        }
        let aimed = aim(ops, 9, usize::MAX);
        let (mut hit, mut kept) = (0, 0);
        for op in &aimed[2..] {
            match op {
                Op::Get {
                    key: RecordKey::Grant(id),
                    ..
                } if id == "w1" || id == "w2" => hit += 1,
                Op::List {
                    query: ListQuery::Grants(GrantFilter::Principal(p)),
                    ..
                } if p.resource == "alice" || p.resource == "bob" => hit += 1,
                _ => kept += 1,
            }
        }
        // 75% aimed, the rest kept for misses: 400 ops, so well inside 60%..90%.
        assert!((240..=360).contains(&hit), "{hit} aimed, {kept} kept");
    }

    #[test]
    fn a_full_sync_after_one_with_records_can_become_a_resync_followed_by_a_diff() {
        let first: Vec<Grant> = (0..12).map(|i| grant(&format!("g{i}"), "u", 2)).collect();
        let mut seen_resync = false;
        for seed in 0..40 {
            let ops = vec![
                Op::StartNewSync {
                    sync_type: SyncType::Full,
                    parent: None,
                },
                put(first.clone()),
                Op::EndSync,
                Op::StartNewSync {
                    sync_type: SyncType::Full,
                    parent: None,
                },
                Op::EndSync,
            ];
            let aimed = aim(ops, seed, usize::MAX);
            if aimed.len() == 5 {
                continue;
            }
            seen_resync = true;
            let reputs: Vec<&Grant> = aimed[4..]
                .iter()
                .filter_map(|op| match op {
                    Op::Put {
                        batch: RecordBatch::Grants(g),
                        ..
                    } => Some(g.iter()),
                    _ => None,
                })
                .flatten()
                .collect();
            assert!(!reputs.is_empty() && reputs.len() <= 12);
            for g in &reputs {
                assert!(
                    first.iter().any(|f| f.id == g.id),
                    "{} was not written",
                    g.id
                );
                assert!(g.discovered_at > Timestamp(2), "a re-sync discovers again");
            }
            assert_eq!(
                aimed.last(),
                Some(&Op::Diff {
                    base: SyncRef::Nth(0),
                    applied: SyncRef::Nth(1)
                })
            );
        }
        assert!(seen_resync, "no seed made a re-sync");
    }

    #[test]
    fn generated_cases_often_read_what_they_wrote() {
        // The share of gets that name a key the case put before them, over many cases.
        let (mut gets, mut met) = (0, 0);
        for i in 0..300 {
            let mut keys: Vec<RecordKey> = Vec::new();
            for op in case(5, i, 40) {
                match op {
                    Op::Put { batch, .. } => {
                        keys.extend(batch.to_records().iter().map(Record::key));
                    }
                    Op::Get { key, .. } => {
                        gets += 1;
                        met += usize::from(keys.contains(&key));
                    }
                    _ => {}
                }
            }
        }
        assert!(gets > 100, "{gets} gets");
        assert!(met * 2 > gets, "{met} of {gets} gets met a written key");
    }
}
