//! Page tokens: `base64url(version | scope_len u32 | scope | key_len u32 | last_key | crc32)`.
//!
//! The scope binds a token to one list, filter and sync (the engine builds it; equal scope
//! means same list); `last_key` is the last key returned, and resuming is exclusive of it. The
//! CRC catches mangled tokens; a well-formed token with another scope is refused by the engine.

use super::{take, take_array, CodecError};
use crate::page::PageToken;
use base64::Engine as _;

/// Version byte of the token format.
pub const TOKEN_VERSION: u8 = 1;
/// Longest token string accepted (keys are at most a few KiB; this bounds decoding work).
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What a token carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBody {
    /// What list the token was issued for (a token of another list is refused).
    pub scope: Vec<u8>,
    /// The key of the last item of the page: the next page starts strictly after it.
    pub last_key: Vec<u8>,
}

/// Encodes a token for `scope` resuming after `last_key`.
pub fn encode_token(scope: &[u8], last_key: &[u8]) -> PageToken {
    let mut raw = Vec::with_capacity(13 + scope.len() + last_key.len());
    raw.push(TOKEN_VERSION);
    raw.extend_from_slice(&(scope.len() as u32).to_be_bytes());
    raw.extend_from_slice(scope);
    raw.extend_from_slice(&(last_key.len() as u32).to_be_bytes());
    raw.extend_from_slice(last_key);
    let crc = crc32fast::hash(&raw);
    raw.extend_from_slice(&crc.to_be_bytes());
    PageToken(B64.encode(raw))
}

/// Decodes a token string of any content.
pub fn decode_token(token: &str) -> Result<TokenBody, CodecError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(CodecError::TooLong {
            len: token.len(),
            limit: MAX_TOKEN_LEN,
        });
    }
    let raw = B64
        .decode(token)
        .map_err(|e| CodecError::Base64(e.to_string()))?;
    let body_len = raw.len().checked_sub(4).ok_or(CodecError::Truncated {
        offset: 0,
        needed: 4,
        len: raw.len(),
    })?;
    let (body, tail) = raw.split_at(body_len);
    let stored = u32::from_be_bytes(take_array::<4>(tail, &mut 0)?);
    let computed = crc32fast::hash(body);
    if stored != computed {
        return Err(CodecError::Checksum { stored, computed });
    }
    let mut pos = 0;
    let [version] = take_array::<1>(body, &mut pos)?;
    if version != TOKEN_VERSION {
        return Err(CodecError::Version(version));
    }
    let scope_len = u32::from_be_bytes(take_array::<4>(body, &mut pos)?) as usize;
    let scope = take(body, &mut pos, scope_len)?.to_vec();
    let key_len = u32::from_be_bytes(take_array::<4>(body, &mut pos)?) as usize;
    let last_key = take(body, &mut pos, key_len)?.to_vec();
    if pos != body.len() {
        return Err(CodecError::Trailing(body.len() - pos));
    }
    Ok(TokenBody { scope, last_key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = encode_token(b"scope", b"\x00key\xff");
        assert_eq!(
            decode_token(t.as_str()),
            Ok(TokenBody {
                scope: b"scope".to_vec(),
                last_key: b"\x00key\xff".to_vec()
            })
        );
    }

    #[test]
    fn rejects_mangled_tokens() {
        let t = encode_token(b"scope", b"k").0;
        for i in 0..t.len() {
            let mut chars: Vec<char> = t.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let s: String = chars.into_iter().collect();
            assert!(decode_token(&s).is_err(), "edit at {i} accepted");
        }
        assert!(decode_token("").is_err());
        assert!(decode_token("!!!").is_err());
        assert!(decode_token(&"A".repeat(MAX_TOKEN_LEN + 1)).is_err());
    }
}
