//! The bodies of the `cargo fuzz` targets in `fuzz/`. They live here so stable `cargo test`
//! replays every committed corpus file through them (`tests/fuzz_corpus.rs`): a crash found
//! once stays fixed without nightly. Each body panics exactly when it finds a bug.

use arbitrary::{Arbitrary, Unstructured};
use syncproof_engine::codec::envelope;
use syncproof_engine::codec::key::{decode_key, encode_key, KeyKind, OwnedPart, PartType};
use syncproof_engine::codec::token::{decode_token, encode_token};
use syncproof_engine::kv::BTreeOpener;
use syncproof_engine::*;

use syncproof_gate::model::kv::{KvOp, KvWrite};

/// A target body: takes the fuzzer's bytes, panics on a bug.
pub type Target = fn(&[u8]);

/// Every target: its name (the `fuzz/fuzz_targets/<name>.rs` file) and body.
pub const TARGETS: &[(&str, Target)] = &[
    ("key_codec", key_codec),
    ("envelope", envelope),
    ("page_token", page_token),
    ("metadata", metadata),
    ("op_sequence", op_sequence),
    ("kv_sequence", kv_sequence),
];

fn arb_string(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    // Mostly tiny strings over a nasty alphabet (collisions, prefixes), sometimes anything.
    if u.ratio(3, 4)? {
        let n = u.int_in_range(0..=5)?;
        (0..n)
            .map(|_| Ok(*u.choose(&['\0', '\u{1}', 'a', 'b', '_', 'é', '\u{ff}', '😀'])?))
            .collect()
    } else {
        String::arbitrary(u)
    }
}

fn arb_key(u: &mut Unstructured<'_>) -> arbitrary::Result<(KeyKind, Vec<OwnedPart>)> {
    let kind = *u.choose(KeyKind::ALL)?;
    let parts = kind
        .schema()
        .iter()
        .map(|t| {
            Ok(match t {
                PartType::Str => OwnedPart::Str(arb_string(u)?),
                PartType::I64 => OwnedPart::I64(i64::arbitrary(u)?),
            })
        })
        .collect::<arbitrary::Result<_>>()?;
    Ok((kind, parts))
}

fn enc(kind: KeyKind, parts: &[OwnedPart]) -> Vec<u8> {
    let p: Vec<_> = parts.iter().map(OwnedPart::as_part).collect();
    encode_key(kind, &p).expect("parts follow the schema")
}

/// Key codec: arbitrary bytes never panic the decoder and anything it accepts is canonical;
/// structured keys round-trip, keep tuple order in byte order, and are prefix-free.
pub fn key_codec(data: &[u8]) {
    if let Ok(k) = decode_key(data) {
        assert_eq!(enc(k.kind, &k.parts), data, "accepted a non-canonical key");
    }
    let mut u = Unstructured::new(data);
    let (Ok(a), Ok(b)) = (arb_key(&mut u), arb_key(&mut u)) else {
        return;
    };
    let (ea, eb) = (enc(a.0, &a.1), enc(b.0, &b.1));
    let back = decode_key(&ea).expect("own encoding decodes");
    assert_eq!((back.kind, &back.parts), (a.0, &a.1));
    let tuple = (a.0 as u8).cmp(&(b.0 as u8)).then_with(|| a.1.cmp(&b.1));
    assert_eq!(
        ea.cmp(&eb),
        tuple,
        "byte order differs from tuple order for {a:?} / {b:?}"
    );
    if a != b {
        assert!(
            !ea.starts_with(&eb) && !eb.starts_with(&ea),
            "prefix between {a:?} and {b:?}"
        );
    }
}

fn arb_meta(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Metadata> {
    Ok(match u.int_in_range(0..=if depth == 0 { 5 } else { 7 })? {
        0 => Metadata::Null,
        1 => Metadata::Bool(bool::arbitrary(u)?),
        2 => Metadata::I64(i64::arbitrary(u)?),
        3 => Metadata::F64(f64::arbitrary(u)?),
        4 => Metadata::String(arb_string(u)?),
        5 => Metadata::Bytes(Vec::<u8>::arbitrary(u)?),
        6 => Metadata::List(
            (0..u.int_in_range(0..=3)?)
                .map(|_| arb_meta(u, depth - 1))
                .collect::<arbitrary::Result<_>>()?,
        ),
        _ => Metadata::Map(
            (0..u.int_in_range(0..=3)?)
                .map(|_| Ok((arb_string(u)?, arb_meta(u, depth - 1)?)))
                .collect::<arbitrary::Result<_>>()?,
        ),
    })
}

fn arb_record(u: &mut Unstructured<'_>) -> arbitrary::Result<Record> {
    let rid = |u: &mut Unstructured<'_>| -> arbitrary::Result<ResourceId> {
        Ok(ResourceId::new(arb_string(u)?, arb_string(u)?))
    };
    let annotations = arb_meta(u, 3)?;
    let discovered_at = Timestamp(i64::arbitrary(u)?);
    Ok(match u.int_in_range(0..=4)? {
        0 => Record::Grant(Grant {
            id: arb_string(u)?,
            entitlement: EntitlementRef {
                id: arb_string(u)?,
                resource: rid(u)?,
            },
            principal: rid(u)?,
            sources: vec![arb_string(u)?],
            annotations,
            discovered_at,
        }),
        1 => Record::Resource(Resource {
            id: rid(u)?,
            parent: if bool::arbitrary(u)? {
                Some(rid(u)?)
            } else {
                None
            },
            display_name: arb_string(u)?,
            description: String::new(),
            annotations,
            discovered_at,
        }),
        2 => Record::Entitlement(Entitlement {
            id: arb_string(u)?,
            resource: rid(u)?,
            display_name: String::new(),
            description: arb_string(u)?,
            purpose: arb_string(u)?,
            slug: String::new(),
            grantable_to: vec![arb_string(u)?],
            annotations,
            discovered_at,
        }),
        3 => Record::ResourceType(ResourceType {
            id: arb_string(u)?,
            display_name: String::new(),
            description: String::new(),
            traits: vec![],
            annotations,
            discovered_at,
        }),
        _ => Record::Asset(Asset {
            id: arb_string(u)?,
            content_type: arb_string(u)?,
            data: Vec::<u8>::arbitrary(u)?,
            annotations,
            discovered_at,
        }),
    })
}

/// Value envelope: arbitrary bytes never panic any decoder; a decoded record re-encodes to an
/// equal record; structured records round-trip and any single changed byte is detected.
pub fn envelope(data: &[u8]) {
    let _ = envelope::peek_discovered_at(data);
    let _ = envelope::decode_sync_run(data);
    if let Ok(r) = envelope::decode_record(data) {
        let again = envelope::encode_record(&r).expect("encodes");
        assert_eq!(envelope::decode_record(&again).as_ref(), Ok(&r));
    }
    let mut u = Unstructured::new(data);
    let (Ok(record), Ok(at), Ok(flip)) = (
        arb_record(&mut u),
        usize::arbitrary(&mut u),
        u8::arbitrary(&mut u),
    ) else {
        return;
    };
    let bytes = envelope::encode_record(&record).expect("encodes");
    assert_eq!(envelope::decode_record(&bytes).as_ref(), Ok(&record));
    assert_eq!(
        envelope::peek_discovered_at(&bytes),
        Ok(record.discovered_at())
    );
    if flip != 0 {
        let mut bad = bytes.clone();
        let i = at % bad.len();
        bad[i] ^= flip;
        assert!(
            envelope::decode_record(&bad).is_err(),
            "byte {i} changed by {flip:#x} went unnoticed"
        );
    }
}

/// Page tokens: arbitrary strings never panic the decoder; structured tokens round-trip and
/// an edited character is refused.
pub fn page_token(data: &[u8]) {
    let _ = decode_token(&String::from_utf8_lossy(data));
    let mut u = Unstructured::new(data);
    let (Ok(scope), Ok(key), Ok(at)) = (
        Vec::<u8>::arbitrary(&mut u),
        Vec::<u8>::arbitrary(&mut u),
        usize::arbitrary(&mut u),
    ) else {
        return;
    };
    let t = encode_token(&scope, &key);
    let body = decode_token(t.as_str()).expect("own token decodes");
    assert_eq!((body.scope, body.last_key), (scope, key));
    let mut chars: Vec<char> = t.as_str().chars().collect();
    let i = at % chars.len();
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let edited: String = chars.into_iter().collect();
    assert!(
        decode_token(&edited).is_err(),
        "edited token {edited:?} accepted"
    );
}

/// Metadata: JSON text → `Metadata` → JSON is lossless; structured trees survive the archive
/// bit for bit and JSON whenever JSON can hold them.
pub fn metadata(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
            if let Ok(m) = Metadata::from_json(&json) {
                assert_eq!(
                    m.to_json().as_ref(),
                    Ok(&json),
                    "JSON round trip changed {text:?}"
                );
            }
        }
    }
    let mut u = Unstructured::new(data);
    let Ok(m) = arb_meta(&mut u, 4) else { return };
    let r = Record::ResourceType(ResourceType {
        id: "t".into(),
        display_name: String::new(),
        description: String::new(),
        traits: vec![],
        annotations: m.clone(),
        discovered_at: Timestamp(0),
    });
    let back =
        envelope::decode_record(&envelope::encode_record(&r).expect("encodes")).expect("decodes");
    assert_eq!(back, r, "archive changed the annotations");
    if let Ok(json) = m.to_json() {
        assert_eq!(
            Metadata::from_json(&json),
            Ok(m.clone()),
            "JSON round trip changed {m:?}"
        );
        let text = serde_json::to_string(&json).expect("serialises");
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("parses its own output");
        assert_eq!(
            Metadata::from_json(&parsed),
            Ok(m),
            "JSON text round trip changed it"
        );
    }
}

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

/// Makes fuzzer-chosen KV ops valid for every backend: keys non-empty and bounded, values
/// bounded, sequences short.
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

/// KV sequences: a real backend (redb by default, `SYNCPROOF_FUZZ_KV=<name>` for another)
/// must agree with a `BTreeMap` on every batch, get and scan, across reopens.
pub fn kv_sequence(data: &[u8]) {
    let Ok(ops) = Vec::<KvOp>::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let ops = sanitize(ops);
    if ops.is_empty() {
        return;
    }
    let name = std::env::var("SYNCPROOF_FUZZ_KV").unwrap_or_else(|_| "redb".into());
    let info = crate::engines::all()
        .into_iter()
        .find(|e| e.name == name && e.kv.is_some())
        .unwrap_or_else(|| panic!("no KV engine {name}"));
    let targets = crate::engines::kv_targets(&[info], None);
    if let Some((at, outcomes)) = syncproof_gate::run::kv::run(&ops, &targets, None)
        .expect("stores open")
        .finding
    {
        panic!(
            "{name} disagrees with the BTreeMap at step {at}:\nops: {:?}\noutcomes: {outcomes:?}",
            &ops[..=at]
        );
    }
}
