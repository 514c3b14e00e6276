//! The workbook as calamine opens it, and a sheet as a sparse grid of rows
//! streamed cell by cell.

use calamine::{Data, DataRef, Reader, Sheets, Xls, XlsError, Xlsx};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Cursor;

use super::clean::shown;
use super::guard::Format;
use super::header::find_header;
use super::{head_of, ReadError, ReadOptions, RowBuilder, RowSink, Streamed, HEADER_SEARCH_ROWS};

/// Columns past this are ignored: no roster is wider, and it bounds memory.
const MAX_COLUMNS: u32 = 1024;

pub(super) enum Book<'a> {
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
    pub(super) fn open(format: Format, bytes: &'a [u8]) -> Result<Book<'a>, ReadError> {
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
    pub(super) fn sheets(&self) -> Vec<calamine::Sheet> {
        match self {
            Book::Xlsx(x) => x.sheets_metadata().to_vec(),
            Book::Other(s) => s.sheets_metadata().to_vec(),
        }
    }

    /// Find the table on sheet `name` and stream its rows into `sink`;
    /// `None` when the sheet holds no header. An `.xlsx` sheet is read cell by
    /// cell: the rows where the header may be are kept, then each row goes
    /// out as soon as the next one starts.
    pub(super) fn stream(
        &mut self,
        name: &str,
        sheets: &[String],
        cap: usize,
        opts: &ReadOptions,
        sink: &mut dyn RowSink,
    ) -> Result<Option<Streamed>, ReadError> {
        let Book::Xlsx(x) = self else {
            let grid = self.grid(name, cap)?;
            let Some(header) = find_header(&grid) else {
                return Ok(None);
            };
            let head = head_of(name, sheets.to_vec(), &header);
            sink.head(&head);
            let overflow_rows = grid.overflow_rows;
            let mut builder = RowBuilder::new(&header, opts);
            let mut go = true;
            for (row, cells) in grid.rows {
                if let Some(raw) = builder.push(row, cells) {
                    go = go && sink.unclean(raw);
                }
            }
            return Ok(Some((head, builder.finish(overflow_rows)?)));
        };
        let mut cells = x.worksheet_cells_reader(name).map_err(corrupt)?;
        // The header is among the first rows (and a second header row may
        // sit under it): keep those, then look.
        let mut top = Grid::new(usize::MAX);
        let mut below: Option<(u32, Row)> = None;
        // The reader must not be asked again once it has said the sheet ended.
        let mut more = true;
        while more {
            let Some(cell) = cells.next_cell().map_err(corrupt)? else {
                more = false;
                break;
            };
            let (row, col) = cell.get_position();
            let Some(value) = owned(cell.get_value()) else {
                continue;
            };
            if row > HEADER_SEARCH_ROWS {
                if col < MAX_COLUMNS {
                    below = Some((row, Row(vec![(col, value)])));
                    break;
                }
                continue;
            }
            top.insert(row, col, value);
        }
        let Some(header) = find_header(&top) else {
            return Ok(None);
        };
        let head = head_of(name, sheets.to_vec(), &header);
        sink.head(&head);
        let mut builder = RowBuilder::new(&header, opts);
        let mut go = true;
        let mut emit = |builder: &mut RowBuilder, row: u32, cells: Row| {
            if let Some(raw) = builder.push(row, cells) {
                go = go && sink.unclean(raw);
            }
            go
        };
        for (row, cells) in top.rows {
            emit(&mut builder, row, cells);
        }
        let mut current = below;
        while let Some(cell) = match more {
            true => cells.next_cell().map_err(corrupt)?,
            false => None,
        } {
            let (row, col) = cell.get_position();
            if col >= MAX_COLUMNS {
                continue;
            }
            let Some(value) = owned(cell.get_value()) else {
                continue;
            };
            match current.as_mut() {
                Some((r, cells)) if *r == row => cells.insert(col, value),
                // Rows already handed on cannot take more cells: Excel and
                // WPS write rows in order, so such a file is damaged.
                Some((r, _)) if *r > row => {
                    return Err(corrupt(format!("第{}行出现在第{}行之后", row + 1, *r + 1)))
                }
                _ => {
                    if let Some((r, cells)) = current.take() {
                        if !emit(&mut builder, r, cells) {
                            break;
                        }
                    }
                    current = Some((row, Row(vec![(col, value)])));
                }
            }
        }
        if let Some((r, cells)) = current.take() {
            emit(&mut builder, r, cells);
        }
        Ok(Some((head, builder.finish(0)?)))
    }

    pub(super) fn grid(&mut self, name: &str, cap: usize) -> Result<Grid, ReadError> {
        let mut grid = Grid::new(cap);
        match self {
            Book::Xlsx(x) => {
                let mut cells = x.worksheet_cells_reader(name).map_err(corrupt)?;
                while let Some(cell) = cells.next_cell().map_err(corrupt)? {
                    let (row, col) = cell.get_position();
                    if let Some(value) = owned(cell.get_value()) {
                        grid.insert(row, col, value);
                    }
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

/// A streamed cell as an owned value; `None` for an empty one.
fn owned(value: &DataRef<'_>) -> Option<Data> {
    Some(match value {
        DataRef::Empty => return None,
        DataRef::SharedString(s) => Data::String((*s).to_string()),
        other => Data::from(other.clone()),
    })
}

/// A sheet as sparse rows: only cells holding something, 0-based positions.
#[derive(Debug, Default, Clone)]
pub(super) struct Grid {
    pub(super) rows: BTreeMap<u32, Row>,
    /// Rows with content beyond `cap`, counted but not stored.
    pub(super) overflow_rows: usize,
    last_overflow_row: Option<u32>,
    cap: usize,
}

/// The non-empty cells of one row, sorted by column. A short vector: readers
/// deliver cells left to right, so inserting is a push, and a roster row has
/// a few dozen cells at most.
#[derive(Debug, Default, Clone)]
pub(super) struct Row(Vec<(u32, Data)>);

/// Cells in column order, as (column, value).
impl<'a> IntoIterator for &'a Row {
    type Item = &'a (u32, Data);
    type IntoIter = std::slice::Iter<'a, (u32, Data)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Row {
    pub(super) fn get(&self, col: &u32) -> Option<&Data> {
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

    pub(super) fn iter(&self) -> std::slice::Iter<'_, (u32, Data)> {
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
    pub(super) fn into_texts(self, width: usize) -> Vec<String> {
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
    pub(super) fn new(cap: usize) -> Grid {
        Grid {
            cap,
            ..Grid::default()
        }
    }

    pub(super) fn insert(&mut self, row: u32, col: u32, value: Data) {
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

    pub(super) fn get(&self, row: u32, col: u32) -> Option<&Data> {
        self.rows.get(&row)?.get(&col)
    }

    fn text(&self, row: u32, col: u32) -> String {
        self.get(row, col).map(shown).unwrap_or_default()
    }

    pub(super) fn is_blank(&self, row: u32, col: u32) -> bool {
        self.get(row, col).is_none_or(is_blank)
    }

    /// Cells of a row from column A up to at least `width`, as displayed.
    pub(super) fn row_texts(&self, row: u32, width: usize) -> Vec<String> {
        (0..width.max(self.row_width(row)))
            .map(|c| self.text(row, c as u32))
            .collect()
    }

    /// Last column (exclusive) holding a non-blank value in this row.
    pub(super) fn row_width(&self, row: u32) -> usize {
        self.rows.get(&row).map_or(0, Row::width)
    }
}

/// Empty or only whitespace (U+3000 included), without allocating.
pub(super) fn is_blank(value: &Data) -> bool {
    match value {
        Data::Empty => true,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::read::test_support::*;

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
}
