//! The whole roster against what is stored: each row new, changed, unchanged
//! or rejected, duplicates within the file caught, and what will be written.

use crate::error::ErrorCode;
use std::collections::HashMap;

use super::context::Context;
use super::row::{plan_row, problem};
use super::{Counts, Outcome, RowResult};
use crate::db::models::{Grower, GrowerValues, Plot, PlotValues};
use crate::domain::id_number::mask_id;
use crate::excel::read::{Field, Roster};

/// What one accepted row will write.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub(super) grower: GrowerValues,
    pub(super) plot: PlotValues,
    pub(super) grower_outcome: Outcome,
    pub(super) plot_outcome: Outcome,
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

pub(super) fn analyse(ctx: &Context, roster: &Roster) -> (Vec<RowResult>, Vec<Planned>, Counts) {
    let columns: HashMap<Field, String> = roster.columns.iter().cloned().collect();
    let mut results = Vec::with_capacity(roster.rows.len());
    let mut planned: Vec<Planned> = Vec::with_capacity(roster.rows.len());
    let mut counts = Counts {
        rows: roster.rows.len(),
        ..Counts::default()
    };
    // Per ID: its first accepted row (and where that row is in `planned`),
    // and how many plots seen.
    let mut first_grower: HashMap<String, (usize, usize)> = HashMap::new();
    let mut plots_per_id: HashMap<std::borrow::Cow<str>, usize> = HashMap::new();
    let mut codes_seen: HashMap<String, usize> = HashMap::new();
    for raw in &roster.rows {
        let id_key: std::borrow::Cow<str> = match raw.cells.get(&Field::IdNumber) {
            // Already upper case (an ASCII ID without a small x): borrow it.
            Some(s) if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase()) => {
                s.as_str().into()
            }
            Some(s) => s.to_uppercase().into(),
            None => "".into(),
        };
        let n = {
            let e = plots_per_id.entry(id_key).or_insert(0);
            *e += 1;
            *e
        };
        let mut outcome = plan_row(ctx, raw, &columns, n);
        if let Ok((g, p, _)) = &outcome {
            if let Some(first_row) = codes_seen.get(&p.code) {
                outcome = Err(vec![problem(
                    Field::PlotCode,
                    &columns,
                    ErrorCode::DuplicateInFile,
                    format!("与第{first_row}行的地块编号{}重复", p.code),
                )]);
            } else if let Some((first_row, fg)) = first_grower
                .get(&g.id_number)
                .and_then(|(row, i)| planned.get(*i).map(|f| (row, &f.grower)))
            {
                if fg.name != g.name {
                    outcome = Err(vec![problem(
                        Field::GrowerName,
                        &columns,
                        ErrorCode::IdNameConflict,
                        format!(
                            "同一身份证号在第{first_row}行的姓名为“{}”，与本行“{}”不一致",
                            fg.name, g.name
                        ),
                    )]);
                }
            }
        }
        match outcome {
            Err(problems) => {
                counts.rejected += 1;
                results.push(RowResult {
                    row: raw.row,
                    outcome: Outcome::Rejected,
                    grower_name: raw
                        .cells
                        .get(&Field::GrowerName)
                        .cloned()
                        .unwrap_or_default(),
                    id_number: raw
                        .cells
                        .get(&Field::IdNumber)
                        .map(|s| mask_id(s))
                        .unwrap_or_default(),
                    plot_code: raw.cells.get(&Field::PlotCode).cloned().unwrap_or_default(),
                    eligible: None,
                    reasons: vec![],
                    problems,
                });
            }
            Ok((mut g, p, reasons)) => {
                codes_seen.insert(p.code.clone(), raw.row);
                // Later rows of the same grower use the first row's grower fields.
                let first = match first_grower
                    .get(&g.id_number)
                    .and_then(|(_, i)| planned.get(*i))
                {
                    Some(f) => {
                        g = f.grower.clone();
                        false
                    }
                    None => {
                        first_grower.insert(g.id_number.clone(), (raw.row, planned.len()));
                        true
                    }
                };
                let grower_outcome = match ctx.growers.get(&g.id_number) {
                    None => Outcome::New,
                    Some(old) if grower_changed(old, &g) => Outcome::Changed,
                    Some(_) => Outcome::Unchanged,
                };
                if first {
                    match grower_outcome {
                        Outcome::New => counts.new_growers += 1,
                        Outcome::Changed => counts.changed_growers += 1,
                        _ => {}
                    }
                }
                let plot_outcome = match ctx.plots.get(&p.code) {
                    None => Outcome::New,
                    Some(old) if plot_changed(old, &p) => Outcome::Changed,
                    Some(_) => Outcome::Unchanged,
                };
                let outcome = match (plot_outcome, grower_outcome) {
                    (Outcome::New, _) => Outcome::New,
                    (Outcome::Changed, _) | (_, Outcome::Changed) | (_, Outcome::New) => {
                        Outcome::Changed
                    }
                    _ => Outcome::Unchanged,
                };
                match outcome {
                    Outcome::New => counts.new += 1,
                    Outcome::Changed => counts.changed += 1,
                    _ => counts.unchanged += 1,
                }
                if !p.eligible {
                    counts.ineligible += 1;
                }
                results.push(RowResult {
                    row: raw.row,
                    outcome,
                    grower_name: g.name.clone(),
                    id_number: mask_id(&g.id_number),
                    plot_code: p.code.clone(),
                    eligible: Some(p.eligible),
                    reasons,
                    problems: vec![],
                });
                planned.push(Planned {
                    grower: g,
                    plot: p,
                    grower_outcome,
                    plot_outcome,
                });
            }
        }
    }
    (results, planned, counts)
}
