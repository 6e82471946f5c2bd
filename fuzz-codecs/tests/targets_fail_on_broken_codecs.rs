//! A fuzz target that cannot fail proves nothing. Each codec target is run on pseudo-random
//! inputs twice: with a deliberately broken codec it must panic on some of them, and with the
//! real codec on none (the same inputs).

use syncproof_engine::codec::key::{encode_key, KeyKind, Part};
use syncproof_engine::codec::token::encode_token;
use syncproof_engine::codec::{envelope, CodecError};
use syncproof_engine::sync_run::splitmix64;
use syncproof_engine::{Metadata, MetadataJsonError, PageToken, Record};
use syncproof_fuzz_codecs::*;

/// 400 inputs of 64..320 pseudo-random bytes.
fn inputs() -> Vec<Vec<u8>> {
    (0..400u64)
        .map(|s| {
            let n = 64 + (splitmix64(s) % 256) as usize;
            (0..n as u64)
                .map(|i| splitmix64(s * 7919 + i) as u8)
                .collect()
        })
        .collect()
}

/// How many of the inputs make `target` panic.
fn failures(target: &dyn Fn(&[u8])) -> usize {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let n = inputs()
        .iter()
        .filter(|d| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(d))).is_err())
        .count();
    std::panic::set_hook(hook);
    n
}

fn fails_broken_only(name: &str, real: &dyn Fn(&[u8]), broken: &dyn Fn(&[u8])) {
    assert_eq!(
        failures(real),
        0,
        "{name}: the real codec fails its own target"
    );
    let caught = failures(broken);
    assert!(caught > 0, "{name}: the broken codec passed all 400 inputs");
    eprintln!("{name}: the broken codec failed {caught} of 400 inputs");
}

/// Forgets the last byte of every key (the terminator of its last part).
fn key_without_terminator(kind: KeyKind, parts: &[Part<'_>]) -> Result<Vec<u8>, CodecError> {
    let mut k = encode_key(kind, parts)?;
    k.pop();
    Ok(k)
}

#[test]
fn key_codec_catches_a_key_encoder_that_drops_its_terminator() {
    let broken = KeyCodec {
        encode: key_without_terminator,
        ..KEYS
    };
    fails_broken_only("key_codec", &key_codec, &|d| key_codec_with(broken, d));
}

/// Writes every record with its annotations dropped.
fn encode_without_annotations(r: &Record) -> Result<Vec<u8>, CodecError> {
    let mut r = r.clone();
    match &mut r {
        Record::ResourceType(x) => x.annotations = Metadata::Null,
        Record::Resource(x) => x.annotations = Metadata::Null,
        Record::Entitlement(x) => x.annotations = Metadata::Null,
        Record::Grant(x) => x.annotations = Metadata::Null,
        Record::Asset(x) => x.annotations = Metadata::Null,
    }
    envelope::encode_record(&r)
}

#[test]
fn envelope_catches_an_encoder_that_drops_annotations() {
    let broken = EnvelopeCodec {
        encode: encode_without_annotations,
        ..ENVELOPES
    };
    fails_broken_only("envelope", &envelope, &|d| envelope_with(broken, d));
}

/// Forgets the last byte of the key a token resumes after.
fn token_short_by_one(scope: &[u8], key: &[u8]) -> PageToken {
    encode_token(scope, &key[..key.len().saturating_sub(1)])
}

#[test]
fn page_token_catches_a_token_that_loses_a_key_byte() {
    let broken = TokenCodec {
        encode: token_short_by_one,
        ..TOKENS
    };
    fails_broken_only("page_token", &page_token, &|d| page_token_with(broken, d));
}

/// Rounds every float to `f32` on the way to JSON.
fn to_json_in_f32(m: &Metadata) -> Result<serde_json::Value, MetadataJsonError> {
    fn round(m: &Metadata) -> Metadata {
        match m {
            Metadata::F64(f) => Metadata::F64(f64::from(*f as f32)),
            Metadata::List(v) => Metadata::List(v.iter().map(round).collect()),
            Metadata::Map(v) => {
                Metadata::Map(v.iter().map(|(k, x)| (k.clone(), round(x))).collect())
            }
            other => other.clone(),
        }
    }
    round(m).to_json()
}

#[test]
fn metadata_catches_floats_rounded_to_f32() {
    let broken = MetadataCodec {
        to_json: to_json_in_f32,
        ..METADATA
    };
    fails_broken_only("metadata", &metadata, &|d| metadata_with(broken, d));
}
