//! What one op did on one engine, in a form that compares across engines: values, and error
//! kinds rather than messages.

use serde::{Deserialize, Serialize};
use syncproof_engine::{ErrorKind, Record, Stats, SyncId, SyncRun};

/// The comparable result of one op. Errors compare by kind; their message is kept for
/// people reading a report, never compared.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Outcome {
    Ok(Box<Value>),
    Err(ErrorKind, String),
    /// The engine panicked: always a finding.
    Panic(String),
}

impl PartialEq for Outcome {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Outcome::Ok(a), Outcome::Ok(b)) => a == b,
            (Outcome::Err(a, _), Outcome::Err(b, _)) => a == b,
            (Outcome::Panic(a), Outcome::Panic(b)) => a == b,
            _ => false,
        }
    }
}

impl Outcome {
    /// A successful outcome.
    pub fn ok(v: Value) -> Self {
        Outcome::Ok(Box::new(v))
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
    Unit,
    Bool(bool),
    Id(SyncId),
    Started {
        id: SyncId,
        new: bool,
    },
    Token(String),
    Run(Option<SyncRun>),
    /// Every page of a paged read, and the error that ended it early, if any.
    RunPages {
        pages: Vec<Vec<SyncRun>>,
        error: Option<ErrorKind>,
    },
    Record(Option<Record>),
    Pages {
        pages: Vec<Vec<Record>>,
        error: Option<ErrorKind>,
    },
    /// One resumed page and whether it had a next token.
    Page {
        items: Vec<Record>,
        more: bool,
    },
    Stats(Stats),
    Ids(Vec<SyncId>),
    /// The two syncs a diff created, with their contents read back.
    Diff {
        upserts: SyncId,
        deletions: SyncId,
        upserted: Vec<Record>,
        deleted: Vec<Record>,
    },
    /// The copy a clone made, read back from the target store.
    Cloned {
        run: Option<SyncRun>,
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
