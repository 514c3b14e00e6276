//! County finance bureau (县财政局): the subsidy statement per township and
//! funding level, its sign-off, the adjustments that follow it, payments and
//! the balances still to pay.
//!
//! Figures are sums of the per-policy rounded fen already stored with each
//! policy (`policies`, one column per funding level), added up by the database
//! as integers: nothing here rounds, and a million policies never become Rust
//! objects. A policy counts towards the subsidy once issued (expired policies
//! were insured too); a cancelled one does not.
//!
//! Before sign-off the statement is live. Signing it off (`lock`) copies its
//! figures into `statement_townships` / `statement_levels`, which the database
//! refuses to edit. From then on every change is an adjustment entry that
//! references the statement: a policy cancelled afterwards reverses its
//! subsidy per level, a policy issued afterwards adds it, and the finance
//! bureau can enter a correction by hand.

//!
//! The module is split along those steps: `statement` (live figures and the
//! statement), `workbook` (the statement as a spreadsheet), `lock` (sign-off
//! and the locked tables), `adjustments` (reversals, late additions, manual
//! corrections) and `payments` (disbursements and balances).

mod adjustments;
mod lock;
mod payments;
mod statement;
mod workbook;

pub use adjustments::{
    add_adjustment, adjustments, after_policy_transition, AdjustmentInput, AdjustmentView,
};
pub use lock::{lock, locked_statement, LockInfo, LockInput};
pub use payments::{
    balances, disburse, disbursements, BalanceFigures, Balances, DisbursementInput,
    DisbursementView, LevelBalance, TownshipBalance,
};
pub use statement::{statement, AdjustmentRow, Figures, Statement, StatementQuery, StatementRow};
pub use workbook::{statement_tables, statement_xlsx};

use super::schemes::Scheme;
use super::{Action, Actor};
use crate::db::finance::{ByTownshipLevel, LevelRow, TownRow};
use crate::db::models::Area;
use crate::db::DbConn;
use crate::domain::scheme::level_name;
use crate::domain::text::{self, TextKind};
use crate::domain::Fen;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Sign off, pay, adjust, reconcile.
pub fn can_manage(a: &Actor) -> bool {
    a.may(Action::ManageSubsidy)
}

/// The statement and the dashboard: everyone but the adjuster; a township
/// station sees its own township's rows only.
pub fn can_view_statement(a: &Actor) -> bool {
    a.may(Action::ViewStatement)
}

/// Payments and balances: the county offices and the insurer being paid.
pub fn can_view_payments(a: &Actor) -> bool {
    a.may(Action::ViewPayments)
}

pub(crate) fn scheme_or_current(conn: &mut DbConn, code: &str) -> AppResult<Scheme> {
    if code.trim().is_empty() {
        super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))
    } else {
        super::schemes::by_code(conn, code)
    }
}

/// Per township: policies, mu units, premium, grower share, subsidy (fen).
type TownFigures = (i64, i64, i64, i64, i64);

#[derive(Debug, Default)]
struct Raw {
    towns: HashMap<i64, TownFigures>,
    levels: ByTownshipLevel,
}

impl Raw {
    /// From the rows both the live and the locked queries load: (township,
    /// figures…) and (township, level, amount).
    fn from_rows((towns, levels): (Vec<TownRow>, Vec<LevelRow>)) -> Raw {
        Raw {
            towns: towns
                .into_iter()
                .map(|(t, n, mu, p, g, s)| (t, (n, mu, p, g, s)))
                .collect(),
            levels: levels.into_iter().map(|(t, l, a)| ((t, l), a)).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LevelInfo {
    pub level: String,
    pub name: String,
    pub percent: Decimal,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LevelFigure {
    pub level: String,
    pub name: String,
    pub amount: Fen,
}

/// One figure per level of `levels`: the township's amount in `amounts`.
fn level_figures(
    levels: &[LevelInfo],
    amounts: &ByTownshipLevel,
    township: i64,
) -> Vec<LevelFigure> {
    levels
        .iter()
        .map(|l| LevelFigure {
            level: l.level.clone(),
            name: l.name.clone(),
            amount: Fen(amounts
                .get(&(township, l.level.clone()))
                .copied()
                .unwrap_or(0)),
        })
        .collect()
}

/// A township's code and name from the areas by id (empty if unknown).
fn township_code_name(names: &HashMap<i64, Area>, township: i64) -> (String, String) {
    names
        .get(&township)
        .map(|a| (a.code.clone(), a.name.clone()))
        .unwrap_or_default()
}

fn scheme_levels(scheme: &Scheme, only: Option<&str>) -> Vec<LevelInfo> {
    scheme
        .def
        .subsidy_levels
        .iter()
        .filter(|l| only.is_none_or(|o| o == l.level))
        .map(|l| LevelInfo {
            level: l.level.clone(),
            name: level_name(&l.level).to_string(),
            percent: l.percent,
        })
        .collect()
}

fn check_level(scheme: &Scheme, level: &str) -> Result<(), FieldError> {
    if scheme.def.subsidy_levels.iter().any(|l| l.level == level) {
        Ok(())
    } else {
        Err(FieldError::new(
            "level",
            ErrorCode::LevelUnknown,
            format!(
                "{}没有“{}”这一补贴层级（可选：{}）",
                scheme.def.name,
                level,
                scheme
                    .def
                    .subsidy_levels
                    .iter()
                    .map(|l| format!("{} {}", l.level, level_name(&l.level)))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        ))
    }
}

/// The shared text rules, as a field error of this form.
fn text_rule(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    raw: &str,
    kind: TextKind,
) -> String {
    text::check(label, raw, kind)
        .map_err(|p| errors.push(FieldError::new(field, p.code, p.message)))
        .unwrap_or_default()
}

/// A text the form must have: the shared text rules, then `missing` with
/// `message` when it is empty and the rules found nothing wrong with it.
fn required_text(
    errors: &mut Vec<FieldError>,
    (field, label): (&str, &str),
    raw: &str,
    kind: TextKind,
    missing: ErrorCode,
    message: &str,
) -> String {
    let checked = errors.len();
    let value = text_rule(errors, field, label, raw, kind);
    if value.is_empty() && errors.len() == checked {
        errors.push(FieldError::new(field, missing, message));
    }
    value
}
