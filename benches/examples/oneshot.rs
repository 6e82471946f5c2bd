//! The one-shot run at the seeds' scale: every workload of
//! `syncproof_harness::report::oneshot::STEPS` once per engine on N grants (default 1M), timed
//! by the wall clock, with each engine's peak memory and its store's bytes on disk. Each
//! engine runs in a child process of its own (this binary re-executed), so its peak RSS is
//! its own. Writes `reports/oneshot.json` (or `--out`), which `syncproof report` renders as a
//! section of the report, and prints that section.
//!
//! `cargo run --release -p syncproof-benches --example oneshot -- [--grants N]
//! [--engines a,b] [--out FILE] [--max-rss-gib G]`
//!
//! An engine whose process grows past `--max-rss-gib` (default three quarters of this
//! machine's memory) is stopped and recorded with the steps it finished, the step it was in
//! and the memory it held, instead of being killed by the kernel with the rest of the machine
//! short of memory (sled at 1M grants reached 22 GB on a 24 GB machine).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use syncproof_benches::{
    entitlement_query, half_newer, index_entitlements, index_principals, lend_all, principal_query,
    shape,
};
use syncproof_engine::codec::envelope;
use syncproof_engine::page::read_all;
use syncproof_engine::*;
use syncproof_gate::run::watchdog::resident_bytes;
use syncproof_harness::engines;
use syncproof_harness::report::machine::{memory_bytes, Machine};
use syncproof_harness::report::oneshot::{self, EngineShot, OneShot, STEPS};
use syncproof_harness::workload::{batches, records_per_sync, write_sync_of};

const CHILD: &str = "--child";

/// How often a child compares its resident memory with the limit.
const RSS_POLL: Duration = Duration::from_millis(200);

const GIB: f64 = (1u64 << 30) as f64;

struct Args {
    grants: usize,
    engines: Option<String>,
    out: PathBuf,
    child: Option<String>,
    /// The resident memory at which a child is stopped, in bytes.
    max_rss: u64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        grants: 1_000_000,
        engines: None,
        out: PathBuf::from("reports").join(oneshot::ONESHOT_FILE),
        child: None,
        max_rss: memory_bytes().map_or(16 << 30, |b| b / 4 * 3),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--grants" => {
                let v = value()?;
                a.grants = syncproof_benches::parse_sizes(&v)?
                    .first()
                    .copied()
                    .ok_or(format!("--grants {v:?}: no count"))?;
            }
            "--engines" => a.engines = Some(value()?),
            "--out" => a.out = PathBuf::from(value()?),
            "--max-rss-gib" => {
                let v = value()?;
                a.max_rss = v
                    .parse::<f64>()
                    .ok()
                    .filter(|g| g.is_finite() && *g > 0.0)
                    .map(|g| (g * GIB) as u64)
                    .ok_or(format!("--max-rss-gib {v:?}: a positive number of GiB"))?;
            }
            CHILD => a.child = Some(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "oneshot: {e}\nusage: oneshot [--grants N] [--engines a,b] [--out FILE] \
                 [--max-rss-gib G]"
            );
            return ExitCode::from(2);
        }
    };
    let result = match &args.child {
        Some(engine) => {
            watch_memory(args.max_rss);
            child(engine, args.grants).map(|shot| emit(&ChildLine::Done(shot)))
        }
        None => parent(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oneshot: {e}");
            ExitCode::from(1)
        }
    }
}

/// Runs every engine in a child, then writes and prints the result.
fn parent(args: &Args) -> Result<(), String> {
    let infos = engines::select(args.engines.as_deref())?;
    let exe = std::env::current_exe().map_err(|e| format!("this executable: {e}"))?;
    let sh = shape(args.grants);
    let raw_bytes_per_sync = batches(sh, 0)
        .flat_map(|b| b.to_records())
        .map(|r| envelope::encode_record(&r).map(|v| v.len() as u64))
        .sum::<Result<u64, _>>()
        .map_err(|e| format!("a workload record does not encode: {e}"))?;
    let started_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut shots = Vec::new();
    for info in &infos {
        eprintln!(
            "oneshot: {} on {} grants (stopped past {:.1} GiB resident)",
            info.name,
            args.grants,
            args.max_rss as f64 / GIB
        );
        shots.push(run_child(&exe, info.name, args)?);
    }
    let result = OneShot {
        grants: args.grants as u64,
        records_per_sync: records_per_sync(&sh),
        raw_bytes_per_sync,
        command: format!(
            "cargo run --release -p syncproof-benches --example oneshot -- --grants {}{}",
            args.grants,
            args.engines
                .as_ref()
                .map(|e| format!(" --engines {e}"))
                .unwrap_or_default()
        ),
        commit: syncproof_harness::report::git_describe().unwrap_or_else(|| "unknown".into()),
        started_unix,
        machine: Machine::this(),
        engines: shots,
    };
    let json = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&args.out, json + "\n").map_err(|e| format!("{}: {e}", args.out.display()))?;
    print!("{}", oneshot::section(&result));
    eprintln!("oneshot: wrote {}", args.out.display());
    Ok(())
}

/// What a child writes on its stdout, a JSON line each: every step as it ends, then the rest
/// of its result. A child that dies still leaves the steps it finished.
#[derive(serde::Serialize, serde::Deserialize)]
enum ChildLine {
    /// A step finished in this many seconds.
    Step { name: String, seconds: f64 },
    /// The run ended: its memory and disk figures (`seconds` empty: the steps came first).
    Done(EngineShot),
    /// The child grew past the memory limit during `step` (`None`: between steps) and stops.
    Stopped {
        step: Option<String>,
        resident_bytes: u64,
        limit_bytes: u64,
    },
}

/// The step a child is in, as an index into [`STEPS`] (`usize::MAX`: between steps).
static CURRENT_STEP: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Stops this child once its resident memory passes `limit` bytes, after telling the parent
/// where it was: checked once now (a limit below what the process holds before its first
/// step stops it here), then every [`RSS_POLL`] on a thread of its own.
fn watch_memory(limit: u64) {
    if resident_bytes().is_none() {
        eprintln!("oneshot: this system does not report resident memory; no limit");
        return;
    }
    check_memory(limit);
    std::thread::spawn(move || loop {
        std::thread::sleep(RSS_POLL);
        check_memory(limit);
    });
}

/// One check of [`watch_memory`].
fn check_memory(limit: u64) {
    let Some(rss) = resident_bytes().filter(|&rss| rss > limit) else {
        return;
    };
    let step = STEPS
        .get(CURRENT_STEP.load(Ordering::Relaxed))
        .map(|(s, _)| s.to_string());
    emit(&ChildLine::Stopped {
        step,
        resident_bytes: rss,
        limit_bytes: limit,
    });
    std::process::exit(3);
}

fn emit(line: &ChildLine) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, line);
    let _ = writeln!(out);
    let _ = out.flush();
}

/// Runs one engine in a child (its stderr, the progress, passes through) and collects its
/// result; a child that fails yields the steps it finished and why it ended.
fn run_child(exe: &Path, engine: &str, args: &Args) -> Result<EngineShot, String> {
    use std::io::BufRead as _;
    let mut child = Command::new(exe)
        .args([CHILD, engine, "--grants", &args.grants.to_string()])
        .args(["--max-rss-gib", &(args.max_rss as f64 / GIB).to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{engine}: spawn: {e}"))?;
    let stdout = child.stdout.take().ok_or(format!("{engine}: no stdout"))?;
    let (mut seconds, mut done, mut stopped) = (Vec::new(), None, None);
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("{engine}: reading the child: {e}"))?;
        match serde_json::from_str(&line) {
            Ok(ChildLine::Step { name, seconds: t }) => seconds.push((name, t)),
            Ok(ChildLine::Done(shot)) => done = Some(shot),
            Ok(ChildLine::Stopped {
                step,
                resident_bytes,
                limit_bytes,
            }) => {
                let when = step.map_or("between steps".into(), |s| format!("in step {s}"));
                stopped = Some(format!(
                    "stopped {when} at {:.2} GiB resident, past the limit of {:.2} GiB \
                     (`--max-rss-gib`)",
                    resident_bytes as f64 / GIB,
                    limit_bytes as f64 / GIB
                ));
            }
            Err(e) => return Err(format!("{engine}: the child wrote {line:?}: {e}")),
        }
    }
    let status = child.wait().map_err(|e| format!("{engine}: wait: {e}"))?;
    Ok(match done.filter(|_| status.success()) {
        Some(shot) => EngineShot { seconds, ..shot },
        None => {
            let failed = stopped.unwrap_or_else(|| {
                format!(
                    "its process ended with {status} after {}",
                    seconds
                        .last()
                        .map_or("no step".into(), |(s, _)| format!("step {s}"))
                )
            });
            eprintln!("oneshot: {engine}: {failed}");
            EngineShot {
                engine: engine.to_string(),
                seconds,
                peak_rss_bytes: 0,
                bytes_after_ingest: 0,
                bytes_before_cleanup: 0,
                bytes_after_cleanup: 0,
                failed: Some(failed),
            }
        }
    })
}

/// Bytes the files under `dir` take on disk (allocated blocks).
fn on_disk(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.blocks() * 512,
                Err(_) => {}
            }
        }
    }
    total
}

/// This process's peak resident memory (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Every step on one engine's store; the result for the parent.
fn child(engine: &str, n: usize) -> Result<EngineShot, String> {
    let info = engines::select(Some(engine))?
        .into_iter()
        .next()
        .ok_or(format!("no engine {engine}"))?;
    let opener = (info.opener)();
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let e = opener
        .open(dir.path(), EngineConfig::default())
        .map_err(|e| format!("open: {e}"))?;
    let e = e.as_ref();
    let sh = shape(n);
    let step = |name: &str, f: &mut dyn FnMut() -> Result<()>| -> Result<(), String> {
        let Some(index) = STEPS.iter().position(|(s, _)| *s == name) else {
            return Err(format!("step {name} is not in oneshot::STEPS"));
        };
        CURRENT_STEP.store(index, Ordering::Relaxed);
        let t = Instant::now();
        let done = f().map_err(|err| format!("{engine} {name}: {err}"));
        CURRENT_STEP.store(usize::MAX, Ordering::Relaxed);
        done?;
        let seconds = t.elapsed().as_secs_f64();
        eprintln!("oneshot: {engine} {name}: {seconds:.2} s");
        emit(&ChildLine::Step {
            name: name.to_string(),
            seconds,
        });
        Ok(())
    };
    let flushed = |e: &dyn StorageEngine, id: SyncId| e.flush().map(|()| id);

    let v0: Vec<RecordBatch> = batches(sh, 0).collect();
    let mut first = None;
    step("ingest", &mut || {
        first = Some(flushed(e, write_sync_of(e, &v0, &mut |_| {})?)?);
        Ok(())
    })?;
    let bytes_after_ingest = on_disk(dir.path());
    let v1: Vec<RecordBatch> = batches(sh, 1).collect();
    let mut second = None;
    step("ingest_second", &mut || {
        second = Some(flushed(e, write_sync_of(e, &v1, &mut |_| {})?)?);
        Ok(())
    })?;
    drop(v1);
    let (Some(first), Some(second)) = (first, second) else {
        return Err("the syncs were not written".into());
    };
    let all = ListQuery::Grants(GrantFilter::All);
    let expect = |what: &str, got: usize, want: usize| {
        if got == want {
            Ok(())
        } else {
            Err(Error::corruption(format!(
                "{what}: {got} records, {want} expected"
            )))
        }
    };
    step("page_all_grants", &mut || {
        let got = read_all(1_000, |req| e.list(Some(&second), &all, req))?.len();
        expect("page_all_grants", got, n)
    })?;
    step("page_all_grants_lent", &mut || {
        let (got, _) = lend_all(e, &second, &all)?;
        expect("page_all_grants_lent", got, n)
    })?;
    let queries: Vec<ListQuery> = index_principals(&sh)
        .iter()
        .map(principal_query)
        .chain(
            index_entitlements(&sh)
                .iter()
                .map(|id| entitlement_query(id)),
        )
        .collect();
    step("index_lists", &mut || {
        let mut got = 0;
        for q in &queries {
            got += read_all(1_000, |req| e.list(Some(&second), q, req))?.len();
        }
        if got == 0 {
            return Err(Error::corruption("the index lists found nothing"));
        }
        Ok(())
    })?;
    step("diff", &mut || {
        e.generate_sync_diff(&first, &second)?;
        e.flush()
    })?;
    // The third sync holds the first one's records before the timed if-newer pass.
    e.start_new_sync(SyncType::Full, None)
        .and_then(|_| v0.iter().try_for_each(|b| e.put(b, PutMode::Replace)))
        .and_then(|()| e.flush())
        .map_err(|err| format!("{engine}: the third sync: {err}"))?;
    drop(v0);
    let again = half_newer(n);
    step("resync_if_newer", &mut || {
        for b in &again {
            e.put(b, PutMode::IfNewer)?;
        }
        e.end_sync()?;
        e.flush()
    })?;
    drop(again);
    let bytes_before_cleanup = on_disk(dir.path());
    step("cleanup", &mut || {
        let deleted = e.cleanup(1)?;
        if deleted.len() < 2 {
            return Err(Error::corruption(format!(
                "cleanup deleted {} syncs, at least 2 expected",
                deleted.len()
            )));
        }
        e.flush()
    })?;
    let bytes_after_cleanup = on_disk(dir.path());
    Ok(EngineShot {
        engine: engine.to_string(),
        seconds: Vec::new(),
        peak_rss_bytes: peak_rss(),
        bytes_after_ingest,
        bytes_before_cleanup,
        bytes_after_cleanup,
        failed: None,
    })
}
