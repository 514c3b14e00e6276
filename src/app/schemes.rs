//! Schemes are data: stored as their JSON definition, validated on the way in.

use super::Actor;
use crate::db::models::{NewScheme, SchemeRow};
use crate::db::schema::schemes;
use crate::db::DbConn;
use crate::domain::scheme::SchemeDef;
use crate::domain::time::Instant;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use diesel::prelude::*;

#[derive(Debug, Clone)]
pub struct Scheme {
    pub id: i64,
    pub def: SchemeDef,
}

pub(crate) fn from_row(row: SchemeRow) -> AppResult<Scheme> {
    let def: SchemeDef = serde_json::from_str(&row.definition)
        .map_err(|e| AppError::Internal(format!("scheme {} definition: {e}", row.code)))?;
    Ok(Scheme { id: row.id, def })
}

pub fn list(conn: &mut DbConn) -> AppResult<Vec<Scheme>> {
    schemes::table
        .order((schemes::year.desc(), schemes::id))
        .select(SchemeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// The schemes with these ids (any order; unknown ids are left out).
pub fn by_ids(conn: &mut DbConn, ids: &[i64]) -> AppResult<Vec<Scheme>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(900) {
        for row in schemes::table
            .filter(schemes::id.eq_any(chunk))
            .select(SchemeRow::as_select())
            .load(conn)?
        {
            out.push(from_row(row)?);
        }
    }
    Ok(out)
}

pub fn by_code(conn: &mut DbConn, code: &str) -> AppResult<Scheme> {
    let row = schemes::table
        .filter(schemes::code.eq(code.trim()))
        .select(SchemeRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound(format!("未找到险种方案：{code}")))?;
    from_row(row)
}

pub fn by_id(conn: &mut DbConn, id: i64) -> AppResult<Scheme> {
    let row = schemes::table
        .find(id)
        .select(SchemeRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("险种方案"))?;
    from_row(row)
}

/// The scheme pages show unless another is chosen: the latest year's first.
pub fn current(conn: &mut DbConn) -> AppResult<Option<Scheme>> {
    Ok(list(conn)?.into_iter().next())
}

/// Every problem of a definition, as field errors on `definition`.
fn check(def: &SchemeDef) -> AppResult<()> {
    def.validate().map_err(|problems| {
        AppError::Validation(
            problems
                .into_iter()
                .map(|p| FieldError::new("definition", p.code, p.message))
                .collect(),
        )
    })
}

/// Parse a definition from JSON text, reporting every problem.
pub fn parse_definition(json: &str) -> AppResult<SchemeDef> {
    let def: SchemeDef = serde_json::from_str(json).map_err(|e| {
        AppError::invalid(
            "definition",
            ErrorCode::SchemeJsonInvalid,
            format!("方案定义不是有效的JSON或缺少必填项：{e}"),
        )
    })?;
    check(&def)?;
    Ok(def)
}

pub fn create(conn: &mut DbConn, actor: &Actor, def: &SchemeDef) -> AppResult<Scheme> {
    actor.require(actor.can_manage_schemes())?;
    check(def)?;
    super::tx(conn, |conn| {
        let exists = schemes::table
            .filter(schemes::code.eq(&def.code))
            .count()
            .get_result::<i64>(conn)?;
        if exists > 0 {
            return Err(AppError::conflict(
                ErrorCode::SchemeCodeTaken,
                format!("方案代码{}已存在", def.code),
            ));
        }
        let json = serde_json::to_string(def).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = Instant::from_utc(chrono::Utc::now());
        let id: i64 = diesel::insert_into(schemes::table)
            .values(NewScheme {
                code: &def.code,
                name: &def.name,
                crop: &def.crop,
                year: def.year,
                definition: &json,
                created_at: now,
            })
            .returning(schemes::id)
            .get_result(conn)?;
        super::audit::record(conn, actor, "create", "scheme", id, None::<&()>, Some(def))?;
        Ok(Scheme {
            id,
            def: def.clone(),
        })
    })
}

/// Schemes shipped with the binary (fixtures/schemes), usable by the CLI
/// even before a database exists.
pub const BUILTIN: &[&str] = &[
    crate::domain::scheme::WALNUT_2012_JSON,
    include_str!("../../fixtures/schemes/apple-2013.json"),
];

pub fn builtin(code: &str) -> Option<SchemeDef> {
    BUILTIN
        .iter()
        .filter_map(|j| serde_json::from_str::<SchemeDef>(j).ok())
        .find(|d| d.code == code.trim())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LevelAmountView {
    pub level: String,
    pub name: String,
    pub percent: rust_decimal::Decimal,
    pub amount: crate::domain::Fen,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct QuoteView {
    pub scheme: String,
    pub variety: String,
    pub variety_name: String,
    pub mu: crate::domain::Mu,
    pub sum_insured: crate::domain::Fen,
    pub premium: crate::domain::Fen,
    pub grower_share: crate::domain::Fen,
    pub subsidy: crate::domain::Fen,
    pub subsidy_levels: Vec<LevelAmountView>,
}

fn variety_of<'a>(
    def: &'a SchemeDef,
    variety: &str,
) -> AppResult<&'a crate::domain::scheme::Variety> {
    def.variety(variety).ok_or_else(|| {
        let names: Vec<String> = def
            .varieties
            .iter()
            .map(|v| format!("{}({})", v.name, v.code))
            .collect();
        AppError::invalid(
            "variety",
            ErrorCode::VarietyUnknown,
            format!("未知品种：{}（可选：{}）", variety.trim(), names.join("、")),
        )
    })
}

/// What a grower with `mu` insured mu pays and is covered for.
pub fn quote(def: &SchemeDef, variety: &str, mu: &str) -> AppResult<QuoteView> {
    let v = variety_of(def, variety)?;
    let mu = crate::domain::Mu::parse(mu)
        .map_err(|e| AppError::invalid("mu", e.code(), e.to_string()))?;
    let q = crate::domain::premium::quote(&def.rates(), mu);
    Ok(QuoteView {
        scheme: def.code.clone(),
        variety: v.code.clone(),
        variety_name: v.name.clone(),
        mu,
        sum_insured: q.sum_insured,
        premium: q.premium,
        grower_share: q.grower_share,
        subsidy: q.subsidy,
        subsidy_levels: q
            .subsidy_levels
            .into_iter()
            .zip(&def.subsidy_levels)
            .map(|(l, share)| LevelAmountView {
                name: l.level.name().to_string(),
                level: l.level.to_string(),
                percent: share.percent,
                amount: l.amount,
            })
            .collect(),
    })
}

/// The verdict for a hypothetical plot: named facts as text ("9", "300").
pub fn eligibility(
    def: &SchemeDef,
    variety: &str,
    facts: &[(String, String)],
) -> AppResult<crate::domain::Verdict> {
    let v = variety_of(def, variety)?;
    let mut f = crate::domain::eligibility::Facts::new();
    let mut errors = Vec::new();
    for (name, value) in facts {
        match crate::domain::number::parse_decimal(value, &crate::domain::number::FACT) {
            Ok(d) => {
                f.insert(name.clone(), d);
            }
            Err(e) => errors.push(FieldError::new(
                name,
                ErrorCode::AttributeNotNumeric,
                format!("{}应为非负数字：{e}", crate::domain::number::shown(name)),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(def.evaluate(v, &f))
}
