//! The bodies of the codec fuzz targets in `fuzz/` (`key_codec`, `envelope`, `page_token`,
//! `metadata`), over `syncproof-engine` alone: building them compiles no engine, no SQLite,
//! no libmdbx. Each body panics exactly when it finds a bug.
//!
//! Each target checks a codec given as a table of functions ([`KeyCodec`], [`EnvelopeCodec`],
//! [`TokenCodec`], [`MetadataCodec`]); the fuzz targets pass the real ones ([`KEYS`], …), and
//! the tests pass deliberately broken ones to show every target can fail.

use arbitrary::{Arbitrary, Unstructured};
use syncproof_engine::codec::key::{DecodedKey, KeyKind, OwnedPart, Part, PartType};
use syncproof_engine::codec::token::TokenBody;
use syncproof_engine::codec::{envelope, key, token, CodecError};
use syncproof_engine::*;

/// A target body: takes the fuzzer's bytes, panics on a bug. (The list of every target,
/// these four and the engine ones, is `syncproof_harness::fuzz_targets::TARGETS`.)
pub type Target = fn(&[u8]);

/// A key codec under test.
#[derive(Clone, Copy)]
pub struct KeyCodec {
    pub encode: fn(KeyKind, &[Part<'_>]) -> Result<Vec<u8>, CodecError>,
    pub decode: fn(&[u8]) -> Result<DecodedKey, CodecError>,
}

/// The real key codec.
pub const KEYS: KeyCodec = KeyCodec {
    encode: key::encode_key,
    decode: key::decode_key,
};

/// A value-envelope codec under test.
#[derive(Clone, Copy)]
pub struct EnvelopeCodec {
    pub encode: fn(&Record) -> Result<Vec<u8>, CodecError>,
    pub decode: fn(&[u8]) -> Result<Record, CodecError>,
}

/// The real envelope codec.
pub const ENVELOPES: EnvelopeCodec = EnvelopeCodec {
    encode: envelope::encode_record,
    decode: envelope::decode_record,
};

/// A page-token codec under test.
#[derive(Clone, Copy)]
pub struct TokenCodec {
    pub encode: fn(&[u8], &[u8]) -> PageToken,
    pub decode: fn(&str) -> Result<TokenBody, CodecError>,
}

/// The real token codec.
pub const TOKENS: TokenCodec = TokenCodec {
    encode: token::encode_token,
    decode: token::decode_token,
};

/// A metadata ↔ JSON conversion under test (the archive is the real envelope codec).
#[derive(Clone, Copy)]
pub struct MetadataCodec {
    pub to_json: fn(&Metadata) -> Result<serde_json::Value, MetadataJsonError>,
    pub from_json: fn(&serde_json::Value) -> Result<Metadata, MetadataJsonError>,
}

/// The real conversion.
pub const METADATA: MetadataCodec = MetadataCodec {
    to_json: Metadata::to_json,
    from_json: Metadata::from_json,
};

/// Key codec with the real codec.
pub fn key_codec(data: &[u8]) {
    key_codec_with(KEYS, data)
}

/// Envelope with the real codec.
pub fn envelope(data: &[u8]) {
    envelope_with(ENVELOPES, data)
}

/// Page tokens with the real codec.
pub fn page_token(data: &[u8]) {
    page_token_with(TOKENS, data)
}

/// Metadata with the real conversion.
pub fn metadata(data: &[u8]) {
    metadata_with(METADATA, data)
}

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

fn enc(c: KeyCodec, kind: KeyKind, parts: &[OwnedPart]) -> Vec<u8> {
    let p: Vec<_> = parts.iter().map(OwnedPart::as_part).collect();
    (c.encode)(kind, &p).expect("parts follow the schema")
}

/// Key codec: arbitrary bytes never panic the decoder and anything it accepts is canonical;
/// structured keys round-trip, keep tuple order in byte order, and are prefix-free.
pub fn key_codec_with(c: KeyCodec, data: &[u8]) {
    if let Ok(k) = (c.decode)(data) {
        assert_eq!(
            enc(c, k.kind, &k.parts),
            data,
            "accepted a non-canonical key"
        );
    }
    let mut u = Unstructured::new(data);
    let (Ok(a), Ok(b)) = (arb_key(&mut u), arb_key(&mut u)) else {
        return;
    };
    let (ea, eb) = (enc(c, a.0, &a.1), enc(c, b.0, &b.1));
    let back = (c.decode)(&ea).expect("own encoding decodes");
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
pub fn envelope_with(c: EnvelopeCodec, data: &[u8]) {
    let _ = envelope::peek_discovered_at(data);
    let _ = envelope::decode_sync_run(data);
    if let Ok(r) = (c.decode)(data) {
        let again = (c.encode)(&r).expect("encodes");
        assert_eq!((c.decode)(&again).as_ref(), Ok(&r));
    }
    let mut u = Unstructured::new(data);
    let (Ok(record), Ok(at), Ok(flip)) = (
        arb_record(&mut u),
        usize::arbitrary(&mut u),
        u8::arbitrary(&mut u),
    ) else {
        return;
    };
    let bytes = (c.encode)(&record).expect("encodes");
    assert_eq!((c.decode)(&bytes).as_ref(), Ok(&record));
    assert_eq!(
        envelope::peek_discovered_at(&bytes),
        Ok(record.discovered_at())
    );
    if flip != 0 {
        let mut bad = bytes.clone();
        let i = at % bad.len();
        bad[i] ^= flip;
        assert!(
            (c.decode)(&bad).is_err(),
            "byte {i} changed by {flip:#x} went unnoticed"
        );
    }
}

/// Page tokens: arbitrary strings never panic the decoder; structured tokens round-trip and
/// an edited character is refused.
pub fn page_token_with(c: TokenCodec, data: &[u8]) {
    let _ = (c.decode)(&String::from_utf8_lossy(data));
    let mut u = Unstructured::new(data);
    let (Ok(scope), Ok(key), Ok(at)) = (
        Vec::<u8>::arbitrary(&mut u),
        Vec::<u8>::arbitrary(&mut u),
        usize::arbitrary(&mut u),
    ) else {
        return;
    };
    let t = (c.encode)(&scope, &key);
    let body = (c.decode)(t.as_str()).expect("own token decodes");
    assert_eq!((body.scope, body.last_key), (scope, key));
    let mut chars: Vec<char> = t.as_str().chars().collect();
    let i = at % chars.len();
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let edited: String = chars.into_iter().collect();
    assert!(
        (c.decode)(&edited).is_err(),
        "edited token {edited:?} accepted"
    );
}

/// Metadata: JSON text → `Metadata` → JSON is lossless; structured trees survive the archive
/// bit for bit and JSON whenever JSON can hold them.
pub fn metadata_with(c: MetadataCodec, data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
            if let Ok(m) = (c.from_json)(&json) {
                assert_eq!(
                    (c.to_json)(&m).as_ref(),
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
    if let Ok(json) = (c.to_json)(&m) {
        assert_eq!(
            (c.from_json)(&json),
            Ok(m.clone()),
            "JSON round trip changed {m:?}"
        );
        let text = serde_json::to_string(&json).expect("serialises");
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("parses its own output");
        assert_eq!(
            (c.from_json)(&parsed),
            Ok(m),
            "JSON text round trip changed it"
        );
    }
}
