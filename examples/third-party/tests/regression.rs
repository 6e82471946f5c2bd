//! A regression test pasted verbatim from the gate's output (the failure of
//! `a_bug_prints_a_regression_test_that_uses_our_opener`): it compiles against the gate
//! library alone and, on the fixed engine, passes.

use syncproof_engine::contract::Opener;
use syncproof_example_third_party::MineOpener;

/// What printed regression tests call to make an engine from its label.
pub fn syncproof_opener(label: &str) -> Option<Box<dyn Opener>> {
    (label == "mine").then(|| Box::new(MineOpener) as Box<dyn Opener>)
}

#[test]
fn syncproof_regression_seed11_case6() {
    let repro = syncproof_gate::Repro::from_ron(
        r##"
(
    version: 1,
    seed: 11,
    case: 6,
    engines: [
        "mine",
    ],
    inject: None,
    ops: [
        StartNewSync(
            sync_type: Partial,
            parent: None,
        ),
        Put(
            batch: Grants([
                (
                    id: "é",
                    entitlement: (
                        id: "|",
                        resource: (
                            resource_type: "group",
                            resource: "a\0",
                        ),
                    ),
                    principal: (
                        resource_type: "user\0",
                        resource: "a\0",
                    ),
                    sources: [
                        "x",
                    ],
                    annotations: F64(NaN),
                    discovered_at: (1700000000000000001),
                ),
            ]),
            mode: IfNewer,
        ),
        List(
            sync: None,
            query: Grants(Resource((
                resource_type: "group",
                resource: "a",
            ))),
            page_size: 1,
        ),
    ],
    finding: None,
    flaky: false,
)
"##,
    )
    .unwrap();
    syncproof_gate::assert_replay_agrees(&repro, crate::syncproof_opener);
}
