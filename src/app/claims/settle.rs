//! Settling a surveyed claim: approval or send-back, the grower's
//! agreement, and payment.

use super::access::{check_version, save, wrong_status};
use super::*;
use crate::app::clock::{china_date, from_text, to_text};
use crate::app::{audit, Actor, Role};
use crate::db::schema::{claim_payments, claim_surveys, claims};
use crate::db::DbConn;
use crate::domain::claims::Payout;
use crate::domain::measure::normalize_width;
use crate::domain::text::{self, TextKind};
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;

// ---------------------------------------------------------------- review, agreement, payment

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewInput {
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub note: String,
}

/// The underwriter approves the surveyed payout. A zero payout closes the claim.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &ReviewInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    crate::app::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        check_version(&c, input.version)?;
        if c.status != ClaimStatus::Surveyed {
            return Err(wrong_status(&c, "审核通过"));
        }
        // Another claim on the policy may have been approved since the survey.
        let remaining = remaining_sum(conn, &c)?.max(Fen::ZERO);
        let proposed = Fen(c.payout_fen.unwrap_or(0));
        // What the loss itself was worth, before the sum insured ran out.
        let assessed = claim_surveys::table
            .filter(claim_surveys::claim_id.eq(c.id))
            .order(claim_surveys::id.desc())
            .select(claim_surveys::payout_detail)
            .first::<String>(conn)
            .optional()?
            .and_then(|d| serde_json::from_str::<Payout>(&d).ok())
            .map(|d| d.computed)
            .unwrap_or(proposed);
        let amount = proposed.min(remaining);
        let mut note = input.note.trim().to_string();
        if amount < proposed {
            note = format!(
                "{note}{}赔款由{proposed}元调整为保单剩余保险金额{amount}元",
                if note.is_empty() { "" } else { "；" }
            );
        }
        let after = save(conn, actor, "approve", &c, now, |conn, id| {
            if amount == Fen::ZERO {
                diesel::update(claims::table.find(id))
                    .set((
                        claims::status.eq(ClaimStatus::Declined),
                        claims::decline_code.eq(if assessed == Fen::ZERO {
                            "below_threshold"
                        } else {
                            "sum_insured_exhausted"
                        }),
                        claims::decline_reason.eq(Some(format!(
                            "{}，赔款为0元{}",
                            if assessed == Fen::ZERO {
                                "经查勘定损，损失未达到起赔标准"
                            } else {
                                "保单保险金额已由其他赔案赔付完毕"
                            },
                            if note.is_empty() {
                                String::new()
                            } else {
                                format!("（{note}）")
                            }
                        ))),
                        claims::payout_fen.eq(Some(0)),
                        claims::review_note.eq(&note),
                        claims::approved_at.eq(to_text(now)),
                    ))
                    .execute(conn)
            } else {
                diesel::update(claims::table.find(id))
                    .set((
                        claims::status.eq(ClaimStatus::Approved),
                        claims::payout_fen.eq(Some(amount.0)),
                        claims::review_note.eq(&note),
                        claims::approved_at.eq(to_text(now)),
                    ))
                    .execute(conn)
            }
        })?;
        view(conn, actor, &after)
    })
}

/// Back to the surveyors with the reason; the survey stays on record.
pub fn send_back(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &ReviewInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    if input.note.trim().is_empty() {
        return Err(AppError::invalid(
            "note",
            ErrorCode::NoteMissing,
            "退回须写明原因，供查勘人员补充",
        ));
    }
    crate::app::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        check_version(&c, input.version)?;
        if c.status != ClaimStatus::Surveyed {
            return Err(wrong_status(&c, "退回重新查勘"));
        }
        let after = save(conn, actor, "send_back", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::status.eq(ClaimStatus::Dispatched),
                    claims::review_note.eq(input.note.trim()),
                    claims::payout_fen.eq(None::<i64>),
                ))
                .execute(conn)
        })?;
        view(conn, actor, &after)
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgreeInput {
    #[serde(default)]
    pub agreed_on: String,
    #[serde(default)]
    pub version: Option<i32>,
}

fn parse_day(field: &str, label: &str, s: &str) -> AppResult<NaiveDate> {
    Ok(crate::app::clock::input_day(field, label, s)?)
}

/// The grower agreed the payout on this date; payment falls due `payment_days` later.
pub fn agree(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &AgreeInput,
) -> AppResult<ClaimView> {
    crate::app::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        actor.require(
            may_handle(actor) || (actor.role == Role::Adjuster && is_surveyor(actor, &c)),
        )?;
        check_version(&c, input.version)?;
        if c.status != ClaimStatus::Approved {
            return Err(wrong_status(&c, "登记农户确认"));
        }
        let day = parse_day("agreed_on", "农户确认日期", &input.agreed_on)?;
        let approved_day = china_date(from_text(c.approved_at.as_deref().unwrap_or_default())?);
        if day > china_date(now) || day < approved_day {
            return Err(AppError::invalid(
                "agreed_on",
                ErrorCode::AgreedOnInvalid,
                format!(
                    "农户确认日期应在审核通过日（{approved_day}）与今天（{}）之间",
                    china_date(now)
                ),
            ));
        }
        let scheme = crate::app::schemes::by_id(conn, c.scheme_id)?;
        let due = day + Duration::days(i64::from(scheme.def.claim_rules.payment_days));
        let after = save(conn, actor, "agree", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::status.eq(ClaimStatus::Agreed),
                    claims::agreed_on.eq(day.to_string()),
                    claims::payment_due_on.eq(due.to_string()),
                ))
                .execute(conn)
        })?;
        view(conn, actor, &after)
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaymentInput {
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub paid_on: String,
    #[serde(default)]
    pub bank_reference: String,
}

/// Record money sent to the grower's account; the claim is paid when it adds up.
pub fn pay(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &PaymentInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    crate::app::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        if c.status != ClaimStatus::Agreed {
            return Err(wrong_status(&c, "登记赔款支付"));
        }
        let mut errs = Vec::new();
        let owed = Fen(c.payout_fen.unwrap_or(0) - c.paid_fen);
        let amount = match Fen::parse(&input.amount) {
            Ok(a) if a <= Fen::ZERO => {
                errs.push(FieldError::new(
                    "amount",
                    ErrorCode::AmountInvalid,
                    "支付金额必须大于0",
                ));
                a
            }
            Ok(a) if a > owed => {
                errs.push(FieldError::new(
                    "amount",
                    ErrorCode::AmountAboveOwed,
                    format!("支付金额{a}元超过尚未支付的赔款{owed}元"),
                ));
                a
            }
            Ok(a) => a,
            Err(e) => {
                errs.push(FieldError::new(
                    "amount",
                    ErrorCode::AmountInvalid,
                    e.to_string(),
                ));
                Fen::ZERO
            }
        };
        let day = match parse_day("paid_on", "支付日期", &input.paid_on) {
            Ok(d) if d > china_date(now) => {
                errs.push(FieldError::new(
                    "paid_on",
                    ErrorCode::PaidOnFuture,
                    "支付日期不能晚于今天",
                ));
                d
            }
            Ok(d) => d,
            Err(AppError::Validation(v)) => {
                errs.extend(v);
                china_date(now)
            }
            Err(e) => return Err(e),
        };
        let reference = text::check(
            "银行交易流水号",
            &normalize_width(&input.bank_reference),
            TextKind::Code,
        )
        .map_err(|p| errs.push(FieldError::new("bank_reference", p.code, p.message)))
        .unwrap_or_default();
        let reference_refused = errs.iter().any(|e| e.field == "bank_reference");
        if reference_refused {
            // Already reported by the text rules.
        } else if reference.is_empty() {
            errs.push(FieldError::new(
                "bank_reference",
                ErrorCode::BankReferenceMissing,
                "请填写银行交易流水号",
            ));
        } else if claim_payments::table
            .filter(claim_payments::bank_reference.eq(&reference))
            .count()
            .get_result::<i64>(conn)?
            > 0
        {
            errs.push(FieldError::new(
                "bank_reference",
                ErrorCode::BankReferenceDuplicate,
                format!("银行流水号{reference}已登记过，同一笔转账不能登记两次"),
            ));
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let pid: i64 = diesel::insert_into(claim_payments::table)
            .values((
                claim_payments::claim_id.eq(c.id),
                claim_payments::amount_fen.eq(amount.0),
                claim_payments::paid_on.eq(day.to_string()),
                claim_payments::bank_reference.eq(&reference),
                claim_payments::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                claim_payments::created_at.eq(to_text(now)),
            ))
            .returning(claim_payments::id)
            .get_result(conn)?;
        let paid = c.paid_fen + amount.0;
        let done = Some(paid) == c.payout_fen;
        let after = save(conn, actor, "pay", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::paid_fen.eq(paid),
                    claims::status.eq(if done {
                        ClaimStatus::Paid
                    } else {
                        ClaimStatus::Agreed
                    }),
                ))
                .execute(conn)
        })?;
        audit::record(
            conn,
            actor,
            "payment",
            "claim_payment",
            pid,
            None::<&()>,
            Some(
                &serde_json::json!({"claim_id": c.id, "amount": amount, "paid_on": day, "bank_reference": reference}),
            ),
        )?;
        view(conn, actor, &after)
    })
}
