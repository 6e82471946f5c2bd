//! Property tests of the codecs (issue: foundation). Each runs `PROPTEST_CASES` cases,
//! 1,000 by default.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod strategies;

use proptest::prelude::*;
use std::cmp::Ordering;
use strategies::*;
use syncproof_engine::codec::envelope::{self, ENVELOPE_VERSION, HEADER_LEN};
use syncproof_engine::codec::key::{decode_key, encode_key, KeyKind, OwnedPart, PartType};
use syncproof_engine::codec::token::{decode_token, encode_token};
use syncproof_engine::testing::proptest_cases;
use syncproof_engine::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: proptest_cases(1000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A key kind with parts matching its schema.
fn key() -> impl Strategy<Value = (KeyKind, Vec<OwnedPart>)> {
    prop::sample::select(KeyKind::ALL.to_vec()).prop_flat_map(|kind| (Just(kind), parts_of(kind)))
}

/// Two keys of one kind sharing a random number of leading parts: the interesting case.
fn same_kind_pair() -> impl Strategy<Value = (KeyKind, Vec<OwnedPart>, Vec<OwnedPart>)> {
    (key(), key(), any::<prop::sample::Index>())
        .prop_map(|((kind, a), (_, _), shared)| (kind, a, shared))
        .prop_flat_map(|(kind, a, shared)| {
            let b = parts_of(kind);
            (Just(kind), Just(a), b, Just(shared))
        })
        .prop_map(|(kind, a, mut b, shared)| {
            let n = shared.index(a.len() + 1);
            b[..n].clone_from_slice(&a[..n]);
            (kind, a, b)
        })
}

fn parts_of(kind: KeyKind) -> Vec<BoxedStrategy<OwnedPart>> {
    kind.schema()
        .iter()
        .map(|t| match t {
            PartType::Str => nasty_str().prop_map(OwnedPart::Str).boxed(),
            PartType::I64 => prop_oneof![any::<i64>(), -2i64..2]
                .prop_map(OwnedPart::I64)
                .boxed(),
        })
        .collect()
}

fn enc(kind: KeyKind, parts: &[OwnedPart]) -> Vec<u8> {
    let p: Vec<_> = parts.iter().map(OwnedPart::as_part).collect();
    encode_key(kind, &p).unwrap()
}

/// Byte-string order of string parts (`String`'s `Ord` is byte order).
fn tuple_cmp(a: &(KeyKind, Vec<OwnedPart>), b: &(KeyKind, Vec<OwnedPart>)) -> Ordering {
    (a.0 as u8).cmp(&(b.0 as u8)).then_with(|| a.1.cmp(&b.1))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn key_round_trip((kind, parts) in key()) {
        let bytes = enc(kind, &parts);
        let decoded = decode_key(&bytes).unwrap();
        prop_assert_eq!(decoded.kind, kind);
        prop_assert_eq!(decoded.parts, parts);
    }

    #[test]
    fn key_byte_order_is_tuple_order(a in key(), b in key()) {
        prop_assert_eq!(enc(a.0, &a.1).cmp(&enc(b.0, &b.1)), tuple_cmp(&a, &b));
    }

    #[test]
    fn same_kind_key_byte_order_is_tuple_order((kind, a, b) in same_kind_pair()) {
        prop_assert_eq!(enc(kind, &a).cmp(&enc(kind, &b)), a.cmp(&b));
    }

    #[test]
    fn no_key_is_a_prefix_of_another_tuple(a in key(), b in key()) {
        prop_assume!(a != b);
        let (ea, eb) = (enc(a.0, &a.1), enc(b.0, &b.1));
        prop_assert!(!eb.starts_with(&ea) && !ea.starts_with(&eb));
    }

    #[test]
    fn key_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_key(&bytes);
    }

    #[test]
    fn key_decoder_never_panics_near_valid((kind, parts) in key(), cut in any::<prop::sample::Index>(), flip in any::<u8>()) {
        let mut bytes = enc(kind, &parts);
        let i = cut.index(bytes.len());
        bytes[i] ^= flip;
        if let Ok(k) = decode_key(&bytes) {
            // Anything accepted must re-encode to the same bytes (canonical form).
            prop_assert_eq!(enc(k.kind, &k.parts), bytes.clone());
        }
        let _ = decode_key(&bytes[..i]);
    }

    #[test]
    fn envelope_round_trip(record in record()) {
        let bytes = envelope::encode_record(&record).unwrap();
        prop_assert_eq!(envelope::peek_discovered_at(&bytes).unwrap(), record.discovered_at());
        prop_assert_eq!(envelope::decode_record(&bytes).unwrap(), record);
    }

    #[test]
    fn sync_run_envelope_round_trip(run in sync_run()) {
        let bytes = envelope::encode_sync_run(&run).unwrap();
        prop_assert_eq!(envelope::decode_sync_run(&bytes).unwrap(), run);
    }

    #[test]
    fn envelope_decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = envelope::peek_discovered_at(&bytes);
        let _ = envelope::open(&bytes);
        let _ = envelope::decode_record(&bytes);
        let _ = envelope::decode_sync_run(&bytes);
    }

    #[test]
    fn envelope_payload_validation_never_panics(kind in 1u8..=6, t in any::<i64>(), payload in prop::collection::vec(any::<u8>(), 0..256)) {
        // A valid header and checksum around arbitrary bytes: reaches rkyv's checked access.
        let mut head = vec![ENVELOPE_VERSION, kind];
        head.extend_from_slice(&t.to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        crc.update(&payload);
        let mut bytes = head;
        bytes.extend_from_slice(&crc.finalize().to_be_bytes());
        bytes.extend_from_slice(&payload);
        prop_assert_eq!(bytes.len(), HEADER_LEN + payload.len());
        prop_assert!(envelope::open(&bytes).is_ok());
        let _ = envelope::decode_record(&bytes);
        let _ = envelope::decode_sync_run(&bytes);
    }

    #[test]
    fn envelope_corruption_is_detected(record in record(), at in any::<prop::sample::Index>(), flip in 1u8..) {
        let mut bytes = envelope::encode_record(&record).unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        prop_assert!(envelope::decode_record(&bytes).is_err());
    }

    #[test]
    fn token_round_trip(scope in prop::collection::vec(any::<u8>(), 0..64), key in prop::collection::vec(any::<u8>(), 0..64)) {
        let t = encode_token(&scope, &key);
        let body = decode_token(t.as_str()).unwrap();
        prop_assert_eq!(body.scope, scope);
        prop_assert_eq!(body.last_key, key);
    }

    #[test]
    fn token_decoder_never_panics(s in ".{0,64}", raw in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_token(&s);
        use base64::Engine as _;
        let _ = decode_token(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw));
        // Valid checksum around arbitrary bytes reaches the length fields.
        let mut with_crc = raw.clone();
        with_crc.extend_from_slice(&crc32fast::hash(&raw).to_be_bytes());
        let _ = decode_token(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&with_crc));
    }

    #[test]
    fn metadata_json_round_trip(m in json_metadata()) {
        let json = m.to_json().unwrap();
        prop_assert_eq!(Metadata::from_json(&json).unwrap(), m.clone());
        // And through JSON text.
        let text = serde_json::to_string(&json).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(Metadata::from_json(&back).unwrap(), m);
    }

    #[test]
    fn metadata_survives_the_archive_bit_exactly(m in metadata()) {
        let r = Record::ResourceType(ResourceType {
            id: "t".into(), display_name: String::new(), description: String::new(),
            traits: vec![], annotations: m, discovered_at: Timestamp(0),
        });
        let back = envelope::decode_record(&envelope::encode_record(&r).unwrap()).unwrap();
        let (Record::ResourceType(a), Record::ResourceType(b)) = (&r, &back) else { panic!() };
        prop_assert!(bits_equal(&a.annotations, &b.annotations));
    }
}

/// Strict equality: floats by bit pattern, NaN payload included.
fn bits_equal(a: &Metadata, b: &Metadata) -> bool {
    match (a, b) {
        (Metadata::F64(x), Metadata::F64(y)) => x.to_bits() == y.to_bits(),
        (Metadata::List(x), Metadata::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| bits_equal(a, b))
        }
        (Metadata::Map(x), Metadata::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && bits_equal(a, b))
        }
        _ => a == b,
    }
}
