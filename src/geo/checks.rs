//! The checks a ring set must pass before it is measured: an orchard's
//! extent, no edge crossing another (edges indexed in an R-tree), holes
//! inside their shell and not inside each other.

use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{Contains, Coord, Line, LineString, Polygon};
use rstar::{RTree, RTreeObject, AABB};

use super::{Deadline, GeometryError, Ring, MAX_EXTENT_DEGREES};

pub(super) fn check_extent(rings: &[Vec<Coord<f64>>]) -> Result<(), GeometryError> {
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
pub(super) fn check_crossings(
    rings: &[Vec<Coord<f64>>],
    deadline: Deadline,
) -> Result<(), GeometryError> {
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
pub(super) fn check_holes_inside(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::parse::ring_corners;
    use crate::geo::parse_polygon;
    use crate::geo::test_support::*;
    use rust_decimal::Decimal;
    use std::time::{Duration, Instant};

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
}
