//! What an import says back: the report of every row (preview and commit),
//! and the rejected rows for the error-report workbook.

use super::context::Context;
use super::plan::Analysed;
use super::{ImportReport, Outcome};
use crate::excel::read::Streamed;

/// The report of every row, from the reader's description of the table and
/// what the analyser kept.
pub(super) fn report(
    ctx: &Context,
    (head, mut skipped): Streamed,
    analysed: Analysed,
    upload_id: Option<i64>,
    committed: bool,
) -> ImportReport {
    skipped.extend(analysed.examples.iter().map(|r| (*r, "example")));
    skipped.sort_unstable();
    ImportReport {
        upload_id,
        committed,
        township: ctx.township.name.clone(),
        scheme: ctx.scheme.def.code.clone(),
        sheet: head.sheet,
        sheets: head.sheets,
        header_row: head.header_row,
        counts: analysed.counts,
        skipped_rows: skipped.iter().map(|(r, w)| (*r, w.to_string())).collect(),
        rows: analysed.results,
        headers: head.headers,
        // The error report shows rejected rows only: the analyser kept just
        // their cells.
        originals: analysed.originals,
        columns: head.columns,
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
