//! The crash workload and its marks: the calls a child process makes on the store, and the
//! account it gives of them, line by line, in the marks file (in order with the store's
//! events when the recorder is loaded).
//!
//! The calls are [`SEGMENTS`] of the concurrent mode's writer (`model::reads::writer`: an
//! opening full sync of 160 grants in batches of 40, then an aimed case with re-syncs,
//! if-newer puts, deletes, cleanup, diffs and clones), then a fixed finale that does each of
//! those once more (a re-sync with if-newer puts that replace half and skip half, a delete,
//! a diff, a clone, a cleanup), with a `flush()` after every [`FLUSH_EVERY`] calls, so that
//! each crash state has a short window of calls that may or may not have landed.
//!
//! Marks, one per line: `t <tid>` (the workload's thread), `b <j> <n>` before call `j`, with
//! `n` sync ids drawn so far (so that a replay which leaves out a failed call that drew an
//! id draws the same ids after it as the child did),
//! `o <j> [<created sync id>…]` when it returned `Ok`, `e <j> <ErrorKind>` or `p <j>`
//! (panicked) otherwise, `f <j>` when call `j` was a `flush()` that returned `Ok`, `stop <j>`
//! when the child gave up after repeated errors, `open-failed <ErrorKind>` when the store did
//! not open, and `closed` once the store was dropped.

use std::io::Write;
use std::path::Path;

use crate::model::ops::Op;
use crate::run::outcome::{Outcome, Value};
use crate::run::runner::{note_created, Context};
use syncproof_engine::{ErrorKind, StorageEngine, SyncId};

/// A `flush()` after this many calls.
pub const FLUSH_EVERY: usize = 3;
/// Calls drawn for the aimed part of the workload (the opening comes on top).
pub const DEFAULT_MAX_OPS: usize = 40;
/// The child stops after this many calls in a row failed with `Io`: its store is broken,
/// and each further failed call would only widen the window of calls the check must try.
pub const STOP_AFTER_IO_ERRORS: usize = 3;

/// Which workload: the seed and case index it is generated from, and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Workload {
    /// The seed of the cases drawn.
    pub seed: u64,
    /// Which of the seed's workloads.
    pub index: u64,
    /// Calls drawn for each writer segment's aimed part.
    pub max_ops: usize,
}

impl Workload {
    /// Its calls, in order.
    pub fn ops(&self) -> Vec<Op> {
        let mut calls = Vec::new();
        for s in 0..SEGMENTS {
            calls.extend(crate::model::reads::writer(
                self.seed,
                self.index * SEGMENTS + s,
                self.max_ops,
            ));
        }
        calls.extend(finale());
        let mut out = Vec::new();
        let mut since = 0;
        for op in calls {
            let flush = matches!(op, Op::Flush);
            out.push(op);
            since = if flush { 0 } else { since + 1 };
            if since == FLUSH_EVERY {
                out.push(Op::Flush);
                since = 0;
            }
        }
        out.push(Op::Flush);
        out
    }

    /// The seed the store's clock and ids are drawn from, in the child and in the oracle.
    pub fn store_seed(&self) -> u64 {
        self.seed ^ self.index.rotate_left(17)
    }
}

/// Writer segments per workload.
pub const SEGMENTS: u64 = 3;

/// The workload's last calls: each kind of write once more, whatever the segments drew.
fn finale() -> Vec<Op> {
    use crate::model::ops::SyncRef;
    use crate::model::universe::discovered;
    use syncproof_engine::contract::{grant, Discovered};
    use syncproof_engine::{PutMode, RecordBatch, SyncType};
    let grants = |at: &dyn Fn(usize) -> u8| {
        RecordBatch::Grants(
            (0..30)
                .map(|i| {
                    grant(&format!("f{i:04}"), "member", "group", "eng", "user", "a")
                        .discovered(discovered(at(i)))
                })
                .collect(),
        )
    };
    vec![
        Op::EndSync,
        Op::StartNewSync {
            sync_type: SyncType::Full,
            parent: None,
        },
        Op::Put {
            batch: grants(&|_| 1),
            mode: PutMode::Replace,
        },
        Op::Put {
            batch: grants(&|i| if i % 2 == 0 { 0 } else { 2 }),
            mode: PutMode::IfNewer,
        },
        Op::DeleteGrant("f0003".into()),
        Op::EndSync,
        Op::Diff {
            base: SyncRef::Nth(0),
            applied: SyncRef::Nth(1),
        },
        Op::CloneSync(SyncRef::Nth(0)),
        Op::Cleanup { keep: 1 },
    ]
}

/// Whether `op` changes what the store holds (not only the handle's state or nothing): the
/// calls a crash may lose. Handle state (`set_current_sync`, `view_sync`), the clock and
/// reads are always replayed.
pub fn changes_store(op: &Op) -> bool {
    matches!(
        op,
        Op::StartSync
            | Op::StartNewSync { .. }
            | Op::CheckpointSync(_)
            | Op::EndSync
            | Op::Put { .. }
            | Op::DeleteGrant(_)
            | Op::Cleanup { .. }
            | Op::Diff { .. }
            | Op::PutAsset(_)
    )
}

fn kind_name(k: ErrorKind) -> String {
    format!("{k:?}")
}

/// The child: runs `w` on the store at `dir` and writes its marks to `marks`. Returns when
/// the workload is done (or stopped after repeated `Io` errors) and the store is dropped.
pub fn run_child(
    engines: &super::Engines,
    label: &str,
    dir: &Path,
    w: Workload,
    marks: &Path,
) -> Result<(), String> {
    let opener = engines.open(label)?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(marks)
        .map_err(|e| format!("{}: {e}", marks.display()))?;
    let mut mark = |line: String| -> Result<(), String> {
        out.write_all(line.as_bytes())
            .map_err(|e| format!("marks: {e}"))
    };
    mark(format!("t {}\n", unsafe { libc::gettid() }))?;
    let mut cx = Context::new(opener.as_ref(), w.store_seed(), None);
    let engine: Box<dyn StorageEngine> = match opener.open(dir, cx.config()) {
        Ok(e) => e,
        Err(e) => {
            // An injected error may hit the open itself: that is the call that must fail.
            mark(format!("open-failed {}\n", kind_name(e.kind)))?;
            return Ok(());
        }
    };
    let mut created: Vec<SyncId> = Vec::new();
    let mut io_errors = 0;
    for (j, op) in w.ops().iter().enumerate() {
        mark(format!("b {j} {}\n", cx.ids_drawn()))?;
        let got = cx.apply(engine.as_ref(), op, &created);
        match &got {
            Outcome::Ok(v) => {
                let before = created.len();
                note_created(&mut created, &got);
                let ids: Vec<&str> = created
                    .get(before..)
                    .unwrap_or_default()
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                let mut line = format!("o {j}");
                for id in ids {
                    line.push(' ');
                    line.push_str(id);
                }
                mark(line + "\n")?;
                if matches!(op, Op::Flush) && matches!(**v, Value::Unit) {
                    mark(format!("f {j}\n"))?;
                }
                io_errors = 0;
            }
            Outcome::Err(kind, _) => {
                mark(format!("e {j} {}\n", kind_name(*kind)))?;
                if *kind == ErrorKind::Io {
                    io_errors += 1;
                    if io_errors == STOP_AFTER_IO_ERRORS {
                        mark(format!("stop {j}\n"))?;
                        break;
                    }
                }
            }
            Outcome::Panic(_) | Outcome::Incoherent(_) => {
                mark(format!("p {j}\n"))?;
                break;
            }
        }
    }
    drop(engine);
    mark("closed\n".into())?;
    Ok(())
}

/// How one call ended, as the child marked it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It returned `Ok`.
    Ok,
    /// It returned an error of this kind.
    Err(String),
    /// It panicked.
    Panicked,
}

/// The child's account of its calls up to a crash point.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The workload's thread id.
    pub tid: Option<i64>,
    /// Sync ids drawn before each call began, by index (from the `b` marks).
    pub ids_before: Vec<(usize, u64)>,
    /// Calls begun.
    pub begun: usize,
    /// How each call that ended did, by index.
    pub ended: Vec<(usize, Ended)>,
    /// The sync ids each call that returned `Ok` created, by index.
    pub created: Vec<(usize, Vec<SyncId>)>,
    /// Calls before the last `flush()` that returned `Ok`: acknowledged as durable.
    pub durable: usize,
    /// The store was dropped (closed).
    pub closed: bool,
    /// The child stopped after repeated `Io` errors.
    pub stopped: bool,
    /// The store did not open, with this error kind.
    pub open_failed: Option<String>,
}

impl Timeline {
    /// Reads mark lines (a last line without its newline is ignored: the writer was cut).
    pub fn parse(marks: &str) -> Result<Timeline, String> {
        let mut t = Timeline::default();
        let whole = marks.rfind('\n').map_or(0, |i| i + 1);
        for line in marks.get(..whole).unwrap_or_default().lines() {
            t.add(line)?;
        }
        Ok(t)
    }

    /// Adds one mark line.
    pub fn add(&mut self, line: &str) -> Result<(), String> {
        let parts: Vec<&str> = line.split(' ').collect();
        let num = |s: Option<&&str>| -> Result<usize, String> {
            s.and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad mark line {line:?}"))
        };
        match parts.first().copied() {
            Some("t") => self.tid = Some(num(parts.get(1))? as i64),
            Some("b") => {
                let j = num(parts.get(1))?;
                self.begun = j + 1;
                // Older marks have no position.
                if parts.get(2).is_some() {
                    self.ids_before.push((j, num(parts.get(2))? as u64));
                }
            }
            Some("o") => {
                let j = num(parts.get(1))?;
                self.ended.push((j, Ended::Ok));
                let ids: Vec<SyncId> = parts.iter().skip(2).map(|s| SyncId::new(*s)).collect();
                if !ids.is_empty() {
                    self.created.push((j, ids));
                }
            }
            Some("e") => {
                let j = num(parts.get(1))?;
                let kind = parts.get(2).copied().unwrap_or("?").to_string();
                self.ended.push((j, Ended::Err(kind)));
            }
            Some("p") => self.ended.push((num(parts.get(1))?, Ended::Panicked)),
            Some("f") => self.durable = num(parts.get(1))? + 1,
            Some("stop") => self.stopped = true,
            Some("open-failed") => {
                self.open_failed = Some(parts.get(1).copied().unwrap_or("?").to_string())
            }
            Some("closed") => self.closed = true,
            _ => return Err(format!("bad mark line {line:?}")),
        }
        Ok(())
    }

    /// Sync ids the child had drawn when call `j` began, if it marked them.
    pub fn ids_before(&self, j: usize) -> Option<u64> {
        self.ids_before
            .iter()
            .find(|(i, _)| *i == j)
            .map(|(_, n)| *n)
    }

    /// How call `j` ended, if it did.
    pub fn ended(&self, j: usize) -> Option<&Ended> {
        self.ended.iter().find(|(i, _)| *i == j).map(|(_, e)| e)
    }

    /// The sync ids created by the calls before `j`, as the child saw them.
    pub fn created_before(&self, j: usize) -> Vec<SyncId> {
        self.created
            .iter()
            .filter(|(i, _)| *i < j)
            .flat_map(|(_, ids)| ids.iter().cloned())
            .collect()
    }

    /// The calls a crash state must hold: before the last acknowledged flush, or all of them
    /// once the store was closed without any call failing.
    pub fn required(&self) -> usize {
        let failed = self
            .ended
            .iter()
            .any(|(_, e)| matches!(e, Ended::Err(k) if k == "Io") || *e == Ended::Panicked);
        if self.closed && !failed {
            self.begun
        } else {
            self.durable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_flushes_every_few_calls_and_changes_the_store() {
        let w = Workload {
            seed: 7,
            index: 0,
            max_ops: DEFAULT_MAX_OPS,
        };
        let ops = w.ops();
        assert_eq!(ops, w.ops(), "deterministic");
        let mut since = 0;
        for op in &ops {
            since = if matches!(op, Op::Flush) {
                0
            } else {
                since + 1
            };
            assert!(since <= FLUSH_EVERY);
        }
        let kinds: std::collections::BTreeSet<&str> = ops.iter().map(|o| o.kind()).collect();
        for k in ["put", "end_sync", "flush"] {
            assert!(kinds.contains(k), "{kinds:?}");
        }
    }

    #[test]
    fn marks_give_the_window() {
        let t = Timeline::parse("t 42\nb 0\no 0 s1\nb 1\no 1\nb 2\no 2\nf 2\nb 3\ne 3 Io\nb 4\n")
            .unwrap();
        assert_eq!(t.tid, Some(42));
        assert_eq!((t.required(), t.begun), (3, 5));
        assert_eq!(t.created_before(1), vec![SyncId::new("s1")]);
        assert_eq!(t.ended(3), Some(&Ended::Err("Io".into())));
        assert!(Timeline::parse("x 1\n").is_err());
        assert_eq!(
            Timeline::parse("b 0\nb 1").unwrap().begun,
            1,
            "a cut last line"
        );
        let closed = Timeline::parse("b 0\no 0\nclosed\n").unwrap();
        assert_eq!(closed.required(), 1);
    }
}
