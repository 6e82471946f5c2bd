//! The KV level's op model: atomic batches (puts, deletes, range deletes, fills), point gets,
//! bounded scans both ways, flushes and reopens, over keys that sort next to each other in
//! every interesting way and over runs of keys long enough to span a backend's pages; and its
//! seeded generation.

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
    /// Puts a run of keys ([`fill_key`] of `prefix` and `0..count`), each with its
    /// [`fill_value`] of `value_len` bytes: one write that fills many B-tree pages, so that
    /// later range deletes, scans and reopens cross page boundaries, which the few keys of
    /// [`KEYS`] never do. `count` and `value_len` are clamped to [`MAX_FILL`] and
    /// [`MAX_FILL_VALUE`] (a fuzzer's op stays bounded too).
    Fill {
        /// The bytes every key of the run starts with.
        prefix: Vec<u8>,
        /// Keys in the run.
        count: u16,
        /// Bytes of each value.
        value_len: u16,
    },
}

/// Most keys one [`KvWrite::Fill`] puts.
pub const MAX_FILL: u16 = 4096;
/// Most bytes of one value of a [`KvWrite::Fill`].
pub const MAX_FILL_VALUE: u16 = 1024;
/// A range delete or scan over more than [`MANY_KEYS`] keys holding more than this many bytes
/// of keys and values spans leaf pages on every backend: two of mdbx's 32 KiB pages
/// (`syncproof_mdbx::page_size`), the largest page of any backend here (redb's are 4 KiB).
/// Both thresholds together: a few of the 20,000-byte values alone pass the bytes but sit on
/// overflow pages under one leaf. The KV level's reach counts ([`KV_REACH_KINDS`]) use them.
pub const MANY_BYTES: usize = 64 << 10;
/// See [`MANY_BYTES`]: more keys than the eleven short [`KEYS`] can ever be.
pub const MANY_KEYS: usize = 100;

/// Key `i` of a fill run under `prefix`: the prefix, then `i` as four big-endian bytes, so
/// the run sorts in `i` order, and under the prefix `a` it sorts between the [`KEYS`] `a\0`
/// and `a\0\x01`, among keys the generator also draws.
pub fn fill_key(prefix: &[u8], i: u32) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&i.to_be_bytes());
    k
}

/// The value of key `i` of a fill run: `len` bytes that differ from key to key, so a value
/// read back under the wrong key shows.
pub fn fill_value(i: u32, len: u16) -> Vec<u8> {
    (0..usize::from(len))
        .map(|j| (i >> (8 * (j % 4))) as u8 ^ (j / 4) as u8)
        .collect()
}

impl KvWrite {
    /// The point puts of a [`KvWrite::Fill`] in key order (none for any other write).
    pub fn fill_entries(&self) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
        let (prefix, count, len) = match self {
            KvWrite::Fill {
                prefix,
                count,
                value_len,
            } => (
                prefix.as_slice(),
                (*count).min(MAX_FILL),
                (*value_len).min(MAX_FILL_VALUE),
            ),
            _ => (&[][..], 0, 0),
        };
        (0..u32::from(count)).map(move |i| (fill_key(prefix, i), fill_value(i, len)))
    }
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

/// Prefixes of fill runs: one among the short keys, one shaped like the KV layer's own keys.
const FILL_PREFIXES: &[&[u8]] = &[b"a", b"\x01\x13sync\x00\x01"];
/// Keys per fill run: under a page, several pages, and a few hundred pages' worth.
const FILL_COUNTS: &[u16] = &[17, 300, 2500];
/// Bytes per value of a fill run: none, short, and a few dozen to ten per 4 KiB page.
const FILL_VALUES: &[u16] = &[0, 8, 100, 400];
/// Positions in a fill run the generator aims at: its ends and those of every count it draws,
/// and the keys around the 256th, where a loop bounded by a power of two would stop.
const FILL_EDGES: &[u32] = &[0, 1, 16, 17, 255, 256, 257, 299, 300, 1000, 2499, 2500];

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(KEYS).prop_map(<[u8]>::to_vec),
        1 => (
            select(FILL_PREFIXES),
            prop_oneof![select(FILL_EDGES), 0..2600u32],
        )
            .prop_map(|(p, i)| fill_key(p, i)),
    ]
}

fn fill() -> impl Strategy<Value = KvWrite> {
    (
        select(FILL_PREFIXES),
        select(FILL_COUNTS),
        select(FILL_VALUES),
    )
        .prop_map(|(prefix, count, value_len)| KvWrite::Fill {
            prefix: prefix.to_vec(),
            count,
            value_len,
        })
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 1..16),
        Just(vec![7u8; 5000]),
        // Over half of mdbx's 32 KiB page: stored on overflow pages.
        Just(vec![9u8; 20_000])
    ]
}

fn write() -> impl Strategy<Value = KvWrite> {
    prop_oneof![
        4 => (key(), value()).prop_map(|(k, v)| KvWrite::Put(k, v)),
        2 => key().prop_map(KvWrite::Delete),
        1 => (key(), key()).prop_map(|(a, b)| KvWrite::DeleteRange(a, b)),
        1 => fill(),
    ]
}

fn op() -> impl Strategy<Value = KvOp> {
    prop_oneof![
        5 => prop::collection::vec(write(), 1..6).prop_map(KvOp::Write),
        3 => key().prop_map(KvOp::Get),
        3 => (key(), prop::option::of(key()), any::<bool>(), select(&[0usize, 1, 2, 5, 100, 3000][..]))
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
    "write_with_fill",
    "get",
    "scan",
    "scan_reverse",
    "flush",
    "reopen",
];

/// What the KV level's cases reach, read from the reference: a range delete that removed,
/// and a scan that returned, more than [`MANY_KEYS`] keys with more than [`MANY_BYTES`].
pub const KV_REACH_KINDS: &[&str] = &["range_delete_past_pages", "scan_past_pages"];

/// The coverage kind of a step.
pub fn kind(op: &KvOp) -> &'static str {
    match op {
        KvOp::Write(w) if w.iter().any(|w| matches!(w, KvWrite::DeleteRange(..))) => {
            "write_with_range_delete"
        }
        KvOp::Write(w) if w.iter().any(|w| matches!(w, KvWrite::Fill { .. })) => "write_with_fill",
        KvOp::Write(_) => "write",
        KvOp::Get(_) => "get",
        KvOp::Scan { reverse: true, .. } => "scan_reverse",
        KvOp::Scan { .. } => "scan",
        KvOp::Flush => "flush",
        KvOp::Reopen => "reopen",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_run_sorts_in_order_between_its_neighbours_and_stays_bounded() {
        let fill = KvWrite::Fill {
            prefix: b"a".to_vec(),
            count: 300,
            value_len: 8,
        };
        let entries: Vec<_> = fill.fill_entries().collect();
        assert_eq!(entries.len(), 300);
        assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(entries.iter().all(|(k, _)| {
            k.as_slice() > b"a\x00".as_slice() && k.as_slice() < b"a\x00\x01".as_slice()
        }));
        // Values differ from key to key, so one read under the wrong key shows.
        assert_ne!(entries[1].1, entries[257].1);
        assert_eq!(entries[5].1.len(), 8);
        let huge = KvWrite::Fill {
            prefix: Vec::new(),
            count: u16::MAX,
            value_len: u16::MAX,
        };
        assert_eq!(huge.fill_entries().count(), usize::from(MAX_FILL));
        assert!(huge
            .fill_entries()
            .all(|(_, v)| v.len() == usize::from(MAX_FILL_VALUE)));
    }

    #[test]
    fn generated_cases_fill_and_aim_into_the_runs() {
        let ops: Vec<KvOp> = (0..50).flat_map(|i| case(3, i, 30)).collect();
        let fills = ops
            .iter()
            .filter(|op| kind(op) == "write_with_fill")
            .count();
        let aimed = ops
            .iter()
            .filter(|op| matches!(op, KvOp::Get(k) if k.len() > 4 && k.starts_with(b"a\0\0")))
            .count();
        assert!(
            fills > 10 && aimed > 5,
            "fills {fills}, gets into a run {aimed}"
        );
    }
}
