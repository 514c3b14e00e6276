//! Growers (农户): the list, detail and edit pages, and `/api/v1/growers`.

pub(crate) mod api;
pub(crate) mod pages;

use actix_web::web;

/// The grower pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    pages::configure(cfg);
}

/// The grower routes inside `/api/v1`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}

/// A grower with their plots and policies, as the detail page and the API show it.
fn detail(
    c: &mut crate::db::DbConn,
    actor: &crate::app::Actor,
    id: i64,
) -> crate::error::AppResult<serde_json::Value> {
    use crate::app::{growers, plots, policies};
    let g = growers::get_view(c, actor, id)?;
    let p = plots::of_grower(c, actor, id)?;
    let pol = policies::of_grower(c, actor, id)?;
    Ok(serde_json::json!({ "grower": g, "plots": p, "policies": pol }))
}
