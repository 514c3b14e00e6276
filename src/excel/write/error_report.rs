//! The error report handed back for a rejected roster: the rows as uploaded,
//! bad cells marked, the reasons in a last column.

use rust_xlsxwriter::{Color, Format, FormatAlign, Workbook};

use super::cells::*;
use super::WriteError;

const BAD_FILL: u32 = 0xFFC7CE;
const BAD_TEXT: u32 = 0x9C0006;
const REASON_TEXT: u32 = 0xC00000;

/// One rejected roster row, as uploaded.
#[derive(Debug, Clone)]
pub struct ErrorRow {
    /// The row number the clerk sees in Excel.
    pub row: usize,
    /// The row's cells as text, in the order of the uploaded headers.
    pub cells: Vec<String>,
    /// 0-based indexes into `cells` of the cells at fault.
    pub bad_columns: Vec<usize>,
    pub reasons: Vec<String>,
}

pub const ERROR_REPORT_SHEET: &str = "错误报告";
pub const ROW_NUMBER_HEADER: &str = "原行号";
pub const REASON_HEADER: &str = "错误原因";

/// The error report: sheet 错误报告 with 原行号, the uploaded columns and
/// 错误原因 (reasons joined with "；"); bad cells light red with dark red text.
pub fn error_report(headers: &[String], rows: &[ErrorRow]) -> Result<Vec<u8>, WriteError> {
    // A row may carry cells beyond the header (a stray value to the right);
    // they get a column of their own rather than being dropped.
    let width = rows
        .iter()
        .flat_map(|r| r.bad_columns.iter().map(|c| c + 1).chain([r.cells.len()]))
        .chain([headers.len()])
        .max()
        .unwrap_or(0);
    if width + 2 > MAX_COLS || rows.len() + 1 > MAX_ROWS {
        return Err(WriteError("错误报告超出Excel的行数或列数上限".to_string()));
    }
    let reason_col = to_col(width + 1);

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(ERROR_REPORT_SHEET)?;

    let header_format = border(Format::new())
        .set_bold()
        .set_background_color(Color::RGB(HEADER_FILL))
        .set_align(FormatAlign::Center);
    let number = border(Format::new()).set_num_format(INT_FORMAT);
    let text = border(Format::new()).set_num_format(TEXT_FORMAT);
    let bad = text
        .clone()
        .set_background_color(Color::RGB(BAD_FILL))
        .set_font_color(Color::RGB(BAD_TEXT));
    let reason = text
        .clone()
        .set_font_color(Color::RGB(REASON_TEXT))
        .set_text_wrap();

    let header_texts: Vec<&str> = std::iter::once(ROW_NUMBER_HEADER)
        .chain((0..width).map(|i| headers.get(i).map_or("", String::as_str)))
        .chain([REASON_HEADER])
        .collect();
    for (c, h) in header_texts.iter().enumerate() {
        put_text(ws, 0, to_col(c), h, &header_format)?;
    }

    let mut joined_reasons = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let row = to_row(i + 1);
        ws.write_number_with_format(row, 0, r.row as f64, &number)?;
        for c in 0..width {
            let is_bad = r.bad_columns.contains(&c);
            let format = if is_bad { &bad } else { &text };
            match r.cells.get(c) {
                // Written as text whatever it looks like: an 18-digit ID
                // must come back exactly as the clerk typed it.
                Some(s) if !s.is_empty() => put_text(ws, row, to_col(c + 1), s, format)?,
                _ if is_bad => {
                    ws.write_blank(row, to_col(c + 1), format)?;
                }
                _ => {}
            }
        }
        let joined = r.reasons.join("；");
        put_text(ws, row, reason_col, &joined, &reason)?;
        joined_reasons.push(joined);
    }

    ws.set_column_width(
        0,
        fitted_width(
            rows.iter()
                .map(|r| r.row.to_string())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .chain([ROW_NUMBER_HEADER]),
            12.0,
        ),
    )?;
    for c in 0..width {
        let w = fitted_width(
            rows.iter()
                .filter_map(|r| r.cells.get(c).map(String::as_str))
                .chain(header_texts.get(c + 1).copied()),
            40.0,
        );
        ws.set_column_width(to_col(c + 1), w)?;
    }
    ws.set_column_width(
        reason_col,
        fitted_width(
            joined_reasons
                .iter()
                .map(String::as_str)
                .chain([REASON_HEADER]),
            60.0,
        ),
    )?;

    ws.set_freeze_panes(1, 1)?;
    ws.autofilter(0, 0, to_row(rows.len()), reason_col)?;
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::write::test_support::*;
    use calamine::{Data, Reader};

    fn bad_rows() -> (Vec<String>, Vec<ErrorRow>) {
        let headers = ["姓名", "身份证号", "村", "面积(亩)"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let rows = vec![
            ErrorRow {
                row: 5,
                cells: vec![
                    "王五".to_string(),
                    "610423198001010011".to_string(),
                    "甲村".to_string(),
                    "abc".to_string(),
                ],
                bad_columns: vec![3],
                reasons: vec!["面积不是有效数字：abc".to_string()],
            },
            ErrorRow {
                row: 9,
                cells: vec![
                    "赵六".to_string(),
                    "53299919700101001X".to_string(),
                    "=1+1".to_string(),
                    String::new(),
                ],
                bad_columns: vec![1, 3],
                reasons: vec![
                    "身份证号校验位错误：应为5，实际为X".to_string(),
                    "面积(亩)不能为空".to_string(),
                ],
            },
        ];
        (headers, rows)
    }

    #[test]
    fn error_report_lists_rows_reasons_and_marks_bad_cells() {
        let (headers, rows) = bad_rows();
        let bytes = error_report(&headers, &rows).unwrap();
        let mut book = open(&bytes);
        assert_eq!(book.sheet_names(), vec!["错误报告"]);
        let r = book.worksheet_range("错误报告").unwrap();
        assert_row_starts(
            &r,
            0,
            &["原行号", "姓名", "身份证号", "村", "面积(亩)", "错误原因"],
        );

        assert_eq!(value(&r, 1, 0), Data::Float(5.0));
        assert_eq!(value(&r, 2, 0), Data::Float(9.0));
        assert_eq!(value(&r, 1, 2), string("610423198001010011"));
        assert_eq!(value(&r, 2, 2), string("53299919700101001X"));
        assert_eq!(value(&r, 1, 4), string("abc"));
        assert_eq!(value(&r, 2, 3), string("=1+1"));
        assert_eq!(value(&r, 1, 5), string("面积不是有效数字：abc"));
        assert_eq!(
            value(&r, 2, 5),
            string("身份证号校验位错误：应为5，实际为X；面积(亩)不能为空")
        );
        assert_no_formulas(&mut book, "错误报告");
        let xf = cell_xf(&bytes, "xl/worksheets/sheet1.xml", "D3");
        assert!(xf.contains(r#"quotePrefix="1""#), "{xf}");

        let styles = book.worksheet_style("错误报告").unwrap();
        let fill = |row: u32, col: u32| {
            styles
                .get((row, col))
                .and_then(|s| s.fill.as_ref())
                .filter(|f| f.is_visible())
                .and_then(|f| f.get_color())
                .map(|c| c.to_argb() & 0xFF_FFFF)
        };
        let font_color = |row: u32, col: u32| {
            styles
                .get((row, col))
                .and_then(|s| s.font.as_ref())
                .and_then(|f| f.color)
                .map(|c| c.to_argb() & 0xFF_FFFF)
        };
        // Bad cells, including an empty one, are light red with dark red text.
        for (row, col) in [(1, 4), (2, 2), (2, 4)] {
            assert_eq!(fill(row, col), Some(BAD_FILL), "({row},{col})");
            assert_eq!(font_color(row, col), Some(BAD_TEXT), "({row},{col})");
        }
        for (row, col) in [(1, 1), (1, 2), (2, 1), (2, 3)] {
            assert_eq!(fill(row, col), None, "({row},{col})");
        }
        assert_eq!(font_color(1, 5), Some(REASON_TEXT));
        for col in 1..=4 {
            assert_eq!(num_format(&styles, 1, col), "@");
        }

        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(
            xml.contains(r#"<pane xSplit="1" ySplit="1" topLeftCell="B2""#),
            "{xml}"
        );
        assert!(xml.contains(r#"<autoFilter ref="A1:F3"/>"#));
    }

    #[test]
    fn error_report_keeps_cells_beyond_the_header() {
        let (headers, mut rows) = bad_rows();
        rows[0].cells.push("多出来的".to_string());
        rows[0].bad_columns.push(4);
        let bytes = error_report(&headers, &rows).unwrap();
        let r = open(&bytes).worksheet_range("错误报告").unwrap();
        assert_eq!(value(&r, 0, 5), Data::Empty);
        assert_eq!(value(&r, 0, 6), string("错误原因"));
        assert_eq!(value(&r, 1, 5), string("多出来的"));
        assert_eq!(value(&r, 1, 6), string("面积不是有效数字：abc"));

        let empty = error_report(&headers, &[]).unwrap();
        let r = open(&empty).worksheet_range("错误报告").unwrap();
        assert_eq!(r.height(), 1);
        assert_eq!(value(&r, 0, 5), string("错误原因"));
    }
}
