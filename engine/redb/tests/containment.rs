//! redb's panics on damaged files are contained as `Corruption`, but only redb's own calls:
//! a panic in the caller's visitor (syncproof's decoding) propagates as the bug it is.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use syncproof_engine::kv::{Durability, KvBackend, KvSnapshot, WriteBatch};

#[test]
fn a_panicking_visitor_is_not_reported_as_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let b = syncproof_redb::RedbBackend::open(dir.path(), Durability::Flush).unwrap();
    let mut batch = WriteBatch::new();
    batch.put(b"k".to_vec(), b"v".to_vec());
    b.write(&batch).unwrap();
    let snap = b.snapshot().unwrap();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let get = catch_unwind(AssertUnwindSafe(|| {
        snap.get(b"k", &mut |_| panic!("decoder bug"))
    }));
    let scan = catch_unwind(AssertUnwindSafe(|| {
        snap.scan(b"", None, false, &mut |_, _| panic!("decoder bug"))
    }));
    let scan_rev = catch_unwind(AssertUnwindSafe(|| {
        snap.scan(b"", None, true, &mut |_, _| panic!("decoder bug"))
    }));
    std::panic::set_hook(hook);
    assert!(get.is_err(), "get turned the visitor's panic into {get:?}");
    assert!(
        scan.is_err(),
        "scan turned the visitor's panic into {scan:?}"
    );
    assert!(
        scan_rev.is_err(),
        "reverse scan turned the visitor's panic into {scan_rev:?}"
    );
    // And a clean read still works.
    let mut seen = Vec::new();
    snap.scan(b"", None, false, &mut |k, v| {
        seen.push((k.to_vec(), v.to_vec()));
        Ok(true)
    })
    .unwrap();
    assert_eq!(seen, vec![(b"k".to_vec(), b"v".to_vec())]);
}
