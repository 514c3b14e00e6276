//! Public notices (公示) as evidence, and the order they enforce.
//!
//! - An enrollment notice (承保公示) lists a village's policies (drafts and
//!   collected) with their figures; a policy is issued only once a notice
//!   showing its *current* figures has ended with every objection resolved
//!   ([`issuable`], called by `policies::issue`).
//! - A claim results notice (理赔公示) lists the approved claims of a loss
//!   event or of a village; a payout is paid only once a notice showing that
//!   payout has ended with no open objection ([`payable`], called by
//!   `claims::pay`).
//!
//! A notice keeps what it showed (its items), the evidence of its posting
//! (dates, place, photos) and the objections raised while it was up; every
//! change is audited.

pub mod sheet;

use super::clock::input_day;
use super::{audit, Action, Actor};
use crate::db::models::{Area, Claim, Grower, Policy};
use crate::db::notices::{self as rows, NewNotice, NewObjection, Notice, NoticeItem, Objection};
use crate::db::schema::{
    areas, claim_events, claim_surveys, claims, growers, notices, plots, policies,
};
use crate::db::DbConn;
use crate::domain::area::AreaLevel;
use crate::domain::claims::ClaimStatus;
use crate::domain::id_number::{mask_id, mask_phone};
use crate::domain::policy::PolicyStatus;
use crate::domain::text::{self, TextKind};
use crate::domain::time::{Day, Instant};
use crate::domain::{Fen, Mu};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const ENROLLMENT: &str = "enrollment";
pub const CLAIM: &str = "claim";

/// Codes and names of the kinds, for filters and drop-downs.
pub const KINDS: [(&str, &str); 2] = [(ENROLLMENT, "承保公示"), (CLAIM, "理赔结果公示")];

pub fn kind_name(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("公示", |(_, n)| n)
}

/// How far a start date may lie ahead: a notice is printed shortly before it goes up.
const MAX_DAYS_AHEAD: i64 = 60;
/// The longest period a notice may be posted for.
const MAX_PERIOD_DAYS: i64 = 90;

fn author(actor: &Actor) -> Option<i64> {
    (actor.user_id > 0).then_some(actor.user_id)
}

pub fn may_post(actor: &Actor) -> bool {
    actor.may(Action::PostNotices)
}

/// The notice `id` if the actor may see it, else "not found": a township
/// station sees its own township's notices only (a claim event's notice
/// spanning townships belongs to the county).
pub fn scoped(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Notice> {
    actor.require(may_post(actor))?;
    let n = rows::by_id(conn, id)?.ok_or_else(|| AppError::not_found("公示"))?;
    match actor.township_scope() {
        Some(t) if n.township_id != Some(t) => Err(AppError::not_found("公示")),
        _ => Ok(n),
    }
}

// ---------------------------------------------------------------- create

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct NoticeInput {
    /// `enrollment` or `claim`.
    pub kind: String,
    /// The scheme's code; empty for the current scheme.
    pub scheme: String,
    /// The village (an enrollment notice, or the single claims of a village).
    pub village_code: String,
    /// The loss event (a claim notice of an event's claims).
    pub event_id: Option<i64>,
    pub starts_on: String,
    /// Empty: the start plus the scheme's period.
    pub ends_on: String,
    /// Where it is posted (村委会公示栏).
    pub place: String,
    /// The station's number printed on the notice for objections.
    pub contact_phone: String,
}

/// What a notice covers, resolved from the input.
enum Target {
    Village(Area),
    Event { id: i64, name: String },
}

fn field_text(
    errs: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    raw: &str,
    kind: TextKind,
    required: bool,
) -> String {
    match text::check(label, raw, kind) {
        Ok(t) if t.is_empty() && required => {
            errs.push(FieldError::new(
                field,
                ErrorCode::ValueRequired,
                format!("请填写{label}"),
            ));
            t
        }
        Ok(t) => t,
        Err(p) => {
            errs.push(FieldError::new(field, p.code, p.message));
            String::new()
        }
    }
}

/// A contact number as the growers will dial it: digits with optional
/// separators, a mobile (11 digits from 1) or a fixed line with its area code.
fn contact_phone(errs: &mut Vec<FieldError>, raw: &str) -> String {
    let t = field_text(
        errs,
        "contact_phone",
        "联系电话",
        raw,
        TextKind::Phone,
        true,
    );
    if t.is_empty() {
        return t;
    }
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    let shape_ok = t
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    let ok = shape_ok
        && ((digits.len() == 11 && digits.starts_with('1'))
            || ((10..=12).contains(&digits.len()) && digits.starts_with('0')));
    if !ok {
        errs.push(FieldError::new(
            "contact_phone",
            ErrorCode::PhoneInvalid,
            "联系电话应为11位手机号或带区号的固定电话（如0871-12345678）",
        ));
    }
    t
}

/// The checked dates of a posting: start not before today (a notice is made
/// in the system, then printed and posted), end at least the scheme's period
/// after the start.
fn period(
    errs: &mut Vec<FieldError>,
    input: &NoticeInput,
    days: u32,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let start = match input_day("starts_on", "公示开始日期", &input.starts_on) {
        Ok(d) => d,
        Err(e) => {
            errs.push(e);
            return None;
        }
    };
    if start < today || start > today + Duration::days(MAX_DAYS_AHEAD) {
        errs.push(FieldError::new(
            "starts_on",
            ErrorCode::NoticeStartInvalid,
            format!(
                "公示开始日期应在今天（{today}）到{}之间：先在系统中生成公示，再打印张贴",
                today + Duration::days(MAX_DAYS_AHEAD)
            ),
        ));
        return None;
    }
    let least = start + Duration::days(i64::from(days));
    let end = if input.ends_on.trim().is_empty() {
        least
    } else {
        match input_day("ends_on", "公示结束日期", &input.ends_on) {
            Ok(d) => d,
            Err(e) => {
                errs.push(e);
                return None;
            }
        }
    };
    if end < start {
        errs.push(FieldError::new(
            "ends_on",
            ErrorCode::NoticePeriodInvalid,
            format!("公示结束日期（{end}）不能早于开始日期（{start}）"),
        ));
        return None;
    }
    if end < least || end > start + Duration::days(MAX_PERIOD_DAYS) {
        errs.push(FieldError::new(
            "ends_on",
            ErrorCode::NoticePeriodInvalid,
            format!(
                "公示期不能短于方案规定的{days}天（最早结束于{least}），也不能超过{MAX_PERIOD_DAYS}天"
            ),
        ));
        return None;
    }
    Some((start, end))
}

/// The village by its code, if the actor may post there; another
/// township's village (or an unknown code) is "not found".
fn village(conn: &mut DbConn, actor: &Actor, code: &str) -> AppResult<Area> {
    let a: Option<Area> = areas::table
        .filter(areas::code.eq(code.trim()))
        .filter(areas::level.eq(AreaLevel::Village))
        .select(Area::as_select())
        .first(conn)
        .optional()?;
    match (a, actor.township_scope()) {
        (Some(a), Some(t)) if a.parent_id != Some(t) => Err(AppError::not_found("村")),
        (Some(a), _) => Ok(a),
        (None, _) => Err(AppError::not_found("村")),
    }
}

fn crop_title(crop_name: &str) -> String {
    if crop_name.ends_with('树') {
        format!("{crop_name}保险")
    } else {
        format!("{crop_name}树保险")
    }
}

/// Make a notice: the figures of the village's policies (or the event's
/// approved claims) as they stand now, with the posting's dates and place.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    input: &NoticeInput,
) -> AppResult<NoticeView> {
    actor.require(may_post(actor))?;
    let today = crate::app::clock::china_date(now);
    let kind = match input.kind.trim() {
        ENROLLMENT => ENROLLMENT,
        CLAIM => CLAIM,
        other => {
            return Err(AppError::invalid(
                "kind",
                ErrorCode::NoticeTargetRequired,
                format!(
                    "公示类型应为 enrollment（承保公示）或 claim（理赔结果公示），收到“{}”",
                    other.chars().take(20).collect::<String>()
                ),
            ))
        }
    };
    let mut errs = Vec::new();
    let place = field_text(
        &mut errs,
        "place",
        "张贴地点",
        &input.place,
        TextKind::Place,
        true,
    );
    let phone = contact_phone(&mut errs, &input.contact_phone);
    let event_id = input.event_id.filter(|_| kind == CLAIM);
    if input.village_code.trim().is_empty() && event_id.is_none() {
        errs.push(FieldError::new(
            if kind == ENROLLMENT {
                "village_code"
            } else {
                "event_id"
            },
            ErrorCode::NoticeTargetRequired,
            if kind == ENROLLMENT {
                "请选择要公示的村"
            } else {
                "请选择灾害事件，或选择村（公示该村的单独赔案）"
            },
        ));
    }
    let scheme = match input.scheme.trim() {
        "" => super::schemes::current(conn)?.ok_or_else(|| AppError::not_found("险种方案"))?,
        code => super::schemes::by_code(conn, code)?,
    };
    let days = if kind == ENROLLMENT {
        scheme.def.notices.enrollment_days
    } else {
        scheme.def.notices.claim_days
    };
    let dates = period(&mut errs, input, days, today);
    // The target last: a missing one is a 404 only once the form itself is sound.
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let (start, end) = dates.ok_or_else(|| AppError::Internal("公示日期未检查".into()))?;
    super::tx(conn, |conn| {
        let target = match event_id {
            Some(e) => {
                let (scheme_id, name): (i64, String) = claim_events::table
                    .find(e)
                    .select((claim_events::scheme_id, claim_events::name))
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| AppError::not_found("灾害事件"))?;
                if scheme_id != scheme.id {
                    return Err(AppError::not_found("灾害事件"));
                }
                Target::Event { id: e, name }
            }
            None => Target::Village(village(conn, actor, &input.village_code)?),
        };
        let (items, township_id) = match (&target, kind) {
            (Target::Village(v), ENROLLMENT) => (enrollment_items(conn, &scheme, v)?, v.parent_id),
            (Target::Village(v), _) => (
                claim_items(conn, actor, scheme.id, None, Some(v.id))?,
                v.parent_id,
            ),
            (Target::Event { id, .. }, _) => {
                let items = claim_items(conn, actor, scheme.id, Some(*id), None)?;
                let t = event_township(conn, &items, actor)?;
                (items, t)
            }
        };
        if items.is_empty() {
            return Err(AppError::conflict(
                ErrorCode::NoticeEmpty,
                if kind == ENROLLMENT {
                    "本村没有待签发的保单（待收费或已收费），无需承保公示"
                } else {
                    "没有已审核待支付的赔案，无需理赔结果公示"
                },
            ));
        }
        let crop = crop_title(&scheme.def.crop_name);
        let title = match (&target, kind) {
            (Target::Village(v), ENROLLMENT) => {
                format!("{}{}年度{}承保公示", v.name, scheme.def.year, crop)
            }
            (Target::Village(v), _) => {
                format!("{}{}年度{}理赔结果公示", v.name, scheme.def.year, crop)
            }
            (Target::Event { name, .. }, _) => {
                format!(
                    "{}{}年度{}理赔结果公示（{}）",
                    "", scheme.def.year, crop, name
                )
            }
        };
        let (village_id, event) = match &target {
            Target::Village(v) => (Some(v.id), None),
            Target::Event { id, .. } => (None, Some(*id)),
        };
        let at = Instant::from_utc(now);
        let id = rows::insert(
            conn,
            &NewNotice {
                kind,
                scheme_id: scheme.id,
                township_id,
                village_id,
                event_id: event,
                title: &title,
                starts_on: Day::new(start),
                ends_on: Day::new(end),
                place: &place,
                contact_phone: &phone,
                created_by: author(actor),
                created_at: at,
            },
        )?;
        let items: Vec<NoticeItem> = items
            .into_iter()
            .map(|i| NoticeItem { notice_id: id, ..i })
            .collect();
        rows::insert_items(conn, items.clone())?;
        let n =
            rows::by_id(conn, id)?.ok_or_else(|| AppError::Internal("公示写入后未找到".into()))?;
        audit::record(
            conn,
            actor,
            "create",
            "notice",
            id,
            None::<&()>,
            Some(&serde_json::json!({"notice": n, "items": items})),
        )?;
        view(conn, actor, &n, today)
    })
}

/// The village's policies waiting for issuance (drafts and collected), with
/// the figures they have now; ID numbers and phones masked.
fn enrollment_items(
    conn: &mut DbConn,
    scheme: &super::schemes::Scheme,
    v: &Area,
) -> AppResult<Vec<NoticeItem>> {
    snapshot_policies(
        conn,
        scheme,
        v,
        &[PolicyStatus::Draft, PolicyStatus::Collected],
    )
}

/// The village's policies in `statuses`, as a notice lists them.
pub(crate) fn snapshot_policies(
    conn: &mut DbConn,
    scheme: &super::schemes::Scheme,
    v: &Area,
    statuses: &[PolicyStatus],
) -> AppResult<Vec<NoticeItem>> {
    let list: Vec<(Policy, Grower)> = policies::table
        .inner_join(growers::table)
        .filter(policies::scheme_id.eq(scheme.id))
        .filter(growers::village_id.eq(v.id))
        .filter(policies::status.eq_any(statuses.to_vec()))
        .order(policies::policy_no)
        .select((Policy::as_select(), Grower::as_select()))
        .load(conn)?;
    let grower_ids: Vec<i64> = list.iter().map(|(p, _)| p.grower_id).collect();
    let mut varieties: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in grower_ids.chunks(500) {
        let found: Vec<(i64, String)> = plots::table
            .filter(plots::grower_id.eq_any(chunk))
            .filter(plots::scheme_id.eq(scheme.id))
            .filter(plots::eligible.eq(true))
            .select((plots::grower_id, plots::variety))
            .distinct()
            .load(conn)?;
        for (g, code) in found {
            let name = scheme
                .def
                .variety(&code)
                .map_or(code.clone(), |x| x.name.clone());
            let names = varieties.entry(g).or_default();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    Ok(list
        .into_iter()
        .map(|(p, g)| NoticeItem {
            id: 0,
            notice_id: 0,
            policy_id: Some(p.id),
            claim_id: None,
            grower_id: g.id,
            grower_name: g.name.clone(),
            id_number_masked: mask_id(&g.id_number),
            phone_masked: mask_phone(&g.phone),
            village_name: v.name.clone(),
            variety: varieties
                .get(&g.id)
                .map(|v| {
                    let mut v = v.clone();
                    v.sort();
                    v.join("、")
                })
                .unwrap_or_default(),
            insured_area_units: p.insured_area_units,
            sum_insured_fen: p.sum_insured_fen,
            premium_fen: p.premium_fen,
            grower_share_fen: p.grower_share_fen,
            affected_area_units: Mu::ZERO,
            loss_rate_bp: 0,
            payout_fen: Fen::ZERO,
        })
        .collect())
}

/// The approved claims not yet paid in full, of an event (within the
/// actor's township for a station) or the single claims of a village.
pub(crate) fn claim_items(
    conn: &mut DbConn,
    actor: &Actor,
    scheme_id: i64,
    event_id: Option<i64>,
    village_id: Option<i64>,
) -> AppResult<Vec<NoticeItem>> {
    let mut q = claims::table
        .inner_join(growers::table.on(growers::id.eq(claims::grower_id)))
        .filter(claims::scheme_id.eq(scheme_id))
        .filter(claims::status.eq_any([ClaimStatus::Approved, ClaimStatus::Agreed]))
        .into_boxed();
    if let Some(e) = event_id {
        q = q.filter(claims::event_id.eq(e));
    }
    if let Some(v) = village_id {
        q = q
            .filter(claims::event_id.is_null())
            .filter(growers::village_id.eq(v));
    }
    if let Some(t) = actor.township_scope() {
        q = q.filter(claims::township_id.eq(t));
    }
    let list: Vec<(Claim, Grower)> = q
        .order(claims::claim_no)
        .select((Claim::as_select(), Grower::as_select()))
        .load(conn)?;
    let names = super::areas::names(conn)?;
    let mut out = Vec::with_capacity(list.len());
    for (c, g) in list {
        let survey: Option<(i64, i64)> = claim_surveys::table
            .filter(claim_surveys::claim_id.eq(c.id))
            .order(claim_surveys::id.desc())
            .select((
                claim_surveys::affected_area_units,
                claim_surveys::loss_rate_bp,
            ))
            .first(conn)
            .optional()?;
        let (affected, loss) = survey.unwrap_or((0, 0));
        out.push(NoticeItem {
            id: 0,
            notice_id: 0,
            policy_id: Some(c.policy_id),
            claim_id: Some(c.id),
            grower_id: g.id,
            grower_name: g.name.clone(),
            id_number_masked: mask_id(&g.id_number),
            phone_masked: mask_phone(&g.phone),
            village_name: names
                .get(&g.village_id)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            variety: String::new(),
            insured_area_units: Mu::ZERO,
            sum_insured_fen: Fen::ZERO,
            premium_fen: Fen::ZERO,
            grower_share_fen: Fen::ZERO,
            affected_area_units: Mu::from_units(affected),
            loss_rate_bp: loss,
            payout_fen: c.payout_fen.unwrap_or(Fen::ZERO),
        });
    }
    Ok(out)
}

/// An event notice belongs to its claims' township when they share one
/// (a station's notice always does), else to the county.
fn event_township(
    conn: &mut DbConn,
    items: &[NoticeItem],
    actor: &Actor,
) -> AppResult<Option<i64>> {
    if let Some(t) = actor.township_scope() {
        return Ok(Some(t));
    }
    let ids: Vec<i64> = items.iter().filter_map(|i| i.claim_id).collect();
    let towns: Vec<i64> = claims::table
        .filter(claims::id.eq_any(&ids))
        .select(claims::township_id)
        .distinct()
        .load(conn)?;
    Ok(match towns.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

// ---------------------------------------------------------------- views

#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub grower_id: i64,
    pub grower_name: String,
    pub id_number: String,
    pub phone: String,
    pub village_name: String,
    pub variety: String,
    pub policy_id: Option<i64>,
    pub claim_id: Option<i64>,
    pub insured_mu: Mu,
    pub sum_insured: Fen,
    pub premium: Fen,
    pub grower_share: Fen,
    pub affected_mu: Mu,
    /// Loss rate in percent, as printed ("35.5").
    pub loss_rate: String,
    pub payout: Fen,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub households: usize,
    pub insured_mu: Mu,
    pub sum_insured: Fen,
    pub premium: Fen,
    pub grower_share: Fen,
    pub affected_mu: Mu,
    pub payout: Fen,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectionView {
    pub id: i64,
    pub raised_by: String,
    pub grower_id: Option<i64>,
    pub grower_name: Option<String>,
    pub plot_id: Option<i64>,
    pub plot_code: Option<String>,
    pub content: String,
    pub raised_on: Day,
    pub recorded_at: String,
    pub open: bool,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    pub id: i64,
    pub sha256: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub id: i64,
    pub kind: String,
    pub kind_name: String,
    pub scheme_code: String,
    pub scheme_name: String,
    pub insurer: String,
    pub title: String,
    pub township_id: Option<i64>,
    pub township_name: String,
    pub village_id: Option<i64>,
    pub village_name: String,
    pub event_id: Option<i64>,
    pub starts_on: Day,
    pub ends_on: Day,
    pub days: i64,
    pub place: String,
    pub contact_phone: String,
    /// `upcoming`, `posted` (in its period) or `ended`.
    pub state: String,
    pub state_name: String,
    pub open_objections: usize,
    pub items: Vec<ItemView>,
    pub totals: Totals,
    pub objections: Vec<ObjectionView>,
    pub photos: Vec<PhotoView>,
    pub created_at: String,
}

fn state_of(n: &Notice, today: NaiveDate) -> (&'static str, &'static str) {
    if today < n.starts_on.date() {
        ("upcoming", "待张贴")
    } else if today <= n.ends_on.date() {
        ("posted", "公示中")
    } else {
        ("ended", "公示期满")
    }
}

fn percent_of_bp(bp: i64) -> String {
    rust_decimal::Decimal::new(bp, 2).normalize().to_string()
}

fn item_view(i: &NoticeItem) -> ItemView {
    ItemView {
        grower_id: i.grower_id,
        grower_name: i.grower_name.clone(),
        id_number: i.id_number_masked.clone(),
        phone: i.phone_masked.clone(),
        village_name: i.village_name.clone(),
        variety: i.variety.clone(),
        policy_id: i.policy_id,
        claim_id: i.claim_id,
        insured_mu: i.insured_area_units,
        sum_insured: i.sum_insured_fen,
        premium: i.premium_fen,
        grower_share: i.grower_share_fen,
        affected_mu: i.affected_area_units,
        loss_rate: percent_of_bp(i.loss_rate_bp),
        payout: i.payout_fen,
    }
}

fn totals(items: &[NoticeItem]) -> Totals {
    let mut t = Totals {
        households: items.len(),
        ..Totals::default()
    };
    for i in items {
        t.insured_mu = t.insured_mu + i.insured_area_units;
        t.sum_insured += i.sum_insured_fen;
        t.premium += i.premium_fen;
        t.grower_share += i.grower_share_fen;
        t.affected_mu = t.affected_mu + i.affected_area_units;
        t.payout += i.payout_fen;
    }
    t
}

fn user_names(conn: &mut DbConn, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    use crate::db::schema::users;
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

fn objection_views(conn: &mut DbConn, list: &[Objection]) -> AppResult<Vec<ObjectionView>> {
    let users: Vec<i64> = list.iter().filter_map(|o| o.resolved_by).collect();
    let users = user_names(conn, &users)?;
    let mut out = Vec::with_capacity(list.len());
    for o in list {
        let grower_name = match o.grower_id {
            Some(g) => growers::table
                .find(g)
                .select(growers::name)
                .first::<String>(conn)
                .optional()?,
            None => None,
        };
        let plot_code = match o.plot_id {
            Some(p) => plots::table
                .find(p)
                .select(plots::code)
                .first::<String>(conn)
                .optional()?,
            None => None,
        };
        out.push(ObjectionView {
            id: o.id,
            raised_by: o.raised_by.clone(),
            grower_id: o.grower_id,
            grower_name,
            plot_id: o.plot_id,
            plot_code,
            content: o.content.clone(),
            raised_on: o.raised_on,
            recorded_at: o.created_at.display(),
            open: o.resolved_at.is_none(),
            resolution: o.resolution.clone(),
            resolved_by: o.resolved_by.and_then(|u| users.get(&u).cloned()),
            resolved_at: o.resolved_at.map(Instant::display),
        });
    }
    Ok(out)
}

pub fn view(
    conn: &mut DbConn,
    _actor: &Actor,
    n: &Notice,
    today: NaiveDate,
) -> AppResult<NoticeView> {
    let scheme = super::schemes::by_id(conn, n.scheme_id)?;
    let names = super::areas::names(conn)?;
    let name_of = |id: Option<i64>| {
        id.and_then(|i| names.get(&i))
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let items = rows::items_of(conn, n.id)?;
    let objections = rows::objections_of(conn, n.id)?;
    let objections = objection_views(conn, &objections)?;
    let photos = rows::photos_of(conn, n.id)?
        .into_iter()
        .map(|p| PhotoView {
            id: p.id,
            sha256: p.sha256,
            content_type: p.content_type,
            size_bytes: p.size_bytes,
            uploaded_at: p.created_at.display(),
        })
        .collect();
    let (state, state_name) = state_of(n, today);
    Ok(NoticeView {
        id: n.id,
        kind: n.kind.clone(),
        kind_name: kind_name(&n.kind).to_string(),
        scheme_code: scheme.def.code.clone(),
        scheme_name: scheme.def.name.clone(),
        insurer: scheme.def.insurer.clone(),
        title: n.title.clone(),
        township_id: n.township_id,
        township_name: if n.township_id.is_some() {
            name_of(n.township_id)
        } else {
            "全县".into()
        },
        village_id: n.village_id,
        village_name: name_of(n.village_id),
        event_id: n.event_id,
        starts_on: n.starts_on,
        ends_on: n.ends_on,
        days: (n.ends_on.date() - n.starts_on.date()).num_days(),
        place: n.place.clone(),
        contact_phone: n.contact_phone.clone(),
        state: state.into(),
        state_name: state_name.into(),
        open_objections: objections.iter().filter(|o| o.open).count(),
        totals: totals(&items),
        items: items.iter().map(item_view).collect(),
        objections,
        photos,
        created_at: n.created_at.display(),
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: i64, today: NaiveDate) -> AppResult<NoticeView> {
    let n = scoped(conn, actor, id)?;
    view(conn, actor, &n, today)
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeSummary {
    pub id: i64,
    pub kind: String,
    pub kind_name: String,
    pub title: String,
    pub township_name: String,
    pub starts_on: Day,
    pub ends_on: Day,
    pub state: String,
    pub state_name: String,
    pub households: i64,
    pub open_objections: i64,
    pub photos: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NoticeFilter {
    pub kind: Option<String>,
}

/// The notices the actor may see, newest first.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    f: &NoticeFilter,
    today: NaiveDate,
) -> AppResult<Vec<NoticeSummary>> {
    use crate::db::schema::{notice_items, notice_objections, notice_photos};
    actor.require(may_post(actor))?;
    let mut q = notices::table.into_boxed();
    if let Some(t) = actor.township_scope() {
        q = q.filter(notices::township_id.eq(t));
    }
    if let Some(k) = f.kind.as_deref().filter(|k| !k.is_empty()) {
        q = q.filter(notices::kind.eq(k.to_string()));
    }
    let list: Vec<Notice> = q
        .order(notices::id.desc())
        .limit(500)
        .select(Notice::as_select())
        .load(conn)?;
    let ids: Vec<i64> = list.iter().map(|n| n.id).collect();
    let count_by = |rows: Vec<i64>| {
        let mut m: HashMap<i64, i64> = HashMap::new();
        for r in rows {
            *m.entry(r).or_default() += 1;
        }
        m
    };
    let households = count_by(
        notice_items::table
            .filter(notice_items::notice_id.eq_any(&ids))
            .select(notice_items::notice_id)
            .load(conn)?,
    );
    let open = count_by(
        notice_objections::table
            .filter(notice_objections::notice_id.eq_any(&ids))
            .filter(notice_objections::resolved_at.is_null())
            .select(notice_objections::notice_id)
            .load(conn)?,
    );
    let photos = count_by(
        notice_photos::table
            .filter(notice_photos::notice_id.eq_any(&ids))
            .select(notice_photos::notice_id)
            .load(conn)?,
    );
    let names = super::areas::names(conn)?;
    Ok(list
        .iter()
        .map(|n| {
            let (state, state_name) = state_of(n, today);
            NoticeSummary {
                id: n.id,
                kind: n.kind.clone(),
                kind_name: kind_name(&n.kind).into(),
                title: n.title.clone(),
                township_name: n
                    .township_id
                    .and_then(|t| names.get(&t))
                    .map_or("全县".into(), |a| a.name.clone()),
                starts_on: n.starts_on,
                ends_on: n.ends_on,
                state: state.into(),
                state_name: state_name.into(),
                households: households.get(&n.id).copied().unwrap_or(0),
                open_objections: open.get(&n.id).copied().unwrap_or(0),
                photos: photos.get(&n.id).copied().unwrap_or(0),
            }
        })
        .collect())
}

// ---------------------------------------------------------------- objections

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ObjectionInput {
    /// Who raised it (a grower, a villager).
    pub raised_by: String,
    /// The grower it is about (one of the notice's households), if any.
    pub grower_id: Option<i64>,
    /// The plot it is about (a plot of one of the notice's households), if any.
    pub plot_code: String,
    pub content: String,
    pub raised_on: String,
}

/// Record an objection raised while the notice was up.
pub fn object(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: &ObjectionInput,
) -> AppResult<ObjectionView> {
    actor.require(may_post(actor))?;
    let today = crate::app::clock::china_date(now);
    super::tx(conn, |conn| {
        let n = scoped(conn, actor, id)?;
        let mut errs = Vec::new();
        let raised_by = field_text(
            &mut errs,
            "raised_by",
            "异议人",
            &input.raised_by,
            TextKind::Name,
            true,
        );
        let content = field_text(
            &mut errs,
            "content",
            "异议内容",
            &input.content,
            TextKind::Notes,
            true,
        );
        let raised_on = match input_day("raised_on", "提出日期", &input.raised_on) {
            Ok(d) if d < n.starts_on.date() || d > n.ends_on.date() || d > today => {
                errs.push(FieldError::new(
                    "raised_on",
                    ErrorCode::DateInvalid,
                    format!(
                        "提出日期应在公示期内（{}至{}）且不晚于今天（{today}）",
                        n.starts_on, n.ends_on
                    ),
                ));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errs.push(e);
                None
            }
        };
        let households: Vec<i64> = rows::items_of(conn, n.id)?
            .iter()
            .map(|i| i.grower_id)
            .collect();
        let grower_id = match input.grower_id {
            Some(g) if !households.contains(&g) => {
                errs.push(FieldError::new(
                    "grower_id",
                    ErrorCode::ObjectionTargetUnknown,
                    "所选农户不在本公示的名单中",
                ));
                None
            }
            g => g,
        };
        let plot_code = field_text(
            &mut errs,
            "plot_code",
            "地块编号",
            &input.plot_code,
            TextKind::Code,
            false,
        );
        let plot_id = if plot_code.is_empty() {
            None
        } else {
            let found: Option<(i64, i64)> = plots::table
                .filter(plots::code.eq(&plot_code))
                .select((plots::id, plots::grower_id))
                .first(conn)
                .optional()?;
            match found {
                Some((p, g)) if households.contains(&g) && grower_id.is_none_or(|x| x == g) => {
                    Some(p)
                }
                _ => {
                    errs.push(FieldError::new(
                        "plot_code",
                        ErrorCode::ObjectionTargetUnknown,
                        "所填地块不属于本公示名单中的农户",
                    ));
                    None
                }
            }
        };
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let raised_on = raised_on.ok_or_else(|| AppError::Internal("异议日期未检查".into()))?;
        let oid = rows::insert_objection(
            conn,
            &NewObjection {
                notice_id: n.id,
                raised_by: &raised_by,
                grower_id,
                plot_id,
                content: &content,
                raised_on: Day::new(raised_on),
                recorded_by: author(actor),
                created_at: Instant::from_utc(now),
            },
        )?;
        let o = rows::objection(conn, oid)?
            .ok_or_else(|| AppError::Internal("异议写入后未找到".into()))?;
        audit::record(
            conn,
            actor,
            "objection",
            "notice_objection",
            oid,
            None::<&()>,
            Some(&o),
        )?;
        Ok(objection_views(conn, std::slice::from_ref(&o))?.remove(0))
    })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResolveInput {
    pub resolution: String,
}

/// Record how an objection was settled: who, when, what was decided.
pub fn resolve(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    notice_id: i64,
    objection_id: i64,
    input: &ResolveInput,
) -> AppResult<ObjectionView> {
    actor.require(may_post(actor))?;
    let mut errs = Vec::new();
    let resolution = field_text(
        &mut errs,
        "resolution",
        "处理结果",
        &input.resolution,
        TextKind::Notes,
        false,
    );
    if errs.is_empty() && resolution.is_empty() {
        errs.push(FieldError::new(
            "resolution",
            ErrorCode::ResolutionRequired,
            "请填写异议的处理结果",
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    super::tx(conn, |conn| {
        let n = scoped(conn, actor, notice_id)?;
        let before = rows::objection(conn, objection_id)?
            .filter(|o| o.notice_id == n.id)
            .ok_or_else(|| AppError::not_found("异议"))?;
        if before.resolved_at.is_some() {
            return Err(AppError::conflict(
                ErrorCode::ObjectionResolved,
                "该异议已经处理过，处理结果不能更改",
            ));
        }
        rows::resolve_objection(
            conn,
            objection_id,
            &resolution,
            author(actor),
            Instant::from_utc(now),
        )?;
        let after = rows::objection(conn, objection_id)?
            .ok_or_else(|| AppError::Internal("异议处理后未找到".into()))?;
        audit::record(
            conn,
            actor,
            "resolve",
            "notice_objection",
            objection_id,
            Some(&before),
            Some(&after),
        )?;
        Ok(objection_views(conn, std::slice::from_ref(&after))?.remove(0))
    })
}

// ---------------------------------------------------------------- photos

/// A photo of the posted notice, already checked (decoded whole) and
/// written to the photo store by the caller (`app::photos`): the row keeps
/// its SHA-256, type, size and dimensions (as the survey photos do).
pub fn add_photo(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    p: &crate::app::photos::Stored,
) -> AppResult<PhotoView> {
    actor.require(may_post(actor))?;
    let sha = p.sha256.as_str();
    super::tx(conn, |conn| {
        let n = scoped(conn, actor, id)?;
        let at = Instant::from_utc(now);
        let pid = rows::insert_photo(
            conn,
            &rows::NewNoticePhoto {
                notice_id: n.id,
                sha256: sha,
                content_type: p.content_type,
                size_bytes: p.size_bytes,
                width: p.width,
                height: p.height,
                uploaded_by: author(actor),
                created_at: at,
            },
        )?;
        audit::record(
            conn,
            actor,
            "photo",
            "notice",
            n.id,
            None::<&()>,
            Some(&serde_json::json!({"photo_id": pid, "sha256": sha, "size_bytes": p.size_bytes})),
        )?;
        Ok(PhotoView {
            id: pid,
            sha256: sha.to_string(),
            content_type: p.content_type.to_string(),
            size_bytes: p.size_bytes,
            uploaded_at: at.display(),
        })
    })
}

/// Where the bytes of a photo of a notice the actor may see are.
pub fn photo(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    photo_id: i64,
) -> AppResult<crate::app::photos::Content> {
    let n = scoped(conn, actor, id)?;
    rows::photo_content(conn, n.id, photo_id)?
        .map(crate::app::photos::Content::from_row)
        .ok_or_else(|| AppError::not_found("照片"))
}

// ---------------------------------------------------------------- the gates

/// Why a notice does not (yet) allow the next step, in the order a clerk
/// fixes them: none, none with the current figures, still up, objections open.
enum Refusal {
    Missing,
    Stale(Box<(Notice, NoticeItem)>),
    InPeriod(Box<Notice>),
    Open(Box<Notice>, i64),
}

/// The one notice among `covering` that allows the step (its figures match,
/// its period ended before `today`, no objection open), else why not.
fn gate(
    conn: &mut DbConn,
    covering: Vec<(Notice, NoticeItem)>,
    matches: impl Fn(&NoticeItem) -> bool,
    today: NaiveDate,
) -> AppResult<Result<(), Refusal>> {
    gate_with(covering, matches, today, |id| {
        Ok(rows::open_objections(conn, id)?)
    })
}

/// [`gate`] with the open objections of a notice counted by `open_of`
/// (one query per notice, or a count read for many notices at once).
fn gate_with(
    covering: Vec<(Notice, NoticeItem)>,
    matches: impl Fn(&NoticeItem) -> bool,
    today: NaiveDate,
    mut open_of: impl FnMut(i64) -> AppResult<i64>,
) -> AppResult<Result<(), Refusal>> {
    let mut refusal = Refusal::Missing;
    for (n, item) in covering {
        if !matches(&item) {
            if matches!(refusal, Refusal::Missing) {
                refusal = Refusal::Stale(Box::new((n, item)));
            }
            continue;
        }
        if today <= n.ends_on.date() {
            // Keep the one ending first: it is the one to wait for.
            match &refusal {
                Refusal::InPeriod(m) if m.ends_on <= n.ends_on => {}
                Refusal::Open(..) => {}
                _ => refusal = Refusal::InPeriod(Box::new(n)),
            }
            continue;
        }
        let open = open_of(n.id)?;
        if open > 0 {
            refusal = Refusal::Open(Box::new(n), open);
            continue;
        }
        return Ok(Ok(()));
    }
    Ok(Err(refusal))
}

/// May the policy be issued today? Only when a notice of its village showed
/// its current figures (insured area, sum insured, premium, grower share),
/// that notice's period ended before today, and every objection raised on it
/// is resolved. The refusal says which is missing.
pub fn issuable(conn: &mut DbConn, p: &Policy, today: NaiveDate) -> AppResult<()> {
    let covering = rows::covering(conn, ENROLLMENT, Some(p.id), None)?;
    let matches = |i: &NoticeItem| {
        i.insured_area_units == p.insured_area_units
            && i.sum_insured_fen == p.sum_insured_fen
            && i.premium_fen == p.premium_fen
            && i.grower_share_fen == p.grower_share_fen
    };
    match gate(conn, covering, matches, today)? {
        Ok(()) => Ok(()),
        Err(Refusal::Missing) => Err(AppError::conflict(
            ErrorCode::NoticeMissing,
            format!(
                "保单{}尚未经本村承保公示：请先生成并张贴承保公示，公示期满后才能签发",
                p.policy_no
            ),
        )),
        Err(Refusal::Stale(b)) => {
            let (n, i) = *b;
            Err(AppError::conflict(
            ErrorCode::NoticeStale,
            format!(
                "保单{}在承保公示（{}起）后有变动：公示为{}亩、保费{}元，现为{}亩、保费{}元，须重新公示",
                p.policy_no,
                n.starts_on,
                i.insured_area_units,
                i.premium_fen,
                p.insured_area_units,
                p.premium_fen
            ),
        ))
        }
        Err(Refusal::InPeriod(n)) => Err(AppError::conflict(
            ErrorCode::NoticeInPeriod,
            format!("本村承保公示期至{}结束，公示期满后才能签发", n.ends_on),
        )),
        Err(Refusal::Open(n, k)) => Err(AppError::conflict(
            ErrorCode::NoticeObjectionOpen,
            format!("{}有{}条异议尚未处理，处理完毕后才能签发", n.title, k),
        )),
    }
}

/// May the claim's payout be paid today? Only when a claim results notice
/// showed its current payout, ended before today, with no objection open.
pub fn payable(conn: &mut DbConn, c: &Claim, today: NaiveDate) -> AppResult<()> {
    let covering = rows::covering(conn, CLAIM, None, Some(c.id))?;
    let outcome = gate(conn, covering, shows_payout(c), today)?;
    payable_refusal(c, outcome)
}

/// A claim notice's item showing the claim's payout as it stands.
fn shows_payout(c: &Claim) -> impl Fn(&NoticeItem) -> bool {
    let payout = c.payout_fen.unwrap_or(Fen::ZERO);
    move |i: &NoticeItem| i.payout_fen == payout
}

/// The refusal [`payable`] gives for what the gate found.
fn payable_refusal(c: &Claim, outcome: Result<(), Refusal>) -> AppResult<()> {
    let payout = c.payout_fen.unwrap_or(Fen::ZERO);
    match outcome {
        Ok(()) => Ok(()),
        Err(Refusal::Missing) => Err(AppError::conflict(
            ErrorCode::ClaimNoticeMissing,
            format!(
                "赔案{}尚未进行理赔结果公示：请先生成并张贴理赔公示，公示期满后才能支付赔款",
                c.claim_no
            ),
        )),
        Err(Refusal::Stale(b)) => {
            let (n, i) = *b;
            Err(AppError::conflict(
                ErrorCode::ClaimNoticeStale,
                format!(
                    "赔案{}的赔款在理赔公示（{}起）后有变动：公示为{}元，现为{}元，须重新公示",
                    c.claim_no, n.starts_on, i.payout_fen, payout
                ),
            ))
        }
        Err(Refusal::InPeriod(n)) => Err(AppError::conflict(
            ErrorCode::ClaimNoticeInPeriod,
            format!("理赔结果公示期至{}结束，公示期满后才能支付赔款", n.ends_on),
        )),
        Err(Refusal::Open(n, k)) => Err(AppError::conflict(
            ErrorCode::ClaimNoticeObjectionOpen,
            format!("{}有{}条异议尚未处理，处理完毕后才能支付赔款", n.title, k),
        )),
    }
}

/// What a grower reads about the enrollment notice of a policy (农户自助查询).
pub fn policy_notice_text(conn: &mut DbConn, p: &Policy, today: NaiveDate) -> AppResult<String> {
    let covering = rows::covering(conn, ENROLLMENT, Some(p.id), None)?;
    let matches = |i: &NoticeItem| {
        i.insured_area_units == p.insured_area_units
            && i.sum_insured_fen == p.sum_insured_fen
            && i.premium_fen == p.premium_fen
            && i.grower_share_fen == p.grower_share_fen
    };
    Ok(grower_text(
        gate(conn, covering, matches, today)?,
        "承保公示",
    ))
}

/// What a grower reads about the results notice of a claim; `None` before
/// the claim has a payout to post.
pub fn claim_notice_text(
    conn: &mut DbConn,
    c: &Claim,
    today: NaiveDate,
) -> AppResult<Option<String>> {
    let Some(payout) = c.payout_fen else {
        return Ok(None);
    };
    let covering = rows::covering(conn, CLAIM, None, Some(c.id))?;
    if covering.is_empty() && c.approved_at.is_none() {
        return Ok(None);
    }
    let matches = |i: &NoticeItem| i.payout_fen == payout;
    Ok(Some(grower_text(
        gate(conn, covering, matches, today)?,
        "理赔结果公示",
    )))
}

fn grower_text(outcome: Result<(), Refusal>, what: &str) -> String {
    match outcome {
        Ok(()) => format!("{what}已期满，异议均已处理"),
        Err(Refusal::Missing) => format!("尚未进行{what}"),
        Err(Refusal::Stale(_)) => format!("{what}后数据有变动，待重新公示"),
        Err(Refusal::InPeriod(n)) => {
            format!("{what}中：{} 至 {}", n.starts_on, n.ends_on)
        }
        Err(Refusal::Open(_, k)) => format!("{what}期间有{k}条异议正在处理"),
    }
}

/// Which of `list` wait on their notice, each with the refusal [`payable`]
/// gives it (`None`: it may be paid): in two statements whatever the
/// number of claims (the board asks for every approved claim it shows).
pub fn waiting(
    conn: &mut DbConn,
    list: &[&Claim],
    today: NaiveDate,
) -> AppResult<Vec<Option<AppError>>> {
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let mut covering: HashMap<i64, Vec<(Notice, NoticeItem)>> = HashMap::new();
    for (n, item) in rows::covering_claims(conn, &ids)? {
        if let Some(claim) = item.claim_id {
            covering.entry(claim).or_default().push((n, item));
        }
    }
    let mut notice_ids: Vec<i64> = covering.values().flatten().map(|(n, _)| n.id).collect();
    notice_ids.sort_unstable();
    notice_ids.dedup();
    let open = rows::open_objections_of(conn, &notice_ids)?;
    list.iter()
        .map(|c| {
            let mine = covering.remove(&c.id).unwrap_or_default();
            let outcome = gate_with(mine, shows_payout(c), today, |id| {
                Ok(open.get(&id).copied().unwrap_or(0))
            })?;
            match payable_refusal(c, outcome) {
                Ok(()) => Ok(None),
                Err(e @ AppError::Conflict { .. }) => Ok(Some(e)),
                Err(e) => Err(e),
            }
        })
        .collect()
}

/// Write a notice with the items given, as it stands (the demo county's
/// history, which the use case's date rules would not let it write).
pub(crate) fn write(conn: &mut DbConn, n: &NewNotice, items: Vec<NoticeItem>) -> AppResult<i64> {
    let id = rows::insert(conn, n)?;
    let items: Vec<NoticeItem> = items
        .into_iter()
        .map(|i| NoticeItem { notice_id: id, ..i })
        .collect();
    rows::insert_items(conn, items)?;
    Ok(id)
}

pub(crate) fn crop_title_of(scheme: &super::schemes::Scheme) -> String {
    crop_title(&scheme.def.crop_name)
}

/// The loss events a notice may cover: (id, name).
pub type EventChoices = Vec<(i64, String)>;

/// What the notice form offers: the villages the actor may post in, and the
/// loss events of the current scheme.
pub fn choices(conn: &mut DbConn, actor: &Actor) -> AppResult<(Vec<Area>, EventChoices)> {
    actor.require(may_post(actor))?;
    let villages = super::areas::villages(conn, actor, None)?;
    let events = match super::schemes::current(conn)? {
        Some(s) => claim_events::table
            .filter(claim_events::scheme_id.eq(s.id))
            .order(claim_events::id.desc())
            .select((claim_events::id, claim_events::name))
            .load(conn)?,
        None => Vec::new(),
    };
    Ok((villages, events))
}

/// Where the policy stands with its enrollment notice, for its page: `None`
/// past issuance, else whether it may be issued today and, if not, why.
pub fn policy_notice(
    conn: &mut DbConn,
    actor: &Actor,
    policy_id: i64,
    today: NaiveDate,
) -> AppResult<Option<(bool, String)>> {
    let p = super::scoped::<Policy>(conn, actor, policy_id)?;
    if !matches!(p.status, PolicyStatus::Draft | PolicyStatus::Collected) {
        return Ok(None);
    }
    Ok(Some(match issuable(conn, &p, today) {
        Ok(()) => (true, "承保公示期已满，异议已处理完毕".to_string()),
        Err(e @ AppError::Conflict { .. }) => (false, e.to_string()),
        Err(e) => return Err(e),
    }))
}
