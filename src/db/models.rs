//! Rows as stored. Money is integer fen, areas integer 1/10000 mu.

use super::schema::*;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = areas)]
pub struct Area {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_id: Option<i64>,
    pub target_mu_units: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = areas)]
pub struct NewArea<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub level: &'a str,
    pub parent_id: Option<i64>,
    pub target_mu_units: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = schemes)]
pub struct SchemeRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub crop: String,
    pub year: i32,
    pub definition: String,
    pub created_at: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = schemes)]
pub struct NewScheme<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub crop: &'a str,
    pub year: i32,
    pub definition: &'a str,
    pub created_at: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub township_id: Option<i64>,
    pub active: bool,
    pub created_at: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub township_id: Option<i64>,
    pub active: bool,
    pub created_at: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = growers)]
pub struct Grower {
    pub id: i64,
    pub year: i32,
    pub id_number: String,
    pub name: String,
    pub phone: String,
    pub bank_name: String,
    pub bank_account: String,
    pub village_id: i64,
    pub township_id: i64,
    pub version: i32,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = growers)]
pub struct GrowerValues {
    pub year: i32,
    pub id_number: String,
    pub name: String,
    pub phone: String,
    pub bank_name: String,
    pub bank_account: String,
    pub village_id: i64,
    pub township_id: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = plots)]
pub struct Plot {
    pub id: i64,
    pub code: String,
    pub grower_id: i64,
    pub scheme_id: i64,
    pub village_id: i64,
    pub township_id: i64,
    pub variety: String,
    pub tree_age: i32,
    pub tree_count: i32,
    pub fruit_per_tree: i32,
    pub area_units: i64,
    pub attributes: String,
    pub boundary: Option<String>,
    pub boundary_area_units: Option<i64>,
    pub eligible: bool,
    pub reasons: String,
    pub version: i32,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = plots, treat_none_as_null = true)]
pub struct PlotValues {
    pub code: String,
    pub grower_id: i64,
    pub scheme_id: i64,
    pub village_id: i64,
    pub township_id: i64,
    pub variety: String,
    pub tree_age: i32,
    pub tree_count: i32,
    pub fruit_per_tree: i32,
    pub area_units: i64,
    pub attributes: String,
    pub boundary: Option<String>,
    pub boundary_area_units: Option<i64>,
    pub eligible: bool,
    pub reasons: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = policies)]
pub struct Policy {
    pub id: i64,
    pub policy_no: String,
    pub scheme_id: i64,
    pub grower_id: i64,
    pub township_id: i64,
    pub status: String,
    pub insured_area_units: i64,
    pub sum_insured_fen: i64,
    pub premium_fen: i64,
    pub grower_share_fen: i64,
    pub subsidy_fen: i64,
    pub share_collected_on: Option<String>,
    pub cover_start: Option<String>,
    pub cover_end: Option<String>,
    pub batch_id: Option<i64>,
    pub version: i32,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = policy_subsidy_levels)]
pub struct PolicyLevel {
    pub id: i64,
    pub policy_id: i64,
    pub level: String,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = premium_batches)]
pub struct PremiumBatch {
    pub id: i64,
    pub township_id: i64,
    pub scheme_id: i64,
    pub amount_fen: i64,
    pub policy_count: i32,
    pub handed_over_on: String,
    pub receipt_no: String,
    pub created_by: Option<i64>,
    pub created_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub user_id: Option<i64>,
    pub username: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}
