//! Operation counters, latency histograms and slow-operation logging for any engine: a
//! wrapper that times every call, counts it, buckets its latency by powers of two, and emits a
//! `tracing` warning (target `syncproof::slow`) for calls at or above a threshold.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use syncproof_engine::*;

/// Latency buckets: bucket `i` holds calls taking under `2^i` microseconds (the last: the rest).
pub const BUCKETS: usize = 24;

/// Counts and a latency histogram of one kind of call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpMetrics {
    pub calls: u64,
    pub errors: u64,
    pub slow: u64,
    pub total_us: u64,
    pub buckets: [u64; BUCKETS],
}

impl OpMetrics {
    fn record(&mut self, took: Duration, failed: bool, slow: bool) {
        let us = took.as_micros() as u64;
        self.calls += 1;
        self.errors += u64::from(failed);
        self.slow += u64::from(slow);
        self.total_us += us;
        let bucket = (64 - us.leading_zeros() as usize).min(BUCKETS - 1);
        self.buckets[bucket] += 1;
    }

    /// The upper bound (µs) of the bucket holding quantile `q` of the calls.
    pub fn quantile_us(&self, q: f64) -> u64 {
        let target = (self.calls as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target.max(1) {
                return 1u64 << i;
            }
        }
        1u64 << (BUCKETS - 1)
    }
}

/// An engine with every call measured.
pub struct Instrumented<'e> {
    inner: &'e dyn StorageEngine,
    slow: Duration,
    metrics: Mutex<BTreeMap<&'static str, OpMetrics>>,
}

impl<'e> Instrumented<'e> {
    /// Measures `inner`; calls taking `slow` or longer are logged.
    pub fn new(inner: &'e dyn StorageEngine, slow: Duration) -> Self {
        Instrumented {
            inner,
            slow,
            metrics: Mutex::default(),
        }
    }

    /// The metrics so far, by call name.
    pub fn metrics(&self) -> BTreeMap<&'static str, OpMetrics> {
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn time<T>(&self, op: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let start = Instant::now();
        let r = f();
        let took = start.elapsed();
        let slow = took >= self.slow;
        if slow {
            tracing::warn!(target: "syncproof::slow", engine = self.inner.name(), op, took_ms = took.as_secs_f64() * 1000.0, failed = r.is_err(), "slow operation");
        }
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(op)
            .or_default()
            .record(took, r.is_err(), slow);
        r
    }

    /// A table of counts, errors, slow calls and p50/p99/max bucket bounds per call.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<20} {:>9} {:>7} {:>6} {:>10} {:>10} {:>10}\n",
            "call", "count", "errors", "slow", "p50 <µs", "p99 <µs", "mean µs"
        );
        for (op, m) in self.metrics() {
            s.push_str(&format!(
                "{:<20} {:>9} {:>7} {:>6} {:>10} {:>10} {:>10}\n",
                op,
                m.calls,
                m.errors,
                m.slow,
                m.quantile_us(0.5),
                m.quantile_us(0.99),
                m.total_us / m.calls.max(1)
            ));
        }
        s
    }
}

impl StorageEngine for Instrumented<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn start_sync(&self) -> Result<(SyncId, bool)> {
        self.time("start_sync", || self.inner.start_sync())
    }
    fn start_new_sync(&self, t: SyncType, parent: Option<&SyncId>) -> Result<SyncId> {
        self.time("start_new_sync", || self.inner.start_new_sync(t, parent))
    }
    fn set_current_sync(&self, id: &SyncId) -> Result<()> {
        self.time("set_current_sync", || self.inner.set_current_sync(id))
    }
    fn current_sync_token(&self) -> Result<String> {
        self.time("current_sync_token", || self.inner.current_sync_token())
    }
    fn checkpoint_sync(&self, token: &str) -> Result<()> {
        self.time("checkpoint_sync", || self.inner.checkpoint_sync(token))
    }
    fn end_sync(&self) -> Result<()> {
        self.time("end_sync", || self.inner.end_sync())
    }
    fn view_sync(&self, id: Option<&SyncId>) -> Result<()> {
        self.time("view_sync", || self.inner.view_sync(id))
    }
    fn get_sync_run(&self, id: &SyncId) -> Result<Option<SyncRun>> {
        self.time("get_sync_run", || self.inner.get_sync_run(id))
    }
    fn list_sync_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>> {
        self.time("list_sync_runs", || self.inner.list_sync_runs(page))
    }
    fn put(&self, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        self.time(
            if mode == PutMode::Replace {
                "put"
            } else {
                "put_if_newer"
            },
            || self.inner.put(batch, mode),
        )
    }
    fn delete_grant(&self, id: &str) -> Result<bool> {
        self.time("delete_grant", || self.inner.delete_grant(id))
    }
    fn get(&self, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        self.time("get", || self.inner.get(sync, key))
    }
    fn list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        self.time("list", || self.inner.list(sync, query, page))
    }
    fn stats(&self, sync: Option<&SyncId>) -> Result<Stats> {
        self.time("stats", || self.inner.stats(sync))
    }
    fn cleanup(&self, keep: usize) -> Result<Vec<SyncId>> {
        self.time("cleanup", || self.inner.cleanup(keep))
    }
    fn generate_sync_diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
        self.time("generate_sync_diff", || {
            self.inner.generate_sync_diff(base, applied)
        })
    }
    fn export_sync(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        self.time("export_sync", || self.inner.export_sync(id, sink))
    }
    fn begin_import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
        self.time("begin_import", || self.inner.begin_import(run))
    }
    fn flush(&self) -> Result<()> {
        self.time("flush", || self.inner.flush())
    }
    fn verify(&self) -> Result<VerifyReport> {
        self.time("verify", || self.inner.verify())
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        self.inner.structure()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_buckets_and_flags_slow_calls() {
        let e = syncproof_memory::MemoryEngine::new(EngineConfig::default());
        let m = Instrumented::new(&e, Duration::ZERO);
        m.start_sync().unwrap();
        m.start_sync().unwrap();
        assert!(m.view_sync(Some(&SyncId::new("nope"))).is_err());
        let metrics = m.metrics();
        assert_eq!(metrics["start_sync"].calls, 2);
        assert_eq!(
            (metrics["view_sync"].calls, metrics["view_sync"].errors),
            (1, 1)
        );
        assert_eq!(
            metrics["start_sync"].slow, 2,
            "a zero threshold makes every call slow"
        );
        assert_eq!(metrics["start_sync"].buckets.iter().sum::<u64>(), 2);
        let fast = Instrumented::new(&e, Duration::from_secs(3600));
        fast.flush().unwrap();
        assert_eq!(fast.metrics()["flush"].slow, 0);
        assert!(m.table().contains("start_sync"));
    }

    #[test]
    fn quantiles_follow_the_buckets() {
        let mut m = OpMetrics::default();
        for us in [1u64, 3, 3, 3, 1000] {
            m.record(Duration::from_micros(us), false, false);
        }
        assert_eq!(m.quantile_us(0.5), 4);
        assert_eq!(m.quantile_us(0.99), 1024);
    }
}
