//! Shrinking a failing sequence to a minimal one: cut everything after the first
//! disagreement, remove chunks of ops (halving the chunk size down to single ops, as in delta
//! debugging) while the sequence still fails, then remove chunks of records from put batches
//! the same way (at the KV level: writes from batches, and keys and value bytes from fills).

use crate::model::kv::{KvOp, KvWrite};
use crate::model::ops::Op;
use syncproof_engine::{Record, RecordBatch};

/// Most candidate runs one shrink may spend.
pub const MAX_ATTEMPTS: usize = 3_000;

/// Cuts after the first disagreement and removes chunks of any kind of step while the
/// sequence still fails. `fails` returns the index of the first disagreeing step, if any.
pub fn shrink_seq<T: Clone>(ops: Vec<T>, fails: &mut dyn FnMut(&[T]) -> Option<usize>) -> Vec<T> {
    let mut attempts = 0;
    let mut best = ops;
    let Some(at) = fails(&best) else { return best };
    best.truncate(at + 1);
    // Chunk removal, from large chunks to single steps, repeated until nothing more goes;
    // each smaller sequence that still fails is cut after its first disagreement.
    loop {
        let before = best.len();
        best = remove_chunks(best, &mut attempts, &mut |c| fails(c).map(|at| at + 1));
        if best.len() == before || attempts >= MAX_ATTEMPTS {
            return best;
        }
    }
}

/// Removes chunks of `items` (halves, then quarters, down to single items, as in delta
/// debugging) while `keeps` accepts the smaller list: `Some(n)` keeps its first `n` items,
/// `None` rejects it. Never empties the list. Counts each try in `attempts` and stops at
/// [`MAX_ATTEMPTS`]. The concurrent shrink uses it for writers and readers' scripts.
pub(crate) fn remove_chunks<T: Clone>(
    mut items: Vec<T>,
    attempts: &mut usize,
    keeps: &mut dyn FnMut(&[T]) -> Option<usize>,
) -> Vec<T> {
    let mut chunk = (items.len() / 2).max(1);
    loop {
        let mut i = items.len();
        while i > 0 && *attempts < MAX_ATTEMPTS {
            let start = i.saturating_sub(chunk);
            let mut candidate = items.clone();
            candidate.drain(start..i);
            if !candidate.is_empty() {
                *attempts += 1;
                if let Some(n) = keeps(&candidate) {
                    candidate.truncate(n);
                    items = candidate;
                    i = start.min(items.len());
                    continue;
                }
            }
            i = start;
        }
        if chunk == 1 || *attempts >= MAX_ATTEMPTS {
            return items;
        }
        chunk /= 2;
    }
}

/// The labels whose outcome differs from the reference's (the first of `outcomes`): the
/// engines to shrink against. When none differs (the reference itself failed), every label but
/// the reference's.
pub fn culprits<T: PartialEq>(outcomes: &[(String, T)]) -> Vec<String> {
    let Some(((_, expected), rest)) = outcomes.split_first() else {
        return Vec::new();
    };
    let differing: Vec<String> = rest
        .iter()
        .filter(|(_, o)| o != expected)
        .map(|(l, _)| l.clone())
        .collect();
    if differing.is_empty() {
        rest.iter().map(|(l, _)| l.clone()).collect()
    } else {
        differing
    }
}

/// A shrinker: [`shrink_seq`], or [`shrink`] for API-level ops.
pub type ShrinkFn<O> = fn(Vec<O>, &mut dyn FnMut(&[O]) -> Option<usize>) -> Vec<O>;

/// A failing case after shrinking.
pub struct Shrunk<O, F> {
    /// The shrunk sequence, or the unshrunk one when the shrunk one did not fail again.
    pub ops: Vec<O>,
    /// What the kept sequence showed.
    pub finding: F,
    /// Whether the shrunk sequence failed again when re-run (`false`: a flaky engine).
    pub reproduced: bool,
}

/// Shrinks `ops`, which failed with `finding` at step `at(&finding)`, with `shrink`, then runs
/// the result once more through `again` (a candidate's finding on the culprits, if it fails).
/// When the case (cut after its failing step) or the shrunk sequence no longer fails, the
/// engine is flaky: the unshrunk case, cut after its failing step, is kept with the original
/// finding, and `reproduced` says so. The case is tried first, so a flaky engine costs one
/// run, not a whole shrink whose every candidate passes.
pub fn shrink_confirmed<O: Clone, F>(
    ops: Vec<O>,
    finding: F,
    at: fn(&F) -> usize,
    shrink: ShrinkFn<O>,
    again: &dyn Fn(&[O]) -> Option<F>,
) -> Shrunk<O, F> {
    let mut cut = ops;
    cut.truncate(at(&finding) + 1);
    let flaky = |ops: Vec<O>, finding: F| Shrunk {
        ops,
        finding,
        reproduced: false,
    };
    if again(&cut).is_none() {
        return flaky(cut, finding);
    }
    let shrunk = shrink(cut.clone(), &mut |c: &[O]| again(c).map(|f| at(&f)));
    match again(&shrunk) {
        Some(finding) => Shrunk {
            ops: shrunk,
            finding,
            reproduced: true,
        },
        None => flaky(cut, finding),
    }
}

/// [`shrink_seq`], then fewer records per put batch (chunks of records first, so a batch of
/// a thousand records that must keep a hundred shrinks in tens of tries, not a thousand).
pub fn shrink(ops: Vec<Op>, fails: &mut dyn FnMut(&[Op]) -> Option<usize>) -> Vec<Op> {
    let mut best = shrink_seq(ops, fails);
    let mut attempts = 0;
    for i in 0..best.len() {
        let Some(Op::Put { batch, mode }) = best.get(i).cloned() else {
            continue;
        };
        if batch.len() <= 1 {
            continue;
        }
        let with = |records: &[Record]| {
            let mut smaller = RecordBatch::empty(batch.kind());
            for r in records {
                let _ = smaller.push(r.clone());
            }
            Op::Put {
                batch: smaller,
                mode,
            }
        };
        let mut shortest: Option<Vec<Op>> = None;
        remove_chunks(batch.to_records(), &mut attempts, &mut |records| {
            let mut candidate = best.clone();
            if let Some(op) = candidate.get_mut(i) {
                *op = with(records);
            }
            match fails(&candidate) {
                Some(at) if at >= i => {
                    candidate.truncate(at + 1);
                    shortest = Some(candidate);
                    Some(records.len())
                }
                _ => None,
            }
        });
        // The last candidate that still failed holds exactly the records kept.
        if let Some(found) = shortest {
            best = found;
        }
    }
    best
}

/// [`shrink_seq`] for the KV level, then fewer writes per batch (chunk removal, as for
/// records), then smaller fills: the fewest keys, then the fewest value bytes, that still
/// fail, each found by bisection (a fill that fails with `n` keys is assumed to fail with
/// more, as every planted and real bug so far does; a count where it passes is never kept).
pub fn shrink_kv(ops: Vec<KvOp>, fails: &mut dyn FnMut(&[KvOp]) -> Option<usize>) -> Vec<KvOp> {
    let mut best = shrink_seq(ops, fails);
    let mut attempts = 0;
    for i in 0..best.len() {
        let Some(KvOp::Write(writes)) = best.get(i).cloned() else {
            continue;
        };
        let mut shortest: Option<Vec<KvOp>> = None;
        if writes.len() > 1 {
            remove_chunks(writes, &mut attempts, &mut |w| {
                let mut candidate = best.clone();
                if let Some(op) = candidate.get_mut(i) {
                    *op = KvOp::Write(w.to_vec());
                }
                match fails(&candidate) {
                    Some(at) if at >= i => {
                        candidate.truncate(at + 1);
                        shortest = Some(candidate);
                        Some(w.len())
                    }
                    _ => None,
                }
            });
            if let Some(found) = shortest.take() {
                best = found;
            }
        }
        let Some(KvOp::Write(writes)) = best.get(i).cloned() else {
            continue;
        };
        for (j, w) in writes.iter().enumerate() {
            let &KvWrite::Fill {
                count, value_len, ..
            } = w
            else {
                continue;
            };
            // The fewest keys, then the fewest value bytes: `hi` always fails (the current
            // size), `lo` is a size that passed (or none below it was tried).
            let (mut lo, mut hi) = (0u16, count);
            while lo + 1 < hi && attempts < MAX_ATTEMPTS {
                let mid = lo + (hi - lo) / 2;
                attempts += 1;
                match with_fill(&best, i, j, mid, value_len, fails) {
                    Some(found) => (best, hi) = (found, mid),
                    None => lo = mid,
                }
            }
            let keys = hi;
            let (mut lo, mut hi) = (0u16, value_len);
            if hi > 0 && attempts < MAX_ATTEMPTS {
                attempts += 1;
                if let Some(found) = with_fill(&best, i, j, keys, 0, fails) {
                    best = found;
                    continue;
                }
            }
            while lo + 1 < hi && attempts < MAX_ATTEMPTS {
                let mid = lo + (hi - lo) / 2;
                attempts += 1;
                match with_fill(&best, i, j, keys, mid, fails) {
                    Some(found) => (best, hi) = (found, mid),
                    None => lo = mid,
                }
            }
        }
    }
    best
}

/// `ops` with write `j` of op `i` (a fill) holding `count` keys of `value_len` bytes, cut after
/// its first disagreement, if it still fails at or after op `i`.
fn with_fill(
    ops: &[KvOp],
    i: usize,
    j: usize,
    count: u16,
    value_len: u16,
    fails: &mut dyn FnMut(&[KvOp]) -> Option<usize>,
) -> Option<Vec<KvOp>> {
    let mut candidate = ops.to_vec();
    if let Some(KvOp::Write(ws)) = candidate.get_mut(i) {
        if let Some(KvWrite::Fill {
            count: c,
            value_len: v,
            ..
        }) = ws.get_mut(j)
        {
            (*c, *v) = (count, value_len);
        }
    }
    let at = fails(&candidate).filter(|at| *at >= i)?;
    candidate.truncate(at + 1);
    Some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn culprits_are_the_engines_that_differ_from_the_reference() {
        let o = |l: &str, v: u8| (l.to_string(), v);
        assert_eq!(culprits(&[o("ref", 1), o("a", 1), o("b", 2)]), ["b"]);
        assert_eq!(culprits(&[o("ref", 1), o("a", 1), o("b", 1)]), ["a", "b"]);
        assert!(culprits::<u8>(&[]).is_empty());
    }

    #[test]
    fn a_shrink_that_stops_failing_keeps_the_unshrunk_case() {
        // A flaky check: the Flush fails in the first two runs only, so the run that confirms
        // the shrunk sequence passes and the unshrunk case, cut after op 4, is kept.
        let ops = vec![
            Op::StartSync,
            Op::Reopen,
            Op::StartSync,
            Op::Reopen,
            Op::Flush,
            Op::EndSync,
        ];
        let runs = std::cell::Cell::new(0);
        let again = |c: &[Op]| {
            runs.set(runs.get() + 1);
            (runs.get() <= 2)
                .then(|| c.iter().position(|o| *o == Op::Flush))
                .flatten()
        };
        let s = shrink_confirmed(ops.clone(), 4usize, |f| *f, shrink_seq, &again);
        assert!(!s.reproduced);
        assert_eq!(s.ops, ops[..5].to_vec());
        let stable = |c: &[Op]| c.iter().position(|o| *o == Op::Flush);
        let s = shrink_confirmed(ops, 4usize, |f| *f, shrink_seq, &stable);
        assert!(s.reproduced);
        assert_eq!((s.ops, s.finding), (vec![Op::Flush], 0));
    }

    #[test]
    fn shrinks_to_the_ops_that_matter() {
        // Fails when a Flush comes after a Reopen: the minimal sequence is [Reopen, Flush].
        let mut ops = vec![Op::StartSync; 20];
        ops[5] = Op::Reopen;
        ops[14] = Op::Flush;
        ops.push(Op::EndSync);
        let mut fails = |c: &[Op]| {
            let r = c.iter().position(|o| *o == Op::Reopen)?;
            c.iter()
                .skip(r)
                .position(|o| *o == Op::Flush)
                .map(|f| r + f)
        };
        assert_eq!(shrink(ops, &mut fails), vec![Op::Reopen, Op::Flush]);
    }

    #[test]
    fn a_large_batch_shrinks_by_chunks_to_the_records_that_matter() {
        // Fails while the put holds more than 100 grants: a page boundary bug.
        let grants = (0..1000)
            .map(|i| syncproof_engine::contract::g(&format!("g{i:04}")))
            .collect();
        let ops = vec![
            Op::StartSync,
            Op::Put {
                batch: RecordBatch::Grants(grants),
                mode: syncproof_engine::PutMode::Replace,
            },
            Op::Flush,
        ];
        let mut runs = 0;
        let mut fails = |c: &[Op]| {
            runs += 1;
            c.iter()
                .position(|o| matches!(o, Op::Put { batch, .. } if batch.len() > 100))
        };
        let shrunk = shrink(ops, &mut fails);
        assert!(
            matches!(&shrunk[..], [Op::Put { batch, .. }] if batch.len() == 101),
            "{shrunk:?}"
        );
        assert!(runs < 300, "{runs} runs");
    }
}
