//! What the fraud and quality checks (`app::checks`) read: narrow rows of
//! growers, plots, policies, claims, surveys and photos (never a photo's
//! bytes), county-wide. The checks compare records across townships, so
//! they read everything and the use case scopes what it shows.

use super::schema::{claim_photos, claim_surveys, claims, growers, plots, policies, users};
use super::DbConn;
use crate::domain::measure::Mu;
use crate::domain::policy::PolicyStatus;
use crate::domain::time::Instant;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable)]
pub struct GrowerRow {
    pub id: i64,
    pub year: i32,
    pub id_number: String,
    pub name: String,
    pub phone: String,
    pub bank_account: String,
    pub township_id: i64,
}

#[derive(Debug, Clone, Queryable)]
pub struct PlotRow {
    pub id: i64,
    pub code: String,
    pub grower_id: i64,
    pub scheme_id: i64,
    pub township_id: i64,
    pub area_units: Mu,
    pub boundary: Option<String>,
    pub boundary_area_units: Option<Mu>,
}

#[derive(Debug, Clone, Queryable)]
pub struct PolicyRow {
    pub id: i64,
    pub policy_no: String,
    pub scheme_id: i64,
    pub grower_id: i64,
    pub township_id: i64,
    pub insured_area_units: Mu,
}

#[derive(Debug, Clone, Queryable)]
pub struct ClaimRow {
    pub id: i64,
    pub claim_no: String,
    pub scheme_id: i64,
    pub policy_id: i64,
    pub plot_id: i64,
    pub grower_id: i64,
    pub township_id: i64,
    pub occurred_at: Instant,
    pub reported_at: Instant,
}

#[derive(Debug, Clone, Queryable)]
pub struct SurveyRow {
    pub claim_id: i64,
    pub latitude: String,
    pub longitude: String,
    pub location_check: String,
    pub distance_m: i32,
    pub adjuster_id: i64,
}

#[derive(Debug, Clone, Queryable)]
pub struct PhotoRow {
    pub claim_id: i64,
    pub sha256: String,
    pub reused_claim_id: Option<i64>,
}

pub fn growers(conn: &mut DbConn) -> QueryResult<Vec<GrowerRow>> {
    growers::table
        .order(growers::id)
        .select((
            growers::id,
            growers::year,
            growers::id_number,
            growers::name,
            growers::phone,
            growers::bank_account,
            growers::township_id,
        ))
        .load(conn)
}

pub fn plots(conn: &mut DbConn) -> QueryResult<Vec<PlotRow>> {
    plots::table
        .order(plots::id)
        .select((
            plots::id,
            plots::code,
            plots::grower_id,
            plots::scheme_id,
            plots::township_id,
            plots::area_units,
            plots::boundary,
            plots::boundary_area_units,
        ))
        .load(conn)
}

/// Policies that insure something: all but the cancelled.
pub fn live_policies(conn: &mut DbConn) -> QueryResult<Vec<PolicyRow>> {
    policies::table
        .filter(policies::status.ne(PolicyStatus::Cancelled))
        .order(policies::id)
        .select((
            policies::id,
            policies::policy_no,
            policies::scheme_id,
            policies::grower_id,
            policies::township_id,
            policies::insured_area_units,
        ))
        .load(conn)
}

pub fn claims(conn: &mut DbConn) -> QueryResult<Vec<ClaimRow>> {
    claims::table
        .order(claims::id)
        .select((
            claims::id,
            claims::claim_no,
            claims::scheme_id,
            claims::policy_id,
            claims::plot_id,
            claims::grower_id,
            claims::township_id,
            claims::occurred_at,
            claims::reported_at,
        ))
        .load(conn)
}

pub fn surveys(conn: &mut DbConn) -> QueryResult<Vec<SurveyRow>> {
    claim_surveys::table
        .order(claim_surveys::id)
        .select((
            claim_surveys::claim_id,
            claim_surveys::latitude,
            claim_surveys::longitude,
            claim_surveys::location_check,
            claim_surveys::distance_m,
            claim_surveys::adjuster_id,
        ))
        .load(conn)
}

pub fn photos(conn: &mut DbConn) -> QueryResult<Vec<PhotoRow>> {
    claim_photos::table
        .order(claim_photos::id)
        .select((
            claim_photos::claim_id,
            claim_photos::sha256,
            claim_photos::reused_claim_id,
        ))
        .load(conn)
}

/// Display names of users by id (the adjusters of surveys).
pub fn user_names(conn: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
    users::table
        .select((users::id, users::display_name))
        .load(conn)
}
