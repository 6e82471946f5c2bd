//! The KV level: generated sequences of atomic batches, gets, scans, flushes and reopens on
//! every backend under test against a `BTreeMap`, on the same driver, report and rendering as
//! the API level.

use std::time::Instant;

use super::driver::{drive, Level};
use super::options::Options;
use super::report::{FailureReport, Report};
use crate::model::kv::{case, KvOp, KV_OP_KINDS, KV_REACH_KINDS};
use crate::run::case::CaseRun;
use crate::run::kv::{run, run_watched, KvFinding, KvRepro, KvTarget, KV_REPRO_VERSION};
use crate::run::shrink::{culprits, shrink_confirmed, shrink_kv};
use crate::run::watchdog::{Beat, StallFinding};

struct Kv<'a> {
    targets: &'a [KvTarget],
    tmp: Option<&'a std::path::Path>,
    inject: Option<String>,
}

impl Level for Kv<'_> {
    type Op = KvOp;
    type Finding = KvFinding;
    fn engine_labels(&self) -> Vec<String> {
        self.targets.iter().map(|t| t.label.clone()).collect()
    }
    fn generate(&self, seed: u64, index: u64, max_ops: usize) -> Vec<KvOp> {
        case(seed, index, max_ops)
    }
    fn reference_label(&self) -> String {
        "btree".into()
    }
    fn run(
        &self,
        _seed: u64,
        _index: u64,
        ops: &[KvOp],
        beat: &Beat,
    ) -> Result<CaseRun<KvFinding>, String> {
        run_watched(ops, self.targets, self.tmp, Some(beat))
    }
    fn save_stall(
        &self,
        seed: u64,
        case: u64,
        ops: Vec<KvOp>,
        stall: StallFinding,
        dir: &std::path::Path,
    ) -> Result<std::path::PathBuf, String> {
        KvRepro {
            kv_version: KV_REPRO_VERSION,
            seed,
            case,
            backends: vec![stall.engine.clone()],
            inject: self.inject.clone(),
            ops,
            finding: None,
            flaky: false,
            stall: Some(stall),
        }
        .save(dir)
    }
}

/// Runs the KV level on `targets` with the options' cases, budget, shard and threads.
pub fn check(o: &Options, targets: &[KvTarget]) -> Report<KvRepro> {
    let start = Instant::now();
    let level = Kv {
        targets,
        tmp: o.tmp.as_deref(),
        inject: o.inject.clone(),
    };
    let driven = drive(&level, o, "syncproof check --level kv");
    let failure = driven.failure.clone().map(|(case_index, ops, finding)| {
        let labels = culprits(&finding.1);
        let on: Vec<KvTarget> = targets
            .iter()
            .filter(|t| labels.contains(&t.label))
            .cloned()
            .collect();
        let again = |c: &[KvOp]| run(c, &on, level.tmp).ok().and_then(|r| r.finding);
        let original_ops = ops.len();
        let shrunk = shrink_confirmed(ops, finding, |f| f.0, shrink_kv, &again);
        let repro = KvRepro {
            kv_version: KV_REPRO_VERSION,
            seed: o.seed,
            case: case_index,
            backends: labels,
            inject: o.inject.clone(),
            ops: shrunk.ops,
            finding: Some(shrunk.finding),
            flaky: !shrunk.reproduced,
            stall: None,
        };
        let saved = repro.save(&o.repro_dir);
        FailureReport::new(
            case_index,
            original_ops,
            shrunk.reproduced,
            repro,
            saved,
            None,
        )
    });
    Report::from_driven(
        "kv",
        o,
        level.engine_labels(),
        super::report::Kinds {
            ops: KV_OP_KINDS,
            reach: KV_REACH_KINDS,
        },
        driven,
        failure,
        start.elapsed().as_secs_f64(),
    )
}
