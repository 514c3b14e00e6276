//! `/api/v1/plots`: list, create, read, update, delete.

use crate::app::plots;
use crate::web::api::{by_id, deleted, queried, recorded, updated};
use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/plots", web::get().to(queried(plots::list)))
        .route(
            "/plots",
            web::post().to(recorded(|c, a, i, _| plots::create(c, a, i))),
        )
        .route("/plots/{id}", web::get().to(by_id(plots::get_view)))
        .route("/plots/{id}", web::put().to(updated(plots::update)))
        .route("/plots/{id}", web::delete().to(deleted(plots::delete)));
}
