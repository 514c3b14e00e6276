//! Shared by every workbook: Excel's limits, the number and text formats,
//! the formula-injection guard every text cell goes through, and widths.

use std::borrow::Cow;

use rust_xlsxwriter::{Format, FormatBorder, Worksheet, XlsxError};

/// Excel's limits.
pub(super) const MAX_ROWS: usize = 1_048_576;
pub(super) const MAX_COLS: usize = 16_384;

/// At least two decimals, up to four: the same as `Mu`'s Display.
pub(super) const MU_FORMAT: &str = "0.00##";
pub(super) const INT_FORMAT: &str = "0";
pub(super) const TEXT_FORMAT: &str = "@";

pub(super) const HEADER_FILL: u32 = 0xD9E1F2;
pub(super) const GREY_TEXT: u32 = 0x808080;

/// True when a spreadsheet program could take the text for a formula: it
/// starts, after any whitespace, with `= + - @` or their full-width forms
/// (Chinese input methods type `＝`, and some programs fold it to `=`).
pub fn is_formula_like(s: &str) -> bool {
    matches!(
        s.trim_start_matches(char::is_whitespace).chars().next(),
        Some('=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠')
    )
}

/// The cell's format, with the quote prefix added when the text looks like a
/// formula. A string cell is never evaluated when the file is opened; the
/// prefix keeps it a string when someone edits the cell and presses Enter,
/// or saves the sheet as CSV.
pub(super) fn guarded<'a>(format: &'a Format, text: &str) -> Cow<'a, Format> {
    if is_formula_like(text) {
        Cow::Owned(format.clone().set_quote_prefix())
    } else {
        Cow::Borrowed(format)
    }
}

/// The only way text reaches a cell in this module.
pub(super) fn put_text(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    ws.write_string_with_format(row, col, text, &guarded(format, text))?;
    Ok(())
}

/// A title across `cols` columns (merged when there are at least two).
pub(super) fn put_banner(
    ws: &mut Worksheet,
    row: u32,
    cols: usize,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if cols >= 2 {
        ws.merge_range(row, 0, row, to_col(cols - 1), text, &guarded(format, text))?;
        Ok(())
    } else {
        put_text(ws, row, 0, text, format)
    }
}

/// Column indexes are checked against [`MAX_COLS`] before any cell is written.
pub(super) fn to_col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Row indexes are checked against [`MAX_ROWS`] before any cell is written.
pub(super) fn to_row(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Width of a text in Excel character units: CJK and full-width characters
/// take two, which rust_xlsxwriter's `autofit` does not know.
pub(super) fn display_width(s: &str) -> f64 {
    s.chars()
        .map(|c| {
            let u = c as u32;
            let wide = matches!(u,
                0x1100..=0x115F
                | 0x2E80..=0xA4CF
                | 0xAC00..=0xD7A3
                | 0xF900..=0xFAFF
                | 0xFE30..=0xFE4F
                | 0xFF00..=0xFF60
                | 0xFFE0..=0xFFE6
                | 0x20000..=0x3FFFD);
            if wide {
                2.0
            } else {
                1.0
            }
        })
        .sum()
}

/// A column width that shows the widest text, within bounds.
pub(super) fn fitted_width<'a>(texts: impl IntoIterator<Item = &'a str>, max: f64) -> f64 {
    let widest = texts.into_iter().map(display_width).fold(0.0, f64::max);
    (widest + 2.0).clamp(6.0, max)
}

pub(super) fn border(f: Format) -> Format {
    f.set_border(FormatBorder::Thin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::write::test_support::*;

    #[test]
    fn formula_like_text_is_recognised() {
        for s in INJECTIONS {
            assert!(is_formula_like(s), "{s}");
        }
        for s in [" =1", "\t+1", "  -x", "\u{3000}＠a", "＋1", "－1", "\n=1"] {
            assert!(is_formula_like(s), "{s:?}");
        }
        for s in [
            "张三",
            "1-2",
            "a=b",
            "",
            "   ",
            "53299919700101001X",
            "3.37",
            "（=）",
        ] {
            assert!(!is_formula_like(s), "{s:?}");
        }
    }

    #[test]
    fn display_width_counts_cjk_double() {
        assert_eq!(display_width("abc"), 3.0);
        assert_eq!(display_width("张三"), 4.0);
        assert_eq!(display_width("（１）"), 6.0);
        assert_eq!(fitted_width(["张三"], 40.0), 6.0);
        assert_eq!(fitted_width(["610423198001010011"], 40.0), 20.0);
        assert_eq!(fitted_width(["x".repeat(100).as_str()], 40.0), 40.0);
    }
}
