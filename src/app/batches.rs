//! Township premium batches: the growers' shares a station collected, handed
//! to the insurer together with one receipt.

use super::{audit, Actor};
use crate::app::clock::past_day;
use crate::db::models::{Policy, PremiumBatch};
use crate::db::schema::{policies, premium_batches};
use crate::db::{now_text, DbConn};
use crate::domain::policy::PolicyStatus;
use crate::domain::time::{Day, Instant};
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BatchInput {
    #[serde(default)]
    pub township_code: String,
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub receipt_no: String,
    #[serde(default)]
    pub handed_over_on: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchView {
    pub id: i64,
    pub township_id: i64,
    pub township_name: String,
    pub scheme_code: String,
    pub amount: Fen,
    pub policy_count: i32,
    pub handed_over_on: Day,
    pub receipt_no: String,
    pub created_at: Instant,
}

fn view(conn: &mut DbConn, b: &PremiumBatch) -> AppResult<BatchView> {
    let township = super::areas::area_by_id(conn, b.township_id)?;
    let scheme = super::schemes::by_id(conn, b.scheme_id)?;
    Ok(BatchView {
        id: b.id,
        township_id: b.township_id,
        township_name: township.name,
        scheme_code: scheme.def.code,
        amount: b.amount_fen,
        policy_count: b.policy_count,
        handed_over_on: b.handed_over_on,
        receipt_no: b.receipt_no.clone(),
        created_at: b.created_at,
    })
}

/// Policies whose share was collected but not yet handed over.
pub fn pending(conn: &mut DbConn, township_id: i64, scheme_id: i64) -> AppResult<Vec<Policy>> {
    Ok(policies::table
        .filter(policies::township_id.eq(township_id))
        .filter(policies::scheme_id.eq(scheme_id))
        .filter(policies::status.eq_any([PolicyStatus::Collected, PolicyStatus::Issued]))
        .filter(policies::batch_id.is_null())
        .order(policies::policy_no)
        .select(Policy::as_select())
        .load(conn)?)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BatchInput,
    today: NaiveDate,
) -> AppResult<BatchView> {
    actor.require(actor.can_collect_premium())?;
    let mut errors = Vec::new();
    let receipt = crate::domain::text::check(
        "收据号",
        &input.receipt_no,
        crate::domain::text::TextKind::Code,
    )
    .map_err(|p| errors.push(FieldError::new("receipt_no", p.code, p.message)))
    .unwrap_or_default();
    if receipt.is_empty() && errors.is_empty() {
        errors.push(FieldError::new(
            "receipt_no",
            ErrorCode::ReceiptNoRequired,
            "请填写收据号（不超过40个字符）",
        ));
    }
    let date = past_day("handed_over_on", "交付日期", &input.handed_over_on, today)
        .map_err(|e| errors.push(e))
        .ok();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    super::tx(conn, |conn| {
        let township = super::areas::township_or_own(conn, actor, &input.township_code)?;
        let scheme = if input.scheme.trim().is_empty() {
            super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?
        } else {
            super::schemes::by_code(conn, &input.scheme)?
        };
        let taken: i64 = premium_batches::table
            .filter(premium_batches::receipt_no.eq(&receipt))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AppError::conflict(
                ErrorCode::ReceiptNoDuplicate,
                format!("收据号{receipt}已使用"),
            ));
        }
        let list = pending(conn, township.id, scheme.id)?;
        if list.is_empty() {
            return Err(AppError::conflict(
                ErrorCode::BatchEmpty,
                format!("{}没有已收费且未交付的保单", township.name),
            ));
        }
        let amount: Fen = list.iter().map(|p| p.grower_share_fen).sum();
        let id: i64 = diesel::insert_into(premium_batches::table)
            .values((
                premium_batches::township_id.eq(township.id),
                premium_batches::scheme_id.eq(scheme.id),
                premium_batches::amount_fen.eq(amount.0),
                premium_batches::policy_count.eq(list.len() as i32),
                premium_batches::handed_over_on.eq(date
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()),
                premium_batches::receipt_no.eq(&receipt),
                premium_batches::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                premium_batches::created_at.eq(now_text()),
            ))
            .returning(premium_batches::id)
            .get_result(conn)?;
        let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
        diesel::update(policies::table.filter(policies::id.eq_any(&ids)))
            .set(policies::batch_id.eq(id))
            .execute(conn)?;
        let b: PremiumBatch = premium_batches::table
            .find(id)
            .select(PremiumBatch::as_select())
            .first(conn)?;
        let v = view(conn, &b)?;
        audit::record(
            conn,
            actor,
            "create",
            "premium_batch",
            id,
            None::<&()>,
            Some(&serde_json::json!({
                "batch": &v,
                "policy_ids": ids,
            })),
        )?;
        Ok(v)
    })
}

pub fn list(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<BatchView>> {
    let mut q = premium_batches::table.into_boxed();
    if let Some(t) = actor.township_scope() {
        q = q.filter(premium_batches::township_id.eq(t));
    }
    let rows: Vec<PremiumBatch> = q
        .order(premium_batches::id.desc())
        .select(PremiumBatch::as_select())
        .load(conn)?;
    rows.iter().map(|b| view(conn, b)).collect()
}
