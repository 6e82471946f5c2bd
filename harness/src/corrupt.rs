//! Corruption survival: damaged store files (truncated, bytes flipped) must give errors or
//! correct data, never wrong data silently. The probe runs in a child process so that an
//! upstream panic, abort or hang is contained and reported as a finding rather than taking
//! the harness down.

use serde::{Deserialize, Serialize};
use syncproof_engine::*;

/// Everything a store holds, as read through the contract.
pub type Contents = Vec<(SyncRun, Vec<Record>)>;

/// Reads every sync run and every record of every finished sync.
pub fn contents(e: &dyn StorageEngine) -> Result<Contents> {
    let mut out = Vec::new();
    for run in syncproof_engine::engine::all_sync_runs(e)? {
        let mut records = Vec::new();
        if run.ended_at.is_some() {
            e.export_sync(&run.id, &mut |b| {
                records.extend(b.to_records());
                Ok(())
            })?;
        }
        out.push((run, records));
    }
    Ok(out)
}

/// What a probe of a damaged store found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Everything read back equal to the original, and verify is clean (damage hit unused space).
    Intact,
    /// Open or a read returned an error.
    Error(String),
    /// Reads succeeded but verify reported problems.
    Detected(String),
    /// Reads returned data that differs from the original and nothing complained: a finding.
    Silent(String),
}

/// Opens nothing: given the reopened store and the original contents, says what happened.
pub fn probe(e: &dyn StorageEngine, original: &Contents) -> Verdict {
    let got = match contents(e) {
        Ok(c) => c,
        Err(err) => return Verdict::Error(err.to_string()),
    };
    let report = match e.verify() {
        Ok(r) => r,
        Err(err) => return Verdict::Error(format!("verify: {err}")),
    };
    if let Some(p) = report.problems.first() {
        return Verdict::Detected(format!("{} problems, first: {p}", report.problems.len()));
    }
    if &got == original {
        Verdict::Intact
    } else {
        let runs = |c: &Contents| {
            c.iter()
                .map(|(r, v)| (r.id.clone(), v.len()))
                .collect::<Vec<_>>()
        };
        Verdict::Silent(format!(
            "read {:?}, expected {:?}",
            runs(&got),
            runs(original)
        ))
    }
}
