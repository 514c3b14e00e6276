//! The audit log (操作日志): its page and `/api/v1/audit`.

pub(crate) mod api;
mod labels;
pub(crate) mod pages;

use actix_web::web;

/// The audit page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The audit route inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}
