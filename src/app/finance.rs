//! County finance bureau (县财政局): the subsidy statement per township and
//! funding level, its sign-off, the adjustments that follow it, payments and
//! the balances still to pay.
//!
//! Figures are sums of the per-policy rounded fen already stored with each
//! policy (`policies` and `policy_subsidy_levels`), added up by the database
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

use super::schemes::Scheme;
use super::{audit, Actor, Role};
use crate::db::models::{Area, Policy};
use crate::db::schema::{
    policies, policy_subsidy_levels, statement_levels, statement_townships, subsidy_adjustments,
    subsidy_disbursements, subsidy_statements,
};
use crate::db::{now_text, DbConn};
use crate::domain::scheme::{level_name, FUNDING_LEVELS};
use crate::domain::text::{self, TextKind};
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::excel::write::{Cell, Column, Table};
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Policy statuses whose subsidy is due.
pub const SUBSIDISED: [&str; 2] = ["issued", "expired"];

/// Sign off, pay, adjust, reconcile.
pub fn can_manage(a: &Actor) -> bool {
    matches!(a.role, Role::Admin | Role::Finance)
}

/// The statement and the dashboard: everyone but the adjuster; a township
/// station sees its own township's rows only.
pub fn can_view_statement(a: &Actor) -> bool {
    a.role != Role::Adjuster
}

/// Payments and balances: the county offices and the insurer being paid.
pub fn can_view_payments(a: &Actor) -> bool {
    matches!(
        a.role,
        Role::Admin | Role::Finance | Role::Underwriter | Role::CountyForestry
    )
}

pub(crate) fn scheme_or_current(conn: &mut DbConn, code: &str) -> AppResult<Scheme> {
    if code.trim().is_empty() {
        super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))
    } else {
        super::schemes::by_code(conn, code)
    }
}

/// The status filter as a literal, not bound parameters: the partial index
/// `policies_finance` (issued and expired policies only) can then be used.
fn subsidised() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    let list: Vec<String> = SUBSIDISED.iter().map(|s| format!("'{s}'")).collect();
    sql::<diesel::sql_types::Bool>(&format!("policies.status IN ({})", list.join(", ")))
}

fn sum_sql(expr: &str) -> diesel::expression::SqlLiteral<BigInt> {
    sql::<BigInt>(&format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"))
}

// ------------------------------------------------------------ raw figures

/// One township, or all: grouped queries can't be boxed, so the optional
/// township filter is a range that is either one id or everything.
fn span(township: Option<i64>) -> (i64, i64) {
    township.map_or((i64::MIN, i64::MAX), |t| (t, t))
}

/// Per township: policies, mu units, premium, grower share, subsidy (fen).
type TownFigures = (i64, i64, i64, i64, i64);

#[derive(Debug, Default)]
struct Raw {
    towns: HashMap<i64, TownFigures>,
    levels: HashMap<(i64, String), i64>,
}

/// The live figures: SUM over integer fen, grouped by township (and level).
fn live_raw(conn: &mut DbConn, scheme_id: i64, township: Option<i64>) -> AppResult<Raw> {
    let (lo, hi) = span(township);
    let towns: Vec<(i64, i64, i64, i64, i64, i64)> = policies::table
        .filter(policies::scheme_id.eq(scheme_id))
        .filter(subsidised())
        .filter(policies::township_id.between(lo, hi))
        .group_by(policies::township_id)
        .select((
            policies::township_id,
            sql::<BigInt>("COUNT(*)"),
            sum_sql("insured_area_units"),
            sum_sql("premium_fen"),
            sum_sql("grower_share_fen"),
            sum_sql("subsidy_fen"),
        ))
        .load(conn)?;
    // One row per township with a column per funding level: grouping by
    // township alone lets the database read the policies in township order
    // from the covering index, with no sort of the level rows.
    let case = |level: &str| {
        sum_sql(&format!(
            "CASE WHEN policy_subsidy_levels.level = '{level}' \
             THEN policy_subsidy_levels.amount_fen ELSE 0 END"
        ))
    };
    let [l0, l1, l2, l3] = FUNDING_LEVELS.map(|(code, _)| code);
    let by_level: Vec<(i64, i64, i64, i64, i64)> = policy_subsidy_levels::table
        .inner_join(policies::table)
        .filter(policies::scheme_id.eq(scheme_id))
        .filter(subsidised())
        .filter(policies::township_id.between(lo, hi))
        .group_by(policies::township_id)
        .select((
            policies::township_id,
            case(l0),
            case(l1),
            case(l2),
            case(l3),
        ))
        .load(conn)?;
    let levels: Vec<(i64, String, i64)> = by_level
        .into_iter()
        .flat_map(|(t, a, b, c, d)| {
            [(l0, a), (l1, b), (l2, c), (l3, d)]
                .into_iter()
                .filter(|(_, amount)| *amount != 0)
                .map(move |(l, amount)| (t, l.to_string(), amount))
        })
        .collect();
    Ok(Raw {
        towns: towns
            .into_iter()
            .map(|(t, n, mu, p, g, s)| (t, (n, mu, p, g, s)))
            .collect(),
        levels: levels.into_iter().map(|(t, l, a)| ((t, l), a)).collect(),
    })
}

/// The figures as signed off.
fn locked_raw(conn: &mut DbConn, statement_id: i64, township: Option<i64>) -> AppResult<Raw> {
    let mut q = statement_townships::table
        .filter(statement_townships::statement_id.eq(statement_id))
        .into_boxed();
    if let Some(t) = township {
        q = q.filter(statement_townships::township_id.eq(t));
    }
    let towns: Vec<(i64, i64, i64, i64, i64, i64)> = q
        .select((
            statement_townships::township_id,
            statement_townships::policies,
            statement_townships::mu_units,
            statement_townships::premium_fen,
            statement_townships::grower_share_fen,
            statement_townships::subsidy_fen,
        ))
        .load(conn)?;
    let mut lq = statement_levels::table
        .filter(statement_levels::statement_id.eq(statement_id))
        .into_boxed();
    if let Some(t) = township {
        lq = lq.filter(statement_levels::township_id.eq(t));
    }
    let levels: Vec<(i64, String, i64)> = lq
        .select((
            statement_levels::township_id,
            statement_levels::level,
            statement_levels::amount_fen,
        ))
        .load(conn)?;
    Ok(Raw {
        towns: towns
            .into_iter()
            .map(|(t, n, mu, p, g, s)| (t, (n, mu, p, g, s)))
            .collect(),
        levels: levels.into_iter().map(|(t, l, a)| ((t, l), a)).collect(),
    })
}

fn adjustment_sums(
    conn: &mut DbConn,
    statement_id: i64,
    township: Option<i64>,
) -> AppResult<HashMap<(i64, String), i64>> {
    let (lo, hi) = span(township);
    let rows: Vec<(i64, String, i64)> = subsidy_adjustments::table
        .filter(subsidy_adjustments::statement_id.eq(statement_id))
        .filter(subsidy_adjustments::township_id.between(lo, hi))
        .group_by((subsidy_adjustments::township_id, subsidy_adjustments::level))
        .select((
            subsidy_adjustments::township_id,
            subsidy_adjustments::level,
            sum_sql("amount_fen"),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(t, l, a)| ((t, l), a)).collect())
}

fn paid_sums(
    conn: &mut DbConn,
    scheme_id: i64,
    township: Option<i64>,
) -> AppResult<HashMap<(i64, String), i64>> {
    let (lo, hi) = span(township);
    let rows: Vec<(i64, String, i64)> = subsidy_disbursements::table
        .filter(subsidy_disbursements::scheme_id.eq(scheme_id))
        .filter(subsidy_disbursements::township_id.between(lo, hi))
        .group_by((
            subsidy_disbursements::township_id,
            subsidy_disbursements::level,
        ))
        .select((
            subsidy_disbursements::township_id,
            subsidy_disbursements::level,
            sum_sql("amount_fen"),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(t, l, a)| ((t, l), a)).collect())
}

// -------------------------------------------------------------- statement

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

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Figures {
    pub policies: i64,
    pub insured_mu: Mu,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
    /// One entry per funding level shown (all, or the one asked for).
    pub levels: Vec<LevelFigure>,
    /// The sum of the levels shown: the subsidy when all are shown.
    pub subsidy_due: Fen,
}

impl Figures {
    fn empty(levels: &[LevelInfo]) -> Figures {
        Figures {
            policies: 0,
            insured_mu: Mu::from_units(0),
            premium: Fen::ZERO,
            grower_share: Fen::ZERO,
            subsidy: Fen::ZERO,
            levels: levels
                .iter()
                .map(|l| LevelFigure {
                    level: l.level.clone(),
                    name: l.name.clone(),
                    amount: Fen::ZERO,
                })
                .collect(),
            subsidy_due: Fen::ZERO,
        }
    }

    fn add(&mut self, o: &Figures) {
        self.policies += o.policies;
        self.insured_mu = self.insured_mu + o.insured_mu;
        self.premium += o.premium;
        self.grower_share += o.grower_share;
        self.subsidy += o.subsidy;
        for (a, b) in self.levels.iter_mut().zip(&o.levels) {
            a.amount += b.amount;
        }
        self.subsidy_due += o.subsidy_due;
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatementRow {
    pub township_code: String,
    pub township_name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct LockInfo {
    pub id: i64,
    pub signed_off_by: String,
    pub note: String,
    pub locked_at: String,
    pub policy_count: i64,
    pub subsidy: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdjustmentRow {
    pub township_code: String,
    pub township_name: String,
    pub levels: Vec<LevelFigure>,
    pub total: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub scheme: String,
    pub scheme_name: String,
    pub year: i32,
    /// The one funding level asked for, if any.
    pub level: Option<String>,
    pub levels: Vec<LevelInfo>,
    /// `open` (live figures) or `locked` (the figures as signed off).
    pub status: String,
    pub lock: Option<LockInfo>,
    pub rows: Vec<StatementRow>,
    pub totals: Figures,
    /// After sign-off: the adjustments per township and level, and the net due.
    pub adjustments: Vec<AdjustmentRow>,
    pub adjustment_totals: Vec<LevelFigure>,
    pub net_due: Vec<LevelFigure>,
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

pub fn locked_statement(conn: &mut DbConn, scheme_id: i64) -> AppResult<Option<LockInfo>> {
    let row: Option<(i64, String, String, String, i64, i64)> = subsidy_statements::table
        .filter(subsidy_statements::scheme_id.eq(scheme_id))
        .select((
            subsidy_statements::id,
            subsidy_statements::signed_off_by,
            subsidy_statements::note,
            subsidy_statements::locked_at,
            subsidy_statements::policy_count,
            subsidy_statements::subsidy_fen,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, by, note, at, n, s)| LockInfo {
        id,
        signed_off_by: by,
        note,
        locked_at: at,
        policy_count: n,
        subsidy: Fen(s),
    }))
}

/// Townships in the actor's scope (or the one asked for), by code.
fn towns_in_scope(conn: &mut DbConn, actor: &Actor, township_code: &str) -> AppResult<Vec<Area>> {
    if township_code.trim().is_empty() {
        super::areas::townships(conn, actor)
    } else {
        Ok(vec![super::areas::township_by_code(
            conn,
            actor,
            township_code,
        )?])
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatementQuery {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub township: String,
}

/// The subsidy statement of a scheme: one row per township (every township in
/// scope, in code order), each the sum of its policies' rounded figures; the
/// totals are the sums of the rows.
pub fn statement(conn: &mut DbConn, actor: &Actor, q: &StatementQuery) -> AppResult<Statement> {
    actor.require(can_view_statement(actor))?;
    let scheme = scheme_or_current(conn, &q.scheme)?;
    let only = Some(q.level.trim()).filter(|l| !l.is_empty());
    if let Some(l) = only {
        check_level(&scheme, l).map_err(|e| AppError::Validation(vec![e]))?;
    }
    let levels = scheme_levels(&scheme, only);
    let towns = towns_in_scope(conn, actor, &q.township)?;
    let single = match towns.as_slice() {
        [only] if actor.township_scope().is_some() || !q.township.is_empty() => Some(only.id),
        _ => None,
    };
    let lock = locked_statement(conn, scheme.id)?;
    let raw = match &lock {
        Some(l) => locked_raw(conn, l.id, single)?,
        None => live_raw(conn, scheme.id, single)?,
    };
    let adjust = match &lock {
        Some(l) => adjustment_sums(conn, l.id, single)?,
        None => HashMap::new(),
    };
    let mut totals = Figures::empty(&levels);
    let mut rows = Vec::new();
    let mut adjustments = Vec::new();
    let mut adjustment_totals: Vec<LevelFigure> = Figures::empty(&levels).levels;
    for t in &towns {
        let (n, mu, p, g, s) = raw.towns.get(&t.id).copied().unwrap_or_default();
        let lv: Vec<LevelFigure> = levels
            .iter()
            .map(|l| LevelFigure {
                level: l.level.clone(),
                name: l.name.clone(),
                amount: Fen(raw
                    .levels
                    .get(&(t.id, l.level.clone()))
                    .copied()
                    .unwrap_or(0)),
            })
            .collect();
        let f = Figures {
            policies: n,
            insured_mu: Mu::from_units(mu),
            premium: Fen(p),
            grower_share: Fen(g),
            subsidy: Fen(s),
            subsidy_due: lv.iter().map(|l| l.amount).sum(),
            levels: lv,
        };
        totals.add(&f);
        rows.push(StatementRow {
            township_code: t.code.clone(),
            township_name: t.name.clone(),
            figures: f,
        });
        if lock.is_some() {
            let al: Vec<LevelFigure> = levels
                .iter()
                .map(|l| LevelFigure {
                    level: l.level.clone(),
                    name: l.name.clone(),
                    amount: Fen(adjust.get(&(t.id, l.level.clone())).copied().unwrap_or(0)),
                })
                .collect();
            if al.iter().any(|l| l.amount != Fen::ZERO) {
                for (a, b) in adjustment_totals.iter_mut().zip(&al) {
                    a.amount += b.amount;
                }
                adjustments.push(AdjustmentRow {
                    township_code: t.code.clone(),
                    township_name: t.name.clone(),
                    total: al.iter().map(|l| l.amount).sum(),
                    levels: al,
                });
            }
        }
    }
    let net_due = totals
        .levels
        .iter()
        .zip(&adjustment_totals)
        .map(|(a, b)| LevelFigure {
            level: a.level.clone(),
            name: a.name.clone(),
            amount: a.amount + b.amount,
        })
        .collect();
    Ok(Statement {
        scheme: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        year: scheme.def.year,
        level: only.map(str::to_string),
        levels,
        status: if lock.is_some() { "locked" } else { "open" }.to_string(),
        lock,
        rows,
        totals,
        adjustments,
        adjustment_totals,
        net_due,
    })
}

fn money_col(h: &str) -> Column {
    Column {
        header: h.to_string(),
        width: 14.0,
    }
}

fn figure_cells(f: &Figures) -> Vec<Cell> {
    let mut cells = vec![
        Cell::Int(f.policies),
        Cell::Mu(f.insured_mu),
        Cell::Money(f.premium),
        Cell::Money(f.grower_share),
        Cell::Money(f.subsidy),
    ];
    cells.extend(f.levels.iter().map(|l| Cell::Money(l.amount)));
    cells.push(Cell::Money(f.subsidy_due));
    cells
}

/// The statement as tables for the workbook: the statement itself, then the
/// adjustments after sign-off.
pub fn statement_tables(st: &Statement) -> Vec<Table> {
    let mut columns = vec![
        money_col("乡镇代码"),
        money_col("乡镇"),
        money_col("保单数"),
        money_col("投保面积(亩)"),
        money_col("保费(元)"),
        money_col("农户自缴(元)"),
        money_col("财政补贴(元)"),
    ];
    columns.extend(
        st.levels
            .iter()
            .map(|l| money_col(&format!("{}(元)", l.name))),
    );
    columns.push(money_col("应拨补贴(元)"));
    let rows = st
        .rows
        .iter()
        .map(|r| {
            let mut c = vec![
                Cell::Text(r.township_code.clone()),
                Cell::Text(r.township_name.clone()),
            ];
            c.extend(figure_cells(&r.figures));
            c
        })
        .collect();
    let mut totals = vec![Cell::Text("合计".into()), Cell::Empty];
    totals.extend(figure_cells(&st.totals));
    let status = match &st.lock {
        Some(l) => format!("已锁定（签字：{}，{}）", l.signed_off_by, l.locked_at),
        None => "未锁定（实时数据）".to_string(),
    };
    let level_note = st
        .level
        .as_deref()
        .map(|l| format!("，仅{}", level_name(l)))
        .unwrap_or_default();
    let mut tables = vec![Table {
        sheet_name: "补贴结算表".into(),
        title: Some(format!("{} 保费补贴结算表", st.scheme_name)),
        subtitle: Some(format!(
            "方案{}，{}{}；金额单位：元",
            st.scheme, status, level_note
        )),
        columns,
        rows,
        totals: Some(totals),
    }];
    if !st.adjustments.is_empty() {
        let mut columns = vec![money_col("乡镇代码"), money_col("乡镇")];
        columns.extend(
            st.levels
                .iter()
                .map(|l| money_col(&format!("{}(元)", l.name))),
        );
        columns.push(money_col("调整合计(元)"));
        let rows = st
            .adjustments
            .iter()
            .map(|a| {
                let mut c = vec![
                    Cell::Text(a.township_code.clone()),
                    Cell::Text(a.township_name.clone()),
                ];
                c.extend(a.levels.iter().map(|l| Cell::Money(l.amount)));
                c.push(Cell::Money(a.total));
                c
            })
            .collect();
        let mut totals = vec![Cell::Text("合计".into()), Cell::Empty];
        totals.extend(st.adjustment_totals.iter().map(|l| Cell::Money(l.amount)));
        totals.push(Cell::Money(
            st.adjustment_totals.iter().map(|l| l.amount).sum(),
        ));
        tables.push(Table {
            sheet_name: "锁定后调整".into(),
            title: Some(format!("{} 结算表锁定后的调整分录", st.scheme_name)),
            subtitle: Some("负数为冲回（注销保单），正数为补记；金额单位：元".into()),
            columns,
            rows,
            totals: Some(totals),
        });
    }
    tables
}

pub fn statement_xlsx(st: &Statement) -> AppResult<Vec<u8>> {
    crate::excel::write::tables_to_xlsx(&statement_tables(st))
        .map_err(|e| AppError::Internal(e.to_string()))
}

// ------------------------------------------------------------------ lock

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LockInput {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub signed_off_by: String,
    #[serde(default)]
    pub note: String,
}

/// Sign off the statement: its figures are copied and can no longer change.
pub fn lock(conn: &mut DbConn, actor: &Actor, input: &LockInput) -> AppResult<LockInfo> {
    actor.require(can_manage(actor))?;
    let mut errors = Vec::new();
    let signer = text_rule(
        &mut errors,
        "signed_off_by",
        "签字确认人",
        &input.signed_off_by,
        TextKind::Code,
    );
    if signer.is_empty() && errors.is_empty() {
        errors.push(FieldError::new(
            "signed_off_by",
            ErrorCode::SignedOffByRequired,
            "请填写签字确认人（不超过40个字符）",
        ));
    }
    let note = text_rule(&mut errors, "note", "备注", &input.note, TextKind::Notes);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    super::tx(conn, |conn| {
        let scheme = scheme_or_current(conn, &input.scheme)?;
        if let Some(l) = locked_statement(conn, scheme.id)? {
            return Err(already_locked(&scheme, &l));
        }
        let raw = live_raw(conn, scheme.id, None)?;
        let count: i64 = raw.towns.values().map(|t| t.0).sum();
        let subsidy: i64 = raw.towns.values().map(|t| t.4).sum();
        let now = now_text();
        let id: i64 = diesel::insert_into(subsidy_statements::table)
            .values((
                subsidy_statements::scheme_id.eq(scheme.id),
                subsidy_statements::policy_count.eq(count),
                subsidy_statements::subsidy_fen.eq(subsidy),
                subsidy_statements::signed_off_by.eq(&signer),
                subsidy_statements::note.eq(&note),
                subsidy_statements::locked_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                subsidy_statements::locked_at.eq(&now),
            ))
            .returning(subsidy_statements::id)
            .get_result(conn)?;
        let mut towns: Vec<_> = raw.towns.iter().collect();
        towns.sort_by_key(|(t, _)| **t);
        for (t, (n, mu, p, g, s)) in towns {
            diesel::insert_into(statement_townships::table)
                .values((
                    statement_townships::statement_id.eq(id),
                    statement_townships::township_id.eq(*t),
                    statement_townships::policies.eq(*n),
                    statement_townships::mu_units.eq(*mu),
                    statement_townships::premium_fen.eq(*p),
                    statement_townships::grower_share_fen.eq(*g),
                    statement_townships::subsidy_fen.eq(*s),
                ))
                .execute(conn)?;
        }
        let mut levels: Vec<_> = raw.levels.iter().collect();
        levels.sort();
        for ((t, l), a) in levels {
            diesel::insert_into(statement_levels::table)
                .values((
                    statement_levels::statement_id.eq(id),
                    statement_levels::township_id.eq(*t),
                    statement_levels::level.eq(l),
                    statement_levels::amount_fen.eq(*a),
                ))
                .execute(conn)?;
        }
        let info = locked_statement(conn, scheme.id)?
            .ok_or_else(|| AppError::Internal("statement vanished".into()))?;
        audit::record(
            conn,
            actor,
            "lock",
            "subsidy_statement",
            id,
            None::<&()>,
            Some(&serde_json::json!({
                "scheme": scheme.def.code,
                "statement": &info,
                "levels": raw.levels.iter().map(|((t, l), a)| (format!("{t}/{l}"), a)).collect::<BTreeMap<_, _>>(),
            })),
        )?;
        Ok(info)
    })
}

fn already_locked(scheme: &Scheme, l: &LockInfo) -> AppError {
    AppError::conflict(
        ErrorCode::StatementLocked,
        format!(
            "{}的补贴结算表已于{}签字锁定（{}），不能修改；如需更正，请录入调整分录",
            scheme.def.name, l.locked_at, l.signed_off_by
        ),
    )
}

// ----------------------------------------------------------- adjustments

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
    pub created_at: String,
}

type AdjustmentRowRaw = (
    i64,
    i64,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
);

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
    let mut q = subsidy_adjustments::table
        .left_join(policies::table)
        .filter(subsidy_adjustments::statement_id.eq(lock.id))
        .into_boxed();
    if let Some(t) = actor.township_scope() {
        q = q.filter(subsidy_adjustments::township_id.eq(t));
    }
    let rows: Vec<AdjustmentRowRaw> = q
        .order(subsidy_adjustments::id)
        .select((
            subsidy_adjustments::id,
            subsidy_adjustments::township_id,
            subsidy_adjustments::level,
            subsidy_adjustments::amount_fen,
            subsidy_adjustments::kind,
            subsidy_adjustments::reason,
            subsidy_adjustments::created_at,
            policies::policy_no.nullable(),
        ))
        .load(conn)?;
    let names = super::areas::names(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, t, level, amount, kind, reason, at, no)| {
            let area = names.get(&t);
            AdjustmentView {
                id,
                statement_id: lock.id,
                township_code: area.map(|a| a.code.clone()).unwrap_or_default(),
                township_name: area.map(|a| a.name.clone()).unwrap_or_default(),
                level_name: level_name(&level).to_string(),
                level,
                amount: Fen(amount),
                kind,
                policy_no: no,
                reason,
                created_at: at,
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
    level: &str,
    amount: Fen,
    kind: &str,
    policy_id: Option<i64>,
    reason: &str,
) -> AppResult<()> {
    let id: i64 = diesel::insert_into(subsidy_adjustments::table)
        .values((
            subsidy_adjustments::statement_id.eq(statement_id),
            subsidy_adjustments::township_id.eq(township_id),
            subsidy_adjustments::level.eq(level),
            subsidy_adjustments::amount_fen.eq(amount.0),
            subsidy_adjustments::kind.eq(kind),
            subsidy_adjustments::policy_id.eq(policy_id),
            subsidy_adjustments::reason.eq(reason),
            subsidy_adjustments::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
            subsidy_adjustments::created_at.eq(now_text()),
        ))
        .returning(subsidy_adjustments::id)
        .get_result(conn)?;
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
    new_status: &str,
) -> AppResult<()> {
    let was = SUBSIDISED.contains(&before.status.as_str());
    let is = SUBSIDISED.contains(&new_status);
    if was == is {
        return Ok(());
    }
    let Some(lock) = locked_statement(conn, before.scheme_id)? else {
        return Ok(());
    };
    let levels: Vec<(String, i64)> = policy_subsidy_levels::table
        .filter(policy_subsidy_levels::policy_id.eq(before.id))
        .order(policy_subsidy_levels::id)
        .select((
            policy_subsidy_levels::level,
            policy_subsidy_levels::amount_fen,
        ))
        .load(conn)?;
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
    for (level, amount) in levels.into_iter().filter(|(_, a)| *a != 0) {
        insert_adjustment(
            conn,
            actor,
            lock.id,
            before.township_id,
            &level,
            Fen(sign * amount),
            kind,
            Some(before.id),
            &reason,
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AdjustmentInput {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub township_code: String,
    #[serde(default)]
    pub level: String,
    /// Signed yuan: "-12.50" reduces what is due.
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub reason: String,
}

/// Parse a signed amount with at most 2 decimals, through the one parser.
fn signed_amount(s: &str) -> Result<Fen, String> {
    Fen::parse_signed(s).map_err(|e| e.to_string())
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
    let checked = errors.len();
    let reason = text_rule(
        &mut errors,
        "reason",
        "调整原因",
        &input.reason,
        TextKind::Reason,
    );
    if reason.is_empty() && errors.len() == checked {
        errors.push(FieldError::new(
            "reason",
            ErrorCode::ReasonRequired,
            "请填写调整原因（不超过200个字符）",
        ));
    }
    let scheme = scheme_or_current(conn, &input.scheme)?;
    if let Err(e) = check_level(&scheme, input.level.trim()) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let level = input.level.trim().to_string();
    super::tx(conn, |conn| {
        let town = super::areas::township_by_code(conn, actor, &input.township_code)?;
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
            conn, actor, lock.id, town.id, &level, amount, "manual", None, &reason,
        )?;
        let list = adjustments(conn, &Actor::system(), &scheme.def.code)?;
        list.into_iter()
            .next_back()
            .ok_or_else(|| AppError::Internal("adjustment vanished".into()))
    })
}

// ------------------------------------------------------- balances, payments

/// What is due per (township, level): the live figures before sign-off, the
/// signed-off figures plus adjustments after.
fn due_map(
    conn: &mut DbConn,
    scheme_id: i64,
    township: Option<i64>,
) -> AppResult<HashMap<(i64, String), i64>> {
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
    let towns = super::areas::townships(conn, actor)?;
    let due = due_map(conn, scheme.id, None)?;
    let paid = paid_sums(conn, scheme.id, None)?;
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

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DisbursementInput {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub township_code: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub paid_on: String,
    #[serde(default)]
    pub voucher_no: String,
    #[serde(default)]
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
    pub paid_on: String,
    pub voucher_no: String,
    pub note: String,
    pub created_at: String,
}

type DisbursementRow = (i64, i64, String, i64, String, String, String, String);

fn disbursement_views(
    conn: &mut DbConn,
    scheme: &Scheme,
    rows: Vec<DisbursementRow>,
) -> AppResult<Vec<DisbursementView>> {
    let names = super::areas::names(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, t, level, amount, paid_on, voucher, note, at)| {
            let area = names.get(&t);
            DisbursementView {
                id,
                scheme: scheme.def.code.clone(),
                township_code: area.map(|a| a.code.clone()).unwrap_or_default(),
                township_name: area.map(|a| a.name.clone()).unwrap_or_default(),
                level_name: level_name(&level).to_string(),
                level,
                amount: Fen(amount),
                paid_on,
                voucher_no: voucher,
                note,
                created_at: at,
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
    let rows: Vec<DisbursementRow> = subsidy_disbursements::table
        .filter(subsidy_disbursements::scheme_id.eq(scheme.id))
        .order(subsidy_disbursements::id)
        .select((
            subsidy_disbursements::id,
            subsidy_disbursements::township_id,
            subsidy_disbursements::level,
            subsidy_disbursements::amount_fen,
            subsidy_disbursements::paid_on,
            subsidy_disbursements::voucher_no,
            subsidy_disbursements::note,
            subsidy_disbursements::created_at,
        ))
        .load(conn)?;
    disbursement_views(conn, &scheme, rows)
}

/// Record a payment of one funding level's subsidy for one township. Partial
/// payments are fine; more than is outstanding, or a voucher used before, is not.
pub fn disburse(
    conn: &mut DbConn,
    actor: &Actor,
    input: &DisbursementInput,
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
    let date = NaiveDate::parse_from_str(input.paid_on.trim(), "%Y-%m-%d").ok();
    match date {
        None => errors.push(FieldError::new(
            "paid_on",
            ErrorCode::DateInvalid,
            "拨付日期格式应为YYYY-MM-DD",
        )),
        Some(d) if d > chrono::Utc::now().date_naive() => errors.push(FieldError::new(
            "paid_on",
            ErrorCode::DateInFuture,
            "拨付日期不能晚于今天",
        )),
        _ => {}
    }
    let checked = errors.len();
    let voucher = text_rule(
        &mut errors,
        "voucher_no",
        "拨款凭证号",
        &input.voucher_no,
        TextKind::Code,
    );
    if voucher.is_empty() && errors.len() == checked {
        errors.push(FieldError::new(
            "voucher_no",
            ErrorCode::VoucherNoRequired,
            "请填写拨款凭证号（不超过40个字符）",
        ));
    }
    let note = text_rule(&mut errors, "note", "备注", &input.note, TextKind::Notes);
    let scheme = scheme_or_current(conn, &input.scheme)?;
    let level = input.level.trim().to_string();
    if let Err(e) = check_level(&scheme, &level) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    super::tx(conn, |conn| {
        if crate::db::backend(conn) == crate::db::Backend::Postgres {
            // Two clerks paying the same balance at once: the second waits and
            // then sees the first payment (SQLite writers are serial anyway).
            diesel::sql_query("LOCK TABLE subsidy_disbursements IN SHARE ROW EXCLUSIVE MODE")
                .execute(conn)?;
        }
        let town = super::areas::township_by_code(conn, actor, &input.township_code)?;
        let taken: i64 = subsidy_disbursements::table
            .filter(subsidy_disbursements::voucher_no.eq(&voucher))
            .count()
            .get_result(conn)?;
        if taken > 0 {
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
        let paid = paid_sums(conn, scheme.id, Some(town.id))?
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
        let id: i64 = diesel::insert_into(subsidy_disbursements::table)
            .values((
                subsidy_disbursements::scheme_id.eq(scheme.id),
                subsidy_disbursements::township_id.eq(town.id),
                subsidy_disbursements::level.eq(&level),
                subsidy_disbursements::amount_fen.eq(amount.0),
                subsidy_disbursements::paid_on.eq(date
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()),
                subsidy_disbursements::voucher_no.eq(&voucher),
                subsidy_disbursements::note.eq(&note),
                subsidy_disbursements::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                subsidy_disbursements::created_at.eq(now_text()),
            ))
            .returning(subsidy_disbursements::id)
            .get_result(conn)?;
        let row: DisbursementRow = subsidy_disbursements::table
            .find(id)
            .select((
                subsidy_disbursements::id,
                subsidy_disbursements::township_id,
                subsidy_disbursements::level,
                subsidy_disbursements::amount_fen,
                subsidy_disbursements::paid_on,
                subsidy_disbursements::voucher_no,
                subsidy_disbursements::note,
                subsidy_disbursements::created_at,
            ))
            .first(conn)?;
        let view = disbursement_views(conn, &scheme, vec![row])?
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
