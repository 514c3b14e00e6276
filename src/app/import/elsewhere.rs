//! What is stored outside the import's township, looked up by the keys the
//! file itself names: growers of the year enrolled in another township (a
//! row of theirs is refused), the scheme's plots elsewhere (a code that is
//! someone else's is refused) and readable codes typed into another
//! township's roster with one of this township's village prefixes (a new
//! code skips them).
//!
//! A province holds about a million growers a year; the import used to read
//! them all. Now it reads its own township's rows (`context`) and looks up
//! the rest a batch of rows at a time, before those rows are checked, so that
//! checking itself never waits on, or fails with, the database. Each key is
//! asked once. The lookups run on a connection of their own (the preview's,
//! or a second one beside the committing import's), which sees what was
//! stored before the import: the import's own writes are not committed yet.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use super::context::Context;
use crate::db::enrollment::lookups;
use crate::db::models::{Grower, Plot};
use crate::db::DbConn;
use crate::domain::IdNumber;
use crate::error::AppResult;
use crate::excel::read::{Field, RawRow};

/// Keys per lookup query: well within SQLite's and PostgreSQL's bind limits.
const KEYS_PER_QUERY: usize = 2_000;

#[derive(Default)]
pub(super) struct Elsewhere {
    growers: HashMap<String, Grower>,
    plots: HashMap<String, Plot>,
    asked_ids: HashSet<String>,
    asked_codes: HashSet<String>,
    /// Codes stored outside the township with a village's prefix, per
    /// village id; present once asked.
    village_codes: HashMap<i64, Vec<String>>,
    /// Whether any grower, and any plot, is stored outside the township at
    /// all; asked at the first batch.
    any: Option<(bool, bool)>,
}

impl Elsewhere {
    /// Look up what `rows` name that is neither in the township nor asked
    /// before.
    pub(super) fn fetch(
        &mut self,
        conn: &mut DbConn,
        ctx: &Context,
        rows: &[RawRow],
    ) -> AppResult<()> {
        let (any_grower, any_plot) = match self.any {
            Some(any) => any,
            None => {
                let any = lookups::anything_elsewhere(
                    conn,
                    (ctx.scheme.def.year, ctx.scheme.id),
                    ctx.township.id,
                )?;
                self.any = Some(any);
                any
            }
        };
        if !any_grower && !any_plot {
            return Ok(());
        }
        let mut ids: Vec<String> = Vec::new();
        let mut codes: Vec<String> = Vec::new();
        for raw in rows {
            let get = |f: Field| raw.cells.get(&f).map_or("", |s| s.trim());
            // The key `parse` would keep, without checking the number: an
            // invalid one is refused anyway, and asking for it costs nothing.
            let id = IdNumber::key(get(Field::IdNumber));
            if any_grower
                && !id.is_empty()
                && !ctx.growers.contains_key(&id)
                && !self.asked_ids.contains(&id)
            {
                self.asked_ids.insert(id.clone());
                ids.push(id);
            }
            match get(Field::PlotCode) {
                "" => {
                    let village_text = get(Field::Village);
                    let village = ctx
                        .villages_by_name
                        .get(village_text)
                        .or_else(|| ctx.villages_by_code.get(village_text));
                    if let Some(v) = village.filter(|_| any_plot) {
                        if let Entry::Vacant(e) = self.village_codes.entry(v.id) {
                            e.insert(lookups::codes_elsewhere_with_prefix(
                                conn,
                                ctx.scheme.id,
                                ctx.township.id,
                                &format!("{}-", v.code),
                            )?);
                        }
                    }
                }
                code => {
                    if any_plot && !ctx.plots.contains_key(code) && !self.asked_codes.contains(code)
                    {
                        self.asked_codes.insert(code.to_string());
                        codes.push(code.to_string());
                    }
                }
            }
        }
        let year = ctx.scheme.def.year;
        for keys in ids.chunks(KEYS_PER_QUERY) {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            for g in lookups::growers_elsewhere(conn, year, ctx.township.id, &keys)? {
                self.growers.insert(g.id_number.clone(), g);
            }
        }
        for keys in codes.chunks(KEYS_PER_QUERY) {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            for p in lookups::plots_elsewhere(conn, ctx.scheme.id, ctx.township.id, &keys)? {
                self.plots.insert(p.code.clone(), p);
            }
        }
        Ok(())
    }

    /// The stored grower of the year with this ID number, in the township
    /// or elsewhere.
    pub(super) fn grower<'a>(&'a self, ctx: &'a Context, id: &str) -> Option<&'a Grower> {
        ctx.growers.get(id).or_else(|| self.growers.get(id))
    }

    /// The scheme's stored plot with this code, in the township or elsewhere.
    pub(super) fn plot<'a>(&'a self, ctx: &'a Context, code: &str) -> Option<&'a Plot> {
        ctx.plots.get(code).or_else(|| self.plots.get(code))
    }

    /// Codes with `village`'s prefix stored outside the township.
    pub(super) fn village_codes(&self, village: i64) -> &[String] {
        self.village_codes.get(&village).map_or(&[], Vec::as_slice)
    }
}
