//! Charts drawn by the server as inline SVG: no script, no external library,
//! so they print and work offline. Bar lengths are integer arithmetic on the
//! exact values (fen, 1/10000 mu); the labels are the exact figures as text.

use std::fmt::Write;

pub struct Series {
    pub name: &'static str,
    pub color: &'static str,
}

/// What is due and what was paid, in the finance colours.
pub const DUE_AND_PAID: [Series; 2] = [
    Series {
        name: "应拨",
        color: "#2f6b2f",
    },
    Series {
        name: "已拨",
        color: "#0b57d0",
    },
];

/// One category (a township, a funding level): a value per series, each with
/// the text shown after its bar.
pub struct Group {
    pub label: String,
    pub values: Vec<(i64, String)>,
}

const WIDTH: i64 = 760;
const LABEL: i64 = 130;
const BAR_AREA: i64 = 470;
const BAR: i64 = 14;
const GAP: i64 = 10;
const TOP: i64 = 34;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Length of a bar for `v` when `max` fills the bar area; never negative.
fn length(v: i64, max: i64) -> i64 {
    if max <= 0 || v <= 0 {
        return 0;
    }
    (i128::from(v) * i128::from(BAR_AREA) / i128::from(max)) as i64
}

/// Horizontal grouped bars, one row of bars per group.
pub fn bars(title: &str, series: &[Series], groups: &[Group]) -> String {
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().map(|(v, _)| *v))
        .max()
        .unwrap_or(0);
    let per_group = series.len() as i64 * BAR + GAP;
    let height = TOP + groups.len() as i64 * per_group + 8;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
    // Legend.
    let mut x = LABEL;
    for s in series {
        let _ = write!(
            out,
            r#"<rect x="{x}" y="6" width="12" height="12" fill="{c}"/><text x="{tx}" y="17" font-size="13">{n}</text>"#,
            c = s.color,
            tx = x + 16,
            n = esc(s.name)
        );
        x += 16 + 14 * s.name.chars().count() as i64 + 20;
    }
    for (i, g) in groups.iter().enumerate() {
        let y0 = TOP + i as i64 * per_group;
        let _ = write!(
            out,
            r#"<text x="{lx}" y="{ly}" font-size="13" text-anchor="end">{l}</text>"#,
            lx = LABEL - 8,
            ly = y0 + series.len() as i64 * BAR / 2 + 5,
            l = esc(&g.label)
        );
        for (j, (s, (v, text))) in series.iter().zip(&g.values).enumerate() {
            let y = y0 + j as i64 * BAR;
            let w = length(*v, max);
            let _ = write!(
                out,
                r#"<rect x="{LABEL}" y="{y}" width="{w}" height="{h}" fill="{c}"><title>{n}：{t}</title></rect><text x="{tx}" y="{ty}" font-size="11">{t}</text>"#,
                h = BAR - 2,
                c = s.color,
                n = esc(s.name),
                t = esc(text),
                tx = LABEL + w + 4,
                ty = y + BAR - 4,
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_text_is_escaped() {
        let svg = bars(
            "应拨<与>已拨",
            &DUE_AND_PAID,
            &[Group {
                label: "甲&乙".into(),
                values: vec![(200, "2.00".into()), (50, "0.50".into())],
            }],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r#"width="470""#));
        assert!(svg.contains(r#"width="117""#));
        assert!(svg.contains("甲&amp;乙"));
        assert!(svg.contains("应拨&lt;与&gt;已拨"));
        assert!(!svg.contains("<script"));
        assert_eq!(length(-5, 100), 0);
        assert_eq!(length(5, 0), 0);
        assert_eq!(length(i64::MAX, i64::MAX), BAR_AREA);
    }
}
