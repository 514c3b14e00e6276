//! Areas in mu (亩), exact to 1/10000 mu and stored as integer units.

use crate::error::ErrorCode;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::fmt;

use super::macros::{serde_as_text, stored_value, sum_newtype};
use super::number::{self, NumberError};

/// Units of storage: 1 mu = 10,000 units, so four decimals are exact.
pub const MU_SCALE: u32 = 4;
const UNITS_PER_MU: i64 = 10_000;
/// No single plot in a county roster is anywhere near this; it catches typos
/// such as an area typed in square metres.
pub const MAX_PLOT_MU: i64 = 100_000;

stored_value! {
    #[derive(Default)]
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub struct Mu(i64);
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MuError {
    /// The parser's own message (what was wrong and what is accepted).
    #[error("{0}")]
    NotANumber(String),
    #[error("面积必须大于0：{0}")]
    NotPositive(String),
    #[error("面积最多保留4位小数：{0}")]
    TooPrecise(String),
    #[error("面积过大（超过100000亩）：{0}")]
    TooLarge(String),
}

impl MuError {
    pub fn code(&self) -> ErrorCode {
        match self {
            MuError::NotANumber(_) => ErrorCode::AreaNotANumber,
            MuError::NotPositive(_) => ErrorCode::AreaNotPositive,
            MuError::TooPrecise(_) => ErrorCode::AreaTooPrecise,
            MuError::TooLarge(_) => ErrorCode::AreaTooLarge,
        }
    }
}

/// Full-width digits and punctuation come from Chinese input methods; treat
/// them as their ASCII forms so "３．３７" reads as 3.37.
pub fn normalize_width(s: &str) -> String {
    if s.is_ascii() {
        // Nothing to map: the common case, without the intermediate copy.
        return s.trim().to_string();
    }
    s.chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' | '。' => '.',
            '－' => '-',
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect::<String>()
        .trim()
        .to_string()
}

impl Mu {
    pub const ZERO: Mu = Mu(0);

    pub fn from_units(units: i64) -> Mu {
        Mu(units)
    }

    pub fn units(self) -> i64 {
        self.0
    }

    /// The stored units by reference (the database layer binds them so).
    pub fn units_ref(&self) -> &i64 {
        &self.0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, MU_SCALE)
    }

    /// Parse a declared area: positive, at most 4 decimals, at most
    /// [`MAX_PLOT_MU`]; full-width digits and "1,000.5" as people type them.
    pub fn parse(s: &str) -> Result<Mu, MuError> {
        let shown = || number::shown(s);
        let v = match number::parse(s, &number::AREA) {
            Ok(v) => v,
            Err(NumberError::Sign { .. }) => return Err(MuError::NotPositive(shown())),
            Err(NumberError::TooManyDecimals { .. }) => return Err(MuError::TooPrecise(shown())),
            Err(NumberError::TooManyDigits { .. }) => return Err(MuError::TooLarge(shown())),
            Err(e) => return Err(MuError::NotANumber(e.to_string())),
        };
        if v.units <= 0 {
            return Err(MuError::NotPositive(shown()));
        }
        if v.units > MAX_PLOT_MU.saturating_mul(UNITS_PER_MU) {
            return Err(MuError::TooLarge(shown()));
        }
        Ok(Mu(v.units))
    }

    pub fn from_decimal(d: Decimal) -> Result<Mu, MuError> {
        // The value as written goes into an error message only.
        let shown = || d.to_string();
        if d <= Decimal::ZERO {
            return Err(MuError::NotPositive(shown()));
        }
        if d.normalize().scale() > MU_SCALE {
            return Err(MuError::TooPrecise(shown()));
        }
        if d > Decimal::from(MAX_PLOT_MU) {
            return Err(MuError::TooLarge(shown()));
        }
        let units = d
            .checked_mul(Decimal::from(UNITS_PER_MU))
            .and_then(|u| u.to_i64())
            .ok_or_else(|| MuError::TooLarge(shown()))?;
        Ok(Mu(units))
    }

    /// Square metres to mu, rounded to the unit (1/10000 mu): 1 mu = 10000/15 m².
    pub fn from_square_metres(m2: Decimal) -> Mu {
        // m² × 15 / 10000 mu × 10000 units/mu = m² × 15 units.
        let units = m2
            .checked_mul(Decimal::from(15))
            .map(|u| u.round())
            .and_then(|u| u.to_i64())
            .unwrap_or(i64::MAX);
        Mu(units)
    }
}

impl fmt::Display for Mu {
    /// At least two decimals, at most four: "3.37", "0.333", "1.00", "0.3333".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.to_decimal().normalize();
        if d.scale() < 2 {
            write!(f, "{:.2}", d)
        } else {
            write!(f, "{}", d)
        }
    }
}

sum_newtype!(Mu);
serde_as_text!(Mu, Mu::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parses_exact_areas() {
        assert_eq!(Mu::parse("3.37").unwrap().units(), 33_700);
        assert_eq!(Mu::parse("0.333").unwrap().units(), 3_330);
        assert_eq!(Mu::parse("0.0001").unwrap().units(), 1);
        assert_eq!(Mu::parse("３．３７").unwrap().units(), 33_700);
        assert_eq!(Mu::parse(" 2 ").unwrap().units(), 20_000);
    }

    #[test]
    fn refuses_bad_areas() {
        assert!(matches!(Mu::parse("-1"), Err(MuError::NotPositive(_))));
        assert!(matches!(Mu::parse("0"), Err(MuError::NotPositive(_))));
        assert!(matches!(Mu::parse("abc"), Err(MuError::NotANumber(_))));
        assert!(matches!(Mu::parse("1e3"), Err(MuError::NotANumber(_))));
        assert!(matches!(Mu::parse(""), Err(MuError::NotANumber(_))));
        assert!(matches!(Mu::parse("1,00"), Err(MuError::NotANumber(_))));
        assert!(matches!(Mu::parse("-0"), Err(MuError::NotPositive(_))));
        assert!(matches!(
            Mu::parse("79228162514264337593543950335"),
            Err(MuError::TooLarge(_))
        ));
        assert_eq!(Mu::parse("100000").unwrap().units(), 1_000_000_000);
        assert_eq!(Mu::parse("1,000.5").unwrap().units(), 10_005_000);
        assert!(Mu::parse("1e3")
            .unwrap_err()
            .to_string()
            .contains("科学计数法"));
        assert!(matches!(Mu::parse("1.00001"), Err(MuError::TooPrecise(_))));
        assert!(matches!(Mu::parse("100001"), Err(MuError::TooLarge(_))));
        assert_eq!(Mu::parse("-1").unwrap_err().code(), "area_not_positive");
    }

    #[test]
    fn displays_between_two_and_four_decimals() {
        assert_eq!(Mu::parse("3.37").unwrap().to_string(), "3.37");
        assert_eq!(Mu::parse("1").unwrap().to_string(), "1.00");
        assert_eq!(Mu::parse("0.333").unwrap().to_string(), "0.333");
        assert_eq!(Mu::parse("0.3333").unwrap().to_string(), "0.3333");
    }

    #[test]
    fn converts_square_metres() {
        // 666.67 m² is one mu to four decimals.
        assert_eq!(Mu::from_square_metres(dec!(666.67)).units(), 10_000);
        assert_eq!(Mu::from_square_metres(dec!(10000)).units(), 150_000);
    }
}
