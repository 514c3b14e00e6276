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
use calamine::{Data, DataRef, Reader, SheetType, SheetVisible, Sheets, Xls, XlsError, Xlsx};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Cursor, Read};

use crate::domain::text::TextKind;

pub mod table;

const MIB: usize = 1024 * 1024;
/// The header row must be among the first 30 rows of a sheet.
const HEADER_SEARCH_ROWS: u32 = 30;
/// Columns past this are ignored: no roster is wider, and it bounds memory.
const MAX_COLUMNS: u32 = 1024;
/// Rows kept beyond `max_rows` for blank, totals and title rows before we stop
/// storing cells and only count rows.
const ROW_MARGIN: usize = 10_000;
/// A single zip entry is a bomb when it inflates more than this ratio ...
const BOMB_RATIO: u64 = 200;
/// ... and is larger than this (small well-compressed XML is normal).
const BOMB_ENTRY_MIN: u64 = 50 * MIB as u64;

const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

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
    pub code: &'static str,
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
    std::panic::catch_unwind(|| read_workbook(bytes, opts)).unwrap_or_else(|_| {
        Err(ReadError::Corrupt(
            "解析时出现内部错误（文件结构异常）".to_string(),
        ))
    })
}

fn read_workbook(bytes: &[u8], opts: &ReadOptions) -> Result<Roster, ReadError> {
    let format = sniff(bytes, opts)?;
    let mut book = Book::open(format, bytes)?;
    let meta = book.sheets();
    let sheets: Vec<String> = meta.iter().map(|s| s.name.clone()).collect();
    let cap = opts
        .max_rows
        .saturating_add(ROW_MARGIN + HEADER_SEARCH_ROWS as usize);
    // Worksheets only (not chart sheets), visible ones first: a hidden
    // template sheet should not win over the roster the user can see.
    let worksheets = meta.iter().filter(|s| s.typ == SheetType::WorkSheet);
    let visible = worksheets
        .clone()
        .filter(|s| s.visible == SheetVisible::Visible);
    let hidden = worksheets.filter(|s| s.visible != SheetVisible::Visible);
    for calamine::Sheet { name, .. } in visible.chain(hidden) {
        let grid = book.grid(name, cap)?;
        if let Some(header) = find_header(&grid) {
            return build_roster(name, sheets, grid, &header, opts);
        }
    }
    Err(ReadError::NoHeader { sheets })
}

// ------------------------------------------------------------------ sniffing

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xlsx,
    Xlsb,
    Ods,
    Xls,
}

fn sniff(bytes: &[u8], opts: &ReadOptions) -> Result<Format, ReadError> {
    if bytes.starts_with(&ZIP_MAGIC) {
        zip_format(bytes, opts)
    } else if bytes.starts_with(&CFB_MAGIC) {
        cfb_format(bytes)
    } else {
        Err(ReadError::NotSpreadsheet)
    }
}

/// Walk the zip central directory (no inflating) and name the format.
fn zip_format(bytes: &[u8], opts: &ReadOptions) -> Result<Format, ReadError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ReadError::Corrupt(format!("zip: {e}")))?;
    // zip refuses to inflate an entry past the size its central directory
    // declares, so checking declared sizes bounds what calamine can inflate.
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_data(i)
            .map_err(|e| ReadError::Corrupt(format!("zip: {e}")))?;
        if entry_is_bomb(entry.size(), entry.compressed_size()) {
            return Err(ReadError::ZipBomb);
        }
        total = total.saturating_add(entry.size());
        if total > opts.max_uncompressed {
            return Err(ReadError::ZipBomb);
        }
    }
    if zip.index_for_name("mimetype").is_some() {
        let mimetype = read_entry(&mut zip, "mimetype", 200)?;
        if mimetype.starts_with(b"application/vnd.oasis.opendocument.spreadsheet") {
            let manifest = read_entry(&mut zip, "META-INF/manifest.xml", 1 << 20)?;
            if contains(&manifest, b"encryption-data") {
                return Err(ReadError::Encrypted);
            }
            return Ok(Format::Ods);
        }
        return Err(ReadError::NotSpreadsheet);
    }
    if zip.index_for_name("xl/workbook.bin").is_some() {
        return Ok(Format::Xlsb);
    }
    if zip
        .file_names()
        .any(|n| n.is_ok_and(|n| n.starts_with("xl/")))
    {
        return Ok(Format::Xlsx);
    }
    // A .docx, a .zip of photos, ...
    Err(ReadError::NotSpreadsheet)
}

fn entry_is_bomb(size: u64, compressed: u64) -> bool {
    size > BOMB_ENTRY_MIN && size > compressed.max(1).saturating_mul(BOMB_RATIO)
}

/// Read at most `limit` bytes of a named entry; a missing entry reads as empty.
fn read_entry(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, ReadError> {
    let Some(index) = zip.index_for_name(name) else {
        return Ok(Vec::new());
    };
    let entry = zip
        .by_index(index)
        .map_err(|e| ReadError::Corrupt(format!("zip: {e}")))?;
    let mut out = Vec::new();
    entry
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| ReadError::Corrupt(format!("zip {name}: {e}")))?;
    Ok(out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An OLE2 compound file: legacy .xls, or an encrypted OOXML package.
fn cfb_format(bytes: &[u8]) -> Result<Format, ReadError> {
    let mut cf = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| ReadError::Corrupt(format!("cfb: {e}")))?;
    // Password-protected .xlsx files are CFB containers holding the real zip
    // in an EncryptedPackage stream (MS-OFFCRYPTO).
    if cf.is_stream("/EncryptedPackage") {
        return Err(ReadError::Encrypted);
    }
    // BIFF8 names its stream Workbook, BIFF5 (Excel 95) Book, as calamine reads.
    let Some(name) = ["/Workbook", "/Book"].into_iter().find(|n| cf.is_stream(n)) else {
        // A .doc, .ppt or .msg.
        return Err(ReadError::NotSpreadsheet);
    };
    let mut stream = Vec::new();
    cf.open_stream(name)
        .and_then(|s| s.take(bytes.len() as u64).read_to_end(&mut stream))
        .map_err(|e| ReadError::Corrupt(format!("cfb {name}: {e}")))?;
    xls_guard(&stream)?;
    Ok(Format::Xls)
}

/// Cells the ranges of all sheets of an .xls may span together (about 160 MB
/// at calamine's 40 bytes a cell); 65536 rows of 61 columns fit.
const XLS_CELL_BUDGET: u64 = 4_000_000;

/// calamine parses every sheet of an .xls as the workbook opens, reserving
/// room for what the sheet's DIMENSIONS record claims and then building a
/// dense range over the cells' bounding box. One damaged byte can claim 65535
/// columns or four billion rows, and that allocation aborts the whole process
/// (it is not a panic). So walk the records calamine will walk, from each
/// BoundSheet offset, and refuse a file whose ranges would not fit the budget.
fn xls_guard(stream: &[u8]) -> Result<(), ReadError> {
    let too_big = || ReadError::Corrupt("xls: 工作表范围异常（单元格位置或尺寸记录已损坏）".into());
    let mut sheet_offsets = Vec::new();
    for (typ, data) in biff_records(stream) {
        match typ {
            0x0085 if data.len() >= 4 => sheet_offsets.push(le_u32(data) as usize),
            0x000A => break,
            _ => {}
        }
    }
    let mut total: u64 = 0;
    for offset in sheet_offsets {
        let Some(sheet) = stream.get(offset..) else {
            return Err(ReadError::Corrupt(format!(
                "xls: 工作表位置 {offset} 超出数据流"
            )));
        };
        let mut cells = BoundingBox::default();
        let mut formulas = BoundingBox::default();
        let mut reserved: u64 = 0;
        let (mut seen_bof, mut depth) = (false, 0usize);
        for (typ, data) in biff_records(sheet) {
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let at = |i: usize| u32::from(le_u16(from(data, i)));
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                0x0200 => reserved = reserved.saturating_add(dimensions_cells(data)),
                0x0006 if data.len() >= 4 => {
                    cells.add(at(0), at(2));
                    formulas.add(at(0), at(2));
                }
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD if data.len() >= 4 => {
                    cells.add(at(0), at(2))
                }
                0x00BD if data.len() >= 6 => {
                    let count = (data.len() - 6).div_ceil(6) as u32;
                    if count > 0 {
                        cells.add(at(0), at(2));
                        cells.add(at(0), at(2) + count - 1);
                    }
                }
                _ => {}
            }
        }
        total = total
            .saturating_add(reserved)
            .saturating_add(cells.cells())
            .saturating_add(formulas.cells());
        if total > XLS_CELL_BUDGET {
            return Err(too_big());
        }
    }
    Ok(())
}

/// BIFF records as (type, data); stops at the first truncated record, where
/// calamine stops with an error.
fn biff_records(mut rest: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let typ = le_u16(rest);
        let len = usize::from(le_u16(from(rest, 2)));
        let data = rest.get(4..4 + len)?;
        rest = from(rest, 4 + len);
        Some((typ, data))
    })
}

/// The capacity calamine reserves for a DIMENSIONS record, computed the way it
/// does (u32 arithmetic that wraps in release builds).
fn dimensions_cells(r: &[u8]) -> u64 {
    let (rf, rl, mut cf, cl) = match r.len() {
        10 => (
            u32::from(le_u16(r)),
            u32::from(le_u16(from(r, 2))),
            u32::from(le_u16(from(r, 4))),
            u32::from(le_u16(from(r, 6))),
        ),
        14 | 16 => (
            le_u32(r),
            le_u32(from(r, 4)),
            u32::from(le_u16(from(r, 8))),
            u32::from(le_u16(from(r, 10))),
        ),
        _ => return 0,
    };
    if cf > 0xFF || cl < cf {
        cf = 0;
    }
    let (end_r, end_c) = if rl >= 1 && cl >= 1 {
        (rl - 1, cl - 1)
    } else {
        (rf, cf)
    };
    let rows = u64::from(end_r.wrapping_sub(rf).wrapping_add(1));
    let cols = u64::from(end_c.wrapping_sub(cf).wrapping_add(1));
    rows.saturating_mul(cols)
}

#[derive(Debug, Default)]
struct BoundingBox(Option<(u32, u32, u32, u32)>);

impl BoundingBox {
    fn add(&mut self, row: u32, col: u32) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }

    fn cells(&self) -> u64 {
        self.0.map_or(0, |(r0, r1, c0, c1)| {
            u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1)
        })
    }
}

/// Little-endian integers at the start of `b`; 0 when `b` is too short
/// (callers check lengths first; this only keeps a damaged file from panicking).
fn le_u16(b: &[u8]) -> u16 {
    b.get(..2)
        .and_then(|x| <[u8; 2]>::try_from(x).ok())
        .map_or(0, u16::from_le_bytes)
}

fn le_u32(b: &[u8]) -> u32 {
    b.get(..4)
        .and_then(|x| <[u8; 4]>::try_from(x).ok())
        .map_or(0, u32::from_le_bytes)
}

/// `b` from `at` on, empty past its end.
fn from(b: &[u8], at: usize) -> &[u8] {
    b.get(at..).unwrap_or_default()
}

// ------------------------------------------------------------------ workbook

enum Book<'a> {
    /// Streamed cell by cell (see module docs).
    Xlsx(Box<Xlsx<Cursor<&'a [u8]>>>),
    Other(Box<Sheets<Cursor<&'a [u8]>>>),
}

fn corrupt(e: impl fmt::Display) -> ReadError {
    ReadError::Corrupt(e.to_string())
}

fn calamine_error(e: calamine::Error) -> ReadError {
    match e {
        calamine::Error::Xls(XlsError::Password) => ReadError::Encrypted,
        other => corrupt(other),
    }
}

impl<'a> Book<'a> {
    fn open(format: Format, bytes: &'a [u8]) -> Result<Book<'a>, ReadError> {
        let rs = Cursor::new(bytes);
        Ok(match format {
            Format::Xlsx => Book::Xlsx(Box::new(
                calamine::open_workbook_from_rs(rs).map_err(corrupt)?,
            )),
            Format::Xlsb => Book::Other(Box::new(Sheets::Xlsb(
                calamine::open_workbook_from_rs(rs).map_err(corrupt)?,
            ))),
            Format::Ods => Book::Other(Box::new(Sheets::Ods(
                calamine::open_workbook_from_rs(rs).map_err(corrupt)?,
            ))),
            Format::Xls => {
                let xls: Xls<_> = calamine::open_workbook_from_rs(rs).map_err(|e| match e {
                    XlsError::Password => ReadError::Encrypted,
                    other => corrupt(other),
                })?;
                Book::Other(Box::new(Sheets::Xls(xls)))
            }
        })
    }

    /// Every sheet in workbook order.
    fn sheets(&self) -> Vec<calamine::Sheet> {
        match self {
            Book::Xlsx(x) => x.sheets_metadata().to_vec(),
            Book::Other(s) => s.sheets_metadata().to_vec(),
        }
    }

    fn grid(&mut self, name: &str, cap: usize) -> Result<Grid, ReadError> {
        let mut grid = Grid::new(cap);
        match self {
            Book::Xlsx(x) => {
                let mut cells = x.worksheet_cells_reader(name).map_err(corrupt)?;
                while let Some(cell) = cells.next_cell().map_err(corrupt)? {
                    let (row, col) = cell.get_position();
                    let value = match cell.get_value() {
                        DataRef::Empty => continue,
                        DataRef::SharedString(s) => Data::String((*s).to_string()),
                        other => Data::from(other.clone()),
                    };
                    grid.insert(row, col, value);
                }
            }
            Book::Other(s) => {
                let range = s.worksheet_range(name).map_err(calamine_error)?;
                let (row0, col0) = range.start().unwrap_or((0, 0));
                for (r, c, value) in range.used_cells() {
                    grid.insert(row0 + r as u32, col0 + c as u32, value.clone());
                }
            }
        }
        Ok(grid)
    }
}

/// A sheet as sparse rows: only cells holding something, 0-based positions.
#[derive(Debug, Default, Clone)]
struct Grid {
    rows: BTreeMap<u32, Row>,
    /// Rows with content beyond `cap`, counted but not stored.
    overflow_rows: usize,
    last_overflow_row: Option<u32>,
    cap: usize,
}

/// The non-empty cells of one row, sorted by column. A short vector: readers
/// deliver cells left to right, so inserting is a push, and a roster row has
/// a few dozen cells at most.
#[derive(Debug, Default, Clone)]
struct Row(Vec<(u32, Data)>);

/// Cells in column order, as (column, value).
impl<'a> IntoIterator for &'a Row {
    type Item = &'a (u32, Data);
    type IntoIter = std::slice::Iter<'a, (u32, Data)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Row {
    fn get(&self, col: &u32) -> Option<&Data> {
        self.0
            .binary_search_by_key(col, |(c, _)| *c)
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|(_, value)| value)
    }

    fn insert(&mut self, col: u32, value: Data) {
        match self.0.last() {
            None => self.0.push((col, value)),
            Some((last, _)) if *last < col => self.0.push((col, value)),
            _ => match self.0.binary_search_by_key(&col, |(c, _)| *c) {
                Ok(i) => {
                    if let Some(cell) = self.0.get_mut(i) {
                        cell.1 = value;
                    }
                }
                Err(i) => self.0.insert(i, (col, value)),
            },
        }
    }

    fn iter(&self) -> std::slice::Iter<'_, (u32, Data)> {
        self.0.iter()
    }

    /// Last column (exclusive) holding a non-blank value.
    fn width(&self) -> usize {
        self.0
            .iter()
            .rev()
            .find(|(_, v)| !is_blank(v))
            .map_or(0, |(col, _)| *col as usize + 1)
    }

    /// Cells from column A up to at least `width`, as displayed; the row's
    /// strings move into the result instead of being copied.
    fn into_texts(self, width: usize) -> Vec<String> {
        let mut out = vec![String::new(); width.max(self.width())];
        for (col, value) in self.0 {
            if let Some(slot) = out.get_mut(col as usize) {
                *slot = match value {
                    Data::String(s) => s,
                    other => shown(&other),
                };
            }
        }
        out
    }
}

impl Grid {
    fn new(cap: usize) -> Grid {
        Grid {
            cap,
            ..Grid::default()
        }
    }

    fn insert(&mut self, row: u32, col: u32, value: Data) {
        if col >= MAX_COLUMNS || matches!(value, Data::Empty) {
            return;
        }
        // Cells arrive row by row: most go to the last row seen.
        if let Some(mut last) = self.rows.last_entry() {
            if *last.key() == row {
                last.get_mut().insert(col, value);
                return;
            }
        }
        if !self.rows.contains_key(&row) && self.rows.len() >= self.cap {
            if self.last_overflow_row != Some(row) {
                self.overflow_rows += 1;
                self.last_overflow_row = Some(row);
            }
            return;
        }
        self.rows.entry(row).or_default().insert(col, value);
    }

    fn get(&self, row: u32, col: u32) -> Option<&Data> {
        self.rows.get(&row)?.get(&col)
    }

    fn text(&self, row: u32, col: u32) -> String {
        self.get(row, col).map(shown).unwrap_or_default()
    }

    fn is_blank(&self, row: u32, col: u32) -> bool {
        self.get(row, col).is_none_or(is_blank)
    }

    /// Cells of a row from column A up to at least `width`, as displayed.
    fn row_texts(&self, row: u32, width: usize) -> Vec<String> {
        (0..width.max(self.row_width(row)))
            .map(|c| self.text(row, c as u32))
            .collect()
    }

    /// Last column (exclusive) holding a non-blank value in this row.
    fn row_width(&self, row: u32) -> usize {
        self.rows.get(&row).map_or(0, Row::width)
    }
}

/// Empty or only whitespace (U+3000 included), without allocating.
fn is_blank(value: &Data) -> bool {
    match value {
        Data::Empty => true,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().is_empty(),
        _ => false,
    }
}

// -------------------------------------------------------------------- header

/// Accepted header texts after `header_key`, with a rank: when two columns map
/// to one field the lower rank wins (投保面积 over 种植面积), then the leftmost.
const ALIASES: &[(&str, Field, u8)] = &[
    ("姓名", Field::GrowerName, 0),
    ("户主姓名", Field::GrowerName, 0),
    ("农户姓名", Field::GrowerName, 0),
    ("被保险人", Field::GrowerName, 0),
    ("被保险人姓名", Field::GrowerName, 0),
    ("户主", Field::GrowerName, 1),
    ("身份证号", Field::IdNumber, 0),
    ("身份证号码", Field::IdNumber, 0),
    ("证件号码", Field::IdNumber, 0),
    ("证件号", Field::IdNumber, 0),
    ("身份证", Field::IdNumber, 0),
    ("联系电话", Field::Phone, 0),
    ("电话", Field::Phone, 0),
    ("电话号码", Field::Phone, 0),
    ("手机号", Field::Phone, 0),
    ("手机号码", Field::Phone, 0),
    ("手机", Field::Phone, 0),
    ("联系方式", Field::Phone, 0),
    ("开户行", Field::BankName, 0),
    ("开户银行", Field::BankName, 0),
    ("开户行名称", Field::BankName, 0),
    ("银行账号", Field::BankAccount, 0),
    ("银行帐号", Field::BankAccount, 0),
    ("银行卡号", Field::BankAccount, 0),
    ("账号", Field::BankAccount, 0),
    ("帐号", Field::BankAccount, 0),
    ("卡号", Field::BankAccount, 0),
    ("一卡通账号", Field::BankAccount, 0),
    ("一卡通帐号", Field::BankAccount, 0),
    ("一卡通号", Field::BankAccount, 0),
    ("村", Field::Village, 0),
    ("村名", Field::Village, 0),
    ("所在村", Field::Village, 0),
    ("行政村", Field::Village, 0),
    ("村委会", Field::Village, 0),
    ("地块编号", Field::PlotCode, 0),
    ("地块号", Field::PlotCode, 0),
    ("地块代码", Field::PlotCode, 0),
    ("品种", Field::Variety, 0),
    ("核桃品种", Field::Variety, 0),
    ("树龄", Field::TreeAge, 0),
    ("株数", Field::TreeCount, 0),
    ("树木株数", Field::TreeCount, 0),
    ("棵数", Field::TreeCount, 0),
    ("挂果数", Field::FruitPerTree, 0),
    ("单株挂果数", Field::FruitPerTree, 0),
    ("单株挂果", Field::FruitPerTree, 0),
    ("投保面积", Field::AreaMu, 0),
    ("面积", Field::AreaMu, 1),
    ("种植面积", Field::AreaMu, 2),
    ("缴费日期", Field::CollectedOn, 0),
    ("收费日期", Field::CollectedOn, 0),
    ("交费日期", Field::CollectedOn, 0),
    ("备注", Field::Remarks, 0),
];

/// A header cell reduced for matching: half-width, no whitespace, no
/// bracketed parts ("面积（亩）" -> "面积"), no required-marks or colons.
fn header_key(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in text.chars().map(halfwidth) {
        match c {
            '(' | '[' | '【' | '〔' | '<' | '《' => depth += 1,
            ')' | ']' | '】' | '〕' | '>' | '》' => depth = depth.saturating_sub(1),
            c if c.is_whitespace() => {}
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim_matches(|c| matches!(c, '*' | ':' | '※'))
        .to_string()
}

/// Which field a header cell names, with its alias rank.
fn header_field(text: &str) -> Option<(Field, u8)> {
    let mut key = header_key(text);
    loop {
        if let Some((_, field, rank)) = ALIASES.iter().find(|(a, _, _)| *a == key) {
            return Some((*field, *rank));
        }
        // "面积亩", "面积/亩", "树龄-年": a unit typed without brackets.
        let trimmed =
            key.trim_end_matches(['亩', '年', '岁', '个', '株', '棵', '元', '/', '-', '_']);
        if trimmed.len() == key.len() || trimmed.is_empty() {
            return None;
        }
        key = trimmed.to_string();
    }
}

#[derive(Debug, Clone)]
struct Header {
    /// 0-based row of the header.
    row: u32,
    /// 0-based first data row candidate (after a second header row, if any).
    data_start: u32,
    /// Recognised columns, left to right.
    columns: Vec<(Field, u32)>,
    /// Texts of the header row(s) from column A.
    texts: Vec<String>,
    /// First column of the table (leftmost non-blank header cell).
    first_col: u32,
}

/// Fields recognised in one row: the best column per field.
fn fields_in_row(grid: &Grid, row: u32) -> BTreeMap<Field, (u8, u32)> {
    let mut found: BTreeMap<Field, (u8, u32)> = BTreeMap::new();
    if let Some(cells) = grid.rows.get(&row) {
        for (col, value) in cells.iter() {
            if let Some((field, rank)) = header_field(&shown(value)) {
                match found.get(&field) {
                    Some((best, _)) if *best <= rank => {}
                    _ => {
                        found.insert(field, (rank, *col));
                    }
                }
            }
        }
    }
    found
}

/// The first row among the first 30 holding 姓名, 身份证号 and 面积 columns.
fn find_header(grid: &Grid) -> Option<Header> {
    let required = [Field::GrowerName, Field::IdNumber, Field::AreaMu];
    let (row, mut found) = grid
        .rows
        .range(..HEADER_SEARCH_ROWS)
        .map(|(row, _)| (*row, fields_in_row(grid, *row)))
        .find(|(_, found)| required.iter().all(|f| found.contains_key(f)))?;
    let mut width = grid.row_width(row);
    let mut texts = grid.row_texts(row, 0);
    let mut data_start = row + 1;

    // A second header row under vertically merged cells (树木情况 over 树龄 /
    // 株数): it names new fields and leaves the already-named columns empty,
    // which no data row does (a data row has a name and an ID).
    let sub = fields_in_row(grid, row + 1);
    let mapped_empty = found.values().all(|(_, col)| grid.is_blank(row + 1, *col));
    let used: Vec<u32> = found.values().map(|(_, c)| *c).collect();
    let new: Vec<(Field, (u8, u32))> = sub
        .into_iter()
        .filter(|(f, (_, c))| !found.contains_key(f) && !used.contains(c))
        .collect();
    if mapped_empty && !new.is_empty() {
        found.extend(new);
        width = width.max(grid.row_width(row + 1));
        let below = grid.row_texts(row + 1, width);
        texts.resize(width, String::new());
        for (top, sub) in texts.iter_mut().zip(below) {
            if !sub.trim().is_empty() {
                *top = sub;
            }
        }
        data_start = row + 2;
    }

    let mut columns: Vec<(Field, u32)> = found.into_iter().map(|(f, (_, c))| (f, c)).collect();
    columns.sort_by_key(|(_, c)| *c);
    let first_col = texts.iter().position(|t| !t.trim().is_empty()).unwrap_or(0) as u32;
    Some(Header {
        row,
        data_start,
        columns,
        texts,
        first_col,
    })
}

// ---------------------------------------------------------------------- rows

fn build_roster(
    sheet: &str,
    sheets: Vec<String>,
    grid: Grid,
    header: &Header,
    opts: &ReadOptions,
) -> Result<Roster, ReadError> {
    let width = header.texts.len();
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut pending_blanks = Vec::new();
    let mut data_rows = 0usize;
    let last_row = grid.rows.keys().next_back().copied().unwrap_or(0);
    let overflow_rows = grid.overflow_rows;
    // The grid is consumed row by row: each row's memory is released (or
    // moved into the RawRow) as soon as it is read.
    let mut sheet_rows = grid.rows.into_iter().peekable();
    while sheet_rows
        .next_if(|(r, _)| *r < header.data_start)
        .is_some()
    {}

    for row in header.data_start..=last_row {
        let cells = sheet_rows.next_if(|(r, _)| *r == row).map(|(_, c)| c);
        match classify(cells.as_ref(), header) {
            RowKind::Blank => {
                pending_blanks.push((row as usize + 1, "blank"));
                continue;
            }
            RowKind::Totals => {
                skipped.append(&mut pending_blanks);
                skipped.push((row as usize + 1, "totals"));
                continue;
            }
            RowKind::Data => skipped.append(&mut pending_blanks),
        }
        data_rows += 1;
        if data_rows > opts.max_rows {
            // Keep counting so the message can say how many there are.
            continue;
        }
        let Some(row_cells) = cells else {
            continue;
        };
        let mut values = BTreeMap::new();
        let mut problems = Vec::new();
        for &(field, col) in &header.columns {
            let Some(value) = row_cells.get(&col) else {
                continue;
            };
            match normalize(field, value) {
                Cleaned::Empty => {}
                Cleaned::Value(v) => {
                    values.insert(field, v);
                }
                Cleaned::Problem(code, message) => problems.push(CellProblem {
                    field,
                    column: column_letter(col as usize),
                    code,
                    message,
                }),
            }
        }
        rows.push(RawRow {
            row: row as usize + 1,
            cells: values,
            original: row_cells.into_texts(width),
            problems,
        });
    }
    // Trailing blank rows (formatting that reaches far down) are not skipped
    // rows, just the end of the table.
    if data_rows > opts.max_rows || overflow_rows > 0 {
        return Err(ReadError::TooManyRows {
            limit: opts.max_rows,
            found: data_rows + overflow_rows,
        });
    }
    Ok(Roster {
        sheet: sheet.to_string(),
        sheets,
        header_row: header.row as usize + 1,
        headers: header.texts.clone(),
        columns: header
            .columns
            .iter()
            .map(|(f, c)| (*f, column_letter(*c as usize)))
            .collect(),
        rows,
        skipped_rows: skipped,
    })
}

#[derive(Debug, PartialEq, Eq)]
enum RowKind {
    Data,
    Blank,
    Totals,
}

const TOTALS: [&str; 3] = ["合计", "总计", "小计"];

fn classify(cells: Option<&Row>, header: &Header) -> RowKind {
    let Some(cells) = cells else {
        return RowKind::Blank;
    };
    // Only text can say 合计; "合    计": people space the word out to fill a
    // wide cell.
    let says_totals = |col: &u32| match cells.get(col) {
        Some(Data::String(t)) => {
            let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            TOTALS.iter().any(|k| t.contains(k))
        }
        _ => false,
    };
    let name_col = header
        .columns
        .iter()
        .find(|(f, _)| *f == Field::GrowerName)
        .map(|(_, c)| *c);
    if (header.first_col..header.first_col + 3)
        .chain(name_col)
        .any(|c| says_totals(&c))
    {
        return RowKind::Totals;
    }
    // Blank: nothing in any recognised column but 备注. A row holding only a
    // pre-printed 序号 or a remark like "以下空白" is not a grower.
    let has_data = header
        .columns
        .iter()
        .any(|(f, c)| *f != Field::Remarks && cells.get(c).is_some_and(|v| !is_blank(v)));
    if has_data {
        RowKind::Data
    } else {
        RowKind::Blank
    }
}

// ------------------------------------------------------------- cell cleaning

#[derive(Debug, PartialEq)]
enum Cleaned {
    Empty,
    Value(String),
    Problem(&'static str, String),
}

/// A cell as a person sees it in Excel or WPS.
fn shown(value: &Data) -> String {
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
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    format!("{rounded}")
}

/// Full-width ASCII forms (digits, letters, punctuation) and the ideographic
/// space to their half-width forms.
fn halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn is_cjk(c: char) -> bool {
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
fn clean_code(s: &str) -> String {
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

fn normalize(field: Field, value: &Data) -> Cleaned {
    let kind = field.kind();
    let cleaned: std::borrow::Cow<str> = match value {
        Data::Empty => return Cleaned::Empty,
        Data::Error(e) => {
            return Cleaned::Problem(
                "cell_error",
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
            return match parse_date_text(&cleaned) {
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
    match crate::domain::text::check(field.label(), &out, field.text_kind()) {
        Ok(_) => Cleaned::Value(out),
        Err(p) => Cleaned::Problem(p.code.as_str(), p.message),
    }
}

/// A long number typed into a General-format cell keeps only 15 significant
/// digits: the ID (18) or account (16-19) is already wrong, and guessing the
/// lost digits would be worse than asking.
fn lost_digits(field: Field, id_long: bool, account_long: bool) -> Option<Cleaned> {
    match field {
        Field::IdNumber if id_long => Some(Cleaned::Problem(
            "id_number_stored_as_number",
            "身份证号被存成了数字，后几位已丢失；请把该列设置为“文本”格式后重新填写".to_string(),
        )),
        Field::BankAccount if account_long => Some(Cleaned::Problem(
            "bank_account_stored_as_number",
            "银行账号被存成了数字，后几位已丢失；请把该列设置为“文本”格式后重新填写".to_string(),
        )),
        _ => None,
    }
}

fn stored_as_date(field: Field, value: &Data) -> Cleaned {
    Cleaned::Problem(
        "stored_as_date",
        format!(
            "{}被存成了日期（显示为{}），请把该列设置为“常规”或“文本”格式后重新填写",
            field.label(),
            shown(value)
        ),
    )
}

fn date_invalid(value: &Data) -> Cleaned {
    Cleaned::Problem(
        "date_invalid",
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
        parse_date_text(&format!("{}", v as i64))
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

/// 2012-3-5, 2012/03/05, 2012.3.5, 2012年3月5日, 20120305, and any of those
/// followed by a time.
fn parse_date_text(s: &str) -> Option<chrono::NaiveDate> {
    let t: String = s.chars().map(halfwidth).collect();
    let t = t.trim();
    let date_part = t.split([' ', 'T']).next().unwrap_or(t);
    let date_part = date_part.trim_end_matches(['日', '号']);
    let parts: Vec<&str> = date_part
        .split(['-', '/', '.', '年', '月'])
        .map(str::trim)
        .collect();
    let (y, m, d) = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()) => {
            (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
        }
        [ymd] if ymd.len() == 8 && ymd.chars().all(|c| c.is_ascii_digit()) => (
            ymd.get(0..4)?.parse().ok()?,
            ymd.get(4..6)?.parse().ok()?,
            ymd.get(6..8)?.parse().ok()?,
        ),
        _ => return None,
    };
    if !(1900..=2100).contains(&y) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{CellErrorType, ExcelDateTime, ExcelDateTimeType};
    use std::io::Write;

    fn s(t: &str) -> Data {
        if t.is_empty() {
            Data::Empty
        } else {
            Data::String(t.to_string())
        }
    }

    fn grid_of(rows: Vec<Vec<Data>>) -> Grid {
        let mut g = Grid::new(usize::MAX);
        for (r, cells) in rows.into_iter().enumerate() {
            for (c, v) in cells.into_iter().enumerate() {
                g.insert(r as u32, c as u32, v);
            }
        }
        g
    }

    fn text_grid(rows: &[&[&str]]) -> Grid {
        grid_of(
            rows.iter()
                .map(|r| r.iter().map(|t| s(t)).collect())
                .collect(),
        )
    }

    fn read_grid(g: &Grid, opts: &ReadOptions) -> Result<Roster, ReadError> {
        let header = find_header(g).ok_or(ReadError::NoHeader {
            sheets: vec!["Sheet1".into()],
        })?;
        build_roster("Sheet1", vec!["Sheet1".into()], g.clone(), &header, opts)
    }

    fn date(serial: f64) -> Data {
        Data::DateTime(ExcelDateTime::new(
            serial,
            ExcelDateTimeType::DateTime,
            false,
        ))
    }

    fn value(field: Field, v: Data) -> String {
        match normalize(field, &v) {
            Cleaned::Value(t) => t,
            other => panic!("{field:?} {v:?}: {other:?}"),
        }
    }

    fn problem(field: Field, v: Data) -> (&'static str, String) {
        match normalize(field, &v) {
            Cleaned::Problem(code, msg) => (code, msg),
            other => panic!("{field:?} {v:?}: {other:?}"),
        }
    }

    const HEADER: &[&str] = &["序号", "姓名", "身份证号", "面积(亩)", "备注"];
    const ID: &str = "532999197001010154";

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
    fn header_variants() {
        use Field::*;
        let cases: &[(&str, Field)] = &[
            ("姓名", GrowerName),
            ("户主姓名", GrowerName),
            ("农户姓名", GrowerName),
            ("户主", GrowerName),
            ("被保险人", GrowerName),
            (" 姓 名 ", GrowerName),
            ("*姓名", GrowerName),
            ("身份证号", IdNumber),
            ("身份证号码", IdNumber),
            ("证件号码", IdNumber),
            ("身份证", IdNumber),
            ("身份证号\n(必填)", IdNumber),
            ("身份证号：", IdNumber),
            ("联系电话", Phone),
            ("电话", Phone),
            ("手机号", Phone),
            ("手机号码", Phone),
            ("联系方式", Phone),
            ("开户行", BankName),
            ("开户银行", BankName),
            ("银行账号", BankAccount),
            ("银行卡号", BankAccount),
            ("账号", BankAccount),
            ("卡号", BankAccount),
            ("一卡通账号", BankAccount),
            ("银行帐号", BankAccount),
            ("村", Village),
            ("村名", Village),
            ("所在村", Village),
            ("行政村", Village),
            ("村委会", Village),
            ("地块编号", PlotCode),
            ("地块号", PlotCode),
            ("地块代码", PlotCode),
            ("品种", Variety),
            ("核桃品种", Variety),
            ("树龄", TreeAge),
            ("树龄(年)", TreeAge),
            ("树龄（年）", TreeAge),
            ("株数", TreeCount),
            ("株 数", TreeCount),
            ("树木株数", TreeCount),
            ("棵数", TreeCount),
            ("挂果数", FruitPerTree),
            ("单株挂果数", FruitPerTree),
            ("单株挂果(个)", FruitPerTree),
            ("面积", AreaMu),
            ("面积(亩)", AreaMu),
            ("面积（亩）", AreaMu),
            ("面积【亩】", AreaMu),
            ("面积/亩", AreaMu),
            ("面积亩", AreaMu),
            ("投保面积", AreaMu),
            ("投保面积(亩)", AreaMu),
            ("投保面积（亩）", AreaMu),
            ("种植面积", AreaMu),
            ("缴费日期", CollectedOn),
            ("收费日期", CollectedOn),
            ("备注", Remarks),
            ("备　注", Remarks),
        ];
        for (text, want) in cases {
            assert_eq!(header_field(text).map(|(f, _)| f), Some(*want), "{text:?}");
        }
        for text in [
            "序号",
            "",
            "合计",
            "姓名拼音",
            "2012年甲镇核桃树保险投保花名册",
            "亩",
        ] {
            assert_eq!(header_field(text), None, "{text:?}");
        }
    }

    #[test]
    fn better_alias_wins_then_leftmost() {
        let g = text_grid(&[&["种植面积", "姓名", "身份证号", "投保面积", "户主", "面积"]]);
        let h = find_header(&g).unwrap();
        assert_eq!(
            h.columns,
            vec![
                (Field::GrowerName, 1),
                (Field::IdNumber, 2),
                (Field::AreaMu, 3)
            ]
        );
    }

    #[test]
    fn header_below_title_rows_and_required_columns() {
        let g = text_grid(&[
            &["2012年甲镇核桃树保险投保花名册"],
            &[],
            &["填报单位：甲镇", "", "", "2012年3月"],
            HEADER,
            &["1", "李春华", ID, "3.37"],
        ]);
        let r = read_grid(&g, &ReadOptions::default()).unwrap();
        assert_eq!(r.header_row, 4);
        assert_eq!(r.headers, HEADER);
        assert_eq!(
            r.columns,
            vec![
                (Field::GrowerName, "B".to_string()),
                (Field::IdNumber, "C".to_string()),
                (Field::AreaMu, "D".to_string()),
                (Field::Remarks, "E".to_string()),
            ]
        );
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].row, 5);

        // Without 面积 there is no header.
        let g = text_grid(&[&["姓名", "身份证号", "株数"], &["李春华", ID, "3"]]);
        assert!(find_header(&g).is_none());
    }

    #[test]
    fn header_must_be_within_first_30_rows() {
        let mut rows: Vec<Vec<Data>> = (0..30).map(|i| vec![s(&format!("说明{i}"))]).collect();
        rows.push(HEADER.iter().map(|t| s(t)).collect());
        assert!(find_header(&grid_of(rows.clone())).is_none());
        rows.remove(0);
        assert_eq!(find_header(&grid_of(rows)).unwrap().row, 29);
    }

    #[test]
    fn second_header_row_under_merged_cells() {
        let g = text_grid(&[
            &["姓名", "身份证号", "树木情况", "", "面积"],
            &["", "", "树龄", "株数", ""],
            &["李春华", ID, "7", "40", "3.37"],
        ]);
        let r = read_grid(&g, &ReadOptions::default()).unwrap();
        assert_eq!(r.header_row, 1);
        assert_eq!(r.headers, ["姓名", "身份证号", "树龄", "株数", "面积"]);
        let fields: Vec<Field> = r.columns.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                Field::GrowerName,
                Field::IdNumber,
                Field::TreeAge,
                Field::TreeCount,
                Field::AreaMu
            ]
        );
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].row, 3);
        assert_eq!(r.rows[0].cells[&Field::TreeCount], "40");
    }

    // ------------------------------------------------------------ cleaning

    #[test]
    fn text_and_code_cleaning() {
        assert_eq!(value(Field::GrowerName, s("王  芳")), "王芳");
        assert_eq!(
            value(Field::GrowerName, s("\u{3000}何家顺\u{3000}")),
            "何家顺"
        );
        assert_eq!(value(Field::GrowerName, s("阿 依 古丽")), "阿依古丽");
        assert_eq!(value(Field::GrowerName, s("Zhang  San")), "Zhang San");
        assert_eq!(value(Field::Village, s(" 一 村")), "一村");
        assert_eq!(
            value(Field::IdNumber, s(" 532999 19700101 0154 ")),
            "532999197001010154"
        );
        assert_eq!(
            value(Field::IdNumber, s("５３２９９９１９７７０３０５２０５ｘ")),
            "53299919770305205X"
        );
        assert_eq!(
            value(Field::IdNumber, s("53299919770305205x")),
            "53299919770305205X"
        );
        assert_eq!(
            value(Field::IdNumber, s("'532999197001010154")),
            "532999197001010154"
        );
        assert_eq!(
            value(Field::Phone, s("139 8765\u{3000}0002")),
            "13987650002"
        );
        assert_eq!(
            value(Field::BankAccount, s("6228 4807 0200 0000 015")),
            "6228480702000000015"
        );
        assert_eq!(
            value(Field::PlotCode, s("532999101201－0001")),
            "532999101201-0001"
        );
        assert_eq!(value(Field::Remarks, s("  补交 2 次 ")), "补交 2 次");
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
        assert_eq!(
            problem(Field::GrowerName, s("王\u{7}芳")).0,
            "text_control_char"
        );
        assert_eq!(
            problem(Field::Village, s("一\u{202E}村")).0,
            "text_bidi_char"
        );
        assert_eq!(
            problem(Field::PlotCode, s("A\u{200B}1")).0,
            "text_invisible_char"
        );
        assert_eq!(problem(Field::Remarks, s("备\0注")).0, "text_control_char");
        let (code, msg) = problem(Field::GrowerName, s(&"王".repeat(10_000)));
        assert_eq!(code, "text_too_long");
        assert_eq!(msg, "姓名不能超过30个字（现为10000个字）");
        assert_eq!(
            problem(Field::PlotCode, s(&"P".repeat(5_000))).0,
            "text_too_long"
        );
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
            assert_eq!(parse_date_text(t), want, "{t:?}");
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
            assert_eq!(parse_date_text(t), None, "{t:?}");
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

    // ------------------------------------------------------------ rows

    #[test]
    fn blank_and_totals_rows_are_skipped() {
        let g = text_grid(&[
            HEADER,
            &["1", "李春华", ID, "3.37"],
            &[],
            &["", "  ", "\u{3000}", ""],
            &["2", "", "", "", "以下空白"],
            &["3", "王芳", "532999197506120260", "2.5"],
            &["", "小计", "", "5.87"],
            &["4", "赵德明", "53299919770305205X", "4"],
            &["合计", "", "", "9.87"],
            &["总    计：", "", "", "9.87"],
            &[],
            &[],
            &["", "", "", "", "制表：张三"],
        ]);
        let r = read_grid(&g, &ReadOptions::default()).unwrap();
        let rows: Vec<usize> = r.rows.iter().map(|r| r.row).collect();
        assert_eq!(rows, [2, 6, 8]);
        assert_eq!(
            r.skipped_rows,
            [
                (3, "blank"),
                (4, "blank"),
                (5, "blank"),
                (7, "totals"),
                (9, "totals"),
                (10, "totals"),
            ]
        );
        // Rows 11-13 (blank, blank, a note in 备注 only) trail the table:
        // not listed.
    }

    #[test]
    fn totals_in_the_name_column_even_when_it_is_not_among_the_first_three() {
        let g = text_grid(&[
            &["序号", "村", "组", "户主", "身份证号", "面积"],
            &["1", "一村", "1组", "李春华", ID, "3"],
            &["", "", "", "本村合计", "", "3"],
        ]);
        let r = read_grid(&g, &ReadOptions::default()).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.skipped_rows, [(3, "totals")]);
    }

    #[test]
    fn original_holds_every_cell_as_shown() {
        let g = grid_of(vec![
            HEADER.iter().map(|t| s(t)).collect(),
            vec![
                Data::Int(1),
                s("王  芳"),
                Data::Float(6.1042319800101e17),
                Data::Float(3.5),
                Data::Empty,
                s("多出的列"),
            ],
        ]);
        let r = read_grid(&g, &ReadOptions::default()).unwrap();
        let row = &r.rows[0];
        assert_eq!(
            row.original,
            ["1", "王  芳", "610423198001010000", "3.5", "", "多出的列"]
        );
        assert_eq!(row.cells.get(&Field::IdNumber), None);
        assert_eq!(row.cells[&Field::GrowerName], "王芳");
        assert_eq!(row.problems.len(), 1);
        assert_eq!(row.problems[0].field, Field::IdNumber);
        assert_eq!(row.problems[0].column, "C");
        assert_eq!(row.problems[0].code, "id_number_stored_as_number");
        // A short row is padded to the header width.
        let g = text_grid(&[HEADER, &["", "李春华", ID]]);
        let r = read_grid(&g, &ReadOptions::default()).unwrap();
        assert_eq!(r.rows[0].original, ["", "李春华", ID, "", ""]);
    }

    #[test]
    fn too_many_rows() {
        let mut rows: Vec<Vec<Data>> = vec![HEADER.iter().map(|t| s(t)).collect()];
        for i in 0..5 {
            rows.push(vec![Data::Int(i), s("李春华"), s(ID), s("1")]);
        }
        rows.push(vec![s("合计"), s(""), s(""), s("5")]);
        let g = grid_of(rows);
        let opts = ReadOptions {
            max_rows: 3,
            ..ReadOptions::default()
        };
        let err = read_grid(&g, &opts).unwrap_err();
        assert!(matches!(err, ReadError::TooManyRows { limit: 3, found: 5 }));
        assert_eq!(err.code(), "too_many_rows");
        assert_eq!(
            err.to_string(),
            "数据行过多：共5行，单个文件最多3行；请按乡镇或村拆分后分批上传"
        );
        let opts = ReadOptions {
            max_rows: 5,
            ..ReadOptions::default()
        };
        assert_eq!(read_grid(&g, &opts).unwrap().rows.len(), 5);
    }

    #[test]
    fn grid_stops_storing_past_its_cap_but_counts() {
        let mut g = Grid::new(3);
        for r in 0..10 {
            g.insert(r, 0, s("x"));
            g.insert(r, 1, s("y"));
        }
        g.insert(0, 5000, s("too far right"));
        assert_eq!(g.rows.len(), 3);
        assert_eq!(g.overflow_rows, 7);
        assert_eq!(g.get(0, 5000), None);
    }

    // ------------------------------------------------------------ sniffing

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// A real compound file (written by the cfb crate) holding these streams.
    fn cfb_of(streams: &[(&str, &[u8])]) -> Vec<u8> {
        let mut cf = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        for (name, data) in streams {
            cf.create_stream(name).unwrap().write_all(data).unwrap();
        }
        cf.flush().unwrap();
        cf.into_inner().into_inner()
    }

    #[test]
    fn format_detection_from_magic_bytes() {
        let opts = ReadOptions::default();
        let code = |b: &[u8]| read_roster(b, &opts).unwrap_err().code();
        assert_eq!(code(b""), "file_empty");
        assert_eq!(code("姓名,身份证号,面积\n".as_bytes()), "not_a_spreadsheet");
        assert_eq!(code(b"<html><table></table></html>"), "not_a_spreadsheet");
        assert_eq!(
            code(&zip_of(&[("photo.jpg", b"jpeg")])),
            "not_a_spreadsheet"
        );
        assert_eq!(
            code(&zip_of(&[
                ("mimetype", b"application/vnd.oasis.opendocument.text"),
                ("content.xml", b"<x/>"),
            ])),
            "not_a_spreadsheet"
        );
        assert_eq!(
            code(&zip_of(&[
                (
                    "mimetype",
                    b"application/vnd.oasis.opendocument.spreadsheet"
                ),
                (
                    "META-INF/manifest.xml",
                    b"<manifest:encryption-data manifest:checksum-type=\"SHA1\"/>"
                ),
                ("content.xml", b"garbage"),
            ])),
            "file_encrypted"
        );
        assert_eq!(
            code(&zip_of(&[("xl/workbook.xml", b"<oops")])),
            "file_corrupt"
        );
        let info: &[u8] = b"\x04\x00\x04\x00";
        assert_eq!(
            code(&cfb_of(&[
                ("/EncryptionInfo", info),
                ("/EncryptedPackage", b"x")
            ])),
            "file_encrypted"
        );
        assert_eq!(
            code(&cfb_of(&[("/WordDocument", b"doc")])),
            "not_a_spreadsheet"
        );
        assert_eq!(code(&cfb_of(&[("/Workbook", b"\x09\x08")])), "file_corrupt");
        assert_eq!(code(&CFB_MAGIC), "file_corrupt");
        assert_eq!(code(b"PK\x03\x04 not really a zip"), "file_corrupt");
    }

    /// A BIFF record.
    fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((data.len() as u16).to_le_bytes());
        r.extend(data);
        r
    }

    /// A Workbook stream: globals with one BoundSheet, then the sheet's records.
    fn biff(sheet_records: &[Vec<u8>]) -> Vec<u8> {
        let bof = rec(0x0809, &[0; 16]);
        let eof = rec(0x000A, &[]);
        let globals_len = bof.len() + 4 + 8 + eof.len();
        let mut bound = (globals_len as u32).to_le_bytes().to_vec();
        bound.extend([0, 0, 1, 0]); // visible worksheet, name length 1 ...
        let mut out = bof.clone();
        out.extend(rec(0x0085, &bound));
        out.extend(&eof);
        out.extend(&bof);
        for r in sheet_records {
            out.extend(r);
        }
        out.extend(&eof);
        out
    }

    fn cell(typ: u16, row: u16, col: u16) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend([0; 10]);
        rec(typ, &d)
    }

    #[test]
    fn xls_guard_refuses_ranges_calamine_cannot_allocate() {
        let ok = biff(&[cell(0x0203, 0, 0), cell(0x00FD, 65_535, 60)]);
        assert!(xls_guard(&ok).is_ok());
        // One byte off in a column: 65536 x 65536 cells.
        let bad = biff(&[cell(0x0203, 0, 0), cell(0x00FD, 65_535, 65_535)]);
        assert_eq!(xls_guard(&bad).unwrap_err().code(), "file_corrupt");
        // A DIMENSIONS record claiming four billion rows.
        let mut dims = 0u32.to_le_bytes().to_vec();
        dims.extend(u32::MAX.to_le_bytes());
        dims.extend([0, 0, 10, 0, 0, 0]);
        let bad = biff(&[rec(0x0200, &dims), cell(0x0203, 0, 0)]);
        assert_eq!(xls_guard(&bad).unwrap_err().code(), "file_corrupt");
        // A MULRK running past column 65535 is counted by its cells.
        let mut mulrk = 0u16.to_le_bytes().to_vec();
        mulrk.extend(65_000u16.to_le_bytes());
        mulrk.extend(vec![0; 6 * 100]);
        mulrk.extend(65_099u16.to_le_bytes());
        let bad = biff(&[cell(0x0203, 65_535, 0), rec(0x00BD, &mulrk)]);
        assert_eq!(xls_guard(&bad).unwrap_err().code(), "file_corrupt");
        // Cells inside an embedded chart's substream are not the sheet's.
        let chart = [
            rec(0x0809, &[0; 16]),
            cell(0x0203, 65_535, 65_535),
            rec(0x000A, &[]),
        ];
        let ok = biff(&[
            cell(0x0203, 0, 0),
            chart[0].clone(),
            chart[1].clone(),
            chart[2].clone(),
        ]);
        assert!(xls_guard(&ok).is_ok());
        // A BoundSheet offset past the end of the stream.
        let mut bad = biff(&[]);
        bad.truncate(35); // globals: BOF 20 + BoundSheet 12 bytes, sheet at 36
        assert_eq!(xls_guard(&bad).unwrap_err().code(), "file_corrupt");
    }

    #[test]
    fn a_damaged_xls_cell_position_is_corrupt_not_an_abort() {
        // standard.xls (LibreOffice) with its first LABELSST record moved to
        // row 65535, column 65535, patched in place: without the guard
        // calamine would allocate 65536 x 65536 cells and abort the process.
        let mut xls = include_bytes!("../../fixtures/rosters/standard.xls").to_vec();
        let at = xls
            .windows(4)
            .position(|w| w == [0xFD, 0x00, 0x0A, 0x00])
            .unwrap();
        xls[at + 4..at + 8].copy_from_slice(&[0xFF; 4]);
        let err = read_roster(&xls, &ReadOptions::default()).unwrap_err();
        assert_eq!(err.code(), "file_corrupt");
        assert!(err.to_string().contains("工作表范围异常"), "{err}");
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
    fn bomb_rule() {
        let mib = MIB as u64;
        assert!(!entry_is_bomb(10 * mib, 1000)); // small but well compressed
        assert!(!entry_is_bomb(60 * mib, mib)); // 60:1 is ordinary XML
        assert!(entry_is_bomb(60 * mib, 100 * 1024));
        assert!(entry_is_bomb(u64::MAX, 0));
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

    // ------------------------------------------------------------ fixtures
    // Made by LibreOffice, openpyxl, msoffcrypto-tool and Python's zipfile;
    // see fixtures/rosters/README.md for what each holds.

    mod fixtures {
        use super::super::*;

        const STANDARD_XLSX: &[u8] = include_bytes!("../../fixtures/rosters/standard.xlsx");
        const STANDARD_XLS: &[u8] = include_bytes!("../../fixtures/rosters/standard.xls");
        const STANDARD_ODS: &[u8] = include_bytes!("../../fixtures/rosters/standard.ods");
        const MESSY: &[u8] = include_bytes!("../../fixtures/rosters/messy.xlsx");
        const NOT_A_SPREADSHEET: &[u8] =
            include_bytes!("../../fixtures/rosters/not-a-spreadsheet.xlsx");
        const TRUNCATED: &[u8] = include_bytes!("../../fixtures/rosters/truncated.xlsx");
        const ENCRYPTED: &[u8] = include_bytes!("../../fixtures/rosters/encrypted.xlsx");
        const NO_HEADER: &[u8] = include_bytes!("../../fixtures/rosters/no-header.xlsx");
        const ZIPBOMB: &[u8] = include_bytes!("../../fixtures/rosters/zipbomb.xlsx");

        fn read(bytes: &[u8]) -> Result<Roster, ReadError> {
            read_roster(bytes, &ReadOptions::default())
        }

        fn cells(pairs: &[(Field, &str)]) -> BTreeMap<Field, String> {
            pairs.iter().map(|(f, v)| (*f, v.to_string())).collect()
        }

        fn check_standard(r: &Roster) {
            use Field::*;
            assert_eq!(r.sheet, "花名册");
            assert_eq!(r.sheets, ["花名册"]);
            assert_eq!(r.header_row, 1);
            assert_eq!(
                r.headers,
                [
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
                    "面积(亩)"
                ]
            );
            let letters: Vec<&str> = r.columns.iter().map(|(_, l)| l.as_str()).collect();
            assert_eq!(
                letters,
                ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"]
            );
            assert_eq!(r.columns[11].0, AreaMu);
            assert_eq!(r.rows.len(), 10);
            assert!(r.skipped_rows.is_empty());
            let numbers: Vec<usize> = r.rows.iter().map(|r| r.row).collect();
            assert_eq!(numbers, (2..=11).collect::<Vec<_>>());
            assert!(r.rows.iter().all(|r| r.problems.is_empty()));
            assert!(r.rows.iter().all(|r| r.cells.len() == 12));
            assert_eq!(
                r.rows[0].cells,
                cells(&[
                    (GrowerName, "李建国"),
                    (IdNumber, "532999196803120115"),
                    (Phone, "13988710001"),
                    (BankName, "云南省农村信用社"),
                    (BankAccount, "6228480701000000011"),
                    (Village, "一村"),
                    (PlotCode, "532999101201-0001"),
                    (Variety, "早实"),
                    (TreeAge, "8"),
                    (TreeCount, "45"),
                    (FruitPerTree, "320"),
                    (AreaMu, "3.37"),
                ])
            );
            assert_eq!(
                r.rows[0].original,
                [
                    "李建国",
                    "532999196803120115",
                    "13988710001",
                    "云南省农村信用社",
                    "6228480701000000011",
                    "一村",
                    "532999101201-0001",
                    "早实",
                    "8",
                    "45",
                    "320",
                    "3.37"
                ]
            );
            // The two ineligible plots: 早实 aged 4, 晚实 with 200 fruit.
            assert_eq!(r.rows[2].cells[&GrowerName], "赵志强");
            assert_eq!(r.rows[2].cells[&TreeAge], "4");
            assert_eq!(r.rows[5].cells[&GrowerName], "杞红芬");
            assert_eq!(r.rows[5].cells[&Variety], "晚实");
            assert_eq!(r.rows[5].cells[&FruitPerTree], "200");
            assert_eq!(r.rows[3].cells[&IdNumber], "53299919660818042X");
            assert_eq!(r.rows[9].cells[&PlotCode], "532999101202-0005");
            let areas: Vec<&str> = r.rows.iter().map(|r| r.cells[&AreaMu].as_str()).collect();
            assert_eq!(
                areas,
                ["3.37", "2.5", "4", "1.8", "5.25", "3", "2.75", "1.6", "1.25", "6"]
            );
        }

        #[test]
        fn standard_xlsx_xls_and_ods_read_the_same() {
            let xlsx = read(STANDARD_XLSX).unwrap();
            let xls = read(STANDARD_XLS).unwrap();
            let ods = read(STANDARD_ODS).unwrap();
            for r in [&xlsx, &xls, &ods] {
                check_standard(r);
            }
            for (a, (b, c)) in xlsx.rows.iter().zip(xls.rows.iter().zip(&ods.rows)) {
                assert_eq!(a.cells, b.cells);
                assert_eq!(a.cells, c.cells);
                assert_eq!(a.original, b.original);
                assert_eq!(a.original, c.original);
            }
        }

        #[test]
        fn messy_roster() {
            use Field::*;
            let r = read(MESSY).unwrap();
            assert_eq!(r.sheet, "花名册");
            assert_eq!(r.sheets, ["说明", "花名册"]);
            assert_eq!(r.header_row, 3);
            assert_eq!(r.headers.len(), 15);
            assert_eq!(r.headers[0], "序号");
            assert_eq!(r.headers[12], "投保面积（亩）");
            let cols: Vec<(Field, &str)> =
                r.columns.iter().map(|(f, l)| (*f, l.as_str())).collect();
            assert_eq!(
                cols,
                [
                    (GrowerName, "B"),
                    (Village, "C"),
                    (IdNumber, "D"),
                    (Phone, "E"),
                    (BankName, "F"),
                    (BankAccount, "G"),
                    (PlotCode, "H"),
                    (Variety, "I"),
                    (TreeAge, "J"),
                    (TreeCount, "K"),
                    (FruitPerTree, "L"),
                    (AreaMu, "M"),
                    (CollectedOn, "N"),
                    (Remarks, "O"),
                ]
            );
            let numbers: Vec<usize> = r.rows.iter().map(|r| r.row).collect();
            assert_eq!(numbers, [4, 5, 6, 8, 9, 12, 13]);
            assert_eq!(
                r.skipped_rows,
                [(7, "blank"), (10, "blank"), (11, "blank"), (14, "totals")]
            );

            let row = |n: usize| r.rows.iter().find(|r| r.row == n).unwrap();
            let get = |n: usize, f: Field| row(n).cells.get(&f).map(String::as_str);

            assert_eq!(get(4, GrowerName), Some("李春华"));
            assert_eq!(get(4, IdNumber), Some("532999197001010154"));
            assert_eq!(get(4, AreaMu), Some("3.37"));
            assert_eq!(get(4, TreeAge), Some("7"));
            assert_eq!(get(4, CollectedOn), Some("2012-03-05"));
            assert_eq!(get(4, Remarks), None);

            assert_eq!(get(5, GrowerName), Some("王芳"));
            assert_eq!(get(5, IdNumber), Some("532999197506120260"));
            assert_eq!(get(5, Phone), Some("13987650002"));
            assert_eq!(get(5, AreaMu), Some("2.5"));
            assert_eq!(get(5, CollectedOn), Some("2012-03-05"));
            assert_eq!(row(5).original[1], "王  芳");
            assert_eq!(row(5).original[3], "532999 19750612 0260");

            assert_eq!(get(6, IdNumber), Some("53299919770305205X"));
            assert_eq!(get(6, AreaMu), Some("4"));
            assert_eq!(get(6, CollectedOn), Some("2012-03-06"));

            assert_eq!(get(8, AreaMu), Some("3.5"));
            assert_eq!(row(8).original[12], "３．５");
            assert_eq!(get(8, CollectedOn), Some("2012-03-06"));

            assert_eq!(get(9, IdNumber), None);
            assert_eq!(get(9, GrowerName), Some("罗建华"));
            assert_eq!(row(9).problems.len(), 1);
            let p = &row(9).problems[0];
            assert_eq!(
                (p.field, p.column.as_str(), p.code),
                (IdNumber, "D", "id_number_stored_as_number")
            );
            assert_eq!(row(9).original[3], "532999196901011000");
            assert_eq!(get(9, CollectedOn), Some("2012-03-05"));

            assert_eq!(get(12, TreeAge), Some("15"));
            assert_eq!(get(12, TreeCount), Some("42"));
            assert_eq!(get(12, FruitPerTree), Some("330"));
            assert_eq!(get(12, AreaMu), Some("1.75"));
            assert_eq!(get(12, CollectedOn), Some("2012-03-07"));

            assert_eq!(get(13, GrowerName), Some("何家顺"));
            assert_eq!(get(13, AreaMu), Some("1.2"));
            assert_eq!(get(13, Remarks), Some("补交"));
            assert_eq!(get(13, CollectedOn), None);

            let with_problems: Vec<usize> = r
                .rows
                .iter()
                .filter(|r| !r.problems.is_empty())
                .map(|r| r.row)
                .collect();
            assert_eq!(with_problems, [9]);
            // Every row but the broken ID has all 13 data columns (no 备注).
            for n in [4, 5, 6, 8, 12] {
                assert_eq!(row(n).cells.len(), 13, "row {n}");
            }
        }

        #[test]
        fn broken_files() {
            let code = |b: &[u8]| read(b).unwrap_err().code();
            assert_eq!(code(NOT_A_SPREADSHEET), "not_a_spreadsheet");
            assert_eq!(code(TRUNCATED), "file_corrupt");
            assert_eq!(code(ENCRYPTED), "file_encrypted");
            assert_eq!(code(ZIPBOMB), "file_zip_bomb");
            let err = read(NO_HEADER).unwrap_err();
            assert_eq!(err.code(), "no_header");
            assert!(matches!(&err, ReadError::NoHeader { sheets } if sheets == &["Sheet1"]));
            assert_eq!(
                err.to_string(),
                "无法识别表头：请确保表格中有“姓名”“身份证号”“面积”等列（已检查工作表：Sheet1）"
            );
        }

        #[test]
        fn zipbomb_is_refused_by_ratio_even_without_a_total_limit() {
            let opts = ReadOptions {
                max_uncompressed: u64::MAX,
                ..ReadOptions::default()
            };
            assert_eq!(
                read_roster(ZIPBOMB, &opts).unwrap_err().code(),
                "file_zip_bomb"
            );
        }

        #[test]
        fn a_roster_serialises_for_the_error_report() {
            let r = read(MESSY).unwrap();
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(
                json["rows"][4]["problems"][0]["code"],
                "id_number_stored_as_number"
            );
            assert_eq!(json["rows"][0]["cells"]["grower_name"], "李春华");
            assert_eq!(json["skipped_rows"][3][1], "totals");
        }
    }
}
