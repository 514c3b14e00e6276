//! Money as integer fen. Every rounding of an amount to the fen happens in
//! [`round_half_up_to_fen`], the one place the rule lives.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

/// An amount of CNY in fen (1/100 yuan). Stored as BIGINT; shown as "269.60".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(pub i64);

/// Round a yuan amount half-up (away from zero at .5) to the fen.
///
/// This is the only rounding of money in the system: premiums, grower shares,
/// sums insured and every other computed amount pass through here.
pub fn round_half_up_to_fen(yuan: Decimal) -> Fen {
    let rounded = yuan.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // A rounded amount times 100 is integral; i64 fen covers ±92 trillion yuan,
    // far beyond any county budget, so the conversion cannot fail for real data.
    Fen((rounded * Decimal::ONE_HUNDRED)
        .to_i64()
        .expect("amount beyond i64 fen"))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额格式不正确：{0}")]
    Invalid(String),
    #[error("金额最多保留2位小数：{0}")]
    TooManyDecimals(String),
    #[error("金额不能为负数：{0}")]
    Negative(String),
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }

    /// The exact yuan value.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Parse a non-negative amount with at most 2 decimals ("16", "16.5", "16.00").
    pub fn parse(s: &str) -> Result<Fen, MoneyError> {
        let t = s.trim();
        let d = Decimal::from_str(t).map_err(|_| MoneyError::Invalid(t.to_string()))?;
        if d.is_sign_negative() && !d.is_zero() {
            return Err(MoneyError::Negative(t.to_string()));
        }
        if d.normalize().scale() > 2 {
            return Err(MoneyError::TooManyDecimals(t.to_string()));
        }
        (d * Decimal::ONE_HUNDRED)
            .to_i64()
            .map(Fen)
            .ok_or_else(|| MoneyError::Invalid(t.to_string()))
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{}{}.{:02}", sign, abs / 100, abs % 100)
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, o: Fen) -> Fen {
        Fen(self.0 + o.0)
    }
}
impl AddAssign for Fen {
    fn add_assign(&mut self, o: Fen) {
        self.0 += o.0;
    }
}
impl Sub for Fen {
    type Output = Fen;
    fn sub(self, o: Fen) -> Fen {
        Fen(self.0 - o.0)
    }
}
impl SubAssign for Fen {
    fn sub_assign(&mut self, o: Fen) {
        self.0 -= o.0;
    }
}
impl Neg for Fen {
    type Output = Fen;
    fn neg(self) -> Fen {
        Fen(-self.0)
    }
}
impl Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}
impl<'a> Sum<&'a Fen> for Fen {
    fn sum<I: Iterator<Item = &'a Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

/// Amounts travel as strings ("269.60") so no client parses them as floats.
impl Serialize for Fen {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Fen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fen, D::Error> {
        let s = String::deserialize(d)?;
        Fen::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounds_half_up_to_the_fen() {
        assert_eq!(round_half_up_to_fen(dec!(5.328)), Fen(533));
        assert_eq!(round_half_up_to_fen(dec!(5.325)), Fen(533));
        assert_eq!(round_half_up_to_fen(dec!(5.3249)), Fen(532));
        assert_eq!(round_half_up_to_fen(dec!(26.64)), Fen(2664));
        assert_eq!(round_half_up_to_fen(dec!(0.005)), Fen(1));
        assert_eq!(round_half_up_to_fen(dec!(0.0049)), Fen(0));
        assert_eq!(round_half_up_to_fen(dec!(-0.005)), Fen(-1));
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Fen(26960).to_string(), "269.60");
        assert_eq!(Fen(5).to_string(), "0.05");
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(0).to_string(), "0.00");
    }

    #[test]
    fn parses_amounts_exactly() {
        assert_eq!(Fen::parse("64.10"), Ok(Fen(6410)));
        assert_eq!(Fen::parse(" 16 "), Ok(Fen(1600)));
        assert_eq!(Fen::parse("0.1"), Ok(Fen(10)));
        assert!(matches!(
            Fen::parse("1.001"),
            Err(MoneyError::TooManyDecimals(_))
        ));
        assert!(matches!(Fen::parse("-1"), Err(MoneyError::Negative(_))));
        assert!(matches!(Fen::parse("abc"), Err(MoneyError::Invalid(_))));
    }

    #[test]
    fn sums_and_serializes_as_string() {
        let total: Fen = [Fen(1), Fen(2), Fen(3)].iter().sum();
        assert_eq!(total, Fen(6));
        assert_eq!(serde_json::to_string(&Fen(6410)).unwrap(), "\"64.10\"");
        let back: Fen = serde_json::from_str("\"64.10\"").unwrap();
        assert_eq!(back, Fen(6410));
    }
}
