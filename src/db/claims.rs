//! Claim queries: claims, their surveys, photos and payments. Every function
//! answers with `QueryResult`; "none" is an `Option`, which the use cases turn
//! into "not found" in their own words.

use super::models::{Claim, ClaimPayment, ClaimPhotoMeta, ClaimSurvey, NewClaim};
use super::schema::{claim_events, claim_payments, claim_photos, claim_surveys, claims};
use super::DbConn;
use crate::domain::claims::ClaimStatus;
use crate::domain::time::{Day, Instant};
use crate::domain::Fen;
use diesel::prelude::*;

// ---------------------------------------------------------------- claims

/// Which claims a list may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    County,
    Township(i64),
    /// The claims assigned to this adjuster.
    AssignedTo(i64),
}

/// What a list of claims is narrowed to besides its scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    pub status: Option<ClaimStatus>,
    pub township_id: Option<i64>,
    pub event_id: Option<i64>,
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Claim>> {
    claims::table
        .find(id)
        .select(Claim::as_select())
        .first(conn)
        .optional()
}

/// The claim number of a claim, if it exists.
pub fn claim_no(conn: &mut DbConn, id: i64) -> QueryResult<Option<String>> {
    claims::table
        .find(id)
        .select(claims::claim_no)
        .first(conn)
        .optional()
}

/// The claims within `scope` that pass `f`, newest report first.
pub fn list(conn: &mut DbConn, scope: Within, f: &ListFilter) -> QueryResult<Vec<Claim>> {
    let mut q = claims::table.into_boxed();
    match scope {
        Within::County => {}
        Within::Township(t) => q = q.filter(claims::township_id.eq(t)),
        Within::AssignedTo(user) => q = q.filter(claims::adjuster_id.eq(user)),
    }
    if let Some(s) = f.status {
        q = q.filter(claims::status.eq(s));
    }
    if let Some(t) = f.township_id {
        q = q.filter(claims::township_id.eq(t));
    }
    if let Some(e) = f.event_id {
        q = q.filter(claims::event_id.eq(e));
    }
    q.order((claims::reported_at.desc(), claims::id.desc()))
        .select(Claim::as_select())
        .load(conn)
}

fn scoped(scope: Within) -> claims::BoxedQuery<'static, <DbConn as diesel::Connection>::Backend> {
    let q = claims::table.into_boxed();
    match scope {
        Within::County => q,
        Within::Township(t) => q.filter(claims::township_id.eq(t)),
        Within::AssignedTo(user) => q.filter(claims::adjuster_id.eq(user)),
    }
}

/// The claims within `scope` in one of `statuses` (the board's open and
/// agreed claims: an indexed lookup by status, not every claim).
pub fn in_statuses(
    conn: &mut DbConn,
    scope: Within,
    statuses: &[ClaimStatus],
) -> QueryResult<Vec<Claim>> {
    scoped(scope)
        .filter(claims::status.eq_any(statuses.iter().copied()))
        .order((claims::reported_at.desc(), claims::id.desc()))
        .select(Claim::as_select())
        .load(conn)
}

/// One group of the board's monthly figures: the UTC day of the report
/// (`2026-06-12`), whether it was reported at 16:00 UTC or later (the next
/// day in China), how many claims are due (surveyed, or past their survey
/// deadline at `now`, declined-unsurveyed ones left out) and how many of
/// them were surveyed by their deadline.
pub type DayCount = (String, bool, i64, i64);

/// The board's monthly on-time figures counted in the database: one row per
/// UTC day and half (before / from 16:00 UTC), not one per claim. Stored
/// instants are fixed-width UTC text (`2026-06-12T06:30:05Z`), so comparing
/// and cutting the text is comparing and cutting the instants, on both
/// databases alike.
pub fn due_by_day(conn: &mut DbConn, scope: Within, now: Instant) -> QueryResult<Vec<DayCount>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool, Nullable, Text};
    const DAY: &str = "substr(claims.reported_at, 1, 10)";
    const LATE: &str = "substr(claims.reported_at, 12, 2) >= '16'";
    // The scope as one boxed condition: a grouped query cannot be boxed.
    type Condition = Box<
        dyn BoxableExpression<
            claims::table,
            <DbConn as diesel::Connection>::Backend,
            SqlType = Nullable<Bool>,
        >,
    >;
    let within: Condition = match scope {
        Within::County => Box::new(sql::<Nullable<Bool>>("1 = 1")),
        Within::Township(t) => Box::new(claims::township_id.eq(t).nullable()),
        Within::AssignedTo(user) => Box::new(claims::adjuster_id.eq(user)),
    };
    claims::table
        .filter(within)
        .filter(
            claims::status
                .ne(ClaimStatus::Declined)
                .or(claims::surveyed_at.is_not_null()),
        )
        .filter(
            claims::surveyed_at
                .is_not_null()
                .or(claims::survey_due_at.le(now)),
        )
        .group_by((sql::<Text>(DAY), sql::<Bool>(LATE)))
        .select((
            sql::<Text>(DAY),
            sql::<Bool>(LATE),
            sql::<BigInt>("COUNT(*)"),
            sql::<BigInt>(
                "CAST(COALESCE(SUM(CASE WHEN claims.surveyed_at <= claims.survey_due_at \
                 THEN 1 ELSE 0 END), 0) AS BIGINT)",
            ),
        ))
        .load(conn)
}

/// The payouts the other claims on a policy hold in one of `statuses`.
pub fn payouts_held(
    conn: &mut DbConn,
    policy_id: i64,
    except_claim: i64,
    statuses: &[ClaimStatus],
) -> QueryResult<Fen> {
    let held: Vec<Option<Fen>> = claims::table
        .filter(claims::policy_id.eq(policy_id))
        .filter(claims::id.ne(except_claim))
        .filter(claims::status.eq_any(statuses.iter().copied()))
        .select(claims::payout_fen)
        .load(conn)?;
    Ok(held.into_iter().flatten().sum())
}

/// Insert a claim and give it its number, made from its id by `number`.
pub fn insert(
    conn: &mut DbConn,
    row: &NewClaim,
    number: impl FnOnce(i64) -> String,
) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(claims::table)
        .values(row)
        .returning(claims::id)
        .get_result(conn)?;
    diesel::update(claims::table.find(id))
        .set(claims::claim_no.eq(number(id)))
        .execute(conn)?;
    Ok(id)
}

/// What a step changes on a claim: its new status and the fields it sets;
/// a `None` field is left as it is (`Some(None)` clears it).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = claims)]
pub struct ClaimChange {
    pub status: ClaimStatus,
    pub adjuster_id: Option<i64>,
    pub co_surveyor_id: Option<i64>,
    pub dispatched_at: Option<Instant>,
    pub surveyed_at: Option<Instant>,
    pub payout_fen: Option<Option<Fen>>,
    pub review_note: Option<String>,
    pub approved_at: Option<Instant>,
    pub decline_code: Option<Option<String>>,
    pub decline_reason: Option<Option<String>>,
    pub agreed_on: Option<Day>,
    pub payment_due_on: Option<Day>,
    pub paid_fen: Option<Fen>,
}

impl ClaimChange {
    /// A move to `status` that sets nothing else.
    pub fn to(status: ClaimStatus) -> ClaimChange {
        ClaimChange {
            status,
            adjuster_id: None,
            co_surveyor_id: None,
            dispatched_at: None,
            surveyed_at: None,
            payout_fen: None,
            review_note: None,
            approved_at: None,
            decline_code: None,
            decline_reason: None,
            agreed_on: None,
            payment_due_on: None,
            paid_fen: None,
        }
    }
}

pub fn update(conn: &mut DbConn, id: i64, change: &ClaimChange) -> QueryResult<usize> {
    diesel::update(claims::table.find(id))
        .set(change)
        .execute(conn)
}

/// Move the version on from `version`; 0 rows when someone else moved it first.
pub fn bump_version(conn: &mut DbConn, id: i64, version: i32, now: Instant) -> QueryResult<usize> {
    diesel::update(
        claims::table
            .filter(claims::id.eq(id))
            .filter(claims::version.eq(version)),
    )
    .set((claims::version.eq(version + 1), claims::updated_at.eq(now)))
    .execute(conn)
}

/// A new disaster event; its id.
pub struct NewEvent<'a> {
    pub scheme_id: i64,
    pub name: &'a str,
    pub peril: &'a str,
    pub occurred_at: Instant,
    pub description: &'a str,
    pub created_by: Option<i64>,
    pub created_at: Instant,
}

pub fn insert_event(conn: &mut DbConn, e: &NewEvent) -> QueryResult<i64> {
    diesel::insert_into(claim_events::table)
        .values((
            claim_events::scheme_id.eq(e.scheme_id),
            claim_events::name.eq(e.name),
            claim_events::peril.eq(e.peril),
            claim_events::occurred_at.eq(e.occurred_at),
            claim_events::description.eq(e.description),
            claim_events::created_by.eq(e.created_by),
            claim_events::created_at.eq(e.created_at),
        ))
        .returning(claim_events::id)
        .get_result(conn)
}

// ---------------------------------------------------------------- surveys

pub fn survey_by_client_id(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<ClaimSurvey>> {
    claim_surveys::table
        .filter(claim_surveys::client_id.eq(client_id))
        .select(ClaimSurvey::as_select())
        .first(conn)
        .optional()
}

/// A claim's surveys, the latest first.
pub fn surveys_of(conn: &mut DbConn, claim_id: i64) -> QueryResult<Vec<ClaimSurvey>> {
    claim_surveys::table
        .filter(claim_surveys::claim_id.eq(claim_id))
        .order(claim_surveys::id.desc())
        .select(ClaimSurvey::as_select())
        .load(conn)
}

/// The payout detail (JSON) of a claim's latest survey.
pub fn latest_payout_detail(conn: &mut DbConn, claim_id: i64) -> QueryResult<Option<String>> {
    claim_surveys::table
        .filter(claim_surveys::claim_id.eq(claim_id))
        .order(claim_surveys::id.desc())
        .select(claim_surveys::payout_detail)
        .first(conn)
        .optional()
}

pub fn insert_survey(conn: &mut DbConn, row: &ClaimSurvey) -> QueryResult<i64> {
    diesel::insert_into(claim_surveys::table)
        .values(row)
        .returning(claim_surveys::id)
        .get_result(conn)
}

// ---------------------------------------------------------------- photos

pub fn photo_by_client_id(
    conn: &mut DbConn,
    client_id: &str,
) -> QueryResult<Option<ClaimPhotoMeta>> {
    claim_photos::table
        .filter(claim_photos::client_id.eq(client_id))
        .select(ClaimPhotoMeta::as_select())
        .first(conn)
        .optional()
}

pub fn photos_of(conn: &mut DbConn, claim_id: i64) -> QueryResult<Vec<ClaimPhotoMeta>> {
    claim_photos::table
        .filter(claim_photos::claim_id.eq(claim_id))
        .order(claim_photos::id)
        .select(ClaimPhotoMeta::as_select())
        .load(conn)
}

/// The first other claim that already holds this photo: the same bytes, or
/// the same photo as taken (a tablet sends a shrunk copy with the hash of
/// the original, `original_sha256`; a row without one was sent as taken).
pub fn claim_with_photo(
    conn: &mut DbConn,
    hashes: &[&str],
    except_claim: i64,
) -> QueryResult<Option<i64>> {
    claim_photos::table
        .filter(
            claim_photos::sha256
                .eq_any(hashes)
                .or(claim_photos::original_sha256.eq_any(hashes)),
        )
        .filter(claim_photos::claim_id.ne(except_claim))
        .order(claim_photos::id)
        .select(claim_photos::claim_id)
        .first(conn)
        .optional()
}

#[derive(Insertable)]
#[diesel(table_name = claim_photos)]
pub struct NewPhoto<'a> {
    pub claim_id: i64,
    pub client_id: &'a str,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub original_sha256: Option<&'a str>,
    pub reused_claim_id: Option<i64>,
    pub uploaded_by: Option<i64>,
    pub created_at: Instant,
}

pub fn insert_photo(conn: &mut DbConn, row: &NewPhoto) -> QueryResult<i64> {
    diesel::insert_into(claim_photos::table)
        .values(row)
        .returning(claim_photos::id)
        .get_result(conn)
}

/// (content type, SHA-256, bytes still in the row) of a photo of this claim.
pub fn photo_content(
    conn: &mut DbConn,
    claim_id: i64,
    photo_id: i64,
) -> QueryResult<Option<super::photos::RowContent>> {
    claim_photos::table
        .filter(claim_photos::id.eq(photo_id))
        .filter(claim_photos::claim_id.eq(claim_id))
        .select((
            claim_photos::content_type,
            claim_photos::sha256,
            claim_photos::content,
        ))
        .first(conn)
        .optional()
}

// ---------------------------------------------------------------- payments

pub fn payments_of(conn: &mut DbConn, claim_id: i64) -> QueryResult<Vec<ClaimPayment>> {
    claim_payments::table
        .filter(claim_payments::claim_id.eq(claim_id))
        .order(claim_payments::id)
        .select(ClaimPayment::as_select())
        .load(conn)
}

pub fn bank_reference_used(conn: &mut DbConn, reference: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        claim_payments::table.filter(claim_payments::bank_reference.eq(reference)),
    ))
    .get_result(conn)
}

#[derive(Insertable)]
#[diesel(table_name = claim_payments)]
pub struct NewPayment<'a> {
    pub claim_id: i64,
    pub amount_fen: Fen,
    pub paid_on: Day,
    pub bank_reference: &'a str,
    pub created_by: Option<i64>,
    pub created_at: Instant,
}

pub fn insert_payment(conn: &mut DbConn, row: &NewPayment) -> QueryResult<i64> {
    diesel::insert_into(claim_payments::table)
        .values(row)
        .returning(claim_payments::id)
        .get_result(conn)
}

/// Claims waiting for their survey, those of them past the survey deadline
/// (`now`, stored text), and agreed payouts past their payment day (`today`,
/// `YYYY-MM-DD`): the `/metrics` gauges.
pub fn waiting_counts(conn: &mut DbConn, now: &str, today: &str) -> QueryResult<(i64, i64, i64)> {
    let waiting = [ClaimStatus::Reported, ClaimStatus::Dispatched];
    let open = claims::table
        .filter(claims::status.eq_any(waiting))
        .count()
        .get_result(conn)?;
    let overdue = claims::table
        .filter(claims::status.eq_any(waiting))
        .filter(claims::survey_due_at.lt(now))
        .count()
        .get_result(conn)?;
    let past_due = claims::table
        .filter(claims::status.eq(ClaimStatus::Agreed))
        .filter(claims::payment_due_on.lt(today))
        .count()
        .get_result(conn)?;
    Ok((open, overdue, past_due))
}
