//! Progress display for long runs: a bar on a terminal, a line per 10% elsewhere (or a line
//! per 30 s for an unbounded soak).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::options::Progress;

/// A progress display of one run.
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
    total: Option<u64>,
    lines: bool,
    what: &'static str,
    last_mark: AtomicU64,
    start: Instant,
}

impl Bar {
    /// A display for `total` cases (`None`: unbounded) of the run named `what`.
    pub fn new(p: Progress, total: Option<u64>, what: &'static str) -> Bar {
        let on = p == Progress::Auto;
        let tty = std::io::stderr().is_terminal();
        let bar = (on && tty).then(|| {
            let b = match total {
                Some(t) => indicatif::ProgressBar::new(t),
                None => indicatif::ProgressBar::new_spinner(),
            };
            let template = match total {
                Some(_) => "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} cases ({per_sec}, eta {eta})",
                None => "{spinner} [{elapsed_precise}] {pos} cases ({per_sec})",
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                b.set_style(style);
            }
            b
        });
        Bar {
            bar,
            total,
            lines: on && !tty,
            what,
            last_mark: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    /// `done` cases have finished.
    pub fn tick(&self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
            return;
        }
        if !self.lines {
            return;
        }
        // A mark is a tenth of the total, or 30 s of an unbounded run.
        let mark = match self.total {
            Some(0) => return,
            Some(t) => done.saturating_mul(10) / t,
            None => self.start.elapsed().as_secs() / 30,
        };
        if mark > self.last_mark.fetch_max(mark, Ordering::Relaxed) {
            let of = self.total.map_or(String::new(), |t| format!("/{t}"));
            eprintln!(
                "{}: {done}{of} cases after {:.1}s",
                self.what,
                self.start.elapsed().as_secs_f64()
            );
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
