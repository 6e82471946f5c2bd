//! The report as text: the human summary and JUnit XML (JSON is the report serialised).

use std::fmt::Write;

use super::concurrent::ConcurrentReport;
use super::report::{FailureReport, Report};
use super::stall::{StallAt, StallReport};
use crate::run::text::ReproText;

/// `s` escaped for XML text and attributes (JUnit output).
pub fn esc(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

impl<R: ReproText> Report<R> {
    /// "N of M cases" (M is "unbounded" for a soak).
    pub fn cases_line(&self) -> String {
        match self.cases_asked {
            Some(m) => format!("{} of {m} cases", self.cases_run),
            None => format!("{} cases (unbounded)", self.cases_run),
        }
    }

    /// The human summary: what ran, per engine ops/s and latency, coverage, findings.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "syncproof check --level {}: seed {} shard {}/{}: {}, {} ops in {:.1}s{}",
            self.level,
            self.seed,
            self.shard.index + 1,
            self.shard.count,
            self.cases_line(),
            self.ops_run,
            self.elapsed_secs,
            if self.stopped_by_time {
                " (stopped by the time budget)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            s,
            "  checked: {} engine-op applications against the reference in {:.1}s of sequences: {:.0}/s",
            self.checked_applications, self.sequence_secs, self.checked_per_sec
        );
        let worker_secs = self.sequence_secs * self.threads as f64;
        let busy_secs = self.engines_busy_secs();
        if worker_secs > 0.0 {
            let _ = writeln!(
                s,
                "  time: the engines under test were busy {:.1}s of the {} workers' {:.1}s ({:.0}%); \
                 the rest is the gate's own work (the reference, generation, comparison, stores)",
                busy_secs,
                self.threads,
                worker_secs,
                100.0 * busy_secs / worker_secs
            );
        }
        let _ = writeln!(s, "  stores: {}", self.stores.describe());
        if self.configurations.len() > self.engines.len() {
            let each: Vec<String> = self
                .configurations
                .iter()
                .map(|(l, n)| format!("{l} {n}"))
                .collect();
            let _ = writeln!(
                s,
                "  configurations (cases each, drawn per case): {}",
                each.join(", ")
            );
        }
        for e in &self.engines {
            let worst = e.latency.values().map(|p| p.p99_us).fold(0.0, f64::max);
            let _ = writeln!(
                s,
                "  {:<width$} {:>8} ops  {:>9.0} ops/s  worst p99 {:>9.1} µs",
                e.engine,
                e.ops,
                e.ops_per_sec,
                worst,
                width = self
                    .engines
                    .iter()
                    .map(|e| e.engine.chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(14)
            );
        }
        let _ = writeln!(
            s,
            "  latency p50/p99 µs by op (engines in the order above):"
        );
        for kind in self.op_kinds.keys() {
            let cells: Vec<String> = self
                .engines
                .iter()
                .map(|e| {
                    e.latency
                        .get(kind)
                        .map_or("-".into(), |p| format!("{:.0}/{:.0}", p.p50_us, p.p99_us))
                })
                .collect();
            let _ = writeln!(s, "    {:<24} {}", kind, cells.join("  "));
        }
        let kv = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, n)| format!("{k}={n}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = writeln!(s, "  coverage: op kinds {}", kv(&self.op_kinds));
        let _ = writeln!(s, "            error kinds {}", kv(&self.error_kinds));
        if !self.reach.is_empty() {
            let _ = writeln!(s, "            reach {}", kv(&self.reach));
        }
        if !self.structure.is_empty() {
            let each: Vec<String> = self
                .structure
                .iter()
                .map(|e| {
                    format!(
                        "{} {} {}/{} (max {})",
                        e.engine, e.counter, e.cases, e.of, e.max
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "            structure (cases that ended with it above zero): {}",
                each.join(", ")
            );
        }
        if self.level == "api" {
            let r = self.records_per_case;
            let shape = |k: &str| self.shapes.get(k).copied().unwrap_or(0);
            let _ = writeln!(
                s,
                "            records put per case: p50 {} p90 {} max {}; {} cases opened with a large tail sync, {} were swarm cases (op kinds left out)",
                r.p50,
                r.p90,
                r.max,
                shape("tail"),
                shape("swarm")
            );
        }
        let blind = self.blind_spots();
        if !blind.is_empty() {
            let _ = writeln!(s, "  blind spots: never exercised: {}", blind.join(", "));
        }
        if self.level == "api" {
            if self.contract_checks == 0 {
                let _ = writeln!(s, "  contract: not run");
            } else {
                let _ = writeln!(
                    s,
                    "  contract: {} checks on each of {} engines{}, {} failed",
                    self.contract_checks,
                    self.engines.len(),
                    if self.configurations.len() > self.engines.len() {
                        " (default configurations)"
                    } else {
                        ""
                    },
                    self.contract_failures.len()
                );
            }
        }
        for f in &self.contract_failures {
            let _ = writeln!(
                s,
                "    FAILED {} {} ({}): {}",
                f.engine,
                f.check,
                f.section,
                f.message.replace('\n', "\n      ")
            );
        }
        for e in &self.setup_errors {
            let _ = writeln!(s, "  SETUP ERROR {e}");
        }
        if self.too_few_cases() {
            let _ = writeln!(
                s,
                "  TOO FEW CASES: {} checked, at least {} needed to pass (--min-cases; a time budget cut the run short?)",
                self.cases_run, self.min_cases
            );
        }
        if let Some(f) = &self.failure {
            let _ = writeln!(
                s,
                "  DISAGREEMENT in case {} (shrunk from {} to {} ops):",
                f.case,
                f.original_ops,
                f.repro.ops_len()
            );
            if !f.shrink_reproduced {
                let _ = writeln!(
                    s,
                    "  FLAKY: the shrunk sequence no longer disagreed when run again, so the repro holds the unshrunk case; the engine's outcome depends on more than the ops (threads, time, leftover state)"
                );
            }
            s.push_str(&f.repro.describe());
            s.push_str(&f.saved_lines(""));
            if let Some(t) = &f.regression_test {
                let _ = writeln!(s, "  regression test:\n{t}");
            }
        }
        if let Some(c) = &self.concurrent {
            s.push_str(&c.summary());
        }
        let _ = writeln!(s, "{}", if self.passed() { "PASSED" } else { "FAILED" });
        s
    }

    /// JUnit XML: one test case per engine for the contract (when it ran), and one for the
    /// sequences (failed also when too few cases ran).
    pub fn junit(&self) -> String {
        let mut cases = Vec::new();
        if self.contract_checks > 0 {
            for e in &self.engines {
                let fails: Vec<String> = self
                    .contract_failures
                    .iter()
                    .filter(|f| f.engine == e.engine)
                    .map(|f| format!("{} ({}): {}", f.check, f.section, f.message))
                    .collect();
                let body = if fails.is_empty() {
                    String::new()
                } else {
                    format!(
                        "<failure message=\"{} contract checks failed\">{}</failure>",
                        fails.len(),
                        esc(&fails.join("\n"))
                    )
                };
                cases.push((
                    format!(
                        "<testcase classname=\"syncproof.contract\" name=\"{}\">{body}</testcase>",
                        esc(&e.engine)
                    ),
                    !fails.is_empty(),
                ));
            }
        }
        let seq_failure = if let Some(f) = &self.failure {
            Some(format!(
                "<failure message=\"disagreement in case {}\">{}</failure>",
                f.case,
                esc(&f.repro.describe())
            ))
        } else if !self.setup_errors.is_empty() {
            Some(format!(
                "<failure message=\"setup error\">{}</failure>",
                esc(&self.setup_errors.join("\n"))
            ))
        } else if self.too_few_cases() {
            Some(format!(
                "<failure message=\"too few cases: {} of at least {}\"></failure>",
                self.cases_run, self.min_cases
            ))
        } else {
            None
        };
        cases.push((
            format!(
                "<testcase classname=\"syncproof.{}\" name=\"seed {} shard {}/{}: {}\" time=\"{:.3}\">{}</testcase>",
                self.level,
                self.seed,
                self.shard.index + 1,
                self.shard.count,
                esc(&self.cases_line()),
                self.elapsed_secs,
                seq_failure.as_deref().unwrap_or("")
            ),
            seq_failure.is_some(),
        ));
        if let Some(c) = &self.concurrent {
            let failure = match (&c.failure, c.setup_errors.is_empty(), c.cases_run()) {
                (Some(f), _, _) => Some(format!(
                    "<failure message=\"concurrent case {} failed on {}\">{}</failure>",
                    f.case,
                    esc(&f.repro.engine),
                    esc(&f
                        .repro
                        .finding
                        .as_ref()
                        .map(|f| f.describe())
                        .unwrap_or_default())
                )),
                (None, false, _) => Some(format!(
                    "<failure message=\"setup error\">{}</failure>",
                    esc(&c.setup_errors.join("\n"))
                )),
                (None, true, 0) => {
                    Some("<failure message=\"no concurrent case ran\"></failure>".into())
                }
                _ => None,
            };
            cases.push((
                format!(
                    "<testcase classname=\"syncproof.concurrent\" name=\"{} cases, {} reads checked\" time=\"{:.3}\">{}</testcase>",
                    c.cases_run(),
                    c.reads_checked(),
                    c.secs,
                    failure.as_deref().unwrap_or("")
                ),
                failure.is_some(),
            ));
        }
        let failures = cases.iter().filter(|(_, failed)| *failed).count();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"syncproof check\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">\n{}\n</testsuite>\n",
            cases.len(),
            self.elapsed_secs,
            cases.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join("\n")
        )
    }
}

impl<R> FailureReport<R> {
    /// Where the repro went and how to replay it (`hint` follows the command), or why it
    /// could not be written.
    fn saved_lines(&self, hint: &str) -> String {
        let mut s = String::new();
        if let Some(p) = &self.repro_path {
            let _ = writeln!(
                s,
                "  repro written to {}; run `syncproof replay {}`{hint}",
                p.display(),
                p.display()
            );
        }
        if let Some(e) = &self.repro_error {
            let _ = writeln!(s, "  REPRO NOT WRITTEN: {e}");
        }
        s
    }
}

impl ConcurrentReport {
    /// The summary's lines for the phase.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let each: Vec<String> = self.cases.iter().map(|(l, n)| format!("{l} {n}")).collect();
        let _ = writeln!(
            s,
            "  concurrent: {} cases ({}), {} writer ops, {} reader threads each, in {:.1}s",
            self.cases_run(),
            each.join(", "),
            self.writer_ops,
            self.readers,
            self.secs
        );
        let kinds: Vec<String> = self
            .counts
            .reads
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        let _ = writeln!(
            s,
            "    {} reads checked against their window of states ({}); {} ran while a write did, windows of up to {} states",
            self.reads_checked(),
            kinds.join(" "),
            self.counts.overlapping,
            self.counts.widest
        );
        for (label, why) in &self.not_drawn {
            let _ = writeln!(
                s,
                "    not drawn (known upstream race; pin it with --engines {label} to run it): {label}: {why}"
            );
        }
        for e in &self.setup_errors {
            let _ = writeln!(s, "    SETUP ERROR {e}");
        }
        if self.setup_errors.is_empty() && self.failure.is_none() && self.cases_run() == 0 {
            let _ = writeln!(s, "    NO CONCURRENT CASE RAN");
        }
        if let Some(f) = &self.failure {
            let r = &f.repro;
            let _ = writeln!(
                s,
                "  CONCURRENCY FAILURE in concurrent case {} on {} (writer shrunk from {} to {} ops, {} readers; failed in {} of {} schedules when run again):",
                f.case,
                r.engine,
                f.original_ops,
                r.concurrent.writer.len(),
                r.concurrent.readers.len(),
                r.schedules.1,
                r.schedules.0
            );
            if !f.shrink_reproduced {
                let _ = writeln!(s, "  FLAKY: the shrunk case did not fail again; the repro holds the unshrunk case");
            }
            if let Some(finding) = &r.finding {
                for line in finding.describe().lines() {
                    let _ = writeln!(s, "    {line}");
                }
            }
            s.push_str(&f.saved_lines(" (it tries many schedules)"));
        }
        s
    }
}

impl StallReport {
    /// The stall as JUnit XML: one failing test case, so that a CI job that reads JUnit shows
    /// the finding even though the run ended before its report was built.
    pub fn junit(&self) -> String {
        let name = match &self.at {
            StallAt::Op {
                engine,
                case,
                op_index,
                ..
            } => format!("{engine} case {case} op {op_index}"),
            StallAt::Check { check } => format!("contract check {check}"),
            StallAt::Nowhere {} => "the process".into(),
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{what}\" tests=\"1\" failures=\"1\">\n  <testsuite name=\"{what}\" tests=\"1\" failures=\"1\">\n    <testcase classname=\"syncproof.stall\" name=\"{name}\"><failure message=\"STALL: {kind}\">{text}</failure></testcase>\n  </testsuite>\n</testsuites>\n",
            what = esc(&self.what),
            name = esc(&name),
            kind = esc(&self.kind.describe()),
            text = esc(&self.text()),
        )
    }
}
