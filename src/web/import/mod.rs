//! Roster and boundary import through the browser, and the roster template.

pub(crate) mod pages;

use actix_web::web;

/// The import pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// Where the claims and finance downloads import it from.
pub(crate) use crate::web::page::xlsx;
