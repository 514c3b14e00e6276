//! Claim rules: the loss rate as a validated type, the payout a survey
//! leads to under a scheme's claim rules (pure arithmetic on exact decimals),
//! a claim's status with its allowed moves, and a deadline's urgency.

use super::macros::text_enum;
use super::measure::Mu;
use super::money::{round_half_up_to_fen, Fen};
use super::number::{self, NumberError};
use super::scheme::ClaimRules;
use chrono::{DateTime, Utc};
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

text_enum! {
    /// Where a claim is in its course. Stored as its snake_case code (a TEXT
    /// column on both databases, checked by the migration's CHECK constraint).
    #[derive(diesel::AsExpression, diesel::FromSqlRow)]
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub enum ClaimStatus {
        Reported = "reported" / "待派工",
        Dispatched = "dispatched" / "待查勘",
        Surveyed = "surveyed" / "待审核",
        Approved = "approved" / "待农户确认",
        Agreed = "agreed" / "待支付",
        Paid = "paid" / "已支付",
        Declined = "declined" / "已拒赔",
    }
    /// A claim status code that is not one of [`ClaimStatus::ALL`].
    unknown: UnknownClaimStatus("未知的赔案状态：{0}");
}

impl ClaimStatus {
    /// Still waiting for the survey, which the deadline is about.
    pub fn is_open(self) -> bool {
        matches!(self, ClaimStatus::Reported | ClaimStatus::Dispatched)
    }

    /// Its payout counts against the policy's sum insured.
    pub fn holds_payout(self) -> bool {
        matches!(
            self,
            ClaimStatus::Surveyed | ClaimStatus::Approved | ClaimStatus::Agreed | ClaimStatus::Paid
        )
    }

    /// The one table of allowed moves. Staying put is allowed where a step
    /// can be repeated: re-dispatching, a second survey, a part payment.
    pub fn can_move_to(self, next: ClaimStatus) -> bool {
        use ClaimStatus::*;
        matches!(
            (self, next),
            // A report outside cover is declined as it is taken (see report).
            (Reported, Dispatched)
                | (Dispatched, Dispatched)
                | (Dispatched, Surveyed)
                | (Surveyed, Surveyed)
                // Sent back to the surveyors.
                | (Surveyed, Dispatched)
                | (Surveyed, Approved)
                // Approved at zero: nothing to pay.
                | (Surveyed, Declined)
                | (Approved, Agreed)
                | (Agreed, Agreed)
                | (Agreed, Paid)
        )
    }
}

text_enum! {
    /// How close an open claim is to its survey deadline.
    pub enum Urgency {
        /// The deadline has come.
        Overdue = "overdue",
        /// Less than the warning time left.
        DueSoon = "due_soon",
        Ok = "ok",
    }
    /// An urgency code that is not one of overdue, due_soon, ok.
    unknown: UnknownUrgency("未知的紧急程度：{0}");
}

impl Urgency {
    /// Overdue once the deadline is reached; due soon when fewer than
    /// `warn_hours` whole hours' worth of minutes are left.
    pub fn at(due: DateTime<Utc>, now: DateTime<Utc>, warn_hours: u32) -> Urgency {
        let minutes = (due - now).num_minutes();
        if due <= now {
            Urgency::Overdue
        } else if minutes < i64::from(warn_hours) * 60 {
            Urgency::DueSoon
        } else {
            Urgency::Ok
        }
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

    /// 1000 yuan insured per mu under the walnut rules, plenty left.
    fn walnut_payout(area: &str, loss: &str) -> Payout {
        payout(
            &walnut_rules(),
            Fen::from_yuan(1000),
            mu(area),
            rate(loss),
            PLENTY,
        )
    }

    #[test]
    fn loss_rate_parsing_and_bounds() {
        for (text, bp) in [
            ("35", 3500),
            ("35.5%", 3550),
            (" 0 ", 0),
            ("100", 10_000),
            ("３５．５％", 3550),
        ] {
            assert_eq!(rate(text).bp(), bp, "{text:?}");
        }
        assert_eq!(rate("12.34").to_string(), "12.34%");
        use LossRateError::{Invalid, OutOfRange, TooManyDecimals};
        type Kind = fn(String) -> LossRateError;
        let refused: [(&str, Kind); 11] = [
            ("100.01", OutOfRange),
            ("-1", OutOfRange),
            ("-0", OutOfRange),
            ("79228162514264337593543950335", OutOfRange),
            ("1.234", TooManyDecimals),
            ("abc", Invalid),
            ("1e1", Invalid),
            ("", Invalid),
            ("NaN", Invalid),
            ("0x10", Invalid),
            ("1,00", Invalid),
        ];
        let kind = std::mem::discriminant::<LossRateError>;
        for (text, want) in refused {
            let got = LossRate::parse_percent(text).unwrap_err();
            assert_eq!(kind(&got), kind(&want(String::new())), "{text:?}: {got:?}");
        }
    }

    #[test]
    fn proportional_payout_is_exact() {
        // 1000/mu × 3.37 mu × 35% = 1179.50
        let p = walnut_payout("3.37", "35");
        assert_eq!(p.rule, PayoutRule::Proportional);
        assert_eq!(p.amount, Fen(117_950));
        assert!(!p.capped);
        // 1000 × 0.3333 mu × 33.33% = 111.08889 → 111.09 (half-up at the fen)
        let p = walnut_payout("0.3333", "33.33");
        assert_eq!(p.amount, Fen(11_109));
    }

    #[test]
    fn threshold_is_inclusive_and_total_loss_pays_in_full() {
        let below = walnut_payout("2", "9.99");
        assert_eq!(below.rule, PayoutRule::BelowThreshold);
        assert_eq!(below.amount, Fen::ZERO);
        let at = walnut_payout("2", "10");
        assert_eq!(at.rule, PayoutRule::Proportional);
        assert_eq!(at.amount, Fen::from_yuan(200));
        let just_under = walnut_payout("2", "79.99");
        assert_eq!(just_under.amount, Fen(159_980));
        let total = walnut_payout("2", "80");
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

    #[test]
    fn claim_status_codes_round_trip() {
        for s in ClaimStatus::ALL {
            assert_eq!(ClaimStatus::parse(s.as_str()), Ok(s));
            assert_eq!(s.to_string().parse::<ClaimStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert_eq!(
                serde_json::from_str::<ClaimStatus>(&format!("\"{s}\"")).unwrap(),
                s
            );
        }
        assert_eq!(ClaimStatus::Approved.name(), "待农户确认");
        assert!(ClaimStatus::parse("issued").is_err());
        assert!(ClaimStatus::parse("Reported").is_err());
        assert!(ClaimStatus::parse("").is_err());
    }

    #[test]
    fn every_claim_status_move_against_the_table() {
        use ClaimStatus::*;
        // (from, to) pairs the code makes; every other pair is refused.
        let allowed = [
            (Reported, Dispatched),
            (Dispatched, Dispatched),
            (Dispatched, Surveyed),
            (Surveyed, Surveyed),
            (Surveyed, Dispatched),
            (Surveyed, Approved),
            (Surveyed, Declined),
            (Approved, Agreed),
            (Agreed, Agreed),
            (Agreed, Paid),
        ];
        for from in ClaimStatus::ALL {
            for to in ClaimStatus::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
        // Paid and declined are final.
        for to in ClaimStatus::ALL {
            assert!(!Paid.can_move_to(to) && !Declined.can_move_to(to), "{to}");
        }
    }

    #[test]
    fn open_and_payout_holding_statuses() {
        use ClaimStatus::*;
        let open: Vec<_> = ClaimStatus::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(open, [Reported, Dispatched]);
        let holding: Vec<_> = ClaimStatus::ALL
            .into_iter()
            .filter(|s| s.holds_payout())
            .collect();
        assert_eq!(holding, [Surveyed, Approved, Agreed, Paid]);
    }

    #[test]
    fn urgency_at_the_boundaries() {
        let due = DateTime::parse_from_rfc3339("2012-06-13T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at =
            |secs_before: i64| Urgency::at(due, due - chrono::Duration::seconds(secs_before), 6);
        // Exactly at the deadline and after it: overdue.
        assert_eq!(at(0), Urgency::Overdue);
        assert_eq!(at(-1), Urgency::Overdue);
        // One second before: due soon.
        assert_eq!(at(1), Urgency::DueSoon);
        // The threshold: 6 hours left is ok, one second less is due soon.
        assert_eq!(at(6 * 3600), Urgency::Ok);
        assert_eq!(at(6 * 3600 - 1), Urgency::DueSoon);
        assert_eq!(at(6 * 3600 + 1), Urgency::Ok);
        // No warning time: only overdue or ok.
        assert_eq!(
            Urgency::at(due, due - chrono::Duration::seconds(1), 0),
            Urgency::Ok
        );
        for u in Urgency::ALL {
            assert_eq!(u.as_str().parse::<Urgency>(), Ok(u));
            assert_eq!(serde_json::to_string(&u).unwrap(), format!("\"{u}\""));
        }
        assert_eq!(Urgency::DueSoon.as_str(), "due_soon");
        assert!(Urgency::parse("late").is_err());
    }
}
