//! Numbers as people type them — the one parser behind every amount, area,
//! rate and percentage that comes in as text.
//!
//! The text is checked character by character and its digits counted
//! **before** any arithmetic happens, so no input can overflow: the value is
//! built as an integer of the format's smallest unit (fen, 1/10000 mu, 1/100
//! percent) with checked steps. `rust_decimal` never sees the raw text.
//!
//! Accepted: surrounding spaces, full-width digits and punctuation from Chinese
//! input methods ("１２．５", "１，０００"), thousands separators in groups of
//! three ("1,000.00", "1，000.00"), a leading "-" or "+" where the format is
//! signed. Refused with a Chinese message that says what is accepted: empty
//! text, exponents ("1e3"), hex, "NaN", "inf", any other character, wrong
//! grouping ("1,00"), a sign where none is allowed, too many integer digits,
//! too many decimals.

use crate::error::ErrorCode;
use rust_decimal::Decimal;
use std::fmt;

/// How one kind of number is written and how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    /// What the number is, for messages: "金额", "面积".
    pub what: &'static str,
    /// Most digits before the point (leading zeros don't count).
    pub max_int_digits: u32,
    /// Most digits after the point (trailing zeros don't count); also the
    /// scale of the integer the parser returns.
    pub max_decimals: u32,
    /// Whether a minus sign is allowed.
    pub signed: bool,
    /// A well-formed example for the messages: "1,234.50".
    pub example: &'static str,
}

/// i64 holds every 18-digit integer, so a format may not ask for more.
const MAX_TOTAL_DIGITS: u32 = 18;

/// Money in yuan, at most 999,999,999,999.99 (12 integer digits).
pub const MONEY: NumberFormat = NumberFormat {
    what: "金额",
    max_int_digits: 12,
    max_decimals: 2,
    signed: false,
    example: "1,234.50",
};

/// A signed amount (an adjustment): "-12.50" reduces.
pub const SIGNED_MONEY: NumberFormat = NumberFormat {
    signed: true,
    example: "-12.50",
    ..MONEY
};

/// A signed total we computed and stored ourselves (a summary of many
/// amounts): up to 16 integer digits, still inside i64 fen.
pub const SIGNED_TOTAL: NumberFormat = NumberFormat {
    max_int_digits: 16,
    ..SIGNED_MONEY
};

/// Area in mu, four decimals. Range rules (positive, plot maximum) are the
/// caller's; nine integer digits only keep the arithmetic bounded.
pub const AREA: NumberFormat = NumberFormat {
    what: "面积",
    max_int_digits: 9,
    max_decimals: 4,
    signed: false,
    example: "3.37",
};

/// A percentage with two decimals ("35.5"); range rules are the caller's.
pub const PERCENT: NumberFormat = NumberFormat {
    what: "百分比",
    max_int_digits: 3,
    max_decimals: 2,
    signed: false,
    example: "35.5",
};

/// A plain non-negative measurement (an eligibility fact, a plot attribute).
pub const FACT: NumberFormat = NumberFormat {
    what: "数值",
    max_int_digits: 12,
    max_decimals: 4,
    signed: false,
    example: "300",
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("{what}不能为空，请填写数字，如 {example}")]
    Empty {
        what: &'static str,
        example: &'static str,
    },
    #[error("{what}不能用科学计数法：“{text}”；请直接写出数字，如 {example}")]
    Exponent {
        what: &'static str,
        text: String,
        example: &'static str,
    },
    #[error("{what}格式不正确：“{text}”；请填写数字，如 {example}（可用全角数字和千位分隔符）")]
    Invalid {
        what: &'static str,
        text: String,
        example: &'static str,
    },
    #[error("{what}的千位分隔符位置不对：“{text}”；逗号须每3位一组，如 1,000.00")]
    Grouping { what: &'static str, text: String },
    #[error("{what}不能为负数，也不能带正负号：“{text}”")]
    Sign { what: &'static str, text: String },
    #[error("{what}的整数部分最多{max}位：“{text}”有{found}位")]
    TooManyDigits {
        what: &'static str,
        text: String,
        max: u32,
        found: usize,
    },
    #[error("{what}最多保留{max}位小数：“{text}”")]
    TooManyDecimals {
        what: &'static str,
        text: String,
        max: u32,
    },
}

impl NumberError {
    /// Stable machine-readable kind.
    pub fn code(&self) -> ErrorCode {
        match self {
            NumberError::Empty { .. } => ErrorCode::NumberEmpty,
            NumberError::Exponent { .. } => ErrorCode::NumberExponent,
            NumberError::Invalid { .. } => ErrorCode::NumberInvalid,
            NumberError::Grouping { .. } => ErrorCode::NumberGrouping,
            NumberError::Sign { .. } => ErrorCode::NumberSign,
            NumberError::TooManyDigits { .. } => ErrorCode::NumberTooManyDigits,
            NumberError::TooManyDecimals { .. } => ErrorCode::NumberTooManyDecimals,
        }
    }
}

/// The input as it goes into a message: at most 30 characters, so a
/// 10,000-character value does not come back whole.
pub fn shown(s: &str) -> String {
    const MAX: usize = 30;
    let t = s.trim();
    if t.chars().count() <= MAX {
        t.to_string()
    } else {
        let mut out: String = t.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

/// Full-width forms typed by Chinese input methods, as ASCII.
fn ascii_form(c: char) -> char {
    match c {
        '０'..='９' => {
            char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
        }
        '．' | '。' => '.',
        '，' => ',',
        '－' | '\u{2212}' => '-',
        '＋' => '+',
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// An integer in units of 10^-`max_decimals`, with the sign applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaled {
    pub units: i64,
    pub scale: u32,
}

impl Scaled {
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.units, self.scale)
    }
}

/// Parse `s` under `f` into an integer of its smallest unit.
pub fn parse(s: &str, f: &NumberFormat) -> Result<Scaled, NumberError> {
    debug_assert!(f.max_int_digits + f.max_decimals <= MAX_TOTAL_DIGITS);
    let text: String = s.chars().map(ascii_form).collect();
    let t = text.trim();
    let invalid = || NumberError::Invalid {
        what: f.what,
        text: shown(s),
        example: f.example,
    };
    if t.is_empty() {
        return Err(NumberError::Empty {
            what: f.what,
            example: f.example,
        });
    }
    let (negative, body) = match t.chars().next() {
        Some('-') => (true, t.get(1..).unwrap_or("")),
        Some('+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let has_sign = body.len() != t.len();
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        // Tell an exponent apart from other junk: it is a common spreadsheet
        // export ("1E+3") whose fix is to write the digits out.
        let looks_scientific = body.contains(['e', 'E'])
            && body
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
            && body.starts_with(|c: char| c.is_ascii_digit() || c == '.');
        return Err(if looks_scientific {
            NumberError::Exponent {
                what: f.what,
                text: shown(s),
                example: f.example,
            }
        } else {
            invalid()
        });
    }
    if has_sign && !f.signed {
        return Err(NumberError::Sign {
            what: f.what,
            text: shown(s),
        });
    }
    let mut parts = body.split('.');
    let int_part = parts.next().unwrap_or("");
    let frac_part = parts.next().unwrap_or("");
    if parts.next().is_some() || frac_part.contains(',') {
        return Err(invalid());
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(invalid());
    }
    let int_digits: String = if int_part.contains(',') {
        let mut groups = int_part.split(',');
        let first = groups.next().unwrap_or("");
        let ok = (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3);
        if !ok {
            return Err(NumberError::Grouping {
                what: f.what,
                text: shown(s),
            });
        }
        int_part.chars().filter(char::is_ascii_digit).collect()
    } else {
        int_part.to_string()
    };
    let significant = int_digits.trim_start_matches('0');
    let found = significant.chars().count();
    if found > f.max_int_digits as usize {
        return Err(NumberError::TooManyDigits {
            what: f.what,
            text: shown(s),
            max: f.max_int_digits,
            found,
        });
    }
    let frac = frac_part.trim_end_matches('0');
    if frac.chars().count() > f.max_decimals as usize {
        return Err(NumberError::TooManyDecimals {
            what: f.what,
            text: shown(s),
            max: f.max_decimals,
        });
    }
    // At most 18 digits from here on, so these steps cannot fail; they are
    // checked anyway so a wrong format constant is an error, not a panic.
    let too_long = || NumberError::TooManyDigits {
        what: f.what,
        text: shown(s),
        max: f.max_int_digits,
        found,
    };
    let mut units: i64 = 0;
    let padded = frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(f.max_decimals as usize);
    for c in significant.chars().chain(padded) {
        let d = i64::from(c.to_digit(10).ok_or_else(invalid)?);
        units = units
            .checked_mul(10)
            .and_then(|u| u.checked_add(d))
            .ok_or_else(too_long)?;
    }
    if negative {
        units = units.checked_neg().ok_or_else(too_long)?;
    }
    Ok(Scaled {
        units,
        scale: f.max_decimals,
    })
}

/// Parse as a `Decimal` (for rates and facts that are compared, not stored).
pub fn parse_decimal(s: &str, f: &NumberFormat) -> Result<Decimal, NumberError> {
    parse(s, f).map(Scaled::to_decimal)
}

/// The plain form without trailing zeros: "1000", "12.5".
impl fmt::Display for Scaled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal().normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(s: &str) -> Result<i64, NumberError> {
        parse(s, &MONEY).map(|v| v.units)
    }

    fn code(s: &str) -> ErrorCode {
        money(s).unwrap_err().code()
    }

    #[test]
    fn plain_and_typed_forms() {
        assert_eq!(money("16"), Ok(1600));
        assert_eq!(money(" 16.5 "), Ok(1650));
        assert_eq!(money("0.1"), Ok(10));
        assert_eq!(money(".5"), Ok(50));
        assert_eq!(money("1.000"), Ok(100));
        assert_eq!(money("007"), Ok(700));
        assert_eq!(money("１２．５"), Ok(1250));
        assert_eq!(money("\u{3000}１２。５\u{3000}"), Ok(1250));
        assert_eq!(money("0"), Ok(0));
    }

    #[test]
    fn thousands_separators_in_groups_of_three() {
        assert_eq!(money("1,000.00"), Ok(100_000));
        assert_eq!(money("1，000.00"), Ok(100_000));
        assert_eq!(money("１，２３４，５６７"), Ok(123_456_700));
        for (text, want) in [
            ("1,00", "number_grouping"),
            ("1,0000", "number_grouping"),
            (",100", "number_grouping"),
            ("1,,000", "number_grouping"),
            ("1.000,5", "number_invalid"),
        ] {
            assert_eq!(code(text), want, "{text:?}");
        }
    }

    #[test]
    fn digit_limits_before_arithmetic() {
        assert_eq!(money("999999999999.99"), Ok(99_999_999_999_999));
        assert_eq!(money("999,999,999,999.99"), Ok(99_999_999_999_999));
        assert_eq!(code("1000000000000"), "number_too_many_digits");
        assert_eq!(
            code("79228162514264337593543950335"),
            "number_too_many_digits"
        );
        assert_eq!(
            code("99999999999999999999999999999999999999999999999999"),
            "number_too_many_digits"
        );
        // Leading zeros are not digits that count.
        assert_eq!(money("0000000000000000000001"), Ok(100));
        assert_eq!(code("1.001"), "number_too_many_decimals");
        assert_eq!(
            money("1.0010000000000000000000000"),
            Err(NumberError::TooManyDecimals {
                what: "金额",
                text: "1.0010000000000000000000000".into(),
                max: 2,
            })
        );
        let e = money("79228162514264337593543950335").unwrap_err();
        assert!(e.to_string().contains("最多12位"), "{e}");
        assert!(e.to_string().contains("29位"), "{e}");
    }

    #[test]
    fn refuses_what_is_not_a_plain_number() {
        for (text, want) in [
            ("1e3", "number_exponent"),
            ("1E+3", "number_exponent"),
            ("2.5e-1", "number_exponent"),
            ("0x1F", "number_invalid"),
            ("NaN", "number_invalid"),
            ("inf", "number_invalid"),
            ("-inf", "number_invalid"),
            ("", "number_empty"),
            ("   ", "number_empty"),
            ("1 000", "number_invalid"),
            ("1.2.3", "number_invalid"),
            (".", "number_invalid"),
            ("12元", "number_invalid"),
            ("--1", "number_invalid"),
            ("- 1", "number_invalid"),
        ] {
            assert_eq!(code(text), want, "{text:?}");
        }
        assert!(money("1e3").unwrap_err().to_string().contains("科学计数法"));
    }

    #[test]
    fn signs_only_where_allowed() {
        for (text, want) in [
            ("-1", "number_sign"),
            ("-0", "number_sign"),
            ("+1", "number_sign"),
            ("－1", "number_sign"),
        ] {
            assert_eq!(code(text), want, "{text:?}");
        }
        let signed = |s| parse(s, &SIGNED_MONEY).map(|v| v.units);
        assert_eq!(signed("-12.50"), Ok(-1250));
        assert_eq!(signed("－１２．５"), Ok(-1250));
        assert_eq!(signed("+3"), Ok(300));
        assert_eq!(signed("-0"), Ok(0));
        assert_eq!(signed("-1,000"), Ok(-100_000));
        assert_eq!(
            signed("-79228162514264337593543950335").unwrap_err().code(),
            "number_too_many_digits"
        );
    }

    #[test]
    fn scales_of_other_formats() {
        assert_eq!(parse("3.37", &AREA).map(|v| v.units), Ok(33_700));
        assert_eq!(parse("0.0001", &AREA).map(|v| v.units), Ok(1));
        assert_eq!(
            parse("1.00001", &AREA).unwrap_err().code(),
            "number_too_many_decimals"
        );
        assert_eq!(parse("35.25", &PERCENT).map(|v| v.units), Ok(3525));
        assert_eq!(
            parse("1000", &PERCENT).unwrap_err().code(),
            "number_too_many_digits"
        );
        assert_eq!(parse_decimal("12.5", &FACT), Ok(Decimal::new(125, 1)));
        assert_eq!(parse("1,000.50", &FACT).unwrap().to_string(), "1000.5");
    }

    #[test]
    fn long_input_is_shortened_in_messages() {
        let long = "1".repeat(10_000);
        let msg = money(&long).unwrap_err().to_string();
        assert!(msg.chars().count() < 100, "{msg}");
        assert!(msg.contains("10000位"), "{msg}");
    }

    #[test]
    fn every_format_fits_in_i64() {
        for f in [MONEY, SIGNED_MONEY, SIGNED_TOTAL, AREA, PERCENT, FACT] {
            assert!(f.max_int_digits + f.max_decimals <= MAX_TOTAL_DIGITS);
        }
    }
}
