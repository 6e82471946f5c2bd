//! Sync runs (SPEC §2): their types, the run record, and the injectable sync-id source.

use crate::time::Timestamp;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// A sync id, minted by the store from its [`IdSource`].
#[derive(
    Clone,
    Debug,
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
pub struct SyncId(pub String);

impl SyncId {
    /// A sync id from its text.
    pub fn new(s: impl Into<String>) -> Self {
        SyncId(s.into())
    }
    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SyncId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of sync (SPEC §2).
#[derive(
    Clone,
    Copy,
    Debug,
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
pub enum SyncType {
    /// Every record kind; the one reads resolve to by default.
    Full,
    /// Some records; takes a parent.
    Partial,
    /// Resource types and resources only.
    ResourcesOnly,
    /// The upserts of a diff.
    PartialUpserts,
    /// The deletions of a diff.
    PartialDeletions,
}

impl SyncType {
    /// Every sync type.
    pub const ALL: [SyncType; 5] = [
        SyncType::Full,
        SyncType::Partial,
        SyncType::ResourcesOnly,
        SyncType::PartialUpserts,
        SyncType::PartialDeletions,
    ];

    /// The SPEC's spelling.
    pub fn name(self) -> &'static str {
        match self {
            SyncType::Full => "full",
            SyncType::Partial => "partial",
            SyncType::ResourcesOnly => "resources_only",
            SyncType::PartialUpserts => "partial_upserts",
            SyncType::PartialDeletions => "partial_deletions",
        }
    }

    /// Parses the SPEC's spelling.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }

    /// `full` and `resources_only` take no parent; the `partial*` types may.
    pub fn allows_parent(self) -> bool {
        !matches!(self, SyncType::Full | SyncType::ResourcesOnly)
    }
}

/// One sync run.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct SyncRun {
    /// Its id.
    pub id: SyncId,
    /// What it holds.
    pub sync_type: SyncType,
    /// The sync it was made against, if any.
    pub parent: Option<SyncId>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended (`None`: unfinished).
    pub ended_at: Option<Timestamp>,
    /// The connector's resume token, set by `checkpoint_sync`; empty until then.
    pub token: String,
}

impl SyncRun {
    /// Whether it has ended.
    pub fn is_finished(&self) -> bool {
        self.ended_at.is_some()
    }
    /// Order key of "latest finished": greatest `ended_at`, ties broken by greater id.
    pub fn finished_order(&self) -> Option<(Timestamp, &SyncId)> {
        self.ended_at.map(|e| (e, &self.id))
    }
    /// Order key of the sync-run list: ascending `(started_at, id)`.
    pub fn list_order(&self) -> (Timestamp, &SyncId) {
        (self.started_at, &self.id)
    }
}

/// Mints sync ids. Exactly one id is drawn per sync created.
pub trait IdSource: Send + Sync + std::fmt::Debug {
    /// A new sync id, unique and ordered by `now`.
    fn next_id(&self, now: Timestamp) -> SyncId;
}

/// The default: time-sortable ids (KSUID/ULID-like): 16 hex digits of the clock's nanoseconds,
/// then a per-process random part and a counter, so ids from one store never collide.
#[derive(Debug)]
pub struct TimeSortableIds {
    random: u64,
    counter: AtomicU64,
}

impl Default for TimeSortableIds {
    fn default() -> Self {
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        TimeSortableIds {
            random,
            counter: AtomicU64::new(0),
        }
    }
}

impl IdSource for TimeSortableIds {
    fn next_id(&self, now: Timestamp) -> SyncId {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        // Offset by 2^63 so negative instants still sort before positive ones as hex.
        let t = (now.0 as u64) ^ (1 << 63);
        SyncId(format!("{t:016x}{:016x}{n:08x}", self.random))
    }
}

/// Deterministic ids for the harness: `prefix` plus a scrambled counter, so creation order and
/// id order differ (ties broken by id are then exercised both ways), yet every engine fed the
/// same calls mints the same ids.
#[derive(Debug)]
pub struct SeededIds {
    seed: u64,
    counter: AtomicU64,
}

impl SeededIds {
    /// Ids derived from `seed`: the same seed gives the same ids.
    pub fn new(seed: u64) -> Self {
        SeededIds {
            seed,
            counter: AtomicU64::new(0),
        }
    }

    /// How many ids have been drawn: the position of the next one.
    pub fn position(&self) -> u64 {
        self.counter.load(Ordering::SeqCst)
    }

    /// Moves to `position`, so the next id is the one drawn at that position. A replay that
    /// leaves out a call which drew ids (and then failed) uses this to draw what the original
    /// run drew after it.
    pub fn set_position(&self, position: u64) {
        self.counter.store(position, Ordering::SeqCst);
    }
}

impl IdSource for SeededIds {
    fn next_id(&self, _now: Timestamp) -> SyncId {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let mixed = splitmix64(self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        // Four hex digits of scramble then the counter: unique, and not creation-ordered.
        SyncId(format!("s{:04x}-{n}", mixed & 0xffff))
    }
}

/// The SplitMix64 finaliser: a cheap, well-mixed deterministic hash.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Checks a sync id named by a caller: the id rule of SPEC §1 (`InvalidArgument`).
pub fn validate_sync_id(id: &SyncId) -> crate::Result<()> {
    crate::id::validate_id("sync id", &id.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_sortable_ids_sort_by_time_and_are_unique() {
        let ids = TimeSortableIds::default();
        let a = ids.next_id(Timestamp(-5));
        let b = ids.next_id(Timestamp(10));
        let c = ids.next_id(Timestamp(10));
        assert!(a < b, "{a} < {b}");
        assert_ne!(b, c);
    }

    #[test]
    fn seeded_ids_are_deterministic_and_unique() {
        let draw =
            |s: &SeededIds| -> Vec<SyncId> { (0..50).map(|_| s.next_id(Timestamp(0))).collect() };
        let (x, y) = (draw(&SeededIds::new(7)), draw(&SeededIds::new(7)));
        assert_eq!(x, y);
        let mut sorted = x.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 50);
        assert_ne!(sorted, x, "ids should not come in creation order");
    }

    #[test]
    fn sync_type_names_round_trip() {
        for t in SyncType::ALL {
            assert_eq!(SyncType::from_name(t.name()), Some(t));
        }
        assert_eq!(SyncType::from_name("nope"), None);
    }
}
