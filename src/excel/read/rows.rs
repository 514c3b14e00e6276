//! Data rows under the header: blank and totals rows skipped, each cell
//! cleaned, the row-count limit.

use calamine::Data;
use std::collections::BTreeMap;

use super::clean::{normalize, Cleaned};
use super::grid::{is_blank, Row};
use super::header::Header;
use super::{column_letter, CellProblem, Field, Head, RawRow, ReadError, ReadOptions};

/// The roster's description from its header.
pub(super) fn head_of(sheet: &str, sheets: Vec<String>, header: &Header) -> Head {
    Head {
        sheet: sheet.to_string(),
        sheets,
        header_row: header.row as usize + 1,
        headers: header.texts.clone(),
        columns: header
            .columns
            .iter()
            .map(|(f, c)| (*f, column_letter(*c as usize)))
            .collect(),
    }
}

/// The recognised columns and the header's width: what cleaning a data row
/// needs to know of its table.
#[derive(Debug)]
pub(super) struct Layout {
    columns: Vec<(Field, u32)>,
    width: usize,
}

/// A data row as the sheet holds it, found to be data (not blank, not
/// totals, within the row limit) but its cells not yet cleaned: a reader may
/// hand it to another thread to [`clean`](UncleanRow::clean) there.
#[derive(Debug)]
pub struct UncleanRow {
    /// 0-based sheet row.
    row: u32,
    cells: Row,
    layout: std::sync::Arc<Layout>,
}

impl UncleanRow {
    /// Every recognised cell cleaned (`normalize`), and the row as shown.
    pub fn clean(self) -> RawRow {
        let mut values = BTreeMap::new();
        let mut problems = Vec::new();
        for &(field, col) in &self.layout.columns {
            let Some(value) = self.cells.get(&col) else {
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
        RawRow {
            row: self.row as usize + 1,
            cells: values,
            original: self.cells.into_texts(self.layout.width),
            problems,
        }
    }
}

/// Sheet rows in, data rows out, one at a time: blank and totals rows
/// skipped, cells cleaned, data rows counted against the limit. Rows must
/// come in ascending order.
pub(super) struct RowBuilder<'h> {
    header: &'h Header,
    /// What cleaning a row needs of the header, shared with the rows handed
    /// on uncleaned.
    layout: std::sync::Arc<Layout>,
    max_rows: usize,
    /// The next sheet row not yet seen (rows missing in between are blank).
    next: u32,
    skipped: Vec<(usize, &'static str)>,
    /// Blank rows since the last data or totals row, as 0-based ranges: they
    /// count as skipped only if a data or totals row follows.
    pending_blanks: Vec<std::ops::Range<u32>>,
    data_rows: usize,
}

impl<'h> RowBuilder<'h> {
    pub(super) fn new(header: &'h Header, opts: &ReadOptions) -> RowBuilder<'h> {
        RowBuilder {
            header,
            layout: std::sync::Arc::new(Layout {
                columns: header.columns.clone(),
                width: header.texts.len(),
            }),
            max_rows: opts.max_rows,
            next: header.data_start,
            skipped: Vec::new(),
            pending_blanks: Vec::new(),
            data_rows: 0,
        }
    }

    fn take_blanks(&mut self) {
        for range in self.pending_blanks.drain(..) {
            self.skipped
                .extend(range.map(|r| (r as usize + 1, "blank")));
        }
    }

    /// One sheet row (0-based); the data row it is, if it is one, its cells
    /// not yet cleaned.
    pub(super) fn push(&mut self, row: u32, cells: Row) -> Option<UncleanRow> {
        if row < self.next {
            return None;
        }
        if row > self.next {
            self.pending_blanks.push(self.next..row);
        }
        self.next = row.saturating_add(1);
        match classify(Some(&cells), self.header) {
            RowKind::Blank => {
                self.pending_blanks.push(row..row + 1);
                return None;
            }
            RowKind::Totals => {
                self.take_blanks();
                self.skipped.push((row as usize + 1, "totals"));
                return None;
            }
            RowKind::Data => self.take_blanks(),
        }
        self.data_rows += 1;
        if self.data_rows > self.max_rows {
            // Keep counting so the message can say how many there are.
            return None;
        }
        Some(UncleanRow {
            row,
            cells,
            layout: self.layout.clone(),
        })
    }

    /// The skipped rows, or the row limit's error. Trailing blank rows
    /// (formatting that reaches far down) are not skipped rows, just the end
    /// of the table.
    pub(super) fn finish(
        self,
        overflow_rows: usize,
    ) -> Result<Vec<(usize, &'static str)>, ReadError> {
        if self.data_rows > self.max_rows || overflow_rows > 0 {
            return Err(ReadError::TooManyRows {
                limit: self.max_rows,
                found: self.data_rows + overflow_rows,
            });
        }
        Ok(self.skipped)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum RowKind {
    Data,
    Blank,
    Totals,
}

pub(super) const TOTALS: [&str; 3] = ["合计", "总计", "小计"];

fn classify(cells: Option<&Row>, header: &Header) -> RowKind {
    let Some(cells) = cells else {
        return RowKind::Blank;
    };
    // Only text can say 合计; "合    计": people space the word out to fill a
    // wide cell.
    let says_totals = |col: &u32| match cells.get(col) {
        // All three words end in 计: most cells are passed over without a copy.
        Some(Data::String(t)) if t.contains('计') => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::read::test_support::*;

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
}
