//! Helpers shared by the reader's unit tests: grids built from text, a
//! header-and-rows read without a workbook, one cleaned cell.

use calamine::{Data, ExcelDateTime, ExcelDateTimeType};

use super::clean::{normalize, Cleaned};
use super::grid::Grid;
use super::header::find_header;
use super::header::Header;
use super::rows::{head_of, RowBuilder};
use super::{Field, ReadError, ReadOptions, Roster};

pub(super) fn s(t: &str) -> Data {
    if t.is_empty() {
        Data::Empty
    } else {
        Data::String(t.to_string())
    }
}

pub(super) fn grid_of(rows: Vec<Vec<Data>>) -> Grid {
    let mut g = Grid::new(usize::MAX);
    for (r, cells) in rows.into_iter().enumerate() {
        for (c, v) in cells.into_iter().enumerate() {
            g.insert(r as u32, c as u32, v);
        }
    }
    g
}

pub(super) fn text_grid(rows: &[&[&str]]) -> Grid {
    grid_of(
        rows.iter()
            .map(|r| r.iter().map(|t| s(t)).collect())
            .collect(),
    )
}

pub(super) fn read_grid(g: &Grid, opts: &ReadOptions) -> Result<Roster, ReadError> {
    let header = find_header(g).ok_or(ReadError::NoHeader {
        sheets: vec!["Sheet1".into()],
    })?;
    build_roster("Sheet1", vec!["Sheet1".into()], g.clone(), &header, opts)
}

/// A whole grid through the row builder.
fn build_roster(
    sheet: &str,
    sheets: Vec<String>,
    grid: Grid,
    header: &Header,
    opts: &ReadOptions,
) -> Result<Roster, ReadError> {
    let head = head_of(sheet, sheets, header);
    let overflow_rows = grid.overflow_rows;
    let mut builder = RowBuilder::new(header, opts);
    let mut rows = Vec::new();
    // The grid is consumed row by row: each row's memory is released (or
    // moved into the RawRow) as soon as it is read.
    for (row, cells) in grid.rows {
        if let Some(raw) = builder.push(row, cells) {
            rows.push(raw.clean());
        }
    }
    let skipped_rows = builder.finish(overflow_rows)?;
    Ok(Roster {
        sheet: head.sheet,
        sheets: head.sheets,
        header_row: head.header_row,
        headers: head.headers,
        columns: head.columns,
        rows,
        skipped_rows,
    })
}

pub(super) fn date(serial: f64) -> Data {
    Data::DateTime(ExcelDateTime::new(
        serial,
        ExcelDateTimeType::DateTime,
        false,
    ))
}

pub(super) fn value(field: Field, v: Data) -> String {
    match normalize(field, &v) {
        Cleaned::Value(t) => t,
        other => panic!("{field:?} {v:?}: {other:?}"),
    }
}

pub(super) fn problem(field: Field, v: Data) -> (crate::error::ErrorCode, String) {
    match normalize(field, &v) {
        Cleaned::Problem(code, msg) => (code, msg),
        other => panic!("{field:?} {v:?}: {other:?}"),
    }
}

pub(super) const HEADER: &[&str] = &["序号", "姓名", "身份证号", "面积(亩)", "备注"];
pub(super) const ID: &str = "532999197001010154";
