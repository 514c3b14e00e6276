//! Deterministic demo county for walkthroughs, screenshots and load tests.
//!
//! Everything is derived from one fixed seed, so a freshly seeded demo database
//! looks the same on every machine and tests can rely on stable counts. The
//! generator uses only `std` so it can be reused from tools and build scripts
//! without dragging in the application's dependency tree.

use super::plots::{make_plot, round_to};
use super::rng::SplitMix64;
use std::collections::HashSet;

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn deterministic() {
        assert_eq!(generate(), generate());
    }
}
