//! After sign-off every change is an adjustment entry: a reversal when a
//! policy is cancelled, a late addition when one is issued, and the finance
//! bureau's manual corrections.

use super::lock::locked_statement;
use super::payments::due_map;
use super::{
    can_manage, can_view_statement, check_level, required_text, scheme_or_current,
    township_code_name,
};
use crate::app::{audit, Actor};
use crate::db::finance::{ByTownshipLevel, NewAdjustment};
use crate::db::models::Policy;
use crate::db::{self, DbConn};
use crate::domain::policy::PolicyStatus;
use crate::domain::scheme::{level_name, FundingLevel};
use crate::domain::text::TextKind;
use crate::domain::time::Instant;
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use serde::{Deserialize, Serialize};

pub(super) fn adjustment_sums(
    conn: &mut DbConn,
    statement_id: i64,
    township: Option<i64>,
) -> AppResult<ByTownshipLevel> {
    Ok(db::finance::adjustment_sums(conn, statement_id, township)?)
}

#[derive(Debug, Clone, Serialize)]
pub struct AdjustmentView {
    pub id: i64,
    pub statement_id: i64,
    pub township_code: String,
    pub township_name: String,
    pub level: String,
    pub level_name: String,
    pub amount: Fen,
    pub kind: String,
    pub policy_no: Option<String>,
    pub reason: String,
    pub created_at: Instant,
}

pub fn adjustments(
    conn: &mut DbConn,
    actor: &Actor,
    scheme: &str,
) -> AppResult<Vec<AdjustmentView>> {
    actor.require(can_view_statement(actor))?;
    let scheme = scheme_or_current(conn, scheme)?;
    let Some(lock) = locked_statement(conn, scheme.id)? else {
        return Ok(Vec::new());
    };
    let rows = db::finance::adjustments(conn, lock.id, actor.township_scope())?;
    let names = crate::app::areas::names(conn)?;
    Ok(rows
        .into_iter()
        .map(|a| {
            let (township_code, township_name) = township_code_name(&names, a.township_id);
            AdjustmentView {
                id: a.id,
                statement_id: lock.id,
                township_code,
                township_name,
                level_name: a.level.name().to_string(),
                level: a.level.to_string(),
                amount: a.amount,
                kind: a.kind,
                policy_no: a.policy_no,
                reason: a.reason,
                created_at: a.created_at,
            }
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn insert_adjustment(
    conn: &mut DbConn,
    actor: &Actor,
    statement_id: i64,
    township_id: i64,
    level: FundingLevel,
    amount: Fen,
    kind: &str,
    policy_id: Option<i64>,
    reason: &str,
) -> AppResult<()> {
    let id = db::finance::insert_adjustment(
        conn,
        &NewAdjustment {
            statement_id,
            township_id,
            level,
            amount_fen: amount,
            kind,
            policy_id,
            reason,
            created_by: (actor.user_id > 0).then_some(actor.user_id),
            created_at: Instant::from_utc(chrono::Utc::now()),
        },
    )?;
    audit::record(
        conn,
        actor,
        "create",
        "subsidy_adjustment",
        id,
        None::<&()>,
        Some(&serde_json::json!({
            "statement_id": statement_id, "township_id": township_id, "level": level,
            "amount": amount, "kind": kind, "policy_id": policy_id, "reason": reason,
        })),
    )
}

/// Called inside a policy's status change (same transaction). After sign-off,
/// a policy leaving the subsidised statuses reverses its subsidy per level,
/// exactly; one entering them adds it.
pub fn after_policy_transition(
    conn: &mut DbConn,
    actor: &Actor,
    before: &Policy,
    new_status: PolicyStatus,
) -> AppResult<()> {
    let was = before.status.is_subsidised();
    let is = new_status.is_subsidised();
    if was == is {
        return Ok(());
    }
    let Some(lock) = locked_statement(conn, before.scheme_id)? else {
        return Ok(());
    };
    let levels = before.levels();
    let (kind, sign, reason) = if was {
        (
            "reversal",
            -1,
            format!("保单{}在结算表锁定后注销，冲回财政补贴", before.policy_no),
        )
    } else {
        (
            "late_issue",
            1,
            format!("保单{}在结算表锁定后签发，补记财政补贴", before.policy_no),
        )
    };
    for (level, amount) in levels.into_iter().filter(|(_, a)| *a != Fen::ZERO) {
        insert_adjustment(
            conn,
            actor,
            lock.id,
            before.township_id,
            level,
            Fen(sign * amount.0),
            kind,
            Some(before.id),
            &reason,
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AdjustmentInput {
    pub scheme: String,
    pub township_code: String,
    pub level: String,
    /// Signed yuan: "-12.50" reduces what is due.
    pub amount: String,
    pub reason: String,
}

/// Parse a signed amount with at most 2 decimals, through the one parser.
fn signed_amount(s: &str) -> Result<Fen, String> {
    Fen::parse_signed(s).map_err(|e| e.to_string())
}

pub fn add_adjustment(
    conn: &mut DbConn,
    actor: &Actor,
    input: &AdjustmentInput,
) -> AppResult<AdjustmentView> {
    actor.require(can_manage(actor))?;
    let mut errors = Vec::new();
    let amount = match signed_amount(&input.amount) {
        Ok(a) if a == Fen::ZERO => {
            errors.push(FieldError::new(
                "amount",
                ErrorCode::AmountZero,
                "调整金额不能为0",
            ));
            Fen::ZERO
        }
        Ok(a) => a,
        Err(m) => {
            errors.push(FieldError::new("amount", ErrorCode::AmountInvalid, m));
            Fen::ZERO
        }
    };
    let reason = required_text(
        &mut errors,
        ("reason", "调整原因"),
        &input.reason,
        TextKind::Reason,
        ErrorCode::ReasonRequired,
        "请填写调整原因（不超过200个字符）",
    );
    let scheme = scheme_or_current(conn, &input.scheme)?;
    if let Err(e) = check_level(&scheme, input.level.trim()) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let funding = FundingLevel::parse(input.level.trim())
        .map_err(|_| AppError::invalid("level", ErrorCode::LevelUnknown, "未知的补贴层级"))?;
    let level = funding.to_string();
    crate::app::tx(conn, |conn| {
        let town = crate::app::areas::township_by_code(conn, actor, &input.township_code)?;
        let Some(lock) = locked_statement(conn, scheme.id)? else {
            return Err(AppError::conflict(
                ErrorCode::StatementNotLocked,
                "补贴结算表尚未签字锁定：锁定前的更正请直接修改保单，锁定后才录入调整分录",
            ));
        };
        let due = due_map(conn, scheme.id, Some(town.id))?
            .get(&(town.id, level.clone()))
            .copied()
            .unwrap_or(0);
        if due + amount.0 < 0 {
            return Err(AppError::conflict(
                ErrorCode::AdjustmentBelowZero,
                format!(
                    "调整后{}{}的应拨补贴将为负数（现为{}元，调整{}元）",
                    town.name,
                    level_name(&level),
                    Fen(due),
                    amount
                ),
            ));
        }
        insert_adjustment(
            conn, actor, lock.id, town.id, funding, amount, "manual", None, &reason,
        )?;
        let list = adjustments(conn, &Actor::system(), &scheme.def.code)?;
        list.into_iter()
            .next_back()
            .ok_or_else(|| AppError::Internal("adjustment vanished".into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_amounts() {
        assert_eq!(signed_amount("-12.50"), Ok(Fen(-1250)));
        assert_eq!(signed_amount("－0.01"), Ok(Fen(-1)));
        assert_eq!(signed_amount("3"), Ok(Fen(300)));
        assert!(signed_amount("1.001").is_err());
        assert!(signed_amount("--1").is_err());
        assert!(signed_amount("abc").is_err());
    }
}
