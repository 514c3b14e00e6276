//! Demo plots: variety, age, fruit and area drawn per plot, and the boundary
//! polygons placed round the village centre without overlapping.

use super::county::{DemoPlot, DemoVillage};
use super::rng::SplitMix64;
use std::f64::consts::{PI, TAU};

const SQ_M_PER_MU: f64 = 2000.0 / 3.0;
// Plot polygons sit on a small grid around the village centre. The spacing
// exceeds the largest possible polygon (15 mu stretched 1.25x, ~200 m across)
// so plots of one village never overlap.
const SLOT_SPACING_M: f64 = 250.0;

pub(super) fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

pub(super) fn make_plot(
    rng: &mut SplitMix64,
    code: String,
    village: &DemoVillage,
    polygon_slot: &mut u32,
) -> DemoPlot {
    let early = rng.chance(0.55);
    let min_age = if early { 5 } else { 10 };
    // Orchards skew young (planting boomed after 2005): min of two draws.
    let mature_age = |rng: &mut SplitMix64| rng.range(min_age, 40).min(rng.range(min_age, 40));

    // ~12% ineligible, split between too young, too few fruit and both; the
    // exact thresholds (age 5/10, fruit 270 vs 269) are planted on purpose so
    // the demo exercises off-by-one handling in the eligibility rules.
    let (tree_age, fruit_per_tree) = if rng.chance(0.12) {
        match rng.unit() {
            r if r < 0.4 => {
                let age = if rng.chance(0.3) {
                    min_age - 1
                } else {
                    rng.range(2, min_age - 1)
                };
                (age, rng.range(270, 420))
            }
            r if r < 0.8 => {
                let fruit = if rng.chance(0.3) {
                    269
                } else {
                    rng.range(80, 268)
                };
                (mature_age(rng), fruit)
            }
            _ => (rng.range(2, min_age - 1), rng.range(80, 269)),
        }
    } else {
        let age = if rng.chance(0.04) {
            min_age
        } else {
            mature_age(rng)
        };
        // Yield climbs with age until the 900 cap of the demo range.
        let fruit = if rng.chance(0.03) {
            270
        } else {
            rng.range(270, (380 + 22 * age).min(900))
        };
        (age, fruit)
    };

    // Log-normal areas (median 3.6 mu) match smallholder reality: many small
    // terraces, few large plots. Total lands a little under the 20000 mu target.
    let raw_mu = 3.6 * (0.55 * rng.normal()).exp();
    let cents = ((raw_mu * 100.0).round() as u32).clamp(30, 1200);
    // Growers often declare to one decimal; keep both forms in the data.
    let (area_mu, declared_cents) = if rng.chance(0.3) {
        let tenths = (cents + 5) / 10;
        (format!("{}.{}", tenths / 10, tenths % 10), tenths * 10)
    } else {
        (format!("{}.{:02}", cents / 100, cents % 100), cents)
    };

    let density = rng.range(20, 33);
    let tree_count = ((declared_cents * density + 50) / 100).max(1);

    let boundary = if rng.chance(0.15) {
        let declared_m2 = f64::from(declared_cents) / 100.0 * SQ_M_PER_MU;
        // One polygon in ten is drawn ~20% too large so the app has genuine
        // declared-vs-surveyed mismatches to flag.
        let factor = if rng.chance(0.1) {
            1.18 + rng.unit() * 0.06
        } else {
            0.98 + rng.unit() * 0.04
        };
        let ring = polygon(rng, village, *polygon_slot, declared_m2 * factor);
        *polygon_slot += 1;
        Some(ring)
    } else {
        None
    };

    DemoPlot {
        code,
        variety: if early { "early" } else { "late" }.to_string(),
        tree_age,
        tree_count,
        fruit_per_tree,
        area_mu,
        boundary,
    }
}

/// Metres per degree of (longitude, latitude) on the WGS84 ellipsoid. Over a
/// few hundred metres this local projection matches geodesic area to ~0.01%.
fn metres_per_degree(lat: f64) -> (f64, f64) {
    const A: f64 = 6_378_137.0;
    const E2: f64 = 6.694_379_990_14e-3;
    let phi = lat.to_radians();
    let w = (1.0 - E2 * phi.sin().powi(2)).sqrt();
    let prime_vertical = A / w;
    let meridian = A * (1.0 - E2) / (w * w * w);
    (
        prime_vertical * phi.cos() * PI / 180.0,
        meridian * PI / 180.0,
    )
}

fn shoelace(points: &[(f64, f64)]) -> f64 {
    // Each corner with the next, the last with the first.
    points
        .iter()
        .zip(points.iter().cycle().skip(1))
        .map(|(&(x1, y1), &(x2, y2))| x1 * y2 - x2 * y1)
        .sum::<f64>()
        / 2.0
}

/// Convex counter-clockwise ring of 4..=6 corners with the given area in m².
fn polygon(
    rng: &mut SplitMix64,
    village: &DemoVillage,
    slot: u32,
    area_m2: f64,
) -> Vec<(f64, f64)> {
    // Slot grid: three columns, rows alternating north/south of the centre.
    let col = f64::from(slot % 3) - 1.0;
    let row = slot / 3;
    let row_offset = f64::from(row.div_ceil(2)) * if row % 2 == 1 { 1.0 } else { -1.0 };
    let cx = col * SLOT_SPACING_M + rng.jitter(10.0);
    let cy = row_offset * SLOT_SPACING_M + rng.jitter(10.0);

    // Corners on an ellipse at increasing angles are always in convex
    // position and wind counter-clockwise; the jitter stays below half a step
    // so angles never cross.
    let corners = rng.range(4, 6);
    let step = TAU / f64::from(corners);
    let rotation = rng.unit() * TAU;
    let stretch = 1.0 + rng.unit() * 0.25;
    let unit_ring: Vec<(f64, f64)> = (0..corners)
        .map(|i| {
            let a = rotation + f64::from(i) * step + rng.jitter(0.2 * step);
            (stretch * a.cos(), a.sin() / stretch)
        })
        .collect();
    let scale = (area_m2 / shoelace(&unit_ring)).sqrt();

    let (m_lon, m_lat) = metres_per_degree(village.lat);
    let mut ring: Vec<(f64, f64)> = unit_ring
        .iter()
        .map(|&(x, y)| {
            (
                round_to(village.lon + (cx + x * scale) / m_lon, 7),
                round_to(village.lat + (cy + y * scale) / m_lat, 7),
            )
        })
        .collect();
    if let Some(&first) = ring.first() {
        ring.push(first);
    }
    ring
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::county::{generate, DemoCounty};
    use std::collections::HashSet;

    fn all_plots(c: &DemoCounty) -> impl Iterator<Item = &DemoPlot> {
        c.growers.iter().flat_map(|g| g.plots.iter())
    }

    fn eligible(p: &DemoPlot) -> bool {
        let min_age = if p.variety == "early" { 5 } else { 10 };
        p.tree_age >= min_age && p.fruit_per_tree >= 270
    }

    /// Area in m² using the same WGS84 local projection, centred on the ring.
    fn ring_area_m2(ring: &[(f64, f64)]) -> f64 {
        let lat0 = ring.iter().map(|p| p.1).sum::<f64>() / ring.len() as f64;
        let (m_lon, m_lat) = metres_per_degree(lat0);
        let (lon0, _) = ring[0];
        let pts: Vec<(f64, f64)> = ring[..ring.len() - 1]
            .iter()
            .map(|&(x, y)| ((x - lon0) * m_lon, (y - lat0) * m_lat))
            .collect();
        shoelace(&pts)
    }

    fn parse_area_cents(s: &str) -> Option<u32> {
        let (int, frac) = s.split_once('.')?;
        if int.is_empty()
            || !(1..=2).contains(&frac.len())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let frac_cents: u32 = if frac.len() == 1 {
            frac.parse::<u32>().ok()? * 10
        } else {
            frac.parse().ok()?
        };
        Some(int.parse::<u32>().ok()? * 100 + frac_cents)
    }

    #[test]
    fn plots_codes_areas_and_eligibility() {
        let c = generate();
        let plots: Vec<&DemoPlot> = all_plots(&c).collect();
        assert!((4000..=5000).contains(&plots.len()), "{}", plots.len());

        let mut codes = HashSet::new();
        for g in &c.growers {
            for p in &g.plots {
                assert!(codes.insert(p.code.clone()), "dup {}", p.code);
                let (village, seq) = p.code.split_once('-').unwrap();
                assert_eq!(village, g.village_code);
                assert_eq!(seq.len(), 4);
                assert!(seq.bytes().all(|b| b.is_ascii_digit()));
            }
        }

        let mut early = 0;
        for p in &plots {
            let cents = parse_area_cents(&p.area_mu).unwrap_or_else(|| panic!("{}", p.area_mu));
            assert!((30..=1200).contains(&cents), "{}", p.area_mu);
            assert!((2..=40).contains(&p.tree_age));
            assert!((80..=900).contains(&p.fruit_per_tree));
            assert!(p.tree_count >= 1);
            let per_mu = f64::from(p.tree_count) / (f64::from(cents) / 100.0);
            assert!(
                (18.0..=36.0).contains(&per_mu),
                "{} trees on {}",
                p.tree_count,
                p.area_mu
            );
            match p.variety.as_str() {
                "early" => early += 1,
                "late" => {}
                other => panic!("variety {other}"),
            }
        }
        let early_share = f64::from(early) / plots.len() as f64;
        assert!((0.5..=0.6).contains(&early_share), "{early_share}");

        let ineligible = plots.iter().filter(|p| !eligible(p)).count();
        let share = ineligible as f64 / plots.len() as f64;
        assert!((0.08..=0.16).contains(&share), "{share}");

        // The deliberate threshold cases must all be present.
        let has = |f: &dyn Fn(&DemoPlot) -> bool| plots.iter().any(|p| f(p));
        assert!(has(&|p| p.variety == "early"
            && p.tree_age == 5
            && eligible(p)));
        assert!(has(&|p| p.variety == "late"
            && p.tree_age == 10
            && eligible(p)));
        assert!(has(&|p| p.variety == "early" && p.tree_age == 4));
        assert!(has(&|p| p.variety == "late" && p.tree_age == 9));
        assert!(has(&|p| p.fruit_per_tree == 270 && eligible(p)));
        assert!(has(&|p| p.fruit_per_tree == 269));
    }

    #[test]
    fn boundaries() {
        let c = generate();
        let plots: Vec<&DemoPlot> = all_plots(&c).collect();
        let rings: Vec<(&DemoPlot, &Vec<(f64, f64)>)> = plots
            .iter()
            .filter_map(|p| p.boundary.as_ref().map(|b| (*p, b)))
            .collect();
        let share = rings.len() as f64 / plots.len() as f64;
        assert!((0.10..=0.20).contains(&share), "{share}");

        let mut mismatched = 0;
        for (p, ring) in &rings {
            assert!((5..=7).contains(&ring.len()));
            assert_eq!(ring.first(), ring.last(), "ring not closed");
            let corners = &ring[..ring.len() - 1];
            let distinct: HashSet<(u64, u64)> = corners
                .iter()
                .map(|&(x, y)| (x.to_bits(), y.to_bits()))
                .collect();
            assert_eq!(distinct.len(), corners.len());
            // Strictly convex and counter-clockwise: every turn is a left turn.
            for i in 0..corners.len() {
                let a = corners[i];
                let b = corners[(i + 1) % corners.len()];
                let d = corners[(i + 2) % corners.len()];
                let cross = (b.0 - a.0) * (d.1 - b.1) - (b.1 - a.1) * (d.0 - b.0);
                assert!(cross > 0.0, "{} not convex CCW", p.code);
            }
            let declared = f64::from(parse_area_cents(&p.area_mu).unwrap()) / 100.0 * SQ_M_PER_MU;
            let ratio = ring_area_m2(ring) / declared;
            if ratio > 1.1 {
                assert!((1.15..=1.26).contains(&ratio), "{} ratio {ratio}", p.code);
                mismatched += 1;
            } else {
                assert!((0.97..=1.03).contains(&ratio), "{} ratio {ratio}", p.code);
            }
        }
        let mismatch_share = f64::from(mismatched) / rings.len() as f64;
        assert!((0.04..=0.18).contains(&mismatch_share), "{mismatch_share}");

        // No two polygons overlap: compare bounding boxes pairwise.
        let boxes: Vec<(f64, f64, f64, f64)> = rings
            .iter()
            .map(|(_, r)| {
                r.iter().fold(
                    (f64::MAX, f64::MAX, f64::MIN, f64::MIN),
                    |(x0, y0, x1, y1), &(x, y)| (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
                )
            })
            .collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let apart = a.2 < b.0 || b.2 < a.0 || a.3 < b.1 || b.3 < a.1;
                assert!(apart, "overlapping polygons {a:?} {b:?}");
            }
        }
    }
}
