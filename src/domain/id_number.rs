//! Mainland resident identity numbers (GB 11643-1999).

use crate::error::ErrorCode;
use chrono::{Datelike, NaiveDate};
use std::fmt;

use super::macros::serde_as_text;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// A valid 18-character ID number, upper-case check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("身份证号应为18位，实际为{0}位")]
    Length(usize),
    #[error("身份证号前17位必须是数字，最后一位是数字或X")]
    Characters,
    #[error("身份证号中的出生日期无效：{0}")]
    BirthDate(String),
    #[error("身份证号校验位错误：应为{expected}，实际为{actual}")]
    Checksum { expected: char, actual: char },
    #[error("身份证号前两位不是有效的省级行政区划代码：{0}")]
    Region(String),
}

impl IdNumberError {
    pub fn code(&self) -> ErrorCode {
        match self {
            IdNumberError::Length(_) => ErrorCode::IdNumberLength,
            IdNumberError::Characters => ErrorCode::IdNumberCharacters,
            IdNumberError::BirthDate(_) => ErrorCode::IdNumberBirthDate,
            IdNumberError::Checksum { .. } => ErrorCode::IdNumberChecksum,
            IdNumberError::Region(_) => ErrorCode::IdNumberRegion,
        }
    }
}

/// The check character for the first 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    CHECK_CHARS.get((sum % 11) as usize).copied()
}

impl IdNumber {
    /// Parse with today's date as the upper bound for the birth date.
    pub fn parse(s: &str) -> Result<IdNumber, IdNumberError> {
        IdNumber::parse_at(s, chrono::Utc::now().date_naive())
    }

    /// The text a valid ID number is stored as: full-width digits made
    /// narrow, spaces dropped, a small or full-width x made `X`. What
    /// `parse` checks and keeps; cheap enough to key lookups on.
    pub fn key(s: &str) -> String {
        let narrow = |c: char| !c.is_whitespace() && c != 'x';
        if s.bytes().all(|b| b.is_ascii() && narrow(char::from(b))) {
            return s.to_string();
        }
        super::measure::normalize_width(s)
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| {
                if c == 'x' || c == 'Ｘ' || c == 'ｘ' {
                    'X'
                } else {
                    c
                }
            })
            .collect()
    }

    pub fn parse_at(s: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let t = IdNumber::key(s);
        let n = t.chars().count();
        if n != 18 {
            return Err(IdNumberError::Length(n));
        }
        // Work on characters, never byte offsets: a multi-byte character
        // anywhere is a validation error, not a split inside a character.
        let chars: Vec<char> = t.chars().collect();
        let (first17, last) = match chars.split_last() {
            Some((last, first17)) => (first17, *last),
            None => return Err(IdNumberError::Length(0)),
        };
        if !first17.iter().all(char::is_ascii_digit) || !(last.is_ascii_digit() || last == 'X') {
            return Err(IdNumberError::Characters);
        }
        let digits: String = first17.iter().collect();
        let part = |from: usize, to: usize| -> String {
            first17.iter().skip(from).take(to - from).collect()
        };
        let region = part(0, 2);
        let province: u32 = region.parse().unwrap_or(0);
        if !(11..=82).contains(&province) {
            return Err(IdNumberError::Region(region));
        }
        let birth = part(6, 14);
        // Eight ASCII digits (checked above): the date without a strftime parse.
        let number = |from: usize, to: usize| {
            first17
                .iter()
                .take(to)
                .skip(from)
                .fold(0u32, |n, c| n * 10 + c.to_digit(10).unwrap_or(0))
        };
        let date = i32::try_from(number(6, 10))
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, number(10, 12), number(12, 14)))
            .ok_or_else(|| IdNumberError::BirthDate(birth.clone()))?;
        if date.year() < 1900 || date > today {
            return Err(IdNumberError::BirthDate(birth));
        }
        let expected = check_char(&digits).ok_or(IdNumberError::Characters)?;
        if expected != last {
            return Err(IdNumberError::Checksum {
                expected,
                actual: last,
            });
        }
        Ok(IdNumber(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        // Validated at parse time, so the fallback is never taken.
        let birth: String = self.0.chars().skip(6).take(8).collect();
        NaiveDate::parse_from_str(&birth, "%Y%m%d").unwrap_or_default()
    }

    /// The form shown in lists and public notices: `5329**********1234`.
    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }
}

/// Mask any stored ID-like string, keeping the first 4 and last 4 characters.
pub fn mask_id(s: &str) -> String {
    mask_keeping(s, 4, 4, 9)
}

/// Mask a phone number as `138****5678`.
pub fn mask_phone(s: &str) -> String {
    mask_keeping(s, 3, 4, 7)
}

/// Keep `head` and `tail` characters and star the rest; all stars when the
/// text is shorter than `min_len`. Counts characters, not bytes.
fn mask_keeping(s: &str, head: usize, tail: usize, min_len: usize) -> String {
    let n = s.chars().count();
    if n < min_len || n < head + tail {
        return "*".repeat(n);
    }
    let mut out = String::with_capacity(s.len());
    out.extend(s.chars().take(head));
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(s.chars().skip(n - tail));
    out
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serde_as_text!(IdNumber, IdNumber::parse);

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    #[test]
    fn accepts_valid_numbers() {
        // The GB 11643 worked example.
        let id = IdNumber::parse_at("11010519491231002X", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        // Lower-case x, spaces and full-width digits are normalised.
        let id = IdNumber::parse_at(" 11010519491231002x ", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let id = IdNumber::parse_at("１１０１０５１９４９１２３１００２Ｘ", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn the_key_is_what_parse_keeps() {
        for s in [
            "11010519491231002X",
            " 11010519491231002x ",
            "１１０１０５１９４９１２３１００２Ｘ",
            "110105 19491231 002x",
            "\u{3000}11010519491231002ｘ",
        ] {
            let parsed = IdNumber::parse_at(s, today()).unwrap();
            assert_eq!(IdNumber::key(s), parsed.as_str(), "{s:?}");
        }
        // Not an ID number: the key is only normalised text.
        assert_eq!(IdNumber::key("abc x"), "abcX");
    }

    #[test]
    fn birth_dates_out_of_the_calendar_are_refused() {
        let e = |first17: &str| {
            let mut s = first17.to_string();
            s.push(check_char(first17).unwrap());
            IdNumber::parse_at(&s, today()).unwrap_err().code()
        };
        for first17 in [
            "11010519491331002", // month 13
            "11010519490001002", // month 0
            "11010519491200002", // day 0
            "11010519490229002", // 1949 was not a leap year
            "11010518991231002", // before 1900
        ] {
            assert_eq!(e(first17), "id_number_birth_date", "{first17}");
        }
        let mut leap = String::from("11010520000229002");
        leap.push(check_char(&leap).unwrap());
        assert!(IdNumber::parse_at(&leap, today()).is_ok());
    }

    #[test]
    fn computes_check_characters() {
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert_eq!(check_char("44052418800101001"), Some('4'));
    }

    #[test]
    fn refuses_invalid_numbers() {
        let e = |s| IdNumber::parse_at(s, today()).unwrap_err();
        assert_eq!(
            e("110105194912310021"),
            IdNumberError::Checksum {
                expected: 'X',
                actual: '1'
            }
        );
        assert_eq!(e("1101051949123100"), IdNumberError::Length(16));
        assert_eq!(e("11010519491231A02X"), IdNumberError::Characters);
        // A multi-byte character where the check character is split off.
        assert_eq!(e("5329991970010100中1"), IdNumberError::Characters);
        assert_eq!(e("中329991970010100X1"), IdNumberError::Characters);
        assert_eq!(e("53299919700101001中"), IdNumberError::Characters);
        assert_eq!(e("5329991970０10100é1"), IdNumberError::Characters);
        assert_eq!(
            e("😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"),
            IdNumberError::Characters
        );
        assert_eq!(e("5329991970010100中"), IdNumberError::Length(17));
        assert_eq!(e(""), IdNumberError::Length(0));
        assert_eq!(e("110105194902300020").code(), "id_number_birth_date");
        // Born in the future.
        let mut future = String::from("11010520990101001");
        future.push(check_char(&future).unwrap());
        assert_eq!(e(&future).code(), "id_number_birth_date");
        let mut bad_region = String::from("99010519491231002");
        bad_region.push(check_char(&bad_region).unwrap());
        assert_eq!(e(&bad_region).code(), "id_number_region");
    }

    #[test]
    fn masks_for_lists() {
        let id = IdNumber::parse_at("11010519491231002X", today()).unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(mask_id("12345678"), "********");
        assert_eq!(mask_id("123456789"), "1234*6789");
        assert_eq!(mask_id("１２３４56789"), "１２３４*6789");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("138123"), "******");
        assert_eq!(mask_phone("1381234"), "1381234");
        assert_eq!(mask_phone("王王王王王王王王"), "王王王*王王王王");
    }
}
