//! Fraud and quality checks (风险核查): the report page and its download,
//! and `/api/v1/checks` (JSON and .xlsx).

pub(crate) mod api;
pub(crate) mod pages;

use actix_web::web;

/// The checks pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The checks routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}
