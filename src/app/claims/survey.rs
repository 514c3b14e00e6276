//! The survey on site (查勘定损): the tablet's submission, checked and
//! turned into a loss, a payout and a recorded survey.

use super::access::{check_version, save, wrong_status};
use super::*;
use crate::app::{on_site, Actor};
use crate::db::claims::{self as rows, ClaimChange};
use crate::db::models::{Claim, ClaimSurvey, Plot};
use crate::db::DbConn;
use crate::domain::claims::{payout, LossRate, Payout};
use crate::domain::measure::normalize_width;
use crate::domain::scheme::ClaimRules;
use crate::domain::text::TextKind;
use crate::domain::time::Instant;
use crate::domain::Mu;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

const MAX_SIGNATURE_BYTES: usize = 512 * 1024;

// ---------------------------------------------------------------- survey

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SurveyInput {
    /// Made by the tablet; the same id sent twice is the same survey.
    pub client_id: String,
    /// The claim version the tablet loaded.
    pub version: Option<i32>,
    /// When the surveyor pressed "submit" on site; now when left out.
    pub surveyed_at: Option<String>,
    pub latitude: Option<serde_json::Value>,
    pub longitude: Option<serde_json::Value>,
    pub accuracy_m: Option<f64>,
    pub damaged_trees: Option<serde_json::Value>,
    pub affected_mu: String,
    pub loss_rate: String,
    pub adjuster_confirmed: bool,
    pub co_surveyor_confirmed: bool,
    pub grower_signed_name: String,
    /// A PNG data URL of the signature drawn on screen.
    pub grower_signature: String,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SurveyOutcome {
    /// False when this client id had already arrived: nothing new was written.
    pub created: bool,
    pub survey_id: i64,
    pub location_check: String,
    pub distance_m: i32,
    pub payout: Payout,
    pub claim: ClaimView,
}

/// The survey already recorded under this client id, if any.
fn recorded_survey(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Claim,
    client_id: &str,
) -> AppResult<Option<SurveyOutcome>> {
    let Some(existing) = rows::survey_by_client_id(conn, client_id)? else {
        return Ok(None);
    };
    if existing.claim_id != c.id {
        return Err(AppError::conflict(
            ErrorCode::ClientIdReused,
            "该查勘记录编号已用于其他赔案",
        ));
    }
    let detail: Payout = serde_json::from_str(&existing.payout_detail)
        .map_err(|e| AppError::Internal(format!("payout detail: {e}")))?;
    Ok(Some(SurveyOutcome {
        created: false,
        survey_id: existing.id,
        location_check: existing.location_check,
        distance_m: existing.distance_m,
        payout: detail,
        claim: view(conn, actor, c)?,
    }))
}

const SURVEY_CLIENT_ID_MESSAGE: &str = "提交缺少有效的设备编号（client_id），请刷新查勘页面后重试";

/// Record the survey made on site. Resending the same client id changes
/// nothing and answers with what was recorded, even when the copies arrive
/// at the same moment. A second, different survey of a claim that already
/// has one must name the claim version it was made against.
pub fn submit_survey(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &SurveyInput,
) -> AppResult<SurveyOutcome> {
    let first = record_survey(conn, actor, now, id, input);
    or_recorded(conn, first, |conn| Ok(earlier(conn, actor, id, input)?.2))
}

/// The claim, the survey's checked client id, and the survey already
/// recorded under it.
fn earlier<'a>(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: &'a SurveyInput,
) -> AppResult<(Claim, &'a str, Option<SurveyOutcome>)> {
    resent(
        conn,
        actor,
        id,
        &input.client_id,
        SURVEY_CLIENT_ID_MESSAGE,
        |conn, c, client_id| recorded_survey(conn, actor, c, client_id),
    )
}

fn record_survey(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &SurveyInput,
) -> AppResult<SurveyOutcome> {
    crate::app::tx(conn, |conn| {
        // Load and check: a resend answers with what was recorded.
        let (c, client_id, recorded) = earlier(conn, actor, id, input)?;
        if let Some(out) = recorded {
            return Ok(out);
        }
        check_may_survey(actor, &c, input)?;
        let scheme = crate::app::schemes::by_id(conn, c.scheme_id)?;
        let plot = crate::app::load::<Plot>(conn, c.plot_id)?;
        // Validate what the tablet sent, every field before any write.
        let facts = check_survey_input(&c, &plot, &scheme.def.claim_rules, now, input)?;
        // The loss and the payout it leads to.
        let remaining = remaining_sum(conn, &c)?;
        let pay = payout(
            &scheme.def.claim_rules,
            scheme.def.sum_insured_per_mu,
            facts.affected,
            facts.loss,
            remaining,
        );
        // Write the survey and the claim; `save` audits the step.
        write_survey(conn, actor, now, &c, client_id, facts, pay)
    })
}

/// The actor is one of the two assigned surveyors, the claim is waiting for
/// a survey, and a second survey names the version it was made against.
fn check_may_survey(actor: &Actor, c: &Claim, input: &SurveyInput) -> AppResult<()> {
    if !is_surveyor(actor, c) {
        return Err(AppError::Forbidden(
            "只有派工指定的查勘员或县林业局共同查勘人员可以提交查勘".into(),
        ));
    }
    if !matches!(c.status, ClaimStatus::Dispatched | ClaimStatus::Surveyed) {
        return Err(wrong_status(c, "提交查勘"));
    }
    if c.status == ClaimStatus::Surveyed && input.version.is_none() {
        // Without it, two different surveys of one claim would both be
        // recorded and the later one would silently set the payout.
        return Err(AppError::conflict(
            ErrorCode::VersionRequired,
            format!(
                "赔案{}已有查勘记录，重新查勘须基于最新版本（请刷新页面后重新提交，当前为第{}版）",
                c.claim_no, c.version
            ),
        ));
    }
    check_version(c, input.version)?;
    Ok(())
}

/// What a survey submission says, checked.
struct SurveyFacts<'a> {
    affected: Mu,
    loss: LossRate,
    spot: on_site::Spot,
    damaged_trees: i32,
    signed_name: Option<String>,
    notes: Option<String>,
    signature: &'a str,
    surveyed: DateTime<Utc>,
}

/// Every field of the submission against the plot and the scheme's rules;
/// all errors at once.
fn check_survey_input<'a>(
    c: &Claim,
    plot: &Plot,
    rules: &ClaimRules,
    now: DateTime<Utc>,
    input: &'a SurveyInput,
) -> AppResult<SurveyFacts<'a>> {
    let mut errs = Vec::new();

    let spot = on_site::spot(
        &mut errs,
        (&input.latitude, &input.longitude, input.accuracy_m),
        plot,
        rules.max_distance_m,
        "查勘",
    )?;
    let trees = on_site::text(&input.damaged_trees);
    let damaged_trees = match trees.parse::<i32>() {
        Ok(n) if (0..=plot.tree_count.max(0)).contains(&n) => Some(n),
        Ok(n) if n >= 0 => {
            errs.push(FieldError::new(
                "damaged_trees",
                ErrorCode::DamagedTreesTooMany,
                format!("受损株数{n}超过地块登记的{}株", plot.tree_count),
            ));
            None
        }
        _ => {
            errs.push(FieldError::new(
                "damaged_trees",
                ErrorCode::DamagedTreesInvalid,
                "请填写受损株数（0或正整数）",
            ));
            None
        }
    };
    let insured = plot.area_units;
    let affected = match Mu::parse(&normalize_width(&input.affected_mu)) {
        Ok(m) if m.units() <= 0 => {
            errs.push(FieldError::new(
                "affected_mu",
                ErrorCode::AffectedAreaInvalid,
                "受灾面积必须大于0",
            ));
            None
        }
        Ok(m) if m > insured => {
            errs.push(FieldError::new(
                "affected_mu",
                ErrorCode::AffectedAreaTooLarge,
                format!("受灾面积{m}亩超过该地块的投保面积{insured}亩"),
            ));
            None
        }
        Ok(m) => Some(m),
        Err(e) => {
            errs.push(FieldError::new(
                "affected_mu",
                ErrorCode::AffectedAreaInvalid,
                e.to_string(),
            ));
            None
        }
    };
    let loss = match LossRate::parse_percent(&normalize_width(&input.loss_rate)) {
        Ok(l) => Some(l),
        Err(e) => {
            errs.push(FieldError::new(
                "loss_rate",
                ErrorCode::LossRateInvalid,
                e.to_string(),
            ));
            None
        }
    };
    if !input.adjuster_confirmed || !input.co_surveyor_confirmed {
        errs.push(FieldError::new(
            "confirmed",
            ErrorCode::ConfirmationMissing,
            "查勘员和县林业局共同查勘人员都须确认查勘结果",
        ));
    }
    // The shared text rules (domain::text), as on every other entry path.
    let signed_name = text_field(
        &mut errs,
        "grower_signed_name",
        "签字农户姓名",
        &input.grower_signed_name,
        TextKind::Name,
    );
    let notes = text_field(
        &mut errs,
        "notes",
        "查勘备注",
        &input.notes,
        TextKind::Notes,
    );
    if signed_name.as_deref() == Some("") {
        errs.push(FieldError::new(
            "grower_signed_name",
            ErrorCode::GrowerNameMissing,
            "请填写签字确认的农户姓名",
        ));
    }
    let sig = input.grower_signature.trim();
    if !sig.starts_with("data:image/png;base64,") || sig.len() < 40 {
        errs.push(FieldError::new(
            "grower_signature",
            ErrorCode::SignatureMissing,
            "请农户在屏幕上签字确认",
        ));
    } else if sig.len() > MAX_SIGNATURE_BYTES {
        errs.push(FieldError::new(
            "grower_signature",
            ErrorCode::SignatureTooLarge,
            "签名图片过大，请清除后重新签字",
        ));
    }
    let surveyed = on_site::made_at(
        &mut errs,
        input.surveyed_at.as_deref(),
        ("surveyed_at", "查勘时间"),
        now,
    )?;
    // A time the tablet sent, not the server's own "now" standing in for it.
    if surveyed != now && surveyed < c.reported_at.utc() {
        errs.push(FieldError::new(
            "surveyed_at",
            ErrorCode::SurveyedBeforeReport,
            "查勘时间不能早于报案时间",
        ));
    }
    // Each missing value pushed its error above.
    let (true, Some(affected), Some(loss), Some(spot), Some(damaged_trees)) =
        (errs.is_empty(), affected, loss, spot, damaged_trees)
    else {
        return Err(AppError::Validation(errs));
    };
    Ok(SurveyFacts {
        affected,
        loss,
        spot,
        damaged_trees,
        signed_name,
        notes,
        signature: sig,
        surveyed,
    })
}

/// Insert the survey row and move the claim to surveyed with its payout.
fn write_survey(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    c: &Claim,
    client_id: &str,
    facts: SurveyFacts,
    pay: Payout,
) -> AppResult<SurveyOutcome> {
    let SurveyFacts {
        affected,
        loss,
        spot,
        damaged_trees,
        signed_name,
        notes,
        signature: sig,
        surveyed,
    } = facts;
    let (latitude, longitude) = spot.stored();
    let row = ClaimSurvey {
        id: 0,
        claim_id: c.id,
        client_id: client_id.to_string(),
        surveyed_at: Instant::from_utc(surveyed),
        received_at: Instant::from_utc(now),
        latitude,
        longitude,
        accuracy_m: spot.accuracy_m,
        location_check: spot.check.to_string(),
        distance_m: spot.distance_m,
        damaged_trees,
        affected_area_units: affected,
        loss_rate_bp: loss.bp(),
        payout_fen: pay.amount,
        payout_detail: serde_json::to_string(&pay)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        adjuster_id: c.adjuster_id.unwrap_or(actor.user_id),
        co_surveyor_id: c.co_surveyor_id.unwrap_or(actor.user_id),
        grower_signed_name: signed_name.unwrap_or_default(),
        grower_signature: sig.to_string(),
        notes: notes.unwrap_or_default(),
        submitted_by: author(actor),
    };
    let survey_id = rows::insert_survey(conn, &row)?;
    let change = ClaimChange {
        surveyed_at: Some(row.surveyed_at),
        payout_fen: Some(Some(pay.amount)),
        ..ClaimChange::to(ClaimStatus::Surveyed)
    };
    let after = save(conn, actor, "survey", c, row.received_at, &change)?;
    Ok(SurveyOutcome {
        created: true,
        survey_id,
        location_check: spot.check.to_string(),
        distance_m: spot.distance_m,
        payout: pay,
        claim: view(conn, actor, &after)?,
    })
}
