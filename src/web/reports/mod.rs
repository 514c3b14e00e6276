//! The reports page and its Excel downloads.

pub(crate) mod pages;

use actix_web::web;

/// The reports pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}
