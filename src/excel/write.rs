//! Workbook writing: data in, .xlsx bytes out. No database, no HTTP.
//!
//! Three workbooks: any list of [`Table`]s (reports such as 分户清单), the
//! roster template a township station fills in ([`roster_template`]) and the
//! error report handed back for a rejected roster ([`error_report`]).
//!
//! Every text cell, including titles, headers and drop-down lists, goes through
//! [`put_text`] / [`guarded`], so the formula-injection guard cannot be
//! forgotten at a call site.

use std::borrow::Cow;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatAlign,
    FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};

use crate::domain::{Fen, Mu};

#[derive(Debug, thiserror::Error)]
#[error("生成Excel文件失败：{0}")]
pub struct WriteError(pub String);

impl From<XlsxError> for WriteError {
    fn from(e: XlsxError) -> Self {
        WriteError(e.to_string())
    }
}

/// One cell of a report. Money and areas stay exact until the moment they
/// become an Excel number.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(Fen),
    Mu(Mu),
    Empty,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    /// Excel column width in characters; `0` or less fits the width to the content.
    pub width: f64,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// Sanitised on writing: at most 31 characters, none of `[]:*?/\`, unique in the workbook.
    pub sheet_name: String,
    /// A merged bold title row above the header.
    pub title: Option<String>,
    /// A merged note row under the title (date, units).
    pub subtitle: Option<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// A bold row after the data. The caller's own sums, never an Excel
    /// formula: the figures must be the ones the system stored.
    pub totals: Option<Vec<Cell>>,
}

/// Excel's limits.
const MAX_ROWS: usize = 1_048_576;
const MAX_COLS: usize = 16_384;
const MAX_SHEET_NAME: usize = 31;

const MONEY_FORMAT: &str = "0.00";
/// At least two decimals, up to four: the same as `Mu`'s Display.
const MU_FORMAT: &str = "0.00##";
const INT_FORMAT: &str = "0";
const TEXT_FORMAT: &str = "@";

const HEADER_FILL: u32 = 0xD9E1F2;
const GREY_TEXT: u32 = 0x808080;
const BAD_FILL: u32 = 0xFFC7CE;
const BAD_TEXT: u32 = 0x9C0006;
const REASON_TEXT: u32 = 0xC00000;

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
fn guarded<'a>(format: &'a Format, text: &str) -> Cow<'a, Format> {
    if is_formula_like(text) {
        Cow::Owned(format.clone().set_quote_prefix())
    } else {
        Cow::Borrowed(format)
    }
}

/// The only way text reaches a cell in this module.
fn put_text(
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
fn put_banner(
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
fn to_col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Row indexes are checked against [`MAX_ROWS`] before any cell is written.
fn to_row(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Exact conversions to the nearest f64: the quotient of two integers (below
/// 2^53) is correctly rounded, so 26960 fen becomes exactly the double 269.6.
fn fen_number(f: Fen) -> f64 {
    f.0 as f64 / 100.0
}

fn mu_number(m: Mu) -> f64 {
    m.units() as f64 / 10_000.0
}

/// Width of a text in Excel character units: CJK and full-width characters
/// take two, which rust_xlsxwriter's `autofit` does not know.
fn display_width(s: &str) -> f64 {
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
fn fitted_width<'a>(texts: impl IntoIterator<Item = &'a str>, max: f64) -> f64 {
    let widest = texts.into_iter().map(display_width).fold(0.0, f64::max);
    (widest + 2.0).clamp(6.0, max)
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

fn border(f: Format) -> Format {
    f.set_border(FormatBorder::Thin)
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

// ---------------------------------------------------------------------------
// The roster template
// ---------------------------------------------------------------------------

/// The roster template a township station downloads and fills in.
#[derive(Debug, Clone)]
pub struct TemplateSpec {
    pub township_name: String,
    pub scheme_name: String,
    /// Village names of the township, offered in the 村 drop-down.
    pub villages: Vec<String>,
    /// Variety names of the scheme (e.g. 早实核桃, 晚实核桃), offered in the 品种 drop-down.
    pub varieties: Vec<String>,
    pub year: i32,
    /// The scheme's eligibility rules in words, one line each, e.g.
    /// "早实核桃：树龄5年以上且单株挂果数270个以上". They come from the scheme,
    /// so a new crop needs no change here.
    pub rules: Vec<String>,
}

/// The header of sheet 花名册, in order. The roster reader expects these texts.
pub const ROSTER_HEADERS: [&str; 12] = [
    "姓名",
    "身份证号",
    "联系电话",
    "开户行",
    "银行账号",
    "村",
    "地块编号",
    "品种",
    "树龄",
    "株数",
    "单株挂果数",
    "面积(亩)",
];

/// The columns the instructions call required.
pub const ROSTER_REQUIRED: [&str; 8] = [
    "姓名",
    "身份证号",
    "村",
    "品种",
    "树龄",
    "株数",
    "单株挂果数",
    "面积(亩)",
];

/// The ID number of the template's example row (a well-formed number with a
/// correct check character, under a county code that does not exist). A row
/// carrying it is the example left in place, not a grower.
pub const EXAMPLE_ID_NUMBER: &str = "532999197001010015";

pub const ROSTER_SHEET: &str = "花名册";
pub const INSTRUCTIONS_SHEET: &str = "填写说明";
pub const OPTIONS_SHEET: &str = "选项";

/// Excel row 5000: formats and validations are laid down to here.
const TEMPLATE_LAST_ROW: u32 = 4_999;

const COL_ID: u16 = 1;
const COL_PHONE: u16 = 2;
const COL_ACCOUNT: u16 = 4;
const COL_VILLAGE: u16 = 5;
const COL_PLOT: u16 = 6;
const COL_VARIETY: u16 = 7;
const COL_AGE: u16 = 8;
const COL_TREES: u16 = 9;
const COL_FRUIT: u16 = 10;
const COL_AREA: u16 = 11;

const TEMPLATE_WIDTHS: [f64; 12] = [
    10.0, 22.0, 14.0, 22.0, 24.0, 12.0, 12.0, 12.0, 8.0, 8.0, 12.0, 10.0,
];

/// The roster template: sheets 花名册 (to fill in), 填写说明 (instructions)
/// and the hidden 选项 (the drop-down lists).
pub fn roster_template(spec: &TemplateSpec) -> Result<Vec<u8>, WriteError> {
    let max_list = TEMPLATE_LAST_ROW as usize;
    if spec.villages.len() > max_list || spec.varieties.len() > max_list {
        return Err(WriteError(format!(
            "村或品种超过{max_list}个，无法生成下拉列表"
        )));
    }
    let mut wb = Workbook::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name(ROSTER_SHEET)?;
        write_roster_sheet(ws, spec)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(INSTRUCTIONS_SHEET)?;
        write_instructions(ws, spec)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(OPTIONS_SHEET)?;
        write_options(ws, spec)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn write_roster_sheet(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), XlsxError> {
    let header_format = border(Format::new())
        .set_bold()
        .set_background_color(Color::RGB(HEADER_FILL))
        .set_align(FormatAlign::Center);
    let text = Format::new().set_num_format(TEXT_FORMAT);
    for (c, (h, w)) in ROSTER_HEADERS.iter().zip(TEMPLATE_WIDTHS).enumerate() {
        put_text(ws, 0, to_col(c), h, &header_format)?;
        ws.set_column_width(to_col(c), w)?;
    }
    // ID, phone, account and plot numbers are text: as numbers Excel would
    // turn an 18-digit ID into 5.32999E+17 and lose its last digits, and
    // drop the leading zeros of plot numbers. The column style covers rows a
    // clerk adds beyond row 5000; the cell formats cover programs that
    // ignore column styles. Blank cells rather than `set_range_format`:
    // rust_xlsxwriter 0.102 does not widen the sheet's dimension for a range
    // format, so formatted cells below the last written row are never saved.
    for col in [COL_ID, COL_PHONE, COL_ACCOUNT, COL_PLOT] {
        ws.set_column_format(col, &text)?;
        for row in 2..=TEMPLATE_LAST_ROW {
            ws.write_blank(row, col, &text)?;
        }
    }

    let example = Format::new()
        .set_italic()
        .set_font_color(Color::RGB(GREY_TEXT));
    let example_text = example.clone().set_num_format(TEXT_FORMAT);
    let village = spec.villages.first().map_or("某某村", String::as_str);
    let variety = spec.varieties.first().map_or("某品种", String::as_str);
    let texts: [(u16, &str); 8] = [
        (0, "张三"),
        (COL_ID, EXAMPLE_ID_NUMBER),
        (COL_PHONE, "13800000000"),
        (3, "某某县农村信用合作联社"),
        (COL_ACCOUNT, "6217000000000000000"),
        (COL_VILLAGE, village),
        (COL_PLOT, "001"),
        (COL_VARIETY, variety),
    ];
    for (col, s) in texts {
        put_text(ws, 1, col, s, &example_text)?;
    }
    let whole = example.clone().set_num_format(INT_FORMAT);
    ws.write_number_with_format(1, COL_AGE, 8, &whole)?;
    ws.write_number_with_format(1, COL_TREES, 30, &whole)?;
    ws.write_number_with_format(1, COL_FRUIT, 300, &whole)?;
    ws.write_number_with_format(1, COL_AREA, 1.5, &example.set_num_format(MU_FORMAT))?;

    ws.set_freeze_panes(1, 0)?;
    add_validations(ws, spec)?;
    Ok(())
}

fn add_validations(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), XlsxError> {
    let last = TEMPLATE_LAST_ROW;
    let mut add = |col: u16, v: DataValidation| -> Result<(), XlsxError> {
        ws.add_data_validation(
            1,
            col,
            last,
            col,
            &v.set_error_style(DataValidationErrorStyle::Stop),
        )?;
        Ok(())
    };

    add(
        COL_ID,
        DataValidation::new()
            .allow_text_length(DataValidationRule::EqualTo(18))
            .set_input_title("身份证号")?
            .set_input_message("填写18位身份证号，最后一位可以是X。本列为文本格式，请勿改为数字。")?
            .set_error_title("身份证号位数不对")?
            .set_error_message("身份证号应为18位（最后一位可以是X），请核对后重新填写。")?,
    )?;
    // The lists live on the hidden 选项 sheet: a list typed into the
    // validation itself is capped at 255 characters, too short for the
    // villages of a large township.
    if !spec.villages.is_empty() {
        add(
            COL_VILLAGE,
            DataValidation::new()
                .allow_list_formula(Formula::new(options_range('A', spec.villages.len())))
                .set_input_title("村")?
                .set_input_message("请从下拉列表中选择村。")?
                .set_error_title("村名不在列表中")?
                .set_error_message("请从下拉列表中选择村；如缺少本村，请联系县林业局添加。")?,
        )?;
    }
    if !spec.varieties.is_empty() {
        add(
            COL_VARIETY,
            DataValidation::new()
                .allow_list_formula(Formula::new(options_range('B', spec.varieties.len())))
                .set_input_title("品种")?
                .set_input_message("请从下拉列表中选择品种。")?
                .set_error_title("品种不在列表中")?
                .set_error_message("请从下拉列表中选择本方案承保的品种。")?,
        )?;
    }
    for (col, title, what) in [
        (COL_AGE, "树龄", "树龄（年）"),
        (COL_TREES, "株数", "株数"),
        (COL_FRUIT, "单株挂果数", "单株挂果数（个）"),
    ] {
        add(
            col,
            DataValidation::new()
                .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
                .set_input_title(title)?
                .set_input_message(format!("{what}填写不小于0的整数。"))?
                .set_error_title(format!("{title}填写有误"))?
                .set_error_message(format!("{what}只能填写不小于0的整数，不要带单位或小数。"))?,
        )?;
    }
    add(
        COL_AREA,
        DataValidation::new()
            .allow_decimal_number(DataValidationRule::GreaterThan(0.0))
            .set_input_title("面积(亩)")?
            .set_input_message("以亩为单位，大于0，最多保留4位小数，如 3.37。")?
            .set_error_title("面积填写有误")?
            .set_error_message("面积以亩为单位，须为大于0的数字（最多4位小数），不要带“亩”字。")?,
    )?;
    Ok(())
}

/// `'选项'!$A$2:$A$n`: the list in column `col` of the options sheet, under its header.
fn options_range(col: char, len: usize) -> String {
    format!("='{OPTIONS_SHEET}'!${col}$2:${col}${}", len + 1)
}

fn write_instructions(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), XlsxError> {
    let title = Format::new().set_bold().set_font_size(14);
    let heading = Format::new().set_bold();
    let line = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    ws.set_column_width(0, 100)?;

    let required = ROSTER_REQUIRED.join("、");
    let optional = ROSTER_HEADERS
        .iter()
        .filter(|h| !ROSTER_REQUIRED.contains(h))
        .copied()
        .collect::<Vec<_>>()
        .join("、");
    let mut lines: Vec<(String, &Format)> = vec![
        (
            format!(
                "{}年度{}花名册填写说明（{}）",
                spec.year, spec.scheme_name, spec.township_name
            ),
            &title,
        ),
        ("一、填写要求".to_string(), &heading),
        (
            "1. 在“花名册”工作表中填写，每个地块一行；同一农户有多个地块的，分行填写，姓名、身份证号等每行都要填。".to_string(),
            &line,
        ),
        (format!("2. 必填列：{required}。"), &line),
        (
            format!("3. 选填列：{optional}（赔款打入农户本人账户，建议填写开户行和银行账号）。"),
            &line,
        ),
        (
            "4. 第1行表头不要修改、删除或调换顺序；第2行灰色斜体为示例，上传前请删除或直接覆盖。".to_string(),
            &line,
        ),
        (
            "5. 身份证号填写18位，最后一位可以是X。该列已设为文本格式，请不要改成数字格式，否则后几位会变成0；从其他表格粘贴时请选择“只粘贴数值”。".to_string(),
            &line,
        ),
        (
            "6. 银行账号、联系电话、地块编号也按文本填写，不要带空格。".to_string(),
            &line,
        ),
        (
            "7. 村、品种请从下拉列表中选择；如缺少本村，请联系县林业局添加后重新下载模板。".to_string(),
            &line,
        ),
        (
            "8. 树龄（年）、株数、单株挂果数填写不小于0的整数。".to_string(),
            &line,
        ),
        (
            "9. 面积以亩为单位，大于0，最多保留4位小数（如 3.37、0.3333），不要带“亩”字。".to_string(),
            &line,
        ),
    ];
    if !spec.rules.is_empty() {
        lines.push(("二、投保条件（“以上”包含本数）".to_string(), &heading));
        lines.extend(spec.rules.iter().map(|r| (r.clone(), &line)));
    }
    let upload = if spec.rules.is_empty() {
        "二、上传"
    } else {
        "三、上传"
    };
    lines.extend([
        (upload.to_string(), &heading),
        (
            "1. 填好后保存（.xlsx、.xls 或 .ods），登录系统在“花名册导入”页面选择本文件上传。".to_string(),
            &line,
        ),
        (
            "2. 系统先预览：列出新增、变更、无变化、不符合投保条件和拒收的行数，确认后才写入；有错的行不导入，可下载“错误报告”（原行号、错误原因，出错的单元格标红）。".to_string(),
            &line,
        ),
        (
            "3. 按错误报告在本文件中改正后，整表重新上传即可：已导入的行不会重复登记。".to_string(),
            &line,
        ),
    ]);
    for (r, (text, format)) in lines.iter().enumerate() {
        put_text(ws, to_row(r), 0, text, format)?;
    }
    Ok(())
}

fn write_options(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), XlsxError> {
    let header = Format::new().set_bold();
    let plain = Format::new().set_num_format(TEXT_FORMAT);
    for (col, head, items) in [(0u16, "村", &spec.villages), (1, "品种", &spec.varieties)] {
        put_text(ws, 0, col, head, &header)?;
        for (i, item) in items.iter().enumerate() {
            put_text(ws, to_row(i + 1), col, item, &plain)?;
        }
        let width = fitted_width(items.iter().map(String::as_str).chain([head]), 40.0);
        ws.set_column_width(col, width)?;
    }
    // Hidden and locked: the lists are the system's, not the clerk's.
    ws.set_hidden(true);
    ws.protect();
    Ok(())
}

// ---------------------------------------------------------------------------
// The error report
// ---------------------------------------------------------------------------

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
    use crate::domain::IdNumber;
    use calamine::{open_workbook_from_rs, Data, Reader, SheetVisible, Xlsx};
    use chrono::NaiveDate;
    use std::io::{Cursor, Read};

    type Book = Xlsx<Cursor<Vec<u8>>>;

    fn open(bytes: &[u8]) -> Book {
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("calamine opens our file")
    }

    /// One part of the .xlsx package, as text.
    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip package");
        let mut file = zip.by_name(name).expect("the part exists");
        let mut s = String::new();
        file.read_to_string(&mut s).expect("utf-8 xml");
        s
    }

    /// The `<xf>` element a cell uses, from the sheet's `s=` index into cellXfs.
    fn cell_xf(bytes: &[u8], sheet_part: &str, cell: &str) -> String {
        let sheet = part(bytes, sheet_part);
        let re = regex::Regex::new(&format!(r#"<c r="{cell}" s="(\d+)""#)).unwrap();
        let idx: usize = re.captures(&sheet).expect("cell has a style")[1]
            .parse()
            .unwrap();
        let styles = part(bytes, "xl/styles.xml");
        let start = styles.find("<cellXfs").unwrap();
        let end = styles.find("</cellXfs>").unwrap();
        styles[start..end]
            .split("<xf ")
            .nth(idx + 1)
            .expect("xf index in range")
            .to_string()
    }

    fn value(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
        range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
    }

    fn string(s: &str) -> Data {
        Data::String(s.to_string())
    }

    fn assert_no_formulas(book: &mut Book, sheet: &str) {
        let formulas = book.worksheet_formula(sheet).unwrap();
        assert!(
            formulas.cells().all(|(_, _, f)| f.is_empty()),
            "no formula may be written to {sheet}"
        );
    }

    fn num_format(styles: &calamine::StyleRange, row: u32, col: u32) -> String {
        styles
            .get((row, col))
            .and_then(|s| s.number_format.as_ref())
            .map(|n| n.format_code.clone())
            .unwrap_or_default()
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    const INJECTIONS: [&str; 5] = ["=1+1", "+SUM(A1)", "-2", "@cmd", "＝HYPERLINK()"];

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
        let ints: i64 = rows
            .iter()
            .map(|r| match r[3] {
                Cell::Int(n) => n,
                _ => 0,
            })
            .sum();
        let mu: Mu = rows
            .iter()
            .map(|r| match r[4] {
                Cell::Mu(m) => m,
                _ => Mu::ZERO,
            })
            .sum();
        let fen: Fen = rows
            .iter()
            .map(|r| match r[5] {
                Cell::Money(f) => f,
                _ => Fen::ZERO,
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
        let headers: Vec<Data> = (0..6).map(|c| value(&r, 2, c)).collect();
        let expected: Vec<Data> = ["户主", "身份证号", "村", "株数", "面积(亩)", "保费(元)"]
            .iter()
            .map(|s| string(s))
            .collect();
        assert_eq!(headers, expected);

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

    fn spec() -> TemplateSpec {
        TemplateSpec {
            township_name: "甲镇".to_string(),
            scheme_name: "核桃树保险".to_string(),
            villages: vec!["甲村".to_string(), "乙村".to_string(), "丙村".to_string()],
            varieties: vec!["早实核桃".to_string(), "晚实核桃".to_string()],
            year: 2012,
            rules: vec![
                "早实核桃：树龄5年以上且单株挂果数270个以上".to_string(),
                "晚实核桃：树龄10年以上且单株挂果数270个以上".to_string(),
            ],
        }
    }

    #[test]
    fn template_has_roster_instructions_and_hidden_options() {
        let bytes = roster_template(&spec()).unwrap();
        let mut book = open(&bytes);
        assert_eq!(book.sheet_names(), vec!["花名册", "填写说明", "选项"]);
        let visible: Vec<SheetVisible> = book.sheets_metadata().iter().map(|s| s.visible).collect();
        assert_eq!(
            visible,
            vec![
                SheetVisible::Visible,
                SheetVisible::Visible,
                SheetVisible::Hidden
            ]
        );

        let roster = book.worksheet_range("花名册").unwrap();
        let header: Vec<Data> = (0..13).map(|c| value(&roster, 0, c)).collect();
        let expected: Vec<Data> = [
            "姓名",
            "身份证号",
            "联系电话",
            "开户行",
            "银行账号",
            "村",
            "地块编号",
            "品种",
            "树龄",
            "株数",
            "单株挂果数",
            "面积(亩)",
        ]
        .iter()
        .map(|s| string(s))
        .chain([Data::Empty])
        .collect();
        assert_eq!(header, expected);

        // The example row: grey italic, a well-formed ID kept as text.
        assert_eq!(value(&roster, 1, 0), string("张三"));
        assert_eq!(value(&roster, 1, 1), string(EXAMPLE_ID_NUMBER));
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert!(IdNumber::parse_at(EXAMPLE_ID_NUMBER, today).is_ok());
        assert_eq!(value(&roster, 1, 5), string("甲村"));
        assert_eq!(value(&roster, 1, 7), string("早实核桃"));
        assert_eq!(value(&roster, 1, 8), Data::Float(8.0));
        assert_eq!(value(&roster, 1, 11), Data::Float(1.5));
        let styles = book.worksheet_style("花名册").unwrap();
        let font = styles.get((1, 0)).and_then(|s| s.font.clone()).unwrap();
        assert!(font.is_italic());
        assert_eq!(font.color.map(|c| c.to_argb() & 0xFF_FFFF), Some(GREY_TEXT));

        // ID and account columns are text down to Excel row 5000. calamine's
        // style reader skips empty `<c/>` elements, so the blank cells are
        // checked in the XML.
        assert_eq!(num_format(&styles, 1, 1), "@");
        let styles_xml = part(&bytes, "xl/styles.xml");
        let num_fmt_id = regex::Regex::new(r#"numFmtId="(\d+)""#).unwrap();
        for cell in ["B3", "B5000", "E3", "E5000", "C3", "G5000"] {
            let xf = cell_xf(&bytes, "xl/worksheets/sheet1.xml", cell);
            let id = num_fmt_id.captures(&xf).unwrap()[1].to_string();
            assert!(
                id == "49"
                    || styles_xml.contains(&format!(r#"<numFmt numFmtId="{id}" formatCode="@"/>"#)),
                "{cell}: {xf}"
            );
        }
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(!xml.contains(r#"<c r="B5001""#));
        assert!(
            xml.contains(r#"<col min="2" max="2" width="22.7109375" style=""#),
            "{xml:.2000}"
        );
        assert_no_formulas(&mut book, "花名册");

        let options = book.worksheet_range("选项").unwrap();
        assert_eq!(value(&options, 0, 0), string("村"));
        assert_eq!(value(&options, 0, 1), string("品种"));
        let villages: Vec<Data> = (1..=3).map(|r| value(&options, r, 0)).collect();
        assert_eq!(
            villages,
            vec![string("甲村"), string("乙村"), string("丙村")]
        );
        assert_eq!(value(&options, 1, 1), string("早实核桃"));
        assert_eq!(value(&options, 2, 1), string("晚实核桃"));
        assert_eq!(value(&options, 3, 1), Data::Empty);

        let notes = book.worksheet_range("填写说明").unwrap();
        let lines: Vec<String> = notes
            .rows()
            .filter_map(|r| r.first().map(|c| c.to_string()))
            .collect();
        assert_eq!(lines[0], "2012年度核桃树保险花名册填写说明（甲镇）");
        for rule in &spec().rules {
            assert!(lines.contains(rule), "{rule} in {lines:?}");
        }
        for needle in [
            "必填列：姓名、身份证号",
            "18位",
            "4位小数",
            "“以上”包含本数",
            "重新上传",
        ] {
            assert!(lines.iter().any(|l| l.contains(needle)), "{needle}");
        }

        assert!(xml.contains(r#"<pane ySplit="1" topLeftCell="A2""#));
        assert!(xml.contains(r#"<dataValidations count="7">"#));
        assert!(xml.contains("<dataValidation "));
        assert!(
            xml.contains("<formula1>'选项'!$A$2:$A$4</formula1>"),
            "{xml}"
        );
        assert!(xml.contains("<formula1>'选项'!$B$2:$B$3</formula1>"));
        assert!(xml.contains(r#"type="whole" operator="greaterThanOrEqual""#));
        assert!(xml.contains(r#"type="decimal" operator="greaterThan""#));
        assert!(xml.contains(r#"sqref="F2:F5000""#));
        assert!(xml.contains("请从下拉列表中选择村"));
        let options_xml = part(&bytes, "xl/worksheets/sheet3.xml");
        assert!(options_xml.contains("<sheetProtection"));
    }

    #[test]
    fn template_takes_long_village_lists_and_guards_names() {
        let mut s = spec();
        s.villages = (1..=200).map(|i| format!("第{i}村民委员会")).collect();
        s.villages[0] = "=HYPERLINK(\"x\")".to_string();
        s.rules.clear();
        let bytes = roster_template(&s).unwrap();
        let mut book = open(&bytes);
        let options = book.worksheet_range("选项").unwrap();
        assert_eq!(value(&options, 1, 0), string("=HYPERLINK(\"x\")"));
        assert_eq!(value(&options, 200, 0), string("第200村民委员会"));
        assert_no_formulas(&mut book, "选项");
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains("<formula1>'选项'!$A$2:$A$201</formula1>"));
        let notes = book.worksheet_range("填写说明").unwrap();
        assert!(notes.rows().any(|r| r[0] == "二、上传"));
    }

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
        let header: Vec<Data> = (0..6).map(|c| value(&r, 0, c)).collect();
        let expected: Vec<Data> = ["原行号", "姓名", "身份证号", "村", "面积(亩)", "错误原因"]
            .iter()
            .map(|s| string(s))
            .collect();
        assert_eq!(header, expected);

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
