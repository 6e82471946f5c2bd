//! The benchmark workloads: the one list of criterion group names, what each measures, and
//! which group is its raw floor and which bench binary measures it. The benches name their groups from here, and the report
//! explains them from here.

/// One criterion group of `syncproof-benches`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// The criterion group id.
    pub group: &'static str,
    pub title: &'static str,
    /// What one iteration does, for the report.
    pub measures: &'static str,
    /// The group that measures the raw backend doing the same writes, if any.
    pub floor: Option<&'static str>,
    pub sampling: Sampling,
    /// The bench binary in `benches/benches/` that measures it.
    pub bench: &'static str,
}

/// How criterion samples a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sampling {
    pub samples: usize,
    pub warm_up_secs: u64,
    pub measurement_secs: u64,
    /// Flat sampling: the same iteration count in every sample (for long iterations), instead
    /// of criterion's linear ramp.
    pub flat: bool,
}

/// The bench binary of the engines' sync workloads.
pub const ENGINES_BENCH: &str = "engines";
/// The bench binary of reads and writes on contending threads.
pub const READ_WHILE_WRITING: &str = "read_while_writing";

/// Whole-store writes: each iteration runs on a fresh store (a copy of one built once, for
/// the workloads that start from stored syncs) and takes long, so few flat samples.
pub const WRITES: Sampling = Sampling {
    samples: 10,
    warm_up_secs: 1,
    measurement_secs: 5,
    flat: true,
};

/// Reads on one prepared store: more samples, linear sampling.
pub const READS: Sampling = Sampling {
    samples: 20,
    warm_up_secs: 1,
    measurement_secs: 3,
    flat: false,
};

impl Sampling {
    pub fn describe(&self) -> String {
        format!(
            "{} samples{}, {} s warm-up, {} s measurement target",
            self.samples,
            if self.flat { " (flat)" } else { "" },
            self.warm_up_secs,
            self.measurement_secs
        )
    }
}

pub const INGEST: Workload = Workload {
    group: "ingest",
    title: "Ingest one sync",
    measures: "A full sync of N grants with their users (N/10), groups and `member` \
               entitlements (N/100 each), written in batches of 1,000 records into an empty \
               store, ended, then `flush()`. Records are built before timing.",
    floor: Some(INGEST_RAW_FLOOR.group),
    sampling: WRITES,
    bench: ENGINES_BENCH,
};

pub const INGEST_RAW_FLOOR: Workload = Workload {
    group: "ingest_raw_floor",
    title: "Ingest: raw backend floor",
    measures: "The exact keys and values the key-value layer writes for that sync \
               (`kv::fresh_writes`: primary records and every index entry), one backend batch \
               per record batch, then `flush()`. What the backend alone costs.",
    floor: None,
    sampling: WRITES,
    bench: ENGINES_BENCH,
};

pub const RESYNC_IF_NEWER: Workload = Workload {
    group: "resync_if_newer",
    title: "If-newer re-sync",
    measures: "The same sync written again with `PutMode::IfNewer` into the open sync that \
               holds it; every other record is one second newer, so half are replaced and half \
               are skipped. Then `flush()`.",
    floor: None,
    sampling: WRITES,
    bench: ENGINES_BENCH,
};

pub const DIFF_10PCT: Workload = Workload {
    group: "diff_10pct",
    title: "Diff of two syncs, 10% changed",
    measures: "`generate_sync_diff` of two finished syncs of N grants where a tenth of the \
               grants moved to other users, then `flush()`.",
    floor: None,
    sampling: WRITES,
    bench: ENGINES_BENCH,
};

pub const CLEANUP: Workload = Workload {
    group: "cleanup",
    title: "Cleanup of an old sync",
    measures: "`cleanup(1)` in a store with two full syncs of N grants: the older sync, its \
               records and index entries are deleted. Then `flush()`.",
    floor: None,
    sampling: WRITES,
    bench: ENGINES_BENCH,
};

pub const CLONE: Workload = Workload {
    group: "clone",
    title: "Clone a sync",
    measures: "`clone_sync` of one finished sync of N grants into an empty store of the same \
               engine, then `flush()` of the target.",
    floor: None,
    sampling: WRITES,
    bench: ENGINES_BENCH,
};

pub const POINT_GET: Workload = Workload {
    group: "point_get",
    title: "Point gets",
    measures: "1,000 `get`s of grants by id, spread over a finished sync of N grants.",
    floor: None,
    sampling: READS,
    bench: ENGINES_BENCH,
};

pub const POINT_GET_LENT: Workload = Workload {
    group: "point_get_lent",
    title: "Point gets, lending",
    measures: "The same 1,000 gets through `visit_get`: each grant lent to the caller as a \
               checked archive (its principal read from it), not decoded into an owned record.",
    floor: None,
    sampling: READS,
    bench: ENGINES_BENCH,
};

pub const PAGE_ALL_GRANTS: Workload = Workload {
    group: "page_all_grants",
    title: "Paging through all grants",
    measures: "Every grant of a finished sync of N grants, 1,000 per page, each page resumed \
               from the previous page's token.",
    floor: None,
    sampling: READS,
    bench: ENGINES_BENCH,
};

pub const PAGE_ALL_GRANTS_LENT: Workload = Workload {
    group: "page_all_grants_lent",
    title: "Paging through all grants, lending",
    measures: "The same pages through `visit_list`: each grant lent as a checked archive (its \
               principal read from it). Engines without a lending path of their own (SQLite, \
               memory) lend through the default, which archives each owned record first.",
    floor: None,
    sampling: READS,
    bench: ENGINES_BENCH,
};

pub const LIST_BY_PRINCIPAL: Workload = Workload {
    group: "list_by_principal",
    title: "Index list: grants of a principal",
    measures: "The grants of 100 users (about 10 each), every page, through the principal index.",
    floor: None,
    sampling: READS,
    bench: ENGINES_BENCH,
};

pub const LIST_BY_ENTITLEMENT: Workload = Workload {
    group: "list_by_entitlement",
    title: "Index list: grants of an entitlement",
    measures: "The grants of up to 100 entitlements (about 100 each), every page, through the \
               entitlement index.",
    floor: None,
    sampling: READS,
    bench: ENGINES_BENCH,
};

/// Reads and writes on threads that contend: few samples of a short fixed time per sample.
pub const CONTENDED: Sampling = Sampling {
    samples: 10,
    warm_up_secs: 1,
    measurement_secs: 2,
    flat: false,
};

/// The store every `read_while_writing` workload runs on, for the report.
pub const CONTENDED_STORE: &str =
    "Each engine's store holds a finished sync of N grants over three \
                               principals and an open sync the writer re-puts its batch into; \
                               the stores live in the RAM-backed scratch dir.";

pub const READERS_ALONE: Workload = Workload {
    group: "readers_alone",
    title: "Reads, no writer",
    measures: "Two reader threads, each reading the finished sync in turn: a page of 100 of all \
               grants, a page of 100 of one principal's index list, a point get. One element is \
               one read.",
    floor: None,
    sampling: CONTENDED,
    bench: READ_WHILE_WRITING,
};

pub const READERS_WITH_WRITER: Workload = Workload {
    group: "readers_with_writer",
    title: "Reads while one thread writes",
    measures: "The same reads while a writer thread re-puts batches of 50 grants into the open \
               sync without pause (SPEC §6: reads run on other threads while one thread writes).",
    floor: None,
    sampling: CONTENDED,
    bench: READ_WHILE_WRITING,
};

pub const WRITER_ALONE: Workload = Workload {
    group: "writer_alone",
    title: "Writes, no readers",
    measures: "One writer thread re-putting a batch of 50 grants into the open sync \
               (`PutMode::Replace`, no flush). One element is one grant written.",
    floor: None,
    sampling: CONTENDED,
    bench: READ_WHILE_WRITING,
};

pub const WRITER_WITH_READERS: Workload = Workload {
    group: "writer_with_readers",
    title: "Writes while two threads read",
    measures: "The same writes while the two readers read without pause.",
    floor: None,
    sampling: CONTENDED,
    bench: READ_WHILE_WRITING,
};

/// Every workload, in report order.
pub const WORKLOADS: [Workload; 16] = [
    INGEST,
    INGEST_RAW_FLOOR,
    RESYNC_IF_NEWER,
    DIFF_10PCT,
    CLEANUP,
    CLONE,
    POINT_GET,
    POINT_GET_LENT,
    PAGE_ALL_GRANTS,
    PAGE_ALL_GRANTS_LENT,
    LIST_BY_PRINCIPAL,
    LIST_BY_ENTITLEMENT,
    READERS_ALONE,
    READERS_WITH_WRITER,
    WRITER_ALONE,
    WRITER_WITH_READERS,
];

/// How much one side of a read/write mix slows the other: a workload measured alone and
/// while the other side runs, both by `benches/read_while_writing.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interference {
    /// What is slowed, for the report: "reads/s" or "grants written/s".
    pub rate: &'static str,
    /// The contended column's heading: "with a writer".
    pub while_: &'static str,
    pub alone: Workload,
    pub contended: Workload,
}

/// The two interferences the report states, readers' first.
pub const INTERFERENCES: [Interference; 2] = [
    Interference {
        rate: "reads/s",
        while_: "with a writer",
        alone: READERS_ALONE,
        contended: READERS_WITH_WRITER,
    },
    Interference {
        rate: "grants written/s",
        while_: "with two readers",
        alone: WRITER_ALONE,
        contended: WRITER_WITH_READERS,
    },
];

/// The criterion groups the bench binary `bench` (`engines`, `read_while_writing`) measures.
pub fn groups_of(bench: &str) -> Vec<String> {
    WORKLOADS
        .iter()
        .filter(|w| w.bench == bench)
        .map(|w| w.group.to_string())
        .collect()
}

/// The engine every ratio is taken against: what users have today.
pub const BASELINE_ENGINE: &str = "sqlite";

/// The workload of a criterion group, if syncproof's benches define it.
pub fn workload(group: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.group == group)
}

/// Whether `group` is some workload's raw floor (then it is shown beside that workload).
pub fn is_floor(group: &str) -> bool {
    WORKLOADS.iter().any(|w| w.floor == Some(group))
}
