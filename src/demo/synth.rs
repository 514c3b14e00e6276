//! Synthetic issued policies, written in bulk: the subsidy benchmark's
//! million policies and the property tests' thousands. Each policy's money
//! comes from the premium engine (`domain::premium::quote`), exactly as for a
//! real one; only the growers behind them are placeholders.

use crate::app::schemes::Scheme;
use crate::db::schema::{growers, policies, policy_subsidy_levels};
use crate::db::{now_text, DbConn};
use crate::domain::policy::PolicyStatus;
use crate::domain::premium::quote;
use crate::domain::Mu;
use crate::error::{AppError, AppResult, ErrorCode};
use diesel::prelude::*;

/// Insert the rows in one statement and read back, in order, the ids they
/// got: the ids above the largest one before (the synthetic load runs alone).
macro_rules! insert_and_read_ids {
    ($conn:expr, $table:ident, $values:expr) => {{
        let before: Option<i64> = $table::table
            .select(diesel::dsl::max($table::id))
            .first($conn)?;
        crate::bulk_insert!($conn, $table::table, $values)?;
        $table::table
            .filter($table::id.gt(before.unwrap_or(0)))
            .order($table::id)
            .select($table::id)
            .load::<i64>($conn)?
    }};
}

/// Where synthetic policies go: a township and one of its villages.
#[derive(Debug, Clone)]
pub struct Place {
    pub township_id: i64,
    pub village_id: i64,
    pub township_code: String,
}

/// Insert one issued policy per entry of `areas` (in 1/10000 mu), spread
/// round-robin over `places`. `tag` keeps numbers unique across calls.
pub fn insert_issued(
    conn: &mut DbConn,
    scheme: &Scheme,
    places: &[Place],
    areas: &[i64],
    tag: &str,
) -> AppResult<usize> {
    const CHUNK: usize = 1_500;
    if places.is_empty() {
        return Err(AppError::invalid(
            "places",
            ErrorCode::PlacesEmpty,
            "没有可用的乡镇和村，无法生成保单：请先建立至少一个村",
        ));
    }
    let rates = scheme.def.rates();
    let now = now_text();
    let start = scheme.def.term_start.format("%Y-%m-%d").to_string();
    let end = scheme.def.term_end.format("%Y-%m-%d").to_string();
    let mut written = 0;
    for (c, chunk) in areas.chunks(CHUNK).enumerate() {
        let base = c * CHUNK;
        // Round-robin over `places`, starting where this chunk starts.
        let chunk_places = || places.iter().cycle().skip(base % places.len());
        let gvalues: Vec<_> = chunk
            .iter()
            .zip(chunk_places())
            .enumerate()
            .map(|(i, (_, p))| {
                (
                    growers::year.eq(scheme.def.year),
                    growers::id_number.eq(format!("S{tag}{:09}", base + i)),
                    growers::name.eq(format!("农户{}", base + i)),
                    growers::phone.eq(""),
                    growers::bank_name.eq(""),
                    growers::bank_account.eq(""),
                    growers::village_id.eq(p.village_id),
                    growers::township_id.eq(p.township_id),
                    growers::version.eq(1),
                    growers::created_at.eq(now.clone()),
                    growers::updated_at.eq(now.clone()),
                )
            })
            .collect();
        let gids = insert_and_read_ids!(conn, growers, gvalues);
        if gids.len() != chunk.len() {
            return Err(AppError::Internal(format!(
                "生成的农户数不符：写入{}条，读回{}条",
                chunk.len(),
                gids.len()
            )));
        }
        let quotes: Vec<_> = chunk
            .iter()
            .map(|u| quote(&rates, Mu::from_units(*u)))
            .collect();
        let pvalues: Vec<_> = chunk
            .iter()
            .zip(&quotes)
            .zip(&gids)
            .zip(chunk_places())
            .enumerate()
            .map(|(i, (((u, q), gid), p))| {
                (
                    policies::policy_no.eq(format!(
                        "{}{}{tag}{:07}",
                        scheme.def.year,
                        p.township_code,
                        base + i
                    )),
                    policies::scheme_id.eq(scheme.id),
                    policies::grower_id.eq(*gid),
                    policies::township_id.eq(p.township_id),
                    policies::status.eq(PolicyStatus::Issued),
                    policies::insured_area_units.eq(*u),
                    policies::sum_insured_fen.eq(q.sum_insured.0),
                    policies::premium_fen.eq(q.premium.0),
                    policies::grower_share_fen.eq(q.grower_share.0),
                    policies::subsidy_fen.eq(q.subsidy.0),
                    policies::share_collected_on.eq(Some(start.clone())),
                    policies::cover_start.eq(Some(start.clone())),
                    policies::cover_end.eq(Some(end.clone())),
                    policies::version.eq(1),
                    policies::created_at.eq(now.clone()),
                    policies::updated_at.eq(now.clone()),
                )
            })
            .collect();
        let pids = insert_and_read_ids!(conn, policies, pvalues);
        let lvalues: Vec<_> = pids
            .iter()
            .zip(&quotes)
            .flat_map(|(id, q)| {
                q.subsidy_levels.iter().map(move |l| {
                    (
                        policy_subsidy_levels::policy_id.eq(*id),
                        policy_subsidy_levels::level.eq(l.level.clone()),
                        policy_subsidy_levels::amount_fen.eq(l.amount.0),
                    )
                })
            })
            .collect();
        for part in lvalues.chunks(CHUNK) {
            crate::bulk_insert!(conn, policy_subsidy_levels::table, part.to_vec())?;
        }
        written += chunk.len();
    }
    Ok(written)
}
