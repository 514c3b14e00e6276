//! Polygons for the geometry unit tests: squares, rectangles and circles
//! near the demo county, as GeoJSON text.

use rust_decimal::Decimal;

use super::{area_mu, parse_polygon, GeometryError};

/// A square of about 100 m × 100 m near the demo county (1 ha = 15 mu).
pub(super) fn square(clockwise: bool) -> String {
    let (x0, y0) = (99.95, 25.65);
    let dx = 100.0 / 100_300.0;
    let dy = 100.0 / 110_800.0;
    let mut pts = vec![
        [x0, y0],
        [x0 + dx, y0],
        [x0 + dx, y0 + dy],
        [x0, y0 + dy],
        [x0, y0],
    ];
    if clockwise {
        pts.reverse();
    }
    format!(
        r#"{{"type":"Polygon","coordinates":[{}]}}"#,
        serde_json::to_string(&pts).unwrap()
    )
}

pub(super) const X0: f64 = 99.95;
pub(super) const Y0: f64 = 25.65;
/// About 100 m in degrees of longitude and latitude near the demo county.
pub(super) const DX: f64 = 100.0 / 100_300.0;
pub(super) const DY: f64 = 100.0 / 110_800.0;

/// A closed ring of the rectangle (x, y)–(x + w, y + h), counter-clockwise.
pub(super) fn rect(x: f64, y: f64, w: f64, h: f64) -> Vec<[f64; 2]> {
    vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
}

pub(super) fn polygon(rings: &[Vec<[f64; 2]>]) -> String {
    serde_json::json!({"type": "Polygon", "coordinates": rings}).to_string()
}

pub(super) fn err(rings: &[Vec<[f64; 2]>]) -> GeometryError {
    parse_polygon(&polygon(rings)).unwrap_err()
}

pub(super) fn mu(rings: &[Vec<[f64; 2]>]) -> Decimal {
    area_mu(&parse_polygon(&polygon(rings)).unwrap()).to_decimal()
}

/// A regular n-gon of radius about 100 m round the demo county.
pub(super) fn circle(n: usize) -> Vec<[f64; 2]> {
    let mut ring: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let t = i as f64 * std::f64::consts::TAU / n as f64;
            [X0 + DX * t.cos(), Y0 + DY * t.sin()]
        })
        .collect();
    ring.push(ring[0]);
    ring
}
