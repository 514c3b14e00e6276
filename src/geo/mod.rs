//! Plot geometry: GeoJSON in, validated polygon and geodesic area out.

use crate::domain::Mu;
use geo::orient::{Direction, Orient};
use geo::{Coord, GeodesicArea, Line, Polygon};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    #[error("地块边界不是有效的GeoJSON：{0}")]
    NotGeoJson(String),
    #[error("地块边界必须是多边形（Polygon）")]
    NotPolygon,
    #[error("地块边界至少需要3个不同的顶点")]
    TooFewPoints,
    #[error("地块边界坐标超出经纬度范围")]
    OutOfRange,
    #[error("地块边界自相交，请检查顶点顺序")]
    SelfIntersecting,
}

impl GeometryError {
    pub fn code(&self) -> &'static str {
        match self {
            GeometryError::NotGeoJson(_) => "boundary_not_geojson",
            GeometryError::NotPolygon => "boundary_not_polygon",
            GeometryError::TooFewPoints => "boundary_too_few_points",
            GeometryError::OutOfRange => "boundary_out_of_range",
            GeometryError::SelfIntersecting => "boundary_self_intersecting",
        }
    }
}

/// Parse a GeoJSON Polygon (bare geometry, Feature, or a one-feature
/// collection) into a counter-clockwise polygon of (lon, lat).
pub fn parse_polygon(text: &str) -> Result<Polygon<f64>, GeometryError> {
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| GeometryError::NotGeoJson(e.to_string()))?;
    let geometry = match gj {
        geojson::GeoJson::Geometry(g) => g,
        geojson::GeoJson::Feature(f) => f.geometry.ok_or(GeometryError::NotPolygon)?,
        geojson::GeoJson::FeatureCollection(fc) => fc
            .features
            .into_iter()
            .next()
            .and_then(|f| f.geometry)
            .ok_or(GeometryError::NotPolygon)?,
    };
    let poly: Polygon<f64> = match geo::Geometry::<f64>::try_from(geometry) {
        Ok(geo::Geometry::Polygon(p)) => p,
        Ok(geo::Geometry::MultiPolygon(mp)) if mp.0.len() == 1 => {
            mp.0.into_iter().next().ok_or(GeometryError::NotPolygon)?
        }
        _ => return Err(GeometryError::NotPolygon),
    };
    validate(&poly)?;
    Ok(poly.orient(Direction::Default))
}

fn validate(poly: &Polygon<f64>) -> Result<(), GeometryError> {
    let ring: Vec<Coord<f64>> = poly.exterior().0.clone();
    let mut distinct = ring.clone();
    if distinct.len() > 1 && distinct.first() == distinct.last() {
        distinct.pop();
    }
    distinct.dedup();
    if distinct.len() < 3 {
        return Err(GeometryError::TooFewPoints);
    }
    if ring
        .iter()
        .any(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y))
    {
        return Err(GeometryError::OutOfRange);
    }
    // Rings of field plots have a handful of corners: the quadratic check is cheap.
    let edges: Vec<Line<f64>> = poly.exterior().lines().collect();
    let n = edges.len();
    for i in 0..n {
        for j in (i + 1)..n {
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            if adjacent {
                continue;
            }
            if segments_intersect(edges[i], edges[j]) {
                return Err(GeometryError::SelfIntersecting);
            }
        }
    }
    Ok(())
}

fn orientation(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

fn on_segment(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

fn segments_intersect(l1: Line<f64>, l2: Line<f64>) -> bool {
    let (p1, p2, p3, p4) = (l1.start, l1.end, l2.start, l2.end);
    let d1 = orientation(p3, p4, p1);
    let d2 = orientation(p3, p4, p2);
    let d3 = orientation(p1, p2, p3);
    let d4 = orientation(p1, p2, p4);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(p3, p4, p1))
        || (d2 == 0.0 && on_segment(p3, p4, p2))
        || (d3 == 0.0 && on_segment(p1, p2, p3))
        || (d4 == 0.0 && on_segment(p1, p2, p4))
}

/// Geodesic area on the WGS84 ellipsoid, in mu.
pub fn area_mu(poly: &Polygon<f64>) -> Mu {
    // The polygon was oriented counter-clockwise at parse time; a clockwise
    // ring would give the area of the rest of the Earth.
    let m2 = poly.orient(Direction::Default).geodesic_area_unsigned();
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
        for w in pts.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A square of about 100 m × 100 m near the demo county (1 ha = 15 mu).
    fn square(clockwise: bool) -> String {
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
    fn refuses_bad_geometry() {
        let bow = r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}"#;
        assert_eq!(
            parse_polygon(bow).unwrap_err(),
            GeometryError::SelfIntersecting
        );
        let line = r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#;
        assert_eq!(parse_polygon(line).unwrap_err(), GeometryError::NotPolygon);
        assert_eq!(
            parse_polygon("nope").unwrap_err().code(),
            "boundary_not_geojson"
        );
        let flat = r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}"#;
        assert_eq!(
            parse_polygon(flat).unwrap_err(),
            GeometryError::TooFewPoints
        );
    }

    #[test]
    fn accepts_features() {
        let f = format!(
            r#"{{"type":"Feature","properties":{{}},"geometry":{}}}"#,
            square(false)
        );
        assert!(parse_polygon(&f).is_ok());
    }
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
mod overlap_tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64) -> Polygon<f64> {
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
        let a = square(0.0, 0.0, 1.0);
        assert!(interiors_overlap(&a, &square(0.5, 0.5, 1.0)));
        assert!(
            interiors_overlap(&a, &square(0.25, 0.25, 0.5)),
            "inside counts"
        );
        assert!(
            !interiors_overlap(&a, &square(1.0, 0.0, 1.0)),
            "shared edge only"
        );
        assert!(!interiors_overlap(&a, &square(3.0, 3.0, 1.0)));
    }
}
