//! Byte codecs shared by the key-value engines: order-preserving keys, the value envelope,
//! and page tokens. Every decoder takes arbitrary bytes and returns `Result`.

pub mod envelope;
pub mod key;
pub mod token;

use crate::error::Error;

/// Why bytes did not decode. Converted to [`crate::ErrorKind::Corruption`] for stored bytes and
/// [`crate::ErrorKind::InvalidPageToken`] for tokens.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("truncated: needed {needed} bytes at offset {offset}, have {len}")]
    Truncated {
        offset: usize,
        needed: usize,
        len: usize,
    },
    #[error("unsupported format version {0}")]
    Version(u8),
    #[error("unknown {what} tag {tag:#04x}")]
    UnknownTag { what: &'static str, tag: u8 },
    #[error("invalid escape byte {byte:#04x} at offset {offset}")]
    BadEscape { offset: usize, byte: u8 },
    #[error("component {index} is not UTF-8")]
    NotUtf8 { index: usize },
    #[error("{0} trailing bytes")]
    Trailing(usize),
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum { stored: u32, computed: u32 },
    #[error("wrong part type for key kind {kind}: part {index}")]
    Schema { kind: &'static str, index: usize },
    #[error("payload does not validate: {0}")]
    Payload(String),
    #[error("not base64: {0}")]
    Base64(String),
    #[error("too long: {len} bytes, limit {limit}")]
    TooLong { len: usize, limit: usize },
    #[error("header says {header} but payload says {payload}")]
    Mismatch { header: String, payload: String },
}

impl CodecError {
    /// As an engine error about stored bytes.
    pub fn corruption(self, what: impl std::fmt::Display) -> Error {
        Error::corruption(format!("{what}: {self}"))
    }
    /// As an engine error about a caller's page token.
    pub fn page_token(self) -> Error {
        Error::invalid_page_token(format!("page token: {self}"))
    }
}

/// Reads `n` bytes at `*pos`, advancing it; the shared bounds check of all decoders.
pub(crate) fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], CodecError> {
    let truncated = CodecError::Truncated {
        offset: *pos,
        needed: n,
        len: bytes.len(),
    };
    let end = pos.checked_add(n).ok_or(truncated.clone())?;
    let out = bytes.get(*pos..end).ok_or(truncated)?;
    *pos = end;
    Ok(out)
}

/// Reads a fixed-size array at `*pos`.
pub(crate) fn take_array<const N: usize>(
    bytes: &[u8],
    pos: &mut usize,
) -> Result<[u8; N], CodecError> {
    let s = take(bytes, pos, N)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}
