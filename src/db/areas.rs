//! Queries of the county's areas (county, townships, villages) and of the
//! enrollment figures counted per township.
//!
//! `within` is the township a township-bound actor is restricted to (the
//! value of `Actor::township_scope()`); `None` means the whole county.

use super::models::{Area, NewArea};
use super::schema::{areas, growers, plots, policies};
use super::DbConn;
use crate::domain::area::AreaLevel;
use crate::domain::policy::PolicyStatus;
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::collections::HashMap;

/// The county (the first one, should a database hold more).
pub fn county(conn: &mut DbConn) -> QueryResult<Option<Area>> {
    areas::table
        .filter(areas::level.eq(AreaLevel::County))
        .order(areas::id)
        .select(Area::as_select())
        .first(conn)
        .optional()
}

/// Townships within `within`, by code.
pub fn townships(conn: &mut DbConn, within: Option<i64>) -> QueryResult<Vec<Area>> {
    let mut q = areas::table
        .filter(areas::level.eq(AreaLevel::Township))
        .into_boxed();
    if let Some(t) = within {
        q = q.filter(areas::id.eq(t));
    }
    q.order(areas::code).select(Area::as_select()).load(conn)
}

/// Villages within `within` and, if given, of one township, by code.
pub fn villages(
    conn: &mut DbConn,
    within: Option<i64>,
    township_id: Option<i64>,
) -> QueryResult<Vec<Area>> {
    let mut q = areas::table
        .filter(areas::level.eq(AreaLevel::Village))
        .into_boxed();
    for t in within.into_iter().chain(township_id) {
        q = q.filter(areas::parent_id.eq(t));
    }
    q.order(areas::code).select(Area::as_select()).load(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Area>> {
    areas::table
        .find(id)
        .select(Area::as_select())
        .first(conn)
        .optional()
}

/// The township `id`, if it is one and lies within `within`.
pub fn township(conn: &mut DbConn, id: i64, within: Option<i64>) -> QueryResult<Option<Area>> {
    if within.is_some_and(|t| t != id) {
        return Ok(None);
    }
    areas::table
        .find(id)
        .filter(areas::level.eq(AreaLevel::Township))
        .select(Area::as_select())
        .first(conn)
        .optional()
}

/// The id of the area of `level` with this division code.
pub fn id_by_code(conn: &mut DbConn, code: &str, level: AreaLevel) -> QueryResult<Option<i64>> {
    areas::table
        .filter(areas::code.eq(code))
        .filter(areas::level.eq(level))
        .select(areas::id)
        .first(conn)
        .optional()
}

/// Every area by id, for rendering lists without a join per row.
pub fn all_by_id(conn: &mut DbConn) -> QueryResult<HashMap<i64, Area>> {
    Ok(areas::table
        .select(Area::as_select())
        .load(conn)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// The county `county`, its townships and their villages, by id: what an
/// import of one of its townships names (a province holds 23,000 areas).
pub fn of_county(conn: &mut DbConn, county: i64) -> QueryResult<HashMap<i64, Area>> {
    let t = diesel::alias!(areas as t);
    let townships = t
        .filter(t.field(areas::parent_id).eq(county))
        .select(t.field(areas::id).nullable());
    Ok(areas::table
        .filter(
            areas::id
                .eq(county)
                .or(areas::parent_id.eq(county))
                .or(areas::parent_id.eq_any(townships)),
        )
        .select(Area::as_select())
        .load::<Area>(conn)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// The areas with these ids, by id (unknown ids are left out), in chunks
/// below SQLite's variable limit.
pub fn by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, Area>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(900) {
        for a in areas::table
            .filter(areas::id.eq_any(chunk))
            .select(Area::as_select())
            .load(conn)?
        {
            out.insert(a.id, a);
        }
    }
    Ok(out)
}

pub fn code_taken(conn: &mut DbConn, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        areas::table.filter(areas::code.eq(code)),
    ))
    .get_result(conn)
}

/// Insert an area; its id.
pub fn insert(conn: &mut DbConn, area: &NewArea) -> QueryResult<i64> {
    diesel::insert_into(areas::table)
        .values(area)
        .returning(areas::id)
        .get_result(conn)
}

pub fn set_target(conn: &mut DbConn, id: i64, target_units: i64) -> QueryResult<usize> {
    diesel::update(areas::table.find(id))
        .set(areas::target_mu_units.eq(Some(target_units)))
        .execute(conn)
}

/// Per township: how many rows, and the sum of an integer column (mu units).
pub type CountAndUnits = HashMap<i64, (i64, i64)>;

fn count() -> SqlLiteral<BigInt> {
    sql::<BigInt>("COUNT(*)")
}

fn count_and_sum(column: &str) -> (SqlLiteral<BigInt>, SqlLiteral<BigInt>) {
    (
        count(),
        sql::<BigInt>(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)")),
    )
}

/// The enrollment figures of one scheme per township. Sums are of integer
/// units, so SQL may add them on both backends.
#[derive(Debug, Default)]
pub struct Enrollment {
    pub growers: HashMap<i64, i64>,
    pub plots: HashMap<i64, i64>,
    /// Eligible plots and their declared area.
    pub eligible: CountAndUnits,
    /// Policies not cancelled and their insured area.
    pub insured: CountAndUnits,
}

pub fn enrollment(conn: &mut DbConn, scheme_id: i64, year: i32) -> QueryResult<Enrollment> {
    Ok(Enrollment {
        growers: growers::table
            .filter(growers::year.eq(year))
            .group_by(growers::township_id)
            .select((growers::township_id, count()))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect(),
        plots: plots::table
            .filter(plots::scheme_id.eq(scheme_id))
            .group_by(plots::township_id)
            .select((plots::township_id, count()))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect(),
        eligible: plots::table
            .filter(plots::scheme_id.eq(scheme_id))
            .filter(plots::eligible.eq(true))
            .group_by(plots::township_id)
            .select((plots::township_id, count_and_sum("area_units")))
            .load::<(i64, (i64, i64))>(conn)?
            .into_iter()
            .collect(),
        insured: policies::table
            .filter(policies::scheme_id.eq(scheme_id))
            .filter(policies::status.ne(PolicyStatus::Cancelled))
            .group_by(policies::township_id)
            .select((policies::township_id, count_and_sum("insured_area_units")))
            .load::<(i64, (i64, i64))>(conn)?
            .into_iter()
            .collect(),
    })
}
