//! Latency histograms of bounded size: a long soak keeps eight buckets per power of two of
//! nanoseconds (12.5% resolution) instead of every sample, so memory stays flat.

use std::collections::BTreeMap;

use serde::Serialize;

const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = (SUB as usize) * (64 - SUB_BITS as usize + 1);

/// Counts of samples by log-linear bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<u64>,
    samples: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            samples: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

fn bucket(ns: u64) -> usize {
    if ns < SUB {
        return ns as usize;
    }
    let p = 63 - ns.leading_zeros();
    let shift = p - SUB_BITS;
    let sub = (ns >> shift) - SUB;
    (SUB + u64::from(shift) * SUB + sub) as usize
}

/// The smallest value that falls in bucket `b`.
fn lower_bound(b: usize) -> u64 {
    let b = b as u64;
    if b < SUB {
        return b;
    }
    let shift = (b - SUB) / SUB;
    let sub = (b - SUB) % SUB;
    (SUB + sub) << shift
}

impl Histogram {
    /// Adds one sample.
    pub fn record(&mut self, ns: u64) {
        if let Some(c) = self.counts.get_mut(bucket(ns)) {
            *c += 1;
        }
        self.samples += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Number of samples.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Sum of all samples, in nanoseconds.
    pub fn sum_ns(&self) -> u128 {
        self.sum_ns
    }

    /// The lower bound of the bucket that holds quantile `q` (the exact maximum for `q = 1`).
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if q >= 1.0 {
            return self.max_ns;
        }
        let target = ((self.samples as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= target {
                return lower_bound(b).min(self.max_ns);
            }
        }
        self.max_ns
    }
}

/// Latencies of one engine by op kind.
pub type Latencies = BTreeMap<&'static str, Histogram>;

/// Latency percentiles of one op kind on one engine, in microseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Slowest.
    pub max_us: f64,
    /// All samples together, in milliseconds: where the engine's time went.
    pub total_ms: f64,
}

impl From<&Histogram> for Percentiles {
    fn from(h: &Histogram) -> Self {
        let us = |q| h.quantile_ns(q) as f64 / 1000.0;
        Percentiles {
            count: h.samples(),
            p50_us: us(0.5),
            p90_us: us(0.9),
            p99_us: us(0.99),
            max_us: us(1.0),
            total_ms: h.sum_ns() as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_tight() {
        let mut last = 0;
        for ns in (0..100_000u64).chain([u64::MAX / 3, u64::MAX]) {
            let b = bucket(ns);
            assert!(b < BUCKETS && b >= last, "{ns}");
            assert!(lower_bound(b) <= ns, "{ns}");
            // Within 12.5% of the bucket's lower bound.
            assert!(ns - lower_bound(b) <= lower_bound(b) / 8 + 1, "{ns}");
            last = b;
        }
    }

    #[test]
    fn quantiles_match_the_samples_within_the_resolution() {
        let mut h = Histogram::default();
        for ns in 1..=10_000u64 {
            h.record(ns);
        }
        let p50 = h.quantile_ns(0.5) as f64;
        assert!((p50 - 5000.0).abs() / 5000.0 < 0.13, "{p50}");
        assert_eq!(h.quantile_ns(1.0), 10_000);
        assert_eq!(h.samples(), 10_000);
        // The same samples in another order make the same histogram.
        let mut g = Histogram::default();
        for ns in (1..=10_000u64).rev() {
            g.record(ns);
        }
        assert_eq!(g, h);
    }
}
