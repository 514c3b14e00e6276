//! Data rows under the header: blank and totals rows skipped, each cell
//! cleaned, the row-count limit.

use calamine::Data;
use std::collections::BTreeMap;

use super::clean::{normalize, Cleaned};
use super::grid::{is_blank, Grid, Row};
use super::header::Header;
use super::{column_letter, CellProblem, Field, RawRow, ReadError, ReadOptions, Roster};

pub(super) fn build_roster(
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

pub(super) const TOTALS: [&str; 3] = ["合计", "总计", "小计"];

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
