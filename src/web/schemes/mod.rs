//! Insurance schemes (险种方案): pages, and `/api/v1/schemes`, the premium
//! quote and the eligibility check.

pub(crate) mod api;
pub(crate) mod pages;

use actix_web::web;

/// The scheme pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The scheme, quote and eligibility routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}
