//! Public notices (公示) as stored: the notice with its posting, the figures
//! it showed (items), the photos of it posted and the objections raised.

use super::schema::{notice_items, notice_objections, notice_photos, notices};
use super::DbConn;
use crate::domain::time::{Day, Instant};
use crate::domain::{Fen, Mu};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = notices)]
pub struct Notice {
    pub id: i64,
    pub kind: String,
    pub scheme_id: i64,
    pub township_id: Option<i64>,
    pub village_id: Option<i64>,
    pub event_id: Option<i64>,
    pub title: String,
    pub starts_on: Day,
    pub ends_on: Day,
    pub place: String,
    pub contact_phone: String,
    pub created_by: Option<i64>,
    pub created_at: Instant,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notices)]
pub struct NewNotice<'a> {
    pub kind: &'a str,
    pub scheme_id: i64,
    pub township_id: Option<i64>,
    pub village_id: Option<i64>,
    pub event_id: Option<i64>,
    pub title: &'a str,
    pub starts_on: Day,
    pub ends_on: Day,
    pub place: &'a str,
    pub contact_phone: &'a str,
    pub created_by: Option<i64>,
    pub created_at: Instant,
}

/// One household's line as the notice showed it. Enrollment lines fill the
/// policy's figures, claim lines the claim's; the others stay zero.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = notice_items)]
pub struct NoticeItem {
    pub id: i64,
    pub notice_id: i64,
    pub policy_id: Option<i64>,
    pub claim_id: Option<i64>,
    pub grower_id: i64,
    pub grower_name: String,
    pub id_number_masked: String,
    pub phone_masked: String,
    pub village_name: String,
    pub variety: String,
    pub insured_area_units: Mu,
    pub sum_insured_fen: Fen,
    pub premium_fen: Fen,
    pub grower_share_fen: Fen,
    pub affected_area_units: Mu,
    pub loss_rate_bp: i64,
    pub payout_fen: Fen,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = notice_photos)]
pub struct NoticePhotoMeta {
    pub id: i64,
    pub notice_id: i64,
    pub sha256: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by: Option<i64>,
    pub created_at: Instant,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notice_photos)]
pub struct NewNoticePhoto<'a> {
    pub notice_id: i64,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub uploaded_by: Option<i64>,
    pub created_at: Instant,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = notice_objections)]
pub struct Objection {
    pub id: i64,
    pub notice_id: i64,
    pub raised_by: String,
    pub grower_id: Option<i64>,
    pub plot_id: Option<i64>,
    pub content: String,
    pub raised_on: Day,
    pub recorded_by: Option<i64>,
    pub created_at: Instant,
    pub resolution: Option<String>,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<Instant>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notice_objections)]
pub struct NewObjection<'a> {
    pub notice_id: i64,
    pub raised_by: &'a str,
    pub grower_id: Option<i64>,
    pub plot_id: Option<i64>,
    pub content: &'a str,
    pub raised_on: Day,
    pub recorded_by: Option<i64>,
    pub created_at: Instant,
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Notice>> {
    notices::table
        .find(id)
        .select(Notice::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, n: &NewNotice) -> QueryResult<i64> {
    diesel::insert_into(notices::table)
        .values(n)
        .returning(notices::id)
        .get_result(conn)
}

/// A [`NoticeItem`] as written (its id is the database's).
#[derive(Debug, Insertable)]
#[diesel(table_name = notice_items)]
struct NewItem {
    notice_id: i64,
    policy_id: Option<i64>,
    claim_id: Option<i64>,
    grower_id: i64,
    grower_name: String,
    id_number_masked: String,
    phone_masked: String,
    village_name: String,
    variety: String,
    insured_area_units: Mu,
    sum_insured_fen: Fen,
    premium_fen: Fen,
    grower_share_fen: Fen,
    affected_area_units: Mu,
    loss_rate_bp: i64,
    payout_fen: Fen,
}

/// The items in multi-row INSERTs, on the backend's own connection (the
/// MultiConnection does not batch).
pub fn insert_items(conn: &mut DbConn, items: Vec<NoticeItem>) -> QueryResult<usize> {
    let rows: Vec<NewItem> = items
        .into_iter()
        .map(|i| NewItem {
            notice_id: i.notice_id,
            policy_id: i.policy_id,
            claim_id: i.claim_id,
            grower_id: i.grower_id,
            grower_name: i.grower_name,
            id_number_masked: i.id_number_masked,
            phone_masked: i.phone_masked,
            village_name: i.village_name,
            variety: i.variety,
            insured_area_units: i.insured_area_units,
            sum_insured_fen: i.sum_insured_fen,
            premium_fen: i.premium_fen,
            grower_share_fen: i.grower_share_fen,
            affected_area_units: i.affected_area_units,
            loss_rate_bp: i.loss_rate_bp,
            payout_fen: i.payout_fen,
        })
        .collect();
    let per = (crate::db::SQLITE_MAX_VARIABLES / 16).max(1);
    let mut written = 0;
    for chunk in rows.chunks(per) {
        written += match conn {
            DbConn::Postgresql(c) => diesel::insert_into(notice_items::table)
                .values(chunk)
                .execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(notice_items::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(written)
}

pub fn items_of(conn: &mut DbConn, notice_id: i64) -> QueryResult<Vec<NoticeItem>> {
    notice_items::table
        .filter(notice_items::notice_id.eq(notice_id))
        .order(notice_items::id)
        .select(NoticeItem::as_select())
        .load(conn)
}

/// Every notice of `kind` that lists the policy (`policy_id`) or the claim
/// (`claim_id`), with the line it showed, newest first.
pub fn covering(
    conn: &mut DbConn,
    kind: &str,
    policy_id: Option<i64>,
    claim_id: Option<i64>,
) -> QueryResult<Vec<(Notice, NoticeItem)>> {
    let mut q = notice_items::table
        .inner_join(notices::table)
        .filter(notices::kind.eq(kind))
        .into_boxed();
    if let Some(p) = policy_id {
        q = q.filter(notice_items::policy_id.eq(p));
    }
    if let Some(c) = claim_id {
        q = q.filter(notice_items::claim_id.eq(c));
    }
    q.order(notices::id.desc())
        .select((Notice::as_select(), NoticeItem::as_select()))
        .load(conn)
}

/// The claim notices' items of these claims with their notices, newest
/// notice first (as [`covering`] gives them for one claim).
pub fn covering_claims(
    conn: &mut DbConn,
    claim_ids: &[i64],
) -> QueryResult<Vec<(Notice, NoticeItem)>> {
    let mut out = Vec::new();
    for chunk in claim_ids.chunks(900) {
        out.extend(
            notice_items::table
                .inner_join(notices::table)
                .filter(notices::kind.eq(crate::app::notices::CLAIM))
                .filter(notice_items::claim_id.eq_any(chunk))
                .order(notices::id.desc())
                .select((Notice::as_select(), NoticeItem::as_select()))
                .load::<(Notice, NoticeItem)>(conn)?,
        );
    }
    // Chunks each come newest first; so must the whole.
    out.sort_by_key(|(n, _)| std::cmp::Reverse(n.id));
    Ok(out)
}

/// Objections not yet resolved, per notice, of these notices (a notice
/// without any is left out).
pub fn open_objections_of(
    conn: &mut DbConn,
    notice_ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in notice_ids.chunks(900) {
        out.extend(
            notice_objections::table
                .filter(notice_objections::notice_id.eq_any(chunk))
                .filter(notice_objections::resolved_at.is_null())
                .group_by(notice_objections::notice_id)
                .select((notice_objections::notice_id, diesel::dsl::count_star()))
                .load::<(i64, i64)>(conn)?,
        );
    }
    Ok(out)
}

pub fn objections_of(conn: &mut DbConn, notice_id: i64) -> QueryResult<Vec<Objection>> {
    notice_objections::table
        .filter(notice_objections::notice_id.eq(notice_id))
        .order(notice_objections::id)
        .select(Objection::as_select())
        .load(conn)
}

pub fn open_objections(conn: &mut DbConn, notice_id: i64) -> QueryResult<i64> {
    notice_objections::table
        .filter(notice_objections::notice_id.eq(notice_id))
        .filter(notice_objections::resolved_at.is_null())
        .count()
        .get_result(conn)
}

pub fn objection(conn: &mut DbConn, id: i64) -> QueryResult<Option<Objection>> {
    notice_objections::table
        .find(id)
        .select(Objection::as_select())
        .first(conn)
        .optional()
}

pub fn insert_objection(conn: &mut DbConn, o: &NewObjection) -> QueryResult<i64> {
    diesel::insert_into(notice_objections::table)
        .values(o)
        .returning(notice_objections::id)
        .get_result(conn)
}

pub fn resolve_objection(
    conn: &mut DbConn,
    id: i64,
    resolution: &str,
    resolved_by: Option<i64>,
    at: Instant,
) -> QueryResult<usize> {
    diesel::update(
        notice_objections::table
            .find(id)
            .filter(notice_objections::resolved_at.is_null()),
    )
    .set((
        notice_objections::resolution.eq(resolution),
        notice_objections::resolved_by.eq(resolved_by),
        notice_objections::resolved_at.eq(at),
    ))
    .execute(conn)
}

pub fn photos_of(conn: &mut DbConn, notice_id: i64) -> QueryResult<Vec<NoticePhotoMeta>> {
    notice_photos::table
        .filter(notice_photos::notice_id.eq(notice_id))
        .order(notice_photos::id)
        .select(NoticePhotoMeta::as_select())
        .load(conn)
}

pub fn insert_photo(conn: &mut DbConn, p: &NewNoticePhoto) -> QueryResult<i64> {
    diesel::insert_into(notice_photos::table)
        .values(p)
        .returning(notice_photos::id)
        .get_result(conn)
}

/// (content type, SHA-256, bytes still in the row) of a photo of this notice.
pub fn photo_content(
    conn: &mut DbConn,
    notice_id: i64,
    photo_id: i64,
) -> QueryResult<Option<super::photos::RowContent>> {
    notice_photos::table
        .find(photo_id)
        .filter(notice_photos::notice_id.eq(notice_id))
        .select((
            notice_photos::content_type,
            notice_photos::sha256,
            notice_photos::content,
        ))
        .first(conn)
        .optional()
}
