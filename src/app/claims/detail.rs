//! One claim in full for its page and the API: surveys, photos, payments
//! and what is left of the sum insured.

use super::photos::reused_no;
use super::views::{personal, Names, Related};
use super::*;
use crate::app::Actor;
use crate::db::claims as rows;
use crate::db::models::ClaimSurvey;
use crate::db::DbConn;
use crate::domain::claims::{LossRate, Payout};
use crate::domain::time::Day;
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult};
use diesel::prelude::*;
use serde::Serialize;

// ---------------------------------------------------------------- reading

#[derive(Debug, Clone, Serialize)]
pub struct SurveyView {
    pub id: i64,
    pub client_id: String,
    pub surveyed_at: String,
    pub received_at: String,
    pub latitude: String,
    pub longitude: String,
    pub accuracy_m: Option<i32>,
    pub location_check: String,
    pub location_label: String,
    pub distance_m: i32,
    pub damaged_trees: i32,
    pub affected_mu: Mu,
    pub loss_rate: LossRate,
    pub payout: Fen,
    pub rule: String,
    pub capped: bool,
    pub adjuster: Option<String>,
    pub co_surveyor: Option<String>,
    pub grower_signed_name: String,
    pub has_signature: bool,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    pub id: i64,
    pub sha256: String,
    pub size_kb: i64,
    pub content_type: String,
    /// Pixels (unknown for a photo not yet moved out of the database).
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// The SHA-256 of the photo as taken when the tablet sent a shrunk copy.
    pub original_sha256: Option<String>,
    pub reused_claim_no: Option<String>,
    pub reused_note: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentView {
    pub amount: Fen,
    pub paid_on: Day,
    pub bank_reference: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimDetail {
    pub claim: ClaimView,
    pub surveys: Vec<SurveyView>,
    pub photos: Vec<PhotoView>,
    pub payments: Vec<PaymentView>,
    pub sum_insured: Fen,
    pub remaining_sum: Fen,
    /// The plot's polygon (GeoJSON) for the survey page's position check.
    pub plot_boundary: Option<String>,
    pub tree_count: i32,
    pub max_distance_m: u32,
    pub bank_name: String,
    pub bank_account: String,
    /// Why the reporter recorded a second claim for the plot on the same
    /// day (`None` for an ordinary report).
    pub duplicate_reason: Option<String>,
}

/// The fields of a claim's page that are personal data.
pub const PERSONAL_FIELDS: [&str; 4] = [
    "grower_id_number",
    "grower_phone",
    "reporter_phone",
    "bank_account",
];

/// The claim's page and `GET /api/v1/claims/{id}`: personal data in full for
/// a role that sees it, and that read is audited.
pub fn detail(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<ClaimDetail> {
    let full = actor.sees_personal_data();
    let d = detail_as(conn, actor, id, full)?;
    if full {
        crate::app::audit::accessed(conn, actor, "claim", id, &PERSONAL_FIELDS)?;
    }
    Ok(d)
}

/// The claim for the survey page, which shows no personal data: masked.
pub fn detail_masked(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<ClaimDetail> {
    detail_as(conn, actor, id, false)
}

fn detail_as(conn: &mut DbConn, actor: &Actor, id: i64, full: bool) -> AppResult<ClaimDetail> {
    let c = get_scoped(conn, actor, id)?;
    let surveys = rows::surveys_of(conn, c.id)?;
    let surveyors: Vec<i64> = surveys
        .iter()
        .flat_map(|s| [s.adjuster_id, s.co_surveyor_id])
        .collect();
    let one = std::slice::from_ref(&c);
    let related = Related::of(conn, one)?;
    let names = Names::for_claims(conn, one, &related, &surveyors)?;
    let cv = super::views::view_from(&names, &related, actor, &c, full)?;
    let photos = rows::photos_of(conn, c.id)?;
    let payments = rows::payments_of(conn, c.id)?;
    let (p, g, plot) = related.get(&c)?;
    let scheme = names
        .schemes
        .get(&c.scheme_id)
        .ok_or_else(|| AppError::Internal("claim scheme missing".into()))?;
    let mut photo_views = Vec::with_capacity(photos.len());
    for x in photos {
        let (reused_claim_no, reused_note) = reused_no(conn, actor, x.reused_claim_id)?;
        photo_views.push(PhotoView {
            id: x.id,
            sha256: x.sha256,
            size_kb: (x.size_bytes + 1023) / 1024,
            content_type: x.content_type,
            width: x.width,
            height: x.height,
            original_sha256: x.original_sha256,
            reused_claim_no,
            reused_note,
            created_at: x.created_at.display(),
        });
    }
    let remaining = remaining_sum(conn, &c)?;
    let duplicate_reason: Option<String> = {
        use crate::db::schema::claim_report_marks as m;
        m::table
            .filter(m::claim_id.eq(c.id))
            .select(m::duplicate_reason)
            .first::<Option<String>>(conn)
            .optional()?
            .flatten()
    };
    Ok(ClaimDetail {
        claim: cv,
        surveys: surveys
            .into_iter()
            .map(|s| survey_view(&names, s))
            .collect(),
        photos: photo_views,
        payments: payments
            .into_iter()
            .map(|x| PaymentView {
                amount: x.amount_fen,
                paid_on: x.paid_on,
                bank_reference: x.bank_reference,
            })
            .collect(),
        sum_insured: p.sum_insured_fen,
        remaining_sum: remaining,
        plot_boundary: plot.boundary.clone(),
        tree_count: plot.tree_count,
        max_distance_m: scheme.claim_rules.max_distance_m,
        bank_name: g.bank_name.clone(),
        bank_account: personal(full, &g.bank_account, mask_account),
        duplicate_reason,
    })
}

fn survey_view(names: &Names, s: ClaimSurvey) -> SurveyView {
    let detail: Option<Payout> = serde_json::from_str(&s.payout_detail).ok();
    SurveyView {
        id: s.id,
        client_id: s.client_id,
        surveyed_at: s.surveyed_at.display(),
        received_at: s.received_at.display(),
        latitude: s.latitude,
        longitude: s.longitude,
        accuracy_m: s.accuracy_m,
        location_label: location_label(&s.location_check).to_string(),
        location_check: s.location_check,
        distance_m: s.distance_m,
        damaged_trees: s.damaged_trees,
        affected_mu: s.affected_area_units,
        loss_rate: LossRate::from_bp(s.loss_rate_bp),
        payout: s.payout_fen,
        rule: detail
            .as_ref()
            .map(|d| d.rule.name().to_string())
            .unwrap_or_default(),
        capped: detail.map(|d| d.capped).unwrap_or(false),
        adjuster: names.user(Some(s.adjuster_id)),
        co_surveyor: names.user(Some(s.co_surveyor_id)),
        grower_signed_name: s.grower_signed_name,
        has_signature: !s.grower_signature.is_empty(),
        notes: s.notes,
    }
}

fn location_label(check: &str) -> &'static str {
    match check {
        "inside" => "在地块范围内",
        "near" => "在地块附近（允许范围内）",
        _ => "地块未上传边界，无法核对位置",
    }
}
