//! Writing the accepted rows in the import's transaction: new growers and
//! plots in bulk (COPY on PostgreSQL), changed ones one by one with their
//! audit rows, the policies synced, one audit entry for the import.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::context::Context;
use super::plan::Planned;
use super::{Counts, ImportRequest, Outcome};
use crate::app::{audit, Actor, Phases};
use crate::db::enrollment as rows;
use crate::db::models::{GrowerValues, PlotValues};
use crate::db::schema::{growers, plots};
use crate::db::{now_text, DbConn};
use crate::error::{AppError, AppResult};

/// What the plan found (or wrote) under `key`. A miss means the plan and the
/// database disagree — a bug, not bad input — so it rolls the import back.
fn planned_entry<'a, V>(map: &'a HashMap<String, V>, key: &str, what: &str) -> AppResult<&'a V> {
    map.get(key)
        .ok_or_else(|| AppError::Internal(format!("导入计划与数据库不一致：找不到{what}")))
}

/// Write the accepted rows. Changed growers and plots get an audit row each
/// with before and after; everything created is recorded in one audit entry
/// for the import (who, when, which file, the ids created).
pub(super) fn write(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &Context,
    mut planned: Vec<Planned>,
    source: (&ImportRequest, &Counts),
    phases: &mut Phases,
) -> AppResult<()> {
    let now = now_text();
    let mut touched: HashSet<i64> = HashSet::new();

    // Growers: new ones in bulk, changed ones one by one (rare on re-upload).
    let mut pending_audit: Vec<audit::Pending> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut new_growers: Vec<&GrowerValues> = Vec::new();
    for p in &planned {
        if !seen.insert(p.grower.id_number.as_str()) {
            continue;
        }
        match p.grower_outcome {
            Outcome::New => new_growers.push(&p.grower),
            Outcome::Changed => {
                let old = planned_entry(&ctx.growers, &p.grower.id_number, "农户")?;
                rows::growers::update(conn, old.id, &p.grower, old.version, &now)?;
                pending_audit.push(audit::Pending {
                    action: "import",
                    entity: "grower",
                    entity_id: old.id,
                    before: audit::json(old),
                    after: audit::json(&p.grower),
                });
                touched.insert(old.id);
            }
            _ => {}
        }
    }
    drop(seen);
    // New ids by primary-key range: a lookup by value list makes PostgreSQL
    // scan a table whose statistics predate this import.
    let mut new_grower_ids: HashMap<String, i64> = HashMap::new();
    let mut created_growers: Vec<i64> = Vec::new();
    if !new_growers.is_empty() {
        let before = rows::growers::max_id(conn)?;
        let rows: Vec<_> = new_growers
            .iter()
            .map(|g| {
                (
                    growers::year.eq(g.year),
                    growers::id_number.eq(&g.id_number),
                    growers::name.eq(&g.name),
                    growers::phone.eq(&g.phone),
                    growers::bank_name.eq(&g.bank_name),
                    growers::bank_account.eq(&g.bank_account),
                    growers::village_id.eq(g.village_id),
                    growers::township_id.eq(g.township_id),
                    growers::version.eq(1),
                    growers::created_at.eq(&now),
                    growers::updated_at.eq(&now),
                )
            })
            .collect();
        crate::bulk_copy!(conn, growers::table, rows, 11)?;
        new_grower_ids = growers::table
            .filter(growers::id.gt(before.unwrap_or(0)))
            .filter(growers::year.eq(ctx.scheme.def.year))
            .select((growers::id_number, growers::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        for g in &new_growers {
            let id = *planned_entry(&new_grower_ids, &g.id_number, "新农户")?;
            touched.insert(id);
            created_growers.push(id);
        }
    }
    drop(new_growers);
    phases.lap("growers");
    audit::record_many(conn, actor, std::mem::take(&mut pending_audit))?;
    phases.lap("audit (changed rows)");

    // Plots: the same pattern. A new grower's plots are all in this file, so
    // their eligible area (the policy's insured area) is known here.
    let mut new_units: HashMap<i64, i64> = HashMap::new();
    for p in planned.iter_mut() {
        let grower_id = match new_grower_ids.get(&p.grower.id_number) {
            Some(id) => {
                let units = new_units.entry(*id).or_insert(0);
                if p.plot.eligible {
                    *units += p.plot.area_units.units();
                }
                *id
            }
            None => planned_entry(&ctx.growers, &p.grower.id_number, "农户")?.id,
        };
        p.plot.grower_id = grower_id;
        if p.plot_outcome == Outcome::Changed {
            let plot = &p.plot;
            let old = planned_entry(&ctx.plots, &plot.code, "地块")?;
            rows::plots::update(conn, old.id, plot, old.version, &now)?;
            pending_audit.push(audit::Pending {
                action: "import",
                entity: "plot",
                entity_id: old.id,
                before: audit::json(old),
                after: audit::json(plot),
            });
            touched.insert(grower_id);
        }
    }
    drop(new_grower_ids);
    let new_plots: Vec<&PlotValues> = planned
        .iter()
        .filter(|p| p.plot_outcome == Outcome::New)
        .map(|p| &p.plot)
        .collect();
    let mut created_plots: Vec<i64> = Vec::new();
    if !new_plots.is_empty() {
        let before = rows::plots::max_id(conn)?;
        let rows: Vec<_> = new_plots
            .iter()
            .map(|p| {
                (
                    plots::code.eq(&p.code),
                    plots::grower_id.eq(p.grower_id),
                    plots::scheme_id.eq(p.scheme_id),
                    plots::village_id.eq(p.village_id),
                    plots::township_id.eq(p.township_id),
                    plots::variety.eq(&p.variety),
                    plots::tree_age.eq(p.tree_age),
                    plots::tree_count.eq(p.tree_count),
                    plots::fruit_per_tree.eq(p.fruit_per_tree),
                    plots::area_units.eq(p.area_units),
                    plots::attributes.eq(&p.attributes),
                    plots::boundary.eq(p.boundary.as_deref()),
                    plots::boundary_area_units.eq(p.boundary_area_units),
                    plots::eligible.eq(p.eligible),
                    plots::reasons.eq(&p.reasons),
                    plots::version.eq(1),
                    plots::created_at.eq(&now),
                    plots::updated_at.eq(&now),
                )
            })
            .collect();
        crate::bulk_copy!(conn, plots::table, rows, 18)?;
        let ids: HashMap<String, i64> = plots::table
            .filter(plots::id.gt(before.unwrap_or(0)))
            .filter(plots::scheme_id.eq(ctx.scheme.id))
            .select((plots::code, plots::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        for p in &new_plots {
            touched.insert(p.grower_id);
            created_plots.push(*planned_entry(&ids, &p.code, "新地块")?);
        }
    }
    drop(new_plots);
    drop(planned);
    phases.lap("plots");
    audit::record_many(conn, actor, pending_audit)?;
    phases.lap("audit (changed rows)");
    let mut touched: Vec<i64> = touched.into_iter().collect();
    touched.sort_unstable();
    let created_policies =
        crate::app::policies::sync_many(conn, actor, &touched, &new_units, ctx.scheme.id, phases)?;
    if created_growers.is_empty() && created_plots.is_empty() && created_policies.is_empty() {
        return Ok(());
    }
    let (req, counts) = source;
    let entry = serde_json::json!({
        "file": req.filename,
        "sha256": hex::encode(Sha256::digest(req.bytes)),
        "township": ctx.township.code,
        "scheme": ctx.scheme.def.code,
        "counts": counts,
        "created": {
            "grower": audit::id_runs(created_growers),
            "plot": audit::id_runs(created_plots),
            "policy": audit::id_runs(created_policies),
        },
    });
    audit::record_import(conn, actor, &entry)?;
    phases.lap("audit (import entry)");
    Ok(())
}
