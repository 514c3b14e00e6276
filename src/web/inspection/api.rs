//! Pre-cover inspection in the JSON API. Routes are relative to /api/v1.

use crate::app::inspection::{self, DrawInput, ResultInput, VillageFilter};
use crate::app::Actor;
use crate::error::AppResult;
use crate::web::api::{by_id, ok};
use crate::web::claims::api::created_or_ok;
use crate::web::session::{Bearer, Caller};
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

type Reply = AppResult<HttpResponse>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/inspection/villages", web::get().to(villages))
        .route("/inspection/villages/{id}", web::get().to(village))
        .route("/inspection/villages/{id}/draws", web::post().to(draw))
        .route(
            "/inspection/samples/{id}",
            web::get().to(by_id(inspection::sample_detail)),
        )
        .route("/inspection/samples/{id}/result", web::post().to(result))
        .route("/inspection/samples/{id}/photos", web::post().to(photo))
        .route(
            "/inspection/samples/{id}/photos/{photo_id}",
            web::get().to(photo_bytes),
        )
        .route(
            "/inspection/samples/{id}/photos/{photo_id}/thumb",
            web::get().to(photo_thumb),
        );
}

async fn villages(api: Bearer, q: web::Query<VillageFilter>) -> Reply {
    let f = q.into_inner();
    ok(api.run(move |c, a| inspection::villages(c, a, &f)).await?)
}

#[derive(Deserialize)]
struct SchemeQuery {
    scheme: Option<String>,
}

async fn village(api: Bearer, id: web::Path<i64>, q: web::Query<SchemeQuery>) -> Reply {
    let (id, scheme) = (id.into_inner(), q.into_inner().scheme);
    ok(api
        .run(move |c, a| inspection::village_status(c, a, id, scheme.as_deref()))
        .await?)
}

async fn draw(api: Bearer, id: web::Path<i64>, body: web::Json<DrawInput>) -> Reply {
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = api.state.clock.now();
    let v = api
        .run(move |c, a| inspection::draw(c, a, now, id, &input))
        .await?;
    Ok(HttpResponse::Created().json(v))
}

async fn result(api: Bearer, id: web::Path<i64>, body: web::Json<ResultInput>) -> Reply {
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = api.state.clock.now();
    let r = api
        .run(move |c, a| inspection::record(c, a, now, id, &input))
        .await?;
    Ok(created_or_ok(r.created, r))
}

async fn photo(
    api: Caller,
    id: web::Path<i64>,
    q: web::Query<crate::web::photos::PhotoQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Reply {
    let q = q.into_inner();
    receive_photo(
        &api.state,
        api.actor,
        id.into_inner(),
        (q.client_id.unwrap_or_default(), q.original_sha256),
        &req,
        payload,
    )
    .await
}

/// A photo of a sampled plot, from the API or the tablet page: who may send
/// photos and whether the sample is theirs to see are settled before the
/// bytes are read, and the bytes are read no further than the photo limit.
pub(crate) async fn receive_photo(
    state: &AppState,
    actor: Actor,
    id: i64,
    (client_id, original): (String, Option<String>),
    req: &HttpRequest,
    payload: web::Payload,
) -> Reply {
    actor.require(inspection::may_upload_photos(&actor))?;
    state
        .run_as(&actor, move |c, a| inspection::check_sample(c, a, id))
        .await?;
    let r = crate::web::photos::receive(state, (req, payload), original, move |c, now, stored| {
        inspection::add_photo(c, &actor, now, id, &client_id, &stored)
    })
    .await?;
    Ok(created_or_ok(r.created, r))
}

async fn photo_bytes(api: Bearer, path: web::Path<(i64, i64)>) -> Reply {
    let (id, pid) = path.into_inner();
    let content = api
        .run(move |c, a| inspection::photo(c, a, id, pid))
        .await?;
    crate::web::photos::original(&api.state, content).await
}

async fn photo_thumb(api: Bearer, path: web::Path<(i64, i64)>) -> Reply {
    let (id, pid) = path.into_inner();
    let content = api
        .run(move |c, a| inspection::photo(c, a, id, pid))
        .await?;
    crate::web::photos::thumb(&api.state, content).await
}
