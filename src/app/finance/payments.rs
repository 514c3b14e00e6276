//! Paying the subsidy out: what is due per township and level, the payments
//! recorded against it (disbursements) and the balances still to pay.

use super::adjustments::adjustment_sums;
use super::lock::{locked_raw, locked_statement};
use super::statement::live_raw;
use super::{
    can_manage, can_view_payments, check_level, required_text, scheme_levels, scheme_or_current,
    text_rule, township_code_name,
};
use crate::app::clock::past_day;
use crate::app::schemes::Scheme;
use crate::app::{audit, Actor};
use crate::db::finance::{ByTownshipLevel, NewDisbursement};
use crate::db::{self, DbConn};
use crate::domain::scheme::{level_name, FundingLevel};
use crate::domain::text::TextKind;
use crate::domain::time::{Day, Instant};
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What is due per (township, level): the live figures before sign-off, the
/// signed-off figures plus adjustments after.
pub(super) fn due_map(
    conn: &mut DbConn,
    scheme_id: i64,
    township: Option<i64>,
) -> AppResult<ByTownshipLevel> {
    match locked_statement(conn, scheme_id)? {
        None => Ok(live_raw(conn, scheme_id, township)?.levels),
        Some(l) => {
            let mut due = locked_raw(conn, l.id, township)?.levels;
            for (k, a) in adjustment_sums(conn, l.id, township)? {
                *due.entry(k).or_insert(0) += a;
            }
            Ok(due)
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BalanceFigures {
    pub due: Fen,
    pub paid: Fen,
    /// due − paid; negative when more was paid than is now due (to recover).
    pub outstanding: Fen,
}

impl BalanceFigures {
    fn new(due: i64, paid: i64) -> BalanceFigures {
        BalanceFigures {
            due: Fen(due),
            paid: Fen(paid),
            outstanding: Fen(due - paid),
        }
    }
    fn add(&mut self, o: &BalanceFigures) {
        self.due += o.due;
        self.paid += o.paid;
        self.outstanding += o.outstanding;
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelBalance {
    pub level: String,
    pub name: String,
    #[serde(flatten)]
    pub figures: BalanceFigures,
}

#[derive(Debug, Clone, Serialize)]
pub struct TownshipBalance {
    pub township_code: String,
    pub township_name: String,
    pub levels: Vec<LevelBalance>,
    #[serde(flatten)]
    pub total: BalanceFigures,
}

#[derive(Debug, Clone, Serialize)]
pub struct Balances {
    pub scheme: String,
    pub status: String,
    pub townships: Vec<TownshipBalance>,
    /// Per level over the townships shown: sums of the township rows.
    pub levels: Vec<LevelBalance>,
    pub total: BalanceFigures,
}

pub fn balances(conn: &mut DbConn, actor: &Actor, scheme: &str) -> AppResult<Balances> {
    actor.require(can_view_payments(actor))?;
    let scheme = scheme_or_current(conn, scheme)?;
    let levels = scheme_levels(&scheme, None);
    let towns = crate::app::areas::townships(conn, actor)?;
    let due = due_map(conn, scheme.id, None)?;
    let paid = db::finance::paid_sums(conn, scheme.id, None)?;
    let zero = || BalanceFigures::new(0, 0);
    let mut by_level: Vec<LevelBalance> = levels
        .iter()
        .map(|l| LevelBalance {
            level: l.level.clone(),
            name: l.name.clone(),
            figures: zero(),
        })
        .collect();
    let mut total = zero();
    let mut rows = Vec::new();
    for t in &towns {
        let mut row_total = zero();
        let lv: Vec<LevelBalance> = levels
            .iter()
            .map(|l| {
                let k = (t.id, l.level.clone());
                LevelBalance {
                    level: l.level.clone(),
                    name: l.name.clone(),
                    figures: BalanceFigures::new(
                        due.get(&k).copied().unwrap_or(0),
                        paid.get(&k).copied().unwrap_or(0),
                    ),
                }
            })
            .collect();
        for (acc, l) in by_level.iter_mut().zip(&lv) {
            acc.figures.add(&l.figures);
            row_total.add(&l.figures);
        }
        total.add(&row_total);
        rows.push(TownshipBalance {
            township_code: t.code.clone(),
            township_name: t.name.clone(),
            levels: lv,
            total: row_total,
        });
    }
    Ok(Balances {
        scheme: scheme.def.code.clone(),
        status: if locked_statement(conn, scheme.id)?.is_some() {
            "locked"
        } else {
            "open"
        }
        .into(),
        townships: rows,
        levels: by_level,
        total,
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DisbursementInput {
    pub scheme: String,
    pub township_code: String,
    pub level: String,
    pub amount: String,
    pub paid_on: String,
    pub voucher_no: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisbursementView {
    pub id: i64,
    pub scheme: String,
    pub township_code: String,
    pub township_name: String,
    pub level: String,
    pub level_name: String,
    pub amount: Fen,
    pub paid_on: Day,
    pub voucher_no: String,
    pub note: String,
    pub created_at: Instant,
}

fn disbursement_views(
    conn: &mut DbConn,
    scheme: &Scheme,
    id: Option<i64>,
) -> AppResult<Vec<DisbursementView>> {
    let rows = db::finance::disbursements(conn, scheme.id, id)?;
    let names = crate::app::areas::names(conn)?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let (township_code, township_name) = township_code_name(&names, d.township_id);
            DisbursementView {
                id: d.id,
                scheme: scheme.def.code.clone(),
                township_code,
                township_name,
                level_name: d.level.name().to_string(),
                level: d.level.to_string(),
                amount: d.amount_fen,
                paid_on: d.paid_on,
                voucher_no: d.voucher_no,
                note: d.note,
                created_at: d.created_at,
            }
        })
        .collect())
}

pub fn disbursements(
    conn: &mut DbConn,
    actor: &Actor,
    scheme: &str,
) -> AppResult<Vec<DisbursementView>> {
    actor.require(can_view_payments(actor))?;
    let scheme = scheme_or_current(conn, scheme)?;
    disbursement_views(conn, &scheme, None)
}

/// Record a payment of one funding level's subsidy for one township. Partial
/// payments are fine; more than is outstanding, or a voucher used before, is not.
pub fn disburse(
    conn: &mut DbConn,
    actor: &Actor,
    input: &DisbursementInput,
    today: NaiveDate,
) -> AppResult<DisbursementView> {
    actor.require(can_manage(actor))?;
    let mut errors = Vec::new();
    let amount = match Fen::parse(&input.amount) {
        Ok(a) if a == Fen::ZERO => {
            errors.push(FieldError::new(
                "amount",
                ErrorCode::AmountZero,
                "拨付金额必须大于0",
            ));
            a
        }
        Ok(a) => a,
        Err(e) => {
            errors.push(FieldError::new(
                "amount",
                ErrorCode::AmountInvalid,
                e.to_string(),
            ));
            Fen::ZERO
        }
    };
    let date = past_day("paid_on", "拨付日期", &input.paid_on, today)
        .map_err(|e| errors.push(e))
        .ok();
    let voucher = required_text(
        &mut errors,
        ("voucher_no", "拨款凭证号"),
        &input.voucher_no,
        TextKind::Code,
        ErrorCode::VoucherNoRequired,
        "请填写拨款凭证号（不超过40个字符）",
    );
    let note = text_rule(&mut errors, "note", "备注", &input.note, TextKind::Notes);
    let scheme = scheme_or_current(conn, &input.scheme)?;
    let level = input.level.trim().to_string();
    if let Err(e) = check_level(&scheme, &level) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // Both checked above: the scheme's levels are funding levels, the day was read.
    let (Ok(funding), Some(paid_on)) = (FundingLevel::parse(&level), date.map(Day::new)) else {
        return Err(AppError::Internal("拨付的层级或日期未经检查".into()));
    };
    crate::app::tx(conn, |conn| {
        db::finance::lock_disbursements(conn)?;
        let town = crate::app::areas::township_by_code(conn, actor, &input.township_code)?;
        if db::finance::voucher_taken(conn, &voucher)? {
            return Err(AppError::conflict(
                ErrorCode::VoucherNoDuplicate,
                format!("凭证号{voucher}已登记过拨付，同一笔拨款不能重复登记"),
            ));
        }
        let key = (town.id, level.clone());
        let due = due_map(conn, scheme.id, Some(town.id))?
            .get(&key)
            .copied()
            .unwrap_or(0);
        let paid = db::finance::paid_sums(conn, scheme.id, Some(town.id))?
            .get(&key)
            .copied()
            .unwrap_or(0);
        let outstanding = Fen(due - paid);
        if amount > outstanding {
            return Err(AppError::conflict(
                ErrorCode::AmountExceedsOutstanding,
                format!(
                    "拨付金额{}元超过{}{}尚未拨付的{}元（应拨{}元，已拨{}元）",
                    amount,
                    town.name,
                    level_name(&level),
                    outstanding.max(Fen::ZERO),
                    Fen(due),
                    Fen(paid)
                ),
            ));
        }
        let id = db::finance::insert_disbursement(
            conn,
            &NewDisbursement {
                scheme_id: scheme.id,
                township_id: town.id,
                level: funding,
                amount_fen: amount,
                paid_on,
                voucher_no: &voucher,
                note: &note,
                created_by: (actor.user_id > 0).then_some(actor.user_id),
                created_at: Instant::from_utc(chrono::Utc::now()),
            },
        )?;
        let view = disbursement_views(conn, &scheme, Some(id))?
            .pop()
            .ok_or_else(|| AppError::Internal("disbursement vanished".into()))?;
        audit::record(
            conn,
            actor,
            "create",
            "subsidy_disbursement",
            id,
            None::<&()>,
            Some(&view),
        )?;
        Ok(view)
    })
}
