//! The roster against what is stored, row by row as the reader delivers
//! them: each row new, changed, unchanged or rejected, duplicates within the
//! file caught, and what an accepted row will write.

use crate::error::ErrorCode;
use std::collections::HashMap;

use super::codes::CodeLess;
use super::context::Context;
use super::elsewhere::Elsewhere;
use super::row::{plan_row, problem};
use super::{Counts, Outcome, RowResult};
use crate::app::audit;
use crate::db::models::{Grower, GrowerValues, Plot, PlotValues};
use crate::domain::id_number::mask_id;
use crate::excel::read::{Field, Head, RawRow};

/// What one accepted row will write.
pub(super) struct Planned {
    pub(super) grower: GrowerValues,
    /// `grower_id` is the stored grower's id, or 0 for a grower this import
    /// creates (the writer fills it in).
    pub(super) plot: PlotValues,
    /// The grower's first row in the file: the one that writes the grower.
    pub(super) writes_grower: bool,
    pub(super) grower_outcome: Outcome,
    pub(super) plot_outcome: Outcome,
    /// The stored grower this row changes (first row only): id and version.
    pub(super) old_grower: Option<(i64, i32)>,
    /// The stored plot this row changes: id and version.
    pub(super) old_plot: Option<(i64, i32)>,
    /// The eligible area units of the township's stored plot of this code
    /// (0 when there is none or it was not eligible).
    pub(super) old_units: i64,
    /// Before and after of what this row changes, ready for the audit log.
    pub(super) audit: Vec<audit::Pending>,
}

fn grower_changed(old: &Grower, new: &GrowerValues) -> bool {
    old.name != new.name
        || old.phone != new.phone
        || old.bank_name != new.bank_name
        || old.bank_account != new.bank_account
        || old.village_id != new.village_id
}

fn plot_changed(old: &Plot, new: &PlotValues) -> bool {
    old.variety != new.variety
        || old.tree_age != new.tree_age
        || old.tree_count != new.tree_count
        || old.fruit_per_tree != new.fruit_per_tree
        || old.area_units != new.area_units
        || old.village_id != new.village_id
        || old.eligible != new.eligible
}

/// A grower's first accepted row: later rows of the same ID take its
/// grower fields.
struct FirstRow {
    row: usize,
    name: String,
    outcome: Outcome,
}

/// Checks rows one at a time, keeping only what later rows are checked
/// against and what the report needs.
pub(super) struct Analyser<'c> {
    ctx: &'c Context,
    /// What the file names that is stored outside the township.
    elsewhere: Elsewhere,
    /// The rows will be written (commit): prepare their audit rows too.
    writes: bool,
    columns: HashMap<Field, String>,
    results: Vec<RowResult>,
    counts: Counts,
    first_grower: HashMap<String, FirstRow>,
    plots_per_id: HashMap<String, usize>,
    codes_seen: HashMap<String, usize>,
    /// Codes for rows without one.
    code_less: CodeLess,
    /// The cells of rejected rows, for the error report.
    originals: HashMap<usize, Vec<String>>,
    /// The template's example rows (张三), skipped.
    examples: Vec<usize>,
}

/// What the report needs of the analysis.
pub(super) struct Analysed {
    pub(super) results: Vec<RowResult>,
    pub(super) counts: Counts,
    pub(super) originals: HashMap<usize, Vec<String>>,
    pub(super) examples: Vec<usize>,
}

impl<'c> Analyser<'c> {
    pub(super) fn new(ctx: &'c Context, writes: bool) -> Analyser<'c> {
        Analyser {
            ctx,
            elsewhere: Elsewhere::default(),
            writes,
            columns: HashMap::new(),
            results: Vec::new(),
            counts: Counts::default(),
            first_grower: HashMap::new(),
            plots_per_id: HashMap::new(),
            codes_seen: HashMap::new(),
            code_less: CodeLess::default(),
            originals: HashMap::new(),
            examples: Vec::new(),
        }
    }

    pub(super) fn finish(self) -> Analysed {
        Analysed {
            results: self.results,
            counts: self.counts,
            originals: self.originals,
            examples: self.examples,
        }
    }

    /// Look up what these rows name outside the township: before they are
    /// checked, on a connection that sees what was stored before the import.
    pub(super) fn prefetch(
        &mut self,
        conn: &mut crate::db::DbConn,
        rows: &[RawRow],
    ) -> crate::error::AppResult<()> {
        self.elsewhere.fetch(conn, self.ctx, rows)
    }

    pub(super) fn head(&mut self, head: &Head) {
        self.columns = head.columns.iter().cloned().collect();
    }

    /// Check one row; what it will write if it is accepted.
    pub(super) fn row(&mut self, raw: RawRow) -> Option<Planned> {
        let ctx = self.ctx;
        let columns = &self.columns;
        let id_cell = raw.cells.get(&Field::IdNumber);
        // The template's example row (张三) is not a grower.
        if id_cell.map(String::as_str) == Some(crate::excel::write::EXAMPLE_ID_NUMBER) {
            self.examples.push(raw.row);
            return None;
        }
        self.counts.rows += 1;
        let n = {
            let key = match id_cell {
                // Already upper case (an ASCII ID without a small x).
                Some(s) if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase()) => s.clone(),
                Some(s) => s.to_uppercase(),
                None => String::new(),
            };
            let e = self.plots_per_id.entry(key).or_insert(0);
            *e += 1;
            *e
        };
        let mut outcome = plan_row(
            (ctx, &self.elsewhere),
            &raw,
            columns,
            n,
            (&mut self.code_less, &self.codes_seen),
        );
        if let Ok((g, p, _)) = &outcome {
            if let Some(first_row) = self.codes_seen.get(&p.code) {
                outcome = Err(vec![problem(
                    Field::PlotCode,
                    columns,
                    ErrorCode::DuplicateInFile,
                    format!("与第{first_row}行的地块编号{}重复", p.code),
                )]);
            } else if let Some(first) = self.first_grower.get(&g.id_number) {
                if first.name != g.name {
                    outcome = Err(vec![problem(
                        Field::GrowerName,
                        columns,
                        ErrorCode::IdNameConflict,
                        format!(
                            "同一身份证号在第{}行的姓名为“{}”，与本行“{}”不一致",
                            first.row, first.name, g.name
                        ),
                    )]);
                }
            }
        }
        let (g, mut p, reasons) = match outcome {
            Err(problems) => {
                self.counts.rejected += 1;
                let cell = |f: Field| raw.cells.get(&f).cloned().unwrap_or_default();
                self.results.push(RowResult {
                    row: raw.row,
                    outcome: Outcome::Rejected,
                    grower_name: cell(Field::GrowerName),
                    id_number: raw
                        .cells
                        .get(&Field::IdNumber)
                        .map(|s| mask_id(s))
                        .unwrap_or_default(),
                    plot_code: cell(Field::PlotCode),
                    eligible: None,
                    reasons: vec![],
                    problems,
                });
                self.originals.insert(raw.row, raw.original);
                return None;
            }
            Ok(ok) => ok,
        };
        self.codes_seen.insert(p.code.clone(), raw.row);
        let old_grower = ctx.growers.get(&g.id_number);
        // Later rows of the same grower use the first row's grower fields.
        let (writes_grower, grower_outcome) = match self.first_grower.get(&g.id_number) {
            Some(first) => (false, first.outcome),
            None => {
                let outcome = match old_grower {
                    None => Outcome::New,
                    Some(old) if grower_changed(old, &g) => Outcome::Changed,
                    Some(_) => Outcome::Unchanged,
                };
                self.first_grower.insert(
                    g.id_number.clone(),
                    FirstRow {
                        row: raw.row,
                        name: g.name.clone(),
                        outcome,
                    },
                );
                match outcome {
                    Outcome::New => self.counts.new_growers += 1,
                    Outcome::Changed => self.counts.changed_growers += 1,
                    _ => {}
                }
                (true, outcome)
            }
        };
        let old_plot = self.elsewhere.plot(ctx, &p.code);
        // As the grower's stored area is counted: over the township's plots.
        let old_units = ctx
            .plots
            .get(&p.code)
            .filter(|old| old.eligible)
            .map_or(0, |old| old.area_units.units());
        let plot_outcome = match old_plot {
            None => Outcome::New,
            Some(old) if plot_changed(old, &p) => Outcome::Changed,
            Some(_) => Outcome::Unchanged,
        };
        let outcome = match (plot_outcome, grower_outcome) {
            (Outcome::New, _) => Outcome::New,
            (Outcome::Changed, _) | (_, Outcome::Changed) | (_, Outcome::New) => Outcome::Changed,
            _ => Outcome::Unchanged,
        };
        match outcome {
            Outcome::New => self.counts.new += 1,
            Outcome::Changed => self.counts.changed += 1,
            _ => self.counts.unchanged += 1,
        }
        if !p.eligible {
            self.counts.ineligible += 1;
        }
        self.results.push(RowResult {
            row: raw.row,
            outcome,
            grower_name: g.name.clone(),
            id_number: mask_id(&g.id_number),
            plot_code: p.code.clone(),
            eligible: Some(p.eligible),
            reasons,
            problems: vec![],
        });
        // A stored plot belongs to a stored grower (`plan_row` refuses a code
        // of someone else's plot), so its changes are known in full here.
        if let Some(old) = old_grower {
            p.grower_id = old.id;
        }
        let mut audit = Vec::new();
        let writes = self.writes;
        let old_grower = match old_grower {
            Some(old) if writes_grower && grower_outcome == Outcome::Changed => {
                if writes {
                    audit.push(audit::Pending {
                        action: "import",
                        entity: "grower",
                        entity_id: old.id,
                        before: audit::json(old),
                        after: audit::json(&g),
                    });
                }
                Some((old.id, old.version))
            }
            _ => None,
        };
        let old_plot = match old_plot {
            Some(old) if plot_outcome == Outcome::Changed => {
                if writes {
                    audit.push(audit::Pending {
                        action: "import",
                        entity: "plot",
                        entity_id: old.id,
                        before: audit::json(old),
                        after: audit::json(&p),
                    });
                }
                Some((old.id, old.version))
            }
            _ => None,
        };
        Some(Planned {
            grower: g,
            plot: p,
            writes_grower,
            grower_outcome,
            plot_outcome,
            old_grower,
            old_plot,
            old_units,
            audit,
        })
    }
}
