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
#[serde(default)]
pub struct BatchInput {
    pub township_code: String,
    pub scheme: String,
    pub receipt_no: String,
    pub handed_over_on: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchView {
    pub id: i64,
    pub township_id: i64,
    pub township_name: String,
    pub scheme_code: String,
    pub scheme_name: String,
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
        scheme_name: scheme.def.name,
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

/// The receipt number and the hand-over date, checked before any reading.
fn checked_input(input: &BatchInput, today: NaiveDate) -> AppResult<(String, NaiveDate)> {
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
    match date {
        Some(d) if errors.is_empty() => Ok((receipt, d)),
        _ => Err(AppError::Validation(errors)),
    }
}

fn receipt_free(conn: &mut DbConn, receipt: &str) -> AppResult<()> {
    let taken: i64 = premium_batches::table
        .filter(premium_batches::receipt_no.eq(receipt))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict(
            ErrorCode::ReceiptNoDuplicate,
            format!("收据号{receipt}已使用"),
        ));
    }
    Ok(())
}

/// Write the batch of `list` (policies of one township, collected and not
/// handed over), mark them, and audit it with the policy ids.
fn write_batch(
    conn: &mut DbConn,
    actor: &Actor,
    township_id: i64,
    scheme_id: i64,
    receipt: &str,
    date: NaiveDate,
    list: &[Policy],
) -> AppResult<BatchView> {
    receipt_free(conn, receipt)?;
    let amount: Fen = list.iter().map(|p| p.grower_share_fen).sum();
    let id: i64 = diesel::insert_into(premium_batches::table)
        .values((
            premium_batches::township_id.eq(township_id),
            premium_batches::scheme_id.eq(scheme_id),
            premium_batches::amount_fen.eq(amount.0),
            premium_batches::policy_count.eq(list.len() as i32),
            premium_batches::handed_over_on.eq(date.format("%Y-%m-%d").to_string()),
            premium_batches::receipt_no.eq(receipt),
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
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BatchInput,
    today: NaiveDate,
) -> AppResult<BatchView> {
    actor.require(actor.can_collect_premium())?;
    let (receipt, date) = checked_input(input, today)?;
    super::tx(conn, |conn| {
        let township = super::areas::township_or_own(conn, actor, &input.township_code)?;
        let scheme = if input.scheme.trim().is_empty() {
            super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?
        } else {
            super::schemes::by_code(conn, &input.scheme)?
        };
        receipt_free(conn, &receipt)?;
        let list = pending(conn, township.id, scheme.id)?;
        if list.is_empty() {
            return Err(AppError::conflict(
                ErrorCode::BatchEmpty,
                format!("{}没有已收费且未交付的保单", township.name),
            ));
        }
        write_batch(conn, actor, township.id, scheme.id, &receipt, date, &list)
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

/// One selected policy in a hand-over preview: taken into the batch, or why not.
#[derive(Debug, Clone, Serialize)]
pub struct HandoverLine {
    pub id: i64,
    pub policy_no: String,
    pub grower_share: Fen,
    pub ok: bool,
    pub message: Option<String>,
}

/// The preview or the result of a hand-over batch from a selection.
#[derive(Debug, Clone, Serialize)]
pub struct Handover {
    /// False for a preview: nothing was written.
    pub committed: bool,
    /// Policies taken into the batch and their growers' shares.
    pub count: usize,
    pub amount: Fen,
    pub refused: usize,
    pub township_name: String,
    pub lines: Vec<HandoverLine>,
    /// The batch written (only when committed).
    pub batch: Option<BatchView>,
}

/// Why a selected policy can't go into a hand-over batch of `scheme_id`.
fn handover_refusal(p: &Policy, scheme_id: i64) -> Option<String> {
    if p.scheme_id != scheme_id {
        return Some(format!("保单{}不属于本险种方案", p.policy_no));
    }
    if !matches!(p.status, PolicyStatus::Collected | PolicyStatus::Issued) {
        return Some(format!(
            "保单{}状态为{}，没有已收取的农户自缴保费可交付",
            p.policy_no,
            p.status.name()
        ));
    }
    if p.batch_id.is_some() {
        return Some(format!("保单{}的保费已在其他交付批次中", p.policy_no));
    }
    None
}

/// A hand-over batch of the selected policies (ticked, or every collected
/// and not handed-over policy matching a filter): the ones that may go in
/// are written as one batch through the same writing, receipt check and
/// audit as [`create`]; the others are listed with the reason. With
/// `commit` false the same run is rolled back: a preview.
pub fn create_selected(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BatchInput,
    sel: &crate::app::policies::select::Selection,
    today: NaiveDate,
    commit: bool,
) -> AppResult<Handover> {
    use crate::app::policies::select;
    actor.require(actor.can_collect_premium())?;
    if let select::Selection::Ids(ids) = sel {
        select::checked_ids(ids, "交付")?;
    }
    let (receipt, date) = checked_input(input, today)?;
    let work = |conn: &mut DbConn| -> AppResult<Handover> {
        let scheme = if input.scheme.trim().is_empty() {
            super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?
        } else {
            super::schemes::by_code(conn, &input.scheme)?
        };
        let ids = select::resolve(conn, actor, sel, select::TO_HAND_OVER, "交付")?;
        let found: std::collections::HashMap<i64, Policy> = policies::table
            .filter(policies::id.eq_any(&ids))
            .select(Policy::as_select())
            .load(conn)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut taken = Vec::new();
        let mut lines = Vec::with_capacity(ids.len());
        for id in &ids {
            let (policy_no, share, refusal) = match found.get(id) {
                None => (
                    String::new(),
                    Fen::ZERO,
                    Some(format!("未找到保单（编号{id}）")),
                ),
                Some(p) => (
                    p.policy_no.clone(),
                    p.grower_share_fen,
                    handover_refusal(p, scheme.id),
                ),
            };
            if let (None, Some(p)) = (&refusal, found.get(id)) {
                taken.push(p.clone());
            }
            lines.push(HandoverLine {
                id: *id,
                policy_no,
                grower_share: share,
                ok: refusal.is_none(),
                message: refusal,
            });
        }
        let townships: std::collections::BTreeSet<i64> =
            taken.iter().map(|p| p.township_id).collect();
        if townships.len() > 1 {
            return Err(AppError::invalid(
                "ids",
                ErrorCode::BatchMixedTownships,
                format!(
                    "所选保单来自{}个乡镇，一个交付批次只能包含同一乡镇的保单，请按乡镇筛选",
                    townships.len()
                ),
            ));
        }
        let Some(&township_id) = townships.iter().next() else {
            return Err(AppError::conflict(
                ErrorCode::BatchEmpty,
                "所选保单中没有已收费且未交付的保单",
            ));
        };
        let township_name = super::areas::area_by_id(conn, township_id)?.name;
        let batch = write_batch(conn, actor, township_id, scheme.id, &receipt, date, &taken)?;
        Ok(Handover {
            committed: commit,
            count: taken.len(),
            amount: batch.amount,
            refused: lines.len() - taken.len(),
            township_name,
            lines,
            batch: commit.then_some(batch),
        })
    };
    if commit {
        super::tx(conn, work)
    } else {
        super::dry_run(conn, work)
    }
}
