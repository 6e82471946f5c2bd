//! What one op did on one engine, in a form that compares across engines: values, and error
//! kinds rather than messages.

use serde::{Deserialize, Serialize};
use syncproof_engine::{ErrorKind, Record, Stats, SyncId, SyncRun};

/// The comparable result of one op. Errors compare by kind; their message is kept for
/// people reading a report, never compared.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// The op succeeded with this value.
    Ok(Box<Value>),
    /// The op failed: the kind is compared, the message is not.
    Err(ErrorKind, String),
    /// The engine panicked: always a finding.
    Panic(String),
    /// The engine contradicted itself within one op: its lending read (`visit_get`,
    /// `visit_list`) answered otherwise than its owned read with the same arguments.
    /// Always a finding, whatever the reference did.
    Incoherent(String),
}

impl PartialEq for Outcome {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Outcome::Ok(a), Outcome::Ok(b)) => a == b,
            (Outcome::Err(a, _), Outcome::Err(b, _)) => a == b,
            (Outcome::Panic(a), Outcome::Panic(b)) => a == b,
            (Outcome::Incoherent(a), Outcome::Incoherent(b)) => a == b,
            _ => false,
        }
    }
}

impl Outcome {
    /// A successful outcome.
    pub fn ok(v: Value) -> Self {
        Outcome::Ok(Box::new(v))
    }

    /// Whether the outcome is a finding on its own, needing no reference to compare with.
    pub fn is_broken(&self) -> bool {
        matches!(self, Outcome::Panic(_) | Outcome::Incoherent(_))
    }
}

impl From<syncproof_engine::Error> for Outcome {
    fn from(e: syncproof_engine::Error) -> Self {
        Outcome::Err(e.kind, e.message)
    }
}

/// The value of a successful op.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// Nothing to compare (the call succeeded).
    Unit,
    /// A boolean answer.
    Bool(bool),
    /// A sync id.
    Id(SyncId),
    /// What `start_sync` returned.
    Started {
        /// The sync.
        id: SyncId,
        /// Whether it was newly created.
        new: bool,
    },
    /// A checkpoint token.
    Token(String),
    /// A sync run, if it exists.
    Run(Option<SyncRun>),
    /// Every page of a paged read, and the error that ended it early, if any.
    RunPages {
        /// Every page read.
        pages: Vec<Vec<SyncRun>>,
        /// The error kind that ended the paging early, if any.
        error: Option<ErrorKind>,
    },
    /// One page of sync runs and whether it had a next token (a concurrent reader's read).
    RunPage {
        /// The page's runs.
        items: Vec<SyncRun>,
        /// Whether it had a next token.
        more: bool,
    },
    /// A record, if present.
    Record(Option<Record>),
    /// Every page of a paged list, and the error that ended it early, if any.
    Pages {
        /// Every page read.
        pages: Vec<Vec<Record>>,
        /// The error kind that ended the paging early, if any.
        error: Option<ErrorKind>,
    },
    /// One resumed page and whether it had a next token.
    Page {
        /// The page's records.
        items: Vec<Record>,
        /// Whether it had a next token.
        more: bool,
    },
    /// Record counts.
    Stats(Stats),
    /// The syncs `cleanup` deleted.
    Ids(Vec<SyncId>),
    /// The two syncs a diff created, with their contents read back.
    Diff {
        /// The upserts sync.
        upserts: SyncId,
        /// The deletions sync.
        deletions: SyncId,
        /// What the upserts sync holds.
        upserted: Vec<Record>,
        /// What the deletions sync holds.
        deleted: Vec<Record>,
    },
    /// A diff that answered its two syncs, whose contents could not be read back: kept
    /// apart from a failed diff, so a diff that should have failed and "succeeded" instead
    /// (its ids then name nothing readable) is a disagreement, not the same error kind.
    DiffUnreadable {
        /// The upserts sync.
        upserts: SyncId,
        /// The deletions sync.
        deletions: SyncId,
        /// Why reading them back failed.
        error: ErrorKind,
    },
    /// The two copies a clone across engines made: the foreign store's (read back by the
    /// memory engine, whatever the engine under test exports) and the one cloned back.
    ClonedAcross {
        /// The copied sync run, in the store cloned back into.
        run: Option<SyncRun>,
        /// The records of the foreign copy.
        foreign: Vec<Record>,
        /// The records of the copy cloned back.
        back: Vec<Record>,
    },
    /// The copy a clone made, read back from the target store.
    Cloned {
        /// The copied sync run.
        run: Option<SyncRun>,
        /// The copied records.
        records: Vec<Record>,
    },
}

impl Outcome {
    /// The error kind, if the op failed.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self {
            Outcome::Err(k, _) => Some(*k),
            Outcome::Ok(v) => match &**v {
                Value::Pages { error, .. } | Value::RunPages { error, .. } => *error,
                _ => None,
            },
            _ => None,
        }
    }

    /// A one-line summary for side-by-side reports.
    pub fn summary(&self) -> String {
        let s = crate::run::text::abbreviate(&format!("{self:?}"));
        if s.len() > 300 {
            let mut end = 300;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}… ({} chars)", &s[..end], s.len())
        } else {
            s
        }
    }
}
