//! Runs one op sequence on the oracle and on every engine under test, each on a fresh store in
//! a temp dir with the same deterministic clock and id source, comparing outcome by outcome
//! and stopping at the first disagreement.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use syncproof_engine::contract::Opener;
use syncproof_engine::view;
use syncproof_engine::*;

use crate::model::ops::{Op, TokenRef};
use crate::model::universe::T0;
use crate::run::case::CaseRun;
use crate::run::outcome::{Outcome, Value};
use crate::run::watchdog::Beat;

/// Longest list a paged read follows before calling it endless.
const MAX_PAGES: usize = 100_000;

/// One engine in a run: its store, handle, and the [`Context`] its ops run in.
///
/// Fields drop in declaration order: the handles close before their directories go, so no
/// engine (or its background threads) ever sees its files vanish under it.
pub struct Subject<'o> {
    /// The label the engine is reported under.
    pub label: String,
    engine: Option<Box<dyn StorageEngine>>,
    cx: Context<'o>,
    dir: tempfile::TempDir,
}

/// What one store's ops run with besides its handle: its opener (for clone targets), clock,
/// id source and the tokens it issued. [`Context::apply`] applies an op to any handle, so
/// the concurrent runner can share the handle with reader threads while its writer applies
/// ops through the context.
pub struct Context<'o> {
    opener: &'o dyn Opener,
    /// The store clones go to (kept across ops, so cloning a sync twice is `AlreadyExists`).
    clone_target: Option<(Box<dyn StorageEngine>, tempfile::TempDir)>,
    tmp: Option<PathBuf>,
    clock: ManualClock,
    ids: Arc<SeededIds>,
    seed: u64,
    tokens: Vec<PageToken>,
    /// The tokens of record lists, with the sync reference and query each list was of (for
    /// [`TokenRef::OfList`]).
    list_tokens: Vec<(ListOf, PageToken)>,
}

/// What a record list was of: its sync reference, as the op gave it, and its query.
type ListOf = (Option<crate::model::ops::SyncRef>, ListQuery);

/// A temp dir for one store: under `base`, else in the process's scratch default (in RAM
/// when the system has a RAM-backed temp dir: see `syncproof_engine::scratch`).
fn temp_dir(base: Option<&Path>) -> std::result::Result<tempfile::TempDir, String> {
    syncproof_engine::scratch::tempdir(base).map_err(|e| format!("temp dir: {e}"))
}

/// The message of a caught panic.
pub(crate) fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

fn outcome<T>(r: Result<T>, f: impl FnOnce(T) -> Value) -> Outcome {
    match r {
        Ok(v) => Outcome::ok(f(v)),
        Err(e) => e.into(),
    }
}

fn export_all(e: &dyn StorageEngine, id: &SyncId) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    e.export_sync(id, &mut |b| {
        out.extend(b.to_records());
        Ok(())
    })?;
    Ok(out)
}

impl<'o> Subject<'o> {
    /// A fresh store of `opener` in a new temp dir (under `tmp` if given).
    pub fn new(
        label: String,
        opener: &'o dyn Opener,
        seed: u64,
        tmp: Option<&Path>,
    ) -> std::result::Result<Self, String> {
        let dir = temp_dir(tmp)?;
        let cx = Context::new(opener, seed, tmp);
        let engine = opener
            .open(dir.path(), cx.config())
            .map_err(|e| format!("{label}: open: {e}"))?;
        Ok(Subject {
            label,
            engine: Some(engine),
            cx,
            dir,
        })
    }

    /// The open handle and the context its ops run in (`None` when the handle is closed), for
    /// a runner that shares the handle with other threads.
    pub fn split(&mut self) -> Option<(&dyn StorageEngine, &mut Context<'o>)> {
        Some((self.engine.as_deref()?, &mut self.cx))
    }

    /// The engine's structural counters now (none when its handle is closed or it cannot
    /// tell; a panic or an error counts as none: the case's outcomes are what is checked).
    pub fn structure(&self) -> Vec<(&'static str, u64)> {
        let Some(e) = self.engine.as_deref() else {
            return Vec::new();
        };
        catch_unwind(AssertUnwindSafe(|| e.structure()))
            .ok()
            .and_then(|r| r.ok())
            .unwrap_or_default()
    }

    /// Applies `op`, catching panics. `created` are the sync ids created so far.
    pub fn apply(&mut self, op: &Op, created: &[SyncId]) -> Outcome {
        if let Op::AdvanceClock(n) = op {
            // Needs no handle: a closed one stays closed.
            self.cx.clock.advance(*n);
            return Outcome::ok(Value::Unit);
        }
        let reopen = matches!(op, Op::Reopen);
        if reopen {
            self.engine = None;
        }
        if self.engine.is_none() {
            let opener = self.cx.opener;
            match catch_unwind(AssertUnwindSafe(|| {
                opener.open(self.dir.path(), self.cx.config())
            })) {
                Ok(Ok(e)) => self.engine = Some(e),
                Ok(Err(err)) => return err.into(),
                Err(p) => return Outcome::Panic(panic_text(p)),
            }
        }
        if reopen {
            return Outcome::ok(Value::Unit);
        }
        let Some(e) = self.engine.as_deref() else {
            return Outcome::Err(ErrorKind::Io, "engine is closed".into());
        };
        let got = self.cx.apply(e, op, created);
        if matches!(got, Outcome::Panic(_)) {
            // The handle may be in any state after a panic; reopen before the next op.
            self.engine = None;
        }
        got
    }
}

impl<'o> Context<'o> {
    /// The context of a fresh store of `opener` (clones go under `tmp` if given).
    pub fn new(opener: &'o dyn Opener, seed: u64, tmp: Option<&Path>) -> Self {
        Context {
            opener,
            clone_target: None,
            tmp: tmp.map(Path::to_path_buf),
            clock: ManualClock::new(T0),
            ids: Arc::new(SeededIds::new(seed)),
            seed,
            tokens: Vec::new(),
            list_tokens: Vec::new(),
        }
    }

    /// Sync ids the store has drawn from this context's id source.
    pub fn ids_drawn(&self) -> u64 {
        self.ids.position()
    }

    /// Sets the number of ids drawn, so that the next id is the one drawn at `n`
    /// ([`SeededIds::set_position`]).
    pub fn set_ids_drawn(&self, n: u64) {
        self.ids.set_position(n);
    }

    /// The configuration of this context's store: the case's clock and ids.
    pub fn config(&self) -> EngineConfig {
        self.config_with(self.ids.clone())
    }

    /// The case's clock and asset limit, with `ids`.
    fn config_with(&self, ids: Arc<SeededIds>) -> EngineConfig {
        EngineConfig {
            clock: Arc::new(self.clock.clone()),
            ids,
            max_asset_bytes: crate::model::universe::MAX_ASSET_BYTES,
        }
    }

    /// The configuration of a store a clone goes to: the case's clock, its own ids.
    fn clone_config(&self) -> EngineConfig {
        self.config_with(Arc::new(SeededIds::new(self.seed ^ 0xC10E)))
    }

    /// [`Op::CloneAcross`]: `id` from `e` into a fresh store of `via`, read back there, then
    /// from there into a fresh store of this engine, read back (both stores dropped after).
    fn clone_across(
        &self,
        e: &dyn StorageEngine,
        id: &SyncId,
        via: &dyn Opener,
    ) -> Result<(Option<SyncRun>, Vec<Record>, Vec<Record>)> {
        let via_dir = temp_dir(self.tmp.as_deref()).map_err(Error::io)?;
        let back_dir = temp_dir(self.tmp.as_deref()).map_err(Error::io)?;
        let foreign = via.open(via_dir.path(), self.clone_config())?;
        e.clone_sync(id, foreign.as_ref())?;
        let foreign_records = export_all(foreign.as_ref(), id)?;
        let back = self.opener.open(back_dir.path(), self.clone_config())?;
        foreign.clone_sync(id, back.as_ref())?;
        let run = back.get_sync_run(id)?;
        let records = export_all(back.as_ref(), id)?;
        drop(back);
        drop(foreign);
        Ok((run, foreign_records, records))
    }

    /// Applies `op` to the handle `e`, catching panics. `created` are the sync ids created so
    /// far. `Op::Reopen` needs the store, not a handle: [`Subject::apply`] does it, and here it
    /// is refused as an `Io` error.
    pub fn apply(&mut self, e: &dyn StorageEngine, op: &Op, created: &[SyncId]) -> Outcome {
        match catch_unwind(AssertUnwindSafe(|| self.apply_inner(e, op, created))) {
            Ok(o) => o,
            Err(p) => Outcome::Panic(panic_text(p)),
        }
    }

    fn apply_inner(&mut self, e: &dyn StorageEngine, op: &Op, created: &[SyncId]) -> Outcome {
        let r = |s: &crate::model::ops::SyncRef| s.resolve(created);
        let ro = |s: &Option<crate::model::ops::SyncRef>| s.as_ref().map(|s| s.resolve(created));
        match op {
            Op::Reopen => {
                return Outcome::Err(
                    ErrorKind::Io,
                    "reopen needs the store, not a handle (Subject::apply)".into(),
                )
            }
            Op::AdvanceClock(n) => {
                self.clock.advance(*n);
                return Outcome::ok(Value::Unit);
            }
            _ => {}
        }
        match op {
            Op::StartSync => outcome(e.start_sync(), |(id, new)| Value::Started { id, new }),
            Op::StartNewSync { sync_type, parent } => {
                outcome(e.start_new_sync(*sync_type, ro(parent).as_ref()), Value::Id)
            }
            Op::SetCurrentSync(s) => outcome(e.set_current_sync(&r(s)), |_| Value::Unit),
            Op::CurrentSyncToken => outcome(e.current_sync_token(), Value::Token),
            Op::CheckpointSync(t) => outcome(e.checkpoint_sync(t), |_| Value::Unit),
            Op::EndSync => outcome(e.end_sync(), |_| Value::Unit),
            Op::ViewSync(s) => outcome(e.view_sync(ro(s).as_ref()), |_| Value::Unit),
            Op::GetSyncRun(s) => outcome(e.get_sync_run(&r(s)), Value::Run),
            Op::ListSyncRuns { page_size } => {
                match page_to_end(*page_size, &mut self.tokens, |req| e.list_sync_runs(req)) {
                    Some((pages, error)) => Outcome::ok(Value::RunPages { pages, error }),
                    None => {
                        Outcome::Panic(format!("sync-run list did not end after {MAX_PAGES} pages"))
                    }
                }
            }
            Op::Put { batch, mode } => outcome(e.put(batch, *mode), |_| Value::Unit),
            Op::DeleteGrant(id) => outcome(e.delete_grant(id), Value::Bool),
            Op::Get { sync, key } => {
                let of = ro(sync);
                let owned = e.get(of.as_ref(), key);
                let lent = view::collect_get(e, of.as_ref(), key);
                if let Some(why) = contradiction(&owned, &lent) {
                    return Outcome::Incoherent(format!("get {key:?}: {why}"));
                }
                outcome(owned, Value::Record)
            }
            Op::List {
                sync,
                query,
                page_size,
            } => {
                let of = ro(sync);
                let before = self.tokens.len();
                let mut incoherent = None;
                let paged = page_to_end(*page_size, &mut self.tokens, |req| {
                    let owned = e.list(of.as_ref(), query, req);
                    if incoherent.is_none() {
                        let lent = view::collect_list(e, of.as_ref(), query, req);
                        incoherent = contradiction(&owned, &lent)
                            .map(|why| format!("list {query:?} after {:?}: {why}", req.token));
                    }
                    owned
                });
                if let Some(why) = incoherent {
                    return Outcome::Incoherent(why);
                }
                for t in self.tokens.get(before..).unwrap_or_default() {
                    self.list_tokens
                        .push(((sync.clone(), query.clone()), t.clone()));
                }
                match paged {
                    Some((pages, error)) => Outcome::ok(Value::Pages { pages, error }),
                    None => Outcome::Panic(format!("list did not end after {MAX_PAGES} pages")),
                }
            }
            Op::ResumeList {
                sync,
                query,
                page_size,
                token,
            } => {
                let token = match token {
                    TokenRef::Issued(n) => self
                        .tokens
                        .get(usize::from(*n) % self.tokens.len().max(1))
                        .cloned()
                        .unwrap_or_else(|| PageToken(String::new())),
                    TokenRef::Forged(s) => PageToken(s.clone()),
                    TokenRef::OfList(n) => {
                        let own: Vec<&PageToken> = self
                            .list_tokens
                            .iter()
                            .filter(|((s, q), _)| s == sync && q == query)
                            .map(|(_, t)| t)
                            .collect();
                        own.get(usize::from(*n) % own.len().max(1))
                            .map(|t| (*t).clone())
                            .unwrap_or_else(|| PageToken(String::new()))
                    }
                };
                let of = ro(sync);
                let req = PageRequest::after(*page_size, token);
                let owned = e.list(of.as_ref(), query, &req);
                let lent = view::collect_list(e, of.as_ref(), query, &req);
                if let Some(why) = contradiction(&owned, &lent) {
                    return Outcome::Incoherent(format!("resumed list {query:?}: {why}"));
                }
                match owned {
                    Err(err) => err.into(),
                    Ok(p) => {
                        let more = p.next_token.is_some();
                        if let Some(t) = p.next_token {
                            self.list_tokens
                                .push(((sync.clone(), query.clone()), t.clone()));
                            self.tokens.push(t);
                        }
                        Outcome::ok(Value::Page {
                            items: p.items,
                            more,
                        })
                    }
                }
            }
            Op::Stats { sync } => outcome(e.stats(ro(sync).as_ref()), Value::Stats),
            Op::Cleanup { keep } => outcome(e.cleanup(*keep), Value::Ids),
            Op::Diff { base, applied } => match e.generate_sync_diff(&r(base), &r(applied)) {
                Err(err) => err.into(),
                Ok((upserts, deletions)) => {
                    let contents =
                        export_all(e, &upserts).and_then(|u| Ok((u, export_all(e, &deletions)?)));
                    Outcome::ok(match contents {
                        Ok((upserted, deleted)) => Value::Diff {
                            upserts,
                            deletions,
                            upserted,
                            deleted,
                        },
                        Err(err) => Value::DiffUnreadable {
                            upserts,
                            deletions,
                            error: err.kind,
                        },
                    })
                }
            },
            Op::CloneSync(s) => {
                let id = r(s);
                if self.clone_target.is_none() {
                    let dir = match temp_dir(self.tmp.as_deref()) {
                        Ok(d) => d,
                        Err(m) => return Outcome::Panic(m),
                    };
                    match self.opener.open(dir.path(), self.clone_config()) {
                        Ok(t) => self.clone_target = Some((t, dir)),
                        Err(err) => return err.into(),
                    }
                }
                let Some((t, _)) = &self.clone_target else {
                    return Outcome::Err(ErrorKind::Io, "engine is closed".into());
                };
                match e.clone_sync(&id, t.as_ref()) {
                    Err(err) => err.into(),
                    Ok(()) => {
                        let copy = t
                            .get_sync_run(&id)
                            .and_then(|run| Ok((run, export_all(t.as_ref(), &id)?)));
                        outcome(copy, |(run, records)| Value::Cloned { run, records })
                    }
                }
            }
            Op::CloneAcross(s) => {
                let id = r(s);
                let memory = syncproof_memory::MemoryOpener::default();
                outcome(
                    self.clone_across(e, &id, &memory),
                    |(run, foreign, back)| Value::ClonedAcross { run, foreign, back },
                )
            }
            Op::Flush => outcome(e.flush(), |_| Value::Unit),
            Op::PutAsset(a) => outcome(e.put_asset(a), |_| Value::Unit),
            Op::Verify => match e.verify() {
                Ok(r) if r.problems.is_empty() => Outcome::ok(Value::Unit),
                Ok(r) => Outcome::Err(ErrorKind::Corruption, r.problems.join("; ")),
                Err(err) => err.into(),
            },
            Op::Reopen | Op::AdvanceClock(_) => unreachable!("handled before the match"),
        }
    }
}

/// How the lending form of a read contradicts its owned form (`None`: it agrees, by
/// [`view::agree`]): both answers, abbreviated.
fn contradiction<T: PartialEq + std::fmt::Debug>(
    owned: &Result<T>,
    lent: &Result<T>,
) -> Option<String> {
    let show = |r: &Result<T>| crate::run::text::abbreviate(&format!("{r:?}"));
    (!view::agree(owned, lent)).then(|| format!("owned {}, lending {}", show(owned), show(lent)))
}

/// Every page of a paged read, and the error kind that ended it early.
type Pages<T> = (Vec<Vec<T>>, Option<ErrorKind>);

/// Pages a list to the end with the engine's own tokens (each one kept in `tokens` for later
/// resumed reads): every page, and the error kind that ended it early. `None` if it never ends.
fn page_to_end<T>(
    page_size: usize,
    tokens: &mut Vec<PageToken>,
    mut read: impl FnMut(&PageRequest) -> Result<Page<T>>,
) -> Option<Pages<T>> {
    let mut pages = Vec::new();
    let mut req = PageRequest::first(page_size);
    for _ in 0..MAX_PAGES {
        match read(&req) {
            Err(err) => return Some((pages, Some(err.kind))),
            Ok(p) => {
                pages.push(p.items);
                match p.next_token {
                    Some(t) => {
                        tokens.push(t.clone());
                        req = PageRequest::after(page_size, t);
                    }
                    None => return Some((pages, None)),
                }
            }
        }
    }
    None
}

/// Where the engines first disagreed.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// Index of the op where they disagreed.
    pub op_index: usize,
    /// That op.
    pub op: Op,
    /// `(engine, outcome)`, the oracle first.
    pub outcomes: Vec<(String, Outcome)>,
}

/// Every op with every engine's outcome, the oracle first.
pub type Trace = Vec<(Op, Vec<(String, Outcome)>)>;

/// Adds the syncs the oracle's `expected` outcome created to `created` (what
/// [`crate::model::ops::SyncRef`]s resolve against).
pub fn note_created(created: &mut Vec<SyncId>, expected: &Outcome) {
    if let Outcome::Ok(v) = expected {
        match &**v {
            Value::Started { id, new: true } | Value::Id(id) if !created.contains(id) => {
                created.push(id.clone())
            }
            Value::Diff {
                upserts, deletions, ..
            } => {
                created.push(upserts.clone());
                created.push(deletions.clone());
            }
            _ => {}
        }
    }
}

/// Runs `ops` on a fresh oracle and fresh stores of every engine; stops at the first op whose
/// outcomes differ. `Err` only when a store cannot be set up at all.
pub fn run_case(
    seed: u64,
    ops: &[Op],
    oracle: &dyn Opener,
    engines: &[(String, &dyn Opener)],
    tmp: Option<&Path>,
) -> std::result::Result<CaseRun<Finding>, String> {
    run(seed, ops, oracle, engines, tmp, None, None)
}

/// [`run_case`], saying each op and engine on `beat` as it runs (for the watchdog's op
/// budget), and keeping every op's outcomes in `trace` if given.
pub fn run_case_watched(
    seed: u64,
    ops: &[Op],
    oracle: &dyn Opener,
    engines: &[(String, &dyn Opener)],
    tmp: Option<&Path>,
    beat: &Beat,
    trace: Option<&mut Trace>,
) -> std::result::Result<CaseRun<Finding>, String> {
    run(seed, ops, oracle, engines, tmp, Some(beat), trace)
}

fn run(
    seed: u64,
    ops: &[Op],
    oracle: &dyn Opener,
    engines: &[(String, &dyn Opener)],
    tmp: Option<&Path>,
    beat: Option<&Beat>,
    mut trace: Option<&mut Trace>,
) -> std::result::Result<CaseRun<Finding>, String> {
    let mut reference = Subject::new(format!("{} (oracle)", oracle.name()), oracle, seed, tmp)?;
    let mut subjects = engines
        .iter()
        .map(|(l, o)| Subject::new(l.clone(), *o, seed, tmp))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut run = CaseRun::new(subjects.len());
    let mut created: Vec<SyncId> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        beat.inspect(|b| b.op(None, i));
        let expected = reference.apply(op, &created);
        *run.op_kinds.entry(op.kind()).or_default() += 1;
        if let Op::Put { batch, .. } = op {
            run.records_put += batch.len() as u64;
        }
        if let Some(k) = expected.error_kind() {
            *run.error_kinds.entry(k).or_default() += 1;
        }
        super::reach::note(op, &expected, &mut run.reach);
        let mut outcomes = Vec::with_capacity(subjects.len());
        for (j, (s, lat)) in subjects
            .iter_mut()
            .zip(run.latencies.iter_mut())
            .enumerate()
        {
            beat.inspect(|b| b.op(Some(j), i));
            let start = Instant::now();
            let got = s.apply(op, &created);
            lat.entry(op.kind())
                .or_default()
                .push(start.elapsed().as_nanos() as u64);
            outcomes.push(got);
        }
        beat.inspect(|b| b.idle());
        run.ops_run = i + 1;
        let disagree =
            expected.is_broken() || outcomes.iter().any(|o| *o != expected || o.is_broken());
        if let Some(trace) = trace.as_deref_mut() {
            let mut all = vec![(reference.label.clone(), expected.clone())];
            all.extend(
                subjects
                    .iter()
                    .map(|s| s.label.clone())
                    .zip(outcomes.iter().cloned()),
            );
            trace.push((op.clone(), all));
        }
        if disagree {
            let mut all = vec![(reference.label.clone(), expected)];
            all.extend(subjects.iter().map(|s| s.label.clone()).zip(outcomes));
            run.finding = Some(Finding {
                op_index: i,
                op: op.clone(),
                outcomes: all,
            });
            return Ok(run);
        }
        note_created(&mut created, &expected);
    }
    run.structure = subjects
        .iter()
        .map(|s| (s.label.clone(), s.structure()))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    Ok(run)
}
