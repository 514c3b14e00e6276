//! Rows as stored. Money is integer fen (`Fen`), areas integer 1/10000 mu
//! (`Mu`), instants and days their fixed-width text (`Instant`, `Day`).

use super::schema::*;
use crate::domain::area::AreaLevel;
use crate::domain::claims::ClaimStatus;
use crate::domain::measure::Mu;
use crate::domain::money::Fen;
use crate::domain::policy::PolicyStatus;
use crate::domain::scheme::FundingLevel;
use crate::domain::time::{Day, Instant};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = areas)]
pub struct Area {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_id: Option<i64>,
    pub target_mu_units: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = areas)]
pub struct NewArea<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub level: AreaLevel,
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
    pub created_at: Instant,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = schemes)]
pub struct NewScheme<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub crop: &'a str,
    pub year: i32,
    pub definition: &'a str,
    pub created_at: Instant,
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
    pub created_at: Instant,
    pub must_change_password: bool,
    pub password_changed_at: Option<Instant>,
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
    pub created_at: Instant,
    pub must_change_password: bool,
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
    pub created_at: Instant,
    pub updated_at: Instant,
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
    #[serde(serialize_with = "super::stored::mu")]
    pub area_units: Mu,
    pub attributes: String,
    pub boundary: Option<String>,
    #[serde(serialize_with = "super::stored::option_mu")]
    pub boundary_area_units: Option<Mu>,
    pub eligible: bool,
    pub reasons: String,
    pub version: i32,
    pub created_at: Instant,
    pub updated_at: Instant,
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
    #[serde(serialize_with = "super::stored::mu")]
    pub area_units: Mu,
    pub attributes: String,
    pub boundary: Option<String>,
    #[serde(serialize_with = "super::stored::option_mu")]
    pub boundary_area_units: Option<Mu>,
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
    pub status: PolicyStatus,
    #[serde(serialize_with = "super::stored::mu")]
    pub insured_area_units: Mu,
    #[serde(serialize_with = "super::stored::fen")]
    pub sum_insured_fen: Fen,
    #[serde(serialize_with = "super::stored::fen")]
    pub premium_fen: Fen,
    #[serde(serialize_with = "super::stored::fen")]
    pub grower_share_fen: Fen,
    #[serde(serialize_with = "super::stored::fen")]
    pub subsidy_fen: Fen,
    pub share_collected_on: Option<Day>,
    pub cover_start: Option<Day>,
    pub cover_end: Option<Day>,
    pub batch_id: Option<i64>,
    pub version: i32,
    pub created_at: Instant,
    pub updated_at: Instant,
    /// The subsidy per funding level; `None` where the scheme does not fund it.
    #[serde(serialize_with = "super::stored::option_fen")]
    pub subsidy_central_fen: Option<Fen>,
    #[serde(serialize_with = "super::stored::option_fen")]
    pub subsidy_provincial_fen: Option<Fen>,
    #[serde(serialize_with = "super::stored::option_fen")]
    pub subsidy_city_fen: Option<Fen>,
    #[serde(serialize_with = "super::stored::option_fen")]
    pub subsidy_county_fen: Option<Fen>,
}

impl Policy {
    /// One funding level's part of the subsidy.
    pub fn level(&self, level: FundingLevel) -> Option<Fen> {
        match level {
            FundingLevel::Central => self.subsidy_central_fen,
            FundingLevel::Provincial => self.subsidy_provincial_fen,
            FundingLevel::City => self.subsidy_city_fen,
            FundingLevel::County => self.subsidy_county_fen,
        }
    }

    /// The levels this policy has an amount for, in `FundingLevel::ALL` order.
    pub fn levels(&self) -> Vec<(FundingLevel, Fen)> {
        FundingLevel::ALL
            .into_iter()
            .filter_map(|l| Some((l, self.level(l)?)))
            .collect()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = premium_batches)]
pub struct PremiumBatch {
    pub id: i64,
    pub township_id: i64,
    pub scheme_id: i64,
    #[serde(serialize_with = "super::stored::fen")]
    pub amount_fen: Fen,
    pub policy_count: i32,
    pub handed_over_on: Day,
    pub receipt_no: String,
    pub created_by: Option<i64>,
    pub created_at: Instant,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Instant,
    pub user_id: Option<i64>,
    pub username: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    /// The peer address of the request (none for the CLI and the system).
    pub client_addr: Option<String>,
    /// The chain (see `db::audit_chain`): the previous row's hash and this one's.
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = claims)]
pub struct Claim {
    pub id: i64,
    pub claim_no: String,
    pub scheme_id: i64,
    pub policy_id: i64,
    pub plot_id: i64,
    pub grower_id: i64,
    pub township_id: i64,
    pub event_id: Option<i64>,
    pub peril: String,
    pub occurred_at: Instant,
    pub reported_at: Instant,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub report_channel: String,
    pub description: String,
    pub status: ClaimStatus,
    pub decline_code: Option<String>,
    pub decline_reason: Option<String>,
    pub survey_due_at: Instant,
    pub adjuster_id: Option<i64>,
    pub co_surveyor_id: Option<i64>,
    pub dispatched_at: Option<Instant>,
    pub surveyed_at: Option<Instant>,
    /// Audit entries keep money as integer fen, as they always have.
    #[serde(serialize_with = "fen_units_opt")]
    pub payout_fen: Option<Fen>,
    pub review_note: String,
    pub approved_at: Option<Instant>,
    pub agreed_on: Option<Day>,
    pub payment_due_on: Option<Day>,
    #[serde(serialize_with = "fen_units")]
    pub paid_fen: Fen,
    pub version: i32,
    pub created_at: Instant,
    pub updated_at: Instant,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = claims)]
pub struct NewClaim {
    pub claim_no: String,
    pub scheme_id: i64,
    pub policy_id: i64,
    pub plot_id: i64,
    pub grower_id: i64,
    pub township_id: i64,
    pub event_id: Option<i64>,
    pub peril: String,
    pub occurred_at: Instant,
    pub reported_at: Instant,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub report_channel: String,
    pub description: String,
    pub status: ClaimStatus,
    pub decline_code: Option<String>,
    pub decline_reason: Option<String>,
    pub survey_due_at: Instant,
    pub created_at: Instant,
    pub updated_at: Instant,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize, Insertable)]
#[diesel(table_name = claim_surveys)]
pub struct ClaimSurvey {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub claim_id: i64,
    pub client_id: String,
    pub surveyed_at: Instant,
    pub received_at: Instant,
    pub latitude: String,
    pub longitude: String,
    pub accuracy_m: Option<i32>,
    pub location_check: String,
    pub distance_m: i32,
    pub damaged_trees: i32,
    pub affected_area_units: Mu,
    pub loss_rate_bp: i64,
    pub payout_fen: Fen,
    pub payout_detail: String,
    pub adjuster_id: i64,
    pub co_surveyor_id: i64,
    pub grower_signed_name: String,
    #[serde(skip)]
    pub grower_signature: String,
    pub notes: String,
    pub submitted_by: Option<i64>,
}

/// A photo without its bytes.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = claim_photos)]
pub struct ClaimPhotoMeta {
    pub id: i64,
    pub claim_id: i64,
    pub client_id: String,
    pub sha256: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub original_sha256: Option<String>,
    pub reused_claim_id: Option<i64>,
    pub uploaded_by: Option<i64>,
    pub created_at: Instant,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = claim_payments)]
pub struct ClaimPayment {
    pub id: i64,
    pub claim_id: i64,
    pub amount_fen: Fen,
    pub paid_on: Day,
    pub bank_reference: String,
    pub created_by: Option<i64>,
    pub created_at: Instant,
}

fn fen_units<S: serde::Serializer>(f: &Fen, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(f.0)
}

fn fen_units_opt<S: serde::Serializer>(f: &Option<Fen>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) => fen_units(f, s),
        None => s.serialize_none(),
    }
}
