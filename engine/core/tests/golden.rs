//! Golden encodings: any change to the key, envelope or token format shows as a snapshot diff.
//! Changing a format on purpose means bumping its version byte and reviewing this snapshot.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Write;
use syncproof_engine::codec::envelope::{encode_record, encode_sync_run};
use syncproof_engine::codec::key::{encode_key, KeyKind, Part, PartType};
use syncproof_engine::codec::token::encode_token;
use syncproof_engine::*;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn annotations() -> Metadata {
    Metadata::map([
        ("bytes", Metadata::Bytes(vec![0, 255])),
        ("f", Metadata::F64(-0.5)),
        ("i", Metadata::I64(-2)),
        (
            "list",
            Metadata::List(vec![Metadata::Null, Metadata::Bool(true)]),
        ),
        ("s", Metadata::String("é\0".into())),
    ])
}

fn records() -> Vec<Record> {
    let t = Timestamp(1_700_000_000_000_000_000);
    vec![
        Record::ResourceType(ResourceType {
            id: "user".into(),
            display_name: "User".into(),
            description: "people".into(),
            traits: vec!["TRAIT_USER".into()],
            annotations: annotations(),
            discovered_at: t,
        }),
        Record::Resource(Resource {
            id: ResourceId::new("user", "alice"),
            parent: Some(ResourceId::new("org", "acme")),
            display_name: "Alice".into(),
            description: String::new(),
            annotations: Metadata::Null,
            discovered_at: t,
        }),
        Record::Entitlement(Entitlement {
            id: "group:eng:member".into(),
            resource: ResourceId::new("group", "eng"),
            display_name: "Member".into(),
            description: String::new(),
            purpose: "assignment".into(),
            slug: "member".into(),
            grantable_to: vec!["user".into()],
            annotations: Metadata::Null,
            discovered_at: t,
        }),
        Record::Grant(Grant {
            id: "g1".into(),
            entitlement: EntitlementRef {
                id: "group:eng:member".into(),
                resource: ResourceId::new("group", "eng"),
            },
            principal: ResourceId::new("user", "alice"),
            sources: vec![],
            annotations: Metadata::Null,
            discovered_at: t,
        }),
        Record::Asset(Asset {
            id: "icon".into(),
            content_type: "image/png".into(),
            data: vec![0x89, b'P', b'N', b'G'],
            annotations: Metadata::Null,
            discovered_at: t,
        }),
    ]
}

#[test]
fn golden_encodings() {
    let mut out = String::new();
    writeln!(out, "# keys").unwrap();
    for &kind in KeyKind::ALL {
        let parts: Vec<Part> = kind
            .schema()
            .iter()
            .enumerate()
            .map(|(i, t)| match t {
                PartType::Str => Part::Str(["sync", "a\0b", "user", "é", "x"][i % 5]),
                PartType::I64 => Part::I64(-1),
            })
            .collect();
        writeln!(
            out,
            "{:<32} {}",
            kind.name(),
            hex(&encode_key(kind, &parts).unwrap())
        )
        .unwrap();
    }
    writeln!(out, "# envelopes").unwrap();
    for r in records() {
        writeln!(
            out,
            "{:<32} {}",
            r.kind().name(),
            hex(&encode_record(&r).unwrap())
        )
        .unwrap();
    }
    let run = SyncRun {
        id: SyncId::new("sync-1"),
        sync_type: SyncType::PartialUpserts,
        parent: Some(SyncId::new("sync-0")),
        started_at: Timestamp(5),
        ended_at: Some(Timestamp(6)),
        token: "cursor".into(),
    };
    writeln!(
        out,
        "{:<32} {}",
        "sync_run",
        hex(&encode_sync_run(&run).unwrap())
    )
    .unwrap();
    writeln!(out, "# tokens").unwrap();
    writeln!(
        out,
        "{:<32} {}",
        "token",
        encode_token(b"scope\0", b"\x01\x13key").0
    )
    .unwrap();
    insta::assert_snapshot!(out);
}
