//! Writing the accepted rows in the import's transaction, chunk by chunk as
//! the reader thread checks them: new growers and plots in bulk (COPY on
//! PostgreSQL), changed ones with one `UPDATE ... FROM` per chunk and table
//! and their before/after audit rows; at the end the policies synced and one
//! audit entry for the import.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::context::Context;
use super::plan::Planned;
use super::{Counts, ImportRequest, Outcome};
use crate::app::policies::KnownGrower;
use crate::app::{audit, Actor, Phases};
use crate::db::enrollment as rows;
use crate::db::schema::{growers, plots};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};

/// What the plan found (or wrote) under `key`. A miss means the plan and the
/// database disagree — a bug, not bad input — so it rolls the import back.
fn planned_entry<'a, V>(map: &'a HashMap<String, V>, key: &str, what: &str) -> AppResult<&'a V> {
    map.get(key)
        .ok_or_else(|| AppError::Internal(format!("导入计划与数据库不一致：找不到{what}")))
}

/// What the writer has done so far, across chunks.
pub(super) struct Writer<'c> {
    ctx: &'c Context,
    actor: &'c Actor,
    now: String,
    /// Growers created by this import, by ID number.
    new_grower_ids: HashMap<String, i64>,
    /// Eligible area of each created grower (all its plots are in this file).
    new_units: HashMap<i64, i64>,
    /// Change of eligible area of each stored grower, from its new and
    /// changed plots.
    units_delta: HashMap<i64, i64>,
    /// Growers whose policy may need writing.
    touched: HashSet<i64>,
    created_growers: Vec<i64>,
    created_plots: Vec<i64>,
    /// The changed rows' audit rows, kept until `finish` so the audit
    /// chain's head is held only for the last step (`audit::Deferred`;
    /// appended at once on SQLite, whose write lock the import holds).
    deferred: audit::Deferred,
}

impl<'c> Writer<'c> {
    pub(super) fn new(ctx: &'c Context, actor: &'c Actor, now: String) -> Writer<'c> {
        Writer {
            ctx,
            actor,
            now,
            new_grower_ids: HashMap::new(),
            new_units: HashMap::new(),
            units_delta: HashMap::new(),
            touched: HashSet::new(),
            created_growers: Vec::new(),
            created_plots: Vec::new(),
            deferred: audit::Deferred::default(),
        }
    }

    /// Write one chunk of accepted rows.
    pub(super) fn chunk(
        &mut self,
        conn: &mut DbConn,
        mut chunk: Vec<Planned>,
        phases: &mut Phases,
    ) -> AppResult<()> {
        let now = self.now.as_str();
        // Growers: the new ones in bulk; the changed ones in one update.
        let new_growers = chunk
            .iter()
            .filter(|p| p.writes_grower && p.grower_outcome == Outcome::New)
            .count();
        if new_growers > 0 {
            let n = new_growers;
            let before = rows::growers::max_id(conn)?;
            rows::insert_growers(
                conn,
                chunk
                    .iter()
                    .filter(|p| p.writes_grower && p.grower_outcome == Outcome::New)
                    .map(|p| &p.grower),
                now,
            )?;
            let written = chunk
                .iter()
                .filter(|p| p.writes_grower && p.grower_outcome == Outcome::New);
            match crate::db::sqlite_written_ids(conn, "growers", n)? {
                Some(ids) => {
                    for (p, id) in written.zip(ids) {
                        self.new_grower_ids.insert(p.grower.id_number.clone(), id);
                    }
                }
                None => {
                    // New ids by primary-key range: a lookup by value list
                    // makes PostgreSQL scan a table whose statistics predate
                    // this import.
                    self.new_grower_ids.extend(
                        growers::table
                            .filter(growers::id.gt(before.unwrap_or(0)))
                            .filter(growers::year.eq(self.ctx.scheme.def.year))
                            .select((growers::id_number, growers::id))
                            .load::<(String, i64)>(conn)?,
                    );
                }
            }
            for p in chunk
                .iter()
                .filter(|p| p.writes_grower && p.grower_outcome == Outcome::New)
            {
                let id = *planned_entry(&self.new_grower_ids, &p.grower.id_number, "新农户")?;
                self.touched.insert(id);
                self.created_growers.push(id);
            }
        }
        let changed: Vec<(i64, &crate::db::models::GrowerValues, i32)> = chunk
            .iter()
            .filter_map(|p| p.old_grower.map(|(id, version)| (id, &p.grower, version)))
            .collect();
        rows::update_growers(conn, &changed, now)?;
        self.touched.extend(changed.iter().map(|(id, ..)| *id));
        drop(changed);
        phases.lap("growers");

        // Plots: a new grower's id is known now.
        let eligible_units = |eligible: bool, units: i64| if eligible { units } else { 0 };
        for p in chunk.iter_mut() {
            if p.plot.grower_id != 0 && p.plot_outcome != Outcome::Unchanged {
                let before = p.old_units;
                let after = eligible_units(p.plot.eligible, p.plot.area_units.units());
                *self.units_delta.entry(p.plot.grower_id).or_insert(0) += after - before;
            }
            if p.plot.grower_id == 0 {
                let id = *planned_entry(&self.new_grower_ids, &p.grower.id_number, "农户")?;
                p.plot.grower_id = id;
                let units = self.new_units.entry(id).or_insert(0);
                if p.plot.eligible {
                    *units += p.plot.area_units.units();
                }
            }
        }
        let new_plots = chunk
            .iter()
            .filter(|p| p.plot_outcome == Outcome::New)
            .count();
        if new_plots > 0 {
            let n = new_plots;
            let before = rows::plots::max_id(conn)?;
            rows::insert_plots(
                conn,
                chunk
                    .iter()
                    .filter(|p| p.plot_outcome == Outcome::New)
                    .map(|p| &p.plot),
                now,
            )?;
            let written = chunk.iter().filter(|p| p.plot_outcome == Outcome::New);
            match crate::db::sqlite_written_ids(conn, "plots", n)? {
                Some(ids) => {
                    for (p, id) in written.zip(ids) {
                        self.touched.insert(p.plot.grower_id);
                        self.created_plots.push(id);
                    }
                }
                None => {
                    let ids: HashMap<String, i64> = plots::table
                        .filter(plots::id.gt(before.unwrap_or(0)))
                        .filter(plots::scheme_id.eq(self.ctx.scheme.id))
                        .select((plots::code, plots::id))
                        .load::<(String, i64)>(conn)?
                        .into_iter()
                        .collect();
                    for p in written {
                        self.touched.insert(p.plot.grower_id);
                        self.created_plots
                            .push(*planned_entry(&ids, &p.plot.code, "新地块")?);
                    }
                }
            }
        }
        let changed: Vec<(i64, &crate::db::models::PlotValues, i32)> = chunk
            .iter()
            .filter_map(|p| p.old_plot.map(|(id, version)| (id, &p.plot, version)))
            .collect();
        rows::update_plots(conn, &changed, now)?;
        drop(changed);
        for p in chunk.iter().filter(|p| p.old_plot.is_some()) {
            self.touched.insert(p.plot.grower_id);
        }
        phases.lap("plots");
        let pending: Vec<audit::Pending> = chunk.into_iter().flat_map(|p| p.audit).collect();
        self.deferred.add(conn, self.actor, pending)?;
        phases.lap("audit (changed rows)");
        Ok(())
    }

    /// After the last chunk: the policies, and the import's own audit entry
    /// (who, when, which file, the ids created).
    pub(super) fn finish(
        self,
        conn: &mut DbConn,
        actor: &Actor,
        source: (&ImportRequest, &Counts),
        phases: &mut Phases,
    ) -> AppResult<()> {
        let ctx = self.ctx;
        self.deferred.flush(conn, actor)?;
        phases.lap("audit (changed rows)");
        let mut touched: Vec<i64> = self.touched.into_iter().collect();
        touched.sort_unstable();
        drop(self.new_grower_ids);
        // Every grower of the file is in the import's township, and its
        // eligible area is what was stored (the plots loaded before the
        // import) changed by this file's plots: no lookups needed.
        let mut stored_units: HashMap<i64, i64> = HashMap::new();
        for p in ctx.plots.values().filter(|p| p.eligible) {
            *stored_units.entry(p.grower_id).or_insert(0) += p.area_units.units();
        }
        let known: HashMap<i64, KnownGrower> = touched
            .iter()
            .map(|g| {
                let (units, created) = match self.new_units.get(g) {
                    Some(units) => (*units, true),
                    None => (
                        stored_units.get(g).copied().unwrap_or(0)
                            + self.units_delta.get(g).copied().unwrap_or(0),
                        false,
                    ),
                };
                let known = KnownGrower {
                    units,
                    township_id: ctx.township.id,
                    created,
                };
                (*g, known)
            })
            .collect();
        let created_policies =
            crate::app::policies::sync_many(conn, actor, &touched, &known, ctx.scheme.id, phases)?;
        if self.created_growers.is_empty()
            && self.created_plots.is_empty()
            && created_policies.is_empty()
        {
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
                "grower": audit::id_runs(self.created_growers),
                "plot": audit::id_runs(self.created_plots),
                "policy": audit::id_runs(created_policies),
            },
        });
        audit::record_import(conn, actor, &entry)?;
        phases.lap("audit (import entry)");
        Ok(())
    }
}
