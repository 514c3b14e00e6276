//! Deterministic demo county for walkthroughs, screenshots and load tests.
//!
//! Everything is derived from one fixed seed, so a freshly seeded demo database
//! looks the same on every machine and tests can rely on stable counts. The
//! generator uses only `std` so it can be reused from tools and build scripts
//! without dragging in the application's dependency tree.

use std::collections::HashSet;
use std::f64::consts::{PI, TAU};

/// A fictional county in real walnut country (western Yunnan, near Yangbi).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCounty {
    pub code: String,
    pub name: String,
    pub townships: Vec<DemoTownship>,
    pub growers: Vec<DemoGrower>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoTownship {
    pub code: String,
    pub name: String,
    pub target_mu: u32,
    pub villages: Vec<DemoVillage>,
}

/// `lon`/`lat` is the village centre; it is only used to place plot polygons.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoVillage {
    pub code: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoGrower {
    pub township_code: String,
    pub village_code: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub bank_account: String,
    pub plots: Vec<DemoPlot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoPlot {
    pub code: String,
    pub variety: String,
    pub tree_age: u32,
    pub tree_count: u32,
    pub fruit_per_tree: u32,
    pub area_mu: String,
    pub boundary: Option<Vec<(f64, f64)>>,
}

const COUNTY_CODE: &str = "532999";
const COUNTY_NAME: &str = "云岭核桃示范县";
const SEED: u64 = 0x6775_6f62_616f_2d31; // "guobao-1": changing it reshuffles every demo record.
const GROWER_COUNT: usize = 3000;

// Bounding box of the county: about 0.5° x 0.5° around lon 99.95, lat 25.65.
const WEST: f64 = 99.70;
const SOUTH: f64 = 25.40;
const SPAN: f64 = 0.5;
const GRID_COLS: usize = 5;
const GRID_ROWS: usize = 3;

/// (name, target mu, number of villages). Targets roughly follow village
/// counts so enrolment per township looks proportionate; they sum to 20000
/// and village counts to 164 (both checked in tests).
const TOWNSHIPS: [(&str, u32, usize); 15] = [
    ("苍山镇", 1460, 12),
    ("漾江镇", 1100, 9),
    ("核桃坪乡", 1800, 15),
    ("太和镇", 900, 7),
    ("松坪乡", 1340, 11),
    ("金牛镇", 1580, 13),
    ("鹤云乡", 980, 8),
    ("石门镇", 1700, 14),
    ("白竹乡", 1220, 10),
    ("清水镇", 1450, 12),
    ("新庄乡", 1120, 9),
    ("平坡镇", 1330, 11),
    ("龙潭乡", 920, 7),
    ("柏木镇", 1560, 13),
    ("双河乡", 1540, 13),
];

const VILLAGE_HEADS: &[&str] = &[
    "松", "石", "河", "水", "桃", "梨", "竹", "柏", "杉", "青", "白", "黑", "红", "金", "银", "龙",
    "凤", "马", "羊", "鹤", "云", "岩", "沙", "平", "安", "和", "兴", "富", "团", "清", "芦", "菜",
    "茶", "麦", "栗", "秧", "油", "核", "椿", "樱",
];
const VILLAGE_TAILS: &[&str] = &[
    "坪", "坡", "箐", "营", "庄", "寨", "场", "田", "塘", "河", "沟", "岭", "林", "湾", "哨", "甸",
    "登", "邑", "厂", "坝", "头", "脚", "口", "溪", "街", "地", "冲", "洼",
];
// Directional prefixes are how real neighbouring villages are told apart (上村/下村).
const VILLAGE_PREFIXES: &[&str] = &["上", "下", "大", "小", "新", "老", "中"];

// Repetition weights the draw: 杨, 李, 张 and the Bai/Yi surnames 字, 段, 茶
// dominate rosters in this part of Yunnan.
const SURNAMES: &[&str] = &[
    "杨", "杨", "杨", "杨", "李", "李", "李", "张", "张", "字", "字", "罗", "罗", "赵", "赵", "王",
    "王", "段", "段", "茶", "茶", "左", "鲁", "施", "苏", "何", "董", "尹", "自", "普", "毕", "杞",
    "陈", "刘", "马", "周", "许", "常", "起", "熊",
];
const MALE_GIVEN: &[&str] = &[
    "国", "建", "华", "明", "军", "志", "强", "文", "学", "德", "成", "林", "海", "忠", "荣", "兴",
    "福", "贵", "春", "顺", "发", "昌", "金", "永", "光", "正", "开", "才", "云", "宝", "树", "庆",
    "武", "平", "生", "龙", "财", "祥", "富", "有",
];
const FEMALE_GIVEN: &[&str] = &[
    "秀", "芳", "英", "兰", "丽", "美", "玉", "凤", "珍", "梅", "琼", "萍", "艳", "燕", "娟", "花",
    "桂", "翠", "莲", "菊", "仙", "芬", "香", "慧", "琴", "月", "彩", "红", "霞", "春",
];

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "191", "193", "195", "198", "199",
];
// Real debit-card BINs (ABC 622848, CCB 621700) so imported accounts look like
// the rural cards subsidies are actually paid into.
const BANK_BINS: &[&str] = &["622848", "621700"];

const SQ_M_PER_MU: f64 = 2000.0 / 3.0;
// Plot polygons sit on a small grid around the village centre. The spacing
// exceeds the largest possible polygon (15 mu stretched 1.25x, ~200 m across)
// so plots of one village never overlap.
const SLOT_SPACING_M: f64 = 250.0;

/// splitmix64: tiny, well-distributed, and needs no crate or OS entropy.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi]. Modulo bias is ~1e-17 for these tiny ranges.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        debug_assert!(lo <= hi);
        lo + (self.next_u64() % (u64::from(hi - lo) + 1)) as u32
    }

    /// Uniform in [-half, half].
    fn jitter(&mut self, half: f64) -> f64 {
        (self.unit() * 2.0 - 1.0) * half
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items` (all the tables passed here are non-empty constants).
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let draw = self.next_u64();
        draw.checked_rem(items.len() as u64)
            .and_then(|i| items.get(i as usize))
            .copied()
            .unwrap_or_default()
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next_u64() % 10) as u8))
            .collect()
    }

    /// Standard normal via Box–Muller.
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1], keeps ln finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }
}

/// Builds the demo county. Deterministic: every call returns identical data.
pub fn generate() -> DemoCounty {
    let mut rng = SplitMix64(SEED);
    let townships = build_townships(&mut rng);
    let growers = build_growers(&mut rng, &townships);
    DemoCounty {
        code: COUNTY_CODE.to_string(),
        name: COUNTY_NAME.to_string(),
        townships,
        growers,
    }
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

fn build_townships(rng: &mut SplitMix64) -> Vec<DemoTownship> {
    let cell_w = SPAN / GRID_COLS as f64;
    let cell_h = SPAN / GRID_ROWS as f64;
    let mut used_names = HashSet::new();

    TOWNSHIPS
        .iter()
        .enumerate()
        .map(|(i, &(name, target_mu, village_count))| {
            let code = format!("{COUNTY_CODE}{:03}", 101 + i);
            // One grid cell per township keeps its villages clustered and
            // leaves a gap between townships; the jitter hides the grid.
            let col = (i % GRID_COLS) as f64;
            let row = (i / GRID_COLS) as f64;
            let centre_lon = WEST + (col + 0.5) * cell_w + rng.jitter(0.008);
            let centre_lat = SOUTH + (row + 0.5) * cell_h + rng.jitter(0.01);

            // Villages take random slots of a 4x4 sub-grid; slot spacing minus
            // jitter still exceeds the extent of a village's polygon field.
            let mut slots: Vec<usize> = (0..16).collect();
            for k in (1..slots.len()).rev() {
                let j = (rng.next_u64() % (k as u64 + 1)) as usize;
                slots.swap(k, j);
            }
            let villages = slots
                .iter()
                .take(village_count)
                .enumerate()
                .map(|(v, &slot)| {
                    let sc = (slot % 4) as f64 - 1.5;
                    let sr = (slot / 4) as f64 - 1.5;
                    DemoVillage {
                        code: format!("{code}{:03}", 201 + v),
                        name: village_name(rng, &mut used_names),
                        lon: round_to(centre_lon + sc * 0.02 + rng.jitter(0.006), 6),
                        lat: round_to(centre_lat + sr * 0.035 + rng.jitter(0.01), 6),
                    }
                })
                .collect();

            DemoTownship {
                code,
                name: name.to_string(),
                target_mu,
                villages,
            }
        })
        .collect()
}

fn village_name(rng: &mut SplitMix64, used: &mut HashSet<String>) -> String {
    loop {
        let head = rng.pick(VILLAGE_HEADS);
        let tail = rng.pick(VILLAGE_TAILS);
        if head == tail {
            continue; // "河河村" reads as a typo
        }
        let prefix = if rng.chance(0.2) {
            rng.pick(VILLAGE_PREFIXES)
        } else {
            ""
        };
        let name = format!("{prefix}{head}{tail}村");
        if used.insert(name.clone()) {
            return name;
        }
    }
}

fn build_growers(rng: &mut SplitMix64, townships: &[DemoTownship]) -> Vec<DemoGrower> {
    // Growers are split across townships in proportion to their targets
    // (largest remainder), so enrolled area lands near each township's target
    // instead of drifting wildly with the random draw.
    let total_target: u32 = townships.iter().map(|t| t.target_mu).sum();
    let exact: Vec<(usize, usize)> = townships
        .iter()
        .map(|t| {
            let share = GROWER_COUNT * t.target_mu as usize;
            (share / total_target as usize, share % total_target as usize)
        })
        .collect();
    let mut quotas: Vec<usize> = exact.iter().map(|e| e.0).collect();
    // (township index, remainder), largest remainder first; the sort is
    // stable, so ties stay in township order.
    let mut by_remainder: Vec<(usize, usize)> = exact.iter().map(|e| e.1).enumerate().collect();
    by_remainder.sort_by_key(|&(_, remainder)| std::cmp::Reverse(remainder));
    let leftover = GROWER_COUNT - quotas.iter().sum::<usize>();
    for &(t, _) in by_remainder.iter().take(leftover) {
        if let Some(quota) = quotas.get_mut(t) {
            *quota += 1;
        }
    }

    // (township index, village index) in code order; indices into this list
    // identify a village below.
    let mut villages: Vec<(&DemoTownship, &DemoVillage)> = Vec::new();
    let mut assignment: Vec<usize> = Vec::with_capacity(GROWER_COUNT);
    for (township, &quota) in townships.iter().zip(&quotas) {
        let first = villages.len();
        villages.extend(township.villages.iter().map(|v| (township, v)));
        // Uneven village weights make some villages clearly bigger walnut
        // producers; every village still gets one grower so none looks empty.
        let weights: Vec<f64> = township.villages.iter().map(|_| 0.3 + rng.unit()).collect();
        let total: f64 = weights.iter().sum();
        assignment.extend(first..villages.len());
        for _ in township.villages.len()..quota {
            let mut r = rng.unit() * total;
            let mut chosen = weights.len() - 1;
            for (v, w) in weights.iter().enumerate() {
                if r < *w {
                    chosen = v;
                    break;
                }
                r -= w;
            }
            assignment.push(first + chosen);
        }
    }
    // Grouping growers by village makes plot sequence numbers run in roster order.
    assignment.sort_unstable();

    // Per village: (last plot sequence number, next polygon slot).
    let mut counters = vec![(0u32, 0u32); villages.len()];
    let mut seen_ids = HashSet::new();
    let mut seen_phones = HashSet::new();
    let mut seen_accounts = HashSet::new();

    // Every index in `assignment` came from `villages` above.
    assignment
        .into_iter()
        .filter_map(|vi| {
            let &(township, village) = villages.get(vi)?;
            let (plot_seq, polygon_slot) = counters.get_mut(vi)?;
            // Registered policy holders are mostly household heads, hence male-skewed.
            let male = rng.chance(0.7);
            let name = person_name(rng, male);
            let id_number = id_number(rng, &mut seen_ids, male);
            let phone = unique(&mut seen_phones, || {
                format!("{}{}", rng.pick(MOBILE_PREFIXES), rng.digits(8))
            });
            let bank_account = unique(&mut seen_accounts, || {
                let payload = format!("{}{}", rng.pick(BANK_BINS), rng.digits(12));
                let check = luhn_check_digit(&payload);
                format!("{payload}{check}")
            });

            let plot_count = match rng.unit() {
                r if r < 0.6 => 1,
                r if r < 0.9 => 2,
                _ => 3,
            };
            let plots = (0..plot_count)
                .map(|_| {
                    *plot_seq += 1;
                    let code = format!("{}-{:04}", village.code, plot_seq);
                    make_plot(rng, code, village, polygon_slot)
                })
                .collect();

            Some(DemoGrower {
                township_code: township.code.clone(),
                village_code: village.code.clone(),
                name,
                id_number,
                phone,
                bank_account,
                plots,
            })
        })
        .collect()
}

fn unique(seen: &mut HashSet<String>, mut make: impl FnMut() -> String) -> String {
    loop {
        let candidate = make();
        if seen.insert(candidate.clone()) {
            return candidate;
        }
    }
}

fn person_name(rng: &mut SplitMix64, male: bool) -> String {
    let pool = if male { MALE_GIVEN } else { FEMALE_GIVEN };
    let surname = rng.pick(SURNAMES);
    let first = rng.pick(pool);
    if rng.chance(0.3) {
        return format!("{surname}{first}");
    }
    let second = loop {
        let c = rng.pick(pool);
        if c != first {
            break c;
        }
    };
    format!("{surname}{first}{second}")
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn id_number(rng: &mut SplitMix64, seen: &mut HashSet<String>, male: bool) -> String {
    let body = unique(seen, || {
        let year = rng.range(1950, 1995);
        let month = rng.range(1, 12);
        let day = rng.range(1, days_in_month(year, month));
        // GB 11643: odd sequence = male, even = female; 000 is never issued.
        let seq = if male {
            rng.range(0, 499) * 2 + 1
        } else {
            rng.range(1, 499) * 2
        };
        format!("{COUNTY_CODE}{year:04}{month:02}{day:02}{seq:03}")
    });
    // The body is always 17 digits, so it always has a check character.
    let check = crate::domain::id_number::check_char(&body)
        .map(String::from)
        .unwrap_or_default();
    format!("{body}{check}")
}

/// Luhn digit so account numbers pass the same sanity check banks apply.
fn luhn_check_digit(payload: &str) -> u32 {
    let sum: u32 = payload
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn make_plot(
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
    fn townships_and_villages() {
        let c = generate();
        assert_eq!(c.code, "532999");
        assert_eq!(c.townships.len(), 15);
        let villages: usize = c.townships.iter().map(|t| t.villages.len()).sum();
        assert_eq!(villages, 164);
        assert_eq!(c.townships.iter().map(|t| t.target_mu).sum::<u32>(), 20000);

        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        let mut township_names = HashSet::new();
        for t in &c.townships {
            assert!((900..=1800).contains(&t.target_mu));
            assert!((7..=15).contains(&t.villages.len()));
            assert!(t.code.len() == 9 && t.code.starts_with(&c.code));
            assert!(t.name.ends_with('镇') || t.name.ends_with('乡'));
            assert!(township_names.insert(t.name.clone()));
            for v in &t.villages {
                assert_eq!(v.code.len(), 12);
                assert!(v.code.starts_with(&t.code));
                assert!(v.name.ends_with('村'));
                assert!(codes.insert(v.code.clone()), "duplicate {}", v.code);
                assert!(names.insert(v.name.clone()), "duplicate {}", v.name);
                assert!((99.70..=100.20).contains(&v.lon), "{}", v.lon);
                assert!((25.40..=25.90).contains(&v.lat), "{}", v.lat);
            }
        }
    }

    #[test]
    fn id_numbers_valid_and_unique() {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let checks = b"10X98765432";
        let c = generate();
        let mut seen = HashSet::new();
        for g in &c.growers {
            let id = g.id_number.as_bytes();
            assert_eq!(id.len(), 18, "{}", g.id_number);
            assert!(id[..17].iter().all(u8::is_ascii_digit));
            assert_eq!(&g.id_number[..6], "532999");
            let sum: u32 = id[..17]
                .iter()
                .zip(weights)
                .map(|(b, w)| u32::from(b - b'0') * w)
                .sum();
            assert_eq!(id[17], checks[(sum % 11) as usize], "{}", g.id_number);

            let year: u32 = g.id_number[6..10].parse().unwrap();
            let month: u32 = g.id_number[10..12].parse().unwrap();
            let day: u32 = g.id_number[12..14].parse().unwrap();
            assert!((1950..=1995).contains(&year));
            assert!((1..=12).contains(&month));
            let leap =
                (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
            let max_day = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            assert!((1..=max_day).contains(&day), "{}", g.id_number);
            assert_ne!(&g.id_number[14..17], "000");
            assert!(seen.insert(g.id_number.clone()), "dup {}", g.id_number);
        }
    }

    #[test]
    fn grower_fields() {
        let c = generate();
        assert_eq!(c.growers.len(), 3000);
        let village_codes: HashSet<&str> = c
            .townships
            .iter()
            .flat_map(|t| t.villages.iter().map(|v| v.code.as_str()))
            .collect();
        let mut with_growers = HashSet::new();
        for g in &c.growers {
            assert!(village_codes.contains(g.village_code.as_str()));
            assert!(g.village_code.starts_with(&g.township_code));
            with_growers.insert(g.village_code.as_str());
            let chars = g.name.chars().count();
            assert!((2..=3).contains(&chars), "{}", g.name);
            assert_eq!(g.phone.len(), 11);
            assert!(g.phone.bytes().all(|b| b.is_ascii_digit()));
            assert!(["13", "15", "18", "19"].contains(&&g.phone[..2]));
            assert_eq!(g.bank_account.len(), 19);
            assert!(g.bank_account.bytes().all(|b| b.is_ascii_digit()));
            assert!(g.bank_account.starts_with("6217") || g.bank_account.starts_with("6228"));
            let (payload, check) = g.bank_account.split_at(18);
            assert_eq!(luhn_check_digit(payload).to_string(), check);
            assert!((1..=3).contains(&g.plots.len()));
        }
        assert_eq!(with_growers.len(), 164);
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

    #[test]
    fn deterministic() {
        assert_eq!(generate(), generate());
    }
}
