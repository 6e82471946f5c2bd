//! Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): each case leaves out a random
//! subset of op kinds, so a bug that needs a long run of some kinds without certain others
//! (syncs never ended, so every start resumes; reads with no write in between; puts that are
//! all replaces) is not diluted by a uniform mix. Half the cases are swarm cases, each
//! optional kind left out with even odds; the other half keep the whole mix, so bugs that need
//! kinds together are not lost. The kinds that build state (starts and puts) always stay.

use syncproof_engine::sync_run::splitmix64;

use crate::model::ops::{Op, OP_KINDS};

/// Percent of cases that are swarm cases.
pub const SWARM_PERCENT: u64 = 50;

/// The op kinds a swarm case never leaves out: they start syncs and write records.
pub const ALWAYS: &[&str] = &["start_sync", "start_new_sync", "put"];

/// The op kinds a swarm case of `seed` leaves out (`None`: not a swarm case).
pub fn left_out(seed: u64) -> Option<Vec<&'static str>> {
    if splitmix64(seed) % 100 >= SWARM_PERCENT {
        return None;
    }
    Some(
        OP_KINDS
            .iter()
            .copied()
            .filter(|k| !ALWAYS.contains(k))
            .enumerate()
            .filter(|(i, _)| splitmix64(seed ^ ((*i as u64 + 1) << 40)) % 2 == 0)
            .map(|(_, k)| k)
            .collect(),
    )
}

/// `ops` without the kinds `left_out` names.
pub fn apply(ops: Vec<Op>, left_out: &[&str]) -> Vec<Op> {
    ops.into_iter()
        .filter(|o| !left_out.contains(&o.kind()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_the_seeds_leave_out_about_half_the_optional_kinds() {
        let swarms: Vec<Vec<&str>> = (0..1000u64).filter_map(left_out).collect();
        assert!((400..600).contains(&swarms.len()), "{}", swarms.len());
        let optional = OP_KINDS.len() - ALWAYS.len();
        let mean = swarms.iter().map(Vec::len).sum::<usize>() as f64 / swarms.len() as f64;
        assert!((mean - optional as f64 / 2.0).abs() < 1.5, "{mean}");
        assert!(swarms.iter().all(|s| s.iter().all(|k| !ALWAYS.contains(k))));
        // Every optional kind is left out by some swarm and kept by another.
        for k in OP_KINDS.iter().filter(|k| !ALWAYS.contains(k)) {
            assert!(swarms.iter().any(|s| s.contains(k)), "{k} never left out");
            assert!(swarms.iter().any(|s| !s.contains(k)), "{k} always left out");
        }
    }
}
