//! The one-shot measurements at the seeds' scale (1M grants): each workload run once per
//! engine, timed by the wall clock, with the engine's peak memory and its bytes on disk.
//! Criterion's repeated sampling is impractical at that size (one ingest takes a minute), so
//! these are single runs, and the report says so. `benches/examples/oneshot.rs` measures
//! them into [`ONESHOT_FILE`]; `syncproof report` renders it as a section when the file is
//! in the report's directory.

use std::fmt::Write as _;

use super::machine::Machine;

/// The file the one-shot run writes beside the report (`reports/oneshot.json`).
pub const ONESHOT_FILE: &str = "oneshot.json";

/// The workloads of a one-shot run, in the order they run on each engine's store.
pub const STEPS: [(&str, &str); 8] = [
    (
        "ingest",
        "one full sync of N grants with their users, groups and entitlements, flushed",
    ),
    (
        "ingest_second",
        "a second full sync, a tenth of its grants moved to other users",
    ),
    (
        "page_all_grants",
        "every grant of the second sync, 1,000 per page, owned records",
    ),
    (
        "page_all_grants_lent",
        "the same pages through `visit_list` (records lent)",
    ),
    (
        "index_lists",
        "the grants of 100 principals and of 100 entitlements, through the indexes",
    ),
    ("diff", "`generate_sync_diff` of the two syncs"),
    (
        "resync_if_newer",
        "a third sync: the first one's records, then all again if-newer with every other one newer",
    ),
    (
        "cleanup",
        "`cleanup(1)`: the two older full syncs and the diff's deleted, flushed",
    ),
];

/// One engine's one-shot run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EngineShot {
    /// The engine.
    pub engine: String,
    /// Seconds per step, by step name, in [`STEPS`] order.
    pub seconds: Vec<(String, f64)>,
    /// Peak resident memory of the process that ran the engine (`VmHWM`), in bytes.
    pub peak_rss_bytes: u64,
    /// Bytes the store takes on disk (allocated blocks) after the first ingest.
    pub bytes_after_ingest: u64,
    /// … before the cleanup (three full syncs and a diff).
    pub bytes_before_cleanup: u64,
    /// … after the cleanup and a flush.
    pub bytes_after_cleanup: u64,
    /// Why the engine's run did not finish (its child's exit), if it did not: the steps it
    /// finished are in `seconds`.
    #[serde(default)]
    pub failed: Option<String>,
}

impl EngineShot {
    /// The seconds of `step`, if it ran.
    pub fn seconds_of(&self, step: &str) -> Option<f64> {
        self.seconds
            .iter()
            .find(|(s, _)| s == step)
            .map(|(_, t)| *t)
    }
}

/// A one-shot run over several engines.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OneShot {
    /// Grants per sync.
    pub grants: u64,
    /// Records per sync (grants with their users, groups, entitlements, types).
    pub records_per_sync: u64,
    /// The records of one sync as the key-value engines archive them (the envelopes' bytes,
    /// no keys, no indexes): what space amplification is measured against.
    pub raw_bytes_per_sync: u64,
    /// The command that made it.
    pub command: String,
    /// `git describe` of the code measured.
    pub commit: String,
    /// When it started (seconds since the epoch).
    pub started_unix: u64,
    /// Where it ran.
    pub machine: Machine,
    /// One entry per engine.
    pub engines: Vec<EngineShot>,
}

/// The seed's published ingest figures for 1M grants, measured on its authors' machine.
pub const SEED_FIGURES: [(&str, f64); 3] = [
    ("SQLite (the seed's baseline)", 55.6),
    ("Pebble (the seed's first engine)", 4.2),
    ("Pebble, tuned", 1.28),
];

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// One row's figure for one engine.
type Figure<'a> = dyn Fn(&EngineShot) -> String + 'a;

/// The report section of a one-shot run.
pub fn section(o: &OneShot) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## At the seeds' scale: {} grants, one run each\n",
        super::markdown::count(o.grants)
    );
    let _ = writeln!(
        s,
        "Each workload ran once per engine (no repeated sampling: one run of a step at this \
         size takes seconds to minutes), in one process per engine, on one store in the \
         system temp dir ({}), at commit `{}`, on {} ({}, {}). Made by `{}`. Seconds of wall \
         time; the ratio is SQLite's time over the engine's (above 1: faster than SQLite). \
         A single run on a shared machine: read the ratios, not the digits.\n",
        o.machine.temp_fs, o.commit, o.machine.cpu, o.machine.cores, o.machine.memory, o.command
    );
    let sqlite = o.engines.iter().find(|e| e.engine == "sqlite");
    let _ = write!(s, "| step |");
    for e in &o.engines {
        let _ = write!(s, " {} |", e.engine);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "|---|{}", "---|".repeat(o.engines.len()));
    for (step, _) in STEPS {
        let _ = write!(s, "| `{step}` |");
        for e in &o.engines {
            let cell = match (e.seconds_of(step), sqlite.and_then(|q| q.seconds_of(step))) {
                (Some(t), Some(base)) if e.engine != "sqlite" && t > 0.0 => {
                    format!("{t:.2} s ({:.2}×)", base / t)
                }
                (Some(t), _) => format!("{t:.2} s"),
                (None, _) => "–".into(),
            };
            let _ = write!(s, " {cell} |");
        }
        let _ = writeln!(s);
    }
    let amplification = |e: &EngineShot| {
        let amp = e.bytes_after_ingest as f64 / o.raw_bytes_per_sync.max(1) as f64;
        format!("{amp:.2}×")
    };
    let rows: [(&str, &Figure); 5] = [
        ("peak RSS", &|e| mib(e.peak_rss_bytes)),
        ("on disk after the first ingest", &|e| {
            mib(e.bytes_after_ingest)
        }),
        ("on disk with three syncs and a diff", &|e| {
            mib(e.bytes_before_cleanup)
        }),
        ("on disk after cleanup", &|e| mib(e.bytes_after_cleanup)),
        (
            "space amplification (one sync on disk ÷ its raw record bytes)",
            &amplification,
        ),
    ];
    for (what, f) in rows {
        let _ = write!(s, "| {what} |");
        for e in &o.engines {
            // A run that did not finish took none of these figures: no zeros for them.
            let cell = if e.failed.is_some() {
                "–".into()
            } else {
                f(e)
            };
            let _ = write!(s, " {cell} |");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s);
    for e in o.engines.iter().filter(|e| e.failed.is_some()) {
        let _ = writeln!(
            s,
            "**{}** did not finish: {}. The steps it finished are above; its memory and disk \
             figures were not taken.\n",
            e.engine,
            e.failed.as_deref().unwrap_or_default()
        );
    }
    let _ = writeln!(
        s,
        "Raw record bytes: {} per sync ({} records, archived as the key-value engines store \
         them, without keys or indexes). The steps:\n",
        mib(o.raw_bytes_per_sync),
        super::markdown::count(o.records_per_sync)
    );
    for (step, what) in STEPS {
        let _ = writeln!(s, "- `{step}`: {what}.");
    }
    let _ = writeln!(
        s,
        "\nThe seed's published ingest of 1M grants, **on its authors' machine, not this one** \
         (another CPU, disk and record shape: beside ours for scale, not for comparison):\n"
    );
    let _ = writeln!(s, "| engine (seed) | ingest of 1M grants |\n|---|---|");
    for (what, t) in SEED_FIGURES {
        let _ = writeln!(s, "| {what} | {t} s |");
    }
    let _ = writeln!(s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shot(engine: &str, ingest: f64) -> EngineShot {
        EngineShot {
            engine: engine.into(),
            seconds: vec![("ingest".into(), ingest)],
            peak_rss_bytes: 64 << 20,
            bytes_after_ingest: 300,
            bytes_before_cleanup: 900,
            bytes_after_cleanup: 300,
            failed: None,
        }
    }

    #[test]
    fn the_section_states_times_ratios_memory_disk_and_the_seed_apart() {
        let o = OneShot {
            grants: 1_000_000,
            records_per_sync: 1_120_004,
            raw_bytes_per_sync: 100,
            command: "oneshot".into(),
            commit: "abc".into(),
            started_unix: 0,
            machine: Machine::this(),
            engines: vec![
                shot("sqlite", 60.0),
                shot("redb", 6.0),
                EngineShot {
                    peak_rss_bytes: 0,
                    bytes_after_ingest: 0,
                    bytes_before_cleanup: 0,
                    bytes_after_cleanup: 0,
                    failed: Some("stopped in step ingest_second".into()),
                    ..shot("sled", 150.0)
                },
            ],
        };
        let md = section(&o);
        assert!(
            md.contains("| `ingest` | 60.00 s | 6.00 s (10.00×) | 150.00 s (0.40×) |"),
            "{md}"
        );
        // The engine that did not finish has no memory or disk figures, not zeros.
        assert!(
            md.contains("| peak RSS | 64.0 MiB | 64.0 MiB | – |"),
            "{md}"
        );
        assert!(
            md.contains("| on disk after cleanup | 0.0 MiB | 0.0 MiB | – |"),
            "{md}"
        );
        assert!(md.contains(" 3.00× | 3.00× | – |"), "{md}");
        assert!(
            md.contains("**sled** did not finish: stopped in step ingest_second."),
            "{md}"
        );
        assert!(md.contains("| `diff` | – | – | – |"), "{md}");
        assert!(md.contains("not this one") && md.contains("| Pebble, tuned | 1.28 s |"));
    }
}
