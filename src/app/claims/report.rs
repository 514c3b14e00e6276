//! Reporting a loss (报案): finding the policy, checking the report, the
//! reasons it is declined at once, and inserting the claim.

use super::views::personal;
use super::*;
use crate::app::clock::{self, china_date};
use crate::app::{audit, Actor, Role};
use crate::db::models::{Claim, Grower, NewClaim, Plot, Policy};
use crate::db::schema::{growers, plots, policies};
use crate::db::DbConn;
use crate::domain::id_number::{mask_id, mask_phone};
use crate::domain::measure::normalize_width;
use crate::domain::policy::PolicyStatus;
use crate::domain::policy::{covers_day, Cover};
use crate::domain::scheme::SchemeDef;
use crate::domain::text::TextKind;
use crate::domain::time::Instant;
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------- lookup

/// A policy a clerk can put a report on, with its insured plots.
#[derive(Debug, Clone, Serialize)]
pub struct LookupHit {
    pub policy_id: i64,
    pub policy_no: String,
    pub status: PolicyStatus,
    pub status_name: String,
    pub grower_name: String,
    pub grower_id_number: String,
    pub grower_phone: String,
    pub township_name: String,
    pub village_name: String,
    pub cover_start: Option<String>,
    pub cover_end: Option<String>,
    pub sum_insured: Fen,
    /// The sum insured less the payouts live claims on the policy hold.
    pub remaining_sum: Fen,
    /// Nothing left to pay on this policy: a new claim would pay 0.00.
    pub cover_used_up: bool,
    pub plots: Vec<LookupPlot>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LookupPlot {
    pub id: i64,
    pub code: String,
    pub variety: String,
    pub variety_name: String,
    pub mu: Mu,
    pub eligible: bool,
    pub has_boundary: bool,
    /// Claims already on this plot under this policy, and the latest of them.
    pub claims_count: usize,
    pub latest_claim: Option<EarlierClaim>,
}

/// An earlier claim on a plot, as the report form shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EarlierClaim {
    pub id: i64,
    pub claim_no: String,
    pub status: ClaimStatus,
    pub status_name: String,
    pub occurred_on: String,
}

/// Find policies by grower name, policy number, the last 4 characters of the
/// ID number or phone, or (audited) the full ID number or phone; every hit
/// masked, as in any list (see `growers::Search`).
pub fn lookup(conn: &mut DbConn, actor: &Actor, q: &str) -> AppResult<Vec<LookupHit>> {
    actor.require(may_handle(actor) || actor.role == Role::CountyForestry)?;
    let q = normalize_width(q).trim().to_uppercase();
    if q.chars().count() < 2 {
        return Err(AppError::invalid(
            "q",
            ErrorCode::QueryTooShort,
            "请输入至少2个字：农户姓名、身份证号、电话或保单号",
        ));
    }
    let Some(search) = crate::app::growers::Search::new(actor, &q) else {
        return Ok(Vec::new());
    };
    let found: Vec<Grower> = growers::table
        .into_boxed()
        .filter(search.cond())
        .order(growers::id)
        .limit(50)
        .select(Grower::as_select())
        .load(conn)?;
    let ids: Vec<i64> = found.iter().map(|g| g.id).collect();
    let by_id: std::collections::HashMap<i64, Grower> =
        found.into_iter().map(|g| (g.id, g)).collect();
    let mut hits: Vec<(Policy, Grower)> = policies::table
        .filter(policies::grower_id.eq_any(&ids))
        .order(policies::id)
        .limit(50)
        .select(Policy::as_select())
        .load(conn)?
        .into_iter()
        .filter_map(|p| Some((by_id.get(&p.grower_id)?.clone(), p)))
        .map(|(g, p)| (p, g))
        .collect();
    hits.sort_by_key(|(p, _)| p.id);
    search.audit(conn, actor, hits.iter().map(|(_, g)| g))?;
    let names = crate::app::areas::names(conn)?;
    let schemes: std::collections::HashMap<i64, SchemeDef> = crate::app::schemes::list(conn)?
        .into_iter()
        .map(|s| (s.id, s.def))
        .collect();
    let full = false;
    let mut out = Vec::with_capacity(hits.len());
    for (p, g) in hits {
        let earlier: Vec<Claim> = {
            use crate::db::schema::claims;
            claims::table
                .filter(claims::policy_id.eq(p.id))
                .order(claims::id)
                .select(Claim::as_select())
                .load(conn)?
        };
        let held = crate::db::claims::payouts_held(conn, p.id, 0, &super::PAYOUT_HOLDING)?;
        let remaining = (p.sum_insured_fen - held).max(Fen::ZERO);
        let variety_name = |code: &str| {
            schemes
                .get(&p.scheme_id)
                .and_then(|d| d.variety(code))
                .map(|v| v.name.clone())
                .unwrap_or_else(|| code.to_string())
        };
        let pl: Vec<Plot> = plots::table
            .filter(plots::grower_id.eq(g.id))
            .filter(plots::scheme_id.eq(p.scheme_id))
            .order(plots::code)
            .select(Plot::as_select())
            .load(conn)?;
        out.push(LookupHit {
            policy_id: p.id,
            policy_no: p.policy_no.clone(),
            status_name: p.status.name().to_string(),
            status: p.status,
            grower_name: g.name.clone(),
            grower_id_number: personal(full, &g.id_number, mask_id),
            grower_phone: personal(full, &g.phone, mask_phone),
            township_name: names
                .get(&g.township_id)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            village_name: names
                .get(&g.village_id)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            cover_start: p.cover_start.map(|d| d.to_text()),
            cover_end: p.cover_end.map(|d| d.to_text()),
            sum_insured: p.sum_insured_fen,
            remaining_sum: remaining,
            cover_used_up: remaining == Fen::ZERO,
            plots: pl
                .into_iter()
                .map(|x| {
                    let on_plot: Vec<&Claim> =
                        earlier.iter().filter(|c| c.plot_id == x.id).collect();
                    LookupPlot {
                        id: x.id,
                        variety_name: variety_name(&x.variety),
                        code: x.code,
                        variety: x.variety,
                        mu: x.area_units,
                        eligible: x.eligible,
                        has_boundary: x.boundary.is_some(),
                        claims_count: on_plot.len(),
                        latest_claim: on_plot.last().map(|c| EarlierClaim {
                            id: c.id,
                            claim_no: c.claim_no.clone(),
                            status: c.status,
                            status_name: c.status.name().to_string(),
                            occurred_on: c.occurred_at.china_day().to_text(),
                        }),
                    }
                })
                .collect(),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- report

/// Which policy and plot a report is about: the policy by id or number, the
/// plot by id or code (or none, when the policy has one plot).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PlotRef {
    pub policy_no: Option<String>,
    pub policy_id: Option<i64>,
    pub plot_id: Option<i64>,
    pub plot_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportInput {
    #[serde(flatten)]
    pub target: PlotRef,
    #[serde(default)]
    pub peril: String,
    #[serde(default)]
    pub occurred_at: String,
    /// When the call came in; now when left out.
    #[serde(default)]
    pub reported_at: Option<String>,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_phone: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The report's one-shot token: the page form's, or an API caller's
    /// client id (`Idempotency-Key`). The same token again answers with the
    /// claim it first recorded, so a double tap records one claim.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Why a second report for the same plot and day is taken anyway.
    #[serde(default)]
    pub duplicate_reason: Option<String>,
    /// The caller has seen that an excluded cause (责任免除) declines the
    /// claim at once, and wants it recorded so.
    #[serde(default)]
    pub confirm_exclusion: bool,
}

/// A report taken, or the claim an earlier copy of it recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ReportOutcome {
    pub created: bool,
    #[serde(flatten)]
    pub claim: ClaimView,
}

/// The facts of a report, checked; the decline reasons are decided from these.
pub(super) struct Checked {
    pub(super) policy: Policy,
    pub(super) plot: Plot,
    pub(super) scheme: SchemeDef,
    pub(super) scheme_id: i64,
    pub(super) peril: String,
    pub(super) occurred: DateTime<Utc>,
    pub(super) reported: DateTime<Utc>,
    pub(super) reporter_name: String,
    pub(super) reporter_phone: String,
    pub(super) channel: String,
    pub(super) description: String,
    pub(super) duplicate_reason: Option<String>,
}

fn find_policy(conn: &mut DbConn, input: &PlotRef) -> AppResult<Policy> {
    let found = if let Some(id) = input.policy_id {
        policies::table
            .find(id)
            .select(Policy::as_select())
            .first(conn)
            .optional()?
    } else if let Some(no) = input.policy_no.as_deref().filter(|s| !s.trim().is_empty()) {
        policies::table
            .filter(policies::policy_no.eq(normalize_width(no).trim().to_uppercase()))
            .select(Policy::as_select())
            .first(conn)
            .optional()?
    } else {
        return Err(AppError::invalid(
            "policy_no",
            ErrorCode::PolicyMissing,
            "请先查找并选择保单",
        ));
    };
    found.ok_or_else(|| {
        AppError::invalid(
            "policy_no",
            ErrorCode::PolicyNotFound,
            format!(
                "未找到保单{}",
                input.policy_no.as_deref().unwrap_or_default()
            ),
        )
    })
}

pub(super) fn check_report(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    input: &ReportInput,
) -> AppResult<Checked> {
    let mut errs: Vec<FieldError> = Vec::new();
    let policy = find_policy(conn, &input.target)?;
    let scheme = crate::app::schemes::by_id(conn, policy.scheme_id)?;
    let plot_q = plots::table
        .filter(plots::grower_id.eq(policy.grower_id))
        .filter(plots::scheme_id.eq(policy.scheme_id))
        .select(Plot::as_select());
    let plot: Option<Plot> = match (input.target.plot_id, input.target.plot_code.as_deref()) {
        (Some(id), _) => plot_q.filter(plots::id.eq(id)).first(conn).optional()?,
        (None, Some(code)) if !code.trim().is_empty() => plot_q
            .filter(plots::code.eq(normalize_width(code).trim().to_string()))
            .first(conn)
            .optional()?,
        _ => {
            // A policy with a single plot needs no choice.
            let all: Vec<Plot> = plot_q.load(conn)?;
            if all.len() == 1 {
                all.into_iter().next()
            } else {
                errs.push(FieldError::new(
                    "plot_id",
                    ErrorCode::PlotMissing,
                    "该保单有多个地块，请选择受灾地块",
                ));
                None
            }
        }
    };
    if plot.is_none() && errs.is_empty() {
        errs.push(FieldError::new(
            "plot_id",
            ErrorCode::PlotNotOnPolicy,
            "所选地块不属于该保单的被保险人",
        ));
    }
    let peril_in = normalize_width(&input.peril).trim().to_string();
    let peril = scheme
        .def
        .perils
        .iter()
        .chain(scheme.def.excluded_causes.iter())
        .find(|p| p.code == peril_in || p.name == peril_in)
        .map(|p| p.code.clone())
        .unwrap_or(peril_in);
    if peril.is_empty() {
        errs.push(FieldError::new(
            "peril",
            ErrorCode::PerilMissing,
            "请选择灾害原因",
        ));
    }
    let occurred = clock::parse_input("occurred_at", "出险时间", &input.occurred_at);
    let reported = match input
        .reported_at
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(s) => clock::parse_input("reported_at", "报案时间", s),
        None => Ok(now),
    };
    // A little slack for a device clock a minute ahead.
    let latest = now + Duration::minutes(5);
    for (t, field, code, message) in [
        (
            &occurred,
            "occurred_at",
            ErrorCode::OccurredInFuture,
            "出险时间不能晚于当前时间",
        ),
        (
            &reported,
            "reported_at",
            ErrorCode::ReportedInFuture,
            "报案时间不能晚于当前时间",
        ),
    ] {
        if matches!(t, Ok(t) if *t > latest) {
            errs.push(FieldError::new(field, code, message));
        }
    }
    if let (Ok(o), Ok(r)) = (&occurred, &reported) {
        if o > r {
            errs.push(FieldError::new(
                "occurred_at",
                ErrorCode::OccurredAfterReport,
                "出险时间不能晚于报案时间",
            ));
        }
    }
    for e in [&occurred, &reported] {
        if let Err(AppError::Validation(v)) = e {
            errs.extend(v.iter().cloned());
        }
    }
    // The shared text rules (domain::text) for what the caller typed.
    let mut text_rule = |field: &str, label: &str, raw: &str, kind: TextKind| {
        text_field(&mut errs, field, label, raw, kind).unwrap_or_default()
    };
    let reporter_phone = text_rule(
        "reporter_phone",
        "报案人电话",
        &normalize_width(&input.reporter_phone),
        TextKind::Phone,
    );
    let description = text_rule(
        "description",
        "出险经过",
        &input.description,
        TextKind::Notes,
    );
    text_rule("peril", "灾害原因", &peril, TextKind::Place);
    let reporter_name = text_rule(
        "reporter_name",
        "报案人姓名",
        &input.reporter_name,
        TextKind::Name,
    );
    let duplicate_reason = input
        .duplicate_reason
        .as_deref()
        .map(|r| text_rule("duplicate_reason", "重复报案原因", r, TextKind::Notes))
        .filter(|r| !r.is_empty());
    if reporter_name.is_empty() && !errs.iter().any(|e| e.field == "reporter_name") {
        errs.push(FieldError::new(
            "reporter_name",
            ErrorCode::ReporterMissing,
            "请填写报案人姓名",
        ));
    }
    let channel = input
        .channel
        .clone()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| "phone".into());
    if !CHANNELS.iter().any(|(c, _)| *c == channel) {
        errs.push(FieldError::new(
            "channel",
            ErrorCode::ChannelInvalid,
            "报案方式应为：电话报案、上门报案、系统接口或批量登记",
        ));
    }
    // Each missing value above pushed its error, so this is the error path.
    let (true, Some(plot), Ok(occurred), Ok(reported)) =
        (errs.is_empty(), plot, occurred, reported)
    else {
        return Err(AppError::Validation(errs));
    };
    Ok(Checked {
        policy,
        plot,
        scheme_id: scheme.id,
        scheme: scheme.def,
        peril,
        occurred,
        reported,
        reporter_name,
        reporter_phone,
        channel,
        description,
        duplicate_reason,
    })
}

/// The excluded cause (责任免除) a report names, if it does.
fn excluded_cause(k: &Checked) -> Option<&crate::domain::scheme::Named> {
    k.scheme.excluded_causes.iter().find(|p| p.code == k.peril)
}

/// An excluded cause declines the claim as it is recorded: the caller must
/// have said they know (`confirm_exclusion`), else nothing is written.
pub(super) fn check_exclusion(k: &Checked, confirmed: bool) -> AppResult<()> {
    match excluded_cause(k) {
        Some(x) if !confirmed => Err(AppError::conflict(
            ErrorCode::ExclusionUnconfirmed,
            format!(
                "“{}”属于责任免除：登记后本案将立即拒赔（拒赔原因：{}属于责任免除），不会派工查勘。确认无误请再次提交并勾选确认",
                x.name, x.name
            ),
        )),
        _ => Ok(()),
    }
}

/// Live (not declined) claims on the same plot and policy whose loss
/// happened on the same China day as this report's.
fn same_day_claims(conn: &mut DbConn, k: &Checked) -> AppResult<Vec<Claim>> {
    use crate::db::schema::claims;
    let day = china_date(k.occurred);
    Ok(claims::table
        .filter(claims::policy_id.eq(k.policy.id))
        .filter(claims::plot_id.eq(k.plot.id))
        .filter(claims::status.ne(ClaimStatus::Declined))
        .order(claims::id)
        .select(Claim::as_select())
        .load(conn)?
        .into_iter()
        .filter(|c| china_date(c.occurred_at.utc()) == day)
        .collect())
}

/// A second report for the same plot and day is refused unless the caller
/// says why (`duplicate_reason`); the reason is stored with the claim.
pub(super) fn check_duplicate(conn: &mut DbConn, k: &Checked) -> AppResult<()> {
    if k.duplicate_reason.is_some() {
        return Ok(());
    }
    let earlier = same_day_claims(conn, k)?;
    match earlier.first() {
        None => Ok(()),
        Some(c) => Err(AppError::conflict(
            ErrorCode::DuplicateReport,
            format!(
                "地块{}在{}已有报案{}（{}），同一地块同一天的损失不能重复报案。如确属另一次灾害，请填写重复报案原因后再提交",
                k.plot.code,
                china_date(k.occurred),
                c.claim_no,
                c.status.name()
            ),
        )),
    }
}

/// Why a report is declined at once, if it is: every reason, the first one's code.
fn decline_reasons(k: &Checked) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let def = &k.scheme;
    let covered = def.perils.iter().any(|p| p.code == k.peril);
    if !covered {
        let listed = def
            .perils
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join("、");
        match def.excluded_causes.iter().find(|p| p.code == k.peril) {
            Some(x) if x.code == "flood_storage" => out.push((
                "flood_storage_excluded",
                format!("{}造成的损失不属于保险责任（本方案承保：{listed}）", x.name),
            )),
            Some(x) => out.push((
                "peril_excluded",
                format!("{}属于责任免除，不予赔付（本方案承保：{listed}）", x.name),
            )),
            None => out.push((
                "peril_not_covered",
                format!("“{}”不在保险责任范围内（本方案承保：{listed}）", k.peril),
            )),
        }
    }
    let day = china_date(k.occurred);
    let read = |d: Option<crate::domain::time::Day>| d.map(|d| d.date());
    let (start, end) = (read(k.policy.cover_start), read(k.policy.cover_end));
    match covers_day(k.policy.status, start, end, day) {
        Cover::Covered => {}
        Cover::NotInForce => out.push((
            "policy_not_in_force",
            format!(
                "保单{}状态为“{}”，保险责任尚未生效或已终止",
                k.policy.policy_no,
                k.policy.status.name()
            ),
        )),
        Cover::OutsidePeriod => {
            let shown =
                |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
            out.push((
                "outside_cover_period",
                format!(
                    "出险日期{}不在保险期间（{}至{}）内",
                    day,
                    shown(start),
                    shown(end)
                ),
            ))
        }
    }
    if !k.plot.eligible {
        out.push((
            "plot_not_insured",
            format!("地块{}不符合投保条件，未纳入保险", k.plot.code),
        ));
    }
    out
}

pub(super) fn insert_claim(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    k: &Checked,
    event_id: Option<i64>,
    client_id: Option<&str>,
) -> AppResult<Claim> {
    let reasons = decline_reasons(k);
    let due = k.reported + Duration::hours(i64::from(k.scheme.claim_rules.survey_hours));
    let stamp = Instant::from_utc(now);
    // A unique placeholder until the id is known; the number is made from the id.
    let placeholder = format!("NEW-{}-{}", k.policy.id, rand::random::<u64>());
    let row = NewClaim {
        claim_no: placeholder,
        scheme_id: k.scheme_id,
        policy_id: k.policy.id,
        plot_id: k.plot.id,
        grower_id: k.policy.grower_id,
        township_id: k.policy.township_id,
        event_id,
        peril: k.peril.clone(),
        occurred_at: Instant::from_utc(k.occurred),
        reported_at: Instant::from_utc(k.reported),
        reporter_name: k.reporter_name.clone(),
        reporter_phone: k.reporter_phone.clone(),
        report_channel: k.channel.clone(),
        description: k.description.clone(),
        status: if reasons.is_empty() {
            ClaimStatus::Reported
        } else {
            ClaimStatus::Declined
        },
        decline_code: reasons.first().map(|(c, _)| c.to_string()),
        decline_reason: if reasons.is_empty() {
            None
        } else {
            Some(
                reasons
                    .iter()
                    .map(|(_, m)| m.as_str())
                    .collect::<Vec<_>>()
                    .join("；"),
            )
        },
        survey_due_at: Instant::from_utc(due),
        created_at: stamp,
        updated_at: stamp,
    };
    let year = china_date(k.reported).format("%Y");
    let id = crate::db::claims::insert(conn, &row, |id| format!("BA{year}{id:07}"))?;
    let c = load(conn, id)?;
    audit::record(conn, actor, "report", "claim", id, None::<&()>, Some(&c))?;
    if client_id.is_some() || k.duplicate_reason.is_some() {
        use crate::db::schema::claim_report_marks as m;
        diesel::insert_into(m::table)
            .values((
                m::claim_id.eq(id),
                m::client_id.eq(client_id),
                m::duplicate_reason.eq(k.duplicate_reason.as_deref()),
            ))
            .execute(conn)?;
    }
    if let Some(reason) = &k.duplicate_reason {
        let same_day: Vec<String> = same_day_claims(conn, k)?
            .into_iter()
            .filter(|e| e.id != id)
            .map(|e| e.claim_no)
            .collect();
        audit::record(
            conn,
            actor,
            "report_duplicate",
            "claim",
            id,
            None::<&()>,
            Some(&serde_json::json!({"duplicate_reason": reason, "same_day_claims": same_day})),
        )?;
    }
    Ok(c)
}

/// The claim an earlier copy of this report recorded under `client_id`.
fn recorded(conn: &mut DbConn, actor: &Actor, client_id: &str) -> AppResult<Option<ReportOutcome>> {
    use crate::db::schema::claim_report_marks as m;
    let id: Option<i64> = m::table
        .filter(m::client_id.eq(client_id))
        .select(m::claim_id)
        .first(conn)
        .optional()?;
    match id {
        Some(id) => {
            let c = get_scoped(conn, actor, id)?;
            Ok(Some(ReportOutcome {
                created: false,
                claim: view(conn, actor, &c)?,
            }))
        }
        None => Ok(None),
    }
}

/// Take a report. A report outside cover is kept, declined with its reasons;
/// an excluded cause only once confirmed; a second one for the same plot and
/// day only with a reason. A report sent again with the same client id
/// answers with the claim first recorded (`created: false`).
pub fn report(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    input: &ReportInput,
) -> AppResult<ReportOutcome> {
    actor.require(may_handle(actor))?;
    let client_id = match input.client_id.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(id) => Some(crate::app::on_site::client_id(
            id,
            "报案编号无效：应为8至64位字母、数字、-或_",
        )?),
        None => None,
    };
    let first = crate::app::tx(conn, |conn| {
        if let Some(done) = client_id
            .map(|id| recorded(conn, actor, id))
            .transpose()?
            .flatten()
        {
            return Ok(done);
        }
        let k = check_report(conn, now, input)?;
        check_exclusion(&k, input.confirm_exclusion)?;
        check_duplicate(conn, &k)?;
        let c = insert_claim(conn, actor, now, &k, None, client_id)?;
        Ok(ReportOutcome {
            created: true,
            claim: view(conn, actor, &c)?,
        })
    });
    match client_id {
        // A copy sent at the same moment may have won the race to the token.
        Some(id) => or_recorded(conn, first, |conn| recorded(conn, actor, id)),
        None => first,
    }
}
