//! `/api/v1/growers`: list, create, read (with plots and policies), update, delete.

use crate::app::{self, growers};
use crate::web::api::{by_id, created, deleted, queried, updated, Reply};
use crate::web::session::Bearer;
use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/growers", web::get().to(queried(growers::list)))
        .route("/growers", web::post().to(create_grower))
        .route("/growers/{id}", web::get().to(by_id(super::detail)))
        .route("/growers/{id}", web::put().to(updated(growers::update)))
        .route("/growers/{id}", web::delete().to(deleted(growers::delete)));
}

/// The fault point sits in the handler, outside any transaction.
async fn create_grower(api: Bearer, body: web::Json<growers::GrowerInput>) -> Reply {
    let input = body.into_inner();
    app::fault::point("grower_handler", &input.name);
    created(api.run(move |c, a| growers::create(c, a, &input)).await?)
}
