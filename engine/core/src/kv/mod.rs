//! The key-value level: the [`KvBackend`] trait, a `BTreeMap` backend, and [`KvStore`], which
//! implements the whole `StorageEngine` contract once over any backend.

pub mod backend;
pub mod btree;
mod layout;
mod store;

pub use backend::{
    drive, Durability, DynBackend, KvBackend, KvOpen, KvSnapshot, ScanVisitor, WriteBatch,
};
pub use btree::{BTreeBackend, BTreeOpener};
pub use store::{fresh_writes, KvOpener, KvStore};
