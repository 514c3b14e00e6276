//! Plot geometry: GeoJSON in, validated polygon and geodesic area out.
//!
//! Every polygon a user sends is checked before it is measured or stored:
//! closed rings of at least three distinct corners, coordinates that are
//! longitude/latitude, an extent an orchard can have, no ring crossing itself
//! or another ring, holes inside their shell and not inside each other. The
//! crossing test indexes the segments in an R-tree, so a ring of n corners is
//! checked in about n log n steps instead of comparing every pair of edges.

use crate::domain::Mu;
use crate::error::ErrorCode;
use geo::line_intersection::{line_intersection, LineIntersection};
use geo::orient::{Direction, Orient};
use geo::{Contains, Coord, GeodesicArea, Line, LineString, Polygon};
use rstar::{RTree, RTreeObject, AABB};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use std::fmt;
use std::time::{Duration, Instant};

/// Corners allowed in one plot's boundary (shell and holes together, counted
/// as positions written in the file, closing ones included).
///
/// A surveyed orchard plot has tens of corners; a boundary traced by a GPS
/// walk at one point a metre round a 100-mu plot has about a thousand. 5,000
/// is well beyond any real survey while keeping the worst case of one
/// polygon's checks to milliseconds.
pub const MAX_VERTICES_PER_POLYGON: usize = 5_000;

/// Corners allowed in one upload, all features together.
///
/// A township of a few thousand plots at a few dozen corners each is under
/// 100,000; 200,000 leaves room for detailed surveys while bounding one
/// upload's work to well under a second and its text to about 8 MB.
pub const MAX_VERTICES_PER_UPLOAD: usize = 200_000;

/// Features allowed in one upload: several times a township's plots.
pub const MAX_FEATURES_PER_UPLOAD: usize = 50_000;

/// Largest extent of one plot, in degrees of longitude or latitude (about
/// 50 km): an orchard plot is hectares, not provinces. Anything larger is a
/// typing error, swapped coordinates or several plots drawn as one.
pub const MAX_EXTENT_DEGREES: f64 = 0.5;

/// How long the checks of one upload may run before they are abandoned. The
/// limits above keep real work far below this; it guards against inputs that
/// are within the limits but pathological (thousands of long crossing edges).
pub const CHECK_TIME_LIMIT: Duration = Duration::from_secs(10);

/// When long geometry work must stop. `Deadline::none()` never expires.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<Instant>, Duration);

impl Deadline {
    pub fn after(limit: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(limit), limit)
    }

    pub fn none() -> Deadline {
        Deadline(None, Duration::ZERO)
    }

    pub fn check(&self) -> Result<(), GeometryError> {
        match self.0 {
            Some(t) if Instant::now() >= t => Err(GeometryError::TimedOut {
                seconds: self.1.as_secs(),
            }),
            _ => Ok(()),
        }
    }
}

/// Which ring of a polygon a message is about: the shell, or the k-th hole (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ring {
    Shell,
    Hole(usize),
}

impl Ring {
    fn of(index: usize) -> Ring {
        if index == 0 {
            Ring::Shell
        } else {
            Ring::Hole(index)
        }
    }
}

impl fmt::Display for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ring::Shell => write!(f, "外边界"),
            Ring::Hole(k) => write!(f, "第{k}个内洞"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    #[error("地块边界不是有效的GeoJSON：{0}")]
    NotGeoJson(String),
    #[error("地块边界必须是一个多边形（Polygon，或只含一个多边形的MultiPolygon）")]
    NotPolygon,
    #[error("地块边界有{count}个顶点，超过每块地{max}个的上限：实测地块通常只有几十到几百个顶点，请先抽稀（简化）边界再上传")]
    TooManyVertices { count: usize, max: usize },
    #[error("{ring}中有坐标不是[经度, 纬度]两个数")]
    BadPosition { ring: Ring },
    #[error("{ring}的坐标（经度{lon}，纬度{lat}）超出范围：经度应在-180到180之间，纬度应在-90到90之间（经度在前，纬度在后）")]
    OutOfRange { ring: Ring, lon: f64, lat: f64 },
    #[error("{ring}没有闭合：GeoJSON要求每个环的最后一个顶点与第一个顶点相同")]
    NotClosed { ring: Ring },
    #[error("{ring}只有{distinct}个不同的顶点，至少需要3个")]
    TooFewPoints { ring: Ring, distinct: usize },
    #[error("{ring}的面积为零：顶点都在一条直线上")]
    Degenerate { ring: Ring },
    #[error("地块边界跨越了180°经线（东西跨{lon_span:.3}°）：请检查经度的正负号")]
    CrossesAntimeridian { lon_span: f64 },
    #[error("地块边界范围过大：东西跨{lon_span:.3}°、南北跨{lat_span:.3}°，一个地块不应超过{max}°：请检查坐标是否写错，或是否把多个地块画成了一块")]
    TooLarge {
        lon_span: f64,
        lat_span: f64,
        max: f64,
    },
    #[error("{ring}自相交（约在经度{lon:.6}、纬度{lat:.6}处），请检查顶点顺序")]
    SelfIntersecting { ring: Ring, lon: f64, lat: f64 },
    #[error("第{hole}个内洞与外边界相交或接触（约在经度{lon:.6}、纬度{lat:.6}处）：内洞必须完全画在外边界以内")]
    HoleCrossesShell { hole: usize, lon: f64, lat: f64 },
    #[error("第{first}个内洞与第{second}个内洞相交或接触（约在经度{lon:.6}、纬度{lat:.6}处）")]
    HolesCross {
        first: usize,
        second: usize,
        lon: f64,
        lat: f64,
    },
    #[error("第{hole}个内洞不在外边界以内：内洞（地块中不投保的部分）必须画在地块边界里面")]
    HoleOutsideShell { hole: usize },
    #[error("第{inner}个内洞位于第{outer}个内洞之中：内洞不能嵌套")]
    HoleInsideHole { inner: usize, outer: usize },
    #[error(
        "地块边界检查超过{seconds}秒仍未完成，已停止：请把文件拆成较小的几份（例如按村）后再上传"
    )]
    TimedOut { seconds: u64 },
}

impl GeometryError {
    pub fn code(&self) -> ErrorCode {
        match self {
            GeometryError::NotGeoJson(_) => ErrorCode::BoundaryNotGeojson,
            GeometryError::NotPolygon => ErrorCode::BoundaryNotPolygon,
            GeometryError::TooManyVertices { .. } => ErrorCode::BoundaryTooManyVertices,
            GeometryError::BadPosition { .. } => ErrorCode::BoundaryBadPosition,
            GeometryError::OutOfRange { .. } => ErrorCode::BoundaryOutOfRange,
            GeometryError::NotClosed { .. } => ErrorCode::BoundaryNotClosed,
            GeometryError::TooFewPoints { .. } => ErrorCode::BoundaryTooFewPoints,
            GeometryError::Degenerate { .. } => ErrorCode::BoundaryDegenerate,
            GeometryError::CrossesAntimeridian { .. } => ErrorCode::BoundaryAntimeridian,
            GeometryError::TooLarge { .. } => ErrorCode::BoundaryTooLarge,
            GeometryError::SelfIntersecting { .. } => ErrorCode::BoundarySelfIntersecting,
            GeometryError::HoleCrossesShell { .. } => ErrorCode::BoundaryHoleCrossesShell,
            GeometryError::HolesCross { .. } => ErrorCode::BoundaryHolesCross,
            GeometryError::HoleOutsideShell { .. } => ErrorCode::BoundaryHoleOutsideShell,
            GeometryError::HoleInsideHole { .. } => ErrorCode::BoundaryHoleInHole,
            GeometryError::TimedOut { .. } => ErrorCode::BoundaryCheckTimeout,
        }
    }
}

/// Parse and check a GeoJSON Polygon (bare geometry, Feature, or a
/// one-feature collection) into a polygon of (lon, lat), shell
/// counter-clockwise and holes clockwise.
pub fn parse_polygon(text: &str) -> Result<Polygon<f64>, GeometryError> {
    polygon_from_geometry(&geometry_of(text)?, Deadline::none())
}

fn geometry_of(text: &str) -> Result<geojson::Geometry, GeometryError> {
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| GeometryError::NotGeoJson(e.to_string()))?;
    match gj {
        geojson::GeoJson::Geometry(g) => Ok(g),
        geojson::GeoJson::Feature(f) => f.geometry.ok_or(GeometryError::NotPolygon),
        geojson::GeoJson::FeatureCollection(fc) => fc
            .features
            .into_iter()
            .next()
            .and_then(|f| f.geometry)
            .ok_or(GeometryError::NotPolygon),
    }
}

/// A boundary already stored, for measuring distances to it. Boundaries were
/// checked when they were stored, but older rows predate some of the checks:
/// this reads any polygon without refusing it.
pub fn read_stored(text: &str) -> Result<Polygon<f64>, GeometryError> {
    match geo::Geometry::<f64>::try_from(geometry_of(text)?) {
        Ok(geo::Geometry::Polygon(p)) => Ok(p),
        Ok(geo::Geometry::MultiPolygon(mp)) if mp.0.len() == 1 => {
            mp.0.into_iter().next().ok_or(GeometryError::NotPolygon)
        }
        _ => Err(GeometryError::NotPolygon),
    }
}

/// Positions in a geometry of any kind, counted before any of them is checked,
/// so an oversized upload is refused without doing the work.
pub fn vertex_count(g: &geojson::Geometry) -> usize {
    fn count(v: &geojson::Value) -> usize {
        use geojson::Value;
        match v {
            Value::Point(_) => 1,
            Value::MultiPoint(ps) | Value::LineString(ps) => ps.len(),
            Value::MultiLineString(ls) | Value::Polygon(ls) => {
                ls.iter().fold(0usize, |n, l| n.saturating_add(l.len()))
            }
            Value::MultiPolygon(polys) => polys
                .iter()
                .flatten()
                .fold(0usize, |n, l| n.saturating_add(l.len())),
            Value::GeometryCollection(gs) => gs
                .iter()
                .fold(0usize, |n, g| n.saturating_add(count(&g.value))),
        }
    }
    count(&g.value)
}

/// Check a GeoJSON geometry as a plot boundary; see the module comment for the rules.
pub fn polygon_from_geometry(
    g: &geojson::Geometry,
    deadline: Deadline,
) -> Result<Polygon<f64>, GeometryError> {
    let rings: &[Vec<geojson::Position>] = match &g.value {
        geojson::Value::Polygon(rings) => rings,
        geojson::Value::MultiPolygon(polys) if polys.len() == 1 => {
            polys.first().ok_or(GeometryError::NotPolygon)?
        }
        _ => return Err(GeometryError::NotPolygon),
    };
    let count = vertex_count(g);
    if count > MAX_VERTICES_PER_POLYGON {
        return Err(GeometryError::TooManyVertices {
            count,
            max: MAX_VERTICES_PER_POLYGON,
        });
    }
    if rings.is_empty() {
        return Err(GeometryError::TooFewPoints {
            ring: Ring::Shell,
            distinct: 0,
        });
    }
    let rings = rings
        .iter()
        .enumerate()
        .map(|(i, r)| ring_corners(Ring::of(i), r))
        .collect::<Result<Vec<_>, _>>()?;
    check_extent(&rings)?;
    check_crossings(&rings, deadline)?;
    let mut rings = rings.into_iter().map(|mut corners| {
        if let Some(first) = corners.first().copied() {
            corners.push(first);
        }
        LineString(corners)
    });
    let shell = rings.next().ok_or(GeometryError::NotPolygon)?;
    let holes: Vec<LineString<f64>> = rings.collect();
    check_holes_inside(&shell, &holes, deadline)?;
    Ok(Polygon::new(shell, holes).orient(Direction::Default))
}

/// The distinct corners of a ring, open (closing corner dropped), with
/// repeated consecutive corners collapsed into one.
fn ring_corners(
    ring: Ring,
    positions: &[geojson::Position],
) -> Result<Vec<Coord<f64>>, GeometryError> {
    let mut corners = Vec::with_capacity(positions.len());
    for p in positions {
        let (Some(&lon), Some(&lat)) = (p.first(), p.get(1)) else {
            return Err(GeometryError::BadPosition { ring });
        };
        if !lon.is_finite()
            || !lat.is_finite()
            || !(-180.0..=180.0).contains(&lon)
            || !(-90.0..=90.0).contains(&lat)
        {
            return Err(GeometryError::OutOfRange { ring, lon, lat });
        }
        corners.push(Coord { x: lon, y: lat });
    }
    if corners.len() < 2 {
        return Err(GeometryError::TooFewPoints {
            ring,
            distinct: corners.len(),
        });
    }
    if corners.first() != corners.last() {
        return Err(GeometryError::NotClosed { ring });
    }
    corners.dedup();
    while corners.len() > 1 && corners.first() == corners.last() {
        corners.pop();
    }
    if corners.len() < 3 {
        return Err(GeometryError::TooFewPoints {
            ring,
            distinct: corners.len(),
        });
    }
    if all_on_one_line(&corners) {
        return Err(GeometryError::Degenerate { ring });
    }
    Ok(corners)
}

/// Exact orientation test: every corner on the line through the first two.
fn all_on_one_line(corners: &[Coord<f64>]) -> bool {
    use geo::kernels::{Kernel, Orientation, RobustKernel};
    match corners {
        [a, b, rest @ ..] => rest
            .iter()
            .all(|c| RobustKernel::orient2d(*a, *b, *c) == Orientation::Collinear),
        _ => true,
    }
}

fn check_extent(rings: &[Vec<Coord<f64>>]) -> Result<(), GeometryError> {
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for c in rings.iter().flatten() {
        min_x = min_x.min(c.x);
        max_x = max_x.max(c.x);
        min_y = min_y.min(c.y);
        max_y = max_y.max(c.y);
    }
    let (lon_span, lat_span) = (max_x - min_x, max_y - min_y);
    // A small plot drawn across the 180° meridian has corners near +180 and
    // near -180: read as numbers it spans almost the whole globe.
    if lon_span > 180.0 && lat_span <= MAX_EXTENT_DEGREES {
        return Err(GeometryError::CrossesAntimeridian { lon_span });
    }
    if lon_span > MAX_EXTENT_DEGREES || lat_span > MAX_EXTENT_DEGREES {
        return Err(GeometryError::TooLarge {
            lon_span,
            lat_span,
            max: MAX_EXTENT_DEGREES,
        });
    }
    Ok(())
}

/// One edge of one ring, as indexed in the R-tree.
#[derive(Debug, Clone, Copy)]
struct Edge {
    line: Line<f64>,
    ring: usize,
    index: usize,
    ring_len: usize,
}

impl RTreeObject for Edge {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(
            [self.line.start.x, self.line.start.y],
            [self.line.end.x, self.line.end.y],
        )
    }
}

/// No ring crosses or touches itself (other than consecutive edges meeting at
/// their shared corner) or any other ring. Each edge is compared only with
/// the edges whose bounding boxes meet its own, found through an R-tree.
fn check_crossings(rings: &[Vec<Coord<f64>>], deadline: Deadline) -> Result<(), GeometryError> {
    let edges: Vec<Edge> = rings
        .iter()
        .enumerate()
        .flat_map(|(ring, corners)| {
            let ring_len = corners.len();
            corners
                .iter()
                .zip(corners.iter().cycle().skip(1))
                .enumerate()
                .map(move |(index, (a, b))| Edge {
                    line: Line::new(*a, *b),
                    ring,
                    index,
                    ring_len,
                })
        })
        .collect();
    let tree = RTree::bulk_load(edges.clone());
    let mut compared: u64 = 0;
    for e in &edges {
        for other in tree.locate_in_envelope_intersecting(&e.envelope()) {
            compared += 1;
            if compared.is_multiple_of(4096) {
                deadline.check()?;
            }
            // Each pair once.
            if (other.ring, other.index) <= (e.ring, e.index) {
                continue;
            }
            let Some(hit) = line_intersection(e.line, other.line) else {
                continue;
            };
            let at = match hit {
                LineIntersection::SinglePoint { intersection, .. } => intersection,
                LineIntersection::Collinear { intersection } => intersection.start,
            };
            let (lon, lat) = (at.x, at.y);
            if e.ring == other.ring {
                let consecutive =
                    other.index == e.index + 1 || (e.index == 0 && other.index + 1 == e.ring_len);
                // Consecutive edges share a corner; they may not fold back
                // over each other (a spike).
                if consecutive && matches!(hit, LineIntersection::SinglePoint { .. }) {
                    continue;
                }
                return Err(GeometryError::SelfIntersecting {
                    ring: Ring::of(e.ring),
                    lon,
                    lat,
                });
            }
            return Err(if e.ring == 0 {
                GeometryError::HoleCrossesShell {
                    hole: other.ring,
                    lon,
                    lat,
                }
            } else {
                GeometryError::HolesCross {
                    first: e.ring,
                    second: other.ring,
                    lon,
                    lat,
                }
            });
        }
    }
    Ok(())
}

/// With no rings crossing or touching, a hole is inside the shell exactly when
/// one of its corners is, and inside another hole exactly when one of its
/// corners is inside that hole.
fn check_holes_inside(
    shell: &LineString<f64>,
    holes: &[LineString<f64>],
    deadline: Deadline,
) -> Result<(), GeometryError> {
    if holes.is_empty() {
        return Ok(());
    }
    let shell = Polygon::new(shell.clone(), vec![]);
    let hole_polygons: Vec<(Polygon<f64>, Option<geo::Rect<f64>>)> = holes
        .iter()
        .map(|h| {
            use geo::BoundingRect;
            (Polygon::new(h.clone(), vec![]), h.bounding_rect())
        })
        .collect();
    for (i, hole) in holes.iter().enumerate() {
        deadline.check()?;
        let Some(corner) = hole.0.first() else {
            continue;
        };
        if !shell.contains(corner) {
            return Err(GeometryError::HoleOutsideShell { hole: i + 1 });
        }
        let Some((_, Some(rect))) = hole_polygons.get(i) else {
            continue;
        };
        for (j, (other, other_rect)) in hole_polygons.iter().enumerate() {
            let Some(other_rect) = other_rect else {
                continue;
            };
            let may_contain = other_rect.min().x <= rect.min().x
                && other_rect.min().y <= rect.min().y
                && other_rect.max().x >= rect.max().x
                && other_rect.max().y >= rect.max().y;
            if i != j && may_contain && other.contains(corner) {
                return Err(GeometryError::HoleInsideHole {
                    inner: i + 1,
                    outer: j + 1,
                });
            }
        }
    }
    Ok(())
}

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
        let bow = r#"{"type":"Polygon","coordinates":[[[0,0],[0.1,0.1],[0.1,0],[0,0.1],[0,0]]]}"#;
        assert_eq!(
            parse_polygon(bow).unwrap_err().code(),
            "boundary_self_intersecting"
        );
        let line = r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#;
        assert_eq!(parse_polygon(line).unwrap_err(), GeometryError::NotPolygon);
        assert_eq!(
            parse_polygon("nope").unwrap_err().code(),
            "boundary_not_geojson"
        );
        let flat = r#"{"type":"Polygon","coordinates":[[[0,0],[0.1,0.1],[0,0]]]}"#;
        assert_eq!(
            parse_polygon(flat).unwrap_err(),
            GeometryError::TooFewPoints {
                ring: Ring::Shell,
                distinct: 2
            }
        );
    }

    const X0: f64 = 99.95;
    const Y0: f64 = 25.65;
    /// About 100 m in degrees of longitude and latitude near the demo county.
    const DX: f64 = 100.0 / 100_300.0;
    const DY: f64 = 100.0 / 110_800.0;

    /// A closed ring of the rectangle (x, y)–(x + w, y + h), counter-clockwise.
    fn rect(x: f64, y: f64, w: f64, h: f64) -> Vec<[f64; 2]> {
        vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    }

    fn polygon(rings: &[Vec<[f64; 2]>]) -> String {
        serde_json::json!({"type": "Polygon", "coordinates": rings}).to_string()
    }

    fn err(rings: &[Vec<[f64; 2]>]) -> GeometryError {
        parse_polygon(&polygon(rings)).unwrap_err()
    }

    fn mu(rings: &[Vec<[f64; 2]>]) -> Decimal {
        area_mu(&parse_polygon(&polygon(rings)).unwrap()).to_decimal()
    }

    #[test]
    fn a_hole_is_subtracted_and_must_lie_inside_its_shell() {
        let shell = rect(X0, Y0, DX, DY);
        // A 50 m square hole in the middle: 15 mu less a quarter.
        let hole = rect(X0 + DX / 4.0, Y0 + DY / 4.0, DX / 2.0, DY / 2.0);
        let m = mu(&[shell.clone(), hole.clone()]);
        assert!(m > Decimal::new(110, 1) && m < Decimal::new(115, 1), "{m}");
        // The same hole drawn counter-clockwise measures the same.
        let mut reversed = hole.clone();
        reversed.reverse();
        assert_eq!(mu(&[shell.clone(), reversed]), m);

        // Outside the shell (was stored as a negative area).
        let outside = rect(X0 + 3.0 * DX, Y0, DX / 2.0, DY / 2.0);
        assert_eq!(
            err(&[shell.clone(), outside]),
            GeometryError::HoleOutsideShell { hole: 1 }
        );
        // Larger than the shell, around it.
        let around = rect(X0 - DX, Y0 - DY, 3.0 * DX, 3.0 * DY);
        assert_eq!(
            err(&[shell.clone(), around]),
            GeometryError::HoleOutsideShell { hole: 1 }
        );
        // Crossing the shell's east edge.
        let crossing = rect(X0 + DX / 2.0, Y0 + DY / 4.0, DX, DY / 2.0);
        assert_eq!(
            err(&[shell.clone(), crossing]).code(),
            "boundary_hole_crosses_shell"
        );
        // Touching the shell from inside at a corner of the hole.
        let touching = rect(X0, Y0 + DY / 4.0, DX / 2.0, DY / 2.0);
        assert_eq!(
            err(&[shell.clone(), touching]).code(),
            "boundary_hole_crosses_shell"
        );
        // Two holes crossing each other, and one hole inside another.
        let h1 = rect(X0 + DX / 10.0, Y0 + DY / 10.0, DX / 2.0, DY / 2.0);
        let h2 = rect(X0 + DX / 4.0, Y0 + DY / 4.0, DX / 2.0, DY / 2.0);
        let e = err(&[shell.clone(), h1.clone(), h2]);
        assert_eq!(e.code(), "boundary_holes_cross", "{e}");
        assert!(e.to_string().contains("第1个内洞与第2个内洞"), "{e}");
        let small = rect(X0 + DX / 5.0, Y0 + DY / 5.0, DX / 10.0, DY / 10.0);
        assert_eq!(
            err(&[shell.clone(), small, h1]),
            GeometryError::HoleInsideHole { inner: 1, outer: 2 }
        );
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

    #[test]
    fn refuses_the_antimeridian_and_the_whole_world() {
        let across = vec![
            [179.999, 10.0],
            [-179.999, 10.0],
            [-179.999, 10.001],
            [179.999, 10.001],
            [179.999, 10.0],
        ];
        let e = err(&[across]);
        assert_eq!(e.code(), "boundary_antimeridian");
        assert!(e.to_string().contains("180°"), "{e}");
        let world = rect(-180.0, -90.0, 360.0, 180.0);
        let e = err(&[world]);
        assert_eq!(e.code(), "boundary_too_large");
        assert!(e.to_string().contains("0.5°"), "{e}");
        // A county-sized polygon is not a plot either.
        assert_eq!(err(&[rect(X0, Y0, 0.6, 0.1)]).code(), "boundary_too_large");
        // Just under the limit is accepted.
        assert!(parse_polygon(&polygon(&[rect(X0, Y0, 0.49, 0.49)])).is_ok());
    }

    #[test]
    fn refuses_out_of_range_and_unclosed_and_degenerate_rings() {
        let e = err(&[rect(X0, Y0, DX, DY), rect(X0, 1000.0, DX, DY)]);
        assert_eq!(
            e,
            GeometryError::OutOfRange {
                ring: Ring::Hole(1),
                lon: X0,
                lat: 1000.0
            }
        );
        assert!(e.to_string().contains("纬度1000"), "{e}");
        assert_eq!(
            err(&[rect(200.0, Y0, DX, DY)]).code(),
            "boundary_out_of_range"
        );
        let mut open = rect(X0, Y0, DX, DY);
        open.pop();
        assert_eq!(err(&[open]), GeometryError::NotClosed { ring: Ring::Shell });
        // Three corners on one line.
        let line = vec![[X0, Y0], [X0 + DX, Y0], [X0 + 2.0 * DX, Y0], [X0, Y0]];
        assert_eq!(
            err(&[line]),
            GeometryError::Degenerate { ring: Ring::Shell }
        );
        // Out and back along the same edge (a spike) on an otherwise good ring.
        let spike = vec![
            [X0, Y0],
            [X0 + DX, Y0],
            [X0 + 2.0 * DX, Y0],
            [X0 + DX, Y0],
            [X0 + DX, Y0 + DY],
            [X0, Y0],
        ];
        assert_eq!(err(&[spike]).code(), "boundary_self_intersecting");
        // A ring touching itself at a corner (figure of eight).
        let eight = vec![
            [X0, Y0],
            [X0 + DX, Y0 + DY],
            [X0 + 2.0 * DX, Y0],
            [X0 + 2.0 * DX, Y0 + DY],
            [X0 + DX, Y0 + DY],
            [X0, Y0 + DY],
            [X0, Y0],
        ];
        assert_eq!(err(&[eight]).code(), "boundary_self_intersecting");
        assert_eq!(
            parse_polygon(r#"{"type":"Polygon","coordinates":[]}"#)
                .unwrap_err()
                .code(),
            "boundary_too_few_points"
        );
        // geojson refuses short positions when parsing text; a geometry built
        // in code is still checked.
        let short = geojson::Geometry::new(geojson::Value::Polygon(vec![vec![
            vec![X0],
            vec![X0 + DX, Y0],
            vec![X0, Y0 + DY],
            vec![X0],
        ]]));
        assert_eq!(
            polygon_from_geometry(&short, Deadline::none()).unwrap_err(),
            GeometryError::BadPosition { ring: Ring::Shell }
        );
        // JSON has no NaN or infinity: such text is not GeoJSON at all.
        for bad in ["NaN", "1e999", "Infinity"] {
            let text = format!(
                r#"{{"type":"Polygon","coordinates":[[[{bad},0],[0,1],[1,1],[{bad},0]]]}}"#
            );
            assert!(parse_polygon(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn repeated_consecutive_corners_are_collapsed_and_measured_right() {
        let plain = rect(X0, Y0, DX, DY);
        let repeated = vec![
            [X0, Y0],
            [X0, Y0],
            [X0 + DX, Y0],
            [X0 + DX, Y0],
            [X0 + DX, Y0],
            [X0 + DX, Y0 + DY],
            [X0, Y0 + DY],
            [X0, Y0],
            [X0, Y0],
        ];
        let p = parse_polygon(&polygon(std::slice::from_ref(&repeated))).unwrap();
        assert_eq!(p.exterior().0.len(), 5, "four corners and the closing one");
        assert_eq!(mu(&[repeated]), mu(&[plain]));
        // Straight-through corners (three on a line, same direction) are fine.
        let midpoint = vec![
            [X0, Y0],
            [X0 + DX / 2.0, Y0],
            [X0 + DX, Y0],
            [X0 + DX, Y0 + DY],
            [X0, Y0 + DY],
            [X0, Y0],
        ];
        assert!(parse_polygon(&polygon(&[midpoint])).is_ok());
    }

    /// A regular n-gon of radius about 100 m round the demo county.
    fn circle(n: usize) -> Vec<[f64; 2]> {
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let t = i as f64 * std::f64::consts::TAU / n as f64;
                [X0 + DX * t.cos(), Y0 + DY * t.sin()]
            })
            .collect();
        ring.push(ring[0]);
        ring
    }

    #[test]
    fn vertex_limit_per_polygon() {
        assert!(parse_polygon(&polygon(&[circle(MAX_VERTICES_PER_POLYGON - 1)])).is_ok());
        let e = err(&[circle(MAX_VERTICES_PER_POLYGON)]);
        assert_eq!(
            e,
            GeometryError::TooManyVertices {
                count: MAX_VERTICES_PER_POLYGON + 1,
                max: MAX_VERTICES_PER_POLYGON
            }
        );
        assert!(
            e.to_string().contains("5001个顶点") && e.to_string().contains("5000个"),
            "{e}"
        );
    }

    #[test]
    fn a_60000_corner_polygon_is_checked_without_comparing_every_pair() {
        // Above the per-plot limit, so checked through the geometry directly:
        // the quadratic check took minutes on this.
        let g = geojson::Geometry::new(geojson::Value::Polygon(vec![circle(60_000)
            .into_iter()
            .map(|c| c.to_vec())
            .collect()]));
        let started = Instant::now();
        let rings = match &g.value {
            geojson::Value::Polygon(r) => r.clone(),
            _ => unreachable!(),
        };
        let corners = vec![ring_corners(Ring::Shell, &rings[0]).unwrap()];
        check_crossings(&corners, Deadline::after(Duration::from_secs(60))).unwrap();
        // Correctness only; the time is printed for the curious.
        eprintln!("60,000 corners checked in {:?}", started.elapsed());
        // One corner pulled across the ring is found.
        let mut bad = rings[0].clone();
        bad[30_000] = vec![X0 + 2.0 * DX, Y0];
        let corners = vec![ring_corners(Ring::Shell, &bad).unwrap()];
        assert_eq!(
            check_crossings(&corners, Deadline::none())
                .unwrap_err()
                .code(),
            "boundary_self_intersecting"
        );
    }

    #[test]
    fn an_expired_deadline_stops_the_check() {
        let rings = vec![ring_corners(
            Ring::Shell,
            &circle(20_000)
                .into_iter()
                .map(|c| c.to_vec())
                .collect::<Vec<_>>(),
        )
        .unwrap()];
        let e = check_crossings(&rings, Deadline::after(Duration::ZERO)).unwrap_err();
        assert_eq!(e.code(), "boundary_check_timeout");
        assert!(
            e.to_string().contains("10") || e.to_string().contains("0秒"),
            "{e}"
        );
    }

    #[test]
    fn multipolygon_of_one_and_counting_vertices() {
        let text =
            serde_json::json!({"type": "MultiPolygon", "coordinates": [[rect(X0, Y0, DX, DY)]]})
                .to_string();
        assert!(parse_polygon(&text).is_ok());
        let two = serde_json::json!({"type": "MultiPolygon", "coordinates": [[rect(X0, Y0, DX, DY)], [rect(X0 + DX * 2.0, Y0, DX, DY)]]}).to_string();
        assert_eq!(parse_polygon(&two).unwrap_err(), GeometryError::NotPolygon);
        let g: geojson::Geometry = two.parse().unwrap();
        assert_eq!(vertex_count(&g), 10);
    }

    #[test]
    fn stored_boundaries_are_read_without_the_new_checks() {
        let old = polygon(&[rect(X0, Y0, 1.0, 1.0)]);
        assert!(parse_polygon(&old).is_err());
        assert!(read_stored(&old).is_ok());
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
        let a = square(0.0, 0.0, 0.01);
        assert!(interiors_overlap(&a, &square(0.005, 0.005, 0.01)));
        assert!(
            interiors_overlap(&a, &square(0.0025, 0.0025, 0.005)),
            "inside counts"
        );
        assert!(
            !interiors_overlap(&a, &square(0.01, 0.0, 0.01)),
            "shared edge only"
        );
        assert!(!interiors_overlap(&a, &square(0.03, 0.03, 0.01)));
    }
}
