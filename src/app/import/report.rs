//! What an import says back: the report of every row (preview and commit),
//! and the rejected rows for the error-report workbook.

use std::collections::HashSet;

use super::context::Context;
use super::{Counts, ImportReport, Outcome, RowResult};
use crate::excel::read::Roster;

pub(super) fn report(
    ctx: &Context,
    roster: &Roster,
    results: Vec<RowResult>,
    counts: Counts,
    upload_id: Option<i64>,
    committed: bool,
) -> ImportReport {
    // The error report shows rejected rows only: keep just their cells.
    let rejected: HashSet<usize> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Rejected)
        .map(|r| r.row)
        .collect();
    ImportReport {
        upload_id,
        committed,
        township: ctx.township.name.clone(),
        scheme: ctx.scheme.def.code.clone(),
        sheet: roster.sheet.clone(),
        sheets: roster.sheets.clone(),
        header_row: roster.header_row,
        counts,
        skipped_rows: roster
            .skipped_rows
            .iter()
            .map(|(r, w)| (*r, w.to_string()))
            .collect(),
        rows: results,
        headers: roster.headers.clone(),
        originals: roster
            .rows
            .iter()
            .filter(|r| rejected.contains(&r.row))
            .map(|r| (r.row, r.original.clone()))
            .collect(),
        columns: roster.columns.clone(),
        phases: Vec::new(),
    }
}

/// The rejected rows of a report, for the error report workbook.
pub fn error_rows(rep: &ImportReport) -> Vec<crate::excel::write::ErrorRow> {
    let letters: Vec<String> = (0..rep.headers.len())
        .map(crate::excel::read::column_letter)
        .collect();
    rep.rows
        .iter()
        .filter(|r| r.outcome == Outcome::Rejected)
        .map(|r| crate::excel::write::ErrorRow {
            row: r.row,
            cells: rep.originals.get(&r.row).cloned().unwrap_or_default(),
            bad_columns: r
                .problems
                .iter()
                .filter_map(|p| letters.iter().position(|l| *l == p.column))
                .collect(),
            reasons: r
                .problems
                .iter()
                .map(|p| {
                    if p.column.is_empty() {
                        p.message.clone()
                    } else {
                        format!("{}列（{}）：{}", p.column, p.field, p.message)
                    }
                })
                .collect(),
        })
        .collect()
}
