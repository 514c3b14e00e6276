//! Any list of [`Table`]s as one workbook, a sheet per table (reports such as
//! 分户清单).

use std::borrow::Cow;

use rust_xlsxwriter::{Color, Format, FormatAlign, Workbook, Worksheet, XlsxError};

use super::cells::*;
use super::{Cell, Table, WriteError};
use crate::domain::{Fen, Mu};

const MAX_SHEET_NAME: usize = 31;
const MONEY_FORMAT: &str = "0.00";

/// 2^53) is correctly rounded, so 26960 fen becomes exactly the double 269.6.
fn fen_number(f: Fen) -> f64 {
    f.0 as f64 / 100.0
}

fn mu_number(m: Mu) -> f64 {
    m.units() as f64 / 10_000.0
}

/// Excel's sheet-name rules: 1..=31 UTF-16 units, none of `[]:*?/\`, no
/// apostrophe at either end, not "History", unique ignoring case.
fn sheet_name(raw: &str, taken: &[String]) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if "[]:*?/\\".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut base = tidy_sheet_name(&cleaned, MAX_SHEET_NAME);
    if base.is_empty() {
        base = "表".to_string();
    }
    if base.eq_ignore_ascii_case("history") {
        base.push('_');
    }
    let is_taken = |name: &str| {
        let lower = name.to_lowercase();
        taken.iter().any(|t| t.to_lowercase() == lower)
    };
    if !is_taken(&base) {
        return base;
    }
    for n in 2.. {
        let suffix = format!("({n})");
        let candidate = format!(
            "{}{}",
            tidy_sheet_name(&base, MAX_SHEET_NAME - suffix.len()),
            suffix
        );
        if !is_taken(&candidate) {
            return candidate;
        }
    }
    unreachable!("an unbounded counter always finds a free name")
}

/// Trim, drop edge apostrophes and cut to `max` UTF-16 units.
fn tidy_sheet_name(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut units = 0;
    for c in s.trim().trim_matches('\'').chars() {
        units += c.len_utf16();
        if units > max {
            break;
        }
        out.push(c);
    }
    out.trim().trim_end_matches('\'').trim_end().to_string()
}

/// The formats of one kind of row (data or totals).
struct CellFormats {
    text: Format,
    money: Format,
    mu: Format,
    int: Format,
    blank: Format,
}

impl CellFormats {
    fn new(base: Format) -> CellFormats {
        CellFormats {
            text: base.clone().set_num_format(TEXT_FORMAT),
            money: base
                .clone()
                .set_num_format(MONEY_FORMAT)
                .set_align(FormatAlign::Right),
            mu: base
                .clone()
                .set_num_format(MU_FORMAT)
                .set_align(FormatAlign::Right),
            int: base
                .clone()
                .set_num_format(INT_FORMAT)
                .set_align(FormatAlign::Right),
            blank: base,
        }
    }
}

fn put_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    f: &CellFormats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(s) => put_text(ws, row, col, s, &f.text)?,
        // i64 beyond 2^53 would round; no count in this system gets there.
        Cell::Int(n) => {
            ws.write_number_with_format(row, col, *n as f64, &f.int)?;
        }
        Cell::Money(m) => {
            ws.write_number_with_format(row, col, fen_number(*m), &f.money)?;
        }
        Cell::Mu(m) => {
            ws.write_number_with_format(row, col, mu_number(*m), &f.mu)?;
        }
        Cell::Empty => {
            ws.write_blank(row, col, &f.blank)?;
        }
    }
    Ok(())
}

fn cell_text(cell: &Cell) -> Cow<'_, str> {
    match cell {
        Cell::Text(s) => Cow::Borrowed(s),
        Cell::Int(n) => Cow::Owned(n.to_string()),
        Cell::Money(m) => Cow::Owned(m.to_string()),
        Cell::Mu(m) => Cow::Owned(m.to_string()),
        Cell::Empty => Cow::Borrowed(""),
    }
}

/// One workbook with one sheet per table: header frozen, autofilter on the
/// header, money as numbers with format 0.00, areas as numbers with format
/// 0.00## (up to 4 decimals), Int as integers, Text written as strings.
pub fn tables_to_xlsx(tables: &[Table]) -> Result<Vec<u8>, WriteError> {
    if tables.is_empty() {
        return Err(WriteError("没有要写入的表格".to_string()));
    }
    for t in tables {
        check_table(t)?;
    }
    let mut wb = Workbook::new();
    let mut taken: Vec<String> = Vec::new();
    for t in tables {
        let name = sheet_name(&t.sheet_name, &taken);
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        taken.push(name);
        write_table(ws, t)?;
    }
    Ok(wb.save_to_buffer()?)
}

/// Refuse a table Excel cannot hold, or whose rows are wider than its
/// header (a caller's bug that would otherwise print figures under no column).
fn check_table(t: &Table) -> Result<(), WriteError> {
    let ncols = t.columns.len();
    if ncols > MAX_COLS {
        return Err(WriteError(format!(
            "表格“{}”有{}列，超过Excel上限{}列",
            t.sheet_name, ncols, MAX_COLS
        )));
    }
    let nrows = usize::from(t.title.is_some())
        + usize::from(t.subtitle.is_some())
        + 1
        + t.rows.len()
        + usize::from(t.totals.is_some());
    if nrows > MAX_ROWS {
        return Err(WriteError(format!(
            "表格“{}”有{}行，超过Excel上限{}行，请分开导出",
            t.sheet_name, nrows, MAX_ROWS
        )));
    }
    let wide = t
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("第{}行数据", i + 1), r))
        .chain(t.totals.iter().map(|r| ("合计行".to_string(), r)))
        .find(|(_, r)| r.len() > ncols);
    if let Some((which, r)) = wide {
        return Err(WriteError(format!(
            "表格“{}”的{}有{}个单元格，多于{}列表头",
            t.sheet_name,
            which,
            r.len(),
            ncols
        )));
    }
    Ok(())
}

fn write_table(ws: &mut Worksheet, t: &Table) -> Result<(), XlsxError> {
    let ncols = t.columns.len();
    let title_format = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let subtitle_format = Format::new()
        .set_font_size(10)
        .set_font_color(Color::RGB(GREY_TEXT))
        .set_align(FormatAlign::Left);
    let header_format = border(Format::new())
        .set_bold()
        .set_background_color(Color::RGB(HEADER_FILL))
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let data = CellFormats::new(border(Format::new()));
    let totals = CellFormats::new(border(Format::new()).set_bold());

    let mut row: u32 = 0;
    if let Some(title) = &t.title {
        put_banner(ws, row, ncols, title, &title_format)?;
        ws.set_row_height(row, 24)?;
        row += 1;
    }
    if let Some(subtitle) = &t.subtitle {
        put_banner(ws, row, ncols, subtitle, &subtitle_format)?;
        row += 1;
    }
    let header_row = row;
    for (c, column) in t.columns.iter().enumerate() {
        put_text(ws, header_row, to_col(c), &column.header, &header_format)?;
        let width = if column.width > 0.0 {
            column.width
        } else {
            let texts: Vec<Cow<'_, str>> = t
                .rows
                .iter()
                .chain(t.totals.iter())
                .filter_map(|r| r.get(c))
                .map(cell_text)
                .collect();
            fitted_width(
                texts
                    .iter()
                    .map(|s| s.as_ref())
                    .chain([column.header.as_str()]),
                60.0,
            )
        };
        ws.set_column_width(to_col(c), width)?;
    }
    row += 1;
    for cells in &t.rows {
        for (c, cell) in cells.iter().enumerate() {
            put_cell(ws, row, to_col(c), cell, &data)?;
        }
        row += 1;
    }
    let last_data_row = row - 1;
    if let Some(cells) = &t.totals {
        for (c, cell) in cells.iter().enumerate() {
            put_cell(ws, row, to_col(c), cell, &totals)?;
        }
    }
    if ncols > 0 {
        ws.set_freeze_panes(header_row + 1, 0)?;
        // The filter covers the data only, so sorting never moves the totals row.
        ws.autofilter(header_row, 0, last_data_row, to_col(ncols - 1))?;
        ws.set_repeat_rows(0, header_row)?;
    }
    // Reports are printed for notice boards: A4 landscape, one page wide.
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Fen, Mu};
    use crate::excel::write::test_support::*;
    use crate::excel::write::Column;
    use calamine::{Data, Reader};

    fn household_table() -> Table {
        let rows = vec![
            vec![
                text("张三"),
                text("53299919700101001X"),
                text("甲村"),
                Cell::Int(30),
                Cell::Mu(Mu::from_units(33_700)),
                Cell::Money(Fen(26_960)),
            ],
            vec![
                text("李四"),
                text("610423198001010011"),
                text(INJECTIONS[0]),
                Cell::Int(12),
                Cell::Mu(Mu::from_units(3_333)),
                Cell::Money(Fen(2_664)),
            ],
            vec![
                text(INJECTIONS[1]),
                text(INJECTIONS[2]),
                text(INJECTIONS[3]),
                Cell::Int(0),
                Cell::Mu(Mu::from_units(1)),
                Cell::Money(Fen(5)),
            ],
            vec![
                text(INJECTIONS[4]),
                Cell::Empty,
                text("乙村"),
                Cell::Int(7),
                Cell::Mu(Mu::from_units(10_000)),
                Cell::Money(Fen(8_000)),
            ],
        ];
        // The totals are the caller's own sums, as the real reports do it.
        let cells = |i: usize| rows.iter().map(move |r| &r[i]);
        let ints: i64 = cells(3)
            .map(|c| if let Cell::Int(n) = c { *n } else { 0 })
            .sum();
        let mu: Mu = cells(4)
            .map(|c| if let Cell::Mu(m) = c { *m } else { Mu::ZERO })
            .sum();
        let fen: Fen = cells(5)
            .map(|c| {
                if let Cell::Money(f) = c {
                    *f
                } else {
                    Fen::ZERO
                }
            })
            .sum();
        let col = |h: &str, w: f64| Column {
            header: h.to_string(),
            width: w,
        };
        Table {
            sheet_name: "分户清单".to_string(),
            title: Some("2012年度核桃树保险分户清单（甲镇）".to_string()),
            subtitle: Some("制表日期 2026-11-21 · 金额单位：元 · 面积单位：亩".to_string()),
            columns: vec![
                col("户主", 10.0),
                col("身份证号", 22.0),
                col("村", 0.0),
                col("株数", 8.0),
                col("面积(亩)", 10.0),
                col("保费(元)", 12.0),
            ],
            rows,
            totals: Some(vec![
                text("合计"),
                Cell::Empty,
                Cell::Empty,
                Cell::Int(ints),
                Cell::Mu(mu),
                Cell::Money(fen),
            ]),
        }
    }

    #[test]
    fn table_round_trips_with_types_formats_and_totals() {
        let bytes = tables_to_xlsx(&[household_table()]).unwrap();
        let mut book = open(&bytes);
        assert_eq!(book.sheet_names(), vec!["分户清单".to_string()]);
        let r = book.worksheet_range("分户清单").unwrap();

        assert_eq!(
            value(&r, 0, 0),
            string("2012年度核桃树保险分户清单（甲镇）")
        );
        assert_eq!(
            value(&r, 1, 0),
            string("制表日期 2026-11-21 · 金额单位：元 · 面积单位：亩")
        );
        assert_row_starts(
            &r,
            2,
            &["户主", "身份证号", "村", "株数", "面积(亩)", "保费(元)"],
        );

        // First data row: text stays text, numbers are numbers.
        assert_eq!(value(&r, 3, 0), string("张三"));
        assert_eq!(value(&r, 3, 1), string("53299919700101001X"));
        assert_eq!(value(&r, 4, 1), string("610423198001010011"));
        assert_eq!(value(&r, 3, 3), Data::Float(30.0));
        assert_eq!(value(&r, 3, 4), Data::Float(3.37));
        assert_eq!(value(&r, 4, 4), Data::Float(0.3333));
        assert_eq!(value(&r, 3, 5), Data::Float(269.6));
        assert_eq!(value(&r, 5, 5), Data::Float(0.05));
        assert_eq!(value(&r, 6, 1), Data::Empty);

        // Formula-like text: exactly the text, as strings, never formulas.
        assert_eq!(value(&r, 4, 2), string("=1+1"));
        assert_eq!(value(&r, 5, 0), string("+SUM(A1)"));
        assert_eq!(value(&r, 5, 1), string("-2"));
        assert_eq!(value(&r, 5, 2), string("@cmd"));
        assert_eq!(value(&r, 6, 0), string("＝HYPERLINK()"));
        assert_no_formulas(&mut book, "分户清单");
        for cell in ["C5", "A6", "B6", "C6", "A7"] {
            let xf = cell_xf(&bytes, "xl/worksheets/sheet1.xml", cell);
            assert!(xf.contains(r#"quotePrefix="1""#), "{cell}: {xf}");
        }
        let plain = cell_xf(&bytes, "xl/worksheets/sheet1.xml", "A4");
        assert!(!plain.contains("quotePrefix"), "{plain}");

        // Number formats.
        let styles = book.worksheet_style("分户清单").unwrap();
        assert_eq!(num_format(&styles, 3, 5), "0.00");
        assert_eq!(num_format(&styles, 3, 4), "0.00##");
        assert_eq!(num_format(&styles, 3, 3), "0");
        assert_eq!(num_format(&styles, 3, 1), "@");

        // Totals row: bold, and equal to the sum of the rows read back.
        let totals_row = 7;
        assert_eq!(value(&r, totals_row, 0), string("合计"));
        let column_sum = |c: u32, scale: f64| -> i64 {
            (3..totals_row)
                .map(|row| match value(&r, row, c) {
                    Data::Float(v) => (v * scale).round() as i64,
                    other => panic!("number expected, got {other:?}"),
                })
                .sum()
        };
        let read_total = |c: u32, scale: f64| match value(&r, totals_row, c) {
            Data::Float(v) => (v * scale).round() as i64,
            other => panic!("number expected, got {other:?}"),
        };
        assert_eq!(read_total(3, 1.0), column_sum(3, 1.0));
        assert_eq!(read_total(4, 10_000.0), column_sum(4, 10_000.0));
        assert_eq!(read_total(5, 100.0), column_sum(5, 100.0));
        assert_eq!(value(&r, totals_row, 5), Data::Float(376.29));
        assert_eq!(num_format(&styles, totals_row, 5), "0.00");
        let bold = |row: u32, col: u32| {
            styles
                .get((row, col))
                .and_then(|s| s.font.as_ref())
                .is_some_and(|f| f.is_bold())
        };
        assert!(bold(totals_row, 0) && bold(totals_row, 5));
        assert!(bold(0, 0) && bold(2, 0));
        assert!(!bold(3, 0));

        // Frozen under the header, filter on header + data (not the totals), merged title.
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(
            xml.contains(r#"<pane ySplit="3" topLeftCell="A4""#),
            "{xml}"
        );
        assert!(xml.contains(r#"state="frozen""#));
        assert!(xml.contains(r#"<autoFilter ref="A3:F7"/>"#), "{xml}");
        assert!(xml.contains(r#"<mergeCell ref="A1:F1"/>"#));
        assert!(xml.contains(r#"<mergeCell ref="A2:F2"/>"#));
        assert!(!xml.contains("<f>"));
    }

    #[test]
    fn table_without_title_has_header_on_top() {
        let mut t = household_table();
        t.title = None;
        t.subtitle = None;
        t.totals = None;
        t.rows.truncate(1);
        let bytes = tables_to_xlsx(&[t]).unwrap();
        let r = open(&bytes).worksheet_range("分户清单").unwrap();
        assert_eq!(value(&r, 0, 0), string("户主"));
        assert_eq!(value(&r, 1, 5), Data::Float(269.6));
        assert_eq!(r.height(), 2);
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains(r#"<pane ySplit="1" topLeftCell="A2""#));
        assert!(xml.contains(r#"<autoFilter ref="A1:F2"/>"#));
    }

    #[test]
    fn sheet_names_are_sanitised_and_unique() {
        let long = "很长的工作表名称".repeat(5);
        let names = [
            "甲镇/乙镇:汇总[2012]*?\\",
            "分户清单",
            "分户清单",
            long.as_str(),
            long.as_str(),
            "",
            "'引号'",
            "History",
        ];
        let tables: Vec<Table> = names
            .iter()
            .map(|n| Table {
                sheet_name: n.to_string(),
                title: Some(n.to_string()),
                subtitle: None,
                columns: vec![Column {
                    header: "列".to_string(),
                    width: 8.0,
                }],
                rows: vec![vec![text("值")]],
                totals: None,
            })
            .collect();
        let bytes = tables_to_xlsx(&tables).unwrap();
        let got = open(&bytes).sheet_names();
        let long31: String = long.chars().take(31).collect();
        let long_dup: String = long.chars().take(28).collect::<String>() + "(2)";
        assert_eq!(
            got,
            vec![
                "甲镇_乙镇_汇总_2012____".to_string(),
                "分户清单".to_string(),
                "分户清单(2)".to_string(),
                long31,
                long_dup,
                "表".to_string(),
                "引号".to_string(),
                "History_".to_string(),
            ]
        );
    }

    #[test]
    fn bad_tables_are_refused() {
        let mut t = household_table();
        t.rows[1].push(text("多余"));
        let err = tables_to_xlsx(&[t]).unwrap_err();
        assert!(err.to_string().starts_with("生成Excel文件失败："), "{err}");
        assert!(err.to_string().contains("第2行数据"), "{err}");
        assert!(tables_to_xlsx(&[]).is_err());
    }
}
