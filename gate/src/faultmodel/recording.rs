//! The recorder's side in the harness: its event log format (the one file the recorder
//! writes it with), where its shared object is, and the environment that loads it into a
//! child process.

use std::path::{Path, PathBuf};
use std::process::Command;

// The recorder's own file (one definition of the format for the writer and the reader); its
// events' fields are named by what they hold, and documented there as a whole.
#[allow(missing_docs)]
#[path = "../../../recorder/src/format.rs"]
mod format;

pub use format::{decode, Class, Entry, Event};

/// The recorder's file name, as cargo builds it.
pub const LIBRARY: &str = "libsyncproof_recorder.so";

/// Where to look for the recorder: `SYNCPROOF_RECORDER`, else beside the running executable
/// or one directory up (a test binary in `target/<profile>/deps`), else the other profile.
pub fn library() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("SYNCPROOF_RECORDER") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("SYNCPROOF_RECORDER={}: no such file", p.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("current executable: {e}"))?;
    let mut tried = Vec::new();
    for dir in exe.ancestors().skip(1).take(3) {
        let p = dir.join(LIBRARY);
        if p.is_file() {
            return Ok(p);
        }
        tried.push(p);
        for profile in ["debug", "release"] {
            let p = dir.join(profile).join(LIBRARY);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(format!(
        "the recorder ({LIBRARY}) is not built: run `cargo build -p syncproof-recorder` \
         (with --release for a release syncproof), or set SYNCPROOF_RECORDER to its path \
         (looked at {})",
        tried
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The recorder, built first when it is missing (`cargo test` builds no cdylib): with the
/// cargo that runs this build (`CARGO`, else `cargo` on the path), from the recorder's sources
/// beside this crate's (a path or git dependency on syncproof has them), into the target dir
/// and profile of the running executable, where [`library`] looks. One build at a time.
pub fn library_or_build() -> Result<PathBuf, String> {
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    if let Ok(p) = library() {
        return Ok(p);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../recorder/Cargo.toml");
    if !manifest.is_file() {
        return library();
    }
    let exe = std::env::current_exe().map_err(|e| format!("current executable: {e}"))?;
    // `<target>/<profile>/deps/<test>` or `<target>/<profile>/<binary>`.
    let profile_dir = exe
        .ancestors()
        .skip(1)
        .take(2)
        .find(|d| {
            matches!(
                d.file_name().and_then(|n| n.to_str()),
                Some("debug" | "release")
            )
        })
        .ok_or_else(|| {
            format!(
                "{} is not in a cargo target dir: build the recorder by hand \
                 (`cargo build -p syncproof-recorder`) and set SYNCPROOF_RECORDER",
                exe.display()
            )
        })?;
    let target = profile_dir.parent().unwrap_or(profile_dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(["build", "-q", "-p", "syncproof-recorder", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target);
    if profile_dir.ends_with("release") {
        c.arg("--release");
    }
    let out = c
        .output()
        .map_err(|e| format!("running cargo to build the recorder: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the recorder: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    library()
}

/// What a recorded child is told.
pub struct Recording<'a> {
    /// The recorder's shared object.
    pub library: &'a Path,
    /// The store directory, recorded.
    pub root: &'a Path,
    /// The event log to write.
    pub log: &'a Path,
    /// The workload's marks file.
    pub marks: &'a Path,
    /// `SYNCPROOF_FAIL`, if an error is to be injected.
    pub fail: Option<String>,
}

impl Recording<'_> {
    /// Sets `cmd`'s environment to load the recorder.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("LD_PRELOAD", self.library)
            .env("SYNCPROOF_RECORD_ROOT", self.root)
            .env("SYNCPROOF_RECORD_LOG", self.log)
            .env("SYNCPROOF_RECORD_MARKS", self.marks);
        match &self.fail {
            Some(f) => cmd.env("SYNCPROOF_FAIL", f),
            None => cmd.env_remove("SYNCPROOF_FAIL"),
        };
    }
}

/// The events of the log at `path`.
pub fn read_log(path: &Path) -> Result<Vec<Event>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_malformed_logs_are_errors() {
        let events = vec![
            Event::Create {
                path: b"a".to_vec(),
                ino: 3,
            },
            Event::Write {
                path: b"a".to_vec(),
                ino: 3,
                offset: 7,
                data: b"xyz".to_vec(),
            },
            Event::Injected {
                class: Class::Sync,
                errno: 5,
                tid: 1,
                path: b"a".to_vec(),
            },
            Event::Rename {
                from: b"a".to_vec(),
                to: b"b".to_vec(),
            },
            Event::DirSync {
                path: Vec::new(),
                entries: vec![super::format::Entry {
                    name: b"b".to_vec(),
                    ino: 3,
                    dir: false,
                }],
            },
            Event::SyncAll { dirs: Vec::new() },
        ];
        let mut log = format::MAGIC.to_vec();
        for e in &events {
            log.extend(e.encode());
        }
        assert_eq!(decode(&log).unwrap(), events);
        // A frame cut short by a kill ends the log; a bad kind or a bad length inside a frame
        // is an error; so is a log without the magic.
        assert_eq!(decode(&log[..log.len() - 2]).unwrap(), events[..5]);
        assert!(decode(b"nope").is_err());
        let mut bad = format::MAGIC.to_vec();
        bad.extend([1, 0, 0, 0, 99]);
        assert!(decode(&bad).unwrap_err().contains("unknown event kind 99"));
        let mut short = format::MAGIC.to_vec();
        short.extend([3, 0, 0, 0, 1, 200, 0]);
        assert!(decode(&short).is_err());
    }
}
