//! The seeded draws of the passes over generated cases (`aim`, `tail`): splitmix64, so a case
//! is a function of its seed and index alone.

use syncproof_engine::sync_run::splitmix64;

/// The element of `v` that the draw `r` picks (`None` for an empty `v`).
pub fn pick_at<T>(v: &[T], r: u64) -> Option<&T> {
    let n = u64::try_from(v.len()).ok().filter(|n| *n > 0)?;
    v.get(usize::try_from(r % n).ok()?)
}

/// A stream of draws from one seed.
pub struct Rng(pub u64);

impl Rng {
    /// The next draw.
    pub fn next_u64(&mut self) -> u64 {
        let r = splitmix64(self.0);
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        r
    }

    /// True with probability `p` percent.
    pub fn percent(&mut self, p: u64) -> bool {
        self.next_u64() % 100 < p
    }

    /// An element of `v`; `None` for an empty `v`, which takes no draw (so what a case has
    /// not written yet does not shift the draws after it).
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() {
            return None;
        }
        pick_at(v, self.next_u64())
    }
}
