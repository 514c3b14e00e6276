//! `/api/v1/notices`: make a notice, read it (JSON or .xlsx), add a photo of
//! it posted, record objections and their resolutions.

use crate::app::notices::{self, NoticeFilter, NoticeInput, ObjectionInput, ResolveInput};
use crate::error::{AppError, ErrorCode};
use crate::web::api::{created, ok, one_of, Reply};
use crate::web::session::{Bearer, Caller};
use actix_web::{web, HttpRequest};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notices", web::get().to(list))
        .route("/notices", web::post().to(create))
        .route("/notices/{id}", web::get().to(get))
        .route("/notices/{id}/sheet.xlsx", web::get().to(sheet))
        .route("/notices/{id}/photos", web::post().to(photo))
        .route(
            "/notices/{id}/photos/{photo_id}",
            web::get().to(photo_bytes),
        )
        .route(
            "/notices/{id}/photos/{photo_id}/thumb",
            web::get().to(photo_thumb),
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

/// The photo's bytes are the body. Who may post notices, and whether this
/// notice is theirs to see, are settled before the body is read.
async fn photo(api: Caller, id: web::Path<i64>, req: HttpRequest, payload: web::Payload) -> Reply {
    receive_photo(&api.state, api.actor, id.into_inner(), &req, payload).await
}

pub(crate) async fn receive_photo(
    state: &crate::web::AppState,
    actor: crate::app::Actor,
    id: i64,
    req: &HttpRequest,
    payload: web::Payload,
) -> Reply {
    actor.require(notices::may_post(&actor))?;
    state
        .run_as(&actor, move |c, a| notices::scoped(c, a, id).map(drop))
        .await?;
    let p = crate::web::photos::receive(state, (req, payload), None, move |c, now, stored| {
        notices::add_photo(c, &actor, now, id, &stored)
    })
    .await?;
    created(p)
}

async fn photo_bytes(api: Bearer, path: web::Path<(i64, i64)>) -> Reply {
    let (id, pid) = path.into_inner();
    let content = api.run(move |c, a| notices::photo(c, a, id, pid)).await?;
    crate::web::photos::original(&api.state, content).await
}

async fn photo_thumb(api: Bearer, path: web::Path<(i64, i64)>) -> Reply {
    let (id, pid) = path.into_inner();
    let content = api.run(move |c, a| notices::photo(c, a, id, pid)).await?;
    crate::web::photos::thumb(&api.state, content).await
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
