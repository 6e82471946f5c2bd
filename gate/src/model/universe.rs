//! The small, hostile universe generated ids and values are drawn from: few enough that keys
//! collide and records get overwritten often; nasty enough that prefix neighbours
//! (`user`/`user\0`/`user_group`), separators, `\0` and non-ASCII meet every code path.

use syncproof_engine::{Metadata, Timestamp, MAX_ID_LEN};

/// Record ids.
pub const IDS: &[&str] = &[
    "a",
    "b",
    "user",
    "user\0",
    "user_group",
    "user\0x",
    "é",
    ":",
    "a:b",
    "|",
    "\0",
    "😀",
];

/// Resource types (also used as filter values).
pub const TYPES: &[&str] = &["user", "user\0", "user_group", "group", "use"];

/// Types and ids of the resources records refer to (principals, entitlement resources,
/// parents) and that filters ask for: few, so overwrites and filters meet the same values,
/// and prefix neighbours of each other.
pub const REF_TYPES: &[&str] = &["user", "user\0", "group"];
/// Ids of the resources records refer to (principals, parents).
pub const REF_IDS: &[&str] = &["a", "a\0", "b"];

/// Ids that must be refused (`InvalidArgument`): empty, and one byte too long.
pub fn invalid_ids() -> [String; 2] {
    [String::new(), "x".repeat(MAX_ID_LEN + 1)]
}

/// The harness clock starts here: 2023-11-14T22:13:20Z.
pub const T0: Timestamp = syncproof_engine::contract::T0;

/// `discovered_at` values: a handful of instants so if-newer ties are common.
pub fn discovered(n: u8) -> Timestamp {
    Timestamp(T0.0 + i64::from(n % 4))
}

/// Annotation values, including the ones that lose bits when mishandled.
pub fn annotations(n: u8) -> Metadata {
    match n % 8 {
        0 => Metadata::Null,
        1 => Metadata::I64(-1),
        2 => Metadata::F64(-0.0),
        3 => Metadata::F64(f64::NAN),
        4 => Metadata::Bytes(vec![0, 255]),
        5 => Metadata::String("x\0é".into()),
        6 => Metadata::map([(
            "k",
            Metadata::List(vec![Metadata::Bool(true), Metadata::F64(0.5)]),
        )]),
        _ => Metadata::map([("", Metadata::Null), ("z", Metadata::I64(i64::MIN))]),
    }
}

/// Clock moves: a tick, a second, exactly the resume window, one past it, and steps back (a
/// tick, a second) as wall clocks take after an NTP correction.
pub const ADVANCES: &[i64] = &[
    1,
    1_000_000_000,
    -1,
    -1_000_000_000,
    syncproof_engine::RESUME_WINDOW_NANOS,
    syncproof_engine::RESUME_WINDOW_NANOS + 1,
];

/// The asset limit every store of a case is configured with (the default, 64 MiB, is too
/// large to reach in a case on six engines): some tail syncs put an asset of exactly this
/// size, and one a byte over, which must be refused.
pub const MAX_ASSET_BYTES: usize = 1 << 20;

/// Descriptive texts (display names, descriptions, slugs): empty, plain, with `\0`, non-ASCII,
/// and long.
pub const TEXTS: &[&str] = &[
    "",
    "Alice",
    "a\0b",
    "é 😀",
    "A description long enough to take more than one cache line in a record's payload, \
     as real descriptions do.",
];

/// Purposes of entitlements.
pub const PURPOSES: &[&str] = &["assignment", "permission", ""];

/// Page sizes: tiny ones to cross many page boundaries, 0 for the default.
pub const PAGE_SIZES: &[usize] = &[1, 2, 3, 5, 0];

/// Forged page tokens.
pub const FORGED_TOKENS: &[&str] = &[
    "",
    "garbage",
    "AAAA",
    "AQAAAAZzY29wZQAAAAAFARNrZXmoJFUk",
    "00000000",
];
