//! Where stores that do not test durability go: a RAM-backed temp dir when the system has one.
//!
//! The differential, the contract suite, the KV level and the fuzz targets check what engines
//! answer, not what survives a crash. On a disk file system their stores spend most of a run
//! waiting on `fsync` (the same 300 sequences took 35.5 s with the stores on ext4 and 4.2 s on
//! tmpfs), so by default they put their stores in RAM. Durability is tested elsewhere, and on
//! purpose on disk: the crash and corruption tests choose their own directories.
//!
//! The default ([`Scratch::default_dir`]) is chosen once per process:
//! 1. `SYNCPROOF_TMP` ([`ENV_VAR`]) if it is set: any directory, RAM-backed or not.
//! 2. Else the first of `/dev/shm`, `$XDG_RUNTIME_DIR` and the system temp dir that is a
//!    RAM-backed file system (tmpfs or ramfs), is writable and has [`MIN_FREE_BYTES`] free.
//! 3. Else the system temp dir, with a note that says why each candidate was passed over.
//!
//! A directory the caller names (`--tmp`) always wins: [`Scratch::resolve`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The environment variable that names the parent directory of scratch stores (for runs that
/// take no options, such as `cargo fuzz` targets and tests).
pub const ENV_VAR: &str = "SYNCPROOF_TMP";

/// Free space a RAM-backed candidate needs to be chosen. The default check on all six engines
/// peaks far below this; a container's 64 MiB `/dev/shm` does not qualify, so such a run falls
/// back to the disk instead of failing with `ENOSPC` half-way (which the differential would
/// blame on the engines).
pub const MIN_FREE_BYTES: u64 = 256 << 20;

/// File system types whose files live in RAM.
const RAM_FILESYSTEMS: &[&str] = &["tmpfs", "ramfs"];

/// Prefix of every scratch dir, so leftovers are easy to recognise.
const PREFIX: &str = "syncproof-";

/// How a scratch directory was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chosen {
    /// Named by the caller (`--tmp`).
    Given,
    /// Named by `SYNCPROOF_TMP`.
    Env,
    /// The first RAM-backed candidate.
    Ram,
    /// No RAM-backed candidate qualified: the system temp dir.
    Fallback,
}

/// The mount that holds a path, from `/proc/mounts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The mounted device (`tmpfs`, `/dev/sda1`, …).
    pub device: String,
    /// Where it is mounted.
    pub point: String,
    /// The file system type (`tmpfs`, `ext4`, …).
    pub fstype: String,
}

impl fmt::Display for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} on {})", self.fstype, self.device, self.point)
    }
}

/// The mount in `mounts` (the text of `/proc/mounts`) that holds `path`: the longest mount
/// point that is a prefix of it. `path` should be canonical (no symlinks).
pub fn mount_of(mounts: &str, path: &Path) -> Option<Mount> {
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (device, point, fstype) = (f.next()?, f.next()?, f.next()?);
            // /proc/mounts writes a space in a mount point as \040.
            let point = point.replace("\\040", " ");
            path.starts_with(&point).then(|| Mount {
                device: device.to_string(),
                point,
                fstype: fstype.to_string(),
            })
        })
        .max_by_key(|m| m.point.len())
}

/// What was found out about a candidate directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The file system type, when `/proc/mounts` says.
    pub fstype: Option<String>,
    /// Bytes free to an unprivileged writer, when the system says.
    pub free: Option<u64>,
    /// Whether a directory could be created in it.
    pub writable: bool,
}

impl Probe {
    /// Looks at `dir` on this system.
    pub fn of(dir: &Path) -> Probe {
        let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        Probe {
            fstype: std::fs::read_to_string("/proc/mounts")
                .ok()
                .and_then(|m| mount_of(&m, &canonical))
                .map(|m| m.fstype),
            free: free_bytes(dir),
            writable: tempdir_in(dir).is_ok(),
        }
    }

    /// Whether the file system keeps its files in RAM.
    pub fn in_ram(&self) -> bool {
        self.fstype
            .as_deref()
            .is_some_and(|t| RAM_FILESYSTEMS.contains(&t))
    }

    /// Why this candidate cannot hold the default scratch stores, or `None` if it can.
    fn unfit(&self) -> Option<String> {
        if !self.in_ram() {
            return Some(match &self.fstype {
                Some(t) => format!("{t}, not in RAM"),
                None => "file system unknown".into(),
            });
        }
        if !self.writable {
            return Some("not writable".into());
        }
        match self.free {
            Some(f) if f < MIN_FREE_BYTES => Some(format!(
                "{} MiB free, under the {} MiB needed",
                f >> 20,
                MIN_FREE_BYTES >> 20
            )),
            _ => None,
        }
    }
}

/// Bytes free to an unprivileged writer in the file system that holds `dir`.
#[cfg(unix)]
// The field types of `statvfs` differ between platforms; the casts are no-ops on some.
#[allow(clippy::unnecessary_cast)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut buf = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `path` is a NUL-terminated string and `buf` a writable statvfs; statvfs writes
    // only into `buf`, and on success fills it wholly.
    let s = unsafe {
        if libc::statvfs(path.as_ptr(), buf.as_mut_ptr()) != 0 {
            return None;
        }
        buf.assume_init()
    };
    Some((s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

/// The parent directory of a run's scratch stores, and how and why it was chosen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Scratch {
    /// The directory the stores' temp dirs are made in.
    pub path: PathBuf,
    /// Its file system type (`"unknown"` when unreadable).
    pub filesystem: String,
    /// Whether its files live in RAM.
    pub in_ram: bool,
    /// How it was chosen.
    pub chosen: Chosen,
    /// Why no RAM-backed directory was chosen, for a fallback.
    pub note: Option<String>,
}

impl Scratch {
    /// `dir`, chosen as `chosen`, probed on this system.
    pub fn of(dir: &Path, chosen: Chosen) -> Scratch {
        Self::probed(dir, &Probe::of(dir), chosen, None)
    }

    fn probed(dir: &Path, p: &Probe, chosen: Chosen, note: Option<String>) -> Scratch {
        Scratch {
            path: dir.to_path_buf(),
            filesystem: p.fstype.clone().unwrap_or_else(|| "unknown".into()),
            in_ram: p.in_ram(),
            chosen,
            note,
        }
    }

    /// The directory the caller named, or else the process's default.
    pub fn resolve(given: Option<&Path>) -> Scratch {
        match given {
            Some(d) => Scratch::of(d, Chosen::Given),
            None => Scratch::default_dir().clone(),
        }
    }

    /// The process's default (see the module doc), chosen on first use.
    pub fn default_dir() -> &'static Scratch {
        static DEFAULT: OnceLock<Scratch> = OnceLock::new();
        DEFAULT.get_or_init(|| {
            if let Some(d) = std::env::var_os(ENV_VAR).filter(|d| !d.is_empty()) {
                return Scratch::of(Path::new(&d), Chosen::Env);
            }
            let mut candidates = vec![PathBuf::from("/dev/shm")];
            candidates.extend(std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from));
            let system = std::env::temp_dir();
            candidates.push(system.clone());
            let probed: Vec<(PathBuf, Probe)> = candidates
                .into_iter()
                .filter(|d| d.is_dir())
                .map(|d| {
                    let p = Probe::of(&d);
                    (d, p)
                })
                .collect();
            let system_probe = probed
                .iter()
                .find(|(d, _)| *d == system)
                .map(|(_, p)| p.clone())
                .unwrap_or_else(|| Probe::of(&system));
            pick(&probed, &system, &system_probe)
        })
    }

    /// A fresh temp dir (removed on drop) in this directory.
    pub fn tempdir(&self) -> std::io::Result<tempfile::TempDir> {
        tempdir_in(&self.path)
    }

    /// One line for a summary: the directory, its file system, and what that means.
    pub fn describe(&self) -> String {
        let place = format!("{} ({}", self.path.display(), self.filesystem);
        match (self.in_ram, self.chosen) {
            (true, Chosen::Given) => format!("{place}, in RAM, as --tmp asked)"),
            (true, Chosen::Env) => format!("{place}, in RAM, as {ENV_VAR} asked)"),
            (true, _) => format!("{place}, in RAM)"),
            (false, Chosen::Given) => {
                format!("{place}, not in RAM, as --tmp asked: every fsync waits on the disk)")
            }
            (false, Chosen::Env) => {
                format!("{place}, not in RAM, as {ENV_VAR} asked: every fsync waits on the disk)")
            }
            (false, _) => format!(
                "{place}, not in RAM: {}; every fsync waits on the disk; --tmp DIR or {ENV_VAR}=DIR picks another)",
                self.note.as_deref().unwrap_or("no RAM-backed temp dir")
            ),
        }
    }
}

/// The default among `candidates` (in order of preference, each with its probe): the first
/// fit one, else `system` with a note naming why each candidate was passed over.
pub fn pick(candidates: &[(PathBuf, Probe)], system: &Path, system_probe: &Probe) -> Scratch {
    let mut passed = Vec::new();
    for (dir, p) in candidates {
        match p.unfit() {
            None => return Scratch::probed(dir, p, Chosen::Ram, None),
            Some(why) => passed.push(format!("{}: {why}", dir.display())),
        }
    }
    let note = if passed.is_empty() {
        "no RAM-backed temp dir found".to_string()
    } else {
        format!("no RAM-backed temp dir fits ({})", passed.join("; "))
    };
    Scratch::probed(system, system_probe, Chosen::Fallback, Some(note))
}

/// A fresh temp dir for a store that does not test durability: in `given` if the caller named
/// a directory, else in the process's default ([`Scratch::default_dir`]).
pub fn tempdir(given: Option<&Path>) -> std::io::Result<tempfile::TempDir> {
    match given {
        Some(d) => tempdir_in(d),
        None => Scratch::default_dir().tempdir(),
    }
}

/// A fresh temp dir named with [`PREFIX`] in `dir`; the error names `dir`.
fn tempdir_in(dir: &Path) -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(PREFIX)
        .tempdir_in(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("temp dir in {}: {e}", dir.display())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn probe(fstype: &str, free_mib: u64, writable: bool) -> Probe {
        Probe {
            fstype: Some(fstype.into()),
            free: Some(free_mib << 20),
            writable,
        }
    }

    #[test]
    fn the_longest_mount_point_holds_a_path() {
        let mounts =
            "/dev/a / ext4 rw 0 0\ntmpfs /dev/shm tmpfs rw 0 0\ntmpfs /my\\040dir tmpfs rw 0 0\n";
        let m = mount_of(mounts, Path::new("/dev/shm/x")).unwrap();
        assert_eq!(m.to_string(), "tmpfs (tmpfs on /dev/shm)");
        assert_eq!(
            mount_of(mounts, Path::new("/dev/shmx")).unwrap().fstype,
            "ext4"
        );
        assert_eq!(
            mount_of(mounts, Path::new("/my dir/a")).unwrap().point,
            "/my dir"
        );
        assert_eq!(mount_of("", Path::new("/x")), None);
    }

    #[test]
    fn the_first_fit_ram_candidate_is_chosen() {
        let system = Path::new("/tmp");
        let disk = probe("ext4", 10_000, true);
        let c = vec![
            (PathBuf::from("/dev/shm"), probe("tmpfs", 64, true)),
            (PathBuf::from("/run/user/0"), probe("tmpfs", 1024, false)),
            (PathBuf::from("/ram"), probe("ramfs", 1024, true)),
            (PathBuf::from("/later"), probe("tmpfs", 1024, true)),
        ];
        let s = pick(&c, system, &disk);
        assert_eq!(
            (s.path.as_path(), s.in_ram, s.chosen),
            (Path::new("/ram"), true, Chosen::Ram)
        );
        assert_eq!(s.describe(), "/ram (ramfs, in RAM)");
    }

    #[test]
    fn with_no_fit_candidate_the_system_temp_dir_is_chosen_and_the_note_says_why() {
        let system = Path::new("/tmp");
        let disk = probe("ext4", 10_000, true);
        let c = vec![
            (PathBuf::from("/dev/shm"), probe("tmpfs", 64, true)),
            (PathBuf::from("/run/user/0"), probe("tmpfs", 1024, false)),
            (PathBuf::from("/tmp"), disk.clone()),
        ];
        let s = pick(&c, system, &disk);
        assert_eq!(
            (s.path.as_path(), s.in_ram, s.chosen),
            (system, false, Chosen::Fallback)
        );
        let line = s.describe();
        for part in [
            "/tmp (ext4, not in RAM",
            "/dev/shm: 64 MiB free, under the 256 MiB needed",
            "/run/user/0: not writable",
            "/tmp: ext4, not in RAM",
            "every fsync waits on the disk",
            "--tmp DIR",
        ] {
            assert!(line.contains(part), "{part:?} not in {line:?}");
        }
        let none = pick(&[], system, &disk);
        assert!(none.describe().contains("no RAM-backed temp dir found"));
    }

    #[test]
    fn unknown_free_space_does_not_disqualify_a_ram_candidate() {
        let p = Probe {
            fstype: Some("tmpfs".into()),
            free: None,
            writable: true,
        };
        assert_eq!(p.unfit(), None);
        let unknown = Probe { fstype: None, ..p };
        assert_eq!(unknown.unfit().as_deref(), Some("file system unknown"));
    }

    #[test]
    fn a_scratch_tempdir_is_made_in_the_chosen_directory() {
        let parent = tempfile::tempdir().unwrap();
        let d = tempdir(Some(parent.path())).unwrap();
        assert!(d.path().starts_with(parent.path()));
        assert!(d
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(PREFIX));
        let s = Scratch::resolve(Some(parent.path()));
        assert_eq!(s.chosen, Chosen::Given);
        let gone = parent.path().join("missing");
        let e = tempdir(Some(&gone)).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
