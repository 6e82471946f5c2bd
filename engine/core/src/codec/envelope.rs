//! The value envelope: a fixed header, then the record archived by rkyv.
//!
//! ```text
//! 0      version        u8   (ENVELOPE_VERSION)
//! 1      value kind     u8   (ValueKind tag)
//! 2..10  discovered_at  i64 big-endian (for sync runs: started_at)
//! 10..14 checksum       u32 big-endian, CRC-32 of bytes 0..10 and the payload
//! 14..   payload        rkyv archive (format fixed by the `unaligned`, `little_endian` and
//!                       `pointer_width_32` features: any byte alignment is readable)
//! ```
//!
//! [`peek_discovered_at`] reads only the header (if-newer decides without the payload);
//! [`open`] also verifies the checksum; the `decode_*` functions validate the archive with
//! bytecheck (never unchecked access) and cross-check header against payload.

use super::{take, take_array, CodecError};
use crate::record::{
    Asset, Entitlement, Grant, Record, RecordKind, RecordRef, Resource, ResourceType,
};
use crate::sync_run::SyncRun;
use crate::time::Timestamp;
use crate::view::RecordView;

/// Version byte of the envelope format.
pub const ENVELOPE_VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 14;

/// What an envelope holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValueKind {
    /// A sync run.
    SyncRun = 1,
    /// A resource type.
    ResourceType = 2,
    /// A resource.
    Resource = 3,
    /// An entitlement.
    Entitlement = 4,
    /// A grant.
    Grant = 5,
    /// An asset.
    Asset = 6,
}

impl ValueKind {
    /// Every kind, in tag order.
    pub const ALL: [ValueKind; 6] = [
        ValueKind::SyncRun,
        ValueKind::ResourceType,
        ValueKind::Resource,
        ValueKind::Entitlement,
        ValueKind::Grant,
        ValueKind::Asset,
    ];
    /// The kind with this tag byte (`None`: an unknown tag).
    pub fn from_tag(tag: u8) -> Option<ValueKind> {
        Self::ALL.into_iter().find(|k| *k as u8 == tag)
    }
    /// The kind of a record.
    pub fn of(record: RecordRef<'_>) -> ValueKind {
        match record {
            RecordRef::ResourceType(_) => ValueKind::ResourceType,
            RecordRef::Resource(_) => ValueKind::Resource,
            RecordRef::Entitlement(_) => ValueKind::Entitlement,
            RecordRef::Grant(_) => ValueKind::Grant,
            RecordRef::Asset(_) => ValueKind::Asset,
        }
    }
}

/// A checked view of an envelope's header and payload bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// What the payload holds.
    pub kind: ValueKind,
    /// The record's `discovered_at`, readable without the payload.
    pub discovered_at: Timestamp,
    /// The archived record (checksummed with the header).
    pub payload: &'a [u8],
}

fn header(kind: ValueKind, t: Timestamp) -> [u8; 10] {
    let mut h = [0u8; 10];
    h[0] = ENVELOPE_VERSION;
    h[1] = kind as u8;
    h[2..10].copy_from_slice(&t.0.to_be_bytes());
    h
}

fn checksum(head: &[u8], payload: &[u8]) -> u32 {
    let mut c = crc32fast::Hasher::new();
    c.update(head);
    c.update(payload);
    c.finalize()
}

fn seal(kind: ValueKind, t: Timestamp, payload: &[u8]) -> Vec<u8> {
    let head = header(kind, t);
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&head);
    out.extend_from_slice(&checksum(&head, payload).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn archive_err(e: rkyv::rancor::Error) -> CodecError {
    CodecError::Payload(e.to_string())
}

/// Encodes a record into an envelope.
pub fn encode_record(record: &Record) -> Result<Vec<u8>, CodecError> {
    encode(record.as_ref())
}

/// Encodes a borrowed record into an envelope.
pub fn encode(record: RecordRef<'_>) -> Result<Vec<u8>, CodecError> {
    let payload = archive(record)?;
    Ok(seal(
        ValueKind::of(record),
        record.discovered_at(),
        &payload,
    ))
}

/// The rkyv archive of a record: an envelope's payload, and what a lending read of an owned
/// record lends ([`crate::view::lend`]).
pub fn archive(record: RecordRef<'_>) -> Result<rkyv::util::AlignedVec, CodecError> {
    match record {
        RecordRef::ResourceType(r) => rkyv::to_bytes::<rkyv::rancor::Error>(r),
        RecordRef::Resource(r) => rkyv::to_bytes::<rkyv::rancor::Error>(r),
        RecordRef::Entitlement(r) => rkyv::to_bytes::<rkyv::rancor::Error>(r),
        RecordRef::Grant(r) => rkyv::to_bytes::<rkyv::rancor::Error>(r),
        RecordRef::Asset(r) => rkyv::to_bytes::<rkyv::rancor::Error>(r),
    }
    .map_err(archive_err)
}

/// Encodes a sync run into an envelope (header time: `started_at`).
pub fn encode_sync_run(run: &SyncRun) -> Result<Vec<u8>, CodecError> {
    let payload = rkyv::to_bytes::<rkyv::rancor::Error>(run).map_err(archive_err)?;
    Ok(seal(ValueKind::SyncRun, run.started_at, &payload))
}

fn parse_header(bytes: &[u8]) -> Result<(ValueKind, Timestamp, u32, usize), CodecError> {
    let mut pos = 0;
    let [version, tag] = take_array::<2>(bytes, &mut pos)?;
    if version != ENVELOPE_VERSION {
        return Err(CodecError::Version(version));
    }
    let kind = ValueKind::from_tag(tag).ok_or(CodecError::UnknownTag {
        what: "value kind",
        tag,
    })?;
    let t = i64::from_be_bytes(take_array::<8>(bytes, &mut pos)?);
    let stored = u32::from_be_bytes(take_array::<4>(bytes, &mut pos)?);
    Ok((kind, Timestamp(t), stored, pos))
}

/// Reads `discovered_at` from the header alone (no checksum, no payload).
pub fn peek_discovered_at(bytes: &[u8]) -> Result<Timestamp, CodecError> {
    parse_header(bytes).map(|(_, t, _, _)| t)
}

/// Parses the header and verifies the checksum over header and payload.
pub fn open(bytes: &[u8]) -> Result<Envelope<'_>, CodecError> {
    let (kind, discovered_at, stored, mut pos) = parse_header(bytes)?;
    let payload = take(bytes, &mut pos, bytes.len() - HEADER_LEN)?;
    let head = bytes.get(..10).ok_or(CodecError::Truncated {
        offset: 0,
        needed: 10,
        len: bytes.len(),
    })?;
    let computed = checksum(head, payload);
    if stored != computed {
        return Err(CodecError::Checksum { stored, computed });
    }
    Ok(Envelope {
        kind,
        discovered_at,
        payload,
    })
}

fn expect_kind(env: &Envelope<'_>, want: ValueKind) -> Result<(), CodecError> {
    if env.kind == want {
        Ok(())
    } else {
        Err(CodecError::Mismatch {
            header: format!("{:?}", env.kind),
            payload: format!("{want:?} expected"),
        })
    }
}

fn expect_time(header: Timestamp, payload: Timestamp) -> Result<(), CodecError> {
    if header == payload {
        Ok(())
    } else {
        Err(CodecError::Mismatch {
            header: format!("time {}", header.0),
            payload: format!("time {}", payload.0),
        })
    }
}

/// Where `discovered_at` sits in a record's archive, counted back from the archive's end:
/// rkyv puts the root object last, and its size and field offsets are fixed by the type.
fn discovered_at_from_end(kind: ValueKind) -> Option<usize> {
    use core::mem::{offset_of, size_of};
    macro_rules! from_end {
        ($t:ty) => {
            size_of::<rkyv::Archived<$t>>() - offset_of!(rkyv::Archived<$t>, discovered_at)
        };
    }
    Some(match kind {
        ValueKind::ResourceType => from_end!(ResourceType),
        ValueKind::Resource => from_end!(Resource),
        ValueKind::Entitlement => from_end!(Entitlement),
        ValueKind::Grant => from_end!(Grant),
        ValueKind::Asset => from_end!(Asset),
        ValueKind::SyncRun => return None,
    })
}

/// Whether two record envelopes hold records that are equal but for `discovered_at`, decided
/// on the bytes: both checksums hold, the kinds match, and the archives are byte for byte
/// equal outside the 8 bytes of `discovered_at`. `false` means "not shown equal" (the caller
/// decodes and compares: two NaNs of different bits are equal content but not equal bytes);
/// `true` is exact, since equal archive bytes decode to equal values.
pub fn same_but_discovered_at(a: &[u8], b: &[u8]) -> bool {
    let (Ok(x), Ok(y)) = (open(a), open(b)) else {
        return false;
    };
    let Some(from_end) = discovered_at_from_end(x.kind) else {
        return false;
    };
    let n = x.payload.len();
    if x.kind != y.kind || n != y.payload.len() || n < from_end {
        return false;
    }
    let at = n - from_end;
    let field = at..at + size_of::<rkyv::Archived<Timestamp>>();
    x.payload.get(..field.start) == y.payload.get(..field.start)
        && x.payload.get(field.end..) == y.payload.get(field.end..)
}

/// The record kind of an envelope's value kind (`None`: a sync run).
fn record_kind(kind: ValueKind) -> Option<RecordKind> {
    Some(match kind {
        ValueKind::ResourceType => RecordKind::ResourceType,
        ValueKind::Resource => RecordKind::Resource,
        ValueKind::Entitlement => RecordKind::Entitlement,
        ValueKind::Grant => RecordKind::Grant,
        ValueKind::Asset => RecordKind::Asset,
        ValueKind::SyncRun => return None,
    })
}

/// Views any record envelope without decoding it: checksum, archive validation (bytecheck)
/// and header/payload agreement, as [`decode_record`] checks; the view borrows `bytes`.
pub fn view(bytes: &[u8]) -> Result<RecordView<'_>, CodecError> {
    let env = open(bytes)?;
    let kind = record_kind(env.kind).ok_or_else(|| CodecError::Mismatch {
        header: "SyncRun".into(),
        payload: "a record expected".into(),
    })?;
    let view = crate::view::access(kind, env.payload).map_err(CodecError::Payload)?;
    expect_time(env.discovered_at, view.discovered_at())?;
    Ok(view)
}

/// Decodes any record envelope (checksum, archive validation, header/payload agreement):
/// [`view`], then every field decoded.
pub fn decode_record(bytes: &[u8]) -> Result<Record, CodecError> {
    view(bytes)?
        .to_record()
        .map_err(|e| CodecError::Payload(e.message))
}

/// Decodes a sync-run envelope.
pub fn decode_sync_run(bytes: &[u8]) -> Result<SyncRun, CodecError> {
    let env = open(bytes)?;
    expect_kind(&env, ValueKind::SyncRun)?;
    let run = rkyv::from_bytes::<SyncRun, rkyv::rancor::Error>(env.payload).map_err(archive_err)?;
    expect_time(env.discovered_at, run.started_at)?;
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::ResourceId;
    use crate::metadata::Metadata;
    use crate::record::EntitlementRef;

    fn grant() -> Record {
        Record::Grant(Grant {
            id: "g1".into(),
            entitlement: EntitlementRef {
                id: "member".into(),
                resource: ResourceId::new("group", "eng"),
            },
            principal: ResourceId::new("user", "alice"),
            sources: vec!["src".into()],
            annotations: Metadata::map([("k", Metadata::Bytes(vec![0, 1, 2]))]),
            discovered_at: Timestamp(42),
        })
    }

    /// Byte-equal but for `discovered_at` holds for each kind exactly when only
    /// `discovered_at` differs: a change of any other field, of any length, is not masked.
    #[test]
    fn same_but_discovered_at_masks_that_field_alone() {
        use crate::contract::{asset, child, ent, grant, res, rt, Discovered};
        use crate::record::RecordType;
        let t = |n| Timestamp(n);
        let kinds: Vec<(Record, Record)> = vec![
            (rt("user").into_record(), rt("users").into_record()),
            (
                res("user", "a").into_record(),
                res("user", "b").into_record(),
            ),
            (
                child("user", "a", "org", "x").into_record(),
                child("user", "a", "org", "y").into_record(),
            ),
            (
                ent("m", "group", "g").into_record(),
                ent("n", "group", "g").into_record(),
            ),
            (
                grant("g", "m", "group", "eng", "user", "a").into_record(),
                grant("g", "m", "group", "eng", "user", "b").into_record(),
            ),
            (
                asset("a", b"xy").into_record(),
                asset("a", b"xz").into_record(),
            ),
        ];
        for (one, other) in kinds {
            let with = |r: &Record, at: i64| -> Vec<u8> {
                let r = match r.clone() {
                    Record::ResourceType(x) => Record::ResourceType(x.discovered(t(at))),
                    Record::Resource(x) => Record::Resource(x.discovered(t(at))),
                    Record::Entitlement(x) => Record::Entitlement(x.discovered(t(at))),
                    Record::Grant(x) => Record::Grant(x.discovered(t(at))),
                    Record::Asset(x) => Record::Asset(x.discovered(t(at))),
                };
                encode_record(&r).unwrap()
            };
            let a = with(&one, 1);
            assert!(same_but_discovered_at(&a, &with(&one, -7)), "{one:?}");
            assert!(same_but_discovered_at(&a, &a));
            assert!(
                !same_but_discovered_at(&a, &with(&other, 1)),
                "{one:?} {other:?}"
            );
            assert!(!same_but_discovered_at(&a, &with(&other, 9)));
            // A damaged copy is never shown equal.
            let mut bad = with(&one, 5);
            if let Some(b) = bad.last_mut() {
                *b ^= 1;
            }
            assert!(!same_but_discovered_at(&a, &bad));
        }
    }

    #[test]
    fn round_trip_and_peek() {
        let bytes = encode_record(&grant()).unwrap();
        assert_eq!(peek_discovered_at(&bytes), Ok(Timestamp(42)));
        assert_eq!(decode_record(&bytes), Ok(grant()));
    }

    #[test]
    fn reads_at_any_alignment() {
        let bytes = encode_record(&grant()).unwrap();
        for shift in 0..16 {
            let mut buf = vec![0u8; shift];
            buf.extend_from_slice(&bytes);
            assert_eq!(decode_record(&buf[shift..]), Ok(grant()), "shift {shift}");
        }
    }

    #[test]
    fn every_flipped_bit_is_caught() {
        let bytes = encode_record(&grant()).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert!(decode_record(&b).is_err(), "bit {i} flipped went unnoticed");
        }
    }

    #[test]
    fn kinds_are_checked() {
        let run = SyncRun {
            id: crate::sync_run::SyncId::new("s"),
            sync_type: crate::sync_run::SyncType::Full,
            parent: None,
            started_at: Timestamp(1),
            ended_at: None,
            token: String::new(),
        };
        let bytes = encode_sync_run(&run).unwrap();
        assert_eq!(decode_sync_run(&bytes), Ok(run));
        assert!(decode_record(&bytes).is_err());
        assert!(decode_sync_run(&encode_record(&grant()).unwrap()).is_err());
    }
}
