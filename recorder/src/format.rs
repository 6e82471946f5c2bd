//! The recorder's event log, written by the `syncproof-recorder` shared object inside the
//! engine's process and read by the harness (which includes this file with `#[path]`: the
//! recorder cannot be linked into a Rust program, see its `Cargo.toml`). One source of truth
//! for both sides.
//!
//! The log is [`MAGIC`] followed by frames: a little-endian `u32` body length, then the body,
//! whose first byte is the event kind. Paths are relative to the recorded root directory
//! (the root itself is the empty path). The decoder returns `Err` on any malformed input; a
//! log cut short by a killed process ends at its last whole frame.

#![allow(dead_code)]

/// The first bytes of every log.
pub const MAGIC: &[u8; 8] = b"SPREC001";

/// Which calls an injected error hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `write`, `pwrite`, `writev`, `pwritev`, `ftruncate`, `fallocate`.
    Mutation,
    /// `fsync`, `fdatasync`.
    Sync,
    /// `read`, `pread`, `readv`, `preadv`.
    Read,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Mutation => "write",
            Class::Sync => "sync",
            Class::Read => "read",
        }
    }
    pub fn parse(s: &str) -> Option<Class> {
        [Class::Mutation, Class::Sync, Class::Read]
            .into_iter()
            .find(|c| c.name() == s)
    }
    fn code(self) -> u8 {
        match self {
            Class::Mutation => 1,
            Class::Sync => 2,
            Class::Read => 3,
        }
    }
    fn from_code(c: u8) -> Option<Class> {
        [Class::Mutation, Class::Sync, Class::Read]
            .into_iter()
            .find(|k| k.code() == c)
    }
}

/// A directory entry as a directory sync listed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: Vec<u8>,
    pub ino: u64,
    pub dir: bool,
}

fn put_entries(out: &mut Vec<u8>, entries: &[Entry]) {
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for e in entries {
        put_bytes(out, &e.name);
        out.extend_from_slice(&e.ino.to_le_bytes());
        out.push(u8::from(e.dir));
    }
}

/// One recorded call, after it succeeded (or, for [`Event::Injected`], instead of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Bytes written at an offset of a file (inode `ino`).
    Write {
        path: Vec<u8>,
        ino: u64,
        offset: u64,
        data: Vec<u8>,
    },
    /// A file's size set (`ftruncate`, or `open` with `O_TRUNC`).
    Truncate {
        path: Vec<u8>,
        ino: u64,
        len: u64,
    },
    /// `fallocate(mode, offset, len)`.
    Fallocate {
        path: Vec<u8>,
        ino: u64,
        mode: i32,
        offset: u64,
        len: u64,
    },
    /// `fsync` or `fdatasync` of a file: its data is durable. `size` is the file's size
    /// then, for the harness to check that no write escaped the record.
    Sync {
        path: Vec<u8>,
        ino: u64,
        size: u64,
    },
    /// `fsync` of a directory: its entries, as listed then, are durable (a listing, not the
    /// record's own account of creates and renames, so that a rename made by a raw syscall
    /// is not missed).
    DirSync {
        path: Vec<u8>,
        entries: Vec<Entry>,
    },
    /// `sync()` or `syncfs()`: everything is durable; every directory under the root, listed.
    SyncAll {
        dirs: Vec<(Vec<u8>, Vec<Entry>)>,
    },
    /// A file created by `open`/`creat` (it did not exist before): a new inode.
    Create {
        path: Vec<u8>,
        ino: u64,
    },
    Mkdir {
        path: Vec<u8>,
    },
    Rename {
        from: Vec<u8>,
        to: Vec<u8>,
    },
    Unlink {
        path: Vec<u8>,
    },
    Rmdir {
        path: Vec<u8>,
    },
    /// What the process wrote to the marks file: the workload's own account of its calls,
    /// in order with the store's events.
    Mark {
        text: Vec<u8>,
    },
    /// A shared writable mapping of a store file: writes through it escape the recorder.
    SharedWritableMap {
        path: Vec<u8>,
    },
    /// A call the recorder cannot model (`copy_file_range`, a rename across the root…).
    Unmodelled {
        what: Vec<u8>,
    },
    /// An error injected in place of a call, on thread `tid`.
    Injected {
        class: Class,
        errno: i32,
        tid: i64,
        path: Vec<u8>,
    },
}

const WRITE: u8 = 1;
const TRUNCATE: u8 = 2;
const FALLOCATE: u8 = 3;
const SYNC: u8 = 4;
const DIR_SYNC: u8 = 5;
const SYNC_ALL: u8 = 6;
const CREATE: u8 = 7;
const MKDIR: u8 = 8;
const RENAME: u8 = 9;
const UNLINK: u8 = 10;
const RMDIR: u8 = 11;
const MARK: u8 = 12;
const SHARED_MAP: u8 = 13;
const UNMODELLED: u8 = 14;
const INJECTED: u8 = 15;

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

impl Event {
    /// The frame of this event: length, then body.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(32);
        match self {
            Event::Write {
                path,
                ino,
                offset,
                data,
            } => {
                b.push(WRITE);
                put_bytes(&mut b, path);
                b.extend_from_slice(&ino.to_le_bytes());
                b.extend_from_slice(&offset.to_le_bytes());
                put_bytes(&mut b, data);
            }
            Event::Truncate { path, ino, len } => {
                b.push(TRUNCATE);
                put_bytes(&mut b, path);
                b.extend_from_slice(&ino.to_le_bytes());
                b.extend_from_slice(&len.to_le_bytes());
            }
            Event::Fallocate {
                path,
                ino,
                mode,
                offset,
                len,
            } => {
                b.push(FALLOCATE);
                put_bytes(&mut b, path);
                b.extend_from_slice(&ino.to_le_bytes());
                b.extend_from_slice(&mode.to_le_bytes());
                b.extend_from_slice(&offset.to_le_bytes());
                b.extend_from_slice(&len.to_le_bytes());
            }
            Event::Sync { path, ino, size } => {
                b.push(SYNC);
                put_bytes(&mut b, path);
                b.extend_from_slice(&ino.to_le_bytes());
                b.extend_from_slice(&size.to_le_bytes());
            }
            Event::DirSync { path, entries } => {
                b.push(DIR_SYNC);
                put_bytes(&mut b, path);
                put_entries(&mut b, entries);
            }
            Event::SyncAll { dirs } => {
                b.push(SYNC_ALL);
                b.extend_from_slice(&(dirs.len() as u32).to_le_bytes());
                for (path, entries) in dirs {
                    put_bytes(&mut b, path);
                    put_entries(&mut b, entries);
                }
            }
            Event::Create { path, ino } => {
                b.push(CREATE);
                put_bytes(&mut b, path);
                b.extend_from_slice(&ino.to_le_bytes());
            }
            Event::Mkdir { path } => {
                b.push(MKDIR);
                put_bytes(&mut b, path);
            }
            Event::Rename { from, to } => {
                b.push(RENAME);
                put_bytes(&mut b, from);
                put_bytes(&mut b, to);
            }
            Event::Unlink { path } => {
                b.push(UNLINK);
                put_bytes(&mut b, path);
            }
            Event::Rmdir { path } => {
                b.push(RMDIR);
                put_bytes(&mut b, path);
            }
            Event::Mark { text } => {
                b.push(MARK);
                put_bytes(&mut b, text);
            }
            Event::SharedWritableMap { path } => {
                b.push(SHARED_MAP);
                put_bytes(&mut b, path);
            }
            Event::Unmodelled { what } => {
                b.push(UNMODELLED);
                put_bytes(&mut b, what);
            }
            Event::Injected {
                class,
                errno,
                tid,
                path,
            } => {
                b.push(INJECTED);
                b.push(class.code());
                b.extend_from_slice(&errno.to_le_bytes());
                b.extend_from_slice(&(*tid as u64).to_le_bytes());
                put_bytes(&mut b, path);
            }
        }
        let mut frame = Vec::with_capacity(4 + b.len());
        frame.extend_from_slice(&(b.len() as u32).to_le_bytes());
        frame.extend_from_slice(&b);
        frame
    }
}

/// A cursor over one frame's body.
struct Body<'a>(&'a [u8]);

impl<'a> Body<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("frame ends {} bytes early", n - self.0.len()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }
    fn u32(&mut self) -> Result<u32, String> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(self.u32()? as i32)
    }
    fn u64(&mut self) -> Result<u64, String> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn entries(&mut self) -> Result<Vec<Entry>, String> {
        let n = self.u32()? as usize;
        // Each entry takes at least 13 bytes: a count past what is left is malformed.
        if n > self.0.len() / 13 {
            return Err(format!("{n} directory entries in {} bytes", self.0.len()));
        }
        (0..n)
            .map(|_| {
                Ok(Entry {
                    name: self.bytes()?,
                    ino: self.u64()?,
                    dir: self.u8()? != 0,
                })
            })
            .collect()
    }
}

fn decode_body(body: &[u8]) -> Result<Event, String> {
    let mut b = Body(body);
    let e = match b.u8()? {
        WRITE => Event::Write {
            path: b.bytes()?,
            ino: b.u64()?,
            offset: b.u64()?,
            data: b.bytes()?,
        },
        TRUNCATE => Event::Truncate {
            path: b.bytes()?,
            ino: b.u64()?,
            len: b.u64()?,
        },
        FALLOCATE => Event::Fallocate {
            path: b.bytes()?,
            ino: b.u64()?,
            mode: b.i32()?,
            offset: b.u64()?,
            len: b.u64()?,
        },
        SYNC => Event::Sync {
            path: b.bytes()?,
            ino: b.u64()?,
            size: b.u64()?,
        },
        DIR_SYNC => Event::DirSync {
            path: b.bytes()?,
            entries: b.entries()?,
        },
        SYNC_ALL => {
            let n = b.u32()? as usize;
            if n > b.0.len() / 8 {
                return Err(format!("{n} directories in {} bytes", b.0.len()));
            }
            let mut dirs = Vec::new();
            for _ in 0..n {
                dirs.push((b.bytes()?, b.entries()?));
            }
            Event::SyncAll { dirs }
        }
        CREATE => Event::Create {
            path: b.bytes()?,
            ino: b.u64()?,
        },
        MKDIR => Event::Mkdir { path: b.bytes()? },
        RENAME => Event::Rename {
            from: b.bytes()?,
            to: b.bytes()?,
        },
        UNLINK => Event::Unlink { path: b.bytes()? },
        RMDIR => Event::Rmdir { path: b.bytes()? },
        MARK => Event::Mark { text: b.bytes()? },
        SHARED_MAP => Event::SharedWritableMap { path: b.bytes()? },
        UNMODELLED => Event::Unmodelled { what: b.bytes()? },
        INJECTED => {
            let code = b.u8()?;
            Event::Injected {
                class: Class::from_code(code).ok_or(format!("unknown error class {code}"))?,
                errno: b.i32()?,
                tid: b.u64()? as i64,
                path: b.bytes()?,
            }
        }
        k => return Err(format!("unknown event kind {k}")),
    };
    if !b.0.is_empty() {
        return Err(format!("{} bytes after the event", b.0.len()));
    }
    Ok(e)
}

/// The events of a log. A last frame cut short (the process was killed while writing it) is
/// dropped; anything else malformed is an error naming the frame.
pub fn decode(log: &[u8]) -> Result<Vec<Event>, String> {
    let rest = log
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not a recorder log (no magic)")?;
    let mut b = Body(rest);
    let mut out = Vec::new();
    while b.0.len() >= 4 {
        let n = b.u32()? as usize;
        if b.0.len() < n {
            break; // cut short
        }
        let body = b.take(n)?;
        out.push(decode_body(body).map_err(|e| format!("event {}: {e}", out.len()))?);
    }
    Ok(out)
}
