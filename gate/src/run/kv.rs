//! Running one KV case: every backend under test on a fresh store, and a `BTreeMap`
//! backend as the reference, compared step by step; and the KV repro file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use syncproof_engine::kv::{BTreeBackend, DynBackend, WriteBatch};
use syncproof_engine::scratch;
use syncproof_engine::ErrorKind;

use crate::faults::kv::{FaultyKv, KvBug};
use crate::model::kv::{kind, KvOp, KvWrite, MANY_BYTES, MANY_KEYS};
use crate::run::case::CaseRun;
use crate::run::text::ReproText;
use crate::run::watchdog::{Beat, StallFinding};

pub use syncproof_engine::kv::KvOpen;

/// A backend under test: its label, how to open it, and the bug injected into it, if any.
#[derive(Clone)]
pub struct KvTarget {
    /// Reported under this name.
    pub label: String,
    /// Opens it.
    pub open: KvOpen,
    /// Wraps every opened backend with this bug.
    pub bug: Option<KvBug>,
}

impl KvTarget {
    fn open(&self, dir: &Path) -> syncproof_engine::Result<Box<dyn DynBackend>> {
        let b = (self.open)(dir)?;
        Ok(match self.bug {
            Some(bug) => Box::new(FaultyKv::new(b, bug)),
            None => b,
        })
    }
}

/// What a step returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOutcome {
    /// A write or flush that succeeded.
    Unit,
    /// A get: the value, if present.
    Value(Option<Vec<u8>>),
    /// A scan: its entries in order.
    Entries(Vec<(Vec<u8>, Vec<u8>)>),
    /// An error, by kind.
    Err(ErrorKind),
    /// A panic, with its message.
    Panic(String),
}

/// Whether `entries` span leaf pages on every backend: more than [`MANY_KEYS`] of them,
/// with more than [`MANY_BYTES`] of keys and values.
fn spans_pages(entries: &[(Vec<u8>, Vec<u8>)]) -> bool {
    entries.len() > MANY_KEYS
        && entries
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
            > MANY_BYTES
}

/// What `op` reaches on the reference before it is applied there (`KV_REACH_KINDS`): range
/// deletes whose keys [`spans_pages`]. Scans are counted from their answer ([`scan_reach`]).
fn write_reach(reference: &BTreeBackend, op: &KvOp) -> Vec<&'static str> {
    let KvOp::Write(writes) = op else {
        return Vec::new();
    };
    writes
        .iter()
        .filter_map(|w| match w {
            KvWrite::DeleteRange(a, z) if a < z => reference
                .scan(a, Some(z), false, usize::MAX)
                .is_ok_and(|e| spans_pages(&e))
                .then_some("range_delete_past_pages"),
            _ => None,
        })
        .collect()
}

/// What a scan's answer on the reference reaches: entries that [`spans_pages`].
fn scan_reach(outcome: &KvOutcome) -> Option<&'static str> {
    match outcome {
        KvOutcome::Entries(e) if spans_pages(e) => Some("scan_past_pages"),
        _ => None,
    }
}

/// A backend being checked, reopenable in its directory.
struct KvSubject {
    target: KvTarget,
    /// Declared before `dir`, so it is dropped (closed) first: a backend whose directory is
    /// removed while it is open fails in its background work (fjall's flush workers did,
    /// once its small-memtable configuration ran at this level).
    backend: Option<Box<dyn DynBackend>>,
    dir: tempfile::TempDir,
}

fn to_batch(writes: &[KvWrite]) -> WriteBatch {
    let mut b = WriteBatch::new();
    for w in writes {
        match w {
            KvWrite::Put(k, v) => b.put(k.clone(), v.clone()),
            KvWrite::Delete(k) => b.delete(k.clone()),
            KvWrite::DeleteRange(a, z) => b.delete_range(a.clone(), z.clone()),
            KvWrite::Fill { .. } => {
                for (k, v) in w.fill_entries() {
                    b.put(k, v);
                }
            }
        }
    }
    b
}

fn apply(backend: &dyn DynBackend, op: &KvOp) -> KvOutcome {
    let r = match op {
        KvOp::Write(w) => backend.write(&to_batch(w)).map(|_| KvOutcome::Unit),
        KvOp::Get(k) => backend.get(k).map(KvOutcome::Value),
        KvOp::Scan {
            start,
            end,
            reverse,
            limit,
        } => backend
            .scan(start, end.as_deref(), *reverse, *limit)
            .map(KvOutcome::Entries),
        KvOp::Flush => backend.flush().map(|_| KvOutcome::Unit),
        KvOp::Reopen => Ok(KvOutcome::Unit),
    };
    r.unwrap_or_else(|e| KvOutcome::Err(e.kind))
}

impl KvSubject {
    /// The backend's structural counters now (none when it is closed or cannot tell; a panic
    /// or an error counts as none: the case's outcomes are what is checked).
    fn structure(&self) -> Vec<(&'static str, u64)> {
        let Some(b) = self.backend.as_deref() else {
            return Vec::new();
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.structure()))
            .ok()
            .and_then(|r| r.ok())
            .unwrap_or_default()
    }

    fn step(&mut self, op: &KvOp) -> KvOutcome {
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if *op == KvOp::Reopen {
                self.backend = None;
            }
            if self.backend.is_none() {
                match self.target.open(self.dir.path()) {
                    Ok(b) => self.backend = Some(b),
                    Err(e) => return KvOutcome::Err(e.kind),
                }
            }
            match &self.backend {
                Some(b) => apply(b.as_ref(), op),
                None => KvOutcome::Err(ErrorKind::Io),
            }
        }));
        res.unwrap_or_else(|p| {
            self.backend = None;
            KvOutcome::Panic(
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            )
        })
    }
}

/// The first step where some backend disagreed with the `BTreeMap`: `(index, outcomes)`,
/// the reference first.
pub type KvFinding = (usize, Vec<(String, KvOutcome)>);

/// Runs `ops` on fresh stores of `targets` and on a `BTreeMap`, stopping at the first step
/// whose outcomes differ. `Err` only when a store cannot be set up at all.
pub fn run(
    ops: &[KvOp],
    targets: &[KvTarget],
    tmp: Option<&Path>,
) -> Result<CaseRun<KvFinding>, String> {
    run_watched(ops, targets, tmp, None)
}

/// [`run`], saying each step and backend on `beat` as it runs (for the watchdog's op budget).
pub fn run_watched(
    ops: &[KvOp],
    targets: &[KvTarget],
    tmp: Option<&Path>,
    beat: Option<&Beat>,
) -> Result<CaseRun<KvFinding>, String> {
    let reference = BTreeBackend::new();
    let mut subjects = Vec::new();
    for t in targets {
        let dir = scratch::tempdir(tmp).map_err(|e| format!("temp dir: {e}"))?;
        let backend = t
            .open(dir.path())
            .map_err(|e| format!("{}: open: {e}", t.label))?;
        subjects.push(KvSubject {
            target: t.clone(),
            dir,
            backend: Some(backend),
        });
    }
    let mut run = CaseRun::new(subjects.len());
    for (i, op) in ops.iter().enumerate() {
        beat.inspect(|b| b.op(None, i));
        let reached = write_reach(&reference, op);
        let expected = apply(&reference, op);
        for r in reached.into_iter().chain(scan_reach(&expected)) {
            *run.reach.entry(r).or_default() += 1;
        }
        *run.op_kinds.entry(kind(op)).or_default() += 1;
        if let KvOutcome::Err(k) = expected {
            *run.error_kinds.entry(k).or_default() += 1;
        }
        let mut outcomes = Vec::with_capacity(subjects.len());
        for (j, (s, lat)) in subjects
            .iter_mut()
            .zip(run.latencies.iter_mut())
            .enumerate()
        {
            beat.inspect(|b| b.op(Some(j), i));
            let start = Instant::now();
            outcomes.push(s.step(op));
            lat.entry(kind(op))
                .or_default()
                .push(start.elapsed().as_nanos() as u64);
        }
        beat.inspect(|b| b.idle());
        run.ops_run = i + 1;
        if outcomes.iter().any(|o| *o != expected) {
            let mut all = vec![("btree".to_string(), expected)];
            all.extend(
                subjects
                    .iter()
                    .map(|s| s.target.label.clone())
                    .zip(outcomes),
            );
            run.finding = Some((i, all));
            return Ok(run);
        }
    }
    run.structure = subjects
        .iter()
        .map(|s| (s.target.label.clone(), s.structure()))
        .collect();
    Ok(run)
}

/// Format version of KV repro files.
pub const KV_REPRO_VERSION: u32 = 1;

/// A replayable failing KV sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KvRepro {
    /// Format version ([`KV_REPRO_VERSION`]).
    pub kv_version: u32,
    /// Seed of the run that found it.
    pub seed: u64,
    /// Case index within that run.
    pub case: u64,
    /// Backends that disagreed with the `BTreeMap`.
    pub backends: Vec<String>,
    /// The KV bug deliberately injected when this was found.
    #[serde(default)]
    pub inject: Option<String>,
    /// The shrunk sequence.
    pub ops: Vec<KvOp>,
    /// What was seen when it was written.
    pub finding: Option<KvFinding>,
    /// The shrunk sequence no longer disagreed when run again (`ops` is then unshrunk).
    #[serde(default)]
    pub flaky: bool,
    /// Set when the case hung or ran away instead of disagreeing (`finding` is then `None`).
    #[serde(default)]
    pub stall: Option<StallFinding>,
}

impl KvRepro {
    /// The repro as RON text.
    pub fn to_ron(&self) -> String {
        crate::run::repro::to_ron(self)
    }

    /// Parses a KV repro file's text.
    pub fn from_ron(text: &str) -> Result<Self, String> {
        crate::run::repro::from_ron_versioned(
            text,
            "KV ",
            |r: &KvRepro| r.kv_version,
            KV_REPRO_VERSION,
        )
    }

    /// Writes the repro into `dir` (created if needed); returns its path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, String> {
        let name = format!(
            "kv-{}-seed{}-case{}",
            self.backends.join("+"),
            self.seed,
            self.case
        );
        crate::run::repro::write_repro(dir, &name, &self.to_ron())
    }
}

impl ReproText for KvRepro {
    fn ops_len(&self) -> usize {
        self.ops.len()
    }
    fn describe(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        for (i, op) in self.ops.iter().enumerate() {
            let _ = writeln!(
                s,
                "    {i:>3}: {}",
                crate::run::text::abbreviate(&format!("{op:?}"))
            );
        }
        if let Some((at, outcomes)) = &self.finding {
            let _ = writeln!(s, "    outcomes of step {at}:");
            for (name, o) in outcomes {
                let _ = writeln!(
                    s,
                    "      {name:<8} {}",
                    crate::run::text::abbreviate(&format!("{o:?}"))
                );
            }
        }
        s
    }
}
