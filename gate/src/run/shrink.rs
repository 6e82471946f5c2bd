//! Shrinking a failing sequence to a minimal one: cut everything after the first
//! disagreement, remove chunks of ops (halving the chunk size down to single ops, as in delta
//! debugging) while the sequence still fails, then remove records from put batches.

use crate::model::ops::Op;
use syncproof_engine::RecordBatch;

/// Most candidate runs one shrink may spend.
pub const MAX_ATTEMPTS: usize = 3_000;

/// Cuts after the first disagreement and removes chunks of any kind of step while the
/// sequence still fails. `fails` returns the index of the first disagreeing step, if any.
pub fn shrink_seq<T: Clone>(ops: Vec<T>, fails: &mut dyn FnMut(&[T]) -> Option<usize>) -> Vec<T> {
    let mut attempts = 0;
    let mut best = ops;
    let Some(at) = fails(&best) else { return best };
    best.truncate(at + 1);
    // Chunk removal, from large chunks to single steps, repeated until nothing more goes.
    loop {
        let before = best.len();
        let mut chunk = (best.len() / 2).max(1);
        loop {
            let mut i = best.len();
            while i > 0 && attempts < MAX_ATTEMPTS {
                let start = i.saturating_sub(chunk);
                let mut candidate = best.clone();
                candidate.drain(start..i);
                if !candidate.is_empty() {
                    attempts += 1;
                    if let Some(at) = fails(&candidate) {
                        candidate.truncate(at + 1);
                        best = candidate;
                        i = start.min(best.len());
                        continue;
                    }
                }
                i = start;
            }
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
        if best.len() == before || attempts >= MAX_ATTEMPTS {
            return best;
        }
    }
}

/// [`shrink_seq`], then fewer records per put batch.
pub fn shrink(ops: Vec<Op>, fails: &mut dyn FnMut(&[Op]) -> Option<usize>) -> Vec<Op> {
    let mut best = shrink_seq(ops, fails);
    let mut attempts = 0;
    for i in 0..best.len() {
        let mut j = 0;
        while attempts < MAX_ATTEMPTS {
            let Op::Put { batch, mode } = &best[i] else {
                break;
            };
            if j >= batch.len() || batch.len() <= 1 {
                break;
            }
            let mut records = batch.to_records();
            records.remove(j);
            let mut smaller = RecordBatch::empty(batch.kind());
            for r in records {
                let _ = smaller.push(r);
            }
            let mut candidate = best.clone();
            candidate[i] = Op::Put {
                batch: smaller,
                mode: *mode,
            };
            attempts += 1;
            match fails(&candidate) {
                Some(at) if at >= i => {
                    candidate.truncate(at + 1);
                    best = candidate;
                }
                _ => j += 1,
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
