//! GeoJSON text to a checked polygon: geometry or feature, one polygon, its
//! rings' corners cleaned and counted against the limits.

use geo::orient::{Direction, Orient};
use geo::{Coord, LineString, Polygon};

use super::checks::{check_crossings, check_extent, check_holes_inside};
use super::{Deadline, GeometryError, Ring, MAX_VERTICES_PER_POLYGON};

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
pub(super) fn ring_corners(
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::geo::test_support::*;

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
