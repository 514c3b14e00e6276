//! Mainland resident identity numbers (GB 11643-1999).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

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
    pub fn code(&self) -> &'static str {
        match self {
            IdNumberError::Length(_) => "id_number_length",
            IdNumberError::Characters => "id_number_characters",
            IdNumberError::BirthDate(_) => "id_number_birth_date",
            IdNumberError::Checksum { .. } => "id_number_checksum",
            IdNumberError::Region(_) => "id_number_region",
        }
    }
}

/// The check character for the first 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    Some(CHECK_CHARS[(sum % 11) as usize])
}

impl IdNumber {
    /// Parse with today's date as the upper bound for the birth date.
    pub fn parse(s: &str) -> Result<IdNumber, IdNumberError> {
        IdNumber::parse_at(s, chrono::Utc::now().date_naive())
    }

    pub fn parse_at(s: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let t: String = super::measure::normalize_width(s)
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| {
                if c == 'x' || c == 'Ｘ' || c == 'ｘ' {
                    'X'
                } else {
                    c
                }
            })
            .collect();
        let n = t.chars().count();
        if n != 18 {
            return Err(IdNumberError::Length(n));
        }
        let (first17, last) = t.split_at(17);
        let last = last.chars().next().unwrap_or(' ');
        if !first17.chars().all(|c| c.is_ascii_digit()) || !(last.is_ascii_digit() || last == 'X') {
            return Err(IdNumberError::Characters);
        }
        let province: u32 = first17[0..2].parse().unwrap_or(0);
        if !(11..=82).contains(&province) {
            return Err(IdNumberError::Region(first17[0..2].to_string()));
        }
        let birth = &first17[6..14];
        let date = NaiveDate::parse_from_str(birth, "%Y%m%d")
            .map_err(|_| IdNumberError::BirthDate(birth.to_string()))?;
        if date.year() < 1900 || date > today {
            return Err(IdNumberError::BirthDate(birth.to_string()));
        }
        let expected = check_char(first17).ok_or(IdNumberError::Characters)?;
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
        // Validated at parse time.
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("validated birth date")
    }

    /// The form shown in lists and public notices: `5329**********1234`.
    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }
}

/// Mask any stored ID-like string, keeping the first 4 and last 4 characters.
pub fn mask_id(s: &str) -> String {
    if s.is_ascii() {
        // One character per byte: slice instead of collecting characters.
        let n = s.len();
        if n <= 8 {
            return "*".repeat(n);
        }
        let mut out = String::with_capacity(n);
        out.push_str(&s[..4]);
        out.push_str(&"*".repeat(n - 8));
        out.push_str(&s[n - 4..]);
        return out;
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{}{}{}", head, "*".repeat(chars.len() - 8), tail)
}

/// Mask a phone number as `138****5678`.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{}{}{}", head, "*".repeat(chars.len() - 7), tail)
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IdNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IdNumber, D::Error> {
        let s = String::deserialize(d)?;
        IdNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

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
    }
}
