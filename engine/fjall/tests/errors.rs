//! fjall errors are mapped by kind, with the upstream error kept as `source()`.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::error::Error as _;

use syncproof_engine::kv::Durability;
use syncproof_engine::ErrorKind;

#[test]
fn a_store_locked_by_another_handle_is_a_failed_precondition_not_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let _first = syncproof_fjall::FjallBackend::open(dir.path(), Durability::Flush).unwrap();
    let Err(e) = syncproof_fjall::FjallBackend::open(dir.path(), Durability::Flush) else {
        panic!("a second handle on a locked store opened");
    };
    assert_eq!(e.kind, ErrorKind::FailedPrecondition, "{e}");
    assert!(e.message.contains("Locked"), "{e}");
    assert!(e.source().is_some(), "the fjall error is kept as source()");
}
