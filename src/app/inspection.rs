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

use super::schemes::Scheme;
use super::{audit, Action, Actor};
use crate::app::clock;
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
use chrono::{DateTime, Duration, Utc};
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

// ---------------------------------------------------------------- views

#[derive(Debug, Clone, Serialize)]
pub struct DrawView {
    pub id: i64,
    pub mode: String,
    pub mode_name: String,
    /// The share of the insured area the sample had to reach, percent.
    pub percent: String,
    pub seed: i64,
    pub population_plots: i32,
    pub population_mu: Mu,
    pub required_mu: Mu,
    pub sample_plots: i32,
    pub sample_mu: Mu,
    /// sample area ≥ percent × insured area, exactly.
    pub share_reached: bool,
    pub status: String,
    pub status_name: String,
    pub reason: String,
    pub superseded_by: Option<i64>,
    pub drawn_at: String,
}

fn draw_view(d: &Draw) -> DrawView {
    let reached = Decimal::from(d.sample_area_units.units()) * Decimal::ONE_HUNDRED
        >= Decimal::from(d.population_area_units.units())
            * d.percent.parse::<Decimal>().unwrap_or(Decimal::ONE_HUNDRED);
    DrawView {
        id: d.id,
        mode: d.mode.clone(),
        mode_name: EnrolmentMode::parse(&d.mode)
            .map(|m| m.name().to_string())
            .unwrap_or_else(|_| d.mode.clone()),
        percent: d.percent.clone(),
        seed: d.seed,
        population_plots: d.population_plots,
        population_mu: d.population_area_units,
        required_mu: d.required_area_units,
        sample_plots: d.sample_plots,
        sample_mu: d.sample_area_units,
        share_reached: reached,
        status: d.status.clone(),
        status_name: DrawStatus::parse(&d.status)
            .map(|s| s.name().to_string())
            .unwrap_or_else(|_| d.status.clone()),
        reason: d.reason.clone(),
        superseded_by: d.superseded_by,
        drawn_at: d.drawn_at.display(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultView {
    pub id: i64,
    pub outcome: String,
    pub outcome_name: String,
    pub area_before_mu: Mu,
    pub area_after_mu: Option<Mu>,
    pub reason: String,
    pub notes: String,
    pub inspected_at: String,
    pub location_check: String,
    pub distance_m: i32,
}

fn result_view(r: &ResultRow) -> ResultView {
    ResultView {
        id: r.id,
        outcome: r.outcome.clone(),
        outcome_name: Outcome::parse(&r.outcome)
            .map(|o| o.name().to_string())
            .unwrap_or_else(|_| r.outcome.clone()),
        area_before_mu: r.area_before_units,
        area_after_mu: r.area_after_units,
        reason: r.reason.clone(),
        notes: r.notes.clone(),
        inspected_at: r.inspected_at.display(),
        location_check: r.location_check.clone(),
        distance_m: r.distance_m,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SampleView {
    pub id: i64,
    pub position: i32,
    pub plot_id: i64,
    pub plot_code: String,
    pub grower_id: i64,
    pub grower_name: String,
    /// The plot's area when it was drawn.
    pub area_mu: Mu,
    /// Its area now (after a correction, the corrected one).
    pub current_mu: Mu,
    pub has_boundary: bool,
    pub photos: usize,
    pub result: Option<ResultView>,
}

/// Done, verified, corrected and refused among a sample's plots.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Tally {
    pub done: i64,
    pub verified: i64,
    pub corrected: i64,
    pub refused: i64,
}

impl Tally {
    fn add(&mut self, outcome: &str, n: i64) {
        self.done += n;
        match Outcome::parse(outcome) {
            Ok(Outcome::Verified) => self.verified += n,
            Ok(Outcome::Corrected) => self.corrected += n,
            Ok(Outcome::Refused) => self.refused += n,
            Err(_) => {}
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VillageStatus {
    pub village_id: i64,
    pub village_code: String,
    pub village_name: String,
    pub township_id: i64,
    pub township_name: String,
    pub scheme_code: String,
    pub scheme_name: String,
    pub rules: InspectionRules,
    /// Insured plots now (eligible, on a draft or collected policy).
    pub population_plots: i64,
    pub population_mu: Mu,
    /// The current draw, if any.
    pub draw: Option<DrawView>,
    pub samples: Vec<SampleView>,
    #[serde(flatten)]
    pub tally: Tally,
    /// Every sampled plot has its result.
    pub complete: bool,
    /// Earlier draws, superseded, the latest first.
    pub earlier: Vec<DrawView>,
    pub may_draw: bool,
    pub may_redraw: bool,
    pub may_record: bool,
}

/// A village's inspection: its insured plots now, the current draw with
/// every sampled plot and its result, and the earlier draws.
pub fn village_status(
    conn: &mut DbConn,
    actor: &Actor,
    village_id: i64,
    scheme: Option<&str>,
) -> AppResult<VillageStatus> {
    actor.require(may_see(actor))?;
    let v = village(conn, actor, village_id)?;
    let scheme = scheme_for(conn, scheme)?;
    status_of(conn, actor, &v, &scheme)
}

fn status_of(
    conn: &mut DbConn,
    actor: &Actor,
    v: &Area,
    scheme: &Scheme,
) -> AppResult<VillageStatus> {
    let township_id = v.parent_id.unwrap_or_default();
    let township = super::areas::area_by_id(conn, township_id)?;
    let population = rows::population(conn, scheme.id, v.id)?;
    let draws = rows::draws_of(conn, scheme.id, v.id)?;
    let current = draws
        .iter()
        .find(|d| d.status == DrawStatus::Current.as_str());
    let mut samples = Vec::new();
    let mut tally = Tally::default();
    if let Some(d) = current {
        let lines = rows::samples_of(conn, d.id)?;
        let results: HashMap<i64, ResultRow> = rows::results_of(conn, d.id)?
            .into_iter()
            .map(|r| (r.sample_id, r))
            .collect();
        let ids: Vec<i64> = lines.iter().map(|l| l.0.id).collect();
        let mut photos: HashMap<i64, usize> = HashMap::new();
        for p in rows::photos_of(conn, &ids)? {
            *photos.entry(p.sample_id).or_default() += 1;
        }
        for (s, code, grower_id, grower_name, current_mu, boundary) in lines {
            let result = results.get(&s.id);
            if let Some(r) = result {
                tally.add(&r.outcome, 1);
            }
            samples.push(SampleView {
                id: s.id,
                position: s.position,
                plot_id: s.plot_id,
                plot_code: code,
                grower_id,
                grower_name,
                area_mu: s.area_units,
                current_mu,
                has_boundary: boundary.is_some(),
                photos: photos.get(&s.id).copied().unwrap_or(0),
                result: result.map(result_view),
            });
        }
    }
    let complete = current.is_some() && tally.done >= samples.len() as i64;
    Ok(VillageStatus {
        village_id: v.id,
        village_code: v.code.clone(),
        village_name: v.name.clone(),
        township_id,
        township_name: township.name,
        scheme_code: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        rules: scheme.def.inspection.clone(),
        population_plots: population.len() as i64,
        population_mu: population.iter().map(|p| p.2).sum(),
        draw: current.map(draw_view),
        samples,
        tally,
        complete,
        earlier: draws
            .iter()
            .filter(|d| d.status != DrawStatus::Current.as_str())
            .map(draw_view)
            .collect(),
        may_draw: actor.may(Action::DrawInspection),
        may_redraw: actor.may(Action::RedrawInspection),
        may_record: actor.may(Action::RecordInspection),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct VillageSummary {
    pub village_id: i64,
    pub village_code: String,
    pub village_name: String,
    pub township_name: String,
    pub population_plots: i64,
    pub population_mu: Mu,
    pub drawn: bool,
    pub mode_name: String,
    pub seed: Option<i64>,
    pub sample_plots: i64,
    pub sample_mu: Mu,
    pub share_reached: bool,
    #[serde(flatten)]
    pub tally: Tally,
    pub complete: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct VillageFilter {
    pub scheme: Option<String>,
    pub township: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VillageList {
    pub scheme_code: String,
    pub scheme_name: String,
    pub rules: InspectionRules,
    pub items: Vec<VillageSummary>,
}

/// Every village the actor sees that has insured plots or a draw, with its
/// sample's progress.
pub fn villages(conn: &mut DbConn, actor: &Actor, f: &VillageFilter) -> AppResult<VillageList> {
    actor.require(may_see(actor))?;
    let scheme = scheme_for(conn, f.scheme.as_deref())?;
    let township = match f
        .township
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(code) => Some(super::areas::township_by_code(conn, actor, code)?.id),
        None => actor.township_scope(),
    };
    let population: HashMap<i64, (i64, i64)> =
        rows::population_by_village(conn, scheme.id, township)?
            .into_iter()
            .map(|(v, n, u)| (v, (n, u)))
            .collect();
    let draws: HashMap<i64, Draw> = rows::current_draws(conn, scheme.id, township)?
        .into_iter()
        .map(|d| (d.village_id, d))
        .collect();
    let ids: Vec<i64> = draws.values().map(|d| d.id).collect();
    let mut tallies: HashMap<i64, Tally> = HashMap::new();
    for (draw, outcome, n) in rows::outcome_counts(conn, &ids)? {
        tallies.entry(draw).or_default().add(&outcome, n);
    }
    let names = super::areas::names(conn)?;
    let mut villages: Vec<i64> = population.keys().chain(draws.keys()).copied().collect();
    villages.sort_unstable();
    villages.dedup();
    let mut items: Vec<VillageSummary> = villages
        .into_iter()
        .filter_map(|id| {
            let v = names.get(&id)?;
            let (plots, units) = population.get(&id).copied().unwrap_or((0, 0));
            let d = draws.get(&id);
            let tally = d
                .and_then(|d| tallies.get(&d.id))
                .copied()
                .unwrap_or_default();
            let view = d.map(draw_view);
            Some(VillageSummary {
                village_id: id,
                village_code: v.code.clone(),
                village_name: v.name.clone(),
                township_name: v
                    .parent_id
                    .and_then(|t| names.get(&t))
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                population_plots: plots,
                population_mu: Mu::from_units(units),
                drawn: d.is_some(),
                mode_name: view
                    .as_ref()
                    .map(|v| v.mode_name.clone())
                    .unwrap_or_default(),
                seed: d.map(|d| d.seed),
                sample_plots: d.map_or(0, |d| i64::from(d.sample_plots)),
                sample_mu: d.map_or(Mu::ZERO, |d| d.sample_area_units),
                share_reached: view.as_ref().is_some_and(|v| v.share_reached),
                complete: d.is_some_and(|d| tally.done >= i64::from(d.sample_plots)),
                tally,
            })
        })
        .collect();
    items.sort_by(|a, b| a.village_code.cmp(&b.village_code));
    Ok(VillageList {
        scheme_code: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        rules: scheme.def.inspection.clone(),
        items,
    })
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

// ---------------------------------------------------------------- record

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResultInput {
    /// Made by the tablet; the same id sent twice is the same result.
    pub client_id: String,
    /// verified | corrected | refused
    pub outcome: String,
    /// The area measured on site, for a correction.
    pub area_mu: Option<serde_json::Value>,
    /// Why the plot is refused (required then).
    pub reason: String,
    pub notes: String,
    /// When the inspector pressed "submit" on site; now when left out.
    pub inspected_at: Option<String>,
    pub latitude: Option<serde_json::Value>,
    pub longitude: Option<serde_json::Value>,
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyFigures {
    pub id: i64,
    pub policy_no: String,
    pub status: PolicyStatus,
    pub insured_mu: Mu,
    pub premium: Fen,
    pub grower_share: Fen,
    pub subsidy: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultOutcome {
    /// False when this client id had already arrived: nothing new was written.
    pub created: bool,
    pub sample_id: i64,
    pub result: ResultView,
    pub plot_id: i64,
    pub plot_code: String,
    pub plot_mu: Mu,
    pub plot_eligible: bool,
    /// The grower's policy in the scheme now; none when the refusal left the
    /// draft without insured area (the draft is then removed).
    pub policy: Option<PolicyFigures>,
    /// A note for the inspector (a policy past draft does not follow).
    pub note: Option<String>,
}

const CLIENT_ID_MESSAGE: &str = "提交缺少有效的设备编号（client_id），请刷新验标页面后重试";

fn checked_client_id<'a>(raw: &'a str, message: &str) -> AppResult<&'a str> {
    let t = raw.trim();
    let ok = (8..=64).contains(&t.len())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(t)
    } else {
        Err(AppError::invalid(
            "client_id",
            ErrorCode::ClientIdInvalid,
            message,
        ))
    }
}

/// A sample the actor may see, with its draw.
fn sample_in_scope(
    conn: &mut DbConn,
    actor: &Actor,
    sample_id: i64,
) -> AppResult<(rows::Sample, Draw)> {
    let s = rows::sample_by_id(conn, sample_id)?.ok_or_else(|| AppError::not_found("抽样地块"))?;
    let d = rows::draw_by_id(conn, s.draw_id)?.ok_or_else(|| AppError::not_found("抽样地块"))?;
    if !actor.sees_township(d.township_id) {
        return Err(AppError::not_found("抽样地块"));
    }
    Ok((s, d))
}

/// Record what was found on a sampled plot. Resending the same client id
/// changes nothing and answers with what was recorded, even when the copies
/// arrive at the same moment (the unique client id decides).
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    sample_id: i64,
    input: &ResultInput,
) -> AppResult<ResultOutcome> {
    actor.require(actor.may(Action::RecordInspection))?;
    let first = record_once(conn, actor, now, sample_id, input);
    match first {
        Err(e @ (AppError::Conflict { .. } | AppError::Busy(_))) => {
            let again = super::tx(conn, |conn| recorded(conn, actor, sample_id, input));
            match again? {
                Some(out) => Ok(out),
                None => Err(e),
            }
        }
        other => other,
    }
}

/// The result already recorded under the input's client id, if any.
fn recorded(
    conn: &mut DbConn,
    actor: &Actor,
    sample_id: i64,
    input: &ResultInput,
) -> AppResult<Option<ResultOutcome>> {
    let (s, _) = sample_in_scope(conn, actor, sample_id)?;
    let client_id = checked_client_id(&input.client_id, CLIENT_ID_MESSAGE)?;
    let Some(r) = rows::result_by_client_id(conn, client_id)? else {
        return Ok(None);
    };
    if r.sample_id != s.id {
        return Err(AppError::conflict(
            ErrorCode::ClientIdReused,
            "该验标记录编号已用于其他地块",
        ));
    }
    outcome_of(conn, &r, false, None).map(Some)
}

fn outcome_of(
    conn: &mut DbConn,
    r: &ResultRow,
    created: bool,
    note: Option<String>,
) -> AppResult<ResultOutcome> {
    let p = super::load::<Plot>(conn, r.plot_id)?;
    let policy = policies::table
        .filter(policies::grower_id.eq(p.grower_id))
        .filter(policies::scheme_id.eq(p.scheme_id))
        .select(Policy::as_select())
        .first(conn)
        .optional()?
        .map(|x| PolicyFigures {
            id: x.id,
            policy_no: x.policy_no,
            status: x.status,
            insured_mu: x.insured_area_units,
            premium: x.premium_fen,
            grower_share: x.grower_share_fen,
            subsidy: x.subsidy_fen,
        });
    Ok(ResultOutcome {
        created,
        sample_id: r.sample_id,
        result: result_view(r),
        plot_id: p.id,
        plot_code: p.code,
        plot_mu: p.area_units,
        plot_eligible: p.eligible,
        policy,
        note,
    })
}

fn json_text(v: &Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => normalize_width(s).trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// What a submission says, checked.
struct Facts {
    outcome: Outcome,
    area_after: Option<Mu>,
    reason: String,
    notes: String,
    inspected: DateTime<Utc>,
    latitude: f64,
    longitude: f64,
    accuracy_m: Option<i32>,
    /// ("inside" | "near" | "no_boundary", metres)
    location: (String, i32),
}

/// Every field against the plot and the scheme's distance limit; all
/// errors at once.
fn check_input(
    plot: &Plot,
    max_distance_m: u32,
    now: DateTime<Utc>,
    input: &ResultInput,
) -> AppResult<Facts> {
    let mut errs = Vec::new();
    let outcome = match Outcome::parse(input.outcome.trim()) {
        Ok(o) => Some(o),
        Err(_) => {
            errs.push(FieldError::new(
                "outcome",
                ErrorCode::InspectionOutcomeInvalid,
                ErrorCode::InspectionOutcomeInvalid.message(),
            ));
            None
        }
    };
    let (lat, lon) = (json_text(&input.latitude), json_text(&input.longitude));
    let coords = match (lat.parse::<f64>(), lon.parse::<f64>()) {
        (Ok(la), Ok(lo))
            if la.is_finite()
                && lo.is_finite()
                && (-90.0..=90.0).contains(&la)
                && (-180.0..=180.0).contains(&lo) =>
        {
            Some((la, lo))
        }
        _ => {
            errs.push(FieldError::new(
                "latitude",
                ErrorCode::GpsMissing,
                "没有获取到GPS定位，请在地块现场打开定位后再提交",
            ));
            None
        }
    };
    let mut location = ("no_boundary".to_string(), 0i32);
    if let (Some((la, lo)), Some(b)) = (coords, plot.boundary.as_deref()) {
        let poly = crate::geo::read_stored(b)
            .map_err(|e| AppError::Internal(format!("stored boundary: {e}")))?;
        let check = crate::geo::check_point(&poly, lo, la);
        let d = check.distance_m.round().min(1e9) as i32;
        if check.inside {
            location = ("inside".into(), 0);
        } else if check.distance_m <= f64::from(max_distance_m) {
            location = ("near".into(), d);
        } else {
            errs.push(FieldError::new(
                "latitude",
                ErrorCode::PositionFar,
                format!(
                    "验标位置距地块{}约{}米，超出允许的{}米，请到地块现场后再提交",
                    plot.code, d, max_distance_m
                ),
            ));
        }
    }
    let area_text = json_text(&input.area_mu);
    let area_after = match outcome {
        Some(Outcome::Corrected) => match Mu::parse(&area_text) {
            Ok(m) if m == plot.area_units => {
                errs.push(FieldError::new(
                    "area_mu",
                    ErrorCode::InspectionAreaInvalid,
                    format!("实测面积与登记面积相同（{m}亩），请选择“核实无误”"),
                ));
                None
            }
            Ok(m) => Some(m),
            Err(e) => {
                errs.push(FieldError::new(
                    "area_mu",
                    ErrorCode::InspectionAreaInvalid,
                    format!("请填写实测面积（亩）：{e}"),
                ));
                None
            }
        },
        _ => None,
    };
    let reason = text::check("不予承保原因", &input.reason, TextKind::Reason)
        .map_err(|p| errs.push(FieldError::new("reason", p.code, p.message)))
        .unwrap_or_default();
    if outcome == Some(Outcome::Refused) && reason.is_empty() {
        errs.push(FieldError::new(
            "reason",
            ErrorCode::InspectionReasonRequired,
            "不予承保须写明原因",
        ));
    }
    let notes = text::check("验标备注", &input.notes, TextKind::Notes)
        .map_err(|p| errs.push(FieldError::new("notes", p.code, p.message)))
        .unwrap_or_default();
    let inspected = match input
        .inspected_at
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(s) => match clock::parse_input("inspected_at", "验标时间", s) {
            Ok(t) if t > now + Duration::minutes(5) => {
                errs.push(FieldError::new(
                    "inspected_at",
                    ErrorCode::SurveyedInFuture,
                    "验标时间不能晚于当前时间",
                ));
                now
            }
            Ok(t) => t,
            Err(AppError::Validation(v)) => {
                errs.extend(v);
                now
            }
            Err(e) => return Err(e),
        },
        None => now,
    };
    let (true, Some(outcome), Some((latitude, longitude))) = (errs.is_empty(), outcome, coords)
    else {
        return Err(AppError::Validation(errs));
    };
    Ok(Facts {
        outcome,
        area_after,
        reason,
        notes,
        inspected,
        latitude,
        longitude,
        accuracy_m: input
            .accuracy_m
            .filter(|a| a.is_finite() && *a >= 0.0)
            .map(|a| a.round().min(1e6) as i32),
        location,
    })
}

fn record_once(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    sample_id: i64,
    input: &ResultInput,
) -> AppResult<ResultOutcome> {
    super::tx(conn, |conn| {
        if let Some(out) = recorded(conn, actor, sample_id, input)? {
            return Ok(out);
        }
        let (s, d) = sample_in_scope(conn, actor, sample_id)?;
        let client_id = checked_client_id(&input.client_id, CLIENT_ID_MESSAGE)?;
        if d.status != DrawStatus::Current.as_str() {
            return Err(AppError::conflict(
                ErrorCode::InspectionDrawSuperseded,
                "该村已重新抽样，此地块不在最新的抽样中，请刷新页面",
            ));
        }
        if rows::result_of_sample(conn, s.id)?.is_some() {
            return Err(AppError::conflict(
                ErrorCode::InspectionAlreadyRecorded,
                "该抽样地块已登记验标结果，不能重复登记",
            ));
        }
        let plot = super::load::<Plot>(conn, s.plot_id)?;
        let scheme = super::schemes::by_id(conn, plot.scheme_id)?;
        let facts = check_input(&plot, scheme.def.claim_rules.max_distance_m, now, input)?;
        let note = apply(conn, actor, &plot, &scheme, &facts)?;
        let row = ResultRow {
            id: 0,
            sample_id: s.id,
            plot_id: plot.id,
            client_id: client_id.to_string(),
            outcome: facts.outcome.as_str().to_string(),
            area_before_units: plot.area_units,
            area_after_units: facts.area_after,
            reason: facts.reason.clone(),
            notes: facts.notes.clone(),
            inspected_at: Instant::from_utc(facts.inspected),
            received_at: Instant::from_utc(now),
            latitude: format!("{:.7}", facts.latitude),
            longitude: format!("{:.7}", facts.longitude),
            accuracy_m: facts.accuracy_m,
            location_check: facts.location.0.clone(),
            distance_m: facts.location.1,
            recorded_by: (actor.user_id > 0).then_some(actor.user_id),
        };
        let id = rows::insert_result(conn, &row)?;
        let row = ResultRow { id, ..row };
        audit::record(
            conn,
            actor,
            "inspect",
            "inspection_sample",
            s.id,
            None::<&()>,
            Some(&row),
        )?;
        outcome_of(conn, &row, true, note)
    })
}

/// A plot's stored values, to write back with a change.
fn values_of(p: &Plot) -> PlotValues {
    PlotValues {
        code: p.code.clone(),
        grower_id: p.grower_id,
        scheme_id: p.scheme_id,
        village_id: p.village_id,
        township_id: p.township_id,
        variety: p.variety.clone(),
        tree_age: p.tree_age,
        tree_count: p.tree_count,
        fruit_per_tree: p.fruit_per_tree,
        area_units: p.area_units,
        attributes: p.attributes.clone(),
        boundary: p.boundary.clone(),
        boundary_area_units: p.boundary_area_units,
        eligible: p.eligible,
        reasons: p.reasons.clone(),
    }
}

/// What the result changes: a corrected area (the plot judged again by the
/// scheme's rules) or a refusal (the plot made ineligible); the grower's
/// draft policy follows through `policies::sync`. A note when the policy is
/// past draft and so keeps the figures collected on.
fn apply(
    conn: &mut DbConn,
    actor: &Actor,
    plot: &Plot,
    scheme: &Scheme,
    facts: &Facts,
) -> AppResult<Option<String>> {
    let mut values = values_of(plot);
    match facts.outcome {
        Outcome::Verified => return Ok(None),
        Outcome::Corrected => {
            let area = facts.area_after.unwrap_or(plot.area_units);
            values.area_units = area;
            let attributes: BTreeMap<String, String> =
                serde_json::from_str(&plot.attributes).unwrap_or_default();
            if let Some(variety) = scheme.def.variety(&plot.variety) {
                let verdict = scheme.def.evaluate(
                    variety,
                    &super::plots::facts_of(
                        plot.tree_age,
                        plot.tree_count,
                        plot.fruit_per_tree,
                        area,
                        &attributes,
                    ),
                );
                values.eligible = verdict.eligible;
                values.reasons =
                    serde_json::to_string(&verdict.reasons).unwrap_or_else(|_| "[]".into());
            }
            keep_refusal(conn, plot.id, &mut values)?;
        }
        Outcome::Refused => refuse(&mut values, &facts.reason),
    }
    crate::db::enrollment::plots::update(conn, plot.id, &values, plot.version, &now_text())?;
    let after = super::load::<Plot>(conn, plot.id)?;
    audit::updated(conn, actor, "plot", plot.id, plot, &after)?;
    super::policies::sync(conn, actor, plot.grower_id, plot.scheme_id)?;
    let past_draft = policies::table
        .filter(policies::grower_id.eq(plot.grower_id))
        .filter(policies::scheme_id.eq(plot.scheme_id))
        .filter(policies::status.ne(PolicyStatus::Draft))
        .select(policies::policy_no)
        .first::<String>(conn)
        .optional()?;
    Ok(past_draft.map(|no| {
        format!("保单{no}已收取农户自缴保费，保费金额不随地块变化；如需调整，请由承保人员处理")
    }))
}

/// Make the plot ineligible with the refusal as a reason.
fn refuse(values: &mut PlotValues, reason: &str) {
    let mut reasons: Vec<Reason> = serde_json::from_str(&values.reasons).unwrap_or_default();
    reasons.retain(|r| r.code != REFUSED_REASON_CODE);
    reasons.push(Reason {
        code: REFUSED_REASON_CODE.into(),
        message: format!("验标不予承保：{reason}"),
    });
    values.eligible = false;
    values.reasons = serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into());
}

/// A plot refused at inspection stays refused when it is edited later:
/// called by the plot edit after the plot is judged by the scheme's rules.
pub fn keep_refusal(conn: &mut DbConn, plot_id: i64, values: &mut PlotValues) -> AppResult<()> {
    if let Some(reason) = rows::refusal_of(conn, plot_id)? {
        refuse(values, &reason);
    }
    Ok(())
}

/// The refusal a stored plot carries among its eligibility reasons, if any
/// (read from the row, so a roster import of many plots asks nothing more).
pub fn refusal_on(stored: &Plot) -> Option<Reason> {
    if !stored.reasons.contains(REFUSED_REASON_CODE) {
        return None;
    }
    let reasons: Vec<Reason> = serde_json::from_str(&stored.reasons).unwrap_or_default();
    reasons.into_iter().find(|r| r.code == REFUSED_REASON_CODE)
}

/// A roster row judging a refused plot again keeps the refusal.
pub fn carry_refusal(refused: &Reason, values: &mut PlotValues) {
    let mut reasons: Vec<Reason> = serde_json::from_str(&values.reasons).unwrap_or_default();
    reasons.retain(|r| r.code != REFUSED_REASON_CODE);
    reasons.push(refused.clone());
    values.eligible = false;
    values.reasons = serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into());
}

/// A sampled plot is evidence of the village's inspection: it is not
/// deleted (refuse it at inspection, or cancel the policy, instead).
pub fn refuse_delete_if_sampled(conn: &mut DbConn, plot_ids: &[i64]) -> AppResult<()> {
    if rows::sampled_count(conn, plot_ids)? > 0 {
        return Err(AppError::conflict(
            ErrorCode::PlotSampled,
            "该地块已被抽为验标样本，不能删除；如不予承保，请在验标时登记“不予承保”",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- photos

#[derive(Debug, Clone, Serialize)]
pub struct PhotoOutcome {
    pub created: bool,
    pub id: i64,
    pub sha256: String,
    pub size_bytes: i64,
}

/// Who may send inspection photos at all — asked before the bytes are read.
pub fn may_upload_photos(actor: &Actor) -> bool {
    actor.may(Action::RecordInspection)
}

/// The sample exists and is the actor's to see (before the bytes are read).
pub fn check_sample(conn: &mut DbConn, actor: &Actor, sample_id: i64) -> AppResult<()> {
    sample_in_scope(conn, actor, sample_id).map(drop)
}

const PHOTO_CLIENT_ID_MESSAGE: &str = "照片缺少有效的编号（client_id）";

/// A photo of a sampled plot: recognised by its bytes (decoded whole), under
/// the size limit, stored once per client id with its SHA-256.
pub fn add_photo(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    sample_id: i64,
    client_id: &str,
    p: &crate::app::photos::Stored,
) -> AppResult<PhotoOutcome> {
    actor.require(may_upload_photos(actor))?;
    let sha = p.sha256.as_str();
    let look = |conn: &mut DbConn| -> AppResult<Option<PhotoOutcome>> {
        let (s, _) = sample_in_scope(conn, actor, sample_id)?;
        let client_id = checked_client_id(client_id, PHOTO_CLIENT_ID_MESSAGE)?;
        match rows::photo_by_client_id(conn, client_id)? {
            None => Ok(None),
            Some(p) if p.sample_id == s.id && p.sha256 == sha => Ok(Some(PhotoOutcome {
                created: false,
                id: p.id,
                sha256: p.sha256,
                size_bytes: p.size_bytes,
            })),
            Some(_) => Err(AppError::conflict(
                ErrorCode::ClientIdReused,
                "该照片编号已用于其他照片",
            )),
        }
    };
    let first = super::tx(conn, |conn| {
        if let Some(out) = look(conn)? {
            return Ok(out);
        }
        let (s, d) = sample_in_scope(conn, actor, sample_id)?;
        let client_id = checked_client_id(client_id, PHOTO_CLIENT_ID_MESSAGE)?;
        if d.status != DrawStatus::Current.as_str() {
            return Err(AppError::conflict(
                ErrorCode::InspectionDrawSuperseded,
                "该村已重新抽样，此地块不在最新的抽样中，请刷新页面",
            ));
        }
        let id = rows::insert_photo(
            conn,
            &rows::NewPhoto {
                sample_id: s.id,
                client_id,
                sha256: sha,
                content_type: p.content_type,
                size_bytes: p.size_bytes,
                width: p.width,
                height: p.height,
                original_sha256: (p.original_sha256 != p.sha256)
                    .then_some(p.original_sha256.as_str()),
                uploaded_by: (actor.user_id > 0).then_some(actor.user_id),
                created_at: Instant::from_utc(now),
            },
        )?;
        audit::record(
            conn,
            actor,
            "photo",
            "inspection_sample",
            s.id,
            None::<&()>,
            Some(&serde_json::json!({"photo_id": id, "sha256": sha})),
        )?;
        Ok(PhotoOutcome {
            created: true,
            id,
            sha256: sha.to_string(),
            size_bytes: p.size_bytes,
        })
    });
    match first {
        Err(e @ (AppError::Conflict { .. } | AppError::Busy(_))) => match super::tx(conn, look)? {
            Some(out) => Ok(out),
            None => Err(e),
        },
        other => other,
    }
}

/// Where the bytes of a photo the actor may see are.
pub fn photo(
    conn: &mut DbConn,
    actor: &Actor,
    sample_id: i64,
    photo_id: i64,
) -> AppResult<crate::app::photos::Content> {
    actor.require(may_see(actor))?;
    sample_in_scope(conn, actor, sample_id)?;
    rows::photo_content(conn, sample_id, photo_id)?
        .map(crate::app::photos::Content::from_row)
        .ok_or_else(|| AppError::not_found("照片"))
}

// ---------------------------------------------------------------- the tablet page

#[derive(Debug, Clone, Serialize)]
pub struct SampleDetail {
    pub sample: SampleView,
    pub draw_current: bool,
    pub village_id: i64,
    pub village_name: String,
    pub scheme_code: String,
    pub boundary: Option<String>,
    pub max_distance_m: u32,
    pub tree_count: i32,
    pub variety_name: String,
    /// The photos already received, oldest first.
    pub photo_ids: Vec<i64>,
}

/// One sampled plot, for the tablet page.
pub fn sample_detail(conn: &mut DbConn, actor: &Actor, sample_id: i64) -> AppResult<SampleDetail> {
    actor.require(may_see(actor))?;
    let (s, d) = sample_in_scope(conn, actor, sample_id)?;
    let plot = super::load::<Plot>(conn, s.plot_id)?;
    let scheme = super::schemes::by_id(conn, d.scheme_id)?;
    let v = super::areas::area_by_id(conn, d.village_id)?;
    let grower: (i64, String) = crate::db::schema::growers::table
        .find(plot.grower_id)
        .select((
            crate::db::schema::growers::id,
            crate::db::schema::growers::name,
        ))
        .first(conn)?;
    let result = rows::result_of_sample(conn, s.id)?;
    let photo_ids: Vec<i64> = rows::photos_of(conn, &[s.id])?
        .iter()
        .map(|p| p.id)
        .collect();
    let photos = photo_ids.len();
    Ok(SampleDetail {
        sample: SampleView {
            id: s.id,
            position: s.position,
            plot_id: plot.id,
            plot_code: plot.code.clone(),
            grower_id: grower.0,
            grower_name: grower.1,
            area_mu: s.area_units,
            current_mu: plot.area_units,
            has_boundary: plot.boundary.is_some(),
            photos,
            result: result.as_ref().map(result_view),
        },
        draw_current: d.status == DrawStatus::Current.as_str(),
        village_id: v.id,
        village_name: v.name,
        scheme_code: scheme.def.code.clone(),
        boundary: plot.boundary.clone(),
        max_distance_m: scheme.def.claim_rules.max_distance_m,
        tree_count: plot.tree_count,
        variety_name: scheme
            .def
            .variety(&plot.variety)
            .map(|v| v.name.clone())
            .unwrap_or_else(|| plot.variety.clone()),
        photo_ids,
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
