//! Text for people: abbreviated ops and outcomes, and the side-by-side description of a repro.

use std::fmt::Write;

use super::repro::Repro;

/// What the gate's report needs to show of a repro, at either level.
pub trait ReproText {
    /// Steps in the (shrunk) sequence.
    fn ops_len(&self) -> usize;
    /// The sequence, and the failing step with every engine's outcome side by side.
    fn describe(&self) -> String;
}

impl ReproText for Repro {
    fn ops_len(&self) -> usize {
        self.ops.len()
    }
    fn describe(&self) -> String {
        describe(self)
    }
}

/// The shrunk sequence, and the failing op with every engine's outcome side by side.
pub fn describe(repro: &Repro) -> String {
    let mut s = String::new();
    for (i, op) in repro.ops.iter().enumerate() {
        let _ = writeln!(s, "    {i:>3}: {}", abbreviate(&format!("{op:?}")));
    }
    if let Some(f) = &repro.finding {
        let _ = writeln!(s, "    outcomes of op {}:", f.op_index);
        for (engine, out) in &f.outcomes {
            let _ = writeln!(s, "      {engine:<18} {}", out.summary());
        }
    }
    s
}

/// Shortens runs of one repeated character (the 1025-byte ids) and very long lines.
pub fn abbreviate(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let mut j = i;
        while chars.get(j) == Some(&c) {
            j += 1;
        }
        if j - i > 64 {
            let _ = write!(out, "{c}…×{}", j - i);
        } else {
            out.extend(std::iter::repeat_n(c, j - i));
        }
        i = j;
    }
    if out.chars().count() > 600 {
        let cut: String = out.chars().take(600).collect();
        format!("{cut}… ({} chars)", out.chars().count())
    } else {
        out
    }
}
