//! Growers' shares from collection to the insurer: what each township
//! collected, what it handed over in batches, what the insurer confirmed
//! receiving, and the differences between them.

use super::finance::scheme_or_current;
use super::{audit, Action, Actor};
use crate::app::clock::past_day;
use crate::db::schema::{policies, premium_batch_confirmations, premium_batches};
use crate::db::{now_text, DbConn};
use crate::domain::policy::PolicyStatus;
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Statuses whose grower share has been collected and not refunded.
const COLLECTED: [PolicyStatus; 3] = PolicyStatus::COLLECTED;

pub fn can_view(a: &Actor) -> bool {
    a.may(Action::ViewPremiumFlow)
}

/// The insurer confirms what it received.
pub fn can_confirm(a: &Actor) -> bool {
    a.may(Action::ConfirmPremium)
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FlowFigures {
    pub collected_policies: i64,
    pub collected: Fen,
    pub handed_over: Fen,
    pub confirmed: Fen,
    /// collected − handed over: still with the township.
    pub not_handed_over: Fen,
    /// handed over − confirmed: sent but not (yet) acknowledged.
    pub unconfirmed: Fen,
}

impl FlowFigures {
    fn new(n: i64, collected: i64, handed: i64, confirmed: i64) -> FlowFigures {
        FlowFigures {
            collected_policies: n,
            collected: Fen(collected),
            handed_over: Fen(handed),
            confirmed: Fen(confirmed),
            not_handed_over: Fen(collected - handed),
            unconfirmed: Fen(handed - confirmed),
        }
    }

    fn add(&mut self, o: &FlowFigures) {
        self.collected_policies += o.collected_policies;
        self.collected += o.collected;
        self.handed_over += o.handed_over;
        self.confirmed += o.confirmed;
        self.not_handed_over += o.not_handed_over;
        self.unconfirmed += o.unconfirmed;
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TownshipFlow {
    pub township_code: String,
    pub township_name: String,
    #[serde(flatten)]
    pub figures: FlowFigures,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchFlow {
    pub id: i64,
    pub receipt_no: String,
    pub township_name: String,
    pub handed_over_on: String,
    pub policy_count: i32,
    pub amount: Fen,
    pub confirmed: Option<Fen>,
    pub confirmed_on: Option<String>,
    /// confirmed − handed over, once confirmed.
    pub difference: Option<Fen>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PremiumFlow {
    pub scheme: String,
    pub townships: Vec<TownshipFlow>,
    pub totals: FlowFigures,
    pub batches: Vec<BatchFlow>,
}

pub fn overview(conn: &mut DbConn, actor: &Actor, scheme: &str) -> AppResult<PremiumFlow> {
    actor.require(can_view(actor))?;
    let scheme = scheme_or_current(conn, scheme)?;
    let towns = super::areas::townships(conn, actor)?;
    let collected: HashMap<i64, (i64, i64)> = policies::table
        .filter(policies::scheme_id.eq(scheme.id))
        .filter(policies::status.eq_any(COLLECTED))
        .group_by(policies::township_id)
        .select((
            policies::township_id,
            sql::<BigInt>("COUNT(*)"),
            sql::<BigInt>("CAST(COALESCE(SUM(grower_share_fen), 0) AS BIGINT)"),
        ))
        .load::<(i64, i64, i64)>(conn)?
        .into_iter()
        .map(|(t, n, a)| (t, (n, a)))
        .collect();
    let mut q = premium_batches::table
        .filter(premium_batches::scheme_id.eq(scheme.id))
        .into_boxed();
    if let Some(t) = actor.township_scope() {
        q = q.filter(premium_batches::township_id.eq(t));
    }
    let batches: Vec<(i64, i64, String, String, i32, i64)> = q
        .order(premium_batches::id)
        .select((
            premium_batches::id,
            premium_batches::township_id,
            premium_batches::receipt_no,
            premium_batches::handed_over_on,
            premium_batches::policy_count,
            premium_batches::amount_fen,
        ))
        .load(conn)?;
    let ids: Vec<i64> = batches.iter().map(|b| b.0).collect();
    let confirmations: HashMap<i64, (i64, String)> = premium_batch_confirmations::table
        .filter(premium_batch_confirmations::batch_id.eq_any(&ids))
        .select((
            premium_batch_confirmations::batch_id,
            premium_batch_confirmations::amount_fen,
            premium_batch_confirmations::confirmed_on,
        ))
        .load::<(i64, i64, String)>(conn)?
        .into_iter()
        .map(|(b, a, d)| (b, (a, d)))
        .collect();
    let mut handed: HashMap<i64, i64> = HashMap::new();
    let mut confirmed: HashMap<i64, i64> = HashMap::new();
    for (id, t, _, _, _, amount) in &batches {
        *handed.entry(*t).or_insert(0) += amount;
        if let Some((a, _)) = confirmations.get(id) {
            *confirmed.entry(*t).or_insert(0) += a;
        }
    }
    let names = super::areas::names(conn)?;
    let mut totals = FlowFigures::default();
    let townships = towns
        .iter()
        .map(|t| {
            let (n, c) = collected.get(&t.id).copied().unwrap_or_default();
            let f = FlowFigures::new(
                n,
                c,
                handed.get(&t.id).copied().unwrap_or(0),
                confirmed.get(&t.id).copied().unwrap_or(0),
            );
            totals.add(&f);
            TownshipFlow {
                township_code: t.code.clone(),
                township_name: t.name.clone(),
                figures: f,
            }
        })
        .collect();
    let batches = batches
        .into_iter()
        .map(|(id, t, receipt, on, n, amount)| {
            let conf = confirmations.get(&id);
            BatchFlow {
                id,
                receipt_no: receipt,
                township_name: names.get(&t).map(|a| a.name.clone()).unwrap_or_default(),
                handed_over_on: on,
                policy_count: n,
                amount: Fen(amount),
                confirmed: conf.map(|(a, _)| Fen(*a)),
                confirmed_on: conf.map(|(_, d)| d.clone()),
                difference: conf.map(|(a, _)| Fen(a - amount)),
            }
        })
        .collect();
    Ok(PremiumFlow {
        scheme: scheme.def.code.clone(),
        townships,
        totals,
        batches,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmInput {
    pub amount: String,
    pub confirmed_on: String,
    pub note: String,
}

/// The insurer confirms the amount it actually received for a batch; a
/// difference from the amount handed over stays visible.
pub fn confirm(
    conn: &mut DbConn,
    actor: &Actor,
    batch_id: i64,
    input: &ConfirmInput,
    today: NaiveDate,
) -> AppResult<BatchFlow> {
    actor.require(can_confirm(actor))?;
    let mut errors = Vec::new();
    let amount = Fen::parse(&input.amount)
        .map_err(|e| {
            errors.push(FieldError::new(
                "amount",
                ErrorCode::AmountInvalid,
                e.to_string(),
            ))
        })
        .unwrap_or_default();
    let note =
        crate::domain::text::check("备注", &input.note, crate::domain::text::TextKind::Notes)
            .map_err(|p| errors.push(FieldError::new("note", p.code, p.message)))
            .unwrap_or_default();
    let date = past_day("confirmed_on", "确认日期", &input.confirmed_on, today)
        .map_err(|e| errors.push(e))
        .ok();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    super::tx(conn, |conn| {
        let (scheme_id, receipt): (i64, String) = premium_batches::table
            .find(batch_id)
            .select((premium_batches::scheme_id, premium_batches::receipt_no))
            .first(conn)
            .optional()?
            .ok_or_else(|| AppError::not_found("保费交付批次"))?;
        let done: i64 = premium_batch_confirmations::table
            .filter(premium_batch_confirmations::batch_id.eq(batch_id))
            .count()
            .get_result(conn)?;
        if done > 0 {
            return Err(AppError::conflict(
                ErrorCode::BatchConfirmed,
                format!("批次{receipt}已经确认过，不能重复确认"),
            ));
        }
        let id: i64 = diesel::insert_into(premium_batch_confirmations::table)
            .values((
                premium_batch_confirmations::batch_id.eq(batch_id),
                premium_batch_confirmations::amount_fen.eq(amount.0),
                premium_batch_confirmations::confirmed_on.eq(date
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()),
                premium_batch_confirmations::note.eq(&note),
                premium_batch_confirmations::created_by
                    .eq((actor.user_id > 0).then_some(actor.user_id)),
                premium_batch_confirmations::created_at.eq(now_text()),
            ))
            .returning(premium_batch_confirmations::id)
            .get_result(conn)?;
        let code = super::schemes::by_id(conn, scheme_id)?.def.code;
        let flow = overview(conn, &Actor::system(), &code)?;
        let b = flow
            .batches
            .into_iter()
            .find(|b| b.id == batch_id)
            .ok_or_else(|| AppError::Internal("batch vanished".into()))?;
        audit::record(
            conn,
            actor,
            "confirm",
            "premium_batch",
            batch_id,
            None::<&()>,
            Some(&serde_json::json!({"confirmation_id": id, "batch": &b})),
        )?;
        Ok(b)
    })
}
