//! `/api/v1/notices`: make a notice, read it (JSON or .xlsx), add a photo of
//! it posted, record objections and their resolutions.

use crate::app::notices::{self, NoticeFilter, NoticeInput, ObjectionInput, ResolveInput};
use crate::app::photos::Content;
use crate::app::Actor;
use crate::db::DbConn;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::web::api::{created, ok, one_of, Reply};
use crate::web::photos::{api_original, api_thumb, api_upload, Arrived, Home};
use crate::web::session::Bearer;
use actix_web::web;

/// Photos of a notice as posted (张贴照片): evidence that it was put up,
/// sent by those who post notices; every one is new (no client id), and
/// the photo is kept as received.
pub(crate) struct Photos;

impl Home for Photos {
    type Added = notices::PhotoView;
    const KEEPS_ORIGINAL: bool = false;
    const CLIENT_IDS: bool = false;
    fn may_upload(actor: &Actor) -> bool {
        notices::may_post(actor)
    }
    fn in_scope(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
        notices::scoped(conn, actor, id).map(drop)
    }
    fn add(conn: &mut DbConn, actor: &Actor, p: Arrived) -> AppResult<Self::Added> {
        notices::add_photo(conn, actor, p.now, p.id, p.stored)
    }
    fn photo(conn: &mut DbConn, actor: &Actor, id: i64, photo_id: i64) -> AppResult<Content> {
        notices::photo(conn, actor, id, photo_id)
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notices", web::get().to(list))
        .route("/notices", web::post().to(create))
        .route("/notices/{id}", web::get().to(get))
        .route("/notices/{id}/sheet.xlsx", web::get().to(sheet))
        .route("/notices/{id}/photos", web::post().to(api_upload::<Photos>))
        .route(
            "/notices/{id}/photos/{photo_id}",
            web::get().to(api_original::<Photos>),
        )
        .route(
            "/notices/{id}/photos/{photo_id}/thumb",
            web::get().to(api_thumb::<Photos>),
        )
        .route("/notices/{id}/objections", web::post().to(object))
        .route(
            "/notices/{id}/objections/{objection_id}/resolve",
            web::post().to(resolve),
        );
}

async fn list(api: Bearer, f: web::Query<NoticeFilter>) -> Reply {
    let f = f.into_inner();
    one_of(
        "kind",
        ErrorCode::StatusInvalid,
        f.kind.as_deref(),
        &notices::KINDS,
    )?;
    let today = api.state.clock.today();
    let items = api.run(move |c, a| notices::list(c, a, &f, today)).await?;
    ok(serde_json::json!({ "items": items }))
}

async fn create(api: Bearer, body: web::Json<NoticeInput>) -> Reply {
    let input = body.into_inner();
    let now = api.state.clock.now();
    created(
        api.run(move |c, a| notices::create(c, a, now, &input))
            .await?,
    )
}

async fn get(api: Bearer, id: web::Path<i64>) -> Reply {
    let id = id.into_inner();
    let today = api.state.clock.today();
    ok(api.run(move |c, a| notices::get(c, a, id, today)).await?)
}

async fn sheet(api: Bearer, id: web::Path<i64>) -> Reply {
    let id = id.into_inner();
    let today = api.state.clock.today();
    let (name, bytes) = api
        .run(move |c, a| {
            let n = notices::get(c, a, id, today)?;
            notices::sheet::xlsx(&n).map_err(|e| AppError::Internal(e.0))
        })
        .await?;
    Ok(crate::web::page::xlsx(&name, bytes))
}

async fn object(api: Bearer, id: web::Path<i64>, body: web::Json<ObjectionInput>) -> Reply {
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = api.state.clock.now();
    created(
        api.run(move |c, a| notices::object(c, a, now, id, &input))
            .await?,
    )
}

async fn resolve(api: Bearer, path: web::Path<(i64, i64)>, body: web::Json<ResolveInput>) -> Reply {
    let ((id, oid), input) = (path.into_inner(), body.into_inner());
    let now = api.state.clock.now();
    ok(api
        .run(move |c, a| notices::resolve(c, a, now, id, oid, &input))
        .await?)
}
