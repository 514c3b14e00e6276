//! Plots (地块): the list, detail and edit pages, and `/api/v1/plots`.

pub(crate) mod api;
pub(crate) mod pages;

use actix_web::web;

/// The plot pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The plot routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}
