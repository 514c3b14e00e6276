//! Overlap check benchmark (run: `cargo bench --bench checks`): 100,000 plot
//! polygons of a county (octagon-like plots of 8 corners, 30–50 m across, on
//! a 60 m grid; one in ten drawn flush against its east neighbour, sharing
//! the edge; one in ten with a corner reaching into the neighbour's extent
//! but not onto it; one in a hundred moved 35 m onto it), then the
//! checks' overlap search: an R-tree of the extents, envelope queries, the
//! exact relation for the candidates and the intersection area of the pairs
//! that overlap. Also timed: reading the polygons back from their stored
//! GeoJSON, which the report does first. Prints the load average, so a
//! figure taken on a busy machine says so.

use geo::{LineString, Polygon};
use std::time::Instant;

/// Deterministic noise in [0, 1).
fn noise(i: u64, salt: u64) -> f64 {
    let mut x = i
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn county(n: usize) -> (Vec<(i64, Polygon<f64>)>, usize) {
    // Metres to degrees near 25.6° N.
    let (mx, my) = (1.0 / 100_380.0, 1.0 / 110_800.0);
    let side = (n as f64).sqrt().ceil() as usize;
    let mut out = Vec::with_capacity(n);
    let mut planted = 0;
    for i in 0..n {
        let (col, row) = ((i % side) as f64, (i / side) as f64);
        let (mut x0, y0) = (col * 60.0, row * 60.0);
        let w = 30.0 + 20.0 * noise(i as u64, 1);
        let h = 30.0 + 20.0 * noise(i as u64, 2);
        let mut w_east = w;
        if i % 10 == 3 {
            // Flush against the east neighbour's west edge (x = 60 m on).
            w_east = 60.0;
        }
        if i % 100 == 7 && (col as usize) + 1 < side && i + 1 < n {
            // Moved 35 m east: at least 15 m onto the east neighbour.
            x0 += 35.0;
            planted += 1;
        }
        let c = 6.0; // the cut corners of the octagon
                     // One in ten has a spike to (62 m, 2 m): into the east neighbour's
                     // extent, but not onto it (past its cut south-west corner), so the
                     // exact relation has to decide.
        let spike = if i % 10 == 5 && (col as usize) + 1 < side {
            (x0 + 62.0, y0 + 2.0)
        } else {
            (x0 + w_east - c, y0)
        };
        let pts = [
            (x0 + c, y0),
            spike,
            (x0 + w_east, y0 + c),
            (x0 + w_east, y0 + h - c),
            (x0 + w_east - c, y0 + h),
            (x0 + c, y0 + h),
            (x0, y0 + h - c),
            (x0, y0 + c),
            (x0 + c, y0),
        ];
        let ring: LineString<f64> = pts
            .iter()
            .map(|&(x, y)| (99.5 + x * mx, 25.3 + y * my))
            .collect::<Vec<_>>()
            .into();
        out.push((1, Polygon::new(ring, vec![])));
    }
    (out, planted)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let n: usize = std::env::var("GUOBAO_BENCH_PLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runs: usize = std::env::var("GUOBAO_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    println!("load average before: {}", load_average());
    let (plots, planted) = county(n);
    let stored: Vec<String> = plots
        .iter()
        .map(|(_, p)| guobao::geo::to_geojson(p))
        .collect();
    let t = Instant::now();
    let read: Vec<(i64, Polygon<f64>)> = stored
        .iter()
        .map(|s| (1, guobao::geo::read_stored(s).expect("stored polygon")))
        .collect();
    println!(
        "read {} stored polygons back from GeoJSON: {:.2} s",
        read.len(),
        t.elapsed().as_secs_f64()
    );
    let mut best = f64::INFINITY;
    let mut found = 0;
    for run in 1..=runs {
        let t = Instant::now();
        let pairs = guobao::geo::overlapping_pairs(&read);
        let s = t.elapsed().as_secs_f64();
        found = pairs.len();
        println!("run {run}: {found} overlapping pairs among {n} plots in {s:.2} s");
        best = best.min(s);
    }
    println!(
        "overlap check, {n} plots ({planted} moved onto a neighbour, {} flush against one, {} reaching into a neighbour's extent): best of {runs} {best:.2} s, {found} pairs",
        n / 10,
        n / 10
    );
    assert_eq!(
        found, planted,
        "every planted overlap is found, nothing else"
    );
    println!("load average after: {}", load_average());
}
