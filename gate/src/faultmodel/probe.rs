//! The check of one crash state, run in a child process (`syncproof crash-probe`) so that an
//! engine that panics, aborts or hangs on it is contained: open the recovered store, read
//! everything it holds, and compare it with the oracle's states in the crash's window.
//!
//! The rule (SPEC §6): every call before the last acknowledged `flush()` is there; every
//! later call that began before the crash, and every call that failed with `Io`, is wholly
//! there or wholly absent. So the store must equal the oracle after the calls up to the
//! crash with some subset of those optional calls left out (each a state the oracle builds
//! by replaying the workload on the in-memory reference). Then `verify` must be clean and
//! the store must take new writes.

use crate::model::ops::Op;
use crate::run::runner::Context;
use syncproof_engine::page::{read_all, MAX_PAGE_SIZE};
use syncproof_engine::*;

use super::workload::{changes_store, Ended, Timeline, Workload};

/// Optional calls up to which every subset is tried (2^this replays at most); beyond it,
/// only prefixes are.
pub const MAX_SUBSET_CALLS: usize = 10;

/// Everything a store holds, as the contract reads it: each sync run with its stats and
/// every record of every kind.
pub type Dump = Vec<(SyncRun, Stats, Vec<Record>)>;

/// Reads `e` whole.
pub fn dump(e: &dyn StorageEngine) -> Result<Dump> {
    let mut out = Vec::new();
    for run in syncproof_engine::engine::all_sync_runs(e)? {
        let mut records = Vec::new();
        for q in [
            ListQuery::ResourceTypes,
            ListQuery::Resources(ResourceFilter::default()),
            ListQuery::Entitlements(EntitlementFilter::default()),
            ListQuery::Grants(GrantFilter::All),
        ] {
            records.extend(read_all(MAX_PAGE_SIZE, |req| {
                e.list(Some(&run.id), &q, req)
            })?);
        }
        let stats = e.stats(Some(&run.id))?;
        out.push((run, stats, records));
    }
    Ok(out)
}

/// What the probe found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    /// The store equals the oracle with these optional calls left out, verifies, and took
    /// new writes.
    Consistent {
        /// Optional calls in the window.
        optional: usize,
        /// Those the store does not hold.
        lost: Vec<usize>,
    },
    /// Opening or reading the recovered store failed.
    Unreadable(String),
    /// The store matches no state of the window.
    Inconsistent(String),
    /// `verify` found problems.
    VerifyFailed(String),
    /// The recovered store refused new writes.
    NoNewWrites(String),
}

impl Verdict {
    /// Whether the state is consistent.
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Consistent { .. })
    }
}

/// The workload with the child's clones kept in this engine (the probe replays it many
/// times; a clone across engines would open other engines on every replay).
pub fn ops(w: &Workload) -> Vec<Op> {
    w.ops()
        .into_iter()
        .map(|op| match op {
            Op::CloneAcross(s) => Op::CloneSync(s),
            op => op,
        })
        .collect()
}

/// The oracle after the calls before `t.begun`, with the calls in `skip` left out.
fn oracle(w: &Workload, ops: &[Op], t: &Timeline, skip: &[usize]) -> Result<Dump> {
    let opener = syncproof_memory::MemoryOpener::default();
    let mut cx = Context::new(&opener, w.store_seed(), None);
    let e = syncproof_memory::MemoryEngine::new(cx.config());
    let e: &dyn StorageEngine = &e;
    for (j, op) in ops.iter().enumerate().take(t.begun) {
        if skip.contains(&j) {
            continue;
        }
        // Each call draws the ids the child's did, even after a left-out call that drew one.
        if let Some(n) = t.ids_before(j) {
            cx.set_ids_drawn(n);
        }
        let _ = cx.apply(e, op, &t.created_before(j));
    }
    dump(e)
}

/// The calls of the window that may be absent.
pub fn optional(ops: &[Op], t: &Timeline) -> Vec<usize> {
    let required = t.required();
    (0..t.begun.min(ops.len()))
        .filter(|&j| ops.get(j).is_some_and(changes_store))
        .filter(|&j| {
            j >= required
                || matches!(t.ended(j), Some(Ended::Err(k)) if k == "Io")
                || t.ended(j).is_none()
        })
        .collect()
}

/// Sync runs and record counts of a dump, for messages.
fn outline(d: &Dump) -> String {
    d.iter()
        .map(|(r, _, recs)| {
            format!(
                "{}{} ({} records)",
                r.id,
                if r.ended_at.is_some() { "" } else { " open" },
                recs.len()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How `got` differs from `want`, briefly: per sync, records missing and extra.
fn difference(got: &Dump, want: &Dump) -> String {
    let mut out = Vec::new();
    for (run, _, recs) in want {
        match got.iter().find(|(r, _, _)| r.id == run.id) {
            None => out.push(format!("sync {} is missing", run.id)),
            Some((r, stats, have)) => {
                if r != run {
                    out.push(format!("sync run {} differs: {r:?} vs {run:?}", run.id));
                }
                let missing: Vec<&Record> = recs.iter().filter(|x| !have.contains(x)).collect();
                let extra: Vec<&Record> = have.iter().filter(|x| !recs.contains(x)).collect();
                if !missing.is_empty() || !extra.is_empty() {
                    let first = |v: &[&Record]| {
                        v.iter()
                            .take(3)
                            .map(|r| format!("{:?}", r.key()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    out.push(format!(
                        "sync {}: {} records missing ({}), {} unexpected ({})",
                        run.id,
                        missing.len(),
                        first(&missing),
                        extra.len(),
                        first(&extra)
                    ));
                } else if let Some((_, want_stats, _)) =
                    want.iter().find(|(r, _, _)| r.id == run.id)
                {
                    if stats != want_stats {
                        out.push(format!("stats of sync {} differ", run.id));
                    }
                }
            }
        }
    }
    for (run, _, _) in got {
        if !want.iter().any(|(r, _, _)| r.id == run.id) {
            out.push(format!("unexpected sync {}", run.id));
        }
    }
    out.join("; ")
}

/// Checks the recovered store `e` against the window `t` of workload `w`.
pub fn check(e: &dyn StorageEngine, w: &Workload, t: &Timeline) -> Verdict {
    let got = match dump(e) {
        Ok(d) => d,
        Err(err) => return Verdict::Unreadable(format!("reading the recovered store: {err}")),
    };
    let ops = ops(w);
    let optional = optional(&ops, t);
    // Subsets of the optional calls to leave out, the most likely first: none, then the last
    // ones (prefixes of the window), then every other subset while there are few enough.
    let m = optional.len();
    let mut skips: Vec<Vec<usize>> = (0..=m)
        .rev()
        .map(|cut| optional.get(cut..).unwrap_or_default().to_vec())
        .collect();
    if m <= MAX_SUBSET_CALLS {
        for mask in 0..1u32 << m {
            let skip: Vec<usize> = optional
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, j)| *j)
                .collect();
            if !skips.contains(&skip) {
                skips.push(skip);
            }
        }
    }
    let tried = skips.len();
    let mut lo_state = None;
    for skip in skips {
        let want = match oracle(w, &ops, t, &skip) {
            Ok(d) => d,
            Err(err) => return Verdict::Unreadable(format!("the oracle failed: {err}")),
        };
        if want == got {
            return match after_match(e) {
                Ok(()) => Verdict::Consistent {
                    optional: m,
                    lost: skip,
                },
                Err(v) => v,
            };
        }
        if skip.len() == m {
            lo_state = Some(want);
        }
    }
    let lo = lo_state.unwrap_or_default();
    Verdict::Inconsistent(format!(
        "the recovered store matches none of the {} states of the window (calls 0..{} must \
         be there, {} of the calls up to {} may be absent). Against the acknowledged state: \
         {}. Recovered: [{}]; acknowledged: [{}]",
        tried,
        t.required(),
        m,
        t.begun,
        difference(&got, &lo),
        outline(&got),
        outline(&lo),
    ))
}

/// After the store matched a state: `verify` is clean and new writes work.
fn after_match(e: &dyn StorageEngine) -> std::result::Result<(), Verdict> {
    match e.verify() {
        Ok(r) if r.problems.is_empty() => {}
        Ok(r) => {
            return Err(Verdict::VerifyFailed(format!(
                "{} problems, first: {}",
                r.problems.len(),
                r.problems.first().map(String::as_str).unwrap_or_default()
            )))
        }
        Err(err) => return Err(Verdict::VerifyFailed(err.to_string())),
    }
    let write = || -> Result<()> {
        let id = e.start_new_sync(SyncType::Full, None)?;
        e.put(
            &RecordBatch::Grants(vec![syncproof_engine::contract::grant(
                "after-crash",
                "member",
                "group",
                "eng",
                "user",
                "survivor",
            )]),
            PutMode::Replace,
        )?;
        e.end_sync()?;
        e.flush()?;
        let run = e.get_sync_run(&id)?;
        if run.is_none_or(|r| r.ended_at.is_none()) {
            return Err(Error::new(
                ErrorKind::Io,
                "the new sync is not there, ended, after flush",
            ));
        }
        Ok(())
    };
    write().map_err(|err| Verdict::NoNewWrites(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syncproof_engine::SyncType;

    /// A call that drew a sync id and then failed is left out of the oracle's replay; the
    /// next sync must still get the id the child's did (the marks carry the position), or
    /// the state would look as if it lost that sync.
    #[test]
    fn a_left_out_call_that_drew_an_id_does_not_shift_later_ids() {
        let w = Workload {
            seed: 3,
            index: 0,
            max_ops: 1,
        };
        let start = Op::StartNewSync {
            sync_type: SyncType::Full,
            parent: None,
        };
        let ops = vec![start.clone(), start];
        let ids = SeededIds::new(w.store_seed());
        let _drawn_by_the_failed_call = ids.next_id(Timestamp(0));
        let second = ids.next_id(Timestamp(0));
        let marks = format!("t 1\nb 0 0\ne 0 Io\nb 1 1\no 1 {second}\n");
        let t = Timeline::parse(&marks).unwrap();
        let state = oracle(&w, &ops, &t, &[0]).unwrap();
        let runs: Vec<&SyncId> = state.iter().map(|(r, _, _)| &r.id).collect();
        assert_eq!(runs, vec![&second]);
        // Without the positions (older marks), the replay draws the first id instead.
        let t = Timeline::parse(&format!("t 1\nb 0\ne 0 Io\nb 1\no 1 {second}\n")).unwrap();
        let state = oracle(&w, &ops, &t, &[0]).unwrap();
        assert_ne!(state.first().map(|(r, _, _)| &r.id), Some(&second));
    }
}
