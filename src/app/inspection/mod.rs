//! Pre-cover inspection (验标): draw a village's sample of insured plots
//! (reproducible from its seed), record each sampled plot's result on site
//! (GPS against the plot's polygon, photos, exactly once per client id), and
//! tell whether a village's sample is complete — which the issuance of its
//! policies waits for when the scheme says so.
//!
//! A refused plot (不予承保) stays on file but is made ineligible, with the
//! refusal as its eligibility reason: the grower's draft policy then follows
//! through `policies::sync` like after any plot edit, and a later edit of the
//! plot keeps the refusal (`keep_refusal`).

mod photos;
mod record;
mod views;

pub use photos::*;
pub use record::*;
pub use views::*;

use super::schemes::Scheme;
use super::{audit, on_site, Action, Actor};
use crate::db::inspection::{self as rows, Draw, NewDraw, ResultRow};
use crate::db::models::{Area, Plot, PlotValues, Policy};
use crate::db::schema::{plots, policies};
use crate::db::{now_text, DbConn};
use crate::domain::area::AreaLevel;
use crate::domain::eligibility::Reason;
use crate::domain::inspection::{
    draw as draw_sample, required_units, Candidate, DrawStatus, EnrolmentMode, Outcome,
    REFUSED_REASON_CODE,
};
use crate::domain::measure::normalize_width;
use crate::domain::policy::PolicyStatus;
use crate::domain::scheme::InspectionRules;
use crate::domain::text::{self, TextKind};
use crate::domain::time::Instant;
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// (code, label) of the enrolment modes, for the draw form and the API.
pub const MODES: [(&str, &str); 2] = [
    (
        EnrolmentMode::Individual.as_str(),
        EnrolmentMode::Individual.name(),
    ),
    (
        EnrolmentMode::Village.as_str(),
        EnrolmentMode::Village.name(),
    ),
];

/// (code, label) of the outcomes, for the tablet page and the API.
pub const OUTCOMES: [(&str, &str); 3] = [
    (Outcome::Verified.as_str(), Outcome::Verified.name()),
    (Outcome::Corrected.as_str(), Outcome::Corrected.name()),
    (Outcome::Refused.as_str(), Outcome::Refused.name()),
];

/// The largest seed a person may type (it is stored as a signed BIGINT).
const MAX_SEED: i64 = i64::MAX;

// ---------------------------------------------------------------- who may

/// May this actor see a village's inspection (and so draw or record in it)?
fn may_see(actor: &Actor) -> bool {
    actor.may(Action::DrawInspection) || actor.may(Action::RecordInspection)
}

/// The village `id` of a township the actor sees, else "not found".
fn village(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Area> {
    let v = crate::db::areas::find(conn, id)?
        .filter(|a| a.level == AreaLevel::Village)
        .filter(|a| a.parent_id.is_some_and(|t| actor.sees_township(t)))
        .ok_or_else(|| AppError::not_found("村"))?;
    Ok(v)
}

fn scheme_for(conn: &mut DbConn, code: Option<&str>) -> AppResult<Scheme> {
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => super::schemes::by_code(conn, c),
        None => super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案")),
    }
}

// ---------------------------------------------------------------- draw

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DrawInput {
    /// Scheme code; the current scheme when empty.
    pub scheme: String,
    /// individual | village
    pub mode: String,
    /// The seed to draw with; a new random one when left out.
    pub seed: Option<serde_json::Value>,
    /// Why the village is drawn again (required then).
    pub reason: String,
}

fn read_seed(v: &Option<serde_json::Value>) -> Result<Option<i64>, FieldError> {
    let text = match v {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => normalize_width(s),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(_) => String::new(),
    };
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if (0..=MAX_SEED).contains(&n) => Ok(Some(n)),
        _ => Err(FieldError::new(
            "seed",
            ErrorCode::InspectionSeedInvalid,
            format!(
                "随机种子应为0至{MAX_SEED}之间的整数，收到“{}”",
                text.chars().take(30).collect::<String>()
            ),
        )),
    }
}

/// A seed nobody chose: twelve digits, short enough to read out at the
/// village meeting where the sample is announced.
fn new_seed() -> i64 {
    use rand::Rng;
    rand::thread_rng().gen_range(100_000_000_000..=999_999_999_999)
}

/// Draw the village's sample. A village already drawn may be drawn again
/// only by the county forestry bureau or an administrator, with a reason;
/// the earlier draw is kept, marked superseded.
pub fn draw(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    village_id: i64,
    input: &DrawInput,
) -> AppResult<VillageStatus> {
    actor.require(actor.may(Action::DrawInspection))?;
    let mut errs = Vec::new();
    let mode = match EnrolmentMode::parse(input.mode.trim()) {
        Ok(m) => Some(m),
        Err(_) => {
            errs.push(FieldError::new(
                "mode",
                ErrorCode::InspectionModeInvalid,
                ErrorCode::InspectionModeInvalid.message(),
            ));
            None
        }
    };
    let seed = read_seed(&input.seed)
        .map_err(|e| errs.push(e))
        .ok()
        .flatten();
    let reason = text::check("重新抽取原因", &input.reason, TextKind::Reason)
        .map_err(|p| errs.push(FieldError::new("reason", p.code, p.message)))
        .unwrap_or_default();
    let (Some(mode), true) = (mode, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    super::tx(conn, |conn| {
        let v = village(conn, actor, village_id)?;
        let township_id = v.parent_id.unwrap_or_default();
        if !actor.may_in(Action::DrawInspection, township_id) {
            return Err(AppError::not_found("村"));
        }
        let scheme = scheme_for(conn, Some(&input.scheme))?;
        let earlier = rows::current_draw(conn, scheme.id, v.id)?;
        if earlier.is_some() {
            if !actor.may(Action::RedrawInspection) {
                return Err(AppError::Forbidden(
                    "本村已抽样，只有县林业局或系统管理员可以重新抽取".into(),
                ));
            }
            if reason.is_empty() {
                return Err(AppError::invalid(
                    "reason",
                    ErrorCode::InspectionReasonRequired,
                    "重新抽取须写明原因（将记入审计日志）",
                ));
            }
        }
        let population = rows::population(conn, scheme.id, v.id)?;
        if population.is_empty() {
            return Err(AppError::conflict(
                ErrorCode::InspectionNothingToDraw,
                format!("{}没有待签发保单的投保地块，无需抽样", v.name),
            ));
        }
        let total: Mu = population.iter().map(|p| p.2).sum();
        let percent = scheme.def.inspection.percent(mode);
        let required = required_units(total, percent)
            .ok_or_else(|| AppError::Internal("抽样面积计算溢出".into()))?;
        let seed = seed.unwrap_or_else(new_seed);
        let candidates = population
            .iter()
            .map(|(id, code, area)| Candidate {
                key: code.clone(),
                id: *id,
                area: *area,
            })
            .collect();
        let sample = draw_sample(candidates, seed as u64, required);
        let sample_area: Mu = sample.iter().map(|c| c.area).sum();
        if let Some(e) = &earlier {
            if rows::supersede(conn, e.id)? != 1 {
                return Err(AppError::conflict(
                    ErrorCode::Duplicate,
                    "本村的抽样刚刚已被他人重新抽取，请刷新页面查看",
                ));
            }
        }
        let row = NewDraw {
            scheme_id: scheme.id,
            village_id: v.id,
            township_id,
            mode: mode.as_str().to_string(),
            percent: percent.normalize().to_string(),
            seed,
            population_plots: i32::try_from(population.len()).unwrap_or(i32::MAX),
            population_area_units: total,
            required_area_units: Mu::from_units(required),
            sample_plots: i32::try_from(sample.len()).unwrap_or(i32::MAX),
            sample_area_units: sample_area,
            status: DrawStatus::Current.as_str().to_string(),
            reason: reason.clone(),
            drawn_by: (actor.user_id > 0).then_some(actor.user_id),
            drawn_at: Instant::from_utc(now),
        };
        let id = rows::insert_draw(conn, &row)?;
        let picked: Vec<(i64, Mu)> = sample.iter().map(|c| (c.id, c.area)).collect();
        rows::insert_samples(conn, id, &picked)?;
        if let Some(e) = &earlier {
            rows::set_superseded_by(conn, e.id, id)?;
        }
        let after = rows::draw_by_id(conn, id)?
            .ok_or_else(|| AppError::Internal("抽样写入后找不到".into()))?;
        let plots: Vec<i64> = picked.iter().map(|p| p.0).collect();
        audit::record(
            conn,
            actor,
            if earlier.is_some() { "redraw" } else { "draw" },
            "inspection_draw",
            id,
            earlier.as_ref(),
            Some(&serde_json::json!({"draw": after, "plots": plots})),
        )?;
        status_of(conn, actor, &v, &scheme)
    })
}

// ---------------------------------------------------------------- issuance

/// The villages of a policy: those of its grower's eligible plots in the
/// policy's scheme.
fn villages_of(conn: &mut DbConn, policy: &Policy) -> AppResult<Vec<i64>> {
    let mut v: Vec<i64> = plots::table
        .filter(plots::grower_id.eq(policy.grower_id))
        .filter(plots::scheme_id.eq(policy.scheme_id))
        .filter(plots::eligible.eq(true))
        .select(plots::village_id)
        .load(conn)?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// May this policy be issued as far as inspection goes? When the scheme
/// requires it, every village of the policy's plots must have a current
/// draw with every sampled plot's result recorded.
pub fn issuable(conn: &mut DbConn, policy: &Policy, scheme: &Scheme) -> AppResult<()> {
    if !scheme.def.inspection.required_before_issue {
        return Ok(());
    }
    for village_id in villages_of(conn, policy)? {
        let Some(d) = rows::current_draw(conn, scheme.id, village_id)? else {
            return Err(AppError::conflict(
                ErrorCode::InspectionIncomplete,
                "本村尚未抽取验标样本（已完成0/0块），不能签发",
            ));
        };
        let done: i64 = rows::outcome_counts(conn, &[d.id])?
            .iter()
            .map(|(_, _, n)| n)
            .sum();
        if done < i64::from(d.sample_plots) {
            return Err(AppError::conflict(
                ErrorCode::InspectionIncomplete,
                format!(
                    "本村验标抽样尚未完成（已完成{done}/{}块），不能签发",
                    d.sample_plots
                ),
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyInspection {
    pub required_before_issue: bool,
    pub villages: Vec<VillageSummary>,
}

/// The inspection of the villages of a policy's plots, for the policy page:
/// only while the policy waits for issuance, and only its villages.
pub fn for_policy(
    conn: &mut DbConn,
    actor: &Actor,
    policy_id: i64,
) -> AppResult<Option<PolicyInspection>> {
    if !may_see(actor) {
        return Ok(None);
    }
    let p = super::scoped::<Policy>(conn, actor, policy_id)?;
    if !rows::PENDING.contains(&p.status) {
        return Ok(None);
    }
    let scheme = super::schemes::by_id(conn, p.scheme_id)?;
    let mut villages = Vec::new();
    for id in villages_of(conn, &p)? {
        let v = super::areas::area_by_id(conn, id)?;
        let township = v
            .parent_id
            .map(|t| super::areas::area_by_id(conn, t))
            .transpose()?
            .map(|t| t.name)
            .unwrap_or_default();
        let population = rows::population(conn, scheme.id, id)?;
        let d = rows::current_draw(conn, scheme.id, id)?;
        let mut tally = Tally::default();
        if let Some(d) = &d {
            for (_, outcome, n) in rows::outcome_counts(conn, &[d.id])? {
                tally.add(&outcome, n);
            }
        }
        let view = d.as_ref().map(draw_view);
        villages.push(VillageSummary {
            village_id: id,
            village_code: v.code,
            village_name: v.name,
            township_name: township,
            population_plots: population.len() as i64,
            population_mu: population.iter().map(|x| x.2).sum(),
            drawn: d.is_some(),
            mode_name: view
                .as_ref()
                .map(|v| v.mode_name.clone())
                .unwrap_or_default(),
            seed: d.as_ref().map(|d| d.seed),
            sample_plots: d.as_ref().map_or(0, |d| i64::from(d.sample_plots)),
            sample_mu: d.as_ref().map_or(Mu::ZERO, |d| d.sample_area_units),
            share_reached: view.as_ref().is_some_and(|v| v.share_reached),
            complete: d
                .as_ref()
                .is_some_and(|d| tally.done >= i64::from(d.sample_plots)),
            tally,
        });
    }
    Ok(Some(PolicyInspection {
        required_before_issue: scheme.def.inspection.required_before_issue,
        villages,
    }))
}
