//! Every pair of overlapping plots in a set, with the area they share.
//!
//! The plots' extents go into an R-tree (the `rstar` tree `geo` itself uses),
//! bulk-loaded once; each plot asks it only for the extents its own extent
//! meets, and only those candidates get the exact test (the DE-9IM relation:
//! interiors meet, not just edges) and then the exact shared area (polygon
//! intersection, measured geodesically). A county of 100,000 plots makes a
//! few hundred thousand candidate pairs, not five billion
//! (`cargo bench --bench checks`).

use geo::{BooleanOps, BoundingRect, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::measure::{area_mu, interiors_overlap};
use crate::domain::Mu;

/// Two plots of the input (by index, `first < second`) whose interiors share
/// ground, and how much.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    pub first: usize,
    pub second: usize,
    /// The shared area in mu (geodesic), `None` when the intersection could
    /// not be computed (the overlap itself is certain).
    pub area: Option<Mu>,
}

/// Every overlapping pair among `polygons`, in (first, second) order. `group`
/// gives each polygon a key (the scheme): only polygons of the same key are
/// compared, since a plot insured again in another year is the same orchard,
/// not a double insurance.
pub fn overlapping_pairs<K: PartialEq>(polygons: &[(K, Polygon<f64>)]) -> Vec<Overlap> {
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = polygons
        .iter()
        .enumerate()
        .filter_map(|(i, (_, p))| {
            let r = p.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    let mut found = Vec::new();
    for (i, (key, poly)) in polygons.iter().enumerate() {
        let Some(r) = poly.bounding_rect() else {
            continue;
        };
        let envelope = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        // Extents that only touch (neighbours sharing a boundary line) can't
        // hold a shared interior: skip them before the costly relation.
        let mut hits: Vec<usize> = tree
            .locate_in_envelope_intersecting(&envelope)
            .filter(|h| {
                let o = h.geom();
                let (lo, hi) = (o.lower(), o.upper());
                lo[0] < r.max().x && hi[0] > r.min().x && lo[1] < r.max().y && hi[1] > r.min().y
            })
            .map(|h| h.data)
            .filter(|&j| j > i)
            .collect();
        hits.sort_unstable();
        for j in hits {
            let Some((other_key, other)) = polygons.get(j) else {
                continue;
            };
            if other_key != key || !interiors_overlap(poly, other) {
                continue;
            }
            found.push(Overlap {
                first: i,
                second: j,
                area: shared_area(poly, other),
            });
        }
    }
    found
}

/// The area two polygons share. The boolean operation works on checked
/// polygons, but it is the one piece of geometry here that could still trip
/// on an unusual input: a failure leaves the area unknown, never a panic.
fn shared_area(a: &Polygon<f64>, b: &Polygon<f64>) -> Option<Mu> {
    let shared = std::panic::catch_unwind(|| a.intersection(b)).ok()?;
    Some(
        shared
            .0
            .iter()
            .map(area_mu)
            .fold(Mu::ZERO, |sum, m| sum + m),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    /// A square `s` degrees wide with its south-west corner at (x, y).
    fn square(x: f64, y: f64, s: f64) -> Polygon<f64> {
        polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s, y: y + s), (x: x, y: y + s), (x: x, y: y)]
    }

    #[test]
    fn finds_overlaps_not_shared_edges() {
        let s = 0.001; // about 100 m
        let polys = vec![
            (1, square(100.0, 25.0, s)),
            // Shares the east edge of the first only.
            (1, square(100.0 + s, 25.0, s)),
            // Overlaps the first by a quarter.
            (1, square(100.0 + s / 2.0, 25.0 + s / 2.0, s)),
            // Overlaps the first, but in another scheme.
            (2, square(100.0, 25.0, s)),
            // Far away.
            (1, square(101.0, 25.0, s)),
        ];
        let pairs = overlapping_pairs(&polys);
        let idx: Vec<(usize, usize)> = pairs.iter().map(|o| (o.first, o.second)).collect();
        assert_eq!(idx, [(0, 2), (1, 2)]);
        let whole = area_mu(&polys[0].1).to_decimal();
        let quarter = pairs[0].area.unwrap().to_decimal();
        let ratio = quarter / whole;
        assert!(
            ratio > rust_decimal::Decimal::new(24, 2) && ratio < rust_decimal::Decimal::new(26, 2),
            "{quarter} of {whole}"
        );
    }

    #[test]
    fn one_inside_another_counts() {
        let polys = vec![
            ((), square(100.0, 25.0, 0.002)),
            ((), square(100.0005, 25.0005, 0.0005)),
        ];
        let pairs = overlapping_pairs(&polys);
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].area, Some(area_mu(&polys[1].1)));
    }
}
