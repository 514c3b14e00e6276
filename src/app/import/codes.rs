//! Codes for roster rows without a plot code: readable, the village code and
//! a sequence (`532999101204-0017`, as the plot page numbers plots), and
//! stable across re-uploads of the same file.
//!
//! A code-less row is the grower's k-th code-less row in that village (in
//! file order); it takes the grower's k-th stored plot with a readable code
//! in that village (by sequence), so re-uploading the same file finds the
//! same plots and numbers nothing anew. Only a row beyond the grower's stored
//! plots there gets a new code: the village's next free sequence, skipping
//! stored codes and codes of earlier rows of the file. Plots stored under the
//! former derived code (`<village>-<6 hex>-NN`) keep it and are found by it.
//!
//! Cost: one pass over the township's stored plots at the first code-less
//! row, then a few hash lookups per row.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::context::Context;
use super::elsewhere::Elsewhere;
use crate::app::plots::VillageCodes;
use crate::db::models::Area;

#[derive(Default)]
pub(super) struct CodeLess {
    /// Stored plots with a readable code, per (grower id, village id), in
    /// sequence order; built at the first code-less row.
    stored: Option<HashMap<(i64, i64), Vec<String>>>,
    /// Code-less rows so far per (grower ID number, village id).
    seen: HashMap<(String, i64), usize>,
    /// The sequence of each village that has handed out a code.
    villages: HashMap<i64, VillageCodes>,
}

/// The code the import gave a code-less row before readable codes, derived
/// from the village, the grower and the row's place among the grower's rows.
fn former_code(village: &str, id: &str, n: usize) -> String {
    let h = hex::encode(Sha256::digest(id.as_bytes()));
    let short: String = h.chars().take(6).collect();
    format!("{village}-{short}-{n:02}")
}

impl CodeLess {
    /// The code of a code-less row of grower `id` in `village`; `plot_no`:
    /// the row's place among the grower's rows (for the former codes);
    /// `in_file`: is a code already used by an earlier row of the file.
    pub(super) fn code(
        &mut self,
        (ctx, elsewhere): (&Context, &Elsewhere),
        village: &Area,
        id: &str,
        plot_no: usize,
        in_file: impl Fn(&str) -> bool,
    ) -> String {
        if !ctx.plots.is_empty() {
            let former = former_code(&village.code, id, plot_no);
            if ctx.plots.contains_key(&former) {
                return former;
            }
        }
        let k = {
            let n = self.seen.entry((id.to_string(), village.id)).or_insert(0);
            *n += 1;
            *n
        };
        let stored = self.stored.get_or_insert_with(|| readable_by_grower(ctx));
        if let Some(code) = ctx
            .growers
            .get(id)
            .and_then(|g| stored.get(&(g.id, village.id)))
            .and_then(|codes| codes.get(k - 1))
        {
            return code.clone();
        }
        self.villages
            .entry(village.id)
            .or_insert_with(|| {
                let prefix = format!("{}-", village.code);
                // Codes typed into another township's roster with this
                // village's prefix are taken too.
                let taken = ctx
                    .plots
                    .keys()
                    .filter(|c| c.starts_with(&prefix))
                    .chain(elsewhere.village_codes(village.id))
                    .cloned();
                VillageCodes::new(&village.code, taken)
            })
            .next(in_file)
    }
}

/// Every stored plot whose code is readable in its own village, grouped by
/// grower and village, in sequence order.
fn readable_by_grower(ctx: &Context) -> HashMap<(i64, i64), Vec<String>> {
    let village_codes: HashMap<i64, &str> = ctx
        .villages_by_code
        .values()
        .map(|v| (v.id, v.code.as_str()))
        .collect();
    let mut by: HashMap<(i64, i64), Vec<(u64, String)>> = HashMap::new();
    for p in ctx.plots.values() {
        let Some(village) = village_codes.get(&p.village_id) else {
            continue;
        };
        if let Some(n) = VillageCodes::sequence(village, &p.code) {
            by.entry((p.grower_id, p.village_id))
                .or_default()
                .push((n, p.code.clone()));
        }
    }
    by.into_iter()
        .map(|(key, mut codes)| {
            codes.sort_unstable();
            (key, codes.into_iter().map(|(_, c)| c).collect())
        })
        .collect()
}
