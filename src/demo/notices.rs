//! The demo county's public notices (公示), in every state: each village
//! with issued policies had its enrollment notice posted and ended before
//! issuance (one objection raised and resolved), one village's notice is up
//! now with an objection open, and the claim results are posted before any
//! payment. Written directly, as the bulk load writes its policies: the use
//! case would refuse notices dated in the past.

use crate::app::notices::{self, CLAIM, ENROLLMENT};
use crate::app::schemes::Scheme;
use crate::app::Actor;
use crate::db::models::{Area, Claim};
use crate::db::notices::{self as rows, NewNotice, NewObjection};
use crate::db::schema::{areas, growers, policies, users};
use crate::db::DbConn;
use crate::domain::area::AreaLevel;
use crate::domain::policy::PolicyStatus;
use crate::domain::time::{Day, Instant};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

const PLACE: &str = "村委会公示栏";
const PHONE: &str = "0872-6123456";

fn user_id(conn: &mut DbConn, name: &str) -> AppResult<Option<i64>> {
    Ok(users::table
        .filter(users::username.eq(name))
        .select(users::id)
        .first(conn)
        .optional()?)
}

/// Villages (in id order) holding a policy in one of `statuses`.
fn villages_with(
    conn: &mut DbConn,
    scheme: &Scheme,
    statuses: &[PolicyStatus],
) -> AppResult<Vec<Area>> {
    let ids: Vec<i64> = policies::table
        .inner_join(growers::table)
        .filter(policies::scheme_id.eq(scheme.id))
        .filter(policies::status.eq_any(statuses.to_vec()))
        .select(growers::village_id)
        .distinct()
        .load(conn)?;
    Ok(areas::table
        .filter(areas::id.eq_any(ids))
        .filter(areas::level.eq(AreaLevel::Village))
        .order(areas::id)
        .select(Area::as_select())
        .load(conn)?)
}

fn title(v: &Area, scheme: &Scheme, kind: &str) -> String {
    let what = if kind == ENROLLMENT {
        "承保公示"
    } else {
        "理赔结果公示"
    };
    format!(
        "{}{}年度{}{}",
        v.name,
        scheme.def.year,
        notices::crop_title_of(scheme),
        what
    )
}

/// The enrollment notices: one per village with issued policies, posted
/// twelve days before the term and ended before it; one objection raised
/// and resolved on the first. Then the first village still waiting for
/// issuance gets its notice posted today, with one objection open.
pub fn enrollment(conn: &mut DbConn, scheme: &Scheme, now: DateTime<Utc>) -> AppResult<Vec<i64>> {
    let station = user_id(conn, "station01")?;
    let forestry = user_id(conn, "forestry")?;
    let at = Instant::from_utc(now);
    let start = scheme.def.term_start - Duration::days(12);
    let end = start + Duration::days(i64::from(scheme.def.notices.enrollment_days));
    let mut ids = Vec::new();
    for v in villages_with(conn, scheme, &[PolicyStatus::Issued, PolicyStatus::Expired])? {
        let items = notices::snapshot_policies(
            conn,
            scheme,
            &v,
            &[PolicyStatus::Issued, PolicyStatus::Expired],
        )?;
        let t = title(&v, scheme, ENROLLMENT);
        let id = notices::write(
            conn,
            &NewNotice {
                kind: ENROLLMENT,
                scheme_id: scheme.id,
                township_id: v.parent_id,
                village_id: Some(v.id),
                event_id: None,
                title: &t,
                starts_on: Day::new(start),
                ends_on: Day::new(end),
                place: PLACE,
                contact_phone: PHONE,
                created_by: station,
                created_at: at,
            },
            items.clone(),
        )?;
        if ids.is_empty() {
            if let Some(first) = items.first() {
                let oid = rows::insert_objection(
                    conn,
                    &NewObjection {
                        notice_id: id,
                        raised_by: &first.grower_name,
                        grower_id: Some(first.grower_id),
                        plot_id: None,
                        content: "公示面积比实际少了0.5亩，要求核实",
                        raised_on: Day::new(start + Duration::days(2)),
                        recorded_by: station,
                        created_at: at,
                    },
                )?;
                rows::resolve_objection(
                    conn,
                    oid,
                    "林业站会同保险公司现场复核，面积以丈量为准，农户无异议",
                    forestry,
                    at,
                )?;
            }
        }
        ids.push(id);
    }
    let waiting = villages_with(
        conn,
        scheme,
        &[PolicyStatus::Draft, PolicyStatus::Collected],
    )?;
    let today = crate::app::clock::china_date(now);
    if let Some(v) = waiting.first() {
        let items = notices::snapshot_policies(
            conn,
            scheme,
            v,
            &[PolicyStatus::Draft, PolicyStatus::Collected],
        )?;
        let t = title(v, scheme, ENROLLMENT);
        let first = items.first().cloned();
        let id = notices::write(
            conn,
            &NewNotice {
                kind: ENROLLMENT,
                scheme_id: scheme.id,
                township_id: v.parent_id,
                village_id: Some(v.id),
                event_id: None,
                title: &t,
                starts_on: Day::new(today),
                ends_on: Day::new(
                    today + Duration::days(i64::from(scheme.def.notices.enrollment_days)),
                ),
                place: PLACE,
                contact_phone: PHONE,
                created_by: station,
                created_at: at,
            },
            items,
        )?;
        if let Some(first) = first {
            rows::insert_objection(
                conn,
                &NewObjection {
                    notice_id: id,
                    raised_by: &first.grower_name,
                    grower_id: Some(first.grower_id),
                    plot_id: None,
                    content: "自家地块品种登记有误（应为晚实核桃），请更正后再公示",
                    raised_on: Day::new(today),
                    recorded_by: station,
                    created_at: at,
                },
            )?;
        }
        ids.push(id);
    }
    Ok(ids)
}

/// A claim results notice for the single claim `c` (its village), posted
/// from `start` to `end`.
pub fn claim(
    conn: &mut DbConn,
    scheme: &Scheme,
    c: &Claim,
    start: NaiveDate,
    end: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let village_id: i64 = growers::table
        .find(c.grower_id)
        .select(growers::village_id)
        .first(conn)?;
    let v: Area = areas::table
        .find(village_id)
        .select(Area::as_select())
        .first(conn)?;
    let mut items =
        notices::claim_items(conn, &Actor::system(), scheme.id, None, Some(village_id))?;
    items.retain(|i| i.claim_id == Some(c.id));
    if items.is_empty() {
        return Err(AppError::Internal(format!(
            "demo claim {} not approved",
            c.id
        )));
    }
    let t = title(&v, scheme, CLAIM);
    let underwriter = user_id(conn, "underwriter")?;
    notices::write(
        conn,
        &NewNotice {
            kind: CLAIM,
            scheme_id: scheme.id,
            township_id: v.parent_id,
            village_id: Some(v.id),
            event_id: None,
            title: &t,
            starts_on: Day::new(start),
            ends_on: Day::new(end),
            place: PLACE,
            contact_phone: PHONE,
            created_by: underwriter,
            created_at: Instant::from_utc(now),
        },
        items,
    )
}
