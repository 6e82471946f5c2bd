//! The benchmark workloads: the one list of criterion group names, what each measures, and
//! which group is its raw floor. The benches name their groups from here, and the report
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

/// Whole-store writes: each iteration runs on freshly built stores and takes long, so few
/// flat samples.
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
};

pub const INGEST_RAW_FLOOR: Workload = Workload {
    group: "ingest_raw_floor",
    title: "Ingest: raw backend floor",
    measures: "The exact keys and values the key-value layer writes for that sync \
               (`kv::fresh_writes`: primary records and every index entry), one backend batch \
               per record batch, then `flush()`. What the backend alone costs.",
    floor: None,
    sampling: WRITES,
};

pub const RESYNC_IF_NEWER: Workload = Workload {
    group: "resync_if_newer",
    title: "If-newer re-sync",
    measures: "The same sync written again with `PutMode::IfNewer` into the open sync that \
               holds it; every other record is one second newer, so half are replaced and half \
               are skipped. Then `flush()`.",
    floor: None,
    sampling: WRITES,
};

pub const DIFF_10PCT: Workload = Workload {
    group: "diff_10pct",
    title: "Diff of two syncs, 10% changed",
    measures: "`generate_sync_diff` of two finished syncs of N grants where a tenth of the \
               grants moved to other users, then `flush()`.",
    floor: None,
    sampling: WRITES,
};

pub const CLEANUP: Workload = Workload {
    group: "cleanup",
    title: "Cleanup of an old sync",
    measures: "`cleanup(1)` in a store with two full syncs of N grants: the older sync, its \
               records and index entries are deleted. Then `flush()`.",
    floor: None,
    sampling: WRITES,
};

pub const CLONE: Workload = Workload {
    group: "clone",
    title: "Clone a sync",
    measures: "`clone_sync` of one finished sync of N grants into an empty store of the same \
               engine, then `flush()` of the target.",
    floor: None,
    sampling: WRITES,
};

pub const POINT_GET: Workload = Workload {
    group: "point_get",
    title: "Point gets",
    measures: "1,000 `get`s of grants by id, spread over a finished sync of N grants.",
    floor: None,
    sampling: READS,
};

pub const PAGE_ALL_GRANTS: Workload = Workload {
    group: "page_all_grants",
    title: "Paging through all grants",
    measures: "Every grant of a finished sync of N grants, 1,000 per page, each page resumed \
               from the previous page's token.",
    floor: None,
    sampling: READS,
};

pub const LIST_BY_PRINCIPAL: Workload = Workload {
    group: "list_by_principal",
    title: "Index list: grants of a principal",
    measures: "The grants of 100 users (about 10 each), every page, through the principal index.",
    floor: None,
    sampling: READS,
};

pub const LIST_BY_ENTITLEMENT: Workload = Workload {
    group: "list_by_entitlement",
    title: "Index list: grants of an entitlement",
    measures: "The grants of up to 100 entitlements (about 100 each), every page, through the \
               entitlement index.",
    floor: None,
    sampling: READS,
};

/// Every workload, in report order.
pub const WORKLOADS: [Workload; 10] = [
    INGEST,
    INGEST_RAW_FLOOR,
    RESYNC_IF_NEWER,
    DIFF_10PCT,
    CLEANUP,
    CLONE,
    POINT_GET,
    PAGE_ALL_GRANTS,
    LIST_BY_PRINCIPAL,
    LIST_BY_ENTITLEMENT,
];

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
