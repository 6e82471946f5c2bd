//! Crash states from a recording (ALICE/CrashMonkey style): what a store directory may hold
//! after a power loss at event `k`, under the fault model of the README ("Fault model").
//!
//! - A file's data is durable up to its last `fsync`/`fdatasync` (or `sync`); writes after it
//!   are pending. A failed sync drops the pending writes it was to persist for good (the page
//!   cache marks them clean: "fsyncgate"), so a later successful sync does not save them.
//! - A create, mkdir, rename or unlink is durable once its directory is synced; until then it
//!   reverts. A file whose name never became durable is gone with its data. The names a
//!   directory sync makes durable are the directory's listing at that sync (the recorder
//!   lists it), and file data is kept by inode, so a rename the recorder did not see (a raw
//!   system call) is still right; a write it did not see shows as a size mismatch at the
//!   next sync, and the record is refused.
//! - [`Policy`] says which pending writes land: none, a random subset (in order), or all but
//!   the last of each file, which is torn sector by sector into old, new or zeroed sectors.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::recording::{Class, Entry, Event};

/// The sector a torn write is cut into.
pub const SECTOR: usize = 512;

/// Which pending (unsynced) writes a crash state keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Policy {
    /// None: only what was synced.
    SyncedOnly,
    /// A random subset of the pending writes, applied in order: those before a random cut (an
    /// ordered write-back), or each kept or lost at random.
    RandomSubset,
    /// Every pending write kept, except the last of each file, torn sector by sector: old or
    /// new sectors where the file was, new or zeroed ones past its old end.
    TornLast,
    /// Every pending write kept: the page cache wholly written back at the crash, as a kill
    /// at that instant leaves it (at a point inside a call, between its writes, this is what
    /// tests the call's atomicity).
    AllWritten,
}

impl Policy {
    /// Every policy.
    pub const ALL: [Policy; 4] = [
        Policy::SyncedOnly,
        Policy::RandomSubset,
        Policy::TornLast,
        Policy::AllWritten,
    ];
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Policy::SyncedOnly => "synced-only",
            Policy::RandomSubset => "random-subset",
            Policy::TornLast => "torn-last",
            Policy::AllWritten => "all-written",
        }
    }
}

/// A pending change to a file's data.
#[derive(Clone, Debug)]
enum Change {
    Write { offset: u64, data: Vec<u8> },
    Resize { len: u64 },
    Zero { offset: u64, len: u64 },
}

impl Change {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            Change::Write { offset, data } => {
                let start = *offset as usize;
                let end = start + data.len();
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                if let Some(dst) = bytes.get_mut(start..end) {
                    dst.copy_from_slice(data);
                }
            }
            Change::Resize { len } => bytes.resize(*len as usize, 0),
            Change::Zero { offset, len } => {
                let start = (*offset as usize).min(bytes.len());
                let end = (*offset as usize + *len as usize).min(bytes.len());
                if let Some(dst) = bytes.get_mut(start..end) {
                    dst.fill(0);
                }
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Inode {
    durable: Vec<u8>,
    /// Changes since the last sync, in order; `lost` ones were dropped by a failed sync.
    pending: Vec<(Change, bool)>,
    /// Its size as the process sees it.
    live_len: u64,
    /// Its bytes as the process sees them.
    live: Vec<u8>,
}

/// The file system state a recording leads to: file data by inode, and the directory
/// listings that directory syncs made durable.
#[derive(Default)]
struct Fs {
    inodes: HashMap<u64, Inode>,
    /// Durable listings by directory (relative path; the root is empty).
    dirs: HashMap<Vec<u8>, Vec<Entry>>,
    /// The inode each path last named, for an injected error (which names only a path).
    names: HashMap<Vec<u8>, u64>,
    /// The first sync whose file size disagrees with the record: writes escaped it.
    mismatch: Option<String>,
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !p.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

impl Fs {
    fn change(&mut self, path: &[u8], ino: u64, c: Change) {
        self.names.insert(path.to_vec(), ino);
        let i = self.inodes.entry(ino).or_default();
        c.apply(&mut i.live);
        i.live_len = match &c {
            Change::Write { offset, data } => i.live_len.max(offset + data.len() as u64),
            Change::Resize { len } => *len,
            Change::Zero { .. } => i.live_len,
        };
        i.pending.push((c, false));
    }

    fn sync_file(&mut self, ino: u64) {
        let i = self.inodes.entry(ino).or_default();
        for (c, lost) in std::mem::take(&mut i.pending) {
            if !lost {
                c.apply(&mut i.durable);
            }
        }
    }

    fn apply(&mut self, e: &Event) {
        match e {
            Event::Write {
                path,
                ino,
                offset,
                data,
            } => self.change(
                path,
                *ino,
                Change::Write {
                    offset: *offset,
                    data: data.clone(),
                },
            ),
            Event::Truncate { path, ino, len } => {
                self.change(path, *ino, Change::Resize { len: *len })
            }
            Event::Fallocate {
                path,
                ino,
                mode,
                offset,
                len,
            } => {
                if mode & libc::FALLOC_FL_PUNCH_HOLE != 0 {
                    self.change(
                        path,
                        *ino,
                        Change::Zero {
                            offset: *offset,
                            len: *len,
                        },
                    );
                } else if mode & libc::FALLOC_FL_KEEP_SIZE == 0 {
                    // Extends the file (never shrinks it): a write of nothing at its end.
                    self.change(
                        path,
                        *ino,
                        Change::Write {
                            offset: offset + len,
                            data: Vec::new(),
                        },
                    );
                }
            }
            Event::Sync { path, ino, size } => {
                self.names.insert(path.clone(), *ino);
                let live = self.inodes.get(ino).map_or(0, |i| i.live_len);
                if live != *size && self.mismatch.is_none() {
                    self.mismatch = Some(format!(
                        "{} is {size} bytes when synced, but the recorded writes make it \
                         {live}: the engine writes through calls the recorder does not see \
                         (raw system calls, io_uring or a writable mapping)",
                        String::from_utf8_lossy(path)
                    ));
                }
                self.sync_file(*ino);
            }
            Event::DirSync { path, entries } => {
                self.dirs.insert(path.clone(), entries.clone());
            }
            Event::SyncAll { dirs } => {
                let inos: Vec<u64> = self.inodes.keys().copied().collect();
                for i in inos {
                    self.sync_file(i);
                }
                self.dirs = dirs.iter().cloned().collect();
            }
            Event::Create { path, ino } => {
                // A new file: an inode number seen before was reused.
                self.names.insert(path.clone(), *ino);
                self.inodes.insert(*ino, Inode::default());
            }
            Event::Injected {
                class: Class::Sync,
                path,
                ..
            } => {
                if let Some(i) = self.names.get(path).and_then(|n| self.inodes.get_mut(n)) {
                    for (_, lost) in &mut i.pending {
                        *lost = true;
                    }
                }
            }
            Event::Mkdir { .. }
            | Event::Rename { .. }
            | Event::Unlink { .. }
            | Event::Rmdir { .. }
            | Event::Injected { .. }
            | Event::Mark { .. }
            | Event::SharedWritableMap { .. }
            | Event::Unmodelled { .. } => {}
        }
    }
}

/// Why a recording cannot be turned into crash states.
pub fn refusal(events: &[Event], volatile: &[&str]) -> Option<String> {
    for e in events {
        match e {
            Event::SharedWritableMap { path } => {
                let p = String::from_utf8_lossy(path);
                if !volatile.iter().any(|v| p.ends_with(v)) {
                    return Some(format!(
                        "the engine maps store file {p:?} shared and writable: writes through \
                         the mapping escape the recorder, so its crash states would be made up \
                         (open it without a writable mapping, or declare the file volatile if \
                         the engine rebuilds it after a crash)"
                    ));
                }
            }
            Event::Unmodelled { what } => {
                return Some(format!(
                    "the recorder cannot model {}",
                    String::from_utf8_lossy(what)
                ))
            }
            _ => {}
        }
    }
    let mut fs = Fs::default();
    for e in events {
        fs.apply(e);
    }
    fs.mismatch
}

/// Checks the record against the store it recorded, as the process left it: every file's
/// bytes must be what the recorded calls wrote. A difference means the engine changed the
/// file through calls the recorder does not see, and every crash state would be made up.
pub fn faithful(events: &[Event], store: &Path, volatile: &[&str]) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let mut fs = Fs::default();
    for e in events {
        fs.apply(e);
    }
    let mut todo = vec![store.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in rd.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                todo.push(path);
                continue;
            }
            let name = path
                .strip_prefix(store)
                .unwrap_or(&path)
                .display()
                .to_string();
            if volatile.iter().any(|v| name.ends_with(v)) {
                continue;
            }
            let Some(ino) = fs.inodes.get(&meta.ino()) else {
                return Some(format!(
                    "{name} was created through calls the recorder does not see"
                ));
            };
            let actual = std::fs::read(&path).unwrap_or_default();
            if actual != ino.live {
                let at = actual
                    .iter()
                    .zip(&ino.live)
                    .position(|(a, b)| a != b)
                    .unwrap_or(actual.len().min(ino.live.len()));
                return Some(format!(
                    "{name} holds {} bytes that differ from the recorded writes' {} from byte \
                     {at} on: the engine writes through calls the recorder does not see (raw \
                     system calls, io_uring or a writable mapping)",
                    actual.len(),
                    ino.live.len()
                ));
            }
        }
    }
    None
}

/// What one crash state holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// Files written, with their sizes.
    pub files: BTreeMap<String, usize>,
    /// Pending writes that landed, and those that did not (lost, or torn).
    pub kept: usize,
    /// Pending writes the state leaves out.
    pub dropped: usize,
    /// Pending writes the state keeps torn.
    pub torn: usize,
}

/// The next number of the splitmix64 stream at `state`: the fault models' randomness.
pub fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    syncproof_engine::sync_run::splitmix64(*state)
}

/// Writes into `out` (an empty directory) the crash state after `events` under `policy`,
/// leaving out files whose name ends with one of `volatile` (rebuilt by the engine).
pub fn build(
    events: &[Event],
    policy: Policy,
    seed: u64,
    volatile: &[&str],
    out: &Path,
) -> std::io::Result<Image> {
    let mut fs = Fs::default();
    for e in events {
        fs.apply(e);
    }
    let mut rng = seed ^ 0xC4A5_11FE;
    let mut image = Image::default();
    // Each inode's bytes under the policy, once (names of one inode share them).
    let mut contents: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut todo: Vec<Vec<u8>> = vec![Vec::new()];
    while let Some(dir) = todo.pop() {
        std::fs::create_dir_all(out.join(String::from_utf8_lossy(&dir).as_ref()))?;
        for entry in fs.dirs.get(&dir).cloned().unwrap_or_default() {
            let rel = join(&dir, &entry.name);
            if entry.dir {
                todo.push(rel);
                continue;
            }
            let name = String::from_utf8_lossy(&rel).into_owned();
            if volatile.iter().any(|v| name.ends_with(v)) {
                continue;
            }
            let bytes = match contents.get(&entry.ino) {
                Some(b) => b.clone(),
                None => {
                    let b = fs
                        .inodes
                        .get(&entry.ino)
                        .map(|i| crash_bytes(i, policy, &mut rng, &mut image))
                        .unwrap_or_default();
                    contents.insert(entry.ino, b.clone());
                    b
                }
            };
            std::fs::write(out.join(&name), &bytes)?;
            image.files.insert(name, bytes.len());
        }
    }
    Ok(image)
}

/// An inode's bytes after the crash under `policy`.
fn crash_bytes(ino: &Inode, policy: Policy, rng: &mut u64, image: &mut Image) -> Vec<u8> {
    let mut bytes = ino.durable.clone();
    let live: Vec<&Change> = ino
        .pending
        .iter()
        .filter(|(_, lost)| !lost)
        .map(|(c, _)| c)
        .collect();
    image.dropped += ino.pending.len() - live.len();
    // A random subset: half the time the writes up to a random cut (what an ordered write-back
    // leaves, which cuts an append-only log at any write), else each kept or lost by a coin.
    let cut = (next(rng) % 2 == 0).then(|| next(rng) as usize % (live.len() + 1));
    for (n, c) in live.iter().enumerate() {
        let last = n + 1 == live.len();
        match policy {
            Policy::SyncedOnly => image.dropped += 1,
            Policy::RandomSubset => {
                if cut.map_or_else(|| next(rng) % 2 == 0, |cut| n < cut) {
                    c.apply(&mut bytes);
                    image.kept += 1;
                } else {
                    image.dropped += 1;
                }
            }
            Policy::TornLast if !last => {
                c.apply(&mut bytes);
                image.kept += 1;
            }
            Policy::TornLast => {
                tear(c, &mut bytes, rng);
                image.torn += 1;
            }
            Policy::AllWritten => {
                c.apply(&mut bytes);
                image.kept += 1;
            }
        }
    }
    bytes
}

/// Applies `c` torn, sector by sector: a sector that the file held before the write is the
/// old or the new bytes (a device writes a sector whole); a sector past the file's old end
/// is the new bytes or zeros (newly allocated blocks whose data did not land).
fn tear(c: &Change, bytes: &mut Vec<u8>, rng: &mut u64) {
    let Change::Write { offset, data } = c else {
        c.apply(bytes);
        return;
    };
    let old_len = bytes.len();
    let mut new = bytes.clone();
    c.apply(&mut new);
    let start = *offset as usize;
    let end = start + data.len();
    if bytes.len() < new.len() {
        bytes.resize(new.len(), 0);
    }
    let mut sector = start - start % SECTOR;
    while sector < end {
        let (a, b) = (sector.max(start), (sector + SECTOR).min(end));
        // Within the old file: old (leave it) or new; past its end: zeros (as resized) or new.
        if next(rng) % 2 == 0 {
            if let (Some(dst), Some(src)) = (bytes.get_mut(a..b), new.get(a..b)) {
                dst.copy_from_slice(src);
            }
        } else if sector >= old_len {
            if let Some(dst) = bytes.get_mut(a..b) {
                dst.fill(0);
            }
        }
        sector += SECTOR;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }
    fn create(path: &str, ino: u64) -> Event {
        Event::Create { path: p(path), ino }
    }
    fn w(path: &str, ino: u64, offset: u64, data: &[u8]) -> Event {
        Event::Write {
            path: p(path),
            ino,
            offset,
            data: data.to_vec(),
        }
    }
    fn sync(path: &str, ino: u64, size: u64) -> Event {
        Event::Sync {
            path: p(path),
            ino,
            size,
        }
    }
    /// A sync of the root listing `files` (name, inode).
    fn root_sync(files: &[(&str, u64)]) -> Event {
        Event::DirSync {
            path: Vec::new(),
            entries: files
                .iter()
                .map(|(n, i)| Entry {
                    name: p(n),
                    ino: *i,
                    dir: false,
                })
                .collect(),
        }
    }

    fn files(events: &[Event], policy: Policy) -> BTreeMap<String, Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        build(events, policy, 1, &["-shm"], dir.path()).unwrap();
        let mut out = BTreeMap::new();
        for e in walk(dir.path()) {
            let rel = e.strip_prefix(dir.path()).unwrap().display().to_string();
            out.insert(rel, std::fs::read(&e).unwrap());
        }
        out
    }

    fn walk(d: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn only_synced_data_under_durable_names_survives() {
        let events = vec![
            create("a", 1),
            w("a", 1, 0, b"hello"),
            sync("a", 1, 5),
            w("a", 1, 5, b" world"),
            create("b", 2),
            w("b", 2, 0, b"never named"),
            sync("b", 2, 11),
            create("x-shm", 3),
            w("x-shm", 3, 0, b"volatile"),
            sync("x-shm", 3, 8),
        ];
        // Nothing was dir-synced: no file has a durable name.
        assert!(files(&events, Policy::SyncedOnly).is_empty());
        assert_eq!(refusal(&events, &[]), None);
        let mut synced = events.clone();
        synced.push(root_sync(&[("a", 1), ("b", 2), ("x-shm", 3)]));
        let got = files(&synced, Policy::SyncedOnly);
        assert_eq!(got.get("a").map(Vec::as_slice), Some(&b"hello"[..]));
        assert_eq!(got.get("b").map(Vec::as_slice), Some(&b"never named"[..]));
        assert!(!got.contains_key("x-shm"), "volatile files are left out");
        // A rename (seen or not) is durable only once a directory sync lists it.
        let mut renamed = synced.clone();
        renamed.push(Event::Rename {
            from: p("b"),
            to: p("a"),
        });
        assert_eq!(files(&renamed, Policy::SyncedOnly), got);
        renamed.push(root_sync(&[("a", 2), ("x-shm", 3)]));
        let after = files(&renamed, Policy::SyncedOnly);
        assert_eq!(after.get("a").map(Vec::as_slice), Some(&b"never named"[..]));
        assert!(!after.contains_key("b"));
    }

    #[test]
    fn a_failed_sync_loses_its_writes_even_after_a_later_sync() {
        let events = vec![
            create("a", 1),
            root_sync(&[("a", 1)]),
            w("a", 1, 0, b"lost"),
            Event::Injected {
                class: Class::Sync,
                errno: libc::EIO,
                tid: 1,
                path: p("a"),
            },
            sync("a", 1, 4),
            w("a", 1, 4, b"kept"),
            sync("a", 1, 8),
        ];
        let got = files(&events, Policy::SyncedOnly);
        assert_eq!(got.get("a").map(Vec::as_slice), Some(&b"\0\0\0\0kept"[..]));
    }

    #[test]
    fn a_write_the_record_missed_is_refused() {
        let events = vec![create("a", 1), w("a", 1, 0, b"abc"), sync("a", 1, 10)];
        let why = refusal(&events, &[]).unwrap();
        assert!(why.contains("a is 10 bytes when synced"), "{why}");
        let mapped = vec![Event::SharedWritableMap { path: p("data") }];
        assert!(refusal(&mapped, &[])
            .unwrap()
            .contains("shared and writable"));
        assert_eq!(refusal(&mapped, &["data"]), None, "unless it is volatile");
    }

    #[test]
    fn torn_and_random_policies_keep_only_pending_bytes_of_their_own() {
        let big = vec![7u8; 3 * SECTOR];
        let n = 3 * SECTOR as u64;
        let events = vec![
            create("a", 1),
            root_sync(&[("a", 1)]),
            w("a", 1, 0, &vec![1u8; 3 * SECTOR]),
            sync("a", 1, n),
            w("a", 1, 0, &big),
        ];
        let torn = files(&events, Policy::TornLast);
        let a = torn.get("a").unwrap();
        assert_eq!(a.len(), 3 * SECTOR);
        for s in a.chunks(SECTOR) {
            let first = s[0];
            assert!(
                [1, 7].contains(&first) && s.iter().all(|&b| b == first),
                "each sector the file held is old or new as a whole"
            );
        }
        // Past the old end, new or zeros.
        let mut grown = events.clone();
        grown.push(w("a", 1, n, &vec![9u8; 2 * SECTOR]));
        let a = files(&grown, Policy::TornLast).remove("a").unwrap();
        assert_eq!(a.len(), 3 * SECTOR + 2 * SECTOR);
        for s in a[3 * SECTOR..].chunks(SECTOR) {
            assert!(s.iter().all(|&b| b == 0) || s.iter().all(|&b| b == 9));
        }
        let random = files(&events, Policy::RandomSubset);
        let a = random.get("a").unwrap();
        assert!(a.iter().all(|&b| b == 1) || a.iter().all(|&b| b == 7));
    }
}
