//! Their statement, one row at a time: a workbook through the keyed-table
//! reader, or comma-separated text read line by line, so a file of a million
//! lines never has to be held whole. Either way the rows come out as the
//! policy number and amount cells, cleaned like codes, with the file's row
//! number; blank and totals rows are skipped and noted.

use std::io::{BufRead, Read};

use crate::domain::text::halfwidth;
use crate::error::{AppError, ErrorCode};
use crate::excel::read::table::{read_table, ColumnSpec, TableRow};
use crate::excel::read::ReadOptions;

/// The header must be among the first 30 lines, as in a workbook.
const HEADER_SEARCH_ROWS: usize = 30;
/// A line longer than this is not a statement line (and would otherwise be
/// read whole into memory).
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Skipped rows noted in the summary; more are counted, not listed.
pub const MAX_SKIPPED_LISTED: usize = 1_000;
/// Words that mark a totals row (as in rosters).
const TOTALS: [&str; 3] = ["合计", "总计", "小计"];

/// The file to reconcile.
pub enum StatementFile<'a> {
    /// A workbook (.xlsx, .xls, .ods) as uploaded.
    Workbook(&'a [u8]),
    /// Comma-separated text (UTF-8, or GB18030 as Chinese Excel saves it),
    /// read line by line.
    Csv(&'a mut dyn BufRead),
}

impl<'a> StatementFile<'a> {
    /// An upload by its name: `.csv` is text, anything else a workbook
    /// (whose format the reader tells from its bytes). `text` is the cursor
    /// the text is read through.
    pub fn of(filename: &str, bytes: &'a [u8], text: &'a mut &'a [u8]) -> StatementFile<'a> {
        if filename.to_lowercase().ends_with(".csv") {
            StatementFile::Csv(text)
        } else {
            StatementFile::Workbook(bytes)
        }
    }
}

/// One data row: the 1-based row (line) number and the cells found.
pub struct StatementRow {
    pub row: usize,
    pub policy_no: Option<String>,
    pub amount: Option<String>,
}

/// Where the table was found, and the rows skipped so far.
pub struct Layout {
    pub sheet: String,
    pub header_row: usize,
    pub skipped_rows: Vec<(usize, String)>,
}

/// Rows of a statement, in file order.
pub enum Rows<'a> {
    Table(std::vec::IntoIter<TableRow>),
    Csv(CsvRows<'a>),
}

fn file_error(code: ErrorCode, message: impl Into<String>) -> AppError {
    AppError::invalid("file", code, message)
}

/// Open a statement: find its header and the two columns.
pub fn open<'a>(
    file: StatementFile<'a>,
    options: &ReadOptions,
    columns: &[ColumnSpec; 2],
) -> Result<(Layout, Rows<'a>), AppError> {
    match file {
        StatementFile::Workbook(bytes) => {
            let table = read_table(bytes, options, columns)
                .map_err(|e| AppError::invalid("file", e.code(), e.to_string()))?;
            let layout = Layout {
                sheet: table.sheet,
                header_row: table.header_row,
                skipped_rows: table
                    .skipped_rows
                    .into_iter()
                    .take(MAX_SKIPPED_LISTED)
                    .map(|(r, k)| (r, k.to_string()))
                    .collect(),
            };
            Ok((layout, Rows::Table(table.rows.into_iter())))
        }
        StatementFile::Csv(reader) => {
            let mut rows = CsvRows {
                lines: Lines {
                    reader,
                    line_no: 0,
                    buf: Vec::new(),
                },
                columns: [0, 0],
                pending_blank: Vec::new(),
                pending_count: 0,
                skipped: Vec::new(),
                skipped_total: 0,
            };
            let header_row = rows.find_header(columns)?;
            let layout = Layout {
                sheet: "CSV".into(),
                header_row,
                skipped_rows: Vec::new(),
            };
            Ok((layout, Rows::Csv(rows)))
        }
    }
}

impl Rows<'_> {
    /// The next data row, or None at the end of the file.
    pub fn next_row(&mut self, keys: [&str; 2]) -> Result<Option<StatementRow>, AppError> {
        match self {
            Rows::Table(it) => {
                let [no_key, amount_key] = keys;
                Ok(it.next().map(|mut r| StatementRow {
                    row: r.row,
                    policy_no: r.cells.remove(no_key),
                    amount: r.cells.remove(amount_key),
                }))
            }
            Rows::Csv(c) => c.next_row(),
        }
    }

    /// Rows skipped (blank or totals) that the reader noted while reading,
    /// with how many there were in all.
    pub fn skipped(&mut self) -> (Vec<(usize, String)>, usize) {
        match self {
            Rows::Table(_) => (Vec::new(), 0),
            Rows::Csv(c) => (std::mem::take(&mut c.skipped), c.skipped_total),
        }
    }
}

/// Physical lines of the text, decoded.
struct Lines<'a> {
    reader: &'a mut dyn BufRead,
    line_no: usize,
    buf: Vec<u8>,
}

impl Lines<'_> {
    /// The next line without its end, or None at the end of the file.
    fn next_line(&mut self) -> Result<Option<String>, AppError> {
        self.buf.clear();
        let mut limited = (&mut self.reader).take(MAX_LINE_BYTES as u64 + 1);
        let n = limited
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| file_error(ErrorCode::FileCorrupt, format!("读取对账文件失败：{e}")))?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(file_error(
                ErrorCode::FileCorrupt,
                format!(
                    "对账文件第{}行超过{}KB，不是对账明细行；请检查文件是否为逗号分隔的文本",
                    self.line_no,
                    MAX_LINE_BYTES / 1024
                ),
            ));
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        let bytes = if self.line_no == 1 {
            self.buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&self.buf)
        } else {
            &self.buf
        };
        if bytes.contains(&0) {
            return Err(file_error(
                ErrorCode::NotASpreadsheet,
                format!("对账文件第{}行含有二进制内容，不是文本文件", self.line_no),
            ));
        }
        Ok(Some(match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            // Chinese Excel saves CSV in the local code page.
            Err(_) => encoding_rs::GB18030
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
        }))
    }
}

/// A CSV file's data rows, read as they are asked for.
pub struct CsvRows<'a> {
    lines: Lines<'a>,
    /// Field indexes of the policy number and the amount.
    columns: [usize; 2],
    /// Blank lines seen since the last data row (the first few, and how
    /// many): noted only when data follows, as in a workbook.
    pending_blank: Vec<usize>,
    pending_count: usize,
    skipped: Vec<(usize, String)>,
    skipped_total: usize,
}

/// Split one CSV record. A quoted field may hold commas, doubled quotes and
/// line breaks (then the record continues on the next lines).
fn split_record(lines: &mut Lines, first: String) -> Result<Vec<String>, AppError> {
    let start = lines.line_no;
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = first;
    loop {
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') if field.trim().is_empty() => {
                    field.clear();
                    quoted = true;
                }
                (false, ',') => fields.push(std::mem::take(&mut field)),
                (false, c) => field.push(c),
            }
        }
        if !quoted {
            fields.push(field);
            return Ok(fields);
        }
        field.push('\n');
        line = match lines.next_line()? {
            Some(l) if lines.line_no - start < 100 => l,
            _ => {
                return Err(file_error(
                    ErrorCode::FileCorrupt,
                    format!("对账文件第{start}行的引号没有闭合"),
                ))
            }
        };
    }
}

/// A header cell as compared with the column names: half-width, no spaces,
/// no bracketed units, no trailing unit mark.
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
        .trim_end_matches(['元', '/', '-', '_'])
        .to_string()
}

/// A cell cleaned like a code: half-width, no whitespace, no leading apostrophe.
fn clean_cell(s: &str) -> String {
    let t: String = s
        .chars()
        .map(halfwidth)
        .filter(|c| !c.is_whitespace())
        .collect();
    t.trim_start_matches(['\'', '`']).to_string()
}

impl CsvRows<'_> {
    fn find_header(&mut self, specs: &[ColumnSpec; 2]) -> Result<usize, AppError> {
        let mut read = Vec::new();
        let mut seen = [false, false];
        while read.len() < HEADER_SEARCH_ROWS {
            let Some(line) = self.lines.next_line()? else {
                break;
            };
            let row = self.lines.line_no;
            let fields = split_record(&mut self.lines, line)?;
            let mut found: [Option<usize>; 2] = [None, None];
            for (i, f) in fields.iter().enumerate() {
                let key = header_key(f);
                for ((spec, slot), saw) in specs.iter().zip(found.iter_mut()).zip(seen.iter_mut()) {
                    if slot.is_none() && spec.aliases.iter().any(|a| header_key(a) == key) {
                        *slot = Some(i);
                        *saw = true;
                    }
                }
            }
            if let [Some(no), Some(amount)] = found {
                self.columns = [no, amount];
                return Ok(row);
            }
            read.push((row, fields));
        }
        if read.is_empty() {
            return Err(file_error(ErrorCode::FileEmpty, "对账文件是空的"));
        }
        let missing: Vec<&str> = specs
            .iter()
            .zip(seen)
            .filter(|(_, s)| !s)
            .map(|(spec, _)| spec.label)
            .collect();
        Err(file_error(
            ErrorCode::ColumnsMissing,
            format!(
                "未找到“{}”列：请确保文件前30行内有一行表头包含{}",
                if missing.is_empty() {
                    specs.iter().map(|s| s.label).collect::<Vec<_>>().join("”“")
                } else {
                    missing.join("”“")
                },
                specs.iter().map(|s| s.label).collect::<Vec<_>>().join("和")
            ),
        ))
    }

    fn note_skipped(&mut self, row: usize, kind: &str) {
        self.skipped_total += 1;
        if self.skipped.len() < MAX_SKIPPED_LISTED {
            self.skipped.push((row, kind.to_string()));
        }
    }

    /// The blank lines before a data or totals row were inside the table.
    fn flush_blank(&mut self) {
        for r in std::mem::take(&mut self.pending_blank) {
            if self.skipped.len() < MAX_SKIPPED_LISTED {
                self.skipped.push((r, "blank".to_string()));
            }
        }
        self.skipped_total += std::mem::take(&mut self.pending_count);
    }

    fn next_row(&mut self) -> Result<Option<StatementRow>, AppError> {
        loop {
            let Some(line) = self.lines.next_line()? else {
                return Ok(None);
            };
            let row = self.lines.line_no;
            let fields = split_record(&mut self.lines, line)?;
            let [no_at, amount_at] = self.columns;
            let first = no_at.min(amount_at);
            let says_totals = (first.saturating_sub(2)..first + 3)
                .chain(self.columns)
                .any(|i| {
                    fields.get(i).is_some_and(|t| {
                        let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
                        TOTALS.iter().any(|k| t.contains(k))
                    })
                });
            if says_totals {
                self.flush_blank();
                self.note_skipped(row, "totals");
                continue;
            }
            let cell = |i: usize| {
                fields
                    .get(i)
                    .map(|f| clean_cell(f))
                    .filter(|t| !t.is_empty())
            };
            let (no, amount) = (cell(no_at), cell(amount_at));
            if no.is_none() && amount.is_none() {
                self.pending_count += 1;
                if self.pending_blank.len() < MAX_SKIPPED_LISTED {
                    self.pending_blank.push(row);
                }
                continue;
            }
            self.flush_blank();
            return Ok(Some(StatementRow {
                row,
                policy_no: no,
                amount,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::reconciliation::COLUMNS;

    /// Row number, policy number, amount.
    type Found = (usize, Option<String>, Option<String>);

    fn rows_of(bytes: &[u8]) -> Result<(Layout, Vec<Found>), AppError> {
        let mut text = bytes;
        let (layout, mut rows) = open(
            StatementFile::Csv(&mut text),
            &ReadOptions::default(),
            &COLUMNS,
        )?;
        let mut out = Vec::new();
        while let Some(r) = rows.next_row(["policy_no", "amount"])? {
            out.push((r.row, r.policy_no, r.amount));
        }
        let (skipped, total) = rows.skipped();
        assert_eq!(skipped.len(), total);
        Ok((
            Layout {
                skipped_rows: skipped,
                ..layout
            },
            out,
        ))
    }

    #[test]
    fn quoted_fields_commas_and_line_breaks() {
        let csv = "说明\r\n\"保单号\",\"金额（元）\",备注\r\nBD1,\"1,234.50\",\"a \"\"quoted\"\" note\"\r\n\r\n\
                   ＢＤ２, 12 ,\"two\nlines\"\nBD3,3,\n合计,,\n";
        let (layout, rows) = rows_of(csv.as_bytes()).unwrap();
        assert_eq!(layout.header_row, 2);
        assert_eq!(
            rows,
            vec![
                (3, Some("BD1".into()), Some("1,234.50".into())),
                (5, Some("BD2".into()), Some("12".into())),
                (7, Some("BD3".into()), Some("3".into())),
            ]
        );
        assert_eq!(
            layout.skipped_rows,
            vec![(4, "blank".to_string()), (8, "totals".to_string())]
        );
    }

    #[test]
    fn gb18030_text_and_a_byte_order_mark() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("保单号,补贴金额\nBD1,5\n");
        let (_, rows) = rows_of(&gbk).unwrap();
        assert_eq!(rows, vec![(2, Some("BD1".into()), Some("5".into()))]);
        let (_, rows) = rows_of("\u{feff}保单号,补贴\nBD1,5\n".as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn no_header_an_open_quote_and_binary_are_refused() {
        let code = |bytes: &[u8]| match rows_of(bytes) {
            Err(AppError::Validation(f)) => f.first().map(|f| f.code),
            _ => None,
        };
        assert_eq!(code(b"a,b\n1,2\n"), Some(ErrorCode::ColumnsMissing));
        assert_eq!(code(b""), Some(ErrorCode::FileEmpty));
        assert_eq!(
            code("保单号,金额\nBD1,\"5\n".as_bytes()),
            Some(ErrorCode::FileCorrupt)
        );
        assert_eq!(code(b"\x00\x01PK,\x02\n"), Some(ErrorCode::NotASpreadsheet));
    }
}
