//! The oracle's own page tokens, deliberately independent of the core token codec:
//! lowercase hex of length-prefixed UTF-8 fields `["mem1", scope, key parts…]` followed by
//! an FNV-1a 64 hash of those bytes, so an edited token is refused rather than resumed from
//! a key the engine never returned.

use syncproof_engine::{Error, PageToken, Result};

const MAGIC: &str = "mem1";

/// Builds a token for `scope` resuming after the key with `parts`.
pub(crate) fn encode(scope: &str, parts: &[String]) -> PageToken {
    let mut raw = Vec::new();
    for f in std::iter::once(MAGIC)
        .chain(std::iter::once(scope))
        .chain(parts.iter().map(String::as_str))
    {
        raw.extend_from_slice(&(f.len() as u32).to_be_bytes());
        raw.extend_from_slice(f.as_bytes());
    }
    raw.extend_from_slice(&fnv1a(&raw).to_be_bytes());
    PageToken(raw.iter().map(|b| format!("{b:02x}")).collect())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Reads a token; it must carry exactly `scope`. Returns the key parts.
pub(crate) fn decode(token: &PageToken, scope: &str) -> Result<Vec<String>> {
    let bad = |why: &str| Error::invalid_page_token(format!("page token: {why}"));
    let s = token.as_str();
    if s.len() % 2 != 0 || !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad("not lowercase hex"));
    }
    let raw: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad("not hex"))?;
    let (body, hash) = raw
        .split_last_chunk::<8>()
        .ok_or_else(|| bad("too short"))?;
    if u64::from_be_bytes(*hash) != fnv1a(body) {
        return Err(bad("checksum mismatch"));
    }
    let mut fields = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("truncated length"))?;
        let len = u32::from_be_bytes(*len) as usize;
        if tail.len() < len {
            return Err(bad("truncated field"));
        }
        let (field, tail) = tail.split_at(len);
        fields.push(String::from_utf8(field.to_vec()).map_err(|_| bad("field is not UTF-8"))?);
        rest = tail;
    }
    match fields.as_slice() {
        [magic, sc, parts @ ..] if magic == MAGIC => {
            if sc != scope {
                return Err(bad("issued for another list, filter or sync"));
            }
            Ok(parts.to_vec())
        }
        _ => Err(bad("not a memory-engine token")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_scope_binding() {
        let parts = vec!["a\0".to_string(), "é".to_string()];
        let t = encode("scope", &parts);
        assert_eq!(decode(&t, "scope").unwrap(), parts);
        assert!(decode(&t, "other").is_err());
        for junk in ["", "0", "zz", "00000001", "ffffffff00"] {
            assert!(decode(&PageToken(junk.into()), "scope").is_err(), "{junk}");
        }
    }
}
