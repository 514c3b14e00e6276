//! Settling a surveyed claim: approval or send-back, the grower's
//! agreement, and payment.

use super::access::{ready, save, Step};
use super::*;
use crate::app::{audit, Actor, Role};
use crate::db::claims::{self as rows, ClaimChange, NewPayment};
use crate::db::DbConn;
use crate::domain::claims::Payout;
use crate::domain::measure::normalize_width;
use crate::domain::text::TextKind;
use crate::domain::time::{Day, Instant};
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

// ---------------------------------------------------------------- review, agreement, payment

const APPROVE: Step = Step {
    from: &[ClaimStatus::Surveyed],
    doing: "审核通过",
};
const SEND_BACK: Step = Step {
    from: &[ClaimStatus::Surveyed],
    doing: "退回重新查勘",
};
const AGREE: Step = Step {
    from: &[ClaimStatus::Approved],
    doing: "登记农户确认",
};
const PAY: Step = Step {
    from: &[ClaimStatus::Agreed],
    doing: "登记赔款支付",
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReviewInput {
    pub version: Option<i32>,
    pub note: String,
    /// The reviewer has seen that this approval declines the claim (a zero
    /// payout) and wants it so.
    pub confirm_decline: bool,
}

/// The underwriter approves the surveyed payout. A zero payout closes the claim.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &ReviewInput,
) -> AppResult<ClaimView> {
    desk_step(conn, actor, id, input.version, &APPROVE, |conn, c| {
        // Another claim on the policy may have been approved since the survey.
        let remaining = remaining_sum(conn, &c)?.max(Fen::ZERO);
        let proposed = c.payout_fen.unwrap_or(Fen::ZERO);
        // What the loss itself was worth, before the sum insured ran out.
        let assessed = rows::latest_payout_detail(conn, c.id)?
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
        let at = Instant::from_utc(now);
        let change = if amount == Fen::ZERO {
            let (code, why) = decline_grounds(assessed);
            if !input.confirm_decline {
                return Err(AppError::conflict(
                    ErrorCode::DeclineUnconfirmed,
                    format!("审核通过后本案赔款为0元，将以“{why}”拒赔并结案，须在三日内向农户发出拒赔通知。确认无误请勾选确认后再提交"),
                ));
            }
            let noted = if note.is_empty() {
                String::new()
            } else {
                format!("（{note}）")
            };
            ClaimChange {
                decline_code: Some(Some(code.to_string())),
                decline_reason: Some(Some(format!("{why}，赔款为0元{noted}"))),
                ..ClaimChange::to(ClaimStatus::Declined)
            }
        } else {
            ClaimChange::to(ClaimStatus::Approved)
        };
        let change = ClaimChange {
            payout_fen: Some(Some(amount)),
            review_note: Some(note),
            approved_at: Some(at),
            ..change
        };
        let after = save(conn, actor, "approve", &c, at, &change)?;
        view(conn, actor, &after)
    })
}

/// Why an approval at a zero payout declines the claim: (code, reason).
pub fn decline_grounds(assessed: Fen) -> (&'static str, &'static str) {
    if assessed == Fen::ZERO {
        ("below_threshold", "经查勘定损，损失未达到起赔标准")
    } else {
        ("sum_insured_exhausted", "保单保险金额已由其他赔案赔付完毕")
    }
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
    desk_step(conn, actor, id, input.version, &SEND_BACK, |conn, c| {
        let change = ClaimChange {
            review_note: Some(input.note.trim().to_string()),
            payout_fen: Some(None),
            ..ClaimChange::to(ClaimStatus::Dispatched)
        };
        let after = save(
            conn,
            actor,
            "send_back",
            &c,
            Instant::from_utc(now),
            &change,
        )?;
        view(conn, actor, &after)
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AgreeInput {
    pub agreed_on: String,
    pub version: Option<i32>,
}

fn parse_day(field: &str, label: &str, s: &str) -> AppResult<Day> {
    Ok(Day::new(crate::app::clock::input_day(field, label, s)?))
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
        ready(&c, input.version, &AGREE)?;
        let day = parse_day("agreed_on", "农户确认日期", &input.agreed_on)?;
        let today = Instant::from_utc(now).china_day();
        let approved_day = c
            .approved_at
            .map(Instant::china_day)
            .ok_or_else(|| AppError::Internal(format!("claim {} approved without a time", c.id)))?;
        if day > today || day < approved_day {
            return Err(AppError::invalid(
                "agreed_on",
                ErrorCode::AgreedOnInvalid,
                format!("农户确认日期应在审核通过日（{approved_day}）与今天（{today}）之间"),
            ));
        }
        let scheme = crate::app::schemes::by_id(conn, c.scheme_id)?;
        let due = day.date() + Duration::days(i64::from(scheme.def.claim_rules.payment_days));
        let change = ClaimChange {
            agreed_on: Some(day),
            payment_due_on: Some(Day::new(due)),
            ..ClaimChange::to(ClaimStatus::Agreed)
        };
        let after = save(conn, actor, "agree", &c, Instant::from_utc(now), &change)?;
        view(conn, actor, &after)
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PaymentInput {
    pub amount: String,
    pub paid_on: String,
    pub bank_reference: String,
}

/// The payout not yet paid.
pub(super) fn owed(c: &Claim) -> Fen {
    c.payout_fen.unwrap_or(Fen::ZERO) - c.paid_fen
}

/// Record money sent to the grower's account; the claim is paid when it adds up.
pub fn pay(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &PaymentInput,
) -> AppResult<ClaimView> {
    desk_step(conn, actor, id, None, &PAY, |conn, c| {
        let at = Instant::from_utc(now);
        let today = at.china_day();
        // The results were posted in the village and nobody objects.
        crate::app::notices::payable(conn, &c, today.date())?;
        let mut errs = Vec::new();
        let owed = owed(&c);
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
            Ok(d) if d > today => {
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
                today
            }
            Err(e) => return Err(e),
        };
        let reference = text_field(
            &mut errs,
            "bank_reference",
            "银行交易流水号",
            &normalize_width(&input.bank_reference),
            TextKind::Code,
        );
        match reference.as_deref() {
            // Refused by the text rules, which said why.
            None => {}
            Some("") => errs.push(FieldError::new(
                "bank_reference",
                ErrorCode::BankReferenceMissing,
                "请填写银行交易流水号",
            )),
            Some(r) if rows::bank_reference_used(conn, r)? => errs.push(FieldError::new(
                "bank_reference",
                ErrorCode::BankReferenceDuplicate,
                format!("银行流水号{r}已登记过，同一笔转账不能登记两次"),
            )),
            Some(_) => {}
        }
        let reference = reference.unwrap_or_default();
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let pid = rows::insert_payment(
            conn,
            &NewPayment {
                claim_id: c.id,
                amount_fen: amount,
                paid_on: day,
                bank_reference: &reference,
                created_by: author(actor),
                created_at: at,
            },
        )?;
        let paid = c.paid_fen + amount;
        let status = if Some(paid) == c.payout_fen {
            ClaimStatus::Paid
        } else {
            ClaimStatus::Agreed
        };
        let change = ClaimChange {
            paid_fen: Some(paid),
            ..ClaimChange::to(status)
        };
        let after = save(conn, actor, "pay", &c, at, &change)?;
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
