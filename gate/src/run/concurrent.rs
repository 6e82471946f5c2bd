//! The concurrent runner: one writer thread applies a case's sequence to an engine while
//! reader threads issue reads on the same handle, and every read is checked against the
//! window of states it may have seen (how RocksDB's `db_stress` checks reads against its
//! expected state, exact with a single writer).
//!
//! The writer's committed states form a total order S0..Sn (Si: after its first i ops). The
//! oracle applies the sequence first and keeps a deep copy of itself in every state. The
//! writer counts the ops it has started and finished; a read that began when `lo` ops had
//! finished and returned when `hi` had started may have seen any state from `S_lo` to
//! `S_hi` (an op in flight may have committed before it returned), so its answer must equal
//! the oracle's in one of them. A resumed page
//! must equal the oracle's page after the same record in one state of its window (resumed
//! with the oracle's own token for that record and for the sync the first page resolved
//! to). The writer's own outcomes are compared with the oracle's op by op, as in the
//! sequential runner.
//!
//! Reads are checked as they return, so a reader holds only its counters, the pages it may
//! resume and its first failure, however long the writer runs.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use syncproof_engine::contract::Opener;
use syncproof_engine::*;
use syncproof_memory::{MemoryEngine, MemoryOpener};

use crate::model::ops::{Op, SyncRef};
use crate::model::reads::{ConcurrentCase, Read};
use crate::run::outcome::{Outcome, Value};
use crate::run::runner::{note_created, panic_text, Context, Finding, Subject};

/// A read as issued: syncs resolved, and a resume's first page named.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Issued {
    /// `get`.
    Get {
        /// The sync read.
        sync: Option<SyncId>,
        /// The key.
        key: RecordKey,
    },
    /// A page of a list: the first, or (`after` set) the one after a record.
    List {
        /// The sync read.
        sync: Option<SyncId>,
        /// What is listed.
        query: ListQuery,
        /// Records per page.
        page_size: usize,
        /// The last record of the page this one resumes (with the engine's token for it).
        after: Option<Box<Record>>,
    },
    /// `stats`.
    Stats {
        /// The sync counted.
        sync: Option<SyncId>,
    },
    /// `get_sync_run`.
    GetSyncRun(SyncId),
    /// The first page of `list_sync_runs`.
    ListSyncRuns {
        /// Runs per page.
        page_size: usize,
    },
}

impl Issued {
    /// Stable name, for the counts of reads checked by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Issued::Get { .. } => "get",
            Issued::List { after: None, .. } => "list",
            Issued::List { .. } => "resume_list",
            Issued::Stats { .. } => "stats",
            Issued::GetSyncRun(_) => "get_sync_run",
            Issued::ListSyncRuns { .. } => "list_sync_runs",
        }
    }
}

/// A read whose answer matched no state of its window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadFinding {
    /// Which reader.
    pub reader: usize,
    /// The read's place in the reader's script.
    pub script_index: usize,
    /// The read as issued.
    pub read: Issued,
    /// What the engine answered.
    pub got: Outcome,
    /// The states the read may have seen: from `S_lo` to `S_hi`.
    pub window: (usize, usize),
    /// The oracle's answer in each state of the window.
    pub expected: Vec<(usize, Outcome)>,
    /// The writer's ops that ran while the read did (op `i` turns `S_i` into `S_(i+1)`).
    pub overlapped: Vec<(usize, Op)>,
}

/// What went wrong in a concurrent case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ConcurrentFinding {
    /// The writer's own outcome differed from the oracle's (as in the sequential runner).
    Writer(Finding),
    /// A read saw no state of its window.
    Read(Box<ReadFinding>),
}

impl ConcurrentFinding {
    /// One paragraph for people: the read, its window, what each state answers.
    pub fn describe(&self) -> String {
        match self {
            ConcurrentFinding::Writer(f) => {
                let mut s = format!("the writer's op {} ({:?}) disagrees:\n", f.op_index, f.op);
                for (label, o) in &f.outcomes {
                    s.push_str(&format!("  {label}: {}\n", o.summary()));
                }
                s
            }
            ConcurrentFinding::Read(f) => {
                let mut s = format!(
                    "reader {} (script read {}) issued {:?}\n  got: {}\n  window: states {}..={} (state i: after the writer's first i ops)\n",
                    f.reader,
                    f.script_index,
                    f.read,
                    f.got.summary(),
                    f.window.0,
                    f.window.1
                );
                for (i, o) in &f.expected {
                    s.push_str(&format!("  oracle in state {i}: {}\n", o.summary()));
                }
                if f.overlapped.is_empty() {
                    s.push_str("  no write ran during the read\n");
                }
                for (i, op) in &f.overlapped {
                    let text = crate::run::text::abbreviate(&format!("{op:?}"));
                    let cut: String = text.chars().take(160).collect();
                    let more = if cut.len() < text.len() { "…" } else { "" };
                    s.push_str(&format!("  overlapped writer op {i}: {cut}{more}\n"));
                }
                s
            }
        }
    }
}

/// How many reads were checked, and how much they overlapped the writer: per reader, per case
/// and for a whole phase ([`ReadCounts::add`]).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReadCounts {
    /// Reads checked against their windows, by kind.
    pub reads: BTreeMap<&'static str, u64>,
    /// Reads during which at least one write ran (a window of more than one state).
    pub overlapping: u64,
    /// The most states one read's window held.
    pub widest: usize,
}

impl ReadCounts {
    /// Reads checked, of every kind.
    pub fn checked(&self) -> u64 {
        self.reads.values().sum()
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &ReadCounts) {
        for (k, n) in &other.reads {
            *self.reads.entry(k).or_default() += n;
        }
        self.overlapping += other.overlapping;
        self.widest = self.widest.max(other.widest);
    }

    /// Counts one read of `kind` whose window was `S_lo..=S_hi`.
    fn note(&mut self, kind: &'static str, lo: usize, hi: usize) {
        *self.reads.entry(kind).or_default() += 1;
        self.overlapping += u64::from(hi > lo);
        self.widest = self.widest.max(hi - lo + 1);
    }
}

/// What one concurrent case produced.
#[derive(Clone, Debug, Default)]
pub struct ConcurrentRun {
    /// The writer's ops applied.
    pub ops_run: usize,
    /// The reads its readers checked.
    pub counts: ReadCounts,
    /// The first failure, if any.
    pub finding: Option<ConcurrentFinding>,
}

/// A page a reader may resume: the call that read it, its token and its last record, and the
/// syncs it was read from in the states it matched.
struct Resumable {
    sync: Option<SyncId>,
    query: ListQuery,
    page_size: usize,
    token: PageToken,
    last: Record,
    issued_for: Vec<SyncId>,
}

/// Answers `read` on `e` (a resume with `token`): the comparable outcome, the next token of
/// a page, and the page's last record.
fn call(
    e: &dyn StorageEngine,
    read: &Issued,
    token: Option<&PageToken>,
) -> (Outcome, Option<(PageToken, Record)>) {
    let run = || match read {
        Issued::Get { sync, key } => (
            e.get(sync.as_ref(), key)
                .map_or_else(Outcome::from, |r| Outcome::ok(Value::Record(r))),
            None,
        ),
        Issued::List {
            sync,
            query,
            page_size,
            ..
        } => {
            let req = match token {
                Some(t) => PageRequest::after(*page_size, t.clone()),
                None => PageRequest::first(*page_size),
            };
            match e.list(sync.as_ref(), query, &req) {
                Err(err) => (err.into(), None),
                Ok(p) => {
                    let next = match (p.next_token, p.items.last()) {
                        (Some(t), Some(last)) => Some((t, last.clone())),
                        _ => None,
                    };
                    let more = next.is_some();
                    (
                        Outcome::ok(Value::Page {
                            items: p.items,
                            more,
                        }),
                        next,
                    )
                }
            }
        }
        Issued::Stats { sync } => (
            e.stats(sync.as_ref())
                .map_or_else(Outcome::from, |s| Outcome::ok(Value::Stats(s))),
            None,
        ),
        Issued::GetSyncRun(id) => (
            e.get_sync_run(id)
                .map_or_else(Outcome::from, |r| Outcome::ok(Value::Run(r))),
            None,
        ),
        Issued::ListSyncRuns { page_size } => (
            e.list_sync_runs(&PageRequest::first(*page_size))
                .map_or_else(Outcome::from, |p| {
                    Outcome::ok(Value::RunPage {
                        more: p.next_token.is_some(),
                        items: p.items,
                    })
                }),
            None,
        ),
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|p| (Outcome::Panic(panic_text(p)), None))
}

/// The oracle's answers to `read` in `state` (several for a resume whose first page matched
/// states that resolved to different syncs), each with the sync the read resolved to there.
fn expected(
    state: &MemoryEngine,
    read: &Issued,
    issued_for: &[SyncId],
) -> Vec<(Outcome, Option<SyncId>)> {
    let resolved = |sync: &Option<SyncId>| state.resolved(sync.as_ref()).ok().flatten();
    match read {
        Issued::List {
            sync,
            query,
            after: Some(last),
            ..
        } => issued_for
            .iter()
            .map(|for_sync| {
                let token = MemoryEngine::token_after(for_sync, query, last);
                (call(state, read, Some(&token)).0, resolved(sync))
            })
            .collect(),
        Issued::List { sync, .. } => vec![(call(state, read, None).0, resolved(sync))],
        _ => vec![(call(state, read, None).0, None)],
    }
}

/// What the readers share: the handle, the oracle's states, the writer's progress.
struct Shared<'a> {
    engine: &'a dyn StorageEngine,
    states: &'a [MemoryEngine],
    writer: &'a [Op],
    /// Every sync the writer creates (what reads' sync references resolve against).
    created: &'a [SyncId],
    /// Writer ops started.
    started: &'a AtomicUsize,
    /// Writer ops finished.
    done: &'a AtomicUsize,
    /// Set when the writer has finished (or stopped).
    writer_done: &'a AtomicBool,
    /// Set at the first failure anywhere: everyone stops.
    failed: &'a AtomicBool,
}

/// What one reader produced.
#[derive(Default)]
struct ReaderRun {
    counts: ReadCounts,
    finding: Option<ReadFinding>,
}

/// `read` as issued, its sync references resolved against `created`; `None` for a resume,
/// which depends on the pages read so far.
fn issue(read: &Read, created: &[SyncId]) -> Option<Issued> {
    let resolve = |s: &Option<SyncRef>| s.as_ref().map(|s| s.resolve(created));
    Some(match read {
        Read::Get { sync, key } => Issued::Get {
            sync: resolve(sync),
            key: key.clone(),
        },
        Read::List {
            sync,
            query,
            page_size,
        } => Issued::List {
            sync: resolve(sync),
            query: query.clone(),
            page_size: *page_size,
            after: None,
        },
        Read::Resume(_) => return None,
        Read::Stats { sync } => Issued::Stats {
            sync: resolve(sync),
        },
        Read::GetSyncRun(s) => Issued::GetSyncRun(s.resolve(created)),
        Read::ListSyncRuns { page_size } => Issued::ListSyncRuns {
            page_size: *page_size,
        },
    })
}

/// The syncs a read that answered `got` resolved to in the states of `window` whose oracle
/// answers the same (a `None` per matching state that resolved to none). With `all` false it
/// stops at the first match: only a page that issued a token needs every one (they are the
/// syncs it may be resumed for).
fn matching(
    states: &[MemoryEngine],
    window: std::ops::RangeInclusive<usize>,
    read: &Issued,
    issued_for: &[SyncId],
    got: &Outcome,
    all: bool,
) -> Vec<Option<SyncId>> {
    let mut out = Vec::new();
    if matches!(got, Outcome::Panic(_)) {
        return out;
    }
    for state in states.get(window).unwrap_or_default() {
        for (want, resolved) in expected(state, read, issued_for) {
            if want == *got {
                out.push(resolved);
                if !all {
                    return out;
                }
            }
        }
    }
    out
}

/// Reader `reader`: runs `script` over and over until the writer has finished, then once
/// more, checking every read as it returns.
fn reader(shared: &Shared<'_>, reader: usize, script: &[Read]) -> ReaderRun {
    let mut out = ReaderRun::default();
    let mut pages: Vec<Resumable> = Vec::new();
    let n = shared.writer.len();
    let fixed: Vec<Option<Issued>> = script.iter().map(|r| issue(r, shared.created)).collect();
    loop {
        let last_pass = shared.writer_done.load(Ordering::SeqCst);
        for (script_index, (read, fixed)) in script.iter().zip(&fixed).enumerate() {
            if shared.failed.load(Ordering::SeqCst) {
                return out;
            }
            let resumed = match (read, fixed) {
                (Read::Resume(k), _) => pages.get(usize::from(*k) % pages.len().max(1)),
                _ => None,
            };
            let (issued, token, issued_for) = match (fixed, resumed) {
                (Some(issued), _) => (issued.clone(), None, &[][..]),
                (None, Some(p)) => (
                    Issued::List {
                        sync: p.sync.clone(),
                        query: p.query.clone(),
                        page_size: p.page_size,
                        after: Some(Box::new(p.last.clone())),
                    },
                    Some(&p.token),
                    &p.issued_for[..],
                ),
                // A resume before any page with a token: the first page of all grants.
                (None, None) => (
                    Issued::List {
                        sync: None,
                        query: ListQuery::Grants(GrantFilter::All),
                        page_size: 1,
                        after: None,
                    },
                    None,
                    &[][..],
                ),
            };
            let lo = shared.done.load(Ordering::SeqCst);
            let (got, next) = call(shared.engine, &issued, token);
            let hi = shared.started.load(Ordering::SeqCst).min(n);
            let lo = lo.min(hi);
            out.counts.note(issued.kind(), lo, hi);
            let matched = matching(
                shared.states,
                lo..=hi,
                &issued,
                issued_for,
                &got,
                next.is_some(),
            );
            if matched.is_empty() {
                let answers = (lo..=hi)
                    .zip(shared.states.get(lo..=hi).unwrap_or_default())
                    .flat_map(|(j, state)| {
                        expected(state, &issued, issued_for)
                            .into_iter()
                            .map(move |(want, _)| (j, want))
                    })
                    .collect();
                out.finding = Some(ReadFinding {
                    reader,
                    script_index,
                    read: issued,
                    got,
                    window: (lo, hi),
                    expected: answers,
                    overlapped: shared
                        .writer
                        .iter()
                        .enumerate()
                        .skip(lo)
                        .take(hi - lo)
                        .map(|(i, op)| (i, op.clone()))
                        .collect(),
                });
                shared.failed.store(true, Ordering::SeqCst);
                return out;
            }
            if let (
                Some((token, last)),
                Issued::List {
                    sync,
                    query,
                    page_size,
                    ..
                },
            ) = (next, &issued)
            {
                let mut issued_for: Vec<SyncId> = matched.into_iter().flatten().collect();
                issued_for.sort();
                issued_for.dedup();
                pages.push(Resumable {
                    sync: sync.clone(),
                    query: query.clone(),
                    page_size: *page_size,
                    token,
                    last,
                    issued_for,
                });
            }
        }
        if last_pass {
            return out;
        }
    }
}

/// Runs `case` on a fresh store of `opener` (reported as `label`) with one reader thread per
/// script; `Err` only when a store cannot be set up at all.
pub fn run_concurrent(
    seed: u64,
    case: &ConcurrentCase,
    label: &str,
    opener: &dyn Opener,
    tmp: Option<&Path>,
) -> std::result::Result<ConcurrentRun, String> {
    // The oracle's pass: its outcome of every op, the syncs created before each, and a copy
    // of it in every state.
    let memory = MemoryOpener::default();
    let mut cx = Context::new(&memory, seed, tmp);
    let oracle = MemoryEngine::new(cx.config());
    let mut states = vec![oracle.snapshot()];
    let mut created: Vec<SyncId> = Vec::new();
    let mut created_before = Vec::with_capacity(case.writer.len());
    let mut expected_out = Vec::with_capacity(case.writer.len());
    for op in &case.writer {
        created_before.push(created.clone());
        let out = cx.apply(&oracle, op, &created);
        note_created(&mut created, &out);
        expected_out.push(out);
        states.push(oracle.snapshot());
    }
    let mut subject = Subject::new(label.to_string(), opener, seed, tmp)?;
    let (engine, wcx) = subject
        .split()
        .ok_or_else(|| format!("{label}: the handle closed before the case began"))?;
    let started = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let writer_done = AtomicBool::new(false);
    let failed = AtomicBool::new(false);
    let shared = Shared {
        engine,
        states: &states,
        writer: &case.writer,
        created: &created,
        started: &started,
        done: &done,
        writer_done: &writer_done,
        failed: &failed,
    };
    let mut run = ConcurrentRun::default();
    let readers: Vec<Option<ReaderRun>> = std::thread::scope(|s| {
        let handles: Vec<_> = case
            .readers
            .iter()
            .enumerate()
            .map(|(r, script)| {
                let shared = &shared;
                s.spawn(move || reader(shared, r, script))
            })
            .collect();
        for (i, op) in case.writer.iter().enumerate() {
            if failed.load(Ordering::SeqCst) {
                break;
            }
            let no_syncs = Vec::new();
            let before = created_before.get(i).unwrap_or(&no_syncs);
            started.store(i + 1, Ordering::SeqCst);
            let got = wcx.apply(engine, op, before);
            done.store(i + 1, Ordering::SeqCst);
            run.ops_run = i + 1;
            let want = expected_out.get(i);
            if want != Some(&got) || want.is_some_and(Outcome::is_broken) || got.is_broken() {
                run.finding = Some(ConcurrentFinding::Writer(Finding {
                    op_index: i,
                    op: op.clone(),
                    outcomes: vec![
                        (
                            format!("{} (oracle)", memory.name()),
                            want.cloned()
                                .unwrap_or_else(|| Outcome::Panic("no oracle outcome".into())),
                        ),
                        (label.to_string(), got),
                    ],
                }));
                failed.store(true, Ordering::SeqCst);
                break;
            }
        }
        writer_done.store(true, Ordering::SeqCst);
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    for r in readers {
        // Engine panics are caught per read: a reader thread that died is the runner's bug.
        let r = r.ok_or_else(|| format!("{label}: a reader thread panicked outside a read"))?;
        run.counts.add(&r.counts);
        if run.finding.is_none() {
            run.finding = r.finding.map(|f| ConcurrentFinding::Read(Box::new(f)));
        }
    }
    Ok(run)
}

/// Runs `case` up to `schedules` times (each a fresh store and fresh threads, so another
/// interleaving), stopping at the first failure: how many ran, how many failed, and the
/// first finding. A concurrency bug shows in some schedules only; this is how a candidate
/// is judged while shrinking and how a repro is replayed.
pub fn run_schedules(
    seed: u64,
    case: &ConcurrentCase,
    label: &str,
    opener: &dyn Opener,
    tmp: Option<&Path>,
    schedules: usize,
    stop_at_first: bool,
) -> std::result::Result<(usize, usize, Option<ConcurrentFinding>), String> {
    let (mut ran, mut failed, mut first) = (0, 0, None);
    for _ in 0..schedules.max(1) {
        let r = run_concurrent(seed, case, label, opener, tmp)?;
        ran += 1;
        if let Some(f) = r.finding {
            failed += 1;
            first.get_or_insert(f);
            if stop_at_first {
                break;
            }
        }
    }
    Ok((ran, failed, first))
}
