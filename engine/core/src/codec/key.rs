//! Order-preserving binary keys: `version | kind | parts…`.
//!
//! A string part is its bytes with every `0x00` written as `0x00 0xFF`, then the terminator
//! `0x00 0x01`. An `i64` part is 8 big-endian bytes with the sign bit flipped. So the byte order
//! of two keys of one kind equals the tuple order of their parts (strings compared as bytes,
//! `"user" < "user\0" < "user_group"`), and since every kind has a fixed schema and the
//! encoding is self-delimiting, no key is a prefix of a key of another tuple. A key built from
//! the first parts of a schema is a scan prefix for all keys that start with those parts.
//! Index keys end with the primary key, so an index scan comes out in primary-key order.

use super::{take_array, CodecError};

/// Version byte every key starts with.
pub const KEY_FORMAT_VERSION: u8 = 1;

const ESC: u8 = 0x00;
const ESC_ZERO: u8 = 0xFF;
const TERM: u8 = 0x01;

/// The type of one key part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartType {
    /// A string: escaped, terminated, ordered bytewise.
    Str,
    /// A signed 64-bit integer: fixed width, ordered numerically.
    I64,
}

use PartType::{Str as S, I64 as N};

macro_rules! key_kinds {
    ($( $(#[$doc:meta])* $name:ident = $byte:literal, $label:literal, [$($part:expr),*]; )*) => {
        /// Every kind of key, primary and index, with its tag byte and schema.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum KeyKind { $( $(#[$doc])* $name = $byte, )* }

        impl KeyKind {
            /// All kinds, in tag order.
            pub const ALL: &'static [KeyKind] = &[$(KeyKind::$name),*];

            /// The kind with this tag byte.
            pub fn from_tag(tag: u8) -> Option<KeyKind> {
                match tag { $( $byte => Some(KeyKind::$name), )* _ => None }
            }
            /// Stable name for messages and snapshots.
            pub fn name(self) -> &'static str {
                match self { $( KeyKind::$name => $label, )* }
            }
            /// The part types of a full key of this kind.
            pub const fn schema(self) -> &'static [PartType] {
                match self { $( KeyKind::$name => &[$($part),*], )* }
            }
        }
    };
}

key_kinds! {
    /// Sync run by id: `[sync]`.
    SyncRun = 0x01, "sync_run", [S];
    /// Sync runs in list order: `[started_at, sync]`.
    SyncRunByStart = 0x02, "sync_run_by_start", [N, S];
    /// A sync that a diff or an import is writing: `[sync]`. Its records are invisible until
    /// its run exists (written last, in the batch that deletes this key); a store that opens
    /// with one left by a crash or an error removes the sync's keys (`KvStore::recover`).
    PendingSync = 0x03, "pending_sync", [S];
    /// `[sync, id]`.
    ResourceType = 0x10, "resource_type", [S, S];
    /// `[sync, resource_type, resource]`.
    Resource = 0x11, "resource", [S, S, S];
    /// `[sync, id]`.
    Entitlement = 0x12, "entitlement", [S, S];
    /// `[sync, id]`.
    Grant = 0x13, "grant", [S, S];
    /// `[sync, id]`.
    Asset = 0x14, "asset", [S, S];
    /// `[sync, parent_type, parent, resource_type, resource]`.
    ResourceByParent = 0x20, "resource_by_parent", [S, S, S, S, S];
    /// `[sync, resource_type, resource, entitlement]`.
    EntitlementByResource = 0x21, "entitlement_by_resource", [S, S, S, S];
    /// `[sync, resource_type, resource, grant]` (the entitlement's resource).
    GrantByResource = 0x22, "grant_by_resource", [S, S, S, S];
    /// `[sync, entitlement, grant]`.
    GrantByEntitlement = 0x23, "grant_by_entitlement", [S, S, S];
    /// `[sync, entitlement, principal_type, principal, grant]`.
    GrantByEntitlementPrincipal = 0x24, "grant_by_entitlement_principal", [S, S, S, S, S];
    /// `[sync, principal_type, principal, grant]`.
    GrantByPrincipal = 0x25, "grant_by_principal", [S, S, S, S];
    /// `[sync, resource_type, grant]` (the entitlement's resource type).
    GrantByResourceType = 0x26, "grant_by_resource_type", [S, S, S];
}

/// Longest encoded key any kind can have: every string part a [`crate::MAX_ID_LEN`]-byte id
/// of `\0` bytes (each escaped to two bytes) plus its terminator. Backends with a key-size
/// limit (libmdbx's depends on its page size) size themselves from this.
pub const MAX_KEY_LEN: usize = max_key_len();

// Indexing in a const fn is checked at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const fn max_key_len() -> usize {
    let mut best = 0;
    let mut i = 0;
    while i < KeyKind::ALL.len() {
        let schema = KeyKind::ALL[i].schema();
        let mut len = 2; // version and kind
        let mut j = 0;
        while j < schema.len() {
            len += match schema[j] {
                PartType::Str => 2 * crate::id::MAX_ID_LEN + 2,
                PartType::I64 => 8,
            };
            j += 1;
        }
        if len > best {
            best = len;
        }
        i += 1;
    }
    best
}

impl KeyKind {
    /// Whether the first part is a sync id (all kinds but the sync-run ones).
    pub fn is_sync_scoped(self) -> bool {
        !matches!(self, KeyKind::SyncRun | KeyKind::SyncRunByStart)
    }
}

/// One part of a key, borrowed for encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part<'a> {
    /// A string part.
    Str(&'a str),
    /// An integer part.
    I64(i64),
}

/// One decoded part.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OwnedPart {
    /// A string part.
    Str(String),
    /// An integer part.
    I64(i64),
}

impl OwnedPart {
    /// A borrowed view of the part.
    pub fn as_part(&self) -> Part<'_> {
        match self {
            OwnedPart::Str(s) => Part::Str(s),
            OwnedPart::I64(i) => Part::I64(*i),
        }
    }
}

/// Builds a key (or a scan prefix) part by part, appending to one buffer.
#[derive(Clone, Debug)]
pub struct KeyBuilder {
    buf: Vec<u8>,
}

impl KeyBuilder {
    /// A key of `kind`, parts to follow.
    pub fn new(kind: KeyKind) -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.push(KEY_FORMAT_VERSION);
        buf.push(kind as u8);
        KeyBuilder { buf }
    }
    /// Appends a string part.
    pub fn str(mut self, s: &str) -> Self {
        push_str(&mut self.buf, s);
        self
    }
    /// Appends an `i64` part.
    pub fn i64(mut self, v: i64) -> Self {
        self.buf
            .extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
        self
    }
    /// Appends any part.
    pub fn part(self, p: Part<'_>) -> Self {
        match p {
            Part::Str(s) => self.str(s),
            Part::I64(v) => self.i64(v),
        }
    }
    /// The encoded key.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// A key of `kind` whose parts are all strings, allocated once at its final size (unless a
/// part holds zero bytes, which escaping lengthens): the hot path of every record write.
pub fn str_key(kind: KeyKind, parts: &[&str]) -> Vec<u8> {
    let len = 2 + parts.iter().map(|p| p.len() + 2).sum::<usize>();
    let mut buf = Vec::with_capacity(len);
    buf.push(KEY_FORMAT_VERSION);
    buf.push(kind as u8);
    for p in parts {
        push_str(&mut buf, p);
    }
    buf
}

fn push_str(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    buf.reserve(bytes.len() + 2);
    // Copy runs between zero bytes in one go; the common id has none.
    let mut start = 0;
    for i in memchr::memchr_iter(0, bytes) {
        buf.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        buf.extend_from_slice(&[ESC, ESC_ZERO]);
        start = i + 1;
    }
    buf.extend_from_slice(bytes.get(start..).unwrap_or_default());
    buf.extend_from_slice(&[ESC, TERM]);
}

/// Encodes a full key, checking the parts against the kind's schema.
pub fn encode_key(kind: KeyKind, parts: &[Part<'_>]) -> Result<Vec<u8>, CodecError> {
    let schema = kind.schema();
    if parts.len() != schema.len() {
        return Err(CodecError::Schema {
            kind: kind.name(),
            index: parts.len().min(schema.len()),
        });
    }
    let mut b = KeyBuilder::new(kind);
    for (i, (p, t)) in parts.iter().zip(schema).enumerate() {
        match (p, t) {
            (Part::Str(_), PartType::Str) | (Part::I64(_), PartType::I64) => b = b.part(*p),
            _ => {
                return Err(CodecError::Schema {
                    kind: kind.name(),
                    index: i,
                })
            }
        }
    }
    Ok(b.finish())
}

/// A decoded key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedKey {
    /// The kind of key.
    pub kind: KeyKind,
    /// Its parts, in schema order.
    pub parts: Vec<OwnedPart>,
}

/// Decodes a full key of any kind; rejects anything that [`encode_key`] would not produce.
pub fn decode_key(bytes: &[u8]) -> Result<DecodedKey, CodecError> {
    let mut pos = 0;
    let [version, tag] = take_array::<2>(bytes, &mut pos)?;
    if version != KEY_FORMAT_VERSION {
        return Err(CodecError::Version(version));
    }
    let kind = KeyKind::from_tag(tag).ok_or(CodecError::UnknownTag {
        what: "key kind",
        tag,
    })?;
    let mut parts = Vec::with_capacity(kind.schema().len());
    for (index, t) in kind.schema().iter().enumerate() {
        parts.push(match t {
            PartType::I64 => {
                let raw = u64::from_be_bytes(take_array::<8>(bytes, &mut pos)?);
                OwnedPart::I64((raw ^ (1 << 63)) as i64)
            }
            PartType::Str => OwnedPart::Str(decode_str(bytes, &mut pos, index)?),
        });
    }
    if pos != bytes.len() {
        return Err(CodecError::Trailing(bytes.len() - pos));
    }
    Ok(DecodedKey { kind, parts })
}

fn decode_str(bytes: &[u8], pos: &mut usize, index: usize) -> Result<String, CodecError> {
    let mut out = Vec::new();
    loop {
        let rest = bytes.get(*pos..).unwrap_or_default();
        let Some(i) = rest.iter().position(|&b| b == ESC) else {
            return Err(CodecError::Truncated {
                offset: bytes.len(),
                needed: 2,
                len: bytes.len(),
            });
        };
        out.extend_from_slice(rest.get(..i).unwrap_or_default());
        *pos += i + 1;
        let [next] = take_array::<1>(bytes, pos)?;
        match next {
            ESC_ZERO => out.push(0),
            TERM => break,
            byte => {
                return Err(CodecError::BadEscape {
                    offset: *pos - 1,
                    byte,
                })
            }
        }
    }
    String::from_utf8(out).map_err(|_| CodecError::NotUtf8 { index })
}

/// The smallest key greater than every key starting with `prefix` (exclusive scan end);
/// `None` if no such key exists (prefix all `0xFF`).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_orderings() {
        let k =
            |s: &str| encode_key(KeyKind::ResourceType, &[Part::Str("s"), Part::Str(s)]).unwrap();
        assert!(k("user") < k("user\0"));
        assert!(k("user\0") < k("user\0x"));
        assert!(k("user\0x") < k("user_group"));
        assert!(k("") < k("\0"));
        let n =
            |v: i64| encode_key(KeyKind::SyncRunByStart, &[Part::I64(v), Part::Str("a")]).unwrap();
        assert!(n(i64::MIN) < n(-1) && n(-1) < n(0) && n(0) < n(i64::MAX));
    }

    #[test]
    fn schema_is_enforced() {
        assert!(encode_key(KeyKind::Grant, &[Part::Str("s")]).is_err());
        assert!(encode_key(KeyKind::SyncRunByStart, &[Part::Str("x"), Part::Str("s")]).is_err());
    }

    #[test]
    fn decoder_rejects_noncanonical_bytes() {
        let good = encode_key(KeyKind::Grant, &[Part::Str("s"), Part::Str("g")]).unwrap();
        assert!(decode_key(&good).is_ok());
        let mut trailing = good.clone();
        trailing.push(7);
        assert_eq!(decode_key(&trailing), Err(CodecError::Trailing(1)));
        let mut bad_escape = good.clone();
        let n = bad_escape.len();
        bad_escape[n - 1] = 0x02;
        assert!(matches!(
            decode_key(&bad_escape),
            Err(CodecError::BadEscape { .. })
        ));
        assert!(decode_key(&good[..good.len() - 1]).is_err());
        assert!(matches!(
            decode_key(&[9, 0x13]),
            Err(CodecError::Version(9))
        ));
        assert!(matches!(
            decode_key(&[1, 0x99]),
            Err(CodecError::UnknownTag { .. })
        ));
        assert!(decode_key(&[]).is_err());
    }

    #[test]
    fn max_key_len_is_reached_by_the_worst_key() {
        let nul = "\0".repeat(crate::MAX_ID_LEN);
        let worst = KeyKind::ALL
            .iter()
            .map(|&k| {
                let parts: Vec<Part> = k
                    .schema()
                    .iter()
                    .map(|t| match t {
                        PartType::Str => Part::Str(&nul),
                        PartType::I64 => Part::I64(0),
                    })
                    .collect();
                encode_key(k, &parts).unwrap().len()
            })
            .max();
        assert_eq!(worst, Some(MAX_KEY_LEN));
    }

    #[test]
    fn prefix_successor_bounds_the_prefix() {
        assert_eq!(prefix_successor(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
    }
}
