//! The one error type of the engine boundary, with the kinds of SPEC §6.

use std::fmt;
use std::sync::Arc;

/// The error kinds the harness compares; messages are free text and never compared.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ErrorKind {
    /// A bad id, filter, page size or record (SPEC §6).
    InvalidArgument,
    /// A named sync that does not exist.
    NotFound,
    /// A sync being imported already exists.
    AlreadyExists,
    /// A call not allowed in the current state (no current sync, unfinished sync, …).
    FailedPrecondition,
    /// A page token that is malformed, tampered with or issued for another list.
    InvalidPageToken,
    /// Stored bytes that do not decode or do not check.
    Corruption,
    /// The storage below failed.
    Io,
}

impl ErrorKind {
    /// Every kind, in declaration order (used for coverage tables).
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::InvalidArgument,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::FailedPrecondition,
        ErrorKind::InvalidPageToken,
        ErrorKind::Corruption,
        ErrorKind::Io,
    ];

    /// Stable name, as printed in reports and repro files.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::FailedPrecondition => "FailedPrecondition",
            ErrorKind::InvalidPageToken => "InvalidPageToken",
            ErrorKind::Corruption => "Corruption",
            ErrorKind::Io => "Io",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An engine error: a kind the harness compares plus a message with context for humans, and
/// the upstream error it came from, if any ([`std::error::Error::source`]). Two errors are
/// equal when their kinds and messages are; the source is not compared.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Error {
    /// What kind of failure (the harness compares kinds, never messages).
    pub kind: ErrorKind,
    /// What happened, with context.
    pub message: String,
    /// The upstream error, kept for `source()`.
    #[source]
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for Error {}

/// Result with the engine [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }
    /// Keeps `source` as the error's [`std::error::Error::source`].
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
    /// An [`ErrorKind::InvalidArgument`] error.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    /// An [`ErrorKind::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// An [`ErrorKind::AlreadyExists`] error.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::AlreadyExists, message)
    }
    /// An [`ErrorKind::FailedPrecondition`] error.
    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FailedPrecondition, message)
    }
    /// An [`ErrorKind::InvalidPageToken`] error.
    pub fn invalid_page_token(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidPageToken, message)
    }
    /// An [`ErrorKind::Corruption`] error.
    pub fn corruption(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corruption, message)
    }
    /// An [`ErrorKind::Io`] error.
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }
    /// Prefixes the message with what was being done, keeping the kind.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io(e.to_string()).with_source(e)
    }
}
