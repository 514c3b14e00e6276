//! Claims: report (报案) → dispatch → survey on site (查勘定损) → approval →
//! the grower's agreement → payment. Every step is one transaction with an
//! audit entry; the time comes from the caller's clock so deadlines can be
//! tested without waiting.

use super::clock::{self, china_date, display_text, from_text, to_text};
use super::{audit, Actor, Role};
use crate::db::models::{
    Claim, ClaimPayment, ClaimPhotoMeta, ClaimSurvey, Grower, NewClaim, Plot, Policy, User,
};
use crate::db::schema::{
    claim_events, claim_payments, claim_photos, claim_surveys, claims, growers, plots, policies,
    users,
};
use crate::db::DbConn;
use crate::domain::claims::{payout, LossRate, Payout};
use crate::domain::id_number::{mask_id, mask_phone};
use crate::domain::measure::normalize_width;
use crate::domain::scheme::SchemeDef;
use crate::domain::text::{self, TextKind};
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

pub const STATUSES: [(&str, &str); 7] = [
    ("reported", "待派工"),
    ("dispatched", "待查勘"),
    ("surveyed", "待审核"),
    ("approved", "待农户确认"),
    ("agreed", "待支付"),
    ("paid", "已支付"),
    ("declined", "已拒赔"),
];

pub const CHANNELS: [(&str, &str); 4] = [
    ("phone", "电话报案"),
    ("walk_in", "上门报案"),
    ("api", "系统接口"),
    ("batch", "批量登记"),
];

/// Claims still waiting for the survey, which the deadline is about.
pub const OPEN: [&str; 2] = ["reported", "dispatched"];
/// Claims whose payout counts against the policy's sum insured.
const PAYOUT_HOLDING: [&str; 4] = ["surveyed", "approved", "agreed", "paid"];

pub fn status_name(s: &str) -> &str {
    STATUSES
        .iter()
        .find(|(c, _)| *c == s)
        .map(|(_, n)| *n)
        .unwrap_or(s)
}

fn channel_name(s: &str) -> &str {
    CHANNELS
        .iter()
        .find(|(c, _)| *c == s)
        .map(|(_, n)| *n)
        .unwrap_or(s)
}

const MAX_SIGNATURE_BYTES: usize = 512 * 1024;

// ---------------------------------------------------------------- who may

pub fn may_handle(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Underwriter)
}

/// Who sees a claim: the insurer's desk, the county forestry bureau and
/// finance see the county; an adjuster only the claims assigned to them; a
/// township station the claims of its township.
fn sees(actor: &Actor, c: &Claim) -> bool {
    match actor.role {
        Role::Admin | Role::Underwriter | Role::CountyForestry | Role::Finance => true,
        Role::Adjuster => c.adjuster_id == Some(actor.user_id),
        Role::Township => actor.township_id == Some(c.township_id),
    }
}

/// The two people assigned to survey it.
pub fn is_surveyor(actor: &Actor, c: &Claim) -> bool {
    assigned_surveyor(actor, c.adjuster_id, c.co_surveyor_id)
}

/// The same rule on a claim's view (the pages hold views, not rows).
pub fn assigned_surveyor(actor: &Actor, adjuster: Option<i64>, co_surveyor: Option<i64>) -> bool {
    (actor.role == Role::Adjuster && adjuster == Some(actor.user_id))
        || (actor.role == Role::CountyForestry && co_surveyor == Some(actor.user_id))
}

pub fn load(conn: &mut DbConn, id: i64) -> AppResult<Claim> {
    claims::table
        .find(id)
        .select(Claim::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("赔案"))
}

/// A claim the actor may see; any other is "not found", as with policies.
pub fn get_scoped(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Claim> {
    let c = load(conn, id)?;
    if !sees(actor, &c) {
        return Err(AppError::not_found("赔案"));
    }
    Ok(c)
}

fn check_version(c: &Claim, version: Option<i32>) -> AppResult<()> {
    match version {
        Some(v) if v != c.version => Err(AppError::conflict(
            ErrorCode::VersionConflict,
            format!(
                "赔案{}已被他人修改（您看到的是第{}版，现在是第{}版），请刷新后重试",
                c.claim_no, v, c.version
            ),
        )),
        _ => Ok(()),
    }
}

fn wrong_status(c: &Claim, doing: &str) -> AppError {
    AppError::conflict(
        ErrorCode::ClaimStatusInvalid,
        format!(
            "赔案{}当前状态为“{}”，不能{}",
            c.claim_no,
            status_name(&c.status),
            doing
        ),
    )
}

/// Save the changed claim with its version bumped, and audit it.
fn save(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    before: &Claim,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut DbConn, i64) -> QueryResult<usize>,
) -> AppResult<Claim> {
    let n = change(conn, before.id)?;
    if n != 1 {
        return Err(AppError::Internal(format!(
            "claim {} not updated",
            before.id
        )));
    }
    // The version moves only if nobody else moved it since we read it.
    let bumped = diesel::update(
        claims::table
            .filter(claims::id.eq(before.id))
            .filter(claims::version.eq(before.version)),
    )
    .set((
        claims::version.eq(before.version + 1),
        claims::updated_at.eq(to_text(now)),
    ))
    .execute(conn)?;
    if bumped != 1 {
        return Err(AppError::conflict(
            ErrorCode::VersionConflict,
            format!("赔案{}已被他人修改，请刷新后重试", before.claim_no),
        ));
    }
    let after = load(conn, before.id)?;
    audit::record(
        conn,
        actor,
        action,
        "claim",
        before.id,
        Some(before),
        Some(&after),
    )?;
    Ok(after)
}

// ---------------------------------------------------------------- views

#[derive(Debug, Clone, Serialize)]
pub struct ClaimView {
    pub id: i64,
    pub claim_no: String,
    pub status: String,
    pub status_name: String,
    pub scheme_code: String,
    pub policy_id: i64,
    pub policy_no: String,
    pub plot_id: i64,
    pub plot_code: String,
    pub plot_mu: Mu,
    pub grower_id: i64,
    pub grower_name: String,
    pub grower_id_number: String,
    pub grower_phone: String,
    pub township_id: i64,
    pub township_name: String,
    pub village_name: String,
    pub event_id: Option<i64>,
    pub peril: String,
    pub peril_name: String,
    pub occurred_at: String,
    pub reported_at: String,
    pub occurred_display: String,
    pub reported_display: String,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub report_channel: String,
    pub channel_name: String,
    pub description: String,
    pub decline_code: Option<String>,
    pub decline_reason: Option<String>,
    pub survey_due_at: String,
    pub survey_due_display: String,
    pub adjuster: Option<String>,
    pub adjuster_id: Option<i64>,
    pub co_surveyor: Option<String>,
    pub co_surveyor_id: Option<i64>,
    pub surveyed_at: Option<String>,
    pub surveyed_display: Option<String>,
    pub surveyed_on_time: Option<bool>,
    pub payout: Option<Fen>,
    pub paid: Fen,
    pub review_note: String,
    pub approved_at: Option<String>,
    pub agreed_on: Option<String>,
    pub payment_due_on: Option<String>,
    pub version: i32,
}

struct Names {
    areas: HashMap<i64, crate::db::models::Area>,
    users: HashMap<i64, String>,
    schemes: HashMap<i64, SchemeDef>,
}

impl Names {
    fn load(conn: &mut DbConn) -> AppResult<Names> {
        let users: HashMap<i64, String> = users::table
            .select((users::id, users::display_name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        let schemes = super::schemes::list(conn)?
            .into_iter()
            .map(|s| (s.id, s.def))
            .collect();
        Ok(Names {
            areas: super::areas::names(conn)?,
            users,
            schemes,
        })
    }

    fn area(&self, id: i64) -> String {
        self.areas
            .get(&id)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    }

    fn user(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|i| self.users.get(&i).cloned())
    }

    fn peril(&self, scheme_id: i64, code: &str) -> String {
        self.schemes
            .get(&scheme_id)
            .and_then(|d| {
                d.perils
                    .iter()
                    .chain(d.excluded_causes.iter())
                    .find(|p| p.code == code)
                    .map(|p| p.name.clone())
            })
            .unwrap_or_else(|| code.to_string())
    }
}

fn on_time(c: &Claim) -> Option<bool> {
    c.surveyed_at.as_ref().map(|s| *s <= c.survey_due_at)
}

fn view_with(
    names: &Names,
    actor: &Actor,
    c: &Claim,
    p: &Policy,
    g: &Grower,
    plot: &Plot,
) -> ClaimView {
    let full = actor.sees_personal_data();
    ClaimView {
        id: c.id,
        claim_no: c.claim_no.clone(),
        status: c.status.clone(),
        status_name: status_name(&c.status).to_string(),
        scheme_code: names
            .schemes
            .get(&c.scheme_id)
            .map(|d| d.code.clone())
            .unwrap_or_default(),
        policy_id: p.id,
        policy_no: p.policy_no.clone(),
        plot_id: plot.id,
        plot_code: plot.code.clone(),
        plot_mu: Mu::from_units(plot.area_units),
        grower_id: g.id,
        grower_name: g.name.clone(),
        grower_id_number: personal(full, &g.id_number, mask_id),
        grower_phone: personal(full, &g.phone, mask_phone),
        township_id: c.township_id,
        township_name: names.area(c.township_id),
        village_name: names.area(g.village_id),
        event_id: c.event_id,
        peril: c.peril.clone(),
        peril_name: names.peril(c.scheme_id, &c.peril),
        occurred_at: c.occurred_at.clone(),
        reported_at: c.reported_at.clone(),
        occurred_display: display_text(&c.occurred_at),
        reported_display: display_text(&c.reported_at),
        reporter_name: c.reporter_name.clone(),
        reporter_phone: personal(full, &c.reporter_phone, mask_phone),
        report_channel: c.report_channel.clone(),
        channel_name: channel_name(&c.report_channel).to_string(),
        description: c.description.clone(),
        decline_code: c.decline_code.clone(),
        decline_reason: c.decline_reason.clone(),
        survey_due_at: c.survey_due_at.clone(),
        survey_due_display: display_text(&c.survey_due_at),
        adjuster: names.user(c.adjuster_id),
        adjuster_id: c.adjuster_id,
        co_surveyor: names.user(c.co_surveyor_id),
        co_surveyor_id: c.co_surveyor_id,
        surveyed_at: c.surveyed_at.clone(),
        surveyed_display: c.surveyed_at.as_deref().map(display_text),
        surveyed_on_time: on_time(c),
        payout: c.payout_fen.map(Fen),
        paid: Fen(c.paid_fen),
        review_note: c.review_note.clone(),
        approved_at: c.approved_at.as_deref().map(display_text),
        agreed_on: c.agreed_on.clone(),
        payment_due_on: c.payment_due_on.clone(),
        version: c.version,
    }
}

/// Rows of one table by id, in chunks below SQLite's variable limit.
macro_rules! by_ids {
    ($conn:expr, $table:ident, $model:ty, $ids:expr) => {{
        let mut out = HashMap::new();
        for chunk in $ids.chunks(900) {
            for row in $table::table
                .filter($table::id.eq_any(chunk))
                .select(<$model>::as_select())
                .load($conn)?
            {
                out.insert(row.id, row);
            }
        }
        out
    }};
}

/// Views of many claims with three queries, not three per claim.
fn views(conn: &mut DbConn, actor: &Actor, list: &[Claim]) -> AppResult<Vec<ClaimView>> {
    let names = Names::load(conn)?;
    let policy_ids: Vec<i64> = list.iter().map(|c| c.policy_id).collect();
    let grower_ids: Vec<i64> = list.iter().map(|c| c.grower_id).collect();
    let plot_ids: Vec<i64> = list.iter().map(|c| c.plot_id).collect();
    let ps = by_ids!(conn, policies, Policy, policy_ids);
    let gs = by_ids!(conn, growers, Grower, grower_ids);
    let pls = by_ids!(conn, plots, Plot, plot_ids);
    list.iter()
        .map(|c| {
            let missing = || AppError::Internal(format!("claim {} lost its policy", c.id));
            Ok(view_with(
                &names,
                actor,
                c,
                ps.get(&c.policy_id).ok_or_else(missing)?,
                gs.get(&c.grower_id).ok_or_else(missing)?,
                pls.get(&c.plot_id).ok_or_else(missing)?,
            ))
        })
        .collect()
}

pub fn view(conn: &mut DbConn, actor: &Actor, c: &Claim) -> AppResult<ClaimView> {
    Ok(views(conn, actor, std::slice::from_ref(c))?.remove(0))
}

// ---------------------------------------------------------------- lookup

/// A policy a clerk can put a report on, with its insured plots.
#[derive(Debug, Clone, Serialize)]
pub struct LookupHit {
    pub policy_id: i64,
    pub policy_no: String,
    pub status: String,
    pub status_name: String,
    pub grower_name: String,
    pub grower_id_number: String,
    pub grower_phone: String,
    pub township_name: String,
    pub village_name: String,
    pub cover_start: Option<String>,
    pub cover_end: Option<String>,
    pub plots: Vec<LookupPlot>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LookupPlot {
    pub id: i64,
    pub code: String,
    pub variety: String,
    pub mu: Mu,
    pub eligible: bool,
    pub has_boundary: bool,
}

/// Find policies by grower name, ID number, phone or policy number.
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
    let like = format!("%{q}%");
    let mut hits: Vec<(Policy, Grower)> = policies::table
        .inner_join(growers::table)
        .filter(
            growers::name
                .like(like.clone())
                .or(growers::id_number.eq(q.clone()))
                .or(growers::phone.eq(q.clone()))
                .or(policies::policy_no.eq(q.clone())),
        )
        .select((Policy::as_select(), Grower::as_select()))
        .limit(50)
        .load(conn)?;
    hits.sort_by_key(|(p, _)| p.id);
    let names = super::areas::names(conn)?;
    let full = actor.sees_personal_data();
    let mut out = Vec::with_capacity(hits.len());
    for (p, g) in hits {
        let pl: Vec<Plot> = plots::table
            .filter(plots::grower_id.eq(g.id))
            .filter(plots::scheme_id.eq(p.scheme_id))
            .order(plots::code)
            .select(Plot::as_select())
            .load(conn)?;
        out.push(LookupHit {
            policy_id: p.id,
            policy_no: p.policy_no.clone(),
            status_name: super::policies::status_name(&p.status).to_string(),
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
            cover_start: p.cover_start,
            cover_end: p.cover_end,
            plots: pl
                .into_iter()
                .map(|x| LookupPlot {
                    id: x.id,
                    code: x.code,
                    variety: x.variety,
                    mu: Mu::from_units(x.area_units),
                    eligible: x.eligible,
                    has_boundary: x.boundary.is_some(),
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
pub struct PlotRef {
    #[serde(default)]
    pub policy_no: Option<String>,
    #[serde(default)]
    pub policy_id: Option<i64>,
    #[serde(default)]
    pub plot_id: Option<i64>,
    #[serde(default)]
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
}

/// The facts of a report, checked; the decline reasons are decided from these.
struct Checked {
    policy: Policy,
    plot: Plot,
    scheme: SchemeDef,
    scheme_id: i64,
    peril: String,
    occurred: DateTime<Utc>,
    reported: DateTime<Utc>,
    reporter_name: String,
    reporter_phone: String,
    channel: String,
    description: String,
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

fn check_report(conn: &mut DbConn, now: DateTime<Utc>, input: &ReportInput) -> AppResult<Checked> {
    let mut errs: Vec<FieldError> = Vec::new();
    let policy = find_policy(conn, &input.target)?;
    let scheme = super::schemes::by_id(conn, policy.scheme_id)?;
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
    let skew = Duration::minutes(5);
    if let Ok(o) = &occurred {
        if *o > now + skew {
            errs.push(FieldError::new(
                "occurred_at",
                ErrorCode::OccurredInFuture,
                "出险时间不能晚于当前时间",
            ));
        }
    }
    if let Ok(r) = &reported {
        if *r > now + skew {
            errs.push(FieldError::new(
                "reported_at",
                ErrorCode::ReportedInFuture,
                "报案时间不能晚于当前时间",
            ));
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
        text::check(label, raw, kind)
            .map_err(|p| errs.push(FieldError::new(field, p.code, p.message)))
            .unwrap_or_default()
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
    })
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
    if !matches!(k.policy.status.as_str(), "issued" | "expired") {
        out.push((
            "policy_not_in_force",
            format!(
                "保单{}状态为“{}”，保险责任尚未生效或已终止",
                k.policy.policy_no,
                super::policies::status_name(&k.policy.status)
            ),
        ));
    } else {
        let day = china_date(k.occurred);
        let start = k
            .policy
            .cover_start
            .as_deref()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        let end = k
            .policy
            .cover_end
            .as_deref()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        match (start, end) {
            (Some(s), Some(e)) if day >= s && day <= e => {}
            (s, e) => out.push((
                "outside_cover_period",
                format!(
                    "出险日期{}不在保险期间（{}至{}）内",
                    day,
                    s.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                    e.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
                ),
            )),
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

fn insert_claim(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    k: &Checked,
    event_id: Option<i64>,
) -> AppResult<Claim> {
    let reasons = decline_reasons(k);
    let due = k.reported + Duration::hours(i64::from(k.scheme.claim_rules.survey_hours));
    let stamp = to_text(now);
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
        occurred_at: to_text(k.occurred),
        reported_at: to_text(k.reported),
        reporter_name: k.reporter_name.clone(),
        reporter_phone: k.reporter_phone.clone(),
        report_channel: k.channel.clone(),
        description: k.description.clone(),
        status: if reasons.is_empty() {
            "reported".into()
        } else {
            "declined".into()
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
        survey_due_at: to_text(due),
        created_at: stamp.clone(),
        updated_at: stamp,
    };
    let id: i64 = diesel::insert_into(claims::table)
        .values(&row)
        .returning(claims::id)
        .get_result(conn)?;
    let no = format!("BA{}{:07}", china_date(k.reported).format("%Y"), id);
    diesel::update(claims::table.find(id))
        .set(claims::claim_no.eq(&no))
        .execute(conn)?;
    let c = load(conn, id)?;
    audit::record(conn, actor, "report", "claim", id, None::<&()>, Some(&c))?;
    Ok(c)
}

/// Take a report. A report outside cover is kept, declined with its reasons.
pub fn report(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    input: &ReportInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    super::tx(conn, |conn| {
        let k = check_report(conn, now, input)?;
        let c = insert_claim(conn, actor, now, &k, None)?;
        view(conn, actor, &c)
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventItem {
    #[serde(flatten)]
    pub target: PlotRef,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_phone: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub peril: String,
    #[serde(default)]
    pub occurred_at: String,
    #[serde(default)]
    pub reported_at: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub items: Vec<EventItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventResult {
    pub event_id: i64,
    pub reported: usize,
    pub declined: usize,
    pub claims: Vec<ClaimView>,
}

/// One event (a hail strip), many reports: all are registered or, if any
/// line is wrong, none, with every wrong line named.
pub fn report_event(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    input: &EventInput,
) -> AppResult<EventResult> {
    actor.require(may_handle(actor))?;
    if input.items.is_empty() {
        return Err(AppError::invalid(
            "items",
            ErrorCode::EventEmpty,
            "请至少列出一个受灾保单",
        ));
    }
    if input.name.trim().is_empty() {
        return Err(AppError::invalid(
            "name",
            ErrorCode::EventNameMissing,
            "请填写灾害事件名称，如“6月12日冰雹”",
        ));
    }
    super::tx(conn, |conn| {
        let mut checked = Vec::with_capacity(input.items.len());
        let mut errs = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, item) in input.items.iter().enumerate() {
            let one = ReportInput {
                target: item.target.clone(),
                peril: input.peril.clone(),
                occurred_at: input.occurred_at.clone(),
                reported_at: input.reported_at.clone(),
                reporter_name: item.reporter_name.clone(),
                reporter_phone: item.reporter_phone.clone(),
                channel: Some("batch".into()),
                description: if item.description.trim().is_empty() {
                    input.description.clone()
                } else {
                    item.description.clone()
                },
            };
            match check_report(conn, now, &one) {
                Ok(k) => {
                    if !seen.insert(k.plot.id) {
                        errs.push(FieldError::new(
                            &format!("items[{i}]"),
                            ErrorCode::EventPlotDuplicate,
                            format!("第{}行：地块{}重复", i + 1, k.plot.code),
                        ));
                    }
                    checked.push(k)
                }
                Err(AppError::Validation(v)) => {
                    errs.extend(v.into_iter().map(|e| {
                        FieldError::new(
                            &format!("items[{i}].{}", e.field),
                            e.code,
                            format!("第{}行：{}", i + 1, e.message),
                        )
                    }));
                }
                Err(e) => return Err(e),
            }
        }
        // `input.items` is not empty (checked above), so neither is `checked`.
        let (true, Some(first)) = (errs.is_empty(), checked.first()) else {
            return Err(AppError::Validation(errs));
        };
        let scheme_id = first.scheme_id;
        let event_id: i64 = diesel::insert_into(claim_events::table)
            .values((
                claim_events::scheme_id.eq(scheme_id),
                claim_events::name.eq(input.name.trim()),
                claim_events::peril.eq(&first.peril),
                claim_events::occurred_at.eq(to_text(first.occurred)),
                claim_events::description.eq(input.description.trim()),
                claim_events::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                claim_events::created_at.eq(to_text(now)),
            ))
            .returning(claim_events::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor,
            "report_event",
            "claim_event",
            event_id,
            None::<&()>,
            Some(&serde_json::json!({"name": input.name.trim(), "items": checked.len()})),
        )?;
        let mut list = Vec::with_capacity(checked.len());
        for k in &checked {
            list.push(insert_claim(conn, actor, now, k, Some(event_id))?);
        }
        let claims = views(conn, actor, &list)?;
        Ok(EventResult {
            event_id,
            reported: claims.iter().filter(|c| c.status != "declined").count(),
            declined: claims.iter().filter(|c| c.status == "declined").count(),
            claims,
        })
    })
}

// ---------------------------------------------------------------- dispatch

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DispatchInput {
    #[serde(default)]
    pub adjuster: String,
    #[serde(default)]
    pub co_surveyor: String,
    #[serde(default)]
    pub version: Option<i32>,
}

fn user_with_role(conn: &mut DbConn, username: &str, role: Role) -> AppResult<Option<User>> {
    Ok(users::table
        .filter(users::username.eq(username.trim()))
        .filter(users::role.eq(role.code()))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Assign the insurer's adjuster and the forestry bureau's co-surveyor; both are required.
pub fn dispatch(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &DispatchInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    super::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        check_version(&c, input.version)?;
        if !matches!(c.status.as_str(), "reported" | "dispatched") {
            return Err(wrong_status(&c, "派工"));
        }
        let mut errs = Vec::new();
        let adjuster = user_with_role(conn, &input.adjuster, Role::Adjuster)?;
        if adjuster.is_none() {
            errs.push(FieldError::new(
                "adjuster",
                ErrorCode::AdjusterInvalid,
                if input.adjuster.trim().is_empty() {
                    "请指定保险公司查勘员".to_string()
                } else {
                    format!("“{}”不是有效的查勘员账号", input.adjuster.trim())
                },
            ));
        }
        let co = user_with_role(conn, &input.co_surveyor, Role::CountyForestry)?;
        if co.is_none() {
            errs.push(FieldError::new(
                "co_surveyor",
                ErrorCode::CoSurveyorInvalid,
                if input.co_surveyor.trim().is_empty() {
                    "请指定县林业局共同查勘人员".to_string()
                } else {
                    format!("“{}”不是县林业局的账号", input.co_surveyor.trim())
                },
            ));
        }
        // A missing account pushed its error above.
        let (true, Some(a), Some(co)) = (errs.is_empty(), adjuster, co) else {
            return Err(AppError::Validation(errs));
        };
        let after = save(conn, actor, "dispatch", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::status.eq("dispatched"),
                    claims::adjuster_id.eq(a.id),
                    claims::co_surveyor_id.eq(co.id),
                    claims::dispatched_at.eq(to_text(now)),
                ))
                .execute(conn)
        })?;
        view(conn, actor, &after)
    })
}

/// Accounts a claim can be dispatched to: (adjusters, forestry co-surveyors).
pub fn surveyors(conn: &mut DbConn) -> AppResult<(Vec<serde_json::Value>, Vec<serde_json::Value>)> {
    let mut pick = |role: Role| -> AppResult<Vec<serde_json::Value>> {
        Ok(users::table
            .filter(users::role.eq(role.code()))
            .filter(users::active.eq(true))
            .order(users::username)
            .select((users::username, users::display_name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .map(|(u, n)| serde_json::json!({"username": u, "name": n}))
            .collect())
    };
    Ok((pick(Role::Adjuster)?, pick(Role::CountyForestry)?))
}

// ---------------------------------------------------------------- survey

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SurveyInput {
    /// Made by the tablet; the same id sent twice is the same survey.
    #[serde(default)]
    pub client_id: String,
    /// The claim version the tablet loaded.
    #[serde(default)]
    pub version: Option<i32>,
    /// When the surveyor pressed "submit" on site; now when left out.
    #[serde(default)]
    pub surveyed_at: Option<String>,
    #[serde(default)]
    pub latitude: Option<serde_json::Value>,
    #[serde(default)]
    pub longitude: Option<serde_json::Value>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    #[serde(default)]
    pub damaged_trees: Option<serde_json::Value>,
    #[serde(default)]
    pub affected_mu: String,
    #[serde(default)]
    pub loss_rate: String,
    #[serde(default)]
    pub adjuster_confirmed: bool,
    #[serde(default)]
    pub co_surveyor_confirmed: bool,
    #[serde(default)]
    pub grower_signed_name: String,
    /// A PNG data URL of the signature drawn on screen.
    #[serde(default)]
    pub grower_signature: String,
    #[serde(default)]
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

fn json_text(v: &Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => normalize_width(s).trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn valid_client_id(s: &str) -> bool {
    (8..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The sum insured left on a policy for this claim: the policy's sum minus
/// the payouts every other live claim on it holds.
fn remaining_sum(conn: &mut DbConn, c: &Claim) -> AppResult<Fen> {
    let p = super::policies::load(conn, c.policy_id)?;
    let others: Vec<Option<i64>> = claims::table
        .filter(claims::policy_id.eq(c.policy_id))
        .filter(claims::id.ne(c.id))
        .filter(claims::status.eq_any(PAYOUT_HOLDING))
        .select(claims::payout_fen)
        .load(conn)?;
    let held: Fen = others.into_iter().map(|x| Fen(x.unwrap_or(0))).sum();
    Ok(Fen(p.sum_insured_fen) - held)
}

fn location_label(check: &str) -> &'static str {
    match check {
        "inside" => "在地块范围内",
        "near" => "在地块附近（允许范围内）",
        _ => "地块未上传边界，无法核对位置",
    }
}

/// A conflict or a lock wait on a retried submission may only mean that an
/// identical copy sent at the same moment (the tablet's queue replaying while
/// the first request was still running) won the race: on PostgreSQL the
/// loser meets the winner's unique client id or its version bump. Look again
/// in a fresh transaction and, if the same client id was recorded, answer
/// with the recorded result.
fn or_recorded<T>(
    conn: &mut DbConn,
    first: AppResult<T>,
    recorded: impl FnOnce(&mut DbConn) -> AppResult<Option<T>>,
) -> AppResult<T> {
    match first {
        Err(e @ (AppError::Conflict { .. } | AppError::Busy(_))) => {
            match super::tx(conn, recorded)? {
                Some(out) => Ok(out),
                None => Err(e),
            }
        }
        other => other,
    }
}

fn checked_client_id<'a>(client_id: &'a str, message: &str) -> AppResult<&'a str> {
    let client_id = client_id.trim();
    if valid_client_id(client_id) {
        Ok(client_id)
    } else {
        Err(AppError::invalid(
            "client_id",
            ErrorCode::ClientIdInvalid,
            message,
        ))
    }
}

/// The survey already recorded under this client id, if any.
fn recorded_survey(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Claim,
    client_id: &str,
) -> AppResult<Option<SurveyOutcome>> {
    let Some(existing) = claim_surveys::table
        .filter(claim_surveys::client_id.eq(client_id))
        .select(ClaimSurvey::as_select())
        .first(conn)
        .optional()?
    else {
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
    or_recorded(conn, first, |conn| {
        let c = get_scoped(conn, actor, id)?;
        let client_id = checked_client_id(&input.client_id, SURVEY_CLIENT_ID_MESSAGE)?;
        recorded_survey(conn, actor, &c, client_id)
    })
}

fn record_survey(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &SurveyInput,
) -> AppResult<SurveyOutcome> {
    super::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        let client_id = checked_client_id(&input.client_id, SURVEY_CLIENT_ID_MESSAGE)?;
        if let Some(out) = recorded_survey(conn, actor, &c, client_id)? {
            return Ok(out);
        }
        if !is_surveyor(actor, &c) {
            return Err(AppError::Forbidden(
                "只有派工指定的查勘员或县林业局共同查勘人员可以提交查勘".into(),
            ));
        }
        if !matches!(c.status.as_str(), "dispatched" | "surveyed") {
            return Err(wrong_status(&c, "提交查勘"));
        }
        if c.status == "surveyed" && input.version.is_none() {
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
        check_version(&c, input.version)?;
        let scheme = super::schemes::by_id(conn, c.scheme_id)?;
        let rules = &scheme.def.claim_rules;
        let plot = super::plots::load(conn, c.plot_id)?;
        let mut errs = Vec::new();

        let lat = json_text(&input.latitude);
        let lon = json_text(&input.longitude);
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
            let d = check.distance_m.round() as i32;
            if check.inside {
                location = ("inside".into(), 0);
            } else if check.distance_m <= f64::from(rules.max_distance_m) {
                location = ("near".into(), d);
            } else {
                errs.push(FieldError::new(
                    "latitude",
                    ErrorCode::PositionFar,
                    format!(
                        "查勘位置距地块{}约{}米，超出允许的{}米，请到地块现场后再提交",
                        plot.code, d, rules.max_distance_m
                    ),
                ));
            }
        }
        let trees = json_text(&input.damaged_trees);
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
        let insured = Mu::from_units(plot.area_units);
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
        let mut text_rule = |field: &str, label: &str, raw: &str, kind: TextKind| {
            text::check(label, raw, kind)
                .map_err(|p| errs.push(FieldError::new(field, p.code, p.message)))
                .ok()
        };
        let signed_name = text_rule(
            "grower_signed_name",
            "签字农户姓名",
            &input.grower_signed_name,
            TextKind::Name,
        );
        let notes = text_rule("notes", "查勘备注", &input.notes, TextKind::Notes);
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
        let surveyed = match input
            .surveyed_at
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            Some(s) => match clock::parse_input("surveyed_at", "查勘时间", s) {
                Ok(t) if t > now + Duration::minutes(5) => {
                    errs.push(FieldError::new(
                        "surveyed_at",
                        ErrorCode::SurveyedInFuture,
                        "查勘时间不能晚于当前时间",
                    ));
                    now
                }
                Ok(t) if t < from_text(&c.reported_at)? => {
                    errs.push(FieldError::new(
                        "surveyed_at",
                        ErrorCode::SurveyedBeforeReport,
                        "查勘时间不能早于报案时间",
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
        // Each missing value pushed its error above.
        let (true, Some(affected), Some(loss), Some((la, lo)), Some(damaged_trees)) =
            (errs.is_empty(), affected, loss, coords, damaged_trees)
        else {
            return Err(AppError::Validation(errs));
        };
        let remaining = remaining_sum(conn, &c)?;
        let pay = payout(
            rules,
            scheme.def.sum_insured_per_mu,
            affected,
            loss,
            remaining,
        );
        let row = ClaimSurvey {
            id: 0,
            claim_id: c.id,
            client_id: client_id.to_string(),
            surveyed_at: to_text(surveyed),
            received_at: to_text(now),
            latitude: format!("{la:.7}"),
            longitude: format!("{lo:.7}"),
            accuracy_m: input
                .accuracy_m
                .filter(|a| a.is_finite() && *a >= 0.0)
                .map(|a| a.round().min(1e6) as i32),
            location_check: location.0.clone(),
            distance_m: location.1,
            damaged_trees,
            affected_area_units: affected.units(),
            loss_rate_bp: loss.bp(),
            payout_fen: pay.amount.0,
            payout_detail: serde_json::to_string(&pay)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            adjuster_id: c.adjuster_id.unwrap_or(actor.user_id),
            co_surveyor_id: c.co_surveyor_id.unwrap_or(actor.user_id),
            grower_signed_name: signed_name.unwrap_or_default(),
            grower_signature: sig.to_string(),
            notes: notes.unwrap_or_default(),
            submitted_by: (actor.user_id > 0).then_some(actor.user_id),
        };
        let survey_id: i64 = diesel::insert_into(claim_surveys::table)
            .values(&row)
            .returning(claim_surveys::id)
            .get_result(conn)?;
        let after = save(conn, actor, "survey", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::status.eq("surveyed"),
                    claims::surveyed_at.eq(to_text(surveyed)),
                    claims::payout_fen.eq(Some(pay.amount.0)),
                ))
                .execute(conn)
        })?;
        Ok(SurveyOutcome {
            created: true,
            survey_id,
            location_check: location.0,
            distance_m: location.1,
            payout: pay,
            claim: view(conn, actor, &after)?,
        })
    })
}

// ---------------------------------------------------------------- photos

#[derive(Debug, Clone, Serialize)]
pub struct PhotoOutcome {
    pub created: bool,
    pub id: i64,
    pub sha256: String,
    pub size_bytes: i64,
    /// Another claim already holds this exact photo.
    pub reused_claim_no: Option<String>,
}

/// JPEG, PNG or WebP, by their first bytes, never by the name or the header sent.
/// What a photo's bytes proved to be: its type and its size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFacts {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Larger than any phone camera takes: a bigger header is a decompression
/// bomb, not a photo.
const MAX_PHOTO_SIDE: u32 = 20_000;
const MAX_PHOTO_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// Who may send survey photos at all (adjusters and the forestry bureau's
/// co-surveyors) — asked before a photo's bytes are read; `add_photo` then
/// checks the claim's own assignment.
pub fn may_upload_photos(actor: &Actor) -> bool {
    matches!(actor.role, Role::Adjuster | Role::CountyForestry)
}

/// The type its first bytes claim (JPEG, PNG, WebP), or none.
fn claimed_format(bytes: &[u8]) -> Option<(image::ImageFormat, &'static str)> {
    use image::ImageFormat;
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some((ImageFormat::Jpeg, "image/jpeg"))
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some((ImageFormat::Png, "image/png"))
    } else if bytes.get(0..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some((ImageFormat::WebP, "image/webp"))
    } else {
        None
    }
}

/// A photo is what its decoder can read whole: the first bytes choose the
/// decoder, and the image is decoded to the last pixel, so a JPEG header in
/// front of a web page, a truncated file or a bomb of a header is refused.
/// (A 4 MB camera JPEG decodes in well under a second; see the commit.)
pub fn image_facts(bytes: &[u8]) -> Option<ImageFacts> {
    let (format, content_type) = claimed_format(bytes)?;
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_PHOTO_SIDE);
    limits.max_image_height = Some(MAX_PHOTO_SIDE);
    limits.max_alloc = Some(MAX_PHOTO_DECODE_BYTES);
    reader.limits(limits);
    let img = reader.decode().ok()?;
    let (width, height) = (img.width(), img.height());
    (width > 0 && height > 0).then_some(ImageFacts {
        content_type,
        width,
        height,
    })
}

/// The photo's type when its bytes decode as a JPEG, PNG or WebP image.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    image_facts(bytes).map(|f| f.content_type)
}

pub fn add_photo(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    client_id: &str,
    bytes: &[u8],
    max_bytes: usize,
) -> AppResult<PhotoOutcome> {
    // Size and a full decode first, outside the transaction: decoding a
    // 4 MB JPEG takes tens of milliseconds, too long to hold SQLite's write lock.
    if bytes.len() > max_bytes {
        return Err(AppError::invalid(
            "photo",
            ErrorCode::PhotoTooLarge,
            format!(
                "照片过大（{:.1} MB），单张不能超过{} MB",
                bytes.len() as f64 / 1_048_576.0,
                max_bytes / 1_048_576
            ),
        ));
    }
    let Some(content_type) = image_type(bytes) else {
        return Err(AppError::invalid(
            "photo",
            ErrorCode::PhotoNotImage,
            "上传的文件不是照片（只接受JPEG、PNG或WebP图片）",
        ));
    };
    let sha = hex::encode(Sha256::digest(bytes));
    let photo = NewPhoto {
        client_id,
        sha: &sha,
        content_type,
        bytes,
    };
    let first = record_photo(conn, actor, now, id, &photo);
    or_recorded(conn, first, |conn| {
        let c = get_scoped(conn, actor, id)?;
        let client_id = checked_client_id(client_id, PHOTO_CLIENT_ID_MESSAGE)?;
        recorded_photo(conn, &c, client_id, &sha)
    })
}

const PHOTO_CLIENT_ID_MESSAGE: &str = "照片缺少有效的编号（client_id）";

/// The photo already recorded under this client id, if any.
fn recorded_photo(
    conn: &mut DbConn,
    c: &Claim,
    client_id: &str,
    sha: &str,
) -> AppResult<Option<PhotoOutcome>> {
    let Some(p) = claim_photos::table
        .filter(claim_photos::client_id.eq(client_id))
        .select(ClaimPhotoMeta::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if p.claim_id != c.id || p.sha256 != sha {
        return Err(AppError::conflict(
            ErrorCode::ClientIdReused,
            "该照片编号已用于其他照片",
        ));
    }
    let reused_claim_no = reused_no(conn, p.reused_claim_id)?;
    Ok(Some(PhotoOutcome {
        created: false,
        id: p.id,
        sha256: p.sha256,
        size_bytes: p.size_bytes,
        reused_claim_no,
    }))
}

/// A photo that has passed its checks, ready to be recorded.
struct NewPhoto<'a> {
    client_id: &'a str,
    sha: &'a str,
    content_type: &'static str,
    bytes: &'a [u8],
}

fn record_photo(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    photo: &NewPhoto,
) -> AppResult<PhotoOutcome> {
    let (sha, content_type, bytes) = (photo.sha, photo.content_type, photo.bytes);
    super::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        let client_id = checked_client_id(photo.client_id, PHOTO_CLIENT_ID_MESSAGE)?;
        if let Some(out) = recorded_photo(conn, &c, client_id, sha)? {
            return Ok(out);
        }
        if !is_surveyor(actor, &c) {
            return Err(AppError::Forbidden(
                "只有派工指定的查勘人员可以上传查勘照片".into(),
            ));
        }
        if !matches!(c.status.as_str(), "dispatched" | "surveyed") {
            return Err(wrong_status(&c, "上传照片"));
        }
        let reused: Option<i64> = claim_photos::table
            .filter(claim_photos::sha256.eq(&sha))
            .filter(claim_photos::claim_id.ne(c.id))
            .order(claim_photos::id)
            .select(claim_photos::claim_id)
            .first(conn)
            .optional()?;
        let pid: i64 = diesel::insert_into(claim_photos::table)
            .values((
                claim_photos::claim_id.eq(c.id),
                claim_photos::client_id.eq(client_id),
                claim_photos::sha256.eq(&sha),
                claim_photos::content_type.eq(content_type),
                claim_photos::size_bytes.eq(bytes.len() as i64),
                claim_photos::content.eq(bytes),
                claim_photos::reused_claim_id.eq(reused),
                claim_photos::uploaded_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                claim_photos::created_at.eq(to_text(now)),
            ))
            .returning(claim_photos::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor,
            "photo",
            "claim",
            c.id,
            None::<&()>,
            Some(&serde_json::json!({"photo_id": pid, "sha256": sha, "reused_claim_id": reused})),
        )?;
        Ok(PhotoOutcome {
            created: true,
            id: pid,
            sha256: sha.to_string(),
            size_bytes: bytes.len() as i64,
            reused_claim_no: reused_no(conn, reused)?,
        })
    })
}

fn reused_no(conn: &mut DbConn, id: Option<i64>) -> AppResult<Option<String>> {
    match id {
        Some(i) => Ok(Some(load(conn, i)?.claim_no)),
        None => Ok(None),
    }
}

/// The bytes of a photo the actor may see.
pub fn photo(
    conn: &mut DbConn,
    actor: &Actor,
    claim_id: i64,
    photo_id: i64,
) -> AppResult<(String, Vec<u8>)> {
    get_scoped(conn, actor, claim_id)?;
    claim_photos::table
        .filter(claim_photos::id.eq(photo_id))
        .filter(claim_photos::claim_id.eq(claim_id))
        .select((claim_photos::content_type, claim_photos::content))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("照片"))
}

// ---------------------------------------------------------------- review, agreement, payment

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewInput {
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub note: String,
}

/// The underwriter approves the surveyed payout. A zero payout closes the claim.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &ReviewInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    super::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        check_version(&c, input.version)?;
        if c.status != "surveyed" {
            return Err(wrong_status(&c, "审核通过"));
        }
        // Another claim on the policy may have been approved since the survey.
        let remaining = remaining_sum(conn, &c)?.max(Fen::ZERO);
        let proposed = Fen(c.payout_fen.unwrap_or(0));
        // What the loss itself was worth, before the sum insured ran out.
        let assessed = claim_surveys::table
            .filter(claim_surveys::claim_id.eq(c.id))
            .order(claim_surveys::id.desc())
            .select(claim_surveys::payout_detail)
            .first::<String>(conn)
            .optional()?
            .and_then(|d| serde_json::from_str::<Payout>(&d).ok())
            .map(|d| d.computed)
            .unwrap_or(proposed);
        let amount = proposed.min(remaining);
        let mut note = input.note.trim().to_string();
        if amount < proposed {
            note = format!(
                "{note}{}赔款由{proposed}元调整为保单剩余保险金额{amount}元",
                if note.is_empty() { "" } else { "；" }
            );
        }
        let after = save(conn, actor, "approve", &c, now, |conn, id| {
            if amount == Fen::ZERO {
                diesel::update(claims::table.find(id))
                    .set((
                        claims::status.eq("declined"),
                        claims::decline_code.eq(if assessed == Fen::ZERO {
                            "below_threshold"
                        } else {
                            "sum_insured_exhausted"
                        }),
                        claims::decline_reason.eq(Some(format!(
                            "{}，赔款为0元{}",
                            if assessed == Fen::ZERO {
                                "经查勘定损，损失未达到起赔标准"
                            } else {
                                "保单保险金额已由其他赔案赔付完毕"
                            },
                            if note.is_empty() {
                                String::new()
                            } else {
                                format!("（{note}）")
                            }
                        ))),
                        claims::payout_fen.eq(Some(0)),
                        claims::review_note.eq(&note),
                        claims::approved_at.eq(to_text(now)),
                    ))
                    .execute(conn)
            } else {
                diesel::update(claims::table.find(id))
                    .set((
                        claims::status.eq("approved"),
                        claims::payout_fen.eq(Some(amount.0)),
                        claims::review_note.eq(&note),
                        claims::approved_at.eq(to_text(now)),
                    ))
                    .execute(conn)
            }
        })?;
        view(conn, actor, &after)
    })
}

/// Back to the surveyors with the reason; the survey stays on record.
pub fn send_back(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &ReviewInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    if input.note.trim().is_empty() {
        return Err(AppError::invalid(
            "note",
            ErrorCode::NoteMissing,
            "退回须写明原因，供查勘人员补充",
        ));
    }
    super::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        check_version(&c, input.version)?;
        if c.status != "surveyed" {
            return Err(wrong_status(&c, "退回重新查勘"));
        }
        let after = save(conn, actor, "send_back", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::status.eq("dispatched"),
                    claims::review_note.eq(input.note.trim()),
                    claims::payout_fen.eq(None::<i64>),
                ))
                .execute(conn)
        })?;
        view(conn, actor, &after)
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgreeInput {
    #[serde(default)]
    pub agreed_on: String,
    #[serde(default)]
    pub version: Option<i32>,
}

fn parse_day(field: &str, label: &str, s: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            field,
            ErrorCode::DateInvalid,
            format!("{label}格式应为YYYY-MM-DD：{}", s.trim()),
        )
    })
}

/// The grower agreed the payout on this date; payment falls due `payment_days` later.
pub fn agree(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &AgreeInput,
) -> AppResult<ClaimView> {
    super::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        actor.require(
            may_handle(actor) || (actor.role == Role::Adjuster && is_surveyor(actor, &c)),
        )?;
        check_version(&c, input.version)?;
        if c.status != "approved" {
            return Err(wrong_status(&c, "登记农户确认"));
        }
        let day = parse_day("agreed_on", "农户确认日期", &input.agreed_on)?;
        let approved_day = china_date(from_text(c.approved_at.as_deref().unwrap_or_default())?);
        if day > china_date(now) || day < approved_day {
            return Err(AppError::invalid(
                "agreed_on",
                ErrorCode::AgreedOnInvalid,
                format!(
                    "农户确认日期应在审核通过日（{approved_day}）与今天（{}）之间",
                    china_date(now)
                ),
            ));
        }
        let scheme = super::schemes::by_id(conn, c.scheme_id)?;
        let due = day + Duration::days(i64::from(scheme.def.claim_rules.payment_days));
        let after = save(conn, actor, "agree", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::status.eq("agreed"),
                    claims::agreed_on.eq(day.to_string()),
                    claims::payment_due_on.eq(due.to_string()),
                ))
                .execute(conn)
        })?;
        view(conn, actor, &after)
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaymentInput {
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub paid_on: String,
    #[serde(default)]
    pub bank_reference: String,
}

/// Record money sent to the grower's account; the claim is paid when it adds up.
pub fn pay(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &PaymentInput,
) -> AppResult<ClaimView> {
    actor.require(may_handle(actor))?;
    super::tx(conn, |conn| {
        let c = get_scoped(conn, actor, id)?;
        if c.status != "agreed" {
            return Err(wrong_status(&c, "登记赔款支付"));
        }
        let mut errs = Vec::new();
        let owed = Fen(c.payout_fen.unwrap_or(0) - c.paid_fen);
        let amount = match Fen::parse(&input.amount) {
            Ok(a) if a <= Fen::ZERO => {
                errs.push(FieldError::new(
                    "amount",
                    ErrorCode::AmountInvalid,
                    "支付金额必须大于0",
                ));
                a
            }
            Ok(a) if a > owed => {
                errs.push(FieldError::new(
                    "amount",
                    ErrorCode::AmountAboveOwed,
                    format!("支付金额{a}元超过尚未支付的赔款{owed}元"),
                ));
                a
            }
            Ok(a) => a,
            Err(e) => {
                errs.push(FieldError::new(
                    "amount",
                    ErrorCode::AmountInvalid,
                    e.to_string(),
                ));
                Fen::ZERO
            }
        };
        let day = match parse_day("paid_on", "支付日期", &input.paid_on) {
            Ok(d) if d > china_date(now) => {
                errs.push(FieldError::new(
                    "paid_on",
                    ErrorCode::PaidOnFuture,
                    "支付日期不能晚于今天",
                ));
                d
            }
            Ok(d) => d,
            Err(AppError::Validation(v)) => {
                errs.extend(v);
                china_date(now)
            }
            Err(e) => return Err(e),
        };
        let reference = text::check(
            "银行交易流水号",
            &normalize_width(&input.bank_reference),
            TextKind::Code,
        )
        .map_err(|p| errs.push(FieldError::new("bank_reference", p.code, p.message)))
        .unwrap_or_default();
        let reference_refused = errs.iter().any(|e| e.field == "bank_reference");
        if reference_refused {
            // Already reported by the text rules.
        } else if reference.is_empty() {
            errs.push(FieldError::new(
                "bank_reference",
                ErrorCode::BankReferenceMissing,
                "请填写银行交易流水号",
            ));
        } else if claim_payments::table
            .filter(claim_payments::bank_reference.eq(&reference))
            .count()
            .get_result::<i64>(conn)?
            > 0
        {
            errs.push(FieldError::new(
                "bank_reference",
                ErrorCode::BankReferenceDuplicate,
                format!("银行流水号{reference}已登记过，同一笔转账不能登记两次"),
            ));
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let pid: i64 = diesel::insert_into(claim_payments::table)
            .values((
                claim_payments::claim_id.eq(c.id),
                claim_payments::amount_fen.eq(amount.0),
                claim_payments::paid_on.eq(day.to_string()),
                claim_payments::bank_reference.eq(&reference),
                claim_payments::created_by.eq((actor.user_id > 0).then_some(actor.user_id)),
                claim_payments::created_at.eq(to_text(now)),
            ))
            .returning(claim_payments::id)
            .get_result(conn)?;
        let paid = c.paid_fen + amount.0;
        let done = Some(paid) == c.payout_fen;
        let after = save(conn, actor, "pay", &c, now, |conn, id| {
            diesel::update(claims::table.find(id))
                .set((
                    claims::paid_fen.eq(paid),
                    claims::status.eq(if done { "paid" } else { "agreed" }),
                ))
                .execute(conn)
        })?;
        audit::record(
            conn,
            actor,
            "payment",
            "claim_payment",
            pid,
            None::<&()>,
            Some(
                &serde_json::json!({"claim_id": c.id, "amount": amount, "paid_on": day, "bank_reference": reference}),
            ),
        )?;
        view(conn, actor, &after)
    })
}

// ---------------------------------------------------------------- reading

#[derive(Debug, Clone, Serialize)]
pub struct SurveyView {
    pub id: i64,
    pub client_id: String,
    pub surveyed_at: String,
    pub received_at: String,
    pub latitude: String,
    pub longitude: String,
    pub accuracy_m: Option<i32>,
    pub location_check: String,
    pub location_label: String,
    pub distance_m: i32,
    pub damaged_trees: i32,
    pub affected_mu: Mu,
    pub loss_rate: LossRate,
    pub payout: Fen,
    pub rule: String,
    pub capped: bool,
    pub adjuster: Option<String>,
    pub co_surveyor: Option<String>,
    pub grower_signed_name: String,
    pub has_signature: bool,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    pub id: i64,
    pub sha256: String,
    pub size_kb: i64,
    pub content_type: String,
    pub reused_claim_no: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentView {
    pub amount: Fen,
    pub paid_on: String,
    pub bank_reference: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimDetail {
    pub claim: ClaimView,
    pub surveys: Vec<SurveyView>,
    pub photos: Vec<PhotoView>,
    pub payments: Vec<PaymentView>,
    pub sum_insured: Fen,
    pub remaining_sum: Fen,
    /// The plot's polygon (GeoJSON) for the survey page's position check.
    pub plot_boundary: Option<String>,
    pub tree_count: i32,
    pub max_distance_m: u32,
    pub bank_name: String,
    pub bank_account: String,
}

pub fn detail(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<ClaimDetail> {
    let c = get_scoped(conn, actor, id)?;
    let names = Names::load(conn)?;
    let cv = view(conn, actor, &c)?;
    let surveys: Vec<ClaimSurvey> = claim_surveys::table
        .filter(claim_surveys::claim_id.eq(c.id))
        .order(claim_surveys::id.desc())
        .select(ClaimSurvey::as_select())
        .load(conn)?;
    let photos: Vec<ClaimPhotoMeta> = claim_photos::table
        .filter(claim_photos::claim_id.eq(c.id))
        .order(claim_photos::id)
        .select(ClaimPhotoMeta::as_select())
        .load(conn)?;
    let payments: Vec<ClaimPayment> = claim_payments::table
        .filter(claim_payments::claim_id.eq(c.id))
        .order(claim_payments::id)
        .select(ClaimPayment::as_select())
        .load(conn)?;
    let p = super::policies::load(conn, c.policy_id)?;
    let plot = super::plots::load(conn, c.plot_id)?;
    let g = super::growers::load(conn, c.grower_id)?;
    let scheme = names
        .schemes
        .get(&c.scheme_id)
        .ok_or_else(|| AppError::Internal("claim scheme missing".into()))?;
    let mut photo_views = Vec::with_capacity(photos.len());
    for x in photos {
        photo_views.push(PhotoView {
            id: x.id,
            sha256: x.sha256,
            size_kb: (x.size_bytes + 1023) / 1024,
            content_type: x.content_type,
            reused_claim_no: reused_no(conn, x.reused_claim_id)?,
            created_at: display_text(&x.created_at),
        });
    }
    let remaining = remaining_sum(conn, &c)?;
    Ok(ClaimDetail {
        claim: cv,
        surveys: surveys
            .into_iter()
            .map(|s| {
                let detail: Option<Payout> = serde_json::from_str(&s.payout_detail).ok();
                SurveyView {
                    id: s.id,
                    client_id: s.client_id,
                    surveyed_at: display_text(&s.surveyed_at),
                    received_at: display_text(&s.received_at),
                    latitude: s.latitude,
                    longitude: s.longitude,
                    accuracy_m: s.accuracy_m,
                    location_label: location_label(&s.location_check).to_string(),
                    location_check: s.location_check,
                    distance_m: s.distance_m,
                    damaged_trees: s.damaged_trees,
                    affected_mu: Mu::from_units(s.affected_area_units),
                    loss_rate: LossRate::from_bp(s.loss_rate_bp),
                    payout: Fen(s.payout_fen),
                    rule: detail
                        .as_ref()
                        .map(|d| d.rule.name().to_string())
                        .unwrap_or_default(),
                    capped: detail.map(|d| d.capped).unwrap_or(false),
                    adjuster: names.user(Some(s.adjuster_id)),
                    co_surveyor: names.user(Some(s.co_surveyor_id)),
                    grower_signed_name: s.grower_signed_name,
                    has_signature: !s.grower_signature.is_empty(),
                    notes: s.notes,
                }
            })
            .collect(),
        photos: photo_views,
        payments: payments
            .into_iter()
            .map(|x| PaymentView {
                amount: Fen(x.amount_fen),
                paid_on: x.paid_on,
                bank_reference: x.bank_reference,
            })
            .collect(),
        sum_insured: Fen(p.sum_insured_fen),
        remaining_sum: remaining,
        plot_boundary: plot.boundary.clone(),
        tree_count: plot.tree_count,
        max_distance_m: scheme.claim_rules.max_distance_m,
        bank_name: g.bank_name.clone(),
        bank_account: personal(actor.sees_personal_data(), &g.bank_account, mask_account),
    })
}

/// Personal data in full for the roles that act on it, masked for the rest.
fn personal(full: bool, value: &str, mask: fn(&str) -> String) -> String {
    if full {
        value.to_string()
    } else {
        mask(value)
    }
}

/// "6228********0001"
pub fn mask_account(s: &str) -> String {
    // The same rule as ID numbers: first and last 4 characters, by character.
    crate::domain::id_number::mask_id(s)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClaimFilter {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub township_id: Option<i64>,
    #[serde(default)]
    pub event_id: Option<i64>,
}

/// Every claim the actor sees, newest report first.
pub fn list(conn: &mut DbConn, actor: &Actor, f: &ClaimFilter) -> AppResult<Vec<ClaimView>> {
    let rows = scoped_rows(conn, actor, f)?;
    views(conn, actor, &rows)
}

fn scoped_rows(conn: &mut DbConn, actor: &Actor, f: &ClaimFilter) -> AppResult<Vec<Claim>> {
    let mut q = claims::table.into_boxed();
    match actor.role {
        Role::Adjuster => q = q.filter(claims::adjuster_id.eq(actor.user_id)),
        Role::Township => q = q.filter(claims::township_id.eq(actor.township_id.unwrap_or(-1))),
        _ => {}
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(claims::status.eq(s.to_string()));
    }
    if let Some(t) = f.township_id {
        q = q.filter(claims::township_id.eq(t));
    }
    if let Some(e) = f.event_id {
        q = q.filter(claims::event_id.eq(e));
    }
    Ok(q.order((claims::reported_at.desc(), claims::id.desc()))
        .select(Claim::as_select())
        .load(conn)?)
}

// ---------------------------------------------------------------- the board

#[derive(Debug, Clone, Serialize)]
pub struct BoardItem {
    #[serde(flatten)]
    pub claim: ClaimView,
    /// Minutes until the survey deadline; negative when overdue.
    pub minutes_left: i64,
    pub time_left: String,
    /// overdue | due_soon | ok
    pub urgency: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Count {
    pub name: String,
    pub open: usize,
    pub overdue: usize,
    pub due_soon: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthFigure {
    pub month: String,
    /// Claims whose survey is done or whose deadline has passed.
    pub due: usize,
    pub on_time: usize,
    /// Share surveyed within the deadline, in percent with one decimal.
    pub share: Option<rust_decimal::Decimal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentDue {
    #[serde(flatten)]
    pub claim: ClaimView,
    pub days_overdue: i64,
    pub owed: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub now: String,
    pub warn_hours: u32,
    pub open: Vec<BoardItem>,
    pub overdue: usize,
    pub due_soon: usize,
    pub by_adjuster: Vec<Count>,
    pub by_township: Vec<Count>,
    pub monthly: Vec<MonthFigure>,
    pub payments_due: Vec<PaymentDue>,
    pub payments_overdue: usize,
}

fn time_left(minutes: i64) -> String {
    let (sign, m) = if minutes < 0 {
        ("超时", -minutes)
    } else {
        ("剩余", minutes)
    };
    format!("{sign}{}小时{:02}分", m / 60, m % 60)
}

/// How close each open claim is to its deadline, `warn_hours` from the
/// scheme unless given.
pub fn board(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    warn_hours: Option<u32>,
) -> AppResult<Board> {
    let all = scoped_rows(conn, actor, &ClaimFilter::default())?;
    let names = Names::load(conn)?;
    let scheme_warn = |scheme_id: i64| {
        names
            .schemes
            .get(&scheme_id)
            .map(|d| d.claim_rules.warn_hours)
            .unwrap_or(6)
    };
    let open_rows: Vec<Claim> = all
        .iter()
        .filter(|c| OPEN.contains(&c.status.as_str()))
        .cloned()
        .collect();
    let open_views = views(conn, actor, &open_rows)?;
    let mut open = Vec::with_capacity(open_rows.len());
    let mut by_adjuster: BTreeMap<String, Count> = BTreeMap::new();
    let mut by_township: BTreeMap<String, Count> = BTreeMap::new();
    let mut shown_warn = warn_hours;
    for (c, v) in open_rows.iter().zip(open_views) {
        let due = from_text(&c.survey_due_at)?;
        let minutes = (due - now).num_minutes();
        let warn = warn_hours.unwrap_or_else(|| scheme_warn(c.scheme_id));
        shown_warn.get_or_insert(warn);
        let urgency = if due <= now {
            "overdue"
        } else if minutes < i64::from(warn) * 60 {
            "due_soon"
        } else {
            "ok"
        };
        for (map, key) in [
            (
                &mut by_adjuster,
                v.adjuster.clone().unwrap_or_else(|| "（未派工）".into()),
            ),
            (&mut by_township, v.township_name.clone()),
        ] {
            let e = map.entry(key.clone()).or_insert_with(|| Count {
                name: key,
                ..Count::default()
            });
            e.open += 1;
            match urgency {
                "overdue" => e.overdue += 1,
                "due_soon" => e.due_soon += 1,
                _ => {}
            }
        }
        open.push(BoardItem {
            claim: v,
            minutes_left: minutes,
            time_left: time_left(minutes),
            urgency: urgency.into(),
        });
    }
    open.sort_by_key(|i| (i.minutes_left, i.claim.id));
    // Month of the report, China time: surveyed in time / surveyed or past due.
    let mut months: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for c in &all {
        let surveyed = c.surveyed_at.is_some();
        if c.status == "declined" && !surveyed {
            continue;
        }
        let due = from_text(&c.survey_due_at)?;
        if !surveyed && due > now {
            continue;
        }
        let month = from_text(&c.reported_at)?
            .with_timezone(&clock::china())
            .format("%Y-%m")
            .to_string();
        let e = months.entry(month).or_default();
        e.0 += 1;
        if on_time(c) == Some(true) {
            e.1 += 1;
        }
    }
    let monthly = months
        .into_iter()
        .rev()
        .map(|(month, (due, on_time))| MonthFigure {
            month,
            due,
            on_time,
            share: (due > 0).then(|| {
                let mut pct = (rust_decimal::Decimal::from(on_time * 100)
                    / rust_decimal::Decimal::from(due))
                .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
                // Always one decimal: "50.0", not "50".
                pct.rescale(1);
                pct
            }),
        })
        .collect();
    let today = china_date(now);
    let agreed: Vec<Claim> = all
        .iter()
        .filter(|c| c.status == "agreed")
        .cloned()
        .collect();
    let agreed_views = views(conn, actor, &agreed)?;
    let mut payments_due: Vec<PaymentDue> = agreed
        .iter()
        .zip(agreed_views)
        .map(|(c, v)| {
            let due = c
                .payment_due_on
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .unwrap_or(today);
            PaymentDue {
                owed: Fen(c.payout_fen.unwrap_or(0) - c.paid_fen),
                days_overdue: (today - due).num_days(),
                claim: v,
            }
        })
        .collect();
    payments_due.sort_by_key(|p| (-p.days_overdue, p.claim.id));
    Ok(Board {
        now: clock::display(now),
        warn_hours: shown_warn.unwrap_or(6),
        overdue: open.iter().filter(|i| i.urgency == "overdue").count(),
        due_soon: open.iter().filter(|i| i.urgency == "due_soon").count(),
        open,
        by_adjuster: by_adjuster.into_values().collect(),
        by_township: by_township.into_values().collect(),
        monthly,
        payments_overdue: payments_due.iter().filter(|p| p.days_overdue > 0).count(),
        payments_due,
    })
}

/// Open claims past or near their survey deadline (the CLI's `claims overdue`).
pub fn overdue(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    warn_hours: Option<u32>,
) -> AppResult<Vec<BoardItem>> {
    Ok(board(conn, actor, now, warn_hours)?
        .open
        .into_iter()
        .filter(|i| i.urgency != "ok")
        .collect())
}

// ---------------------------------------------------------------- outputs

use crate::excel::write::{Cell, Column, Table};

fn col(header: &str, width: f64) -> Column {
    Column {
        header: header.to_string(),
        width,
    }
}

/// 赔案台账: every claim the actor sees, with its dates and money.
pub fn ledger(conn: &mut DbConn, actor: &Actor, now: DateTime<Utc>) -> AppResult<Table> {
    let list = list(conn, actor, &ClaimFilter::default())?;
    let mut payout_total = Fen::ZERO;
    let mut paid_total = Fen::ZERO;
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|c| {
            let payout = c.payout.unwrap_or(Fen::ZERO);
            payout_total += payout;
            paid_total += c.paid;
            vec![
                Cell::Text(c.claim_no.clone()),
                Cell::Text(c.policy_no.clone()),
                Cell::Text(c.township_name.clone()),
                Cell::Text(c.village_name.clone()),
                Cell::Text(c.grower_name.clone()),
                Cell::Text(c.plot_code.clone()),
                Cell::Text(c.peril_name.clone()),
                Cell::Text(c.occurred_display.clone()),
                Cell::Text(c.reported_display.clone()),
                Cell::Text(c.survey_due_display.clone()),
                Cell::Text(c.surveyed_display.clone().unwrap_or_default()),
                Cell::Text(match c.surveyed_on_time {
                    Some(true) => "是".into(),
                    Some(false) => "否".into(),
                    None => String::new(),
                }),
                Cell::Text(c.status_name.clone()),
                Cell::Text(c.decline_reason.clone().unwrap_or_default()),
                Cell::Money(payout),
                Cell::Money(c.paid),
            ]
        })
        .collect();
    let count = rows.len();
    Ok(Table {
        sheet_name: "赔案台账".into(),
        title: Some("理赔案件台账".into()),
        subtitle: Some(format!(
            "制表时间 {} · 共{}件 · 金额单位：元",
            clock::display(now),
            count
        )),
        columns: vec![
            col("赔案号", 16.0),
            col("保单号", 20.0),
            col("乡镇", 10.0),
            col("村", 10.0),
            col("被保险人", 10.0),
            col("地块编号", 16.0),
            col("灾害原因", 10.0),
            col("出险时间", 17.0),
            col("报案时间", 17.0),
            col("查勘时限", 17.0),
            col("查勘时间", 17.0),
            col("24小时内查勘", 8.0),
            col("状态", 10.0),
            col("拒赔原因", 30.0),
            col("赔款", 12.0),
            col("已支付", 12.0),
        ],
        rows,
        totals: Some(
            std::iter::once(Cell::Text("合计".into()))
                .chain(std::iter::once(Cell::Text(format!("{count}件"))))
                .chain(std::iter::repeat_n(Cell::Empty, 12))
                .chain([Cell::Money(payout_total), Cell::Money(paid_total)])
                .collect(),
        ),
    })
}

/// 赔款支付清单 for the bank: agreed claims with money still owed.
pub fn payout_list(conn: &mut DbConn, actor: &Actor, now: DateTime<Utc>) -> AppResult<Table> {
    actor.require(may_handle(actor) || actor.role == Role::Finance)?;
    let rows = scoped_rows(
        conn,
        actor,
        &ClaimFilter {
            status: Some("agreed".into()),
            ..ClaimFilter::default()
        },
    )?;
    let full = actor.sees_personal_data();
    let names = super::areas::names(conn)?;
    let mut total = Fen::ZERO;
    let mut out = Vec::with_capacity(rows.len());
    for (i, c) in rows.iter().enumerate() {
        let g = super::growers::load(conn, c.grower_id)?;
        let owed = Fen(c.payout_fen.unwrap_or(0) - c.paid_fen);
        total += owed;
        out.push(vec![
            Cell::Int(i as i64 + 1),
            Cell::Text(c.claim_no.clone()),
            Cell::Text(
                names
                    .get(&g.village_id)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
            ),
            Cell::Text(g.name.clone()),
            Cell::Text(personal(full, &g.id_number, mask_id)),
            Cell::Text(g.bank_name.clone()),
            Cell::Text(personal(full, &g.bank_account, mask_account)),
            Cell::Money(owed),
            Cell::Text(c.payment_due_on.clone().unwrap_or_default()),
        ]);
    }
    let count = out.len();
    Ok(Table {
        sheet_name: "赔款支付清单".into(),
        title: Some("农户赔款支付清单".into()),
        subtitle: Some(format!(
            "制表时间 {} · 共{}户 · 金额单位：元 · 款项须直接支付到农户本人账户",
            clock::display(now),
            count
        )),
        columns: vec![
            col("序号", 6.0),
            col("赔案号", 16.0),
            col("村", 10.0),
            col("户主姓名", 10.0),
            col("身份证号", 21.0),
            col("开户银行", 14.0),
            col("银行账号", 24.0),
            col("应付金额", 12.0),
            col("支付期限", 12.0),
        ],
        rows: out,
        totals: Some(vec![
            Cell::Text("合计".into()),
            Cell::Text(format!("{count}户")),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Money(total),
            Cell::Empty,
        ]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_recognised_by_their_bytes() {
        assert_eq!(
            claimed_format(&[0xFF, 0xD8, 0xFF, 0xE0]).map(|f| f.1),
            Some("image/jpeg")
        );
        assert_eq!(
            claimed_format(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").map(|f| f.1),
            Some("image/png")
        );
        assert_eq!(
            claimed_format(b"RIFF\0\0\0\0WEBPVP8 ").map(|f| f.1),
            Some("image/webp")
        );
        assert_eq!(claimed_format(b"%PDF-1.7"), None);
        assert_eq!(claimed_format(b"RIFF"), None);
        assert_eq!(claimed_format(b""), None);
    }

    fn encoded(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 3) as u8, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_photo_must_decode_whole() {
        let jpeg = encoded(image::ImageFormat::Jpeg, 64, 48);
        assert_eq!(
            image_facts(&jpeg),
            Some(ImageFacts {
                content_type: "image/jpeg",
                width: 64,
                height: 48
            })
        );
        let png = encoded(image::ImageFormat::Png, 5, 7);
        assert_eq!(image_type(&png), Some("image/png"));
        // The JPEG signature in front of a web page is not a photo.
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0];
        fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert_eq!(image_type(&fake), None);
        // Nor is a real photo cut off half way.
        assert_eq!(image_type(jpeg.get(..jpeg.len() / 2).unwrap()), None);
        assert_eq!(image_type(png.get(..png.len() - 20).unwrap()), None);
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), None);
    }

    /// How long a camera-sized photo takes to check: `cargo test --lib
    /// photo_decode_time -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn photo_decode_time() {
        // Noise, so the file is as large as a camera's (about 4 MB).
        let img = image::RgbImage::from_fn(2600, 1950, |x, y| {
            let n = x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503);
            image::Rgb([(n >> 7) as u8, (n >> 13) as u8, (n >> 19) as u8])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        let big = out.into_inner();
        let t = std::time::Instant::now();
        let facts = image_facts(&big).unwrap();
        let full = t.elapsed();
        let t = std::time::Instant::now();
        let dims =
            image::ImageReader::with_format(std::io::Cursor::new(&big), image::ImageFormat::Jpeg)
                .into_dimensions()
                .unwrap();
        println!(
            "{} bytes, {facts:?}: full decode {full:?}, dimensions only {:?} {dims:?}",
            big.len(),
            t.elapsed()
        );
    }

    #[test]
    fn accounts_and_time_left_read_well() {
        assert_eq!(mask_account("6228480000000000001"), "6228***********0001");
        assert_eq!(mask_account("1234"), "****");
        assert_eq!(time_left(125), "剩余2小时05分");
        assert_eq!(time_left(-61), "超时1小时01分");
        assert!(valid_client_id("a1b2c3d4-e5f6"));
        assert!(!valid_client_id("short"));
        assert!(!valid_client_id("has space in it"));
    }
}
