//! Recording a sampled plot's result on site, exactly once per client id,
//! and the refusal (不予承保) a result may put on the plot.

use super::*;

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

/// A sample the actor may see, with its draw.
pub(super) fn sample_in_scope(
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
    on_site::or_recorded(conn, first, |conn| recorded(conn, actor, sample_id, input))
}

/// The result already recorded under the input's client id, if any.
fn recorded(
    conn: &mut DbConn,
    actor: &Actor,
    sample_id: i64,
    input: &ResultInput,
) -> AppResult<Option<ResultOutcome>> {
    let (s, _) = sample_in_scope(conn, actor, sample_id)?;
    let client_id = on_site::client_id(&input.client_id, CLIENT_ID_MESSAGE)?;
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
    let p = crate::app::load::<Plot>(conn, r.plot_id)?;
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

/// What a submission says, checked.
struct Facts {
    outcome: Outcome,
    area_after: Option<Mu>,
    reason: String,
    notes: String,
    inspected: DateTime<Utc>,
    spot: on_site::Spot,
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
    let spot = on_site::spot(
        &mut errs,
        (&input.latitude, &input.longitude, input.accuracy_m),
        plot,
        max_distance_m,
        "验标",
    )?;
    let area_text = on_site::text(&input.area_mu);
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
    let inspected = on_site::made_at(
        &mut errs,
        input.inspected_at.as_deref(),
        ("inspected_at", "验标时间"),
        now,
    )?;
    let (true, Some(outcome), Some(spot)) = (errs.is_empty(), outcome, spot) else {
        return Err(AppError::Validation(errs));
    };
    Ok(Facts {
        outcome,
        area_after,
        reason,
        notes,
        inspected,
        spot,
    })
}

fn record_once(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    sample_id: i64,
    input: &ResultInput,
) -> AppResult<ResultOutcome> {
    crate::app::tx(conn, |conn| {
        if let Some(out) = recorded(conn, actor, sample_id, input)? {
            return Ok(out);
        }
        let (s, d) = sample_in_scope(conn, actor, sample_id)?;
        let client_id = on_site::client_id(&input.client_id, CLIENT_ID_MESSAGE)?;
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
        let plot = crate::app::load::<Plot>(conn, s.plot_id)?;
        let scheme = crate::app::schemes::by_id(conn, plot.scheme_id)?;
        let facts = check_input(&plot, scheme.def.claim_rules.max_distance_m, now, input)?;
        let note = apply(conn, actor, &plot, &scheme, &facts)?;
        let (latitude, longitude) = facts.spot.stored();
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
            latitude,
            longitude,
            accuracy_m: facts.spot.accuracy_m,
            location_check: facts.spot.check.to_string(),
            distance_m: facts.spot.distance_m,
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
                    &crate::app::plots::facts_of(
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
    let after = crate::app::load::<Plot>(conn, plot.id)?;
    audit::updated(conn, actor, "plot", plot.id, plot, &after)?;
    crate::app::policies::sync(conn, actor, plot.grower_id, plot.scheme_id)?;
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
