//! The bodies of the `cargo fuzz` targets in `fuzz/` that run engines (`op_sequence`,
//! `kv_sequence`), and [`TARGETS`], every target with the codec ones of
//! `syncproof-fuzz-codecs`. They live in crates so stable `cargo test` replays every committed
//! corpus file through them (`tests/fuzz_corpus.rs`): a crash found once stays fixed without
//! nightly. Each body panics exactly when it finds a bug.

use arbitrary::{Arbitrary, Unstructured};
use syncproof_engine::kv::BTreeOpener;

use syncproof_gate::model::kv::{KvOp, KvWrite};

pub use syncproof_fuzz_codecs::Target;
use syncproof_fuzz_codecs::{envelope, key_codec, metadata, page_token};

/// Every target: its name (the `fuzz/fuzz_targets/<name>.rs` file) and body. The first four
/// live in `syncproof-fuzz-codecs`, which depends on `syncproof-engine` alone.
pub const TARGETS: &[(&str, Target)] = &[
    ("key_codec", key_codec),
    ("envelope", envelope),
    ("page_token", page_token),
    ("metadata", metadata),
    ("op_sequence", op_sequence),
    ("kv_sequence", kv_sequence),
];

/// Op sequences: the `KvStore` layer (over a `BTreeMap`, so thousands of runs a second) must
/// agree with the oracle on every op. `SYNCPROOF_FUZZ_ENGINE=<name>` fuzzes a registry engine
/// instead (slower: a store on disk per run).
pub fn op_sequence(data: &[u8]) {
    let engine: Box<dyn syncproof_engine::contract::Opener> =
        match std::env::var("SYNCPROOF_FUZZ_ENGINE") {
            Ok(name) => {
                let info = crate::engines::select(Some(&name))
                    .ok()
                    .and_then(|mut v| v.pop())
                    .unwrap_or_else(|| panic!("unknown engine {name}"));
                (info.opener)()
            }
            Err(_) => Box::new(BTreeOpener::default()),
        };
    op_sequence_on(data, engine.as_ref());
}

/// [`op_sequence`] against any engine.
pub fn op_sequence_on(data: &[u8], engine: &dyn syncproof_engine::contract::Opener) {
    let ops = syncproof_gate::model::arbitrary::sequence(data, 32);
    if ops.is_empty() {
        return;
    }
    let oracle = syncproof_memory::MemoryOpener::default();
    let label = engine.name().to_string();
    let run = syncproof_gate::run::runner::run_case(1, &ops, &oracle, &[(label, engine)], None)
        .expect("stores open");
    if let Some(f) = run.finding {
        let repro = syncproof_gate::run::repro::Repro {
            version: syncproof_gate::run::repro::REPRO_VERSION,
            seed: 1,
            case: 0,
            engines: vec![engine.name().to_string()],
            inject: None,
            ops: ops[..=f.op_index].to_vec(),
            finding: Some(f),
            flaky: false,
            stall: None,
        };
        panic!(
            "disagreement with the oracle:\n{}",
            syncproof_gate::run::text::describe(&repro)
        );
    }
}

/// Most keys of a fuzzer's fill: over the 256 where a bounded delete loop stops, a few pages
/// on every backend, and cheap enough for the fuzzer's rate.
const FUZZ_FILL: u16 = 300;

/// Makes fuzzer-chosen KV ops valid for every backend: keys non-empty and bounded, values
/// bounded, fills short, sequences short.
fn sanitize(ops: Vec<KvOp>) -> Vec<KvOp> {
    let key = |mut k: Vec<u8>| {
        k.truncate(64);
        if k.is_empty() {
            k.push(0);
        }
        k
    };
    let value = |mut v: Vec<u8>| {
        v.truncate(4096);
        v
    };
    ops.into_iter()
        .take(24)
        .map(|op| match op {
            KvOp::Write(w) => KvOp::Write(
                w.into_iter()
                    .take(8)
                    .map(|w| match w {
                        KvWrite::Put(k, v) => KvWrite::Put(key(k), value(v)),
                        KvWrite::Delete(k) => KvWrite::Delete(key(k)),
                        KvWrite::DeleteRange(a, b) => KvWrite::DeleteRange(key(a), key(b)),
                        KvWrite::Fill {
                            prefix,
                            count,
                            value_len,
                        } => KvWrite::Fill {
                            prefix: key(prefix),
                            count: count % (FUZZ_FILL + 1),
                            value_len: value_len % 257,
                        },
                    })
                    .collect(),
            ),
            KvOp::Get(k) => KvOp::Get(key(k)),
            KvOp::Scan {
                start,
                end,
                reverse,
                limit,
            } => KvOp::Scan {
                start: key(start),
                end: end.map(key),
                reverse,
                limit: limit % 64,
            },
            other => other,
        })
        .collect()
}

/// KV sequences: a real backend (redb by default, `SYNCPROOF_FUZZ_KV=<name>` for another,
/// or `<name>+<configuration>` for one of its configurations) must agree with a `BTreeMap` on every batch, get and scan, across reopens.
pub fn kv_sequence(data: &[u8]) {
    let ops = kv_ops(data);
    if ops.is_empty() {
        return;
    }
    let name = std::env::var("SYNCPROOF_FUZZ_KV").unwrap_or_else(|_| "redb".into());
    // One backend per input, the default or the pinned configuration, not every
    // configuration: the fuzzer's rate is what it is for.
    let target = crate::engines::select(Some(&name))
        .map(|selected| crate::engines::kv_targets_as_named(&selected, None))
        .unwrap_or_default();
    assert!(!target.is_empty(), "no KV engine {name}");
    kv_sequence_on(&ops, &target);
}

/// The KV steps the fuzzer's bytes describe, sanitised (short keys, bounded scans); empty when
/// the bytes describe none.
pub fn kv_ops(data: &[u8]) -> Vec<KvOp> {
    Vec::<KvOp>::arbitrary(&mut Unstructured::new(data)).map_or_else(|_| Vec::new(), sanitize)
}

/// [`kv_sequence`]'s check of [`kv_ops`] against any backends.
pub fn kv_sequence_on(ops: &[KvOp], targets: &[syncproof_gate::run::kv::KvTarget]) {
    if let Some((at, outcomes)) = syncproof_gate::run::kv::run(ops, targets, None)
        .expect("stores open")
        .finding
    {
        panic!(
            "the backends disagree with the BTreeMap at step {at}:\nops: {:?}\noutcomes: {outcomes:?}",
            &ops[..=at]
        );
    }
}
