//! `libsyncproof_recorder.so`: loaded with `LD_PRELOAD` into a process that runs an engine,
//! it records every mutation and sync barrier of the files under one directory, in order,
//! into an event log ([`format`]), and can fail the n-th write, sync or read with an errno.
//! It needs no privileges: it interposes libc's functions and calls the real ones through
//! `dlsym(RTLD_NEXT)`.
//!
//! Configured by the environment (unset `SYNCPROOF_RECORD_ROOT`: everything passes through):
//! - `SYNCPROOF_RECORD_ROOT`: the directory whose files are recorded (the store);
//! - `SYNCPROOF_RECORD_LOG`: the event log to write (created, truncated);
//! - `SYNCPROOF_RECORD_MARKS`: a file whose writes are logged as [`format::Event::Mark`], so
//!   that the workload's own account of its calls lands in order with the store's events;
//! - `SYNCPROOF_FAIL=<write|sync|read>:<n>:<EIO|ENOSPC>[:sticky]`: the n-th such call on a
//!   store file (counting from 1) fails with that errno instead of running, and with `sticky`
//!   every later one too.
//!
//! - `SYNCPROOF_REBOOTED=1`: the process runs as after a reboot: opening
//!   `/proc/sys/kernel/random/boot_id` opens `/proc/sys/kernel/random/uuid` (procfs too, a
//!   fresh id), so an engine that trusts unsynced commits while the boot id is unchanged
//!   (libmdbx) sees the power loss that a crash state stands for.
//!
//! A shared writable mapping of a store file is logged ([`format::Event::SharedWritableMap`]):
//! writes through it bypass every interposed call, so the harness refuses such an engine
//! rather than miss them. `copy_file_range`, and renames into or out of the root, are logged
//! as unmodelled for the same reason. `sync_file_range` is not a durability barrier (it
//! neither flushes metadata nor the device cache) and is not recorded.
//!
//! Every recorded call holds one process-wide lock across the real call and its log append,
//! so the log's order is the order the calls took effect.

#![allow(clippy::missing_safety_doc)]

mod format;

use std::ffi::CStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use format::{Class, Entry, Event};
use libc::{c_char, c_int, c_uint, c_void, iovec, mode_t, off64_t, off_t, size_t, ssize_t};

/// The real libc function `name`, resolved once.
macro_rules! real {
    ($name:literal: fn($($t:ty),*) -> $r:ty) => {{
        static P: AtomicUsize = AtomicUsize::new(0);
        let mut p = P.load(Ordering::Relaxed);
        if p == 0 {
            p = unsafe { libc::dlsym(libc::RTLD_NEXT, concat!($name, "\0").as_ptr().cast()) }
                as usize;
            if p == 0 {
                die(concat!("syncproof-recorder: dlsym(", $name, ") failed\n"));
            }
            P.store(p, Ordering::Relaxed);
        }
        unsafe { std::mem::transmute::<usize, unsafe extern "C" fn($($t),*) -> $r>(p) }
    }};
}

fn die(msg: &str) -> ! {
    unsafe {
        libc::syscall(libc::SYS_write, 2, msg.as_ptr(), msg.len());
        libc::abort()
    }
}

/// An error to inject.
struct Fail {
    class: Class,
    n: u64,
    errno: c_int,
    sticky: bool,
}

struct Config {
    log: c_int,
    /// The root, canonical, without a trailing slash.
    root: Vec<u8>,
    marks: Option<Vec<u8>>,
    fail: Option<Fail>,
}

/// Calls of each class seen so far on store files.
static COUNTS: Mutex<[u64; 3]> = Mutex::new([0; 3]);
/// Held across a recorded call and its log append.
static ORDER: Mutex<()> = Mutex::new(());
static CONFIG: OnceLock<Option<Config>> = OnceLock::new();

fn env(name: &CStr) -> Option<Vec<u8>> {
    let p = unsafe { libc::getenv(name.as_ptr()) };
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
}

fn canonical(path: &[u8]) -> Option<Vec<u8>> {
    let c = std::ffi::CString::new(path).ok()?;
    let p = unsafe { libc::realpath(c.as_ptr(), std::ptr::null_mut()) };
    if p.is_null() {
        return None;
    }
    let out = unsafe { CStr::from_ptr(p) }.to_bytes().to_vec();
    unsafe { libc::free(p.cast()) };
    Some(out)
}

fn parse_fail(spec: &[u8]) -> Option<Fail> {
    let s = std::str::from_utf8(spec).ok()?;
    let mut parts = s.split(':');
    let class = Class::parse(parts.next()?)?;
    let n = parts.next()?.parse().ok()?;
    let errno = match parts.next()? {
        "EIO" => libc::EIO,
        "ENOSPC" => libc::ENOSPC,
        _ => return None,
    };
    let sticky = match parts.next() {
        None => false,
        Some("sticky") => true,
        Some(_) => return None,
    };
    Some(Fail {
        class,
        n,
        errno,
        sticky,
    })
}

fn load() -> Option<Config> {
    let root = canonical(&env(c"SYNCPROOF_RECORD_ROOT")?)
        .unwrap_or_else(|| die("syncproof-recorder: SYNCPROOF_RECORD_ROOT does not exist\n"));
    let log_path = env(c"SYNCPROOF_RECORD_LOG")
        .unwrap_or_else(|| die("syncproof-recorder: SYNCPROOF_RECORD_LOG is not set\n"));
    let c = std::ffi::CString::new(log_path)
        .unwrap_or_else(|_| die("syncproof-recorder: bad SYNCPROOF_RECORD_LOG\n"));
    let open = real!("open": fn(*const c_char, c_int, mode_t) -> c_int);
    let log = unsafe {
        open(
            c.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND | libc::O_CLOEXEC,
            0o644,
        )
    };
    if log < 0 {
        die("syncproof-recorder: cannot create SYNCPROOF_RECORD_LOG\n");
    }
    raw_write(log, format::MAGIC);
    let marks = env(c"SYNCPROOF_RECORD_MARKS").map(|m| {
        // The marks file may not exist yet: canonicalise its directory.
        let (dir, name) = split_parent(&m);
        let mut p = canonical(dir).unwrap_or_else(|| dir.to_vec());
        p.push(b'/');
        p.extend_from_slice(name);
        p
    });
    let fail = env(c"SYNCPROOF_FAIL").map(|s| {
        parse_fail(&s).unwrap_or_else(|| {
            die("syncproof-recorder: SYNCPROOF_FAIL is not <write|sync|read>:<n>:<EIO|ENOSPC>[:sticky]\n")
        })
    });
    Some(Config {
        log,
        root,
        marks,
        fail,
    })
}

fn config() -> Option<&'static Config> {
    if busy() {
        return None;
    }
    CONFIG.get_or_init(load).as_ref()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

std::thread_local! {
    /// Set while this thread is inside the recorder: a libc call the recorder itself makes
    /// (listing a directory) passes straight through instead of taking the lock again.
    static BUSY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The recorder's lock, or `None` when this thread already holds it.
struct Held(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Drop for Held {
    fn drop(&mut self) {
        BUSY.with(|b| b.set(false));
    }
}

fn order() -> Held {
    let g = lock(&ORDER);
    BUSY.with(|b| b.set(true));
    Held(g)
}

fn busy() -> bool {
    BUSY.with(|b| b.get())
}

/// `(inode, size)` of an open fd.
fn ino_size(fd: c_int) -> (u64, u64) {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } == 0 {
        (st.st_ino, st.st_size.max(0) as u64)
    } else {
        (0, 0)
    }
}

/// The entries of directory `abs`, as they are now.
fn listing(abs: &[u8]) -> Vec<Entry> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::DirEntryExt;
    let Ok(rd) = std::fs::read_dir(std::ffi::OsStr::from_bytes(abs)) else {
        return Vec::new();
    };
    let mut out: Vec<Entry> = rd
        .flatten()
        .map(|e| Entry {
            name: e.file_name().as_bytes().to_vec(),
            ino: e.ino(),
            dir: e.file_type().is_ok_and(|t| t.is_dir()),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Every directory under the root (the root first), each with its listing.
fn all_listings(cfg: &Config) -> Vec<(Vec<u8>, Vec<Entry>)> {
    let mut out = Vec::new();
    let mut todo = vec![Vec::new()];
    while let Some(rel) = todo.pop() {
        let mut abs = cfg.root.clone();
        if !rel.is_empty() {
            abs.push(b'/');
            abs.extend_from_slice(&rel);
        }
        let entries = listing(&abs);
        for e in entries.iter().filter(|e| e.dir) {
            let mut child = rel.clone();
            if !child.is_empty() {
                child.push(b'/');
            }
            child.extend_from_slice(&e.name);
            todo.push(child);
        }
        out.push((rel, entries));
    }
    out
}

fn raw_write(fd: c_int, mut b: &[u8]) {
    let write = real!("write": fn(c_int, *const c_void, size_t) -> ssize_t);
    while !b.is_empty() {
        let n = unsafe { write(fd, b.as_ptr().cast(), b.len()) };
        if n <= 0 {
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            die("syncproof-recorder: cannot write the event log\n");
        }
        b = b.get(n as usize..).unwrap_or_default();
    }
}

fn log(cfg: &Config, e: &Event) {
    raw_write(cfg.log, &e.encode());
}

fn errno() -> c_int {
    unsafe { *libc::__errno_location() }
}

fn set_errno(e: c_int) {
    unsafe { *libc::__errno_location() = e };
}

fn split_parent(p: &[u8]) -> (&[u8], &[u8]) {
    match p.iter().rposition(|&c| c == b'/') {
        Some(0) => (b"/", p.get(1..).unwrap_or_default()),
        Some(i) => (
            p.get(..i).unwrap_or_default(),
            p.get(i + 1..).unwrap_or_default(),
        ),
        None => (b".", p),
    }
}

/// The path an open fd names, if it still has one.
fn fd_path(fd: c_int) -> Option<Vec<u8>> {
    let link = format!("/proc/self/fd/{fd}\0");
    let mut buf = [0u8; 4096];
    let n = unsafe { libc::readlink(link.as_ptr().cast(), buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return None;
    }
    let p = buf.get(..n as usize)?;
    (!p.ends_with(b" (deleted)")).then(|| p.to_vec())
}

/// The absolute path `path` names relative to `dirfd`, its directory canonicalised (the last
/// component may not exist).
fn abs_path(dirfd: c_int, path: *const c_char) -> Option<Vec<u8>> {
    if path.is_null() {
        return None;
    }
    let p = unsafe { CStr::from_ptr(path) }.to_bytes();
    let joined = if p.first() == Some(&b'/') {
        p.to_vec()
    } else {
        let mut base = if dirfd == libc::AT_FDCWD {
            let mut buf = [0u8; 4096];
            let r = unsafe { libc::getcwd(buf.as_mut_ptr().cast(), buf.len()) };
            if r.is_null() {
                return None;
            }
            unsafe { CStr::from_ptr(buf.as_ptr().cast()) }
                .to_bytes()
                .to_vec()
        } else {
            fd_path(dirfd)?
        };
        base.push(b'/');
        base.extend_from_slice(p);
        base
    };
    let (dir, name) = split_parent(&joined);
    let mut out = canonical(dir)?;
    if name.is_empty() || name == b"." {
        return Some(out);
    }
    if out != b"/" {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    Some(out)
}

/// `abs` relative to the root, if it is under it.
fn under_root(cfg: &Config, abs: &[u8]) -> Option<Vec<u8>> {
    if abs == cfg.root.as_slice() {
        return Some(Vec::new());
    }
    abs.strip_prefix(cfg.root.as_slice())?
        .strip_prefix(b"/")
        .map(<[u8]>::to_vec)
}

/// A store file an fd names: `(config, path relative to the root)`.
fn tracked(fd: c_int) -> Option<(&'static Config, Vec<u8>)> {
    let cfg = config()?;
    let abs = fd_path(fd)?;
    under_root(cfg, &abs).map(|p| (cfg, p))
}

/// Whether the call of `class` on `path` is the one to fail; logs and sets errno if so.
fn inject(cfg: &Config, class: Class, path: &[u8]) -> bool {
    let Some(f) = cfg.fail.as_ref().filter(|f| f.class == class) else {
        return false;
    };
    let mut counts = lock(&COUNTS);
    let i = match class {
        Class::Mutation => 0,
        Class::Sync => 1,
        Class::Read => 2,
    };
    let Some(c) = counts.get_mut(i) else {
        return false;
    };
    *c += 1;
    let hit = *c == f.n || (f.sticky && *c > f.n);
    if hit {
        log(
            cfg,
            &Event::Injected {
                class,
                errno: f.errno,
                tid: unsafe { libc::gettid() } as i64,
                path: path.to_vec(),
            },
        );
        set_errno(f.errno);
    }
    hit
}

fn is_dir(fd: c_int) -> bool {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    unsafe { libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFDIR }
}

fn gather(iov: *const iovec, cnt: c_int, mut n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    for i in 0..cnt.max(0) as usize {
        if n == 0 {
            break;
        }
        let v = unsafe { &*iov.add(i) };
        let take = v.iov_len.min(n);
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(v.iov_base as *const u8, take) });
        n -= take;
    }
    out
}

/// A write-like call on `fd`: `run` does it and returns bytes written; `data(n)` gives the
/// first `n` bytes it wrote; `offset(n)` where they went.
fn on_write(
    fd: c_int,
    run: impl FnOnce() -> ssize_t,
    data: impl FnOnce(usize) -> Vec<u8>,
    offset: impl FnOnce(usize) -> u64,
) -> ssize_t {
    let Some(cfg) = config() else {
        return run();
    };
    let Some(abs) = fd_path(fd) else {
        return run();
    };
    if cfg.marks.as_deref() == Some(abs.as_slice()) {
        let _order = order();
        let n = run();
        if n > 0 {
            log(
                cfg,
                &Event::Mark {
                    text: data(n as usize),
                },
            );
        }
        return n;
    }
    let Some(path) = under_root(cfg, &abs) else {
        return run();
    };
    let _order = order();
    if inject(cfg, Class::Mutation, &path) {
        return -1;
    }
    let n = run();
    if n > 0 {
        let at = offset(n as usize);
        let synced = unsafe { libc::fcntl(fd, libc::F_GETFL) } & (libc::O_DSYNC | libc::O_SYNC);
        let (ino, size) = ino_size(fd);
        log(
            cfg,
            &Event::Write {
                path: path.clone(),
                ino,
                offset: at,
                data: data(n as usize),
            },
        );
        if synced != 0 {
            // A write to an O_SYNC/O_DSYNC file is durable when it returns.
            log(cfg, &Event::Sync { path, ino, size });
        }
    }
    n
}

fn current_end(fd: c_int, n: usize) -> u64 {
    let pos = unsafe { libc::lseek64(fd, 0, libc::SEEK_CUR) };
    (pos.max(0) as u64).saturating_sub(n as u64)
}

#[no_mangle]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    let f = real!("write": fn(c_int, *const c_void, size_t) -> ssize_t);
    on_write(
        fd,
        || f(fd, buf, count),
        |n| std::slice::from_raw_parts(buf as *const u8, n).to_vec(),
        |n| current_end(fd, n),
    )
}

#[no_mangle]
pub unsafe extern "C" fn pwrite(
    fd: c_int,
    buf: *const c_void,
    count: size_t,
    off: off_t,
) -> ssize_t {
    let f = real!("pwrite": fn(c_int, *const c_void, size_t, off_t) -> ssize_t);
    on_write(
        fd,
        || f(fd, buf, count, off),
        |n| std::slice::from_raw_parts(buf as *const u8, n).to_vec(),
        |_| off as u64,
    )
}

#[no_mangle]
pub unsafe extern "C" fn pwrite64(
    fd: c_int,
    buf: *const c_void,
    count: size_t,
    off: off64_t,
) -> ssize_t {
    let f = real!("pwrite64": fn(c_int, *const c_void, size_t, off64_t) -> ssize_t);
    on_write(
        fd,
        || f(fd, buf, count, off),
        |n| std::slice::from_raw_parts(buf as *const u8, n).to_vec(),
        |_| off as u64,
    )
}

#[no_mangle]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t {
    let f = real!("writev": fn(c_int, *const iovec, c_int) -> ssize_t);
    on_write(
        fd,
        || f(fd, iov, cnt),
        |n| gather(iov, cnt, n),
        |n| current_end(fd, n),
    )
}

#[no_mangle]
pub unsafe extern "C" fn pwritev(fd: c_int, iov: *const iovec, cnt: c_int, off: off_t) -> ssize_t {
    let f = real!("pwritev": fn(c_int, *const iovec, c_int, off_t) -> ssize_t);
    on_write(
        fd,
        || f(fd, iov, cnt, off),
        |n| gather(iov, cnt, n),
        |_| off as u64,
    )
}

#[no_mangle]
pub unsafe extern "C" fn pwritev64(
    fd: c_int,
    iov: *const iovec,
    cnt: c_int,
    off: off64_t,
) -> ssize_t {
    let f = real!("pwritev64": fn(c_int, *const iovec, c_int, off64_t) -> ssize_t);
    on_write(
        fd,
        || f(fd, iov, cnt, off),
        |n| gather(iov, cnt, n),
        |_| off as u64,
    )
}

#[no_mangle]
pub unsafe extern "C" fn pwritev2(
    fd: c_int,
    iov: *const iovec,
    cnt: c_int,
    off: off_t,
    flags: c_int,
) -> ssize_t {
    let f = real!("pwritev2": fn(c_int, *const iovec, c_int, off_t, c_int) -> ssize_t);
    on_write(
        fd,
        || f(fd, iov, cnt, off, flags),
        |n| gather(iov, cnt, n),
        |n| {
            if off < 0 {
                current_end(fd, n)
            } else {
                off as u64
            }
        },
    )
}

/// A size-changing call on `fd`.
fn on_resize(
    fd: c_int,
    run: impl FnOnce() -> c_int,
    event: impl FnOnce(Vec<u8>, u64) -> Event,
) -> c_int {
    let Some((cfg, path)) = tracked(fd) else {
        return run();
    };
    let _order = order();
    if inject(cfg, Class::Mutation, &path) {
        return -1;
    }
    let r = run();
    if r == 0 {
        log(cfg, &event(path, ino_size(fd).0));
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn ftruncate(fd: c_int, len: off_t) -> c_int {
    let f = real!("ftruncate": fn(c_int, off_t) -> c_int);
    on_resize(
        fd,
        || f(fd, len),
        |path, ino| Event::Truncate {
            path,
            ino,
            len: len.max(0) as u64,
        },
    )
}

#[no_mangle]
pub unsafe extern "C" fn ftruncate64(fd: c_int, len: off64_t) -> c_int {
    let f = real!("ftruncate64": fn(c_int, off64_t) -> c_int);
    on_resize(
        fd,
        || f(fd, len),
        |path, ino| Event::Truncate {
            path,
            ino,
            len: len.max(0) as u64,
        },
    )
}

/// `fallocate` through the real function `f` (either width: on this ABI both take 64-bit
/// offsets).
fn on_fallocate(
    f: unsafe extern "C" fn(c_int, c_int, off64_t, off64_t) -> c_int,
    fd: c_int,
    mode: c_int,
    off: off64_t,
    len: off64_t,
) -> c_int {
    on_resize(
        fd,
        || unsafe { f(fd, mode, off, len) },
        |path, ino| Event::Fallocate {
            path,
            ino,
            mode,
            offset: off.max(0) as u64,
            len: len.max(0) as u64,
        },
    )
}

#[no_mangle]
pub unsafe extern "C" fn fallocate(fd: c_int, mode: c_int, off: off_t, len: off_t) -> c_int {
    let f = real!("fallocate": fn(c_int, c_int, off64_t, off64_t) -> c_int);
    on_fallocate(f, fd, mode, off, len)
}

#[no_mangle]
pub unsafe extern "C" fn fallocate64(fd: c_int, mode: c_int, off: off64_t, len: off64_t) -> c_int {
    let f = real!("fallocate64": fn(c_int, c_int, off64_t, off64_t) -> c_int);
    on_fallocate(f, fd, mode, off, len)
}

#[no_mangle]
pub unsafe extern "C" fn posix_fallocate(fd: c_int, off: off_t, len: off_t) -> c_int {
    let f = real!("posix_fallocate": fn(c_int, off_t, off_t) -> c_int);
    let Some((cfg, path)) = tracked(fd) else {
        return f(fd, off, len);
    };
    let _order = order();
    if inject(cfg, Class::Mutation, &path) {
        return errno(); // posix_fallocate returns the error number
    }
    let r = f(fd, off, len);
    if r == 0 {
        log(
            cfg,
            &Event::Fallocate {
                path,
                ino: ino_size(fd).0,
                mode: 0,
                offset: off.max(0) as u64,
                len: len.max(0) as u64,
            },
        );
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn posix_fallocate64(fd: c_int, off: off64_t, len: off64_t) -> c_int {
    posix_fallocate(fd, off, len)
}

fn on_sync(fd: c_int, run: impl FnOnce() -> c_int) -> c_int {
    let Some((cfg, path)) = tracked(fd) else {
        return run();
    };
    let _order = order();
    let dir = is_dir(fd);
    if !dir && inject(cfg, Class::Sync, &path) {
        return -1;
    }
    let r = run();
    if r == 0 {
        let e = if dir {
            let entries = fd_path(fd).map(|abs| listing(&abs)).unwrap_or_default();
            Event::DirSync { path, entries }
        } else {
            let (ino, size) = ino_size(fd);
            Event::Sync { path, ino, size }
        };
        log(cfg, &e);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn fsync(fd: c_int) -> c_int {
    let f = real!("fsync": fn(c_int) -> c_int);
    on_sync(fd, || f(fd))
}

#[no_mangle]
pub unsafe extern "C" fn fdatasync(fd: c_int) -> c_int {
    let f = real!("fdatasync": fn(c_int) -> c_int);
    on_sync(fd, || f(fd))
}

#[no_mangle]
pub unsafe extern "C" fn sync() {
    let f = real!("sync": fn() -> ());
    match config() {
        Some(cfg) => {
            let _order = order();
            f();
            log(
                cfg,
                &Event::SyncAll {
                    dirs: all_listings(cfg),
                },
            );
        }
        None => f(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn syncfs(fd: c_int) -> c_int {
    let f = real!("syncfs": fn(c_int) -> c_int);
    match config() {
        Some(cfg) => {
            let _order = order();
            let r = f(fd);
            if r == 0 {
                log(
                    cfg,
                    &Event::SyncAll {
                        dirs: all_listings(cfg),
                    },
                );
            }
            r
        }
        None => f(fd),
    }
}

#[no_mangle]
pub unsafe extern "C" fn copy_file_range(
    fd_in: c_int,
    off_in: *mut off64_t,
    fd_out: c_int,
    off_out: *mut off64_t,
    len: size_t,
    flags: c_uint,
) -> ssize_t {
    let f = real!("copy_file_range": fn(c_int, *mut off64_t, c_int, *mut off64_t, size_t, c_uint) -> ssize_t);
    if let Some((cfg, path)) = tracked(fd_out) {
        let _order = order();
        let mut what = b"copy_file_range into ".to_vec();
        what.extend_from_slice(&path);
        log(cfg, &Event::Unmodelled { what });
    }
    f(fd_in, off_in, fd_out, off_out, len, flags)
}

static REBOOTED: OnceLock<bool> = OnceLock::new();

const BOOT_ID: &CStr = c"/proc/sys/kernel/random/boot_id";
const FRESH_ID: &CStr = c"/proc/sys/kernel/random/uuid";

/// `path`, or a fresh boot id's in a process that runs as after a reboot.
fn rebooted(path: *const c_char) -> *const c_char {
    let on = *REBOOTED.get_or_init(|| env(c"SYNCPROOF_REBOOTED").is_some_and(|v| v == b"1"));
    if on && !path.is_null() && unsafe { CStr::from_ptr(path) } == BOOT_ID {
        FRESH_ID.as_ptr()
    } else {
        path
    }
}

/// An `open`-like call: logs a file it created, and `O_TRUNC` of one that existed.
fn on_open(dirfd: c_int, path: *const c_char, flags: c_int, run: impl FnOnce() -> c_int) -> c_int {
    let Some(cfg) = config() else {
        return run();
    };
    let rel = abs_path(dirfd, path).and_then(|a| under_root(cfg, &a));
    let Some(rel) = rel else {
        return run();
    };
    let _order = order();
    let existed = unsafe { libc::faccessat(dirfd, path, libc::F_OK, 0) } == 0;
    let fd = run();
    if fd >= 0 && (flags & libc::O_TMPFILE) != libc::O_TMPFILE {
        let ino = ino_size(fd).0;
        if !existed && flags & libc::O_CREAT != 0 {
            log(cfg, &Event::Create { path: rel, ino });
        } else if existed && flags & libc::O_TRUNC != 0 && flags & libc::O_ACCMODE != libc::O_RDONLY
        {
            log(
                cfg,
                &Event::Truncate {
                    path: rel,
                    ino,
                    len: 0,
                },
            );
        }
    }
    fd
}

#[no_mangle]
pub unsafe extern "C" fn open(path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    let f = real!("open": fn(*const c_char, c_int, mode_t) -> c_int);
    let path = rebooted(path);
    on_open(libc::AT_FDCWD, path, flags, || f(path, flags, mode))
}

#[no_mangle]
pub unsafe extern "C" fn open64(path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    let f = real!("open64": fn(*const c_char, c_int, mode_t) -> c_int);
    let path = rebooted(path);
    on_open(libc::AT_FDCWD, path, flags, || f(path, flags, mode))
}

#[no_mangle]
pub unsafe extern "C" fn openat(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: mode_t,
) -> c_int {
    let f = real!("openat": fn(c_int, *const c_char, c_int, mode_t) -> c_int);
    let path = rebooted(path);
    on_open(dirfd, path, flags, || f(dirfd, path, flags, mode))
}

#[no_mangle]
pub unsafe extern "C" fn openat64(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: mode_t,
) -> c_int {
    let f = real!("openat64": fn(c_int, *const c_char, c_int, mode_t) -> c_int);
    let path = rebooted(path);
    on_open(dirfd, path, flags, || f(dirfd, path, flags, mode))
}

#[no_mangle]
pub unsafe extern "C" fn creat(path: *const c_char, mode: mode_t) -> c_int {
    let f = real!("creat": fn(*const c_char, mode_t) -> c_int);
    on_open(
        libc::AT_FDCWD,
        path,
        libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC,
        || f(path, mode),
    )
}

#[no_mangle]
pub unsafe extern "C" fn creat64(path: *const c_char, mode: mode_t) -> c_int {
    creat(path, mode)
}

/// A namespace call on one path: logs `event(path)` if it succeeded under the root.
fn on_entry(
    dirfd: c_int,
    path: *const c_char,
    run: impl FnOnce() -> c_int,
    event: impl FnOnce(Vec<u8>) -> Event,
) -> c_int {
    let Some(cfg) = config() else {
        return run();
    };
    let Some(rel) = abs_path(dirfd, path).and_then(|a| under_root(cfg, &a)) else {
        return run();
    };
    let _order = order();
    let r = run();
    if r == 0 {
        log(cfg, &event(rel));
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn unlink(path: *const c_char) -> c_int {
    let f = real!("unlink": fn(*const c_char) -> c_int);
    on_entry(
        libc::AT_FDCWD,
        path,
        || f(path),
        |path| Event::Unlink { path },
    )
}

#[no_mangle]
pub unsafe extern "C" fn unlinkat(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    let f = real!("unlinkat": fn(c_int, *const c_char, c_int) -> c_int);
    on_entry(
        dirfd,
        path,
        || f(dirfd, path, flags),
        |path| {
            if flags & libc::AT_REMOVEDIR != 0 {
                Event::Rmdir { path }
            } else {
                Event::Unlink { path }
            }
        },
    )
}

#[no_mangle]
pub unsafe extern "C" fn rmdir(path: *const c_char) -> c_int {
    let f = real!("rmdir": fn(*const c_char) -> c_int);
    on_entry(
        libc::AT_FDCWD,
        path,
        || f(path),
        |path| Event::Rmdir { path },
    )
}

#[no_mangle]
pub unsafe extern "C" fn mkdir(path: *const c_char, mode: mode_t) -> c_int {
    let f = real!("mkdir": fn(*const c_char, mode_t) -> c_int);
    on_entry(
        libc::AT_FDCWD,
        path,
        || f(path, mode),
        |path| Event::Mkdir { path },
    )
}

#[no_mangle]
pub unsafe extern "C" fn mkdirat(dirfd: c_int, path: *const c_char, mode: mode_t) -> c_int {
    let f = real!("mkdirat": fn(c_int, *const c_char, mode_t) -> c_int);
    on_entry(
        dirfd,
        path,
        || f(dirfd, path, mode),
        |path| Event::Mkdir { path },
    )
}

/// A rename: logged when both ends are under the root, unmodelled when one is.
fn on_rename(
    olddir: c_int,
    old: *const c_char,
    newdir: c_int,
    new: *const c_char,
    run: impl FnOnce() -> c_int,
) -> c_int {
    let Some(cfg) = config() else {
        return run();
    };
    let from = abs_path(olddir, old).and_then(|a| under_root(cfg, &a));
    let to = abs_path(newdir, new).and_then(|a| under_root(cfg, &a));
    if from.is_none() && to.is_none() {
        return run();
    }
    let _order = order();
    let r = run();
    if r == 0 {
        match (from, to) {
            (Some(from), Some(to)) => log(cfg, &Event::Rename { from, to }),
            (from, to) => {
                let mut what = b"rename across the root: ".to_vec();
                what.extend_from_slice(from.or(to).as_deref().unwrap_or_default());
                log(cfg, &Event::Unmodelled { what });
            }
        }
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn rename(old: *const c_char, new: *const c_char) -> c_int {
    let f = real!("rename": fn(*const c_char, *const c_char) -> c_int);
    on_rename(libc::AT_FDCWD, old, libc::AT_FDCWD, new, || f(old, new))
}

#[no_mangle]
pub unsafe extern "C" fn renameat(
    olddir: c_int,
    old: *const c_char,
    newdir: c_int,
    new: *const c_char,
) -> c_int {
    let f = real!("renameat": fn(c_int, *const c_char, c_int, *const c_char) -> c_int);
    on_rename(olddir, old, newdir, new, || f(olddir, old, newdir, new))
}

#[no_mangle]
pub unsafe extern "C" fn renameat2(
    olddir: c_int,
    old: *const c_char,
    newdir: c_int,
    new: *const c_char,
    flags: c_uint,
) -> c_int {
    let f = real!("renameat2": fn(c_int, *const c_char, c_int, *const c_char, c_uint) -> c_int);
    on_rename(olddir, old, newdir, new, || {
        f(olddir, old, newdir, new, flags)
    })
}

fn on_mmap(prot: c_int, flags: c_int, fd: c_int) {
    if fd < 0 || prot & libc::PROT_WRITE == 0 || flags & libc::MAP_SHARED == 0 {
        return;
    }
    if let Some((cfg, path)) = tracked(fd) {
        let _order = order();
        log(cfg, &Event::SharedWritableMap { path });
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmap(
    addr: *mut c_void,
    len: size_t,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    off: off_t,
) -> *mut c_void {
    let f = real!("mmap": fn(*mut c_void, size_t, c_int, c_int, c_int, off_t) -> *mut c_void);
    on_mmap(prot, flags, fd);
    f(addr, len, prot, flags, fd, off)
}

#[no_mangle]
pub unsafe extern "C" fn mmap64(
    addr: *mut c_void,
    len: size_t,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    off: off64_t,
) -> *mut c_void {
    let f = real!("mmap64": fn(*mut c_void, size_t, c_int, c_int, c_int, off64_t) -> *mut c_void);
    on_mmap(prot, flags, fd);
    f(addr, len, prot, flags, fd, off)
}

/// A read-like call: fails it if it is the one to fail, else runs it untouched.
fn on_read(fd: c_int, run: impl FnOnce() -> ssize_t) -> ssize_t {
    let Some(cfg) = config() else {
        return run();
    };
    if cfg.fail.as_ref().is_none_or(|f| f.class != Class::Read) {
        return run();
    }
    let Some(path) = fd_path(fd).and_then(|a| under_root(cfg, &a)) else {
        return run();
    };
    let _order = order();
    if inject(cfg, Class::Read, &path) {
        return -1;
    }
    run()
}

#[no_mangle]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    let f = real!("read": fn(c_int, *mut c_void, size_t) -> ssize_t);
    on_read(fd, || f(fd, buf, count))
}

#[no_mangle]
pub unsafe extern "C" fn pread(fd: c_int, buf: *mut c_void, count: size_t, off: off_t) -> ssize_t {
    let f = real!("pread": fn(c_int, *mut c_void, size_t, off_t) -> ssize_t);
    on_read(fd, || f(fd, buf, count, off))
}

#[no_mangle]
pub unsafe extern "C" fn pread64(
    fd: c_int,
    buf: *mut c_void,
    count: size_t,
    off: off64_t,
) -> ssize_t {
    let f = real!("pread64": fn(c_int, *mut c_void, size_t, off64_t) -> ssize_t);
    on_read(fd, || f(fd, buf, count, off))
}

#[no_mangle]
pub unsafe extern "C" fn readv(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t {
    let f = real!("readv": fn(c_int, *const iovec, c_int) -> ssize_t);
    on_read(fd, || f(fd, iov, cnt))
}

#[no_mangle]
pub unsafe extern "C" fn preadv(fd: c_int, iov: *const iovec, cnt: c_int, off: off_t) -> ssize_t {
    let f = real!("preadv": fn(c_int, *const iovec, c_int, off_t) -> ssize_t);
    on_read(fd, || f(fd, iov, cnt, off))
}

#[no_mangle]
pub unsafe extern "C" fn preadv64(
    fd: c_int,
    iov: *const iovec,
    cnt: c_int,
    off: off64_t,
) -> ssize_t {
    let f = real!("preadv64": fn(c_int, *const iovec, c_int, off64_t) -> ssize_t);
    on_read(fd, || f(fd, iov, cnt, off))
}
