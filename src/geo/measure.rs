//! What is asked of a checked polygon: its area in mu, where a point lies,
//! its GeoJSON, overlap with another plot, declared against measured area.

use geo::orient::{Direction, Orient};
use geo::{Coord, GeodesicArea, LineString, Polygon};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

use crate::domain::Mu;

/// Geodesic area on the WGS84 ellipsoid, in mu: the shell less its holes,
/// never negative.
pub fn area_mu(poly: &Polygon<f64>) -> Mu {
    // Each ring is measured counter-clockwise on its own: a clockwise ring
    // would give the area of the rest of the Earth.
    let ring_area = |ring: &LineString<f64>| {
        Polygon::new(ring.clone(), vec![])
            .orient(Direction::Default)
            .geodesic_area_unsigned()
    };
    let holes: f64 = poly.interiors().iter().map(ring_area).sum();
    let m2 = (ring_area(poly.exterior()) - holes).max(0.0);
    // Square metres are a measurement, not money: converting the float once,
    // here, to an exact decimal is where the measurement enters the system.
    let d = Decimal::from_f64(m2).unwrap_or(Decimal::ZERO).round_dp(2);
    Mu::from_square_metres(d)
}

/// Where a surveyed point lies relative to a plot: inside, or how far outside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointCheck {
    pub inside: bool,
    /// Metres from the point to the nearest edge; 0 when inside.
    pub distance_m: f64,
}

/// Is (lon, lat) inside the polygon, and if not how far from it in metres?
///
/// The ring is projected onto a plane tangent at the point (equirectangular);
/// over the few hundred metres that matter here the error is far below GPS
/// accuracy.
pub fn check_point(poly: &Polygon<f64>, lon: f64, lat: f64) -> PointCheck {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let k = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
    let cos_lat = lat.to_radians().cos();
    let project = |c: &Coord<f64>| ((c.x - lon) * k * cos_lat, (c.y - lat) * k);
    let mut inside = false;
    let mut best = f64::INFINITY;
    let rings = std::iter::once(poly.exterior()).chain(poly.interiors().iter());
    for (ring_index, ring) in rings.enumerate() {
        let pts: Vec<(f64, f64)> = ring.coords().map(project).collect();
        let mut ring_inside = false;
        for (&(x1, y1), &(x2, y2)) in pts.iter().zip(pts.iter().skip(1)) {
            // Ray casting towards +x from the origin.
            if (y1 > 0.0) != (y2 > 0.0) && x1 + (0.0 - y1) * (x2 - x1) / (y2 - y1) > 0.0 {
                ring_inside = !ring_inside;
            }
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len2 = dx * dx + dy * dy;
            let t = if len2 == 0.0 {
                0.0
            } else {
                (-(x1 * dx + y1 * dy) / len2).clamp(0.0, 1.0)
            };
            let (px, py) = (x1 + t * dx, y1 + t * dy);
            best = best.min((px * px + py * py).sqrt());
        }
        if ring_index == 0 {
            inside = ring_inside;
        } else if ring_inside {
            // Inside a hole is outside the plot.
            inside = false;
        }
    }
    PointCheck {
        inside,
        distance_m: if inside { 0.0 } else { best },
    }
}

/// The polygon back as a GeoJSON geometry string.
pub fn to_geojson(poly: &Polygon<f64>) -> String {
    let g = geojson::Geometry::from(poly);
    g.to_string()
}

/// Difference between declared and measured area, as a percentage of the declared.
pub fn area_difference_percent(declared: Mu, measured: Mu) -> Decimal {
    if declared.units() == 0 {
        return Decimal::ZERO;
    }
    let diff = Decimal::from((measured.units() - declared.units()).abs());
    (diff * Decimal::ONE_HUNDRED / Decimal::from(declared.units())).round_dp(1)
}

/// Two plots whose interiors share ground (one inside the other counts too):
/// the same orchard may be insured twice. Plots sharing only an edge don't.
pub fn interiors_overlap(a: &Polygon<f64>, b: &Polygon<f64>) -> bool {
    use geo::{BoundingRect, Intersects, Relate};
    match (a.bounding_rect(), b.bounding_rect()) {
        (Some(ra), Some(rb)) if ra.intersects(&rb) => {
            let m = a.relate(b);
            m.is_intersects() && !m.is_touches()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::parse_polygon;
    use crate::geo::test_support::*;

    #[test]
    fn point_inside_on_the_edge_and_outside() {
        let p = parse_polygon(&square(false)).unwrap();
        let (x0, y0) = (99.95, 25.65);
        let centre = check_point(&p, x0 + 50.0 / 100_300.0, y0 + 50.0 / 110_800.0);
        assert!(centre.inside);
        assert_eq!(centre.distance_m, 0.0);
        // 50 m east of the east edge (edge at ~100 m): about 50 m away.
        let east = check_point(&p, x0 + 150.0 / 100_300.0, y0 + 50.0 / 110_800.0);
        assert!(!east.inside);
        assert!((east.distance_m - 50.0).abs() < 1.5, "{}", east.distance_m);
        // 300 m south of the south-west corner.
        let south = check_point(&p, x0, y0 - 300.0 / 110_800.0);
        assert!(!south.inside);
        assert!(
            (south.distance_m - 300.0).abs() < 5.0,
            "{}",
            south.distance_m
        );
    }

    #[test]
    fn measures_area_in_mu_either_orientation() {
        for cw in [false, true] {
            let p = parse_polygon(&square(cw)).unwrap();
            let mu = area_mu(&p).to_decimal();
            assert!(mu > Decimal::from(14) && mu < Decimal::from(16), "{mu}");
        }
    }

    #[test]
    fn area_is_never_negative() {
        // Anything that could measure negative is refused before measuring;
        // measuring itself clamps whatever it is handed.
        let shell = LineString::from(vec![(0.0, 0.0), (0.001, 0.0), (0.001, 0.001), (0.0, 0.0)]);
        let hole = LineString::from(vec![(1.0, 1.0), (1.01, 1.0), (1.01, 1.01), (1.0, 1.0)]);
        let unchecked = Polygon::new(shell, vec![hole]);
        assert_eq!(area_mu(&unchecked).units(), 0);
    }

    fn square_at(x: f64, y: f64, s: f64) -> Polygon<f64> {
        let text = format!(
            r#"{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}"#,
            x + s,
            x + s,
            y + s,
            y + s
        );
        parse_polygon(&text).unwrap()
    }

    #[test]
    fn overlap_but_not_shared_edges() {
        let a = square_at(0.0, 0.0, 0.01);
        assert!(interiors_overlap(&a, &square_at(0.005, 0.005, 0.01)));
        assert!(
            interiors_overlap(&a, &square_at(0.0025, 0.0025, 0.005)),
            "inside counts"
        );
        assert!(
            !interiors_overlap(&a, &square_at(0.01, 0.0, 0.01)),
            "shared edge only"
        );
        assert!(!interiors_overlap(&a, &square_at(0.03, 0.03, 0.01)));
    }
}
