//! Pre-cover inspection in the JSON API. Routes are relative to /api/v1.

use crate::app::inspection::{self, DrawInput, ResultInput, VillageFilter};
use crate::app::photos::Content;
use crate::app::Actor;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::web::api::{by_id, ok};
use crate::web::claims::api::created_or_ok;
use crate::web::photos::{api_original, api_thumb, api_upload, Arrived, Home};
use crate::web::session::Bearer;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

type Reply = AppResult<HttpResponse>;

/// A sampled plot's photos, from the API or the tablet page: each recorded
/// once per client id.
pub(crate) struct Photos;

impl Home for Photos {
    type Added = inspection::PhotoOutcome;
    fn may_upload(actor: &Actor) -> bool {
        inspection::may_upload_photos(actor)
    }
    fn in_scope(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
        inspection::check_sample(conn, actor, id)
    }
    fn add(conn: &mut DbConn, actor: &Actor, p: Arrived) -> AppResult<Self::Added> {
        inspection::add_photo(conn, actor, p.now, p.id, p.client_id, p.stored)
    }
    fn is_new(added: &Self::Added) -> bool {
        added.created
    }
    fn photo(conn: &mut DbConn, actor: &Actor, id: i64, photo_id: i64) -> AppResult<Content> {
        inspection::photo(conn, actor, id, photo_id)
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/inspection/villages", web::get().to(villages))
        .route("/inspection/villages/{id}", web::get().to(village))
        .route("/inspection/villages/{id}/draws", web::post().to(draw))
        .route(
            "/inspection/samples/{id}",
            web::get().to(by_id(inspection::sample_detail)),
        )
        .route("/inspection/samples/{id}/result", web::post().to(result))
        .route(
            "/inspection/samples/{id}/photos",
            web::post().to(api_upload::<Photos>),
        )
        .route(
            "/inspection/samples/{id}/photos/{photo_id}",
            web::get().to(api_original::<Photos>),
        )
        .route(
            "/inspection/samples/{id}/photos/{photo_id}/thumb",
            web::get().to(api_thumb::<Photos>),
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
