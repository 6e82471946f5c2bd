//! Timestamps and the injectable clock (SPEC §2: the clock is read, never assumed to advance).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A UTC instant in nanoseconds since the Unix epoch.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[rkyv(derive(Debug))]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Nanoseconds in a second.
    pub const NANOS_PER_SEC: i64 = 1_000_000_000;
    /// The instant `s` seconds after the epoch.
    pub fn from_secs(s: i64) -> Self {
        Timestamp(s.saturating_mul(Self::NANOS_PER_SEC))
    }
    /// Nanoseconds since the epoch.
    pub fn nanos(self) -> i64 {
        self.0
    }
    /// `n` nanoseconds earlier, saturating.
    pub fn saturating_sub_nanos(self, n: i64) -> Self {
        Timestamp(self.0.saturating_sub(n))
    }
    /// `n` nanoseconds later, saturating.
    pub fn saturating_add_nanos(self, n: i64) -> Self {
        Timestamp(self.0.saturating_add(n))
    }
}

/// Source of "now" for an engine. Engines read it; the harness moves it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told; clones share the same instant.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start.0)))
    }
    /// Sets the time.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
    /// Moves the time forward by `nanos` (saturating).
    pub fn advance(&self, nanos: i64) {
        // Saturate rather than wrap: a generated huge advance must not go back in time.
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                Some(v.saturating_add(nanos))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}
