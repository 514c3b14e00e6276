//! Signing in and out, the dashboard, and who the API caller is
//! (`/api/v1/session`, `/api/v1/me`).

pub(crate) mod api;
pub(crate) mod pages;

use actix_web::web;

/// The login, logout and dashboard pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The session and me routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}
