//! Opening a store that must already exist, for the tools that must not change it (`verify`,
//! `migrate --from`).
//!
//! An engine's ordinary `open` creates a store in any directory, so `verify redb:<a sqlite
//! store>` used to report "consistent" and leave a new redb file inside the sqlite store.
//! Here a directory is first identified by the engines' [`store_entry`](syncproof_engine::contract::Opener::store_entry): one that
//! holds no store of the named engine is refused with a description of what it does hold.
//! The store is then opened with the engine's read-only open ([`open_read_only`](syncproof_engine::contract::Opener::open_read_only));
//! an engine without one (sled, fjall) gets a copy of its store entry in a temporary
//! directory, so the original is never written either way.

use std::fmt;
use std::path::{Path, PathBuf};

use syncproof_engine::{EngineConfig, StorageEngine};

use crate::engines::{self, EngineInfo};

/// An existing store, opened without writing to it.
pub struct Existing {
    /// The engine over the store (or over its copy). Declared first: dropped before the copy.
    pub engine: Box<dyn StorageEngine>,
    /// How it was opened, for messages.
    pub how: How,
    _copy: Option<tempfile::TempDir>,
}

/// How an [`Existing`] store was opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum How {
    /// Through the engine's read-only open.
    ReadOnly,
    /// The engine has no read-only open: a copy of the store in this directory was opened.
    Copy(PathBuf),
}

impl fmt::Display for How {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            How::ReadOnly => f.write_str("opened read-only"),
            How::Copy(p) => write!(
                f,
                "the engine has no read-only open: opened a copy in {}",
                p.display()
            ),
        }
    }
}

/// Why an existing store could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The directory holds no store of the engine (a usage error: exit 2); the message says
    /// what it holds instead.
    NoStore(String),
    /// The store is there but opening (or copying) it failed (exit 1).
    Open(syncproof_engine::Error),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::NoStore(m) => f.write_str(m),
            OpenError::Open(e) => write!(f, "{e}"),
        }
    }
}

/// Opens the `info` store in `dir` without writing to `dir`, or says why not.
pub fn open(info: &EngineInfo, dir: &Path) -> Result<Existing, OpenError> {
    let opener = (info.opener)();
    let Some(entry) = opener.store_entry() else {
        return Err(OpenError::NoStore(format!(
            "the {} engine keeps nothing on disk",
            info.name
        )));
    };
    if !dir.join(entry).exists() {
        return Err(OpenError::NoStore(format!(
            "{} holds no {} store (no {entry:?} in it): {}",
            dir.display(),
            info.name,
            describe(dir)
        )));
    }
    let config = EngineConfig::default();
    if let Some(opened) = opener.open_read_only(dir, config.clone()) {
        return opened
            .map(|engine| Existing {
                engine,
                how: How::ReadOnly,
                _copy: None,
            })
            .map_err(OpenError::Open);
    }
    let copy = tempfile::Builder::new()
        .prefix(&format!("syncproof-{}-copy-", info.name))
        .tempdir()
        .map_err(|e| OpenError::Open(e.into()))?;
    copy_store(dir, entry, copy.path()).map_err(OpenError::Open)?;
    let engine = opener.open(copy.path(), config).map_err(OpenError::Open)?;
    Ok(Existing {
        engine,
        how: How::Copy(copy.path().to_path_buf()),
        _copy: Some(copy),
    })
}

/// What `dir` holds, in words: the stores of known engines in it, or its entries.
pub fn describe(dir: &Path) -> String {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => {
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
        Err(e) => return format!("it cannot be read ({e})"),
    };
    let stores: Vec<String> = engines::all()
        .iter()
        .filter_map(|e| {
            let opener = (e.opener)();
            let entry = opener.store_entry()?;
            dir.join(entry)
                .exists()
                .then(|| format!("a {} store ({entry})", e.name))
        })
        .collect();
    if !stores.is_empty() {
        return format!("it holds {}", stores.join(" and "));
    }
    match entries.len() {
        0 => "it is empty".into(),
        n => {
            let shown: Vec<&str> = entries.iter().take(5).map(String::as_str).collect();
            let more = if n > 5 { ", …" } else { "" };
            format!(
                "it holds {n} entries ({}{more}), none of them a store of an engine syncproof knows",
                shown.join(", ")
            )
        }
    }
}

/// Copies every entry of `dir` whose name starts with `entry` (the store and any sidecar
/// files such as a journal) into `to`.
fn copy_store(dir: &Path, entry: &str, to: &Path) -> syncproof_engine::Result<()> {
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        if item.file_name().to_string_lossy().starts_with(entry) {
            copy_tree(&item.path(), &to.join(item.file_name()))?;
        }
    }
    Ok(())
}

/// Copies the file or directory tree `from` to `to` (directories created as needed).
pub fn copy_tree(from: &Path, to: &Path) -> syncproof_engine::Result<()> {
    copy_tree_except(from, to, &[])
}

/// [`copy_tree`] leaving out every file whose name ends with one of `skip` (an engine's
/// [`crate::engines::EngineInfo::volatile_suffixes`]).
pub fn copy_tree_except(from: &Path, to: &Path, skip: &[&str]) -> syncproof_engine::Result<()> {
    let context = |e: std::io::Error| {
        syncproof_engine::Error::io(format!("copy {} to {}: {e}", from.display(), to.display()))
    };
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(context)?;
        for item in std::fs::read_dir(from).map_err(context)? {
            let item = item.map_err(context)?;
            copy_tree_except(&item.path(), &to.join(item.file_name()), skip)?;
        }
    } else if !skip.iter().any(|s| from.to_string_lossy().ends_with(s)) {
        std::fs::copy(from, to).map_err(context)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_copy_leaves_out_exactly_the_skipped_files() {
        let from = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(from.path().join("db")).unwrap();
        std::fs::write(from.path().join("db/data"), b"kept").unwrap();
        std::fs::write(from.path().join("db/store-shm"), b"left out").unwrap();
        std::fs::write(from.path().join("top"), b"kept too").unwrap();
        let to = tempfile::tempdir().unwrap();
        super::copy_tree_except(from.path(), to.path(), &["-shm"]).unwrap();
        assert_eq!(std::fs::read(to.path().join("db/data")).unwrap(), b"kept");
        assert_eq!(std::fs::read(to.path().join("top")).unwrap(), b"kept too");
        assert!(!to.path().join("db/store-shm").exists());
        let all = tempfile::tempdir().unwrap();
        super::copy_tree(from.path(), all.path()).unwrap();
        assert!(all.path().join("db/store-shm").exists());
    }
}
