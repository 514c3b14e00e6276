//! Townships, villages and their plot boundaries: `/api/v1/townships/...`
//! and `/api/v1/areas` (the boundary upload page is in `web::import`).

pub(crate) mod api;

use actix_web::web;

/// The area routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}

pub(crate) use api::upload_boundaries;
