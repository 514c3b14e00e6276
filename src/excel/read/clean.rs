//! Cell cleaning: a cell as shown in Excel, hand-typing noise removed, dates
//! and numbers that Excel already damaged reported as problems.

use crate::error::ErrorCode;
use calamine::Data;

use super::{Field, Kind};

#[derive(Debug, PartialEq)]
pub(super) enum Cleaned {
    Empty,
    Value(String),
    Problem(ErrorCode, String),
}

/// A cell as a person sees it in Excel or WPS.
pub(super) fn shown(value: &Data) -> String {
    match value {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(true) => "是".to_string(),
        Data::Bool(false) => "否".to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if dt.as_f64() < 1.0 {
                format!("{h:02}:{mi:02}:{s:02}")
            } else if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTime(dt) => float_text(dt.as_f64()),
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// Numbers as Excel's General format shows them: integral without ".0",
/// otherwise at most 15 significant digits, so binary noise from formulas
/// (0.1+0.2) reads as "0.3" while 3.37 stays "3.37".
fn float_text(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    // The shortest text that reads back as `f`: when it has at most 15
    // significant digits it is also `f` rounded to 15 (a double's error is
    // far below half a step of the 15th digit), so the round trip through
    // `{:.14e}` below would give it back unchanged. Most cells take this path.
    let shortest = f.to_string();
    let significant = shortest
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|&b| b == b'0')
        .collect::<Vec<u8>>();
    let trailing_zeros = significant.iter().rev().take_while(|&&b| b == b'0').count();
    if significant.len() - trailing_zeros <= 15 {
        return shortest;
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    format!("{rounded}")
}

pub(super) use crate::domain::text::halfwidth;

pub(super) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// Nothing for the cleaners to do: no whitespace, no full-width forms (most
/// cells of a real roster), so the text can be taken as it is.
fn already_clean(s: &str) -> bool {
    if s.is_ascii() {
        return !s.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0B);
    }
    s.chars().all(|c| !c.is_whitespace() && halfwidth(c) == c)
}

/// Trim, collapse runs of spaces, and drop spaces between two Chinese
/// characters ("王  芳" -> "王芳", people pad two-character names).
fn clean_text(s: &str) -> String {
    if already_clean(s) {
        return s.to_string();
    }
    let s: String = s.chars().map(halfwidth).collect();
    let mut out = String::new();
    for word in s.split_whitespace() {
        let join = match (out.chars().next_back(), word.chars().next()) {
            (Some(a), Some(b)) => !(is_cjk(a) && is_cjk(b)),
            _ => false,
        };
        if join {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// No whitespace at all, half-width, no leading apostrophe (a text marker
/// some people type literally).
pub(super) fn clean_code(s: &str) -> String {
    if already_clean(s) {
        return s.trim_start_matches(['\'', '`']).to_string();
    }
    let t: String = s
        .chars()
        .map(halfwidth)
        .filter(|c| !c.is_whitespace())
        .collect();
    t.trim_start_matches(['\'', '`']).to_string()
}

fn clean_number(field: Field, s: &str) -> String {
    let mut t = clean_code(s);
    if t.contains('。') {
        t = t.replace('。', ".");
    }
    let keep = t.trim_end_matches(field.units()).len();
    t.truncate(keep);
    t
}

pub(super) fn normalize(field: Field, value: &Data) -> Cleaned {
    let kind = field.kind();
    let cleaned: std::borrow::Cow<str> = match value {
        Data::Empty => return Cleaned::Empty,
        Data::Error(e) => {
            return Cleaned::Problem(
                ErrorCode::CellError,
                format!("{}单元格是公式错误（{}），请改为实际的值", field.label(), e),
            )
        }
        Data::Float(f) => {
            if let Some(p) = lost_digits(field, f.abs() >= 1e14, f.abs() >= 1e15) {
                return p;
            }
            if kind == Kind::Date {
                return excel_serial_date(*f, value);
            }
            float_text(*f).into()
        }
        Data::Int(i) => {
            let digits = i.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
            if let Some(p) = lost_digits(field, digits >= 15, digits >= 16) {
                return p;
            }
            if kind == Kind::Date {
                return excel_serial_date(*i as f64, value);
            }
            i.to_string().into()
        }
        Data::DateTime(dt) => {
            if kind == Kind::Date && dt.is_datetime() {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                return match chrono::NaiveDate::from_ymd_opt(y.into(), m.into(), d.into()) {
                    Some(date) => Cleaned::Value(date.format("%Y-%m-%d").to_string()),
                    None => date_invalid(value),
                };
            }
            if kind == Kind::Remark {
                shown(value).into()
            } else if kind == Kind::Date {
                return date_invalid(value);
            } else {
                return stored_as_date(field, value);
            }
        }
        Data::DateTimeIso(_) if !matches!(kind, Kind::Date | Kind::Remark) => {
            return stored_as_date(field, value)
        }
        // A text cell is shown as it is: borrow it rather than copy it.
        Data::String(s) => s.as_str().into(),
        Data::Bool(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => shown(value).into(),
    };
    let out = match kind {
        Kind::Text => clean_text(&cleaned),
        Kind::Remark => cleaned.trim().to_string(),
        Kind::Code => {
            let mut t = clean_code(&cleaned);
            if field == Field::IdNumber && t.ends_with('x') {
                t.pop();
                t.push('X');
            }
            t
        }
        Kind::Number => clean_number(field, &cleaned),
        Kind::Date => {
            if cleaned.trim().is_empty() {
                return Cleaned::Empty;
            }
            return match crate::domain::time::read_day(&cleaned) {
                Some(d) => Cleaned::Value(d.format("%Y-%m-%d").to_string()),
                None => date_invalid(value),
            };
        }
    };
    if out.is_empty() {
        return Cleaned::Empty;
    }
    // The same rules as the API and the forms: a bad cell rejects its row in
    // the preview, never the commit (PostgreSQL refuses NUL in text).
    match crate::domain::text::check_str(field.label(), &out, field.text_kind()) {
        // Cleaned text is trimmed already, nearly always: no copy then.
        Ok(t) if t.len() == out.len() => Cleaned::Value(out),
        Ok(t) => Cleaned::Value(t.to_string()),
        Err(p) => Cleaned::Problem(p.code, p.message),
    }
}

/// A long number typed into a General-format cell keeps only 15 significant
/// digits: the ID (18) or account (16-19) is already wrong, and guessing the
/// lost digits would be worse than asking.
fn lost_digits(field: Field, id_long: bool, account_long: bool) -> Option<Cleaned> {
    match field {
        Field::IdNumber if id_long => Some(Cleaned::Problem(
            ErrorCode::IdNumberStoredAsNumber,
            "身份证号被存成了数字，后几位已丢失；请把该列设置为“文本”格式后重新填写".to_string(),
        )),
        Field::BankAccount if account_long => Some(Cleaned::Problem(
            ErrorCode::BankAccountStoredAsNumber,
            "银行账号被存成了数字，后几位已丢失；请把该列设置为“文本”格式后重新填写".to_string(),
        )),
        _ => None,
    }
}

fn stored_as_date(field: Field, value: &Data) -> Cleaned {
    Cleaned::Problem(
        ErrorCode::StoredAsDate,
        format!(
            "{}被存成了日期（显示为{}），请把该列设置为“常规”或“文本”格式后重新填写",
            field.label(),
            shown(value)
        ),
    )
}

fn date_invalid(value: &Data) -> Cleaned {
    Cleaned::Problem(
        ErrorCode::DateInvalid,
        format!(
            "缴费日期“{}”无法识别，请填写如 2012-03-05 的日期",
            shown(value).trim()
        ),
    )
}

/// A number in the date column: 20120305 typed as a number, or an Excel
/// serial day (a date cell that lost its format) between 1990 and 2100.
fn excel_serial_date(v: f64, original: &Data) -> Cleaned {
    let date = if v.fract() == 0.0 && (19_000_101.0..=21_001_231.0).contains(&v) {
        crate::domain::time::read_day(&format!("{}", v as i64))
    } else if (32_874.0..=73_051.0).contains(&v) {
        // Serial days count from 1899-12-30 once past Excel's 1900 leap bug.
        chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|d| d.checked_add_days(chrono::Days::new(v.floor() as u64)))
    } else {
        None
    };
    match date {
        Some(d) => Cleaned::Value(d.format("%Y-%m-%d").to_string()),
        None => date_invalid(original),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::read::test_support::*;
    use calamine::CellErrorType;

    // ------------------------------------------------------------ cleaning

    #[test]
    fn text_and_code_cleaning() {
        // A field a line, with its cells as typed and the values kept.
        #[rustfmt::skip]
        let cases: [(Field, &[(&str, &str)]); 7] = [
            (Field::GrowerName, &[("王  芳", "王芳"), ("\u{3000}何家顺\u{3000}", "何家顺"), ("阿 依 古丽", "阿依古丽"), ("Zhang  San", "Zhang San")]),
            (Field::Village, &[(" 一 村", "一村")]),
            (Field::IdNumber, &[(" 532999 19700101 0154 ", "532999197001010154"), ("５３２９９９１９７７０３０５２０５ｘ", "53299919770305205X"), ("53299919770305205x", "53299919770305205X"), ("'532999197001010154", "532999197001010154")]),
            (Field::Phone, &[("139 8765\u{3000}0002", "13987650002")]),
            (Field::BankAccount, &[("6228 4807 0200 0000 015", "6228480702000000015")]),
            (Field::PlotCode, &[("532999101201－0001", "532999101201-0001")]),
            (Field::Remarks, &[("  补交 2 次 ", "补交 2 次")]),
        ];
        for (field, pairs) in cases {
            for &(raw, want) in pairs {
                assert_eq!(value(field, s(raw)), want, "{field:?} {raw:?}");
            }
        }
        assert_eq!(normalize(Field::GrowerName, &s("   ")), Cleaned::Empty);
        assert_eq!(normalize(Field::IdNumber, &s("\u{3000}")), Cleaned::Empty);
        assert_eq!(value(Field::Remarks, Data::Bool(true)), "是");
        assert_eq!(value(Field::Remarks, Data::Bool(false)), "否");
    }

    #[test]
    fn cells_meet_the_shared_text_rules() {
        let (code, msg) = problem(Field::GrowerName, s("王\0芳"));
        assert_eq!(code, "text_control_char");
        assert!(msg.starts_with("姓名") && msg.contains("NUL"), "{msg}");
        let cases = [
            (
                Field::GrowerName,
                "王\u{7}芳".to_string(),
                "text_control_char",
            ),
            (Field::Village, "一\u{202E}村".to_string(), "text_bidi_char"),
            (
                Field::PlotCode,
                "A\u{200B}1".to_string(),
                "text_invisible_char",
            ),
            (Field::Remarks, "备\0注".to_string(), "text_control_char"),
            (Field::PlotCode, "P".repeat(5_000), "text_too_long"),
        ];
        for (field, raw, code) in cases {
            assert_eq!(problem(field, s(&raw)).0, code, "{field:?} {raw:?}");
        }
        let (code, msg) = problem(Field::GrowerName, s(&"王".repeat(10_000)));
        assert_eq!(code, "text_too_long");
        assert_eq!(msg, "姓名不能超过30个字（现为10000个字）");
        assert_eq!(
            value(Field::GrowerName, s(&"王".repeat(30))),
            "王".repeat(30)
        );
        // Line breaks inside a name are spacing, cleaned away; a remark keeps them.
        assert_eq!(value(Field::GrowerName, s("王\n芳")), "王芳");
        assert_eq!(value(Field::Remarks, s("一\n二")), "一\n二");
    }

    #[test]
    fn number_cleaning() {
        assert_eq!(value(Field::AreaMu, s("３．５")), "3.5");
        assert_eq!(value(Field::AreaMu, s("3。5")), "3.5");
        assert_eq!(value(Field::AreaMu, s(" 2.5 ")), "2.5");
        assert_eq!(value(Field::AreaMu, s("3.5亩")), "3.5");
        assert_eq!(value(Field::TreeAge, s("12年")), "12");
        assert_eq!(value(Field::TreeCount, s("40 株")), "40");
        assert_eq!(value(Field::FruitPerTree, s("300个")), "300");
        assert_eq!(value(Field::AreaMu, Data::Float(3.37)), "3.37");
        assert_eq!(value(Field::AreaMu, Data::Float(12.0)), "12");
        assert_eq!(value(Field::AreaMu, Data::Float(0.1 + 0.2)), "0.3");
        assert_eq!(value(Field::TreeCount, Data::Int(45)), "45");
        assert_eq!(
            value(Field::Phone, Data::Float(13987650001.0)),
            "13987650001"
        );
        assert_eq!(value(Field::Phone, Data::Int(13987650001)), "13987650001");
        // Not a number: passed on for the domain to reject with its message.
        assert_eq!(value(Field::AreaMu, s("三亩半")), "三亩半");
    }

    #[test]
    fn float_text_shortcut_agrees_with_the_round_trip() {
        let slow = |f: f64| {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                return format!("{}", f as i64);
            }
            let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
            format!("{rounded}")
        };
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values = vec![
            0.1 + 0.2,
            1.0 / 3.0,
            2.0 / 3.0,
            1e-7,
            123_456_789.123_456_78,
            1e20,
            1.5e300,
            -4.35,
            5e-324,
            0.5 + 96.0 * 0.13,
        ];
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(f64::from_bits(x));
            values.push((x % 1_000_000) as f64 / 10_000.0);
            values.push(0.5 + (i % 97) as f64 * 0.13 + 0.25);
        }
        for f in values.into_iter().filter(|f| f.is_finite()) {
            assert_eq!(float_text(f), slow(f), "{f:e}");
        }
    }

    #[test]
    fn float_text_is_what_excel_shows() {
        assert_eq!(float_text(3.37), "3.37");
        assert_eq!(float_text(12.0), "12");
        assert_eq!(float_text(-0.0), "0");
        assert_eq!(float_text(0.1 + 0.2), "0.3");
        assert_eq!(float_text(1.0 / 3.0), "0.333333333333333");
        assert_eq!(float_text(6.1042319800101e17), "610423198001010000");
        assert_eq!(float_text(f64::NAN), "NaN");
    }

    #[test]
    fn id_number_stored_as_number_is_refused() {
        for v in [
            Data::Float(6.1042319800101e17),
            Data::Float(5.32999196901011e17),
            Data::Int(532_999_196_901_011_012),
            Data::Int(532_999_196_901_011),
        ] {
            let (code, msg) = problem(Field::IdNumber, v);
            assert_eq!(code, "id_number_stored_as_number");
            assert_eq!(
                msg,
                "身份证号被存成了数字，后几位已丢失；请把该列设置为“文本”格式后重新填写"
            );
        }
        // Short numbers lost nothing; the domain will say the length is wrong.
        assert_eq!(value(Field::IdNumber, Data::Int(12345)), "12345");
        assert_eq!(value(Field::IdNumber, Data::Float(12345.0)), "12345");
    }

    #[test]
    fn bank_account_stored_as_number_is_refused_from_16_digits() {
        for v in [
            Data::Float(6.22848070200000e18),
            Data::Int(6_228_480_702_000_000),
        ] {
            assert_eq!(
                problem(Field::BankAccount, v).0,
                "bank_account_stored_as_number"
            );
        }
        assert_eq!(
            value(Field::BankAccount, Data::Int(622_848_070_200_001)),
            "622848070200001"
        );
        assert_eq!(
            value(Field::BankAccount, Data::Float(622_848_070_200_001.0)),
            "622848070200001"
        );
    }

    #[test]
    fn date_text_forms() {
        let want = chrono::NaiveDate::from_ymd_opt(2012, 3, 5);
        for t in [
            "2012-3-5",
            "2012-03-05",
            "2012/03/05",
            "2012/3/5",
            "2012.3.5",
            "2012年3月5日",
            "2012年03月05号",
            "2012年3月5",
            "２０１２－３－５",
            "20120305",
            "2012-03-05 00:00:00",
            "2012-03-05T10:30:00",
            " 2012-3-5 ",
        ] {
            assert_eq!(crate::domain::time::read_day(t), want, "{t:?}");
        }
        for t in [
            "2012-02-30",
            "2012-13-01",
            "3月5日",
            "12-3-5",
            "2012-3",
            "明天",
            "1850-01-01",
            "2012/3/5/1",
        ] {
            assert_eq!(crate::domain::time::read_day(t), None, "{t:?}");
        }
    }

    #[test]
    fn date_cells() {
        let f = Field::CollectedOn;
        // 40973 is 2012-03-05 in the 1900 date system.
        assert_eq!(value(f, date(40973.0)), "2012-03-05");
        assert_eq!(value(f, date(40973.75)), "2012-03-05");
        assert_eq!(value(f, Data::Float(40973.0)), "2012-03-05");
        assert_eq!(value(f, Data::Int(40973)), "2012-03-05");
        assert_eq!(value(f, Data::Int(20120305)), "2012-03-05");
        assert_eq!(value(f, s("2012年3月5日")), "2012-03-05");
        assert_eq!(
            value(f, Data::DateTimeIso("2012-03-05T00:00:00".into())),
            "2012-03-05"
        );
        let (code, msg) = problem(f, s("2012-02-30"));
        assert_eq!(code, "date_invalid");
        assert_eq!(
            msg,
            "缴费日期“2012-02-30”无法识别，请填写如 2012-03-05 的日期"
        );
        assert_eq!(problem(f, s("三月五日")).0, "date_invalid");
        assert_eq!(problem(f, Data::Int(5)).0, "date_invalid");
        assert_eq!(problem(f, Data::Float(20120230.0)).0, "date_invalid");
        assert_eq!(problem(f, Data::Bool(true)).0, "date_invalid");
        assert_eq!(normalize(f, &s(" ")), Cleaned::Empty);
    }

    #[test]
    fn a_date_in_a_number_column_and_formula_errors() {
        let (code, msg) = problem(Field::AreaMu, date(40973.0));
        assert_eq!(code, "stored_as_date");
        assert!(msg.contains("2012-03-05"), "{msg}");
        assert_eq!(
            problem(Field::TreeAge, Data::DateTimeIso("2012-03-05".into())).0,
            "stored_as_date"
        );
        assert_eq!(value(Field::Remarks, date(40973.0)), "2012-03-05");
        let (code, msg) = problem(Field::AreaMu, Data::Error(CellErrorType::Value));
        assert_eq!(code, "cell_error");
        assert!(msg.contains("#VALUE!"), "{msg}");
    }
}
