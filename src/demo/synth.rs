//! Synthetic policies (issued, or in any other status), written in bulk: the subsidy benchmark's
//! million policies and the property tests' thousands. Each policy's money
//! comes from the premium engine (`domain::premium::quote`), exactly as for a
//! real one; only the growers behind them are placeholders.

use crate::app::schemes::Scheme;
use crate::db::policies::NewPolicy;
use crate::db::schema::{growers, policies};
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
    insert_policies(conn, scheme, places, areas, tag, PolicyStatus::Issued)
}

/// As `insert_issued`, with policies left in `status`: a draft has no
/// collection day and no cover, a collected one no cover; issued, expired
/// and cancelled ones have both.
pub fn insert_policies(
    conn: &mut DbConn,
    scheme: &Scheme,
    places: &[Place],
    areas: &[i64],
    tag: &str,
    status: PolicyStatus,
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
        let pvalues: Vec<_> = quotes
            .iter()
            .zip(&gids)
            .zip(chunk_places())
            .enumerate()
            .map(|(i, ((q, gid), p))| {
                let no = format!("{}{}{tag}{:07}", scheme.def.year, p.township_code, base + i);
                let collected = status != PolicyStatus::Draft;
                let covered = collected && status != PolicyStatus::Collected;
                NewPolicy {
                    status,
                    share_collected_on: collected.then_some(start.as_str()),
                    cover_start: covered.then_some(start.as_str()),
                    cover_end: covered.then_some(end.as_str()),
                    ..NewPolicy::draft(no, scheme.id, *gid, p.township_id, q, &now)
                }
            })
            .collect();
        crate::bulk_insert!(conn, policies::table, pvalues)?;
        written += chunk.len();
    }
    Ok(written)
}
