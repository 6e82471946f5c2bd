//! `docs/spec-rules.md` is generated from the check table; this keeps the two equal.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[test]
fn committed_rule_table_matches_the_checks() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/spec-rules.md");
    let want = syncproof_engine::contract::rules_markdown();
    if std::env::var_os("UPDATE_RULES").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let got = std::fs::read_to_string(path).unwrap_or_default();
    assert!(got == want, "docs/spec-rules.md is stale; run UPDATE_RULES=1 cargo test -p syncproof-engine --test rule_table");
}
