//! A/B of two criterion baselines (`cargo bench -- --save-baseline NAME`): which benchmarks
//! changed beyond a threshold, and whether any regressed, for CI gating of engine changes.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::criterion::Measurement;

/// How one benchmark moved from the baseline to the candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub id: String,
    /// Median times, ns.
    pub baseline: f64,
    pub candidate: f64,
    /// `candidate / baseline - 1`: +0.25 is 25% slower.
    pub change: f64,
    pub verdict: Verdict,
}

/// The verdict on one benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Slower by more than the threshold, and the medians' 95% intervals do not overlap.
    Regressed,
    /// Faster by more than the threshold, intervals apart.
    Improved,
    /// Within the threshold, or the intervals overlap (noise).
    Unchanged,
}

/// The comparison of every benchmark present in both baselines.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub changes: Vec<Change>,
    /// Benchmark ids present in only one of the two.
    pub only_baseline: Vec<String>,
    pub only_candidate: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.verdict == Verdict::Regressed)
    }
    pub fn improvements(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.verdict == Verdict::Improved)
    }
}

/// Compares `candidate` with `baseline`; `threshold` is a fraction (0.10 = 10%).
///
/// A change counts only when the median moved by more than the threshold *and* the two
/// medians' 95% confidence intervals are disjoint: on a shared, noisy machine a large move
/// inside overlapping intervals is not evidence of anything.
pub fn compare(baseline: &[Measurement], candidate: &[Measurement], threshold: f64) -> Comparison {
    let index = |ms: &[Measurement]| -> BTreeMap<String, Measurement> {
        ms.iter().map(|m| (m.id(), m.clone())).collect()
    };
    let (a, b) = (index(baseline), index(candidate));
    let mut changes = Vec::new();
    for (id, base) in &a {
        let Some(cand) = b.get(id) else { continue };
        let (x, y) = (base.median, cand.median);
        let change = if x.point > 0.0 {
            y.point / x.point - 1.0
        } else {
            0.0
        };
        let verdict = if change > threshold && y.lower() > x.upper() {
            Verdict::Regressed
        } else if change < -threshold && y.upper() < x.lower() {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
        changes.push(Change {
            id: id.clone(),
            baseline: x.point,
            candidate: y.point,
            change,
            verdict,
        });
    }
    Comparison {
        changes,
        only_baseline: a.keys().filter(|k| !b.contains_key(*k)).cloned().collect(),
        only_candidate: b.keys().filter(|k| !a.contains_key(*k)).cloned().collect(),
    }
}

/// A duration in ns, in the unit that reads best.
pub fn duration(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The comparison as text for a terminal or a CI log.
pub fn render(c: &Comparison, baseline: &str, candidate: &str, threshold: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} benchmarks in both {baseline} and {candidate}; threshold {:.0}% with disjoint 95% intervals",
        c.changes.len(),
        threshold * 100.0
    );
    let moved: Vec<&Change> = c
        .changes
        .iter()
        .filter(|x| x.verdict != Verdict::Unchanged)
        .collect();
    if moved.is_empty() {
        let _ = writeln!(s, "no change beyond the threshold");
    } else {
        let _ = writeln!(
            s,
            "{:<44} {:>12} {:>12} {:>8}  verdict",
            "benchmark", baseline, candidate, "change"
        );
        for x in moved {
            let _ = writeln!(
                s,
                "{:<44} {:>12} {:>12} {:>+7.1}%  {}",
                x.id,
                duration(x.baseline),
                duration(x.candidate),
                x.change * 100.0,
                match x.verdict {
                    Verdict::Regressed => "REGRESSED",
                    Verdict::Improved => "improved",
                    Verdict::Unchanged => "",
                }
            );
        }
    }
    for (ids, only) in [(&c.only_baseline, baseline), (&c.only_candidate, candidate)] {
        if !ids.is_empty() {
            let _ = writeln!(s, "only in {only}: {}", ids.join(", "));
        }
    }
    let n = c.regressions().count();
    let _ = writeln!(
        s,
        "{n} regression{}, {} improvement{}",
        if n == 1 { "" } else { "s" },
        c.improvements().count(),
        if c.improvements().count() == 1 {
            ""
        } else {
            "s"
        }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::criterion::{Estimate, Interval};

    fn m(engine: &str, point: f64, spread: f64) -> Measurement {
        Measurement {
            group: "ingest".into(),
            engine: engine.into(),
            size: 1_000,
            median: Estimate {
                point,
                confidence_interval: Interval {
                    lower_bound: point - spread,
                    upper_bound: point + spread,
                },
            },
            elements: Some(1_000),
        }
    }

    #[test]
    fn verdicts_need_the_threshold_and_disjoint_intervals() {
        let base = [
            m("a", 100.0, 2.0),
            m("b", 100.0, 2.0),
            m("c", 100.0, 30.0),
            m("d", 100.0, 2.0),
        ];
        let cand = [
            m("a", 130.0, 2.0),
            m("b", 105.0, 1.0),
            m("c", 140.0, 30.0),
            m("d", 70.0, 2.0),
        ];
        let c = compare(&base, &cand, 0.10);
        let verdict = |e: &str| c.changes.iter().find(|x| x.id.contains(e)).unwrap().verdict;
        assert_eq!(verdict("/a/"), Verdict::Regressed);
        assert_eq!(verdict("/b/"), Verdict::Unchanged, "within the threshold");
        assert_eq!(verdict("/c/"), Verdict::Unchanged, "intervals overlap");
        assert_eq!(verdict("/d/"), Verdict::Improved);
        assert_eq!(c.regressions().count(), 1);
        let text = render(&c, "main", "pr", 0.10);
        assert!(text.contains("REGRESSED") && text.contains("+30.0%"));
        assert!(text.contains("1 regression, 1 improvement"));
    }

    #[test]
    fn benchmarks_in_one_baseline_only_are_listed() {
        let c = compare(&[m("a", 1.0, 0.1)], &[m("b", 1.0, 0.1)], 0.1);
        assert!(c.changes.is_empty());
        assert_eq!(c.only_baseline, vec!["ingest/a/1000"]);
        assert_eq!(c.only_candidate, vec!["ingest/b/1000"]);
    }
}
