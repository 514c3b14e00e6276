//! The premium engine: per-policy money from per-mu rates, exact to the fen.

use super::measure::Mu;
use super::money::{round_half_up_to_fen, Fen};
use super::scheme::FundingLevel;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

/// The per-mu rates of a scheme and the weights of its funding levels.
#[derive(Debug, Clone)]
pub struct Rates {
    pub sum_insured_per_mu: Fen,
    pub premium_per_mu: Fen,
    pub grower_share_per_mu: Fen,
    /// (level, weight): each level's percentage of the premium.
    pub levels: Vec<(FundingLevel, Decimal)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelAmount {
    pub level: FundingLevel,
    pub amount: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub mu: Mu,
    pub sum_insured: Fen,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
    pub subsidy_levels: Vec<LevelAmount>,
}

/// Rate × mu to the fen. Scheme validation bounds the rate and `Mu::parse`
/// the area, so the product is tiny next to `Decimal`'s range; checked so
/// that even unbounded values saturate instead of panicking.
fn per_mu(rate: Fen, mu: Mu) -> Fen {
    rate.to_decimal()
        .checked_mul(mu.to_decimal())
        .map_or(Fen(i64::MAX), round_half_up_to_fen)
}

impl Quote {
    /// One level's part of the subsidy; `None` for a level the scheme does not fund.
    pub fn level(&self, level: FundingLevel) -> Option<Fen> {
        self.subsidy_levels
            .iter()
            .find(|l| l.level == level)
            .map(|l| l.amount)
    }
}

/// Premium and sum insured are rate × mu rounded; the subsidy is what the
/// grower does not pay, so grower share + subsidy = premium by construction.
pub fn quote(rates: &Rates, mu: Mu) -> Quote {
    let premium = per_mu(rates.premium_per_mu, mu);
    let grower_share = per_mu(rates.grower_share_per_mu, mu);
    let subsidy = premium.checked_sub(grower_share).unwrap_or(Fen::ZERO);
    let weights: Vec<Decimal> = rates.levels.iter().map(|(_, w)| *w).collect();
    let parts = split_largest_remainder(subsidy, &weights);
    Quote {
        mu,
        sum_insured: per_mu(rates.sum_insured_per_mu, mu),
        premium,
        grower_share,
        subsidy,
        subsidy_levels: rates
            .levels
            .iter()
            .zip(parts)
            .map(|((level, _), amount)| LevelAmount {
                level: *level,
                amount,
            })
            .collect(),
    }
}

/// Split `total` fen in proportion to `weights` so the parts add up to `total`
/// exactly: each part gets the floor of its exact share, and the fen left over
/// go one each to the largest remainders (ties to the earlier level).
pub fn split_largest_remainder(total: Fen, weights: &[Decimal]) -> Vec<Fen> {
    let zeros = || weights.iter().map(|_| Fen::ZERO).collect();
    let Some(sum_w) = weights
        .iter()
        .try_fold(Decimal::ZERO, |acc, w| acc.checked_add(*w))
    else {
        return zeros();
    };
    if weights.is_empty() || sum_w <= Decimal::ZERO || weights.iter().any(|w| w.is_sign_negative())
    {
        return zeros();
    }
    let negative = total.0 < 0;
    let abs = total.0.saturating_abs();
    let abs_total = Decimal::from(abs);
    let mut parts: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(Decimal, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        // Each weight is at most the sum, so the share is at most the total.
        let exact = abs_total
            .checked_mul(*w)
            .and_then(|v| v.checked_div(sum_w))
            .unwrap_or(Decimal::ZERO);
        let floor = exact.floor();
        parts.push(floor.to_i64().unwrap_or(0));
        remainders.push((exact - floor, i));
    }
    let given = parts.iter().fold(0i64, |acc, p| acc.saturating_add(*p));
    // Fewer fen left over than there are levels.
    let mut left = abs.saturating_sub(given);
    // Stable sort keeps the earlier level first among equal remainders.
    remainders.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (_, i) in remainders.iter().cycle() {
        if left <= 0 {
            break;
        }
        if let Some(p) = parts.get_mut(*i) {
            *p = p.saturating_add(1);
        }
        left -= 1;
    }
    parts
        .into_iter()
        .map(|p| Fen(if negative { -p } else { p }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn walnut() -> Rates {
        Rates {
            sum_insured_per_mu: Fen::from_yuan(1000),
            premium_per_mu: Fen::from_yuan(80),
            grower_share_per_mu: Fen::from_yuan(16),
            levels: vec![
                (FundingLevel::Provincial, dec!(50)),
                (FundingLevel::City, dec!(10)),
                (FundingLevel::County, dec!(20)),
            ],
        }
    }

    fn q(mu: &str) -> Quote {
        quote(&walnut(), Mu::parse(mu).unwrap())
    }

    #[test]
    fn reference_vectors() {
        let one = q("1");
        assert_eq!(
            (one.premium, one.grower_share, one.subsidy, one.sum_insured),
            (Fen(8000), Fen(1600), Fen(6400), Fen(100_000))
        );
        let a = q("3.37");
        assert_eq!(
            (a.premium, a.grower_share, a.subsidy, a.sum_insured),
            (Fen(26960), Fen(5392), Fen(21568), Fen(337_000))
        );
        let b = q("0.333");
        assert_eq!(
            (b.premium, b.grower_share, b.subsidy),
            (Fen(2664), Fen(533), Fen(2131))
        );
    }

    #[test]
    fn three_level_split_that_does_not_divide_evenly() {
        // 21.31 subsidy split 50:10:20 → exact 13.31875, 2.66375, 5.3275.
        let b = q("0.333");
        let amounts: Vec<Fen> = b.subsidy_levels.iter().map(|l| l.amount).collect();
        assert_eq!(amounts, vec![Fen(1332), Fen(266), Fen(533)]);
        assert_eq!(amounts.iter().sum::<Fen>(), b.subsidy);
        // One fen in three equal parts goes to the first level.
        let parts = split_largest_remainder(Fen(1), &[dec!(1), dec!(1), dec!(1)]);
        assert_eq!(parts, vec![Fen(1), Fen(0), Fen(0)]);
        let parts = split_largest_remainder(Fen(100), &[dec!(1), dec!(1), dec!(1)]);
        assert_eq!(parts, vec![Fen(34), Fen(33), Fen(33)]);
    }

    #[test]
    fn parts_always_add_up() {
        // A deterministic sweep over many areas and awkward weights.
        let weights = [dec!(37.5), dec!(12.5), dec!(17), dec!(13)];
        let mut rates = walnut();
        rates.levels = vec![
            (FundingLevel::Central, weights[0]),
            (FundingLevel::Provincial, weights[1]),
            (FundingLevel::City, weights[2]),
            (FundingLevel::County, weights[3]),
        ];
        for units in (1..200_000).step_by(997) {
            let quote = quote(&rates, Mu::from_units(units));
            assert_eq!(quote.grower_share + quote.subsidy, quote.premium);
            let levels: Fen = quote.subsidy_levels.iter().map(|l| l.amount).sum();
            assert_eq!(levels, quote.subsidy);
        }
        let neg = split_largest_remainder(Fen(-101), &weights);
        assert_eq!(neg.iter().sum::<Fen>(), Fen(-101));
    }

    /// Property: over thousands of random policies (areas with up to 4
    /// decimals, random level weights) every policy and every total adds up.
    #[test]
    fn random_policies_always_add_up() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for _scheme in 0..20 {
            let n_levels = 1 + (next() % 4) as usize;
            let levels: Vec<(FundingLevel, Decimal)> = FundingLevel::ALL[..n_levels]
                .iter()
                .map(|l| (*l, Decimal::new(1 + (next() % 9999) as i64, 2)))
                .collect();
            let rates = Rates {
                sum_insured_per_mu: Fen(100 + (next() % 500_000) as i64),
                premium_per_mu: Fen(100 + (next() % 20_000) as i64),
                grower_share_per_mu: Fen(0),
                levels,
            };
            let rates = Rates {
                grower_share_per_mu: Fen((next() % (rates.premium_per_mu.0 as u64 + 1)) as i64),
                ..rates
            };
            let (mut premium, mut share, mut subsidy) = (Fen::ZERO, Fen::ZERO, Fen::ZERO);
            let mut level_totals = vec![Fen::ZERO; rates.levels.len()];
            for _ in 0..500 {
                let q = quote(&rates, Mu::from_units(1 + (next() % 2_000_000) as i64));
                assert_eq!(q.grower_share + q.subsidy, q.premium);
                assert_eq!(
                    q.subsidy_levels.iter().map(|l| l.amount).sum::<Fen>(),
                    q.subsidy
                );
                assert!(q.subsidy_levels.iter().all(|l| l.amount >= Fen::ZERO));
                premium += q.premium;
                share += q.grower_share;
                subsidy += q.subsidy;
                for (t, l) in level_totals.iter_mut().zip(&q.subsidy_levels) {
                    *t += l.amount;
                }
            }
            assert_eq!(share + subsidy, premium);
            assert_eq!(level_totals.iter().sum::<Fen>(), subsidy);
        }
    }
}
