//! Workbook writing: data in, .xlsx bytes out. No database, no HTTP.
//!
//! Three workbooks: any list of [`Table`]s (reports such as 分户清单), the
//! roster template a township station fills in ([`roster_template`]) and the
//! error report handed back for a rejected roster ([`error_report`]).
//!
//! Every text cell, including titles, headers and drop-down lists, goes through
//! [`cells::put_text`] / [`cells::guarded`], so the formula-injection guard cannot be
//! forgotten at a call site.

use rust_xlsxwriter::XlsxError;

use crate::domain::{Fen, Mu};

mod cells;
mod error_report;
mod tables;
mod template;
#[cfg(test)]
mod test_support;

pub use cells::is_formula_like;
pub use error_report::{
    error_report, ErrorRow, ERROR_REPORT_SHEET, REASON_HEADER, ROW_NUMBER_HEADER,
};
pub use tables::tables_to_xlsx;
pub use template::{
    roster_template, TemplateSpec, EXAMPLE_ID_NUMBER, INSTRUCTIONS_SHEET, OPTIONS_SHEET,
    ROSTER_HEADERS, ROSTER_REQUIRED, ROSTER_SHEET,
};

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
