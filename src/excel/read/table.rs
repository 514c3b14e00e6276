//! Any keyed table, not only a roster: the insurer's or the treasury's
//! statement for reconciliation, say. The caller names its columns and their
//! header variants; the same safety checks, sheet search, header detection,
//! totals/blank-row skipping and cell cleaning as the roster reader apply
//! (this module is a child of `read` and uses its helpers directly).

use super::clean::{clean_code, shown};
use super::grid::is_blank;
use super::header::header_key;
use super::rows::TOTALS;
use super::{column_letter, open_book, ReadError, ReadOptions, HEADER_SEARCH_ROWS};
use crate::error::ErrorCode;
use calamine::Data;
use serde::Serialize;
use std::collections::BTreeMap;

/// A column the caller wants, with the header texts that name it (compared
/// after `header_key`: half-width, no spaces, no bracketed units).
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub key: &'static str,
    /// The canonical Chinese header, for messages.
    pub label: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// 1-based Excel row number.
    pub row: usize,
    /// Non-empty cells of the recognised columns as shown, then cleaned like
    /// codes: half-width, no whitespace, no leading apostrophe.
    pub cells: BTreeMap<&'static str, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyedTable {
    pub sheet: String,
    pub header_row: usize,
    /// Recognised columns with their Excel letters.
    pub columns: Vec<(&'static str, String)>,
    pub rows: Vec<TableRow>,
    /// Rows skipped between the header and the last data row: blank or totals.
    pub skipped_rows: Vec<(usize, &'static str)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("未找到“{}”列：请确保表格前30行内有一行表头包含{}（已检查工作表：{}）", .missing.join("”“"), .wanted, .sheets.join("、"))]
    MissingColumns {
        missing: Vec<&'static str>,
        wanted: String,
        sheets: Vec<String>,
    },
}

impl TableError {
    pub fn code(&self) -> ErrorCode {
        match self {
            TableError::Read(e) => e.code(),
            TableError::MissingColumns { .. } => ErrorCode::ColumnsMissing,
        }
    }
}

fn spec_of<'a>(specs: &'a [ColumnSpec], text: &str) -> Option<&'a ColumnSpec> {
    let key = header_key(text);
    let key = key.trim_end_matches(['元', '/', '-', '_']);
    specs
        .iter()
        .find(|s| s.aliases.iter().any(|a| header_key(a) == key))
}

/// Read the first sheet (visible ones first) whose first 30 rows hold a
/// header naming every required column.
pub fn read_table(
    bytes: &[u8],
    opts: &ReadOptions,
    specs: &[ColumnSpec],
) -> Result<KeyedTable, TableError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty.into());
    }
    if bytes.len() > opts.max_bytes {
        return Err(ReadError::TooLarge {
            limit: opts.max_bytes,
        }
        .into());
    }
    std::panic::catch_unwind(|| read(bytes, opts, specs)).unwrap_or_else(|_| {
        Err(ReadError::Corrupt("解析时出现内部错误（文件结构异常）".to_string()).into())
    })
}

fn read(bytes: &[u8], opts: &ReadOptions, specs: &[ColumnSpec]) -> Result<KeyedTable, TableError> {
    let mut opened = open_book(bytes, opts)?;
    let required: Vec<&ColumnSpec> = specs.iter().filter(|s| s.required).collect();
    // Required columns seen in some header candidate, to name the missing ones.
    let mut seen: Vec<&'static str> = Vec::new();
    for name in &opened.search {
        let grid = opened.book.grid(name, opened.cap)?;
        let header = grid
            .rows
            .range(..HEADER_SEARCH_ROWS)
            .find_map(|(row, cells)| {
                let mut found: BTreeMap<&'static str, u32> = BTreeMap::new();
                for (col, v) in cells {
                    if let Some(s) = spec_of(specs, &shown(v)) {
                        found.entry(s.key).or_insert(*col);
                        if !seen.contains(&s.key) {
                            seen.push(s.key);
                        }
                    }
                }
                required
                    .iter()
                    .all(|s| found.contains_key(s.key))
                    .then_some((*row, found))
            });
        let Some((header_row, found)) = header else {
            continue;
        };
        let mut columns: Vec<(&'static str, u32)> = found.into_iter().collect();
        columns.sort_by_key(|(_, c)| *c);
        let first_col = columns.iter().map(|(_, c)| *c).min().unwrap_or(0);
        let last = grid.rows.keys().next_back().copied().unwrap_or(0);
        let mut rows = Vec::new();
        let mut skipped = Vec::new();
        let mut pending = Vec::new();
        for row in header_row + 1..=last {
            let Some(cells) = grid.rows.get(&row) else {
                pending.push((row as usize + 1, "blank"));
                continue;
            };
            let says_totals = (first_col.saturating_sub(2)..first_col + 3)
                .chain(columns.iter().map(|(_, c)| *c))
                .any(|c| match cells.get(&c) {
                    Some(Data::String(t)) => {
                        let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
                        TOTALS.iter().any(|k| t.contains(k))
                    }
                    _ => false,
                });
            if says_totals {
                skipped.append(&mut pending);
                skipped.push((row as usize + 1, "totals"));
                continue;
            }
            let values: BTreeMap<&'static str, String> = columns
                .iter()
                .filter_map(|(k, c)| {
                    let v = cells.get(c).filter(|v| !is_blank(v))?;
                    let t = clean_code(&shown(v));
                    (!t.is_empty()).then_some((*k, t))
                })
                .collect();
            if values.is_empty() {
                pending.push((row as usize + 1, "blank"));
                continue;
            }
            skipped.append(&mut pending);
            if rows.len() >= opts.max_rows {
                return Err(ReadError::TooManyRows {
                    limit: opts.max_rows,
                    found: rows.len() + 1,
                }
                .into());
            }
            rows.push(TableRow {
                row: row as usize + 1,
                cells: values,
            });
        }
        if grid.overflow_rows > 0 {
            return Err(ReadError::TooManyRows {
                limit: opts.max_rows,
                found: rows.len() + grid.overflow_rows,
            }
            .into());
        }
        return Ok(KeyedTable {
            sheet: name.clone(),
            header_row: header_row as usize + 1,
            columns: columns
                .into_iter()
                .map(|(k, c)| (k, column_letter(c as usize)))
                .collect(),
            rows,
            skipped_rows: skipped,
        });
    }
    let unseen: Vec<&'static str> = required
        .iter()
        .filter(|s| !seen.contains(&s.key))
        .map(|s| s.label)
        .collect();
    Err(TableError::MissingColumns {
        missing: if unseen.is_empty() {
            required.iter().map(|s| s.label).collect()
        } else {
            unseen
        },
        wanted: required
            .iter()
            .map(|s| format!("“{}”", s.aliases.join("/")))
            .collect::<Vec<_>>()
            .join("和"),
        sheets: opened.sheets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::Workbook;

    const SPECS: [ColumnSpec; 2] = [
        ColumnSpec {
            key: "no",
            label: "保单号",
            aliases: &["保单号", "保单号码", "保险单号"],
            required: true,
        },
        ColumnSpec {
            key: "amount",
            label: "补贴金额",
            aliases: &["补贴金额", "财政补贴"],
            required: true,
        },
    ];

    fn book(rows: &[&[&str]]) -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if let Ok(n) = v.parse::<f64>() {
                    ws.write_number(r as u32, c as u16, n).unwrap();
                } else if !v.is_empty() {
                    ws.write_string(r as u32, c as u16, *v).unwrap();
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn finds_the_header_below_a_title_and_skips_blank_and_totals_rows() {
        let bytes = book(&[
            &["某保险公司保费补贴对账单"],
            &[],
            &["序号", " 保单号码 ", "财政补贴（元）"],
            &["1", "'２０１２００１", "269.6"],
            &["2", "2012 002", "１２.５０"],
            &[],
            &["3", "2012003", "0.1"],
            &["合  计", "", "282.2"],
        ]);
        let t = read_table(&bytes, &ReadOptions::default(), &SPECS).unwrap();
        assert_eq!(t.header_row, 3);
        assert_eq!(
            t.columns,
            vec![("no", "B".to_string()), ("amount", "C".to_string())]
        );
        let got: Vec<(usize, &str, &str)> = t
            .rows
            .iter()
            .map(|r| (r.row, r.cells["no"].as_str(), r.cells["amount"].as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (4, "2012001", "269.6"),
                (5, "2012002", "12.50"),
                (7, "2012003", "0.1")
            ]
        );
        assert_eq!(t.skipped_rows, vec![(6, "blank"), (8, "totals")]);
    }

    #[test]
    fn names_the_missing_column() {
        let bytes = book(&[&["姓名", "补贴金额"], &["王芳", "1"]]);
        let e = read_table(&bytes, &ReadOptions::default(), &SPECS).unwrap_err();
        assert_eq!(e.code(), "columns_missing");
        let m = e.to_string();
        assert!(m.contains("未找到“保单号”列"), "{m}");
        assert!(!m.contains("“补贴金额”列"), "{m}");
        let e = read_table(b"not a workbook", &ReadOptions::default(), &SPECS).unwrap_err();
        assert_eq!(e.code(), "not_a_spreadsheet");
    }
}
