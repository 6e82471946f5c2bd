//! Small helpers shared by the test suites of every crate.

/// Number of proptest cases: `PROPTEST_CASES` from the environment when set, else `default`.
/// (An explicit `ProptestConfig::cases` would override the env var, so read it here.)
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
