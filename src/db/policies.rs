//! Policy queries written more than once.

use super::schema::policies;
use super::DbConn;
use crate::domain::measure::Mu;
use crate::domain::money::Fen;
use crate::domain::policy::PolicyStatus;
use crate::domain::premium::Quote;
use crate::domain::scheme::FundingLevel;
use diesel::dsl::Eq;
use diesel::prelude::*;

/// A policy's insured area and money, as one set of column values.
pub type Priced = (
    Eq<policies::insured_area_units, Mu>,
    Eq<policies::sum_insured_fen, Fen>,
    Eq<policies::premium_fen, Fen>,
    Eq<policies::grower_share_fen, Fen>,
    Eq<policies::subsidy_fen, Fen>,
    Eq<policies::subsidy_central_fen, Option<Fen>>,
    Eq<policies::subsidy_provincial_fen, Option<Fen>>,
    Eq<policies::subsidy_city_fen, Option<Fen>>,
    Eq<policies::subsidy_county_fen, Option<Fen>>,
);

/// The columns a quote sets, for an update.
pub fn priced(q: &Quote) -> Priced {
    (
        policies::insured_area_units.eq(q.mu),
        policies::sum_insured_fen.eq(q.sum_insured),
        policies::premium_fen.eq(q.premium),
        policies::grower_share_fen.eq(q.grower_share),
        policies::subsidy_fen.eq(q.subsidy),
        policies::subsidy_central_fen.eq(q.level(FundingLevel::Central)),
        policies::subsidy_provincial_fen.eq(q.level(FundingLevel::Provincial)),
        policies::subsidy_city_fen.eq(q.level(FundingLevel::City)),
        policies::subsidy_county_fen.eq(q.level(FundingLevel::County)),
    )
}

/// The column holding one funding level's part of a policy's subsidy, for
/// queries that sum or pick it by level.
pub const fn level_column(level: FundingLevel) -> &'static str {
    match level {
        FundingLevel::Central => "subsidy_central_fen",
        FundingLevel::Provincial => "subsidy_provincial_fen",
        FundingLevel::City => "subsidy_city_fen",
        FundingLevel::County => "subsidy_county_fen",
    }
}

/// A new policy row, for one insert or a bulk copy: every column but the id,
/// a level the scheme does not fund stored as NULL.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = policies, treat_none_as_default_value = false)]
pub struct NewPolicy<'a> {
    pub policy_no: String,
    pub scheme_id: i64,
    pub grower_id: i64,
    pub township_id: i64,
    pub status: PolicyStatus,
    pub insured_area_units: Mu,
    pub sum_insured_fen: Fen,
    pub premium_fen: Fen,
    pub grower_share_fen: Fen,
    pub subsidy_fen: Fen,
    pub subsidy_central_fen: Option<Fen>,
    pub subsidy_provincial_fen: Option<Fen>,
    pub subsidy_city_fen: Option<Fen>,
    pub subsidy_county_fen: Option<Fen>,
    pub share_collected_on: Option<&'a str>,
    pub cover_start: Option<&'a str>,
    pub cover_end: Option<&'a str>,
    pub batch_id: Option<i64>,
    pub version: i32,
    pub created_at: &'a str,
    pub updated_at: &'a str,
}

impl<'a> NewPolicy<'a> {
    /// Columns a `NewPolicy` writes, for `bulk_copy!`.
    pub const COLUMNS: usize = 21;

    /// A draft policy priced by `q`.
    pub fn draft(
        policy_no: String,
        scheme_id: i64,
        grower_id: i64,
        township_id: i64,
        q: &Quote,
        now: &'a str,
    ) -> NewPolicy<'a> {
        NewPolicy {
            policy_no,
            scheme_id,
            grower_id,
            township_id,
            status: PolicyStatus::Draft,
            insured_area_units: q.mu,
            sum_insured_fen: q.sum_insured,
            premium_fen: q.premium,
            grower_share_fen: q.grower_share,
            subsidy_fen: q.subsidy,
            subsidy_central_fen: q.level(FundingLevel::Central),
            subsidy_provincial_fen: q.level(FundingLevel::Provincial),
            subsidy_city_fen: q.level(FundingLevel::City),
            subsidy_county_fen: q.level(FundingLevel::County),
            share_collected_on: None,
            cover_start: None,
            cover_end: None,
            batch_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Delete policies (their subsidy levels are columns of the row).
pub fn delete(conn: &mut DbConn, ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(policies::table.filter(policies::id.eq_any(ids))).execute(conn)
}

/// The temporary table `reprice_many` fills (see `db::update_from`).
mod changes {
    diesel::table! {
        policy_changes (id) {
            id -> BigInt,
            insured_area_units -> BigInt,
            sum_insured_fen -> BigInt,
            premium_fen -> BigInt,
            grower_share_fen -> BigInt,
            subsidy_fen -> BigInt,
            subsidy_central_fen -> Nullable<BigInt>,
            subsidy_provincial_fen -> Nullable<BigInt>,
            subsidy_city_fen -> Nullable<BigInt>,
            subsidy_county_fen -> Nullable<BigInt>,
            version -> Integer,
            updated_at -> Text,
        }
    }
}

/// Many policies repriced in one statement: (id, new quote, the version
/// they were read at) — the columns `priced` sets, the version and the
/// change instant.
pub fn reprice_many(
    conn: &mut DbConn,
    rows: &[(i64, &Quote, i32)],
    now: &str,
) -> QueryResult<usize> {
    use changes::policy_changes as t;
    if rows.is_empty() {
        return Ok(0);
    }
    let columns = [
        ("id", "BIGINT"),
        ("insured_area_units", "BIGINT"),
        ("sum_insured_fen", "BIGINT"),
        ("premium_fen", "BIGINT"),
        ("grower_share_fen", "BIGINT"),
        ("subsidy_fen", "BIGINT"),
        ("subsidy_central_fen", "BIGINT"),
        ("subsidy_provincial_fen", "BIGINT"),
        ("subsidy_city_fen", "BIGINT"),
        ("subsidy_county_fen", "BIGINT"),
        ("version", "INTEGER"),
        ("updated_at", "TEXT"),
    ];
    super::update_from(conn, "policies", "policy_changes", &columns, |conn| {
        let values: Vec<_> = rows
            .iter()
            .map(|(id, q, version)| {
                (
                    t::id.eq(*id),
                    t::insured_area_units.eq(q.mu),
                    t::sum_insured_fen.eq(q.sum_insured),
                    t::premium_fen.eq(q.premium),
                    t::grower_share_fen.eq(q.grower_share),
                    t::subsidy_fen.eq(q.subsidy),
                    t::subsidy_central_fen.eq(q.level(FundingLevel::Central)),
                    t::subsidy_provincial_fen.eq(q.level(FundingLevel::Provincial)),
                    t::subsidy_city_fen.eq(q.level(FundingLevel::City)),
                    t::subsidy_county_fen.eq(q.level(FundingLevel::County)),
                    t::version.eq(version + 1),
                    t::updated_at.eq(now),
                )
            })
            .collect();
        crate::bulk_copy!(conn, t::table, values, 12)
    })
}

/// What a policy's view shows besides the policy itself: its scheme, its
/// grower's name and ID number, its township's name and the receipt of the
/// premium batch it was collected in.
pub type Shown = (
    super::models::SchemeRow,
    String,
    String,
    String,
    Option<String>,
);

/// The policy `id` if it lies within `within` (`None`: the whole county),
/// with what its view shows, in one statement: a policy read is the
/// caller's token and this, two round trips to the database.
pub fn shown(
    conn: &mut DbConn,
    id: i64,
    within: super::scope::Within,
) -> QueryResult<Option<(super::models::Policy, Shown)>> {
    use super::models::{Policy, SchemeRow};
    use super::schema::{areas, growers, premium_batches, schemes};
    let q = policies::table
        .inner_join(schemes::table.on(schemes::id.eq(policies::scheme_id)))
        .inner_join(growers::table.on(growers::id.eq(policies::grower_id)))
        .inner_join(areas::table.on(areas::id.eq(policies::township_id)))
        .left_join(premium_batches::table.on(premium_batches::id.nullable().eq(policies::batch_id)))
        .filter(policies::id.eq(id))
        .select((
            Policy::as_select(),
            (
                SchemeRow::as_select(),
                growers::name,
                growers::id_number,
                areas::name,
                premium_batches::receipt_no.nullable(),
            ),
        ));
    match within {
        Some(township) => q
            .filter(policies::township_id.eq(township))
            .first(conn)
            .optional(),
        None => q.first(conn).optional(),
    }
}
