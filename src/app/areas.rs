//! County → township → village, and each township's enrollment progress.

use super::Actor;
use crate::db::models::{Area, NewArea};
use crate::db::{self, DbConn};
use crate::domain::area::AreaLevel;
use crate::domain::Mu;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

pub fn county(conn: &mut DbConn) -> AppResult<Option<Area>> {
    Ok(db::areas::county(conn)?)
}

/// Townships the actor may see.
pub fn townships(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<Area>> {
    Ok(db::areas::townships(conn, actor.township_scope())?)
}

/// The township `id`, within the actor's townships, else not found.
pub fn township(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Area> {
    db::areas::township(conn, id, actor.township_scope())?
        .ok_or_else(|| AppError::not_found("乡镇"))
}

pub fn township_by_code(conn: &mut DbConn, actor: &Actor, code: &str) -> AppResult<Area> {
    let id = db::areas::id_by_code(conn, code.trim(), AreaLevel::Township)?
        .ok_or_else(|| AppError::NotFound(format!("未找到乡镇：{code}")))?;
    township(conn, actor, id)
}

/// Villages the actor may see, optionally of one township.
pub fn villages(
    conn: &mut DbConn,
    actor: &Actor,
    township_id: Option<i64>,
) -> AppResult<Vec<Area>> {
    Ok(db::areas::villages(
        conn,
        actor.township_scope(),
        township_id,
    )?)
}

pub fn area_by_id(conn: &mut DbConn, id: i64) -> AppResult<Area> {
    db::areas::find(conn, id)?.ok_or_else(|| AppError::not_found("行政区划"))
}

/// Names of every area by id, for rendering lists without a join per row.
pub fn names(conn: &mut DbConn) -> AppResult<HashMap<i64, Area>> {
    Ok(db::areas::all_by_id(conn)?)
}

#[derive(Debug, Clone, Serialize)]
pub struct TownshipProgress {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub target_mu: Mu,
    pub growers: i64,
    pub plots: i64,
    pub eligible_plots: i64,
    pub eligible_mu: Mu,
    pub policies: i64,
    pub insured_mu: Mu,
    /// insured mu / target, percent to one decimal.
    pub progress_percent: Decimal,
}

/// Enrollment against each township's target for one scheme.
pub fn progress(
    conn: &mut DbConn,
    actor: &Actor,
    scheme_id: i64,
) -> AppResult<Vec<TownshipProgress>> {
    let towns = townships(conn, actor)?;
    let year: i32 = crate::db::schema::schemes::table
        .find(scheme_id)
        .select(crate::db::schema::schemes::year)
        .first(conn)?;
    let counts = db::areas::enrollment(conn, scheme_id, year)?;
    Ok(towns
        .into_iter()
        .map(|t| {
            let target = Mu::from_units(t.target_mu_units.unwrap_or(0));
            let of = |m: &db::areas::CountAndUnits| m.get(&t.id).copied().unwrap_or((0, 0));
            let (eligible_plots, eligible_units) = of(&counts.eligible);
            let (policy_count, insured_units) = of(&counts.insured);
            let progress_percent = if target.units() > 0 {
                (Decimal::from(insured_units) * Decimal::ONE_HUNDRED
                    / Decimal::from(target.units()))
                .round_dp(1)
            } else {
                Decimal::ZERO
            };
            TownshipProgress {
                growers: counts.growers.get(&t.id).copied().unwrap_or(0),
                plots: counts.plots.get(&t.id).copied().unwrap_or(0),
                eligible_plots,
                eligible_mu: Mu::from_units(eligible_units),
                policies: policy_count,
                insured_mu: Mu::from_units(insured_units),
                progress_percent,
                target_mu: target,
                id: t.id,
                code: t.code,
                name: t.name,
            }
        })
        .collect())
}

#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct AreaInput {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    /// county | township | village
    #[serde(default)]
    pub level: String,
    /// Required for townships (the county) and villages (the township).
    #[serde(default)]
    pub parent_code: Option<String>,
    /// Townships only: the enrollment target in mu.
    #[serde(default)]
    pub target_mu: Option<String>,
}

fn parse_target(raw: Option<&str>) -> AppResult<Option<i64>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => Mu::parse(t)
            .map(|m| Some(m.units()))
            .map_err(|e| AppError::invalid("target_mu", e.code(), format!("目标面积：{e}"))),
    }
}

/// Add a county, township or village (administrators; codes are national
/// division codes where known).
pub fn create(conn: &mut DbConn, actor: &Actor, input: &AreaInput) -> AppResult<Area> {
    actor.require(actor.can_manage_schemes())?;
    let mut errors = Vec::new();
    let code = input.code.trim();
    if code.is_empty() || code.len() > 20 || !code.chars().all(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new(
            "code",
            ErrorCode::AreaCodeInvalid,
            "行政区划代码应为不超过20位的数字",
        ));
    }
    if input.name.trim().is_empty() {
        errors.push(FieldError::new(
            "name",
            ErrorCode::AreaNameRequired,
            "请填写名称",
        ));
    }
    let level = AreaLevel::parse(input.level.as_str());
    if level.is_none() {
        errors.push(FieldError::new(
            "level",
            ErrorCode::AreaLevelInvalid,
            format!("层级应为 {}：{}", AreaLevel::choices(), input.level),
        ));
    }
    let parent_level = level.and_then(AreaLevel::parent);
    let target = match parse_target(input.target_mu.as_deref()) {
        Ok(t) => t,
        Err(AppError::Validation(mut e)) => {
            errors.append(&mut e);
            None
        }
        Err(e) => return Err(e),
    };
    let parent_id = match (parent_level, input.parent_code.as_deref().map(str::trim)) {
        (Some(level), Some(pc)) if !pc.is_empty() => {
            let id = db::areas::id_by_code(conn, pc, level)?;
            if id.is_none() {
                errors.push(FieldError::new(
                    "parent_code",
                    ErrorCode::AreaParentUnknown,
                    format!("未找到上级区划：{pc}"),
                ));
            }
            id
        }
        (Some(_), _) => {
            errors.push(FieldError::new(
                "parent_code",
                ErrorCode::AreaParentRequired,
                "请填写上级区划代码",
            ));
            None
        }
        (None, _) => None,
    };
    let Some(level) = level.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    super::tx(conn, |conn| {
        if db::areas::code_taken(conn, code)? {
            return Err(AppError::conflict(
                ErrorCode::AreaCodeTaken,
                format!("区划代码{code}已存在"),
            ));
        }
        let id = db::areas::insert(
            conn,
            &NewArea {
                code,
                name: input.name.trim(),
                level,
                parent_id,
                target_mu_units: target,
            },
        )?;
        let a = area_by_id(conn, id)?;
        super::audit::record(conn, actor, "create", "area", id, None::<&()>, Some(&a))?;
        Ok(a)
    })
}

/// Change a township's enrollment target (county forestry bureau or admin).
pub fn set_target(
    conn: &mut DbConn,
    actor: &Actor,
    code: &str,
    target_mu: &str,
) -> AppResult<Area> {
    actor.require(matches!(
        actor.role,
        super::Role::Admin | super::Role::CountyForestry
    ))?;
    let target = parse_target(Some(target_mu))?.ok_or_else(|| {
        AppError::invalid("target_mu", ErrorCode::TargetRequired, "请填写目标面积")
    })?;
    super::tx(conn, |conn| {
        let before = township_by_code(conn, actor, code)?;
        db::areas::set_target(conn, before.id, target)?;
        let after = area_by_id(conn, before.id)?;
        super::audit::record(
            conn,
            actor,
            "update",
            "area",
            before.id,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// The township named by `code`, or the actor's own when none is given
/// (a township station's forms don't ask which township).
pub fn township_or_own(conn: &mut DbConn, actor: &Actor, code: &str) -> AppResult<Area> {
    match (code.trim(), actor.township_id) {
        ("", Some(own)) => township(conn, actor, own),
        ("", None) => Err(AppError::invalid(
            "township_code",
            ErrorCode::TownshipRequired,
            "请选择乡镇",
        )),
        (code, _) => township_by_code(conn, actor, code),
    }
}
