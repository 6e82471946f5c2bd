//! The key-value level: generated sequences of atomic batches (puts, deletes, range deletes),
//! point gets, bounded scans both ways, flushes and reopens, run on every `KvBackend` and on a
//! `BTreeMap` backend, compared step by step.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use syncproof_engine::kv::{BTreeBackend, DynBackend, WriteBatch};
use syncproof_engine::ErrorKind;

use crate::check::Options;
use crate::engines::{self, KvOpen};
use crate::shrink::shrink_seq;

/// One write inside an atomic batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, arbitrary::Arbitrary)]
pub enum KvWrite {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    DeleteRange(Vec<u8>, Vec<u8>),
}

/// One step of a KV sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, arbitrary::Arbitrary)]
pub enum KvOp {
    Write(Vec<KvWrite>),
    Get(Vec<u8>),
    Scan {
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        reverse: bool,
        limit: usize,
    },
    Flush,
    Reopen,
}

/// What a step returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOutcome {
    Unit,
    Value(Option<Vec<u8>>),
    Entries(Vec<(Vec<u8>, Vec<u8>)>),
    Err(ErrorKind),
    Panic(String),
}

/// Keys that sort next to each other in every interesting way (never empty: the KV layer
/// only writes keys that start with a version byte).
const KEYS: &[&[u8]] = &[
    b"\x00",
    b"\x00\x00",
    b"\x00\x01",
    b"a",
    b"a\x00",
    b"a\x00\x01",
    b"ab",
    b"b",
    b"\xff",
    b"\xff\xff",
    b"\x01\x13sync\x00\x01",
];

fn key() -> impl Strategy<Value = Vec<u8>> {
    select(KEYS).prop_map(<[u8]>::to_vec)
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 1..16),
        Just(vec![7u8; 5000])
    ]
}

fn write() -> impl Strategy<Value = KvWrite> {
    prop_oneof![
        4 => (key(), value()).prop_map(|(k, v)| KvWrite::Put(k, v)),
        2 => key().prop_map(KvWrite::Delete),
        1 => (key(), key()).prop_map(|(a, b)| KvWrite::DeleteRange(a, b)),
    ]
}

fn op() -> impl Strategy<Value = KvOp> {
    prop_oneof![
        5 => prop::collection::vec(write(), 1..6).prop_map(KvOp::Write),
        3 => key().prop_map(KvOp::Get),
        3 => (key(), prop::option::of(key()), any::<bool>(), select(&[0usize, 1, 2, 5, 100][..]))
            .prop_map(|(start, end, reverse, limit)| KvOp::Scan { start, end, reverse, limit }),
        1 => Just(KvOp::Flush),
        1 => Just(KvOp::Reopen),
    ]
}

/// Sequence `index` of the run with `seed`.
pub fn case(seed: u64, index: u64, max_ops: usize) -> Vec<KvOp> {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&index.to_le_bytes());
    bytes[16] = 0x4b;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    prop::collection::vec(op(), 1..max_ops.max(2))
        .new_tree(&mut runner)
        .map(|t| t.current())
        .unwrap_or_default()
}

/// A backend being checked, reopenable in its directory.
struct KvSubject {
    open: KvOpen,
    dir: tempfile::TempDir,
    backend: Option<Box<dyn DynBackend>>,
}

fn to_batch(writes: &[KvWrite]) -> WriteBatch {
    let mut b = WriteBatch::new();
    for w in writes {
        match w {
            KvWrite::Put(k, v) => b.put(k.clone(), v.clone()),
            KvWrite::Delete(k) => b.delete(k.clone()),
            KvWrite::DeleteRange(a, z) => b.delete_range(a.clone(), z.clone()),
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
    fn step(&mut self, op: &KvOp) -> KvOutcome {
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if *op == KvOp::Reopen {
                self.backend = None;
            }
            if self.backend.is_none() {
                match (self.open)(self.dir.path()) {
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

/// The first step where some backend disagreed with the `BTreeMap`: `(index, outcomes)`.
pub type KvFinding = (usize, Vec<(String, KvOutcome)>);

/// Runs `ops` on fresh stores of `backends` and on a `BTreeMap`.
pub fn run(
    ops: &[KvOp],
    backends: &[(&'static str, KvOpen)],
    tmp: Option<&Path>,
) -> Result<Option<KvFinding>, String> {
    let reference = BTreeBackend::new();
    let mut subjects = Vec::new();
    for (name, open) in backends {
        let dir = match tmp {
            Some(t) => tempfile::tempdir_in(t),
            None => tempfile::tempdir(),
        }
        .map_err(|e| format!("temp dir: {e}"))?;
        let backend = open(dir.path()).map_err(|e| format!("{name}: open: {e}"))?;
        subjects.push((
            *name,
            KvSubject {
                open: *open,
                dir,
                backend: Some(backend),
            },
        ));
    }
    for (i, op) in ops.iter().enumerate() {
        let expected = apply(&reference, op);
        let outcomes: Vec<KvOutcome> = subjects.iter_mut().map(|(_, s)| s.step(op)).collect();
        if outcomes.iter().any(|o| *o != expected) {
            let mut all = vec![("btree".to_string(), expected)];
            all.extend(subjects.iter().map(|(n, _)| n.to_string()).zip(outcomes));
            return Ok(Some((i, all)));
        }
    }
    Ok(None)
}

/// A KV-level run.
pub struct KvReport {
    pub seed: u64,
    pub backends: Vec<&'static str>,
    pub cases_run: u64,
    pub ops_run: u64,
    pub elapsed_secs: f64,
    pub op_kinds: BTreeMap<&'static str, u64>,
    pub failure: Option<(u64, Vec<KvOp>, KvFinding)>,
    pub setup_errors: Vec<String>,
}

fn kind(op: &KvOp) -> &'static str {
    match op {
        KvOp::Write(w) if w.iter().any(|w| matches!(w, KvWrite::DeleteRange(..))) => {
            "write_with_range_delete"
        }
        KvOp::Write(_) => "write",
        KvOp::Get(_) => "get",
        KvOp::Scan { reverse: true, .. } => "scan_reverse",
        KvOp::Scan { .. } => "scan",
        KvOp::Flush => "flush",
        KvOp::Reopen => "reopen",
    }
}

/// Runs the KV level on every key-value engine of the registry.
pub fn check(o: &Options) -> KvReport {
    let start = Instant::now();
    let backends: Vec<(&'static str, KvOpen)> = engines::all()
        .into_iter()
        .filter_map(|e| e.kv.map(|k| (e.name, k)))
        .collect();
    let indices: Vec<u64> = (0..o.cases)
        .filter(|i| i % o.shard.count == o.shard.index)
        .collect();
    let stop = AtomicBool::new(false);
    let acc = Mutex::new((0u64, 0u64, BTreeMap::new(), Vec::new()));
    let found: Mutex<Option<(u64, Vec<KvOp>, KvFinding)>> = Mutex::new(None);
    indices.par_iter().for_each(|&i| {
        if stop.load(Ordering::Relaxed) || o.time_budget.is_some_and(|b| start.elapsed() >= b) {
            return;
        }
        let ops = case(o.seed, i, o.max_ops);
        match run(&ops, &backends, o.tmp.as_deref()) {
            Err(e) => {
                acc.lock().unwrap_or_else(|e| e.into_inner()).3.push(e);
                stop.store(true, Ordering::Relaxed);
            }
            Ok(finding) => {
                {
                    let mut a = acc.lock().unwrap_or_else(|e| e.into_inner());
                    a.0 += 1;
                    let ran = finding.as_ref().map_or(ops.len(), |(at, _)| at + 1);
                    a.1 += ran as u64;
                    for op in &ops[..ran] {
                        *a.2.entry(kind(op)).or_insert(0u64) += 1;
                    }
                }
                if let Some(f) = finding {
                    let mut slot = found.lock().unwrap_or_else(|e| e.into_inner());
                    if slot.as_ref().is_none_or(|(j, _, _)| i < *j) {
                        *slot = Some((i, ops, f));
                    }
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
    });
    let (cases_run, ops_run, op_kinds, setup_errors) =
        acc.into_inner().unwrap_or_else(|e| e.into_inner());
    let failure =
        found
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .map(|(case, ops, finding)| {
                let culprits: Vec<(&'static str, KvOpen)> = backends
                    .iter()
                    .copied()
                    .filter(|(n, _)| {
                        finding
                            .1
                            .iter()
                            .any(|(m, out)| m == n && *out != finding.1[0].1)
                    })
                    .collect();
                let mut fails = |c: &[KvOp]| {
                    run(c, &culprits, o.tmp.as_deref())
                        .ok()
                        .flatten()
                        .map(|(at, _)| at)
                };
                let shrunk = shrink_seq(ops, &mut fails);
                let finding = run(&shrunk, &culprits, o.tmp.as_deref())
                    .ok()
                    .flatten()
                    .unwrap_or(finding);
                (case, shrunk, finding)
            });
    KvReport {
        seed: o.seed,
        backends: backends.iter().map(|(n, _)| *n).collect(),
        cases_run,
        ops_run,
        elapsed_secs: start.elapsed().as_secs_f64(),
        op_kinds,
        failure,
        setup_errors,
    }
}

impl KvReport {
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.setup_errors.is_empty()
    }

    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "syncproof check --level kv: seed {}: {} sequences, {} ops on {} against a BTreeMap in {:.1}s",
            self.seed,
            self.cases_run,
            self.ops_run,
            self.backends.join(", "),
            self.elapsed_secs
        );
        let _ = writeln!(
            s,
            "  coverage: {}",
            self.op_kinds
                .iter()
                .map(|(k, n)| format!("{k}={n}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for e in &self.setup_errors {
            let _ = writeln!(s, "  SETUP ERROR {e}");
        }
        if let Some((case, ops, (at, outcomes))) = &self.failure {
            let _ = writeln!(
                s,
                "  DISAGREEMENT in case {case}, shrunk to {} steps:",
                ops.len()
            );
            for (i, op) in ops.iter().enumerate() {
                let _ = writeln!(s, "    {i:>3}: {op:?}");
            }
            let _ = writeln!(s, "    outcomes of step {at}:");
            for (name, o) in outcomes {
                let _ = writeln!(s, "      {name:<8} {o:?}");
            }
        }
        let _ = writeln!(s, "{}", if self.passed() { "PASSED" } else { "FAILED" });
        s
    }
}
