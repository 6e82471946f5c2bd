//! `syncproof`: prove sync-store engines correct and measure them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use syncproof_engine::contract::Opener;
use syncproof_engine::StorageEngine;
use syncproof_gate::check::concurrent::ConcurrentRepro;
use syncproof_gate::check::options::{DEFAULT_CASES, DEFAULT_MAX_OPS};
use syncproof_gate::check::report::Report;
use syncproof_gate::check::stall::{StallHook, StallReport};
use syncproof_gate::faults::kv::{KvBug, KV_BUGS};
use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_gate::run::kv::KvRepro;
use syncproof_gate::run::runner::run_case_watched;
use syncproof_gate::run::text::{abbreviate, ReproText};
use syncproof_gate::{Harness, Options, Progress, Repro, Shard};
use syncproof_harness::instrument::Instrumented;
use syncproof_harness::{engines, migrate, report, workload};

#[derive(Parser)]
#[command(
    name = "syncproof",
    version,
    about = "Prove sync-store engines correct and measure them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Level {
    /// The StorageEngine contract: generated sync sequences against the oracle.
    Api,
    /// The KvBackend level: KV op sequences against a BTreeMap.
    Kv,
}

#[derive(Subcommand)]
enum Command {
    /// The CI gate: contract checks, then generated sequences on every engine against the
    /// oracle. Exit 0 clean, 1 disagreement, 2 usage error.
    Check {
        /// Comma-separated engine names, or `all` (see `syncproof engines`). A name with a
        /// configuration (`fjall+tiny-memtable`) runs every case under that one.
        #[arg(long, default_value = "all")]
        engines: String,
        /// Run every engine in its default configuration only, instead of drawing one of
        /// its configurations per case (metamorphic testing; see `syncproof engines`).
        #[arg(long)]
        default_configurations: bool,
        /// Number of generated cases, split among the shards. Default: 1000, or unbounded
        /// (a soak) when --time is given.
        #[arg(long)]
        cases: Option<u64>,
        /// Fewest checked cases that pass (default: a tenth of the shard's cases; 1 for a
        /// soak). A time budget that ends the run below it fails the run.
        #[arg(long)]
        min_cases: Option<u64>,
        /// Worker threads (default: the machine's parallelism). The failure reported is the
        /// lowest failing case whatever this is.
        #[arg(long)]
        threads: Option<usize>,
        /// Seed of the run; the same seed and commit reproduce it. Default: from the clock.
        #[arg(long)]
        seed: Option<u64>,
        /// Longest sequence.
        #[arg(long, default_value_t = DEFAULT_MAX_OPS)]
        max_ops: usize,
        /// Stop starting new sequences after this long (e.g. 90s, 5m, 1h).
        #[arg(long, value_parser = parse_duration)]
        time: Option<Duration>,
        /// Run only shard k of n (cases i with i % n == k-1), e.g. 2/4.
        #[arg(long, value_parser = Shard::parse)]
        shard: Option<Shard>,
        /// Write a JUnit XML report here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Write the full report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Where repro files of disagreements go.
        #[arg(long, default_value = "syncproof-repros")]
        repro_dir: PathBuf,
        /// Parent directory of the stores' temp dirs. Default: a RAM-backed temp dir
        /// (/dev/shm, $XDG_RUNTIME_DIR or the system temp dir, if tmpfs with room to spare),
        /// else the system temp dir; SYNCPROOF_TMP sets the default. The summary says which.
        /// Durability is not what this run tests (the crash tests do that, on disk).
        #[arg(long)]
        tmp: Option<PathBuf>,
        /// Skip the contract checks.
        #[arg(long)]
        no_contract: bool,
        /// Concurrent cases per engine after the sequences: a writer thread applies a
        /// generated sequence while reader threads read the same handle, every read checked
        /// against the states it may have seen (0: skip the phase)
        #[arg(long, default_value_t = syncproof_gate::check::concurrent::DEFAULT_CONCURRENT_CASES)]
        concurrent_cases: u64,
        /// Reader threads per concurrent case
        #[arg(long, default_value_t = syncproof_gate::model::reads::READERS)]
        readers: usize,
        /// No progress bar or progress lines.
        #[arg(long)]
        quiet: bool,
        /// Which level to check.
        #[arg(long, value_enum, default_value = "api")]
        level: Level,
        /// Wrap every engine with a deliberately injected bug (see `syncproof bugs`; KV bug
        /// classes with --level kv), to see what a failure looks like or to test a CI setup.
        #[arg(long)]
        inject: Option<String>,
        /// Longest one op (or contract check) may take; one that takes longer is a stall (a
        /// hang): reported with its engine, case, op and repro, exit 1. Default 30s.
        #[arg(long, value_parser = parse_duration)]
        op_budget: Option<Duration>,
        /// Largest resident memory of the process (e.g. 4GiB, 512MiB, or bytes; 0: no limit);
        /// going over it is a stall (a runaway), reported like a hang. Default 4GiB.
        #[arg(long, value_parser = parse_size)]
        memory_limit: Option<u64>,
    },
    /// List the bug classes `--inject` can wrap an engine with.
    Bugs {
        /// Also measure, per API-level class, how many generated cases the sequences need to
        /// find it (on the memory engine, no contract suite): the median over --seeds seeds,
        /// for the gate's aimed cases, for unaimed ones and for aimed ones without swarm cases.
        #[arg(long)]
        detection: bool,
        /// Seeds per class for --detection.
        #[arg(long, default_value_t = 5)]
        seeds: u64,
        /// Most cases per class and seed for --detection.
        #[arg(long, default_value_t = 200)]
        budget: u64,
    },
    /// Write a realistic multi-sync store (users, groups, memberships, assets).
    Generate {
        /// ENGINE:PATH, e.g. sqlite:/tmp/store (the directory is created).
        store: String,
        #[arg(long, default_value_t = 3)]
        syncs: u64,
        #[arg(long, default_value_t = 1_000)]
        users: usize,
        #[arg(long, default_value_t = 100)]
        groups: usize,
        #[arg(long, default_value_t = 10_000)]
        grants: usize,
        #[arg(long, default_value_t = 10)]
        assets: usize,
        /// Log calls slower than this many milliseconds (tracing target `syncproof::slow`).
        #[arg(long, default_value_t = 250)]
        slow_ms: u64,
        /// Print per-call counters and latency histograms at the end.
        #[arg(long)]
        metrics: bool,
    },
    /// Copy every finished sync between any two engines, prove the copy equal record by
    /// record, and only then move it into place (a failure leaves only `<to>.partial`).
    Migrate {
        /// ENGINE:PATH of the source store.
        #[arg(long)]
        from: String,
        /// ENGINE:PATH of the new store (must not exist).
        #[arg(long)]
        to: String,
        /// Log source calls slower than this many milliseconds.
        #[arg(long, default_value_t = 250)]
        slow_ms: u64,
        /// Print the source's per-call counters and latency histograms at the end.
        #[arg(long)]
        metrics: bool,
    },
    /// Internal: the child process of the corruption tests; prints its verdict as RON.
    #[command(hide = true)]
    CorruptProbe {
        store: String,
        /// RON file with the store's contents before the damage.
        #[arg(long)]
        expect: PathBuf,
    },
    /// Crash the engines under a fault model and check every crash state: `kill` (SIGKILL of
    /// the writer; the page cache survives), `power-loss` (crash states from a record of the
    /// writer's file calls: only synced data, a random subset of the rest, torn last writes, or all of it)
    /// or `io-error` (the n-th write or sync fails with EIO/ENOSPC). Exit 0 every state
    /// consistent, 1 findings, 2 usage or setup error.
    Crash(CrashArgs),
    /// Internal: a child of `syncproof crash` (runs the workload, or checks one crash
    /// state), told what to do in SYNCPROOF_CRASH_CHILD.
    #[command(hide = true)]
    CrashChild,
    /// Writes the crash state of a recorder log into an empty directory, to look at by hand:
    /// the first POINT events kept (default: all), under POLICY.
    #[command(hide = true)]
    CrashState {
        log: PathBuf,
        out: PathBuf,
        #[arg(long)]
        point: Option<usize>,
        #[arg(long, default_value = "synced-only")]
        policy: String,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Internal: the child process of the crash tests; writes until killed.
    #[command(hide = true)]
    CrashWriter {
        store: String,
        #[arg(long)]
        log: PathBuf,
    },
    /// Check a store at rest: checksums, every index entry against its record, sync runs.
    /// Exit 0 consistent, 1 problems found, 2 usage error.
    Verify {
        /// ENGINE:PATH
        store: String,
    },
    /// Re-run a repro file, printing every op with each engine's outcome side by side.
    Replay {
        file: PathBuf,
        /// Engines to replay on (default: the ones in the file).
        #[arg(long)]
        engines: Option<String>,
        /// Also print the regression test to paste.
        #[arg(long)]
        print_test: bool,
        /// Schedules to run a concurrent repro under (each a fresh store and fresh threads;
        /// a concurrency bug shows in some only).
        #[arg(long, default_value_t = syncproof_gate::check::concurrent::REPLAY_SCHEDULES)]
        schedules: usize,
        /// Longest one op (or contract check) may take; one that takes longer is a stall (a
        /// hang): reported with its engine, case, op and repro, exit 1. Default 30s.
        #[arg(long, value_parser = parse_duration)]
        op_budget: Option<Duration>,
        /// Largest resident memory of the process (e.g. 4GiB, 512MiB, or bytes; 0: no limit);
        /// going over it is a stall (a runaway), reported like a hang. Default 4GiB.
        #[arg(long, value_parser = parse_size)]
        memory_limit: Option<u64>,
    },
    /// Shrink a stalled repro (a hang or a runaway) in place, each try a child `syncproof
    /// replay` with a timeout. `check` runs this by itself after a stall. Exit 1 while the
    /// case still stalls, 2 usage error.
    Shrink {
        file: PathBuf,
        /// Most time to spend on tries (each stalling try costs the op budget).
        #[arg(long, value_parser = parse_duration, default_value = "120s")]
        time: Duration,
    },
    /// List the engines with their backend crate, durability, settings and configurations.
    Engines,
    /// Turn criterion's results into reports/README.md with SVG charts and the compact
    /// reports/results.json it can be regenerated from (--results); or, with --baseline
    /// and --candidate, compare two saved criterion baselines and exit 1 on a regression.
    /// Exit 0 done (or no regression), 1 regression, 2 usage error or unreadable results.
    Report {
        /// criterion's output directory (default: CRITERION_HOME, $CARGO_TARGET_DIR/criterion,
        /// or the target/criterion beside this binary).
        #[arg(long)]
        criterion_dir: Option<PathBuf>,
        /// Regenerate the report from a committed compact results file (e.g.
        /// reports/results.json) instead of criterion's output.
        #[arg(long, conflicts_with = "baseline")]
        results: Option<PathBuf>,
        /// With --results: replace the groups that the latest runs in --criterion-dir
        /// measured (e.g. after `cargo bench -p syncproof-benches --bench read_while_writing`)
        /// and keep every other group's results and run as the file has them.
        #[arg(long, requires_all = ["results", "criterion_dir"])]
        update: bool,
        /// Where README.md, the charts and results.json go.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// Markdown to include as the report's notes (default: <out>/notes.md if it exists).
        #[arg(long)]
        notes: Option<PathBuf>,
        /// Name of the criterion baseline to compare against (`--save-baseline NAME`).
        #[arg(long, requires = "candidate")]
        baseline: Option<String>,
        /// Name of the criterion baseline under test.
        #[arg(long, requires = "baseline")]
        candidate: Option<String>,
        /// Smallest change that counts, in percent of the baseline's median (A/B only).
        #[arg(long, default_value_t = 10.0)]
        threshold: f64,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(
        t.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(t.len()),
    );
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 5m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{s:?} is not a duration this machine can wait for"))
}

/// Parses a size: bytes, or a number with KiB, MiB or GiB (`0`: no limit).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 512MiB or 4GiB"))?;
    let shift = match unit {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?} (use KiB, MiB or GiB)"
            ))
        }
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// The watchdog's limits from `--op-budget` and `--memory-limit` (the gate's defaults when
/// not given; `--memory-limit 0` turns the ceiling off).
fn limits(
    op_budget: Option<Duration>,
    memory_limit: Option<u64>,
) -> (Option<Duration>, Option<u64>) {
    use syncproof_gate::check::options::{DEFAULT_MEMORY_CEILING, DEFAULT_OP_BUDGET};
    (
        Some(op_budget.unwrap_or(DEFAULT_OP_BUDGET)),
        match memory_limit {
            Some(0) => None,
            m => Some(m.unwrap_or(DEFAULT_MEMORY_CEILING)),
        },
    )
}

/// `check`'s stall hook: writes the JUnit and JSON reports asked for (the run ends before
/// its report is built), then replaces this process, and so its stalled thread, with
/// `syncproof shrink REPRO`, which shrinks the stalled case in child processes and exits 1.
fn exec_shrink(junit: Option<PathBuf>, json: Option<PathBuf>) -> StallHook {
    StallHook(std::sync::Arc::new(move |report: &StallReport| {
        use std::os::unix::process::CommandExt;
        write_reports(junit.as_deref(), &report.junit(), json.as_deref(), report);
        let Some(Ok(path)) = &report.repro else {
            return;
        };
        let Ok(exe) = syncproof_harness::stall_shrink::this_exe() else {
            return;
        };
        println!("shrinking the stalled case, each try in a child process (syncproof shrink)…");
        let err = std::process::Command::new(exe)
            .arg("shrink")
            .arg(path)
            .exec();
        eprintln!("syncproof: cannot run syncproof shrink: {err}");
    }))
}

/// Parses `ENGINE:PATH` into the engine and its store directory.
fn parse_store(s: &str) -> Result<(engines::EngineInfo, PathBuf), String> {
    let (name, path) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not ENGINE:PATH"))?;
    if path.is_empty() {
        return Err(format!("{s:?} has no path"));
    }
    let info = engines::select(Some(name))?
        .pop()
        .ok_or_else(|| format!("no engine {name:?}"))?;
    if info.name == "memory" {
        return Err("the memory engine keeps nothing on disk; pick another engine".into());
    }
    Ok((info, PathBuf::from(path)))
}

/// Opens the `info` store in `dir` for `verify` or `migrate --from`, without writing to it:
/// a directory with no such store is a usage error (exit 2) that says what is there; a store
/// that fails to open exits 1.
fn open_existing(
    info: &engines::EngineInfo,
    dir: &std::path::Path,
) -> Result<syncproof_harness::existing::Existing, ExitCode> {
    use syncproof_harness::existing::{open, How, OpenError};
    if !dir.is_dir() {
        return Err(usage(format!("{}: no such store directory", dir.display())));
    }
    match open(info, dir) {
        Ok(e) => {
            if let How::Copy(_) = e.how {
                eprintln!("syncproof: {}:{}: {}", info.name, dir.display(), e.how);
            }
            Ok(e)
        }
        Err(OpenError::NoStore(m)) => Err(usage(m)),
        Err(e @ OpenError::Open(_)) => {
            eprintln!("syncproof: open {}:{}: {e}", info.name, dir.display());
            Err(ExitCode::from(1))
        }
    }
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("syncproof: {msg}");
    ExitCode::from(2)
}

/// mimalloc instead of glibc's malloc: a gate run allocates and frees small records on two
/// threads and on the engines' own threads, where glibc's arenas took a tenth of the CPU
/// (`syncproof_harness::allocator`: and no transparent huge pages under it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Output piped into `head` and closed early ends the process quietly, as for any Unix
    // tool, instead of panicking on a broken pipe.
    // SAFETY: restores the default disposition of SIGPIPE before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    syncproof_harness::allocator::without_huge_pages();
    let cli = Cli::parse();
    // Slow-operation warnings (and anything else at WARN) go to stderr.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing::Level::WARN)
        .init();
    match cli.command {
        Command::Bugs {
            detection,
            seeds,
            budget,
        } => {
            if detection {
                return print_detection(seeds, budget);
            }
            println!("API level (--inject NAME):");
            for b in Bug::ALL {
                println!(
                    "  {:<30} {}\n  {:<30} caught by contract checks: {}",
                    b.name(),
                    b.doc(),
                    "",
                    b.caught_by().join(", ")
                );
            }
            println!("KV level (--level kv --inject NAME):");
            for (_, name, doc) in KV_BUGS {
                println!("  {name:<30} {doc}");
            }
            ExitCode::SUCCESS
        }
        Command::Generate {
            store,
            syncs,
            users,
            groups,
            grants,
            assets,
            slow_ms,
            metrics,
        } => {
            let (info, path) = match parse_store(&store) {
                Ok(s) => s,
                Err(e) => return usage(e),
            };
            if let Err(e) = std::fs::create_dir_all(&path) {
                return usage(format!("{}: {e}", path.display()));
            }
            let shape = workload::Shape {
                users,
                groups,
                grants,
                assets,
            };
            let opened =
                match (info.opener)().open(&path, syncproof_engine::EngineConfig::default()) {
                    Ok(e) => e,
                    Err(err) => {
                        eprintln!("syncproof generate: open {store}: {err}");
                        return ExitCode::from(1);
                    }
                };
            let e = Instrumented::new(opened.as_ref(), Duration::from_millis(slow_ms));
            let total = syncs * workload::records_per_sync(&shape);
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} records ({per_sec}, eta {eta})",
            ) {
                bar.set_style(style);
            }
            let start = std::time::Instant::now();
            for v in 0..syncs {
                let base = bar.position();
                if let Err(err) =
                    workload::write_sync(&e, shape, v, &mut |n| bar.set_position(base + n))
                {
                    bar.abandon();
                    eprintln!("syncproof generate: sync {} of {syncs}: {err}", v + 1);
                    return ExitCode::from(1);
                }
            }
            if let Err(err) = e.flush() {
                eprintln!("syncproof generate: flush: {err}");
                return ExitCode::from(1);
            }
            bar.finish_and_clear();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{store}: {syncs} syncs, {total} records in {secs:.1}s ({:.0} records/s)",
                total as f64 / secs.max(1e-9)
            );
            if metrics {
                print!("{}", e.table());
            }
            ExitCode::SUCCESS
        }
        Command::Migrate {
            from,
            to,
            slow_ms,
            metrics,
        } => {
            let ((src_info, src_path), (dst_info, dst_path)) =
                match (parse_store(&from), parse_store(&to)) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(e), _) | (_, Err(e)) => return usage(e),
                };
            let opened = match open_existing(&src_info, &src_path) {
                Ok(e) => e,
                Err(code) => return code,
            };
            let src = Instrumented::new(opened.engine.as_ref(), Duration::from_millis(slow_ms));
            let bar = indicatif::ProgressBar::new_spinner();
            let start = std::time::Instant::now();
            let result =
                migrate::migrate(&src, (dst_info.opener)().as_ref(), &dst_path, &mut |n| {
                    bar.set_message(format!("{n} records copied"));
                    bar.tick();
                });
            bar.finish_and_clear();
            match result {
                Ok(r) => {
                    println!(
                        "{from} -> {to}: {} syncs, {} records copied and proven equal in {:.1}s",
                        r.syncs,
                        r.records,
                        start.elapsed().as_secs_f64()
                    );
                    for id in &r.skipped_unfinished {
                        println!("  skipped unfinished sync {id}");
                    }
                    if metrics {
                        print!("source calls:\n{}", src.table());
                    }
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!(
                        "syncproof migrate: {err} (nothing was moved into {})",
                        dst_path.display()
                    );
                    ExitCode::from(1)
                }
            }
        }
        Command::CorruptProbe { store, expect } => {
            let (info, path) = match parse_store(&store) {
                Ok(s) => s,
                Err(e) => return usage(e),
            };
            let original: syncproof_harness::corrupt::Contents =
                match std::fs::read_to_string(&expect)
                    .map_err(|e| e.to_string())
                    .and_then(|t| ron::from_str(&t).map_err(|e| e.to_string()))
                {
                    Ok(c) => c,
                    Err(e) => return usage(format!("{}: {e}", expect.display())),
                };
            let verdict =
                match (info.opener)().open(&path, syncproof_engine::EngineConfig::default()) {
                    Ok(e) => syncproof_harness::corrupt::probe(e.as_ref(), &original),
                    Err(err) => syncproof_harness::corrupt::Verdict::Error(format!("open: {err}")),
                };
            println!("{}", ron::to_string(&verdict).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Command::Crash(a) => crash(a),
        Command::CrashChild => {
            match syncproof_harness::faultmodel::child_main(&syncproof_harness::faultmodel::ENGINES)
            {
                Some(0) => ExitCode::SUCCESS,
                Some(_) => ExitCode::from(1),
                None => usage(format!(
                    "crash-child is run by `syncproof crash`, with {} set",
                    syncproof_harness::faultmodel::CHILD_ENV
                )),
            }
        }
        Command::CrashState {
            log,
            out,
            point,
            policy,
            seed,
        } => {
            use syncproof_harness::faultmodel::{image, recording};
            let Some(policy) = image::Policy::ALL.into_iter().find(|p| p.name() == policy) else {
                return usage(format!(
                    "--policy {policy}: synced-only, random-subset or torn-last"
                ));
            };
            let events = match recording::read_log(&log) {
                Ok(e) => e,
                Err(e) => return usage(e),
            };
            let k = point.unwrap_or(events.len()).min(events.len());
            match image::build(events.get(..k).unwrap_or_default(), policy, seed, &[], &out) {
                Ok(img) => {
                    println!(
                        "{}: {} files, {} pending writes kept, {} lost, {} torn",
                        out.display(),
                        img.files.len(),
                        img.kept,
                        img.dropped,
                        img.torn
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => usage(format!("{}: {e}", out.display())),
            }
        }
        Command::CrashWriter { store, log } => {
            let (info, path) = match parse_store(&store) {
                Ok(s) => s,
                Err(e) => return usage(e),
            };
            let result = (info.opener)()
                .open(&path, syncproof_engine::EngineConfig::default())
                .and_then(|e| syncproof_harness::crash::writer(e.as_ref(), &log));
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("syncproof crash-writer: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Verify { store } => {
            let (info, path) = match parse_store(&store) {
                Ok(s) => s,
                Err(e) => return usage(e),
            };
            let opened = match open_existing(&info, &path) {
                Ok(e) => e,
                Err(code) => return code,
            };
            let report = opened.engine.verify();
            match report {
                Err(err) => {
                    println!("{store}: cannot be verified: {err}");
                    ExitCode::from(1)
                }
                Ok(r) => {
                    println!(
                        "{store}: {} keys, {} records, {} index entries, {} sync runs",
                        r.keys, r.records, r.index_entries, r.sync_runs
                    );
                    for p in r.problems.iter().take(100) {
                        println!("  PROBLEM {p}");
                    }
                    if r.problems.len() > 100 {
                        println!("  … and {} more", r.problems.len() - 100);
                    }
                    if r.problems.is_empty() {
                        println!("consistent");
                        ExitCode::SUCCESS
                    } else {
                        println!("{} problems", r.problems.len());
                        ExitCode::from(1)
                    }
                }
            }
        }
        Command::Engines => {
            for e in engines::all() {
                println!(
                    "{:<8} {}\n         durability: {}\n         settings: {}",
                    e.name,
                    e.backend,
                    e.durability,
                    (e.settings)()
                );
                for v in e.volatile_files {
                    println!(
                        "         rebuilt after a crash (left out of crash states): *{}: {}",
                        v.suffix,
                        v.why.split_whitespace().collect::<Vec<_>>().join(" ")
                    );
                }
                for c in e.configurations {
                    println!(
                        "         configuration {}: {}",
                        syncproof_engine::contract::configuration_label(e.name, Some(c.name)),
                        c.what.split_whitespace().collect::<Vec<_>>().join(" ")
                    );
                    if let Some(race) = c.known_race {
                        println!(
                            "           known upstream race (not drawn by the concurrent phase): {}",
                            race.split_whitespace().collect::<Vec<_>>().join(" ")
                        );
                    }
                }
            }
            for (label, what) in syncproof_harness::faultmodel::PLANTED {
                println!("planted (for `syncproof crash` only): {label}: {what}");
            }
            ExitCode::SUCCESS
        }
        Command::Report {
            criterion_dir,
            results,
            update,
            out,
            notes,
            baseline,
            candidate,
            threshold,
        } => {
            let criterion_dir_given = criterion_dir.is_some();
            let dir = criterion_dir.unwrap_or_else(report::criterion_dir);
            if let (Some(a), Some(b)) = (baseline, candidate) {
                if !(threshold.is_finite() && threshold >= 0.0) {
                    return usage(format!("--threshold {threshold}: give a percentage ≥ 0"));
                }
                return match report::compare_baselines(&dir, &a, &b, threshold / 100.0) {
                    Ok(c) => {
                        print!("{}", report::compare::render(&c, &a, &b, threshold / 100.0));
                        if c.regressions().next().is_some() {
                            ExitCode::from(1)
                        } else {
                            ExitCode::SUCCESS
                        }
                    }
                    Err(e) => usage(e),
                };
            }
            let notes = notes.or_else(|| Some(out.join("notes.md")).filter(|p| p.is_file()));
            let command: Vec<String> = std::env::args()
                .enumerate()
                .map(|(i, a)| if i == 0 { "syncproof".into() } else { a })
                .collect();
            let (source, from) = match &results {
                Some(path) if update => (
                    report::Source::Updated {
                        results: path,
                        criterion: &dir,
                    },
                    format!("{} updated from {}", path.display(), dir.display()),
                ),
                Some(_) if criterion_dir_given => {
                    return usage(
                        "--results and --criterion-dir: add --update to replace the file's \
                         groups that criterion's latest runs measured",
                    )
                }
                Some(path) => (report::Source::Results(path), path.display().to_string()),
                None => (report::Source::Criterion(&dir), dir.display().to_string()),
            };
            match report::write_report(source, &out, notes.as_deref(), &command.join(" ")) {
                Ok(w) => {
                    println!(
                        "wrote {} ({} results, {} charts) from {from}",
                        w.readme.display(),
                        w.measurements,
                        w.charts,
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => usage(e),
            }
        }
        Command::Check {
            engines,
            cases,
            min_cases,
            threads,
            seed,
            max_ops,
            time,
            shard,
            junit,
            json,
            repro_dir,
            tmp,
            no_contract,
            concurrent_cases,
            readers,
            default_configurations,
            quiet,
            level,
            inject,
            op_budget,
            memory_limit,
        } => {
            let (op_budget, memory_ceiling) = limits(op_budget, memory_limit);
            let selected = match engines::select(Some(&engines)) {
                Ok(s) => s,
                Err(e) => return usage(e),
            };
            if max_ops == 0 {
                return usage("--max-ops must be at least 1");
            }
            if cases == Some(0) {
                return usage("--cases 0 checks nothing; give at least 1");
            }
            if threads == Some(0) {
                return usage("--threads must be at least 1");
            }
            if readers == 0 && concurrent_cases > 0 {
                return usage(
                    "--readers must be at least 1 (or skip the phase with --concurrent-cases 0)",
                );
            }
            if let Some(t) = &tmp {
                if !t.is_dir() {
                    return usage(format!("--tmp {}: no such directory", t.display()));
                }
            }
            // With a time budget and no case count the run is a soak: unbounded cases.
            let cases = cases.unwrap_or(if time.is_some() {
                u64::MAX
            } else {
                DEFAULT_CASES
            });
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
                    % 1_000_000_007
            });
            let shard = shard.unwrap_or_default();
            let options = Options {
                cases,
                min_cases,
                seed,
                max_ops,
                time_budget: time,
                shard,
                threads,
                tmp,
                repro_dir,
                contract: !no_contract,
                concurrent_cases: if level == Level::Kv {
                    0
                } else {
                    concurrent_cases
                },
                readers,
                // Filled in below from the engines' configurations.
                known_races: Vec::new(),
                inject: inject.clone(),
                progress: if quiet {
                    Progress::None
                } else {
                    Progress::Auto
                },
                op_budget,
                memory_ceiling,
                on_stall: Some(exec_shrink(junit.clone(), json.clone())),
            };
            let stores = syncproof_engine::scratch::Scratch::resolve(options.tmp.as_deref());
            let count = options
                .cases_in_shard()
                .map_or("unbounded".to_string(), |n| n.to_string());
            if level == Level::Kv {
                let bug = match named_bug(inject.as_deref(), KvBug::from_name, "KV bug") {
                    Ok(b) => b,
                    Err(e) => return usage(e),
                };
                let targets = engines::kv_targets(&selected, bug);
                if targets.is_empty() {
                    return usage("--level kv needs a key-value engine (sled, mdbx, redb, fjall)");
                }
                eprintln!(
                    "syncproof check --level kv: seed {seed}, {count} cases of at most {max_ops} steps, backends: {}",
                    targets.iter().map(|t| t.label.as_str()).collect::<Vec<_>>().join(", ")
                );
                eprintln!("  stores: {}", stores.describe());
                let report = syncproof_gate::check::kv::check(&options, &targets);
                return finish(&report, junit.as_deref(), json.as_deref());
            }
            let bug = match named_bug(inject.as_deref(), Bug::from_name, "bug") {
                Ok(b) => b,
                Err(e) => return usage(e),
            };
            // The memory engine is the oracle; it takes part in every case as the reference.
            // Alone and without an injected bug it would be compared with itself.
            let under_test: Vec<_> = selected.iter().filter(|e| e.name != "memory").collect();
            if under_test.is_empty() && bug.is_none() {
                return usage(
                    "--engines memory alone compares the oracle with itself and checks nothing; \
                     name an engine under test, or add --inject BUG to see a failure",
                );
            }
            let wrap = |o: Box<dyn Opener>| -> Box<dyn Opener> {
                match bug {
                    Some(b) => Box::new(FaultyOpener::new(o, b)),
                    None => o,
                }
            };
            let mut harness = Harness::new()
                .options(options)
                .regression_opener(engines::OPENER_PATH);
            for e in &under_test {
                harness.options.known_races.extend(e.known_races());
                let drawn = if default_configurations {
                    1
                } else {
                    usize::MAX
                };
                harness = harness.configured(
                    e.configured_openers()
                        .into_iter()
                        .take(drawn)
                        .map(|(label, o)| (label, wrap(o))),
                );
            }
            if under_test.is_empty() {
                harness = harness.engine(
                    "memory",
                    wrap(Box::<syncproof_memory::MemoryOpener>::default()),
                );
            }
            eprintln!(
                "syncproof check: seed {seed}, {count} cases of at most {max_ops} ops, engines: {}",
                selected
                    .iter()
                    .map(|e| e.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            eprintln!("  stores: {}", stores.describe());
            let count = under_test
                .iter()
                .map(|e| e.configurations.len())
                .sum::<usize>();
            if count > 0 && !default_configurations {
                eprintln!(
                    "  configurations: {count} besides the defaults, one drawn per case and engine (--default-configurations to turn off)"
                );
            }
            let report = harness.run();
            finish(&report, junit.as_deref(), json.as_deref())
        }
        Command::Replay {
            file,
            engines: names,
            print_test,
            schedules,
            op_budget,
            memory_limit,
        } => {
            let (op_budget, memory_ceiling) = limits(op_budget, memory_limit);
            let limits = syncproof_gate::run::watchdog::Limits {
                op_budget,
                memory_ceiling,
            };
            if schedules == 0 {
                return usage("--schedules must be at least 1");
            }
            replay(&file, names, print_test, schedules, limits)
        }
        Command::Shrink { file, time } => {
            let exe = match syncproof_harness::stall_shrink::this_exe() {
                Ok(e) => e,
                Err(e) => return usage(e),
            };
            let start = std::time::Instant::now();
            let bar = indicatif::ProgressBar::new_spinner();
            let result = syncproof_harness::stall_shrink::shrink_stalled(
                &exe,
                &file,
                time,
                &mut |tries, ops| {
                    bar.set_message(format!("{tries} tries, trying {ops} ops"));
                    bar.tick();
                },
            );
            bar.finish_and_clear();
            match result {
                Err(e) => usage(e),
                Ok(s) => {
                    let how = if !s.reproduced {
                        "the case no longer stalls when replayed (a flaky engine?); the repro is unchanged"
                    } else if s.to_ops < s.from_ops {
                        "shrunk"
                    } else {
                        "could not be shrunk further"
                    };
                    println!(
                        "syncproof shrink: {how}: {} -> {} ops in {} tries ({:.1} s)",
                        s.from_ops,
                        s.to_ops,
                        s.tries,
                        start.elapsed().as_secs_f64()
                    );
                    println!(
                        "STALL at op {} on {}: {}",
                        s.stall.op_index,
                        s.stall.engine,
                        s.stall.kind.describe()
                    );
                    println!(
                        "repro: {}
replay: syncproof replay {}",
                        file.display(),
                        file.display()
                    );
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// The bug class `name` (if given) looked up with `find`; `what` names the kind in the error.
fn named_bug<B>(
    name: Option<&str>,
    find: fn(&str) -> Option<B>,
    what: &str,
) -> Result<Option<B>, String> {
    name.map(|n| {
        find(n).ok_or_else(|| format!("unknown {what} {n:?}; `syncproof bugs` lists them"))
    })
    .transpose()
}

/// Prints the report, writes JUnit and JSON where asked, and turns it into the exit code: 0
/// passed, 1 failed, 2 when a report that was asked for could not be written.
/// `syncproof bugs --detection`: the table of cases to first detection (exit 1 if a store
/// could not be set up, 2 on a usage error).
fn print_detection(seeds: u64, budget: u64) -> ExitCode {
    use syncproof_gate::check::detection::{measure, Cases, Detection, TARGET_CASES};
    if seeds == 0 || budget == 0 {
        return usage("--seeds and --budget must be at least 1");
    }
    let seeds: Vec<u64> = (1..=seeds).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "measuring {} classes x {} seeds, at most {budget} cases each: aimed, unaimed, without swarm cases…",
        Bug::ALL.iter().filter(|b| b.sequences_can_meet()).count(),
        seeds.len()
    );
    let start = std::time::Instant::now();
    // Classes that panic on purpose (PanicOnLongToken) are caught as findings; their panic
    // messages would only bury the table.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let measured = (
        measure(Bug::ALL, &seeds, budget, Cases::Aimed, threads),
        measure(Bug::ALL, &seeds, budget, Cases::Unaimed, threads),
        measure(Bug::ALL, &seeds, budget, Cases::WithoutSwarm, threads),
    );
    std::panic::set_hook(hook);
    let (aimed, unaimed, without_swarm) = match measured {
        (Ok(a), Ok(u), Ok(w)) => (a, u, w),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let show = |m: Option<u64>| m.map_or(format!(">{budget}"), |n| n.to_string());
    let per_seed = |c: &[Option<u64>]| c.iter().map(|n| show(*n)).collect::<Vec<_>>().join(" ");
    println!(
        "cases to first detection by the generated sequences alone (memory engine, seeds 1..={}, at most {budget} cases; median, then per seed)",
        seeds.len()
    );
    println!(
        "  {:<30} {:>7}  {:<28} {:>9}  {:<28} {:>9}  per seed",
        "class", "aimed", "per seed", "unaimed", "per seed", "no swarm"
    );
    for ((a, u), w) in aimed.iter().zip(&unaimed).zip(&without_swarm) {
        println!(
            "  {:<30} {:>7}  {:<28} {:>9}  {:<28} {:>9}  {}",
            a.bug.name(),
            show(a.median()),
            per_seed(&a.cases),
            show(u.median()),
            per_seed(&u.cases),
            show(w.median()),
            per_seed(&w.cases)
        );
    }
    let within = |d: &[Detection]| d.iter().filter(|x| x.within_target()).count();
    let names = |bugs: &[Bug]| bugs.iter().map(|b| b.name()).collect::<Vec<_>>().join(", ");
    println!(
        "  median within {TARGET_CASES} cases: {} of {} classes aimed, {} unaimed, {} without \
         swarm cases; left out: \
         the stall classes ({}) are the watchdog's, {} the concurrent phase's, {} the contract \
         suite's",
        within(&aimed),
        aimed.len(),
        within(&unaimed),
        within(&without_swarm),
        names(Bug::STALLS),
        names(Bug::CONCURRENT),
        names(Bug::IMPORT_ONLY),
    );
    eprintln!("took {:.1}s", start.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}

fn finish<R: ReproText + serde::Serialize>(
    report: &Report<R>,
    junit: Option<&std::path::Path>,
    json: Option<&std::path::Path>,
) -> ExitCode {
    print!("{}", report.summary());
    if !write_reports(junit, &report.junit(), json, report) {
        ExitCode::from(2)
    } else if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Writes `xml` to `junit` and `report` as JSON to `json`, where given; says on stderr what
/// could not be written. Whether everything asked for was written.
fn write_reports(
    junit: Option<&std::path::Path>,
    xml: &str,
    json: Option<&std::path::Path>,
    report: &impl serde::Serialize,
) -> bool {
    let mut written = true;
    if let Some(path) = junit {
        if let Err(e) = std::fs::write(path, xml) {
            eprintln!(
                "syncproof: cannot write the JUnit report {}: {e}",
                path.display()
            );
            written = false;
        }
    }
    if let Some(path) = json {
        let done = serde_json::to_string_pretty(report)
            .map_err(|e| e.to_string())
            .and_then(|text| std::fs::write(path, text).map_err(|e| e.to_string()));
        if let Err(e) = done {
            eprintln!(
                "syncproof: cannot write the JSON report {}: {e}",
                path.display()
            );
            written = false;
        }
    }
    written
}

/// Runs a replay of one case under the watchdog: a stall is reported with the label
/// `label(subject)` of the engine and the op, in the line `syncproof shrink` looks for, and
/// the process exits 1.
fn watched<T: Send>(
    limits: syncproof_gate::run::watchdog::Limits,
    case: u64,
    label: &(dyn Fn(Option<usize>) -> String + Sync),
    op_text: &(dyn Fn(usize) -> String + Sync),
    body: impl FnOnce(&syncproof_gate::run::watchdog::Beat) -> T + Send,
) -> T {
    use syncproof_gate::check::stall::StallAt;
    use syncproof_gate::run::watchdog::{watch, Beat, Stall, Task};
    let beats = [Beat::default()];
    beats[0].case(case);
    let on_stall = |stall: Stall| {
        let at = match stall.task {
            Some(Task::Op { subject, op, .. }) => StallAt::Op {
                engine: label(subject),
                case,
                op_index: op,
                op: op_text(op),
            },
            _ => StallAt::Nowhere {},
        };
        StallReport::new("syncproof replay", stall.kind, stall.elapsed, at).emit(None);
    };
    watch(&beats, limits, &on_stall, || body(&beats[0]))
}

/// The arguments of `syncproof crash`.
#[derive(clap::Args)]
struct CrashArgs {
    /// Comma-separated engine labels, or "all" (every engine but memory).
    #[arg(long, default_value = "all")]
    engines: String,
    #[arg(long, value_parser = ["kill", "power-loss", "io-error"], default_value = "power-loss")]
    model: String,
    /// Crash points per engine (power loss: each under 4 policies; io-error: injected
    /// errors; kill: kills).
    #[arg(long, default_value_t = 20)]
    points: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Calls drawn for the workload's aimed part (an opening sync of 160 grants comes
    /// on top).
    #[arg(long, default_value_t = syncproof_harness::faultmodel::workload::DEFAULT_MAX_OPS)]
    max_ops: usize,
    /// Stop starting new crash states after this long per engine (e.g. 5m).
    #[arg(long, value_parser = parse_duration)]
    time: Option<Duration>,
    /// Longest one child process may take.
    #[arg(long, value_parser = parse_duration, default_value = "120s")]
    timeout: Duration,
    /// Where stores and crash states go (default: the system temp dir). Give a disk file
    /// system: an engine may detect a RAM one and skip its syncs there (libmdbx does).
    #[arg(long)]
    tmp: Option<PathBuf>,
    #[arg(long, default_value = "syncproof-repros")]
    repro_dir: PathBuf,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the results as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    #[arg(long)]
    quiet: bool,
}

fn crash_options(
    model: syncproof_harness::faultmodel::Model,
    a: &CrashArgs,
) -> Result<syncproof_harness::faultmodel::drive::Options, String> {
    Ok(syncproof_harness::faultmodel::drive::Options {
        model,
        points: a.points,
        seed: a.seed,
        max_ops: a.max_ops,
        time: a.time,
        tmp: a.tmp.clone(),
        engines: syncproof_harness::faultmodel::ENGINES,
        children: syncproof_harness::faultmodel::children(
            std::env::current_exe().map_err(|e| format!("current executable: {e}"))?,
        ),
        timeout: a.timeout,
        repro_dir: a.repro_dir.clone(),
        quiet: a.quiet,
    })
}

/// `syncproof crash`.
fn crash(a: CrashArgs) -> ExitCode {
    use syncproof_harness::faultmodel::{drive, Model};
    let model = match Model::parse(&a.model) {
        Ok(m) => m,
        Err(e) => return usage(e),
    };
    if a.points == 0 {
        return usage("--points 0 checks nothing: give at least 1");
    }
    let labels: Vec<String> = if a.engines == "all" {
        engines::all()
            .iter()
            .filter(|e| e.name != "memory")
            .map(|e| e.name.to_string())
            .collect()
    } else {
        a.engines.split(',').map(|s| s.trim().to_string()).collect()
    };
    for l in &labels {
        if l == "memory" {
            return usage("memory keeps nothing across a process: it has no crash states");
        }
        if syncproof_harness::faultmodel::opener(l).is_none() {
            return usage(format!("unknown engine {l:?} (see `syncproof engines`)"));
        }
    }
    if model != Model::Kill {
        if let Err(e) = syncproof_harness::faultmodel::recording::library() {
            return usage(e);
        }
    }
    let o = match crash_options(model, &a) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let runs = drive::run(&o, &labels);
    print!("{}", drive::summary(model, &runs));
    if runs.iter().any(|r| !r.findings.is_empty()) {
        println!("replay a repro with `syncproof replay FILE`");
    }
    let states: usize = runs.iter().map(|r| r.states).sum();
    let passed = runs.iter().all(|r| r.passed());
    println!(
        "{} crash states checked on {} engines under {}: {}",
        states,
        runs.len(),
        model.name(),
        if passed { "PASSED" } else { "FAILED" }
    );
    if let Some(path) = &a.json {
        let json = serde_json::json!({ "model": model.name(), "seed": a.seed, "engines": runs });
        if let Err(e) = std::fs::write(path, json.to_string()) {
            return usage(format!("{}: {e}", path.display()));
        }
    }
    if let Some(path) = &a.junit {
        if let Err(e) = std::fs::write(path, drive::junit(model, &runs)) {
            return usage(format!("{}: {e}", path.display()));
        }
    }
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `syncproof replay` of a crash repro.
fn replay_crash(
    file: &std::path::Path,
    repro: &syncproof_harness::faultmodel::drive::CrashRepro,
) -> ExitCode {
    use syncproof_harness::faultmodel::drive;
    let a = CrashArgs {
        engines: repro.engine.clone(),
        model: repro.model.name().into(),
        points: 1,
        seed: repro.workload.seed,
        max_ops: repro.workload.max_ops,
        time: None,
        timeout: Duration::from_secs(120),
        tmp: None,
        repro_dir: std::env::temp_dir().join("syncproof-replay-repros"),
        json: None,
        junit: None,
        quiet: true,
    };
    let o = match crash_options(repro.model, &a) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    println!(
        "{}: {} on {}, workload seed {} index {}{}{}",
        file.display(),
        repro.model.name(),
        repro.engine,
        repro.workload.seed,
        repro.workload.index,
        repro
            .point
            .map(|k| format!(", crash after event {k}"))
            .unwrap_or_default(),
        repro
            .fail
            .as_ref()
            .map(|f| format!(", failing {f}"))
            .unwrap_or_default(),
    );
    let dir = file.parent().unwrap_or(std::path::Path::new("."));
    match drive::replay(&o, repro, dir) {
        Ok(run) => {
            print!(
                "{}",
                drive::summary(repro.model, std::slice::from_ref(&run))
            );
            if run.passed() {
                println!("the crash state is consistent now: not reproduced");
                ExitCode::SUCCESS
            } else {
                println!("reproduced");
                ExitCode::from(1)
            }
        }
        Err(e) => usage(e),
    }
}

/// `syncproof replay FILE`: an API-level or a KV-level repro, on the engines it names (or
/// `--engines`), every step printed with each engine's outcome where they differ.
fn replay(
    file: &std::path::Path,
    names: Option<String>,
    print_test: bool,
    schedules: usize,
    limits: syncproof_gate::run::watchdog::Limits,
) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return usage(format!("{}: {e}", file.display())),
    };
    if let Ok(kv) = KvRepro::from_ron(&text) {
        return replay_kv(file, &kv, names, limits);
    }
    if let Ok(c) = ConcurrentRepro::from_ron(&text) {
        return replay_concurrent(file, &c, names, schedules);
    }
    if let Ok(c) = syncproof_harness::faultmodel::drive::CrashRepro::from_ron(&text) {
        return replay_crash(file, &c);
    }
    let repro = match Repro::from_ron(&text) {
        Ok(r) => r,
        Err(e) => return usage(format!("{}: {e}", file.display())),
    };
    let labels: Vec<String> = match &names {
        Some(n) => n.split(',').map(|s| s.trim().to_string()).collect(),
        None => repro.engines.clone(),
    };
    let openers = match repro.openers_for(&labels, &engines::opener) {
        Ok(o) => o,
        Err(e) => {
            return usage(format!(
                "{e} (the repro names engines {:?}; pick others with --engines)",
                repro.engines
            ))
        }
    };
    let subjects: Vec<(String, &dyn Opener)> = openers
        .iter()
        .map(|(l, o)| (l.clone(), o.as_ref()))
        .collect();
    let oracle = syncproof_memory::MemoryOpener::default();
    let mut trace = Vec::new();
    let label = |subject: Option<usize>| match subject {
        Some(i) => subjects.get(i).map_or("?".into(), |(l, _)| l.clone()),
        None => format!("{} (oracle)", oracle.name()),
    };
    let op_text = |i: usize| {
        repro
            .ops
            .get(i)
            .map_or_else(String::new, |o| abbreviate(&format!("{o:?}")))
    };
    let ran = watched(limits, repro.case, &label, &op_text, |beat| {
        run_case_watched(
            repro.seed,
            &repro.ops,
            &oracle,
            &subjects,
            None,
            beat,
            Some(&mut trace),
        )
    });
    let run = match ran {
        Ok(r) => r,
        Err(e) => {
            eprintln!("syncproof replay: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "replaying {} ({} ops, seed {}) on {}",
        file.display(),
        repro.ops.len(),
        repro.seed,
        labels.join(",")
    );
    if repro.flaky {
        println!("note: this repro was written unshrunk because its shrunk form stopped disagreeing (a flaky engine)");
    }
    for (i, (op, outcomes)) in trace.iter().enumerate() {
        let expected = outcomes.first().map(|(_, o)| o);
        let differs = outcomes.iter().any(|(_, o)| Some(o) != expected);
        println!(
            "{} {i:>3}: {}",
            if differs { "✗" } else { " " },
            abbreviate(&format!("{op:?}"))
        );
        if differs {
            for (engine, o) in outcomes {
                println!("        {engine:<18} {}", o.summary());
            }
        }
    }
    if print_test {
        println!("\n{}", repro.regression_test(engines::OPENER_PATH));
    }
    match run.finding {
        Some(f) => {
            println!("DISAGREEMENT at op {}", f.op_index);
            ExitCode::from(1)
        }
        None => {
            println!("all engines agree with the oracle");
            ExitCode::SUCCESS
        }
    }
}

/// `syncproof replay` of a concurrent repro: the case under `schedules` schedules on its
/// engine (or `--engines`, one), saying how many failed and what the first failure saw.
fn replay_concurrent(
    file: &std::path::Path,
    repro: &ConcurrentRepro,
    names: Option<String>,
    schedules: usize,
) -> ExitCode {
    let label = names.unwrap_or_else(|| repro.engine.clone());
    let Some(opener) = engines::opener(&label) else {
        return usage(format!(
            "no engine {label:?} (the repro names {:?}; a planted bug of a test replays from that test)",
            repro.engine
        ));
    };
    let opener: Box<dyn Opener> = match named_bug(repro.inject.as_deref(), Bug::from_name, "bug") {
        Ok(Some(b)) => Box::new(FaultyOpener::new(opener, b)),
        Ok(None) => opener,
        Err(e) => return usage(format!("the repro names an {e}")),
    };
    println!(
        "replaying {} (concurrent: {} writer ops, {} readers, seed {}) on {label} under {schedules} schedules",
        file.display(),
        repro.concurrent.writer.len(),
        repro.concurrent.readers.len(),
        repro.seed
    );
    match syncproof_gate::run::concurrent::run_schedules(
        repro.seed,
        &repro.concurrent,
        &label,
        opener.as_ref(),
        None,
        schedules,
        false,
    ) {
        Err(e) => {
            eprintln!("syncproof replay: {e}");
            ExitCode::from(1)
        }
        Ok((ran, 0, _)) => {
            println!(
                "no failure in {ran} schedules (when it was written it failed in {} of {})",
                repro.schedules.1, repro.schedules.0
            );
            ExitCode::SUCCESS
        }
        Ok((ran, failed, first)) => {
            if let Some(f) = first {
                print!("{}", f.describe());
            }
            println!("CONCURRENCY FAILURE in {failed} of {ran} schedules");
            ExitCode::from(1)
        }
    }
}

fn replay_kv(
    file: &std::path::Path,
    repro: &KvRepro,
    names: Option<String>,
    limits: syncproof_gate::run::watchdog::Limits,
) -> ExitCode {
    let names = names.unwrap_or_else(|| repro.backends.join(","));
    let selected = match engines::select(Some(&names)) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let bug = match named_bug(repro.inject.as_deref(), KvBug::from_name, "KV bug") {
        Ok(b) => b,
        Err(e) => return usage(format!("the repro names an {e}")),
    };
    let targets = engines::kv_targets_as_named(&selected, bug);
    println!(
        "replaying {} ({} KV steps, seed {}) on {names}",
        file.display(),
        repro.ops.len(),
        repro.seed
    );
    let label = |subject: Option<usize>| match subject {
        Some(i) => targets.get(i).map_or("?".into(), |t| t.label.clone()),
        None => "btree".into(),
    };
    let op_text = |i: usize| {
        repro
            .ops
            .get(i)
            .map_or_else(String::new, |o| abbreviate(&format!("{o:?}")))
    };
    let ran = watched(limits, repro.case, &label, &op_text, |beat| {
        syncproof_gate::run::kv::run_watched(&repro.ops, &targets, None, Some(beat))
    });
    match ran {
        Err(e) => {
            eprintln!("syncproof replay: {e}");
            ExitCode::from(1)
        }
        Ok(run) => match run.finding {
            Some(f) => {
                let again = KvRepro {
                    finding: Some(f.clone()),
                    ..repro.clone()
                };
                print!("{}", again.describe());
                println!("DISAGREEMENT at step {}", f.0);
                ExitCode::from(1)
            }
            None => {
                println!("all backends agree with the BTreeMap");
                ExitCode::SUCCESS
            }
        },
    }
}
