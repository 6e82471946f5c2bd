//! SVG bar charts of throughput, one panel per size: plain SVG text, no dependencies, so that
//! the charts render on any forge that shows the report.

use std::fmt::Write;

/// One bar: a label, a value (records/s) and a palette index.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub color: usize,
}

/// A panel: a title ("N = 10,000") and its bars, top to bottom.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub bars: Vec<Bar>,
}

const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f",
];
const WIDTH: f64 = 760.0;
const LABEL_W: f64 = 170.0;
const BAR_W: f64 = 450.0;
const ROW_H: f64 = 22.0;
const TITLE_H: f64 = 26.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Compact records/s: 1.23 M/s, 45.6 k/s, 789 /s.
pub fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M/s", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k/s", v / 1e3)
    } else {
        format!("{v:.0} /s")
    }
}

/// A chart titled `title`: each panel's bars on their own linear scale from zero (the
/// longest bar of a panel is its fastest engine), with the value printed beside each bar.
pub fn chart(title: &str, panels: &[Panel]) -> String {
    let rows: usize = panels.iter().map(|p| p.bars.len()).sum();
    let height = 40.0 + panels.len() as f64 * (TITLE_H + 8.0) + rows as f64 * ROW_H;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="22" font-size="15" font-weight="bold">{} (records/s, higher is better)</text>"#,
        escape(title)
    );
    let mut y = 40.0;
    for p in panels {
        let _ = writeln!(
            s,
            r#"<text x="10" y="{:.1}" font-weight="bold">{}</text>"#,
            y + 16.0,
            escape(&p.title)
        );
        y += TITLE_H;
        let max = p.bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
        for b in &p.bars {
            let w = if max > 0.0 {
                (b.value / max * BAR_W).max(1.0)
            } else {
                1.0
            };
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LABEL_W - 8.0,
                y + 15.0,
                escape(&b.label)
            );
            let _ = writeln!(
                s,
                r#"<rect x="{LABEL_W}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}"/>"#,
                y + 3.0,
                ROW_H - 6.0,
                PALETTE[b.color % PALETTE.len()]
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                LABEL_W + w + 6.0,
                y + 15.0,
                rate(b.value)
            );
            y += ROW_H;
        }
        y += 8.0;
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_fastest_of_their_panel_and_text_is_escaped() {
        let svg = chart(
            "a <b>",
            &[Panel {
                title: "N = 1,000".into(),
                bars: vec![
                    Bar {
                        label: "fast".into(),
                        value: 2_000_000.0,
                        color: 0,
                    },
                    Bar {
                        label: "slow & steady".into(),
                        value: 500_000.0,
                        color: 1,
                    },
                ],
            }],
        );
        assert!(svg.contains(&format!(r#"width="{:.1}""#, BAR_W)));
        assert!(svg.contains(&format!(r#"width="{:.1}""#, BAR_W / 4.0)));
        assert!(svg.contains("a &lt;b&gt;"));
        assert!(svg.contains("slow &amp; steady"));
        assert!(svg.contains("2.00 M/s") && svg.contains("500.0 k/s"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
