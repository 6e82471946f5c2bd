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
    /// The input ended inside an item.
    #[error("truncated: needed {needed} bytes at offset {offset}, have {len}")]
    Truncated {
        /// Where the item starts.
        offset: usize,
        /// How many bytes it needs.
        needed: usize,
        /// How many the input has.
        len: usize,
    },
    /// A format version this build does not read.
    #[error("unsupported format version {0}")]
    Version(u8),
    /// A tag byte with no meaning.
    #[error("unknown {what} tag {tag:#04x}")]
    UnknownTag {
        /// What the tag names (key kind, value kind, …).
        what: &'static str,
        /// The byte.
        tag: u8,
    },
    /// A `\0` in a key string followed by something other than an escape or terminator.
    #[error("invalid escape byte {byte:#04x} at offset {offset}")]
    BadEscape {
        /// Where the byte is.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A key string that is not UTF-8.
    #[error("component {index} is not UTF-8")]
    NotUtf8 {
        /// Which part of the key.
        index: usize,
    },
    /// Bytes after a complete item.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// The checksum over header and payload does not match.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The checksum the bytes carry.
        stored: u32,
        /// The checksum of the bytes.
        computed: u32,
    },
    /// A key part of the wrong type for its kind.
    #[error("wrong part type for key kind {kind}: part {index}")]
    Schema {
        /// The key kind.
        kind: &'static str,
        /// Which part.
        index: usize,
    },
    /// The archived payload does not validate.
    #[error("payload does not validate: {0}")]
    Payload(String),
    /// A page token that is not base64.
    #[error("not base64: {0}")]
    Base64(String),
    /// An input over its size limit.
    #[error("too long: {len} bytes, limit {limit}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The header and the payload disagree about the record.
    #[error("header says {header} but payload says {payload}")]
    Mismatch {
        /// What the header says.
        header: String,
        /// What the payload says.
        payload: String,
    },
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
    // The error is built only on failure: this is on every decoder's hot path.
    let truncated = || CodecError::Truncated {
        offset: *pos,
        needed: n,
        len: bytes.len(),
    };
    let out = pos
        .checked_add(n)
        .and_then(|end| bytes.get(*pos..end))
        .ok_or_else(truncated)?;
    *pos += n;
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
