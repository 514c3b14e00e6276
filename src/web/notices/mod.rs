//! Public notices (公示): pages under `/notices` and `/api/v1/notices`.

pub(crate) mod api;
pub(crate) mod pages;

use actix_web::web;

/// The notice pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The notice routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}
