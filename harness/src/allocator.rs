//! How the gate's processes use memory: mimalloc as the global allocator (declared by each
//! binary: the `syncproof` CLI and the gate benchmarks) and no transparent huge pages.
//!
//! With the kernel's THP mode `always` (this project's machine runs so), every 2 MiB-aligned region
//! mimalloc touches for the first time, or again after it purged it, is faulted in as one huge
//! page that the kernel zeroes whole, even when a case needed a few kilobytes of it. A gate
//! run opens and drops thousands of stores on short-lived threads, so its allocator keeps
//! taking fresh regions: in `syncproof check --seed 7` the kernel's page zeroing was a
//! quarter of all samples (`perf record`), and turning THP off for the process cut the wall
//! time of the default check by about a seventh (README, "How fast the gate is").

/// Turns transparent huge pages off for this process and the processes it starts
/// (`PR_SET_THP_DISABLE`, kept across `fork` and `exec`). It is what mimalloc does itself
/// when `MIMALLOC_ALLOW_THP=0` is set before it starts; doing it here needs no environment.
/// A kernel that refuses the call (before Linux 3.15) changes nothing, so the error is
/// ignored: only speed depends on it.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and touches no
    // memory of this process.
    unsafe {
        let _ = libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
