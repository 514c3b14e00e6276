//! Money as integer fen. Every rounding of an amount to the fen happens in
//! [`round_half_up_to_fen`], the one place the rule lives.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt;
use std::ops::{AddAssign, Neg, Sub, SubAssign};

use super::macros::{serde_as_text, stored_value, sum_newtype};
use super::number::{self, NumberError};

stored_value! {
    /// An amount of CNY in fen (1/100 yuan). Stored as BIGINT; shown as "269.60".
    #[derive(Default)]
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub struct Fen(pub i64);
}

/// Round a yuan amount half-up (away from zero at .5) to the fen.
///
/// This is the only rounding of money in the system: premiums, grower shares,
/// sums insured and every other computed amount pass through here.
///
/// Inputs are bounded where they enter (amounts by [`number::MONEY`], scheme
/// rates by `SchemeDef::validate`), so real figures are far inside i64 fen
/// (±92 trillion yuan); should one not be, the result saturates rather than
/// panicking — [`checked_round_half_up_to_fen`] says so instead.
pub fn round_half_up_to_fen(yuan: Decimal) -> Fen {
    checked_round_half_up_to_fen(yuan).unwrap_or(if yuan.is_sign_negative() {
        Fen(i64::MIN)
    } else {
        Fen(i64::MAX)
    })
}

/// [`round_half_up_to_fen`], or `None` when the amount does not fit in i64 fen.
pub fn checked_round_half_up_to_fen(yuan: Decimal) -> Option<Fen> {
    let rounded = yuan.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|f| f.to_i64())
        .map(Fen)
}

/// What went wrong reading an amount: see [`number::NumberError`].
pub type MoneyError = NumberError;

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// Whole yuan; saturates far beyond any real amount instead of overflowing.
    pub fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan.saturating_mul(100))
    }

    pub fn checked_add(self, o: Fen) -> Option<Fen> {
        self.0.checked_add(o.0).map(Fen)
    }

    pub fn checked_sub(self, o: Fen) -> Option<Fen> {
        self.0.checked_sub(o.0).map(Fen)
    }

    /// The exact yuan value.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Parse a non-negative amount in yuan with at most 2 decimals ("16",
    /// "16.5", "1,000.00", full-width digits), at most 12 integer digits.
    pub fn parse(s: &str) -> Result<Fen, MoneyError> {
        number::parse(s, &number::MONEY).map(|v| Fen(v.units))
    }

    /// A signed amount ("-12.50" reduces what is due), same rules otherwise.
    pub fn parse_signed(s: &str) -> Result<Fen, MoneyError> {
        number::parse(s, &number::SIGNED_MONEY).map(|v| Fen(v.units))
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{}{}.{:02}", sign, abs / 100, abs % 100)
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
sum_newtype!(Fen);
serde_as_text!(Fen, Fen::parse);

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
        assert_eq!(Fen::parse("1,000.00"), Ok(Fen(100_000)));
        assert_eq!(Fen::parse("１０００"), Ok(Fen(100_000)));
        assert_eq!(Fen::parse("999999999999.99"), Ok(Fen(99_999_999_999_999)));
        let code = |s| Fen::parse(s).unwrap_err().code();
        assert_eq!(code("1.001"), "number_too_many_decimals");
        assert_eq!(code("-1"), "number_sign");
        assert_eq!(code("abc"), "number_invalid");
        assert_eq!(code("1e3"), "number_exponent");
        assert_eq!(code("1000000000000"), "number_too_many_digits");
        assert_eq!(
            code("79228162514264337593543950335"),
            "number_too_many_digits"
        );
        assert_eq!(Fen::parse_signed("-12.5"), Ok(Fen(-1250)));
        assert_eq!(Fen::parse_signed("－１２．５"), Ok(Fen(-1250)));
    }

    #[test]
    fn rounding_never_panics() {
        assert_eq!(checked_round_half_up_to_fen(Decimal::MAX), None);
        assert_eq!(round_half_up_to_fen(Decimal::MAX), Fen(i64::MAX));
        assert_eq!(round_half_up_to_fen(Decimal::MIN), Fen(i64::MIN));
        assert_eq!(Fen::from_yuan(i64::MAX), Fen(i64::MAX));
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), None);
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
