//! The KV level's op model: atomic batches (puts, deletes, range deletes), point gets, bounded
//! scans both ways, flushes and reopens, over keys that sort next to each other in every
//! interesting way; and its seeded generation.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use serde::{Deserialize, Serialize};

/// One write inside an atomic batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, arbitrary::Arbitrary)]
pub enum KvWrite {
    /// Sets a key to a value.
    Put(Vec<u8>, Vec<u8>),
    /// Removes a key.
    Delete(Vec<u8>),
    /// Removes every key in `[start, end)`.
    DeleteRange(Vec<u8>, Vec<u8>),
}

/// One step of a KV sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, arbitrary::Arbitrary)]
pub enum KvOp {
    /// One atomic batch of writes.
    Write(Vec<KvWrite>),
    /// Reads one key.
    Get(Vec<u8>),
    /// Reads a range, forwards or backwards, at most `limit` entries.
    Scan {
        /// First key of the range.
        start: Vec<u8>,
        /// End of the range, exclusive (`None`: to the last key).
        end: Option<Vec<u8>>,
        /// Descending instead of ascending.
        reverse: bool,
        /// Most entries to return.
        limit: usize,
    },
    /// Makes every batch durable.
    Flush,
    /// Closes and reopens the store.
    Reopen,
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

/// The kinds of KV step, as coverage counts them.
pub const KV_OP_KINDS: &[&str] = &[
    "write",
    "write_with_range_delete",
    "get",
    "scan",
    "scan_reverse",
    "flush",
    "reopen",
];

/// The coverage kind of a step.
pub fn kind(op: &KvOp) -> &'static str {
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
