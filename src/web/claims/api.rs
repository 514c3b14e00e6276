//! Claims in the JSON API: every step a clerk, an adjuster or a tablet takes.
//! Routes are relative to /api/v1.

use crate::app::claims::{self, EventInput, ReportInput, SurveyInput};
use crate::app::photos::Content;
use crate::app::Actor;
use crate::db::DbConn;
use crate::error::{AppResult, ErrorCode};
use crate::web::api::{by_id, on_record};
use crate::web::photos::{api_original, api_thumb, api_upload, Arrived, Home};
use crate::web::session::Bearer;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

type Reply = AppResult<HttpResponse>;

/// A claim's photos (the survey's, from the API or the survey page): sent by
/// those who survey, each recorded once per client id, reuse of the same
/// photo on another claim found by the hash of the photo as taken.
pub(crate) struct Photos;

impl Home for Photos {
    type Added = claims::PhotoOutcome;
    fn may_upload(actor: &Actor) -> bool {
        claims::may_upload_photos(actor)
    }
    fn in_scope(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
        claims::get_scoped(conn, actor, id).map(drop)
    }
    fn add(conn: &mut DbConn, actor: &Actor, p: Arrived) -> AppResult<Self::Added> {
        claims::add_photo(conn, actor, p.now, p.id, p.client_id, p.stored)
    }
    fn is_new(added: &Self::Added) -> bool {
        added.created
    }
    fn photo(conn: &mut DbConn, actor: &Actor, id: i64, photo_id: i64) -> AppResult<Content> {
        claims::photo(conn, actor, id, photo_id)
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/claims", web::get().to(list))
        .route("/claims", web::post().to(report))
        .route("/claims/lookup", web::get().to(lookup))
        .route("/claims/board", web::get().to(board))
        .route("/claim-events", web::post().to(report_event))
        .route("/claims/{id}", web::get().to(by_id(claims::detail)))
        .route(
            "/claims/{id}/dispatch",
            web::post().to(on_record(StatusCode::OK, claims::dispatch)),
        )
        .route("/claims/{id}/survey", web::post().to(survey))
        .route("/claims/{id}/photos", web::post().to(api_upload::<Photos>))
        .route(
            "/claims/{id}/photos/{photo_id}",
            web::get().to(api_original::<Photos>),
        )
        .route(
            "/claims/{id}/photos/{photo_id}/thumb",
            web::get().to(api_thumb::<Photos>),
        )
        .route(
            "/claims/{id}/approve",
            web::post().to(on_record(StatusCode::OK, claims::approve)),
        )
        .route(
            "/claims/{id}/send-back",
            web::post().to(on_record(StatusCode::OK, claims::send_back)),
        )
        .route(
            "/claims/{id}/agree",
            web::post().to(on_record(StatusCode::OK, claims::agree)),
        )
        .route(
            "/claims/{id}/payments",
            web::post().to(on_record(StatusCode::CREATED, claims::pay)),
        );
}

/// 201 when something new was recorded, 200 when the same client id had
/// already arrived (a retry from a tablet).
pub(crate) fn created_or_ok<T: serde::Serialize>(created: bool, v: T) -> HttpResponse {
    if created {
        HttpResponse::Created().json(v)
    } else {
        HttpResponse::Ok().json(v)
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    township: Option<String>,
    village_id: Option<i64>,
    event_id: Option<i64>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<i64>,
    #[serde(alias = "per_page")]
    page_size: Option<i64>,
}

/// One page of the claims the caller sees, searched, filtered and sorted,
/// with totals over every matching claim.
async fn list(api: Bearer, q: web::Query<ListQuery>) -> Reply {
    let q = q.into_inner();
    crate::web::api::one_of(
        "status",
        ErrorCode::StatusInvalid,
        q.status.as_deref(),
        &claims::STATUSES,
    )?;
    let list = api
        .run(move |c, a| {
            let township_id = match q.township.as_deref().filter(|s| !s.is_empty()) {
                Some(code) => Some(crate::app::areas::township_by_code(c, a, code)?.id),
                None => None,
            };
            claims::list(
                c,
                a,
                &claims::ClaimFilter {
                    status: q.status,
                    township_id,
                    village_id: q.village_id,
                    event_id: q.event_id,
                    q: q.q,
                    sort: q.sort,
                    dir: q.dir,
                    page: q.page,
                    page_size: q.page_size,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A report; `Idempotency-Key` (or `client_id` in the body) makes a resend
/// answer 200 with the claim first recorded instead of a second claim.
async fn report(api: Bearer, req: HttpRequest, body: web::Json<ReportInput>) -> Reply {
    let mut input = body.into_inner();
    input.channel.get_or_insert_with(|| "api".into());
    if input.client_id.is_none() {
        input.client_id = req
            .headers()
            .get("Idempotency-Key")
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
    }
    let now = api.state.clock.now();
    let r = api
        .run(move |c, a| claims::report(c, a, now, &input))
        .await?;
    Ok(created_or_ok(r.created, r.claim))
}

#[derive(Deserialize)]
struct LookupQuery {
    q: Option<String>,
}

async fn lookup(api: Bearer, q: web::Query<LookupQuery>) -> Reply {
    let q = q.into_inner().q.unwrap_or_default();
    let hits = api.run(move |c, a| claims::lookup(c, a, &q)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": hits })))
}

#[derive(Deserialize)]
struct BoardQuery {
    warn_hours: Option<u32>,
}

async fn board(api: Bearer, q: web::Query<BoardQuery>) -> Reply {
    let warn = q.into_inner().warn_hours;
    let now = api.state.clock.now();
    let b = api.run(move |c, a| claims::board(c, a, now, warn)).await?;
    Ok(HttpResponse::Ok().json(b))
}

async fn report_event(api: Bearer, body: web::Json<EventInput>) -> Reply {
    let input = body.into_inner();
    let now = api.state.clock.now();
    let r = api
        .run(move |c, a| claims::report_event(c, a, now, &input))
        .await?;
    Ok(HttpResponse::Created().json(r))
}

async fn survey(api: Bearer, id: web::Path<i64>, body: web::Json<SurveyInput>) -> Reply {
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = api.state.clock.now();
    let r = api
        .run(move |c, a| claims::submit_survey(c, a, now, id, &input))
        .await?;
    Ok(created_or_ok(r.created, r))
}
