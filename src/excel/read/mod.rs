//! Roster reading: the bytes of an uploaded township roster (花名册) in, raw
//! rows out.
//!
//! Pure: no database, no HTTP, no domain validation. The rows that come out are
//! strings cleaned of the usual hand-typing noise (stray spaces, full-width
//! digits, a lowercase `x`); deciding whether a value is *valid* is the job of
//! the domain types (`IdNumber::parse`, `Mu::parse`, ...), except the text
//! rules every entry path shares (`domain::text`: lengths, no control or
//! direction-changing characters), which each cell meets here so a bad cell
//! is reported with its column. What this module
//! does decide is everything that can only be seen in the spreadsheet itself:
//! which sheet and row hold the table, which column is which, and cells whose
//! value was already damaged by Excel (an ID typed as a number).
//!
//! Safety before parsing: the size limit, format sniffing from magic bytes,
//! the zip-bomb guard and, for `.xls`, a walk over the BIFF cell records
//! (`xls_guard`) all run before calamine sees the bytes. `.xlsx` sheets are
//! streamed cell by cell into a sparse grid, so a stray cell at `XFD1048576`
//! cannot make us allocate a dense billion-cell range. Allocation failures
//! abort the process, so these guards matter more than the `catch_unwind`
//! around the parsers, which turns their panics on damaged files into
//! `file_corrupt`.

use crate::error::ErrorCode;
use calamine::{SheetType, SheetVisible};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::domain::text::TextKind;

mod clean;
mod grid;
mod guard;
mod header;
mod rows;
pub mod table;

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod test_support;

use grid::Book;
use guard::sniff;
pub use rows::UncleanRow;
use rows::{head_of, RowBuilder};

const MIB: usize = 1024 * 1024;
/// The header row must be among the first 30 rows of a sheet.
const HEADER_SEARCH_ROWS: u32 = 30;
/// Rows kept beyond `max_rows` for blank, totals and title rows before we stop
/// storing cells and only count rows.
const ROW_MARGIN: usize = 10_000;

/// A roster column we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    GrowerName,
    IdNumber,
    Phone,
    BankName,
    BankAccount,
    Village,
    PlotCode,
    Variety,
    TreeAge,
    TreeCount,
    FruitPerTree,
    AreaMu,
    CollectedOn,
    Remarks,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::GrowerName,
        Field::IdNumber,
        Field::Phone,
        Field::BankName,
        Field::BankAccount,
        Field::Village,
        Field::PlotCode,
        Field::Variety,
        Field::TreeAge,
        Field::TreeCount,
        Field::FruitPerTree,
        Field::AreaMu,
        Field::CollectedOn,
        Field::Remarks,
    ];

    /// The canonical Chinese column header (the one our template uses).
    pub fn label(self) -> &'static str {
        match self {
            Field::GrowerName => "姓名",
            Field::IdNumber => "身份证号",
            Field::Phone => "联系电话",
            Field::BankName => "开户行",
            Field::BankAccount => "银行账号",
            Field::Village => "村",
            Field::PlotCode => "地块编号",
            Field::Variety => "品种",
            Field::TreeAge => "树龄",
            Field::TreeCount => "株数",
            Field::FruitPerTree => "单株挂果数",
            Field::AreaMu => "面积(亩)",
            Field::CollectedOn => "缴费日期",
            Field::Remarks => "备注",
        }
    }

    /// The text rules a cell of this column must meet (after cleaning).
    pub fn text_kind(self) -> TextKind {
        match self {
            Field::GrowerName => TextKind::Name,
            Field::Phone => TextKind::Phone,
            Field::BankAccount => TextKind::BankAccount,
            Field::BankName | Field::Village | Field::Variety => TextKind::Place,
            Field::Remarks => TextKind::Notes,
            Field::IdNumber
            | Field::PlotCode
            | Field::TreeAge
            | Field::TreeCount
            | Field::FruitPerTree
            | Field::AreaMu
            | Field::CollectedOn => TextKind::Code,
        }
    }

    fn kind(self) -> Kind {
        match self {
            Field::GrowerName | Field::BankName | Field::Village | Field::Variety => Kind::Text,
            Field::Remarks => Kind::Remark,
            Field::IdNumber | Field::Phone | Field::BankAccount | Field::PlotCode => Kind::Code,
            Field::TreeAge | Field::TreeCount | Field::FruitPerTree | Field::AreaMu => Kind::Number,
            Field::CollectedOn => Kind::Date,
        }
    }

    /// Units people type after a number in this column ("3.5亩", "12年").
    fn units(self) -> &'static [char] {
        match self {
            Field::AreaMu => &['亩'],
            Field::TreeAge => &['年', '岁'],
            Field::TreeCount => &['株', '棵'],
            Field::FruitPerTree => &['个'],
            _ => &[],
        }
    }
}

/// How a column's cells are cleaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Names, villages, banks, varieties: spaces between Chinese characters go.
    Text,
    /// Free text, kept as typed (trimmed).
    Remark,
    /// IDs, phones, accounts, plot codes: every space goes, full-width to ASCII.
    Code,
    /// Numbers: like codes, plus `。` as a decimal point and a trailing unit.
    Number,
    /// Dates, to `YYYY-MM-DD`.
    Date,
}

/// Limits for one upload.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Largest upload accepted, in bytes.
    pub max_bytes: usize,
    /// Most data rows in the roster (blank and totals rows don't count).
    pub max_rows: usize,
    /// Largest total uncompressed size of a zip-based workbook.
    pub max_uncompressed: u64,
}

impl Default for ReadOptions {
    /// 20 MB and 200,000 rows; a county changes them through
    /// `config::Limits` (`GUOBAO_MAX_UPLOAD_MB`, `GUOBAO_MAX_ROSTER_ROWS`).
    fn default() -> Self {
        ReadOptions {
            max_bytes: 20 * MIB,
            max_rows: 200_000,
            max_uncompressed: 512 * MIB as u64,
        }
    }
}

/// Something wrong with one cell that only the spreadsheet can tell us.
#[derive(Debug, Clone, Serialize)]
pub struct CellProblem {
    pub field: Field,
    /// Excel column letter, "C".
    pub column: String,
    /// Stable machine-readable kind: `id_number_stored_as_number`,
    /// `bank_account_stored_as_number`, `date_invalid`, `stored_as_date`,
    /// `cell_error`.
    pub code: ErrorCode,
    /// What is wrong and what to do, in Chinese.
    pub message: String,
}

/// One data row of the roster.
#[derive(Debug, Clone, Serialize)]
pub struct RawRow {
    /// 1-based Excel row number.
    pub row: usize,
    /// Cleaned, non-empty values of the recognised columns. A field with a
    /// problem is absent here and listed in `problems`.
    pub cells: BTreeMap<Field, String>,
    /// Every cell of the row from column A as displayed, for the error report
    /// (at least as long as `Roster::headers`).
    pub original: Vec<String>,
    pub problems: Vec<CellProblem>,
}

/// What was found in the workbook.
#[derive(Debug, Clone, Serialize)]
pub struct Roster {
    /// The sheet actually read.
    pub sheet: String,
    /// All sheet names in workbook order.
    pub sheets: Vec<String>,
    /// 1-based Excel row number of the header row.
    pub header_row: usize,
    /// The header row as in the file, from column A (a second header row under
    /// merged cells fills in the columns the first one leaves empty).
    pub headers: Vec<String>,
    /// Recognised columns, left to right, with their Excel letters.
    pub columns: Vec<(Field, String)>,
    pub rows: Vec<RawRow>,
    /// Rows between the header and the last data row that were skipped:
    /// `"blank"` or `"totals"`.
    pub skipped_rows: Vec<(usize, &'static str)>,
}

/// Where the table was found, known before its first data row.
#[derive(Debug, Clone, Serialize)]
pub struct Head {
    pub sheet: String,
    pub sheets: Vec<String>,
    pub header_row: usize,
    pub headers: Vec<String>,
    pub columns: Vec<(Field, String)>,
}

/// Where [`stream_roster`] delivers what it reads.
pub trait RowSink {
    /// The table was found: called once, before any row.
    fn head(&mut self, head: &Head);
    /// One data row, in sheet order; `false` stops the reading (the
    /// consumer has given up, and the read's result does not matter).
    fn row(&mut self, row: RawRow) -> bool;
    /// The same row before its cells are cleaned: a sink that hands rows to
    /// another thread takes them here and cleans them there (the import),
    /// so the reading thread only parses. By default cleaned at once.
    fn unclean(&mut self, row: UncleanRow) -> bool {
        self.row(row.clean())
    }
}

/// What is left when the rows have been streamed: the table's description
/// and the rows skipped between its data rows.
pub type Streamed = (Head, Vec<(usize, &'static str)>);

/// Why an upload could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("文件超过{}上限，请按村拆分后分批上传（支持 .xlsx、.xls、.ods）", mib(.limit))]
    TooLarge { limit: usize },
    #[error("文件是空的（0字节），请重新选择花名册文件上传（支持 .xlsx、.xls、.ods）")]
    Empty,
    #[error("不是Excel或WPS表格文件（支持 .xlsx、.xls、.ods）；如果是CSV或网页导出的文件，请用Excel或WPS打开后另存为 .xlsx")]
    NotSpreadsheet,
    #[error("文件已损坏或不完整，无法读取；请用Excel或WPS打开确认后另存为 .xlsx 重新上传（技术信息：{0}）")]
    Corrupt(String),
    #[error("文件已设置密码保护，请取消密码后重新上传")]
    Encrypted,
    #[error("文件解压后异常巨大，疑似压缩炸弹，已拒绝读取；正常的花名册请用Excel或WPS另存为 .xlsx 后重新上传")]
    ZipBomb,
    #[error("数据行过多：共{found}行，单个文件最多{limit}行；请按乡镇或村拆分后分批上传")]
    TooManyRows { limit: usize, found: usize },
    #[error("无法识别表头：请确保表格中有“姓名”“身份证号”“面积”等列（{}）", sheet_list(.sheets))]
    NoHeader { sheets: Vec<String> },
}

impl ReadError {
    /// Stable machine-readable kind, for the UI and tests.
    pub fn code(&self) -> ErrorCode {
        match self {
            ReadError::TooLarge { .. } => ErrorCode::FileTooLarge,
            ReadError::Empty => ErrorCode::FileEmpty,
            ReadError::NotSpreadsheet => ErrorCode::NotASpreadsheet,
            ReadError::Corrupt(_) => ErrorCode::FileCorrupt,
            ReadError::Encrypted => ErrorCode::FileEncrypted,
            ReadError::ZipBomb => ErrorCode::FileZipBomb,
            ReadError::TooManyRows { .. } => ErrorCode::TooManyRows,
            ReadError::NoHeader { .. } => ErrorCode::NoHeader,
        }
    }
}

fn mib(bytes: &usize) -> String {
    if *bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{}MB", bytes / MIB)
    } else if *bytes >= MIB / 10 {
        format!("{:.1}MB", *bytes as f64 / MIB as f64)
    } else {
        format!("{}字节", bytes)
    }
}

fn sheet_list(sheets: &[String]) -> String {
    if sheets.is_empty() {
        "文件中没有工作表".to_string()
    } else {
        format!("已检查工作表：{}", sheets.join("、"))
    }
}

/// Excel column letters: 0 -> "A", 25 -> "Z", 26 -> "AA".
pub fn column_letter(index0: usize) -> String {
    let mut n = index0;
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + (n % 26) as u8));
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// Read a roster from the uploaded bytes.
pub fn read_roster(bytes: &[u8], opts: &ReadOptions) -> Result<Roster, ReadError> {
    struct Collect(Vec<RawRow>);
    impl RowSink for Collect {
        fn head(&mut self, _: &Head) {}
        fn row(&mut self, row: RawRow) -> bool {
            self.0.push(row);
            true
        }
    }
    let mut rows = Collect(Vec::new());
    let (head, skipped_rows) = stream_roster(bytes, opts, &mut rows)?;
    Ok(Roster {
        sheet: head.sheet,
        sheets: head.sheets,
        header_row: head.header_row,
        headers: head.headers,
        columns: head.columns,
        rows: rows.0,
        skipped_rows,
    })
}

/// Read a roster row by row: each data row goes to `sink` as soon as its
/// cells are read (`.xlsx`; the other formats are parsed whole first), so
/// the caller can check and write while the rest of the file is parsed, and
/// the whole sheet is never held in memory.
pub fn stream_roster(
    bytes: &[u8],
    opts: &ReadOptions,
    sink: &mut dyn RowSink,
) -> Result<Streamed, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() > opts.max_bytes {
        return Err(ReadError::TooLarge {
            limit: opts.max_bytes,
        });
    }
    // calamine (and the zip and cfb readers) index by offsets taken from the
    // file; a damaged upload must come back as file_corrupt, not bring down
    // the worker that handles it.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_workbook(bytes, opts, sink)
    }))
    .unwrap_or_else(|_| {
        Err(ReadError::Corrupt(
            "解析时出现内部错误（文件结构异常）".to_string(),
        ))
    })
}

/// A workbook opened for reading, with the sheets to search in order.
struct Opened<'a> {
    book: Book<'a>,
    /// All sheet names in workbook order.
    sheets: Vec<String>,
    /// Worksheets only (not chart sheets), visible ones first: a hidden
    /// template sheet should not win over the roster the user can see.
    search: Vec<String>,
    /// Rows each sheet's grid stores.
    cap: usize,
}

/// Sniff the format (with its safety checks) and open the workbook; shared
/// by the roster reader and `table::read_table`.
fn open_book<'a>(bytes: &'a [u8], opts: &ReadOptions) -> Result<Opened<'a>, ReadError> {
    let format = sniff(bytes, opts)?;
    let book = Book::open(format, bytes)?;
    let meta = book.sheets();
    let sheets: Vec<String> = meta.iter().map(|s| s.name.clone()).collect();
    let cap = opts
        .max_rows
        .saturating_add(ROW_MARGIN + HEADER_SEARCH_ROWS as usize);
    let worksheets = meta.iter().filter(|s| s.typ == SheetType::WorkSheet);
    let visible = worksheets
        .clone()
        .filter(|s| s.visible == SheetVisible::Visible);
    let hidden = worksheets.filter(|s| s.visible != SheetVisible::Visible);
    let search = visible.chain(hidden).map(|s| s.name.clone()).collect();
    Ok(Opened {
        book,
        sheets,
        search,
        cap,
    })
}

fn read_workbook(
    bytes: &[u8],
    opts: &ReadOptions,
    sink: &mut dyn RowSink,
) -> Result<Streamed, ReadError> {
    let mut opened = open_book(bytes, opts)?;
    for name in &opened.search {
        if let Some(done) = opened
            .book
            .stream(name, &opened.sheets, opened.cap, opts, sink)?
        {
            return Ok(done);
        }
    }
    Err(ReadError::NoHeader {
        sheets: opened.sheets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::read::test_support::*;
    use clean::is_cjk;
    use header::header_field;

    // ------------------------------------------------------------ basics

    #[test]
    fn column_letters() {
        let cases = [
            (0, "A"),
            (1, "B"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (51, "AZ"),
            (52, "BA"),
            (701, "ZZ"),
            (702, "AAA"),
            (16383, "XFD"),
        ];
        for (i, want) in cases {
            assert_eq!(column_letter(i), want, "{i}");
        }
    }

    #[test]
    fn labels_are_the_canonical_headers_and_read_back() {
        assert_eq!(Field::AreaMu.label(), "面积(亩)");
        assert_eq!(Field::FruitPerTree.label(), "单株挂果数");
        for f in Field::ALL {
            assert_eq!(header_field(f.label()).map(|(f, _)| f), Some(f), "{f:?}");
        }
        assert_eq!(
            serde_json::to_string(&Field::AreaMu).unwrap(),
            "\"area_mu\""
        );
    }

    #[test]
    fn size_limit_comes_before_parsing() {
        let opts = ReadOptions {
            max_bytes: 10,
            ..ReadOptions::default()
        };
        let err = read_roster(b"PK\x03\x04 anything at all", &opts).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { limit: 10 }));
        let err = ReadError::TooLarge { limit: 20 * MIB };
        assert_eq!(err.code(), "file_too_large");
        assert!(err.to_string().starts_with("文件超过20MB上限"), "{err}");
    }

    #[test]
    fn every_error_has_a_code_and_a_chinese_message() {
        let cases = [
            (ReadError::Empty, "file_empty"),
            (ReadError::NotSpreadsheet, "not_a_spreadsheet"),
            (ReadError::Corrupt("zip: eof".into()), "file_corrupt"),
            (ReadError::Encrypted, "file_encrypted"),
            (ReadError::ZipBomb, "file_zip_bomb"),
            (ReadError::NoHeader { sheets: vec![] }, "no_header"),
        ];
        for (err, code) in cases {
            assert_eq!(err.code(), code);
            assert!(err.to_string().chars().any(is_cjk), "{err}");
        }
        assert_eq!(
            ReadError::NotSpreadsheet.to_string(),
            "不是Excel或WPS表格文件（支持 .xlsx、.xls、.ods）；如果是CSV或网页导出的文件，请用Excel或WPS打开后另存为 .xlsx"
        );
        assert_eq!(
            ReadError::Encrypted.to_string(),
            "文件已设置密码保护，请取消密码后重新上传"
        );
        assert_eq!(
            ReadError::NoHeader {
                sheets: vec!["Sheet1".into(), "Sheet2".into()]
            }
            .to_string(),
            "无法识别表头：请确保表格中有“姓名”“身份证号”“面积”等列（已检查工作表：Sheet1、Sheet2）"
        );
    }

    // ------------------------------------------------------------ workbooks

    /// An in-memory .xlsx written by rust_xlsxwriter: (sheet, hidden, rows).
    fn xlsx(sheets: &[(&str, bool, &[&[&str]])]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        for (name, hidden, rows) in sheets {
            let ws = wb.add_worksheet();
            ws.set_name(*name).unwrap();
            ws.set_hidden(*hidden);
            for (r, cells) in rows.iter().enumerate() {
                for (c, t) in cells.iter().enumerate() {
                    if !t.is_empty() {
                        ws.write_string(r as u32, c as u16, *t).unwrap();
                    }
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn visible_sheets_are_tried_before_hidden_ones() {
        // The hidden template comes first in workbook order (not first of
        // all: rust_xlsxwriter cannot hide the active first sheet).
        let bytes = xlsx(&[
            ("说明", false, &[&["姓名、身份证号、面积必填"]]),
            ("模板", true, &[HEADER]),
            ("花名册", false, &[HEADER, &["1", "李春华", ID, "3.37"]]),
        ]);
        let r = read_roster(&bytes, &ReadOptions::default()).unwrap();
        assert_eq!(r.sheet, "花名册");
        assert_eq!(r.sheets, ["说明", "模板", "花名册"]);
        assert_eq!(r.rows.len(), 1);
        // With only the hidden one holding a header, it is used.
        let bytes = xlsx(&[("说明", false, &[&["无"]]), ("模板", true, &[HEADER])]);
        let r = read_roster(&bytes, &ReadOptions::default()).unwrap();
        assert_eq!(r.sheet, "模板");
        assert!(r.rows.is_empty());
    }

    #[test]
    fn chart_sheets_are_listed_but_not_searched() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let mut chart = rust_xlsxwriter::Chart::new(rust_xlsxwriter::ChartType::Column);
        chart.add_series().set_values("花名册!$D$2:$D$2");
        wb.add_chartsheet()
            .set_name("面积图")
            .unwrap()
            .insert_chart(0, 0, &chart)
            .unwrap();
        let ws = wb.add_worksheet().set_name("花名册").unwrap();
        for (r, cells) in [HEADER, &["1", "李春华", ID, "3.37"]].iter().enumerate() {
            for (c, t) in cells.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *t).unwrap();
            }
        }
        let bytes = wb.save_to_buffer().unwrap();
        let r = read_roster(&bytes, &ReadOptions::default()).unwrap();
        assert_eq!(r.sheets, ["面积图", "花名册"]);
        assert_eq!(r.sheet, "花名册");
    }

    #[test]
    fn a_stray_cell_far_away_does_not_blow_up() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, t) in HEADER.iter().enumerate() {
            ws.write_string(0, c as u16, *t).unwrap();
        }
        for (c, t) in ["1", "李春华", ID, "3.37"].iter().enumerate() {
            ws.write_string(1, c as u16, *t).unwrap();
        }
        // calamine's worksheet_range would allocate 1048576 x 16384 cells.
        ws.write_string(1_048_575, 16_383, "x").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let r = read_roster(&bytes, &ReadOptions::default()).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert!(r.skipped_rows.is_empty());
        assert_eq!(r.rows[0].original.len(), HEADER.len());
    }
}
