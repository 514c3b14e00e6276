//! Claim rules: the loss rate as a validated type, and the payout a survey
//! leads to under a scheme's claim rules. Pure arithmetic on exact decimals.

use super::measure::Mu;
use super::money::{round_half_up_to_fen, Fen};
use super::number::{self, NumberError};
use super::scheme::ClaimRules;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A loss rate in 1/10000 (10000 = 100%), entered as a percentage with at
/// most two decimals ("35", "35.5", "35.25").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct LossRate(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LossRateError {
    #[error("损失率格式不正确：{0}（请填写0到100之间的百分数，如 35 或 35.5）")]
    Invalid(String),
    #[error("损失率必须在0%到100%之间：{0}")]
    OutOfRange(String),
    #[error("损失率最多保留2位小数：{0}")]
    TooManyDecimals(String),
}

impl LossRate {
    pub const FULL: LossRate = LossRate(10_000);

    pub fn from_bp(bp: i64) -> LossRate {
        LossRate(bp)
    }

    /// In 1/10000, as stored.
    pub fn bp(self) -> i64 {
        self.0
    }

    /// As a fraction: 0.355 for 35.5%.
    pub fn fraction(self) -> Decimal {
        Decimal::new(self.0, 4)
    }

    /// Parse a percentage ("35.5", "35.5%", "３５．５％").
    pub fn parse_percent(s: &str) -> Result<LossRate, LossRateError> {
        let t = s.trim().trim_end_matches(['%', '％']);
        let shown = || number::shown(s);
        match number::parse(t, &number::PERCENT) {
            Ok(v) if (0..=10_000).contains(&v.units) => Ok(LossRate(v.units)),
            Ok(_) | Err(NumberError::Sign { .. }) | Err(NumberError::TooManyDigits { .. }) => {
                Err(LossRateError::OutOfRange(shown()))
            }
            Err(NumberError::TooManyDecimals { .. }) => {
                Err(LossRateError::TooManyDecimals(shown()))
            }
            Err(_) => Err(LossRateError::Invalid(shown())),
        }
    }
}

impl fmt::Display for LossRate {
    /// "35.50%"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for LossRate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}.{:02}", self.0 / 100, self.0 % 100))
    }
}

/// Which claim rule decided the payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutRule {
    /// Loss rate under the threshold: nothing is paid.
    BelowThreshold,
    /// Loss rate at or above the total-loss rate: the full sum for the affected mu.
    TotalLoss,
    /// Sum insured per mu × affected mu × loss rate × (1 − deductible rate).
    Proportional,
}

impl PayoutRule {
    pub fn name(self) -> &'static str {
        match self {
            PayoutRule::BelowThreshold => "损失率未达起赔点，不予赔付",
            PayoutRule::TotalLoss => "达到全损标准，按受损面积保险金额全额赔付",
            PayoutRule::Proportional => "按损失率比例赔付",
        }
    }
}

/// A payout and how it was reached, so a reviewer can check every step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub rule: PayoutRule,
    /// The rate applied to the affected sum insured (after threshold, total
    /// loss and deductible), as a fraction.
    pub applied_rate: Decimal,
    /// Before the cap, rounded to the fen.
    pub computed: Fen,
    /// What is left of the policy's sum insured before this claim.
    pub remaining: Fen,
    /// True when the remaining sum insured cut the payout.
    pub capped: bool,
    pub amount: Fen,
}

/// Payout = sum insured per mu × affected mu × loss rate, under the scheme's
/// claim rules, never above the sum insured left on the policy.
///
/// The deductible is an absolute deductible rate on the loss
/// (赔款 = 每亩保险金额 × 受损亩数 × 损失率 × (1 − 绝对免赔率)); a total loss pays
/// the full sum for the affected mu.
pub fn payout(
    rules: &ClaimRules,
    sum_insured_per_mu: Fen,
    affected: Mu,
    loss: LossRate,
    remaining: Fen,
) -> Payout {
    let rate = loss.fraction();
    let (rule, applied_rate) = if rate < rules.loss_threshold_rate || rate.is_zero() {
        (PayoutRule::BelowThreshold, Decimal::ZERO)
    } else if rate >= rules.total_loss_rate {
        (PayoutRule::TotalLoss, Decimal::ONE)
    } else {
        let after = Decimal::ONE
            .checked_sub(rules.deductible_rate)
            .and_then(|keep| rate.checked_mul(keep))
            .unwrap_or(Decimal::ZERO);
        (PayoutRule::Proportional, after.max(Decimal::ZERO))
    };
    // Scheme validation bounds the rate per mu and Mu::parse the area, so the
    // product is far inside Decimal's range; checked all the same, and at
    // worst the cap below still limits the payout to what is left.
    let computed = sum_insured_per_mu
        .to_decimal()
        .checked_mul(affected.to_decimal())
        .and_then(|v| v.checked_mul(applied_rate))
        .map_or(Fen(i64::MAX), round_half_up_to_fen);
    let remaining = remaining.max(Fen::ZERO);
    let capped = computed > remaining;
    Payout {
        rule,
        applied_rate,
        computed,
        remaining,
        capped,
        amount: if capped { remaining } else { computed },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walnut_rules() -> ClaimRules {
        ClaimRules {
            loss_threshold_rate: Decimal::new(10, 2),
            deductible_rate: Decimal::ZERO,
            total_loss_rate: Decimal::new(80, 2),
            ..ClaimRules::default()
        }
    }

    fn mu(s: &str) -> Mu {
        Mu::parse(s).unwrap()
    }

    fn rate(s: &str) -> LossRate {
        LossRate::parse_percent(s).unwrap()
    }

    const PLENTY: Fen = Fen(100_000_000);

    #[test]
    fn loss_rate_parsing_and_bounds() {
        assert_eq!(rate("35").bp(), 3500);
        assert_eq!(rate("35.5%").bp(), 3550);
        assert_eq!(rate(" 0 ").bp(), 0);
        assert_eq!(rate("100").bp(), 10_000);
        assert_eq!(rate("12.34").to_string(), "12.34%");
        assert!(matches!(
            LossRate::parse_percent("100.01"),
            Err(LossRateError::OutOfRange(_))
        ));
        assert!(matches!(
            LossRate::parse_percent("-1"),
            Err(LossRateError::OutOfRange(_))
        ));
        assert!(matches!(
            LossRate::parse_percent("1.234"),
            Err(LossRateError::TooManyDecimals(_))
        ));
        assert!(matches!(
            LossRate::parse_percent("abc"),
            Err(LossRateError::Invalid(_))
        ));
        assert_eq!(rate("３５．５％").bp(), 3550);
        for bad in ["1e1", "", "NaN", "0x10", "1,00"] {
            assert!(
                matches!(LossRate::parse_percent(bad), Err(LossRateError::Invalid(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            LossRate::parse_percent("79228162514264337593543950335"),
            Err(LossRateError::OutOfRange(_))
        ));
        assert!(matches!(
            LossRate::parse_percent("-0"),
            Err(LossRateError::OutOfRange(_))
        ));
    }

    #[test]
    fn proportional_payout_is_exact() {
        // 1000/mu × 3.37 mu × 35% = 1179.50
        let p = payout(
            &walnut_rules(),
            Fen::from_yuan(1000),
            mu("3.37"),
            rate("35"),
            PLENTY,
        );
        assert_eq!(p.rule, PayoutRule::Proportional);
        assert_eq!(p.amount, Fen(117_950));
        assert!(!p.capped);
        // 1000 × 0.3333 mu × 33.33% = 111.08889 → 111.09 (half-up at the fen)
        let p = payout(
            &walnut_rules(),
            Fen::from_yuan(1000),
            mu("0.3333"),
            rate("33.33"),
            PLENTY,
        );
        assert_eq!(p.amount, Fen(11_109));
    }

    #[test]
    fn threshold_is_inclusive_and_total_loss_pays_in_full() {
        let r = walnut_rules();
        let below = payout(&r, Fen::from_yuan(1000), mu("2"), rate("9.99"), PLENTY);
        assert_eq!(below.rule, PayoutRule::BelowThreshold);
        assert_eq!(below.amount, Fen::ZERO);
        let at = payout(&r, Fen::from_yuan(1000), mu("2"), rate("10"), PLENTY);
        assert_eq!(at.rule, PayoutRule::Proportional);
        assert_eq!(at.amount, Fen::from_yuan(200));
        let just_under = payout(&r, Fen::from_yuan(1000), mu("2"), rate("79.99"), PLENTY);
        assert_eq!(just_under.amount, Fen(159_980));
        let total = payout(&r, Fen::from_yuan(1000), mu("2"), rate("80"), PLENTY);
        assert_eq!(total.rule, PayoutRule::TotalLoss);
        assert_eq!(total.amount, Fen::from_yuan(2000));
    }

    #[test]
    fn deductible_reduces_the_rate() {
        let r = ClaimRules {
            deductible_rate: Decimal::new(10, 2),
            ..walnut_rules()
        };
        // 1000 × 2 mu × 50% × (1 − 10%) = 900
        let p = payout(&r, Fen::from_yuan(1000), mu("2"), rate("50"), PLENTY);
        assert_eq!(p.amount, Fen::from_yuan(900));
        assert_eq!(p.applied_rate, Decimal::new(45, 2));
    }

    #[test]
    fn never_above_what_is_left_on_the_policy() {
        let r = walnut_rules();
        let p = payout(&r, Fen::from_yuan(1000), mu("2"), rate("50"), Fen(60_000));
        assert_eq!(p.computed, Fen::from_yuan(1000));
        assert!(p.capped);
        assert_eq!(p.amount, Fen::from_yuan(600));
        let none_left = payout(&r, Fen::from_yuan(1000), mu("2"), rate("50"), Fen(-5));
        assert_eq!(none_left.amount, Fen::ZERO);
    }

    #[test]
    fn zero_loss_pays_nothing_even_without_threshold() {
        let p = payout(
            &ClaimRules::default(),
            Fen::from_yuan(1000),
            mu("2"),
            rate("0"),
            PLENTY,
        );
        assert_eq!(p.amount, Fen::ZERO);
        assert_eq!(p.rule, PayoutRule::BelowThreshold);
    }
}
