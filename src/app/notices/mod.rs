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

mod gate;
mod objections;
pub mod sheet;
mod views;

pub use gate::{claim_notice_text, issuable, payable, policy_notice, policy_notice_text, waiting};
pub use objections::{object, resolve, ObjectionInput, ResolveInput};
pub use views::{
    get, list, view, ItemView, NoticeFilter, NoticeSummary, NoticeView, ObjectionView, PhotoView,
    Totals,
};

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
