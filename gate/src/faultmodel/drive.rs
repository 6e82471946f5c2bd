//! The parent of `syncproof crash`: per engine and model, runs the workload in child
//! processes, makes the crash states, probes each in a child of its own, and gathers what it
//! found into a summary, findings with replayable repros, and the count of crash states tried.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::process::{self as child, Exit};
use std::time::{Duration, Instant};

use super::image::{self, Policy};
use super::probe::Verdict;
use super::recording::{self, Class, Event, Recording};
use super::workload::{Ended, Timeline, Workload};
use super::{ChildSpec, Children, Engines, Model, Role};

/// Format version of [`CrashRepro`].
pub const REPRO_VERSION: u32 = 1;

/// Everything that makes one crash state again.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrashRepro {
    /// [`REPRO_VERSION`] when written.
    pub version: u32,
    /// The engine's label.
    pub engine: String,
    /// The model that found it.
    pub model: Model,
    /// The workload the child ran.
    pub workload: Workload,
    /// Power loss: the crash point (events of the record kept) and the policy; the policy's
    /// randomness comes from `state_seed`.
    pub point: Option<usize>,
    /// Power loss: which unsynced writes the state keeps.
    pub policy: Option<Policy>,
    /// The seed of the policy's random choices.
    pub state_seed: u64,
    /// I/O error: the `SYNCPROOF_FAIL` spec.
    pub fail: Option<String>,
    /// Kill: milliseconds after the start (a kill's instant cannot be replayed exactly; the
    /// replay kills at the same time and says whether it found the same).
    pub kill_after_ms: Option<u64>,
    /// The recorder log the crash state was made from, saved beside the repro (a file name
    /// in the repro's directory), so that the replay makes the very same state.
    #[serde(default)]
    pub record: Option<String>,
}

impl CrashRepro {
    /// As RON, the repro file's format.
    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).unwrap_or_default()
    }
    /// Reads a repro file's text; an error names a wrong format version.
    pub fn from_ron(text: &str) -> Result<Self, String> {
        let r: CrashRepro = ron::from_str(text).map_err(|e| e.to_string())?;
        if r.version != REPRO_VERSION {
            return Err(format!(
                "crash repro format version {} is not {REPRO_VERSION}",
                r.version
            ));
        }
        Ok(r)
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The fault model.
    pub model: Model,
    /// Crash points per engine (power loss: each under every policy; I/O error: injected
    /// errors; kill: kills).
    pub points: usize,
    /// The seed of the workloads, crash points and policies.
    pub seed: u64,
    /// Calls drawn for each workload's aimed part ([`super::workload::DEFAULT_MAX_OPS`]).
    pub max_ops: usize,
    /// Stop starting new crash states after this long per engine.
    pub time: Option<Duration>,
    /// Where stores and crash states go (default: the system temp dir, on disk: an engine may
    /// skip its syncs on a RAM file system, libmdbx does).
    pub tmp: Option<PathBuf>,
    /// The engines, by label.
    pub engines: Engines,
    /// How the children are started.
    pub children: Children,
    /// Per child process.
    pub timeout: Duration,
    /// Where repros of findings go.
    pub repro_dir: PathBuf,
    /// No progress line on stderr.
    pub quiet: bool,
}

impl Options {
    /// `model` on `engines` with `children`, at the defaults a library test wants: 6 crash
    /// points of seed 1, workloads of [`super::workload::DEFAULT_MAX_OPS`] calls, no time
    /// limit, stores in the system temp dir (on disk), 120 s per child, repros in
    /// `syncproof-repros/`, no progress line. Set the rest with struct update syntax.
    pub fn new(model: Model, engines: Engines, children: Children) -> Self {
        Options {
            model,
            points: 6,
            seed: 1,
            max_ops: super::workload::DEFAULT_MAX_OPS,
            time: None,
            tmp: None,
            engines,
            children,
            timeout: Duration::from_secs(120),
            repro_dir: PathBuf::from("syncproof-repros"),
            quiet: true,
        }
    }
}

/// One thing found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    /// What was wrong, in words.
    pub what: String,
    /// What makes the state again.
    pub repro: CrashRepro,
    /// Where the repro was written, if it was.
    pub saved: Option<PathBuf>,
}

/// One engine's run of one model.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EngineRun {
    /// The engine's label.
    pub engine: String,
    /// Crash states checked (each probed in its own child).
    pub states: usize,
    /// States that passed the probe.
    pub consistent: usize,
    /// Calls a consistent state did not hold though allowed to lose them, summed.
    pub lost_optional_calls: usize,
    /// Events recorded by the clean runs (power loss: every workload it recorded; I/O error:
    /// the run that counted the calls).
    pub events: usize,
    /// I/O error: injections that hit a call, and those whose n-th call never came.
    pub injected: usize,
    /// I/O error: injections whose n-th call never came.
    pub not_hit: usize,
    /// I/O error: injections that made the store fail to open (with `Io`): nothing was
    /// acknowledged, so there is nothing to check.
    pub open_failures: usize,
    /// Why the engine cannot be tested under this model, if it cannot.
    pub refused: Option<String>,
    /// What was found, in order.
    pub findings: Vec<Finding>,
    /// The first finding again on the smallest workload that still shows one (power loss, I/O
    /// error), with that workload's number of calls.
    pub shrunk: Option<(usize, Finding)>,
    /// Wall time of the run.
    pub seconds: f64,
}

impl EngineRun {
    /// Something was checked and nothing found.
    pub fn passed(&self) -> bool {
        self.findings.is_empty() && self.refused.is_none() && self.states > 0
    }
}

use super::image::next;

/// What a child's stderr says in a line of a finding: a panic's location and message when
/// it panicked (its backtrace would bury them), else its last three lines.
fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.trim().lines().collect();
    let from = lines
        .iter()
        .position(|l| l.contains("panicked at"))
        .unwrap_or(lines.len().saturating_sub(3));
    lines
        .get(from..(from + 3).min(lines.len()))
        .unwrap_or_default()
        .iter()
        .take_while(|l| !l.starts_with("stack backtrace:"))
        .copied()
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The command of a child that does `role` (runs the workload, or checks a crash state) on
/// `label`'s store at `store`, with workload `w` and its marks file; a probe's verdict goes
/// beside the marks.
fn child_command(
    o: &Options,
    role: Role,
    label: &str,
    store: &Path,
    w: &Workload,
    marks: &Path,
) -> Command {
    ChildSpec {
        role,
        engine: label.to_string(),
        store: store.to_path_buf(),
        workload: *w,
        marks: marks.to_path_buf(),
        verdict: verdict_path(marks),
    }
    .command(&o.children)
}

/// Where the probe of the state whose marks are at `marks` writes its verdict.
fn verdict_path(marks: &Path) -> PathBuf {
    marks.with_extension("verdict")
}

/// Probes the store at `store` against `marks` in a child; the verdict, or what went wrong.
/// After a power loss (`rebooted`) the child runs as after a reboot (a new boot id: see the
/// recorder's `SYNCPROOF_REBOOTED`).
fn probe(
    o: &Options,
    label: &str,
    store: &Path,
    w: &Workload,
    marks: &Path,
    rebooted: bool,
) -> Result<Verdict, String> {
    let mut c = child_command(o, Role::Probe, label, store, w, marks);
    c.env_remove("LD_PRELOAD")
        .env_remove("SYNCPROOF_RECORD_ROOT")
        .env_remove("SYNCPROOF_FAIL");
    if rebooted {
        c.env("LD_PRELOAD", recording::library()?)
            .env("SYNCPROOF_REBOOTED", "1");
    }
    let verdict = verdict_path(marks);
    let _ = std::fs::remove_file(&verdict);
    let exit = child::run(&mut c, o.timeout)?;
    if let Some(t) = exit.trouble {
        return Err(format!(
            "the probe that opened the recovered store {t}: {}",
            tail(&exit.stderr)
        ));
    }
    let text = std::fs::read_to_string(&verdict).map_err(|e| {
        format!(
            "the probe wrote no verdict ({}: {e}); its output: {}",
            verdict.display(),
            tail(&exit.stdout)
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("probe verdict {:?}: {e}", tail(&text)))
}

/// The marks the recorder logged in `events`, as the marks file's text.
fn marks_of(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Mark { text } => Some(String::from_utf8_lossy(text).into_owned()),
            _ => None,
        })
        .collect()
}

fn scratch(o: &Options) -> Result<tempfile::TempDir, String> {
    // On disk, not in RAM: an engine may detect a RAM file system and skip its syncs there
    // (libmdbx does), and then its crash states would test a mode it never runs in on disk.
    let base = o.tmp.clone().unwrap_or_else(std::env::temp_dir);
    syncproof_engine::scratch::tempdir(Some(&base)).map_err(|e| format!("temp dir: {e}"))
}

/// The workload of engine run `seed`.
fn workload(o: &Options, i: u64) -> Workload {
    Workload {
        seed: o.seed,
        index: i,
        max_ops: o.max_ops,
    }
}

/// A recorded run of `w` (with `fail` injected, if given) in `dir`: its events, or why not.
fn record(
    o: &Options,
    label: &str,
    dir: &Path,
    w: &Workload,
    fail: Option<String>,
) -> Result<(Vec<Event>, Exit), String> {
    let library = recording::library()?;
    let store = dir.join("store");
    std::fs::create_dir_all(&store).map_err(|e| format!("{}: {e}", store.display()))?;
    let (log, marks) = (dir.join("record.log"), dir.join("marks"));
    let mut c = child_command(o, Role::Workload, label, &store, w, &marks);
    Recording {
        library: &library,
        root: &store,
        log: &log,
        marks: &marks,
        fail,
    }
    .apply(&mut c);
    let exit = child::run(&mut c, o.timeout)?;
    let events = recording::read_log(&log)?;
    Ok((events, exit))
}

impl Options {
    /// Records a finding, saving its repro (and the record it came from, if any).
    fn finding(
        &self,
        run: &mut EngineRun,
        what: String,
        mut repro: CrashRepro,
        record: Option<&Path>,
    ) {
        let saved = if std::fs::create_dir_all(&self.repro_dir).is_ok() {
            let stem = format!(
                "repro-crash-{}-{}-seed{}-{}",
                repro.engine,
                repro.model.name(),
                repro.workload.seed,
                run.findings.len()
            );
            if let Some(log) = record {
                let name = format!("{stem}.record");
                if std::fs::copy(log, self.repro_dir.join(&name)).is_ok() {
                    repro.record = Some(name);
                }
            }
            let path = self.repro_dir.join(format!("{stem}.ron"));
            std::fs::write(&path, repro.to_ron()).ok().map(|_| path)
        } else {
            None
        };
        run.findings.push(Finding { what, repro, saved });
    }

    fn progress(&self, label: &str, run: &EngineRun) {
        if !self.quiet {
            eprint!(
                "\r{} {label}: {} crash states, {} findings   ",
                self.model.name(),
                run.states,
                run.findings.len()
            );
        }
    }

    fn repro(&self, label: &str, w: Workload) -> CrashRepro {
        CrashRepro {
            version: REPRO_VERSION,
            engine: label.to_string(),
            model: self.model,
            workload: w,
            point: None,
            policy: None,
            state_seed: 0,
            fail: None,
            kill_after_ms: None,
            record: None,
        }
    }
}

/// Checks one crash state at `store` against `marks`; true when it passed.
/// One crash state to check: the store, the marks of its window, the workload, and the
/// record it was made from (saved with a finding's repro).
struct State<'a> {
    label: &'a str,
    store: &'a Path,
    marks: &'a Path,
    w: &'a Workload,
    record: Option<&'a Path>,
}

fn check_state(
    o: &Options,
    run: &mut EngineRun,
    st: &State<'_>,
    repro: CrashRepro,
    context: &str,
) -> bool {
    let State {
        label,
        store,
        marks,
        w,
        record,
    } = *st;
    run.states += 1;
    let rebooted = repro.point.is_some();
    match probe(o, label, store, w, marks, rebooted) {
        Ok(Verdict::Consistent { lost, .. }) => {
            run.consistent += 1;
            run.lost_optional_calls += lost.len();
            true
        }
        Ok(v) => {
            o.finding(run, format!("{context}: {v:?}"), repro, record);
            false
        }
        Err(e) => {
            o.finding(run, format!("{context}: {e}"), repro, record);
            false
        }
    }
}

/// Power loss: one recorded run, then crash states at `points` crash points, each under
/// every policy.
fn power_loss(
    o: &Options,
    label: &str,
    run: &mut EngineRun,
    deadline: Instant,
) -> Result<(), String> {
    // One record gives at most as many points as it has events: more points take the next
    // workloads' records.
    let mut left = o.points;
    for index in 0..MAX_RECORDS {
        if left == 0 || Instant::now() > deadline {
            break;
        }
        let done = power_loss_record(o, label, run, deadline, index, left)?;
        if run.refused.is_some() {
            break;
        }
        left = left.saturating_sub(done);
    }
    Ok(())
}

/// Power-loss workloads at most, for a `--points` larger than one record holds.
const MAX_RECORDS: u64 = 64;

/// The crash points of workload `index`'s record (at most `points`); returns how many.
fn power_loss_record(
    o: &Options,
    label: &str,
    run: &mut EngineRun,
    deadline: Instant,
    index: u64,
    points: usize,
) -> Result<usize, String> {
    let dir = scratch(o)?;
    let w = workload(o, index);
    let (events, exit) = record(o, label, dir.path(), &w, None)?;
    run.events += events.len();
    if let Some(t) = exit.trouble {
        return Err(format!("the recorded workload {t}: {}", tail(&exit.stderr)));
    }
    let volatile = (o.engines.volatile_files)(label);
    if let Some(r) = image::refusal(&events, &volatile)
        .or_else(|| image::faithful(&events, &dir.path().join("store"), &volatile))
    {
        run.refused = Some(r);
        return Ok(0);
    }
    let ks = crash_points(&events, points, o.seed ^ index);
    let n = ks.len();
    for k in ks {
        for policy in Policy::ALL {
            if Instant::now() > deadline {
                return Ok(n);
            }
            let state_seed = o.seed ^ (k as u64).rotate_left(20) ^ policy as u64;
            let case = scratch(o)?;
            let store = case.path().join("store");
            let cut = events.get(..k).unwrap_or_default();
            image::build(
                cut,
                policy,
                state_seed,
                &(o.engines.volatile_files)(label),
                &store,
            )
            .map_err(|e| format!("building a crash state: {e}"))?;
            std::fs::create_dir_all(&store).map_err(|e| e.to_string())?;
            let marks = case.path().join("marks");
            std::fs::write(&marks, marks_of(cut)).map_err(|e| e.to_string())?;
            let repro = CrashRepro {
                point: Some(k),
                policy: Some(policy),
                state_seed,
                ..o.repro(label, w)
            };
            let context = format!(
                "power loss after event {k} of {} ({})",
                events.len(),
                policy.name()
            );
            let log = dir.path().join("record.log");
            check_state(
                o,
                run,
                &State {
                    label,
                    store: &store,
                    marks: &marks,
                    w: &w,
                    record: Some(&log),
                },
                repro,
                &context,
            );
            o.progress(label, run);
        }
    }
    Ok(n)
}

/// The crash points of a record, `n` of them drawn by `seed`, always with the end: right
/// after a `flush()` was acknowledged (everything before it must be there: a flush that did
/// not sync shows here), just before a sync barrier (when most is pending), inside a call
/// between its writes, and at random.
pub fn crash_points(events: &[Event], n: usize, seed: u64) -> Vec<usize> {
    // The kinds of point, taken in turn so that each gets its share of `n`.
    let (mut after_flush, mut before_sync, mut mid_call) = (Vec::new(), Vec::new(), Vec::new());
    // Inside a call, right after its first write when it makes more than one: where a call
    // that is not atomic shows half done. `(first write's index, writes)` of the open call.
    let mut in_call: Option<(usize, usize)> = None;
    for (k, e) in events.iter().enumerate() {
        match e {
            Event::Sync { .. } | Event::DirSync { .. } | Event::SyncAll { .. } => {
                before_sync.push(k)
            }
            Event::Mark { text } if text.starts_with(b"f ") => after_flush.push(k + 1),
            Event::Mark { text } if text.starts_with(b"b ") => in_call = Some((0, 0)),
            Event::Mark { text }
                if text.starts_with(b"o ")
                    || text.starts_with(b"e ")
                    || text.starts_with(b"p ") =>
            {
                if let Some((first, _)) = in_call.take().filter(|(_, w)| *w > 1) {
                    mid_call.push(first + 1);
                }
            }
            Event::Write { .. } => {
                if let Some((first, writes)) = in_call.as_mut() {
                    if *writes == 0 {
                        *first = k;
                    }
                    *writes += 1;
                }
            }
            _ => {}
        }
    }
    let mut rng = seed ^ 0x9017;
    let random: Vec<usize> = (0..n)
        .filter(|_| !events.is_empty())
        .map(|_| (next(&mut rng) % events.len() as u64) as usize)
        .collect();
    let mut kinds = [after_flush, before_sync, mid_call, random];
    let mut out = vec![events.len()];
    let mut turn = 0;
    while out.len() < n && kinds.iter().any(|k| !k.is_empty()) {
        let n_kinds = kinds.len();
        let Some(kind) = kinds.get_mut(turn % n_kinds).filter(|k| !k.is_empty()) else {
            turn += 1;
            continue;
        };
        turn += 1;
        let i = (next(&mut rng) % kind.len() as u64) as usize;
        let k = kind.swap_remove(i);
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out.sort_unstable();
    out
}

/// Kill: `points` children, each killed after a random time.
fn kill(o: &Options, label: &str, run: &mut EngineRun, deadline: Instant) -> Result<(), String> {
    let mut rng = o.seed ^ 0x4B11;
    for i in 0..o.points as u64 {
        if Instant::now() > deadline {
            break;
        }
        let dir = scratch(o)?;
        let store = dir.path().join("store");
        std::fs::create_dir_all(&store).map_err(|e| e.to_string())?;
        let marks = dir.path().join("marks");
        let w = workload(o, i);
        let after = 20 + next(&mut rng) % 300;
        let mut c = child_command(o, Role::Workload, label, &store, &w, &marks);
        c.env_remove("LD_PRELOAD")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut ch = c.spawn().map_err(|e| format!("spawn: {e}"))?;
        std::thread::sleep(Duration::from_millis(after));
        let _ = ch.kill();
        let _ = ch.wait();
        let repro = CrashRepro {
            kill_after_ms: Some(after),
            ..o.repro(label, w)
        };
        check_state(
            o,
            run,
            &State {
                label,
                store: &store,
                marks: &marks,
                w: &w,
                record: None,
            },
            repro,
            &format!("SIGKILL after {after} ms"),
        );
        o.progress(label, run);
    }
    Ok(())
}

/// I/O errors: one clean recorded run to count the calls, then `points` runs, each failing
/// one n-th call.
fn io_error(
    o: &Options,
    label: &str,
    run: &mut EngineRun,
    deadline: Instant,
) -> Result<(), String> {
    let clean = scratch(o)?;
    let w = workload(o, 0);
    let (events, exit) = record(o, label, clean.path(), &w, None)?;
    run.events = events.len();
    if let Some(t) = exit.trouble {
        return Err(format!("the recorded workload {t}: {}", tail(&exit.stderr)));
    }
    if let Some(r) = image::refusal(&events, &(o.engines.volatile_files)(label)) {
        run.refused = Some(r);
        return Ok(());
    }
    let count = |class: Class| {
        events
            .iter()
            .filter(|e| match class {
                Class::Sync => matches!(e, Event::Sync { .. }),
                _ => matches!(
                    e,
                    Event::Write { .. } | Event::Truncate { .. } | Event::Fallocate { .. }
                ),
            })
            .count() as u64
    };
    let mut rng = o.seed ^ 0xE10;
    for i in 0..o.points {
        if Instant::now() > deadline {
            break;
        }
        // Syncs first and most: the failures that lose acknowledged data.
        let class = if i % 3 == 2 {
            Class::Mutation
        } else {
            Class::Sync
        };
        let total = count(class);
        if total == 0 {
            continue;
        }
        let n = 1 + next(&mut rng) % total;
        let errno = if class == Class::Mutation && next(&mut rng) % 2 == 0 {
            "ENOSPC"
        } else {
            "EIO"
        };
        let sticky = next(&mut rng) % 2 == 0;
        let fail = format!(
            "{}:{n}:{errno}{}",
            class.name(),
            if sticky { ":sticky" } else { "" }
        );
        io_error_point(o, label, run, &w, &fail)?;
        o.progress(label, run);
    }
    Ok(())
}

/// One point of the I/O-error model: the workload recorded with `fail` injected, then every
/// check of the model on what the child did and left (the call that hit the error, the
/// open, the store reopened, the store after a power loss right then). A replay of an
/// I/O-error repro runs this again.
fn io_error_point(
    o: &Options,
    label: &str,
    run: &mut EngineRun,
    w: &Workload,
    fail: &str,
) -> Result<(), String> {
    let dir = scratch(o)?;
    let (events, exit) = record(o, label, dir.path(), w, Some(fail.to_string()))?;
    let repro = CrashRepro {
        fail: Some(fail.to_string()),
        ..o.repro(label, *w)
    };
    let marks_text = std::fs::read_to_string(dir.path().join("marks")).unwrap_or_default();
    let t = Timeline::parse(&marks_text)?;
    if !events.iter().any(|e| matches!(e, Event::Injected { .. })) {
        run.not_hit += 1;
        return Ok(());
    }
    run.injected += 1;
    if let Some(trouble) = &exit.trouble {
        o.finding(
            run,
            format!("{fail}: the child {trouble}: {}", tail(&exit.stderr)),
            repro.clone(),
            Some(&dir.path().join("record.log")),
        );
        return Ok(());
    }
    if t.open_failed.as_deref() == Some("Io") {
        run.open_failures += 1;
        return Ok(());
    }
    if let Some(kind) = t.open_failed.as_deref() {
        o.finding(
            run,
            format!("{fail}: opening the store failed with {kind}, not Io"),
            repro.clone(),
            Some(&dir.path().join("record.log")),
        );
        return Ok(());
    }
    if let Some((j, _)) = t.ended.iter().find(|(_, e)| *e == Ended::Panicked) {
        o.finding(
            run,
            format!("{fail}: call {j} panicked"),
            repro.clone(),
            Some(&dir.path().join("record.log")),
        );
        return Ok(());
    }
    // The call running on the workload's thread when the first error hit must fail.
    if let Some(call) = foreground_call(&events, t.tid) {
        if t.ended(call) == Some(&Ended::Ok) {
            let kind = super::probe::ops(w).get(call).map_or("?", |op| op.kind());
            o.finding(
                run,
                format!(
                    "{fail}: call {call} ({kind}) returned Ok although its {} failed",
                    fail.split(':').next().unwrap_or("call")
                ),
                repro.clone(),
                Some(&dir.path().join("record.log")),
            );
            return Ok(());
        }
    }
    // The store as the process left it (a restart), and after a power loss right then.
    let marks = dir.path().join("marks");
    let store = dir.path().join("store");
    let restart_ok = check_state(
        o,
        run,
        &State {
            label,
            store: &store,
            marks: &marks,
            w,
            record: Some(&dir.path().join("record.log")),
        },
        repro.clone(),
        &format!("{fail}, reopened"),
    );
    if restart_ok {
        let lost = scratch(o)?;
        let image_dir = lost.path().join("store");
        image::build(
            &events,
            Policy::SyncedOnly,
            0,
            &(o.engines.volatile_files)(label),
            &image_dir,
        )
        .map_err(|e| format!("building a crash state: {e}"))?;
        std::fs::create_dir_all(&image_dir).map_err(|e| e.to_string())?;
        let repro = CrashRepro {
            point: Some(events.len()),
            policy: Some(Policy::SyncedOnly),
            ..repro
        };
        check_state(
            o,
            run,
            &State {
                label,
                store: &image_dir,
                marks: &marks,
                w,
                record: Some(&dir.path().join("record.log")),
            },
            repro,
            &format!("{fail}, then power loss"),
        );
    }
    Ok(())
}

/// The call the workload's thread was in when the first injected error hit it, if it did.
fn foreground_call(events: &[Event], tid: Option<i64>) -> Option<usize> {
    let mut current = None;
    for e in events {
        match e {
            Event::Mark { text } => {
                for line in String::from_utf8_lossy(text).lines() {
                    let mut parts = line.split(' ');
                    match (parts.next(), parts.next().and_then(|n| n.parse().ok())) {
                        (Some("b"), Some(j)) => current = Some(j),
                        (Some("o" | "e" | "p"), _) => current = None,
                        _ => {}
                    }
                }
            }
            Event::Injected { tid: t, .. } if Some(*t) == tid => return current,
            Event::Injected { .. } => {}
            _ => {}
        }
    }
    None
}

/// Runs `o.model` on each engine of `labels`.
pub fn run(o: &Options, labels: &[String]) -> Vec<EngineRun> {
    let mut out = Vec::new();
    for label in labels {
        let start = Instant::now();
        let deadline = o
            .time
            .map_or(start + Duration::from_secs(86_400), |t| start + t);
        let mut run = EngineRun {
            engine: label.clone(),
            ..EngineRun::default()
        };
        let result = match o.model {
            Model::Kill => kill(o, label, &mut run, deadline),
            Model::PowerLoss => power_loss(o, label, &mut run, deadline),
            Model::IoError => io_error(o, label, &mut run, deadline),
        };
        if let Err(e) = result {
            o.finding(&mut run, e, o.repro(label, workload(o, 0)), None);
        }
        if !run.findings.is_empty() && o.model != Model::Kill {
            run.shrunk = shrink(o, label);
        }
        run.seconds = start.elapsed().as_secs_f64();
        if !o.quiet {
            eprintln!();
        }
        out.push(run);
    }
    out
}

/// Crash points (or injected errors) per smaller workload the shrink tries: a soak's
/// thousand would make the shrink as long again.
const SHRINK_POINTS: usize = 20;

/// The smallest workload (halving `max_ops`) on which the model still finds something, with
/// its calls and first finding; `None` when no smaller one does.
fn shrink(o: &Options, label: &str) -> Option<(usize, Finding)> {
    let mut best = None;
    let mut max_ops = o.max_ops / 2;
    while max_ops > 0 {
        let small = Options {
            max_ops,
            points: o.points.min(SHRINK_POINTS),
            quiet: true,
            ..o.clone()
        };
        let mut run = EngineRun::default();
        let deadline = Instant::now() + o.time.unwrap_or(Duration::from_secs(600));
        let _ = match o.model {
            Model::PowerLoss => power_loss(&small, label, &mut run, deadline),
            _ => io_error(&small, label, &mut run, deadline),
        };
        let Some(f) = run.findings.into_iter().next() else {
            break;
        };
        best = Some((super::probe::ops(&f.repro.workload).len(), f));
        max_ops /= 2;
    }
    best
}

/// The summary: one line per engine, then each finding with its repro.
pub fn summary(model: Model, runs: &[EngineRun]) -> String {
    let mut s = String::new();
    for r in runs {
        let verdict = if let Some(why) = &r.refused {
            format!("REFUSED: {why}")
        } else if !r.findings.is_empty() {
            format!("FAILED: {} findings", r.findings.len())
        } else if r.states == 0 {
            "NOTHING CHECKED".to_string()
        } else {
            "passed".to_string()
        };
        let extra = match model {
            Model::PowerLoss => format!(", from {} recorded events", r.events),
            Model::IoError => format!(
                ", {} injected errors hit a call ({} never came, {} failed the open), from {} \
                 recorded events",
                r.injected, r.not_hit, r.open_failures, r.events
            ),
            Model::Kill => String::new(),
        };
        s.push_str(&format!(
            "{} {:<28} {} crash states checked, {} consistent{extra}, in {:.1} s: {verdict}\n",
            model.name(),
            r.engine,
            r.states,
            r.consistent,
            r.seconds,
        ));
        for f in r.findings.iter().take(5) {
            s.push_str(&format!("  - {}\n", f.what));
            if let Some(p) = &f.saved {
                s.push_str(&format!("    repro: {}\n", p.display()));
            }
        }
        if r.findings.len() > 5 {
            s.push_str(&format!("  … and {} more\n", r.findings.len() - 5));
        }
        if let Some((calls, f)) = &r.shrunk {
            s.push_str(&format!(
                "  shrunk to a workload of {calls} calls: {}\n",
                f.what
            ));
            if let Some(p) = &f.saved {
                s.push_str(&format!("    repro: {}\n", p.display()));
            }
        }
    }
    s
}

/// Re-makes the crash state of `repro` and probes it: from the record saved beside it (in
/// `dir`) when there is one, else from a new recorded run (a kill is re-run with the same
/// delay).
pub fn replay(o: &Options, repro: &CrashRepro, dir_of_repro: &Path) -> Result<EngineRun, String> {
    let label = repro.engine.as_str();
    let w = repro.workload;
    let mut run = EngineRun {
        engine: label.to_string(),
        ..EngineRun::default()
    };
    let dir = scratch(o)?;
    match repro.model {
        Model::Kill => {
            let store = dir.path().join("store");
            std::fs::create_dir_all(&store).map_err(|e| e.to_string())?;
            let marks = dir.path().join("marks");
            let mut c = child_command(o, Role::Workload, label, &store, &w, &marks);
            c.env_remove("LD_PRELOAD")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut ch = c.spawn().map_err(|e| format!("spawn: {e}"))?;
            std::thread::sleep(Duration::from_millis(repro.kill_after_ms.unwrap_or(100)));
            let _ = ch.kill();
            let _ = ch.wait();
            check_state(
                o,
                &mut run,
                &State {
                    label,
                    store: &store,
                    marks: &marks,
                    w: &w,
                    record: None,
                },
                repro.clone(),
                "replayed kill",
            );
        }
        Model::IoError if repro.point.is_none() => {
            let fail = repro
                .fail
                .as_deref()
                .ok_or("an I/O-error repro names no failing call")?;
            io_error_point(o, label, &mut run, &w, fail)?;
        }
        Model::PowerLoss | Model::IoError => {
            let events = match &repro.record {
                Some(name) => recording::read_log(&dir_of_repro.join(name))?,
                None => {
                    let (events, exit) = record(o, label, dir.path(), &w, repro.fail.clone())?;
                    if let Some(t) = exit.trouble.filter(|_| repro.fail.is_none()) {
                        return Err(format!("the recorded workload {t}: {}", tail(&exit.stderr)));
                    }
                    events
                }
            };
            let k = repro.point.unwrap_or(events.len()).min(events.len());
            let cut = events.get(..k).unwrap_or_default();
            let case = scratch(o)?;
            let store = case.path().join("store");
            image::build(
                cut,
                repro.policy.unwrap_or(Policy::SyncedOnly),
                repro.state_seed,
                &(o.engines.volatile_files)(label),
                &store,
            )
            .map_err(|e| format!("building a crash state: {e}"))?;
            std::fs::create_dir_all(&store).map_err(|e| e.to_string())?;
            let marks = case.path().join("marks");
            std::fs::write(&marks, marks_of(cut)).map_err(|e| e.to_string())?;
            check_state(
                o,
                &mut run,
                &State {
                    label,
                    store: &store,
                    marks: &marks,
                    w: &w,
                    record: None,
                },
                repro.clone(),
                "replayed crash state",
            );
        }
    }
    Ok(run)
}

/// JUnit XML: one test case per engine.
pub fn junit(model: Model, runs: &[EngineRun]) -> String {
    use crate::check::render::esc;
    let mut cases = String::new();
    let mut failures = 0;
    for r in runs {
        let body = if r.passed() {
            String::new()
        } else {
            failures += 1;
            let mut lines: Vec<String> = r.findings.iter().map(|f| f.what.clone()).collect();
            if let Some(why) = &r.refused {
                lines.push(format!("refused: {why}"));
            }
            if r.states == 0 {
                lines.push("no crash state was checked".into());
            }
            format!(
                "<failure message=\"{} findings\">{}</failure>",
                r.findings.len(),
                esc(&lines.join("\n"))
            )
        };
        cases.push_str(&format!(
            "<testcase classname=\"syncproof.crash.{}\" name=\"{}\" time=\"{:.3}\">{body}</testcase>\n",
            model.name(),
            esc(&r.engine),
            r.seconds
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"syncproof crash {}\" tests=\"{}\" failures=\"{failures}\">\n{cases}</testsuite>\n",
        model.name(),
        runs.len()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_shows_its_place_and_message_not_its_backtrace() {
        let stderr = "noise\nthread 'main' panicked at src/x.rs:3:5:\nfsync failed\nstack backtrace:\n   0: f\n  41: call_once";
        assert_eq!(
            super::tail(stderr),
            "thread 'main' panicked at src/x.rs:3:5: | fsync failed"
        );
        assert_eq!(super::tail("a\nb\nc\nd"), "b | c | d");
    }
}
