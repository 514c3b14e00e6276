//! Pre-cover inspection (验标): before cover starts, a random sample of a
//! village's insured plots is inspected on site. The sample is drawn from a
//! seed that is stored and shown, so anyone can draw it again and get the
//! same plots; its area reaches the scheme's share of the village's insured
//! area exactly (integer mu units, no floats).

use super::macros::text_enum;
use super::Mu;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

text_enum! {
    /// How the village's growers enrolled: each on their own, or organised
    /// by the village. The scheme sets a different share for each.
    pub enum EnrolmentMode {
        Individual = "individual" / "农户个人投保",
        Village = "village" / "村集体组织投保",
    }
    /// A text that is not an enrolment mode.
    unknown: UnknownEnrolmentMode("unknown enrolment mode {0:?}");
}

text_enum! {
    /// What the inspector found on the plot.
    pub enum Outcome {
        Verified = "verified" / "核实无误",
        Corrected = "corrected" / "面积更正",
        Refused = "refused" / "不予承保",
    }
    /// A text that is not an inspection outcome.
    unknown: UnknownOutcome("unknown inspection outcome {0:?}");
}

text_enum! {
    /// A draw is current until a re-draw supersedes it (it is kept).
    pub enum DrawStatus {
        Current = "current" / "有效",
        Superseded = "superseded" / "已重新抽取",
    }
    /// A text that is not a draw status.
    unknown: UnknownDrawStatus("unknown draw status {0:?}");
}

/// The eligibility reason a refused plot carries (the eligibility reasons
/// are data named after what failed; this one is the inspection's).
pub const REFUSED_REASON_CODE: &str = "inspection_refused";

/// The least area (in mu units) a sample must reach: `percent` % of
/// `population`, rounded up to the unit, so that a sample reaching it holds
/// at least the share exactly. `None` when the product does not fit.
pub fn required_units(population: Mu, percent: Decimal) -> Option<i64> {
    let product = Decimal::from(population.units()).checked_mul(percent)?;
    let share = product.checked_div(Decimal::ONE_HUNDRED)?;
    share.ceil().to_i64()
}

/// splitmix64: small, well distributed, and the same on every machine.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), without modulo bias: draws that fall in
    /// the incomplete last block are drawn again.
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX % n) - 1;
        loop {
            let x = self.next_u64();
            if x <= zone {
                return x % n;
            }
        }
    }
}

/// A plot that may be drawn: its stable key (the plot code, unique within a
/// scheme), its id and its area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub key: String,
    pub id: i64,
    pub area: Mu,
}

/// The sample: the candidates sorted by their stable key, shuffled by the
/// seed (Fisher–Yates), and taken in that order until their area reaches
/// `required` units. The same seed over the same plots gives the same
/// sample, whatever order the plots came in.
pub fn draw(mut candidates: Vec<Candidate>, seed: u64, required: i64) -> Vec<Candidate> {
    candidates.sort_by(|a, b| a.key.cmp(&b.key).then(a.id.cmp(&b.id)));
    let mut rng = SplitMix64::new(seed);
    for i in (1..candidates.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        candidates.swap(i, j);
    }
    let mut taken = Vec::new();
    let mut area = 0i64;
    for c in candidates {
        if area >= required {
            break;
        }
        area = area.saturating_add(c.area.units());
        taken.push(c);
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn plots(n: i64) -> Vec<Candidate> {
        (1..=n)
            .map(|i| Candidate {
                key: format!("P-{i:04}"),
                id: i,
                area: Mu::from_units(10_000 + i * 1_234),
            })
            .collect()
    }

    fn area(s: &[Candidate]) -> i64 {
        s.iter().map(|c| c.area.units()).sum()
    }

    #[test]
    fn the_share_is_rounded_up_to_the_unit() {
        assert_eq!(
            required_units(Mu::from_units(10_001), dec!(50)),
            Some(5_001)
        );
        assert_eq!(
            required_units(Mu::from_units(10_000), dec!(50)),
            Some(5_000)
        );
        assert_eq!(required_units(Mu::from_units(3), dec!(5)), Some(1));
        assert_eq!(required_units(Mu::ZERO, dec!(5)), Some(0));
        assert_eq!(required_units(Mu::from_units(7), dec!(33.3333)), Some(3));
    }

    #[test]
    fn a_sample_reaches_its_share_and_no_more_plots_than_needed() {
        for seed in 0..200u64 {
            let all = plots(37);
            let total: i64 = area(&all);
            let req = required_units(Mu::from_units(total), dec!(50)).unwrap();
            let s = draw(all, seed, req);
            let got = area(&s);
            assert!(got * 100 >= total * 50, "seed {seed}");
            // Without its last plot the sample would fall short.
            let last = s.last().unwrap().area.units();
            assert!(got - last < req, "seed {seed}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sample_whatever_the_order() {
        let a = draw(plots(50), 42, 200_000);
        let mut shuffled = plots(50);
        shuffled.reverse();
        let b = draw(shuffled, 42, 200_000);
        assert_eq!(a, b);
        let c = draw(plots(50), 43, 200_000);
        assert_ne!(a, c);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = SplitMix64::new(7);
        for n in 1..50u64 {
            for _ in 0..20 {
                assert!(r.below(n) < n);
            }
        }
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn codes_round_trip() {
        assert_eq!(
            EnrolmentMode::parse("village").unwrap(),
            EnrolmentMode::Village
        );
        assert_eq!(Outcome::Refused.name(), "不予承保");
        assert!(Outcome::parse("maybe").is_err());
    }
}
