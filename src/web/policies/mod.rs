//! Policies (保单) and premium hand-over batches (保费交付): pages and
//! `/api/v1/policies`, `/api/v1/batches`.

pub(crate) mod api;
pub(crate) mod bulk_pages;
pub(crate) mod pages;

use actix_web::web;

/// The policy and batch pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The policy and batch routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}
